//! Evaluation stage of lrmm: error and ranking metrics ([`metrics`], and the leave-one-out
//! HR@K/NDCG@K protocol of [`ranking`]), the paper's rating-only
//! baselines re-implemented after Surprise and a TF-IDF content baseline over the item texts
//! ([`baselines`], [`text`]), the evaluation of a trained LRMM
//! model with each modality removed on the test subsets of the paper ([`evaluate`]), its
//! artifacts ([`output`]), and the Markdown tables ([`report`]) and PNG figures ([`plots`])
//! built from `metrics.json` for the report and the experiments.

pub mod baselines;
pub mod data;
pub mod evaluate;
#[cfg(feature = "lrmm")]
pub mod lrmm;
pub mod metrics;
pub mod output;
pub mod plots;
pub mod ranking;
pub mod report;
pub mod text;
pub mod tsne;
