use std::path::PathBuf;

use anyhow::Context;
use clap::{Parser, ValueEnum};
use lrmm_core::cli::Verbosity;
use lrmm_ingest::{ingest, IngestOptions, SplitFractions, SplitMode};

/// Ingest Amazon review (and metadata) files into lrmm's Parquet artifacts.
///
/// Reads 2014 (`reviews_<Cat>[_5].json[.gz]`, `meta_<Cat>.json[.gz]` as Python literals) and 2018
/// (`<Cat>[_5].json[.gz]`, `meta_<Cat>.json[.gz]` as JSON) files, keeps one review per
/// (user, item) pair (the most recent), assigns dense ids and a seeded train/valid/test split,
/// and writes interactions.parquet, users.parquet, items.parquet, reviews.parquet and
/// ingest_summary.json into --out. A bad line stops the run with its file and line number
/// unless --skip-bad-lines is given; nothing is written on failure.
///
/// Examples:
///
///   lrmm-ingest --reviews reviews_Musical_Instruments_5.json.gz \
///     --meta meta_Musical_Instruments.json.gz --out build/mi --seed 1
///   lrmm-ingest --reviews Gift_Cards_5.json.gz --out build/gift --k-core 5 --split-mode cold-items
#[derive(Parser, Debug)]
#[command(verbatim_doc_comment)]
struct Args {
    /// Review file read (JSON lines, plain or gzip).
    #[arg(long, value_name = "PATH")]
    reviews: PathBuf,
    /// Metadata file read (2014 Python-literal or 2018 JSON lines, plain or gzip).
    #[arg(long, value_name = "PATH")]
    meta: Option<PathBuf>,
    /// Folder written: the artifacts go here (e.g. build/<NAME>).
    #[arg(long, value_name = "DIR")]
    out: PathBuf,
    /// Seed of every random choice (split, user sample).
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Share of interactions in the training split.
    #[arg(long, default_value_t = 0.8)]
    train: f64,
    /// Share of interactions in the validation split.
    #[arg(long, default_value_t = 0.1)]
    valid: f64,
    /// Share of interactions in the test split.
    #[arg(long, default_value_t = 0.1)]
    test: f64,
    /// How interactions are split.
    #[arg(long, value_enum, default_value_t = Mode::Random)]
    split_mode: Mode,
    /// With --split-mode cold-items: share of items whose interactions all go to valid/test.
    #[arg(long, default_value_t = 0.1)]
    cold_items: f64,
    /// Keep only users and items with at least K reviews, applied until stable.
    #[arg(long, value_name = "K")]
    k_core: Option<usize>,
    /// Keep every review of N users drawn at random (for smoke runs on a real category).
    #[arg(long, value_name = "N")]
    sample_users: Option<usize>,
    /// Read only the first N lines of the review file (for smoke runs).
    #[arg(long, value_name = "N")]
    head: Option<u64>,
    /// Keep at most N training reviews of each item that has test ratings, chosen at random by
    /// --seed; the others are dropped, valid/test are unchanged and items without test ratings
    /// keep all theirs (item cold start: N = 5, 1, 0 in the paper's Fig. 4).
    #[arg(long, value_name = "N")]
    max_train_per_item: Option<usize>,
    /// Count, report and skip malformed lines instead of stopping at the first one.
    #[arg(long)]
    skip_bad_lines: bool,
    #[command(flatten)]
    verbosity: Verbosity,
}

#[derive(Clone, Copy, Debug, ValueEnum)]
enum Mode {
    /// Interactions at random by the fractions (the paper's split).
    Random,
    /// Item cold start: --cold-items of the items appear only in valid/test.
    ColdItems,
}

fn main() -> anyhow::Result<()> {
    let args: Args = lrmm_core::cli::parse(&lrmm_core::build_info!());
    lrmm_core::logging::init(&args.verbosity)?;
    tracing::info!("{args:?}");
    let options = IngestOptions {
        reviews: args.reviews,
        meta: args.meta,
        out: args.out,
        seed: args.seed,
        fractions: SplitFractions {
            train: args.train,
            valid: args.valid,
            test: args.test,
        },
        mode: match args.split_mode {
            Mode::Random => SplitMode::Random,
            Mode::ColdItems => SplitMode::ColdItems {
                fraction: args.cold_items,
            },
        },
        k_core: args.k_core,
        sample_users: args.sample_users,
        head: args.head,
        max_train_per_item: args.max_train_per_item,
        skip_bad_lines: args.skip_bad_lines,
    };
    ingest(&options).context("ingestion failed")?;
    Ok(())
}
