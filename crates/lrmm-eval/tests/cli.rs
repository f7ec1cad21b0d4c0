//! The command line as every stage shares it (`lrmm_core::cli`), for lrmm-eval and
//! lrmm-report: `--help`, `--version` and an invalid `RUST_LOG`.

use lrmm_testing::cli::{
    assert_bad_rust_log_fails, assert_contains, assert_version, run, stdout_of,
};

const EVAL: &str = env!("CARGO_BIN_EXE_lrmm-eval");
const REPORT: &str = env!("CARGO_BIN_EXE_lrmm-report");

/// The features of this build, as `--version` lists them.
fn features() -> String {
    let on: Vec<&str> = [
        ("lrmm", cfg!(feature = "lrmm")),
        ("cuda", cfg!(feature = "cuda")),
    ]
    .into_iter()
    .filter(|(_, on)| *on)
    .map(|(f, _)| f)
    .collect();
    if on.is_empty() {
        "none".into()
    } else {
        on.join(", ")
    }
}

#[test]
fn eval_help_says_what_is_read_and_written_and_lists_the_choices() {
    let help = stdout_of(EVAL, &["--help"]);
    assert_contains(
        &help,
        &[
            "--data <DIR>",
            "Artifact folder read",
            "--model <DIR>",
            "--out <DIR>",
            "Folder written",
            "[default: --data]",
            "-q, --quiet",
            "-v, --verbose",
            "RUST_LOG",
            "Examples",
        ],
    );
    let short = stdout_of(EVAL, &["-h"]);
    assert_contains(
        &short,
        &[
            "[possible values: test, valid]",
            "[possible values: sampled, all, none]",
            "[possible values: cpu, cuda, cuda:N]",
            "[possible values: offset, bias, bias-valid, nmf, svd, svdpp, tfidf, none]",
        ],
    );
    for bad in [
        ["--split", "train"],
        ["--device", "tpu"],
        ["--baselines", "knn"],
    ] {
        let out = run(EVAL, &[&["--data", "."][..], &bad[..]].concat());
        assert_eq!(out.status.code(), Some(2), "{bad:?}");
        assert_contains(&String::from_utf8_lossy(&out.stderr), &[bad[1]]);
    }
}

#[test]
fn report_help_describes_the_report_not_the_evaluation() {
    for flag in ["--help", "-h"] {
        let help = stdout_of(REPORT, &[flag]);
        assert_contains(
            &help,
            &[
                "Reports from evaluation results",
                "render",
                "aggregate",
                "sweep",
                "-q, --quiet",
                "RUST_LOG",
            ],
        );
        assert!(!help.contains(env!("CARGO_PKG_DESCRIPTION")), "{help}");
    }
    let render = stdout_of(REPORT, &["render", "--help"]);
    assert_contains(
        &render,
        &[
            "--data <DIR>",
            "--out <DIR>",
            "[default: <DATA>/report]",
            "RUST_LOG",
        ],
    );
    let aggregate = stdout_of(REPORT, &["aggregate", "-h"]);
    assert_contains(
        &aggregate,
        &["[possible values: all, warm, cold_item, cold_user]"],
    );
    let sweep = stdout_of(REPORT, &["sweep", "-h"]);
    assert_contains(
        &sweep,
        &[
            "[possible values: all, warm, cold_item, cold_user]",
            "[possible values: rmse, mae]",
            "lrmm:+F, lrmm:-U, lrmm:-O, lrmm:-M, lrmm:-V, baseline:offset",
        ],
    );
    let bad = run(
        REPORT,
        &[
            "sweep",
            "--title",
            "t",
            "--x-label",
            "x",
            "--out",
            "x.png",
            "--metric",
            "mse",
            "1=m.json",
        ],
    );
    assert_eq!(bad.status.code(), Some(2));
    let bad = run(
        REPORT,
        &[
            "sweep",
            "--title",
            "t",
            "--x-label",
            "x",
            "--out",
            "x.png",
            "one=m.json",
        ],
    );
    assert_eq!(bad.status.code(), Some(2));
    assert_contains(
        &String::from_utf8_lossy(&bad.stderr),
        &["x is not a number"],
    );
}

#[test]
fn version_names_the_commit_and_the_features() {
    assert_version(EVAL, "lrmm-eval", &features());
    assert_version(REPORT, "lrmm-report", &features());
}

#[test]
fn an_invalid_rust_log_is_an_error_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().to_str().unwrap();
    let stderr = assert_bad_rust_log_fails(EVAL, &["--data", data]);
    assert!(
        !stderr.contains("interactions.parquet"),
        "stopped before reading: {stderr}"
    );
    let stderr = assert_bad_rust_log_fails(REPORT, &["render", "--data", data]);
    assert!(
        !stderr.contains("metrics.json"),
        "stopped before reading: {stderr}"
    );
}
