//! `lrmm-vocab-bench`: how fast the vocabulary stage counts and encodes, printed as a table.
//!
//! Runs the whole stage on an artifact folder (writing its artifacts, as `lrmm-vocab` would),
//! then times the encoding pass alone on all cores and on one core, next to the same documents
//! through `tokenizers`' own `encode_batch_fast`, and checks that both give the same ids.

use std::io::Write;
use std::path::PathBuf;
use std::time::Instant;

use anyhow::{ensure, Context};
use clap::Parser;
use lrmm_core::cli::Verbosity;
use lrmm_core::ArtifactDir;
use lrmm_vocab::encode::encode_batch_with_tokenizer;
use lrmm_vocab::{Encoder, Inputs, StageIo, VocabOptions, VocabRule, WordCounts, WordSplitter};

/// Benchmark the vocabulary stage on an artifact folder with ingestion outputs.
///
/// Runs the whole stage on --data (as lrmm-vocab does, writing its artifacts into --out, which
/// defaults to --data), then times the encoding pass alone on all cores and on one core, beside
/// tokenizers' own encode_batch_fast on the same documents, checks that both give the same ids,
/// and prints a Markdown table on stdout.
///
/// Example (after `make bench-ingest`):
///
///   lrmm-vocab-bench --data build/bench --min-freq 20
#[derive(Parser, Debug)]
#[command(name = "lrmm-vocab-bench", verbatim_doc_comment)]
struct Args {
    /// Artifact folder read, with reviews.parquet and items.parquet (e.g. build/bench).
    #[arg(long, value_name = "DIR")]
    data: PathBuf,
    /// Folder the full stage writes its artifacts into [default: --data].
    #[arg(long, value_name = "DIR")]
    out: Option<PathBuf>,
    /// Minimum word frequency, as in `lrmm-vocab`.
    #[arg(long, default_value_t = 20)]
    min_freq: u64,
    /// Reviews encoded in the per-encoder rows (the full stage row always uses every review).
    #[arg(long, default_value_t = 200_000)]
    sample: usize,
    #[command(flatten)]
    verbosity: Verbosity,
}

struct Row {
    pass: String,
    threads: usize,
    documents: usize,
    tokens: u64,
    seconds: f64,
}

fn main() -> anyhow::Result<()> {
    let args: Args = lrmm_core::cli::parse(&lrmm_core::build_info!());
    lrmm_core::logging::init(&args.verbosity)?;
    tracing::info!("{args:?}");
    let data = ArtifactDir::new(&args.data);
    let out = ArtifactDir::new(args.out.as_ref().unwrap_or(&args.data));
    let io = StageIo {
        data: &data,
        out: &out,
        progress: args.verbosity.progress(),
    };
    let options = VocabOptions {
        rule: VocabRule {
            min_freq: args.min_freq,
            max_size: None,
        },
        ..VocabOptions::default()
    };
    let cores = rayon::current_num_threads();
    // Other work on the machine skews every figure; print it beside them.
    let load_at_start = std::fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|l| l.split_whitespace().next().map(str::to_owned));
    let mut rows = Vec::new();

    let started = Instant::now();
    let stats = lrmm_vocab::run_into(io, &options).context("full stage")?;
    rows.push(Row {
        pass: "full stage (read, count, encode all, write)".into(),
        threads: cores,
        documents: stats.review_length.documents + stats.items,
        tokens: stats.review_length.tokens + stats.metadata_length.tokens,
        seconds: started.elapsed().as_secs_f64(),
    });

    let inputs = Inputs::read(&data)?;
    let tokenizer = tokenizers::Tokenizer::from_file(out.tokenizer())
        .map_err(|e| anyhow::anyhow!("{}: {e}", out.tokenizer().display()))?;
    let encoder = Encoder::new(&tokenizer)?;
    let generic_encoder = Encoder::new(&tokenizer)?.tokenizers_path_only();
    let all_reviews = inputs.review_texts();
    let sample = &all_reviews[..args.sample.min(all_reviews.len())];

    let training = inputs.training_texts(options.metadata_scope);
    let splitter = WordSplitter::new()?;
    let started = Instant::now();
    let counts = WordCounts::count(&splitter, &training, &|_| {})?;
    rows.push(Row {
        pass: "count training words (all training text)".into(),
        threads: cores,
        documents: training.len(),
        tokens: counts.total(),
        seconds: started.elapsed().as_secs_f64(),
    });

    for threads in [cores, 1] {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()?;
        let (ours, seconds) = pool.install(|| {
            let started = Instant::now();
            let encoded = encoder.encode_column("tokens", sample, &|_| {});
            (encoded, started.elapsed().as_secs_f64())
        });
        let ours = ours?;
        rows.push(Row {
            pass: "lrmm Encoder (ASCII path where exact)".into(),
            threads,
            documents: sample.len(),
            tokens: ours.total_tokens(),
            seconds,
        });
        let (generic, seconds) = pool.install(|| {
            let started = Instant::now();
            let encoded = generic_encoder.encode_column("tokens", sample, &|_| {});
            (encoded, started.elapsed().as_secs_f64())
        });
        let generic = generic?;
        ensure!(
            generic
                .column
                .get_inner()
                .u32()?
                .into_no_null_iter()
                .eq(ours.column.get_inner().u32()?.into_no_null_iter()),
            "the ASCII path and the tokenizers path disagree"
        );
        rows.push(Row {
            pass: "lrmm Encoder (tokenizers normalizer only)".into(),
            threads,
            documents: sample.len(),
            tokens: generic.total_tokens(),
            seconds,
        });
        let (reference, seconds) = pool.install(|| {
            let started = Instant::now();
            // Blocks, so the Encodings (strings, offsets, masks per token) never all live at once.
            let mut flat_ids = Vec::new();
            let mut lengths = Vec::with_capacity(sample.len());
            for block in sample.chunks(1 << 14) {
                for ids in encode_batch_with_tokenizer(&tokenizer, block)? {
                    lengths.push(ids.len() as u32);
                    flat_ids.extend_from_slice(&ids);
                }
            }
            anyhow::Ok(((flat_ids, lengths), started.elapsed().as_secs_f64()))
        })?;
        let (reference_ids, reference_lengths) = reference;
        let our_ids = ours.column.get_inner();
        ensure!(
            reference_lengths == ours.lengths
                && our_ids
                    .u32()?
                    .into_no_null_iter()
                    .eq(reference_ids.iter().copied()),
            "tokenizers' encode_batch_fast and the lrmm Encoder disagree"
        );
        rows.push(Row {
            pass: "tokenizers encode_batch_fast".into(),
            threads,
            documents: sample.len(),
            tokens: reference_ids.len() as u64,
            seconds,
        });
    }

    let mut out = std::io::stdout().lock();
    writeln!(
        out,
        "\nlrmm-vocab benchmark on {} ({} reviews, {} items, vocabulary {} ids, coverage {:.2}%; \
         {} cores, load average at start {})\n",
        args.data.display(),
        stats.review_length.documents,
        stats.items,
        stats.vocab_size,
        100.0 * stats.coverage,
        cores,
        load_at_start.as_deref().unwrap_or("n/a"),
    )?;
    writeln!(
        out,
        "| {:<44} | {:>7} | {:>10} | {:>12} | {:>8} | {:>12} |",
        "pass", "threads", "documents", "tokens", "seconds", "tokens/s"
    )?;
    writeln!(
        out,
        "|{:-<46}|{:->9}|{:->12}|{:->14}|{:->10}|{:->14}|",
        "", "", "", "", "", ""
    )?;
    for row in &rows {
        writeln!(
            out,
            "| {:<44} | {:>7} | {:>10} | {:>12} | {:>8.2} | {:>12.0} |",
            row.pass,
            row.threads,
            row.documents,
            row.tokens,
            row.seconds,
            row.tokens as f64 / row.seconds.max(1e-9)
        )?;
    }
    if let Some(peak) = peak_memory_kib() {
        writeln!(
            out,
            "\npeak resident memory: {:.2} GiB",
            peak as f64 / (1 << 20) as f64
        )?;
    }
    Ok(())
}

/// The process's peak resident set (VmHWM), on Linux.
fn peak_memory_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}
