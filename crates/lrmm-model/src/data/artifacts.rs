//! Readers for the parts of the upstream artifacts that only this stage interprets: token-id
//! lists (checked against the vocabulary) and the tokenizer's vocabulary size. Interactions and
//! image features have their one reader in lrmm-core.

use std::path::Path;

use polars::prelude::*;

use crate::error::{ModelError, Result};

fn polars_err(path: &Path, e: PolarsError) -> ModelError {
    ModelError::bad(path, e.to_string())
}

/// Flattens a `list<u32>` column into (offsets, values), checking ids against the vocabulary.
pub(super) fn token_lists(
    df: &DataFrame,
    path: &Path,
    vocab_size: usize,
) -> Result<(Vec<usize>, Vec<u32>)> {
    let lists = df
        .column("tokens")
        .and_then(|c| c.list())
        .map_err(|e| polars_err(path, e))?;
    let mut offsets = Vec::with_capacity(lists.len() + 1);
    let mut values = Vec::new();
    offsets.push(0);
    for (row, series) in lists.series_iter().enumerate() {
        if let Some(series) = series {
            let ids = series.u32().map_err(|e| polars_err(path, e))?;
            for id in ids.iter() {
                let id =
                    id.ok_or_else(|| ModelError::bad(path, format!("row {row}: null token id")))?;
                if id as usize >= vocab_size {
                    return Err(ModelError::bad(
                        path,
                        format!("row {row}: token id {id} ≥ vocabulary size {vocab_size}"),
                    ));
                }
                values.push(id);
            }
        }
        offsets.push(values.len());
    }
    Ok((offsets, values))
}

/// Vocabulary size of a `tokenizer.json`: one more than the largest id of its WordLevel vocab
/// and added tokens.
pub fn vocab_size(path: &Path) -> Result<usize> {
    let json: serde_json::Value = lrmm_core::atomic::read_json(path)?;
    let vocab = json
        .pointer("/model/vocab")
        .and_then(|v| v.as_object())
        .ok_or_else(|| {
            ModelError::bad(
                path,
                "no `model.vocab` object (expected a WordLevel tokenizer)",
            )
        })?;
    let mut max_id = vocab.values().filter_map(|v| v.as_u64()).max();
    if let Some(added) = json.get("added_tokens").and_then(|a| a.as_array()) {
        max_id = max_id.max(
            added
                .iter()
                .filter_map(|t| t.get("id").and_then(|i| i.as_u64()))
                .max(),
        );
    }
    match max_id {
        Some(m) => Ok(m as usize + 1),
        None => Err(ModelError::bad(path, "empty vocabulary")),
    }
}
