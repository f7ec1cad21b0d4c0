use super::{Estimator, TrainSet};

/// Surprise `BaselineOnly` with its default `bsl_options` (ALS).
pub use lrmm_core::baseline::BaselineParams as BaselineOnlyParams;

/// r̂ = μ + b_u + b_i, with b_u (b_i) zero for an unknown user (item).
#[derive(Debug, Clone)]
pub struct BaselineOnly {
    pub global_mean: f64,
    pub bu: Vec<f64>,
    pub bi: Vec<f64>,
}

impl BaselineOnly {
    pub fn fit(train: &TrainSet, params: &BaselineOnlyParams) -> Self {
        let fit =
            lrmm_core::baseline::fit_baseline(&train.ur, &train.ir, train.global_mean, params);
        Self {
            global_mean: fit.global_mean,
            bu: fit.bu,
            bi: fit.bi,
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
        let m = BaselineOnly::fit(
            &t,
            &BaselineOnlyParams {
                n_epochs: 1,
                reg_u: 2.0,
                reg_i: 1.0,
            },
        );
        let close = |a: f64, b: f64| (a - b).abs() < 1e-12;
        assert!(close(m.bi[0], 1.0 / 3.0) && close(m.bi[1], -0.5));
        assert!(close(m.bu[0], 1.0 / 24.0) && close(m.bu[1], -1.0 / 9.0));
        assert!(close(m.estimate(Some(1), None).unwrap(), 4.0 - 1.0 / 9.0));
        assert!(close(m.estimate(None, None).unwrap(), 4.0));
    }
}
