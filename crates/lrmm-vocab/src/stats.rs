//! `vocab_stats.json`: what the vocabulary covers and how long the documents are.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// Token counts of a set of documents.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LengthStats {
    pub documents: usize,
    pub tokens: u64,
    pub mean: f64,
    /// Nearest-rank percentiles of the token count per document.
    pub p50: u32,
    pub p90: u32,
    pub p99: u32,
    pub max: u32,
}

impl LengthStats {
    pub fn of(lengths: impl IntoIterator<Item = u32>) -> Self {
        let mut sorted: Vec<u32> = lengths.into_iter().collect();
        sorted.sort_unstable();
        let tokens: u64 = sorted.iter().map(|&n| u64::from(n)).sum();
        let documents = sorted.len();
        Self {
            documents,
            tokens,
            mean: if documents == 0 {
                0.0
            } else {
                tokens as f64 / documents as f64
            },
            p50: percentile(&sorted, 50),
            p90: percentile(&sorted, 90),
            p99: percentile(&sorted, 99),
            max: sorted.last().copied().unwrap_or(0),
        }
    }
}

/// Nearest-rank percentile of sorted values: the smallest value with at least `p`% of the
/// values at or below it; 0 for no values.
fn percentile(sorted: &[u32], p: usize) -> u32 {
    if sorted.is_empty() {
        return 0;
    }
    let rank = (p * sorted.len()).div_ceil(100).max(1);
    sorted[rank - 1]
}

/// Tokens and `[UNK]`s of a set of documents.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Coverage {
    pub tokens: u64,
    pub unknown: u64,
}

impl Coverage {
    pub fn add(&mut self, tokens: u32, unknown: u32) {
        self.tokens += u64::from(tokens);
        self.unknown += u64::from(unknown);
    }

    /// Share of tokens that are not `[UNK]` (1 for no tokens: nothing was missed).
    pub fn share_known(&self) -> f64 {
        if self.tokens == 0 {
            1.0
        } else {
            1.0 - self.unknown as f64 / self.tokens as f64
        }
    }
}

/// The content of `vocab_stats.json`. Everything in it is a function of the input artifacts and
/// the options, so a rerun writes the same bytes (timings go to the log, not here).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VocabStats {
    /// The tokenizer the documents were encoded with when it was not built here
    /// (`--tokenizer`, e.g. a source category's for cross-domain evaluation); then `min_freq` is
    /// 0 and the coverage is of this dataset's training text by that vocabulary.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source_tokenizer: Option<String>,
    pub min_freq: u64,
    pub max_size: Option<usize>,
    /// Whose metadata documents were counted: "train-items" or "all-items".
    pub metadata_scope: String,
    /// Ids in use, `[PAD]` and `[UNK]` included.
    pub vocab_size: usize,
    /// Words with count ≥ min_freq before `max_size` cut the list.
    pub words_at_min_freq: usize,
    pub distinct_training_words: usize,
    /// Documents the vocabulary was counted on.
    pub training_reviews: usize,
    pub training_metadata_documents: usize,
    /// Word occurrences in those documents, and how many of them encode to `[UNK]`.
    pub training_tokens: u64,
    pub training_unknown_tokens: u64,
    /// Share of training tokens that are not `[UNK]`.
    pub coverage: f64,
    /// Share of review tokens that are not `[UNK]`, per split.
    pub review_coverage: BTreeMap<String, f64>,
    /// Every review.
    pub review_length: LengthStats,
    /// Items with a non-empty metadata document.
    pub metadata_length: LengthStats,
    pub items: usize,
    pub items_without_metadata: usize,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_rank_percentiles() {
        let s = LengthStats::of((1..=100).rev());
        assert_eq!((s.p50, s.p90, s.p99, s.max), (50, 90, 99, 100));
        assert_eq!(s.tokens, 5050);
        let s = LengthStats::of([7]);
        assert_eq!((s.p50, s.p99), (7, 7));
        let s = LengthStats::of([1, 2, 3]);
        assert_eq!((s.p50, s.p90), (2, 3));
        let empty = LengthStats::of([]);
        assert_eq!((empty.documents, empty.p50, empty.mean), (0, 0, 0.0));
    }
}
