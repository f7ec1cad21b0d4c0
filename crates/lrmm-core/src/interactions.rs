//! The one reader of `interactions.parquet` ([`INTERACTIONS`]): every stage after ingestion
//! (training, evaluation, prediction) reads the ratings through [`Interactions::read`], so the
//! checks on them live in one place. Ingestion is its one writer.

use std::path::Path;

use crate::parquet::{f32_values, i64_values, read_checked, str_values, u32_values};
use crate::schema::{Split, INTERACTIONS};
use crate::{Error, Result};

/// The columns of `interactions.parquet`, row-aligned: row r of every vector is row r of the file.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Interactions {
    pub user_id: Vec<u32>,
    pub item_id: Vec<u32>,
    pub rating: Vec<f32>,
    pub unix_time: Vec<i64>,
    pub split: Vec<Split>,
}

impl Interactions {
    /// Reads and checks the file: schema, no nulls, finite ratings, known split names. Errors
    /// name the file and, for a bad value, the row.
    pub fn read(path: &Path) -> Result<Self> {
        let df = read_checked(path, INTERACTIONS)?;
        let rating = f32_values(&df, path, "rating")?;
        if let Some(row) = rating.iter().position(|r| !r.is_finite()) {
            return Err(Error::invalid(
                path,
                format!("row {row}: rating {} is not finite", rating[row]),
            ));
        }
        let split = str_values(&df, path, "split")?
            .iter()
            .enumerate()
            .map(|(row, s)| {
                Split::parse(s).ok_or_else(|| {
                    Error::invalid(
                        path,
                        format!("row {row}: split `{s}` is not train/valid/test"),
                    )
                })
            })
            .collect::<Result<_>>()?;
        Ok(Self {
            user_id: u32_values(&df, path, "user_id")?,
            item_id: u32_values(&df, path, "item_id")?,
            rating,
            unix_time: i64_values(&df, path, "unix_time")?,
            split,
        })
    }

    pub fn len(&self) -> usize {
        self.rating.len()
    }

    pub fn is_empty(&self) -> bool {
        self.rating.is_empty()
    }
}
