//! Putting a built dataset on disk.
//!
//! Every file is written atomically, and a file whose bytes would not change is left alone, so
//! that rerunning the generator (after any rebuild) keeps its mtime and `make` does not redo the
//! stages downstream. The reviews file, the one `make` watches, is written last: while it is
//! missing or old the dataset is not complete.

use std::collections::BTreeMap;
use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use flate2::{Compression, GzBuilder};

use crate::{DatagenError, Dataset, IMAGES_DIR, META_FILE, PLANTED_FILE, REVIEWS_FILE};

/// Which files a [`write`] changed.
#[derive(Debug, Clone, Default)]
pub struct WriteReport {
    pub written: Vec<PathBuf>,
    pub unchanged: Vec<PathBuf>,
}

impl WriteReport {
    fn record(&mut self, path: PathBuf, changed: bool) {
        if changed {
            self.written.push(path);
        } else {
            self.unchanged.push(path);
        }
    }
}

/// Gzip with no name and mtime 0 in its header, so equal content gives equal bytes.
pub fn gzip(bytes: &[u8]) -> std::io::Result<Vec<u8>> {
    let mut encoder = GzBuilder::new()
        .mtime(0)
        .write(Vec::new(), Compression::new(6));
    encoder.write_all(bytes)?;
    encoder.finish()
}

fn io_error(path: &Path) -> impl FnOnce(std::io::Error) -> DatagenError + '_ {
    move |source| DatagenError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// Writes `bytes` to `path` atomically unless it already holds exactly them. True if written.
fn write_if_changed(path: &Path, bytes: &[u8]) -> Result<bool, DatagenError> {
    if fs::read(path).is_ok_and(|old| old == bytes) {
        return Ok(false);
    }
    lrmm_core::atomic::write_atomic(path, |w| w.write_all(bytes))?;
    Ok(true)
}

/// The regular files of a folder, by name; `None` if it is not there.
fn read_folder(dir: &Path) -> Result<Option<BTreeMap<String, Vec<u8>>>, DatagenError> {
    let entries = match fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(io_error(dir)(e)),
    };
    let mut files = BTreeMap::new();
    for entry in entries {
        let entry = entry.map_err(io_error(dir))?;
        let path = entry.path();
        let name = entry.file_name().to_string_lossy().into_owned();
        let bytes = if path.is_file() {
            fs::read(&path).map_err(io_error(&path))?
        } else {
            Vec::new()
        };
        files.insert(name, bytes);
    }
    Ok(Some(files))
}

/// Replaces the images folder as a whole: the new one is filled under a temporary name and
/// renamed into place, so no reader ever sees a mix of two datasets' images.
fn write_images(out: &Path, images: &[(String, Vec<u8>)]) -> Result<bool, DatagenError> {
    let dir = out.join(IMAGES_DIR);
    let wanted: BTreeMap<String, Vec<u8>> = images.iter().cloned().collect();
    if read_folder(&dir)?.is_some_and(|existing| existing == wanted) {
        return Ok(false);
    }
    let staging = tempfile::Builder::new()
        .prefix(".images-new-")
        .tempdir_in(out)
        .map_err(io_error(out))?;
    for (name, bytes) in images {
        let path = staging.path().join(name);
        fs::write(&path, bytes).map_err(io_error(&path))?;
    }
    let retired = tempfile::Builder::new()
        .prefix(".images-old-")
        .tempdir_in(out)
        .map_err(io_error(out))?;
    let retired_path = retired.path().join(IMAGES_DIR);
    if dir.exists() {
        fs::rename(&dir, &retired_path).map_err(io_error(&dir))?;
    }
    let staged = staging.keep();
    if let Err(e) = fs::rename(&staged, &dir) {
        // Put the old images back rather than leave none.
        let _ = fs::rename(&retired_path, &dir);
        let _ = fs::remove_dir_all(&staged);
        return Err(io_error(&dir)(e));
    }
    // `retired` removes the old images when dropped.
    Ok(true)
}

/// Writes the dataset into `out` (created if needed).
pub fn write(dataset: &Dataset, out: &Path) -> Result<WriteReport, DatagenError> {
    fs::create_dir_all(out).map_err(io_error(out))?;
    let mut report = WriteReport::default();

    let changed = write_images(out, &dataset.images)?;
    report.record(out.join(IMAGES_DIR), changed);

    let meta = gzip(dataset.meta_lines.as_bytes()).map_err(io_error(&out.join(META_FILE)))?;
    let path = out.join(META_FILE);
    report.record(path.clone(), write_if_changed(&path, &meta)?);

    let mut planted = serde_json::to_vec_pretty(&dataset.planted)
        .map_err(std::io::Error::other)
        .map_err(io_error(&out.join(PLANTED_FILE)))?;
    planted.push(b'\n');
    let path = out.join(PLANTED_FILE);
    report.record(path.clone(), write_if_changed(&path, &planted)?);

    let reviews =
        gzip(dataset.reviews_jsonl.as_bytes()).map_err(io_error(&out.join(REVIEWS_FILE)))?;
    let path = out.join(REVIEWS_FILE);
    report.record(path.clone(), write_if_changed(&path, &reviews)?);
    Ok(report)
}
