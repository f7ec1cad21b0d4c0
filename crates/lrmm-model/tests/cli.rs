//! The command line as every stage shares it (`lrmm_core::cli`), for lrmm-train and
//! lrmm-bench-train: `--help`, `--version`, an invalid `RUST_LOG`, and lrmm-train's `--set`.

use std::process::Command;

use lrmm_testing::cli::{
    assert_bad_rust_log_fails, assert_contains, assert_version, run, stdout_of,
};

use lrmm_core::ArtifactDir;
use lrmm_testing::synthetic::{self, SyntheticSpec, TINY_CONFIG};

const TRAIN: &str = env!("CARGO_BIN_EXE_lrmm-train");
const BENCH: &str = env!("CARGO_BIN_EXE_lrmm-bench-train");

#[test]
fn train_help_says_what_is_read_and_written() {
    let help = stdout_of(TRAIN, &["--help"]);
    assert_contains(
        &help,
        &[
            "--data <DIR>",
            "Artifact folder read",
            "--out <DIR>",
            "Folder written",
            "--config <PATH>",
            "--set <SECTION.KEY=VALUE>",
            "-q, --quiet",
            "-v, --verbose",
            "RUST_LOG",
            "Examples",
        ],
    );
    let short = stdout_of(TRAIN, &["-h"]);
    assert_contains(&short, &["[possible values: cpu, cuda, cuda:N]"]);
}

#[test]
fn bench_help_lists_the_choices() {
    let help = stdout_of(BENCH, &["--help"]);
    assert_contains(&help, &["--steps", "-q, --quiet", "RUST_LOG", "Example"]);
    let short = stdout_of(BENCH, &["-h"]);
    assert_contains(
        &short,
        &[
            "[possible values: fused, stepwise, recurrence, auto]",
            "[possible values: cpu, cuda, cuda:N]",
        ],
    );
    let bad = run(BENCH, &["--lstm", "fast"]);
    assert_eq!(bad.status.code(), Some(2));
}

#[test]
fn version_names_the_commit_and_the_features() {
    let features = if cfg!(feature = "cuda") {
        "cuda"
    } else {
        "none"
    };
    assert_version(TRAIN, "lrmm-train", features);
    assert_version(BENCH, "lrmm-bench-train", features);
}

#[test]
fn an_invalid_rust_log_is_an_error_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("model");
    let stderr = assert_bad_rust_log_fails(
        TRAIN,
        &[
            "--data",
            "/nonexistent",
            "--out",
            out.to_str().unwrap(),
            "--config",
            "/nonexistent.toml",
        ],
    );
    assert!(
        !stderr.contains("nonexistent"),
        "stopped before reading: {stderr}"
    );
    assert!(!out.exists());
    assert_bad_rust_log_fails(BENCH, &["--steps", "1"]);
}

/// `--set` reaches the trained model's config.json, after the file and before `--max-epochs`;
/// config.json records the version that trained it; a bad override is named.
#[test]
fn set_overrides_the_config_and_config_json_records_the_version() {
    let tmp = tempfile::tempdir().unwrap();
    let data = ArtifactDir::new(tmp.path().join("data"));
    let spec = SyntheticSpec {
        users: 30,
        items: 20,
        interactions_per_user: 6,
        image_dim: 8,
        seed: 2,
    };
    synthetic::write(&data, spec).unwrap();
    let config = tmp.path().join("tiny.toml");
    std::fs::write(&config, TINY_CONFIG).unwrap();
    let out = tmp.path().join("model");
    let train = |extra: &[&str]| {
        Command::new(TRAIN)
            .arg("--data")
            .arg(data.root())
            .arg("--out")
            .arg(&out)
            .arg("--config")
            .arg(&config)
            .args(extra)
            .env_remove("RUST_LOG")
            .output()
            .unwrap()
    };
    let run = train(&[
        "--set",
        "train.max_epochs=1",
        "--set",
        "train.learning_rate=0.02",
        "-q",
    ]);
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    let saved: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("config.json")).unwrap()).unwrap();
    assert_eq!(saved["config"]["train"]["max_epochs"], 1);
    assert_eq!(saved["config"]["train"]["learning_rate"], 0.02);
    assert_eq!(saved["epochs_run"], 1);
    let version = saved["lrmm_version"].as_str().unwrap();
    assert_contains(version, &["(git ", "features: "]);
    assert_eq!(
        version,
        stdout_of(TRAIN, &["--version"])
            .trim()
            .trim_start_matches("lrmm-train ")
    );

    let bad = train(&["--set", "train.no_such_key=3"]);
    assert!(!bad.status.success());
    assert_contains(
        &String::from_utf8_lossy(&bad.stderr),
        &["--set train.no_such_key=3"],
    );
}
