use std::path::PathBuf;

/// Errors of the image stage. Every variant names the file it is about; a bad *image* is not an
/// error (it becomes a `corrupt` status row), only bad weights, tables and feature files are.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Core(#[from] lrmm_core::Error),
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{path}: not a safetensors file: {message}")]
    SafetensorsHeader { path: PathBuf, message: String },
    #[error("{path}: weights do not fit {model}:\n  {}{hint}", problems.join("\n  "))]
    Weights {
        path: PathBuf,
        model: String,
        problems: Vec<String>,
        hint: String,
    },
    #[error("{path}: {message}")]
    BadTable { path: PathBuf, message: String },
    #[error("{path}: record {record} (byte {offset}): {message}")]
    BadRecord {
        path: PathBuf,
        record: u64,
        offset: u64,
        message: String,
    },
    #[error("{0}")]
    Config(String),
    #[error("candle: {0}")]
    Candle(#[from] candle_core::Error),
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    pub fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Self::Io {
            path: path.into(),
            source,
        }
    }
}
