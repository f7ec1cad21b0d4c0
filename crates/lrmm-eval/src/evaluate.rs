//! One evaluation run: every model's test predictions, their metrics on each test subset, and
//! the `metrics.json` they are written to.

use std::collections::BTreeMap;

use indicatif::{ProgressBar, ProgressStyle};
use lrmm_core::{Modality, SeededRng, Split};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::baselines::{self, BaselineKind, FitInputs, ModelSelection, TrainSet};
use crate::data::{Ratings, Subset};
use crate::metrics::{error_metrics, ranking_metrics};
use crate::ranking::{Protocol, RankingTask};
use crate::text::ItemTexts;

/// Rows per LRMM prediction call, so the progress bar moves on large test sets.
const PREDICT_CHUNK: usize = 4096;

/// The paper's test settings: all modalities (+F) and each one removed (−U, −O, −M, −V).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Setting {
    /// `metrics.json` key: "+F", "-U", "-O", "-M", "-V".
    pub key: &'static str,
    /// Column name in `predictions.parquet`.
    pub column: &'static str,
    pub dropped: Option<Modality>,
}

pub const SETTINGS: [Setting; 5] = [
    Setting {
        key: "+F",
        column: "lrmm_full",
        dropped: None,
    },
    Setting {
        key: "-U",
        column: "lrmm_drop_user",
        dropped: Some(Modality::User),
    },
    Setting {
        key: "-O",
        column: "lrmm_drop_item",
        dropped: Some(Modality::Item),
    },
    Setting {
        key: "-M",
        column: "lrmm_drop_meta",
        dropped: Some(Modality::Meta),
    },
    Setting {
        key: "-V",
        column: "lrmm_drop_image",
        dropped: Some(Modality::Image),
    },
];

/// Something that predicts interaction rows with modalities removed: the trained LRMM
/// (through `lrmm_model::inference::Predictor`), or a test double.
pub trait RatingModel {
    fn predict(&self, rows: &[usize], drop: &[Modality]) -> anyhow::Result<Vec<f32>>;

    /// Predicted ratings of arbitrary (user, item) pairs with every modality the data has, for
    /// the ranking protocol ([`crate::ranking`]); `None` when the model cannot score pairs that
    /// are not interaction rows (its ranking metrics are then left out).
    fn score_pairs(&self, _pairs: &[(u32, u32)]) -> anyhow::Result<Option<Vec<f32>>> {
        Ok(None)
    }
}

#[derive(Debug, Clone)]
pub struct EvalOptions {
    /// Cut-off of Recall@K and NDCG@K.
    pub k: usize,
    /// A test item is relevant for Recall@K when its true rating is at least this.
    pub relevance_threshold: f32,
    /// Rating scale every prediction is clipped to.
    pub scale: (f32, f32),
    /// Seeds the baselines' random initial factors and the choice of example rows.
    pub seed: u64,
    /// Which baselines to fit.
    pub baselines: Vec<BaselineKind>,
    /// Number of example predictions (the paper's Table 5).
    pub n_examples: usize,
    /// The split evaluated: test, or valid to inspect a model without touching test.
    pub split: Split,
    /// Draw a progress bar over the LRMM predictions (off with `-q`).
    pub progress: bool,
    /// The candidates of HR@K / NDCG@K ([`crate::ranking`]); `None` skips them.
    pub ranking: Option<Protocol>,
}

impl Default for EvalOptions {
    fn default() -> Self {
        Self {
            k: 10,
            relevance_threshold: 4.0,
            scale: (1.0, 5.0),
            seed: 1,
            baselines: BaselineKind::ALL.to_vec(),
            n_examples: 5,
            split: Split::Test,
            progress: true,
            ranking: Some(Protocol::Sampled(99)),
        }
    }
}

/// Every model's predictions of the test rows.
#[derive(Debug, Clone)]
pub struct Predictions {
    /// Row indices into `interactions.parquet`, in row order.
    pub rows: Vec<usize>,
    pub user: Vec<u32>,
    pub item: Vec<u32>,
    pub truth: Vec<f32>,
    pub cold_user: Vec<bool>,
    pub cold_item: Vec<bool>,
    /// By [`Setting::key`]; empty when LRMM was not evaluated.
    pub lrmm: BTreeMap<&'static str, Vec<f32>>,
    /// By [`BaselineKind::key`].
    pub baselines: BTreeMap<&'static str, Vec<f32>>,
    /// The ranking protocol's candidates of `rows` (same order), when it was run.
    pub ranking: Option<RankingTask>,
    /// Each model's scores of `ranking.pairs`, by `metrics.json` key (LRMM: "+F").
    pub ranking_scores: BTreeMap<&'static str, Vec<f32>>,
    /// What each baseline that chooses a hyper-parameter chose on validation, by its key.
    pub model_selection: BTreeMap<&'static str, ModelSelection>,
}

impl Predictions {
    fn subset_mask(&self, subset: Subset) -> Vec<bool> {
        (0..self.rows.len())
            .map(|r| match subset {
                Subset::All => true,
                Subset::Warm => !self.cold_user[r] && !self.cold_item[r],
                Subset::ColdItem => self.cold_item[r],
                Subset::ColdUser => self.cold_user[r],
            })
            .collect()
    }
}

/// Metrics of one model on one subset.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct Entry {
    pub rmse: Option<f64>,
    pub mae: Option<f64>,
    pub n: usize,
    /// Recall@K of each user's own test items (close to 1 for every model on random splits).
    pub recall_at_k: Option<f64>,
    /// NDCG@K of each user's own test items.
    pub ndcg_at_k: Option<f64>,
    /// HR@K of each test item among items its user never rated ([`crate::ranking`]).
    #[serde(default)]
    pub hr_at_k: Option<f64>,
    /// NDCG@K of the same ranking.
    #[serde(default)]
    pub ranked_ndcg_at_k: Option<f64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SubsetReport {
    pub n: usize,
    pub lrmm: BTreeMap<String, Entry>,
    pub baselines: BTreeMap<String, Entry>,
}

/// `metrics.json`. `lrmm` and `baselines` hold the whole test set; `subsets` repeats them
/// for all / warm / cold_item / cold_user.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MetricsReport {
    pub dataset: String,
    /// The split evaluated ("test" unless asked otherwise).
    pub split: String,
    pub seed: u64,
    pub k: usize,
    pub relevance_threshold: f32,
    pub n_train: usize,
    pub n_test: usize,
    /// "evaluated", or why LRMM was not (no model given, model failed to load, …).
    pub lrmm_status: String,
    pub lrmm: BTreeMap<String, Entry>,
    pub baselines: BTreeMap<String, Entry>,
    pub subsets: BTreeMap<String, SubsetReport>,
    /// How HR@K and NDCG@K were computed (`None` when the ranking protocol was not run).
    #[serde(default)]
    pub ranking_protocol: Option<String>,
    /// Hyper-parameters chosen on the validation split, by baseline key (the content
    /// baseline's λ); absent when no evaluated baseline chooses one.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub model_selection: BTreeMap<String, ModelSelection>,
}

/// Predicts the evaluated split (`options.split`, test by default) with every baseline in
/// `options` and, when given, LRMM in every setting; without item texts, so a content baseline
/// in `options` is an error ([`predict_test_with_texts`]).
pub fn predict_test(
    ratings: &Ratings,
    lrmm: Option<&dyn RatingModel>,
    options: &EvalOptions,
) -> anyhow::Result<Predictions> {
    predict_test_with_texts(ratings, None, lrmm, options)
}

/// [`predict_test`] with the item texts the content baseline reads (`texts` row-aligned with
/// `ratings`).
pub fn predict_test_with_texts(
    ratings: &Ratings,
    texts: Option<&ItemTexts>,
    lrmm: Option<&dyn RatingModel>,
    options: &EvalOptions,
) -> anyhow::Result<Predictions> {
    let rows = ratings.rows(options.split);
    anyhow::ensure!(
        !rows.is_empty(),
        "the interactions have no {} rows",
        options.split.as_str()
    );
    let presence = ratings.training_presence();
    let train = TrainSet::from_ratings(ratings, Split::Train);
    anyhow::ensure!(
        train.n_ratings() > 0,
        "the interactions have no training rows"
    );
    let mut out = Predictions {
        user: rows.iter().map(|&r| ratings.user[r]).collect(),
        item: rows.iter().map(|&r| ratings.item[r]).collect(),
        truth: rows.iter().map(|&r| ratings.rating[r]).collect(),
        cold_user: rows
            .iter()
            .map(|&r| !presence.knows_user(ratings.user[r]))
            .collect(),
        cold_item: rows
            .iter()
            .map(|&r| !presence.knows_item(ratings.item[r]))
            .collect(),
        lrmm: BTreeMap::new(),
        baselines: BTreeMap::new(),
        ranking: None,
        ranking_scores: BTreeMap::new(),
        model_selection: BTreeMap::new(),
        rows,
    };
    out.ranking = options
        .ranking
        .map(|protocol| RankingTask::new(ratings, &out.rows, protocol, options.seed));
    // The baselines are independent: fit them side by side.
    struct Fitted {
        key: &'static str,
        predicted: Vec<f32>,
        ranked: Option<Vec<f32>>,
        selection: Option<ModelSelection>,
    }
    let inputs = FitInputs {
        ratings,
        train: &train,
        texts,
        seed: options.seed,
        scale: options.scale,
    };
    let fitted: Vec<Fitted> = options
        .baselines
        .par_iter()
        .map(|&kind| {
            tracing::info!(baseline = kind.key(), "fitting");
            let model = kind.fit(&inputs)?;
            let ranked = out.ranking.as_ref().map(|task| {
                baselines::predict_pairs(model.as_ref(), &train, &task.pairs, options.scale)
            });
            Ok(Fitted {
                key: kind.key(),
                predicted: baselines::predict(
                    model.as_ref(),
                    &train,
                    ratings,
                    &out.rows,
                    options.scale,
                ),
                ranked,
                selection: model.model_selection(),
            })
        })
        .collect::<Result<_, baselines::BaselineError>>()?;
    for f in fitted {
        out.baselines.insert(f.key, f.predicted);
        if let Some(scores) = f.ranked {
            out.ranking_scores.insert(f.key, scores);
        }
        if let Some(selection) = f.selection {
            out.model_selection.insert(f.key, selection);
        }
    }
    if let Some(model) = lrmm {
        let bar = if options.progress {
            ProgressBar::new((SETTINGS.len() * out.rows.len()) as u64).with_style(
                ProgressStyle::with_template(
                    "LRMM {msg} [{bar:30}] {pos}/{len} rows, {per_sec}, ETA {eta}",
                )
                .unwrap_or_else(|_| ProgressStyle::default_bar()),
            )
        } else {
            ProgressBar::hidden()
        };
        for setting in SETTINGS {
            bar.set_message(setting.key);
            let drop: Vec<Modality> = setting.dropped.into_iter().collect();
            let mut predicted = Vec::with_capacity(out.rows.len());
            for chunk in out.rows.chunks(PREDICT_CHUNK) {
                let p = model.predict(chunk, &drop)?;
                anyhow::ensure!(
                    p.len() == chunk.len(),
                    "LRMM returned {} predictions for {} rows",
                    p.len(),
                    chunk.len()
                );
                predicted.extend(
                    p.into_iter()
                        .map(|x| x.clamp(options.scale.0, options.scale.1)),
                );
                bar.inc(chunk.len() as u64);
            }
            out.lrmm.insert(setting.key, predicted);
        }
        bar.finish_and_clear();
        if let Some(task) = &out.ranking {
            tracing::info!(
                "ranking: LRMM scores {} (user, item) candidates of {} test rows",
                task.pairs.len(),
                task.len()
            );
            if let Some(scores) = model.score_pairs(&task.pairs)? {
                anyhow::ensure!(
                    scores.len() == task.pairs.len(),
                    "LRMM returned {} scores for {} candidate pairs",
                    scores.len(),
                    task.pairs.len()
                );
                out.ranking_scores.insert(SETTINGS[0].key, scores);
            }
        }
    }
    Ok(out)
}

fn entry(
    p: &Predictions,
    mask: &[bool],
    predicted: &[f32],
    ranked: Option<&[f32]>,
    options: &EvalOptions,
) -> Entry {
    let pick = |v: &[f32]| -> Vec<f32> {
        v.iter()
            .zip(mask)
            .filter(|(_, &m)| m)
            .map(|(&x, _)| x)
            .collect()
    };
    let users: Vec<u32> = p
        .user
        .iter()
        .zip(mask)
        .filter(|(_, &m)| m)
        .map(|(&u, _)| u)
        .collect();
    let (pred, truth) = (pick(predicted), pick(&p.truth));
    let errors = error_metrics(&pred, &truth);
    let ranking = ranking_metrics(
        &users,
        &pred,
        &truth,
        options.k,
        options.relevance_threshold,
    );
    let (hr_at_k, ranked_ndcg_at_k) = match (&p.ranking, ranked) {
        (Some(task), Some(scores)) => task.mean_metrics(scores, options.k, mask),
        _ => (None, None),
    };
    Entry {
        rmse: errors.rmse,
        mae: errors.mae,
        n: errors.n,
        recall_at_k: ranking.recall,
        ndcg_at_k: ranking.ndcg,
        hr_at_k,
        ranked_ndcg_at_k,
    }
}

/// Metrics of every model on every subset.
pub fn metrics_report(
    dataset: &str,
    ratings: &Ratings,
    p: &Predictions,
    lrmm_status: &str,
    options: &EvalOptions,
) -> MetricsReport {
    let mut subsets = BTreeMap::new();
    for subset in Subset::ALL {
        let mask = p.subset_mask(subset);
        let report = SubsetReport {
            n: mask.iter().filter(|&&m| m).count(),
            lrmm: p
                .lrmm
                .iter()
                .map(|(k, v)| {
                    let ranked = p.ranking_scores.get(k).map(Vec::as_slice);
                    (k.to_string(), entry(p, &mask, v, ranked, options))
                })
                .collect(),
            baselines: p
                .baselines
                .iter()
                .map(|(k, v)| {
                    let ranked = p.ranking_scores.get(k).map(Vec::as_slice);
                    (k.to_string(), entry(p, &mask, v, ranked, options))
                })
                .collect(),
        };
        subsets.insert(subset.key().to_string(), report);
    }
    let all = &subsets[Subset::All.key()];
    MetricsReport {
        dataset: dataset.to_string(),
        split: options.split.as_str().to_string(),
        seed: options.seed,
        k: options.k,
        relevance_threshold: options.relevance_threshold,
        n_train: ratings.rows(Split::Train).len(),
        n_test: p.rows.len(),
        lrmm_status: lrmm_status.to_string(),
        lrmm: all.lrmm.clone(),
        baselines: all.baselines.clone(),
        subsets,
        ranking_protocol: p
            .ranking
            .as_ref()
            .and(options.ranking)
            .map(|protocol| protocol.describe(options.k, options.seed)),
        model_selection: p
            .model_selection
            .iter()
            .map(|(k, v)| (k.to_string(), v.clone()))
            .collect(),
    }
}

/// Test rows for the paper's Table 5: `n` warm rows drawn with the seed (all rows if fewer).
pub fn example_rows(p: &Predictions, n: usize, seed: u64) -> Vec<usize> {
    let mut warm: Vec<usize> = (0..p.rows.len())
        .filter(|&r| !p.cold_user[r] && !p.cold_item[r])
        .collect();
    if warm.len() < n {
        warm = (0..p.rows.len()).collect();
    }
    let mut rng = SeededRng::derive(seed, "eval-examples");
    rng.shuffle(&mut warm);
    warm.truncate(n);
    warm.sort_unstable();
    warm
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Predicts the true rating, shifted by how many modalities are removed, so each setting
    /// has a known error.
    struct Oracle<'a>(&'a Ratings);

    impl RatingModel for Oracle<'_> {
        fn predict(&self, rows: &[usize], drop: &[Modality]) -> anyhow::Result<Vec<f32>> {
            let shift = if drop.contains(&Modality::Item) {
                1.0
            } else {
                0.0
            };
            Ok(rows.iter().map(|&r| self.0.rating[r] - shift).collect())
        }
    }

    fn toy() -> Ratings {
        let mut r = Ratings::default();
        for u in 0..6u32 {
            for i in 0..6u32 {
                let split = if (u + i).is_multiple_of(5) {
                    Split::Test
                } else if (u + i) % 5 == 1 && u < 3 {
                    Split::Valid
                } else {
                    Split::Train
                };
                r.push(u, i, 1.0 + ((u * 7 + i * 3) % 5) as f32, split);
            }
        }
        r.push(9, 0, 4.0, Split::Test); // cold user
        r.push(0, 9, 2.0, Split::Test); // cold item
        r
    }

    /// Metadata: item i holds word 2 + i % 3; each review its rating's word.
    fn toy_texts(ratings: &Ratings) -> ItemTexts {
        ItemTexts {
            meta: (0..10u32).map(|i| vec![2 + i % 3, 1]).collect(),
            reviews: ratings
                .rating
                .iter()
                .map(|&s| vec![10 + s as u32])
                .collect(),
        }
    }

    #[test]
    fn settings_and_subsets_reach_metrics_json() {
        let ratings = toy();
        let texts = toy_texts(&ratings);
        let oracle = Oracle(&ratings);
        let options = EvalOptions::default();
        let p = predict_test_with_texts(&ratings, Some(&texts), Some(&oracle), &options).unwrap();
        let m = metrics_report("toy", &ratings, &p, "evaluated", &options);
        assert_eq!(m.n_test, 10);
        assert_eq!(m.lrmm["+F"].rmse, Some(0.0));
        // −O predicts rating − 1, clipped at 1: the 1-star rows keep zero error.
        let ones = p.truth.iter().filter(|&&t| t == 1.0).count() as f64;
        let expected = ((10.0 - ones) / 10.0).sqrt();
        assert!((m.lrmm["-O"].rmse.unwrap() - expected).abs() < 1e-6);
        assert_eq!(m.subsets["cold_user"].n, 1);
        assert_eq!(m.subsets["cold_item"].n, 1);
        assert_eq!(m.subsets["warm"].n, 8);
        // The global mean predicts every row the same.
        let mu = TrainSet::from_ratings(&ratings, Split::Train).global_mean as f32;
        assert!(p.baselines["offset"].iter().all(|&x| (x - mu).abs() < 1e-6));
        let json = serde_json::to_string(&m).unwrap();
        let back: MetricsReport = serde_json::from_str(&json).unwrap();
        assert_eq!(back.lrmm["-O"].n, 10);
        assert_eq!(
            back.subsets.keys().collect::<Vec<_>>(),
            ["all", "cold_item", "cold_user", "warm"]
        );
        // Every baseline, the content one included, is scored and ranked; its λ is recorded.
        let keys: Vec<&str> = BaselineKind::ALL.map(BaselineKind::key).to_vec();
        assert_eq!(back.baselines.keys().collect::<Vec<_>>().len(), keys.len());
        for key in keys {
            assert!(back.baselines[key].rmse.is_some(), "{key}");
            assert!(back.baselines[key].hr_at_k.is_some(), "{key}");
        }
        let selection = &back.model_selection["tfidf"];
        assert_eq!(selection.valid_n, ratings.rows(Split::Valid).len());
        assert!(selection.grid.contains(&selection.chosen));
    }

    #[test]
    fn the_content_baseline_without_texts_is_a_clear_error() {
        let ratings = toy();
        let err = predict_test(&ratings, None, &EvalOptions::default()).unwrap_err();
        assert!(err.to_string().contains("item_tokens.parquet"), "{err}");
        let rating_only = EvalOptions {
            baselines: BaselineKind::SURPRISE.to_vec(),
            ..EvalOptions::default()
        };
        let p = predict_test(&ratings, None, &rating_only).unwrap();
        assert!(!p.baselines.contains_key("tfidf"));
    }

    #[test]
    fn examples_are_warm_and_seeded() {
        let ratings = toy();
        let options = EvalOptions {
            baselines: BaselineKind::SURPRISE.to_vec(),
            ..EvalOptions::default()
        };
        let p = predict_test(&ratings, None, &options).unwrap();
        let a = example_rows(&p, 3, 5);
        assert_eq!(a, example_rows(&p, 3, 5));
        assert_eq!(a.len(), 3);
        assert!(a.iter().all(|&r| !p.cold_user[r] && !p.cold_item[r]));
    }
}
