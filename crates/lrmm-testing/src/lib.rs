//! Test helpers of the lrmm workspace, kept out of the production libraries: a dev-dependency
//! of the crates whose tests use them, never a dependency.
//!
//! * [`cli`] — running a stage binary's `--help`, `--version` and a bad `RUST_LOG`;
//! * [`synthetic`] — a small artifact folder with planted signal, in the formats the upstream
//!   stages write, and a model config small enough to train on it in seconds;
//! * [`shared_data_dir`], [`shared_data_file`] — the real Amazon data beside the repository,
//!   which tests use when present and skip with a printed reason when not.

pub mod cli;
pub mod synthetic;

use std::path::{Path, PathBuf};

/// The environment variable that overrides where the shared data is.
pub const SHARED_DATA_ENV: &str = "LRMM_SHARED_DATA";

/// The real Amazon data shared beside the repository (`../shared/data`), or `$LRMM_SHARED_DATA`.
/// Tests and benchmarks use it when present and skip with a printed reason when it is not.
pub fn shared_data_dir() -> Option<PathBuf> {
    let candidate = match std::env::var_os(SHARED_DATA_ENV) {
        Some(dir) => PathBuf::from(dir),
        // This crate is crates/lrmm-testing: three levels up is the folder holding the clone.
        None => Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data"),
    };
    candidate.is_dir().then_some(candidate)
}

/// A file under [`shared_data_dir`], or `None` after printing why a test is skipped.
pub fn shared_data_file(relative: &str) -> Option<PathBuf> {
    match shared_data_dir().map(|d| d.join(relative)) {
        Some(path) if path.is_file() => Some(path),
        _ => {
            eprintln!("SKIPPED: shared data file {relative} is absent (set {SHARED_DATA_ENV} or place ../shared/data beside the repository)");
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use lrmm_core::{ArtifactDir, Split};
    use lrmm_model::config::DocOrder;
    use lrmm_model::data::Dataset;
    use synthetic::{tiny_config, SyntheticSpec};

    #[test]
    fn the_shared_data_dir_is_beside_the_repository() {
        if std::env::var_os(SHARED_DATA_ENV).is_some() {
            return;
        }
        let expected = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../../shared/data")
            .canonicalize()
            .ok();
        assert_eq!(
            shared_data_dir().and_then(|d| d.canonicalize().ok()),
            expected,
            "shared_data_dir must be `shared/data` next to the clone, when it exists"
        );
        assert!(shared_data_file("no/such/file.json").is_none());
    }

    #[test]
    fn synthetic_artifacts_load_with_every_split_and_missing_modalities() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = ArtifactDir::new(tmp.path());
        let spec = SyntheticSpec::default();
        synthetic::write(&dir, spec).unwrap();
        let ds = Dataset::load(&dir, DocOrder::RecentFirst).unwrap();
        assert_eq!(ds.len(), spec.users * spec.interactions_per_user);
        assert_eq!(ds.image_dim, spec.image_dim);
        for split in [Split::Train, Split::Valid, Split::Test] {
            assert!(!ds.rows(split).is_empty(), "{split:?} is empty");
        }
        assert!(
            (0..ds.n_items).any(|o| ds.image(o).is_none()),
            "some items lack an image"
        );
        assert!(ds.rating.iter().all(|r| (1.0..=5.0).contains(r)));
        // Same spec, same bytes.
        let again = tempfile::tempdir().unwrap();
        let again_dir = ArtifactDir::new(again.path());
        synthetic::write(&again_dir, spec).unwrap();
        assert_eq!(
            std::fs::read(dir.interactions()).unwrap(),
            std::fs::read(again_dir.interactions()).unwrap()
        );
        assert_eq!(tiny_config().model.hidden, 12);
    }
}
