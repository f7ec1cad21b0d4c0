//! `lrmm-vocab`: the vocabulary stage. Reads `reviews.parquet` and `items.parquet` from an
//! artifact folder and writes `tokenizer.json`, `review_tokens.parquet`, `item_tokens.parquet`
//! and `vocab_stats.json` next to them.

use std::path::PathBuf;

use anyhow::Context;
use clap::Parser;
use lrmm_core::ArtifactDir;
use lrmm_vocab::{MetadataScope, VocabOptions, VocabRule};

/// Build a word-level vocabulary on the training split's reviews and the metadata documents,
/// and encode every review and metadata document to token ids.
#[derive(Parser, Debug)]
#[command(name = "lrmm-vocab", version)]
struct Args {
    /// Artifact folder of the dataset (e.g. build/default): read reviews.parquet and
    /// items.parquet from it, write tokenizer.json, review_tokens.parquet, item_tokens.parquet
    /// and vocab_stats.json into it.
    #[arg(long)]
    data: PathBuf,
    /// Keep words that occur at least this many times in the training text (paper: 20).
    #[arg(long, default_value_t = 20)]
    min_freq: u64,
    /// Largest vocabulary size, [PAD] and [UNK] included; the most frequent words are kept.
    #[arg(long)]
    max_size: Option<usize>,
    /// Whose metadata documents are counted into the vocabulary.
    #[arg(long, value_enum, default_value_t = MetadataScope::TrainItems)]
    metadata_scope: MetadataScope,
    /// Encode with this existing lrmm tokenizer.json (e.g. build/<source>/tokenizer.json, for
    /// cross-domain evaluation) instead of building a vocabulary: it is copied to the data
    /// folder's tokenizer.json and --min-freq/--max-size are not used; --metadata-scope picks
    /// the training text whose coverage vocab_stats.json reports.
    #[arg(long, value_name = "PATH", conflicts_with = "max_size")]
    tokenizer: Option<PathBuf>,
}

fn main() -> anyhow::Result<()> {
    lrmm_core::logging::init();
    let args = Args::parse();
    let options = VocabOptions {
        rule: VocabRule {
            min_freq: args.min_freq,
            max_size: args.max_size,
        },
        metadata_scope: args.metadata_scope,
    };
    let dir = ArtifactDir::new(&args.data);
    let stats = match &args.tokenizer {
        Some(tokenizer) => lrmm_vocab::run_with_tokenizer(&dir, tokenizer, args.metadata_scope),
        None => lrmm_vocab::run(&dir, &options),
    }
    .with_context(|| format!("vocabulary stage on {}", args.data.display()))?;
    tracing::info!(
        "vocabulary: {} ids, coverage {:.2}% of {} training tokens; review length p50/p90/p99 = {}/{}/{}; metadata length p50/p90/p99 = {}/{}/{} ({} of {} items without metadata)",
        stats.vocab_size,
        100.0 * stats.coverage,
        stats.training_tokens,
        stats.review_length.p50,
        stats.review_length.p90,
        stats.review_length.p99,
        stats.metadata_length.p50,
        stats.metadata_length.p90,
        stats.metadata_length.p99,
        stats.items_without_metadata,
        stats.items,
    );
    Ok(())
}
