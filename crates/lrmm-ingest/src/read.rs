//! Reading review and metadata files: a reader thread streams batches of lines while rayon
//! parses the previous batch, so decompression, parsing and interning overlap.

use std::collections::HashMap;
use std::path::Path;
use std::sync::mpsc;

use rayon::prelude::*;
use serde::Serialize;

use crate::error::{IngestError, Result};
use crate::lines::{utf8_line, Batch, LineBatches};
use crate::meta::{parse_meta, ItemMeta};
use crate::review::parse_review;
pub use crate::texts::TextArena;
use crate::texts::TextStore;

/// Strings (reviewer ids, asins) interned to dense indices in first-seen order.
#[derive(Debug, Default)]
pub struct Interner {
    // polars' foldhash map: several times faster than SipHash on millions of short ids.
    index: polars::prelude::PlHashMap<String, u32>,
    pub names: Vec<String>,
}

impl Interner {
    pub fn intern(&mut self, name: String) -> u32 {
        if let Some(&i) = self.index.get(name.as_str()) {
            return i;
        }
        let i = self.names.len() as u32;
        self.index.insert(name.clone(), i);
        self.names.push(name);
        i
    }

    pub fn len(&self) -> usize {
        self.names.len()
    }

    pub fn is_empty(&self) -> bool {
        self.names.is_empty()
    }
}

/// Every review read, in file order, with users and items interned. The texts are in `T`, in
/// memory by default (see [`crate::texts`]).
#[derive(Debug, Default)]
pub struct ReviewTable<T = TextArena> {
    pub users: Interner,
    pub items: Interner,
    pub user: Vec<u32>,
    pub item: Vec<u32>,
    pub rating: Vec<f32>,
    pub unix_time: Vec<i64>,
    pub text: T,
}

impl<T> ReviewTable<T> {
    fn with_texts(text: T) -> Self {
        Self {
            users: Interner::default(),
            items: Interner::default(),
            user: Vec::new(),
            item: Vec::new(),
            rating: Vec::new(),
            unix_time: Vec::new(),
            text,
        }
    }

    pub fn len(&self) -> usize {
        self.user.len()
    }

    pub fn is_empty(&self) -> bool {
        self.user.is_empty()
    }
}

/// Lines that were skipped under `--skip-bad-lines`, with the first few reasons.
#[derive(Debug, Default, Clone, Serialize)]
pub struct Skipped {
    pub count: u64,
    pub examples: Vec<String>,
}

impl Skipped {
    /// Reasons kept (the rest are only counted).
    pub const EXAMPLES: usize = 10;

    pub fn record(&mut self, path: &Path, line: u64, message: &str) {
        self.count += 1;
        if self.examples.len() < Self::EXAMPLES {
            self.examples
                .push(format!("{}:{line}: {message}", path.display()));
        }
    }
}

/// What a record-level failure does: fail the run (default) or count and skip the line.
#[derive(Debug, Clone, Copy)]
pub struct ReadPolicy {
    pub skip_bad_lines: bool,
    /// Read only the first N lines of the file.
    pub head: Option<u64>,
}

fn bad_record(path: &Path, line: u64, message: String) -> IngestError {
    IngestError::BadRecord {
        path: path.to_path_buf(),
        line,
        message,
    }
}

/// Streams `path` batch by batch on a reader thread and hands each parsed batch to `consume`.
/// Batch k+1 is parsed (in parallel) while batch k is consumed, so the sequential part —
/// interning, appending — overlaps parsing.
fn for_each_parsed<T, P, C>(
    path: &Path,
    policy: ReadPolicy,
    parse: P,
    mut consume: C,
) -> Result<u64>
where
    T: Send,
    P: Fn(&str) -> std::result::Result<T, String> + Sync,
    C: FnMut(u64, std::result::Result<T, String>) -> Result<()> + Send,
{
    let mut reader = LineBatches::open(path)?;
    let (tx, rx) = mpsc::sync_channel::<Result<Batch>>(2);
    let mut lines_seen = 0u64;
    let mut consume_all = |parsed: Vec<(u64, std::result::Result<T, String>)>| -> Result<()> {
        for (n, record) in parsed {
            lines_seen += 1;
            consume(n, record)?;
        }
        Ok(())
    };
    std::thread::scope(|scope| {
        scope.spawn(move || loop {
            let item = match reader.next_batch() {
                Ok(Some(b)) => Ok(b),
                Ok(None) => break,
                Err(e) => Err(e),
            };
            let failed = item.is_err();
            if tx.send(item).is_err() || failed {
                break;
            }
        });
        let mut pending = Vec::new();
        for batch in rx {
            let batch = batch?;
            let mut lines = batch.lines();
            let last_line = lines.last().map_or(0, |(n, _)| *n);
            if let Some(head) = policy.head {
                lines.retain(|(n, _)| *n <= head);
            }
            let previous = std::mem::take(&mut pending);
            let (parsed, consumed) = rayon::join(
                || -> Vec<(u64, std::result::Result<T, String>)> {
                    lines
                        .par_iter()
                        .map(|&(n, raw)| (n, utf8_line(raw).and_then(&parse)))
                        .collect()
                },
                || consume_all(previous),
            );
            consumed?;
            pending = parsed;
            if policy.head.is_some_and(|h| last_line >= h) {
                break;
            }
        }
        consume_all(pending)
    })?;
    if lines_seen == 0 {
        return Err(IngestError::Empty {
            path: path.to_path_buf(),
        });
    }
    Ok(lines_seen)
}

/// Reads a review file of either release into a [`ReviewTable`], texts in memory.
pub fn read_reviews(path: &Path, policy: ReadPolicy) -> Result<(ReviewTable, Skipped, u64)> {
    read_reviews_into(path, policy, TextArena::default())
}

/// As [`read_reviews`], with the texts appended to `texts` (empty when given).
pub fn read_reviews_into<T: TextStore + Send>(
    path: &Path,
    policy: ReadPolicy,
    texts: T,
) -> Result<(ReviewTable<T>, Skipped, u64)> {
    let mut table = ReviewTable::with_texts(texts);
    let mut skipped = Skipped::default();
    let lines = for_each_parsed(path, policy, parse_review, |line, record| {
        match record {
            Ok(r) => {
                table.user.push(table.users.intern(r.reviewer_id));
                table.item.push(table.items.intern(r.asin));
                table.rating.push(r.rating);
                table.unix_time.push(r.unix_time);
                table.text.append(&r.text)?;
            }
            Err(message) if policy.skip_bad_lines => skipped.record(path, line, &message),
            Err(message) => return Err(bad_record(path, line, message)),
        }
        Ok(())
    })?;
    table.text.finish_appending()?;
    if table.is_empty() {
        return Err(IngestError::Invalid(format!(
            "{}: no valid review among {lines} lines ({} skipped)",
            path.display(),
            skipped.count
        )));
    }
    Ok((table, skipped, lines))
}

/// Metadata of the items in `wanted` (by asin). Duplicate lines for an asin keep the first.
#[derive(Debug, Default)]
pub struct MetaRead {
    pub items: HashMap<String, ItemMeta>,
    pub lines: u64,
    pub duplicates: u64,
    pub skipped: Skipped,
}

pub fn read_meta(
    path: &Path,
    wanted: &(dyn Fn(&str) -> bool + Sync),
    policy: ReadPolicy,
) -> Result<MetaRead> {
    let mut out = MetaRead::default();
    let mut seen = std::collections::HashSet::new();
    let lines = for_each_parsed(path, policy, parse_meta, |line, record| {
        match record {
            Ok(meta) => {
                if !seen.insert(meta.asin.clone()) {
                    out.duplicates += 1;
                } else if wanted(&meta.asin) {
                    out.items.insert(meta.asin.clone(), meta);
                }
            }
            Err(message) if policy.skip_bad_lines => out.skipped.record(path, line, &message),
            Err(message) => return Err(bad_record(path, line, message)),
        }
        Ok(())
    })?;
    out.lines = lines;
    Ok(out)
}
