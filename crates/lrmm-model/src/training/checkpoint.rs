//! [`Checkpoint`]: what an interrupted training run leaves in its output folder, and resumes
//! from — the weights with the optimiser state, the progress ([`CheckpointState`]) and the best
//! weights so far — valid only for the same config, seed, inputs and data sizes (its fingerprint).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::log::EpochLog;
use crate::config::Config;
use crate::error::{ModelError, Result};
use crate::init::{load_safetensors, save_safetensors};
use crate::model::{DataDims, Lrmm};
use crate::optim::Optimizer;

/// The weights and optimiser state after the last finished epoch.
const CHECKPOINT_FILE: &str = "checkpoint.safetensors";
/// [`CheckpointState`] as JSON.
const CHECKPOINT_STATE: &str = "checkpoint.json";
/// The weights of the best epoch so far (by validation RMSE).
const BEST_FILE: &str = "best.safetensors";

/// Progress of an interrupted run.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CheckpointState {
    fingerprint: String,
    pub epochs_done: usize,
    pub best_epoch: usize,
    pub best_rmse: f64,
    pub best_mae: f64,
    /// Epochs since the best one (early stopping counts these).
    pub since_best: usize,
    pub log: Vec<EpochLog>,
}

impl CheckpointState {
    /// A run that has not started.
    fn fresh(fingerprint: &str) -> Self {
        Self {
            fingerprint: fingerprint.to_string(),
            epochs_done: 0,
            best_epoch: 0,
            best_rmse: f64::INFINITY,
            best_mae: f64::INFINITY,
            since_best: 0,
            log: Vec::new(),
        }
    }

    /// Records a finished epoch; returns whether its validation RMSE is the best so far.
    pub fn record(&mut self, row: EpochLog) -> bool {
        let (epoch, rmse, mae) = (row.epoch, row.valid_rmse, row.valid_mae);
        self.log.push(row);
        let improved = rmse < self.best_rmse;
        if improved {
            self.best_rmse = rmse;
            self.best_mae = mae;
            self.best_epoch = epoch;
            self.since_best = 0;
        } else {
            self.since_best += 1;
        }
        self.epochs_done = epoch;
        improved
    }
}

/// The checkpoint files of one output folder, for one fingerprint.
#[derive(Debug, Clone)]
pub struct Checkpoint {
    dir: PathBuf,
    fingerprint: String,
}

impl Checkpoint {
    /// The checkpoint of a run of `config` with `seed` on inputs with these hashes and sizes,
    /// in `out_dir` (created if absent).
    pub fn new(
        out_dir: &Path,
        config: &Config,
        seed: u64,
        inputs: &BTreeMap<String, String>,
        dims: &DataDims,
    ) -> Result<Self> {
        let fingerprint = {
            let mut h = Sha256::new();
            h.update(
                serde_json::to_vec(&(config, seed, inputs, dims))
                    .map_err(|e| ModelError::Invalid(e.to_string()))?,
            );
            format!("{:x}", h.finalize())
        };
        std::fs::create_dir_all(out_dir).map_err(|e| ModelError::io(out_dir, e))?;
        Ok(Self {
            dir: out_dir.to_path_buf(),
            fingerprint,
        })
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.join(name)
    }

    /// The progress to continue from: a checkpoint of the same fingerprint, loaded into `model`
    /// and `optim`, or a fresh start (with a warning when a checkpoint of another run is there).
    pub fn resume(&self, model: &Lrmm, optim: &mut Optimizer) -> Result<CheckpointState> {
        let Ok(previous) =
            lrmm_core::atomic::read_json::<CheckpointState>(&self.path(CHECKPOINT_STATE))
        else {
            return Ok(CheckpointState::fresh(&self.fingerprint));
        };
        let weights = self.path(CHECKPOINT_FILE);
        if previous.fingerprint == self.fingerprint && weights.exists() {
            let map = load_safetensors(&weights)?;
            model.store.load_from(&map, &weights)?;
            optim.load_state(&map)?;
            tracing::info!(
                "resuming after epoch {} (best valid RMSE {:.4} at epoch {})",
                previous.epochs_done,
                previous.best_rmse,
                previous.best_epoch
            );
            Ok(previous)
        } else {
            tracing::warn!(
                "ignoring the checkpoint in {}: other config, seed or inputs",
                self.dir.display()
            );
            Ok(CheckpointState::fresh(&self.fingerprint))
        }
    }

    /// Saves the weights as the best so far.
    pub fn save_best(&self, model: &Lrmm) -> Result<()> {
        save_safetensors(&self.path(BEST_FILE), &model.store.tensors())
    }

    /// Saves the weights with the optimiser state, then `state`.
    pub fn save(&self, model: &Lrmm, optim: &Optimizer, state: &CheckpointState) -> Result<()> {
        let mut tensors = model.store.tensors();
        tensors.extend(optim.state()?);
        save_safetensors(&self.path(CHECKPOINT_FILE), &tensors)?;
        lrmm_core::atomic::write_json(&self.path(CHECKPOINT_STATE), state)?;
        Ok(())
    }

    /// Copies the best weights to `model_file`, atomically, byte for byte.
    pub fn promote_best(&self, model_file: &Path) -> Result<()> {
        let best = self.path(BEST_FILE);
        let bytes = std::fs::read(&best).map_err(|e| ModelError::io(&best, e))?;
        lrmm_core::atomic::write_atomic(model_file, |w| std::io::Write::write_all(w, &bytes))?;
        Ok(())
    }

    /// Deletes the checkpoint files (after a finished run); absent files are fine.
    pub fn remove(&self) {
        for f in [CHECKPOINT_FILE, CHECKPOINT_STATE, BEST_FILE] {
            let _ = std::fs::remove_file(self.path(f));
        }
    }
}
