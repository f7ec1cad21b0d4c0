use std::path::PathBuf;

/// Errors of the shared artifact layer. Every variant names the file it is about.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{path}: cannot read Parquet: {message}")]
    ParquetRead { path: PathBuf, message: String },
    #[error("{path}: cannot write Parquet: {message}")]
    ParquetWrite { path: PathBuf, message: String },
    #[error("{path}: missing column `{column}` (expected {expected}); was it written by an older lrmm stage?")]
    MissingColumn {
        path: PathBuf,
        column: String,
        expected: String,
    },
    #[error("{path}: column `{column}` has type {found}, expected {expected}")]
    WrongColumnType {
        path: PathBuf,
        column: String,
        found: String,
        expected: String,
    },
    #[error("{path}: {message}")]
    Json { path: PathBuf, message: String },
    #[error("{path}: row {row}: `{column}` is null")]
    NullValue {
        path: PathBuf,
        column: String,
        row: usize,
    },
    /// A value in an artifact that its contract forbids (a non-finite rating, an unknown split).
    #[error("{path}: {message}")]
    Invalid { path: PathBuf, message: String },
    /// A bad environment variable or command-line setting (e.g. `RUST_LOG`).
    #[error("{0}")]
    Setting(String),
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    pub fn invalid(path: impl Into<PathBuf>, message: impl Into<String>) -> Self {
        Self::Invalid {
            path: path.into(),
            message: message.into(),
        }
    }

    pub fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Self::Io {
            path: path.into(),
            source,
        }
    }
}
