//! `lrmm-images`: the image modality of every item, as `image_features.safetensors` (one 4096-d
//! VGG feature per item with an image) and `image_status.parquet` (ok / missing / corrupt).

use std::collections::BTreeMap;
use std::io::Write;
use std::path::PathBuf;
use std::time::Instant;

use anyhow::Context;
use candle_core::{Module, Tensor};
use clap::{Args as ClapArgs, Parser, Subcommand};
use lrmm_core::ArtifactDir;
use lrmm_images::extract::{self, ExtractOptions, ImageFolder};
use lrmm_images::preprocess::{DecodeLimits, CROP};
use lrmm_images::{
    build_model, mcauley, parse_device, Depth, OutputLayer, VggConfig, WeightsSource,
};

/// Image features per item: a batched candle VGG run on a folder of images named by asin
/// (`--images`), or McAuley's precomputed features imported (`--mcauley`).
#[derive(Parser)]
#[command(
    version,
    args_conflicts_with_subcommands = true,
    subcommand_negates_reqs = true
)]
struct Args {
    #[command(subcommand)]
    command: Option<Command>,
    #[command(flatten)]
    extract: ExtractArgs,
}

#[derive(Subcommand)]
enum Command {
    /// Measure the network's throughput on random 224×224 input; prints one JSON line per batch size.
    Bench(BenchArgs),
}

#[derive(ClapArgs)]
#[group(id = "source", required = true, multiple = false, args = ["images", "mcauley"])]
struct ExtractArgs {
    /// Artifact folder (build/<NAME>): image_features.safetensors and image_status.parquet go here.
    #[arg(long, required = true)]
    out: Option<PathBuf>,
    /// The items table (item_id, asin) [default: <OUT>/items.parquet].
    #[arg(long)]
    items: Option<PathBuf>,
    /// Folder of product images named by asin, any extension (JPEG, PNG, WebP, GIF; sniffed from content).
    #[arg(long)]
    images: Option<PathBuf>,
    /// Import McAuley's image_features_<Category>.b (10-byte asin + 4096 LE f32 records) instead of running the network.
    #[arg(long)]
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

#[derive(ClapArgs)]
struct ModelArgs {
    /// torchvision VGG state_dict as safetensors (see docs/images.md); without it the network is
    /// randomly initialised from --seed and a warning says so.
    #[arg(long)]
    weights: Option<PathBuf>,
    /// VGG depth: 11, 13, 16 or 19.
    #[arg(long, default_value = "16")]
    depth: Depth,
    /// Output layer: fc6 (the paper's) or fc7, both after ReLU.
    #[arg(long, default_value = "fc6")]
    layer: OutputLayer,
    /// Divide every conv and classifier width by this (a power of two): a small network of the
    /// same topology for tests and smoke runs. Features then have 4096 / D values.
    #[arg(long, default_value_t = 1)]
    width_divisor: usize,
    /// Images per forward pass.
    #[arg(long, default_value_t = 32)]
    batch_size: usize,
    /// cpu, cuda or cuda:N (cuda needs a build with `--features cuda`).
    #[arg(long, default_value = "cpu")]
    device: String,
}

impl ModelArgs {
    fn config(&self) -> VggConfig {
        VggConfig::new(self.depth, self.layer).with_width_divisor(self.width_divisor)
    }
}

#[derive(ClapArgs)]
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

fn main() -> anyhow::Result<()> {
    lrmm_core::logging::init();
    let args = Args::parse();
    match args.command {
        Some(Command::Bench(bench_args)) => bench(&bench_args),
        None => run(&args.extract),
    }
}

fn run(args: &ExtractArgs) -> anyhow::Result<()> {
    let out = ArtifactDir::new(args.out.clone().context("--out is required")?);
    let items_path = args.items.clone().unwrap_or_else(|| out.items());
    let items = extract::read_items(&items_path)?;
    tracing::info!("{}: {} items", items_path.display(), items.len());
    let mut metadata = BTreeMap::from([
        ("lrmm_stage".to_string(), "images".to_string()),
        ("items".to_string(), items_path.display().to_string()),
    ]);

    let (features, statuses) = if let Some(path) = &args.mcauley {
        let (features, statuses, stats) = mcauley::import(path, &items, true)?;
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
        let device = parse_device(&args.model.device)?;
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
            progress: true,
        };
        let (features, statuses) = extract::extract(&model, &device, &items, &folder, &options)?;
        metadata.insert("source".into(), format!("images {}", dir.display()));
        metadata.insert("model".into(), config.describe());
        metadata.insert("weights".into(), weights.describe());
        metadata.insert(
            "preprocessing".into(),
            "torchvision ImageNet eval: Resize(256) (Pillow bilinear, antialiased), CenterCrop(224), \
             ToTensor, Normalize(mean=[0.485,0.456,0.406], std=[0.229,0.224,0.225])"
                .into(),
        );
        (features, statuses)
    };
    lrmm_images::write_artifacts(&out, &features, &statuses, metadata)?;
    Ok(())
}

fn bench(args: &BenchArgs) -> anyhow::Result<()> {
    let config = args.model.config();
    let device = parse_device(&args.model.device)?;
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

/// User + system CPU time of this process (all threads) from `/proc/self/stat`, Linux only.
fn process_cpu_seconds() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // Fields after the parenthesised command name; utime and stime are the 14th and 15th.
    let rest = &stat[stat.rfind(')')? + 2..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks: f64 = fields.get(11)?.parse::<f64>().ok()? + fields.get(12)?.parse::<f64>().ok()?;
    Some(ticks / 100.0) // USER_HZ is 100 on Linux
}
