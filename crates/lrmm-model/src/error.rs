//! The error type of the model library. Every variant names the file or the value at fault.

use std::path::PathBuf;

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

    /// An I/O failure on `path`.
    pub(crate) fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        ModelError::Io {
            path: path.into(),
            source,
        }
    }
}
