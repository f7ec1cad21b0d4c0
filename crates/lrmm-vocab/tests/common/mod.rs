//! Helpers shared by the integration tests: small ingestion artifacts built in memory, and the
//! real data folder when it is present.
#![allow(dead_code)]

use std::path::{Path, PathBuf};

use lrmm_core::ArtifactDir;
use polars::prelude::*;

/// One row of `reviews.parquet`: (user_id, item_id, split, text).
pub type Review<'a> = (u32, u32, &'a str, &'a str);

pub fn reviews_frame(reviews: &[Review<'_>]) -> DataFrame {
    df!(
        "user_id" => reviews.iter().map(|r| r.0).collect::<Vec<u32>>(),
        "item_id" => reviews.iter().map(|r| r.1).collect::<Vec<u32>>(),
        "unix_time" => (0..reviews.len() as i64).collect::<Vec<i64>>(),
        "split" => reviews.iter().map(|r| r.2).collect::<Vec<&str>>(),
        "text" => reviews.iter().map(|r| r.3).collect::<Vec<&str>>(),
    )
    .unwrap()
}

/// `items.parquet` from (item_id, metadata document; "" when none).
pub fn items_frame(items: &[(u32, &str)]) -> DataFrame {
    let n = items.len();
    df!(
        "item_id" => items.iter().map(|i| i.0).collect::<Vec<u32>>(),
        "asin" => items.iter().map(|i| format!("B{:09}", i.0)).collect::<Vec<String>>(),
        "title" => items.iter().map(|i| (!i.1.is_empty()).then_some(i.1)).collect::<Vec<Option<&str>>>(),
        "description" => vec![None::<&str>; n],
        "image_url" => vec![None::<&str>; n],
        "has_meta" => items.iter().map(|i| !i.1.is_empty()).collect::<Vec<bool>>(),
        "metadata_text" => items.iter().map(|i| i.1).collect::<Vec<&str>>(),
        "n_train" => vec![0u32; n],
    )
    .unwrap()
}

/// An artifact folder holding the two ingestion artifacts.
pub fn write_inputs(root: &Path, reviews: &mut DataFrame, items: &mut DataFrame) -> ArtifactDir {
    let dir = ArtifactDir::new(root);
    lrmm_core::parquet::write_atomic(&dir.reviews(), reviews).unwrap();
    lrmm_core::parquet::write_atomic(&dir.items(), items).unwrap();
    dir
}

/// The `tokens` column of a token artifact, as plain vectors.
pub fn read_tokens(path: &Path) -> Vec<Vec<u32>> {
    let file = std::fs::File::open(path).unwrap();
    let df = ParquetReader::new(file).finish().unwrap();
    let tokens = df.column("tokens").unwrap().list().unwrap();
    (0..tokens.len())
        .map(|i| {
            let ids = tokens.get_as_series(i).unwrap();
            ids.u32().unwrap().into_no_null_iter().collect()
        })
        .collect()
}

pub fn read_frame(path: &Path) -> DataFrame {
    ParquetReader::new(std::fs::File::open(path).unwrap())
        .finish()
        .unwrap()
}

/// `../shared/data` of the repository, or `$LRMM_SHARED_DATA`; None (with the reason printed)
/// when it or `relative` inside it is absent.
pub fn shared_file(relative: &str) -> Option<PathBuf> {
    let root = std::env::var_os("LRMM_SHARED_DATA")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data"));
    let path = root.join(relative);
    if path.exists() {
        Some(path)
    } else {
        eprintln!(
            "skipped: real data {} not found (set LRMM_SHARED_DATA or put it at ../shared/data)",
            path.display()
        );
        None
    }
}

/// Whether `python3` can import `tokenizers`; prints why not.
pub fn python_tokenizers_available() -> bool {
    match std::process::Command::new("python3")
        .args(["-c", "import tokenizers"])
        .output()
    {
        Ok(out) if out.status.success() => true,
        Ok(out) => {
            eprintln!(
                "skipped: python3 cannot import tokenizers (pip install tokenizers): {}",
                String::from_utf8_lossy(&out.stderr)
                    .lines()
                    .last()
                    .unwrap_or("")
            );
            false
        }
        Err(e) => {
            eprintln!("skipped: no python3 ({e})");
            false
        }
    }
}

/// Encodes `texts` with Python `tokenizers.Tokenizer.from_file(tokenizer)`.
pub fn python_encode(tokenizer: &Path, texts: &[&str]) -> Vec<Vec<u32>> {
    const SCRIPT: &str = r#"
import json, sys
from tokenizers import Tokenizer
tokenizer = Tokenizer.from_file(sys.argv[1])
with open(sys.argv[2], encoding="utf-8") as f:
    texts = json.load(f)
encodings = tokenizer.encode_batch(texts, add_special_tokens=False)
json.dump([e.ids for e in encodings], sys.stdout)
"#;
    let dir = tempfile::tempdir().unwrap();
    let texts_path = dir.path().join("texts.json");
    std::fs::write(&texts_path, serde_json::to_vec(texts).unwrap()).unwrap();
    let out = std::process::Command::new("python3")
        .arg("-c")
        .arg(SCRIPT)
        .arg(tokenizer)
        .arg(&texts_path)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "python tokenizers failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}
