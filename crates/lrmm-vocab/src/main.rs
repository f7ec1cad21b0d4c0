//! `lrmm-vocab`: the vocabulary stage. Reads `reviews.parquet` and `items.parquet` from an
//! artifact folder (`--data`) and writes `tokenizer.json`, `review_tokens.parquet`,
//! `item_tokens.parquet` and `vocab_stats.json` into `--out` (by default the same folder).

use std::path::PathBuf;

use anyhow::Context;
use clap::Parser;
use lrmm_core::cli::Verbosity;
use lrmm_core::ArtifactDir;
use lrmm_vocab::{MetadataScope, StageIo, VocabOptions, VocabRule};

/// The vocabulary stage: a word-level vocabulary built on the training text, and the token ids
/// of every review and metadata document.
///
/// Reads reviews.parquet and items.parquet from --data; counts the words of the training
/// split's reviews and of the metadata documents (--metadata-scope), keeps those occurring at
/// least --min-freq times ([PAD] = 0, [UNK] = 1), and writes tokenizer.json (loadable by Python
/// tokenizers), review_tokens.parquet, item_tokens.parquet and vocab_stats.json into --out,
/// which defaults to --data. Valid and test reviews are encoded but never counted. With
/// --tokenizer an existing vocabulary is used instead (cross-domain evaluation).
///
/// Examples:
///
///   lrmm-vocab --data build/default --min-freq 20
///   lrmm-vocab --data build/target --tokenizer build/source/tokenizer.json
#[derive(Parser, Debug)]
#[command(name = "lrmm-vocab", verbatim_doc_comment)]
struct Args {
    /// Artifact folder read (e.g. build/default): reviews.parquet and items.parquet.
    #[arg(long, value_name = "DIR")]
    data: PathBuf,
    /// Folder written: tokenizer.json, review_tokens.parquet, item_tokens.parquet and
    /// vocab_stats.json [default: --data].
    #[arg(long, value_name = "DIR")]
    out: Option<PathBuf>,
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
    /// cross-domain evaluation) instead of building a vocabulary: it is copied to the output
    /// folder's tokenizer.json and --min-freq/--max-size are not used; --metadata-scope picks
    /// the training text whose coverage vocab_stats.json reports.
    #[arg(long, value_name = "PATH", conflicts_with = "max_size")]
    tokenizer: Option<PathBuf>,
    #[command(flatten)]
    verbosity: Verbosity,
}

fn main() -> anyhow::Result<()> {
    let args: Args = lrmm_core::cli::parse(&lrmm_core::build_info!());
    lrmm_core::logging::init(&args.verbosity)?;
    tracing::info!("{args:?}");
    let options = VocabOptions {
        rule: VocabRule {
            min_freq: args.min_freq,
            max_size: args.max_size,
        },
        metadata_scope: args.metadata_scope,
    };
    let data = ArtifactDir::new(&args.data);
    let out = ArtifactDir::new(args.out.as_ref().unwrap_or(&args.data));
    let io = StageIo {
        data: &data,
        out: &out,
        progress: args.verbosity.progress(),
    };
    let stats = match &args.tokenizer {
        Some(tokenizer) => lrmm_vocab::run_with_tokenizer_into(io, tokenizer, args.metadata_scope),
        None => lrmm_vocab::run_into(io, &options),
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
