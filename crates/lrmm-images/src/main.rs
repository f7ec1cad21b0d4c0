//! `lrmm-images`: the image modality of every item, as `image_features.safetensors` (one 4096-d
//! VGG feature per item with an image) and `image_status.parquet` (ok / missing / corrupt).

use std::collections::BTreeMap;
use std::io::Write;
use std::path::PathBuf;
use std::time::Instant;

use anyhow::Context;
use candle_core::{Module, Tensor};
use clap::{Args as ClapArgs, Parser, Subcommand};
use lrmm_core::cli::{DeviceSpec, Verbosity, RUST_LOG_HELP};
use lrmm_core::ArtifactDir;
use lrmm_images::extract::{self, ExtractOptions, ImageFolder};
use lrmm_images::preprocess::{DecodeLimits, CROP};
use lrmm_images::{build_model, mcauley, Depth, OutputLayer, VggConfig, WeightsSource};

/// The image stage: one VGG feature per item, from a folder of product images or McAuley's
/// precomputed features.
///
/// Reads the items table (item_id, asin; <DATA>/items.parquet unless --items names another)
/// and either runs a batched candle VGG (default VGG16 to fc6, the paper's) on the folder of
/// images named by asin (--images), or imports McAuley's image_features_<Category>.b
/// (--mcauley). Writes image_features.safetensors (one feature per item with an image, written
/// last) and image_status.parquet (ok / missing / corrupt for every item) into --out, which
/// defaults to --data. A missing or undecodable image is a missing modality, never an error.
///
/// Examples:
///
///   lrmm-images --data build/default --images data/generated/default/images --seed 1
///   lrmm-images --data build/mi --mcauley data/raw/image_features_Musical_Instruments.b
///   lrmm-images bench --device cuda --batches 32,128 --steps 3
///   lrmm-images parity --device cuda --batch-size 8
#[derive(Parser, Debug)]
#[command(
    verbatim_doc_comment,
    args_conflicts_with_subcommands = true,
    subcommand_negates_reqs = true
)]
struct Args {
    #[command(subcommand)]
    command: Option<Command>,
    #[command(flatten)]
    extract: Option<ExtractArgs>,
    #[command(flatten)]
    verbosity: Verbosity,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Measure the network's throughput on random 224×224 input; prints one JSON line per batch size.
    #[command(after_help = RUST_LOG_HELP)]
    Bench(BenchArgs),
    /// The network on --device against the CPU's channels-last path, same seeded weights and
    /// random input: the cosine of each image's features; prints one JSON line. On the CPU the
    /// candidate is candle's own NCHW convolutions.
    #[command(after_help = RUST_LOG_HELP)]
    Parity(ParityArgs),
}

#[derive(ClapArgs, Debug)]
#[group(id = "source", required = true, multiple = false, args = ["images", "mcauley"])]
struct ExtractArgs {
    /// Artifact folder read (build/<NAME>): the items table is <DATA>/items.parquet.
    #[arg(long, value_name = "DIR")]
    data: PathBuf,
    /// Folder written: image_features.safetensors and image_status.parquet go here [default: --data].
    #[arg(long, value_name = "DIR")]
    out: Option<PathBuf>,
    /// The items table (item_id, asin) [default: <DATA>/items.parquet].
    #[arg(long, value_name = "PATH")]
    items: Option<PathBuf>,
    /// Folder of product images named by asin, any extension (JPEG, PNG, WebP, GIF; sniffed from content).
    #[arg(long, value_name = "DIR")]
    images: Option<PathBuf>,
    /// Import McAuley's image_features_<Category>.b (10-byte asin + 4096 LE f32 records) instead of running the network.
    #[arg(long, value_name = "PATH")]
    mcauley: Option<PathBuf>,
    #[command(flatten)]
    model: ModelArgs,
    /// Seed of the random initialisation used when --weights is not given.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Threads decoding images while the network runs [default: half the cores, at least 1].
    #[arg(long)]
    decode_threads: Option<usize>,
    /// Images wider or taller than this are reported corrupt instead of decoded.
    #[arg(long, default_value_t = DecodeLimits::default().max_side)]
    max_image_side: u32,
    /// Largest decoder allocation per image, in MiB (guards against decompression bombs).
    #[arg(long, default_value_t = DecodeLimits::default().max_alloc_bytes >> 20)]
    max_image_mib: u64,
}

#[derive(ClapArgs, Debug)]
struct ModelArgs {
    /// torchvision VGG state_dict as safetensors (see docs/images.md); without it the network is
    /// randomly initialised from --seed and a warning says so.
    #[arg(long, value_name = "PATH")]
    weights: Option<PathBuf>,
    /// VGG depth (number of weight layers).
    #[arg(long, value_enum, ignore_case = true, default_value = "16")]
    depth: Depth,
    /// Output layer, after its ReLU: fc6 is the paper's.
    #[arg(long, value_enum, ignore_case = true, default_value = "fc6")]
    layer: OutputLayer,
    /// Divide every conv and classifier width by this (a power of two): a small network of the
    /// same topology for tests and smoke runs. Features then have 4096 / D values.
    #[arg(long, value_name = "D", default_value_t = 1)]
    width_divisor: usize,
    /// Images per forward pass.
    #[arg(long, default_value_t = 32)]
    batch_size: usize,
    /// Compute device (cuda needs a build with `--features cuda`).
    #[arg(long, default_value = "cpu", value_parser = lrmm_core::cli::device_parser())]
    device: DeviceSpec,
}

impl ModelArgs {
    fn config(&self) -> VggConfig {
        VggConfig::new(self.depth, self.layer).with_width_divisor(self.width_divisor)
    }
}

#[derive(ClapArgs, Debug)]
struct BenchArgs {
    #[command(flatten)]
    model: ModelArgs,
    /// Batch sizes to time, comma-separated (overrides --batch-size).
    #[arg(long, value_delimiter = ',')]
    batches: Vec<usize>,
    /// Timed forward passes per batch size, after one untimed warm-up pass.
    #[arg(long, default_value_t = 3)]
    steps: usize,
}

#[derive(ClapArgs, Debug)]
struct ParityArgs {
    #[command(flatten)]
    model: ModelArgs,
    /// Side of the square random input (at least 32; 224 is the network's own).
    #[arg(long, default_value_t = CROP)]
    side: usize,
    /// Smallest cosine that passes.
    #[arg(long, default_value_t = 0.9999)]
    min_cosine: f64,
}

fn main() -> anyhow::Result<()> {
    let args: Args = lrmm_core::cli::parse(&lrmm_core::build_info!("cuda"));
    lrmm_core::logging::init(&args.verbosity)?;
    tracing::info!("{args:?}");
    match (&args.command, &args.extract) {
        (Some(Command::Bench(bench_args)), _) => bench(bench_args),
        (Some(Command::Parity(parity_args)), _) => parity(parity_args),
        (None, Some(extract)) => run(extract, &args.verbosity),
        // clap requires --images or --mcauley without a subcommand.
        (None, None) => anyhow::bail!("give --data and --images or --mcauley, or a subcommand"),
    }
}

fn run(args: &ExtractArgs, verbosity: &Verbosity) -> anyhow::Result<()> {
    let data = ArtifactDir::new(&args.data);
    let out = ArtifactDir::new(args.out.as_ref().unwrap_or(&args.data));
    let items_path = args.items.clone().unwrap_or_else(|| data.items());
    let items = extract::read_items(&items_path)?;
    tracing::info!("{}: {} items", items_path.display(), items.len());
    let mut metadata = BTreeMap::from([
        ("lrmm_stage".to_string(), "images".to_string()),
        ("items".to_string(), items_path.display().to_string()),
    ]);

    let (features, statuses) = if let Some(path) = &args.mcauley {
        let (features, statuses, stats) = mcauley::import(path, &items, verbosity.progress())?;
        tracing::info!(
            "{}: read {} records, kept {}, {} duplicate asins ignored",
            path.display(),
            stats.records_read,
            stats.kept,
            stats.duplicates
        );
        metadata.insert("source".into(), format!("mcauley {}", path.display()));
        (features, statuses)
    } else {
        let dir = args
            .images
            .as_ref()
            .context("--images or --mcauley is required")?;
        let config = args.model.config();
        let device = lrmm_images::device(args.model.device)?;
        let weights = match &args.model.weights {
            Some(path) => WeightsSource::File(path.clone()),
            None => WeightsSource::Random { seed: args.seed },
        };
        let model = build_model(config, &weights, &device)?;
        let folder = ImageFolder::scan(dir)?;
        tracing::info!(
            "{}: {} image files; {} on {:?}, batch {}",
            dir.display(),
            folder.len(),
            config.describe(),
            device,
            args.model.batch_size
        );
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        let options = ExtractOptions {
            batch_size: args.model.batch_size,
            decode_threads: args.decode_threads.unwrap_or((cores / 2).max(1)),
            limits: DecodeLimits {
                max_side: args.max_image_side,
                max_alloc_bytes: args.max_image_mib << 20,
            },
            progress: verbosity.progress(),
        };
        let (features, statuses) = extract::extract(&model, &device, &items, &folder, &options)?;
        metadata.insert("source".into(), format!("images {}", dir.display()));
        metadata.extend(lrmm_images::extraction_metadata(&config, &weights)?);
        (features, statuses)
    };
    lrmm_images::write_artifacts(&out, &features, &statuses, metadata)?;
    Ok(())
}

fn bench(args: &BenchArgs) -> anyhow::Result<()> {
    let config = args.model.config();
    let device = lrmm_images::device(args.model.device)?;
    let weights = match &args.model.weights {
        Some(path) => WeightsSource::File(path.clone()),
        None => WeightsSource::Random { seed: 1 },
    };
    let model = build_model(config, &weights, &device)?;
    let batches = if args.batches.is_empty() {
        vec![args.model.batch_size]
    } else {
        args.batches.clone()
    };
    let mut stdout = std::io::stdout().lock();
    for batch in batches {
        let x = Tensor::rand(0f32, 1f32, (batch, 3, CROP, CROP), &device)?;
        model.forward(&x)?.to_device(&candle_core::Device::Cpu)?;
        let started = Instant::now();
        let cpu_started = process_cpu_seconds();
        let mut out_dim = 0;
        for _ in 0..args.steps {
            let y = model.forward(&x)?.to_device(&candle_core::Device::Cpu)?;
            out_dim = y.dim(1)?;
        }
        let images = (args.steps * batch) as f64;
        let images_per_s = images / started.elapsed().as_secs_f64();
        // CPU time per image is what a shared machine cannot distort: wall-clock speed depends on
        // how much of the cores other processes leave us.
        let cpu_s_per_image = match (cpu_started, process_cpu_seconds()) {
            (Some(a), Some(b)) => serde_json::json!(((b - a) / images * 1000.0).round() / 1000.0),
            _ => serde_json::Value::Null,
        };
        let line = serde_json::json!({
            "impl": format!("lrmm-candle-{}", config.describe().replace(' ', "-")),
            "device": args.model.device,
            "dtype": "f32",
            "batch": batch,
            "images_per_s": (images_per_s * 10.0).round() / 10.0,
            "cpu_s_per_image": cpu_s_per_image,
            "out_dim": out_dim,
        });
        writeln!(stdout, "{line}")?;
    }
    Ok(())
}

fn parity(args: &ParityArgs) -> anyhow::Result<()> {
    let config = args.model.config();
    let device = lrmm_images::device(args.model.device)?;
    let weights = match &args.model.weights {
        Some(path) => WeightsSource::File(path.clone()),
        None => WeightsSource::Random { seed: 1 },
    };
    let cpu = candle_core::Device::Cpu;
    let batch = args.model.batch_size;
    let mut rng = lrmm_core::SeededRng::new(1);
    let pixels: Vec<f32> = (0..batch * 3 * args.side * args.side)
        .map(|_| rng.normal() as f32)
        .collect();
    let x = Tensor::from_vec(pixels, (batch, 3, args.side, args.side), &cpu)?;
    let reference = build_model(config, &weights, &cpu)?.forward(&x)?;
    let model = build_model(config, &weights, &device)?;
    let candidate = if device.is_cpu() {
        model.forward_nchw(&x)?
    } else {
        model.forward(&x.to_device(&device)?)?.to_device(&cpu)?
    };
    let rows = |t: &Tensor| t.to_dtype(candle_core::DType::F64)?.to_vec2::<f64>();
    let cosines: Vec<f64> = rows(&reference)?
        .iter()
        .zip(rows(&candidate)?)
        .map(|(a, b)| {
            let dot: f64 = a.iter().zip(&b).map(|(p, q)| p * q).sum();
            let norm = |v: &[f64]| v.iter().map(|p| p * p).sum::<f64>().sqrt();
            let (na, nb) = (norm(a), norm(&b));
            if na == 0.0 && nb == 0.0 {
                1.0
            } else {
                dot / (na * nb).max(f64::MIN_POSITIVE)
            }
        })
        .collect();
    let min = cosines.iter().copied().fold(f64::INFINITY, f64::min);
    let line = serde_json::json!({
        "reference": "cpu channels-last f32",
        "candidate": format!("{} {}", args.model.device, if device.is_cpu() { "nchw" } else { "f32" }),
        "model": config.describe(),
        "batch": batch,
        "side": args.side,
        "out_dim": reference.dim(1)?,
        "min_cosine": min,
        "mean_cosine": cosines.iter().sum::<f64>() / cosines.len().max(1) as f64,
        "threshold": args.min_cosine,
        "pass": min >= args.min_cosine,
    });
    writeln!(std::io::stdout().lock(), "{line}")?;
    Ok(())
}

/// User + system CPU time of this process (all threads) from `/proc/self/stat`, Linux only.
fn process_cpu_seconds() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // Fields after the parenthesised command name; utime and stime are the 14th and 15th.
    let rest = &stat[stat.rfind(')')? + 2..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks: f64 = fields.get(11)?.parse::<f64>().ok()? + fields.get(12)?.parse::<f64>().ok()?;
    Some(ticks / 100.0) // USER_HZ is 100 on Linux
}
