//! The paper's rating-only baselines, re-implemented after Surprise 1.1.5 with its defaults so
//! that their numbers can be compared with published ones and tested against Surprise itself
//! (`tests/surprise_agreement.rs`). Each model follows Surprise's update rules and its training
//! order (users by first appearance, each user's ratings in row order); predictions for unknown
//! users or items fall back as Surprise's do, and every prediction is clipped to the rating scale.

mod bias;
mod nmf;
mod svd;
mod svdpp;
mod trainset;

pub use bias::{BaselineOnly, BaselineOnlyParams};
pub use nmf::{Nmf, NmfParams};
pub use svd::{Svd, SvdParams};
pub use svdpp::{SvdPp, SvdPpParams};
pub use trainset::TrainSet;

use crate::data::Ratings;
use lrmm_core::Split;

/// A fitted model: Surprise's `estimate` on inner ids (`None` = unknown user or item), `None`
/// result = prediction impossible, answered by the global mean.
pub trait Estimator: Send + Sync {
    fn estimate(&self, user: Option<usize>, item: Option<usize>) -> Option<f64>;
}

/// The baselines of the paper's Table 2, by their `metrics.json` key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum BaselineKind {
    /// Global mean of the training ratings (the paper's Offset).
    Offset,
    /// User and item biases fitted by ALS (Surprise `BaselineOnly`).
    Bias,
    /// Biased matrix factorisation by SGD (Surprise `SVD`).
    Svd,
    /// SVD++ (Surprise `SVDpp`).
    SvdPp,
    /// Non-negative matrix factorisation (Surprise `NMF`).
    Nmf,
}

impl BaselineKind {
    pub const ALL: [BaselineKind; 5] = [
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
            BaselineKind::Svd => "svd",
            BaselineKind::SvdPp => "svdpp",
            BaselineKind::Nmf => "nmf",
        }
    }

    pub fn title(self) -> &'static str {
        match self {
            BaselineKind::Offset => "Offset",
            BaselineKind::Bias => "Biases",
            BaselineKind::Svd => "SVD",
            BaselineKind::SvdPp => "SVD++",
            BaselineKind::Nmf => "NMF",
        }
    }

    pub fn parse(key: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.key() == key)
    }

    /// Fits with Surprise's default parameters; `seed` drives the random initial factors.
    pub fn fit(self, train: &TrainSet, seed: u64) -> Box<dyn Estimator> {
        match self {
            BaselineKind::Offset => Box::new(GlobalMean),
            BaselineKind::Bias => {
                Box::new(BaselineOnly::fit(train, &BaselineOnlyParams::default()))
            }
            BaselineKind::Svd => Box::new(Svd::fit(train, &SvdParams::default(), seed)),
            BaselineKind::SvdPp => Box::new(SvdPp::fit(train, &SvdPpParams::default(), seed)),
            BaselineKind::Nmf => Box::new(Nmf::fit(train, &NmfParams::default(), seed)),
        }
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
            let est = model
                .estimate(train.inner_user(u), train.inner_item(i))
                .unwrap_or(train.global_mean);
            (est as f32).clamp(scale.0, scale.1)
        })
        .collect()
}

/// Fits `kind` on the training split of `ratings` and predicts `rows`.
pub fn fit_predict(
    kind: BaselineKind,
    ratings: &Ratings,
    rows: &[usize],
    seed: u64,
    scale: (f32, f32),
) -> Vec<f32> {
    let train = TrainSet::from_ratings(ratings, Split::Train);
    let model = kind.fit(&train, seed);
    predict(model.as_ref(), &train, ratings, rows, scale)
}
