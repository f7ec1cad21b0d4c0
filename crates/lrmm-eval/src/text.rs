//! The token-id documents the content baseline reads (`baselines::TfIdfRidge`): each item's
//! metadata document (`item_tokens.parquet`) and each interaction row's review
//! (`review_tokens.parquet`), both written by the vocabulary stage. Only the rows of split
//! `train` are ever used as text; which rows those are is the baseline's business, this module
//! only reads and cross-checks the files.

use std::path::Path;

use lrmm_core::parquet::u32_values;
use lrmm_core::schema::{ITEM_TOKENS, REVIEW_TOKENS};
use lrmm_core::ArtifactDir;
use polars::prelude::*;

use crate::data::{DataError, Ratings};

/// Token ids of every item's metadata and every interaction row's review.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ItemTexts {
    /// `meta[i]`: the metadata document of item id i (empty: no metadata, or an item absent
    /// from `item_tokens.parquet`).
    pub meta: Vec<Vec<u32>>,
    /// `reviews[r]`: the review of row r of `interactions.parquet`.
    pub reviews: Vec<Vec<u32>>,
}

impl ItemTexts {
    /// Reads `item_tokens.parquet` and `review_tokens.parquet` of `dir`, checking that the
    /// reviews are row-aligned with `ratings` (same length, same user and item per row).
    pub fn read(dir: &ArtifactDir, ratings: &Ratings) -> Result<Self, DataError> {
        let rpath = dir.review_tokens();
        let reviews_df = lrmm_core::parquet::read_checked(&rpath, REVIEW_TOKENS)?;
        if reviews_df.height() != ratings.len() {
            return Err(invalid(
                &rpath,
                format!(
                    "{} rows, but interactions.parquet has {}; rerun the vocabulary stage",
                    reviews_df.height(),
                    ratings.len()
                ),
            ));
        }
        let users = u32_values(&reviews_df, &rpath, "user_id")?;
        let items = u32_values(&reviews_df, &rpath, "item_id")?;
        if let Some(r) =
            (0..ratings.len()).find(|&r| users[r] != ratings.user[r] || items[r] != ratings.item[r])
        {
            return Err(invalid(
                &rpath,
                format!(
                    "row {r} is (user {}, item {}) but interactions row {r} is (user {}, item {}); \
                     the files are not row-aligned (rerun the vocabulary stage)",
                    users[r], items[r], ratings.user[r], ratings.item[r]
                ),
            ));
        }
        let reviews = token_lists(&reviews_df, &rpath)?;

        let mpath = dir.item_tokens();
        let items_df = lrmm_core::parquet::read_checked(&mpath, ITEM_TOKENS)?;
        let ids = u32_values(&items_df, &mpath, "item_id")?;
        let lists = token_lists(&items_df, &mpath)?;
        let n_items = ratings
            .item
            .iter()
            .chain(&ids)
            .map(|&i| i as usize + 1)
            .max()
            .unwrap_or(0);
        let mut meta = vec![Vec::new(); n_items];
        let mut seen = vec![false; n_items];
        for (id, tokens) in ids.into_iter().zip(lists) {
            let slot = id as usize;
            if std::mem::replace(&mut seen[slot], true) {
                return Err(invalid(&mpath, format!("item {id} appears twice")));
            }
            meta[slot] = tokens;
        }
        Ok(Self { meta, reviews })
    }

    /// The metadata document of `item` (empty when it has none).
    pub fn metadata(&self, item: u32) -> &[u32] {
        self.meta.get(item as usize).map_or(&[], Vec::as_slice)
    }
}

/// A `tokens` column (list<u32>) holding `docs`, as the vocabulary stage writes it (for test
/// fixtures of the token artifacts).
pub fn tokens_column(docs: &[Vec<u32>]) -> Column {
    let mut builder = ListPrimitiveChunkedBuilder::<UInt32Type>::new(
        "tokens".into(),
        docs.len(),
        docs.iter().map(Vec::len).sum(),
        DataType::UInt32,
    );
    for d in docs {
        builder.append_slice(d);
    }
    builder.finish().into_series().into_column()
}

fn invalid(path: &Path, message: String) -> DataError {
    DataError::Artifact(lrmm_core::Error::invalid(path, message))
}

/// The `tokens` column (list<u32>) as one vector per row; a null list is an empty document.
fn token_lists(df: &DataFrame, path: &Path) -> Result<Vec<Vec<u32>>, DataError> {
    let polars = |e: PolarsError| invalid(path, e.to_string());
    let lists = df.column("tokens").and_then(|c| c.list()).map_err(polars)?;
    let mut out = Vec::with_capacity(lists.len());
    for (row, series) in lists.series_iter().enumerate() {
        let mut ids = Vec::new();
        if let Some(series) = series {
            for id in series.u32().map_err(polars)?.iter() {
                ids.push(id.ok_or_else(|| invalid(path, format!("row {row}: null token id")))?);
            }
        }
        out.push(ids);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use lrmm_core::Split;

    fn write(dir: &ArtifactDir, review_users: Vec<u32>, meta_items: Vec<u32>) {
        let n = review_users.len();
        let lists = |rows: Vec<Vec<u32>>| tokens_column(&rows);
        let mut reviews = DataFrame::new_infer_height(vec![
            Column::new("user_id".into(), review_users),
            Column::new("item_id".into(), vec![0u32; n]),
            Column::new("split".into(), vec!["train"; n]),
            lists((0..n as u32).map(|r| vec![r + 2, 7]).collect()),
        ])
        .unwrap();
        lrmm_core::parquet::write_atomic(&dir.review_tokens(), &mut reviews).unwrap();
        let m = meta_items.len();
        let mut items = DataFrame::new_infer_height(vec![
            Column::new("item_id".into(), meta_items),
            lists((0..m as u32).map(|i| vec![10 + i]).collect()),
        ])
        .unwrap();
        lrmm_core::parquet::write_atomic(&dir.item_tokens(), &mut items).unwrap();
    }

    fn ratings() -> Ratings {
        let mut r = Ratings::default();
        r.push(0, 0, 5.0, Split::Train);
        r.push(1, 0, 3.0, Split::Test);
        r
    }

    #[test]
    fn reads_reviews_by_row_and_metadata_by_item() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = ArtifactDir::new(tmp.path());
        write(&dir, vec![0, 1], vec![2, 0]);
        let t = ItemTexts::read(&dir, &ratings()).unwrap();
        assert_eq!(t.reviews, vec![vec![2, 7], vec![3, 7]]);
        assert_eq!(t.metadata(0), [11]);
        assert_eq!(t.metadata(2), [10]);
        assert!(t.metadata(1).is_empty() && t.metadata(99).is_empty());
    }

    #[test]
    fn misaligned_or_missing_files_are_named() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = ArtifactDir::new(tmp.path());
        let err = ItemTexts::read(&dir, &ratings()).unwrap_err().to_string();
        assert!(err.contains("review_tokens.parquet"), "{err}");
        write(&dir, vec![0, 2], vec![0]);
        let err = ItemTexts::read(&dir, &ratings()).unwrap_err().to_string();
        assert!(
            err.contains("review_tokens.parquet")
                && err.contains("row 1")
                && err.contains("row-aligned"),
            "{err}"
        );
        write(&dir, vec![0, 1], vec![0, 0]);
        let err = ItemTexts::read(&dir, &ratings()).unwrap_err().to_string();
        assert!(
            err.contains("item_tokens.parquet") && err.contains("twice"),
            "{err}"
        );
    }
}
