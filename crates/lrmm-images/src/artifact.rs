//! The image stage's two artifacts:
//!
//! - `image_features.safetensors` ([`Features`], specified in `lrmm_core::image_features`):
//!   features F32 `[n, d]` (d = 4096 for a full VGG) of the items whose image is `ok`.
//! - `image_status.parquet` (`lrmm_core::schema::IMAGE_STATUS`): one row per item of
//!   `items.parquet`: `status` is `ok`, `missing` or `corrupt`; `error` says why (null when ok).

use std::collections::BTreeMap;
use std::path::Path;

use lrmm_core::schema::IMAGE_STATUS;
use polars::prelude::*;

use crate::error::{Error, Result};

/// What happened to one item's image.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ImageStatus {
    Ok,
    /// No image for the item: a missing modality.
    Missing,
    /// A file that could not be decoded: also a missing modality, with the reason kept.
    Corrupt,
}

impl ImageStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            ImageStatus::Ok => "ok",
            ImageStatus::Missing => "missing",
            ImageStatus::Corrupt => "corrupt",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "ok" => Some(ImageStatus::Ok),
            "missing" => Some(ImageStatus::Missing),
            "corrupt" => Some(ImageStatus::Corrupt),
            _ => None,
        }
    }
}

/// One row of `image_status.parquet`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatusRow {
    pub item_id: u32,
    pub status: ImageStatus,
    pub error: Option<String>,
}

/// Feature vectors of the items with an image: the contract type of `lrmm-core`, whose
/// `write`/`read` are the one writer and reader of `image_features.safetensors`.
pub use lrmm_core::image_features::ImageFeatures as Features;

/// Counts of each status, for logs and the features file's metadata.
pub fn count_statuses(rows: &[StatusRow]) -> BTreeMap<&'static str, usize> {
    let mut counts = BTreeMap::from([("ok", 0), ("missing", 0), ("corrupt", 0)]);
    for row in rows {
        *counts.entry(row.status.as_str()).or_default() += 1;
    }
    counts
}

/// Writes `image_status.parquet` atomically.
pub fn write_status(path: &Path, rows: &[StatusRow]) -> Result<()> {
    let item_id: Vec<u32> = rows.iter().map(|r| r.item_id).collect();
    let status: Vec<&str> = rows.iter().map(|r| r.status.as_str()).collect();
    let error: Vec<Option<&str>> = rows.iter().map(|r| r.error.as_deref()).collect();
    let mut df = DataFrame::new_infer_height(vec![
        Column::new("item_id".into(), item_id),
        Column::new("status".into(), status),
        Column::new("error".into(), error),
    ])
    .map_err(|e| Error::BadTable {
        path: path.to_path_buf(),
        message: e.to_string(),
    })?;
    lrmm_core::parquet::check_schema(path, &df, IMAGE_STATUS)?;
    lrmm_core::parquet::write_atomic(path, &mut df)?;
    Ok(())
}

/// Reads `image_status.parquet`.
pub fn read_status(path: &Path) -> Result<Vec<StatusRow>> {
    let df = lrmm_core::parquet::read_checked(path, IMAGE_STATUS)?;
    let bad = |message: String| Error::BadTable {
        path: path.to_path_buf(),
        message,
    };
    let ids = lrmm_core::parquet::u32_values(&df, path, "item_id")?;
    let status = lrmm_core::parquet::str_values(&df, path, "status")?;
    let error = df
        .column("error")
        .and_then(|c| c.str())
        .map_err(|e| bad(e.to_string()))?;
    let mut rows = Vec::with_capacity(df.height());
    for (i, (item_id, s)) in ids.into_iter().zip(&status).enumerate() {
        let status =
            ImageStatus::parse(s).ok_or_else(|| bad(format!("row {i}: unknown status `{s}`")))?;
        rows.push(StatusRow {
            item_id,
            status,
            error: error.get(i).map(str::to_string),
        });
    }
    Ok(rows)
}
