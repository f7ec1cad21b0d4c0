//! Training and model configuration: one TOML file per experiment in `pipelines/`, saved next to
//! the trained model inside `config.json`.

use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::lstm::LstmImpl;
use crate::{ModelError, Result};

/// A whole experiment configuration (`pipelines/*.toml`). Sections of other stages (e.g.
/// `[vocab]`, `[eval]`) are ignored here; unknown keys inside these sections are errors.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Config {
    pub model: ModelConfig,
    #[serde(default)]
    pub data: DataConfig,
    #[serde(default)]
    pub mdrop: MDropConfig,
    #[serde(default)]
    pub loss: LossConfig,
    pub train: TrainConfig,
}

/// Sizes of the network (paper section 3.3).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModelConfig {
    /// Word embedding size of each text encoder.
    pub word_dim: usize,
    /// LSTM hidden units = d, the size of every modality embedding (paper: 256).
    pub hidden: usize,
    /// Hidden units of each modality autoencoder (paper: 1024).
    pub ae_hidden: usize,
    /// Width of the shared layer (eq. 11).
    pub shared_dim: usize,
    /// Dropout after the recurrent layer (paper: 0.5).
    #[serde(default = "default_dropout")]
    pub dropout: f64,
    /// LSTM implementation (`auto`: fused on CPU, stepwise elsewhere).
    #[serde(default)]
    pub lstm: LstmImpl,
    /// Nonlinearity of the shared layer (eq. 11 leaves it open).
    #[serde(default)]
    pub shared_activation: Activation,
    /// Add the user's and the item's baseline offsets b_u + b_i to the score (not in the paper;
    /// docs/model.md): Koren's baseline estimates, fitted on the training ratings before training
    /// and then fixed, so the network learns the residual. b_u counts only while U is kept and b_i
    /// only while O is kept: m-drop and cold start remove them with the reviews.
    #[serde(default)]
    pub baseline_biases: bool,
}

/// Activation of the shared layer. `tanh` by default because its units cannot die; the first
/// (ReLU) version predicted a constant on Musical Instruments, though that run also suffered from
/// reconstruction gradients reaching the encoders (docs/model.md), so ReLU's share is unproven.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum Activation {
    #[default]
    Tanh,
    Relu,
}

fn default_dropout() -> f64 {
    0.5
}

/// How each sample's documents are assembled.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DataConfig {
    /// Tokens per document, L (paper: 100).
    pub max_len: usize,
    /// Include the target review in its own user and item documents, as the paper's
    /// concatenation does. Off by default: it leaks the rating's own text into the input.
    pub leak_target: bool,
    /// Which reviews fill the first L tokens.
    pub order: DocOrder,
}

impl Default for DataConfig {
    fn default() -> Self {
        Self {
            max_len: 100,
            leak_target: false,
            order: DocOrder::RecentFirst,
        }
    }
}

/// Order of the reviews concatenated into a user or item document (each review's own tokens
/// keep their order; the document is cut after `max_len` tokens).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DocOrder {
    /// Newest review first (ties by row order), so a long history keeps its latest reviews.
    RecentFirst,
    /// Oldest review first.
    OldestFirst,
}

/// m-drop: the probability p_m of dropping each modality of a training sample (eq. 13).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MDropConfig {
    pub user: f64,
    pub item: f64,
    pub meta: f64,
    pub image: f64,
}

impl Default for MDropConfig {
    fn default() -> Self {
        Self {
            user: 0.25,
            item: 0.25,
            meta: 0.25,
            image: 0.25,
        }
    }
}

impl MDropConfig {
    /// In modality order U, O, M, V.
    pub fn as_array(&self) -> [f64; 4] {
        [self.user, self.item, self.meta, self.image]
    }
}

/// Loss terms (eqs. 19–22).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LossConfig {
    /// λ of eq. 19, applied by the optimiser as λθ on the gradient (≡ λ/2‖θ‖² in the loss).
    pub weight_decay: f64,
    /// ρ of eq. 20.
    pub sparsity_target: f64,
    /// λ_ρ of eq. 21.
    pub sparsity_weight: f64,
}

impl Default for LossConfig {
    fn default() -> Self {
        Self {
            weight_decay: 1e-4,
            sparsity_target: 0.05,
            sparsity_weight: 0.01,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OptimizerKind {
    Adadelta,
    Adamw,
}

/// The optimisation loop.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TrainConfig {
    pub optimizer: OptimizerKind,
    /// ADADELTA: the factor on each update (1.0 is Zeiler's rule); AdamW: the step size.
    pub learning_rate: f64,
    pub batch_size: usize,
    pub max_epochs: usize,
    /// Stop after this many epochs without a better validation RMSE.
    pub patience: usize,
    #[serde(default = "default_rho")]
    pub adadelta_rho: f64,
    #[serde(default = "default_adadelta_eps")]
    pub adadelta_eps: f64,
    #[serde(default = "default_beta1")]
    pub adam_beta1: f64,
    #[serde(default = "default_beta2")]
    pub adam_beta2: f64,
    #[serde(default = "default_adam_eps")]
    pub adam_eps: f64,
    /// Batch size for validation and inference.
    #[serde(default = "default_eval_batch")]
    pub eval_batch_size: usize,
}

fn default_rho() -> f64 {
    0.9
}
fn default_adadelta_eps() -> f64 {
    1e-6
}
fn default_beta1() -> f64 {
    0.9
}
fn default_beta2() -> f64 {
    0.999
}
fn default_adam_eps() -> f64 {
    1e-8
}
fn default_eval_batch() -> usize {
    512
}

impl Config {
    /// Reads and validates a TOML config, naming the file in any error.
    pub fn from_toml_file(path: &Path) -> Result<Self> {
        let text = std::fs::read_to_string(path).map_err(|e| ModelError::Io {
            path: path.to_path_buf(),
            source: e,
        })?;
        Self::from_toml_str(&text).map_err(|e| match e {
            ModelError::Config { message, .. } => ModelError::Config {
                path: path.to_path_buf(),
                message,
            },
            other => other,
        })
    }

    pub fn from_toml_str(text: &str) -> Result<Self> {
        let config: Config = toml::from_str(text).map_err(|e| ModelError::Config {
            path: "<toml>".into(),
            message: e.to_string(),
        })?;
        config.validate()?;
        Ok(config)
    }

    /// Rejects values that would make training meaningless or crash later.
    pub fn validate(&self) -> Result<()> {
        let bad = |message: String| {
            Err(ModelError::Config {
                path: "<toml>".into(),
                message,
            })
        };
        let m = &self.model;
        if m.word_dim == 0 || m.hidden == 0 || m.ae_hidden == 0 || m.shared_dim == 0 {
            return bad("model sizes must be positive".into());
        }
        if !(0.0..1.0).contains(&m.dropout) {
            return bad(format!("model.dropout = {} is outside [0, 1)", m.dropout));
        }
        if self.data.max_len == 0 {
            return bad("data.max_len must be positive".into());
        }
        for (name, p) in ["user", "item", "meta", "image"]
            .iter()
            .zip(self.mdrop.as_array())
        {
            if !(0.0..=1.0).contains(&p) {
                return bad(format!("mdrop.{name} = {p} is not a probability"));
            }
        }
        let l = &self.loss;
        if !(l.sparsity_target > 0.0 && l.sparsity_target < 1.0) {
            return bad(format!(
                "loss.sparsity_target = {} must be in (0, 1)",
                l.sparsity_target
            ));
        }
        if l.weight_decay < 0.0 || l.sparsity_weight < 0.0 {
            return bad("loss weights must be non-negative".into());
        }
        let t = &self.train;
        if t.batch_size == 0 || t.eval_batch_size == 0 || t.max_epochs == 0 {
            return bad("train.batch_size, eval_batch_size and max_epochs must be positive".into());
        }
        if !(t.learning_rate > 0.0 && t.learning_rate.is_finite()) {
            return bad(format!(
                "train.learning_rate = {} must be positive",
                t.learning_rate
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SMALL: &str = r#"
        [model]
        word_dim = 8
        hidden = 16
        ae_hidden = 32
        shared_dim = 16
        [train]
        optimizer = "adamw"
        learning_rate = 0.01
        batch_size = 32
        max_epochs = 3
        patience = 2
    "#;

    #[test]
    fn defaults_follow_the_paper_and_bad_values_are_rejected() {
        let c = Config::from_toml_str(SMALL).unwrap();
        assert_eq!(
            c.loss,
            LossConfig {
                weight_decay: 1e-4,
                sparsity_target: 0.05,
                sparsity_weight: 0.01
            }
        );
        assert_eq!(c.data.max_len, 100);
        assert!(!c.data.leak_target);
        assert_eq!(c.model.dropout, 0.5);
        let err = Config::from_toml_str(&SMALL.replace(
            "[train]",
            "[mdrop]\nuser = 1.5\nitem = 0\nmeta = 0\nimage = 0\n[train]",
        ))
        .unwrap_err()
        .to_string();
        assert!(err.contains("mdrop.user"), "{err}");
        let err = Config::from_toml_str(&SMALL.replace("hidden = 16", "hiden = 16"))
            .unwrap_err()
            .to_string();
        assert!(err.contains("hiden"), "{err}");
    }

    #[test]
    fn shipped_pipelines_parse() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../pipelines");
        for name in ["default.toml", "paper.toml"] {
            let c =
                Config::from_toml_file(&root.join(name)).unwrap_or_else(|e| panic!("{name}: {e}"));
            if name == "paper.toml" {
                assert_eq!(
                    (
                        c.model.hidden,
                        c.model.ae_hidden,
                        c.data.max_len,
                        c.train.batch_size
                    ),
                    (256, 1024, 100, 256)
                );
                assert_eq!(c.train.optimizer, OptimizerKind::Adadelta);
            }
        }
    }
}
