//! The spill file changes where review texts wait, not what is written: every artifact of a
//! run with the texts spilled equals, byte for byte, the one of the same run with the texts in
//! memory (the store ingestion used before the spill).

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};

use crate::{ingest_with, tables, IngestOptions, SplitMode, TextStorage};

/// Every file of an output folder by name.
fn folder_bytes(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|entry| {
            let entry = entry.unwrap();
            let name = entry.file_name().into_string().unwrap();
            (name, std::fs::read(entry.path()).unwrap())
        })
        .collect()
}

/// Runs `opts` with each text store into its own folder and compares the folders.
fn assert_same_bytes(opts: &IngestOptions, work: &Path, case: &str) {
    let run = |storage: TextStorage, name: &str| -> BTreeMap<String, Vec<u8>> {
        let out = work.join(format!("{case}-{name}"));
        let opts = IngestOptions {
            out: out.clone(),
            ..opts.clone()
        };
        ingest_with(&opts, storage).unwrap();
        folder_bytes(&out)
    };
    let in_memory = run(TextStorage::InMemory, "in-memory");
    let spilled = run(TextStorage::SpillFile, "spilled");
    // Exactly the artifacts: no staging folder or spill file is left next to them.
    let names: Vec<&str> = spilled.keys().map(String::as_str).collect();
    let mut expected = tables::WRITTEN.to_vec();
    expected.sort_unstable();
    assert_eq!(names, expected, "{case}");
    for (name, bytes) in &in_memory {
        assert!(
            spilled[name] == *bytes,
            "{case}: {name} differs between the in-memory and the spilled texts"
        );
    }
}

#[test]
fn generated_dataset_with_metadata() {
    let work = tempfile::tempdir().unwrap();
    let raw = work.path().join("raw");
    lrmm_datagen::generate(&lrmm_datagen::GenerateConfig::default(), &raw).unwrap();
    let mut opts = IngestOptions::new(raw.join(lrmm_datagen::REVIEWS_FILE), PathBuf::new());
    opts.meta = Some(raw.join(lrmm_datagen::META_FILE));
    assert_same_bytes(&opts, work.path(), "default");

    opts.seed = 7;
    opts.mode = SplitMode::ColdItems { fraction: 0.2 };
    opts.max_train_per_item = Some(1);
    assert_same_bytes(&opts, work.path(), "cold-items");
}

/// A review line; `None` leaves the field out.
fn line(user: &str, item: &str, time: i64, summary: Option<&str>, text: Option<&str>) -> String {
    let mut fields = vec![
        format!("\"reviewerID\": {}", serde_json::to_string(user).unwrap()),
        format!("\"asin\": {}", serde_json::to_string(item).unwrap()),
        format!("\"overall\": {}.0", time % 5 + 1),
        format!("\"unixReviewTime\": {time}"),
    ];
    if let Some(s) = summary {
        fields.push(format!(
            "\"summary\": {}",
            serde_json::to_string(s).unwrap()
        ));
    }
    if let Some(t) = text {
        fields.push(format!(
            "\"reviewText\": {}",
            serde_json::to_string(t).unwrap()
        ));
    }
    format!("{{{}}}", fields.join(", "))
}

/// More rows than one row group of `reviews.parquet`, with re-reviews (later, earlier and tied
/// times), empty and blank texts, non-ASCII text (escaped and raw), a long text, CRLF endings,
/// blank lines and one malformed line.
fn edge_case_reviews(path: &Path) {
    let texts = [
        "",
        "   ",
        "plain words",
        "Gitarre für Anfänger – “gut” ✓",
        "日本語のレビュー 🎸🎹",
        "e\u{301}\u{200d}\u{feff} combining and zero-width",
        "\\u escapes \u{1F600} and a quote \" and a backslash \\",
    ];
    let long = "long ".repeat(30_000);
    let mut file = std::io::BufWriter::new(std::fs::File::create(path).unwrap());
    for i in 0..140_000usize {
        let user = format!("U{}", i % 9_001);
        let item = format!("I{}", i * 7 % 4_001);
        let text = if i == 77 { long.as_str() } else { texts[i % 7] };
        let summary = match i % 4 {
            0 => None,
            1 => Some(""),
            2 => Some("ünï summary"),
            _ => Some(texts[(i / 7) % 7]),
        };
        let body = (i % 11 != 0).then_some(text);
        let end = if i % 13 == 0 { "\r\n" } else { "\n" };
        write!(
            file,
            "{}{end}",
            line(&user, &item, (i % 97) as i64, summary, body)
        )
        .unwrap();
        if i % 50_000 == 0 {
            writeln!(file, "   ").unwrap();
        }
    }
    // Re-reviews of the same pairs: a later one (replaces), an earlier one (dropped), a tie
    // (the later line wins).
    writeln!(
        file,
        "{}",
        line("U1", "I7", 1_000, Some("later"), Some("wins"))
    )
    .unwrap();
    writeln!(
        file,
        "{}",
        line("U2", "I14", -5, None, Some("earlier, dropped"))
    )
    .unwrap();
    writeln!(
        file,
        "{}",
        line("U1", "I7", 1_000, None, Some("tie, later line"))
    )
    .unwrap();
    writeln!(file, "{{\"reviewerID\": \"U3\", \"asin\": ").unwrap();
    file.flush().unwrap();
}

#[test]
fn edge_cases_over_several_row_groups() {
    let work = tempfile::tempdir().unwrap();
    let reviews = work.path().join("reviews.json");
    edge_case_reviews(&reviews);
    let mut opts = IngestOptions::new(&reviews, PathBuf::new());
    opts.skip_bad_lines = true;
    assert_same_bytes(&opts, work.path(), "all");

    opts.k_core = Some(3);
    opts.sample_users = Some(5_000);
    opts.head = Some(120_000);
    assert_same_bytes(&opts, work.path(), "filtered");
}

#[test]
fn failed_run_leaves_no_spill_or_staging_behind() {
    let work = tempfile::tempdir().unwrap();
    let reviews = work.path().join("reviews.json");
    edge_case_reviews(&reviews);
    let out = work.path().join("out");
    // The malformed last line stops the run after every text before it was spilled.
    let err = ingest_with(&IngestOptions::new(&reviews, &out), TextStorage::SpillFile)
        .unwrap_err()
        .to_string();
    assert!(err.contains("reviews.json:140007:"), "{err}");
    assert_eq!(std::fs::read_dir(&out).unwrap().count(), 0);
}
