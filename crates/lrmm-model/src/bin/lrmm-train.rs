//! The training stage: trains LRMM on one dataset's artifacts and writes `model.safetensors`,
//! `config.json` and `train_log.csv` into `--out`.

use std::path::PathBuf;

use anyhow::Context;
use candle_core::Device;
use clap::{Parser, ValueEnum};
use lrmm_model::config::Config;
use lrmm_model::training::{train, TrainOptions};

#[derive(Debug, Clone, Copy, ValueEnum)]
enum DeviceArg {
    Cpu,
    Cuda,
}

/// Train the LRMM rating model (text LSTMs, image projection, m-drop, m-auto) with early
/// stopping on the validation split.
#[derive(Debug, Parser)]
#[command(version)]
struct Args {
    /// Artifact folder of the dataset (e.g. build/default): interactions, tokens, image features.
    #[arg(long)]
    data: PathBuf,
    /// Experiment config, a pipelines/*.toml file.
    #[arg(long)]
    config: PathBuf,
    /// Seed of every random choice (initial weights, shuffling, m-drop, dropout).
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Compute device (cuda needs a build with `--features cuda`).
    #[arg(long, value_enum, default_value = "cpu")]
    device: DeviceArg,
    /// Output folder for model.safetensors, config.json, train_log.csv (and checkpoints while running).
    #[arg(long)]
    out: PathBuf,
    /// Put each target review into its own user and item documents, as the paper's
    /// concatenation did (leaks the rated review's text into the input).
    #[arg(long)]
    leak_target: bool,
    /// Override train.max_epochs of the config.
    #[arg(long)]
    max_epochs: Option<usize>,
    /// Train at most this many epochs in this invocation and leave the checkpoint, so that a
    /// later run resumes (time-boxed jobs).
    #[arg(long)]
    stop_after_epochs: Option<usize>,
    /// No progress bar.
    #[arg(long)]
    quiet: bool,
}

fn main() -> anyhow::Result<()> {
    lrmm_core::logging::init();
    let args = Args::parse();
    let mut config = Config::from_toml_file(&args.config)?;
    if args.leak_target {
        config.data.leak_target = true;
    }
    if let Some(e) = args.max_epochs {
        config.train.max_epochs = e;
    }
    let device = match args.device {
        DeviceArg::Cpu => Device::Cpu,
        DeviceArg::Cuda => Device::new_cuda(0)
            .context("cannot open CUDA device 0 (was lrmm-train built with --features cuda?)")?,
    };
    let opts = TrainOptions {
        data_dir: args.data.clone(),
        config,
        seed: args.seed,
        device,
        out_dir: args.out.clone(),
        progress: !args.quiet,
        interrupt_after: args.stop_after_epochs,
    };
    match train(&opts) {
        Err(lrmm_model::ModelError::Interrupted(epoch)) => {
            tracing::info!("stopped after epoch {epoch}; rerun the same command to resume");
            Ok(())
        }
        other => {
            other.with_context(|| format!("training on {} failed", args.data.display()))?;
            Ok(())
        }
    }
}
