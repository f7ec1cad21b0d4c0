//! Running a stage binary as a user does, for the `tests/cli.rs` of every crate: its `--help`,
//! its `--version` (git commit and features) and its refusal of an invalid `RUST_LOG`.

use std::process::{Command, Output};

/// Runs `bin` with `args`, with `RUST_LOG` unset so the flags alone decide the logging.
pub fn run(bin: &str, args: &[&str]) -> Output {
    Command::new(bin)
        .args(args)
        .env_remove("RUST_LOG")
        .output()
        .unwrap_or_else(|e| panic!("cannot run {bin}: {e}"))
}

/// The standard output of a run that must succeed.
pub fn stdout_of(bin: &str, args: &[&str]) -> String {
    let out = run(bin, args);
    assert!(
        out.status.success(),
        "{bin} {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("stdout is UTF-8")
}

/// Asserts that `text` contains every needle, showing the text when one is missing.
pub fn assert_contains(text: &str, needles: &[&str]) {
    for needle in needles {
        assert!(text.contains(needle), "no {needle:?} in:\n{text}");
    }
}

/// The commit the workspace is checked out at, when git is there to say.
pub fn git_commit() -> Option<String> {
    let out = Command::new("git")
        .args(["rev-parse", "--short=12", "HEAD"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).trim().to_string())
}

/// `--version` names the binary, the git commit and the enabled features (`"none"` or a list).
pub fn assert_version(bin: &str, name: &str, features: &str) {
    let version = stdout_of(bin, &["--version"]);
    assert_contains(
        &version,
        &[name, "(git ", &format!("features: {features})")],
    );
    if let Some(commit) = git_commit() {
        assert_contains(&version, &[&commit]);
    }
}

/// A command line that parses, run with a `RUST_LOG` that does not: it must fail, naming
/// `RUST_LOG`. Returns its standard error.
pub fn assert_bad_rust_log_fails(bin: &str, args: &[&str]) -> String {
    let out = Command::new(bin)
        .args(args)
        .env("RUST_LOG", "lrmm=notalevel[")
        .output()
        .unwrap_or_else(|e| panic!("cannot run {bin}: {e}"));
    assert!(
        !out.status.success(),
        "{bin} {args:?} accepted a bad RUST_LOG"
    );
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_contains(&stderr, &["RUST_LOG"]);
    stderr
}
