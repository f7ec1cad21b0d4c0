//! The prediction stage of lrmm: ratings and top-K lists for users and items a trained model
//! never saw, from raw Amazon records (docs/predict.md).
//!
//! One record goes through the same code as in the pipeline: review and metadata lines through
//! ingestion's parsers (`lrmm_ingest::read`), its deduplication and its metadata document
//! (`ItemMeta::document`); text through the dataset's `tokenizer.json` with the vocabulary
//! stage's encoder; photos through the image stage's VGG and preprocessing, rebuilt from what
//! `image_features.safetensors` records; ratings through the model's `Predictor`.
//!
//! The dataset folder the model was trained on is extended in memory
//! (`lrmm_model::data::Dataset::extend`): new users and items get ids after the known ones, new
//! reviews become training rows (so they enter histories), and each query pair becomes a row
//! outside the training split (so it never enters one). A modality with no data for a pair is
//! imputed by the model's autoencoders, and the output says so.
//!
//! Modules, each using only those before it: [`error`], [`input`] (query files),
//! [`records`] (the dataset folder and the new records), [`output`] (the table written), and
//! this file (the run).

pub mod error;
pub mod input;
pub mod output;
pub mod records;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use candle_core::Device;
use indicatif::{ProgressBar, ProgressStyle};
use lrmm_core::PerModality;
use lrmm_model::data::assemble;
use lrmm_model::inference::Predictor;

pub use error::{PredictError, Result};
pub use input::{Pair, SkippedLines};
pub use output::{write_predictions, Format};
pub use records::{KnownIds, NewRecords};

/// Rows per availability pass (the sources of each prediction), so no batch is assembled whole.
const PREDICT_CHUNK: usize = 4096;

/// Where a run reads from and how.
#[derive(Debug, Clone)]
pub struct PredictOptions {
    /// The trained model folder (`config.json`, `model.safetensors`).
    pub model_dir: PathBuf,
    /// The dataset folder the model was trained on.
    pub data_dir: PathBuf,
    /// Metadata lines of new items (either release).
    pub meta: Option<PathBuf>,
    /// Photos of new items, named by asin.
    pub images: Option<PathBuf>,
    /// Review lines (either release) that add to users' and items' histories.
    pub reviews: Option<PathBuf>,
    /// The VGG weights file, when the one the features file records has moved.
    pub vgg_weights: Option<PathBuf>,
    /// Count and skip malformed lines instead of failing.
    pub skip_bad_lines: bool,
    /// Known asins treated as new: nothing of theirs is looked up in the dataset folder (cold
    /// items re-entered from their raw records).
    pub forget_items: Vec<String>,
    /// Images per VGG forward pass.
    pub image_batch_size: usize,
    pub progress: bool,
}

impl PredictOptions {
    pub fn new(model_dir: impl Into<PathBuf>, data_dir: impl Into<PathBuf>) -> Self {
        Self {
            model_dir: model_dir.into(),
            data_dir: data_dir.into(),
            meta: None,
            images: None,
            reviews: None,
            vgg_weights: None,
            skip_bad_lines: false,
            forget_items: Vec::new(),
            image_batch_size: 32,
            progress: false,
        }
    }
}

/// What to predict.
#[derive(Debug, Clone)]
pub enum Query {
    /// Every pair, in order.
    Pairs(Vec<Pair>),
    /// Each user's `k` best items among the candidates (every known and new item when `None`),
    /// leaving out the items the user rated in training with `exclude_rated`.
    TopK {
        k: usize,
        users: Vec<String>,
        candidates: Option<Vec<String>>,
        exclude_rated: bool,
    },
    /// Each user's `k` best items among that user's pairs (ties in pair order).
    TopKOfPairs { k: usize, pairs: Vec<Pair> },
}

/// Where a modality of a prediction came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    /// The data holds it (reviews, metadata, an image).
    Data,
    /// Missing: the model's autoencoder imputed it from the other modalities.
    Imputed,
}

impl Source {
    pub fn as_str(self) -> &'static str {
        match self {
            Source::Data => "data",
            Source::Imputed => "imputed",
        }
    }
}

/// One predicted rating.
#[derive(Debug, Clone, PartialEq)]
pub struct Prediction {
    pub reviewer_id: String,
    pub asin: String,
    /// Clamped to the rating range.
    pub prediction: f32,
    /// Where U, O, M and V came from.
    pub sources: PerModality<Source>,
    /// Rank in the user's list (1 = best), in top-K mode.
    pub rank: Option<u32>,
}

/// A run's predictions and what it met on the way.
#[derive(Debug, Clone)]
pub struct PredictReport {
    pub predictions: Vec<Prediction>,
    pub new_users: usize,
    pub new_items: usize,
    /// Lines skipped under `--skip-bad-lines` (pairs, metadata, reviews).
    pub skipped: SkippedLines,
    /// New items whose image was missing or did not decode: (asin, why).
    pub image_problems: Vec<(String, String)>,
}

/// A loaded model with the dataset it was trained on, extended by the new records.
pub struct Session {
    predictor: Predictor,
    ids: KnownIds,
    /// The extended dataset's row of each query, in query order.
    rows: Vec<usize>,
    report: PredictReport,
}

impl std::fmt::Debug for Session {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Session")
            .field("rows", &self.rows.len())
            .finish_non_exhaustive()
    }
}

/// Runs a query.
pub fn run(opts: &PredictOptions, query: &Query, device: &Device) -> Result<PredictReport> {
    let session = Session::open(opts, query, device)?;
    session.predict(query, opts.progress)
}

impl Session {
    /// Reads the model, the dataset folder and the new records, and extends the dataset by the
    /// users, items, reviews and query pairs of `query`.
    pub fn open(opts: &PredictOptions, query: &Query, device: &Device) -> Result<Self> {
        let query_asins: Vec<&str> = match query {
            Query::Pairs(pairs) | Query::TopKOfPairs { pairs, .. } => {
                pairs.iter().map(|p| p.asin.as_str()).collect()
            }
            Query::TopK { candidates, .. } => {
                candidates.iter().flatten().map(String::as_str).collect()
            }
        };
        let loaded = records::load(opts, device, &query_asins)?;
        let records::Loaded {
            saved,
            dataset,
            mut ids,
            new,
        } = loaded;
        // Every id the query names, so that unknown ones become new users and items.
        let pairs: Vec<Pair> = match query {
            Query::Pairs(pairs) | Query::TopKOfPairs { pairs, .. } => pairs.clone(),
            Query::TopK {
                users,
                candidates,
                exclude_rated,
                ..
            } => {
                let candidates: Vec<String> = match candidates {
                    Some(c) => c.clone(),
                    None => ids.all_items(),
                };
                let mut out = Vec::with_capacity(users.len() * candidates.len());
                for user in users {
                    let rated: std::collections::HashSet<String> = if *exclude_rated {
                        ids.rated_in_training(&dataset, &new, user)
                    } else {
                        Default::default()
                    };
                    out.extend(
                        candidates
                            .iter()
                            .filter(|a| !rated.contains(a.as_str()))
                            .map(|asin| Pair {
                                reviewer_id: user.clone(),
                                asin: asin.clone(),
                            }),
                    );
                }
                out
            }
        };
        let (extension, query_rows) = records::extension(&dataset, &mut ids, &new, &pairs)?;
        let (extended, positions) = dataset.extend(&extension)?;
        let rows = query_rows.iter().map(|&k| positions[k]).collect();
        let predictor =
            Predictor::for_extended(&opts.model_dir, saved, Arc::new(extended), device)?;
        let skipped = new.skipped.clone();
        let report = PredictReport {
            predictions: Vec::new(),
            new_users: ids.new_users(),
            new_items: ids.new_items(),
            skipped,
            image_problems: new.image_problems.clone(),
        };
        let session = Self {
            predictor,
            ids,
            rows,
            report,
        };
        // The query rows were built from `pairs`, one row each, in order.
        debug_assert_eq!(session.rows.len(), pairs.len());
        Ok(session)
    }

    /// The model's predictions of the query rows, clamped to the rating range, with each
    /// modality's source.
    pub fn predict_rows(&self, progress: bool) -> Result<Vec<(f32, PerModality<Source>)>> {
        let bar = if progress {
            ProgressBar::new(self.rows.len() as u64).with_style(
                ProgressStyle::with_template(
                    "predicting [{bar:30}] {pos}/{len} pairs, {per_sec}, ETA {eta}",
                )
                .unwrap_or_else(|_| ProgressStyle::default_bar()),
            )
        } else {
            ProgressBar::hidden()
        };
        let ds = self.predictor.dataset();
        let docs = &self.predictor.saved().config.data;
        // One pass over every query row, so that each user and item is encoded once however
        // many pairs name it.
        let predictions = self
            .predictor
            .predict_queries_with_progress(&self.rows, &[], |n| bar.inc(n as u64))?;
        let mut out = Vec::with_capacity(self.rows.len());
        for (chunk, p) in self
            .rows
            .chunks(PREDICT_CHUNK)
            .zip(predictions.chunks(PREDICT_CHUNK))
        {
            let batch = assemble(ds, chunk, docs, &[], None);
            for (i, &x) in p.iter().enumerate() {
                let sources = PerModality::from_fn(|m| {
                    if batch.is_available(i, m) {
                        Source::Data
                    } else {
                        Source::Imputed
                    }
                });
                out.push((x, sources));
            }
        }
        bar.finish_and_clear();
        Ok(out)
    }

    /// Predicts the query and ranks it in the top-K modes.
    pub fn predict(mut self, query: &Query, progress: bool) -> Result<PredictReport> {
        let scored = self.predict_rows(progress)?;
        let ds = self.predictor.dataset();
        let mut predictions: Vec<Prediction> = self
            .rows
            .iter()
            .zip(scored)
            .map(|(&r, (prediction, sources))| Prediction {
                reviewer_id: self.ids.user_name(ds.user_id[r]).to_string(),
                asin: self.ids.item_name(ds.item_id[r]).to_string(),
                prediction,
                sources,
                rank: None,
            })
            .collect();
        if let Query::TopK { k, .. } | Query::TopKOfPairs { k, .. } = query {
            predictions = top_k(predictions, *k);
        }
        self.report.predictions = predictions;
        Ok(self.report)
    }

    /// The predictor over the extended dataset (tests, benchmarks).
    pub fn predictor(&self) -> &Predictor {
        &self.predictor
    }

    /// The extended dataset's rows of the query, in query order.
    pub fn rows(&self) -> &[usize] {
        &self.rows
    }
}

/// Each user's `k` highest predictions, users in order of first appearance, ties in input order
/// (as the evaluation stage ranks a user's test items).
pub fn top_k(predictions: Vec<Prediction>, k: usize) -> Vec<Prediction> {
    let mut by_user: Vec<Vec<Prediction>> = Vec::new();
    let mut index: HashMap<String, usize> = HashMap::new();
    for p in predictions {
        let i = *index.entry(p.reviewer_id.clone()).or_insert_with(|| {
            by_user.push(Vec::new());
            by_user.len() - 1
        });
        by_user[i].push(p);
    }
    let mut out = Vec::new();
    for mut list in by_user {
        list.sort_by(|a, b| b.prediction.total_cmp(&a.prediction));
        list.truncate(k);
        for (rank, mut p) in list.into_iter().enumerate() {
            p.rank = Some(rank as u32 + 1);
            out.push(p);
        }
    }
    out
}

/// The file name of a path, for messages.
pub(crate) fn display(path: &Path) -> String {
    path.display().to_string()
}
