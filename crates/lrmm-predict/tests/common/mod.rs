//! The real pipeline on the generated default dataset, through the stages' libraries, built
//! once per test binary: datagen → ingest → vocab → images (VGG16 with widths / 8, seeded
//! random weights, as scripts/test-experiments.sh sizes CI runs) → train (lrmm_testing's tiny
//! config) → the evaluation stage's LRMM predictions of the test split.

#![allow(dead_code)]

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use candle_core::Device;
use lrmm_core::{ArtifactDir, Split};
use lrmm_eval::data::Ratings;
use lrmm_eval::evaluate::{self, EvalOptions, Predictions, RatingModel};
use lrmm_images::extract::{self, ExtractOptions, ImageFolder};
use lrmm_images::{Depth, OutputLayer, VggConfig, WeightsSource};
use lrmm_ingest::{IngestOptions, SplitMode};
use lrmm_model::training::{train, TrainOptions};

/// A dataset folder with a trained model and the evaluation's predictions.
pub struct Built {
    pub dir: PathBuf,
    pub model: PathBuf,
    pub ratings: Ratings,
    pub eval: Predictions,
    pub reviewer_ids: Vec<String>,
    pub asins: Vec<String>,
    /// items.parquet's n_train per item.
    pub item_n_train: Vec<u32>,
}

pub struct Fixture {
    _tmp: tempfile::TempDir,
    /// The generated raw dataset (reviews, metadata, images).
    pub raw: PathBuf,
    pub random: OnceLock<Built>,
    pub cold: OnceLock<Built>,
}

static FIXTURE: OnceLock<Fixture> = OnceLock::new();

pub fn fixture() -> &'static Fixture {
    FIXTURE.get_or_init(|| {
        let tmp = tempfile::tempdir().unwrap();
        let raw = tmp.path().join("raw");
        lrmm_datagen::generate(&lrmm_datagen::GenerateConfig::default(), &raw).unwrap();
        Fixture {
            raw,
            _tmp: tmp,
            random: OnceLock::new(),
            cold: OnceLock::new(),
        }
    })
}

pub fn meta_file(raw: &Path) -> PathBuf {
    raw.join(lrmm_datagen::META_FILE)
}

pub fn images_dir(raw: &Path) -> PathBuf {
    raw.join(lrmm_datagen::IMAGES_DIR)
}

/// The VGG of CI-sized runs.
pub fn vgg() -> VggConfig {
    VggConfig::new(Depth::Vgg16, OutputLayer::Fc6).with_width_divisor(8)
}

/// The random-split dataset, as `make all` builds build/default (with a tiny model).
pub fn random() -> &'static Built {
    let f = fixture();
    f.random
        .get_or_init(|| build(f, "default", SplitMode::Random, false))
}

/// Item cold start (`--split-mode cold-items`), with the baseline offsets on.
pub fn cold() -> &'static Built {
    let f = fixture();
    f.cold
        .get_or_init(|| build(f, "cold", SplitMode::ColdItems { fraction: 0.1 }, true))
}

fn build(f: &Fixture, name: &str, mode: SplitMode, baseline_biases: bool) -> Built {
    let dir = f.raw.parent().unwrap().join(name);
    let mut ingest = IngestOptions::new(f.raw.join(lrmm_datagen::REVIEWS_FILE), &dir);
    ingest.meta = Some(meta_file(&f.raw));
    ingest.mode = mode;
    lrmm_ingest::ingest(&ingest).unwrap();
    let artifacts = ArtifactDir::new(&dir);
    lrmm_vocab::run_into(
        lrmm_vocab::StageIo {
            data: &artifacts,
            out: &artifacts,
            progress: false,
        },
        &lrmm_vocab::VocabOptions::default(),
    )
    .unwrap();

    // The image stage, as lrmm-images runs it.
    let weights = WeightsSource::Random { seed: 1 };
    let model = lrmm_images::build_model(vgg(), &weights, &Device::Cpu).unwrap();
    let items = extract::read_items(&artifacts.items()).unwrap();
    let folder = ImageFolder::scan(&images_dir(&f.raw)).unwrap();
    let (features, statuses) = extract::extract(
        &model,
        &Device::Cpu,
        &items,
        &folder,
        &ExtractOptions::default(),
    )
    .unwrap();
    let mut metadata = lrmm_images::extraction_metadata(&vgg(), &weights).unwrap();
    metadata.insert("lrmm_stage".into(), "images".into());
    lrmm_images::write_artifacts(&artifacts, &features, &statuses, metadata).unwrap();

    let mut config = lrmm_testing::synthetic::tiny_config();
    config.train.max_epochs = 2;
    config.model.baseline_biases = baseline_biases;
    let model_dir = dir.join("model");
    train(&TrainOptions {
        data_dir: dir.clone(),
        config,
        seed: 1,
        device: Device::Cpu,
        out_dir: model_dir.clone(),
        progress: false,
        interrupt_after: None,
        lrmm_version: String::new(),
    })
    .unwrap();

    let ratings = Ratings::from_parquet(&artifacts.interactions()).unwrap();
    let lrmm = lrmm_eval::lrmm::LrmmModel::load(&model_dir, &dir, &Device::Cpu).unwrap();
    let options = eval_options();
    let eval = evaluate::predict_test(&ratings, Some(&lrmm as &dyn RatingModel), &options).unwrap();

    let upath = artifacts.users();
    let users = lrmm_core::parquet::read_checked(&upath, lrmm_core::schema::USERS).unwrap();
    let reviewer_ids = lrmm_core::parquet::str_values(&users, &upath, "reviewer_id").unwrap();
    let ipath = artifacts.items();
    let items = lrmm_core::parquet::read_checked(&ipath, lrmm_core::schema::ITEMS).unwrap();
    let asins = lrmm_core::parquet::str_values(&items, &ipath, "asin").unwrap();
    let item_n_train = lrmm_core::parquet::u32_values(&items, &ipath, "n_train").unwrap();
    Built {
        dir,
        model: model_dir,
        ratings,
        eval,
        reviewer_ids,
        asins,
        item_n_train,
    }
}

pub fn eval_options() -> EvalOptions {
    EvalOptions {
        baselines: Vec::new(),
        progress: false,
        ..EvalOptions::default()
    }
}

impl Built {
    /// Runs lrmm-predict on this pipeline's model and dataset folder, `args` after them.
    pub fn predict(&self, args: &[&str]) -> (bool, String) {
        let mut all = vec!["--model", s(&self.model), "--data", s(&self.dir)];
        all.extend_from_slice(args);
        predict(&all)
    }

    /// The pairs of the evaluated test rows, in row order, as JSON lines.
    pub fn test_pairs_jsonl(&self, keep: impl Fn(usize) -> bool) -> String {
        let mut out = String::new();
        for (k, &r) in self.eval.rows.iter().enumerate() {
            if keep(k) {
                out.push_str(
                    &serde_json::json!({
                        "reviewerID": self.reviewer_ids[self.ratings.user[r] as usize],
                        "asin": self.asins[self.ratings.item[r] as usize],
                    })
                    .to_string(),
                );
                out.push('\n');
            }
        }
        out
    }

    /// eval's +F prediction of each test (reviewerID, asin).
    pub fn eval_full(&self) -> HashMap<(String, String), f32> {
        let full = &self.eval.lrmm["+F"];
        self.eval
            .rows
            .iter()
            .zip(full)
            .map(|(&r, &p)| {
                (
                    (
                        self.reviewer_ids[self.ratings.user[r] as usize].clone(),
                        self.asins[self.ratings.item[r] as usize].clone(),
                    ),
                    p,
                )
            })
            .collect()
    }

    pub fn test_rows(&self) -> Vec<usize> {
        self.ratings.rows(Split::Test)
    }
}

/// Reads a predictions Parquet file into (reviewerID, asin, rank, prediction, U, O, M, V) rows.
pub struct OutputRow {
    pub reviewer_id: String,
    pub asin: String,
    pub rank: Option<u32>,
    pub prediction: f32,
    pub sources: [String; 4],
}

pub fn read_output(path: &Path) -> Vec<OutputRow> {
    use polars::prelude::{ParquetReader, SerReader};
    let file = std::fs::File::open(path).unwrap();
    let df = ParquetReader::new(file).finish().unwrap();
    let s = |c: &str| lrmm_core::parquet::str_values(&df, path, c).unwrap();
    let users = s("reviewerID");
    let asins = s("asin");
    let preds = lrmm_core::parquet::f32_values(&df, path, "prediction").unwrap();
    let rank = df
        .column("rank")
        .ok()
        .map(|_| lrmm_core::parquet::u32_values(&df, path, "rank").unwrap());
    let (u, o, m, v) = (s("U"), s("O"), s("M"), s("V"));
    (0..users.len())
        .map(|i| OutputRow {
            reviewer_id: users[i].clone(),
            asin: asins[i].clone(),
            rank: rank.as_ref().map(|r| r[i]),
            prediction: preds[i],
            sources: [u[i].clone(), o[i].clone(), m[i].clone(), v[i].clone()],
        })
        .collect()
}

pub const PREDICT: &str = env!("CARGO_BIN_EXE_lrmm-predict");

/// Runs lrmm-predict with `args`; returns (success, stderr).
pub fn predict(args: &[&str]) -> (bool, String) {
    let out = std::process::Command::new(PREDICT)
        .args(args)
        .arg("-q")
        .env_remove("RUST_LOG")
        .output()
        .unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

pub fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}
