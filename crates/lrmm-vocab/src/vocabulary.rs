//! Counting words and choosing the vocabulary.
//!
//! Ids are a pure function of the word counts: `[PAD]` = 0, `[UNK]` = 1, then every word with
//! count ≥ `min_freq` by descending count, ties broken by the word's bytes ascending, cut to
//! `max_size` entries in all. No hash-map order and no thread schedule can change them.

use polars::prelude::PlHashMap;
use rayon::prelude::*;
use tokenizers::models::wordlevel::WordLevel;
use tokenizers::Tokenizer;

use crate::error::{Result, VocabError};
use crate::text::{self, WordSplitter};

pub const PAD: &str = "[PAD]";
pub const UNK: &str = "[UNK]";
pub const PAD_ID: u32 = 0;
pub const UNK_ID: u32 = 1;
/// Ids taken by `[PAD]` and `[UNK]` before the first word.
pub const SPECIAL_TOKENS: usize = 2;

/// Texts per rayon task: big enough that the per-task hash map amortises, small enough to
/// balance across cores.
const COUNT_CHUNK: usize = 2048;

/// How often each word occurs in a corpus.
#[derive(Debug, Default, Clone)]
pub struct WordCounts {
    counts: PlHashMap<String, u64>,
}

impl WordCounts {
    /// Counts the words of `texts` on every core; `on_progress` gets the number of texts done.
    pub fn count(
        splitter: &WordSplitter,
        texts: &[&str],
        on_progress: &(dyn Fn(usize) + Sync),
    ) -> Result<Self> {
        texts
            .par_chunks(COUNT_CHUNK)
            .map(|chunk| {
                let mut counts = WordCounts::default();
                for text in chunk {
                    splitter.for_each_word(text, |word| counts.add(word, 1))?;
                }
                on_progress(chunk.len());
                Ok(counts)
            })
            .try_reduce(WordCounts::default, |a, b| Ok(a.merge(b)))
    }

    pub fn add(&mut self, word: &str, n: u64) {
        match self.counts.get_mut(word) {
            Some(count) => *count += n,
            None => {
                self.counts.insert(word.to_owned(), n);
            }
        }
    }

    fn merge(self, other: Self) -> Self {
        let (mut big, small) = if self.counts.len() >= other.counts.len() {
            (self, other)
        } else {
            (other, self)
        };
        for (word, n) in small.counts {
            *big.counts.entry(word).or_insert(0) += n;
        }
        big
    }

    pub fn get(&self, word: &str) -> u64 {
        self.counts.get(word).copied().unwrap_or(0)
    }

    /// Number of distinct words.
    pub fn distinct(&self) -> usize {
        self.counts.len()
    }

    /// Number of word occurrences.
    pub fn total(&self) -> u64 {
        self.counts.values().sum()
    }

    pub fn iter(&self) -> impl Iterator<Item = (&str, u64)> {
        self.counts.iter().map(|(w, &n)| (w.as_str(), n))
    }
}

/// Which words make the vocabulary.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct VocabRule {
    /// A word enters when it occurs at least this often in the training text (paper: 20).
    pub min_freq: u64,
    /// Largest vocabulary, `[PAD]` and `[UNK]` included; the most frequent words are kept.
    pub max_size: Option<usize>,
}

impl Default for VocabRule {
    fn default() -> Self {
        Self {
            min_freq: 20,
            max_size: None,
        }
    }
}

impl VocabRule {
    pub fn validate(&self) -> Result<()> {
        if self.min_freq == 0 {
            return Err(VocabError::InvalidOption(
                "--min-freq must be at least 1".into(),
            ));
        }
        if let Some(max) = self.max_size {
            if max <= SPECIAL_TOKENS {
                return Err(VocabError::InvalidOption(format!(
                    "--max-size {max} leaves no room for words next to [PAD] and [UNK]; it must be at least {}",
                    SPECIAL_TOKENS + 1
                )));
            }
        }
        Ok(())
    }
}

/// The chosen words, in id order (the word at index i has id i + 2), with their counts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Vocabulary {
    words: Vec<(String, u64)>,
    /// Words that passed `min_freq`, before `max_size` cut them.
    words_at_min_freq: usize,
}

impl Vocabulary {
    pub fn from_counts(counts: &WordCounts, rule: VocabRule) -> Result<Self> {
        rule.validate()?;
        let mut words: Vec<(String, u64)> = counts
            .iter()
            .filter(|&(_, n)| n >= rule.min_freq)
            .map(|(w, n)| (w.to_owned(), n))
            .collect();
        if words.is_empty() {
            return Err(VocabError::NoWordAboveMinFreq {
                min_freq: rule.min_freq,
                distinct: counts.distinct(),
            });
        }
        words.par_sort_unstable_by(|(wa, na), (wb, nb)| nb.cmp(na).then_with(|| wa.cmp(wb)));
        let words_at_min_freq = words.len();
        if let Some(max) = rule.max_size {
            words.truncate(max - SPECIAL_TOKENS);
        }
        Ok(Self {
            words,
            words_at_min_freq,
        })
    }

    /// Vocabulary size, `[PAD]` and `[UNK]` included.
    pub fn len(&self) -> usize {
        self.words.len() + SPECIAL_TOKENS
    }

    pub fn is_empty(&self) -> bool {
        false
    }

    pub fn words_at_min_freq(&self) -> usize {
        self.words_at_min_freq
    }

    /// `(word, count)` in id order, from id 2.
    pub fn words(&self) -> &[(String, u64)] {
        &self.words
    }

    /// Occurrences in the training text of words that are in the vocabulary.
    pub fn covered_occurrences(&self) -> u64 {
        self.words.iter().map(|(_, n)| n).sum()
    }

    /// The full tokenizer: this crate's normalizer and pre-tokenizer and a `WordLevel` model.
    pub fn to_tokenizer(&self) -> Result<Tokenizer> {
        let specials = [PAD, UNK].into_iter().map(str::to_owned);
        let vocab = specials
            .chain(self.words.iter().map(|(w, _)| w.clone()))
            .zip(0u32..)
            .collect();
        let model = WordLevel::builder()
            .vocab(vocab)
            .unk_token(UNK.to_owned())
            .build()
            .map_err(VocabError::tokenizer)?;
        let mut tokenizer = Tokenizer::new(model);
        tokenizer
            .with_normalizer(Some(text::normalizer()?))
            .with_pre_tokenizer(Some(text::pre_tokenizer()));
        Ok(tokenizer)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn counts(pairs: &[(&str, u64)]) -> WordCounts {
        let mut c = WordCounts::default();
        for &(w, n) in pairs {
            c.add(w, n);
        }
        c
    }

    #[test]
    fn ids_by_descending_count_then_word() {
        let c = counts(&[("b", 5), ("a", 5), ("c", 9), ("d", 4), ("e", 1)]);
        let v = Vocabulary::from_counts(
            &c,
            VocabRule {
                min_freq: 4,
                max_size: None,
            },
        )
        .unwrap();
        let words: Vec<&str> = v.words().iter().map(|(w, _)| w.as_str()).collect();
        assert_eq!(words, ["c", "a", "b", "d"]);
        assert_eq!(v.len(), 6);
        let tokenizer = v.to_tokenizer().unwrap();
        assert_eq!(tokenizer.token_to_id(PAD), Some(PAD_ID));
        assert_eq!(tokenizer.token_to_id(UNK), Some(UNK_ID));
        assert_eq!(tokenizer.token_to_id("c"), Some(2));
        assert_eq!(tokenizer.token_to_id("d"), Some(5));
        assert_eq!(tokenizer.token_to_id("e"), None);
    }

    #[test]
    fn max_size_counts_the_special_tokens() {
        let c = counts(&[("a", 3), ("b", 2), ("c", 1)]);
        let rule = VocabRule {
            min_freq: 1,
            max_size: Some(4),
        };
        let v = Vocabulary::from_counts(&c, rule).unwrap();
        assert_eq!(v.len(), 4);
        assert_eq!(v.words_at_min_freq(), 3);
        assert_eq!(v.words()[1].0, "b");
        let too_small = VocabRule {
            min_freq: 1,
            max_size: Some(2),
        };
        assert!(Vocabulary::from_counts(&c, too_small).is_err());
    }

    #[test]
    fn no_word_above_min_freq_is_an_error() {
        let err = Vocabulary::from_counts(&counts(&[("a", 3)]), VocabRule::default()).unwrap_err();
        assert!(
            matches!(err, VocabError::NoWordAboveMinFreq { .. }),
            "{err}"
        );
    }

    #[test]
    fn parallel_count_equals_sequential_count() {
        let splitter = WordSplitter::new().unwrap();
        let texts: Vec<String> = (0..10_000)
            .map(|i| format!("Word{} and word{} &amp; <b>x</b>", i % 97, i % 13))
            .collect();
        let refs: Vec<&str> = texts.iter().map(String::as_str).collect();
        let parallel = WordCounts::count(&splitter, &refs, &|_| {}).unwrap();
        let mut sequential = WordCounts::default();
        for t in &refs {
            for w in splitter.words(t).unwrap() {
                sequential.add(&w, 1);
            }
        }
        assert_eq!(parallel.distinct(), sequential.distinct());
        for (w, n) in sequential.iter() {
            assert_eq!(parallel.get(w), n, "{w}");
        }
        assert_eq!(parallel.get("and"), 10_000);
        assert_eq!(parallel.get("x"), 10_000);
        assert_eq!(parallel.get("amp"), 0);
    }
}
