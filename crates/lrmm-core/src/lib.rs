//! The contracts between lrmm's stages, and the small mechanics more than one stage needs.
//!
//! Stages talk only through artifacts on disk. This crate is where those artifacts are
//! specified, so that a writer and its readers cannot drift apart:
//!
//! - **Contracts.** The artifact file names ([`paths`]), the Parquet columns ([`schema`]), the one
//!   reader of `interactions.parquet` ([`interactions`]), the one reader and writer of
//!   `image_features.safetensors` ([`image_features`]), the four modalities ([`modality`]) and the
//!   command-line conventions every binary follows ([`cli`], [`logging`]).
//! - **Shared mechanics.** Atomic writes ([`atomic`]) and typed Parquet access ([`parquet`]), the
//!   one seeded random number generator ([`rng`]) so the same inputs and seed give the same bytes,
//!   the error metrics of eqs. 23–24 ([`metrics`]) that early stopping and evaluation share, the
//!   baseline estimates ([`baseline`]) that the model's offsets and the Biases baseline share, and
//!   the one direct matrix-multiply call ([`linalg`]) of the VGG and the LSTM, and the allocator
//!   setting every binary starts with ([`memory`]). Those two modules hold the workspace's only
//!   `unsafe` blocks.
//!
//! What does not belong here: anything only one stage uses (it lives in that stage's crate),
//! anything that needs candle, polars' lazy engine or a tokenizer (the stage crates bring those),
//! and test helpers (`lrmm-testing`, a dev-dependency). Nothing here depends on another lrmm crate.

pub mod atomic;
pub mod baseline;
pub mod cli;
pub mod error;
pub mod image_features;
pub mod interactions;
pub mod linalg;
pub mod logging;
pub mod memory;
pub mod metrics;
pub mod modality;
pub mod parquet;
pub mod paths;
pub mod rng;
pub mod schema;

pub use error::{Error, Result};
pub use modality::{Modality, PerModality};
pub use paths::ArtifactDir;
pub use rng::SeededRng;
pub use schema::Split;
