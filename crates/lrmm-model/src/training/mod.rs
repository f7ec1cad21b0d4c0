//! The training stage: epochs over the training split with m-drop, early stopping on the
//! validation RMSE (never the test split), checkpoints that an interrupted run resumes from, and
//! the artifacts `model.safetensors`, `config.json`, `train_log.csv`.
//!
//! [`train`] is the orchestration; its parts, each depending only on those above it:
//! * `options` — [`TrainOptions`];
//! * `log` — [`EpochLog`], the lines of `train_log.csv`;
//! * `checkpoint` — resuming from and saving to the output folder;
//! * `epoch` — one pass over the shuffled training rows;
//! * `validation` — the validation pass ([`rmse_mae`]).

mod checkpoint;
mod epoch;
mod log;
mod options;
mod validation;

use std::sync::Arc;
use std::time::Instant;

use candle_core::{DType, Device, Tensor};
use lrmm_core::{ArtifactDir, Split};

use self::checkpoint::{Checkpoint, CheckpointState};
use self::epoch::{run_epoch, EpochLosses};
use self::log::write_log;
use self::validation::{global_mean_rmse, validate};
use crate::config::BaselineReg;
use crate::data::Dataset;
use crate::error::{ModelError, Result};
use crate::model::{DataDims, Lrmm};
use crate::optim::Optimizer;

pub use self::log::EpochLog;
pub use self::options::TrainOptions;
pub use self::validation::rmse_mae;
// The saved-model format, at its former paths for callers of `lrmm_model::training::*`.
pub use crate::saved::{input_hashes, sha256_file, SavedModel, CONFIG_FILE, LOG_FILE, MODEL_FILE};

fn device_name(d: &Device) -> String {
    match d {
        Device::Cpu => "cpu".into(),
        Device::Cuda(_) => "cuda".into(),
        Device::Metal(_) => "metal".into(),
    }
}

/// The training and validation rows of a dataset; an empty split is an error naming the file.
fn split_rows(ds: &Dataset, dir: &ArtifactDir) -> Result<(Vec<usize>, Vec<usize>)> {
    let train_rows = ds.rows(Split::Train);
    let valid_rows = ds.rows(Split::Valid);
    if train_rows.is_empty() {
        return Err(ModelError::bad(
            dir.interactions(),
            "no training interactions",
        ));
    }
    if valid_rows.is_empty() {
        return Err(ModelError::bad(
            dir.interactions(),
            "no validation interactions: early stopping needs a valid split",
        ));
    }
    Ok((train_rows, valid_rows))
}

/// A model with seeded initial weights and the statistics of the training split set, and the
/// (reg_u, reg_i) of its baseline offsets (with `model.baseline_biases`).
fn initial_model(
    opts: &TrainOptions,
    dims: DataDims,
    ds: &Dataset,
    valid_rows: &[usize],
) -> Result<(Lrmm, Option<[f64; 2]>)> {
    let model = Lrmm::new(
        &opts.config.model,
        dims,
        opts.seed,
        DType::F32,
        &opts.device,
    )?;
    let (mean, std) = ds.image_stats();
    model.set_image_stats(&mean, &std)?;
    let mut baseline_reg = None;
    if model.biases.is_some() {
        let (estimates, reg) = baseline_offsets(opts.config.model.baseline_reg, ds, valid_rows);
        model.set_baseline(&estimates)?;
        baseline_reg = Some(reg);
    } else if opts.config.model.baseline_reg == BaselineReg::Validation {
        tracing::warn!(
            "model.baseline_reg = \"validation\" does nothing without model.baseline_biases = true"
        );
    }
    Ok((model, baseline_reg))
}

/// The baseline offsets fitted on the training ratings with `reg`'s regularisation, and that
/// (reg_u, reg_i): Surprise's defaults, or the pair chosen on `valid_rows`.
fn baseline_offsets(
    reg: BaselineReg,
    ds: &Dataset,
    valid_rows: &[usize],
) -> (lrmm_core::baseline::BaselineEstimates, [f64; 2]) {
    let surprise = lrmm_core::baseline::BaselineParams::default();
    match reg {
        BaselineReg::Surprise => (ds.baseline_estimates(), [surprise.reg_u, surprise.reg_i]),
        BaselineReg::Validation => {
            let fit = ds.baseline_on_validation(valid_rows);
            let surprise_rmse = fit
                .candidates
                .iter()
                .find(|c| (c.reg_u, c.reg_i) == (surprise.reg_u, surprise.reg_i))
                .map_or(f64::NAN, |c| c.valid_rmse);
            tracing::info!(
                "baseline offsets: reg_u {} reg_i {} chosen on validation (offsets alone: valid RMSE {:.4}; with Surprise's defaults {surprise_rmse:.4})",
                fit.chosen.reg_u,
                fit.chosen.reg_i,
                fit.chosen.valid_rmse,
            );
            (fit.estimates, [fit.chosen.reg_u, fit.chosen.reg_i])
        }
    }
}

/// The log line of a finished epoch.
fn epoch_log(
    epoch: usize,
    losses: &EpochLosses,
    model: &Lrmm,
    (rmse, mae): (f64, f64),
    seconds: f64,
    train_seconds: f64,
) -> Result<EpochLog> {
    let scalar = |t: &Tensor| -> Result<f64> { Ok(t.to_dtype(DType::F64)?.to_scalar::<f64>()?) };
    let [train_loss, train_mse, train_recon, train_kl] = losses.means();
    Ok(EpochLog {
        epoch,
        train_loss,
        train_mse,
        train_recon,
        train_kl,
        alpha: (-scalar(&model.s_reg)?).exp(),
        beta: (-scalar(&model.s_rec)?).exp(),
        valid_rmse: rmse,
        valid_mae: mae,
        seconds,
        train_samples_per_s: losses.samples as f64 / train_seconds,
    })
}

/// Writes `config.json`, then promotes the best weights to `model.safetensors` (last: its
/// existence means the stage finished) and removes the checkpoint.
fn finish(opts: &TrainOptions, checkpoint: &Checkpoint, saved: &SavedModel) -> Result<()> {
    saved.write(&opts.out_dir)?;
    checkpoint.promote_best(&opts.out_dir.join(MODEL_FILE))?;
    checkpoint.remove();
    Ok(())
}

/// Trains a model on `data_dir` per `opts`, writing into `opts.out_dir`. Resumes from a
/// checkpoint left there by an interrupted run with the same config, seed and inputs.
pub fn train(opts: &TrainOptions) -> Result<SavedModel> {
    let dir = ArtifactDir::new(&opts.data_dir);
    let cfg = &opts.config;
    cfg.validate()?;
    let inputs = input_hashes(&dir)?;
    let ds = Arc::new(Dataset::load(&dir, cfg.data.order)?);
    let (train_rows, valid_rows) = split_rows(&ds, &dir)?;
    let dims = DataDims::of(&ds);
    let global_rmse = global_mean_rmse(&ds, &valid_rows, dims.rating_mean);
    tracing::info!(
        train = train_rows.len(),
        valid = valid_rows.len(),
        vocab = dims.vocab_size,
        image_dim = dims.image_dim,
        "loaded {}; global-mean valid RMSE {global_rmse:.4}",
        opts.data_dir.display()
    );

    let (model, baseline_reg) = initial_model(opts, dims, &ds, &valid_rows)?;
    let mut optim = Optimizer::new(&model.store.params, &cfg.train, cfg.loss.weight_decay)?;
    let checkpoint = Checkpoint::new(&opts.out_dir, cfg, opts.seed, &inputs, &dims)?;
    let mut state: CheckpointState = checkpoint.resume(&model, &mut optim)?;

    let first_epoch = state.epochs_done;
    while state.epochs_done < cfg.train.max_epochs && state.since_best < cfg.train.patience.max(1) {
        let epoch = state.epochs_done + 1;
        let started = Instant::now();
        let losses = run_epoch(&model, &mut optim, &ds, &train_rows, opts, epoch)?;
        let train_seconds = started.elapsed().as_secs_f64();
        let (rmse, mae) = validate(&model, &ds, &valid_rows, cfg, epoch)?;
        let row = epoch_log(
            epoch,
            &losses,
            &model,
            (rmse, mae),
            started.elapsed().as_secs_f64(),
            train_seconds,
        )?;
        tracing::info!(
            "epoch {epoch}: train mse {:.4} recon {:.4} kl {:.3} | valid RMSE {rmse:.4} MAE {mae:.4} (global mean {global_rmse:.4}) | {:.1} samples/s",
            row.train_mse,
            row.train_recon,
            row.train_kl,
            row.train_samples_per_s
        );
        if state.record(row) {
            checkpoint.save_best(&model)?;
        }
        checkpoint.save(&model, &optim, &state)?;
        write_log(&opts.out_dir.join(LOG_FILE), &state.log)?;
        if opts.interrupt_after == Some(epoch - first_epoch) {
            return Err(ModelError::Interrupted(epoch));
        }
    }

    let saved = SavedModel {
        config: cfg.clone(),
        dims,
        seed: opts.seed,
        inputs,
        data_dir: opts.data_dir.display().to_string(),
        device: device_name(&opts.device),
        n_train: train_rows.len(),
        n_valid: valid_rows.len(),
        best_epoch: state.best_epoch,
        best_valid_rmse: state.best_rmse,
        best_valid_mae: state.best_mae,
        global_mean_valid_rmse: global_rmse,
        epochs_run: state.epochs_done,
        baseline_reg,
        lrmm_version: opts.lrmm_version.clone(),
        image_features: lrmm_core::image_features::ImageFeatures::read(
            &lrmm_core::ArtifactDir::new(&opts.data_dir).image_features(),
        )?
        .1,
    };
    finish(opts, &checkpoint, &saved)?;
    tracing::info!(
        "best valid RMSE {:.4} (MAE {:.4}) at epoch {} of {}; global mean {global_rmse:.4}; wrote {}",
        saved.best_valid_rmse,
        saved.best_valid_mae,
        saved.best_epoch,
        saved.epochs_run,
        opts.out_dir.join(MODEL_FILE).display()
    );
    Ok(saved)
}
