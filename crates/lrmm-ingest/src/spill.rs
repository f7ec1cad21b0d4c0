//! Review texts spilled to a temporary file as they are read, so ingestion's memory does not
//! grow with the text: per review only its end offset (8 bytes) stays in memory, and
//! `reviews.parquet` reads the texts back one row group at a time into a reused buffer.
//!
//! The file is read with positioned reads, not mapped: a mapping's touched pages would count
//! in the process's resident memory, which is what this avoids. Repeated reads come from the
//! page cache, which the kernel can drop under pressure.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use crate::error::{IngestError, Result};
use crate::texts::{TextBatch, TextStore};

/// Large enough that appending a text is a memcpy, small beside the rest of a run.
const WRITE_BUFFER: usize = 1 << 20;

pub struct SpilledTexts {
    /// The folder holding the file, for error messages: the file itself has no name.
    dir: PathBuf,
    file: BufWriter<File>,
    /// End offset of each text in the file; text `i` starts where text `i - 1` ends.
    ends: Vec<u64>,
    written: u64,
}

impl SpilledTexts {
    /// A new, empty store in `dir`. The file is unnamed (`O_TMPFILE`, or unlinked as soon as it
    /// is created): it disappears when the store is dropped or the process dies, whether the
    /// run succeeded or not, and is never mistaken for an artifact.
    pub fn create_in(dir: &Path) -> Result<Self> {
        let file = tempfile::tempfile_in(dir).map_err(|source| IngestError::Spill {
            dir: dir.to_path_buf(),
            source,
        })?;
        Ok(Self {
            dir: dir.to_path_buf(),
            file: BufWriter::with_capacity(WRITE_BUFFER, file),
            ends: Vec::new(),
            written: 0,
        })
    }

    fn error(&self, source: std::io::Error) -> IngestError {
        IngestError::Spill {
            dir: self.dir.clone(),
            source,
        }
    }

    fn span(&self, row: usize) -> (u64, usize) {
        let start = if row == 0 { 0 } else { self.ends[row - 1] };
        (start, (self.ends[row] - start) as usize)
    }
}

impl TextStore for SpilledTexts {
    fn append(&mut self, text: &str) -> Result<()> {
        if let Err(e) = self.file.write_all(text.as_bytes()) {
            return Err(self.error(e));
        }
        self.written += text.len() as u64;
        self.ends.push(self.written);
        Ok(())
    }

    fn finish_appending(&mut self) -> Result<()> {
        self.file.flush().map_err(|e| self.error(e))
    }

    fn gather(&self, rows: &[usize], into: &mut TextBatch) -> Result<()> {
        debug_assert!(
            self.file.buffer().is_empty(),
            "gather before finish_appending"
        );
        into.clear();
        // Each text's place in the batch, then the reads in file order: the file is read
        // forward, whatever order the rows are in.
        let mut reads: Vec<(u64, usize, usize)> = Vec::with_capacity(rows.len());
        let mut filled = 0;
        for &row in rows {
            let (offset, len) = self.span(row);
            if len > 0 {
                reads.push((offset, filled, len));
            }
            filled += len;
            into.ends.push(filled);
        }
        into.bytes.resize(filled, 0);
        reads.sort_unstable_by_key(|&(offset, _, _)| offset);
        let file = self.file.get_ref();
        for (offset, at, len) in reads {
            read_exact_at(file, &mut into.bytes[at..at + len], offset).map_err(|e| {
                self.error(std::io::Error::new(
                    e.kind(),
                    format!("reading {len} bytes at offset {offset}: {e}"),
                ))
            })?;
        }
        Ok(())
    }
}

#[cfg(unix)]
fn read_exact_at(file: &File, buf: &mut [u8], offset: u64) -> std::io::Result<()> {
    std::os::unix::fs::FileExt::read_exact_at(file, buf, offset)
}

/// Elsewhere, a seek and a read: the write side is finished, so moving the cursor is harmless.
#[cfg(not(unix))]
fn read_exact_at(mut file: &File, buf: &mut [u8], offset: u64) -> std::io::Result<()> {
    use std::io::{Read, Seek, SeekFrom};
    file.seek(SeekFrom::Start(offset))?;
    file.read_exact(buf)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::texts::TextArena;

    fn texts(n: usize) -> Vec<String> {
        (0..n)
            .map(|i| match i % 5 {
                0 => String::new(),
                1 => format!("review {i}\nwith a summary line"),
                2 => "ünïcödé ✓ 日本語 🎸".repeat(i % 7),
                3 => "x".repeat(i * 37 % 3000),
                _ => format!("{i}"),
            })
            .collect()
    }

    #[test]
    fn gives_back_what_the_arena_gives_in_any_row_order() {
        let dir = tempfile::tempdir().unwrap();
        let all = texts(5_000);
        let mut spilled = SpilledTexts::create_in(dir.path()).unwrap();
        let mut arena = TextArena::default();
        for t in &all {
            spilled.append(t).unwrap();
            arena.append(t).unwrap();
        }
        spilled.finish_appending().unwrap();
        // The file is unnamed: nothing is visible in the folder while it is in use.
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);

        let mut rows: Vec<usize> = (0..all.len()).rev().step_by(3).collect();
        rows.extend([0, 0, 4_999, 2, 7]);
        let (mut from_file, mut from_memory) = (TextBatch::default(), TextBatch::default());
        for group in rows.chunks(701) {
            spilled.gather(group, &mut from_file).unwrap();
            arena.gather(group, &mut from_memory).unwrap();
            let expected: Vec<&str> = group.iter().map(|&r| all[r].as_str()).collect();
            assert_eq!(from_file.texts().unwrap(), expected);
            assert_eq!(from_memory.texts().unwrap(), expected);
        }
    }

    #[test]
    fn unreadable_folder_is_named() {
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("no-such-folder");
        let err = SpilledTexts::create_in(&missing).err().unwrap().to_string();
        assert!(err.contains("no-such-folder"), "{err}");
        assert!(err.contains("review texts"), "{err}");
    }
}
