use super::{BaselineError, BaselineKind, Estimator, TrainSet};
use crate::data::Ratings;
use lrmm_core::Split;

/// Surprise `BaselineOnly` with its default `bsl_options` (ALS).
pub use lrmm_core::baseline::BaselineParams as BaselineOnlyParams;

/// r̂ = μ + b_u + b_i, with b_u (b_i) zero for an unknown user (item).
#[derive(Debug, Clone)]
pub struct BaselineOnly {
    pub global_mean: f64,
    pub bu: Vec<f64>,
    pub bi: Vec<f64>,
}

impl From<lrmm_core::baseline::BaselineEstimates> for BaselineOnly {
    fn from(fit: lrmm_core::baseline::BaselineEstimates) -> Self {
        Self {
            global_mean: fit.global_mean,
            bu: fit.bu,
            bi: fit.bi,
        }
    }
}

impl BaselineOnly {
    pub fn fit(train: &TrainSet, params: &BaselineOnlyParams) -> Self {
        lrmm_core::baseline::fit_baseline(&train.ur, &train.ir, train.global_mean, params).into()
    }

    /// The same model with (reg_u, reg_i) chosen on the validation rows of `ratings` from
    /// `lrmm_core::baseline::REG_GRID`² (the `bias_valid` baseline): what LRMM's baseline offsets
    /// get with `model.baseline_reg = "validation"`, so the tables show what the network adds.
    pub fn fit_on_validation(
        ratings: &Ratings,
        train: &TrainSet,
        scale: (f32, f32),
    ) -> Result<(Self, [f64; 2]), BaselineError> {
        let valid: Vec<(usize, usize, f64)> = ratings
            .rows(Split::Valid)
            .into_iter()
            .map(|r| {
                // An id without training ratings is past the end of the offsets: offset 0.
                let user = train.inner_user(ratings.user[r]).unwrap_or(usize::MAX);
                let item = train.inner_item(ratings.item[r]).unwrap_or(usize::MAX);
                (user, item, f64::from(ratings.rating[r]))
            })
            .collect();
        if valid.is_empty() {
            return Err(BaselineError::NoValidation {
                baseline: BaselineKind::BiasValid.key(),
                parameter: "regularisation",
            });
        }
        let fit = lrmm_core::baseline::fit_baseline_on_validation(
            &train.ur,
            &train.ir,
            train.global_mean,
            &valid,
            (f64::from(scale.0), f64::from(scale.1)),
        );
        Ok((fit.estimates.into(), [fit.chosen.reg_u, fit.chosen.reg_i]))
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

    /// Users who always give the same rating: validation picks the least shrinkage, which
    /// predicts their held-out ratings far better than Surprise's defaults; a validation user
    /// without training ratings is scored with offset 0, not an error.
    #[test]
    fn regularisation_on_validation_beats_the_defaults_for_consistent_users() {
        let mut ratings = Ratings::default();
        for (user, rating) in [(0, 1.0), (1, 5.0), (2, 5.0), (3, 1.0)] {
            for item in 0..4 {
                let split = if item < 2 { Split::Train } else { Split::Valid };
                ratings.push(user, item, rating, split);
            }
        }
        ratings.push(9, 0, 3.0, Split::Valid);
        let train = TrainSet::from_ratings(&ratings, Split::Train);
        let (tuned, [reg_u, _]) =
            BaselineOnly::fit_on_validation(&ratings, &train, (1.0, 5.0)).unwrap();
        assert_eq!(reg_u, lrmm_core::baseline::REG_GRID[0]);
        let surprise = BaselineOnly::fit(&train, &BaselineOnlyParams::default());
        let valid = ratings.rows(Split::Valid);
        let rmse = |m: &BaselineOnly| {
            let p = super::super::predict(m, &train, &ratings, &valid, (1.0, 5.0));
            let se: f32 = p
                .iter()
                .zip(&valid)
                .map(|(p, &r)| (p - ratings.rating[r]).powi(2))
                .sum();
            (se / valid.len() as f32).sqrt()
        };
        assert!(rmse(&tuned) < 0.6 * rmse(&surprise));
    }

    #[test]
    fn no_validation_rows_is_an_error() {
        let mut ratings = Ratings::default();
        ratings.push(0, 0, 4.0, Split::Train);
        let train = TrainSet::from_ratings(&ratings, Split::Train);
        assert!(matches!(
            BaselineOnly::fit_on_validation(&ratings, &train, (1.0, 5.0)),
            Err(BaselineError::NoValidation { .. })
        ));
    }

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
