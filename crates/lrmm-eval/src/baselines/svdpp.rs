use lrmm_core::SeededRng;

use super::trainset::{dot, Factors};
use super::{Estimator, TrainSet};

/// Surprise `SVDpp` defaults.
#[derive(Debug, Clone)]
pub struct SvdPpParams {
    pub n_factors: usize,
    pub n_epochs: usize,
    pub init_mean: f64,
    pub init_std_dev: f64,
    pub lr: f64,
    pub reg: f64,
}

impl Default for SvdPpParams {
    fn default() -> Self {
        Self {
            n_factors: 20,
            n_epochs: 20,
            init_mean: 0.0,
            init_std_dev: 0.1,
            lr: 0.007,
            reg: 0.02,
        }
    }
}

/// r̂ = μ + b_u + b_i + q_iᵀ(p_u + |I_u|^-½ Σ_{j∈I_u} y_j), I_u = the user's training items.
#[derive(Debug, Clone)]
pub struct SvdPp {
    global_mean: f64,
    bu: Vec<f64>,
    bi: Vec<f64>,
    pu: Factors,
    qi: Factors,
    /// Implicit feedback of each user, |I_u|^-½ Σ y_j, from the final y.
    implicit: Factors,
}

impl SvdPp {
    /// SGD as Surprise's: per rating, the implicit feedback is recomputed from the current y,
    /// then biases, factors and every y_j of the user's items are updated.
    pub fn fit(train: &TrainSet, p: &SvdPpParams, seed: u64) -> Self {
        let mut rng = SeededRng::derive(seed, "baseline-svdpp-init");
        let mut normal = || p.init_mean + p.init_std_dev * rng.normal();
        let k = p.n_factors;
        let mut pu = Factors::from_fn(train.n_users(), k, &mut normal);
        let mut qi = Factors::from_fn(train.n_items(), k, &mut normal);
        let mut yj = Factors::from_fn(train.n_items(), k, &mut normal);
        let mu = train.global_mean;
        let mut bu = vec![0.0; train.n_users()];
        let mut bi = vec![0.0; train.n_items()];
        let mut feedback = vec![0.0; k];
        for _ in 0..p.n_epochs {
            for (u, i, r) in train.all_ratings() {
                let items = &train.ur[u];
                let sqrt_iu = (items.len() as f64).sqrt();
                implicit_feedback(&yj, items, sqrt_iu, &mut feedback);
                let est: f64 = qi
                    .row(i)
                    .iter()
                    .zip(pu.row(u))
                    .zip(&feedback)
                    .map(|((q, p), y)| q * (p + y))
                    .sum();
                let err = r - (mu + bu[u] + bi[i] + est);
                bu[u] += p.lr * (err - p.reg * bu[u]);
                bi[i] += p.lr * (err - p.reg * bi[i]);
                // f indexes pu, qi, yj and the feedback together, as Surprise's loop does.
                #[allow(clippy::needless_range_loop)]
                for f in 0..k {
                    let (puf, qif) = (pu.row(u)[f], qi.row(i)[f]);
                    pu.row_mut(u)[f] += p.lr * (err * qif - p.reg * puf);
                    qi.row_mut(i)[f] += p.lr * (err * (puf + feedback[f]) - p.reg * qif);
                    let step = err * qif / sqrt_iu;
                    for &(j, _) in items {
                        let y = &mut yj.row_mut(j)[f];
                        *y += p.lr * (step - p.reg * *y);
                    }
                }
            }
        }
        let mut implicit = Factors::from_fn(train.n_users(), k, || 0.0);
        for (u, items) in train.ur.iter().enumerate() {
            implicit_feedback(&yj, items, (items.len() as f64).sqrt(), implicit.row_mut(u));
        }
        Self {
            global_mean: mu,
            bu,
            bi,
            pu,
            qi,
            implicit,
        }
    }
}

fn implicit_feedback(yj: &Factors, items: &[(usize, f64)], sqrt_iu: f64, out: &mut [f64]) {
    out.fill(0.0);
    for &(j, _) in items {
        for (o, y) in out.iter_mut().zip(yj.row(j)) {
            *o += y / sqrt_iu;
        }
    }
}

impl Estimator for SvdPp {
    fn estimate(&self, user: Option<usize>, item: Option<usize>) -> Option<f64> {
        let mut est = self.global_mean;
        if let Some(u) = user {
            est += self.bu[u];
        }
        if let Some(i) = item {
            est += self.bi[i];
        }
        if let (Some(u), Some(i)) = (user, item) {
            let user_vec: Vec<f64> = self
                .pu
                .row(u)
                .iter()
                .zip(self.implicit.row(u))
                .map(|(p, y)| p + y)
                .collect();
            est += dot(self.qi.row(i), &user_vec);
        }
        Some(est)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fits_a_low_rank_pattern_better_than_biases() {
        // Two taste groups that disagree on two item groups: biases alone cannot fit this.
        let mut triples = Vec::new();
        for u in 0..20u32 {
            for i in 0..10u32 {
                let like = (u < 10) == (i < 5);
                triples.push((u, i, if like { 5.0 } else { 1.0 }));
            }
        }
        let t = TrainSet::from_triples(triples.clone());
        let p = SvdPpParams {
            n_epochs: 60,
            lr: 0.02,
            ..SvdPpParams::default()
        };
        let m = SvdPp::fit(&t, &p, 1);
        let sse: f64 = triples
            .iter()
            .map(|&(u, i, r)| {
                let e = m.estimate(t.inner_user(u), t.inner_item(i)).unwrap() - f64::from(r);
                e * e
            })
            .sum();
        let rmse = (sse / triples.len() as f64).sqrt();
        // Biases alone leave RMSE 2 here (every user and item mean is 3).
        assert!(rmse < 1.0, "SVD++ training RMSE {rmse}");
    }
}
