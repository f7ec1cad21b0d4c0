//! The training stage: epochs over the training split with m-drop, early stopping on the
//! validation RMSE (never the test split), checkpoints that an interrupted run resumes from, and
//! the artifacts `model.safetensors`, `config.json`, `train_log.csv`.

use std::collections::BTreeMap;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use candle_core::{DType, Device};
use indicatif::{ProgressBar, ProgressStyle};
use lrmm_core::{ArtifactDir, SeededRng, Split};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::config::Config;
use crate::data::{spawn_batches, Dataset, TrainNoise};
use crate::inference::predict_rows;
use crate::init::{load_safetensors, save_safetensors};
use crate::model::{DataDims, Lrmm};
use crate::optim::Optimizer;
use crate::{ModelError, Result};

pub const MODEL_FILE: &str = "model.safetensors";
pub const CONFIG_FILE: &str = "config.json";
pub const LOG_FILE: &str = "train_log.csv";
const CHECKPOINT_FILE: &str = "checkpoint.safetensors";
const CHECKPOINT_STATE: &str = "checkpoint.json";
const BEST_FILE: &str = "best.safetensors";

/// `config.json`: every hyperparameter and where the model came from.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SavedModel {
    pub config: Config,
    pub dims: DataDims,
    pub seed: u64,
    /// sha256 of every input artifact, by file name.
    pub inputs: BTreeMap<String, String>,
    pub data_dir: String,
    pub device: String,
    pub n_train: usize,
    pub n_valid: usize,
    pub best_epoch: usize,
    pub best_valid_rmse: f64,
    pub best_valid_mae: f64,
    /// RMSE of the training mean on the validation split, for comparison.
    pub global_mean_valid_rmse: f64,
    pub epochs_run: usize,
}

impl SavedModel {
    pub fn read(model_dir: &Path) -> Result<Self> {
        Ok(lrmm_core::atomic::read_json(&model_dir.join(CONFIG_FILE))?)
    }
}

/// One line of `train_log.csv`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct EpochLog {
    pub epoch: usize,
    pub train_loss: f64,
    pub train_mse: f64,
    pub train_recon: f64,
    pub train_kl: f64,
    /// The learned loss weights after the epoch.
    pub alpha: f64,
    pub beta: f64,
    pub valid_rmse: f64,
    pub valid_mae: f64,
    pub seconds: f64,
    pub train_samples_per_s: f64,
}

const LOG_HEADER: &str = "epoch,train_loss,train_mse,train_recon,train_kl,alpha,beta,valid_rmse,valid_mae,seconds,train_samples_per_s";

fn log_csv(rows: &[EpochLog]) -> String {
    let mut s = String::from(LOG_HEADER);
    s.push('\n');
    for r in rows {
        s.push_str(&format!(
            "{},{:.6},{:.6},{:.6},{:.6},{:.6},{:.6},{:.6},{:.6},{:.3},{:.1}\n",
            r.epoch,
            r.train_loss,
            r.train_mse,
            r.train_recon,
            r.train_kl,
            r.alpha,
            r.beta,
            r.valid_rmse,
            r.valid_mae,
            r.seconds,
            r.train_samples_per_s
        ));
    }
    s
}

/// Progress of an interrupted run.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct CheckpointState {
    fingerprint: String,
    epochs_done: usize,
    best_epoch: usize,
    best_rmse: f64,
    best_mae: f64,
    since_best: usize,
    log: Vec<EpochLog>,
}

/// What a training run needs.
#[derive(Debug, Clone)]
pub struct TrainOptions {
    pub data_dir: PathBuf,
    pub config: Config,
    pub seed: u64,
    pub device: Device,
    pub out_dir: PathBuf,
    /// Show a progress bar (on a terminal).
    pub progress: bool,
    /// Stop after this many epochs in this invocation, leaving the checkpoint for a later run
    /// to resume from (time-boxed jobs; tests of resumption).
    pub interrupt_after: Option<usize>,
}

/// sha256 of a file, hex.
pub fn sha256_file(path: &Path) -> Result<String> {
    let mut f = std::fs::File::open(path).map_err(|e| ModelError::Io {
        path: path.to_path_buf(),
        source: e,
    })?;
    let mut h = Sha256::new();
    let mut buf = vec![0u8; 1 << 20];
    loop {
        let n = f.read(&mut buf).map_err(|e| ModelError::Io {
            path: path.to_path_buf(),
            source: e,
        })?;
        if n == 0 {
            break;
        }
        h.update(&buf[..n]);
    }
    Ok(format!("{:x}", h.finalize()))
}

/// The artifacts training reads, hashed into `config.json`.
pub fn input_hashes(dir: &ArtifactDir) -> Result<BTreeMap<String, String>> {
    let mut out = BTreeMap::new();
    for p in [
        dir.interactions(),
        dir.review_tokens(),
        dir.item_tokens(),
        dir.tokenizer(),
        dir.image_features(),
    ] {
        let name = p
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        out.insert(name, sha256_file(&p)?);
    }
    Ok(out)
}

fn device_name(d: &Device) -> String {
    match d {
        Device::Cpu => "cpu".into(),
        Device::Cuda(_) => "cuda".into(),
        Device::Metal(_) => "metal".into(),
    }
}

/// RMSE and MAE of predictions against the ratings of `rows` (0 for no rows).
pub fn rmse_mae(pred: &[f32], ds: &Dataset, rows: &[usize]) -> (f64, f64) {
    let truth: Vec<f32> = rows.iter().map(|&r| ds.rating[r]).collect();
    let m = lrmm_core::metrics::error_metrics(&pred[..truth.len()], &truth);
    (m.rmse.unwrap_or(0.0), m.mae.unwrap_or(0.0))
}

/// Trains a model on `data_dir` per `opts`, writing into `opts.out_dir`. Resumes from a
/// checkpoint left there by an interrupted run with the same config, seed and inputs.
pub fn train(opts: &TrainOptions) -> Result<SavedModel> {
    let dir = ArtifactDir::new(&opts.data_dir);
    let cfg = &opts.config;
    cfg.validate()?;
    let inputs = input_hashes(&dir)?;
    let ds = Arc::new(Dataset::load(&dir, cfg.data.order)?);
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
    let dims = DataDims::of(&ds);
    let global_mean = vec![dims.rating_mean as f32; valid_rows.len()];
    let (global_rmse, _) = rmse_mae(&global_mean, &ds, &valid_rows);
    tracing::info!(
        train = train_rows.len(),
        valid = valid_rows.len(),
        vocab = dims.vocab_size,
        image_dim = dims.image_dim,
        "loaded {}; global-mean valid RMSE {global_rmse:.4}",
        opts.data_dir.display()
    );

    let model = Lrmm::new(&cfg.model, dims, opts.seed, DType::F32, &opts.device)?;
    let (mean, std) = ds.image_stats();
    model.set_image_stats(&mean, &std)?;
    if model.biases.is_some() {
        model.set_baseline(&ds.baseline_estimates())?;
    }
    let mut optim = Optimizer::new(&model.store.params, &cfg.train, cfg.loss.weight_decay)?;

    let fingerprint = {
        let mut h = Sha256::new();
        h.update(
            serde_json::to_vec(&(cfg, opts.seed, &inputs, &dims))
                .map_err(|e| ModelError::Invalid(e.to_string()))?,
        );
        format!("{:x}", h.finalize())
    };
    std::fs::create_dir_all(&opts.out_dir).map_err(|e| ModelError::Io {
        path: opts.out_dir.clone(),
        source: e,
    })?;
    let out = |name: &str| opts.out_dir.join(name);
    let mut state = CheckpointState {
        fingerprint: fingerprint.clone(),
        epochs_done: 0,
        best_epoch: 0,
        best_rmse: f64::INFINITY,
        best_mae: f64::INFINITY,
        since_best: 0,
        log: Vec::new(),
    };
    if let Ok(previous) = lrmm_core::atomic::read_json::<CheckpointState>(&out(CHECKPOINT_STATE)) {
        if previous.fingerprint == fingerprint && out(CHECKPOINT_FILE).exists() {
            let map = load_safetensors(&out(CHECKPOINT_FILE))?;
            model.store.load_from(&map, &out(CHECKPOINT_FILE))?;
            optim.load_state(&map)?;
            tracing::info!(
                "resuming after epoch {} (best valid RMSE {:.4} at epoch {})",
                previous.epochs_done,
                previous.best_rmse,
                previous.best_epoch
            );
            state = previous;
        } else {
            tracing::warn!(
                "ignoring the checkpoint in {}: other config, seed or inputs",
                opts.out_dir.display()
            );
        }
    }

    let docs = cfg.data.clone();
    let batch_size = cfg.train.batch_size;
    let mut epoch = state.epochs_done;
    let first_epoch = epoch;
    while epoch < cfg.train.max_epochs && state.since_best < cfg.train.patience.max(1) {
        epoch += 1;
        let started = Instant::now();
        let mut rows = train_rows.clone();
        SeededRng::derive(opts.seed, &format!("shuffle/{epoch}")).shuffle(&mut rows);
        let noise = TrainNoise {
            mdrop: cfg.mdrop.as_array(),
            dropout: cfg.model.dropout,
            hidden: cfg.model.hidden,
            rng: SeededRng::derive(opts.seed, &format!("noise/{epoch}")),
        };
        let (batches, worker) =
            spawn_batches(ds.clone(), rows, batch_size, docs.clone(), Some(noise));
        let bar = if opts.progress {
            ProgressBar::new(train_rows.len() as u64)
        } else {
            ProgressBar::hidden()
        };
        bar.set_style(
            ProgressStyle::with_template(
                "epoch {msg} [{bar:30}] {pos}/{len} samples, {per_sec}, eta {eta}",
            )
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
        );
        bar.set_message(format!("{epoch}/{}", cfg.train.max_epochs));
        let mut sums = [0f64; 4];
        let mut seen = 0usize;
        for (i, batch) in batches.iter().enumerate() {
            let b = batch.size();
            let dev = batch.to_device(&opts.device, DType::F32, ds.image_dim, cfg.model.hidden)?;
            let fwd = model.forward(&dev)?;
            let loss = model.loss(&fwd, &dev, &cfg.loss)?;
            let parts = [&loss.total, &loss.mse, &loss.recon, &loss.kl]
                .map(|t| t.to_dtype(DType::F64).and_then(|t| t.to_scalar::<f64>()));
            let [total, mse, recon, kl] =
                [0, 1, 2, 3].map(|k| parts[k].as_ref().map(|v| *v).unwrap_or(f64::NAN));
            if !total.is_finite() {
                bar.abandon();
                return Err(ModelError::NonFinite(format!(
                    "epoch {epoch}, batch {i}: loss {total} (mse {mse}, reconstruction {recon}, kl {kl}); lower train.learning_rate in the config or check the inputs"
                )));
            }
            let grads = loss.total.backward()?;
            optim.step(&grads)?;
            for (s, v) in sums.iter_mut().zip([total, mse, recon, kl]) {
                *s += v * b as f64;
            }
            seen += b;
            bar.inc(b as u64);
        }
        bar.finish_and_clear();
        worker
            .join()
            .map_err(|_| ModelError::Invalid("the batch thread panicked".into()))?;
        let train_seconds = started.elapsed().as_secs_f64();

        let pred = predict_rows(
            &model,
            &ds,
            &valid_rows,
            &[],
            &docs,
            cfg.train.eval_batch_size,
        )?;
        let (rmse, mae) = rmse_mae(&pred, &ds, &valid_rows);
        if !rmse.is_finite() {
            return Err(ModelError::NonFinite(format!("epoch {epoch}: validation RMSE is {rmse}; lower train.learning_rate in the config or check the inputs")));
        }
        let scalar = |t: &candle_core::Tensor| -> Result<f64> {
            Ok(t.to_dtype(DType::F64)?.to_scalar::<f64>()?)
        };
        let row = EpochLog {
            epoch,
            train_loss: sums[0] / seen as f64,
            train_mse: sums[1] / seen as f64,
            train_recon: sums[2] / seen as f64,
            train_kl: sums[3] / seen as f64,
            alpha: (-scalar(&model.s_reg)?).exp(),
            beta: (-scalar(&model.s_rec)?).exp(),
            valid_rmse: rmse,
            valid_mae: mae,
            seconds: started.elapsed().as_secs_f64(),
            train_samples_per_s: seen as f64 / train_seconds,
        };
        tracing::info!(
            "epoch {epoch}: train mse {:.4} recon {:.4} kl {:.3} | valid RMSE {rmse:.4} MAE {mae:.4} (global mean {global_rmse:.4}) | {:.1} samples/s",
            row.train_mse,
            row.train_recon,
            row.train_kl,
            row.train_samples_per_s
        );
        state.log.push(row);
        if rmse < state.best_rmse {
            state.best_rmse = rmse;
            state.best_mae = mae;
            state.best_epoch = epoch;
            state.since_best = 0;
            save_safetensors(&out(BEST_FILE), &model.store.tensors())?;
        } else {
            state.since_best += 1;
        }
        state.epochs_done = epoch;
        let mut ckpt = model.store.tensors();
        ckpt.extend(optim.state()?);
        save_safetensors(&out(CHECKPOINT_FILE), &ckpt)?;
        lrmm_core::atomic::write_json(&out(CHECKPOINT_STATE), &state)?;
        let csv = log_csv(&state.log);
        lrmm_core::atomic::write_atomic(&out(LOG_FILE), |w| {
            std::io::Write::write_all(w, csv.as_bytes())
        })?;
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
    };
    lrmm_core::atomic::write_json(&out(CONFIG_FILE), &saved)?;
    // The model file is written last: its existence means the stage finished.
    let best = out(BEST_FILE);
    let bytes = std::fs::read(&best).map_err(|e| ModelError::Io {
        path: best.clone(),
        source: e,
    })?;
    lrmm_core::atomic::write_atomic(&out(MODEL_FILE), |w| std::io::Write::write_all(w, &bytes))?;
    for f in [CHECKPOINT_FILE, CHECKPOINT_STATE, BEST_FILE] {
        let _ = std::fs::remove_file(out(f));
    }
    tracing::info!(
        "best valid RMSE {:.4} (MAE {:.4}) at epoch {} of {}; global mean {global_rmse:.4}; wrote {}",
        saved.best_valid_rmse,
        saved.best_valid_mae,
        saved.best_epoch,
        saved.epochs_run,
        out(MODEL_FILE).display()
    );
    Ok(saved)
}
