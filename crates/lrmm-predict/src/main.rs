//! `lrmm-predict`: ratings and top-K lists from a trained model for any users and items,
//! including ones it never saw, from raw Amazon records (docs/predict.md).

use std::path::PathBuf;

use anyhow::Context;
use clap::{Parser, ValueEnum};
use lrmm_core::cli::{DeviceSpec, Verbosity};
use lrmm_predict::input::{read_ids, read_pairs, SkippedLines};
use lrmm_predict::{write_predictions, Format, PredictOptions, Query};

/// Predict ratings with a trained LRMM model, for users and items it never saw too: a new
/// product with a title, a description and a photo but no reviews, a new customer with no
/// history. Unknown ids are new users and items, not errors; whatever a pair has no data for
/// (U without reviews, O without item reviews, M without metadata, V without a photo) is imputed
/// by the model's autoencoders, and the output says so for each modality.
///
/// Reads from --data the dataset folder the model was trained on (users.parquet, items.parquet,
/// tokenizer.json, and the model's inputs: interactions.parquet, review_tokens.parquet,
/// item_tokens.parquet, image_features.safetensors; each must be the file the model's
/// config.json hashes). New records go through ingestion's parsers, the dataset's tokenizer and
/// the VGG the dataset's image features record. Writes one table (--out): reviewerID, asin,
/// [rank,] prediction, and U, O, M, V = data | imputed (docs/predict.md).
///
/// Examples:
///
///   lrmm-predict --model build/default/model --data build/default --pairs pairs.jsonl \
///     --meta new_items.json.gz --images new_images/ --out predictions.parquet
///   lrmm-predict --model build/default/model --data build/default --top-k 10 --users users.txt \
///     --exclude-rated --meta new_items.json --images new_images/ --out top10.parquet
///   echo '{"reviewerID": "NEW-USER", "asin": "B000NEW001"}' > pairs.jsonl
#[derive(Parser, Debug)]
#[command(name = "lrmm-predict", verbatim_doc_comment)]
struct Args {
    /// Trained model folder read (build/<NAME>/model): config.json, model.safetensors.
    #[arg(long, value_name = "DIR")]
    model: PathBuf,
    /// Artifact folder read: the dataset folder the model was trained on (build/<NAME>).
    #[arg(long, value_name = "DIR")]
    data: PathBuf,
    /// Pairs to predict: JSON lines {"reviewerID": …, "asin": …} (plain or gzip). With --top-k,
    /// each user's pairs are ranked.
    #[arg(long, value_name = "PATH", required_unless_present = "users")]
    pairs: Option<PathBuf>,
    /// Top-K mode: each user's K best items (with --users, or among the user's --pairs).
    #[arg(long, value_name = "K")]
    top_k: Option<usize>,
    /// Users to recommend for, one reviewerID per line (needs --top-k).
    #[arg(
        long,
        value_name = "PATH",
        requires = "top_k",
        conflicts_with = "pairs"
    )]
    users: Option<PathBuf>,
    /// Candidate items, one asin per line [default: every item of --data and --meta].
    #[arg(long, value_name = "PATH", requires = "users")]
    candidates: Option<PathBuf>,
    /// Leave out of each user's list the items the user rated in training (and in --reviews).
    #[arg(long, requires = "users")]
    exclude_rated: bool,
    /// Metadata lines of new items, either release's format (as lrmm-ingest --meta).
    #[arg(long, value_name = "PATH")]
    meta: Option<PathBuf>,
    /// Photos of new items, one file per item named <asin>.<ext>.
    #[arg(long, value_name = "DIR")]
    images: Option<PathBuf>,
    /// Review lines (either release) that add to users' and items' histories.
    #[arg(long, value_name = "PATH")]
    reviews: Option<PathBuf>,
    /// Known asins to treat as new items, one per line: nothing of theirs is read from --data,
    /// only what --meta, --images and --reviews give (cold items from their raw records).
    #[arg(long, value_name = "PATH")]
    as_new_items: Option<PathBuf>,
    /// The VGG weights file, when it has moved since image_features.safetensors recorded it (its
    /// sha256 must match).
    #[arg(long, value_name = "PATH")]
    vgg_weights: Option<PathBuf>,
    /// Images per VGG forward pass.
    #[arg(long, default_value_t = 32)]
    image_batch_size: usize,
    /// Count and skip malformed pairs, metadata and review lines instead of stopping.
    #[arg(long)]
    skip_bad_lines: bool,
    /// File written [default: <DATA>/predict.parquet, or .jsonl].
    #[arg(long, value_name = "PATH")]
    out: Option<PathBuf>,
    /// Format of --out.
    #[arg(long, value_enum, default_value_t = FormatArg::Parquet)]
    format: FormatArg,
    /// Device of the model and the VGG (cuda needs a build with `--features cuda`).
    #[arg(long, default_value = "cpu", value_parser = lrmm_core::cli::device_parser())]
    device: DeviceSpec,
    #[command(flatten)]
    verbosity: Verbosity,
}

/// `--format`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum FormatArg {
    /// Parquet (zstd), readable with polars.
    Parquet,
    /// One JSON object per line.
    Jsonl,
}

impl FormatArg {
    fn format(self) -> Format {
        match self {
            FormatArg::Parquet => Format::Parquet,
            FormatArg::Jsonl => Format::Jsonl,
        }
    }

    fn extension(self) -> &'static str {
        match self {
            FormatArg::Parquet => "parquet",
            FormatArg::Jsonl => "jsonl",
        }
    }
}

fn main() -> anyhow::Result<()> {
    let args: Args = lrmm_core::cli::parse(&lrmm_core::build_info!("cuda"));
    lrmm_core::logging::init(&args.verbosity)?;
    tracing::info!("{args:?}");
    let mut skipped = SkippedLines::default();
    let query = match (&args.pairs, args.top_k, &args.users) {
        (Some(path), None, _) => Query::Pairs(read_pairs(path, args.skip_bad_lines, &mut skipped)?),
        (Some(path), Some(k), _) => Query::TopKOfPairs {
            k,
            pairs: read_pairs(path, args.skip_bad_lines, &mut skipped)?,
        },
        (None, Some(k), Some(users)) => Query::TopK {
            k,
            users: read_ids(users, "users")?,
            candidates: args
                .candidates
                .as_deref()
                .map(|c| read_ids(c, "candidate items"))
                .transpose()?,
            exclude_rated: args.exclude_rated,
        },
        _ => anyhow::bail!("give --pairs, or --top-k K with --users"),
    };
    let ranked = args.top_k.is_some();
    anyhow::ensure!(args.top_k != Some(0), "--top-k must be at least 1");
    let mut opts = PredictOptions::new(&args.model, &args.data);
    opts.meta = args.meta.clone();
    opts.images = args.images.clone();
    opts.reviews = args.reviews.clone();
    opts.vgg_weights = args.vgg_weights.clone();
    opts.skip_bad_lines = args.skip_bad_lines;
    opts.image_batch_size = args.image_batch_size;
    opts.progress = args.verbosity.progress();
    if let Some(path) = &args.as_new_items {
        opts.forget_items = read_ids(path, "items")?;
    }
    let device = lrmm_model::device::device(args.device)?;
    let report = lrmm_predict::run(&opts, &query, &device).with_context(|| {
        format!(
            "predicting with {} on {}",
            args.model.display(),
            args.data.display()
        )
    })?;
    let out = args.out.clone().unwrap_or_else(|| {
        args.data
            .join(format!("predict.{}", args.format.extension()))
    });
    write_predictions(&out, &report.predictions, ranked, args.format.format())?;
    let skipped_total = skipped.count + report.skipped.count;
    for example in skipped.examples.iter().chain(&report.skipped.examples) {
        tracing::warn!("skipped {example}");
    }
    tracing::info!(
        "{} predictions ({} new users, {} new items, {} new images missing or corrupt, {skipped_total} bad lines skipped) → {}",
        report.predictions.len(),
        report.new_users,
        report.new_items,
        report.image_problems.len(),
        out.display()
    );
    Ok(())
}
