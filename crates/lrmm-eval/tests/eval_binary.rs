//! `lrmm-eval` and `lrmm-report` end to end on a small interactions.parquet (baselines only: a
//! trained model is the training stage's artifact, exercised by `make eval`).

use std::path::Path;
use std::process::Command;

use lrmm_core::SeededRng;
use lrmm_eval::text::tokens_column;
use polars::prelude::*;

/// The standard error of an `lrmm-eval --data <dir> <args>` run that must fail and leave no
/// metrics.json behind.
fn eval_failure(dir: &Path, args: &[&str]) -> String {
    let mut all = vec!["--data", dir.to_str().unwrap()];
    all.extend_from_slice(args);
    let out = lrmm_testing::cli::run(env!("CARGO_BIN_EXE_lrmm-eval"), &all);
    assert!(!out.status.success(), "lrmm-eval {all:?} succeeded");
    assert!(!dir.join("metrics.json").exists());
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// 60 users × 40 items, ratings from a planted user taste × item quality, split 80/10/10 at
/// random, plus a cold user and a cold item in the test split; next to it the vocabulary
/// stage's token files: each item's metadata names its quality's sign, each review its rating.
fn write_interactions(path: &Path) {
    let mut rng = SeededRng::new(11);
    let taste: Vec<f64> = (0..60).map(|_| rng.normal()).collect();
    let quality: Vec<f64> = (0..40).map(|_| rng.normal()).collect();
    let (mut users, mut items, mut ratings, mut times, mut splits) =
        (vec![], vec![], vec![], vec![], vec![]);
    for u in 0..60u32 {
        for i in 0..40u32 {
            if !rng.bernoulli(0.5) {
                continue;
            }
            let r =
                (3.5 + taste[u as usize] * 0.8 + quality[i as usize] * 0.8 + 0.3 * rng.normal())
                    .round()
                    .clamp(1.0, 5.0);
            let x = rng.next_f64();
            users.push(u);
            items.push(i);
            ratings.push(r as f32);
            times.push(1_400_000_000i64 + i64::from(u) * 1000 + i64::from(i));
            splits.push(if x < 0.8 {
                "train"
            } else if x < 0.9 {
                "valid"
            } else {
                "test"
            });
        }
    }
    for (u, i) in [(60u32, 0u32), (0, 40)] {
        users.push(u);
        items.push(i);
        ratings.push(4.0);
        times.push(1_500_000_000);
        splits.push("test");
    }
    let mut df = DataFrame::new_infer_height(vec![
        Column::new("user_id".into(), users.clone()),
        Column::new("item_id".into(), items.clone()),
        Column::new("rating".into(), ratings.clone()),
        Column::new("unix_time".into(), times),
        Column::new("split".into(), splits.clone()),
    ])
    .unwrap();
    lrmm_core::parquet::write_atomic(path, &mut df).unwrap();

    let dir = lrmm_core::ArtifactDir::new(path.parent().unwrap());
    let review_docs: Vec<Vec<u32>> = ratings.iter().map(|&r| vec![20 + r as u32, 3]).collect();
    let mut reviews = DataFrame::new_infer_height(vec![
        Column::new("user_id".into(), users),
        Column::new("item_id".into(), items),
        Column::new("split".into(), splits),
        tokens_column(&review_docs),
    ])
    .unwrap();
    lrmm_core::parquet::write_atomic(&dir.review_tokens(), &mut reviews).unwrap();
    let meta_docs: Vec<Vec<u32>> = (0..41)
        .map(|i| {
            let q = quality.get(i).copied().unwrap_or(0.0);
            vec![if q > 0.0 { 10 } else { 11 }, 12 + (i % 5) as u32]
        })
        .collect();
    let mut meta = DataFrame::new_infer_height(vec![
        Column::new("item_id".into(), (0..41u32).collect::<Vec<_>>()),
        tokens_column(&meta_docs),
    ])
    .unwrap();
    lrmm_core::parquet::write_atomic(&dir.item_tokens(), &mut meta).unwrap();
}

#[test]
fn eval_writes_metrics_predictions_and_report() {
    let dir = tempfile::tempdir().unwrap();
    write_interactions(&dir.path().join("interactions.parquet"));
    let status = Command::new(env!("CARGO_BIN_EXE_lrmm-eval"))
        .args(["--data", dir.path().to_str().unwrap(), "--seed", "3"])
        .status()
        .unwrap();
    assert!(status.success());
    let metrics: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("metrics.json")).unwrap())
            .unwrap();
    let all = &metrics["baselines"];
    for key in [
        "offset",
        "bias",
        "bias_valid",
        "svd",
        "svdpp",
        "nmf",
        "tfidf",
    ] {
        assert!(all[key]["rmse"].as_f64().unwrap() > 0.0, "{key}");
        assert!(all[key]["hr_at_k"].as_f64().is_some(), "{key}");
    }
    let chosen = metrics["model_selection"]["tfidf"]["chosen"]
        .as_f64()
        .unwrap();
    assert!([1e-4, 1e-3, 1e-2, 1e-1, 1.0].contains(&chosen), "{chosen}");
    // The planted biases are learnable: user/item biases beat the global mean clearly.
    assert!(
        all["bias"]["rmse"].as_f64().unwrap() < 0.8 * all["offset"]["rmse"].as_f64().unwrap(),
        "{all}"
    );
    assert_eq!(metrics["subsets"]["cold_user"]["n"], 1);
    assert_eq!(metrics["subsets"]["cold_item"]["n"], 1);
    assert!(metrics["lrmm_status"]
        .as_str()
        .unwrap()
        .contains("no --model"));

    let df =
        ParquetReader::new(std::fs::File::open(dir.path().join("predictions.parquet")).unwrap())
            .finish()
            .unwrap();
    assert_eq!(df.height() as u64, metrics["n_test"].as_u64().unwrap());
    for c in [
        "row",
        "user_id",
        "item_id",
        "rating",
        "cold_user",
        "cold_item",
        "baseline_svdpp",
        "baseline_tfidf",
    ] {
        assert!(df.column(c).is_ok(), "missing column {c}");
    }
    let md = std::fs::read_to_string(dir.path().join("metrics.md")).unwrap();
    assert!(
        md.contains("| SVD++ |")
            && md.contains("| TF-IDF ridge |")
            && md.contains("RMSE cold item"),
        "{md}"
    );
    assert!(
        md.contains("Biases on the cold-item rows is the fallback μ + b_u") && md.contains("λ = "),
        "{md}"
    );
    assert!(
        std::fs::read_to_string(dir.path().join("examples.md"))
            .unwrap()
            .lines()
            .count()
            >= 7
    );

    // Same inputs and seed → same bytes.
    let first = std::fs::read(dir.path().join("metrics.json")).unwrap();
    let again = Command::new(env!("CARGO_BIN_EXE_lrmm-eval"))
        .args(["--data", dir.path().to_str().unwrap(), "--seed", "3"])
        .status()
        .unwrap();
    assert!(again.success());
    assert_eq!(
        first,
        std::fs::read(dir.path().join("metrics.json")).unwrap()
    );

    let report = Command::new(env!("CARGO_BIN_EXE_lrmm-report"))
        .args(["render", "--data", dir.path().to_str().unwrap()])
        .status()
        .unwrap();
    assert!(report.success());
    assert!(std::fs::read_to_string(dir.path().join("report/report.md"))
        .unwrap()
        .contains("| Offset |"));

    let aggregate = Command::new(env!("CARGO_BIN_EXE_lrmm-report"))
        .arg("aggregate")
        .args(["--title", "T", "--out"])
        .arg(dir.path().join("t2.md"))
        .arg(dir.path().join("metrics.json"))
        .arg(dir.path().join("metrics.json"))
        .status()
        .unwrap();
    assert!(aggregate.success());
    let t2 = std::fs::read_to_string(dir.path().join("t2.md")).unwrap();
    assert!(t2.contains("± 0.000"), "{t2}");
    assert!(
        t2.contains("| TF-IDF ridge |") && t2.contains("μ + b_u"),
        "{t2}"
    );
}

#[test]
fn tfidf_without_token_files_names_them_and_the_way_out() {
    let dir = tempfile::tempdir().unwrap();
    write_interactions(&dir.path().join("interactions.parquet"));
    let d = lrmm_core::ArtifactDir::new(dir.path());
    std::fs::remove_file(d.review_tokens()).unwrap();
    let stderr = eval_failure(dir.path(), &[]);
    assert!(
        stderr.contains("review_tokens.parquet")
            && stderr.contains("make vocab")
            && stderr.contains("--baselines"),
        "{stderr}"
    );
    // The rating-only baselines do not read them.
    let ok = Command::new(env!("CARGO_BIN_EXE_lrmm-eval"))
        .args([
            "--data",
            dir.path().to_str().unwrap(),
            "--baselines",
            "offset,bias",
        ])
        .status()
        .unwrap();
    assert!(ok.success());
}

#[test]
fn bad_interactions_fail_with_the_file_named_and_leave_no_metrics() {
    let dir = tempfile::tempdir().unwrap();
    let mut df = DataFrame::new_infer_height(vec![
        Column::new("user_id".into(), vec![0u32]),
        Column::new("item_id".into(), vec![0u32]),
        Column::new("rating".into(), vec![5.0f32]),
    ])
    .unwrap();
    lrmm_core::parquet::write_atomic(&dir.path().join("interactions.parquet"), &mut df).unwrap();
    let stderr = eval_failure(dir.path(), &[]);
    assert!(
        stderr.contains("interactions.parquet") && stderr.contains("unix_time"),
        "{stderr}"
    );
}

#[test]
fn missing_model_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    write_interactions(&dir.path().join("interactions.parquet"));
    let model = dir.path().join("no-such-model");
    let stderr = eval_failure(dir.path(), &["--model", model.to_str().unwrap()]);
    assert!(stderr.contains("no-such-model"), "{stderr}");
}

#[test]
fn baselines_none_fits_none_and_is_given_alone() {
    let dir = tempfile::tempdir().unwrap();
    write_interactions(&dir.path().join("interactions.parquet"));
    let out = dir.path().join("none");
    let run = Command::new(env!("CARGO_BIN_EXE_lrmm-eval"))
        .args([
            "--data",
            dir.path().to_str().unwrap(),
            "--baselines",
            "none",
            "-q",
        ])
        .arg("--out")
        .arg(&out)
        .env_remove("RUST_LOG")
        .output()
        .unwrap();
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    assert!(
        run.stderr.is_empty(),
        "-q: {}",
        String::from_utf8_lossy(&run.stderr)
    );
    let metrics: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("metrics.json")).unwrap()).unwrap();
    assert_eq!(metrics["baselines"], serde_json::json!({}));
    assert!(
        !dir.path().join("metrics.json").exists(),
        "--out, not --data, receives the metrics"
    );

    let run = Command::new(env!("CARGO_BIN_EXE_lrmm-eval"))
        .args([
            "--data",
            dir.path().to_str().unwrap(),
            "--baselines",
            "offset,none",
        ])
        .output()
        .unwrap();
    assert!(!run.status.success());
    assert!(String::from_utf8_lossy(&run.stderr).contains("--baselines none"));

    let run = Command::new(env!("CARGO_BIN_EXE_lrmm-eval"))
        .args([
            "--data",
            dir.path().to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
            "--baselines",
            "offset,svdpp",
        ])
        .output()
        .unwrap();
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    let metrics: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("metrics.json")).unwrap()).unwrap();
    let keys: Vec<&String> = metrics["baselines"].as_object().unwrap().keys().collect();
    assert_eq!(keys, ["offset", "svdpp"]);
}
