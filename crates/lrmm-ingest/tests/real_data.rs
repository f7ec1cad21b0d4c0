//! Ingestion of the real Amazon files in `../shared/data` (skipped with a reason when absent).

use std::collections::{HashMap, HashSet};
use std::path::Path;

use lrmm_core::parquet::read_checked;
use lrmm_core::{schema, ArtifactDir};
use lrmm_ingest::meta::strip_html;
use lrmm_ingest::read::{read_meta, ReadPolicy};
use lrmm_ingest::{ingest, IngestOptions};
use lrmm_testing::shared_data_file;
use polars::prelude::*;

const MI: &str = "amazon-2014/Musical_Instruments/reviews_Musical_Instruments_5.json.gz";

fn u32s(df: &DataFrame, name: &str) -> Vec<u32> {
    df.column(name)
        .unwrap()
        .u32()
        .unwrap()
        .into_no_null_iter()
        .collect()
}

fn strs(df: &DataFrame, name: &str) -> Vec<String> {
    df.column(name)
        .unwrap()
        .str()
        .unwrap()
        .iter()
        .map(|s| s.unwrap().to_string())
        .collect()
}

fn run(reviews: &Path, meta: Option<&Path>, out: &Path, seed: u64) -> lrmm_ingest::IngestSummary {
    let mut options = IngestOptions::new(reviews, out);
    options.meta = meta.map(Path::to_path_buf);
    options.seed = seed;
    ingest(&options).unwrap()
}

#[test]
fn musical_instruments_counts_and_splits() {
    let Some(reviews) = shared_data_file(MI) else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let summary = run(&reviews, None, dir.path(), 1);
    assert_eq!(
        (summary.interactions, summary.users, summary.items),
        (10_261, 1_429, 900)
    );

    let art = ArtifactDir::new(dir.path());
    let interactions = read_checked(&art.interactions(), schema::INTERACTIONS).unwrap();
    assert_eq!(interactions.height(), 10_261);
    let splits = strs(&interactions, "split");
    let users = u32s(&interactions, "user_id");
    let items = u32s(&interactions, "item_id");
    // Disjoint and covering: every (user, item) pair is in exactly one split.
    let mut seen = HashSet::new();
    for (u, i) in users.iter().zip(&items) {
        assert!(seen.insert((*u, *i)), "pair ({u}, {i}) appears twice");
    }
    let mut per_split: HashMap<&str, usize> = HashMap::new();
    for s in &splits {
        *per_split.entry(s.as_str()).or_default() += 1;
    }
    assert_eq!(per_split.values().sum::<usize>(), 10_261);
    for (name, fraction) in [("train", 0.8), ("valid", 0.1), ("test", 0.1)] {
        let share = per_split[name] as f64 / 10_261.0;
        assert!((share - fraction).abs() < 0.01, "{name}: {share}");
    }
    // Canonical order: by user, then time.
    let times: Vec<i64> = interactions
        .column("unix_time")
        .unwrap()
        .i64()
        .unwrap()
        .into_no_null_iter()
        .collect();
    for r in 1..users.len() {
        assert!(
            (users[r - 1], times[r - 1]) <= (users[r], times[r]),
            "row {r} out of order"
        );
    }
    // Reviews are row-aligned with interactions.
    let reviews_df = read_checked(&art.reviews(), schema::REVIEWS).unwrap();
    assert_eq!(u32s(&reviews_df, "user_id"), users);
    assert_eq!(u32s(&reviews_df, "item_id"), items);
    assert_eq!(strs(&reviews_df, "split"), splits);
    let users_df = read_checked(&art.users(), schema::USERS).unwrap();
    assert_eq!(users_df.height(), 1_429);
    let n_train: u32 = users_df
        .column("n_train")
        .unwrap()
        .u32()
        .unwrap()
        .into_no_null_iter()
        .sum();
    assert_eq!(n_train as usize, per_split["train"]);
    let items_df = read_checked(&art.items(), schema::ITEMS).unwrap();
    assert_eq!(items_df.height(), 900);
    assert_eq!(u32s(&items_df, "item_id"), (0..900).collect::<Vec<_>>());

    // Same seed: the same bytes. Another seed: another split.
    let again = tempfile::tempdir().unwrap();
    run(&reviews, None, again.path(), 1);
    for file in [
        "interactions.parquet",
        "users.parquet",
        "items.parquet",
        "reviews.parquet",
    ] {
        assert_eq!(
            std::fs::read(dir.path().join(file)).unwrap(),
            std::fs::read(again.path().join(file)).unwrap(),
            "{file} differs between two runs with the same seed"
        );
    }
    let other = tempfile::tempdir().unwrap();
    run(&reviews, None, other.path(), 2);
    let other_splits = strs(
        &read_checked(
            &ArtifactDir::new(other.path()).interactions(),
            schema::INTERACTIONS,
        )
        .unwrap(),
        "split",
    );
    let changed = splits
        .iter()
        .zip(&other_splits)
        .filter(|(a, b)| a != b)
        .count();
    assert!(
        changed > 1_000,
        "only {changed} rows changed split with another seed"
    );
}

fn meta_join_case(reviews: &str, meta: &str, expected_items: usize, expected_with_meta: usize) {
    let (Some(reviews), Some(meta)) = (shared_data_file(reviews), shared_data_file(meta)) else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let summary = run(&reviews, Some(&meta), dir.path(), 1);
    assert_eq!(summary.items, expected_items);
    // Every reviewed item that has a metadata line is joined.
    let all_meta = read_meta(
        &meta,
        &|_: &str| true,
        ReadPolicy {
            skip_bad_lines: false,
            head: None,
        },
    )
    .unwrap();
    let items = read_checked(&ArtifactDir::new(dir.path()).items(), schema::ITEMS).unwrap();
    let asins = strs(&items, "asin");
    let has_meta: Vec<bool> = items
        .column("has_meta")
        .unwrap()
        .bool()
        .unwrap()
        .iter()
        .map(Option::unwrap)
        .collect();
    let texts = strs(&items, "metadata_text");
    for ((asin, joined), text) in asins.iter().zip(&has_meta).zip(&texts) {
        assert_eq!(*joined, all_meta.items.contains_key(asin), "{asin}");
        if *joined {
            let title_words = all_meta.items[asin]
                .title
                .as_deref()
                .map(strip_html)
                .unwrap_or_default();
            assert!(
                text.starts_with(&title_words),
                "{asin}: the metadata document does not start with the title"
            );
            assert!(
                title_words.is_empty() || !text.is_empty(),
                "{asin} has a title but an empty document"
            );
        }
        assert!(
            !text.contains("<span"),
            "HTML left in the metadata document of {asin}: {text}"
        );
    }
    assert_eq!(has_meta.iter().filter(|b| **b).count(), expected_with_meta);
    assert_eq!(summary.items_with_meta, expected_with_meta);
}

#[test]
fn gift_cards_join_2018_metadata() {
    meta_join_case(
        "amazon-2018/Gift_Cards/Gift_Cards_5.json.gz",
        "amazon-2018/Gift_Cards/meta_Gift_Cards.json.gz",
        148,
        148,
    );
}

#[test]
fn magazine_subscriptions_join_deduplicated_2018_metadata() {
    meta_join_case(
        "amazon-2018/Magazine_Subscriptions/Magazine_Subscriptions_5.json.gz",
        "amazon-2018/Magazine_Subscriptions/meta_Magazine_Subscriptions.json.gz",
        157,
        151,
    );
}

#[test]
fn gift_cards_duplicate_pairs_are_dropped() {
    let Some(reviews) = shared_data_file("amazon-2018/Gift_Cards/Gift_Cards_5.json.gz") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let summary = run(&reviews, None, dir.path(), 1);
    assert_eq!(summary.review_lines, 2_972);
    assert_eq!(summary.duplicate_pairs_dropped, 7);
    assert_eq!(summary.interactions, 2_965);
}

#[test]
fn metadata_2014_head_parses_every_line() {
    let Some(meta) =
        shared_data_file("amazon-2014/Musical_Instruments/meta_Musical_Instruments.head100.json")
    else {
        return;
    };
    let read = read_meta(
        &meta,
        &|_: &str| true,
        ReadPolicy {
            skip_bad_lines: false,
            head: None,
        },
    )
    .unwrap();
    assert_eq!(read.lines, 100);
    assert_eq!(read.items.len() as u64 + read.duplicates, 100);
    assert_eq!(read.skipped.count, 0);
    assert!(read.items.values().filter(|m| m.title.is_some()).count() > 0);
    // The one asin shared with the 5-core reviews joins.
    let Some(reviews) = shared_data_file(MI) else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let summary = run(&reviews, Some(&meta), dir.path(), 1);
    assert_eq!(summary.items_with_meta, 1);
}
