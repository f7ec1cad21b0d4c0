//! Samples and batches: reads the ingestion, vocabulary and image artifacts once, then assembles
//! each sample's four inputs on demand.
//!
//! A sample is one row r of `interactions.parquet`:
//! * U — the user's document: the user's *training* reviews except row r itself (unless
//!   `leak_target`), in the configured order (default newest first), concatenated, first L tokens;
//! * O — the item's document, likewise from the item's training reviews;
//! * M — the first L tokens of the item's metadata document;
//! * V — the item's image feature.
//!
//! A modality with no tokens or no image row is *missing*: it is masked exactly like an m-dropped
//! one. Batches are built on a separate thread ([`spawn_batches`]) while the model trains.

use std::path::{Path, PathBuf};
use std::sync::mpsc::{sync_channel, Receiver};
use std::sync::Arc;
use std::thread::JoinHandle;

use candle_core::{DType, Device, Tensor};
use lrmm_core::parquet::{f32_values, u32_values};
use lrmm_core::schema::{INTERACTIONS, ITEM_TOKENS, REVIEW_TOKENS};
use lrmm_core::{ArtifactDir, SeededRng, Split};
use polars::prelude::*;

use crate::config::{DataConfig, DocOrder};
use crate::{Modality, ModelError, Result};

/// Everything training and inference read, in memory.
#[derive(Debug)]
pub struct Dataset {
    pub root: PathBuf,
    pub n_users: usize,
    pub n_items: usize,
    pub vocab_size: usize,
    pub user_id: Vec<u32>,
    pub item_id: Vec<u32>,
    pub rating: Vec<f32>,
    pub unix_time: Vec<i64>,
    pub split: Vec<Split>,
    review_offsets: Vec<usize>,
    review_tokens: Vec<u32>,
    meta_offsets: Vec<usize>,
    meta_tokens: Vec<u32>,
    pub image_dim: usize,
    image_row: Vec<Option<u32>>,
    image_features: Vec<f32>,
    user_history: Vec<Vec<u32>>,
    item_history: Vec<Vec<u32>>,
    pub order: DocOrder,
}

fn polars_err(path: &Path, e: PolarsError) -> ModelError {
    ModelError::bad(path, e.to_string())
}

/// Flattens a `list<u32>` column into (offsets, values), checking ids against the vocabulary.
fn token_lists(df: &DataFrame, path: &Path, vocab_size: usize) -> Result<(Vec<usize>, Vec<u32>)> {
    let lists = df
        .column("tokens")
        .and_then(|c| c.list())
        .map_err(|e| polars_err(path, e))?;
    let mut offsets = Vec::with_capacity(lists.len() + 1);
    let mut values = Vec::new();
    offsets.push(0);
    for (row, series) in lists.series_iter().enumerate() {
        if let Some(series) = series {
            let ids = series.u32().map_err(|e| polars_err(path, e))?;
            for id in ids.iter() {
                let id =
                    id.ok_or_else(|| ModelError::bad(path, format!("row {row}: null token id")))?;
                if id as usize >= vocab_size {
                    return Err(ModelError::bad(
                        path,
                        format!("row {row}: token id {id} ≥ vocabulary size {vocab_size}"),
                    ));
                }
                values.push(id);
            }
        }
        offsets.push(values.len());
    }
    Ok((offsets, values))
}

/// Vocabulary size of a `tokenizer.json`: one more than the largest id of its WordLevel vocab
/// and added tokens.
pub fn vocab_size(path: &Path) -> Result<usize> {
    let json: serde_json::Value = lrmm_core::atomic::read_json(path)?;
    let vocab = json
        .pointer("/model/vocab")
        .and_then(|v| v.as_object())
        .ok_or_else(|| {
            ModelError::bad(
                path,
                "no `model.vocab` object (expected a WordLevel tokenizer)",
            )
        })?;
    let mut max_id = vocab.values().filter_map(|v| v.as_u64()).max();
    if let Some(added) = json.get("added_tokens").and_then(|a| a.as_array()) {
        max_id = max_id.max(
            added
                .iter()
                .filter_map(|t| t.get("id").and_then(|i| i.as_u64()))
                .max(),
        );
    }
    match max_id {
        Some(m) => Ok(m as usize + 1),
        None => Err(ModelError::bad(path, "empty vocabulary")),
    }
}

/// Reads `image_features.safetensors`: (`features` [n, D] f32, `item_ids` [n] u32).
pub fn read_image_features(path: &Path) -> Result<(usize, Vec<u32>, Vec<f32>)> {
    let map = crate::init::load_safetensors(path)?;
    let features = map
        .get("features")
        .ok_or_else(|| ModelError::bad(path, "missing tensor `features`"))?;
    let ids = map
        .get("item_ids")
        .ok_or_else(|| ModelError::bad(path, "missing tensor `item_ids`"))?;
    let (n, dim) = features.dims2().map_err(|_| {
        ModelError::bad(
            path,
            format!(
                "`features` has shape {:?}, expected [n, D]",
                features.dims()
            ),
        )
    })?;
    if ids.dims() != [n] || ids.dtype() != DType::U32 || features.dtype() != DType::F32 {
        return Err(ModelError::bad(
            path,
            format!("expected `features` f32 [n, D] and `item_ids` u32 [n]; got {:?} {:?} and {:?} {:?}", features.dtype(), features.dims(), ids.dtype(), ids.dims()),
        ));
    }
    Ok((
        dim,
        ids.to_vec1::<u32>()?,
        features.flatten_all()?.to_vec1::<f32>()?,
    ))
}

impl Dataset {
    /// Loads and cross-checks the artifacts of one dataset folder.
    pub fn load(dir: &ArtifactDir, order: DocOrder) -> Result<Self> {
        let ipath = dir.interactions();
        let inter = lrmm_core::parquet::read_checked(&ipath, INTERACTIONS)?;
        let user_id = u32_values(&inter, &ipath, "user_id")?;
        let item_id = u32_values(&inter, &ipath, "item_id")?;
        let rating = f32_values(&inter, &ipath, "rating")?;
        if let Some(i) = rating.iter().position(|r| !r.is_finite()) {
            return Err(ModelError::bad(
                &ipath,
                format!("row {i}: rating is not finite"),
            ));
        }
        let unix_time: Vec<i64> = inter
            .column("unix_time")
            .and_then(|c| c.i64())
            .map_err(|e| polars_err(&ipath, e))?
            .iter()
            .map(|t| t.unwrap_or(0))
            .collect();
        let split: Vec<Split> = inter
            .column("split")
            .and_then(|c| c.str())
            .map_err(|e| polars_err(&ipath, e))?
            .iter()
            .enumerate()
            .map(|(i, s)| {
                s.and_then(Split::parse).ok_or_else(|| {
                    ModelError::bad(
                        &ipath,
                        format!("row {i}: split {s:?} is not train/valid/test"),
                    )
                })
            })
            .collect::<Result<_>>()?;
        let n_rows = user_id.len();
        let n_users = user_id.iter().map(|&u| u as usize + 1).max().unwrap_or(0);
        let n_items = item_id.iter().map(|&o| o as usize + 1).max().unwrap_or(0);

        let vocab_size = vocab_size(&dir.tokenizer())?;

        let rpath = dir.review_tokens();
        let reviews = lrmm_core::parquet::read_checked(&rpath, REVIEW_TOKENS)?;
        if reviews.height() != n_rows {
            return Err(ModelError::bad(
                &rpath,
                format!(
                    "{} rows, but interactions.parquet has {n_rows}; rerun the vocabulary stage",
                    reviews.height()
                ),
            ));
        }
        let r_users = u32_values(&reviews, &rpath, "user_id")?;
        let r_items = u32_values(&reviews, &rpath, "item_id")?;
        if let Some(i) = (0..n_rows).find(|&i| r_users[i] != user_id[i] || r_items[i] != item_id[i])
        {
            return Err(ModelError::bad(
                &rpath,
                format!("row {i} is (user {}, item {}) but interactions row {i} is (user {}, item {}); the files are not row-aligned", r_users[i], r_items[i], user_id[i], item_id[i]),
            ));
        }
        let (review_offsets, review_tokens) = token_lists(&reviews, &rpath, vocab_size)?;

        let mpath = dir.item_tokens();
        let items = lrmm_core::parquet::read_checked(&mpath, ITEM_TOKENS)?;
        let m_items = u32_values(&items, &mpath, "item_id")?;
        let (m_off, m_tok) = token_lists(&items, &mpath, vocab_size)?;
        // Re-index by item id (items absent from the file have no metadata).
        let mut meta_offsets = vec![0usize; n_items + 1];
        let mut meta_tokens = Vec::with_capacity(m_tok.len());
        let mut by_item: Vec<Option<usize>> = vec![None; n_items];
        for (row, &o) in m_items.iter().enumerate() {
            if (o as usize) < n_items {
                by_item[o as usize] = Some(row);
            }
        }
        for o in 0..n_items {
            if let Some(row) = by_item[o] {
                meta_tokens.extend_from_slice(&m_tok[m_off[row]..m_off[row + 1]]);
            }
            meta_offsets[o + 1] = meta_tokens.len();
        }

        let fpath = dir.image_features();
        let (image_dim, ids, feats) = read_image_features(&fpath)?;
        let mut image_row = vec![None; n_items];
        for (row, &o) in ids.iter().enumerate() {
            if (o as usize) < n_items {
                image_row[o as usize] = Some(row as u32);
            }
        }
        if let Some(i) = feats.iter().position(|x| !x.is_finite()) {
            return Err(ModelError::bad(
                &fpath,
                format!(
                    "feature row {} holds a non-finite value",
                    i / image_dim.max(1)
                ),
            ));
        }

        let mut ds = Self {
            root: dir.root().to_path_buf(),
            n_users,
            n_items,
            vocab_size,
            user_id,
            item_id,
            rating,
            unix_time,
            split,
            review_offsets,
            review_tokens,
            meta_offsets,
            meta_tokens,
            image_dim,
            image_row,
            image_features: feats,
            user_history: Vec::new(),
            item_history: Vec::new(),
            order,
        };
        ds.index_histories();
        Ok(ds)
    }

    /// Builds an in-memory dataset (tests, benchmarks). `reviews[r]` is row r's review tokens,
    /// `meta[o]` item o's metadata tokens, `images[o]` item o's feature.
    #[allow(clippy::too_many_arguments)]
    pub fn from_parts(
        user_id: Vec<u32>,
        item_id: Vec<u32>,
        rating: Vec<f32>,
        unix_time: Vec<i64>,
        split: Vec<Split>,
        reviews: &[Vec<u32>],
        meta: &[Vec<u32>],
        images: &[Option<Vec<f32>>],
        image_dim: usize,
        vocab_size: usize,
        order: DocOrder,
    ) -> Self {
        let n_users = user_id.iter().map(|&u| u as usize + 1).max().unwrap_or(0);
        let n_items = meta
            .len()
            .max(item_id.iter().map(|&o| o as usize + 1).max().unwrap_or(0));
        let flatten = |lists: &[Vec<u32>]| {
            let mut off = vec![0];
            let mut val = Vec::new();
            for l in lists {
                val.extend_from_slice(l);
                off.push(val.len());
            }
            (off, val)
        };
        let (review_offsets, review_tokens) = flatten(reviews);
        let mut meta_full = meta.to_vec();
        meta_full.resize(n_items, Vec::new());
        let (meta_offsets, meta_tokens) = flatten(&meta_full);
        let mut image_row = vec![None; n_items];
        let mut image_features = Vec::new();
        for (o, f) in images.iter().enumerate() {
            if let Some(f) = f {
                image_row[o] = Some((image_features.len() / image_dim) as u32);
                image_features.extend_from_slice(f);
            }
        }
        let mut ds = Self {
            root: PathBuf::from("<memory>"),
            n_users,
            n_items,
            vocab_size,
            user_id,
            item_id,
            rating,
            unix_time,
            split,
            review_offsets,
            review_tokens,
            meta_offsets,
            meta_tokens,
            image_dim,
            image_row,
            image_features,
            user_history: Vec::new(),
            item_history: Vec::new(),
            order,
        };
        ds.index_histories();
        ds
    }

    fn index_histories(&mut self) {
        let mut users = vec![Vec::new(); self.n_users];
        let mut items = vec![Vec::new(); self.n_items];
        for r in 0..self.len() {
            if self.split[r] == Split::Train {
                users[self.user_id[r] as usize].push(r as u32);
                items[self.item_id[r] as usize].push(r as u32);
            }
        }
        let time = &self.unix_time;
        let order = self.order;
        for h in users.iter_mut().chain(items.iter_mut()) {
            h.sort_by_key(|&r| (time[r as usize], r));
            if order == DocOrder::RecentFirst {
                h.reverse();
            }
        }
        self.user_history = users;
        self.item_history = items;
    }

    pub fn len(&self) -> usize {
        self.user_id.len()
    }

    pub fn is_empty(&self) -> bool {
        self.user_id.is_empty()
    }

    /// Row indices of one split, in file order.
    pub fn rows(&self, split: Split) -> Vec<usize> {
        (0..self.len())
            .filter(|&r| self.split[r] == split)
            .collect()
    }

    /// Mean rating of the training split (the global-mean predictor).
    pub fn train_mean(&self) -> f64 {
        let rows = self.rows(Split::Train);
        rows.iter().map(|&r| f64::from(self.rating[r])).sum::<f64>() / rows.len().max(1) as f64
    }

    /// Koren's baseline estimates on the training ratings, with Surprise's default ALS settings
    /// (the same fit as the evaluation stage's Biases baseline).
    pub fn baseline_estimates(&self) -> lrmm_core::baseline::BaselineEstimates {
        let mut by_user = vec![Vec::new(); self.n_users];
        let mut by_item = vec![Vec::new(); self.n_items];
        for r in self.rows(Split::Train) {
            let (u, i) = (self.user_id[r] as usize, self.item_id[r] as usize);
            let rating = f64::from(self.rating[r]);
            by_user[u].push((i, rating));
            by_item[i].push((u, rating));
        }
        lrmm_core::baseline::fit_baseline(
            &by_user,
            &by_item,
            self.train_mean(),
            &Default::default(),
        )
    }

    pub fn review(&self, row: usize) -> &[u32] {
        &self.review_tokens[self.review_offsets[row]..self.review_offsets[row + 1]]
    }

    pub fn metadata(&self, item: usize) -> &[u32] {
        &self.meta_tokens[self.meta_offsets[item]..self.meta_offsets[item + 1]]
    }

    pub fn image(&self, item: usize) -> Option<&[f32]> {
        self.image_row[item].map(|r| {
            let r = r as usize;
            &self.image_features[r * self.image_dim..(r + 1) * self.image_dim]
        })
    }

    fn history_document(
        &self,
        history: &[u32],
        target: usize,
        docs: &DataConfig,
        out: &mut Vec<u32>,
    ) {
        out.clear();
        for &r in history {
            if r as usize == target && !docs.leak_target {
                continue;
            }
            let review = self.review(r as usize);
            let room = docs.max_len - out.len();
            out.extend_from_slice(&review[..review.len().min(room)]);
            if out.len() == docs.max_len {
                break;
            }
        }
    }

    /// The user document of sample `row` (at most `max_len` tokens; empty = missing).
    pub fn user_document(&self, row: usize, docs: &DataConfig, out: &mut Vec<u32>) {
        self.history_document(
            &self.user_history[self.user_id[row] as usize],
            row,
            docs,
            out,
        );
    }

    /// The item document of sample `row`.
    pub fn item_document(&self, row: usize, docs: &DataConfig, out: &mut Vec<u32>) {
        self.history_document(
            &self.item_history[self.item_id[row] as usize],
            row,
            docs,
            out,
        );
    }

    /// Per-dimension mean and standard deviation (floored at 1e-3) of the image features of the
    /// items that occur in training.
    pub fn image_stats(&self) -> (Vec<f32>, Vec<f32>) {
        let d = self.image_dim;
        let mut seen = vec![false; self.n_items];
        for r in self.rows(Split::Train) {
            seen[self.item_id[r] as usize] = true;
        }
        let mut sum = vec![0f64; d];
        let mut sq = vec![0f64; d];
        let mut n = 0f64;
        for (o, _) in seen.iter().enumerate().filter(|(_, s)| **s) {
            if let Some(f) = self.image(o) {
                n += 1.0;
                for (k, &x) in f.iter().enumerate() {
                    sum[k] += f64::from(x);
                    sq[k] += f64::from(x) * f64::from(x);
                }
            }
        }
        if n == 0.0 {
            return (vec![0.0; d], vec![1.0; d]);
        }
        let mean: Vec<f32> = sum.iter().map(|s| (s / n) as f32).collect();
        let std = sq
            .iter()
            .zip(&sum)
            .map(|(q, s)| ((q / n - (s / n).powi(2)).max(0.0).sqrt().max(1e-3)) as f32)
            .collect();
        (mean, std)
    }
}

/// Randomness of a training batch: m-drop and recurrent dropout, both drawn from seeded streams.
#[derive(Debug, Clone)]
pub struct TrainNoise {
    /// p_m per modality, U O M V.
    pub mdrop: [f64; 4],
    /// Dropout probability after the recurrent layer.
    pub dropout: f64,
    /// d, the embedding width the dropout masks cover.
    pub hidden: usize,
    pub rng: SeededRng,
}

/// One batch on the host.
#[derive(Debug, Clone)]
pub struct Batch {
    pub rows: Vec<usize>,
    /// Padded length of each text modality's documents in this batch (the longest, ≥ 1).
    pub len: [usize; 3],
    /// [B × len[g]] token ids, right-padded with 0.
    pub tokens: [Vec<u32>; 3],
    /// [B × len[g]] mean-pooling weights: 1/n on the n real tokens, 0 on padding.
    pub pool: [Vec<f32>; 3],
    /// [B × D] image features (zeros where missing).
    pub image: Vec<f32>,
    /// [B × 4] 1 where the modality exists in the data.
    pub available: Vec<f32>,
    /// [B × 4] 1 where the modality exists and was neither m-dropped nor removed by the caller.
    pub keep: Vec<f32>,
    /// [B × d] inverted-dropout scale masks of the three text embeddings (training only).
    pub dropout: Option<[Vec<f32>; 3]>,
    pub ratings: Vec<f32>,
    /// [B] user and item indices (for the optional id biases).
    pub user_ids: Vec<u32>,
    pub item_ids: Vec<u32>,
}

/// Assembles the samples `rows`. `drop` removes modalities for every sample (inference);
/// `noise` adds m-drop and dropout (training).
pub fn assemble(
    ds: &Dataset,
    rows: &[usize],
    docs: &DataConfig,
    drop: &[Modality],
    mut noise: Option<&mut TrainNoise>,
) -> Batch {
    let b = rows.len();
    let mut documents: [Vec<Vec<u32>>; 3] = [
        Vec::with_capacity(b),
        Vec::with_capacity(b),
        Vec::with_capacity(b),
    ];
    let mut scratch = Vec::with_capacity(docs.max_len);
    for &r in rows {
        ds.user_document(r, docs, &mut scratch);
        documents[0].push(scratch.clone());
        ds.item_document(r, docs, &mut scratch);
        documents[1].push(scratch.clone());
        let meta = ds.metadata(ds.item_id[r] as usize);
        documents[2].push(meta[..meta.len().min(docs.max_len)].to_vec());
    }
    let mut len = [1usize; 3];
    let mut tokens: [Vec<u32>; 3] = Default::default();
    let mut pool: [Vec<f32>; 3] = Default::default();
    for g in 0..3 {
        len[g] = documents[g].iter().map(Vec::len).max().unwrap_or(0).max(1);
        tokens[g] = vec![0; b * len[g]];
        pool[g] = vec![0.0; b * len[g]];
        for (i, doc) in documents[g].iter().enumerate() {
            tokens[g][i * len[g]..i * len[g] + doc.len()].copy_from_slice(doc);
            let w = 1.0 / doc.len().max(1) as f32;
            pool[g][i * len[g]..i * len[g] + doc.len()].fill(w);
        }
    }
    let d = ds.image_dim;
    let mut image = vec![0.0; b * d];
    let mut available = vec![0.0; b * 4];
    for (i, &r) in rows.iter().enumerate() {
        let item = ds.item_id[r] as usize;
        if let Some(f) = ds.image(item) {
            image[i * d..(i + 1) * d].copy_from_slice(f);
            available[i * 4 + 3] = 1.0;
        }
        for g in 0..3 {
            if !documents[g][i].is_empty() {
                available[i * 4 + g] = 1.0;
            }
        }
    }
    let mut keep = available.clone();
    for k in keep.chunks_mut(4) {
        for m in drop {
            k[m.index()] = 0.0;
        }
        if let Some(noise) = noise.as_deref_mut() {
            for (g, kg) in k.iter_mut().enumerate() {
                // Draw for every slot, present or not, so one sample's availability does not
                // shift the random stream of the next.
                if noise.rng.bernoulli(noise.mdrop[g]) {
                    *kg = 0.0;
                }
            }
        }
    }
    let dropout = noise.map(|noise| {
        let scale = 1.0 / (1.0 - noise.dropout) as f32;
        let mut mask = || {
            (0..b * noise.hidden)
                .map(|_| {
                    if noise.rng.bernoulli(noise.dropout) {
                        0.0
                    } else {
                        scale
                    }
                })
                .collect::<Vec<f32>>()
        };
        [mask(), mask(), mask()]
    });
    let ratings = rows.iter().map(|&r| ds.rating[r]).collect();
    let user_ids = rows.iter().map(|&r| ds.user_id[r]).collect();
    let item_ids = rows.iter().map(|&r| ds.item_id[r]).collect();
    Batch {
        rows: rows.to_vec(),
        len,
        tokens,
        pool,
        image,
        available,
        keep,
        dropout,
        ratings,
        user_ids,
        item_ids,
    }
}

/// A batch on the compute device.
#[derive(Debug, Clone)]
pub struct DeviceBatch {
    pub size: usize,
    /// [B, T_g] u32.
    pub tokens: Vec<Tensor>,
    /// [B, 1, T_g].
    pub pool: Vec<Tensor>,
    /// [B, D].
    pub image: Tensor,
    /// [B, 4].
    pub available: Tensor,
    /// [B, 4].
    pub keep: Tensor,
    /// [B, d] per text modality.
    pub dropout: Option<Vec<Tensor>>,
    /// [B].
    pub ratings: Tensor,
    /// [B] u32 user and item indices.
    pub user_ids: Tensor,
    pub item_ids: Tensor,
}

impl Batch {
    pub fn size(&self) -> usize {
        self.rows.len()
    }

    pub fn to_device(
        &self,
        device: &Device,
        dtype: DType,
        image_dim: usize,
        hidden: usize,
    ) -> Result<DeviceBatch> {
        let b = self.size();
        let f = |v: &[f32], shape: &[usize]| -> Result<Tensor> {
            Ok(Tensor::from_slice(v, shape, device)?.to_dtype(dtype)?)
        };
        let mut tokens = Vec::with_capacity(3);
        let mut pool = Vec::with_capacity(3);
        for g in 0..3 {
            tokens.push(Tensor::from_slice(
                &self.tokens[g],
                (b, self.len[g]),
                device,
            )?);
            pool.push(f(&self.pool[g], &[b, 1, self.len[g]])?);
        }
        let dropout = match &self.dropout {
            Some(m) => Some(
                m.iter()
                    .map(|m| f(m, &[b, hidden]))
                    .collect::<Result<Vec<_>>>()?,
            ),
            None => None,
        };
        Ok(DeviceBatch {
            size: b,
            tokens,
            pool,
            image: f(&self.image, &[b, image_dim])?,
            available: f(&self.available, &[b, 4])?,
            keep: f(&self.keep, &[b, 4])?,
            dropout,
            ratings: f(&self.ratings, &[b])?,
            user_ids: Tensor::from_slice(&self.user_ids, b, device)?,
            item_ids: Tensor::from_slice(&self.item_ids, b, device)?,
        })
    }
}

/// Assembles the batches of `rows` (in the given order) on a background thread, a few ahead of
/// the consumer.
pub fn spawn_batches(
    ds: Arc<Dataset>,
    rows: Vec<usize>,
    batch_size: usize,
    docs: DataConfig,
    mut noise: Option<TrainNoise>,
) -> (Receiver<Batch>, JoinHandle<()>) {
    let (tx, rx) = sync_channel(4);
    let handle = std::thread::spawn(move || {
        for chunk in rows.chunks(batch_size) {
            let batch = assemble(&ds, chunk, &docs, &[], noise.as_mut());
            if tx.send(batch).is_err() {
                return;
            }
        }
    });
    (rx, handle)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tiny() -> Dataset {
        // user 0: rows 0 (t=10, train), 1 (t=30, train), 2 (t=20, valid); user 1: row 3 (train).
        Dataset::from_parts(
            vec![0, 0, 0, 1],
            vec![0, 1, 1, 1],
            vec![5.0, 3.0, 4.0, 1.0],
            vec![10, 30, 20, 5],
            vec![Split::Train, Split::Train, Split::Valid, Split::Train],
            &[vec![2, 3], vec![4, 5, 6], vec![7], vec![8, 9]],
            &[vec![10, 11], vec![]],
            &[Some(vec![1.0, 2.0]), None],
            2,
            12,
            DocOrder::RecentFirst,
        )
    }

    #[test]
    fn documents_leave_out_the_target_and_follow_the_order() {
        let ds = tiny();
        let docs = DataConfig {
            max_len: 100,
            leak_target: false,
            order: DocOrder::RecentFirst,
        };
        let mut out = Vec::new();
        ds.user_document(0, &docs, &mut out);
        assert_eq!(
            out,
            vec![4, 5, 6],
            "row 0's own review must not be in its user document"
        );
        ds.user_document(2, &docs, &mut out);
        assert_eq!(
            out,
            vec![4, 5, 6, 2, 3],
            "valid row: all training reviews, newest first"
        );
        ds.item_document(1, &docs, &mut out);
        assert_eq!(out, vec![8, 9]);
        let leak = DataConfig {
            leak_target: true,
            ..docs.clone()
        };
        ds.user_document(0, &leak, &mut out);
        assert_eq!(out, vec![4, 5, 6, 2, 3]);
        let short = DataConfig { max_len: 4, ..docs };
        ds.user_document(2, &short, &mut out);
        assert_eq!(out, vec![4, 5, 6, 2]);
        ds.item_document(3, &short, &mut out);
        assert_eq!(out, vec![4, 5, 6], "item 1 without row 3 itself");
    }

    #[test]
    fn batches_mark_missing_and_dropped_modalities() {
        let ds = tiny();
        let docs = DataConfig::default();
        let b = assemble(&ds, &[0, 3], &docs, &[Modality::Item], None);
        // Row 0: user doc present, item 0 has no other training review, meta present, image present.
        assert_eq!(&b.available[0..4], &[1.0, 0.0, 1.0, 1.0]);
        // Row 3: user 1 has no other review; item 1 doc = row 1; no meta, no image.
        assert_eq!(&b.available[4..8], &[0.0, 1.0, 0.0, 0.0]);
        assert_eq!(
            &b.keep[4..8],
            &[0.0, 0.0, 0.0, 0.0],
            "item dropped by the caller"
        );
        assert_eq!(b.len, [3, 3, 2]);
        assert_eq!(&b.tokens[0][0..3], &[4, 5, 6]);
        assert_eq!(&b.pool[1][3..6], &[1.0 / 3.0; 3]);
        assert!(b.pool[0][3..6].iter().all(|&w| w == 0.0));
        assert!(b.dropout.is_none());
    }

    #[test]
    fn mdrop_rate_matches_p_m() {
        let n = 2000;
        let ds = Dataset::from_parts(
            (0..n as u32).map(|i| i % 50).collect(),
            (0..n as u32).map(|i| i % 40).collect(),
            vec![3.0; n],
            (0..n as i64).collect(),
            vec![Split::Train; n],
            &vec![vec![2, 3]; n],
            &vec![vec![4]; 40],
            &vec![Some(vec![0.5]); 40],
            1,
            5,
            DocOrder::RecentFirst,
        );
        let p = [0.1, 0.25, 0.5, 0.0];
        let mut noise = TrainNoise {
            mdrop: p,
            dropout: 0.5,
            hidden: 8,
            rng: SeededRng::new(9),
        };
        let rows: Vec<usize> = (0..n).collect();
        let mut dropped = [0usize; 4];
        let mut zeros = 0usize;
        let mut total_masks = 0usize;
        for _ in 0..5 {
            let b = assemble(&ds, &rows, &DataConfig::default(), &[], Some(&mut noise));
            assert!(b.available.iter().all(|&a| a == 1.0));
            for k in b.keep.chunks(4) {
                for g in 0..4 {
                    dropped[g] += usize::from(k[g] == 0.0);
                }
            }
            for m in b.dropout.as_ref().unwrap() {
                zeros += m.iter().filter(|&&x| x == 0.0).count();
                total_masks += m.len();
                assert!(m.iter().all(|&x| x == 0.0 || x == 2.0));
            }
        }
        for g in 0..4 {
            let rate = dropped[g] as f64 / (5 * n) as f64;
            // 10,000 Bernoulli draws: 4 standard deviations is at most 0.02.
            assert!(
                (rate - p[g]).abs() < 0.02,
                "modality {g}: rate {rate} vs p {}",
                p[g]
            );
        }
        let rate = zeros as f64 / total_masks as f64;
        assert!((rate - 0.5).abs() < 0.01, "dropout rate {rate}");
    }
}
