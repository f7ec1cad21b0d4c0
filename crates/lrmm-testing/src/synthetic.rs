//! A small artifact folder with planted signal, written in exactly the formats the upstream
//! stages produce, for tests and smoke runs that must not depend on those stages.
//!
//! Each user has a taste offset and each item a quality; the rating is
//! round(3.5 + taste + quality + noise) clamped to 1..5. Review words carry the review's rating
//! (positive / negative words), item metadata carries the quality bucket, and the image feature
//! is the quality along a fixed direction plus noise. Some items lack metadata or an image.

use std::path::Path;

use lrmm_core::{ArtifactDir, SeededRng};
use lrmm_model::config::Config;
use lrmm_model::{ModelError, Result};
use polars::prelude::*;

/// A model small enough to train on these artifacts in seconds (tests of this crate and of the
/// evaluation stage): d = 12, L = 30, AdamW, 4 epochs.
pub const TINY_CONFIG: &str = r#"
[model]
word_dim = 8
hidden = 12
ae_hidden = 24
shared_dim = 12
[data]
max_len = 30
leak_target = false
order = "recent_first"
[train]
optimizer = "adamw"
learning_rate = 0.01
batch_size = 32
max_epochs = 4
patience = 10
"#;

/// [`TINY_CONFIG`], parsed.
pub fn tiny_config() -> Config {
    Config::from_toml_str(TINY_CONFIG).expect("TINY_CONFIG parses")
}

/// Sizes of a synthetic dataset.
#[derive(Debug, Clone, Copy)]
pub struct SyntheticSpec {
    pub users: usize,
    pub items: usize,
    pub interactions_per_user: usize,
    pub image_dim: usize,
    pub seed: u64,
}

impl Default for SyntheticSpec {
    fn default() -> Self {
        Self {
            users: 150,
            items: 60,
            interactions_per_user: 12,
            image_dim: 16,
            seed: 1,
        }
    }
}

const N_SENTIMENT: u32 = 6;
const N_QUALITY: u32 = 5;
const N_FILLER: u32 = 40;
const FIRST_WORD: u32 = 2;

fn polars(path: &Path, e: PolarsError) -> ModelError {
    ModelError::BadArtifact {
        path: path.to_path_buf(),
        message: e.to_string(),
    }
}

fn list_series(name: &str, lists: &[Vec<u32>]) -> Series {
    let inner: Vec<Series> = lists
        .iter()
        .map(|l| Series::new(PlSmallStr::EMPTY, l.as_slice()))
        .collect();
    let mut s = Series::new(name.into(), inner);
    if s.dtype() != &DataType::List(Box::new(DataType::UInt32)) {
        s = s
            .cast(&DataType::List(Box::new(DataType::UInt32)))
            .expect("list<u32> cast");
    }
    s
}

/// One interaction: (user, item, rating, unix time, split, review tokens).
type Row = (u32, u32, f32, i64, &'static str, Vec<u32>);

/// Writes interactions, review/item tokens, tokenizer and image features into `dir`.
pub fn write(dir: &ArtifactDir, spec: SyntheticSpec) -> Result<()> {
    dir.create()?;
    let mut rng = SeededRng::derive(spec.seed, "synthetic");
    let taste: Vec<f64> = (0..spec.users).map(|_| rng.normal() * 0.7).collect();
    let quality: Vec<f64> = (0..spec.items).map(|_| rng.normal() * 0.7).collect();
    let positive = FIRST_WORD;
    let negative = positive + N_SENTIMENT;
    let quality_words = negative + N_SENTIMENT;
    let filler = quality_words + N_QUALITY;
    let vocab_size = filler + N_FILLER;

    let mut rows: Vec<Row> = Vec::new();
    for (u, &taste_u) in taste.iter().enumerate() {
        let mut items: Vec<usize> = (0..spec.items).collect();
        rng.shuffle(&mut items);
        for (k, &o) in items.iter().take(spec.interactions_per_user).enumerate() {
            let score = 3.5 + taste_u + quality[o] + rng.normal() * 0.3;
            let rating = score.round().clamp(1.0, 5.0) as f32;
            let split = match rng.below(10) {
                0 => "valid",
                1 => "test",
                _ => "train",
            };
            let len = 4 + rng.below(10) as usize;
            let tokens = (0..len)
                .map(|_| {
                    if rng.bernoulli(0.4) {
                        let w = rng.below(u64::from(N_SENTIMENT)) as u32;
                        if rating >= 4.0 || (rating == 3.0 && rng.bernoulli(0.5)) {
                            positive + w
                        } else {
                            negative + w
                        }
                    } else {
                        filler + rng.below(u64::from(N_FILLER)) as u32
                    }
                })
                .collect();
            rows.push((
                u as u32,
                o as u32,
                rating,
                1_000_000 + (k as i64) * 1000 + rng.below(500) as i64,
                split,
                tokens,
            ));
        }
    }
    rows.sort_by_key(|r| (r.0, r.3, r.1));

    let ipath = dir.interactions();
    let mut inter = DataFrame::new_infer_height(vec![
        Column::new(
            "user_id".into(),
            rows.iter().map(|r| r.0).collect::<Vec<_>>(),
        ),
        Column::new(
            "item_id".into(),
            rows.iter().map(|r| r.1).collect::<Vec<_>>(),
        ),
        Column::new(
            "rating".into(),
            rows.iter().map(|r| r.2).collect::<Vec<_>>(),
        ),
        Column::new(
            "unix_time".into(),
            rows.iter().map(|r| r.3).collect::<Vec<_>>(),
        ),
        Column::new("split".into(), rows.iter().map(|r| r.4).collect::<Vec<_>>()),
    ])
    .map_err(|e| polars(&ipath, e))?;
    lrmm_core::parquet::write_atomic(&ipath, &mut inter)?;

    let rpath = dir.review_tokens();
    let tokens: Vec<Vec<u32>> = rows.iter().map(|r| r.5.clone()).collect();
    let mut reviews = DataFrame::new_infer_height(vec![
        Column::new(
            "user_id".into(),
            rows.iter().map(|r| r.0).collect::<Vec<_>>(),
        ),
        Column::new(
            "item_id".into(),
            rows.iter().map(|r| r.1).collect::<Vec<_>>(),
        ),
        Column::new("split".into(), rows.iter().map(|r| r.4).collect::<Vec<_>>()),
        list_series("tokens", &tokens).into(),
    ])
    .map_err(|e| polars(&rpath, e))?;
    lrmm_core::parquet::write_atomic(&rpath, &mut reviews)?;

    let bucket = |q: f64| {
        (((q + 1.4) / 0.7)
            .floor()
            .clamp(0.0, f64::from(N_QUALITY - 1))) as u32
    };
    let meta: Vec<Vec<u32>> = (0..spec.items)
        .map(|o| {
            if rng.bernoulli(0.1) {
                return Vec::new();
            }
            let len = 3 + rng.below(6) as usize;
            (0..len)
                .map(|_| {
                    if rng.bernoulli(0.5) {
                        quality_words + bucket(quality[o])
                    } else {
                        filler + rng.below(u64::from(N_FILLER)) as u32
                    }
                })
                .collect()
        })
        .collect();
    let mpath = dir.item_tokens();
    let mut items = DataFrame::new_infer_height(vec![
        Column::new("item_id".into(), (0..spec.items as u32).collect::<Vec<_>>()),
        list_series("tokens", &meta).into(),
    ])
    .map_err(|e| polars(&mpath, e))?;
    lrmm_core::parquet::write_atomic(&mpath, &mut items)?;

    let mut vocab = serde_json::Map::new();
    vocab.insert("[PAD]".into(), 0.into());
    vocab.insert("[UNK]".into(), 1.into());
    for id in FIRST_WORD..vocab_size {
        vocab.insert(format!("w{id}"), id.into());
    }
    let tokenizer = serde_json::json!({
        "version": "1.0",
        "added_tokens": [
            {"id": 0, "content": "[PAD]", "special": true},
            {"id": 1, "content": "[UNK]", "special": true}
        ],
        "model": {"type": "WordLevel", "vocab": vocab, "unk_token": "[UNK]"}
    });
    lrmm_core::atomic::write_json(&dir.tokenizer(), &tokenizer)?;

    let direction: Vec<f64> = (0..spec.image_dim).map(|_| rng.normal()).collect();
    let mut ids = Vec::new();
    let mut features = Vec::new();
    for (o, q) in quality.iter().enumerate() {
        if rng.bernoulli(0.1) {
            continue;
        }
        ids.push(o as u32);
        features.extend(
            direction
                .iter()
                .map(|d| (d * q + rng.normal() * 0.3 + 1.0) as f32),
        );
    }
    let n = ids.len();
    let tensors = vec![
        (
            "features".to_string(),
            candle_core::Tensor::from_vec(
                features,
                (n, spec.image_dim),
                &candle_core::Device::Cpu,
            )?,
        ),
        (
            "item_ids".to_string(),
            candle_core::Tensor::from_vec(ids, n, &candle_core::Device::Cpu)?,
        ),
    ];
    lrmm_model::init::save_safetensors(&dir.image_features(), &tensors)
}
