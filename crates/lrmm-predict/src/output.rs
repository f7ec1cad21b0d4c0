//! The table a run writes: one row per prediction, as Parquet or JSON lines, atomically (a
//! failed run leaves no file behind).
//!
//! | column | type | |
//! |---|---|---|
//! | reviewerID | string | as given |
//! | asin | string | as given |
//! | rank | u32 | top-K modes only: 1 = best in the user's list |
//! | prediction | f32 | the predicted rating, clamped to [1, 5] |
//! | U, O, M, V | string | `data` (the modality came from the data) or `imputed` (missing, imputed by the model's autoencoder) |

use std::io::Write;
use std::path::Path;

use lrmm_core::Modality;
use polars::prelude::*;

use crate::error::{PredictError, Result};
use crate::Prediction;

/// One line of `--format jsonl`, keys in the Parquet columns' order.
#[derive(serde::Serialize)]
struct JsonLine<'a> {
    #[serde(rename = "reviewerID")]
    reviewer_id: &'a str,
    asin: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    rank: Option<u32>,
    prediction: f32,
    #[serde(rename = "U")]
    u: &'a str,
    #[serde(rename = "O")]
    o: &'a str,
    #[serde(rename = "M")]
    m: &'a str,
    #[serde(rename = "V")]
    v: &'a str,
}

/// `--format`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Parquet,
    Jsonl,
}

/// The output table as a DataFrame.
pub fn predictions_frame(predictions: &[Prediction], ranked: bool) -> Result<DataFrame> {
    let mut columns: Vec<Column> = vec![
        Column::new(
            "reviewerID".into(),
            predictions
                .iter()
                .map(|p| p.reviewer_id.as_str())
                .collect::<Vec<_>>(),
        ),
        Column::new(
            "asin".into(),
            predictions
                .iter()
                .map(|p| p.asin.as_str())
                .collect::<Vec<_>>(),
        ),
    ];
    if ranked {
        columns.push(Column::new(
            "rank".into(),
            predictions
                .iter()
                .map(|p| p.rank.unwrap_or(0))
                .collect::<Vec<u32>>(),
        ));
    }
    columns.push(Column::new(
        "prediction".into(),
        predictions
            .iter()
            .map(|p| p.prediction)
            .collect::<Vec<f32>>(),
    ));
    // One column per modality, named by the paper's letter (U, O, M, V).
    for m in Modality::ALL {
        columns.push(Column::new(
            m.letter().to_string().into(),
            predictions
                .iter()
                .map(|p| p.sources[m].as_str())
                .collect::<Vec<_>>(),
        ));
    }
    DataFrame::new(predictions.len(), columns)
        .map_err(|e| PredictError::Invalid(format!("building the output table: {e}")))
}

/// Writes `predictions` to `path` atomically.
pub fn write_predictions(
    path: &Path,
    predictions: &[Prediction],
    ranked: bool,
    format: Format,
) -> Result<()> {
    match format {
        Format::Parquet => {
            let mut df = predictions_frame(predictions, ranked)?;
            lrmm_core::parquet::write_atomic(path, &mut df)?;
        }
        Format::Jsonl => lrmm_core::atomic::write_atomic(path, |w| {
            for p in predictions {
                let line = JsonLine {
                    reviewer_id: &p.reviewer_id,
                    asin: &p.asin,
                    rank: if ranked { p.rank } else { None },
                    prediction: p.prediction,
                    u: p.sources[Modality::User].as_str(),
                    o: p.sources[Modality::Item].as_str(),
                    m: p.sources[Modality::Meta].as_str(),
                    v: p.sources[Modality::Image].as_str(),
                };
                serde_json::to_writer(&mut *w, &line).map_err(std::io::Error::other)?;
                w.write_all(b"\n")?;
            }
            Ok(())
        })?,
    }
    Ok(())
}
