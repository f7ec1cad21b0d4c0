//! Shared foundations of the lrmm pipeline.
//!
//! Stages talk only through artifacts on disk. This crate names those artifacts
//! ([`paths`]), states their columns ([`schema`]), writes them so that a crash never leaves a
//! half-written file behind ([`atomic`]), and provides the one seeded random number generator
//! every stage uses ([`rng`]), so the same inputs and seed give the same bytes.

pub mod atomic;
pub mod baseline;
pub mod error;
pub mod linalg;
pub mod logging;
pub mod metrics;
pub mod parquet;
pub mod paths;
pub mod rng;
pub mod schema;

pub use error::{Error, Result};
pub use paths::{shared_data_dir, shared_data_file, ArtifactDir};
pub use rng::SeededRng;
pub use schema::Split;
