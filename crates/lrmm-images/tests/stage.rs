//! The stage as a whole: McAuley import, reproducible artifacts, and the command line.

mod common;

use std::io::Write;
use std::path::Path;
use std::process::Command;

use common::{fixtures, write_items};
use lrmm_core::ArtifactDir;
use lrmm_images::mcauley::{self, MCAULEY_DIM};
use lrmm_images::{artifact, extract, Error, Features, ImageStatus};

fn mcauley_value(record: usize, j: usize) -> f32 {
    record as f32 * 1000.0 + j as f32 * 0.25 - 7.5
}

/// Records for asins R0..R{n-1}, record r holding `mcauley_value(r, j)`; `extra` appended raw.
fn write_mcauley(path: &Path, asins: &[&str], extra: &[u8]) {
    let mut f = std::io::BufWriter::new(std::fs::File::create(path).unwrap());
    for (r, asin) in asins.iter().enumerate() {
        assert_eq!(asin.len(), 10);
        f.write_all(asin.as_bytes()).unwrap();
        for j in 0..MCAULEY_DIM {
            f.write_all(&mcauley_value(r, j).to_le_bytes()).unwrap();
        }
    }
    f.write_all(extra).unwrap();
}

#[test]
fn mcauley_import_keeps_the_datasets_items_only() {
    let dir = tempfile::tempdir().unwrap();
    let b = dir.path().join("image_features_Test.b");
    write_mcauley(
        &b,
        &[
            "0000000001",
            "B00000000X",
            "B00000000Y",
            "B00000000X",
            "B00000000Z",
        ],
        &[],
    );
    let items_path = dir.path().join("items.parquet");
    write_items(
        &items_path,
        &[(5, "B00000000Z"), (1, "B00000000X"), (3, "NOTINFILE0")],
    );
    let items = extract::read_items(&items_path).unwrap();

    let (features, statuses, stats) = mcauley::import(&b, &items, false).unwrap();
    assert_eq!(features.item_ids, vec![1, 5]);
    assert_eq!(features.dim, MCAULEY_DIM);
    // Item 1 is record 1 (the later duplicate at record 3 is ignored), item 5 is record 4.
    assert_eq!(
        features.row(0)[..3],
        [
            mcauley_value(1, 0),
            mcauley_value(1, 1),
            mcauley_value(1, 2)
        ]
    );
    assert_eq!(features.row(1)[4095], mcauley_value(4, 4095));
    assert_eq!(stats.duplicates, 1);
    assert_eq!(stats.records_read, 5);
    let status: Vec<_> = statuses.iter().map(|s| (s.item_id, s.status)).collect();
    assert_eq!(
        status,
        vec![
            (1, ImageStatus::Ok),
            (3, ImageStatus::Missing),
            (5, ImageStatus::Ok)
        ]
    );

    let out = ArtifactDir::new(dir.path().join("build"));
    lrmm_images::write_artifacts(&out, &features, &statuses, Default::default()).unwrap();
    let (read_back, _) = Features::read(&out.image_features()).unwrap();
    assert_eq!(read_back, features);
}

#[test]
fn mcauley_truncated_record_is_an_error_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    let b = dir.path().join("image_features_Cut.b");
    write_mcauley(&b, &["B00000000X", "B00000000Y"], b"B00000000Z\x01\x02\x03");
    let items_path = dir.path().join("items.parquet");
    write_items(&items_path, &[(0, "B00000000Z")]);
    let items = extract::read_items(&items_path).unwrap();
    let err = mcauley::import(&b, &items, false).unwrap_err();
    assert!(matches!(err, Error::BadRecord { record: 2, .. }), "{err}");
    let message = err.to_string();
    assert!(
        message.contains("image_features_Cut.b") && message.contains("truncated"),
        "{message}"
    );
}

fn binary() -> Command {
    Command::new(env!("CARGO_BIN_EXE_lrmm-images"))
}

fn photo_folder(dir: &Path) -> ArtifactDir {
    let images = dir.join("images");
    std::fs::create_dir_all(&images).unwrap();
    std::fs::copy(
        fixtures().join("astronaut.png"),
        images.join("B000ASTRO1.png"),
    )
    .unwrap();
    std::fs::copy(
        fixtures().join("coffee.jpg"),
        images.join("B000COFFEE.jpeg"),
    )
    .unwrap();
    std::fs::write(images.join("B000BROKEN.jpg"), b"GIF89a but not really").unwrap();
    let out = ArtifactDir::new(dir.join("build"));
    out.create().unwrap();
    write_items(
        &out.items(),
        &[
            (0, "B000ASTRO1"),
            (1, "B000BROKEN"),
            (2, "B000COFFEE"),
            (3, "B000NOFILE"),
        ],
    );
    out
}

fn run_cli(dir: &Path, out: &ArtifactDir, seed: &str) {
    let status = binary()
        .args(["--data", out.root().to_str().unwrap()])
        .args(["--images", dir.join("images").to_str().unwrap()])
        .args(["--width-divisor", "32", "--batch-size", "2", "--seed", seed])
        .status()
        .unwrap();
    assert!(status.success());
}

#[test]
fn cli_writes_both_artifacts_and_same_seed_gives_same_bytes() {
    let dir = tempfile::tempdir().unwrap();
    let out = photo_folder(dir.path());
    run_cli(dir.path(), &out, "4");
    let first = std::fs::read(out.image_features()).unwrap();
    let first_status = artifact::read_status(&out.image_status()).unwrap();
    run_cli(dir.path(), &out, "4");
    assert!(
        std::fs::read(out.image_features()).unwrap() == first,
        "same inputs and seed, other bytes"
    );
    assert_eq!(
        artifact::read_status(&out.image_status()).unwrap(),
        first_status
    );

    let (features, metadata) = Features::read(&out.image_features()).unwrap();
    assert_eq!(features.item_ids, vec![0, 2]);
    assert_eq!(features.dim, 128);
    assert!(features.values.iter().any(|&v| v > 0.0));
    assert!(metadata["weights"].contains("seed 4"), "{metadata:?}");
    let status: Vec<_> = first_status.iter().map(|s| s.status).collect();
    use ImageStatus::*;
    assert_eq!(status, vec![Ok, Corrupt, Ok, Missing]);

    run_cli(dir.path(), &out, "5");
    let (other_seed, _) = Features::read(&out.image_features()).unwrap();
    assert_ne!(other_seed.values, features.values);
}

#[test]
fn cli_bad_weights_file_fails_naming_it_and_leaves_no_artifact() {
    let dir = tempfile::tempdir().unwrap();
    let out = photo_folder(dir.path());
    let output = binary()
        .args(["--data", out.root().to_str().unwrap()])
        .args(["--images", dir.path().join("images").to_str().unwrap()])
        .args([
            "--weights",
            fixtures().join("vgg11_w64.safetensors").to_str().unwrap(),
        ])
        .args(["--width-divisor", "64"])
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("vgg11_w64.safetensors") && stderr.contains("features.14.weight"),
        "{stderr}"
    );
    assert!(!out.image_features().exists());
}

#[test]
fn cli_bench_prints_json_lines() {
    let output = binary()
        .args([
            "bench",
            "--width-divisor",
            "64",
            "--batches",
            "1,2",
            "--steps",
            "1",
        ])
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let stdout = String::from_utf8(output.stdout).unwrap();
    let lines: Vec<serde_json::Value> = stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 2);
    assert_eq!(lines[1]["batch"], 2);
    assert_eq!(lines[1]["out_dim"], 64);
    assert!(lines[0]["images_per_s"].as_f64().unwrap() > 0.0);
}
