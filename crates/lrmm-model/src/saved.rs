//! The saved-model format of the training stage's output folder: the file names, `config.json`
//! ([`SavedModel`]: every hyperparameter and where the model came from) and the input hashes
//! that tie a model to the artifacts it was trained on.

use std::collections::BTreeMap;
use std::path::Path;

use lrmm_core::ArtifactDir;
use serde::{Deserialize, Serialize};

use crate::config::Config;
use crate::error::Result;
use crate::model::DataDims;

/// The trained weights; written last, so its existence means the stage finished.
pub const MODEL_FILE: &str = "model.safetensors";
/// [`SavedModel`] as JSON.
pub const CONFIG_FILE: &str = "config.json";
/// One line per epoch (`crate::training::EpochLog`).
pub const LOG_FILE: &str = "train_log.csv";

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
    /// (reg_u, reg_i) of the baseline offsets' fit, with `model.baseline_biases` (Surprise's
    /// defaults, or the pair chosen on validation with `model.baseline_reg = "validation"`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub baseline_reg: Option<[f64; 2]>,
    /// The lrmm build that trained the model (`--version` of lrmm-train: version, git commit,
    /// cargo features); empty in a config.json written before it was recorded.
    #[serde(default)]
    pub lrmm_version: String,
    /// The `__metadata__` of the image features trained on (the VGG, its weights and their
    /// sha256, the preprocessing), so that features of new images are made the same way; empty
    /// in a config.json written before it was recorded.
    #[serde(default)]
    pub image_features: BTreeMap<String, String>,
}

impl SavedModel {
    /// Reads `model_dir/config.json`.
    pub fn read(model_dir: &Path) -> Result<Self> {
        Ok(lrmm_core::atomic::read_json(&model_dir.join(CONFIG_FILE))?)
    }

    /// Writes `model_dir/config.json` atomically.
    pub fn write(&self, model_dir: &Path) -> Result<()> {
        Ok(lrmm_core::atomic::write_json(
            &model_dir.join(CONFIG_FILE),
            self,
        )?)
    }
}

/// sha256 of a file, hex.
pub fn sha256_file(path: &Path) -> Result<String> {
    Ok(lrmm_core::atomic::sha256_file(path)?)
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
