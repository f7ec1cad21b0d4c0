//! From a folder of images named by asin to one feature row per item: decoding and
//! preprocessing run on their own thread pool, one batch ahead of the network.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::time::Instant;

use candle_core::{Device, Module, Tensor};
use indicatif::{ProgressBar, ProgressStyle};
use lrmm_core::schema::{ColumnType, Schema};
use rayon::prelude::*;

use crate::artifact::{Features, ImageStatus, StatusRow};
use crate::error::{Error, Result};
use crate::preprocess::{self, DecodeLimits, CROP, PIXELS_PER_IMAGE};
use crate::vgg::Vgg;

/// The columns of `items.parquet` this stage reads (the rest of `ITEMS` is ignored).
const ITEM_KEYS: Schema = &[("item_id", ColumnType::U32), ("asin", ColumnType::Str)];

/// An item of the dataset: its dense id and Amazon asin.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Item {
    pub item_id: u32,
    pub asin: String,
}

/// Reads `item_id` and `asin` of `items.parquet`, sorted by item id.
pub fn read_items(path: &Path) -> Result<Vec<Item>> {
    let df = lrmm_core::parquet::read_checked(path, ITEM_KEYS)?;
    let bad = |message: String| Error::BadTable {
        path: path.to_path_buf(),
        message,
    };
    let ids = lrmm_core::parquet::u32_values(&df, path, "item_id")?;
    let asins = lrmm_core::parquet::str_values(&df, path, "asin")?;
    let mut items: Vec<Item> = ids
        .into_iter()
        .zip(asins)
        .map(|(item_id, asin)| Item { item_id, asin })
        .collect();
    items.sort_by_key(|i| i.item_id);
    if let Some(w) = items.windows(2).find(|w| w[0].item_id == w[1].item_id) {
        return Err(bad(format!("item_id {} appears twice", w[0].item_id)));
    }
    Ok(items)
}

/// The image file of each asin in a folder: `<asin>.<any extension>` (or no extension).
#[derive(Debug, Clone, Default)]
pub struct ImageFolder {
    files: HashMap<String, PathBuf>,
}

impl ImageFolder {
    /// Lists `dir` (not recursively). When an asin has several files the first by name wins and
    /// the others are logged, so the choice does not depend on the file system's order.
    pub fn scan(dir: &Path) -> Result<Self> {
        let entries = std::fs::read_dir(dir).map_err(|e| Error::io(dir, e))?;
        let mut paths = Vec::new();
        for entry in entries {
            let entry = entry.map_err(|e| Error::io(dir, e))?;
            if entry
                .file_type()
                .map_err(|e| Error::io(entry.path(), e))?
                .is_dir()
            {
                continue;
            }
            paths.push(entry.path());
        }
        paths.sort();
        let mut files: HashMap<String, PathBuf> = HashMap::new();
        for path in paths {
            let Some(stem) = path.file_stem().and_then(|s| s.to_str()) else {
                continue;
            };
            if stem.starts_with('.') {
                continue;
            }
            if let Some(kept) = files.get(stem) {
                tracing::warn!(
                    "{}: asin {stem} already has {}; ignoring this file",
                    path.display(),
                    kept.display()
                );
                continue;
            }
            files.insert(stem.to_string(), path);
        }
        Ok(Self { files })
    }

    pub fn get(&self, asin: &str) -> Option<&Path> {
        self.files.get(asin).map(PathBuf::as_path)
    }

    pub fn len(&self) -> usize {
        self.files.len()
    }

    pub fn is_empty(&self) -> bool {
        self.files.is_empty()
    }
}

/// How to run the extraction.
#[derive(Debug, Clone)]
pub struct ExtractOptions {
    /// Images per forward pass.
    pub batch_size: usize,
    /// Threads decoding and preprocessing (besides those of the network).
    pub decode_threads: usize,
    pub limits: DecodeLimits,
    /// Draw a progress bar on stderr (indicatif hides it when stderr is not a terminal).
    pub progress: bool,
}

impl Default for ExtractOptions {
    fn default() -> Self {
        Self {
            batch_size: 32,
            decode_threads: 1,
            limits: DecodeLimits::default(),
            progress: false,
        }
    }
}

/// Decoded images of one chunk of items, in item order.
struct DecodedChunk {
    ok: Vec<(u32, Vec<f32>)>,
    failed: Vec<StatusRow>,
}

/// Features of every item whose image decodes, and a status row for every item.
pub fn extract(
    model: &Vgg,
    device: &Device,
    items: &[Item],
    folder: &ImageFolder,
    options: &ExtractOptions,
) -> Result<(Features, Vec<StatusRow>)> {
    let batch_size = options.batch_size.max(1);
    let mut statuses: HashMap<u32, StatusRow> = HashMap::with_capacity(items.len());
    let mut work: Vec<(u32, PathBuf)> = Vec::new();
    for item in items {
        match folder.get(&item.asin) {
            Some(path) => work.push((item.item_id, path.to_path_buf())),
            None => {
                statuses.insert(
                    item.item_id,
                    StatusRow {
                        item_id: item.item_id,
                        status: ImageStatus::Missing,
                        error: Some("no image file for this asin".into()),
                    },
                );
            }
        }
    }
    let progress = progress_bar(work.len() as u64, options.progress);
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(options.decode_threads.max(1))
        .thread_name(|i| format!("lrmm-decode-{i}"))
        .build()
        .map_err(|e| Error::Config(format!("cannot start decoding threads: {e}")))?;

    let mut features = Features::new(model.config().feature_dim());
    let started = Instant::now();
    std::thread::scope(|scope| -> Result<()> {
        // Two chunks in flight: one decoding while the network runs on the other.
        let (sender, receiver) = mpsc::sync_channel::<DecodedChunk>(1);
        let limits = options.limits;
        let work = &work;
        scope.spawn(move || {
            for chunk in work.chunks(batch_size) {
                let decoded = pool.install(|| decode_chunk(chunk, limits));
                if sender.send(decoded).is_err() {
                    break; // the network side stopped on an error
                }
            }
        });
        let mut pending: Vec<(u32, Vec<f32>)> = Vec::new();
        for chunk in receiver {
            progress.inc(chunk.failed.len() as u64);
            for row in chunk.failed {
                tracing::debug!(
                    "item {}: {}",
                    row.item_id,
                    row.error.as_deref().unwrap_or("")
                );
                statuses.insert(row.item_id, row);
            }
            pending.extend(chunk.ok);
            while pending.len() >= batch_size {
                let batch: Vec<_> = pending.drain(..batch_size).collect();
                run_batch(model, device, batch, &mut features, &mut statuses)?;
                progress.inc(batch_size as u64);
            }
        }
        if !pending.is_empty() {
            let n = pending.len() as u64;
            run_batch(model, device, pending, &mut features, &mut statuses)?;
            progress.inc(n);
        }
        Ok(())
    })?;
    progress.finish_and_clear();
    let seconds = started.elapsed().as_secs_f64();
    if !work.is_empty() {
        tracing::info!(
            "{} image files in {seconds:.1} s ({:.2} images/s)",
            work.len(),
            work.len() as f64 / seconds.max(1e-9)
        );
    }
    let mut rows: Vec<StatusRow> = statuses.into_values().collect();
    rows.sort_by_key(|r| r.item_id);
    Ok((features, rows))
}

fn decode_chunk(chunk: &[(u32, PathBuf)], limits: DecodeLimits) -> DecodedChunk {
    let results: Vec<_> = chunk
        .par_iter()
        .map(|(item_id, path)| (*item_id, path, preprocess::load(path, limits)))
        .collect();
    let mut decoded = DecodedChunk {
        ok: Vec::new(),
        failed: Vec::new(),
    };
    for (item_id, path, result) in results {
        match result {
            Ok(pixels) => decoded.ok.push((item_id, pixels)),
            Err(message) => decoded.failed.push(StatusRow {
                item_id,
                status: ImageStatus::Corrupt,
                error: Some(format!("{}: {message}", path.display())),
            }),
        }
    }
    decoded
}

fn run_batch(
    model: &Vgg,
    device: &Device,
    batch: Vec<(u32, Vec<f32>)>,
    features: &mut Features,
    statuses: &mut HashMap<u32, StatusRow>,
) -> Result<()> {
    let n = batch.len();
    let mut pixels = Vec::with_capacity(n * PIXELS_PER_IMAGE);
    for (_, p) in &batch {
        pixels.extend_from_slice(p);
    }
    let x = Tensor::from_vec(pixels, (n, 3, CROP, CROP), device)?;
    let rows = model
        .forward(&x)?
        .to_device(&Device::Cpu)?
        .to_vec2::<f32>()?;
    for ((item_id, _), row) in batch.iter().zip(rows) {
        features.push(*item_id, &row);
        statuses.insert(
            *item_id,
            StatusRow {
                item_id: *item_id,
                status: ImageStatus::Ok,
                error: None,
            },
        );
    }
    Ok(())
}

pub(crate) fn progress_bar(len: u64, enabled: bool) -> ProgressBar {
    if !enabled {
        return ProgressBar::hidden();
    }
    let style = ProgressStyle::with_template(
        "{elapsed_precise} [{bar:40}] {pos}/{len} images, {per_sec}, eta {eta}",
    )
    .expect("static template")
    .progress_chars("=> ");
    ProgressBar::new(len).with_style(style)
}
