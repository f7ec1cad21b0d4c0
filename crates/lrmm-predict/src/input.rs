//! The query files: `--pairs` (JSON lines `{"reviewerID": …, "asin": …}`) and the id lists of
//! top-K mode (`--users`, `--candidates`: one id per line), read with ingestion's line reader
//! (plain or gzip, blank lines skipped, 1-based line numbers). Ids are kept exactly as written,
//! as ingestion keeps `reviewerID` and `asin`.

use std::path::Path;

use std::borrow::Cow;

use lrmm_ingest::lines::{utf8_line, LineBatches};
use lrmm_ingest::review::required;
use serde::Deserialize;

use crate::error::{PredictError, Result};

/// One (user, item) pair to predict.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Pair {
    pub reviewer_id: String,
    pub asin: String,
}

/// Lines skipped under `--skip-bad-lines`, with the first reasons: ingestion's record.
pub use lrmm_ingest::read::Skipped as SkippedLines;

/// Adds `other`'s skipped lines to `into` (keeping the first reasons).
pub fn merge_skipped(into: &mut SkippedLines, other: &SkippedLines) {
    into.count += other.count;
    let room = SkippedLines::EXAMPLES.saturating_sub(into.examples.len());
    into.examples
        .extend(other.examples.iter().take(room).cloned());
}

#[derive(Deserialize)]
struct PairLine<'a> {
    #[serde(rename = "reviewerID", borrow)]
    reviewer_id: Option<Cow<'a, str>>,
    #[serde(borrow)]
    asin: Option<Cow<'a, str>>,
}

/// Parses one pairs line, with ingestion's rule for the ids (`lrmm_ingest::review::required`).
pub fn parse_pair(line: &str) -> std::result::Result<Pair, String> {
    let rec: PairLine = serde_json::from_str(line).map_err(|e| format!("invalid JSON: {e}"))?;
    Ok(Pair {
        reviewer_id: required(rec.reviewer_id, "reviewerID")?,
        asin: required(rec.asin, "asin")?,
    })
}

/// Calls `on_line` with every non-blank line of `path` (decoded as UTF-8) and its number.
fn for_each_line(
    path: &Path,
    mut on_line: impl FnMut(u64, std::result::Result<&str, String>) -> Result<()>,
) -> Result<u64> {
    let mut reader = LineBatches::open(path)?;
    let mut n = 0;
    while let Some(batch) = reader.next_batch()? {
        for (line, raw) in batch.lines() {
            n += 1;
            on_line(line, utf8_line(raw))?;
        }
    }
    Ok(n)
}

/// Reads a `--pairs` file. A malformed line is an error naming the file and line, or, with
/// `skip_bad_lines`, counted in `skipped`; a file without any pair is an error.
pub fn read_pairs(
    path: &Path,
    skip_bad_lines: bool,
    skipped: &mut SkippedLines,
) -> Result<Vec<Pair>> {
    let mut pairs = Vec::new();
    let lines = for_each_line(path, |line, text| {
        match text.and_then(parse_pair) {
            Ok(p) => pairs.push(p),
            Err(message) if skip_bad_lines => skipped.record(path, line, &message),
            Err(message) => {
                return Err(PredictError::BadLine {
                    path: path.to_path_buf(),
                    line,
                    message,
                })
            }
        }
        Ok(())
    });
    let lines = match lines {
        Err(PredictError::Ingest(lrmm_ingest::IngestError::Empty { .. })) => 0,
        other => other?,
    };
    if pairs.is_empty() {
        return Err(PredictError::input(
            path,
            format!(
                "no (reviewerID, asin) pair to predict: the file is empty{}",
                if lines > 0 {
                    format!(" of valid lines ({lines} lines, all skipped)")
                } else {
                    String::new()
                }
            ),
        ));
    }
    Ok(pairs)
}

/// Reads an id list (`--users`, `--candidates`): one id per non-blank line, `\r\n` endings
/// trimmed, duplicates dropped (first kept). An empty list is an error.
pub fn read_ids(path: &Path, what: &str) -> Result<Vec<String>> {
    let mut ids = Vec::new();
    let mut seen = std::collections::HashSet::new();
    let read = for_each_line(path, |line, text| {
        let text = text.map_err(|message| PredictError::BadLine {
            path: path.to_path_buf(),
            line,
            message,
        })?;
        if seen.insert(text.to_string()) {
            ids.push(text.to_string());
        }
        Ok(())
    });
    match read {
        Err(PredictError::Ingest(lrmm_ingest::IngestError::Empty { .. })) => {}
        other => {
            other?;
        }
    }
    if ids.is_empty() {
        return Err(PredictError::input(
            path,
            format!("no {what} listed: the file is empty"),
        ));
    }
    Ok(ids)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pairs_lines_need_both_ids_as_strings() {
        let p = parse_pair(r#"{"reviewerID": "A1", "asin": "B2", "overall": 5}"#).unwrap();
        assert_eq!((p.reviewer_id.as_str(), p.asin.as_str()), ("A1", "B2"));
        let p = parse_pair(r#"{"reviewerID": " A1", "asin": "B2"}"#).unwrap();
        assert_eq!(p.reviewer_id, " A1", "kept exactly, as ingestion keeps it");
        for (line, problem) in [
            (r#"{"asin": "B2"}"#, "missing required field `reviewerID`"),
            (r#"{"reviewerID": "A1", "asin": ""}"#, "`asin` is empty"),
            (r#"{"reviewerID": 7, "asin": "B"}"#, "invalid JSON"),
            ("{not json", "invalid JSON"),
        ] {
            let e = parse_pair(line).unwrap_err();
            assert!(e.contains(problem), "{line}: {e}");
        }
    }
}
