//! The command line as every stage shares it (`lrmm_core::cli`): `--help`, `--version`, `--data`
//! read and `--out` written, and an invalid `RUST_LOG`.

mod common;

use std::process::Command;

use lrmm_testing::cli::{
    assert_bad_rust_log_fails, assert_contains, assert_version, run, stdout_of,
};

use common::{fixtures, write_items};

const BIN: &str = env!("CARGO_BIN_EXE_lrmm-images");

#[test]
fn help_says_what_is_read_and_written_and_lists_the_choices() {
    let help = stdout_of(BIN, &["--help"]);
    assert_contains(
        &help,
        &[
            "--data <DIR>",
            "Artifact folder read",
            "--out <DIR>",
            "Folder written",
            "[default: --data]",
            "--images <DIR>",
            "--mcauley <PATH>",
            "-q, --quiet",
            "-v, --verbose",
            "RUST_LOG",
            "Examples",
        ],
    );
    let short = stdout_of(BIN, &["-h"]);
    assert_contains(
        &short,
        &[
            "[possible values: cpu, cuda, cuda:N]",
            "[possible values: 11, 13, 16, 19]",
            "[possible values: fc6, fc7]",
        ],
    );
    let bench = stdout_of(BIN, &["bench", "-h"]);
    assert_contains(
        &bench,
        &[
            "--batches",
            "[possible values: cpu, cuda, cuda:N]",
            "-q, --quiet",
            "RUST_LOG",
        ],
    );
}

#[test]
fn version_names_the_commit_and_the_features() {
    let features = if cfg!(feature = "cuda") {
        "cuda"
    } else {
        "none"
    };
    assert_version(BIN, "lrmm-images", features);
}

#[test]
fn an_invalid_rust_log_is_an_error_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().to_str().unwrap();
    let stderr = assert_bad_rust_log_fails(BIN, &["--data", data, "--images", data]);
    assert!(
        !stderr.contains("items.parquet"),
        "stopped before reading: {stderr}"
    );
    assert_bad_rust_log_fails(BIN, &["bench", "--steps", "1"]);
}

#[test]
fn bad_choices_are_refused_by_the_command_line() {
    for args in [["--device", "gpu"], ["--depth", "17"], ["--layer", "fc8"]] {
        let out = run(
            BIN,
            &[&["--data", ".", "--images", "."][..], &args[..]].concat(),
        );
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        assert_contains(&String::from_utf8_lossy(&out.stderr), &[args[1]]);
    }
}

#[test]
fn features_go_to_out_and_data_is_only_read() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    std::fs::create_dir_all(&data).unwrap();
    write_items(
        &data.join("items.parquet"),
        &[(0, "B000ASTRO1"), (1, "B000NOFILE")],
    );
    let images = tmp.path().join("images");
    std::fs::create_dir_all(&images).unwrap();
    std::fs::copy(
        fixtures().join("astronaut.png"),
        images.join("B000ASTRO1.png"),
    )
    .unwrap();
    let out = tmp.path().join("out");
    let run = Command::new(BIN)
        .arg("--data")
        .arg(&data)
        .arg("--out")
        .arg(&out)
        .arg("--images")
        .arg(&images)
        .args(["--width-divisor", "32", "--depth", "vgg11", "-q"])
        .env_remove("RUST_LOG")
        .output()
        .unwrap();
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    // -q: the random-initialisation warning, and nothing at info level.
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert!(!stderr.contains("INFO"), "{stderr}");
    for file in ["image_features.safetensors", "image_status.parquet"] {
        assert!(out.join(file).is_file(), "{file} not in --out");
        assert!(!data.join(file).exists(), "{file} written into --data");
    }
}
