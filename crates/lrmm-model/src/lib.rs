//! LRMM (Wang, Niepert, Li, EMNLP 2018) on candle: three LSTM text encoders and an image
//! projection, modality dropout (m-drop), per-modality sparse autoencoders that impute missing
//! modalities (m-auto), a shared layer and a scoring function; its training loop and the
//! inference API the evaluation stage calls. `docs/model.md` maps every equation to code.
//!
//! Layout follows burn's guide: [`data`] (documents and batches), [`model`] (modules),
//! [`lstm`], [`optim`] (ADADELTA, AdamW), [`training`], [`inference`], [`config`].

pub mod config;
pub mod data;
pub mod inference;
pub mod init;
pub mod lstm;
pub mod model;
pub mod optim;
pub mod synthetic;
pub mod training;

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

pub use config::Config;

/// The four modalities, in the order used by every tensor and mask.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Modality {
    /// The user's review history (U).
    User,
    /// The item's review history (O).
    Item,
    /// The item's metadata text, title + description (M).
    Meta,
    /// The item's image feature (V).
    Image,
}

impl Modality {
    pub const ALL: [Modality; 4] = [
        Modality::User,
        Modality::Item,
        Modality::Meta,
        Modality::Image,
    ];

    /// Position in masks and concatenations.
    pub fn index(self) -> usize {
        self as usize
    }

    /// Short name, used in weight names and logs.
    pub fn name(self) -> &'static str {
        match self {
            Modality::User => "user",
            Modality::Item => "item",
            Modality::Meta => "meta",
            Modality::Image => "image",
        }
    }
}

/// Errors of the model library. Every variant names the file or the value at fault.
#[derive(Debug, thiserror::Error)]
pub enum ModelError {
    #[error(transparent)]
    Artifact(#[from] lrmm_core::Error),
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{path}: invalid config: {message}")]
    Config { path: PathBuf, message: String },
    #[error("{path}: {message}")]
    BadArtifact { path: PathBuf, message: String },
    #[error("tensor computation failed: {0}")]
    Candle(#[from] candle_core::Error),
    #[error("training diverged: {0}")]
    NonFinite(String),
    #[error("stopped after epoch {0} as asked; rerun to resume from the checkpoint")]
    Interrupted(usize),
    #[error("{0}")]
    Invalid(String),
}

pub type Result<T, E = ModelError> = std::result::Result<T, E>;

impl ModelError {
    pub(crate) fn bad(path: impl Into<PathBuf>, message: impl Into<String>) -> Self {
        ModelError::BadArtifact {
            path: path.into(),
            message: message.into(),
        }
    }
}
