//! The binary as a user meets it: exit codes, messages on stderr, `--help`.

use std::process::Command;

fn ingest_bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_lrmm-ingest"))
}

#[test]
fn bad_line_exits_non_zero_naming_file_and_line() {
    let dir = tempfile::tempdir().unwrap();
    let reviews = dir.path().join("reviews.json");
    std::fs::write(
        &reviews,
        "{\"reviewerID\": \"U\", \"asin\": \"I\", \"overall\": 4.0}\n{\"reviewerID\": \"U\", \"asin\": \"J\", \"overall\": 9}\n",
    )
    .unwrap();
    let out = dir.path().join("out");
    let run = ingest_bin()
        .args(["--reviews"])
        .arg(&reviews)
        .arg("--out")
        .arg(&out)
        .output()
        .unwrap();
    assert!(!run.status.success());
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert!(
        stderr.contains(&format!("{}:2:", reviews.display())),
        "{stderr}"
    );
    assert!(stderr.contains("outside 1–5"), "{stderr}");
    assert!(!out.join("interactions.parquet").exists());

    let run = ingest_bin()
        .args(["--skip-bad-lines", "--reviews"])
        .arg(&reviews)
        .arg("--out")
        .arg(&out)
        .output()
        .unwrap();
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    assert!(out.join("interactions.parquet").is_file());
}

#[test]
fn missing_input_file_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let run = ingest_bin()
        .args(["--reviews", "/nonexistent/reviews.json.gz", "--out"])
        .arg(dir.path())
        .output()
        .unwrap();
    assert!(!run.status.success());
    assert!(String::from_utf8_lossy(&run.stderr).contains("/nonexistent/reviews.json.gz"));
}

#[test]
fn help_explains_the_flags() {
    let run = ingest_bin()
        .arg("--help")
        .env_remove("RUST_LOG")
        .output()
        .unwrap();
    assert!(run.status.success());
    let help = String::from_utf8_lossy(&run.stdout);
    for flag in [
        "--reviews",
        "--meta",
        "--seed",
        "--split-mode",
        "--k-core",
        "--sample-users",
        "--skip-bad-lines",
        "--out <DIR>",
        "Folder written",
        "-q, --quiet",
        "-v, --verbose",
        "RUST_LOG",
        "Examples",
        "Item cold start",
    ] {
        assert!(help.contains(flag), "--help lacks {flag}:\n{help}");
    }
    let run = ingest_bin()
        .arg("-h")
        .env_remove("RUST_LOG")
        .output()
        .unwrap();
    let short = String::from_utf8_lossy(&run.stdout);
    assert!(
        short.contains("[possible values: random, cold-items]"),
        "{short}"
    );
    assert!(
        short.contains("Ingest Amazon review"),
        "-h shows the stage's own summary:\n{short}"
    );
}

#[test]
fn version_names_the_commit_and_the_features() {
    lrmm_testing::cli::assert_version(env!("CARGO_BIN_EXE_lrmm-ingest"), "lrmm-ingest", "none");
}

#[test]
fn an_invalid_rust_log_is_an_error_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("never");
    let run = ingest_bin()
        .args(["--reviews", "/nonexistent/reviews.json.gz", "--out"])
        .arg(&out)
        .env("RUST_LOG", "lrmm=notalevel[")
        .output()
        .unwrap();
    assert!(!run.status.success());
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert!(stderr.contains("RUST_LOG"), "{stderr}");
    assert!(
        !stderr.contains("/nonexistent"),
        "the bad RUST_LOG stops the run before any input is read: {stderr}"
    );
}
