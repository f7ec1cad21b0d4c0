//! `lrmm-eval --model` and `lrmm-report render` on a tiny LRMM trained on the model crate's
//! synthetic artifacts: every setting and subset reaches metrics.json, the predictions file and
//! the figures (learning curves, per-modality errors, Figure 5's t-SNE).
#![cfg(feature = "lrmm")]

use std::process::Command;

use candle_core::Device;
use lrmm_core::ArtifactDir;
use lrmm_model::config::Config;
use lrmm_model::training::{train, TrainOptions};
use lrmm_testing::synthetic::{self, SyntheticSpec};
use polars::prelude::*;

/// The model crate's tiny config, trained for `epochs` at `learning_rate`.
fn tiny(epochs: usize, learning_rate: f64) -> Config {
    let mut config = synthetic::tiny_config();
    config.train.max_epochs = epochs;
    config.train.learning_rate = learning_rate;
    config
}

#[test]
fn lrmm_settings_subsets_predictions_and_figures() {
    let tmp = tempfile::tempdir().unwrap();
    let data = ArtifactDir::new(tmp.path().join("data"));
    synthetic::write(
        &data,
        SyntheticSpec {
            users: 80,
            items: 40,
            interactions_per_user: 8,
            image_dim: 8,
            seed: 2,
        },
    )
    .unwrap();
    let model_dir = tmp.path().join("data/model");
    train(&TrainOptions {
        data_dir: data.root().to_path_buf(),
        config: tiny(3, 0.01),
        seed: 1,
        device: Device::Cpu,
        out_dir: model_dir.clone(),
        progress: false,
        interrupt_after: None,
        lrmm_version: String::new(),
    })
    .unwrap();

    let out = Command::new(env!("CARGO_BIN_EXE_lrmm-eval"))
        .arg("--data")
        .arg(data.root())
        .arg("--model")
        .arg(&model_dir)
        .args(["--tsne", "30", "--baselines", "offset,svdpp"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let metrics: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(data.root().join("metrics.json")).unwrap())
            .unwrap();
    let n_test = metrics["n_test"].as_u64().unwrap();
    for key in ["+F", "-U", "-O", "-M", "-V"] {
        let e = &metrics["lrmm"][key];
        assert_eq!(e["n"].as_u64(), Some(n_test), "{key}");
        let rmse = e["rmse"].as_f64().unwrap();
        assert!(rmse > 0.0 && rmse < 4.0, "{key}: {rmse}");
        assert!(metrics["subsets"]["warm"]["lrmm"][key]["rmse"].is_f64());
    }
    assert!(metrics["lrmm_status"]
        .as_str()
        .unwrap()
        .starts_with("evaluated"));
    // The ranking protocol: LRMM (+F) and every baseline get HR@K and NDCG@K, and the global
    // mean's HR@K is the chance level of its all-tied scores, K / (candidates + 1), where the
    // old per-user protocol gave every model 1.0.
    assert!(metrics["ranking_protocol"]
        .as_str()
        .unwrap()
        .contains("99 items its user never rated"));
    for e in [&metrics["lrmm"]["+F"], &metrics["baselines"]["svdpp"]] {
        let hr = e["hr_at_k"].as_f64().unwrap();
        assert!((0.0..=1.0).contains(&hr) && e["ranked_ndcg_at_k"].as_f64().unwrap() <= hr);
    }
    assert!(
        metrics["lrmm"]["-U"]["hr_at_k"].is_null(),
        "ranked with all modalities only"
    );
    let offset_hr = metrics["baselines"]["offset"]["hr_at_k"].as_f64().unwrap();
    // 40 items, 8 rated per user: about 32 candidates, chance level ≈ 10 / 33.
    assert!(offset_hr > 0.2 && offset_hr < 0.4, "{offset_hr}");

    // Removing the user's reviews must change the predictions (the model reads them).
    let df =
        ParquetReader::new(std::fs::File::open(data.root().join("predictions.parquet")).unwrap())
            .finish()
            .unwrap();
    let full = df.column("lrmm_full").unwrap().f32().unwrap().clone();
    let no_user = df.column("lrmm_drop_user").unwrap().f32().unwrap().clone();
    let changed = (0..df.height())
        .filter(|&r| (full.get(r).unwrap() - no_user.get(r).unwrap()).abs() > 1e-6)
        .count();
    assert!(changed > 0, "dropping U changed no prediction");
    assert!(std::fs::read_to_string(data.root().join("examples.md"))
        .unwrap()
        .contains("| -V |"));
    let tsne = std::fs::read(data.root().join("embeddings_tsne.png")).unwrap();
    assert_eq!(&tsne[1..4], b"PNG");

    let report = Command::new(env!("CARGO_BIN_EXE_lrmm-report"))
        .arg("render")
        .arg("--data")
        .arg(data.root())
        .output()
        .unwrap();
    assert!(
        report.status.success(),
        "{}",
        String::from_utf8_lossy(&report.stderr)
    );
    for png in ["learning_curves.png", "modality_errors.png"] {
        let bytes = std::fs::read(data.root().join("report").join(png)).unwrap();
        assert_eq!(&bytes[1..4], b"PNG", "{png}");
    }
    let md = std::fs::read_to_string(data.root().join("report/report.md")).unwrap();
    assert!(
        md.contains("| LRMM(-O) |") && md.contains("learning_curves.png"),
        "{md}"
    );

    // To look at the figures: LRMM_EVAL_TEST_OUT=/some/dir cargo test … copies them there.
    if let Some(keep) = std::env::var_os("LRMM_EVAL_TEST_OUT") {
        let keep = std::path::PathBuf::from(keep);
        std::fs::create_dir_all(&keep).unwrap();
        for f in [
            "metrics.md",
            "examples.md",
            "embeddings_tsne.png",
            "report/learning_curves.png",
            "report/modality_errors.png",
            "report/report.md",
        ] {
            std::fs::copy(data.root().join(f), keep.join(f.replace('/', "_"))).unwrap();
        }
    }
}

/// Scoring a (user, item) pair through the extended dataset gives the +F prediction of the
/// test row of that pair: the ranking protocol ranks with the model the table evaluates.
#[test]
fn pair_scores_equal_the_test_rows_predictions() {
    use lrmm_eval::evaluate::RatingModel;
    let tmp = tempfile::tempdir().unwrap();
    let data = ArtifactDir::new(tmp.path().join("data"));
    synthetic::write(&data, SyntheticSpec::default()).unwrap();
    let model_dir = tmp.path().join("model");
    train(&TrainOptions {
        data_dir: data.root().to_path_buf(),
        config: tiny(1, 0.01),
        seed: 3,
        device: Device::Cpu,
        out_dir: model_dir.clone(),
        progress: false,
        interrupt_after: None,
        lrmm_version: String::new(),
    })
    .unwrap();
    let model = lrmm_eval::lrmm::LrmmModel::load(&model_dir, data.root(), &Device::Cpu).unwrap();
    let ratings = lrmm_eval::data::Ratings::from_parquet(&data.interactions()).unwrap();
    let rows = ratings.rows(lrmm_core::Split::Test);
    let pairs: Vec<(u32, u32)> = rows
        .iter()
        .map(|&r| (ratings.user[r], ratings.item[r]))
        .collect();
    let by_row = model.predict(&rows, &[]).unwrap();
    let by_pair = model.score_pairs(&pairs).unwrap().unwrap();
    assert_eq!(by_row.len(), by_pair.len());
    for (a, b) in by_row.iter().zip(&by_pair) {
        assert!((a - b).abs() < 1e-5, "{a} vs {b}");
    }
}

/// The saved model, loaded through the inference API, must reproduce the validation RMSE the
/// training stage recorded for it (config.json `best_valid_rmse`): otherwise the evaluation
/// scores a different model than the one early stopping chose.
#[test]
fn loaded_model_reproduces_the_recorded_validation_rmse() {
    let tmp = tempfile::tempdir().unwrap();
    let data = ArtifactDir::new(tmp.path().join("data"));
    synthetic::write(
        &data,
        SyntheticSpec {
            users: 60,
            items: 30,
            interactions_per_user: 8,
            image_dim: 8,
            seed: 5,
        },
    )
    .unwrap();
    let model_dir = tmp.path().join("model");
    // A high learning rate and no early stop, so that the best epoch is not the last one.
    let saved = train(&TrainOptions {
        data_dir: data.root().to_path_buf(),
        config: tiny(8, 0.05),
        seed: 3,
        device: Device::Cpu,
        out_dir: model_dir.clone(),
        progress: false,
        interrupt_after: None,
        lrmm_version: String::new(),
    })
    .unwrap();
    let out_dir = tmp.path().join("valid");
    let out = Command::new(env!("CARGO_BIN_EXE_lrmm-eval"))
        .arg("--data")
        .arg(data.root())
        .arg("--model")
        .arg(&model_dir)
        .arg("--out")
        .arg(&out_dir)
        .args(["--split", "valid", "--baselines", "offset"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let metrics: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out_dir.join("metrics.json")).unwrap())
            .unwrap();
    assert_eq!(metrics["split"], "valid");
    let rmse = metrics["lrmm"]["+F"]["rmse"].as_f64().unwrap();
    eprintln!(
        "best epoch {} of {}: recorded {} reloaded {rmse}",
        saved.best_epoch, saved.epochs_run, saved.best_valid_rmse
    );
    assert!(
        (rmse - saved.best_valid_rmse).abs() < 1e-4,
        "reloaded model: valid RMSE {rmse}, training recorded {} at epoch {}",
        saved.best_valid_rmse,
        saved.best_epoch
    );
}
