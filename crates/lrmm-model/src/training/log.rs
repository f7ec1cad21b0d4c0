//! `train_log.csv`: one [`EpochLog`] line per epoch, rewritten whole after every epoch.

use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::error::Result;

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

/// The CSV text of `rows`, header first.
pub fn log_csv(rows: &[EpochLog]) -> String {
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

/// Writes `rows` to `path` atomically.
pub fn write_log(path: &Path, rows: &[EpochLog]) -> Result<()> {
    let csv = log_csv(rows);
    lrmm_core::atomic::write_atomic(path, |w| std::io::Write::write_all(w, csv.as_bytes()))?;
    Ok(())
}
