//! The command line as every stage shares it (`lrmm_core::cli`): `--help` says what is read
//! and written and lists every choice; bad choices are usage errors; `--version`; an invalid
//! `RUST_LOG`.

use lrmm_testing::cli::{
    assert_bad_rust_log_fails, assert_contains, assert_version, run, stdout_of,
};

const BIN: &str = env!("CARGO_BIN_EXE_lrmm-predict");

#[test]
fn help_says_what_is_read_and_written_and_lists_the_choices() {
    let help = stdout_of(BIN, &["--help"]);
    assert_contains(
        &help,
        &[
            "--data <DIR>",
            "Artifact folder read",
            "--model <DIR>",
            "--pairs <PATH>",
            "--top-k <K>",
            "--out <PATH>",
            "File written",
            "-q, --quiet",
            "-v, --verbose",
            "RUST_LOG",
            "Examples",
            "lrmm-predict --model build/default/model",
        ],
    );
    let short = stdout_of(BIN, &["-h"]);
    assert_contains(
        &short,
        &[
            "[possible values: parquet, jsonl]",
            "[possible values: cpu, cuda, cuda:N]",
        ],
    );
}

#[test]
fn bad_choices_and_missing_queries_are_usage_errors() {
    for bad in [
        &[
            "--model", "m", "--data", "d", "--pairs", "p", "--format", "csv",
        ][..],
        &[
            "--model", "m", "--data", "d", "--pairs", "p", "--device", "tpu",
        ][..],
        &["--model", "m", "--data", "d"][..],
        &["--model", "m", "--data", "d", "--users", "u.txt"][..],
    ] {
        let out = run(BIN, bad);
        assert_eq!(
            out.status.code(),
            Some(2),
            "{bad:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

#[test]
fn version_names_the_commit_and_the_features() {
    let features = if cfg!(feature = "cuda") {
        "cuda"
    } else {
        "none"
    };
    assert_version(BIN, "lrmm-predict", features);
}

#[test]
fn an_invalid_rust_log_is_an_error_naming_it() {
    let stderr = assert_bad_rust_log_fails(BIN, &["--model", "m", "--data", "d", "--pairs", "p"]);
    assert!(
        !stderr.contains("config.json"),
        "stopped before reading: {stderr}"
    );
}

#[test]
fn a_missing_pairs_file_is_an_error_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("no_such_pairs.jsonl");
    let out = run(
        BIN,
        &[
            "--model",
            "m",
            "--data",
            "d",
            "--pairs",
            missing.to_str().unwrap(),
            "-q",
        ],
    );
    assert_eq!(out.status.code(), Some(1));
    assert_contains(
        &String::from_utf8_lossy(&out.stderr),
        &["no_such_pairs.jsonl"],
    );
}
