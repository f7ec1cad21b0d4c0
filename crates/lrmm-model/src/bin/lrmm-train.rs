//! The training stage: trains LRMM on one dataset's artifacts and writes `model.safetensors`,
//! `config.json` and `train_log.csv` into `--out`.

use std::path::PathBuf;

use anyhow::Context;
use clap::Parser;
use lrmm_core::cli::{DeviceSpec, Verbosity};
use lrmm_model::config::Config;
use lrmm_model::training::{train, TrainOptions};

/// Train the LRMM rating model (text LSTMs, image projection, m-drop, m-auto) with early
/// stopping on the validation split.
///
/// Reads from --data the interactions, the token ids (review_tokens.parquet, item_tokens.parquet,
/// tokenizer.json) and the image features (image_features.safetensors); the hyperparameters
/// come from --config (a pipelines/*.toml file, with its `base` chain), then each --set in
/// order. Writes model.safetensors (the best epoch on validation, written last), config.json
/// (every hyperparameter, input hashes, the lrmm version) and train_log.csv into --out; an
/// interrupted run resumes from the checkpoint it leaves there.
///
/// Examples:
///
///   lrmm-train --data build/default --out build/default/model --config pipelines/default.toml
///   lrmm-train --data build/mi --out build/mi/lr --config pipelines/mi.toml \
///     --set train.learning_rate=3e-4 --set data.max_len=100
#[derive(Debug, Parser)]
#[command(name = "lrmm-train", verbatim_doc_comment)]
struct Args {
    /// Artifact folder read (e.g. build/default): interactions, tokens, image features.
    #[arg(long, value_name = "DIR")]
    data: PathBuf,
    /// Folder written: model.safetensors, config.json, train_log.csv (and checkpoints while running).
    #[arg(long, value_name = "DIR")]
    out: PathBuf,
    /// Experiment config, a pipelines/*.toml file.
    #[arg(long, value_name = "PATH")]
    config: PathBuf,
    /// Override one config value after the file is read (repeatable, applied in order), e.g.
    /// --set train.learning_rate=3e-4 --set mdrop.user=0.5. The value is TOML, else a string.
    #[arg(long = "set", value_name = "SECTION.KEY=VALUE")]
    set: Vec<String>,
    /// Seed of every random choice (initial weights, shuffling, m-drop, dropout).
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Compute device (cuda needs a build with `--features cuda`).
    #[arg(long, default_value = "cpu", value_parser = lrmm_core::cli::device_parser())]
    device: DeviceSpec,
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
    #[command(flatten)]
    verbosity: Verbosity,
}

fn main() -> anyhow::Result<()> {
    let info = lrmm_core::build_info!("cuda");
    let args: Args = lrmm_core::cli::parse(&info);
    lrmm_core::logging::init(&args.verbosity)?;
    tracing::info!("{args:?}");
    let mut config = Config::load(&args.config, &args.set)?;
    if args.leak_target {
        config.data.leak_target = true;
    }
    if let Some(e) = args.max_epochs {
        config.train.max_epochs = e;
    }
    tracing::info!("config: {config:?}");
    let opts = TrainOptions {
        data_dir: args.data.clone(),
        config,
        seed: args.seed,
        device: lrmm_model::device::device(args.device)?,
        out_dir: args.out.clone(),
        progress: args.verbosity.progress(),
        interrupt_after: args.stop_after_epochs,
        lrmm_version: info.version(),
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
