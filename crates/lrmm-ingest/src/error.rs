use std::path::PathBuf;

/// Everything that can stop an ingestion run. Record-level variants carry the file and the
/// 1-based line so a user can open the file at the right place.
#[derive(Debug, thiserror::Error)]
pub enum IngestError {
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// The temporary file review texts are spilled to while a run reads them (unnamed, so the
    /// folder holding it is named).
    #[error("{dir}: temporary file of review texts: {source}")]
    Spill {
        dir: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{path}:{line}: {message}")]
    BadRecord {
        path: PathBuf,
        line: u64,
        message: String,
    },
    #[error("{path}: corrupt compressed data after line {line}: {message}")]
    Decompress {
        path: PathBuf,
        line: u64,
        message: String,
    },
    #[error("{path}: the file holds no records")]
    Empty { path: PathBuf },
    #[error("{0}")]
    Invalid(String),
    #[error("building the {table} table: {message}")]
    Table {
        table: &'static str,
        message: String,
    },
    #[error(transparent)]
    Artifact(#[from] lrmm_core::Error),
}

pub type Result<T, E = IngestError> = std::result::Result<T, E>;

impl IngestError {
    pub(crate) fn table(table: &'static str) -> impl FnOnce(polars::prelude::PolarsError) -> Self {
        move |e| IngestError::Table {
            table,
            message: e.to_string(),
        }
    }
}
