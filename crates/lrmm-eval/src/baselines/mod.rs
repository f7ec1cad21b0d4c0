//! The paper's rating-only baselines, re-implemented after Surprise 1.1.5 with its defaults so
//! that their numbers can be compared with published ones and tested against Surprise itself
//! (`tests/surprise_agreement.rs`). Each model follows Surprise's update rules and its training
//! order (users by first appearance, each user's ratings in row order); predictions for unknown
//! users or items fall back as Surprise's do, and every prediction is clipped to the rating scale.
//!
//! Beside them, one content baseline, [`TfIdfRidge`]: the biases plus a ridge regression on
//! TF-IDF features of the item's training-visible text, its strength chosen on validation.

mod bias;
mod nmf;
mod svd;
mod svdpp;
mod tfidf;
mod trainset;

pub use bias::{BaselineOnly, BaselineOnlyParams};
pub use nmf::{Nmf, NmfParams};
pub use svd::{Svd, SvdParams};
pub use svdpp::{SvdPp, SvdPpParams};
pub use tfidf::{ModelSelection, TfIdfParams, TfIdfRidge};
pub use trainset::TrainSet;

use crate::data::Ratings;
use crate::text::ItemTexts;
use lrmm_core::Split;

/// Why a baseline cannot be fitted.
#[derive(Debug, thiserror::Error)]
pub enum BaselineError {
    #[error(
        "the {0} baseline reads the item texts (item_tokens.parquet and review_tokens.parquet \
         of the vocabulary stage), and none were given"
    )]
    NoTexts(&'static str),
    #[error(
        "the {baseline} baseline chooses its {parameter} on the validation split, but the \
         interactions have no `valid` rows"
    )]
    NoValidation {
        baseline: &'static str,
        parameter: &'static str,
    },
    #[error("the item texts hold {texts} reviews but the interactions have {ratings} rows")]
    Misaligned { texts: usize, ratings: usize },
    #[error("the ridge strengths {0:?} must be a non-empty list of positive numbers")]
    BadGrid(Vec<f64>),
}

/// A fitted model: Surprise's `estimate` on inner ids (`None` = unknown user or item), `None`
/// result = prediction impossible, answered by the global mean.
pub trait Estimator: Send + Sync {
    fn estimate(&self, user: Option<usize>, item: Option<usize>) -> Option<f64>;

    /// The estimate for original ids: by default [`Estimator::estimate`] of their inner ids. A
    /// model that knows more about an id than the training ratings (the content baseline knows
    /// a cold item's metadata) answers here.
    fn estimate_ids(&self, train: &TrainSet, user: u32, item: u32) -> Option<f64> {
        self.estimate(train.inner_user(user), train.inner_item(item))
    }

    /// A hyper-parameter the model chose on the validation split, for `metrics.json`.
    fn model_selection(&self) -> Option<ModelSelection> {
        None
    }
}

/// What fitting a baseline reads.
#[derive(Debug, Clone, Copy)]
pub struct FitInputs<'a> {
    /// Every rating with its split: training rows to fit, validation rows to choose on.
    pub ratings: &'a Ratings,
    /// The training rows of `ratings`, indexed.
    pub train: &'a TrainSet,
    /// Item texts, for the content baseline (`None`: rating-only baselines only).
    pub texts: Option<&'a ItemTexts>,
    /// Drives the random initial factors.
    pub seed: u64,
    /// The rating scale predictions are clipped to (validation RMSE is measured clipped).
    pub scale: (f32, f32),
}

/// The baselines of the paper's Table 2, by their `metrics.json` key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum BaselineKind {
    /// Global mean of the training ratings (the paper's Offset).
    Offset,
    /// User and item biases fitted by ALS (Surprise `BaselineOnly`).
    Bias,
    /// The same biases with their regularisation chosen on the validation split.
    BiasValid,
    /// Biased matrix factorisation by SGD (Surprise `SVD`).
    Svd,
    /// SVD++ (Surprise `SVDpp`).
    SvdPp,
    /// Non-negative matrix factorisation (Surprise `NMF`).
    Nmf,
    /// Biases + ridge regression on TF-IDF features of the item's text (the content baseline).
    TfIdf,
}

impl BaselineKind {
    /// Every baseline, in the order of the tables.
    pub const ALL: [BaselineKind; 7] = [
        BaselineKind::Offset,
        BaselineKind::Bias,
        BaselineKind::BiasValid,
        BaselineKind::Nmf,
        BaselineKind::Svd,
        BaselineKind::SvdPp,
        BaselineKind::TfIdf,
    ];

    /// The rating-only baselines after Surprise (`tests/surprise_agreement.rs`).
    pub const SURPRISE: [BaselineKind; 5] = [
        BaselineKind::Offset,
        BaselineKind::Bias,
        BaselineKind::Nmf,
        BaselineKind::Svd,
        BaselineKind::SvdPp,
    ];

    pub fn key(self) -> &'static str {
        match self {
            BaselineKind::Offset => "offset",
            BaselineKind::Bias => "bias",
            BaselineKind::BiasValid => "bias_valid",
            BaselineKind::Svd => "svd",
            BaselineKind::SvdPp => "svdpp",
            BaselineKind::Nmf => "nmf",
            BaselineKind::TfIdf => "tfidf",
        }
    }

    pub fn title(self) -> &'static str {
        match self {
            BaselineKind::Offset => "Offset",
            BaselineKind::Bias => "Biases",
            BaselineKind::BiasValid => "Biases, reg. on valid",
            BaselineKind::Svd => "SVD",
            BaselineKind::SvdPp => "SVD++",
            BaselineKind::Nmf => "NMF",
            BaselineKind::TfIdf => "TF-IDF ridge",
        }
    }

    /// Whether fitting reads the item texts ([`FitInputs::texts`]).
    pub fn needs_texts(self) -> bool {
        self == BaselineKind::TfIdf
    }

    pub fn parse(key: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.key() == key)
    }

    /// Fits with Surprise's default parameters (the content baseline: [`TfIdfParams`]'s;
    /// `bias_valid`: the regularisation chosen on validation); `seed` drives the random
    /// initial factors.
    pub fn fit(self, inputs: &FitInputs) -> Result<Box<dyn Estimator>, BaselineError> {
        let (train, seed) = (inputs.train, inputs.seed);
        Ok(match self {
            BaselineKind::Offset => Box::new(GlobalMean),
            BaselineKind::Bias => {
                Box::new(BaselineOnly::fit(train, &BaselineOnlyParams::default()))
            }
            BaselineKind::BiasValid => {
                let (model, [reg_u, reg_i]) =
                    BaselineOnly::fit_on_validation(inputs.ratings, train, inputs.scale)?;
                tracing::info!("Biases, reg. on valid: reg_u {reg_u} reg_i {reg_i}");
                Box::new(model)
            }
            BaselineKind::Svd => Box::new(Svd::fit(train, &SvdParams::default(), seed)),
            BaselineKind::SvdPp => Box::new(SvdPp::fit(train, &SvdPpParams::default(), seed)),
            BaselineKind::Nmf => Box::new(Nmf::fit(train, &NmfParams::default(), seed)),
            BaselineKind::TfIdf => {
                let texts = inputs.texts.ok_or(BaselineError::NoTexts(self.key()))?;
                Box::new(TfIdfRidge::fit(
                    inputs.ratings,
                    train,
                    texts,
                    &TfIdfParams::default(),
                    inputs.scale,
                )?)
            }
        })
    }
}

/// The Offset baseline: every estimate is impossible, so every prediction is the global mean.
struct GlobalMean;

impl Estimator for GlobalMean {
    fn estimate(&self, _: Option<usize>, _: Option<usize>) -> Option<f64> {
        None
    }
}

/// Predicts `rows` of `ratings` with a fitted model, clipped to `scale` as Surprise does.
pub fn predict(
    model: &dyn Estimator,
    train: &TrainSet,
    ratings: &Ratings,
    rows: &[usize],
    scale: (f32, f32),
) -> Vec<f32> {
    let pairs: Vec<(u32, u32)> = rows
        .iter()
        .map(|&r| (ratings.user[r], ratings.item[r]))
        .collect();
    predict_pairs(model, train, &pairs, scale)
}

/// Predicts arbitrary (user, item) pairs (original ids) with a fitted model, clipped to
/// `scale`: the candidates of the ranking protocol.
pub fn predict_pairs(
    model: &dyn Estimator,
    train: &TrainSet,
    pairs: &[(u32, u32)],
    scale: (f32, f32),
) -> Vec<f32> {
    pairs
        .iter()
        .map(|&(u, i)| {
            let est = model.estimate_ids(train, u, i).unwrap_or(train.global_mean);
            (est as f32).clamp(scale.0, scale.1)
        })
        .collect()
}

/// Fits `kind` on the training split of `ratings` (and `texts`, for the content baseline) and
/// predicts `rows`.
pub fn fit_predict(
    kind: BaselineKind,
    ratings: &Ratings,
    texts: Option<&ItemTexts>,
    rows: &[usize],
    seed: u64,
    scale: (f32, f32),
) -> Result<Vec<f32>, BaselineError> {
    let train = TrainSet::from_ratings(ratings, Split::Train);
    let model = kind.fit(&FitInputs {
        ratings,
        train: &train,
        texts,
        seed,
        scale,
    })?;
    Ok(predict(model.as_ref(), &train, ratings, rows, scale))
}
