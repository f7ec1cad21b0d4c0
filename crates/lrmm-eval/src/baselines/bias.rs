use super::{Estimator, TrainSet};

/// Surprise `BaselineOnly` with its default `bsl_options` (ALS).
#[derive(Debug, Clone)]
pub struct BaselineOnlyParams {
    pub n_epochs: usize,
    pub reg_u: f64,
    pub reg_i: f64,
}

impl Default for BaselineOnlyParams {
    fn default() -> Self {
        Self {
            n_epochs: 10,
            reg_u: 15.0,
            reg_i: 10.0,
        }
    }
}

/// r̂ = μ + b_u + b_i, with b_u (b_i) zero for an unknown user (item).
#[derive(Debug, Clone)]
pub struct BaselineOnly {
    pub global_mean: f64,
    pub bu: Vec<f64>,
    pub bi: Vec<f64>,
}

impl BaselineOnly {
    /// Alternating least squares as Surprise's `baseline_als`: each epoch sets every b_i given
    /// b_u, then every b_u given b_i, each a ridge-regularised mean of residuals.
    pub fn fit(train: &TrainSet, params: &BaselineOnlyParams) -> Self {
        let mu = train.global_mean;
        let mut bu = vec![0.0; train.n_users()];
        let mut bi = vec![0.0; train.n_items()];
        for _ in 0..params.n_epochs {
            for (i, ratings) in train.ir.iter().enumerate() {
                let dev: f64 = ratings.iter().map(|&(u, r)| r - mu - bu[u]).sum();
                bi[i] = dev / (params.reg_i + ratings.len() as f64);
            }
            for (u, ratings) in train.ur.iter().enumerate() {
                let dev: f64 = ratings.iter().map(|&(i, r)| r - mu - bi[i]).sum();
                bu[u] = dev / (params.reg_u + ratings.len() as f64);
            }
        }
        Self {
            global_mean: mu,
            bu,
            bi,
        }
    }
}

impl Estimator for BaselineOnly {
    fn estimate(&self, user: Option<usize>, item: Option<usize>) -> Option<f64> {
        Some(self.global_mean + user.map_or(0.0, |u| self.bu[u]) + item.map_or(0.0, |i| self.bi[i]))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_als_epoch_by_hand() {
        // Ratings: (u0,i0)=5, (u0,i1)=3, (u1,i0)=4; μ = 4.
        // b_i0 = (1 + 0) / (1 + 2) = 1/3; b_i1 = -1 / (1 + 1) = -1/2.
        // b_u0 = ((5-4-1/3) + (3-4+1/2)) / (2 + 2) = (2/3 - 1/2) / 4 = 1/24; b_u1 = (4-4-1/3) / 3 = -1/9.
        let t = TrainSet::from_triples([(0, 0, 5.0), (0, 1, 3.0), (1, 0, 4.0)]);
        let m = BaselineOnly::fit(&t, &BaselineOnlyParams { n_epochs: 1, reg_u: 2.0, reg_i: 1.0 });
        let close = |a: f64, b: f64| (a - b).abs() < 1e-12;
        assert!(close(m.bi[0], 1.0 / 3.0) && close(m.bi[1], -0.5));
        assert!(close(m.bu[0], 1.0 / 24.0) && close(m.bu[1], -1.0 / 9.0));
        assert!(close(m.estimate(Some(1), None).unwrap(), 4.0 - 1.0 / 9.0));
        assert!(close(m.estimate(None, None).unwrap(), 4.0));
    }
}
