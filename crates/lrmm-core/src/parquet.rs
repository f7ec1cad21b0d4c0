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
    write_batches_atomic(path, ParquetCompression::Zstd(None), std::iter::once(Ok(df.clone())))
}

/// Writes each frame of `batches` as a row group of one Parquet file, atomically: a large
/// table is never held whole, and a failed batch leaves no file behind. All frames must share
/// the first one's schema; an empty iterator is an error.
pub fn write_batches_atomic(
    path: &Path,
    compression: ParquetCompression,
    batches: impl IntoIterator<Item = PolarsResult<DataFrame>>,
) -> Result<()> {
    let mut failure = None;
    let result = crate::atomic::write_atomic(path, |w| {
        let written = (|| -> PolarsResult<()> {
            let mut batches = batches.into_iter();
            let first = batches
                .next()
                .unwrap_or_else(|| Err(polars_err!(NoData: "no rows to write")))?;
            let mut writer = ParquetWriter::new(&mut *w)
                .with_compression(compression)
                .batched(first.schema())?;
            writer.write_batch(&first)?;
            for batch in batches {
                writer.write_batch(&batch?)?;
            }
            writer.finish()?;
            Ok(())
        })();
        written.map_err(|e| {
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
