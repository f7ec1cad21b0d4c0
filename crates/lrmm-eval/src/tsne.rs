//! Exact t-SNE (van der Maaten & Hinton 2008) for the paper's Figure 5: a few hundred embedding
//! vectors, so the O(n²) form is fast and needs no approximation.

use lrmm_core::SeededRng;

#[derive(Debug, Clone)]
pub struct TsneParams {
    pub perplexity: f64,
    pub iterations: usize,
    /// `None`: max(n / early_exaggeration / 4, 50), scikit-learn's "auto"; the classic 200 is
    /// unstable for the few hundred points of Figure 5.
    pub learning_rate: Option<f64>,
    /// P is multiplied by this for the first `exaggeration_iters` iterations.
    pub early_exaggeration: f64,
    pub exaggeration_iters: usize,
}

impl Default for TsneParams {
    fn default() -> Self {
        Self {
            perplexity: 30.0,
            iterations: 1000,
            learning_rate: None,
            early_exaggeration: 12.0,
            exaggeration_iters: 250,
        }
    }
}

fn squared_distances(points: &[Vec<f64>]) -> Vec<f64> {
    let n = points.len();
    let mut d = vec![0.0; n * n];
    for i in 0..n {
        for j in i + 1..n {
            let v: f64 = points[i]
                .iter()
                .zip(&points[j])
                .map(|(a, b)| (a - b) * (a - b))
                .sum();
            d[i * n + j] = v;
            d[j * n + i] = v;
        }
    }
    d
}

/// Symmetric input affinities: per point, a Gaussian whose width gives the target perplexity
/// (binary search on its precision), then P = (P + Pᵀ) / 2n.
fn affinities(points: &[Vec<f64>], perplexity: f64) -> Vec<f64> {
    let n = points.len();
    let d = squared_distances(points);
    let target = perplexity.min((n - 1) as f64 / 3.0).max(1.0).ln();
    let mut p = vec![0.0; n * n];
    for i in 0..n {
        let (mut beta, mut lo, mut hi) = (1.0, 0.0, f64::INFINITY);
        let row = &d[i * n..(i + 1) * n];
        // Distances are shifted by the row minimum so that exp() never underflows to all zeros.
        let min = (0..n)
            .filter(|&j| j != i)
            .map(|j| row[j])
            .fold(f64::INFINITY, f64::min);
        for _ in 0..64 {
            let mut sum = 0.0;
            let mut weighted = 0.0;
            for j in (0..n).filter(|&j| j != i) {
                let w = (-(row[j] - min) * beta).exp();
                sum += w;
                weighted += w * (row[j] - min);
            }
            let entropy = sum.ln() + beta * weighted / sum;
            if (entropy - target).abs() < 1e-6 {
                break;
            }
            if entropy > target {
                lo = beta;
                beta = if hi.is_finite() {
                    (beta + hi) / 2.0
                } else {
                    beta * 2.0
                };
            } else {
                hi = beta;
                beta = (beta + lo) / 2.0;
            }
        }
        let sum: f64 = (0..n)
            .filter(|&j| j != i)
            .map(|j| (-(row[j] - min) * beta).exp())
            .sum();
        for j in (0..n).filter(|&j| j != i) {
            p[i * n + j] = (-(row[j] - min) * beta).exp() / sum;
        }
    }
    let mut sym = vec![0.0; n * n];
    for i in 0..n {
        for j in 0..n {
            sym[i * n + j] = ((p[i * n + j] + p[j * n + i]) / (2.0 * n as f64)).max(1e-12);
        }
    }
    sym
}

/// 2-d t-SNE coordinates of `points`, deterministic for a seed.
pub fn tsne(points: &[Vec<f64>], params: &TsneParams, seed: u64) -> Vec<[f64; 2]> {
    let n = points.len();
    if n < 3 {
        return vec![[0.0, 0.0]; n];
    }
    let p = affinities(points, params.perplexity);
    let mut rng = SeededRng::derive(seed, "tsne-init");
    let mut y: Vec<[f64; 2]> = (0..n)
        .map(|_| [1e-2 * rng.normal(), 1e-2 * rng.normal()])
        .collect();
    let mut velocity = vec![[0.0; 2]; n];
    let mut gains = vec![[1.0; 2]; n];
    let mut num = vec![0.0; n * n];
    let learning_rate = params
        .learning_rate
        .unwrap_or_else(|| (n as f64 / params.early_exaggeration / 4.0).max(50.0));
    for iter in 0..params.iterations {
        let exaggeration = if iter < params.exaggeration_iters {
            params.early_exaggeration
        } else {
            1.0
        };
        let momentum = if iter < params.exaggeration_iters {
            0.5
        } else {
            0.8
        };
        let mut z = 0.0;
        for i in 0..n {
            for j in i + 1..n {
                let (dx, dy) = (y[i][0] - y[j][0], y[i][1] - y[j][1]);
                let q = 1.0 / (1.0 + dx * dx + dy * dy);
                num[i * n + j] = q;
                num[j * n + i] = q;
                z += 2.0 * q;
            }
        }
        for i in 0..n {
            let mut grad = [0.0; 2];
            for j in (0..n).filter(|&j| j != i) {
                let q = num[i * n + j];
                let mult = 4.0 * (exaggeration * p[i * n + j] - q / z) * q;
                grad[0] += mult * (y[i][0] - y[j][0]);
                grad[1] += mult * (y[i][1] - y[j][1]);
            }
            for d in 0..2 {
                // Jacobs' adaptive gains, as in the reference implementation.
                gains[i][d] = if (grad[d] > 0.0) != (velocity[i][d] > 0.0) {
                    gains[i][d] + 0.2
                } else {
                    (gains[i][d] * 0.8f64).max(0.01)
                };
                velocity[i][d] = momentum * velocity[i][d] - learning_rate * gains[i][d] * grad[d];
            }
        }
        for i in 0..n {
            y[i][0] += velocity[i][0];
            y[i][1] += velocity[i][1];
        }
        let mean = [
            y.iter().map(|v| v[0]).sum::<f64>() / n as f64,
            y.iter().map(|v| v[1]).sum::<f64>() / n as f64,
        ];
        for v in &mut y {
            v[0] -= mean[0];
            v[1] -= mean[1];
        }
    }
    y
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn separated_clusters_stay_separated() {
        // Three tight clusters in 10-d, far apart: in 2-d every point's nearest neighbour must
        // come from its own cluster.
        let mut rng = SeededRng::new(4);
        let mut points = Vec::new();
        for c in 0..3 {
            for _ in 0..20 {
                points.push(
                    (0..10)
                        .map(|d| if d == c { 10.0 } else { 0.0 } + 0.3 * rng.normal())
                        .collect::<Vec<f64>>(),
                );
            }
        }
        let params = TsneParams {
            perplexity: 10.0,
            iterations: 400,
            ..TsneParams::default()
        };
        let y = tsne(&points, &params, 1);
        assert_eq!(y, tsne(&points, &params, 1), "not deterministic");
        for i in 0..y.len() {
            let nearest = (0..y.len())
                .filter(|&j| j != i)
                .min_by(|&a, &b| {
                    let d = |j: usize| (y[i][0] - y[j][0]).powi(2) + (y[i][1] - y[j][1]).powi(2);
                    d(a).total_cmp(&d(b))
                })
                .unwrap();
            assert_eq!(
                nearest / 20,
                i / 20,
                "point {i}'s nearest neighbour {nearest} is in another cluster"
            );
        }
    }

    #[test]
    fn affinities_hit_the_perplexity_and_sum_to_one() {
        let mut rng = SeededRng::new(2);
        let points: Vec<Vec<f64>> = (0..50)
            .map(|_| (0..5).map(|_| rng.normal()).collect())
            .collect();
        let p = affinities(&points, 10.0);
        let total: f64 = p.iter().sum();
        assert!((total - 1.0).abs() < 1e-6, "{total}");
    }
}
