//! The vocabulary stage of lrmm (paper section 3.1).
//!
//! Reads `reviews.parquet` and `items.parquet` from an artifact folder, counts words in the
//! training split's reviews and the metadata documents, keeps those of frequency ≥ `min_freq`
//! as a `WordLevel` vocabulary (`[PAD]` = 0, `[UNK]` = 1), and writes
//!
//! * `tokenizer.json` — loadable by Python `tokenizers.Tokenizer.from_file`, same ids;
//! * `review_tokens.parquet` — the ids of every review, row-aligned with `reviews.parquet`;
//! * `item_tokens.parquet` — the ids of every item's metadata document;
//! * `vocab_stats.json` — vocabulary size, coverage, document length percentiles.
//!
//! Valid and test reviews are encoded but never counted, so a word seen only there is `[UNK]`.

pub mod encode;
pub mod error;
pub mod inputs;
pub mod progress;
pub mod stats;
pub mod text;
pub mod vocabulary;

use std::collections::BTreeMap;
use std::io::Write;
use std::path::Path;
use std::time::Instant;

use lrmm_core::{ArtifactDir, Split};
use tokenizers::Tokenizer;

pub use encode::{EncodedDocuments, Encoder};
pub use error::{Result, VocabError};
pub use inputs::{Inputs, MetadataScope};
pub use stats::{Coverage, LengthStats, VocabStats};
pub use text::WordSplitter;
pub use vocabulary::{VocabRule, Vocabulary, WordCounts, PAD, PAD_ID, UNK, UNK_ID};

/// Everything the stage can be told.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct VocabOptions {
    pub rule: VocabRule,
    pub metadata_scope: MetadataScope,
}

/// Where one run of the stage reads and writes, and whether it draws progress bars.
#[derive(Debug, Clone, Copy)]
pub struct StageIo<'a> {
    /// Holds the inputs, `reviews.parquet` and `items.parquet`.
    pub data: &'a ArtifactDir,
    /// Receives `tokenizer.json`, `review_tokens.parquet`, `item_tokens.parquet` and
    /// `vocab_stats.json` (created if needed).
    pub out: &'a ArtifactDir,
    /// Progress bars on stderr (off with `-q`).
    pub progress: bool,
}

impl<'a> StageIo<'a> {
    /// Reads and writes `dir`, with progress bars.
    pub fn in_place(dir: &'a ArtifactDir) -> Self {
        Self {
            data: dir,
            out: dir,
            progress: true,
        }
    }
}

/// The vocabulary and the counts it was chosen from.
pub struct Built {
    pub counts: WordCounts,
    pub vocabulary: Vocabulary,
    pub tokenizer: Tokenizer,
}

/// Counts the training text of `inputs` and chooses the vocabulary.
pub fn build_vocabulary(inputs: &Inputs, options: &VocabOptions, progress: bool) -> Result<Built> {
    options.rule.validate()?;
    let texts = inputs.training_texts(options.metadata_scope);
    let splitter = WordSplitter::new()?;
    let started = Instant::now();
    let bar = progress::bar(texts.len(), "counting training words", progress);
    let counts = WordCounts::count(&splitter, &texts, &|n| bar.inc(n as u64))?;
    bar.finish_and_clear();
    let vocabulary = Vocabulary::from_counts(&counts, options.rule)?;
    tracing::info!(
        documents = texts.len(),
        distinct_words = counts.distinct(),
        vocab_size = vocabulary.len(),
        seconds = format!("{:.1}", started.elapsed().as_secs_f64()),
        "vocabulary chosen"
    );
    let tokenizer = vocabulary.to_tokenizer()?;
    Ok(Built {
        counts,
        vocabulary,
        tokenizer,
    })
}

/// Encodes `texts` with a progress bar (when `progress`) and a log line with the throughput.
pub fn encode_documents(
    encoder: &Encoder<'_>,
    what: &str,
    texts: &[&str],
    progress: bool,
) -> Result<EncodedDocuments> {
    let started = Instant::now();
    let bar = progress::bar(texts.len(), &format!("encoding {what}"), progress);
    let encoded = encoder.encode_column("tokens", texts, &|n| bar.inc(n as u64))?;
    bar.finish_and_clear();
    let seconds = started.elapsed().as_secs_f64();
    let tokens = encoded.total_tokens();
    tracing::info!(
        documents = texts.len(),
        tokens,
        seconds = format!("{seconds:.2}"),
        tokens_per_second = format!("{:.0}", tokens as f64 / seconds.max(1e-9)),
        "encoded {what}"
    );
    Ok(encoded)
}

/// Runs the stage on the artifact folder `dir`: reads the ingestion artifacts, writes the
/// vocabulary artifacts (each atomically) next to them, returns what went into
/// `vocab_stats.json`.
pub fn run(dir: &ArtifactDir, options: &VocabOptions) -> Result<VocabStats> {
    run_into(StageIo::in_place(dir), options)
}

/// Runs the stage: reads the ingestion artifacts from `io.data`, writes the vocabulary
/// artifacts (each atomically) into `io.out`, returns what went into `vocab_stats.json`.
pub fn run_into(io: StageIo<'_>, options: &VocabOptions) -> Result<VocabStats> {
    let inputs = Inputs::read(io.data)?;
    let built = build_vocabulary(&inputs, options, io.progress)?;
    let encoder = Encoder::new(&built.tokenizer)?;
    let reviews = encode_documents(&encoder, "reviews", &inputs.review_texts(), io.progress)?;
    let metadata = encode_documents(
        &encoder,
        "metadata documents",
        &inputs.metadata_texts(),
        io.progress,
    )?;
    let stats = summarize(&inputs, options, &built, &reviews, &metadata);
    let json = built
        .tokenizer
        .to_string(true)
        .map_err(VocabError::tokenizer)?;
    write_outputs(
        io.out,
        &inputs,
        format!("{json}\n").as_bytes(),
        reviews,
        metadata,
        &stats,
    )?;
    Ok(stats)
}

/// Loads an lrmm `tokenizer.json` (`[PAD]` = 0, `[UNK]` = 1), returning it and the file's
/// bytes; an unreadable file or another tokenizer is an error naming the file.
pub fn load_tokenizer(path: &Path) -> Result<(Tokenizer, Vec<u8>)> {
    let bad = |message: String| VocabError::SourceTokenizer {
        path: path.to_path_buf(),
        message,
    };
    let bytes = std::fs::read(path).map_err(|e| bad(e.to_string()))?;
    let tokenizer = Tokenizer::from_bytes(&bytes).map_err(|e| bad(e.to_string()))?;
    for (token, id) in [(PAD, PAD_ID), (UNK, UNK_ID)] {
        if tokenizer.token_to_id(token) != Some(id) {
            return Err(bad(format!(
                "{token} must have id {id}; not an lrmm tokenizer"
            )));
        }
    }
    Ok((tokenizer, bytes))
}

/// Runs the stage with an existing vocabulary instead of building one: loads the lrmm
/// `tokenizer.json` at `tokenizer_path` (e.g. another category's, for cross-domain
/// evaluation), copies it byte for byte to `dir`'s `tokenizer.json` so that downstream stages
/// see the source's ids, and encodes every review and metadata document of `dir` with it.
/// `vocab_stats.json` records the source and how much of this dataset's training text
/// (`scope`) the source vocabulary covers.
pub fn run_with_tokenizer(
    dir: &ArtifactDir,
    tokenizer_path: &Path,
    scope: MetadataScope,
) -> Result<VocabStats> {
    run_with_tokenizer_into(StageIo::in_place(dir), tokenizer_path, scope)
}

/// As [`run_with_tokenizer`], reading from `io.data` and writing into `io.out`.
pub fn run_with_tokenizer_into(
    io: StageIo<'_>,
    tokenizer_path: &Path,
    scope: MetadataScope,
) -> Result<VocabStats> {
    let (tokenizer, bytes) = load_tokenizer(tokenizer_path)?;
    let encoder = Encoder::new(&tokenizer).map_err(|e| VocabError::SourceTokenizer {
        path: tokenizer_path.to_path_buf(),
        message: e.to_string(),
    })?;
    let inputs = Inputs::read(io.data)?;
    let texts = inputs.training_texts(scope);
    let counts = WordCounts::count(&WordSplitter::new()?, &texts, &|_| {})?;
    let model = tokenizer.get_model();
    let training_unknown_tokens = counts
        .iter()
        .filter(|(word, _)| tokenizers::Model::token_to_id(model, word).is_none())
        .map(|(_, n)| n)
        .sum();
    let reviews = encode_documents(&encoder, "reviews", &inputs.review_texts(), io.progress)?;
    let metadata = encode_documents(
        &encoder,
        "metadata documents",
        &inputs.metadata_texts(),
        io.progress,
    )?;
    let vocab_size = tokenizer.get_vocab_size(false);
    let chosen = Chosen {
        source_tokenizer: Some(tokenizer_path.display().to_string()),
        rule: VocabRule {
            min_freq: 0,
            max_size: None,
        },
        scope,
        vocab_size,
        words_at_min_freq: vocab_size.saturating_sub(vocabulary::SPECIAL_TOKENS),
        counts: &counts,
        training_unknown_tokens,
    };
    let stats = chosen.summarize(&inputs, &reviews, &metadata);
    tracing::info!(
        source = %tokenizer_path.display(),
        vocab_size,
        "encoding with an existing tokenizer; no vocabulary built"
    );
    write_outputs(io.out, &inputs, &bytes, reviews, metadata, &stats)?;
    Ok(stats)
}

/// Writes the four artifacts, each atomically, `review_tokens.parquet` last.
fn write_outputs(
    dir: &ArtifactDir,
    inputs: &Inputs,
    tokenizer_json: &[u8],
    reviews: EncodedDocuments,
    metadata: EncodedDocuments,
    stats: &VocabStats,
) -> Result<()> {
    lrmm_core::atomic::write_atomic(&dir.tokenizer(), |w| w.write_all(tokenizer_json))?;
    let mut item_tokens = inputs.item_frame_with_tokens(metadata.column)?;
    lrmm_core::parquet::write_atomic(&dir.item_tokens(), &mut item_tokens)?;
    lrmm_core::atomic::write_json(&dir.vocab_stats(), stats)?;
    // Written last: the Makefile rule's target, so it is newer than the other outputs.
    let mut review_tokens = inputs.review_frame_with_tokens(reviews.column)?;
    lrmm_core::parquet::write_atomic(&dir.review_tokens(), &mut review_tokens)?;
    tracing::info!(
        vocab_size = stats.vocab_size,
        coverage = format!("{:.4}", stats.coverage),
        dir = %dir.root().display(),
        "wrote tokenizer.json, review_tokens.parquet, item_tokens.parquet, vocab_stats.json"
    );
    Ok(())
}

/// How the vocabulary was chosen, for `vocab_stats.json`.
struct Chosen<'a> {
    source_tokenizer: Option<String>,
    rule: VocabRule,
    scope: MetadataScope,
    vocab_size: usize,
    words_at_min_freq: usize,
    counts: &'a WordCounts,
    training_unknown_tokens: u64,
}

fn summarize(
    inputs: &Inputs,
    options: &VocabOptions,
    built: &Built,
    reviews: &EncodedDocuments,
    metadata: &EncodedDocuments,
) -> VocabStats {
    Chosen {
        source_tokenizer: None,
        rule: options.rule,
        scope: options.metadata_scope,
        vocab_size: built.vocabulary.len(),
        words_at_min_freq: built.vocabulary.words_at_min_freq(),
        counts: &built.counts,
        training_unknown_tokens: built.counts.total() - built.vocabulary.covered_occurrences(),
    }
    .summarize(inputs, reviews, metadata)
}

impl Chosen<'_> {
    fn summarize(
        &self,
        inputs: &Inputs,
        reviews: &EncodedDocuments,
        metadata: &EncodedDocuments,
    ) -> VocabStats {
        let training_tokens = self.counts.total();
        let training_unknown_tokens = self.training_unknown_tokens;
        let mut by_split: BTreeMap<Split, Coverage> = BTreeMap::new();
        for ((split, &len), &unk) in inputs
            .splits
            .iter()
            .zip(&reviews.lengths)
            .zip(&reviews.unknown)
        {
            by_split.entry(*split).or_default().add(len, unk);
        }
        let with_metadata: Vec<u32> = inputs
            .metadata_texts()
            .iter()
            .zip(&metadata.lengths)
            .filter(|(text, _)| !text.is_empty())
            .map(|(_, &len)| len)
            .collect();
        VocabStats {
            source_tokenizer: self.source_tokenizer.clone(),
            min_freq: self.rule.min_freq,
            max_size: self.rule.max_size,
            metadata_scope: self.scope.as_str().to_owned(),
            vocab_size: self.vocab_size,
            words_at_min_freq: self.words_at_min_freq,
            distinct_training_words: self.counts.distinct(),
            training_reviews: inputs.training_review_count(),
            training_metadata_documents: inputs.training_metadata_count(self.scope),
            training_tokens,
            training_unknown_tokens,
            coverage: Coverage {
                tokens: training_tokens,
                unknown: training_unknown_tokens,
            }
            .share_known(),
            review_coverage: by_split
                .into_iter()
                .map(|(split, c)| (split.as_str().to_owned(), c.share_known()))
                .collect(),
            review_length: LengthStats::of(reviews.lengths.iter().copied()),
            items: inputs.items.height(),
            items_without_metadata: inputs.items.height() - with_metadata.len(),
            metadata_length: LengthStats::of(with_metadata),
        }
    }
}
