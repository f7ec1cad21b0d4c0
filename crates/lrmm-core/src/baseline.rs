//! Koren's baseline estimates r̂ = μ + b_u + b_i (Koren 2008, sec. 2.1), fitted as Surprise's
//! `BaselineOnly` does by default. The evaluation stage's Biases baseline and the model's optional
//! baseline biases (`model.baseline_biases`) are this one fit; the model may instead take the
//! regularisation that does best on the validation ratings ([`fit_baseline_on_validation`]).

/// Surprise's default `bsl_options` for ALS.
#[derive(Debug, Clone, PartialEq)]
pub struct BaselineParams {
    pub n_epochs: usize,
    pub reg_u: f64,
    pub reg_i: f64,
}

impl Default for BaselineParams {
    fn default() -> Self {
        Self {
            n_epochs: 10,
            reg_u: 15.0,
            reg_i: 10.0,
        }
    }
}

/// μ and the per-user and per-item offsets; an id without training ratings keeps offset 0.
#[derive(Debug, Clone, PartialEq)]
pub struct BaselineEstimates {
    pub global_mean: f64,
    pub bu: Vec<f64>,
    pub bi: Vec<f64>,
}

/// Alternating least squares as Surprise's `baseline_als`: each epoch sets every b_i given b_u,
/// then every b_u given b_i, each a ridge-regularised mean of residuals. `by_user[u]` lists
/// (item, rating) of user u's training ratings, `by_item[i]` (user, rating) of item i's.
pub fn fit_baseline(
    by_user: &[Vec<(usize, f64)>],
    by_item: &[Vec<(usize, f64)>],
    global_mean: f64,
    params: &BaselineParams,
) -> BaselineEstimates {
    let mu = global_mean;
    let mut bu = vec![0.0; by_user.len()];
    let mut bi = vec![0.0; by_item.len()];
    for _ in 0..params.n_epochs {
        for (i, ratings) in by_item.iter().enumerate() {
            let dev: f64 = ratings.iter().map(|&(u, r)| r - mu - bu[u]).sum();
            bi[i] = dev / (params.reg_i + ratings.len() as f64);
        }
        for (u, ratings) in by_user.iter().enumerate() {
            let dev: f64 = ratings.iter().map(|&(i, r)| r - mu - bi[i]).sum();
            bu[u] = dev / (params.reg_u + ratings.len() as f64);
        }
    }
    BaselineEstimates {
        global_mean: mu,
        bu,
        bi,
    }
}

/// The values of reg_u and of reg_i that [`fit_baseline_on_validation`] tries (every pair):
/// from nearly unshrunk per-id means to more than Surprise's defaults (15, 10).
pub const REG_GRID: [f64; 7] = [0.5, 1.0, 2.0, 5.0, 10.0, 15.0, 25.0];

/// One candidate of [`fit_baseline_on_validation`] and its validation RMSE.
#[derive(Debug, Clone, PartialEq)]
pub struct RegCandidate {
    pub reg_u: f64,
    pub reg_i: f64,
    pub valid_rmse: f64,
}

/// The fit whose regularisation did best on validation, with every candidate tried.
#[derive(Debug, Clone, PartialEq)]
pub struct ValidatedBaseline {
    pub estimates: BaselineEstimates,
    pub chosen: RegCandidate,
    pub candidates: Vec<RegCandidate>,
}

/// Fits the baseline for every (reg_u, reg_i) in [`REG_GRID`]² (Surprise's 10 ALS epochs) and
/// keeps the one with the lowest RMSE of μ + b_u + b_i, clipped to `scale`, on `valid`
/// ((user, item, rating) triples; ids beyond the fit's have offset 0); the first of equal ones
/// in grid order. Small categories want far less shrinkage than Surprise's defaults (a Gift Cards
/// user's few ratings say a lot about them), large ones about as much: the validation split decides.
pub fn fit_baseline_on_validation(
    by_user: &[Vec<(usize, f64)>],
    by_item: &[Vec<(usize, f64)>],
    global_mean: f64,
    valid: &[(usize, usize, f64)],
    scale: (f64, f64),
) -> ValidatedBaseline {
    let mut best: Option<(BaselineEstimates, RegCandidate)> = None;
    let mut candidates = Vec::with_capacity(REG_GRID.len() * REG_GRID.len());
    for &reg_u in &REG_GRID {
        for &reg_i in &REG_GRID {
            let params = BaselineParams {
                reg_u,
                reg_i,
                ..BaselineParams::default()
            };
            let fit = fit_baseline(by_user, by_item, global_mean, &params);
            let candidate = RegCandidate {
                reg_u,
                reg_i,
                valid_rmse: fit.rmse(valid, scale),
            };
            candidates.push(candidate.clone());
            if best
                .as_ref()
                .is_none_or(|(_, b)| candidate.valid_rmse < b.valid_rmse)
            {
                best = Some((fit, candidate));
            }
        }
    }
    let (estimates, chosen) = best.expect("the grid is not empty");
    ValidatedBaseline {
        estimates,
        chosen,
        candidates,
    }
}

impl BaselineEstimates {
    /// μ + b_u + b_i clipped to `scale`; an id without an offset counts 0.
    pub fn predict(&self, user: usize, item: usize, scale: (f64, f64)) -> f64 {
        let bu = self.bu.get(user).copied().unwrap_or(0.0);
        let bi = self.bi.get(item).copied().unwrap_or(0.0);
        (self.global_mean + bu + bi).clamp(scale.0, scale.1)
    }

    /// RMSE of [`Self::predict`] over (user, item, rating) triples (0 for none).
    pub fn rmse(&self, ratings: &[(usize, usize, f64)], scale: (f64, f64)) -> f64 {
        if ratings.is_empty() {
            return 0.0;
        }
        let sum: f64 = ratings
            .iter()
            .map(|&(u, i, r)| (self.predict(u, i, scale) - r).powi(2))
            .sum();
        (sum / ratings.len() as f64).sqrt()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Users 0..4 rate every item their own constant (1 or 5): a user's two training ratings say
    /// everything, so validation must pick the least shrinkage, and Surprise's default reg_u = 15
    /// must do visibly worse.
    #[test]
    fn validation_picks_little_shrinkage_where_users_are_consistent() {
        let user_rating = [1.0, 5.0, 5.0, 1.0];
        let mut by_user = vec![Vec::new(); 4];
        let mut by_item = vec![Vec::new(); 4];
        let mut valid = Vec::new();
        for (u, &r) in user_rating.iter().enumerate() {
            // Items 0 and 1 are rated in training, items 2 and 3 in validation.
            for (i, item_ratings) in by_item.iter_mut().enumerate().take(2) {
                by_user[u].push((i, r));
                item_ratings.push((u, r));
            }
            valid.extend([(u, 2, r), (u, 3, r)]);
        }
        let mu = 3.0;
        let fit = fit_baseline_on_validation(&by_user, &by_item, mu, &valid, (1.0, 5.0));
        assert_eq!(fit.candidates.len(), REG_GRID.len() * REG_GRID.len());
        assert_eq!(fit.chosen.reg_u, REG_GRID[0]);
        let surprise = fit_baseline(&by_user, &by_item, mu, &BaselineParams::default());
        let default_rmse = surprise.rmse(&valid, (1.0, 5.0));
        assert!(
            fit.chosen.valid_rmse < 0.5 * default_rmse,
            "chosen {} vs Surprise's defaults {default_rmse}",
            fit.chosen.valid_rmse
        );
        // The chosen estimates are the chosen candidate's fit.
        assert!((fit.estimates.rmse(&valid, (1.0, 5.0)) - fit.chosen.valid_rmse).abs() < 1e-12);
        let min = fit
            .candidates
            .iter()
            .map(|c| c.valid_rmse)
            .fold(f64::INFINITY, f64::min);
        assert_eq!(fit.chosen.valid_rmse, min);
    }

    #[test]
    fn predictions_are_clipped_and_unknown_ids_count_zero() {
        let fit = BaselineEstimates {
            global_mean: 4.5,
            bu: vec![1.0],
            bi: vec![0.2],
        };
        assert_eq!(fit.predict(0, 0, (1.0, 5.0)), 5.0);
        assert_eq!(fit.predict(7, 9, (1.0, 5.0)), 4.5);
        assert!((fit.rmse(&[(3, 0, 4.0)], (1.0, 5.0)) - 0.7).abs() < 1e-12);
    }
}
