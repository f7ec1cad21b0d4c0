//! The stage on real Amazon data from `../shared/data` (ingested here by `lrmm-ingest`).
//! Each test prints why it is skipped when the data is absent.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use common::{python_encode, python_tokenizers_available, read_frame, read_tokens, shared_file};
use lrmm_core::ArtifactDir;
use lrmm_vocab::{run, Inputs, MetadataScope, VocabOptions, VocabRule, WordSplitter, UNK_ID};
use tokenizers::Tokenizer;

const MI_REVIEWS: &str = "amazon-2014/Musical_Instruments/reviews_Musical_Instruments_5.json.gz";
const MI_META: &str = "amazon-2014/Musical_Instruments/meta_Musical_Instruments.head100.json";
const MAGAZINE_REVIEWS: &str =
    "amazon-2018/Magazine_Subscriptions/Magazine_Subscriptions_5.json.gz";
const MAGAZINE_META: &str =
    "amazon-2018/Magazine_Subscriptions/meta_Magazine_Subscriptions.json.gz";

fn paper_options() -> VocabOptions {
    VocabOptions {
        rule: VocabRule {
            min_freq: 20,
            max_size: None,
        },
        metadata_scope: MetadataScope::TrainItems,
    }
}

fn ingest(reviews: &Path, meta: Option<&Path>, out: &Path) -> ArtifactDir {
    let mut options = lrmm_ingest::IngestOptions::new(reviews, out);
    options.meta = meta.map(Path::to_path_buf);
    options.seed = 1;
    lrmm_ingest::ingest(&options).unwrap();
    ArtifactDir::new(out)
}

/// Ingested Musical Instruments in a temporary folder, or None when the data is absent.
fn musical_instruments(tmp: &Path) -> Option<ArtifactDir> {
    let reviews = shared_file(MI_REVIEWS)?;
    let meta = shared_file(MI_META);
    Some(ingest(&reviews, meta.as_deref(), tmp))
}

/// Words as the spec defines them, written without `tokenizers`, for ASCII text: HTML tags and
/// entities become spaces, lowercase, then runs of [A-Za-z0-9_] and runs of other non-space
/// characters.
fn ascii_words(text: &str) -> Vec<String> {
    let bytes = text.as_bytes();
    let mut cleaned = String::with_capacity(text.len());
    let mut i = 0;
    while i < bytes.len() {
        let rest = &text[i..];
        let tag_end = rest
            .strip_prefix('<')
            .filter(|r| {
                let r = r.strip_prefix(['/', '!']).unwrap_or(r);
                r.starts_with(|c: char| c.is_ascii_alphabetic())
            })
            .and_then(|r| r.find(['<', '>']).filter(|&j| r.as_bytes()[j] == b'>'));
        let entity_end = rest.strip_prefix('&').and_then(|r| {
            let end = r.find(';')?;
            let name = &r[..end];
            let ok = match name.strip_prefix('#') {
                Some(n) => match n.strip_prefix(['x', 'X']) {
                    Some(h) => !h.is_empty() && h.chars().all(|c| c.is_ascii_hexdigit()),
                    None => !n.is_empty() && n.chars().all(|c| c.is_ascii_digit()),
                },
                None => {
                    name.starts_with(|c: char| c.is_ascii_alphabetic())
                        && name.chars().all(|c| c.is_ascii_alphanumeric())
                }
            };
            ok.then_some(end)
        });
        if let Some(j) = tag_end {
            cleaned.push(' ');
            i += j + 2;
        } else if let Some(j) = entity_end {
            cleaned.push(' ');
            i += j + 2;
        } else {
            cleaned.push(bytes[i].to_ascii_lowercase() as char);
            i += 1;
        }
    }
    let is_word = |c: char| c.is_ascii_alphanumeric() || c == '_';
    let mut words = Vec::new();
    let mut current = String::new();
    for c in cleaned.chars() {
        let same_kind = current
            .chars()
            .next()
            .is_some_and(|f| is_word(f) == is_word(c));
        if (c.is_ascii_whitespace() || !same_kind) && !current.is_empty() {
            words.push(std::mem::take(&mut current));
        }
        if !c.is_ascii_whitespace() {
            current.push(c);
        }
    }
    if !current.is_empty() {
        words.push(current);
    }
    words
}

#[test]
fn hand_written_ascii_words_agree_with_the_splitter() {
    let splitter = WordSplitter::new().unwrap();
    for text in [
        r#"<span class="a-size-medium">Foo</span>Bar &amp; baz's "q" 3<5 I <3 it"#,
        "Great!!! strings... (really) $19.99",
    ] {
        assert_eq!(ascii_words(text), splitter.words(text).unwrap(), "{text}");
    }
}

#[test]
fn musical_instruments_vocabulary_from_train_only_with_exact_min_freq() {
    let tmp = tempfile::tempdir().unwrap();
    let Some(dir) = musical_instruments(tmp.path()) else {
        return;
    };
    let stats = run(&dir, &paper_options()).unwrap();
    let inputs = Inputs::read(&dir).unwrap();
    let tokenizer = Tokenizer::from_file(dir.tokenizer()).unwrap();
    let vocab = tokenizer.get_vocab(false);
    let splitter = WordSplitter::new().unwrap();

    // Independent count: one document at a time, the ASCII ones by the hand-written splitter.
    let mut counts: BTreeMap<String, u64> = BTreeMap::new();
    let mut ascii_documents = 0;
    for text in inputs.training_texts(MetadataScope::TrainItems) {
        let words = splitter.words(text).unwrap();
        if text.is_ascii() {
            assert_eq!(ascii_words(text), words, "{text}");
            ascii_documents += 1;
        }
        for word in words {
            *counts.entry(word).or_default() += 1;
        }
    }
    assert!(ascii_documents > 7000, "{ascii_documents}");
    let expected: BTreeSet<&str> = counts
        .iter()
        .filter(|(_, &n)| n >= 20)
        .map(|(w, _)| w.as_str())
        .collect();
    let got: BTreeSet<&str> = vocab
        .keys()
        .map(String::as_str)
        .filter(|w| !["[PAD]", "[UNK]"].contains(w))
        .collect();
    assert_eq!(got, expected);
    // Ids: descending count, then the word.
    let mut by_id: Vec<(&String, &u32)> = vocab.iter().collect();
    by_id.sort_by_key(|(_, &id)| id);
    for pair in by_id[2..].windows(2) {
        let (a, b) = (pair[0].0, pair[1].0);
        assert!(
            counts[a] > counts[b] || (counts[a] == counts[b] && a < b),
            "{a} before {b}"
        );
    }

    // Train only: words of valid/test reviews never seen in training text are [UNK].
    let reviews = inputs.review_texts();
    let tokens = read_tokens(&dir.review_tokens());
    assert_eq!(tokens.len(), reviews.len());
    let mut unseen_checked = 0;
    for ((text, split), ids) in reviews.iter().zip(&inputs.splits).zip(&tokens) {
        let words = splitter.words(text).unwrap();
        assert_eq!(words.len(), ids.len());
        for (word, &id) in words.iter().zip(ids) {
            match counts.get(word) {
                None => {
                    assert_ne!(*split, lrmm_core::Split::Train);
                    assert_eq!(id, UNK_ID, "{word} occurs only outside training");
                    unseen_checked += 1;
                }
                Some(&n) if n < 20 => assert_eq!(id, UNK_ID, "{word}"),
                Some(_) => assert_eq!(Some(&id), vocab.get(word), "{word}"),
            }
        }
    }
    assert!(unseen_checked > 100, "{unseen_checked}");

    // Coverage from the counts equals coverage from the encoded training documents.
    let training_unknown: u64 = counts.iter().filter(|(_, &n)| n < 20).map(|(_, n)| n).sum();
    assert_eq!(stats.training_unknown_tokens, training_unknown);
    assert_eq!(stats.training_tokens, counts.values().sum::<u64>());
    assert_eq!(stats.vocab_size, expected.len() + 2);
    eprintln!(
        "Musical Instruments: vocabulary {} ids (min_freq 20), coverage {:.4} of {} training tokens, \
         review coverage {:?}, review length p50/p90/p99 {}/{}/{}, {} items with metadata",
        stats.vocab_size,
        stats.coverage,
        stats.training_tokens,
        stats.review_coverage,
        stats.review_length.p50,
        stats.review_length.p90,
        stats.review_length.p99,
        stats.items - stats.items_without_metadata,
    );
}

#[test]
fn musical_instruments_is_deterministic() {
    let first = tempfile::tempdir().unwrap();
    let Some(a) = musical_instruments(first.path()) else {
        return;
    };
    let second = tempfile::tempdir().unwrap();
    let b = ArtifactDir::new(second.path());
    std::fs::copy(a.reviews(), b.reviews()).unwrap();
    std::fs::copy(a.items(), b.items()).unwrap();
    run(&a, &paper_options()).unwrap();
    run(&b, &paper_options()).unwrap();
    for (x, y) in [
        (a.tokenizer(), b.tokenizer()),
        (a.review_tokens(), b.review_tokens()),
        (a.item_tokens(), b.item_tokens()),
        (a.vocab_stats(), b.vocab_stats()),
    ] {
        assert_eq!(
            std::fs::read(&x).unwrap(),
            std::fs::read(&y).unwrap(),
            "{}",
            x.display()
        );
    }
    let frame = read_frame(&a.review_tokens());
    lrmm_core::parquet::check_schema(&a.review_tokens(), &frame, lrmm_core::schema::REVIEW_TOKENS)
        .unwrap();
}

#[test]
fn musical_instruments_python_round_trip() {
    let tmp = tempfile::tempdir().unwrap();
    let Some(dir) = musical_instruments(tmp.path()) else {
        return;
    };
    if !python_tokenizers_available() {
        return;
    }
    run(&dir, &paper_options()).unwrap();
    let inputs = Inputs::read(&dir).unwrap();
    let texts = inputs.review_texts();
    let python = python_encode(&dir.tokenizer(), &texts);
    let ours = read_tokens(&dir.review_tokens());
    assert_eq!(python.len(), ours.len());
    for (i, (p, o)) in python.iter().zip(&ours).enumerate() {
        assert_eq!(p, o, "review row {i}: {:?}", texts[i]);
    }
}

#[test]
fn magazine_metadata_entities_are_stripped_and_round_trip() {
    let tmp = tempfile::tempdir().unwrap();
    let (Some(reviews), Some(meta)) = (shared_file(MAGAZINE_REVIEWS), shared_file(MAGAZINE_META))
    else {
        return;
    };
    let dir = ingest(&reviews, Some(&meta), tmp.path());
    let mut options = paper_options();
    options.rule.min_freq = 2;
    run(&dir, &options).unwrap();
    let inputs = Inputs::read(&dir).unwrap();
    let metadata = inputs.metadata_texts();
    let splitter = WordSplitter::new().unwrap();
    const ENTITY_NAMES: [&str; 7] = ["rsquo", "ldquo", "rdquo", "ecirc", "amp", "quot", "nbsp"];

    // Real 2018 descriptions carry entities (`don&rsquo;t`, `&ldquo;…&rdquo;`, `Cond&ecirc;`).
    let mut with_entities = 0;
    for text in &metadata {
        let words = splitter.words(text).unwrap();
        assert!(
            !words.iter().any(|w| ENTITY_NAMES.contains(&w.as_str())),
            "{words:?}"
        );
        if ENTITY_NAMES
            .iter()
            .any(|name| text.contains(&format!("&{name};")))
        {
            with_entities += 1;
            if text.is_ascii() {
                assert_eq!(ascii_words(text), words, "{text}");
            }
        }
    }
    assert!(
        with_entities >= 8,
        "{with_entities} metadata documents with entities"
    );
    let tokenizer = Tokenizer::from_file(dir.tokenizer()).unwrap();
    let vocab = tokenizer.get_vocab(false);
    assert!(ENTITY_NAMES.iter().all(|name| !vocab.contains_key(*name)));

    if !python_tokenizers_available() {
        return;
    }
    let python = python_encode(&dir.tokenizer(), &metadata);
    assert_eq!(python, read_tokens(&dir.item_tokens()));
    // The raw titles are HTML fragments (`<span class="a-size-medium a-color-secondary"`): the
    // ingestion leaves them out of metadata_text, but they must still encode alike in Python.
    let items = read_frame(&dir.items());
    let titles: Vec<&str> = items
        .column("title")
        .unwrap()
        .str()
        .unwrap()
        .iter()
        .flatten()
        .collect();
    assert!(titles.iter().filter(|t| t.starts_with("<span")).count() > 100);
    let encoder = lrmm_vocab::Encoder::new(&tokenizer).unwrap();
    let ours: Vec<Vec<u32>> = titles.iter().map(|t| encoder.encode(t).unwrap()).collect();
    assert_eq!(python_encode(&dir.tokenizer(), &titles), ours);
}
