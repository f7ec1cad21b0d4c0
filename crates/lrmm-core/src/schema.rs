//! The columns of every Parquet artifact and the tensor names of the image features.
//! `docs/artifacts.md` is the reader's version of this file; a stage reading an artifact checks it against these specs so that a stale or foreign
//! file fails with the file and column named, not deep inside a computation.

use polars::prelude::DataType;

/// The split an interaction belongs to, stored as a string column for readability in Python.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Split {
    Train,
    Valid,
    Test,
}

impl Split {
    pub const ALL: [Split; 3] = [Split::Train, Split::Valid, Split::Test];

    pub fn as_str(self) -> &'static str {
        match self {
            Split::Train => "train",
            Split::Valid => "valid",
            Split::Test => "test",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "train" => Some(Split::Train),
            "valid" => Some(Split::Valid),
            "test" => Some(Split::Test),
            _ => None,
        }
    }
}

/// Expected type of a column.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ColumnType {
    U32,
    I64,
    F32,
    Bool,
    Str,
    ListU32,
}

impl ColumnType {
    pub fn matches(self, dtype: &DataType) -> bool {
        match self {
            ColumnType::U32 => *dtype == DataType::UInt32,
            ColumnType::I64 => *dtype == DataType::Int64,
            ColumnType::F32 => *dtype == DataType::Float32,
            ColumnType::Bool => *dtype == DataType::Boolean,
            ColumnType::Str => *dtype == DataType::String,
            ColumnType::ListU32 => *dtype == DataType::List(Box::new(DataType::UInt32)),
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            ColumnType::U32 => "u32",
            ColumnType::I64 => "i64",
            ColumnType::F32 => "f32",
            ColumnType::Bool => "bool",
            ColumnType::Str => "string",
            ColumnType::ListU32 => "list<u32>",
        }
    }
}

pub type Schema = &'static [(&'static str, ColumnType)];

use ColumnType::*;

/// `interactions.parquet`: one row per kept (user, item) pair, sorted by (user_id, unix_time, item_id).
pub const INTERACTIONS: Schema = &[
    ("user_id", U32),
    ("item_id", U32),
    ("rating", F32),
    ("unix_time", I64),
    ("split", Str),
];

/// `users.parquet`: dense id → original reviewerID; `n_train` = training reviews of the user.
pub const USERS: Schema = &[("user_id", U32), ("reviewer_id", Str), ("n_train", U32)];

/// `items.parquet`: one row per item of the interactions. `title`, `description`, `image_url`
/// are null when unknown; `metadata_text` is the item's metadata document (title, description,
/// features), empty when the item has no metadata.
pub const ITEMS: Schema = &[
    ("item_id", U32),
    ("asin", Str),
    ("title", Str),
    ("description", Str),
    ("image_url", Str),
    ("has_meta", Bool),
    ("metadata_text", Str),
    ("n_train", U32),
];

/// `reviews.parquet`: row r is the review of row r of `interactions.parquet`.
pub const REVIEWS: Schema = &[
    ("user_id", U32),
    ("item_id", U32),
    ("unix_time", I64),
    ("split", Str),
    ("text", Str),
];

/// `review_tokens.parquet`: row r holds the token ids of row r of `reviews.parquet`.
pub const REVIEW_TOKENS: Schema = &[
    ("user_id", U32),
    ("item_id", U32),
    ("split", Str),
    ("tokens", ListU32),
];

/// `item_tokens.parquet`: token ids of each item's metadata document (empty list when none).
pub const ITEM_TOKENS: Schema = &[("item_id", U32), ("tokens", ListU32)];

/// `image_status.parquet`: what happened to each item's image.
pub const IMAGE_STATUS: Schema = &[("item_id", U32), ("status", Str), ("error", Str)];

/// `image_features.safetensors` (read and written by [`crate::image_features`]): the feature
/// matrix, F32 `[n, d]`, one row per item whose image is `ok`, ascending by item id.
pub const IMAGE_FEATURES_TENSOR: &str = "features";
/// `image_features.safetensors`: U32 `[n]`, the item id of each row of the feature matrix.
pub const IMAGE_ITEM_IDS_TENSOR: &str = "item_ids";
