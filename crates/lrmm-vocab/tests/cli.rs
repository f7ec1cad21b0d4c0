//! The command line as every stage shares it (`lrmm_core::cli`): `--help`, `--version` and an
//! invalid `RUST_LOG`, for lrmm-vocab and lrmm-vocab-bench.

mod common;

use std::process::Command;

use lrmm_testing::cli::{assert_bad_rust_log_fails, assert_contains, assert_version, stdout_of};

use common::{items_frame, read_tokens, reviews_frame, write_inputs};

const VOCAB: &str = env!("CARGO_BIN_EXE_lrmm-vocab");
const BENCH: &str = env!("CARGO_BIN_EXE_lrmm-vocab-bench");

#[test]
fn vocab_help_says_what_is_read_and_what_is_written() {
    let help = stdout_of(VOCAB, &["--help"]);
    assert_contains(
        &help,
        &[
            "--data <DIR>",
            "Artifact folder read",
            "--out <DIR>",
            "Folder written",
            "[default: --data]",
            "--metadata-scope",
            "--tokenizer <PATH>",
            "-q, --quiet",
            "-v, --verbose",
            "RUST_LOG",
            "Examples",
        ],
    );
    let short = stdout_of(VOCAB, &["-h"]);
    assert_contains(&short, &["[possible values: train-items, all-items]"]);
}

#[test]
fn bench_help_says_what_is_read_and_what_is_written() {
    let help = stdout_of(BENCH, &["--help"]);
    assert_contains(
        &help,
        &[
            "--data <DIR>",
            "Artifact folder read",
            "--out <DIR>",
            "[default: --data]",
            "-q, --quiet",
            "RUST_LOG",
        ],
    );
}

#[test]
fn version_names_the_commit_and_the_features() {
    assert_version(VOCAB, "lrmm-vocab", "none");
    assert_version(BENCH, "lrmm-vocab-bench", "none");
}

#[test]
fn an_invalid_rust_log_is_an_error_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().to_str().unwrap();
    let stderr = assert_bad_rust_log_fails(VOCAB, &["--data", data]);
    assert!(
        !stderr.contains("reviews.parquet"),
        "stopped before reading: {stderr}"
    );
    assert_bad_rust_log_fails(BENCH, &["--data", data]);
    assert!(
        std::fs::read_dir(dir.path()).unwrap().next().is_none(),
        "nothing written"
    );
}

#[test]
fn out_receives_the_artifacts_and_data_is_only_read() {
    let tmp = tempfile::tempdir().unwrap();
    let rows = [
        (0, 0, "train", "good strings good sound"),
        (1, 1, "train", "good tuner"),
        (0, 1, "test", "good strings"),
    ];
    let data = write_inputs(
        &tmp.path().join("data"),
        &mut reviews_frame(&rows),
        &mut items_frame(&[(0, "strings"), (1, "")]),
    );
    let out = tmp.path().join("out");
    let run = Command::new(VOCAB)
        .arg("--data")
        .arg(data.root())
        .arg("--out")
        .arg(&out)
        .args(["--min-freq", "2", "-q"])
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
    for file in [
        "tokenizer.json",
        "review_tokens.parquet",
        "item_tokens.parquet",
        "vocab_stats.json",
    ] {
        assert!(out.join(file).is_file(), "{file} not in --out");
        assert!(
            !data.root().join(file).exists(),
            "{file} written into --data"
        );
    }
    // "good" (4 training occurrences) and "strings" (2) make the vocabulary; "[UNK]" the rest.
    let tokens = read_tokens(&out.join("review_tokens.parquet"));
    assert_eq!(tokens.len(), 3);
    assert_eq!(tokens[0][0], tokens[1][0], "the same word, the same id");
}
