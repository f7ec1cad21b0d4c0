//! LRMM (Wang, Niepert, Li, EMNLP 2018) on candle: three LSTM text encoders and an image
//! projection, modality dropout (m-drop), per-modality sparse autoencoders that impute missing
//! modalities (m-auto), a shared layer and a scoring function; its training loop and the
//! inference API the evaluation stage calls. `docs/model.md` maps every equation to code.
//!
//! Modules, each depending only on those listed before it (no module imports one that imports
//! it back):
//!
//! | module | holds | uses |
//! |---|---|---|
//! | [`error`] | [`ModelError`], [`Result`] | — |
//! | [`per_text`] | [`per_text::PerText`], a value per text modality | — |
//! | [`lstm`] | the LSTM recurrence (stepwise and fused) | — |
//! | [`init`] | parameter names, seeded initialisation, safetensors I/O | error |
//! | [`config`] | the TOML experiment config | lstm, error |
//! | [`optim`] | ADADELTA, AdamW | config, init, error |
//! | [`data`] | datasets, documents, batches, the batch thread | config, per_text, error |
//! | [`model`] | the network's modules, forward pass and loss | config, data, init, lstm, per_text, error |
//! | [`saved`] | the saved-model format (`config.json`, file names, input hashes) | config, model, error |
//! | [`predict`] | batch prediction in evaluation mode | config, data, lstm, model, error |
//! | [`training`] | the training stage | config, data, model, optim, predict, saved, init, error |
//! | [`inference`] | [`inference::Predictor`], the evaluation stage's API | data, init, model, predict, saved, error |
//! | [`device`] | a command line's device as a candle `Device` | error |
//!
//! The modalities are [`lrmm_core::Modality`] (re-exported here as [`Modality`]); test helpers
//! (synthetic artifacts) live in the dev-only `lrmm-testing` crate.

pub mod config;
pub mod data;
pub mod device;
pub mod error;
pub mod inference;
pub mod init;
pub mod lstm;
pub mod model;
pub mod optim;
pub mod per_text;
pub mod predict;
pub mod saved;
pub mod training;

pub use config::Config;
pub use error::{ModelError, Result};
pub use lrmm_core::{Modality, PerModality};
