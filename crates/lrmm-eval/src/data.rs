//! The rating table the evaluation works on, and the test subsets of the paper's settings.

use std::path::{Path, PathBuf};

use lrmm_core::interactions::Interactions;
use lrmm_core::Split;

/// Errors reading a rating table; each names the file and, for text input, the line.
#[derive(Debug, thiserror::Error)]
pub enum DataError {
    #[error(transparent)]
    Artifact(#[from] lrmm_core::Error),
    #[error("{path}:{line}: {message}")]
    Line {
        path: PathBuf,
        line: usize,
        message: String,
    },
}

/// One row per (user, item) rating, in the row order of its source file. Row indices into this
/// table are the row indices of `interactions.parquet`.
#[derive(Debug, Clone, Default)]
pub struct Ratings {
    pub user: Vec<u32>,
    pub item: Vec<u32>,
    pub rating: Vec<f32>,
    pub split: Vec<Split>,
}

impl Ratings {
    pub fn len(&self) -> usize {
        self.rating.len()
    }

    pub fn is_empty(&self) -> bool {
        self.rating.is_empty()
    }

    pub fn push(&mut self, user: u32, item: u32, rating: f32, split: Split) {
        self.user.push(user);
        self.item.push(item);
        self.rating.push(rating);
        self.split.push(split);
    }

    /// Reads `interactions.parquet` through `lrmm_core::interactions`, its one reader (schema,
    /// finite ratings and split names checked there).
    pub fn from_parquet(path: &Path) -> Result<Self, DataError> {
        let table = Interactions::read(path)?;
        Ok(Ratings {
            user: table.user_id,
            item: table.item_id,
            rating: table.rating,
            split: table.split,
        })
    }

    /// Reads a `user,item,rating,split` CSV with integer ids (the committed Surprise fixture).
    pub fn from_csv(path: &Path) -> Result<Self, DataError> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| DataError::Artifact(lrmm_core::Error::io(path, e)))?;
        let mut lines = text.lines().enumerate();
        match lines.next() {
            Some((_, "user,item,rating,split")) => {}
            other => {
                return Err(DataError::Line {
                    path: path.to_path_buf(),
                    line: 1,
                    message: format!(
                        "expected header `user,item,rating,split`, found {:?}",
                        other.map(|(_, l)| l)
                    ),
                })
            }
        }
        let mut out = Ratings::default();
        for (index, line) in lines {
            let bad = |message: String| DataError::Line {
                path: path.to_path_buf(),
                line: index + 1,
                message,
            };
            let fields: Vec<&str> = line.split(',').collect();
            let [user, item, rating, split] = fields[..] else {
                return Err(bad(format!("expected 4 fields, found {}", fields.len())));
            };
            let user = user
                .parse()
                .map_err(|_| bad(format!("bad user id `{user}`")))?;
            let item = item
                .parse()
                .map_err(|_| bad(format!("bad item id `{item}`")))?;
            let rating: f32 = rating
                .parse()
                .map_err(|_| bad(format!("bad rating `{rating}`")))?;
            if !rating.is_finite() {
                return Err(bad(format!("rating {rating} is not finite")));
            }
            let split =
                Split::parse(split).ok_or_else(|| bad(format!("unknown split `{split}`")))?;
            out.push(user, item, rating, split);
        }
        Ok(out)
    }

    /// Row indices of one split, in row order.
    pub fn rows(&self, split: Split) -> Vec<usize> {
        (0..self.len())
            .filter(|&r| self.split[r] == split)
            .collect()
    }

    /// Whether each user and item id has at least one training rating.
    pub fn training_presence(&self) -> TrainingPresence {
        let n_users = self.user.iter().max().map_or(0, |&m| m as usize + 1);
        let n_items = self.item.iter().max().map_or(0, |&m| m as usize + 1);
        let mut presence = TrainingPresence {
            user: vec![false; n_users],
            item: vec![false; n_items],
        };
        for r in self.rows(Split::Train) {
            presence.user[self.user[r] as usize] = true;
            presence.item[self.item[r] as usize] = true;
        }
        presence
    }
}

#[derive(Debug, Clone)]
pub struct TrainingPresence {
    user: Vec<bool>,
    item: Vec<bool>,
}

impl TrainingPresence {
    pub fn knows_user(&self, user: u32) -> bool {
        self.user.get(user as usize).copied().unwrap_or(false)
    }

    pub fn knows_item(&self, item: u32) -> bool {
        self.item.get(item as usize).copied().unwrap_or(false)
    }
}

/// The test subsets of the paper's settings. A row with both a new user and a new item is in
/// both cold subsets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Subset {
    All,
    /// User and item both have training ratings.
    Warm,
    /// The item has no training rating (item cold start).
    ColdItem,
    /// The user has no training rating (user cold start).
    ColdUser,
}

impl Subset {
    pub const ALL: [Subset; 4] = [
        Subset::All,
        Subset::Warm,
        Subset::ColdItem,
        Subset::ColdUser,
    ];

    pub fn key(self) -> &'static str {
        match self {
            Subset::All => "all",
            Subset::Warm => "warm",
            Subset::ColdItem => "cold_item",
            Subset::ColdUser => "cold_user",
        }
    }

    pub fn title(self) -> &'static str {
        match self {
            Subset::All => "all",
            Subset::Warm => "warm",
            Subset::ColdItem => "cold item",
            Subset::ColdUser => "cold user",
        }
    }

    pub fn contains(self, presence: &TrainingPresence, user: u32, item: u32) -> bool {
        let (u, i) = (presence.knows_user(user), presence.knows_item(item));
        match self {
            Subset::All => true,
            Subset::Warm => u && i,
            Subset::ColdItem => !i,
            Subset::ColdUser => !u,
        }
    }
}

/// On the command line a subset is its `metrics.json` key: all, warm, cold_item, cold_user.
impl clap::ValueEnum for Subset {
    fn value_variants<'a>() -> &'a [Self] {
        &Subset::ALL
    }

    fn to_possible_value(&self) -> Option<clap::builder::PossibleValue> {
        Some(clap::builder::PossibleValue::new(self.key()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_errors_name_the_line() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("r.csv");
        std::fs::write(&path, "user,item,rating,split\n0,1,5,train\n1,2,x,test\n").unwrap();
        let err = Ratings::from_csv(&path).unwrap_err().to_string();
        assert!(
            err.contains("r.csv:3") && err.contains("bad rating `x`"),
            "{err}"
        );
        std::fs::write(&path, "user,item,rating,split\n0,1,5,holdout\n").unwrap();
        let err = Ratings::from_csv(&path).unwrap_err().to_string();
        assert!(err.contains("unknown split `holdout`"), "{err}");
    }

    #[test]
    fn subsets_follow_training_presence() {
        let mut r = Ratings::default();
        r.push(0, 0, 5.0, Split::Train);
        r.push(1, 1, 4.0, Split::Train);
        r.push(0, 1, 3.0, Split::Test); // warm
        r.push(0, 2, 3.0, Split::Test); // cold item
        r.push(2, 0, 3.0, Split::Test); // cold user
        r.push(3, 3, 3.0, Split::Valid); // cold both (valid data does not make anything warm)
        let p = r.training_presence();
        let members = |s: Subset| -> Vec<usize> {
            (0..r.len())
                .filter(|&i| r.split[i] != Split::Train && s.contains(&p, r.user[i], r.item[i]))
                .collect()
        };
        assert_eq!(members(Subset::Warm), vec![2]);
        assert_eq!(members(Subset::ColdItem), vec![3, 5]);
        assert_eq!(members(Subset::ColdUser), vec![4, 5]);
        assert_eq!(members(Subset::All).len(), 4);
    }
}
