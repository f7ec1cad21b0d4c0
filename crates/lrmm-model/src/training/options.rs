//! [`TrainOptions`]: what a training run is asked to do.

use std::path::PathBuf;

use candle_core::Device;

use crate::config::Config;

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
    /// Recorded in config.json as `lrmm_version` (lrmm-train passes its `--version`).
    pub lrmm_version: String,
}
