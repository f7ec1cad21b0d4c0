use lrmm_core::SeededRng;

use super::trainset::{dot, Factors};
use super::{Estimator, TrainSet};

/// Surprise `NMF` defaults (unbiased).
#[derive(Debug, Clone)]
pub struct NmfParams {
    pub n_factors: usize,
    pub n_epochs: usize,
    pub reg_pu: f64,
    pub reg_qi: f64,
    pub init_low: f64,
    pub init_high: f64,
}

impl Default for NmfParams {
    fn default() -> Self {
        Self {
            n_factors: 15,
            n_epochs: 50,
            reg_pu: 0.06,
            reg_qi: 0.06,
            init_low: 0.0,
            init_high: 1.0,
        }
    }
}

/// r̂ = q_iᵀp_u with non-negative factors; impossible (→ global mean) for an unknown user or item.
#[derive(Debug, Clone)]
pub struct Nmf {
    pu: Factors,
    qi: Factors,
}

impl Nmf {
    /// Multiplicative updates as Surprise's: each epoch accumulates numerators Σ q·r and
    /// denominators Σ q·r̂ with the epoch's starting factors, then rescales every factor, which
    /// keeps them non-negative.
    pub fn fit(train: &TrainSet, p: &NmfParams, seed: u64) -> Self {
        let mut rng = SeededRng::derive(seed, "baseline-nmf-init");
        let mut uniform = || p.init_low + (p.init_high - p.init_low) * rng.next_f64();
        let k = p.n_factors;
        let mut pu = Factors::from_fn(train.n_users(), k, &mut uniform);
        let mut qi = Factors::from_fn(train.n_items(), k, &mut uniform);
        let zeros = |rows: usize| Factors::from_fn(rows, k, || 0.0);
        for _ in 0..p.n_epochs {
            let (mut user_num, mut user_denom) = (zeros(train.n_users()), zeros(train.n_users()));
            let (mut item_num, mut item_denom) = (zeros(train.n_items()), zeros(train.n_items()));
            for (u, i, r) in train.all_ratings() {
                let est = dot(qi.row(i), pu.row(u));
                for f in 0..k {
                    let (q, pv) = (qi.row(i)[f], pu.row(u)[f]);
                    user_num.row_mut(u)[f] += q * r;
                    user_denom.row_mut(u)[f] += q * est;
                    item_num.row_mut(i)[f] += pv * r;
                    item_denom.row_mut(i)[f] += pv * est;
                }
            }
            rescale(&mut pu, &user_num, &mut user_denom, &train.ur, p.reg_pu);
            rescale(&mut qi, &item_num, &mut item_denom, &train.ir, p.reg_qi);
        }
        Self { pu, qi }
    }
}

fn rescale(
    factors: &mut Factors,
    num: &Factors,
    denom: &mut Factors,
    ratings: &[Vec<(usize, f64)>],
    reg: f64,
) {
    for (row, list) in ratings.iter().enumerate() {
        let n = list.len() as f64;
        for f in 0..factors.dim {
            let x = factors.row(row)[f];
            // A factor at exactly zero stays there (and would divide 0 by 0).
            if x != 0.0 {
                let d = denom.row(row)[f] + n * reg * x;
                denom.row_mut(row)[f] = d;
                factors.row_mut(row)[f] = x * num.row(row)[f] / d;
            }
        }
    }
}

impl Estimator for Nmf {
    fn estimate(&self, user: Option<usize>, item: Option<usize>) -> Option<f64> {
        Some(dot(self.qi.row(item?), self.pu.row(user?)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_multiplicative_update_by_hand() {
        // One user, one item, one factor, rating 4; p = q = x from the seed.
        let t = TrainSet::from_triples([(0, 0, 4.0)]);
        let params = NmfParams {
            n_factors: 1,
            n_epochs: 1,
            reg_pu: 0.5,
            reg_qi: 0.5,
            ..NmfParams::default()
        };
        let m = Nmf::fit(&t, &params, 9);
        let mut rng = SeededRng::derive(9, "baseline-nmf-init");
        let (p0, q0) = (rng.next_f64(), rng.next_f64());
        let est = p0 * q0;
        let p1 = p0 * (q0 * 4.0) / (q0 * est + 0.5 * p0);
        // The item update uses the accumulators of the old p, but is applied after p changed.
        let q1 = q0 * (p0 * 4.0) / (p0 * est + 0.5 * q0);
        assert!((m.pu.row(0)[0] - p1).abs() < 1e-12);
        assert!((m.qi.row(0)[0] - q1).abs() < 1e-12);
        assert_eq!(m.estimate(None, Some(0)), None);
    }
}
