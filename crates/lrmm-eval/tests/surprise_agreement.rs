//! The Rust baselines against Surprise 1.1.5 on the same Musical Instruments split.
//!
//! `fixtures/mi_split.csv` (real Amazon 2014 Musical Instruments 5-core ratings, dense ids, a
//! seeded 80/10/10 split) and `fixtures/surprise_reference.json` (Surprise's test RMSE per
//! baseline, mean over 30 seeds) were made by `fixtures/surprise_reference.py`; both are
//! committed, so this test runs without the shared data.

use std::path::Path;

use lrmm_core::Split;
use lrmm_eval::baselines::{fit_predict, BaselineKind};
use lrmm_eval::data::Ratings;
use lrmm_eval::metrics::rmse;

const TOLERANCE: f64 = 0.01;

fn fixture(name: &str) -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

/// Mean test RMSE over `seeds` seeds, as the reference averages Surprise's random inits.
fn rust_rmse(ratings: &Ratings, kind: BaselineKind, seeds: u64) -> (f64, Vec<f64>) {
    let test = ratings.rows(Split::Test);
    let truth: Vec<f32> = test.iter().map(|&r| ratings.rating[r]).collect();
    let per_seed: Vec<f64> = (0..seeds)
        .map(|seed| {
            let predicted = fit_predict(kind, ratings, None, &test, seed, (1.0, 5.0)).unwrap();
            rmse(&predicted, &truth).unwrap()
        })
        .collect();
    (
        per_seed.iter().sum::<f64>() / per_seed.len() as f64,
        per_seed,
    )
}

#[test]
fn baselines_agree_with_surprise_within_0_01_rmse() {
    let ratings = Ratings::from_csv(&fixture("mi_split.csv")).unwrap();
    let reference: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(fixture("surprise_reference.json")).unwrap())
            .unwrap();
    assert_eq!(
        ratings.rows(Split::Train).len() as u64,
        reference["n_train"].as_u64().unwrap()
    );
    assert_eq!(
        ratings.rows(Split::Test).len() as u64,
        reference["n_test"].as_u64().unwrap()
    );
    let mut failures = Vec::new();
    for kind in BaselineKind::SURPRISE {
        let expected = reference["baselines"][kind.key()]["rmse"].as_f64().unwrap();
        // NMF's RMSE varies most between inits (std ≈ 0.016 in Surprise): average more seeds.
        let seeds = match kind {
            BaselineKind::Offset | BaselineKind::Bias => 1,
            BaselineKind::Nmf => 30,
            BaselineKind::Svd | BaselineKind::SvdPp => 10,
            BaselineKind::BiasValid | BaselineKind::TfIdf => {
                unreachable!("not a Surprise baseline")
            }
        };
        let (got, per_seed) = rust_rmse(&ratings, kind, seeds);
        eprintln!(
            "{:7} rust {got:.4} surprise {expected:.4} diff {:+.4} (rust seeds {:.4}..{:.4})",
            kind.key(),
            got - expected,
            per_seed.iter().cloned().fold(f64::INFINITY, f64::min),
            per_seed.iter().cloned().fold(f64::NEG_INFINITY, f64::max),
        );
        if (got - expected).abs() > TOLERANCE {
            failures.push(format!(
                "{}: rust {got:.4} vs surprise {expected:.4}",
                kind.key()
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "baselines off Surprise by more than {TOLERANCE}: {failures:?}"
    );
}

#[test]
fn deterministic_biases_match_surprise_closely() {
    // Offset and ALS biases have no random init: they should agree to float precision.
    let ratings = Ratings::from_csv(&fixture("mi_split.csv")).unwrap();
    let reference: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(fixture("surprise_reference.json")).unwrap())
            .unwrap();
    for kind in [BaselineKind::Offset, BaselineKind::Bias] {
        let expected = reference["baselines"][kind.key()]["rmse"].as_f64().unwrap();
        let (got, _) = rust_rmse(&ratings, kind, 1);
        assert!(
            (got - expected).abs() < 1e-5,
            "{}: {got} vs {expected}",
            kind.key()
        );
    }
}
