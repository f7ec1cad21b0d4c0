//! Reading and writing Parquet artifacts with schema checks and atomic writes.

use std::fs::File;
use std::path::Path;

use polars::prelude::*;

use crate::schema::Schema;
use crate::{Error, Result};

/// Reads a Parquet artifact and checks that it has every column of `schema` with the right type.
/// Extra columns are allowed (a newer writer may add some).
pub fn read_checked(path: &Path, schema: Schema) -> Result<DataFrame> {
    let file = File::open(path).map_err(|e| Error::io(path, e))?;
    let df = ParquetReader::new(file)
        .finish()
        .map_err(|e| Error::ParquetRead {
            path: path.to_path_buf(),
            message: e.to_string(),
        })?;
    check_schema(path, &df, schema)?;
    Ok(df)
}

/// Checks a frame against a schema, naming `path` and the offending column on failure.
pub fn check_schema(path: &Path, df: &DataFrame, schema: Schema) -> Result<()> {
    for (name, ty) in schema {
        let column = df.column(name).map_err(|_| Error::MissingColumn {
            path: path.to_path_buf(),
            column: (*name).to_string(),
            expected: ty.name().to_string(),
        })?;
        if !ty.matches(column.dtype()) {
            return Err(Error::WrongColumnType {
                path: path.to_path_buf(),
                column: (*name).to_string(),
                found: column.dtype().to_string(),
                expected: ty.name().to_string(),
            });
        }
    }
    Ok(())
}

/// Writes `df` to `path` atomically (temporary file, then rename), zstd-compressed.
pub fn write_atomic(path: &Path, df: &mut DataFrame) -> Result<()> {
    let mut failure = None;
    let result = crate::atomic::write_atomic(path, |w| {
        ParquetWriter::new(w)
            .with_compression(ParquetCompression::Zstd(None))
            .finish(df)
            .map(|_| ())
            .map_err(|e| {
                failure = Some(e.to_string());
                std::io::Error::other("parquet write failed")
            })
    });
    match (result, failure) {
        (Ok(()), _) => Ok(()),
        (Err(_), Some(message)) => Err(Error::ParquetWrite {
            path: path.to_path_buf(),
            message,
        }),
        (Err(e), None) => Err(e),
    }
}
