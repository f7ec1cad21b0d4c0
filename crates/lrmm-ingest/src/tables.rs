//! The kept interactions as polars frames: dense ids, canonical row order, splits, and the
//! four Parquet artifacts.

use polars::prelude::*;

use lrmm_core::{schema, ArtifactDir, SeededRng, Split};

use crate::error::{IngestError, Result};
use crate::read::{MetaRead, ReviewTable};
use crate::split::{assign_splits, SplitFractions, SplitMode};
use crate::texts::{TextBatch, TextStore};

/// The files a run writes, moved together from the staging folder into the output folder.
pub const WRITTEN: [&str; 5] = [
    "interactions.parquet",
    "users.parquet",
    "items.parquet",
    "reviews.parquet",
    "ingest_summary.json",
];

/// Reviews are written in row groups of this many rows: only one row group's texts are in
/// memory at a time (twice: read back from the text store, and in the frame).
const REVIEW_CHUNK: usize = 131_072;

/// The kept interactions in output order.
pub struct Dataset {
    /// Row of the review table behind each output row.
    pub rows: Vec<usize>,
    pub user_id: Vec<u32>,
    pub item_id: Vec<u32>,
    pub splits: Vec<Split>,
    pub n_users: usize,
    pub n_items: usize,
    /// Review-table user index of each dense user id.
    user_source: Vec<u32>,
    /// Review-table item index of each dense item id.
    item_source: Vec<u32>,
}

pub struct MetaCounts {
    pub with_meta: usize,
    pub with_image_url: usize,
}

fn retain_unmarked<T>(values: &mut Vec<T>, drop: &[bool]) {
    let mut k = 0;
    values.retain(|_| {
        k += 1;
        !drop[k - 1]
    });
}

/// Dense ids in the sort order of the original strings, so ids do not depend on line order.
fn dense_ids(used: impl Iterator<Item = u32>, names: &[String]) -> (Vec<u32>, Vec<u32>) {
    let mut present = vec![false; names.len()];
    for i in used {
        present[i as usize] = true;
    }
    let mut source: Vec<u32> = (0..names.len() as u32)
        .filter(|&i| present[i as usize])
        .collect();
    source.sort_unstable_by(|a, b| names[*a as usize].cmp(&names[*b as usize]));
    let mut dense = vec![u32::MAX; names.len()];
    for (id, &s) in source.iter().enumerate() {
        dense[s as usize] = id as u32;
    }
    (dense, source)
}

impl Dataset {
    /// `max_train_per_item`: keep at most this many training reviews of each item that has test
    /// ratings (a seeded choice) and drop the rest, leaving valid and test untouched — the
    /// paper's Figure 4.
    pub fn build<T>(
        table: &ReviewTable<T>,
        rows: Vec<usize>,
        fractions: SplitFractions,
        mode: SplitMode,
        seed: u64,
        max_train_per_item: Option<usize>,
    ) -> Self {
        let (user_of, user_source) =
            dense_ids(rows.iter().map(|&r| table.user[r]), &table.users.names);
        let (item_of, item_source) =
            dense_ids(rows.iter().map(|&r| table.item[r]), &table.items.names);
        let mut rows = rows;
        // Canonical order: by user, then time, then item. A user's reviews are contiguous and
        // chronological, which is what assembling "the user's other reviews" needs.
        rows.sort_unstable_by_key(|&r| {
            (
                user_of[table.user[r] as usize],
                table.unix_time[r],
                item_of[table.item[r] as usize],
            )
        });
        let user_id: Vec<u32> = rows
            .iter()
            .map(|&r| user_of[table.user[r] as usize])
            .collect();
        let item_id: Vec<u32> = rows
            .iter()
            .map(|&r| item_of[table.item[r] as usize])
            .collect();
        let splits = assign_splits(&item_id, item_source.len(), fractions, mode, seed);
        let mut dataset = Self {
            rows,
            user_id,
            item_id,
            splits,
            n_users: user_source.len(),
            n_items: item_source.len(),
            user_source,
            item_source,
        };
        if let Some(cap) = max_train_per_item {
            dataset.cap_train_per_item(cap, seed);
        }
        dataset
    }

    fn cap_train_per_item(&mut self, cap: usize, seed: u64) {
        // Only items evaluated on the test split are capped: the others keep their reviews, so
        // N = 0 makes the test items cold while the model still has data to learn from.
        let mut tested = vec![false; self.n_items];
        for (k, split) in self.splits.iter().enumerate() {
            if *split == Split::Test {
                tested[self.item_id[k] as usize] = true;
            }
        }
        let mut train_rows: Vec<Vec<usize>> = vec![Vec::new(); self.n_items];
        for (k, split) in self.splits.iter().enumerate() {
            if *split == Split::Train && tested[self.item_id[k] as usize] {
                train_rows[self.item_id[k] as usize].push(k);
            }
        }
        let mut rng = SeededRng::derive(seed, "max-train-per-item");
        let mut drop = vec![false; self.rows.len()];
        for rows in &mut train_rows {
            if rows.len() > cap {
                rng.shuffle(rows);
                for &k in &rows[cap..] {
                    drop[k] = true;
                }
            }
        }
        retain_unmarked(&mut self.rows, &drop);
        retain_unmarked(&mut self.user_id, &drop);
        retain_unmarked(&mut self.item_id, &drop);
        retain_unmarked(&mut self.splits, &drop);
    }

    fn split_column(&self, range: std::ops::Range<usize>) -> Column {
        let names: Vec<&str> = self.splits[range].iter().map(|s| s.as_str()).collect();
        Column::new("split".into(), names)
    }

    pub fn write<T: TextStore>(
        &self,
        table: &ReviewTable<T>,
        meta: Option<&MetaRead>,
        out: &ArtifactDir,
    ) -> Result<MetaCounts> {
        let n = self.rows.len();
        let mut interactions = DataFrame::new(
            n,
            vec![
                Column::new("user_id".into(), &self.user_id),
                Column::new("item_id".into(), &self.item_id),
                Column::new(
                    "rating".into(),
                    self.rows
                        .iter()
                        .map(|&r| table.rating[r])
                        .collect::<Vec<f32>>(),
                ),
                Column::new(
                    "unix_time".into(),
                    self.rows
                        .iter()
                        .map(|&r| table.unix_time[r])
                        .collect::<Vec<i64>>(),
                ),
                self.split_column(0..n),
            ],
        )
        .map_err(IngestError::table("interactions"))?;

        let train_counts = |key: &str| {
            interactions
                .clone()
                .lazy()
                .filter(col("split").eq(lit(Split::Train.as_str())))
                .group_by([col(key)])
                .agg([len().alias("n_train")])
        };
        let with_train_counts = |frame: DataFrame, key: &str, table_name: &'static str| {
            frame
                .lazy()
                .join(
                    train_counts(key),
                    [col(key)],
                    [col(key)],
                    JoinArgs::new(JoinType::Left),
                )
                .with_column(col("n_train").fill_null(lit(0u32)).cast(DataType::UInt32))
                .sort([key], SortMultipleOptions::default())
                .collect()
                .map_err(IngestError::table(table_name))
        };

        let reviewer_ids: Vec<&str> = self
            .user_source
            .iter()
            .map(|&u| table.users.names[u as usize].as_str())
            .collect();
        let users = DataFrame::new(
            self.n_users,
            vec![
                Column::new(
                    "user_id".into(),
                    (0..self.n_users as u32).collect::<Vec<u32>>(),
                ),
                Column::new("reviewer_id".into(), reviewer_ids),
            ],
        )
        .map_err(IngestError::table("users"))?;
        let mut users = with_train_counts(users, "user_id", "users")?;

        let (mut items, counts) = self.items_frame(table, meta)?;
        items = with_train_counts(items, "item_id", "items")?;

        lrmm_core::parquet::check_schema(&out.interactions(), &interactions, schema::INTERACTIONS)?;
        lrmm_core::parquet::check_schema(&out.users(), &users, schema::USERS)?;
        lrmm_core::parquet::check_schema(&out.items(), &items, schema::ITEMS)?;
        lrmm_core::parquet::write_atomic(&out.interactions(), &mut interactions)?;
        lrmm_core::parquet::write_atomic(&out.users(), &mut users)?;
        lrmm_core::parquet::write_atomic(&out.items(), &mut items)?;
        self.write_reviews(table, &out.reviews())?;
        Ok(counts)
    }

    fn items_frame<T>(
        &self,
        table: &ReviewTable<T>,
        meta: Option<&MetaRead>,
    ) -> Result<(DataFrame, MetaCounts)> {
        let asins: Vec<&str> = self
            .item_source
            .iter()
            .map(|&i| table.items.names[i as usize].as_str())
            .collect();
        let items = DataFrame::new(
            self.n_items,
            vec![
                Column::new(
                    "item_id".into(),
                    (0..self.n_items as u32).collect::<Vec<u32>>(),
                ),
                Column::new("asin".into(), asins.clone()),
            ],
        )
        .map_err(IngestError::table("items"))?;

        // Metadata as its own frame, joined on asin: items without a metadata line get nulls.
        let found: Vec<&crate::meta::ItemMeta> = asins
            .iter()
            .filter_map(|a| meta.and_then(|m| m.items.get(*a)))
            .collect();
        let meta_frame = DataFrame::new(
            found.len(),
            vec![
                Column::new(
                    "asin".into(),
                    found.iter().map(|m| m.asin.as_str()).collect::<Vec<_>>(),
                ),
                Column::new(
                    "title".into(),
                    found.iter().map(|m| m.title.as_deref()).collect::<Vec<_>>(),
                ),
                Column::new(
                    "description".into(),
                    found
                        .iter()
                        .map(|m| match (&m.description, &m.features) {
                            (Some(d), Some(f)) => Some(format!("{d}\n{f}")),
                            (d, f) => d.clone().or_else(|| f.clone()),
                        })
                        .collect::<Vec<_>>(),
                ),
                Column::new(
                    "image_url".into(),
                    found
                        .iter()
                        .map(|m| m.image_url.as_deref())
                        .collect::<Vec<_>>(),
                ),
                Column::new("has_meta".into(), vec![true; found.len()]),
                Column::new(
                    "metadata_text".into(),
                    found.iter().map(|m| m.document()).collect::<Vec<_>>(),
                ),
            ],
        )
        .map_err(IngestError::table("items"))?;
        let counts = MetaCounts {
            with_meta: found.len(),
            with_image_url: found.iter().filter(|m| m.image_url.is_some()).count(),
        };
        let joined = items
            .lazy()
            .join(
                meta_frame.lazy(),
                [col("asin")],
                [col("asin")],
                JoinArgs::new(JoinType::Left),
            )
            .with_columns([
                col("has_meta").fill_null(lit(false)),
                col("metadata_text").fill_null(lit("")),
            ])
            .collect()
            .map_err(IngestError::table("items"))?;
        Ok((joined, counts))
    }

    /// `reviews.parquet`, row-aligned with `interactions.parquet`, one row group at a time.
    fn write_reviews<T: TextStore>(
        &self,
        table: &ReviewTable<T>,
        path: &std::path::Path,
    ) -> Result<()> {
        // A text store's error (a read of the spill file) has to pass through polars' batch
        // iterator as a PolarsError; the original is kept here and reported instead.
        let mut store_error: Option<IngestError> = None;
        let mut texts = TextBatch::default();
        let mut chunk = |range: std::ops::Range<usize>| -> PolarsResult<DataFrame> {
            let rows = &self.rows[range.clone()];
            let gathered = table.text.gather(rows, &mut texts).and_then(|()| {
                texts.texts().map_err(|message| IngestError::Table {
                    table: "reviews",
                    message,
                })
            });
            let text = match gathered {
                Ok(text) => text,
                Err(e) => {
                    let message = e.to_string();
                    store_error = Some(e);
                    return Err(PolarsError::ComputeError(message.into()));
                }
            };
            DataFrame::new(
                rows.len(),
                vec![
                    Column::new("user_id".into(), &self.user_id[range.clone()]),
                    Column::new("item_id".into(), &self.item_id[range.clone()]),
                    Column::new(
                        "unix_time".into(),
                        rows.iter()
                            .map(|&r| table.unix_time[r])
                            .collect::<Vec<i64>>(),
                    ),
                    self.split_column(range),
                    Column::new("text".into(), text),
                ],
            )
        };
        let n = self.rows.len();
        // zstd level 1: review text is most of the bytes, and level 1 compresses it nearly as
        // well as the default level in a fraction of the time.
        let level = polars::polars_utils::compression::ZstdLevel::try_new(1)
            .map_err(IngestError::table("reviews"))?;
        let chunks = (0..n.max(1))
            .step_by(REVIEW_CHUNK)
            .map(|start| chunk(start..n.min(start + REVIEW_CHUNK)));
        let written = lrmm_core::parquet::write_batches_atomic(
            path,
            ParquetCompression::Zstd(Some(level)),
            chunks,
        );
        match (written, store_error) {
            (Ok(()), _) => Ok(()),
            (Err(_), Some(e)) => Err(e),
            (Err(e), None) => Err(e.into()),
        }
    }
}
