use std::path::PathBuf;

/// Everything that stops a prediction run. Record-level variants carry the file and the 1-based
/// line; a missing modality (no reviews, no metadata, no or a corrupt image) is never an error.
#[derive(Debug, thiserror::Error)]
pub enum PredictError {
    #[error("{path}:{line}: {message}")]
    BadLine {
        path: PathBuf,
        line: u64,
        message: String,
    },
    #[error("{path}: {message}")]
    Input { path: PathBuf, message: String },
    /// The dataset folder or an input is not what the model was trained with.
    #[error("{path}: {message}")]
    Mismatch { path: PathBuf, message: String },
    #[error(transparent)]
    Ingest(#[from] lrmm_ingest::IngestError),
    #[error(transparent)]
    Vocab(#[from] lrmm_vocab::VocabError),
    #[error(transparent)]
    Images(#[from] lrmm_images::Error),
    #[error(transparent)]
    Model(#[from] lrmm_model::ModelError),
    #[error(transparent)]
    Artifact(#[from] lrmm_core::Error),
    #[error("{0}")]
    Invalid(String),
}

pub type Result<T, E = PredictError> = std::result::Result<T, E>;

impl PredictError {
    pub(crate) fn input(path: impl Into<PathBuf>, message: impl Into<String>) -> Self {
        PredictError::Input {
            path: path.into(),
            message: message.into(),
        }
    }

    pub(crate) fn mismatch(path: impl Into<PathBuf>, message: impl Into<String>) -> Self {
        PredictError::Mismatch {
            path: path.into(),
            message: message.into(),
        }
    }
}
