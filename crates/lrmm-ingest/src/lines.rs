//! Streaming line reader over plain or gzip files, in large batches so parsing can run in
//! parallel while memory stays bounded by the batch size, not the file size.

use std::fs::File;
use std::io::{ErrorKind, Read};
use std::path::{Path, PathBuf};

use flate2::read::MultiGzDecoder;

use crate::error::{IngestError, Result};

const BATCH_BYTES: usize = 8 << 20;

/// A run of complete lines and the 1-based number of its first line.
#[derive(Debug)]
pub struct Batch {
    pub first_line: u64,
    pub data: Vec<u8>,
}

impl Batch {
    /// Non-blank lines with their line numbers, `\r\n` endings trimmed.
    pub fn lines(&self) -> Vec<(u64, &[u8])> {
        let mut out = Vec::with_capacity(self.data.len() / 512 + 1);
        for (line_no, raw) in (self.first_line..).zip(self.data.split(|&b| b == b'\n')) {
            let line = raw.strip_suffix(b"\r").unwrap_or(raw);
            if !line.iter().all(u8::is_ascii_whitespace) {
                out.push((line_no, line));
            }
        }
        // `split` yields a final empty piece after the last '\n'; it was counted above.
        out
    }
}

/// Reads a file as batches of whole lines. Gzip is recognised by its magic bytes, not by the
/// file name, so a mislabelled file still reads.
pub struct LineBatches {
    path: PathBuf,
    reader: Box<dyn Read + Send>,
    carry: Vec<u8>,
    next_line: u64,
    done: bool,
    compressed: bool,
    pub bytes_read: u64,
}

impl LineBatches {
    pub fn open(path: &Path) -> Result<Self> {
        let io_err = |source| IngestError::Io {
            path: path.to_path_buf(),
            source,
        };
        let mut file = File::open(path).map_err(io_err)?;
        let mut magic = [0u8; 2];
        let n = read_fully(&mut file, &mut magic).map_err(io_err)?;
        let head = magic[..n].to_vec();
        let compressed = n == 2 && magic == [0x1f, 0x8b];
        let rest: Box<dyn Read + Send> = Box::new(std::io::Cursor::new(head).chain(file));
        let reader: Box<dyn Read + Send> = if compressed {
            Box::new(MultiGzDecoder::new(rest))
        } else {
            rest
        };
        Ok(Self {
            path: path.to_path_buf(),
            reader,
            carry: Vec::new(),
            next_line: 1,
            done: false,
            compressed,
            bytes_read: 0,
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The next batch of complete lines, or `None` at the end of the file.
    pub fn next_batch(&mut self) -> Result<Option<Batch>> {
        if self.done {
            return Ok(None);
        }
        let mut data = std::mem::take(&mut self.carry);
        let start = data.len();
        data.resize(start + BATCH_BYTES, 0);
        let mut filled = start;
        while filled < data.len() {
            match self.reader.read(&mut data[filled..]) {
                Ok(0) => {
                    self.done = true;
                    break;
                }
                Ok(n) => filled += n,
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                Err(e) => return Err(self.read_error(e, &data[..filled])),
            }
        }
        data.truncate(filled);
        self.bytes_read += (filled - start) as u64;
        if !self.done {
            match data.iter().rposition(|&b| b == b'\n') {
                Some(cut) => {
                    self.carry = data[cut + 1..].to_vec();
                    data.truncate(cut + 1);
                    if data.last() == Some(&b'\n') {
                        data.pop();
                    }
                }
                // One line longer than a batch: keep reading into it.
                None => {
                    self.carry = data;
                    return self.next_batch();
                }
            }
        } else if data.last() == Some(&b'\n') {
            data.pop();
        }
        if data.is_empty() && self.done {
            return Ok(None);
        }
        let first_line = self.next_line;
        self.next_line += bytecount_newlines(&data) + 1;
        Ok(Some(Batch { first_line, data }))
    }

    fn read_error(&self, e: std::io::Error, pending: &[u8]) -> IngestError {
        let line = self.next_line + bytecount_newlines(pending);
        if self.compressed {
            let message = if e.kind() == ErrorKind::UnexpectedEof {
                "truncated gzip stream: the file ends in the middle of compressed data".to_string()
            } else {
                format!("invalid gzip data ({e})")
            };
            IngestError::Decompress {
                path: self.path.clone(),
                line: line.saturating_sub(1),
                message,
            }
        } else {
            IngestError::Io {
                path: self.path.clone(),
                source: e,
            }
        }
    }
}

fn bytecount_newlines(data: &[u8]) -> u64 {
    data.iter().filter(|&&b| b == b'\n').count() as u64
}

fn read_fully(reader: &mut impl Read, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        match reader.read(&mut buf[n..])? {
            0 => break,
            k => n += k,
        }
    }
    Ok(n)
}

/// Decodes a line as UTF-8, naming the byte offset of the first invalid byte.
pub fn utf8_line(line: &[u8]) -> std::result::Result<&str, String> {
    std::str::from_utf8(line).map_err(|e| {
        format!(
            "invalid UTF-8 at byte {} of the line (the file must be UTF-8 encoded)",
            e.valid_up_to() + 1
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn all_lines(path: &Path) -> Result<Vec<(u64, String)>> {
        let mut reader = LineBatches::open(path)?;
        let mut out = Vec::new();
        while let Some(batch) = reader.next_batch()? {
            for (n, l) in batch.lines() {
                out.push((n, String::from_utf8(l.to_vec()).unwrap()));
            }
        }
        Ok(out)
    }

    #[test]
    fn numbers_lines_across_batches_and_skips_blank_lines() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x.json");
        let mut text = String::new();
        for i in 0..300_000 {
            if i == 5 {
                text.push_str("   \r\n");
            } else {
                text.push_str(&format!("line-{i}-{}\r\n", "x".repeat(i % 40)));
            }
        }
        std::fs::write(&path, &text).unwrap();
        let lines = all_lines(&path).unwrap();
        assert_eq!(lines.len(), 299_999);
        assert_eq!(lines[5].0, 7);
        assert!(lines[5].1.starts_with("line-6-"));
        let last = lines.last().unwrap();
        assert_eq!(last.0, 300_000);
        assert!(last.1.starts_with("line-299999-") && !last.1.ends_with('\r'));
    }

    #[test]
    fn gzip_by_magic_and_truncation_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x.json"); // no .gz suffix on purpose
        let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        for i in 0..50_000 {
            writeln!(enc, "{{\"n\": {i}, \"pad\": \"{}\"}}", i * 7919).unwrap();
        }
        let bytes = enc.finish().unwrap();
        std::fs::write(&path, &bytes).unwrap();
        assert_eq!(all_lines(&path).unwrap().len(), 50_000);

        std::fs::write(&path, &bytes[..bytes.len() / 2]).unwrap();
        let err = all_lines(&path).unwrap_err().to_string();
        assert!(err.contains("truncated gzip"), "{err}");
        assert!(err.contains("x.json"), "{err}");
    }
}
