//! [`Extension`]: a [`Dataset`] grown in memory by users, items and rows the model never saw,
//! for prediction on new products and customers (the `lrmm-predict` stage).
//!
//! New users and items get dense ids after the known ones. New rows come in two kinds:
//! * **training** rows (new reviews) enter the users' and items' histories, merged into the
//!   dataset's row order (user, time, item — the order ingestion writes) so that their documents
//!   are exactly what ingestion plus training would assemble;
//! * other rows (the query pairs) are appended after every other row and never enter a history.

use lrmm_core::Split;

use super::dataset::Dataset;
use super::history::Histories;
use crate::error::{ModelError, Result};

/// One row added to a dataset.
#[derive(Debug, Clone, PartialEq)]
pub struct NewRow {
    pub user: u32,
    pub item: u32,
    pub rating: f32,
    pub unix_time: i64,
    /// [`Split::Train`] rows enter the histories; any other split is a query row.
    pub split: Split,
    /// The review's token ids (empty for a query row).
    pub tokens: Vec<u32>,
}

impl NewRow {
    /// A query row: outside the training split, so it never enters a history, and its
    /// documents are those a test row of the same user and item would get.
    pub fn query(user: u32, item: u32) -> Self {
        Self {
            user,
            item,
            rating: 0.0,
            unix_time: 0,
            split: Split::Test,
            tokens: Vec::new(),
        }
    }
}

/// What to add to a dataset.
#[derive(Debug, Clone, Default)]
pub struct Extension {
    /// Users after the extension (≥ the dataset's): ids `n_users..users` are new.
    pub users: usize,
    /// Items after the extension (≥ the dataset's).
    pub items: usize,
    /// Metadata tokens of new items (an item not listed has no metadata).
    pub metadata: Vec<(u32, Vec<u32>)>,
    /// Image features of new items (an item not listed has no image).
    pub images: Vec<(u32, Vec<f32>)>,
    /// Rows of the dataset left out (a review superseded by a newer one of the same pair).
    pub removed_rows: Vec<usize>,
    /// Rows added.
    pub rows: Vec<NewRow>,
}

impl Dataset {
    /// The dataset with `ext` added. Returns it and, for each of `ext.rows` in order, its row
    /// index in the new dataset.
    pub fn extend(&self, ext: &Extension) -> Result<(Dataset, Vec<usize>)> {
        let (n_users, n_items) = (ext.users.max(self.n_users), ext.items.max(self.n_items));
        let invalid = |m: String| Err(ModelError::Invalid(m));
        for r in &ext.rows {
            if r.user as usize >= n_users || r.item as usize >= n_items {
                return invalid(format!(
                    "new row (user {}, item {}) is outside {n_users} users × {n_items} items",
                    r.user, r.item
                ));
            }
            if let Some(&t) = r.tokens.iter().find(|&&t| t as usize >= self.vocab_size) {
                return invalid(format!(
                    "token id {t} ≥ vocabulary size {}",
                    self.vocab_size
                ));
            }
        }
        for (o, tokens) in &ext.metadata {
            if (*o as usize) < self.n_items || *o as usize >= n_items {
                return invalid(format!("metadata for item {o}, which is not a new item"));
            }
            if tokens.iter().any(|&t| t as usize >= self.vocab_size) {
                return invalid(format!("item {o}: token id ≥ vocabulary size"));
            }
        }
        for (o, f) in &ext.images {
            if (*o as usize) < self.n_items || *o as usize >= n_items {
                return invalid(format!("image for item {o}, which is not a new item"));
            }
            if f.len() != self.image_dim {
                return invalid(format!(
                    "item {o}: {}-d image feature, the dataset's are {}-d",
                    f.len(),
                    self.image_dim
                ));
            }
        }

        // The order of the rows: the kept old rows as they are, with the new training rows
        // merged in by (user, time, item), then the query rows.
        enum Source {
            Old(usize),
            New(usize),
        }
        let mut removed = vec![false; self.len()];
        for &r in &ext.removed_rows {
            if r < removed.len() {
                removed[r] = true;
            }
        }
        let key_old = |r: usize| (self.user_id[r], self.unix_time[r], self.item_id[r]);
        let mut train_new: Vec<usize> = (0..ext.rows.len())
            .filter(|&k| ext.rows[k].split == Split::Train)
            .collect();
        let key_new = |k: usize| (ext.rows[k].user, ext.rows[k].unix_time, ext.rows[k].item);
        train_new.sort_by_key(|&k| key_new(k));
        let mut order = Vec::with_capacity(self.len() + ext.rows.len());
        let mut pending = train_new.iter().peekable();
        for r in (0..self.len()).filter(|&r| !removed[r]) {
            while let Some(&&k) = pending.peek() {
                if key_new(k) < key_old(r) {
                    order.push(Source::New(k));
                    pending.next();
                } else {
                    break;
                }
            }
            order.push(Source::Old(r));
        }
        order.extend(pending.map(|&k| Source::New(k)));
        order.extend(
            (0..ext.rows.len())
                .filter(|&k| ext.rows[k].split != Split::Train)
                .map(Source::New),
        );

        let n = order.len();
        let mut user_id = Vec::with_capacity(n);
        let mut item_id = Vec::with_capacity(n);
        let mut rating = Vec::with_capacity(n);
        let mut unix_time = Vec::with_capacity(n);
        let mut split = Vec::with_capacity(n);
        let mut review_offsets = Vec::with_capacity(n + 1);
        let mut review_tokens = Vec::with_capacity(self.review_tokens.len());
        review_offsets.push(0);
        let mut position = vec![0usize; ext.rows.len()];
        for (at, source) in order.iter().enumerate() {
            match *source {
                Source::Old(r) => {
                    user_id.push(self.user_id[r]);
                    item_id.push(self.item_id[r]);
                    rating.push(self.rating[r]);
                    unix_time.push(self.unix_time[r]);
                    split.push(self.split[r]);
                    review_tokens.extend_from_slice(self.review(r));
                }
                Source::New(k) => {
                    let row = &ext.rows[k];
                    user_id.push(row.user);
                    item_id.push(row.item);
                    rating.push(row.rating);
                    unix_time.push(row.unix_time);
                    split.push(row.split);
                    review_tokens.extend_from_slice(&row.tokens);
                    position[k] = at;
                }
            }
            review_offsets.push(review_tokens.len());
        }

        let mut meta_offsets = self.meta_offsets.clone();
        let mut meta_tokens = self.meta_tokens.clone();
        let mut new_meta: Vec<&[u32]> = vec![&[]; n_items - self.n_items];
        for (o, tokens) in &ext.metadata {
            new_meta[*o as usize - self.n_items] = tokens;
        }
        for tokens in new_meta {
            meta_tokens.extend_from_slice(tokens);
            meta_offsets.push(meta_tokens.len());
        }

        let mut image_row = self.image_row.clone();
        image_row.resize(n_items, None);
        let mut image_features = self.image_features.clone();
        for (o, f) in &ext.images {
            image_row[*o as usize] = Some((image_features.len() / self.image_dim.max(1)) as u32);
            image_features.extend_from_slice(f);
        }

        let histories = Histories::index(
            &user_id,
            &item_id,
            &unix_time,
            &split,
            (n_users, n_items),
            self.order,
        );
        let ds = Dataset {
            root: self.root.clone(),
            n_users,
            n_items,
            vocab_size: self.vocab_size,
            user_id,
            item_id,
            rating,
            unix_time,
            split,
            review_offsets,
            review_tokens,
            meta_offsets,
            meta_tokens,
            image_dim: self.image_dim,
            image_row,
            image_features,
            histories,
            order: self.order,
        };
        Ok((ds, position))
    }
}

#[cfg(test)]
mod tests {
    use super::super::dataset::tiny_dataset;
    use super::*;
    use crate::config::DataConfig;

    #[test]
    fn new_reviews_enter_histories_and_queries_do_not() {
        let ds = tiny_dataset();
        let docs = DataConfig::default();
        let ext = Extension {
            users: 3,
            items: 3,
            metadata: vec![(2, vec![3, 3])],
            images: vec![(2, vec![0.5, 0.5])],
            removed_rows: vec![],
            rows: vec![
                // A query of user 0 on item 1: the same documents as the valid row 2.
                NewRow {
                    user: 0,
                    item: 1,
                    rating: 0.0,
                    unix_time: 0,
                    split: Split::Test,
                    tokens: vec![],
                },
                // A new user's review of the new item, then a query of that user.
                NewRow {
                    user: 2,
                    item: 2,
                    rating: 4.0,
                    unix_time: 7,
                    split: Split::Train,
                    tokens: vec![11, 10],
                },
                NewRow {
                    user: 2,
                    item: 0,
                    rating: 0.0,
                    unix_time: 0,
                    split: Split::Test,
                    tokens: vec![],
                },
            ],
        };
        let (big, rows) = ds.extend(&ext).unwrap();
        assert_eq!(big.len(), 7);
        let (mut a, mut b) = (Vec::new(), Vec::new());
        for m in lrmm_core::Modality::TEXT {
            ds.document(m, 2, &docs, &mut a);
            big.document(m, rows[0], &docs, &mut b);
            assert_eq!(a, b, "{m:?}");
        }
        big.user_document(rows[2], &docs, &mut b);
        assert_eq!(b, vec![11, 10]);
        assert_eq!(big.metadata(2), &[3, 3]);
        assert_eq!(big.image(2), Some(&[0.5, 0.5][..]));
        assert_eq!(big.image(0), ds.image(0));
        assert!(big
            .histories()
            .user(2)
            .iter()
            .all(|&r| r as usize == rows[1]));
        assert!(ds
            .extend(&Extension {
                users: 1,
                items: 1,
                rows: vec![NewRow {
                    user: 5,
                    ..ext.rows[0].clone()
                }],
                ..Extension::default()
            })
            .is_err());
    }
}
