//! Records the git commit the workspace is built from, for every binary's `--version` and the
//! `config.json` of a trained model (`lrmm_core::cli::BuildInfo`).

use std::path::Path;
use std::process::Command;

fn main() {
    // Read at run time, not with env!(): the compiled script is shared by every checkout that
    // uses the same target directory (a CI clone beside the working tree), and a path baked in
    // at compile time would point at whichever checkout built it first, perhaps deleted since.
    let manifest_dir =
        std::env::var_os("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR");
    let repo = Path::new(&manifest_dir).join("../..");
    // `.git` is a file in a worktree; git itself knows where the real folder is.
    let git_dir = git(&repo, &["rev-parse", "--absolute-git-dir"])
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| repo.join(".git"));
    // Rebuild when HEAD moves: a new commit on the branch or a checkout of another one.
    // Only paths that exist: cargo reruns the script on every build for a missing one. The
    // branch's ref may be packed now and loose after the next commit, so the folder of the
    // branch's ref is watched too (cargo scans a watched folder for any change).
    let mut watched = vec![git_dir.join("HEAD"), git_dir.join("packed-refs")];
    if let Ok(head) = std::fs::read_to_string(git_dir.join("HEAD")) {
        if let Some(reference) = head.trim().strip_prefix("ref: ") {
            let reference = git_dir.join(reference);
            watched.extend(reference.parent().map(Path::to_path_buf));
            watched.push(reference);
        }
    }
    for path in watched.iter().filter(|p| p.exists()) {
        println!("cargo:rerun-if-changed={}", path.display());
    }
    // Without any rerun-if-changed line cargo would rerun on every change in the package.
    println!("cargo:rerun-if-changed=build.rs");
    let commit =
        git(&repo, &["rev-parse", "--short=12", "HEAD"]).unwrap_or_else(|| "unknown".into());
    println!("cargo:rustc-env=LRMM_GIT_COMMIT={commit}");
}

/// The trimmed output of a git command in `repo`, or `None` without git or outside a repository.
fn git(repo: &Path, args: &[&str]) -> Option<String> {
    Command::new("git")
        .args(args)
        .current_dir(repo)
        .output()
        .ok()
        .filter(|o| o.status.success())
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
}
