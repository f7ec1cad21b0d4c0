use lrmm_core::SeededRng;

use super::trainset::{dot, Factors};
use super::{Estimator, TrainSet};

/// Surprise `SVD` defaults (biased MF).
#[derive(Debug, Clone)]
pub struct SvdParams {
    pub n_factors: usize,
    pub n_epochs: usize,
    pub init_mean: f64,
    pub init_std_dev: f64,
    pub lr: f64,
    pub reg: f64,
}

impl Default for SvdParams {
    fn default() -> Self {
        Self {
            n_factors: 100,
            n_epochs: 20,
            init_mean: 0.0,
            init_std_dev: 0.1,
            lr: 0.005,
            reg: 0.02,
        }
    }
}

/// r̂ = μ + b_u + b_i + q_iᵀp_u; an unknown user or item contributes zero bias and factors.
#[derive(Debug, Clone)]
pub struct Svd {
    global_mean: f64,
    bu: Vec<f64>,
    bi: Vec<f64>,
    pu: Factors,
    qi: Factors,
}

impl Svd {
    /// Plain SGD over `all_ratings()` order (Surprise does not shuffle), biases first, then the
    /// factors updated from each other's old values.
    pub fn fit(train: &TrainSet, p: &SvdParams, seed: u64) -> Self {
        let mut rng = SeededRng::derive(seed, "baseline-svd-init");
        let mut normal = || p.init_mean + p.init_std_dev * rng.normal();
        let mut pu = Factors::from_fn(train.n_users(), p.n_factors, &mut normal);
        let mut qi = Factors::from_fn(train.n_items(), p.n_factors, &mut normal);
        let mu = train.global_mean;
        let mut bu = vec![0.0; train.n_users()];
        let mut bi = vec![0.0; train.n_items()];
        for _ in 0..p.n_epochs {
            for (u, i, r) in train.all_ratings() {
                let err = r - (mu + bu[u] + bi[i] + dot(qi.row(i), pu.row(u)));
                bu[u] += p.lr * (err - p.reg * bu[u]);
                bi[i] += p.lr * (err - p.reg * bi[i]);
                let (pu_row, qi_row) = (pu.row_mut(u), qi.row_mut(i));
                for (puf, qif) in pu_row.iter_mut().zip(qi_row.iter_mut()) {
                    let (old_p, old_q) = (*puf, *qif);
                    *puf += p.lr * (err * old_q - p.reg * old_p);
                    *qif += p.lr * (err * old_p - p.reg * old_q);
                }
            }
        }
        Self {
            global_mean: mu,
            bu,
            bi,
            pu,
            qi,
        }
    }
}

impl Estimator for Svd {
    fn estimate(&self, user: Option<usize>, item: Option<usize>) -> Option<f64> {
        let mut est = self.global_mean;
        if let Some(u) = user {
            est += self.bu[u];
        }
        if let Some(i) = item {
            est += self.bi[i];
        }
        if let (Some(u), Some(i)) = (user, item) {
            est += dot(self.qi.row(i), self.pu.row(u));
        }
        Some(est)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_sgd_step_by_hand() {
        let t = TrainSet::from_triples([(0, 0, 4.0)]);
        let p = SvdParams {
            n_factors: 2,
            n_epochs: 1,
            ..SvdParams::default()
        };
        let m = Svd::fit(&t, &p, 3);
        // Replay the step from the same initial factors.
        let mut rng = SeededRng::derive(3, "baseline-svd-init");
        let p0: Vec<f64> = (0..2).map(|_| 0.1 * rng.normal()).collect();
        let q0: Vec<f64> = (0..2).map(|_| 0.1 * rng.normal()).collect();
        let err = 4.0 - (4.0 + dot(&p0, &q0));
        let close = |a: f64, b: f64| (a - b).abs() < 1e-12;
        assert!(close(m.bu[0], 0.005 * err));
        for f in 0..2 {
            assert!(close(
                m.pu.row(0)[f],
                p0[f] + 0.005 * (err * q0[f] - 0.02 * p0[f])
            ));
            assert!(close(
                m.qi.row(0)[f],
                q0[f] + 0.005 * (err * p0[f] - 0.02 * q0[f])
            ));
        }
        // Unknown item: μ + b_u only.
        assert!(close(m.estimate(Some(0), None).unwrap(), 4.0 + m.bu[0]));
    }
}
