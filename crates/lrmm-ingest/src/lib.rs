//! Ingestion: Amazon review and metadata files (2014 and 2018 releases, plain or gzip) into
//! lrmm's Parquet artifacts — interactions with their split, users, items with metadata, and
//! review texts. See `docs/artifacts.md` for the schemas.

pub mod error;
pub mod filter;
pub mod lines;
pub mod meta;
pub mod pyliteral;
pub mod read;
pub mod review;
pub mod spill;
pub mod split;
mod tables;
pub mod texts;

#[cfg(test)]
mod same_bytes_tests;

use std::path::{Path, PathBuf};

use lrmm_core::{ArtifactDir, Split};
use serde::Serialize;
use tracing::info;

pub use error::{IngestError, Result};
pub use split::{SplitFractions, SplitMode};

use crate::read::{read_meta, read_reviews_into, ReadPolicy, Skipped};
use crate::spill::SpilledTexts;
use crate::texts::TextStore;

/// Everything an ingestion run takes. `IngestOptions::new` gives the defaults of the CLI.
#[derive(Debug, Clone)]
pub struct IngestOptions {
    pub reviews: PathBuf,
    pub meta: Option<PathBuf>,
    pub out: PathBuf,
    pub seed: u64,
    pub fractions: SplitFractions,
    pub mode: SplitMode,
    /// Keep only users and items with at least this many reviews (iteratively).
    pub k_core: Option<usize>,
    /// Keep every review of this many users drawn at random (smoke runs).
    pub sample_users: Option<usize>,
    /// Read only the first N lines of the review file (smoke runs).
    pub head: Option<u64>,
    /// Keep at most N training reviews of each item with test ratings (item cold start, Fig. 4).
    pub max_train_per_item: Option<usize>,
    pub skip_bad_lines: bool,
}

impl IngestOptions {
    pub fn new(reviews: impl Into<PathBuf>, out: impl Into<PathBuf>) -> Self {
        Self {
            reviews: reviews.into(),
            meta: None,
            out: out.into(),
            seed: 1,
            fractions: SplitFractions::default(),
            mode: SplitMode::Random,
            k_core: None,
            sample_users: None,
            head: None,
            max_train_per_item: None,
            skip_bad_lines: false,
        }
    }
}

/// Counts of a run, printed and written to `ingest_summary.json`.
#[derive(Debug, Clone, Serialize)]
pub struct IngestSummary {
    pub reviews_file: PathBuf,
    pub meta_file: Option<PathBuf>,
    pub seed: u64,
    pub fractions: SplitFractions,
    pub split_mode: SplitMode,
    pub review_lines: u64,
    pub review_lines_skipped: Skipped,
    pub duplicate_pairs_dropped: usize,
    pub removed_by_sample_or_k_core: usize,
    /// Training reviews dropped by `--max-train-per-item`.
    pub train_reviews_dropped_by_cap: usize,
    pub interactions: usize,
    pub users: usize,
    pub items: usize,
    pub train: usize,
    pub valid: usize,
    pub test: usize,
    pub items_with_meta: usize,
    pub items_with_image_url: usize,
    pub meta_lines: u64,
    pub meta_duplicate_lines: u64,
    pub meta_lines_skipped: Skipped,
}

/// Where a run keeps the review texts between reading and writing them.
#[derive(Debug, Clone, Copy)]
enum TextStorage {
    /// In a temporary file in the staging folder: memory does not grow with the text.
    SpillFile,
    /// In memory, as before the spill file: kept to check that both write the same bytes.
    #[cfg(test)]
    InMemory,
}

/// Runs ingestion. Artifacts are written to a staging folder and moved into `out` only once
/// all of them are complete, so a failed run leaves nothing behind (at most an empty `out`).
pub fn ingest(opts: &IngestOptions) -> Result<IngestSummary> {
    ingest_with(opts, TextStorage::SpillFile)
}

fn ingest_with(opts: &IngestOptions, storage: TextStorage) -> Result<IngestSummary> {
    opts.fractions.validate().map_err(IngestError::Invalid)?;
    if let SplitMode::ColdItems { fraction } = opts.mode {
        if !(0.0..1.0).contains(&fraction) {
            return Err(IngestError::Invalid(format!(
                "cold item fraction must be in [0, 1), got {fraction}"
            )));
        }
    }
    // The staging folder exists from the start: the review texts are spilled into it while
    // the file is read. Dropping it (on any error) removes whatever was written there.
    let artifacts = ArtifactDir::new(&opts.out);
    artifacts.create()?;
    let staging = tempfile::Builder::new()
        .prefix(".ingest-staging-")
        .tempdir_in(&opts.out)
        .map_err(|e| IngestError::Io {
            path: opts.out.clone(),
            source: e,
        })?;
    let summary = match storage {
        TextStorage::SpillFile => ingest_into(
            opts,
            SpilledTexts::create_in(staging.path())?,
            staging.path(),
        )?,
        #[cfg(test)]
        TextStorage::InMemory => ingest_into(opts, read::TextArena::default(), staging.path())?,
    };
    for name in tables::WRITTEN {
        let from = staging.path().join(name);
        let to = opts.out.join(name);
        std::fs::rename(&from, &to).map_err(|e| IngestError::Io {
            path: to,
            source: e,
        })?;
    }
    log_summary(&summary);
    Ok(summary)
}

/// Reads, filters and splits, and writes every artifact into `staging`, with the review texts
/// kept in `texts` meanwhile.
fn ingest_into<T: TextStore + Send>(
    opts: &IngestOptions,
    texts: T,
    staging: &Path,
) -> Result<IngestSummary> {
    let policy = ReadPolicy {
        skip_bad_lines: opts.skip_bad_lines,
        head: opts.head,
    };

    info!(file = %opts.reviews.display(), "reading reviews");
    let started = std::time::Instant::now();
    let (table, skipped, review_lines) = read_reviews_into(&opts.reviews, policy, texts)?;
    info!(
        lines = review_lines,
        seconds = started.elapsed().as_secs_f32(),
        "read reviews"
    );
    let (mut rows, duplicates) = filter::dedup_latest(&table);
    let deduped = rows.len();
    if let Some(n) = opts.sample_users {
        rows = filter::sample_users(&table, &rows, n, opts.seed);
    }
    if let Some(k) = opts.k_core {
        rows = filter::k_core(&table, rows, k);
    }
    let deduped_and_filtered = rows.len();
    if rows.is_empty() {
        return Err(IngestError::Invalid(format!(
            "{}: no interaction is left after deduplication/sampling/k-core",
            opts.reviews.display()
        )));
    }

    let meta = match &opts.meta {
        Some(path) => {
            info!(file = %path.display(), "reading metadata");
            let mut wanted = vec![false; table.items.len()];
            for &r in &rows {
                wanted[table.item[r] as usize] = true;
            }
            let by_asin: std::collections::HashMap<&str, u32> = table
                .items
                .names
                .iter()
                .enumerate()
                .map(|(i, n)| (n.as_str(), i as u32))
                .collect();
            let is_wanted = |asin: &str| by_asin.get(asin).is_some_and(|&i| wanted[i as usize]);
            Some(read_meta(
                path,
                &is_wanted,
                ReadPolicy {
                    head: None,
                    ..policy
                },
            )?)
        }
        None => None,
    };

    let dataset = tables::Dataset::build(
        &table,
        rows,
        opts.fractions,
        opts.mode,
        opts.seed,
        opts.max_train_per_item,
    );
    let capped = deduped_and_filtered - dataset.rows.len();
    let staged = ArtifactDir::new(staging);
    let started = std::time::Instant::now();
    let meta_counts = dataset.write(&table, meta.as_ref(), &staged)?;
    info!(seconds = started.elapsed().as_secs_f32(), "wrote artifacts");

    let count = |s: Split| dataset.splits.iter().filter(|x| **x == s).count();
    let summary = IngestSummary {
        reviews_file: opts.reviews.clone(),
        meta_file: opts.meta.clone(),
        seed: opts.seed,
        fractions: opts.fractions,
        split_mode: opts.mode,
        review_lines,
        review_lines_skipped: skipped,
        duplicate_pairs_dropped: duplicates,
        removed_by_sample_or_k_core: deduped - deduped_and_filtered,
        train_reviews_dropped_by_cap: capped,
        interactions: dataset.rows.len(),
        users: dataset.n_users,
        items: dataset.n_items,
        train: count(Split::Train),
        valid: count(Split::Valid),
        test: count(Split::Test),
        items_with_meta: meta_counts.with_meta,
        items_with_image_url: meta_counts.with_image_url,
        meta_lines: meta.as_ref().map_or(0, |m| m.lines),
        meta_duplicate_lines: meta.as_ref().map_or(0, |m| m.duplicates),
        meta_lines_skipped: meta.map(|m| m.skipped).unwrap_or_default(),
    };
    lrmm_core::atomic::write_json(&staged.ingest_summary(), &summary)?;
    Ok(summary)
}

fn log_summary(s: &IngestSummary) {
    info!(
        interactions = s.interactions,
        users = s.users,
        items = s.items,
        train = s.train,
        valid = s.valid,
        test = s.test,
        "ingested"
    );
    info!(
        items_with_meta = s.items_with_meta,
        items_with_image_url = s.items_with_image_url,
        meta_lines = s.meta_lines,
        meta_duplicate_lines = s.meta_duplicate_lines,
        "metadata"
    );
    info!(
        review_lines = s.review_lines,
        skipped_review_lines = s.review_lines_skipped.count,
        skipped_meta_lines = s.meta_lines_skipped.count,
        duplicate_pairs_dropped = s.duplicate_pairs_dropped,
        removed_by_sample_or_k_core = s.removed_by_sample_or_k_core,
        "input"
    );
    for example in s
        .review_lines_skipped
        .examples
        .iter()
        .chain(&s.meta_lines_skipped.examples)
    {
        tracing::warn!("skipped {example}");
    }
}
