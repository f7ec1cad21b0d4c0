//! The command line as every stage shares it (`lrmm_core::cli`): `--help`, `--version`, `-q`/`-v`
//! and an invalid `RUST_LOG`.

use std::process::Command;

use lrmm_testing::cli::{assert_contains, assert_version, stdout_of};

const BIN: &str = env!("CARGO_BIN_EXE_lrmm-datagen");

#[test]
fn help_names_the_output_folder_the_shared_flags_and_rust_log() {
    let help = stdout_of(BIN, &["--help"]);
    assert_contains(
        &help,
        &[
            "--out <DIR>",
            "Folder to write into",
            "--seed",
            "-q, --quiet",
            "-v, --verbose",
            "RUST_LOG",
            "Example",
        ],
    );
    assert!(
        !help.contains("--data"),
        "lrmm-datagen reads no artifact folder:\n{help}"
    );
}

#[test]
fn version_names_the_commit_and_the_features() {
    assert_version(BIN, "lrmm-datagen", "none");
}

#[test]
fn an_invalid_rust_log_is_an_error_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("never");
    let run = Command::new(BIN)
        .arg("--out")
        .arg(&out)
        .env("RUST_LOG", "lrmm=notalevel[")
        .output()
        .unwrap();
    assert!(!run.status.success());
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert!(stderr.contains("RUST_LOG"), "{stderr}");
    assert!(
        !out.exists(),
        "nothing is written when the command line is refused"
    );
}

#[test]
fn quiet_logs_nothing_but_warnings() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("small");
    let args = [
        "--users",
        "12",
        "--items",
        "8",
        "--reviews-per-user",
        "6",
        "--image-size",
        "8",
    ];
    let quiet = Command::new(BIN)
        .arg("-q")
        .arg("--out")
        .arg(&out)
        .args(args)
        .env_remove("RUST_LOG")
        .output()
        .unwrap();
    assert!(
        quiet.status.success(),
        "{}",
        String::from_utf8_lossy(&quiet.stderr)
    );
    assert!(
        quiet.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&quiet.stderr)
    );
    // The default level logs the resolved arguments first.
    let loud = Command::new(BIN)
        .arg("--out")
        .arg(&out)
        .args(args)
        .env_remove("RUST_LOG")
        .output()
        .unwrap();
    assert!(loud.status.success());
    assert_contains(
        &String::from_utf8_lossy(&loud.stderr),
        &["Args {", "users: 12"],
    );
}
