//! The dataset folder the model was trained on (checked against the model's `config.json`), its
//! ids, and the new records (metadata, reviews, images) turned into the rows, documents and
//! features of a [`lrmm_model::data::Extension`].
//!
//! From the dataset folder this reads `users.parquet` (reviewer_id → user id),
//! `items.parquet` (asin → item id), `tokenizer.json` (the text of new records) and everything
//! the model reads (`interactions.parquet`, `review_tokens.parquet`, `item_tokens.parquet`,
//! `image_features.safetensors`); each file `config.json` hashes must have that hash.

use std::collections::{BTreeSet, HashMap, HashSet};
use std::path::Path;

use candle_core::Device;
use lrmm_core::image_features::ImageFeatures;
use lrmm_core::schema::USERS;
use lrmm_core::{ArtifactDir, Split};
use lrmm_images::extract::{self, ExtractOptions, ImageFolder, Item};
use lrmm_images::{ImageStatus, WeightsSource};
use lrmm_ingest::read::{read_meta, read_reviews, ReadPolicy};
use lrmm_model::data::{Dataset, Extension, NewRow};
use lrmm_model::saved::SavedModel;
use lrmm_vocab::Encoder;

use crate::error::{PredictError, Result};
use crate::input::SkippedLines;
use crate::{display, PredictOptions};

/// The ids of the dataset folder, and those given to new users and items after them.
#[derive(Debug, Clone)]
pub struct KnownIds {
    user_names: Vec<String>,
    item_names: Vec<String>,
    users: HashMap<String, u32>,
    items: HashMap<String, u32>,
    known_users: usize,
    known_items: usize,
}

impl KnownIds {
    /// Reads `users.parquet` and `items.parquet`; `forget` are asins to treat as unknown.
    pub fn read(dir: &ArtifactDir, ds: &Dataset, forget: &[String]) -> Result<Self> {
        let upath = dir.users();
        let df = lrmm_core::parquet::read_checked(&upath, USERS)?;
        let ids = lrmm_core::parquet::u32_values(&df, &upath, "user_id")?;
        let names = lrmm_core::parquet::str_values(&df, &upath, "reviewer_id")?;
        let known_users = ids
            .iter()
            .map(|&u| u as usize + 1)
            .max()
            .unwrap_or(0)
            .max(ds.n_users);
        let mut user_names = vec![String::new(); known_users];
        let mut users = HashMap::with_capacity(known_users);
        for (u, name) in ids.into_iter().zip(names) {
            user_names[u as usize] = name.clone();
            users.insert(name, u);
        }
        let items = extract::read_items(&dir.items())?;
        let known_items = items
            .iter()
            .map(|i| i.item_id as usize + 1)
            .max()
            .unwrap_or(0)
            .max(ds.n_items);
        let mut item_names = vec![String::new(); known_items];
        let forget: HashSet<&str> = forget.iter().map(String::as_str).collect();
        let mut by_asin = HashMap::with_capacity(known_items);
        for item in items {
            item_names[item.item_id as usize] = item.asin.clone();
            if !forget.contains(item.asin.as_str()) {
                by_asin.insert(item.asin, item.item_id);
            }
        }
        Ok(Self {
            user_names,
            item_names,
            users,
            items: by_asin,
            known_users,
            known_items,
        })
    }

    pub fn knows_item(&self, asin: &str) -> bool {
        self.items
            .get(asin)
            .is_some_and(|&o| (o as usize) < self.known_items)
    }

    /// The user's id, a new one after the known ids when the reviewerID is unknown.
    pub fn user(&mut self, reviewer_id: &str) -> u32 {
        if let Some(&u) = self.users.get(reviewer_id) {
            return u;
        }
        let u = self.user_names.len() as u32;
        self.user_names.push(reviewer_id.to_string());
        self.users.insert(reviewer_id.to_string(), u);
        u
    }

    /// The item's id, a new one when the asin is unknown (or forgotten).
    pub fn item(&mut self, asin: &str) -> u32 {
        if let Some(&o) = self.items.get(asin) {
            return o;
        }
        let o = self.item_names.len() as u32;
        self.item_names.push(asin.to_string());
        self.items.insert(asin.to_string(), o);
        o
    }

    pub fn user_name(&self, u: u32) -> &str {
        &self.user_names[u as usize]
    }

    pub fn item_name(&self, o: u32) -> &str {
        &self.item_names[o as usize]
    }

    /// Users of the dataset folder.
    pub fn known_users(&self) -> usize {
        self.known_users
    }

    pub fn new_users(&self) -> usize {
        self.user_names.len() - self.known_users
    }

    pub fn new_items(&self) -> usize {
        self.item_names.len() - self.known_items
    }

    /// Every item a lookup finds (known ones not forgotten, then new ones), in id order.
    pub fn all_items(&self) -> Vec<String> {
        (0..self.item_names.len() as u32)
            .filter(|&o| self.items.get(self.item_name(o)) == Some(&o))
            .map(|o| self.item_name(o).to_string())
            .collect()
    }

    /// The asins `reviewer_id` rated in the training split, and in the new reviews.
    pub fn rated_in_training(
        &self,
        ds: &Dataset,
        new: &NewRecords,
        reviewer_id: &str,
    ) -> HashSet<String> {
        let mut out: HashSet<String> = new
            .reviews
            .iter()
            .filter(|r| r.reviewer_id == reviewer_id)
            .map(|r| r.asin.clone())
            .collect();
        if let Some(&u) = self.users.get(reviewer_id) {
            if (u as usize) < ds.n_users {
                for &r in ds.histories().user(u as usize) {
                    out.insert(self.item_name(ds.item_id[r as usize]).to_string());
                }
            }
        }
        out
    }
}

/// A review read from `--reviews`, tokenised.
#[derive(Debug, Clone, PartialEq)]
pub struct NewReview {
    pub reviewer_id: String,
    pub asin: String,
    pub rating: f32,
    pub unix_time: i64,
    pub tokens: Vec<u32>,
}

/// The new records of a run, tokenised and featurised.
#[derive(Debug, Clone, Default)]
pub struct NewRecords {
    /// Metadata tokens of new items, by asin.
    pub metadata: HashMap<String, Vec<u32>>,
    /// Image features of new items, by asin.
    pub images: HashMap<String, Vec<f32>>,
    /// Reviews, one per (user, item) pair as ingestion keeps them.
    pub reviews: Vec<NewReview>,
    pub skipped: SkippedLines,
    /// New items whose image is missing or corrupt: (asin, why).
    pub image_problems: Vec<(String, String)>,
}

/// Everything [`load`] reads.
#[derive(Debug)]
pub struct Loaded {
    pub saved: SavedModel,
    pub dataset: Dataset,
    pub ids: KnownIds,
    pub new: NewRecords,
}

/// Checks that every artifact `config.json` hashes is, in `data`, the file the model was
/// trained on: the interactions and token ids behind the known users and items, the tokenizer
/// that encodes new text, the features whose VGG encodes new images.
pub fn check_inputs(saved: &SavedModel, model_dir: &Path, data: &ArtifactDir) -> Result<()> {
    for (name, trained) in &saved.inputs {
        let path = data.root().join(name);
        if !path.is_file() {
            return Err(PredictError::mismatch(
                &path,
                format!(
                    "missing; the model in {} was trained with it (give --data the model's dataset folder)",
                    display(model_dir)
                ),
            ));
        }
        let found = lrmm_core::atomic::sha256_file(&path)?;
        if &found != trained {
            return Err(PredictError::mismatch(
                &path,
                format!(
                    "sha256 {found}, but the model in {} was trained on a {name} of sha256 {trained}: \
                     not the dataset folder of this model",
                    display(model_dir)
                ),
            ));
        }
    }
    Ok(())
}

/// Reads the model's `config.json`, the dataset folder (checked against it) and the new records
/// of `opts`. `query_asins` are the asins the query names: unknown ones are new items too.
pub fn load(opts: &PredictOptions, device: &Device, query_asins: &[&str]) -> Result<Loaded> {
    let saved = SavedModel::read(&opts.model_dir)?;
    let data = ArtifactDir::new(&opts.data_dir);
    check_inputs(&saved, &opts.model_dir, &data)?;
    let dataset = Dataset::load(&data, saved.config.data.order)?;
    let mut ids = KnownIds::read(&data, &dataset, &opts.forget_items)?;
    let (tokenizer, _) = lrmm_vocab::load_tokenizer(&data.tokenizer())?;
    let encoder = Encoder::new(&tokenizer)?;
    let policy = ReadPolicy {
        skip_bad_lines: opts.skip_bad_lines,
        head: None,
    };
    let mut new = NewRecords::default();

    if let Some(path) = &opts.reviews {
        let (table, skipped, lines) = read_reviews(path, policy)?;
        crate::input::merge_skipped(&mut new.skipped, &skipped);
        let (rows, duplicates) = lrmm_ingest::filter::dedup_latest(&table);
        tracing::info!(
            "{}: {lines} lines, {} reviews ({duplicates} older duplicates dropped)",
            path.display(),
            rows.len()
        );
        for r in rows {
            new.reviews.push(NewReview {
                reviewer_id: table.users.names[table.user[r] as usize].clone(),
                asin: table.items.names[table.item[r] as usize].clone(),
                rating: table.rating[r],
                unix_time: table.unix_time[r],
                tokens: encoder.encode(table.text.get(r))?,
            });
        }
    }

    let mut new_asins: BTreeSet<String> = BTreeSet::new();
    if let Some(path) = &opts.meta {
        let read = read_meta(path, &|asin: &str| !ids.knows_item(asin), policy)?;
        crate::input::merge_skipped(&mut new.skipped, &read.skipped);
        tracing::info!(
            "{}: {} lines, metadata of {} new items",
            path.display(),
            read.lines,
            read.items.len()
        );
        for (asin, meta) in read.items {
            new.metadata
                .insert(asin.clone(), encoder.encode(&meta.document())?);
            new_asins.insert(asin);
        }
    }
    new_asins.extend(
        new.reviews
            .iter()
            .map(|r| r.asin.as_str())
            .chain(query_asins.iter().copied())
            .filter(|a| !ids.knows_item(a))
            .map(str::to_string),
    );
    for asin in &new_asins {
        ids.item(asin);
    }

    if let Some(dir) = &opts.images {
        if !new_asins.is_empty() {
            let asins: Vec<&String> = new_asins.iter().collect();
            featurise(opts, &saved, &data, &dataset, dir, &asins, device, &mut new)?;
        }
    }
    Ok(Loaded {
        saved,
        dataset,
        ids,
        new,
    })
}

/// The features of the new items' photos in `dir`, made by the VGG and preprocessing recorded
/// for the dataset's features. A missing or corrupt photo is a missing V, listed in
/// `new.image_problems`.
#[allow(clippy::too_many_arguments)]
fn featurise(
    opts: &PredictOptions,
    saved: &SavedModel,
    data: &ArtifactDir,
    ds: &Dataset,
    dir: &Path,
    asins: &[&String],
    device: &Device,
    new: &mut NewRecords,
) -> Result<()> {
    let fpath = data.image_features();
    let recorded = if saved.image_features.is_empty() {
        ImageFeatures::read(&fpath)?.1
    } else {
        saved.image_features.clone()
    };
    let (config, weights, sha) = lrmm_images::extraction_from_metadata(&recorded).map_err(|m| {
        PredictError::mismatch(
            &fpath,
            format!("cannot featurise new images as this dataset's were made: {m}"),
        )
    })?;
    if config.feature_dim() != ds.image_dim {
        return Err(PredictError::mismatch(
            &fpath,
            format!(
                "records {} ({}-d features) but holds {}-d features",
                config.describe(),
                config.feature_dim(),
                ds.image_dim
            ),
        ));
    }
    let weights = match (&opts.vgg_weights, weights) {
        (Some(given), WeightsSource::Random { seed }) => {
            return Err(PredictError::mismatch(
                given,
                format!(
                    "the dataset's features were made by a VGG with a seeded random initialisation (seed {seed}), not a weights file; leave out --vgg-weights"
                ),
            ))
        }
        (Some(given), WeightsSource::File(_)) => WeightsSource::File(given.clone()),
        (None, w) => w,
    };
    if let (WeightsSource::File(path), Some(sha)) = (&weights, &sha) {
        if !path.is_file() {
            return Err(PredictError::mismatch(
                path,
                "the VGG weights the dataset's features were made with are not there; give their new place with --vgg-weights",
            ));
        }
        let found = lrmm_core::atomic::sha256_file(path)?;
        if &found != sha {
            return Err(PredictError::mismatch(
                path,
                format!("VGG weights of sha256 {found}, but the dataset's features were made with weights of sha256 {sha}"),
            ));
        }
    }
    let model = lrmm_images::build_model(config, &weights, device)?;
    let folder = ImageFolder::scan(dir)?;
    let items: Vec<Item> = asins
        .iter()
        .enumerate()
        .map(|(i, a)| Item {
            item_id: i as u32,
            asin: (*a).clone(),
        })
        .collect();
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let options = ExtractOptions {
        batch_size: opts.image_batch_size,
        decode_threads: (cores / 2).max(1),
        progress: opts.progress,
        ..ExtractOptions::default()
    };
    let (features, statuses) = extract::extract(&model, device, &items, &folder, &options)?;
    for (k, &i) in features.item_ids.iter().enumerate() {
        new.images
            .insert(asins[i as usize].clone(), features.row(k).to_vec());
    }
    for s in statuses {
        if s.status != ImageStatus::Ok && folder.get(asins[s.item_id as usize]).is_some() {
            let why = s.error.unwrap_or_else(|| s.status.as_str().to_string());
            tracing::warn!(
                "new item {}: image {}: V is missing",
                asins[s.item_id as usize],
                why
            );
            new.image_problems
                .push((asins[s.item_id as usize].clone(), why));
        }
    }
    Ok(())
}

/// The extension of `ds` by the new records and the query `pairs`: new reviews as training
/// rows (a review of a pair the dataset holds replaces it when it is as new or newer, as
/// ingestion keeps the latest), then one query row per pair. Returns the extension and, for each
/// pair, the index of its row in `Extension::rows`.
pub fn extension(
    ds: &Dataset,
    ids: &mut KnownIds,
    new: &NewRecords,
    pairs: &[crate::Pair],
) -> Result<(Extension, Vec<usize>)> {
    let mut ext = Extension::default();
    if !new.reviews.is_empty() {
        let existing: HashMap<(u32, u32), usize> = (0..ds.len())
            .map(|r| ((ds.user_id[r], ds.item_id[r]), r))
            .collect();
        for review in &new.reviews {
            let (u, o) = (ids.user(&review.reviewer_id), ids.item(&review.asin));
            if let Some(&r) = existing.get(&(u, o)) {
                if review.unix_time < ds.unix_time[r] {
                    continue;
                }
                ext.removed_rows.push(r);
            }
            ext.rows.push(NewRow {
                user: u,
                item: o,
                rating: review.rating,
                unix_time: review.unix_time,
                split: Split::Train,
                tokens: review.tokens.clone(),
            });
        }
    }
    let mut query = Vec::with_capacity(pairs.len());
    for pair in pairs {
        let (u, o) = (ids.user(&pair.reviewer_id), ids.item(&pair.asin));
        query.push(ext.rows.len());
        ext.rows.push(NewRow::query(u, o));
    }
    for (asin, tokens) in &new.metadata {
        ext.metadata.push((ids.item(asin), tokens.clone()));
    }
    for (asin, f) in &new.images {
        ext.images.push((ids.item(asin), f.clone()));
    }
    ext.metadata.sort_by_key(|(o, _)| *o);
    ext.images.sort_by_key(|(o, _)| *o);
    ext.users = ids.user_names.len();
    ext.items = ids.item_names.len();
    Ok((ext, query))
}
