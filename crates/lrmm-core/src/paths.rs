//! Where each artifact of a dataset lives. One folder per dataset (`build/<NAME>/`), flat, so a
//! Makefile rule and a Python notebook can name every file without lrmm.

use std::path::{Path, PathBuf};

/// The artifact folder of one dataset, e.g. `build/default/`.
#[derive(Debug, Clone)]
pub struct ArtifactDir {
    root: PathBuf,
}

macro_rules! artifacts {
    ($($(#[$doc:meta])* $fn_name:ident => $file:literal),* $(,)?) => {
        impl ArtifactDir {
            $($(#[$doc])* pub fn $fn_name(&self) -> PathBuf { self.root.join($file) })*
        }
        /// Every artifact's file name, in pipeline order.
        pub const ARTIFACT_FILES: &[&str] = &[$($file),*];
    };
}

artifacts! {
    /// One row per (user, item) rating with its split (ingestion).
    interactions => "interactions.parquet",
    /// Dense user ids and the original reviewerID (ingestion).
    users => "users.parquet",
    /// Dense item ids, asin and metadata text (ingestion).
    items => "items.parquet",
    /// Review text, row-aligned with `interactions.parquet` (ingestion).
    reviews => "reviews.parquet",
    /// Counts printed by ingestion, as JSON.
    ingest_summary => "ingest_summary.json",
    /// Word-level vocabulary, loadable by Python `tokenizers` (vocab stage).
    tokenizer => "tokenizer.json",
    /// Token ids of every review, row-aligned with `reviews.parquet` (vocab stage).
    review_tokens => "review_tokens.parquet",
    /// Token ids of every item's metadata document (vocab stage).
    item_tokens => "item_tokens.parquet",
    /// Vocabulary size, coverage and length percentiles (vocab stage).
    vocab_stats => "vocab_stats.json",
    /// 4096-d CNN features per item (image stage).
    image_features => "image_features.safetensors",
    /// Per-item image status: ok / missing / corrupt (image stage).
    image_status => "image_status.parquet",
}

impl ArtifactDir {
    pub fn new(root: impl Into<PathBuf>) -> Self {
        Self { root: root.into() }
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    pub fn create(&self) -> crate::Result<()> {
        std::fs::create_dir_all(&self.root).map_err(|e| crate::Error::io(&self.root, e))
    }
}
