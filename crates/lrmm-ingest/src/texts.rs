//! Where review texts wait between reading the review file and writing `reviews.parquet`.
//!
//! Texts are most of a review file's bytes, and every other column is a few bytes a row, so the
//! text store decides how ingestion's memory grows with the input. Two stores give the same
//! texts back: [`TextArena`] keeps them in memory (record readers such as `lrmm-predict`, which
//! read a handful of reviews and want `&str`s), [`crate::spill::SpilledTexts`] keeps them in a
//! temporary file and only their end offsets in memory (ingestion, whose memory then stays
//! bounded by the row group, not the file).

use crate::error::Result;

/// Appends texts in read order and gives back any rows' texts, one row group at a time.
pub trait TextStore {
    /// Appends the text of the next row (row `n` is the `n`-th text appended).
    fn append(&mut self, text: &str) -> Result<()>;

    /// Called once after the last [`append`](Self::append), before any
    /// [`gather`](Self::gather): whatever is buffered for writing is written out.
    fn finish_appending(&mut self) -> Result<()>;

    /// Replaces `into`'s content by the texts of `rows`, in that order.
    fn gather(&self, rows: &[usize], into: &mut TextBatch) -> Result<()>;
}

/// Review texts in one buffer: a million small `String`s would cost more than the text itself.
#[derive(Debug, Default)]
pub struct TextArena {
    bytes: String,
    ends: Vec<usize>,
}

impl TextArena {
    pub fn push(&mut self, text: &str) {
        self.bytes.push_str(text);
        self.ends.push(self.bytes.len());
    }

    pub fn get(&self, i: usize) -> &str {
        let start = if i == 0 { 0 } else { self.ends[i - 1] };
        &self.bytes[start..self.ends[i]]
    }
}

impl TextStore for TextArena {
    fn append(&mut self, text: &str) -> Result<()> {
        self.push(text);
        Ok(())
    }

    fn finish_appending(&mut self) -> Result<()> {
        Ok(())
    }

    fn gather(&self, rows: &[usize], into: &mut TextBatch) -> Result<()> {
        into.clear();
        for &r in rows {
            into.push(self.get(r));
        }
        Ok(())
    }
}

/// The texts of one row group, in one reused buffer (raw bytes, so a store can read into it;
/// [`texts`](Self::texts) checks them once).
#[derive(Debug, Default)]
pub struct TextBatch {
    pub(crate) bytes: Vec<u8>,
    pub(crate) ends: Vec<usize>,
}

impl TextBatch {
    pub fn clear(&mut self) {
        self.bytes.clear();
        self.ends.clear();
    }

    pub fn push(&mut self, text: &str) {
        self.bytes.extend_from_slice(text.as_bytes());
        self.ends.push(self.bytes.len());
    }

    pub fn len(&self) -> usize {
        self.ends.len()
    }

    pub fn is_empty(&self) -> bool {
        self.ends.is_empty()
    }

    /// Every text of the batch, in order; an error if the bytes are not the UTF-8 texts that
    /// were stored (only a store's file changed behind its back does that).
    pub fn texts(&self) -> std::result::Result<Vec<&str>, String> {
        // One check of the whole buffer: texts that are each UTF-8 concatenate to UTF-8, and
        // each end is then a character boundary, which `get` checks without a second pass.
        let all = std::str::from_utf8(&self.bytes)
            .map_err(|e| format!("stored review texts are not UTF-8: {e}"))?;
        let mut start = 0;
        self.ends
            .iter()
            .map(|&end| {
                let text = all.get(start..end).ok_or_else(|| {
                    format!("stored review text at bytes {start}..{end} is cut mid-character")
                });
                start = end;
                text
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arena_gathers_rows_in_the_order_asked() {
        let mut arena = TextArena::default();
        for t in ["zero", "", "två – ✓", "three"] {
            arena.append(t).unwrap();
        }
        arena.finish_appending().unwrap();
        let mut batch = TextBatch::default();
        arena.gather(&[3, 1, 2, 0, 2], &mut batch).unwrap();
        assert_eq!(
            batch.texts().unwrap(),
            ["three", "", "två – ✓", "zero", "två – ✓"]
        );
        arena.gather(&[], &mut batch).unwrap();
        assert!(batch.is_empty());
    }
}
