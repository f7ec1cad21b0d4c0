//! Turning documents into token ids, on every core, into a Parquet `list<u32>` column.
//!
//! [`Encoder`] runs the tokenizer's own normalizer, pre-tokenizer and `WordLevel` vocabulary
//! (with the ASCII path of [`WordSplitter`]), but skips the per-token strings, offsets and masks
//! that `Tokenizer::encode` builds and this stage throws away. Tests check that its ids equal
//! `Tokenizer::encode`'s and Python `tokenizers`', word for word.

use polars::prelude::*;
use rayon::prelude::*;
use tokenizers::{Model, Tokenizer};

use crate::error::{Result, VocabError};
use crate::text::WordSplitter;
use crate::vocabulary::UNK_ID;

/// Documents per rayon task.
const ENCODE_CHUNK: usize = 512;
/// Documents held as `Vec<Vec<u32>>` before they are appended to the Arrow column, which bounds
/// the transient memory on large inputs.
const ENCODE_BLOCK: usize = 1 << 16;

/// Encodes text with a tokenizer built by this crate (or loaded from its `tokenizer.json`).
pub struct Encoder<'t> {
    tokenizer: &'t Tokenizer,
    splitter: WordSplitter,
}

impl<'t> Encoder<'t> {
    pub fn new(tokenizer: &'t Tokenizer) -> Result<Self> {
        let normalizer = tokenizer.get_normalizer().cloned().ok_or_else(|| {
            VocabError::Tokenizer("tokenizer has no normalizer; not an lrmm tokenizer".into())
        })?;
        let pre_tokenizer = tokenizer.get_pre_tokenizer().cloned().ok_or_else(|| {
            VocabError::Tokenizer("tokenizer has no pre-tokenizer; not an lrmm tokenizer".into())
        })?;
        Ok(Self {
            tokenizer,
            splitter: WordSplitter::from_parts(normalizer, pre_tokenizer)?,
        })
    }

    /// The same encoder with every text through the `tokenizers` normalizer and pre-tokenizer
    /// (no ASCII path); for the benchmark.
    pub fn tokenizers_path_only(mut self) -> Self {
        self.splitter = self.splitter.tokenizers_path_only();
        self
    }

    /// The ids of `text`; a word outside the vocabulary is `[UNK]`.
    pub fn encode(&self, text: &str) -> Result<Vec<u32>> {
        let model = self.tokenizer.get_model();
        let mut ids = Vec::with_capacity(text.len() / 4);
        self.splitter.for_each_word(text, |word| {
            ids.push(model.token_to_id(word).unwrap_or(UNK_ID));
        })?;
        Ok(ids)
    }

    /// Encodes every text, in order, into a `list<u32>` column named `name`. `on_progress` gets
    /// the number of texts done.
    pub fn encode_column(
        &self,
        name: &str,
        texts: &[&str],
        on_progress: &(dyn Fn(usize) + Sync),
    ) -> Result<EncodedDocuments> {
        let mut builder = ListPrimitiveChunkedBuilder::<UInt32Type>::new(
            name.into(),
            texts.len(),
            texts.len() * 64,
            DataType::UInt32,
        );
        let mut lengths = Vec::with_capacity(texts.len());
        let mut unknown = Vec::with_capacity(texts.len());
        for block in texts.chunks(ENCODE_BLOCK) {
            let encoded: Vec<Vec<Vec<u32>>> = block
                .par_chunks(ENCODE_CHUNK)
                .map(|chunk| {
                    let ids = chunk
                        .iter()
                        .map(|t| self.encode(t))
                        .collect::<Result<Vec<_>>>()?;
                    on_progress(chunk.len());
                    Ok(ids)
                })
                .collect::<Result<_>>()?;
            for ids in encoded.iter().flatten() {
                builder.append_slice(ids);
                lengths.push(len_u32(ids.len()));
                unknown.push(len_u32(ids.iter().filter(|&&id| id == UNK_ID).count()));
            }
        }
        Ok(EncodedDocuments {
            column: builder.finish(),
            lengths,
            unknown,
        })
    }
}

fn len_u32(n: usize) -> u32 {
    // A document of 4 billion words does not fit in a Parquet list<u32> anyway.
    u32::try_from(n).unwrap_or(u32::MAX)
}

/// Token ids of a sequence of documents, with each document's length and `[UNK]` count.
pub struct EncodedDocuments {
    pub column: ListChunked,
    pub lengths: Vec<u32>,
    pub unknown: Vec<u32>,
}

impl EncodedDocuments {
    pub fn total_tokens(&self) -> u64 {
        self.lengths.iter().map(|&n| u64::from(n)).sum()
    }
}

/// The reference path, for tests and the benchmark: `tokenizers`' own batch encoder.
pub fn encode_batch_with_tokenizer(tokenizer: &Tokenizer, texts: &[&str]) -> Result<Vec<Vec<u32>>> {
    let encodings = tokenizer
        .encode_batch_fast(texts.to_vec(), false)
        .map_err(VocabError::tokenizer)?;
    Ok(encodings
        .into_iter()
        .map(|e| e.get_ids().to_vec())
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::vocabulary::{VocabRule, Vocabulary, WordCounts};

    #[test]
    fn encoder_matches_tokenizer_encode() {
        let texts = [
            "The guitar <i>strings</i> are great &amp; cheap!!",
            "ＧＵＩＴＡＲ strings, strings... and an unseen-word",
            "",
            "   ",
            "Ünïcödé café naïve — “quotes” 3<5",
        ];
        let splitter = WordSplitter::new().unwrap();
        let counts = WordCounts::count(&splitter, &texts, &|_| {}).unwrap();
        let rule = VocabRule {
            min_freq: 1,
            max_size: None,
        };
        let mut counts_without_unseen = WordCounts::default();
        for (w, n) in counts.iter().filter(|(w, _)| *w != "unseen") {
            counts_without_unseen.add(w, n);
        }
        let tokenizer = Vocabulary::from_counts(&counts_without_unseen, rule)
            .unwrap()
            .to_tokenizer()
            .unwrap();
        let encoder = Encoder::new(&tokenizer).unwrap();
        let reference = encode_batch_with_tokenizer(&tokenizer, &texts).unwrap();
        for (text, expected) in texts.iter().zip(&reference) {
            assert_eq!(&encoder.encode(text).unwrap(), expected, "{text:?}");
        }
        assert!(reference[1].contains(&UNK_ID));
        assert!(reference[2].is_empty());

        let encoded = encoder.encode_column("tokens", &texts, &|_| {}).unwrap();
        let column = &encoded.column;
        assert_eq!(column.len(), texts.len());
        assert_eq!(encoded.lengths[0], 7);
        assert_eq!(encoded.unknown[1], 1);
        for (i, expected) in reference.iter().enumerate() {
            let got = column.get_as_series(i).unwrap();
            let got: Vec<u32> = got.u32().unwrap().into_no_null_iter().collect();
            assert_eq!(&got, expected);
        }
    }
}
