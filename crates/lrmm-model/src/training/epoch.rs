//! One training epoch: the training rows in a seeded shuffle, batches with m-drop and dropout
//! assembled on a worker thread, a forward and backward pass and an optimiser step per batch.

use std::sync::Arc;

use candle_core::{DType, Tensor};
use indicatif::{ProgressBar, ProgressStyle};
use lrmm_core::SeededRng;

use super::options::TrainOptions;
use crate::data::{spawn_batches, Dataset, TrainNoise};
use crate::error::{ModelError, Result};
use crate::model::Lrmm;
use crate::optim::Optimizer;

/// The loss parts of an epoch, summed over samples (each batch's mean times its size).
#[derive(Debug, Clone, Copy, Default)]
pub struct EpochLosses {
    pub total: f64,
    pub mse: f64,
    pub recon: f64,
    pub kl: f64,
    /// Samples trained on.
    pub samples: usize,
}

impl EpochLosses {
    /// Per-sample means (total, mse, recon, kl).
    pub fn means(&self) -> [f64; 4] {
        let n = self.samples as f64;
        [self.total / n, self.mse / n, self.recon / n, self.kl / n]
    }
}

/// The progress bar of one epoch (hidden unless asked for).
fn progress_bar(show: bool, samples: usize, epoch: usize, max_epochs: usize) -> ProgressBar {
    let bar = if show {
        ProgressBar::new(samples as u64)
    } else {
        ProgressBar::hidden()
    };
    bar.set_style(
        ProgressStyle::with_template(
            "epoch {msg} [{bar:30}] {pos}/{len} samples, {per_sec}, eta {eta}",
        )
        .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    bar.set_message(format!("{epoch}/{max_epochs}"));
    bar
}

/// A scalar tensor's value, NaN when it cannot be read (so the divergence check reports it).
fn scalar_or_nan(t: &Tensor) -> f64 {
    t.to_dtype(DType::F64)
        .and_then(|t| t.to_scalar::<f64>())
        .unwrap_or(f64::NAN)
}

/// Trains `model` for epoch `epoch` (1-based) on `train_rows`. The shuffle and the noise come
/// from streams derived from the seed and the epoch, so a resumed run repeats them exactly.
pub fn run_epoch(
    model: &Lrmm,
    optim: &mut Optimizer,
    ds: &Arc<Dataset>,
    train_rows: &[usize],
    opts: &TrainOptions,
    epoch: usize,
) -> Result<EpochLosses> {
    let cfg = &opts.config;
    let mut rows = train_rows.to_vec();
    SeededRng::derive(opts.seed, &format!("shuffle/{epoch}")).shuffle(&mut rows);
    let noise = TrainNoise {
        mdrop: cfg.mdrop,
        dropout: cfg.model.dropout,
        hidden: cfg.model.hidden,
        rng: SeededRng::derive(opts.seed, &format!("noise/{epoch}")),
    };
    let (batches, worker) = spawn_batches(
        ds.clone(),
        rows,
        cfg.train.batch_size,
        cfg.data.clone(),
        Some(noise),
    );
    let bar = progress_bar(opts.progress, train_rows.len(), epoch, cfg.train.max_epochs);
    let mut sums = EpochLosses::default();
    for (i, batch) in batches.iter().enumerate() {
        let b = batch.size();
        let dev = batch.to_device(&opts.device, DType::F32)?;
        let fwd = model.forward(&dev)?;
        let loss = model.loss(&fwd, &dev, &cfg.loss)?;
        let [total, mse, recon, kl] =
            [&loss.total, &loss.mse, &loss.recon, &loss.kl].map(scalar_or_nan);
        if !total.is_finite() {
            bar.abandon();
            return Err(ModelError::NonFinite(format!(
                "epoch {epoch}, batch {i}: loss {total} (mse {mse}, reconstruction {recon}, kl {kl}); lower train.learning_rate in the config or check the inputs"
            )));
        }
        let grads = loss.total.backward()?;
        optim.step(&grads)?;
        sums.total += total * b as f64;
        sums.mse += mse * b as f64;
        sums.recon += recon * b as f64;
        sums.kl += kl * b as f64;
        sums.samples += b;
        bar.inc(b as u64);
    }
    bar.finish_and_clear();
    worker
        .join()
        .map_err(|_| ModelError::Invalid("the batch thread panicked".into()))?;
    Ok(sums)
}
