//! The stage end to end on small artifacts built in the test.

mod common;

use std::collections::BTreeMap;

use common::{items_frame, read_frame, read_tokens, reviews_frame, write_inputs, Review};
use lrmm_core::{ArtifactDir, SeededRng};
use lrmm_vocab::{
    run, MetadataScope, VocabError, VocabOptions, VocabRule, VocabStats, WordSplitter, PAD, PAD_ID,
    UNK, UNK_ID,
};
use tokenizers::Tokenizer;

fn options(min_freq: u64) -> VocabOptions {
    VocabOptions {
        rule: VocabRule {
            min_freq,
            max_size: None,
        },
        metadata_scope: MetadataScope::TrainItems,
    }
}

fn repeat(word: &str, n: usize) -> String {
    vec![word; n].join(" ")
}

fn load_tokenizer(dir: &ArtifactDir) -> Tokenizer {
    Tokenizer::from_file(dir.tokenizer()).unwrap()
}

/// A corpus whose every count is known:
/// train reviews: "exact" 20×, "rare" 19×, "guitar" 25×; valid and test reviews: "zebra" 30×
/// each; metadata of a training item: "fender" 20×; metadata of an item seen only in test:
/// "coldword" 40×.
fn planted() -> (Vec<String>, Vec<(u32, String)>) {
    let train = [
        format!("{} {}", repeat("exact", 20), repeat("rare", 19)),
        format!("<b>{}</b>", repeat("Guitar", 25)),
    ];
    let valid = repeat("zebra", 30);
    let test = format!("{} guitar exact", repeat("zebra", 30));
    let reviews = vec![train[0].clone(), train[1].clone(), valid, test];
    let items = vec![
        (0, repeat("fender", 20)),
        (1, String::new()),
        (2, repeat("coldword", 40)),
    ];
    (reviews, items)
}

fn write_planted(root: &std::path::Path) -> ArtifactDir {
    let (texts, items) = planted();
    let rows: Vec<Review<'_>> = vec![
        (0, 0, "train", texts[0].as_str()),
        (1, 1, "train", texts[1].as_str()),
        (0, 1, "valid", texts[2].as_str()),
        (1, 2, "test", texts[3].as_str()),
    ];
    let items: Vec<(u32, &str)> = items.iter().map(|(i, t)| (*i, t.as_str())).collect();
    write_inputs(root, &mut reviews_frame(&rows), &mut items_frame(&items))
}

#[test]
fn vocabulary_is_built_on_training_text_only() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = write_planted(tmp.path());
    let stats = run(&dir, &options(20)).unwrap();
    let tokenizer = load_tokenizer(&dir);
    let vocab = tokenizer.get_vocab(false);

    // min-freq boundary: 20 is in, 19 is out.
    assert!(vocab.contains_key("exact"));
    assert!(!vocab.contains_key("rare"));
    // Tags stripped and lowercased before counting.
    assert!(vocab.contains_key("guitar"));
    assert!(!vocab.contains_key("b"));
    // Metadata of a training item counts; words seen only in valid/test or in the metadata of
    // a test-only item do not.
    assert!(vocab.contains_key("fender"));
    assert!(!vocab.contains_key("zebra"));
    assert!(!vocab.contains_key("coldword"));
    assert_eq!(vocab.len(), 5, "{vocab:?}");
    assert_eq!(vocab[PAD], PAD_ID);
    assert_eq!(vocab[UNK], UNK_ID);
    // guitar 25 > exact 20 = fender 20 (ties broken by the word).
    assert_eq!(
        (vocab["guitar"], vocab["exact"], vocab["fender"]),
        (2, 3, 4)
    );

    // Row-aligned review tokens: the test review's "zebra"s are [UNK].
    let reviews = read_tokens(&dir.review_tokens());
    assert_eq!(reviews.len(), 4);
    assert_eq!(reviews[2], vec![UNK_ID; 30]);
    let mut expected_test = vec![UNK_ID; 30];
    expected_test.extend([2, 3]);
    assert_eq!(reviews[3], expected_test);
    assert_eq!(reviews[1], vec![2; 25]);
    let frame = read_frame(&dir.review_tokens());
    let splits: Vec<&str> = frame
        .column("split")
        .unwrap()
        .str()
        .unwrap()
        .iter()
        .map(Option::unwrap)
        .collect();
    assert_eq!(splits, ["train", "train", "valid", "test"]);
    lrmm_core::parquet::check_schema(
        &dir.review_tokens(),
        &frame,
        lrmm_core::schema::REVIEW_TOKENS,
    )
    .unwrap();

    // Item tokens: an empty list for the item without metadata.
    let items = read_tokens(&dir.item_tokens());
    assert_eq!(items, vec![vec![4; 20], vec![], vec![UNK_ID; 40]]);
    let item_frame = read_frame(&dir.item_tokens());
    lrmm_core::parquet::check_schema(
        &dir.item_tokens(),
        &item_frame,
        lrmm_core::schema::ITEM_TOKENS,
    )
    .unwrap();

    // Stats: training text = 20 + 19 + 25 review words + 20 metadata words; 19 are [UNK].
    assert_eq!(stats.vocab_size, 5);
    assert_eq!(stats.training_reviews, 2);
    assert_eq!(stats.training_metadata_documents, 1);
    assert_eq!(stats.training_tokens, 84);
    assert_eq!(stats.training_unknown_tokens, 19);
    assert!((stats.coverage - 65.0 / 84.0).abs() < 1e-12);
    assert_eq!(stats.review_coverage["valid"], 0.0);
    assert!((stats.review_coverage["test"] - 2.0 / 32.0).abs() < 1e-12);
    assert_eq!(stats.items_without_metadata, 1);
    assert_eq!((stats.review_length.p50, stats.review_length.max), (30, 39));
    let on_disk: VocabStats = lrmm_core::atomic::read_json(&dir.vocab_stats()).unwrap();
    assert_eq!(on_disk, stats);
}

#[test]
fn all_items_scope_counts_cold_start_metadata() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = write_planted(tmp.path());
    let mut opts = options(20);
    opts.metadata_scope = MetadataScope::AllItems;
    let stats = run(&dir, &opts).unwrap();
    let vocab = load_tokenizer(&dir).get_vocab(false);
    assert_eq!(
        vocab["coldword"], 2,
        "40 occurrences make it the most frequent word"
    );
    assert!(
        !vocab.contains_key("zebra"),
        "valid/test reviews never count"
    );
    assert_eq!(stats.training_metadata_documents, 2);
}

/// Seeded random reviews over a Zipf-like vocabulary, so that many words sit near the cut.
fn random_corpus(seed: u64, reviews: usize) -> (Vec<String>, Vec<&'static str>) {
    let mut rng = SeededRng::new(seed);
    let words: Vec<String> = (0..400).map(|i| format!("w{i}")).collect();
    let splits = [
        "train", "train", "train", "train", "train", "train", "train", "train", "valid", "test",
    ];
    let mut texts = Vec::new();
    let mut text_splits = Vec::new();
    for _ in 0..reviews {
        let len = 5 + rng.below(40) as usize;
        let text: Vec<String> = (0..len)
            .map(|_| {
                // Squaring a uniform draw skews the choice towards low indices.
                let u = rng.next_f64();
                let word = &words[(u * u * words.len() as f64) as usize];
                if rng.bernoulli(0.1) {
                    word.to_uppercase()
                } else {
                    word.clone()
                }
            })
            .collect();
        texts.push(format!("{}.", text.join(" ")));
        text_splits.push(splits[rng.below(10) as usize]);
    }
    (texts, text_splits)
}

fn write_random(
    root: &std::path::Path,
    seed: u64,
) -> (ArtifactDir, Vec<String>, Vec<&'static str>) {
    let (texts, splits) = random_corpus(seed, 3000);
    let rows: Vec<Review<'_>> = texts
        .iter()
        .zip(&splits)
        .enumerate()
        .map(|(i, (t, s))| ((i % 50) as u32, (i % 70) as u32, *s, t.as_str()))
        .collect();
    let items: Vec<(u32, &str)> = (0..70).map(|i| (i, "")).collect();
    let dir = write_inputs(root, &mut reviews_frame(&rows), &mut items_frame(&items));
    (dir, texts, splits)
}

#[test]
fn min_freq_rule_is_exact_and_ids_follow_counts() {
    let tmp = tempfile::tempdir().unwrap();
    let (dir, texts, splits) = write_random(tmp.path(), 7);
    // Independent count: these texts are ASCII words separated by spaces, and a final ".".
    let mut counts: BTreeMap<String, u64> = BTreeMap::new();
    for (text, split) in texts.iter().zip(&splits) {
        if *split != "train" {
            continue;
        }
        for word in text.trim_end_matches('.').split(' ') {
            *counts.entry(word.to_lowercase()).or_default() += 1;
        }
        *counts.entry(".".into()).or_default() += 1;
    }
    for min_freq in [1, 100, 400] {
        run(&dir, &options(min_freq)).unwrap();
        let vocab = load_tokenizer(&dir).get_vocab(false);
        let mut expected: Vec<(&String, u64)> = counts
            .iter()
            .filter(|(_, &n)| n >= min_freq)
            .map(|(w, &n)| (w, n))
            .collect();
        expected.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
        if min_freq > 1 {
            // The cut falls inside the vocabulary, so the rule is exercised on both sides.
            assert!(
                expected.len() > 10 && expected.len() < counts.len(),
                "{}",
                expected.len()
            );
        }
        assert_eq!(vocab.len(), expected.len() + 2, "min_freq {min_freq}");
        for (rank, (word, _)) in expected.iter().enumerate() {
            assert_eq!(
                vocab.get(*word),
                Some(&(rank as u32 + 2)),
                "{word} at min_freq {min_freq}"
            );
        }
    }
}

#[test]
fn max_size_keeps_the_most_frequent_words() {
    let tmp = tempfile::tempdir().unwrap();
    let (dir, _, _) = write_random(tmp.path(), 7);
    run(&dir, &options(1)).unwrap();
    let full = load_tokenizer(&dir).get_vocab(false);
    let mut opts = options(1);
    opts.rule.max_size = Some(50);
    let stats = run(&dir, &opts).unwrap();
    let cut = load_tokenizer(&dir).get_vocab(false);
    assert_eq!(cut.len(), 50);
    assert_eq!(stats.vocab_size, 50);
    assert_eq!(stats.words_at_min_freq, full.len() - 2);
    for (word, id) in &cut {
        assert_eq!(full[word], *id, "{word} keeps its id under max_size");
    }
}

#[test]
fn same_input_gives_same_bytes_whatever_the_thread_count() {
    let first = tempfile::tempdir().unwrap();
    let second = tempfile::tempdir().unwrap();
    let (a, _, _) = write_random(first.path(), 11);
    let (b, _, _) = write_random(second.path(), 11);
    run(&a, &options(5)).unwrap();
    let one_thread = rayon::ThreadPoolBuilder::new()
        .num_threads(1)
        .build()
        .unwrap();
    one_thread.install(|| run(&b, &options(5))).unwrap();
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
    // A different corpus gives a different vocabulary: the comparison above can fail.
    let third = tempfile::tempdir().unwrap();
    let (c, _, _) = write_random(third.path(), 12);
    run(&c, &options(5)).unwrap();
    assert_ne!(
        std::fs::read(a.review_tokens()).unwrap(),
        std::fs::read(c.review_tokens()).unwrap()
    );
}

#[test]
fn review_tokens_are_the_tokenizer_encoding_of_each_row() {
    let tmp = tempfile::tempdir().unwrap();
    let (dir, texts, _) = write_random(tmp.path(), 3);
    run(&dir, &options(20)).unwrap();
    let tokenizer = load_tokenizer(&dir);
    let tokens = read_tokens(&dir.review_tokens());
    assert_eq!(tokens.len(), texts.len());
    for (text, ids) in texts.iter().zip(&tokens) {
        assert_eq!(
            tokenizer.encode(text.as_str(), false).unwrap().get_ids(),
            ids.as_slice()
        );
        let words = WordSplitter::new().unwrap().words(text).unwrap();
        assert_eq!(words.len(), ids.len());
    }
}

#[test]
fn empty_training_split_is_an_error_and_writes_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let rows: Vec<Review<'_>> = vec![(0, 0, "valid", "a b c"), (0, 1, "test", "a b")];
    let dir = write_inputs(
        tmp.path(),
        &mut reviews_frame(&rows),
        &mut items_frame(&[(0, "a"), (1, "")]),
    );
    let err = run(&dir, &options(1)).unwrap_err();
    assert!(
        matches!(err, VocabError::EmptyTrainingSplit { .. }),
        "{err}"
    );
    assert!(err.to_string().contains("reviews.parquet"), "{err}");
    assert!(!dir.tokenizer().exists());
    assert!(!dir.review_tokens().exists());
    assert!(!dir.item_tokens().exists());
    assert!(!dir.vocab_stats().exists());
}

#[test]
fn wrong_schema_names_the_file_and_the_column() {
    let tmp = tempfile::tempdir().unwrap();
    let rows: Vec<Review<'_>> = vec![(0, 0, "train", "a b c")];
    let items = [(0, "a")];

    // user_id written as i64 instead of u32.
    let mut reviews = reviews_frame(&rows);
    let user_id = reviews
        .column("user_id")
        .unwrap()
        .cast(&polars::prelude::DataType::Int64)
        .unwrap();
    reviews.with_column(user_id).unwrap();
    let dir = write_inputs(tmp.path(), &mut reviews, &mut items_frame(&items));
    let message = run(&dir, &options(1)).unwrap_err().to_string();
    assert!(
        message.contains("reviews.parquet") && message.contains("`user_id`"),
        "{message}"
    );
    assert!(
        message.contains("i64") && message.contains("u32"),
        "{message}"
    );

    // items.parquet without metadata_text.
    let mut items_without = items_frame(&items).drop("metadata_text").unwrap();
    let dir = write_inputs(tmp.path(), &mut reviews_frame(&rows), &mut items_without);
    let message = run(&dir, &options(1)).unwrap_err().to_string();
    assert!(
        message.contains("items.parquet") && message.contains("`metadata_text`"),
        "{message}"
    );
    assert!(!dir.review_tokens().exists());

    // A split value that is not train/valid/test: file, column and row.
    let bad: Vec<Review<'_>> = vec![(0, 0, "train", "a"), (0, 1, "training", "b")];
    let dir = write_inputs(
        tmp.path(),
        &mut reviews_frame(&bad),
        &mut items_frame(&items),
    );
    let message = run(&dir, &options(1)).unwrap_err().to_string();
    assert!(
        message.contains("reviews.parquet")
            && message.contains("row 1")
            && message.contains("\"training\""),
        "{message}"
    );
}

#[test]
fn missing_input_names_the_file() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = ArtifactDir::new(tmp.path().join("nowhere"));
    let message = run(&dir, &options(1)).unwrap_err().to_string();
    assert!(message.contains("nowhere/reviews.parquet"), "{message}");

    let rows: Vec<Review<'_>> = vec![(0, 0, "train", "a")];
    let dir = ArtifactDir::new(tmp.path());
    lrmm_core::parquet::write_atomic(&dir.reviews(), &mut reviews_frame(&rows)).unwrap();
    let message = run(&dir, &options(1)).unwrap_err().to_string();
    assert!(message.contains("items.parquet"), "{message}");
}

#[test]
fn invalid_options_are_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = write_planted(tmp.path());
    let mut opts = options(0);
    assert!(matches!(
        run(&dir, &opts),
        Err(VocabError::InvalidOption(_))
    ));
    opts.rule.min_freq = 1;
    opts.rule.max_size = Some(2);
    assert!(matches!(
        run(&dir, &opts),
        Err(VocabError::InvalidOption(_))
    ));
    let err = run(&dir, &options(1000)).unwrap_err();
    assert!(
        matches!(err, VocabError::NoWordAboveMinFreq { .. }),
        "{err}"
    );
}

/// Cross-domain: a second dataset encoded with the first one's tokenizer gets the first one's
/// ids, and its own words are [UNK].
#[test]
fn existing_tokenizer_encodes_another_dataset_with_its_ids() {
    let source_tmp = tempfile::tempdir().unwrap();
    let source = write_planted(source_tmp.path());
    run(&source, &options(20)).unwrap();
    let source_tokenizer = load_tokenizer(&source);

    let target_tmp = tempfile::tempdir().unwrap();
    let texts = [
        format!("{} guitar", repeat("ukulele", 30)),
        "Fender GUITAR exact".to_owned(),
        "ukulele exact".to_owned(),
    ];
    let rows: Vec<Review<'_>> = vec![
        (0, 0, "train", texts[0].as_str()),
        (1, 0, "valid", texts[1].as_str()),
        (1, 1, "test", texts[2].as_str()),
    ];
    let target = write_inputs(
        target_tmp.path(),
        &mut reviews_frame(&rows),
        &mut items_frame(&[(0, "ukulele fender"), (1, "")]),
    );
    let stats =
        lrmm_vocab::run_with_tokenizer(&target, &source.tokenizer(), MetadataScope::TrainItems)
            .unwrap();

    // The target's tokenizer.json is the source's, byte for byte.
    assert_eq!(
        std::fs::read(target.tokenizer()).unwrap(),
        std::fs::read(source.tokenizer()).unwrap()
    );
    let id = |w: &str| source_tokenizer.token_to_id(w).unwrap();
    // "ukulele" occurs 30 times in the target's training text, but the source never saw it.
    assert_eq!(source_tokenizer.token_to_id("ukulele"), None);
    let reviews = read_tokens(&target.review_tokens());
    let mut first = vec![UNK_ID; 30];
    first.push(id("guitar"));
    assert_eq!(reviews[0], first);
    assert_eq!(reviews[1], vec![id("fender"), id("guitar"), id("exact")]);
    assert_eq!(reviews[2], vec![UNK_ID, id("exact")]);
    // Same ids as the source tokenizer's own encode.
    for (text, ids) in texts.iter().zip(&reviews) {
        let reference = source_tokenizer.encode(text.as_str(), false).unwrap();
        assert_eq!(reference.get_ids(), ids.as_slice(), "{text:?}");
    }
    assert_eq!(
        read_tokens(&target.item_tokens()),
        vec![vec![UNK_ID, id("fender")], vec![]]
    );

    // Coverage of the target's training text (31 review words + 2 metadata words) by the
    // source vocabulary: 31 [UNK]s.
    assert_eq!(
        stats.source_tokenizer.as_deref(),
        Some(source.tokenizer().to_str().unwrap())
    );
    assert_eq!(stats.vocab_size, 5);
    assert_eq!(stats.training_tokens, 33);
    assert_eq!(stats.training_unknown_tokens, 31);
    assert!((stats.coverage - 2.0 / 33.0).abs() < 1e-12);
    assert_eq!(stats.review_coverage["valid"], 1.0);
    assert_eq!(stats.review_coverage["test"], 0.5);
    let on_disk: VocabStats = lrmm_core::atomic::read_json(&target.vocab_stats()).unwrap();
    assert_eq!(on_disk, stats);

    // A file that is not a tokenizer is refused, naming it, and nothing is written.
    let bad_tmp = tempfile::tempdir().unwrap();
    let bad = bad_tmp.path().join("tokenizer.json");
    std::fs::write(&bad, "{not json").unwrap();
    let fresh = write_inputs(
        bad_tmp.path(),
        &mut reviews_frame(&rows),
        &mut items_frame(&[(0, "x"), (1, "")]),
    );
    let err = lrmm_vocab::run_with_tokenizer(&fresh, &bad, MetadataScope::TrainItems).unwrap_err();
    assert!(
        err.to_string().contains(&bad.display().to_string()),
        "{err}"
    );
    assert!(!fresh.review_tokens().exists());
}
