//! Training and model configuration: one TOML file per experiment in `pipelines/`, saved next to
//! the trained model inside `config.json`.

use std::path::{Path, PathBuf};

use lrmm_core::PerModality;
use serde::{Deserialize, Serialize};
use toml::{Table, Value};

use crate::lstm::LstmImpl;
use crate::{ModelError, Result};

/// A whole experiment configuration (`pipelines/*.toml`). Sections of other stages (e.g.
/// `[vocab]`, `[eval]`) are ignored here; unknown keys inside these sections are errors.
///
/// Configs are written by difference: a top-level `base = "default.toml"` (relative to the file's
/// own folder) names the config this file is merged over, and `--set SECTION.KEY=VALUE`
/// overrides apply after that ([`Config::load`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Config {
    pub model: ModelConfig,
    #[serde(default)]
    pub data: DataConfig,
    #[serde(default = "default_mdrop")]
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
    /// LSTM implementation (`auto`: the fused op on the CPU, the recurrence kernels on CUDA,
    /// stepwise elsewhere; `fused`, `stepwise`, `recurrence`).
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
    /// How the baseline offsets' ALS regularisation is set (with `baseline_biases`).
    #[serde(default)]
    pub baseline_reg: BaselineReg,
}

/// The regularisation (reg_u, reg_i) of the baseline offsets' ALS fit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum BaselineReg {
    /// Surprise's `BaselineOnly` defaults (15, 10): the evaluation's Biases baseline.
    #[default]
    Surprise,
    /// The pair of `lrmm_core::baseline::REG_GRID` whose offsets alone score the lowest RMSE on
    /// the validation split (small categories with few ratings per user want far less shrinkage).
    Validation,
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

/// m-drop: the probability p_m of dropping each modality of a training sample (eq. 13), as
/// `[mdrop] user = … item = … meta = … image = …` (all four keys, no others).
pub type MDropConfig = PerModality<f64>;

/// p_m = 0.25 for every modality when a config has no `[mdrop]`.
pub fn default_mdrop() -> MDropConfig {
    PerModality::splat(0.25)
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
    /// Reads and validates a TOML config, naming the file in any error: [`Config::load`] without
    /// overrides.
    pub fn from_toml_file(path: &Path) -> Result<Self> {
        Self::load(path, &[])
    }

    /// Reads a config by difference and validates it: the file's `base` chain merged under it
    /// (tables key by key, recursively; scalars and arrays replaced), then each
    /// `SECTION.KEY=VALUE` of `overrides` in order (the value parsed as TOML, else taken as a
    /// string; see [`apply_override`]). Errors are [`ModelError::Config`] naming `path`, and in
    /// the message the override or base file at fault; an unreadable `path` is
    /// [`ModelError::Io`].
    pub fn load(path: &Path, overrides: &[String]) -> Result<Self> {
        let error = |message: String| ModelError::Config {
            path: path.to_path_buf(),
            message,
        };
        let (table, chain) = resolve_bases(path)?;
        let mut context = String::new();
        if chain.len() > 1 {
            let bases: Vec<String> = chain[1..].iter().map(|p| p.display().to_string()).collect();
            context += &format!(" (merged over {})", bases.join(", "));
        }
        let resolved = deserialize_merged(table.clone());
        let config = if overrides.is_empty() {
            resolved.map_err(|m| error(m + &context))?
        } else {
            // Overrides apply to the whole config, defaults included (so `--set data.max_len=…`
            // works on a file without [data]), and each one that makes a config that
            // deserialised stop doing so (an unknown key, a wrong type) is named in the error.
            let blame = resolved.is_ok();
            let mut table = match resolved {
                Ok(config) => Table::try_from(&config).map_err(|e| error(e.to_string()))?,
                Err(_) => table,
            };
            for spec in overrides {
                let at_fault = |m: String| error(format!("--set {spec}: {m}"));
                apply_override(&mut table, spec).map_err(at_fault)?;
                if blame {
                    deserialize_merged(table.clone()).map_err(at_fault)?;
                }
            }
            context += &format!(" (after --set {})", overrides.join(", --set "));
            deserialize_merged(table).map_err(|m| error(m + &context))?
        };
        config.validate().map_err(|e| match e {
            ModelError::Config { message, .. } => error(message + &context),
            other => other,
        })?;
        Ok(config)
    }

    /// Parses and validates one self-contained config (no `base`: that needs a file, see
    /// [`Config::load`]).
    pub fn from_toml_str(text: &str) -> Result<Self> {
        let error = |message: String| ModelError::Config {
            path: "<toml>".into(),
            message,
        };
        let config: Config = toml::from_str(text).map_err(|e| error(e.to_string()))?;
        if toml::from_str::<Table>(text).is_ok_and(|t| t.contains_key(BASE_KEY)) {
            return Err(error(format!(
                "`{BASE_KEY}` names a file relative to this one: load it with Config::load"
            )));
        }
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
        for (m, &p) in self.mdrop.iter() {
            if !(0.0..=1.0).contains(&p) {
                return bad(format!("mdrop.{} = {p} is not a probability", m.name()));
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

/// The top-level key naming the config a file is merged over, relative to the file's folder.
pub const BASE_KEY: &str = "base";

/// The sections [`Config`] reads: the only ones an override may name.
pub const SECTIONS: [&str; 5] = ["model", "data", "mdrop", "loss", "train"];

/// The TOML table of `path` with its `base` chain merged under it, and the chain (`path`
/// first). A missing or unreadable base, a syntax error, a `base` that is not a string and a
/// cycle are [`ModelError::Config`] errors naming the file that asked (or the file at fault).
fn resolve_bases(path: &Path) -> Result<(Table, Vec<PathBuf>)> {
    let mut chain: Vec<PathBuf> = Vec::new();
    let mut canonical: Vec<PathBuf> = Vec::new();
    let mut layers: Vec<Table> = Vec::new();
    let mut current = path.to_path_buf();
    loop {
        let text = match (std::fs::read_to_string(&current), chain.last()) {
            (Ok(text), _) => text,
            (Err(e), None) => {
                return Err(ModelError::Io {
                    path: current,
                    source: e,
                })
            }
            (Err(e), Some(asking)) => {
                return Err(ModelError::Config {
                    path: asking.clone(),
                    message: format!("cannot read its {BASE_KEY} {}: {e}", current.display()),
                })
            }
        };
        let here = current.canonicalize().unwrap_or_else(|_| current.clone());
        if let Some(first) = canonical.iter().position(|c| *c == here) {
            let mut names: Vec<String> = chain[first..]
                .iter()
                .map(|p| p.display().to_string())
                .collect();
            names.push(current.display().to_string());
            return Err(ModelError::Config {
                path: chain.last().cloned().unwrap_or_default(),
                message: format!("{BASE_KEY} cycle: {}", names.join(" → ")),
            });
        }
        let mut table: Table = toml::from_str(&text).map_err(|e| ModelError::Config {
            path: current.clone(),
            message: e.to_string().trim_end().to_string(),
        })?;
        let base = table.remove(BASE_KEY);
        chain.push(current.clone());
        canonical.push(here);
        layers.push(table);
        match base {
            None => break,
            Some(Value::String(name)) => {
                current = current.parent().unwrap_or(Path::new("")).join(name);
            }
            Some(other) => {
                return Err(ModelError::Config {
                    path: current,
                    message: format!(
                        "{BASE_KEY} must be a file name (a string), not a {}",
                        other.type_str()
                    ),
                })
            }
        }
    }
    let mut merged = layers.pop().unwrap_or_default();
    while let Some(layer) = layers.pop() {
        merge_tables(&mut merged, layer);
    }
    Ok((merged, chain))
}

/// Merges `over` into `into`: tables key by key, recursively; any other value (scalars,
/// arrays) replaces what was there.
pub fn merge_tables(into: &mut Table, over: Table) {
    for (key, value) in over {
        match value {
            Value::Table(inner) => match into.get_mut(&key) {
                Some(Value::Table(existing)) => merge_tables(existing, inner),
                _ => {
                    into.insert(key, Value::Table(inner));
                }
            },
            value => {
                into.insert(key, value);
            }
        }
    }
}

/// Applies one `SECTION.KEY=VALUE` override to a config table (keys may go deeper,
/// `a.b.c=…`). VALUE is parsed as a TOML value (`0.001`, `true`, `"oldest_first"`, `[1, 2]`)
/// and taken as a plain string when it is not one (`oldest_first`); a table value is merged
/// like a base. SECTION must be one of [`SECTIONS`]; unknown keys inside it are caught when the
/// table is deserialised. The error message is for the caller to prefix with the override.
pub fn apply_override(table: &mut Table, spec: &str) -> std::result::Result<(), String> {
    let (key, text) = spec
        .split_once('=')
        .ok_or_else(|| "expected SECTION.KEY=VALUE (no `=`)".to_string())?;
    let keys: Vec<&str> = key.split('.').map(str::trim).collect();
    if keys.len() < 2 || keys.iter().any(|k| k.is_empty()) {
        return Err(format!(
            "`{}` is not SECTION.KEY (expected SECTION.KEY=VALUE)",
            key.trim()
        ));
    }
    if !SECTIONS.contains(&keys[0]) {
        return Err(format!(
            "unknown section `{}` (the config has {})",
            keys[0],
            SECTIONS.join(", ")
        ));
    }
    let text = text.trim();
    let value = match toml::from_str::<Table>(&format!("value = {text}")) {
        Ok(parsed) if parsed.len() == 1 => parsed.into_iter().next().map(|(_, v)| v),
        _ => None,
    }
    .unwrap_or_else(|| Value::String(text.to_string()));
    let (last, parents) = keys.split_last().expect("two keys or more");
    let mut node = table;
    for (depth, key) in parents.iter().enumerate() {
        let entry = node
            .entry(key.to_string())
            .or_insert_with(|| Value::Table(Table::new()));
        node = match entry {
            Value::Table(inner) => inner,
            other => {
                return Err(format!(
                    "`{}` is a {}, not a table",
                    keys[..=depth].join("."),
                    other.type_str()
                ))
            }
        };
    }
    merge_tables(node, Table::from_iter([(last.to_string(), value)]));
    Ok(())
}

/// Deserialises a merged config table (no validation). toml names no section in errors from a
/// table, so the message names the first section that fails on its own, e.g. `[train] invalid
/// type: string "x", expected usize in `batch_size``.
fn deserialize_merged(table: Table) -> std::result::Result<Config, String> {
    fn section<T: serde::de::DeserializeOwned>(
        table: &Table,
        name: &str,
        _field: fn(&Config) -> &T,
    ) -> Option<String> {
        let value = table.get(name)?.clone();
        let error = value.try_into::<T>().err()?;
        Some(format!("[{name}] {}", one_line(&error)))
    }
    table.clone().try_into::<Config>().map_err(|e| {
        section(&table, "model", |c| &c.model)
            .or_else(|| section(&table, "data", |c| &c.data))
            .or_else(|| section(&table, "mdrop", |c| &c.mdrop))
            .or_else(|| section(&table, "loss", |c| &c.loss))
            .or_else(|| section(&table, "train", |c| &c.train))
            .unwrap_or_else(|| one_line(&e))
    })
}

/// toml's error text on one line (`… expected usize in `batch_size``).
fn one_line(error: &toml::de::Error) -> String {
    error.to_string().trim_end().replace('\n', " ")
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

    fn pipelines() -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../pipelines")
    }

    fn sets(overrides: &[&str]) -> Vec<String> {
        overrides.iter().map(|s| s.to_string()).collect()
    }

    fn load_pipeline(name: &str, overrides: &[&str]) -> Config {
        Config::load(&pipelines().join(name), &sets(overrides))
            .unwrap_or_else(|e| panic!("{name}: {e}"))
    }

    fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
        let path = dir.join(name);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, text).unwrap();
        path
    }

    fn config_error(result: Result<Config>) -> (PathBuf, String) {
        match result {
            Err(ModelError::Config { path, message }) => (path, message),
            other => panic!("expected a config error, got {other:?}"),
        }
    }

    #[test]
    fn every_shipped_pipeline_loads() {
        let mut names = Vec::new();
        for entry in std::fs::read_dir(pipelines()).unwrap() {
            let path = entry.unwrap().path();
            if path.extension().is_some_and(|e| e == "toml") {
                Config::load(&path, &[]).unwrap_or_else(|e| panic!("{e}"));
                names.push(path.file_name().unwrap().to_string_lossy().into_owned());
            }
        }
        names.sort();
        assert_eq!(
            names,
            [
                "default.toml",
                "gift_cards.toml",
                "magazine_subscriptions.toml",
                "mi.toml",
                "paper.toml",
                "table2.toml",
                "table3.toml"
            ]
        );
    }

    /// Each pipelines file resolves to its base plus exactly the differences it states; these
    /// are also the configs the full copies it replaced resolved to.
    #[test]
    fn pipelines_are_their_base_plus_their_differences() {
        let table2 = load_pipeline("default.toml", &["train.max_epochs=20", "train.patience=4"]);
        assert_eq!(load_pipeline("table2.toml", &[]), table2);
        let table3 = load_pipeline(
            "table2.toml",
            &[
                "mdrop.user=0.5",
                "mdrop.item=0.5",
                "mdrop.meta=0.5",
                "mdrop.image=0.5",
            ],
        );
        assert_eq!(load_pipeline("table3.toml", &[]), table3);
        let mi = load_pipeline(
            "default.toml",
            &[
                "model.baseline_biases=true",
                "model.baseline_reg=validation",
            ],
        );
        assert_eq!(load_pipeline("mi.toml", &[]), mi);
        assert_eq!(mi.model.baseline_reg, BaselineReg::Validation);
        let mut gift = mi.clone();
        gift.mdrop[lrmm_core::Modality::Meta] = 0.5;
        assert_eq!(load_pipeline("gift_cards.toml", &[]), gift);
        let mut magazine = mi;
        (
            magazine.model.hidden,
            magazine.model.shared_dim,
            magazine.model.ae_hidden,
        ) = (32, 32, 128);
        assert_eq!(load_pipeline("magazine_subscriptions.toml", &[]), magazine);
    }

    /// paper.toml states only what differs from default.toml: this pins the whole resolved
    /// config, so a change to default.toml that would move the paper's settings fails here.
    #[test]
    fn paper_config_keeps_the_papers_values() {
        let c = load_pipeline("paper.toml", &[]);
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
        let paper = serde_json::json!({
            "model": {
                "word_dim": 128, "hidden": 256, "ae_hidden": 1024, "shared_dim": 256,
                "dropout": 0.5, "lstm": "auto", "shared_activation": "tanh",
                "baseline_biases": false, "baseline_reg": "surprise"
            },
            "data": { "max_len": 100, "leak_target": false, "order": "recent_first" },
            "mdrop": { "user": 0.25, "item": 0.25, "meta": 0.25, "image": 0.25 },
            "loss": { "weight_decay": 1e-4, "sparsity_target": 0.05, "sparsity_weight": 0.01 },
            "train": {
                "optimizer": "adadelta", "learning_rate": 1.0, "batch_size": 256,
                "max_epochs": 30, "patience": 3, "adadelta_rho": 0.9, "adadelta_eps": 1e-6,
                "adam_beta1": 0.9, "adam_beta2": 0.999, "adam_eps": 1e-8, "eval_batch_size": 512
            }
        });
        assert_eq!(serde_json::to_value(&c).unwrap(), paper);
    }

    #[test]
    fn base_is_merged_key_by_key() {
        let dir = tempfile::tempdir().unwrap();
        write(dir.path(), "base.toml", SMALL);
        let child = write(
            dir.path(),
            "child.toml",
            "base = \"base.toml\"  # merged under this file\n[model]\nhidden = 24\n\
             [data]\nmax_len = 7\nleak_target = true\norder = \"oldest_first\"\n",
        );
        let mut expected = Config::from_toml_str(SMALL).unwrap();
        expected.model.hidden = 24;
        expected.data = DataConfig {
            max_len: 7,
            leak_target: true,
            order: DocOrder::OldestFirst,
        };
        assert_eq!(Config::load(&child, &[]).unwrap(), expected);
        assert_eq!(Config::from_toml_file(&child).unwrap(), expected);

        // Tables merge recursively, key by key; scalars and arrays are replaced.
        let mut into: Table =
            toml::from_str("a = [1, 2]\nx = 1\n[t]\nk = 1\nkeep = 2\n[t.deep]\nz = 1\nw = 2\n")
                .unwrap();
        merge_tables(
            &mut into,
            toml::from_str("a = [3]\n[t]\nk = 5\n[t.deep]\nz = 9\n[new]\nq = 1\n").unwrap(),
        );
        let expected: Table = toml::from_str(
            "a = [3]\nx = 1\n[t]\nk = 5\nkeep = 2\n[t.deep]\nz = 9\nw = 2\n[new]\nq = 1\n",
        )
        .unwrap();
        assert_eq!(into, expected);
    }

    #[test]
    fn bases_chain_relative_to_each_file() {
        let dir = tempfile::tempdir().unwrap();
        write(dir.path(), "root.toml", SMALL);
        write(
            dir.path(),
            "mid/mid.toml",
            "base = \"../root.toml\"\n[train]\nmax_epochs = 9\nbatch_size = 8\n",
        );
        let top = write(
            dir.path(),
            "top.toml",
            "base = \"mid/mid.toml\"\n[train]\nbatch_size = 4\n",
        );
        let c = Config::load(&top, &[]).unwrap();
        assert_eq!(
            (
                c.train.max_epochs,
                c.train.batch_size,
                c.train.learning_rate,
                c.model.hidden
            ),
            (9, 4, 0.01, 16)
        );

        // A schema error deep in the chain names the top file, the section and the bases.
        write(
            dir.path(),
            "root.toml",
            &SMALL.replace("hidden = 16", "hiden = 16"),
        );
        let (path, message) = config_error(Config::load(&top, &[]));
        assert_eq!(path, top);
        for part in ["[model]", "hiden", "mid.toml", "root.toml"] {
            assert!(message.contains(part), "{part}: {message}");
        }
        // A syntax error names the file it is in.
        write(
            dir.path(),
            "mid/mid.toml",
            "base = \"../root.toml\"\n[train\n",
        );
        let (path, _) = config_error(Config::load(&top, &[]));
        assert_eq!(path, dir.path().join("mid/mid.toml"));
    }

    #[test]
    fn a_base_cycle_is_an_error_naming_the_files() {
        let dir = tempfile::tempdir().unwrap();
        let a = write(dir.path(), "a.toml", "base = \"b.toml\"\n");
        write(dir.path(), "b.toml", "base = \"./a.toml\"\n");
        let (path, message) = config_error(Config::load(&a, &[]));
        assert_eq!(path, dir.path().join("b.toml"));
        assert!(
            message.contains("cycle") && message.contains("a.toml") && message.contains("b.toml"),
            "{message}"
        );
        let itself = write(dir.path(), "self.toml", "base = \"self.toml\"\n");
        let (path, message) = config_error(Config::load(&itself, &[]));
        assert_eq!(path, itself);
        assert!(message.contains("cycle"), "{message}");
    }

    #[test]
    fn a_missing_base_names_the_file_that_asked() {
        let dir = tempfile::tempdir().unwrap();
        let child = write(
            dir.path(),
            "child.toml",
            "base = \"nowhere.toml\"\n[model]\nhidden = 3\n",
        );
        let (path, message) = config_error(Config::load(&child, &[]));
        assert_eq!(path, child);
        assert!(message.contains("nowhere.toml"), "{message}");
        // A missing top file stays an I/O error on that file.
        let absent = dir.path().join("absent.toml");
        assert!(
            matches!(Config::load(&absent, &[]), Err(ModelError::Io { path, .. }) if path == absent)
        );
        // `base` must be a file name, and a string has no folder to resolve one against.
        let bad = write(dir.path(), "bad.toml", "base = 3\n");
        let (path, message) = config_error(Config::load(&bad, &[]));
        assert_eq!(path, bad);
        assert!(message.contains("string"), "{message}");
        let err = Config::from_toml_str(&format!("base = \"default.toml\"\n{SMALL}"))
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("base") && err.contains("Config::load"),
            "{err}"
        );
    }

    #[test]
    fn overrides_replace_existing_keys() {
        let dir = tempfile::tempdir().unwrap();
        let path = write(dir.path(), "c.toml", SMALL);
        let c = Config::load(
            &path,
            &sets(&[
                "train.learning_rate=0.001",
                "data.leak_target=true",
                "data.order=\"oldest_first\"",
                " model.lstm = stepwise ",
                "train.batch_size=8",
                "train.batch_size=16",
                "mdrop.user=1",
            ]),
        )
        .unwrap();
        let mut expected = Config::from_toml_str(SMALL).unwrap();
        expected.train.learning_rate = 0.001;
        expected.data.leak_target = true;
        expected.data.order = DocOrder::OldestFirst;
        expected.model.lstm = LstmImpl::Stepwise;
        expected.train.batch_size = 16;
        let mut with_mdrop = serde_json::to_value(&expected).unwrap();
        with_mdrop["mdrop"]["user"] = serde_json::json!(1.0);
        assert_eq!(serde_json::to_value(&c).unwrap(), with_mdrop);
        // A bare word is a string; overrides apply after the bases.
        let child = write(
            dir.path(),
            "child.toml",
            "base = \"c.toml\"\n[data]\nmax_len = 5\nleak_target = false\norder = \"recent_first\"\n",
        );
        let c = Config::load(
            &child,
            &sets(&["data.order=oldest_first", "data.max_len=9"]),
        )
        .unwrap();
        assert_eq!((c.data.order, c.data.max_len), (DocOrder::OldestFirst, 9));

        // Keys may go deeper than SECTION.KEY; a table value merges, a scalar replaces.
        let mut table = Table::new();
        apply_override(&mut table, "train.a.b.c = [1, 2]").unwrap();
        apply_override(&mut table, "train.a = { d = 1 }").unwrap();
        let expected: Table =
            toml::from_str("[train.a]\nd = 1\n[train.a.b]\nc = [1, 2]\n").unwrap();
        assert_eq!(table, expected);
        apply_override(&mut table, "train.a = 3").unwrap();
        let err = apply_override(&mut table, "train.a.b = 1").unwrap_err();
        assert!(err.contains("`train.a` is a integer"), "{err}");
    }

    #[test]
    fn unknown_override_keys_are_errors_naming_the_override() {
        let dir = tempfile::tempdir().unwrap();
        let path = write(dir.path(), "c.toml", SMALL);
        for (spec, says) in [
            ("train.leraning_rate=0.1", "leraning_rate"),
            ("vocab.min_freq=3", "unknown section `vocab`"),
            ("base=\"c.toml\"", "is not SECTION.KEY"),
            ("model.hidden.x=1", "`model.hidden` is a integer"),
            ("train.batch_size=many", "[train]"),
            ("data.max_len=0", "data.max_len must be positive"),
        ] {
            let (at, message) =
                config_error(Config::load(&path, &sets(&["train.max_epochs=4", spec])));
            assert_eq!(at, path);
            assert!(
                message.contains(&format!("--set {spec}")),
                "{spec}: {message}"
            );
            assert!(message.contains(says), "{spec}: {message}");
        }
    }

    #[test]
    fn malformed_overrides_are_errors() {
        let dir = tempfile::tempdir().unwrap();
        let path = write(dir.path(), "c.toml", SMALL);
        for spec in [
            "train.learning_rate",
            "learning_rate=0.1",
            "=1",
            "train.=1",
            ".x=1",
        ] {
            let (at, message) = config_error(Config::load(&path, &sets(&[spec])));
            assert_eq!(at, path);
            assert!(
                message.contains(&format!("--set {spec}")) && message.contains("SECTION.KEY"),
                "{spec}: {message}"
            );
        }
    }

    #[test]
    fn sections_are_the_configs_sections() {
        let table = Table::try_from(Config::from_toml_str(SMALL).unwrap()).unwrap();
        let mut keys: Vec<&str> = table.keys().map(String::as_str).collect();
        keys.sort_unstable();
        let mut sections = SECTIONS.to_vec();
        sections.sort_unstable();
        assert_eq!(keys, sections);
    }
}
