//! TF-IDF ridge, the content baseline: the biases of [`BaselineOnly`] plus a ridge regression of
//! their training residuals on TF-IDF features of the item's text,
//!
//! r̂(u, i) = μ + b_u + b_i + x_iᵀw,
//!
//! where x_i = [tfidf(metadata of i) ; tfidf(training reviews of i)], each block L2-normalised
//! (an empty block is zero: no metadata, or a cold item without training reviews), and
//! w = argmin Σ_train (r − μ − b_u − b_i − x_rᵀw)² + λ n ‖w‖² over the n training ratings,
//! solved by Jacobi-preconditioned
//! conjugate gradients ([`solve`]) on the sparse design matrix, which keeps each item's text
//! once ([`design`]: linear in the ratings). For an unknown user or item its bias is 0,
//! so a cold item gets μ + b_u + (its metadata's) x_iᵀw.
//!
//! Only training text is read: the vocabulary of each block and its IDF come from the items that
//! have training ratings, and an item's review document is its training reviews. A training row's
//! own review is left out of its item review document (as the model's item document leaves out
//! the target review), so the fit never sees the words of the rating it predicts. λ is chosen
//! from a small grid by RMSE on the validation split; the test split is never read. Nothing is
//! random: the solver starts from zero at the largest λ and from the previous solution at each
//! smaller one, and sums in a fixed order whatever the number of threads.

use lrmm_core::Split;
use serde::{Deserialize, Serialize};

mod design;
mod solve;

use design::{inverse_norm, Csr, Design};
use solve::{conjugate_gradients, Stop};

use super::{BaselineError, BaselineOnly, BaselineOnlyParams, Estimator, TrainSet};
use crate::data::Ratings;
use crate::text::ItemTexts;

/// The content baseline's settings.
#[derive(Debug, Clone, PartialEq)]
pub struct TfIdfParams {
    /// The ridge strengths tried, per training rating (the penalty is λ · n · ‖w‖² for n
    /// training ratings), in this order; the one with the lowest validation RMSE wins (the
    /// first of equal ones). Per rating, a value means the same on 2,000 ratings and on 1.6M:
    /// the same data copied k times has the same solution, where a fixed penalty would weaken
    /// k-fold and the solver need √k times the iterations.
    pub lambdas: Vec<f64>,
    /// The biases the ridge fits the residuals of (Surprise `BaselineOnly`'s defaults).
    pub biases: BaselineOnlyParams,
    /// Fits of the biases and the ridge: 1 = the ridge on the residuals of the Biases baseline
    /// itself; each further round refits the biases on the ratings minus the text's part
    /// x_rᵀw, then the ridge on the new residuals (backfitting the joint model).
    pub rounds: usize,
    /// Conjugate gradients stop once ‖Aw − b‖ ≤ `tolerance` · ‖b‖ …
    pub tolerance: f64,
    /// … or after this many iterations.
    pub max_iterations: usize,
}

impl Default for TfIdfParams {
    fn default() -> Self {
        Self {
            // At 10,000 training ratings: 1, 10, 100, 1,000, 10,000.
            lambdas: vec![1e-4, 1e-3, 1e-2, 1e-1, 1.0],
            biases: BaselineOnlyParams::default(),
            rounds: 1,
            tolerance: 1e-8,
            max_iterations: 1000,
        }
    }
}

/// A hyper-parameter chosen on the validation split, as `metrics.json` records it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModelSelection {
    /// The parameter's name ("lambda_per_rating" for the content baseline).
    pub parameter: String,
    /// The values tried, in order.
    pub grid: Vec<f64>,
    /// Validation RMSE of each value (predictions clipped to the rating scale).
    pub valid_rmse: Vec<f64>,
    /// The value kept.
    pub chosen: f64,
    /// Validation rows scored.
    pub valid_n: usize,
}

/// The fitted content baseline.
#[derive(Debug, Clone)]
pub struct TfIdfRidge {
    biases: BaselineOnly,
    /// x_iᵀw by item id (0 for an id beyond the texts and ratings).
    content: Vec<f64>,
    /// x_iᵀw by inner item id of the training set.
    content_inner: Vec<f64>,
    selection: ModelSelection,
    n_features: usize,
}

impl TfIdfRidge {
    /// Fits the biases on `train` (the rows of split `train` of `ratings`), the ridge for every λ
    /// of `params`, and keeps the λ with the lowest validation RMSE of the prediction clipped
    /// to `scale`.
    pub fn fit(
        ratings: &Ratings,
        train: &TrainSet,
        texts: &ItemTexts,
        params: &TfIdfParams,
        scale: (f32, f32),
    ) -> Result<Self, BaselineError> {
        if texts.reviews.len() != ratings.len() {
            return Err(BaselineError::Misaligned {
                texts: texts.reviews.len(),
                ratings: ratings.len(),
            });
        }
        if params.lambdas.is_empty() || params.lambdas.iter().any(|l| !(*l > 0.0 && l.is_finite()))
        {
            return Err(BaselineError::BadGrid(params.lambdas.clone()));
        }
        let valid = ratings.rows(Split::Valid);
        if valid.is_empty() {
            return Err(BaselineError::NoValidation {
                baseline: "tfidf",
                parameter: "lambda_per_rating",
            });
        }
        let train_rows = ratings.rows(Split::Train);
        let n_items = ratings
            .item
            .iter()
            .map(|&i| i as usize + 1)
            .max()
            .unwrap_or(0)
            .max(texts.meta.len());
        let features = Features::build(ratings, texts, &train_rows, n_items);
        let design = features.design(ratings, texts, &train_rows);
        let gram_diagonal = design.column_squares();
        let gram = |p: &[f64]| design.t_mul(&design.mul(p));
        let n_train = train_rows.len() as f64;
        let stop = Stop {
            tolerance: params.tolerance,
            max_iterations: params.max_iterations,
        };
        let first_biases = BaselineOnly::fit(train, &params.biases);
        let valid_truth: Vec<f32> = valid.iter().map(|&r| ratings.rating[r]).collect();

        // One fit per λ: the biases, then the ridge on their residuals; with `rounds` > 1 the
        // biases are refitted on the ratings minus the text's part, and so on. The solver
        // starts from `start`, the previous fit's weights.
        let fit_lambda = |lambda: f64, start: Vec<f64>| -> (BaselineOnly, Vec<f64>) {
            let mut biases = first_biases.clone();
            let mut w = start;
            for round in 0..params.rounds.max(1) {
                if round > 0 {
                    let text_part = design.mul(&w);
                    let adjusted = TrainSet::from_triples(train_rows.iter().zip(&text_part).map(
                        |(&r, &t)| {
                            let rating = f64::from(ratings.rating[r]) - t;
                            (ratings.user[r], ratings.item[r], rating as f32)
                        },
                    ));
                    biases = BaselineOnly::fit(&adjusted, &params.biases);
                }
                let residual: Vec<f64> = train_rows
                    .iter()
                    .map(|&r| {
                        let b = biases
                            .estimate(
                                train.inner_user(ratings.user[r]),
                                train.inner_item(ratings.item[r]),
                            )
                            .unwrap_or(biases.global_mean);
                        f64::from(ratings.rating[r]) - b
                    })
                    .collect();
                let rhs = design.t_mul(&residual);
                let solve =
                    conjugate_gradients(gram, lambda * n_train, &rhs, &gram_diagonal, w, stop);
                tracing::debug!(
                    lambda,
                    round,
                    iterations = solve.iterations,
                    "tfidf: solved"
                );
                if !solve.converged {
                    tracing::warn!(
                        lambda,
                        iterations = solve.iterations,
                        relative_residual = solve.relative_residual,
                        "tfidf: conjugate gradients stopped before the tolerance"
                    );
                }
                w = solve.w;
            }
            (biases, w)
        };

        // The strongest ridge first: it converges in few iterations, and each weaker one starts
        // from the previous solution (a regularisation path) instead of from zero.
        let mut by_strength: Vec<usize> = (0..params.lambdas.len()).collect();
        by_strength.sort_by(|&a, &b| params.lambdas[b].total_cmp(&params.lambdas[a]));
        let mut fits: Vec<Option<(BaselineOnly, Vec<f64>)>> = vec![None; params.lambdas.len()];
        let mut start = vec![0.0; design.n_cols()];
        for k in by_strength {
            let (biases, w) = fit_lambda(params.lambdas[k], start);
            start = w.clone();
            fits[k] = Some((biases, design.item_scores(&w)));
        }

        // (grid index, validation RMSE, biases, item offsets) of the best λ so far.
        let mut best: Option<(usize, f64, BaselineOnly, Vec<f64>)> = None;
        let mut valid_rmse = Vec::with_capacity(params.lambdas.len());
        for (k, fit) in fits.into_iter().enumerate() {
            let lambda = params.lambdas[k];
            let (biases, content) = fit.expect("every λ was fitted");
            let predicted: Vec<f32> = valid
                .iter()
                .map(|&r| {
                    let (user, item) = (ratings.user[r], ratings.item[r]);
                    let b = biases
                        .estimate(train.inner_user(user), train.inner_item(item))
                        .unwrap_or(biases.global_mean);
                    ((b + content[item as usize]) as f32).clamp(scale.0, scale.1)
                })
                .collect();
            let rmse = crate::metrics::rmse(&predicted, &valid_truth).unwrap_or(f64::INFINITY);
            tracing::info!(lambda, valid_rmse = rmse, "tfidf: ridge fitted");
            valid_rmse.push(rmse);
            if best.as_ref().is_none_or(|b| rmse < b.1) {
                best = Some((k, rmse, biases, content));
            }
        }
        let (chosen, _, biases, content) = best.expect("the grid is not empty");
        let mut content_inner = vec![0.0; train.n_items()];
        for (item, &c) in content.iter().enumerate() {
            if let Some(inner) = train.inner_item(item as u32) {
                content_inner[inner] = c;
            }
        }
        Ok(Self {
            biases,
            content,
            content_inner,
            selection: ModelSelection {
                parameter: "lambda_per_rating".to_string(),
                grid: params.lambdas.clone(),
                valid_rmse,
                chosen: params.lambdas[chosen],
                valid_n: valid.len(),
            },
            n_features: features.n_features(),
        })
    }

    /// x_iᵀw, the text's offset to the biases, of item id `item` (0 when it has no text).
    pub fn content(&self, item: u32) -> f64 {
        self.content.get(item as usize).copied().unwrap_or(0.0)
    }

    /// The λ kept and the validation RMSE of every λ tried.
    pub fn model_selection(&self) -> &ModelSelection {
        &self.selection
    }

    /// Columns of the design matrix (metadata words + review words of the training text).
    pub fn n_features(&self) -> usize {
        self.n_features
    }

    /// The biases the ridge corrects (the same fit as the Biases baseline).
    pub fn biases(&self) -> &BaselineOnly {
        &self.biases
    }
}

impl Estimator for TfIdfRidge {
    /// Inner ids only reach the items with training ratings; an unknown item gets the biases
    /// alone here. [`Estimator::estimate_ids`] (what `predict_pairs` calls) adds a cold item's
    /// metadata too.
    fn estimate(&self, user: Option<usize>, item: Option<usize>) -> Option<f64> {
        let content = item.map_or(0.0, |i| self.content_inner[i]);
        Some(self.biases.estimate(user, item)? + content)
    }

    fn estimate_ids(&self, train: &TrainSet, user: u32, item: u32) -> Option<f64> {
        let biases = self
            .biases
            .estimate(train.inner_user(user), train.inner_item(item))?;
        Some(biases + self.content(item))
    }

    fn model_selection(&self) -> Option<ModelSelection> {
        Some(self.selection.clone())
    }
}

/// No column: a token that no training document of the block contains.
const NONE: u32 = u32::MAX;

/// The two vocabularies (token id → column) and their IDF, from the training text only.
struct Features {
    meta_column: Vec<u32>,
    review_column: Vec<u32>,
    meta_idf: Vec<f64>,
    review_idf: Vec<f64>,
    /// Training reviews per item id (rows of `ratings`), in row order.
    item_reviews: Vec<Vec<usize>>,
}

impl Features {
    fn build(ratings: &Ratings, texts: &ItemTexts, train_rows: &[usize], n_items: usize) -> Self {
        let mut item_reviews = vec![Vec::new(); n_items];
        for &r in train_rows {
            item_reviews[ratings.item[r] as usize].push(r);
        }
        let training_items: Vec<usize> = (0..n_items)
            .filter(|&i| !item_reviews[i].is_empty())
            .collect();
        let max_token = |docs: &mut dyn Iterator<Item = &[u32]>| -> usize {
            docs.flat_map(|d| d.iter().map(|&t| t as usize + 1))
                .max()
                .unwrap_or(0)
        };
        let n_tokens = max_token(&mut texts.meta.iter().map(Vec::as_slice))
            .max(max_token(&mut texts.reviews.iter().map(Vec::as_slice)));
        // Document frequencies over the training items: each item's metadata is one document of
        // the metadata block, the concatenation of its training reviews one of the review block.
        let mut meta_df = vec![0u32; n_tokens];
        let mut review_df = vec![0u32; n_tokens];
        let mut last_seen = vec![usize::MAX; n_tokens];
        for &i in &training_items {
            for &t in texts.metadata(i as u32) {
                if std::mem::replace(&mut last_seen[t as usize], i) != i {
                    meta_df[t as usize] += 1;
                }
            }
        }
        last_seen.fill(usize::MAX);
        for &i in &training_items {
            for &r in &item_reviews[i] {
                for &t in &texts.reviews[r] {
                    if std::mem::replace(&mut last_seen[t as usize], i) != i {
                        review_df[t as usize] += 1;
                    }
                }
            }
        }
        let n_docs = training_items.len() as f64;
        // Smoothed IDF: ln((1 + n) / (1 + df)) + 1 (scikit-learn's `smooth_idf`).
        let vocabulary = |df: &[u32]| -> (Vec<u32>, Vec<f64>) {
            let mut column = vec![NONE; df.len()];
            let mut idf = Vec::new();
            for (t, &d) in df.iter().enumerate() {
                if d > 0 {
                    column[t] = idf.len() as u32;
                    idf.push(((1.0 + n_docs) / (1.0 + f64::from(d))).ln() + 1.0);
                }
            }
            (column, idf)
        };
        let (meta_column, meta_idf) = vocabulary(&meta_df);
        let (review_column, review_idf) = vocabulary(&review_df);
        Self {
            meta_column,
            review_column,
            meta_idf,
            review_idf,
            item_reviews,
        }
    }

    fn n_features(&self) -> usize {
        self.meta_idf.len() + self.review_idf.len()
    }

    /// (column, count) of the block's words in `tokens`, by column.
    fn counts<'a>(column: &[u32], tokens: impl Iterator<Item = &'a u32>) -> Vec<(u32, u32)> {
        let mut cols: Vec<u32> = tokens
            .filter_map(|&t| column.get(t as usize).copied().filter(|&c| c != NONE))
            .collect();
        cols.sort_unstable();
        let mut out: Vec<(u32, u32)> = Vec::new();
        for c in cols {
            match out.last_mut() {
                Some((last, n)) if *last == c => *n += 1,
                _ => out.push((c, 1)),
            }
        }
        out
    }

    /// Sublinear TF-IDF, (1 + ln tf) · idf, L2-normalised.
    fn weigh(counts: &[(u32, u32)], idf: &[f64], row: &mut Vec<(u32, f64)>) {
        let start = row.len();
        row.extend(
            counts
                .iter()
                .filter(|&&(_, n)| n > 0)
                .map(|&(c, n)| (c, tf_idf(n, idf[c as usize]))),
        );
        let norm = row[start..].iter().map(|&(_, v)| v * v).sum::<f64>().sqrt();
        if norm > 0.0 {
            for (_, v) in &mut row[start..] {
                *v /= norm;
            }
        }
    }

    fn meta_counts(&self, texts: &ItemTexts, item: u32) -> Vec<(u32, u32)> {
        Self::counts(&self.meta_column, texts.metadata(item).iter())
    }

    /// Counts of item `item`'s training reviews.
    fn review_counts(&self, texts: &ItemTexts, item: usize) -> Vec<(u32, u32)> {
        let reviews = self.item_reviews.get(item).map_or(&[][..], Vec::as_slice);
        Self::counts(
            &self.review_column,
            reviews.iter().flat_map(|&r| texts.reviews[r].iter()),
        )
    }

    /// The training rows' design matrix ([`Design`]): per item id its metadata block and the
    /// block of all its training reviews, per training row what its own review takes off.
    fn design(&self, ratings: &Ratings, texts: &ItemTexts, train_rows: &[usize]) -> Design {
        let n_items = self.item_reviews.len();
        let offset = self.meta_idf.len() as u32;
        let review_weight = |c: u32, n: u32| tf_idf(n, self.review_idf[c as usize]);
        let (mut meta, mut reviews) = (Csr::new(self.n_features()), Csr::new(self.n_features()));
        let mut review_counts = Vec::with_capacity(n_items);
        let mut row = Vec::new();
        for item in 0..n_items {
            row.clear();
            let counts = self.meta_counts(texts, item as u32);
            Self::weigh(&counts, &self.meta_idf, &mut row);
            meta.push(&row);
            let counts = self.review_counts(texts, item);
            row.clear();
            row.extend(
                counts
                    .iter()
                    .map(|&(c, n)| (c + offset, review_weight(c, n))),
            );
            reviews.push(&row);
            review_counts.push(counts);
        }
        let mut design = Design::new(meta, reviews);
        let mut correction = Vec::new();
        for &r in train_rows {
            let item = ratings.item[r];
            let own = Self::counts(&self.review_column, texts.reviews[r].iter());
            let mut own = own.iter().peekable();
            correction.clear();
            let mut squares = 0.0;
            for &(c, n) in &review_counts[item as usize] {
                let mine = match own.next_if(|&&(o, _)| o == c) {
                    Some(&(_, m)) => m,
                    None => 0,
                };
                // The row's review is one of the item's training reviews, so mine ≤ n.
                let left = n.saturating_sub(mine);
                let kept = if left > 0 {
                    review_weight(c, left)
                } else {
                    0.0
                };
                if mine > 0 {
                    correction.push((c + offset, review_weight(c, n) - kept));
                }
                squares += kept * kept;
            }
            design.push_row(item, &correction, inverse_norm(squares));
        }
        design
    }
}

/// Sublinear TF-IDF of a word seen `n` times: (1 + ln n) · idf.
fn tf_idf(n: u32, idf: f64) -> f64 {
    (1.0 + f64::from(n).ln()) * idf
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::baselines::predict;
    use crate::metrics::rmse;
    use lrmm_core::SeededRng;

    const SCALE: (f32, f32) = (1.0, 5.0);
    const GOOD: u32 = 2;
    const BAD: u32 = 3;

    /// 80 users × 60 items. Each item's metadata names it good (word 2) or bad (word 3), which
    /// shifts its ratings by ±0.8, plus three filler words; each review holds a word of its
    /// rating and filler. Items 48..60 are cold: their rows are only valid and test rows.
    fn planted(seed: u64) -> (Ratings, ItemTexts, Vec<bool>) {
        let mut rng = SeededRng::new(seed);
        let (n_users, n_items, n_warm) = (80u32, 60u32, 48u32);
        let user_bias: Vec<f64> = (0..n_users).map(|_| 0.4 * rng.normal()).collect();
        let good: Vec<bool> = (0..n_items).map(|_| rng.bernoulli(0.5)).collect();
        let mut meta = Vec::new();
        for &g in &good {
            let mut doc = vec![if g { GOOD } else { BAD }];
            doc.extend((0..3).map(|_| 10 + rng.below(30) as u32));
            meta.push(doc);
        }
        let (mut ratings, mut reviews) = (Ratings::default(), Vec::new());
        for u in 0..n_users {
            for i in 0..n_items {
                if !rng.bernoulli(0.3) {
                    continue;
                }
                let shift = if good[i as usize] { 0.8 } else { -0.8 };
                let r = (3.5 + user_bias[u as usize] + shift + 0.3 * rng.normal()).clamp(1.0, 5.0);
                let x = rng.next_f64();
                let split = if i >= n_warm {
                    if x < 0.5 {
                        Split::Valid
                    } else {
                        Split::Test
                    }
                } else if x < 0.8 {
                    Split::Train
                } else if x < 0.9 {
                    Split::Valid
                } else {
                    Split::Test
                };
                ratings.push(u, i, r as f32, split);
                reviews.push(vec![60 + r.round() as u32, 10 + rng.below(30) as u32]);
            }
        }
        (ratings, ItemTexts { meta, reviews }, good)
    }

    fn fit(ratings: &Ratings, texts: &ItemTexts, params: &TfIdfParams) -> (TrainSet, TfIdfRidge) {
        let train = TrainSet::from_ratings(ratings, Split::Train);
        let model = TfIdfRidge::fit(ratings, &train, texts, params, SCALE).unwrap();
        (train, model)
    }

    /// (TF-IDF ridge RMSE, Biases RMSE) on the test rows of cold items.
    fn cold_test_rmse(ratings: &Ratings, train: &TrainSet, model: &TfIdfRidge) -> (f64, f64) {
        let rows: Vec<usize> = ratings
            .rows(Split::Test)
            .into_iter()
            .filter(|&r| train.inner_item(ratings.item[r]).is_none())
            .collect();
        assert!(rows.len() > 50, "{} cold test rows", rows.len());
        let truth: Vec<f32> = rows.iter().map(|&r| ratings.rating[r]).collect();
        let ridge = predict(model, train, ratings, &rows, SCALE);
        let biases = predict(model.biases(), train, ratings, &rows, SCALE);
        (
            rmse(&ridge, &truth).unwrap(),
            rmse(&biases, &truth).unwrap(),
        )
    }

    #[test]
    fn recovers_a_planted_metadata_word_and_beats_biases_on_cold_items() {
        let (ratings, texts, good) = planted(7);
        let (train, model) = fit(&ratings, &texts, &TfIdfParams::default());
        // The biases are the Biases baseline's own fit.
        let bias = BaselineOnly::fit(&train, &BaselineOnlyParams::default());
        assert_eq!(model.biases().bu, bias.bu);
        assert_eq!(model.biases().bi, bias.bi);
        // Every cold item's text offset has the sign of its planted word.
        for i in 48..60u32 {
            let c = model.content(i);
            assert!(
                if good[i as usize] { c > 0.0 } else { c < 0.0 },
                "item {i} (good: {}): offset {c}",
                good[i as usize]
            );
        }
        let (ridge, biases) = cold_test_rmse(&ratings, &train, &model);
        assert!(
            ridge < 0.8 * biases,
            "cold items: ridge {ridge} vs biases {biases}"
        );
        // On warm items the text adds to the biases too, but less: b_i already holds most of it.
        let warm: Vec<usize> = ratings
            .rows(Split::Test)
            .into_iter()
            .filter(|&r| train.inner_item(ratings.item[r]).is_some())
            .collect();
        let truth: Vec<f32> = warm.iter().map(|&r| ratings.rating[r]).collect();
        let warm_ridge = rmse(&predict(&model, &train, &ratings, &warm, SCALE), &truth).unwrap();
        let warm_biases = rmse(&predict(&bias, &train, &ratings, &warm, SCALE), &truth).unwrap();
        assert!(
            warm_ridge <= warm_biases + 1e-3,
            "warm: {warm_ridge} vs {warm_biases}"
        );
    }

    #[test]
    fn backfitting_gives_cold_items_more_of_the_text_effect() {
        let (ratings, texts, _) = planted(7);
        let (train, one) = fit(&ratings, &texts, &TfIdfParams::default());
        let params = TfIdfParams {
            rounds: 5,
            ..TfIdfParams::default()
        };
        let (_, backfit) = fit(&ratings, &texts, &params);
        let (cold_one, _) = cold_test_rmse(&ratings, &train, &one);
        let (cold_backfit, biases) = cold_test_rmse(&ratings, &train, &backfit);
        assert!(
            cold_backfit < cold_one - 0.05 && cold_backfit < 0.7 * biases,
            "backfit {cold_backfit}, one pass {cold_one}, biases {biases}"
        );
    }

    #[test]
    fn lambda_is_chosen_on_validation_and_test_ratings_change_nothing() {
        let (ratings, texts, _) = planted(3);
        let (_, model) = fit(&ratings, &texts, &TfIdfParams::default());
        let sel = model.model_selection();
        assert_eq!(sel.grid, [1e-4, 1e-3, 1e-2, 1e-1, 1.0]);
        assert_eq!(sel.parameter, "lambda_per_rating");
        assert_eq!(sel.valid_n, ratings.rows(Split::Valid).len());
        let best = sel.valid_rmse.iter().copied().fold(f64::INFINITY, f64::min);
        let k = sel.grid.iter().position(|&l| l == sel.chosen).unwrap();
        assert_eq!(sel.valid_rmse[k], best);
        // Scrambling the test ratings changes neither the fit nor the choice.
        let mut scrambled = ratings.clone();
        for r in scrambled.rows(Split::Test) {
            scrambled.rating[r] = 6.0 - scrambled.rating[r];
        }
        let (_, again) = fit(&scrambled, &texts, &TfIdfParams::default());
        assert_eq!(again.model_selection(), sel);
        assert_eq!(again.content, model.content);
        // Validation ratings do drive it: where they contradict the training text, the
        // strongest ridge (the smallest offsets) wins.
        let mut contradicted = ratings.clone();
        for r in contradicted.rows(Split::Valid) {
            let offset = model.content(contradicted.item[r]) as f32;
            contradicted.rating[r] = (contradicted.rating[r] - 3.0 * offset).clamp(1.0, 5.0);
        }
        let (_, other) = fit(&contradicted, &texts, &TfIdfParams::default());
        assert_eq!(other.model_selection().chosen, 1.0);
    }

    #[test]
    fn the_strength_is_per_rating_so_copied_data_keeps_its_fit() {
        // Three copies of the data as new users and items with the same words: XᵀX and Xᵀe
        // triple, and so does the penalty. Only the smoothed IDF moves a little.
        let (ratings, texts, _) = planted(11);
        let (n_users, n_items) = (80, 60);
        let (mut copied, mut copied_texts) = (Ratings::default(), ItemTexts::default());
        for k in 0..3u32 {
            for r in 0..ratings.len() {
                copied.push(
                    ratings.user[r] + k * n_users,
                    ratings.item[r] + k * n_items,
                    ratings.rating[r],
                    ratings.split[r],
                );
            }
            copied_texts.meta.extend(texts.meta.iter().cloned());
            copied_texts.reviews.extend(texts.reviews.iter().cloned());
        }
        let (_, one) = fit(&ratings, &texts, &TfIdfParams::default());
        let (_, three) = fit(&copied, &copied_texts, &TfIdfParams::default());
        assert_eq!(three.model_selection().chosen, one.model_selection().chosen);
        // The same strength per rating, and the same total strength as a fixed penalty would
        // keep (a third per rating): the first fits the copies as the original, the second
        // shrinks them less.
        let weaker = TfIdfParams {
            lambdas: vec![one.model_selection().chosen / 3.0],
            ..TfIdfParams::default()
        };
        let (_, fixed) = fit(&copied, &copied_texts, &weaker);
        let distance = |m: &TfIdfRidge| {
            let mut sum = 0.0;
            for i in 0..n_items {
                for k in 0..3 {
                    sum += (one.content(i) - m.content(i + k * n_items)).abs();
                }
            }
            sum / f64::from(3 * n_items)
        };
        let spread = (0..n_items).map(|i| one.content(i).abs()).sum::<f64>() / f64::from(n_items);
        assert!(
            distance(&three) < 0.05 * spread,
            "{} vs spread {spread}",
            distance(&three)
        );
        assert!(
            distance(&three) < 0.5 * distance(&fixed),
            "{} vs {}",
            distance(&three),
            distance(&fixed)
        );
    }

    #[test]
    fn fits_are_bitwise_reproducible() {
        let (ratings, texts, _) = planted(5);
        let (_, a) = fit(&ratings, &texts, &TfIdfParams::default());
        let (_, b) = fit(&ratings, &texts, &TfIdfParams::default());
        let bits = |m: &TfIdfRidge| m.content.iter().map(|c| c.to_bits()).collect::<Vec<_>>();
        assert_eq!(bits(&a), bits(&b));
        assert_eq!(a.model_selection(), b.model_selection());
    }

    #[test]
    fn a_training_row_never_sees_its_own_review() {
        // Item 0 has training reviews [5] and [6, 6], item 1 none (cold), both metadata [2].
        let mut ratings = Ratings::default();
        ratings.push(0, 0, 5.0, Split::Train);
        ratings.push(1, 0, 1.0, Split::Train);
        ratings.push(2, 1, 3.0, Split::Valid);
        let texts = ItemTexts {
            meta: vec![vec![2], vec![2]],
            reviews: vec![vec![5], vec![6, 6], vec![7]],
        };
        let train_rows = ratings.rows(Split::Train);
        let f = Features::build(&ratings, &texts, &train_rows, 2);
        // Vocabularies from training text only: word 7 is only in a validation review.
        assert_eq!((f.meta_idf.len(), f.review_idf.len()), (1, 2));
        let x = f.design(&ratings, &texts, &train_rows);
        let cols = |r: usize| x.row(r).into_iter().map(|(c, _)| c).collect::<Vec<_>>();
        let (w5, w6) = (
            1 + f.review_column[5] as usize,
            1 + f.review_column[6] as usize,
        );
        assert_eq!(cols(0), [0, w6], "row 0 reads item 0's other review only");
        assert_eq!(cols(1), [0, w5], "row 1 likewise");
        // Each block is L2-normalised.
        assert!(x.row(0).iter().all(|(_, v)| (v - 1.0).abs() < 1e-12));
        let item_0 = x.item_row(0);
        assert_eq!(
            item_0.len(),
            3,
            "item 0 at prediction: metadata + both reviews"
        );
        let review_block: f64 = item_0[1..].iter().map(|(_, v)| v * v).sum();
        assert!(
            (review_block - 1.0).abs() < 1e-12,
            "normalised: {review_block}"
        );
        assert_eq!(x.item_row(1), [(0, 1.0)], "cold: metadata");
    }

    #[test]
    fn bad_inputs_are_clear_errors() {
        let (ratings, texts, _) = planted(1);
        let train = TrainSet::from_ratings(&ratings, Split::Train);
        let mut no_valid = ratings.clone();
        for s in &mut no_valid.split {
            if *s == Split::Valid {
                *s = Split::Test;
            }
        }
        let err = TfIdfRidge::fit(&no_valid, &train, &texts, &TfIdfParams::default(), SCALE)
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("validation") && err.contains("lambda"),
            "{err}"
        );
        let short = ItemTexts {
            reviews: texts.reviews[1..].to_vec(),
            ..texts.clone()
        };
        let err = TfIdfRidge::fit(&ratings, &train, &short, &TfIdfParams::default(), SCALE)
            .unwrap_err()
            .to_string();
        assert!(err.contains("reviews") && err.contains("rows"), "{err}");
        let params = TfIdfParams {
            lambdas: vec![1.0, -1.0],
            ..TfIdfParams::default()
        };
        assert!(TfIdfRidge::fit(&ratings, &train, &texts, &params, SCALE).is_err());
    }
}
