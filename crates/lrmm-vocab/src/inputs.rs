//! The ingestion artifacts this stage reads, checked once so that later code can trust them.

use std::path::{Path, PathBuf};

use lrmm_core::schema::{ITEMS, REVIEWS};
use lrmm_core::{ArtifactDir, Split};
use polars::prelude::*;

use crate::error::{Result, VocabError};

/// Whose metadata documents the vocabulary is counted on. Metadata is not split, but an item
/// seen only in valid/test (item cold start) is not part of the training data either.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum MetadataScope {
    /// Items with at least one training review (the paper's "metadata on the training data").
    #[default]
    TrainItems,
    /// Every item of `items.parquet`, cold-start items included.
    AllItems,
}

impl MetadataScope {
    pub fn as_str(self) -> &'static str {
        match self {
            MetadataScope::TrainItems => "train-items",
            MetadataScope::AllItems => "all-items",
        }
    }
}

/// `reviews.parquet` and `items.parquet` of one artifact folder.
pub struct Inputs {
    pub reviews_path: PathBuf,
    pub items_path: PathBuf,
    pub reviews: DataFrame,
    pub items: DataFrame,
    /// The split of each review row.
    pub splits: Vec<Split>,
    /// Per item row: does the item have a training review?
    item_in_training: Vec<bool>,
}

impl Inputs {
    /// Reads and checks both artifacts: every column present with its type (the error names
    /// file and column), every split value known (the error names the row), and at least one
    /// training review.
    pub fn read(dir: &ArtifactDir) -> Result<Self> {
        let reviews_path = dir.reviews();
        let items_path = dir.items();
        let reviews = lrmm_core::parquet::read_checked(&reviews_path, REVIEWS)?;
        let items = lrmm_core::parquet::read_checked(&items_path, ITEMS)?;
        Self::from_frames(reviews_path, reviews, items_path, items)
    }

    /// Checks frames already in memory; the paths are only used in error messages.
    pub fn from_frames(
        reviews_path: PathBuf,
        reviews: DataFrame,
        items_path: PathBuf,
        items: DataFrame,
    ) -> Result<Self> {
        lrmm_core::parquet::check_schema(&reviews_path, &reviews, REVIEWS)?;
        lrmm_core::parquet::check_schema(&items_path, &items, ITEMS)?;
        let splits = parse_splits(&reviews_path, &reviews)?;
        if !splits.contains(&Split::Train) {
            return Err(VocabError::EmptyTrainingSplit { path: reviews_path });
        }
        let training_items: PlHashSet<u32> = u32_column(&reviews_path, &reviews, "item_id")?
            .into_iter()
            .zip(&splits)
            .filter(|(_, split)| **split == Split::Train)
            .filter_map(|(item, _)| item)
            .collect();
        let item_in_training = u32_column(&items_path, &items, "item_id")?
            .into_iter()
            .map(|item| item.is_some_and(|i| training_items.contains(&i)))
            .collect();
        Ok(Self {
            reviews_path,
            items_path,
            reviews,
            items,
            splits,
            item_in_training,
        })
    }

    /// Review texts in row order (a null text is an empty review).
    pub fn review_texts(&self) -> Vec<&str> {
        str_values(&self.reviews, "text")
    }

    /// Metadata documents in item row order ("" for an item without metadata).
    pub fn metadata_texts(&self) -> Vec<&str> {
        str_values(&self.items, "metadata_text")
    }

    /// The text the vocabulary is counted on: training reviews, then the metadata documents
    /// of the items in `scope`.
    pub fn training_texts(&self, scope: MetadataScope) -> Vec<&str> {
        let reviews = self
            .review_texts()
            .into_iter()
            .zip(&self.splits)
            .filter(|(_, split)| **split == Split::Train)
            .map(|(text, _)| text);
        let metadata = self.scoped_metadata(scope);
        reviews.chain(metadata).collect()
    }

    pub fn training_review_count(&self) -> usize {
        self.splits.iter().filter(|s| **s == Split::Train).count()
    }

    /// Non-empty metadata documents the vocabulary is counted on.
    pub fn training_metadata_count(&self, scope: MetadataScope) -> usize {
        self.scoped_metadata(scope).count()
    }

    fn scoped_metadata(&self, scope: MetadataScope) -> impl Iterator<Item = &str> {
        self.metadata_texts()
            .into_iter()
            .zip(&self.item_in_training)
            .filter(move |(text, in_training)| {
                !text.is_empty() && (scope == MetadataScope::AllItems || **in_training)
            })
            .map(|(text, _)| text)
    }

    /// `review_tokens.parquet`: user_id, item_id, split of `reviews.parquet`, and `tokens`.
    pub fn review_frame_with_tokens(&self, tokens: ListChunked) -> Result<DataFrame> {
        let on_error = frame_error(&self.reviews_path);
        let column = |name: &str| self.reviews.column(name).cloned().map_err(&on_error);
        DataFrame::new(
            self.reviews.height(),
            vec![
                column("user_id")?,
                column("item_id")?,
                column("split")?,
                tokens.into_series().into_column(),
            ],
        )
        .map_err(&on_error)
    }

    /// `item_tokens.parquet`: item_id of `items.parquet`, and `tokens`.
    pub fn item_frame_with_tokens(&self, tokens: ListChunked) -> Result<DataFrame> {
        let on_error = frame_error(&self.items_path);
        let item_id = self.items.column("item_id").cloned().map_err(&on_error)?;
        DataFrame::new(
            self.items.height(),
            vec![item_id, tokens.into_series().into_column()],
        )
        .map_err(&on_error)
    }
}

fn frame_error(path: &Path) -> impl Fn(PolarsError) -> VocabError + '_ {
    move |e| VocabError::Frame {
        path: path.to_path_buf(),
        message: e.to_string(),
    }
}

/// Values of a string column whose type `check_schema` has already checked.
fn str_values<'a>(df: &'a DataFrame, name: &str) -> Vec<&'a str> {
    let column = df
        .column(name)
        .and_then(Column::str)
        .unwrap_or_else(|e| panic!("column `{name}` was checked to be a string column: {e}"));
    column.iter().map(|t| t.unwrap_or("")).collect()
}

fn u32_column(path: &Path, df: &DataFrame, name: &str) -> Result<Vec<Option<u32>>> {
    let column = df
        .column(name)
        .and_then(Column::u32)
        .map_err(|e| VocabError::BadColumn {
            path: path.to_path_buf(),
            column: name.to_owned(),
            message: e.to_string(),
        })?;
    Ok(column.iter().collect())
}

fn parse_splits(path: &Path, reviews: &DataFrame) -> Result<Vec<Split>> {
    str_values(reviews, "split")
        .into_iter()
        .enumerate()
        .map(|(row, value)| {
            Split::parse(value).ok_or_else(|| VocabError::BadSplit {
                path: path.to_path_buf(),
                row,
                value: value.to_owned(),
            })
        })
        .collect()
}
