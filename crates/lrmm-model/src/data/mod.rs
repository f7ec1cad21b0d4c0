//! Samples and batches: reads the ingestion, vocabulary and image artifacts once, then assembles
//! each sample's four inputs on demand.
//!
//! A sample is one row r of `interactions.parquet`:
//! * U — the user's document: the user's *training* reviews except row r itself (unless
//!   `leak_target`), in the configured order (default newest first), concatenated, first L tokens;
//! * O — the item's document, likewise from the item's training reviews;
//! * M — the first L tokens of the item's metadata document;
//! * V — the item's image feature.
//!
//! A modality with no tokens or no image row is *missing*: it is masked exactly like an m-dropped
//! one. Batches are built on a separate thread ([`spawn_batches`]) while the model trains.
//!
//! The modules, each depending only on those above it:
//! * `artifacts` — readers of token lists and the tokenizer's vocabulary size;
//! * `history` — each user's and item's training rows in document order;
//! * `dataset` — [`Dataset`]: every artifact in memory, cross-checked;
//! * `documents` — a sample's U, O, M documents;
//! * `extend` — [`Extension`]: a dataset grown in memory by new users, items and rows (prediction);
//! * `stats` — training-split statistics (mean rating, baselines, image standardisation);
//! * `noise` — m-drop and dropout draws ([`TrainNoise`]);
//! * `batch` — [`Batch`], [`assemble`], [`DeviceBatch`];
//! * `loader` — [`spawn_batches`], the batch worker thread.

mod artifacts;
mod batch;
mod dataset;
mod documents;
mod extend;
mod history;
mod loader;
mod noise;
mod stats;

pub use artifacts::vocab_size;
pub use batch::{assemble, Batch, DeviceBatch, PaddedDocuments, MODALITY_SLOTS};
pub use dataset::Dataset;
pub use extend::{Extension, NewRow};
pub use history::Histories;
pub use loader::spawn_batches;
pub use noise::{DropoutMasks, TrainNoise};
