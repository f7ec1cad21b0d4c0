//! Every bad-input rule: by default a clear error naming file, line and problem, and no
//! artifact left behind; with `skip_bad_lines` the line is counted, reported and skipped.

use std::io::Write;
use std::path::{Path, PathBuf};

use lrmm_ingest::{ingest, IngestError, IngestOptions};

const GOOD: &str = r#"{"reviewerID": "U1", "asin": "I1", "overall": 5.0, "summary": "ok", "reviewText": "fine", "unixReviewTime": 100}"#;
const GOOD2: &str = r#"{"reviewerID": "U2", "asin": "I1", "overall": 4.0, "reviewText": "", "unixReviewTime": 101}"#;

struct Case {
    dir: tempfile::TempDir,
}

impl Case {
    fn new() -> Self {
        Self {
            dir: tempfile::tempdir().unwrap(),
        }
    }

    fn file(&self, name: &str, bytes: &[u8]) -> PathBuf {
        let path = self.dir.path().join(name);
        std::fs::write(&path, bytes).unwrap();
        path
    }

    fn out(&self) -> PathBuf {
        self.dir.path().join("out")
    }

    fn options(&self, reviews: &Path) -> IngestOptions {
        IngestOptions::new(reviews, self.out())
    }

    /// Nothing but (possibly) the empty output folder exists after a failed run.
    fn assert_no_artifacts(&self) {
        let out = self.out();
        if out.exists() {
            let left: Vec<_> = std::fs::read_dir(&out)
                .unwrap()
                .map(|e| e.unwrap().file_name())
                .collect();
            assert!(left.is_empty(), "artifacts left behind: {left:?}");
        }
    }
}

fn lines(ls: &[&str]) -> Vec<u8> {
    (ls.join("\n") + "\n").into_bytes()
}

fn expect_line_error(case: &Case, reviews: &Path, line: u64, needle: &str) {
    let err = ingest(&case.options(reviews)).unwrap_err();
    match &err {
        IngestError::BadRecord {
            path,
            line: l,
            message,
        } => {
            assert_eq!(path, reviews);
            assert_eq!(*l, line, "{err}");
            assert!(message.contains(needle), "{err}");
        }
        other => panic!("expected a record error, got {other}"),
    }
    let shown = err.to_string();
    assert!(
        shown.contains(&format!("{}:{line}:", reviews.display())),
        "{shown}"
    );
    case.assert_no_artifacts();
}

#[test]
fn malformed_json_names_file_and_line() {
    let case = Case::new();
    let f = case.file(
        "r.json",
        &lines(&[GOOD, r#"{"reviewerID": "U3", "asin": "#, GOOD2]),
    );
    expect_line_error(&case, &f, 2, "invalid JSON");
}

#[test]
fn missing_required_fields() {
    for (field, line) in [
        ("reviewerID", r#"{"asin": "I1", "overall": 3.0}"#),
        ("asin", r#"{"reviewerID": "U1", "overall": 3.0}"#),
        ("overall", r#"{"reviewerID": "U1", "asin": "I1"}"#),
    ] {
        let case = Case::new();
        let f = case.file("r.json", &lines(&[GOOD, GOOD2, line]));
        expect_line_error(&case, &f, 3, &format!("missing required field `{field}`"));
    }
}

#[test]
fn ratings_outside_one_to_five() {
    for rating in ["0.0", "5.5", "-1", "10"] {
        let case = Case::new();
        let bad = format!(r#"{{"reviewerID": "U9", "asin": "I1", "overall": {rating}}}"#);
        let f = case.file("r.json", &lines(&[&bad, GOOD]));
        expect_line_error(&case, &f, 1, "outside 1–5");
    }
}

#[test]
fn non_utf8_bytes() {
    let case = Case::new();
    let mut bytes = lines(&[GOOD]);
    bytes.extend_from_slice(
        b"{\"reviewerID\": \"U\xff\xfe\", \"asin\": \"I1\", \"overall\": 3.0}\n",
    );
    let f = case.file("r.json", &bytes);
    expect_line_error(&case, &f, 2, "invalid UTF-8");
}

#[test]
fn truncated_gzip() {
    let case = Case::new();
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    for i in 0..5_000 {
        writeln!(
            enc,
            r#"{{"reviewerID": "U{i}", "asin": "I{}", "overall": 4.0, "reviewText": "text {i}"}}"#,
            i % 17
        )
        .unwrap();
    }
    let bytes = enc.finish().unwrap();
    let f = case.file("r.json.gz", &bytes[..bytes.len() - 40]);
    let err = ingest(&case.options(&f)).unwrap_err();
    assert!(matches!(err, IngestError::Decompress { .. }), "{err}");
    let shown = err.to_string();
    assert!(
        shown.contains("r.json.gz") && shown.contains("truncated gzip"),
        "{shown}"
    );
    case.assert_no_artifacts();
}

#[test]
fn empty_files() {
    for content in [&b""[..], b"\n\n  \n"] {
        let case = Case::new();
        let f = case.file("r.json", content);
        let err = ingest(&case.options(&f)).unwrap_err();
        assert!(matches!(err, IngestError::Empty { .. }), "{err}");
        assert!(err.to_string().contains("r.json"), "{err}");
        case.assert_no_artifacts();
    }
}

#[test]
fn bad_metadata_line_names_meta_file() {
    let case = Case::new();
    let reviews = case.file("r.json", &lines(&[GOOD, GOOD2]));
    let meta = case.file(
        "meta.json",
        &lines(&["{'asin': 'I1', 'title': 'A'}", "{'asin': 'I2', 'title': 'B"]),
    );
    let mut options = case.options(&reviews);
    options.meta = Some(meta.clone());
    let err = ingest(&options).unwrap_err();
    assert!(
        err.to_string()
            .starts_with(&format!("{}:2:", meta.display())),
        "{err}"
    );
    case.assert_no_artifacts();
}

#[test]
fn skip_bad_lines_counts_and_reports() {
    let case = Case::new();
    let f = case.file(
        "r.json",
        &lines(&[
            GOOD,
            "not json",
            r#"{"reviewerID": "U3", "asin": "I1", "overall": 7}"#,
            GOOD2,
            r#"{"asin": "I1", "overall": 3.0}"#,
        ]),
    );
    let mut options = case.options(&f);
    options.skip_bad_lines = true;
    let summary = ingest(&options).unwrap();
    assert_eq!(summary.review_lines_skipped.count, 3);
    assert_eq!(summary.interactions, 2);
    assert!(
        summary.review_lines_skipped.examples[0].contains("r.json:2:"),
        "{:?}",
        summary.review_lines_skipped
    );
    assert!(case.out().join("interactions.parquet").is_file());
    let written: serde_json::Value =
        serde_json::from_slice(&std::fs::read(case.out().join("ingest_summary.json")).unwrap())
            .unwrap();
    assert_eq!(written["review_lines_skipped"]["count"], 3);
}

#[test]
fn missing_optional_fields_are_normal() {
    let case = Case::new();
    let f = case.file(
        "r.json",
        &lines(&[
            r#"{"reviewerID": "U1", "asin": "I1", "overall": 5.0}"#,
            r#"{"reviewerID": "U2", "asin": "I1", "overall": 2.0, "reviewText": "", "summary": ""}"#,
        ]),
    );
    let summary = ingest(&case.options(&f)).unwrap();
    assert_eq!(summary.interactions, 2);
}

#[test]
fn a_failed_rerun_keeps_the_previous_artifacts() {
    let case = Case::new();
    let good = case.file("good.json", &lines(&[GOOD, GOOD2]));
    ingest(&case.options(&good)).unwrap();
    let before = std::fs::read(case.out().join("interactions.parquet")).unwrap();
    let bad = case.file("bad.json", &lines(&[GOOD, "{"]));
    assert!(ingest(&case.options(&bad)).is_err());
    assert_eq!(
        std::fs::read(case.out().join("interactions.parquet")).unwrap(),
        before
    );
    let names: Vec<String> = std::fs::read_dir(case.out())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert!(
        names.iter().all(|n| !n.starts_with('.')),
        "staging folder left behind: {names:?}"
    );
}

#[test]
fn generated_default_dataset_ingests_with_its_literal_metadata() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let (dataset, _) =
        lrmm_datagen::generate(&lrmm_datagen::GenerateConfig::default(), &data).unwrap();
    let mut options = IngestOptions::new(
        data.join("reviews_Synthetic_5.json.gz"),
        dir.path().join("out"),
    );
    options.meta = Some(data.join("meta_Synthetic.json.gz"));
    let summary = ingest(&options).unwrap();
    assert_eq!(summary.interactions, dataset.planted.counts.reviews);
    assert_eq!(summary.users, 600);
    assert_eq!(summary.items, 400);
    assert_eq!(
        summary.items_with_meta,
        dataset.planted.counts.items_with_meta
    );
    assert_eq!(summary.meta_lines_skipped.count, 0);
}

#[test]
fn head_reads_only_the_first_lines() {
    let case = Case::new();
    let f = case.file("r.json", &lines(&[GOOD, GOOD2, "this line is never read"]));
    let mut options = case.options(&f);
    options.head = Some(2);
    let summary = ingest(&options).unwrap();
    assert_eq!((summary.review_lines, summary.interactions), (2, 2));
}

#[test]
fn max_train_per_item_caps_training_and_keeps_evaluation_rows() {
    use lrmm_core::parquet::read_checked;
    use lrmm_core::{schema, ArtifactDir};

    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    lrmm_datagen::generate(&lrmm_datagen::GenerateConfig::default(), &data).unwrap();
    let rows = |cap: Option<usize>, name: &str| -> Vec<(u32, u32, String)> {
        let mut options = IngestOptions::new(
            data.join("reviews_Synthetic_5.json.gz"),
            dir.path().join(name),
        );
        options.max_train_per_item = cap;
        let summary = ingest(&options).unwrap();
        let df = read_checked(
            &ArtifactDir::new(dir.path().join(name)).interactions(),
            schema::INTERACTIONS,
        )
        .unwrap();
        let col_u32 = |c: &str| {
            df.column(c)
                .unwrap()
                .u32()
                .unwrap()
                .iter()
                .map(Option::unwrap)
                .collect::<Vec<_>>()
        };
        let splits: Vec<String> = df
            .column("split")
            .unwrap()
            .str()
            .unwrap()
            .iter()
            .map(|s| s.unwrap().to_string())
            .collect();
        let out: Vec<_> = col_u32("user_id")
            .into_iter()
            .zip(col_u32("item_id"))
            .zip(splits)
            .map(|((u, i), s)| (u, i, s))
            .collect();
        assert_eq!(
            summary.interactions + summary.train_reviews_dropped_by_cap,
            4_783.min(summary.review_lines as usize)
        );
        out
    };
    let full = rows(None, "full");
    for cap in [0usize, 1, 5] {
        let capped = rows(Some(cap), &format!("cap{cap}"));
        let tested: std::collections::HashSet<u32> =
            full.iter().filter(|r| r.2 == "test").map(|r| r.1).collect();
        let train_counts = |rows: &[(u32, u32, String)]| {
            let mut per_item = std::collections::HashMap::new();
            for (_, item, split) in rows {
                if split == "train" {
                    *per_item.entry(*item).or_insert(0usize) += 1;
                }
            }
            per_item
        };
        let (per_item, full_per_item) = (train_counts(&capped), train_counts(&full));
        for (item, n) in &full_per_item {
            let kept = per_item.get(item).copied().unwrap_or(0);
            if tested.contains(item) {
                assert_eq!(kept, (*n).min(cap), "cap {cap}, tested item {item}");
            } else {
                assert_eq!(
                    kept, *n,
                    "cap {cap}: untested item {item} lost training reviews"
                );
            }
        }
        assert!(
            per_item.values().sum::<usize>() > 0,
            "cap {cap} left no training data"
        );
        let eval = |r: &[(u32, u32, String)]| {
            r.iter()
                .filter(|x| x.2 != "train")
                .cloned()
                .collect::<Vec<_>>()
        };
        assert_eq!(eval(&capped), eval(&full), "cap {cap} changed valid/test");
    }
}
