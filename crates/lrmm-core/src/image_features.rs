//! The one reader and writer of `image_features.safetensors`: `features` F32 `[n, d]` and
//! `item_ids` U32 `[n]`, row i of `features` belonging to item `item_ids[i]` (items whose image
//! is `ok`, ascending by item id), and a string `__metadata__` saying how the features were
//! made. The image stage writes it; training, evaluation and prediction read it; Python reads it
//! with `safetensors.numpy.load_file`.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::Path;

use safetensors::Dtype;

use crate::{Error, Result};

use crate::schema::{
    IMAGE_FEATURES_TENSOR as FEATURES_TENSOR, IMAGE_ITEM_IDS_TENSOR as ITEM_IDS_TENSOR,
};

/// Feature vectors of the items with an image, in ascending item order.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ImageFeatures {
    pub dim: usize,
    pub item_ids: Vec<u32>,
    /// Row-major `[item_ids.len(), dim]`.
    pub values: Vec<f32>,
}

impl ImageFeatures {
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

    /// Writes the file atomically, streaming the values after the header without a second copy
    /// of the features in memory.
    pub fn write(&self, path: &Path, metadata: &BTreeMap<String, String>) -> Result<()> {
        let n = self.len();
        assert_eq!(
            self.values.len(),
            n * self.dim,
            "features rows and ids disagree"
        );
        let features_bytes = n * self.dim * 4;
        // Built as a sorted JSON map rather than through `safetensors::tensor::Metadata`, whose
        // HashMap would order the metadata differently on every run and break reproducible bytes.
        let metadata: serde_json::Map<String, serde_json::Value> = metadata
            .iter()
            .map(|(k, v)| (k.clone(), v.clone().into()))
            .collect();
        let header = serde_json::json!({
            "__metadata__": metadata,
            (FEATURES_TENSOR): {"dtype": "F32", "shape": [n, self.dim], "data_offsets": [0, features_bytes]},
            (ITEM_IDS_TENSOR): {"dtype": "U32", "shape": [n], "data_offsets": [features_bytes, features_bytes + n * 4]},
        });
        let mut header = serde_json::to_vec(&header).map_err(|e| Error::Json {
            path: path.to_path_buf(),
            message: e.to_string(),
        })?;
        // The format pads the header with spaces so the data starts 8-byte aligned.
        header.resize(header.len().next_multiple_of(8), b' ');
        crate::atomic::write_atomic(path, |w| {
            w.write_all(&(header.len() as u64).to_le_bytes())?;
            w.write_all(&header)?;
            for chunk in self.values.chunks(1 << 16) {
                let bytes: Vec<u8> = chunk.iter().flat_map(|v| v.to_le_bytes()).collect();
                w.write_all(&bytes)?;
            }
            let ids: Vec<u8> = self.item_ids.iter().flat_map(|v| v.to_le_bytes()).collect();
            w.write_all(&ids)
        })
    }

    /// Reads the file through the `safetensors` crate's own parser (as Python does), checking
    /// names, dtypes and shapes; returns the features and the `__metadata__` strings.
    pub fn read(path: &Path) -> Result<(Self, BTreeMap<String, String>)> {
        let bytes = std::fs::read(path).map_err(|e| Error::io(path, e))?;
        let bad = |message: String| Error::invalid(path, message);
        let st = safetensors::SafeTensors::deserialize(&bytes).map_err(|e| bad(e.to_string()))?;
        let (_, header) =
            safetensors::SafeTensors::read_metadata(&bytes).map_err(|e| bad(e.to_string()))?;
        let features = st
            .tensor(FEATURES_TENSOR)
            .map_err(|_| bad(format!("no `{FEATURES_TENSOR}` tensor")))?;
        let ids = st
            .tensor(ITEM_IDS_TENSOR)
            .map_err(|_| bad(format!("no `{ITEM_IDS_TENSOR}` tensor")))?;
        if features.dtype() != Dtype::F32 || ids.dtype() != Dtype::U32 {
            return Err(bad(format!(
                "expected `{FEATURES_TENSOR}` F32 [n, d] and `{ITEM_IDS_TENSOR}` U32 [n]; got {:?} and {:?}",
                features.dtype(),
                ids.dtype()
            )));
        }
        let (n, dim) = match features.shape() {
            [n, d] => (*n, *d),
            other => {
                return Err(bad(format!(
                    "`{FEATURES_TENSOR}` has shape {other:?}, expected [n, d]"
                )))
            }
        };
        if ids.shape() != [n] {
            return Err(bad(format!(
                "`{ITEM_IDS_TENSOR}` has shape {:?}, expected [{n}]",
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
            Self {
                dim,
                item_ids,
                values,
            },
            metadata,
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_bad_files() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("image_features.safetensors");
        let mut f = ImageFeatures::new(3);
        f.push(1, &[0.5, -1.0, 2.0]);
        f.push(4, &[0.0, 1.0, 3.5]);
        let meta = BTreeMap::from([("source".to_string(), "test".to_string())]);
        f.write(&path, &meta).unwrap();
        let (back, back_meta) = ImageFeatures::read(&path).unwrap();
        assert_eq!(back, f);
        assert_eq!(back_meta, meta);
        // Same input, same bytes.
        let first = std::fs::read(&path).unwrap();
        f.write(&path, &meta).unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), first);

        std::fs::write(&path, b"not a safetensors file").unwrap();
        let err = ImageFeatures::read(&path).unwrap_err().to_string();
        assert!(err.contains("image_features.safetensors"), "{err}");
    }
}
