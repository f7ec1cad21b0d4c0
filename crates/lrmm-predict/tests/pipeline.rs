//! lrmm-predict against the pipeline it reuses, on the generated default dataset (built once
//! per run of this file by `common`): the evaluation stage's predictions and ranking metrics,
//! cold items entered from their raw records, new users and items, bad input.

mod common;

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::Path;

use candle_core::Device;
use common::{predict, read_output, s};
use lrmm_core::Modality;
use lrmm_predict::{Pair, PredictOptions, Query, Source};

fn write(path: &Path, text: &str) {
    std::fs::write(path, text).unwrap();
}

#[test]
fn predictions_through_the_binary_equal_the_evaluation_stage_on_every_test_row() {
    let b = common::random();
    let tmp = tempfile::tempdir().unwrap();
    let pairs = tmp.path().join("pairs.jsonl");
    write(&pairs, &b.test_pairs_jsonl(|_| true));
    let out = tmp.path().join("predictions.parquet");
    let (ok, stderr) = b.predict(&["--pairs", s(&pairs), "--out", s(&out)]);
    assert!(ok, "{stderr}");
    let rows = read_output(&out);
    let eval = b.eval_full();
    assert_eq!(rows.len(), b.eval.rows.len());
    let mut max_diff = 0f32;
    for row in &rows {
        let e = eval[&(row.reviewer_id.clone(), row.asin.clone())];
        max_diff = max_diff.max((row.prediction - e).abs());
        assert!(row.sources.iter().all(|s| s == "data" || s == "imputed"));
    }
    eprintln!(
        "eval agreement: {} test rows, max |lrmm-predict − lrmm-eval +F| = {max_diff:e}",
        rows.len()
    );
    assert!(max_diff <= 1e-5, "max abs difference {max_diff}");
}

#[test]
fn top_k_over_each_test_users_items_gives_the_evaluation_stage_metrics() {
    let b = common::random();
    let tmp = tempfile::tempdir().unwrap();
    let pairs = tmp.path().join("pairs.jsonl");
    write(&pairs, &b.test_pairs_jsonl(|_| true));
    // Each user's test items and their true ratings.
    let mut truth: HashMap<(String, String), f32> = HashMap::new();
    let mut per_user: BTreeMap<String, Vec<f32>> = BTreeMap::new();
    for &r in &b.eval.rows {
        let u = b.reviewer_ids[b.ratings.user[r] as usize].clone();
        let a = b.asins[b.ratings.item[r] as usize].clone();
        truth.insert((u.clone(), a), b.ratings.rating[r]);
        per_user.entry(u).or_default().push(b.ratings.rating[r]);
    }
    // K = 10 as `make eval` reports it, and K = 2, below most users' test counts.
    for k in [10, 2] {
        let options = lrmm_eval::evaluate::EvalOptions {
            k,
            ..common::eval_options()
        };
        let metrics = lrmm_eval::evaluate::metrics_report(
            "default",
            &b.ratings,
            &b.eval,
            "evaluated",
            &options,
        );
        let out = tmp.path().join(format!("top{k}.parquet"));
        let (ok, stderr) = b.predict(&[
            "--pairs",
            s(&pairs),
            "--top-k",
            &k.to_string(),
            "--out",
            s(&out),
        ]);
        assert!(ok, "{stderr}");
        let mut lists: BTreeMap<String, Vec<(u32, f32)>> = BTreeMap::new();
        for row in read_output(&out) {
            let t = truth[&(row.reviewer_id.clone(), row.asin.clone())];
            lists
                .entry(row.reviewer_id)
                .or_default()
                .push((row.rank.unwrap(), t));
        }
        assert_eq!(lists.len(), per_user.len(), "one list per test user");
        let threshold = options.relevance_threshold;
        let (mut recall, mut n_recall, mut ndcg, mut n_ndcg) = (0.0, 0, 0.0, 0);
        let dcg = |ratings: &[f32]| -> f64 {
            ratings
                .iter()
                .take(k)
                .enumerate()
                .map(|(i, &r)| (2f64.powf(f64::from(r)) - 1.0) / ((i + 2) as f64).log2())
                .sum()
        };
        for (user, mut list) in lists {
            list.sort_by_key(|(rank, _)| *rank);
            assert!(list.len() <= k);
            let ranked: Vec<f32> = list.iter().map(|(_, t)| *t).collect();
            let all = &per_user[&user];
            let relevant = all.iter().filter(|&&t| t >= threshold).count();
            if relevant > 0 {
                recall +=
                    ranked.iter().filter(|&&t| t >= threshold).count() as f64 / relevant as f64;
                n_recall += 1;
            }
            let mut ideal = all.clone();
            ideal.sort_by(|a, b| b.total_cmp(a));
            if dcg(&ideal) > 0.0 {
                ndcg += dcg(&ranked) / dcg(&ideal);
                n_ndcg += 1;
            }
        }
        let (recall, ndcg) = (recall / n_recall as f64, ndcg / n_ndcg as f64);
        let e = &metrics.lrmm["+F"];
        eprintln!(
            "top-{k}: Recall {recall:.6} NDCG {ndcg:.6}; lrmm-eval: Recall {:.6} NDCG {:.6}",
            e.recall_at_k.unwrap(),
            e.ndcg_at_k.unwrap()
        );
        assert!((recall - e.recall_at_k.unwrap()).abs() < 1e-9, "K = {k}");
        assert!((ndcg - e.ndcg_at_k.unwrap()).abs() < 1e-9, "K = {k}");
    }
}

#[test]
fn new_users_and_new_items_get_finite_predictions_with_the_right_flags() {
    let b = common::random();
    let tmp = tempfile::tempdir().unwrap();
    // A known user and a known item with reviews, metadata and an image.
    let first = b.eval.rows[0];
    let known_user = b.reviewer_ids[b.ratings.user[first] as usize].clone();
    let known_item = b.asins[b.ratings.item[first] as usize].clone();
    // Three reviews of a new user, and a known user's review of a new item with metadata.
    let reviewer = &b.reviewer_ids[1];
    let reviews = tmp.path().join("reviews.json");
    let mut lines = String::new();
    for (i, asin) in b.asins.iter().take(3).enumerate() {
        lines.push_str(&format!(
            "{{\"reviewerID\": \"NEW-USER-3\", \"asin\": \"{asin}\", \"overall\": 4.0, \"reviewText\": \"great sound, solid build {i}\", \"summary\": \"good\", \"unixReviewTime\": {}}}\n",
            1_400_000_000 + i
        ));
    }
    lines.push_str(&format!(
        "{{\"reviewerID\": \"{reviewer}\", \"asin\": \"NEW-ITEM-3\", \"overall\": 2.0, \"reviewText\": \"it broke\", \"unixReviewTime\": 1400000000}}\n"
    ));
    write(&reviews, &lines);
    let meta = tmp.path().join("meta.json");
    write(
        &meta,
        "{\"asin\": \"NEW-ITEM-3\", \"title\": \"A new guitar\", \"description\": [\"Solid wood, warm tone.\"]}\n",
    );
    let pair = |u: &str, a: &str| Pair {
        reviewer_id: u.to_string(),
        asin: a.to_string(),
    };
    let query = Query::Pairs(vec![
        pair(&known_user, &known_item),
        pair("NEW-USER-1", &known_item),
        pair(&known_user, "NEW-ITEM-1"),
        pair("NEW-USER-2", "NEW-ITEM-2"),
        pair("NEW-USER-3", &known_item),
        pair(reviewer, "NEW-ITEM-3"),
    ]);
    let mut opts = PredictOptions::new(&b.model, &b.dir);
    opts.reviews = Some(reviews);
    opts.meta = Some(meta);
    let report = lrmm_predict::run(&opts, &query, &Device::Cpu).unwrap();
    let p = &report.predictions;
    assert_eq!(p.len(), 6);
    assert_eq!((report.new_users, report.new_items), (3, 3));
    for x in p {
        assert!(x.prediction.is_finite() && (1.0..=5.0).contains(&x.prediction));
    }
    let src = |i: usize, m: Modality| p[i].sources[m];
    use Modality::{Image as V, Item as O, Meta as M, User as U};
    use Source::{Data, Imputed};
    for m in Modality::ALL {
        assert_eq!(src(0, m), Data, "known pair {m:?}");
    }
    // A new user without reviews: U imputed, the item's modalities from data.
    assert_eq!([src(1, U), src(1, O)], [Imputed, Data]);
    assert_eq!([src(1, M), src(1, V)], [src(0, M), src(0, V)]);
    // A new item without metadata or image: O, M, V imputed.
    assert_eq!(
        [src(2, U), src(2, O), src(2, M), src(2, V)],
        [Data, Imputed, Imputed, Imputed]
    );
    // Both new: everything imputed.
    for m in Modality::ALL {
        assert_eq!(src(3, m), Imputed, "new user, new item {m:?}");
    }
    // A new user with three reviews is scored with U; a new item with a review and metadata
    // with O and M.
    assert_eq!(src(4, U), Data);
    assert_eq!(
        [src(5, U), src(5, O), src(5, M), src(5, V)],
        [Data, Data, Data, Imputed]
    );
    assert_ne!(p[1].prediction, p[4].prediction, "the reviews reach U");
}

/// The raw metadata lines of `asins` from the generated metadata file.
fn raw_meta_lines(raw: &Path, asins: &HashSet<String>) -> String {
    let mut reader = lrmm_ingest::lines::LineBatches::open(&common::meta_file(raw)).unwrap();
    let mut out = String::new();
    while let Some(batch) = reader.next_batch().unwrap() {
        for (_, line) in batch.lines() {
            let line = std::str::from_utf8(line).unwrap();
            let meta = lrmm_ingest::meta::parse_meta(line).unwrap();
            if asins.contains(&meta.asin) {
                out.push_str(line);
                out.push('\n');
            }
        }
    }
    out
}

#[test]
fn cold_items_from_their_raw_records_equal_the_evaluation_stage() {
    let b = common::cold();
    let raw = &common::fixture().raw;
    let tmp = tempfile::tempdir().unwrap();
    let cold: Vec<bool> = b
        .eval
        .rows
        .iter()
        .map(|&r| b.item_n_train[b.ratings.item[r] as usize] == 0)
        .collect();
    let cold_asins: HashSet<String> = b
        .eval
        .rows
        .iter()
        .zip(&cold)
        .filter(|(_, &c)| c)
        .map(|(&r, _)| b.asins[b.ratings.item[r] as usize].clone())
        .collect();
    assert!(
        cold_asins.len() >= 5,
        "{} cold test items",
        cold_asins.len()
    );
    let pairs = tmp.path().join("pairs.jsonl");
    write(&pairs, &b.test_pairs_jsonl(|k| cold[k]));
    let meta = tmp.path().join("new_items.json");
    write(&meta, &raw_meta_lines(raw, &cold_asins));
    let images = tmp.path().join("images");
    std::fs::create_dir(&images).unwrap();
    for entry in std::fs::read_dir(common::images_dir(raw)).unwrap() {
        let path = entry.unwrap().path();
        let stem = path.file_stem().unwrap().to_str().unwrap().to_string();
        if cold_asins.contains(&stem) {
            std::fs::copy(&path, images.join(path.file_name().unwrap())).unwrap();
        }
    }
    let as_new = tmp.path().join("as_new.txt");
    write(
        &as_new,
        &cold_asins.iter().cloned().collect::<Vec<_>>().join("\n"),
    );
    let out = tmp.path().join("cold.parquet");
    let (ok, stderr) = b.predict(&[
        "--pairs",
        s(&pairs),
        "--meta",
        s(&meta),
        "--images",
        s(&images),
        "--as-new-items",
        s(&as_new),
        "--out",
        s(&out),
    ]);
    assert!(ok, "{stderr}");
    let rows = read_output(&out);
    let eval = b.eval_full();
    assert_eq!(rows.len(), cold.iter().filter(|&&c| c).count());
    let mut max_diff = 0f32;
    for row in &rows {
        assert_eq!(row.sources[1], "imputed", "a cold item has no reviews");
        let e = eval[&(row.reviewer_id.clone(), row.asin.clone())];
        max_diff = max_diff.max((row.prediction - e).abs());
    }
    let with_image = rows.iter().filter(|r| r.sources[3] == "data").count();
    let with_meta = rows.iter().filter(|r| r.sources[2] == "data").count();
    eprintln!(
        "cold items from raw records: {} items, {} test rows ({with_meta} with M, {with_image} with V from the new records), max |lrmm-predict − lrmm-eval +F| = {max_diff:e}",
        cold_asins.len(),
        rows.len()
    );
    assert!(with_image > 0 && with_meta > 0);
    assert!(max_diff <= 1e-4, "max abs difference {max_diff}");
}

#[test]
fn bad_input_names_file_and_line_and_leaves_no_output() {
    let b = common::random();
    let tmp = tempfile::tempdir().unwrap();
    let base = [
        "--model".to_string(),
        s(&b.model).to_string(),
        "--data".to_string(),
        s(&b.dir).to_string(),
    ];
    let run = |extra: &[&str]| {
        let mut args: Vec<&str> = base.iter().map(String::as_str).collect();
        args.extend_from_slice(extra);
        predict(&args)
    };
    let good = b.test_pairs_jsonl(|k| k < 3);
    let out = tmp.path().join("out.parquet");

    let pairs = tmp.path().join("pairs.jsonl");
    let mut lines: Vec<&str> = good.lines().collect();
    lines.insert(1, "{\"reviewerID\": \"A\"}");
    write(&pairs, &lines.join("\n"));
    let (ok, stderr) = run(&["--pairs", s(&pairs), "--out", s(&out)]);
    assert!(!ok);
    assert!(
        stderr.contains("pairs.jsonl:2: missing required field `asin`"),
        "{stderr}"
    );
    assert!(!out.exists(), "no output after an error");
    let (ok, stderr) = run(&["--pairs", s(&pairs), "--out", s(&out), "--skip-bad-lines"]);
    assert!(ok, "{stderr}");
    assert_eq!(read_output(&out).len(), 3);
    std::fs::remove_file(&out).unwrap();

    let empty = tmp.path().join("empty.jsonl");
    write(&empty, "");
    let (ok, stderr) = run(&["--pairs", s(&empty), "--out", s(&out)]);
    assert!(!ok);
    assert!(
        stderr.contains("empty.jsonl") && stderr.contains("empty"),
        "{stderr}"
    );
    assert!(!out.exists());

    let good_pairs = tmp.path().join("good.jsonl");
    write(
        &good_pairs,
        &format!("{good}{{\"reviewerID\": \"NEW-U\", \"asin\": \"NEW-ITEM-9\"}}\n"),
    );
    let meta = tmp.path().join("meta.json");
    write(
        &meta,
        "{\"asin\": \"NEW-ITEM-9\", \"title\": \"A drum\"}\n{\"title\": \"no asin\"}\n",
    );
    let (ok, stderr) = run(&[
        "--pairs",
        s(&good_pairs),
        "--meta",
        s(&meta),
        "--out",
        s(&out),
    ]);
    assert!(!ok);
    assert!(stderr.contains("meta.json:2:"), "{stderr}");
    assert!(!out.exists());

    // A corrupt photo: V is missing, flagged, and the prediction still comes.
    write(&meta, "{\"asin\": \"NEW-ITEM-9\", \"title\": \"A drum\"}\n");
    let images = tmp.path().join("images");
    std::fs::create_dir(&images).unwrap();
    write(&images.join("NEW-ITEM-9.jpg"), "not a jpeg");
    let (ok, stderr) = run(&[
        "--pairs",
        s(&good_pairs),
        "--meta",
        s(&meta),
        "--images",
        s(&images),
        "--out",
        s(&out),
        "--format",
        "jsonl",
    ]);
    assert!(ok, "{stderr}");
    let text = std::fs::read_to_string(&out).unwrap();
    let last: serde_json::Value = serde_json::from_str(text.lines().last().unwrap()).unwrap();
    assert_eq!(last["asin"], "NEW-ITEM-9");
    assert_eq!(last["M"], "data");
    assert_eq!(last["V"], "imputed");
    assert!(last["prediction"].as_f64().unwrap().is_finite());

    // The wrong dataset folder for the model: an error naming the file that differs.
    let other = tmp.path().join("other");
    std::fs::create_dir(&other).unwrap();
    for entry in std::fs::read_dir(&b.dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_file() {
            std::fs::copy(&path, other.join(path.file_name().unwrap())).unwrap();
        }
    }
    let mut tok = std::fs::read_to_string(other.join("tokenizer.json")).unwrap();
    tok.push(' ');
    write(&other.join("tokenizer.json"), &tok);
    let out2 = tmp.path().join("out2.parquet");
    let (ok, stderr) = predict(&[
        "--model",
        s(&b.model),
        "--data",
        s(&other),
        "--pairs",
        s(&good_pairs),
        "--out",
        s(&out2),
    ]);
    assert!(!ok);
    assert!(
        stderr.contains("tokenizer.json") && stderr.contains("not the dataset folder"),
        "{stderr}"
    );
    assert!(!out2.exists());
}
