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

/// The values of a column read from `path`, which must have the type `read` accepts and no nulls;
/// errors name the file, the column and, for a null, the row.
fn values<T>(
    df: &DataFrame,
    path: &Path,
    name: &str,
    expected: &str,
    read: impl FnOnce(&Column) -> PolarsResult<Vec<Option<T>>>,
) -> Result<Vec<T>> {
    let column = df.column(name).map_err(|_| Error::MissingColumn {
        path: path.to_path_buf(),
        column: name.to_string(),
        expected: expected.to_string(),
    })?;
    let values = read(column).map_err(|_| Error::WrongColumnType {
        path: path.to_path_buf(),
        column: name.to_string(),
        found: column.dtype().to_string(),
        expected: expected.to_string(),
    })?;
    values
        .into_iter()
        .enumerate()
        .map(|(row, v)| {
            v.ok_or_else(|| Error::NullValue {
                path: path.to_path_buf(),
                column: name.to_string(),
                row,
            })
        })
        .collect()
}

/// A non-null `u32` column of an artifact read from `path`.
pub fn u32_values(df: &DataFrame, path: &Path, name: &str) -> Result<Vec<u32>> {
    values(df, path, name, "u32", |c| Ok(c.u32()?.iter().collect()))
}

/// A non-null `f32` column of an artifact read from `path`.
pub fn f32_values(df: &DataFrame, path: &Path, name: &str) -> Result<Vec<f32>> {
    values(df, path, name, "f32", |c| Ok(c.f32()?.iter().collect()))
}

/// A non-null `i64` column of an artifact read from `path`.
pub fn i64_values(df: &DataFrame, path: &Path, name: &str) -> Result<Vec<i64>> {
    values(df, path, name, "i64", |c| Ok(c.i64()?.iter().collect()))
}

/// A non-null string column of an artifact read from `path`.
pub fn str_values(df: &DataFrame, path: &Path, name: &str) -> Result<Vec<String>> {
    values(df, path, name, "string", |c| {
        Ok(c.str()?.iter().map(|s| s.map(str::to_owned)).collect())
    })
}

/// Writes `df` to `path` atomically (temporary file, then rename), zstd-compressed.
pub fn write_atomic(path: &Path, df: &mut DataFrame) -> Result<()> {
    write_batches_atomic(
        path,
        ParquetCompression::Zstd(None),
        std::iter::once(Ok(df.clone())),
    )
}

/// `frame` with the chunks of its columns at the same row offsets. The batched writer turns
/// chunks into record batches and panics on columns chunked differently — e.g. columns read
/// from a many-row-group file beside one computed in a single chunk. Aligned frames (every
/// frame written before this existed) pass through untouched, so their bytes do not change.
fn aligned(mut frame: DataFrame) -> DataFrame {
    frame.align_chunks();
    frame
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
            writer.write_batch(&aligned(first))?;
            for batch in batches {
                writer.write_batch(&aligned(batch?))?;
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

#[cfg(test)]
mod tests {
    use super::*;

    /// A frame whose columns are chunked differently, as one read from a file with several row
    /// groups beside a column computed in one piece (what the vocabulary stage writes).
    fn misaligned_frame() -> DataFrame {
        let mut read = Series::new("user_id".into(), &[1u32, 2]);
        read.append(&Series::new("user_id".into(), &[3u32]))
            .unwrap();
        let computed = Series::new("tokens".into(), &[10u32, 20, 30]);
        assert_eq!((read.n_chunks(), computed.n_chunks()), (2, 1));
        DataFrame::new(3, vec![read.into_column(), computed.into_column()]).unwrap()
    }

    #[test]
    fn writes_frames_whose_columns_are_chunked_differently() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.parquet");
        let frame = misaligned_frame();
        write_batches_atomic(&path, ParquetCompression::Zstd(None), [Ok(frame.clone())]).unwrap();
        let back = ParquetReader::new(File::open(&path).unwrap())
            .finish()
            .unwrap();
        assert!(back.equals(&frame));
    }
}
