//! The image stage's two artifacts:
//!
//! - `image_features.safetensors`: `features`, F32 `[n, d]` (d = 4096 for a full VGG), and
//!   `item_ids`, U32 `[n]`, row i of `features` belonging to item `item_ids[i]`; only items whose
//!   image is `ok`, ascending by item id. String `__metadata__` says how the features were made.
//! - `image_status.parquet` (`lrmm_core::schema::IMAGE_STATUS`): one row per item of
//!   `items.parquet`: `status` is `ok`, `missing` or `corrupt`; `error` says why (null when ok).

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{Read, Write};
use std::path::Path;

use lrmm_core::schema::IMAGE_STATUS;
use polars::prelude::*;
use safetensors::Dtype;

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

/// Feature vectors of the items with an image, in ascending item order.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Features {
    pub dim: usize,
    pub item_ids: Vec<u32>,
    /// Row-major `[item_ids.len(), dim]`.
    pub values: Vec<f32>,
}

impl Features {
    pub fn new(dim: usize) -> Self {
        Self {
            dim,
            ..Default::default()
        }
    }

    pub fn len(&self) -> usize {
        self.item_ids.len()
    }

    pub fn is_empty(&self) -> bool {
        self.item_ids.is_empty()
    }

    pub fn row(&self, i: usize) -> &[f32] {
        &self.values[i * self.dim..(i + 1) * self.dim]
    }

    pub fn push(&mut self, item_id: u32, row: &[f32]) {
        debug_assert_eq!(row.len(), self.dim);
        self.item_ids.push(item_id);
        self.values.extend_from_slice(row);
    }
}

/// Counts of each status, for logs and the features file's metadata.
pub fn count_statuses(rows: &[StatusRow]) -> BTreeMap<&'static str, usize> {
    let mut counts = BTreeMap::from([("ok", 0), ("missing", 0), ("corrupt", 0)]);
    for row in rows {
        *counts.entry(row.status.as_str()).or_default() += 1;
    }
    counts
}

/// Writes `image_features.safetensors` atomically, streaming the values after the header, without
/// a second copy of the features in memory. [`read_features`] reads it back through the
/// `safetensors` crate's own parser, as Python's `safetensors.numpy.load_file` does.
pub fn write_features(
    path: &Path,
    features: &Features,
    metadata: &BTreeMap<String, String>,
) -> Result<()> {
    let n = features.len();
    assert_eq!(
        features.values.len(),
        n * features.dim,
        "features rows and ids disagree"
    );
    let features_bytes = n * features.dim * 4;
    // Built as a sorted JSON map rather than through `safetensors::tensor::Metadata`, whose
    // HashMap would order the metadata differently on every run and break reproducible bytes.
    let metadata: serde_json::Map<String, serde_json::Value> = metadata
        .iter()
        .map(|(k, v)| (k.clone(), v.clone().into()))
        .collect();
    let header = serde_json::json!({
        "__metadata__": metadata,
        "features": {"dtype": "F32", "shape": [n, features.dim], "data_offsets": [0, features_bytes]},
        "item_ids": {"dtype": "U32", "shape": [n], "data_offsets": [features_bytes, features_bytes + n * 4]},
    });
    let mut header = serde_json::to_vec(&header).map_err(|e| Error::SafetensorsHeader {
        path: path.to_path_buf(),
        message: e.to_string(),
    })?;
    // The format pads the header with spaces so the data starts 8-byte aligned.
    header.resize(header.len().next_multiple_of(8), b' ');
    lrmm_core::atomic::write_atomic(path, |w| {
        w.write_all(&(header.len() as u64).to_le_bytes())?;
        w.write_all(&header)?;
        for chunk in features.values.chunks(1 << 16) {
            let bytes: Vec<u8> = chunk.iter().flat_map(|v| v.to_le_bytes()).collect();
            w.write_all(&bytes)?;
        }
        let ids: Vec<u8> = features
            .item_ids
            .iter()
            .flat_map(|v| v.to_le_bytes())
            .collect();
        w.write_all(&ids)
    })?;
    Ok(())
}

/// Reads `image_features.safetensors` back, checking names, dtypes and shapes.
pub fn read_features(path: &Path) -> Result<(Features, BTreeMap<String, String>)> {
    let mut bytes = Vec::new();
    File::open(path)
        .and_then(|mut f| f.read_to_end(&mut bytes))
        .map_err(|e| Error::io(path, e))?;
    let bad = |message: String| Error::SafetensorsHeader {
        path: path.to_path_buf(),
        message,
    };
    let st = safetensors::SafeTensors::deserialize(&bytes).map_err(|e| bad(e.to_string()))?;
    let (_, header) =
        safetensors::SafeTensors::read_metadata(&bytes).map_err(|e| bad(e.to_string()))?;
    let features = st
        .tensor("features")
        .map_err(|_| bad("no `features` tensor".into()))?;
    let ids = st
        .tensor("item_ids")
        .map_err(|_| bad("no `item_ids` tensor".into()))?;
    if features.dtype() != Dtype::F32 || ids.dtype() != Dtype::U32 {
        return Err(bad("`features` must be F32 and `item_ids` U32".into()));
    }
    let (n, dim) = match features.shape() {
        [n, d] => (*n, *d),
        other => {
            return Err(bad(format!(
                "`features` has shape {other:?}, expected [n, d]"
            )))
        }
    };
    if ids.shape() != [n] {
        return Err(bad(format!(
            "`item_ids` has shape {:?}, expected [{n}]",
            ids.shape()
        )));
    }
    let values = features
        .data()
        .chunks_exact(4)
        .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
        .collect();
    let item_ids = ids
        .data()
        .chunks_exact(4)
        .map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
        .collect();
    let metadata = header
        .metadata()
        .clone()
        .unwrap_or_default()
        .into_iter()
        .collect();
    Ok((
        Features {
            dim,
            item_ids,
            values,
        },
        metadata,
    ))
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
