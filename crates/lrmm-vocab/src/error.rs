use std::path::PathBuf;

/// Errors of the vocabulary stage. Input errors name the file, and the column or row.
#[derive(Debug, thiserror::Error)]
pub enum VocabError {
    #[error(transparent)]
    Artifact(#[from] lrmm_core::Error),
    #[error("{path}: column `{column}`: {message}")]
    BadColumn {
        path: PathBuf,
        column: String,
        message: String,
    },
    #[error(
        "{path}: row {row}: column `split` is {value:?}, expected \"train\", \"valid\" or \"test\""
    )]
    BadSplit {
        path: PathBuf,
        row: usize,
        value: String,
    },
    #[error("{path}: the training split is empty (no row with split = \"train\"); a vocabulary needs training reviews")]
    EmptyTrainingSplit { path: PathBuf },
    #[error(
        "no word occurs at least {min_freq} times in the training text ({distinct} distinct words); lower --min-freq"
    )]
    NoWordAboveMinFreq { min_freq: u64, distinct: usize },
    #[error("{path}: cannot use it as the vocabulary (--tokenizer): {message}")]
    SourceTokenizer { path: PathBuf, message: String },
    #[error("invalid option: {0}")]
    InvalidOption(String),
    #[error("tokenizers: {0}")]
    Tokenizer(String),
    #[error("{path}: {message}")]
    Frame { path: PathBuf, message: String },
}

impl VocabError {
    pub(crate) fn tokenizer(e: impl std::fmt::Display) -> Self {
        Self::Tokenizer(e.to_string())
    }
}

pub type Result<T, E = VocabError> = std::result::Result<T, E>;
