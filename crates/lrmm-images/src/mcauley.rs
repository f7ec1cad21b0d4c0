//! Import of McAuley's precomputed `image_features_<Category>.b` (the 4,096-d CNN features
//! published with the 2014 Amazon data): records of a 10-byte ASCII asin followed by 4,096
//! little-endian f32, streamed, keeping only the dataset's items.

use std::collections::HashMap;
use std::fs::File;
use std::io::{BufReader, Read};
use std::path::Path;

use crate::artifact::{Features, ImageStatus, StatusRow};
use crate::error::{Error, Result};
use crate::extract::{progress_bar, Item};

/// Bytes of the asin at the start of each record.
pub const ASIN_BYTES: usize = 10;
/// Floats per record.
pub const MCAULEY_DIM: usize = 4096;
const RECORD_BYTES: usize = ASIN_BYTES + 4 * MCAULEY_DIM;

/// What the import saw, for the log.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ImportStats {
    pub records_read: u64,
    pub kept: usize,
    pub duplicates: u64,
}

/// Streams `path` and keeps the records of `items`; every other item gets a `missing` status.
/// Reading stops early once every item has been found. A short final record is an error naming
/// the record; a record whose asin is not ASCII is skipped with a warning.
pub fn import(
    path: &Path,
    items: &[Item],
    progress: bool,
) -> Result<(Features, Vec<StatusRow>, ImportStats)> {
    let file = File::open(path).map_err(|e| Error::io(path, e))?;
    let file_len = file.metadata().map_err(|e| Error::io(path, e))?.len();
    let mut reader = BufReader::with_capacity(1 << 20, file);
    let wanted: HashMap<&str, u32> = items.iter().map(|i| (i.asin.as_str(), i.item_id)).collect();
    let mut found: HashMap<u32, Vec<f32>> = HashMap::new();
    let mut stats = ImportStats::default();
    let bar = progress_bar(file_len / RECORD_BYTES as u64, progress);

    let mut record = vec![0u8; RECORD_BYTES];
    loop {
        if found.len() == wanted.len() {
            break;
        }
        let got = read_full(&mut reader, &mut record).map_err(|e| Error::io(path, e))?;
        if got == 0 {
            break;
        }
        let offset = stats.records_read * RECORD_BYTES as u64;
        if got < RECORD_BYTES {
            return Err(Error::BadRecord {
                path: path.to_path_buf(),
                record: stats.records_read,
                offset,
                message: format!(
                    "truncated: {got} of {RECORD_BYTES} bytes (10-byte asin + 4096 f32)"
                ),
            });
        }
        stats.records_read += 1;
        bar.inc(1);
        let Ok(asin) = std::str::from_utf8(&record[..ASIN_BYTES]) else {
            tracing::warn!(
                "{}: record {} (byte {offset}): asin is not ASCII; skipped",
                path.display(),
                stats.records_read - 1
            );
            continue;
        };
        let asin = asin.trim_end_matches(['\0', ' ']);
        let Some(&item_id) = wanted.get(asin) else {
            continue;
        };
        if found.contains_key(&item_id) {
            stats.duplicates += 1;
            continue; // the first record of an asin wins
        }
        let values = record[ASIN_BYTES..]
            .chunks_exact(4)
            .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
            .collect();
        found.insert(item_id, values);
    }
    bar.finish_and_clear();

    let mut features = Features::new(MCAULEY_DIM);
    let mut rows = Vec::with_capacity(items.len());
    let mut sorted: Vec<&Item> = items.iter().collect();
    sorted.sort_by_key(|i| i.item_id);
    for item in sorted {
        match found.get(&item.item_id) {
            Some(values) => {
                features.push(item.item_id, values);
                rows.push(StatusRow {
                    item_id: item.item_id,
                    status: ImageStatus::Ok,
                    error: None,
                });
            }
            None => rows.push(StatusRow {
                item_id: item.item_id,
                status: ImageStatus::Missing,
                error: Some(format!("asin not in {}", path.display())),
            }),
        }
    }
    stats.kept = features.len();
    Ok((features, rows, stats))
}

/// Reads until `buf` is full or the input ends; returns the bytes read.
fn read_full(reader: &mut impl Read, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut filled = 0;
    while filled < buf.len() {
        match reader.read(&mut buf[filled..]) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(filled)
}
