//! Jacobi-preconditioned conjugate gradients for the ridge's normal equations.

/// A solution and how it was reached.
pub(super) struct Solve {
    pub w: Vec<f64>,
    pub iterations: usize,
    pub relative_residual: f64,
    pub converged: bool,
}

/// When conjugate gradients stop.
#[derive(Debug, Clone, Copy)]
pub(super) struct Stop {
    /// Once ‖b − Aw‖ ≤ `tolerance` · ‖b‖ …
    pub tolerance: f64,
    /// … or after this many iterations.
    pub max_iterations: usize,
}

fn dot(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

/// Solves (XᵀX + λI) w = b, where `gram(p)` = XᵀX p, with the Jacobi preconditioner
/// diag(XᵀX) + λ, starting from `start` (a nearby λ's solution saves iterations; zeros are the
/// plain start). Every sum runs in a fixed order, so the result is reproducible.
pub(super) fn conjugate_gradients(
    gram: impl Fn(&[f64]) -> Vec<f64>,
    lambda: f64,
    b: &[f64],
    gram_diagonal: &[f64],
    start: Vec<f64>,
    stop: Stop,
) -> Solve {
    let n = b.len();
    let b_norm = dot(b, b).sqrt();
    if b_norm == 0.0 {
        return Solve {
            w: vec![0.0; n],
            iterations: 0,
            relative_residual: 0.0,
            converged: true,
        };
    }
    let apply = |p: &[f64]| -> Vec<f64> {
        let mut ap = gram(p);
        for (a, &pi) in ap.iter_mut().zip(p) {
            *a += lambda * pi;
        }
        ap
    };
    let precondition = |r: &[f64]| -> Vec<f64> {
        r.iter()
            .zip(gram_diagonal)
            .map(|(&ri, &d)| ri / (d + lambda))
            .collect()
    };
    let mut w = start;
    let mut r: Vec<f64> = if w.iter().all(|&x| x == 0.0) {
        b.to_vec()
    } else {
        b.iter().zip(apply(&w)).map(|(&bi, aw)| bi - aw).collect()
    };
    let mut z = precondition(&r);
    let mut p = z.clone();
    let mut rz = dot(&r, &z);
    let mut iterations = 0;
    let mut relative = dot(&r, &r).sqrt() / b_norm;
    while iterations < stop.max_iterations && relative > stop.tolerance {
        let ap = apply(&p);
        let alpha = rz / dot(&p, &ap);
        for i in 0..n {
            w[i] += alpha * p[i];
            r[i] -= alpha * ap[i];
        }
        z = precondition(&r);
        let rz_next = dot(&r, &z);
        let beta = rz_next / rz;
        rz = rz_next;
        for i in 0..n {
            p[i] = z[i] + beta * p[i];
        }
        iterations += 1;
        relative = dot(&r, &r).sqrt() / b_norm;
    }
    Solve {
        w,
        iterations,
        relative_residual: relative,
        converged: relative <= stop.tolerance,
    }
}

#[cfg(test)]
mod tests {
    use super::super::design::Csr;
    use super::*;
    use lrmm_core::SeededRng;

    const STOP: Stop = Stop {
        tolerance: 1e-10,
        max_iterations: 1000,
    };

    /// A random sparse n × d X and y.
    fn problem(seed: u64, n: usize, d: usize) -> (Csr, Vec<f64>) {
        let mut rng = SeededRng::new(seed);
        let mut x = Csr::new(d);
        for _ in 0..n {
            let mut row = Vec::new();
            for c in 0..d as u32 {
                if rng.bernoulli(0.3) {
                    row.push((c, rng.normal()));
                }
            }
            x.push(&row);
        }
        let y = (0..n).map(|_| rng.normal()).collect();
        (x, y)
    }

    /// max_i |((XᵀX + λI) w − b)_i|, computed densely.
    fn dense_residual(x: &Csr, lambda: f64, w: &[f64], b: &[f64]) -> f64 {
        let d = b.len();
        let mut dense = vec![vec![0.0; d]; d];
        for r in 0..x.n_rows() {
            for (i, a) in x.row(r) {
                for (j, c) in x.row(r) {
                    dense[i][j] += a * c;
                }
            }
        }
        (0..d)
            .map(|i| (dot(&dense[i], w) + lambda * w[i] - b[i]).abs())
            .fold(0.0, f64::max)
    }

    #[test]
    fn conjugate_gradients_solve_the_ridge_system() {
        let (x, y) = problem(9, 40, 12);
        let lambda = 0.5;
        let b = x.t_mul(&y);
        let gram = |p: &[f64]| x.t_mul(&x.mul(p));
        let solve = conjugate_gradients(
            gram,
            lambda,
            &b,
            &x.column_squares(),
            vec![0.0; b.len()],
            STOP,
        );
        assert!(solve.converged);
        assert!(dense_residual(&x, lambda, &solve.w, &b) < 1e-8);
    }

    #[test]
    fn a_warm_start_reaches_the_same_solution_in_fewer_iterations() {
        // Large enough that conjugate gradients need many steps (not d in exact arithmetic).
        let (x, y) = problem(3, 300, 150);
        let b = x.t_mul(&y);
        let diagonal = x.column_squares();
        let gram = |p: &[f64]| x.t_mul(&x.mul(p));
        let near = conjugate_gradients(gram, 0.1, &b, &diagonal, vec![0.0; b.len()], STOP);
        let cold = conjugate_gradients(gram, 0.08, &b, &diagonal, vec![0.0; b.len()], STOP);
        let warm = conjugate_gradients(gram, 0.08, &b, &diagonal, near.w, STOP);
        assert!(cold.converged && warm.converged);
        assert!(
            warm.iterations < cold.iterations,
            "warm {} vs cold {}",
            warm.iterations,
            cold.iterations
        );
        assert!(dense_residual(&x, 0.08, &warm.w, &b) < 1e-8);
        for (a, c) in warm.w.iter().zip(&cold.w) {
            assert!((a - c).abs() < 1e-8, "{a} vs {c}");
        }
    }
}
