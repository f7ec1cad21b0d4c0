//! [`Dataset`]: the ingestion, vocabulary and image artifacts of one dataset folder, read once,
//! cross-checked (row alignment, token ids against the vocabulary, finite values) and held in
//! flat arrays that the batches slice.

use std::path::PathBuf;

use lrmm_core::image_features::ImageFeatures;
use lrmm_core::interactions::Interactions;
use lrmm_core::parquet::u32_values;
use lrmm_core::schema::{ITEM_TOKENS, REVIEW_TOKENS};
use lrmm_core::{ArtifactDir, Split};

use super::artifacts::{token_lists, vocab_size};
use super::history::Histories;
use crate::config::DocOrder;
use crate::error::{ModelError, Result};

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
    pub(super) review_offsets: Vec<usize>,
    pub(super) review_tokens: Vec<u32>,
    pub(super) meta_offsets: Vec<usize>,
    pub(super) meta_tokens: Vec<u32>,
    pub image_dim: usize,
    pub(super) image_row: Vec<Option<u32>>,
    pub(super) image_features: Vec<f32>,
    pub(super) histories: Histories,
    pub order: DocOrder,
}

impl Dataset {
    /// Loads and cross-checks the artifacts of one dataset folder.
    pub fn load(dir: &ArtifactDir, order: DocOrder) -> Result<Self> {
        // Checked by the reader: schema, no nulls, finite ratings, known split names.
        let Interactions {
            user_id,
            item_id,
            rating,
            unix_time,
            split,
        } = Interactions::read(&dir.interactions())?;
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
        let (
            ImageFeatures {
                dim: image_dim,
                item_ids: ids,
                values: feats,
            },
            _metadata,
        ) = ImageFeatures::read(&fpath)?;
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

        let histories = Histories::index(
            &user_id,
            &item_id,
            &unix_time,
            &split,
            (n_users, n_items),
            order,
        );
        Ok(Self {
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
            histories,
            order,
        })
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
        let histories = Histories::index(
            &user_id,
            &item_id,
            &unix_time,
            &split,
            (n_users, n_items),
            order,
        );
        Self {
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
            histories,
            order,
        }
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

    /// Each user's and item's training rows, in document order.
    pub fn histories(&self) -> &Histories {
        &self.histories
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
}

/// A four-row dataset for the unit tests of the data modules.
///
/// user 0: rows 0 (t=10, train), 1 (t=30, train), 2 (t=20, valid); user 1: row 3 (train).
#[cfg(test)]
pub(super) fn tiny_dataset() -> Dataset {
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
