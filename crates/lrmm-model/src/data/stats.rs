//! Statistics of a [`Dataset`]'s training split that the model is initialised from: the mean
//! rating, Koren's baseline estimates and the image features' per-dimension mean and spread.

use lrmm_core::Split;

use super::dataset::Dataset;
use crate::predict::RATING_RANGE;

/// For each id, the (other id, rating) pairs of its training ratings.
type RatingsById = Vec<Vec<(usize, f64)>>;

impl Dataset {
    /// Mean rating of the training split (the global-mean predictor).
    pub fn train_mean(&self) -> f64 {
        let rows = self.rows(Split::Train);
        rows.iter().map(|&r| f64::from(self.rating[r])).sum::<f64>() / rows.len().max(1) as f64
    }

    /// Koren's baseline estimates on the training ratings, with Surprise's default ALS settings
    /// (the same fit as the evaluation stage's Biases baseline).
    pub fn baseline_estimates(&self) -> lrmm_core::baseline::BaselineEstimates {
        let (by_user, by_item) = self.train_ratings_by_id();
        lrmm_core::baseline::fit_baseline(
            &by_user,
            &by_item,
            self.train_mean(),
            &Default::default(),
        )
    }

    /// Koren's baseline estimates on the training ratings with the regularisation whose
    /// predictions do best on `valid_rows` (`model.baseline_reg = "validation"`).
    pub fn baseline_on_validation(
        &self,
        valid_rows: &[usize],
    ) -> lrmm_core::baseline::ValidatedBaseline {
        let (by_user, by_item) = self.train_ratings_by_id();
        let valid: Vec<(usize, usize, f64)> = valid_rows
            .iter()
            .map(|&r| {
                let (u, i) = (self.user_id[r] as usize, self.item_id[r] as usize);
                (u, i, f64::from(self.rating[r]))
            })
            .collect();
        lrmm_core::baseline::fit_baseline_on_validation(
            &by_user,
            &by_item,
            self.train_mean(),
            &valid,
            (f64::from(RATING_RANGE.0), f64::from(RATING_RANGE.1)),
        )
    }

    /// (item, rating) per user and (user, rating) per item of the training split, in row order.
    fn train_ratings_by_id(&self) -> (RatingsById, RatingsById) {
        let mut by_user = vec![Vec::new(); self.n_users];
        let mut by_item = vec![Vec::new(); self.n_items];
        for r in self.rows(Split::Train) {
            let (u, i) = (self.user_id[r] as usize, self.item_id[r] as usize);
            let rating = f64::from(self.rating[r]);
            by_user[u].push((i, rating));
            by_item[i].push((u, rating));
        }
        (by_user, by_item)
    }

    /// Per-dimension mean and standard deviation (floored at 1e-3) of the image features of the
    /// items that occur in training.
    pub fn image_stats(&self) -> (Vec<f32>, Vec<f32>) {
        let d = self.image_dim;
        let mut seen = vec![false; self.n_items];
        for r in self.rows(Split::Train) {
            seen[self.item_id[r] as usize] = true;
        }
        let mut sum = vec![0f64; d];
        let mut sq = vec![0f64; d];
        let mut n = 0f64;
        for (o, _) in seen.iter().enumerate().filter(|(_, s)| **s) {
            if let Some(f) = self.image(o) {
                n += 1.0;
                for (k, &x) in f.iter().enumerate() {
                    sum[k] += f64::from(x);
                    sq[k] += f64::from(x) * f64::from(x);
                }
            }
        }
        if n == 0.0 {
            return (vec![0.0; d], vec![1.0; d]);
        }
        let mean: Vec<f32> = sum.iter().map(|s| (s / n) as f32).collect();
        let std = sq
            .iter()
            .zip(&sum)
            .map(|(q, s)| ((q / n - (s / n).powi(2)).max(0.0).sqrt().max(1e-3)) as f32)
            .collect();
        (mean, std)
    }
}
