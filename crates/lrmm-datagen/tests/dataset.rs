//! The default dataset, read back from the files the generator writes: its format, its 5-core,
//! its rating skew, and that its planted signal can be learnt from ratings, words and images.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::io::Read;
use std::path::Path;
use std::sync::OnceLock;

use lrmm_core::SeededRng;
use lrmm_datagen::images::rgb_to_hsv;
use lrmm_datagen::interactions::review_time;
use lrmm_datagen::{
    GenerateConfig, ImageKind, Planted, IMAGES_DIR, META_FILE, PLANTED_FILE, REVIEWS_FILE,
};
use serde::Deserialize;

/// One record of the reviews file; unknown fields are an error.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(non_snake_case)]
struct Review {
    reviewerID: String,
    asin: String,
    reviewerName: Option<String>,
    helpful: [u32; 2],
    reviewText: String,
    overall: f64,
    summary: String,
    unixReviewTime: i64,
    reviewTime: String,
}

/// The default dataset (seed 1), read back from disk.
struct Fixture {
    planted: Planted,
    review_lines: Vec<String>,
    reviews: Vec<Review>,
    meta_lines: Vec<String>,
    images: BTreeMap<String, Vec<u8>>,
}

fn gunzip(path: &Path) -> String {
    let mut text = String::new();
    flate2::read::GzDecoder::new(std::fs::File::open(path).unwrap())
        .read_to_string(&mut text)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    text
}

fn read_images(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| {
            let e = e.unwrap();
            (
                e.file_name().to_string_lossy().into_owned(),
                std::fs::read(e.path()).unwrap(),
            )
        })
        .collect()
}

fn default_dataset() -> &'static Fixture {
    static FIXTURE: OnceLock<Fixture> = OnceLock::new();
    FIXTURE.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        lrmm_datagen::generate(&GenerateConfig::default(), dir.path()).unwrap();
        let planted: Planted =
            lrmm_core::atomic::read_json(&dir.path().join(PLANTED_FILE)).unwrap();
        let review_lines: Vec<String> = gunzip(&dir.path().join(REVIEWS_FILE))
            .lines()
            .map(String::from)
            .collect();
        let reviews = review_lines
            .iter()
            .enumerate()
            .map(|(k, l)| {
                serde_json::from_str(l)
                    .unwrap_or_else(|e| panic!("review line {}: {e}: {l}", k + 1))
            })
            .collect();
        let meta_lines = gunzip(&dir.path().join(META_FILE))
            .lines()
            .map(String::from)
            .collect();
        let images = read_images(&dir.path().join(IMAGES_DIR));
        Fixture {
            planted,
            review_lines,
            reviews,
            meta_lines,
            images,
        }
    })
}

fn words(text: &str) -> impl Iterator<Item = String> + '_ {
    text.split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(|w| w.to_ascii_lowercase())
}

/// A seeded random 80/20 split of the review indices: (train, test).
fn split(n: usize) -> (Vec<usize>, Vec<usize>) {
    let mut order: Vec<usize> = (0..n).collect();
    SeededRng::derive(7, "test/split").shuffle(&mut order);
    let test = order.split_off(n * 8 / 10);
    (order, test)
}

fn rmse(pairs: impl Iterator<Item = (f64, f64)>) -> f64 {
    let (sum, n) = pairs.fold((0.0, 0usize), |(s, n), (p, y)| {
        (s + (p - y) * (p - y), n + 1)
    });
    (sum / n as f64).sqrt()
}

fn mean(xs: impl Iterator<Item = f64>) -> f64 {
    let (s, n) = xs.fold((0.0, 0usize), |(s, n), x| (s + x, n + 1));
    s / n as f64
}

fn correlation(xs: &[f64], ys: &[f64]) -> f64 {
    let mx = mean(xs.iter().copied());
    let my = mean(ys.iter().copied());
    let cov: f64 = xs.iter().zip(ys).map(|(x, y)| (x - mx) * (y - my)).sum();
    let vx: f64 = xs.iter().map(|x| (x - mx) * (x - mx)).sum();
    let vy: f64 = ys.iter().map(|y| (y - my) * (y - my)).sum();
    cov / (vx * vy).sqrt()
}

fn all_files(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    let mut files = read_images(&dir.join(IMAGES_DIR));
    for name in [REVIEWS_FILE, META_FILE, PLANTED_FILE] {
        files.insert(name.to_string(), std::fs::read(dir.join(name)).unwrap());
    }
    files
}

#[test]
fn same_seed_gives_the_same_bytes_another_seed_other_bytes() {
    let dirs: Vec<_> = (0..3).map(|_| tempfile::tempdir().unwrap()).collect();
    for (dir, seed) in dirs.iter().zip([1, 1, 2]) {
        let config = GenerateConfig {
            seed,
            ..GenerateConfig::default()
        };
        lrmm_datagen::generate(&config, dir.path()).unwrap();
    }
    let [a, b, c] = [0, 1, 2].map(|k| all_files(dirs[k].path()));
    assert_eq!(a.len(), b.len());
    for (name, bytes) in &a {
        assert!(
            b.get(name) == Some(bytes),
            "{name} differs between two runs with seed 1"
        );
    }
    for name in [REVIEWS_FILE, META_FILE, PLANTED_FILE] {
        assert_ne!(a[name], c[name], "{name} is the same for seeds 1 and 2");
        if name.ends_with(".gz") {
            assert_eq!(
                &a[name][4..8],
                &[0, 0, 0, 0],
                "{name}: gzip header mtime is not 0"
            );
        }
    }
    let asins_a: HashSet<&String> = a.keys().collect();
    let asins_c: HashSet<&String> = c.keys().collect();
    assert!(
        asins_a.intersection(&asins_c).count() <= 3,
        "seed 2 reuses seed 1's image names"
    );
}

#[test]
fn rerun_keeps_files_whose_bytes_did_not_change() {
    let dir = tempfile::tempdir().unwrap();
    let config = GenerateConfig {
        users: 40,
        items: 30,
        ..GenerateConfig::default()
    };
    let (_, first) = lrmm_datagen::generate(&config, dir.path()).unwrap();
    assert_eq!(first.written.len(), 4);
    let before = std::fs::metadata(dir.path().join(REVIEWS_FILE))
        .unwrap()
        .modified()
        .unwrap();
    let (_, second) = lrmm_datagen::generate(&config, dir.path()).unwrap();
    assert!(second.written.is_empty(), "rewrote {:?}", second.written);
    let after = std::fs::metadata(dir.path().join(REVIEWS_FILE))
        .unwrap()
        .modified()
        .unwrap();
    assert_eq!(before, after);

    // Another seed replaces the images folder as a whole: no stale image survives.
    let other = GenerateConfig { seed: 9, ..config };
    let (dataset, third) = lrmm_datagen::generate(&other, dir.path()).unwrap();
    assert_eq!(third.written.len(), 4);
    let names: HashSet<String> = read_images(&dir.path().join(IMAGES_DIR))
        .into_keys()
        .collect();
    let wanted: HashSet<String> = dataset.images.iter().map(|(n, _)| n.clone()).collect();
    assert_eq!(names, wanted);
    let leftovers: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with('.'))
        .collect();
    assert!(leftovers.is_empty(), "temporary files left: {leftovers:?}");
}

#[test]
fn reviews_are_a_5core_without_duplicate_pairs() {
    let data = default_dataset();
    let mut per_user: HashMap<&str, usize> = HashMap::new();
    let mut per_item: HashMap<&str, usize> = HashMap::new();
    let mut pairs = HashSet::new();
    for r in &data.reviews {
        *per_user.entry(&r.reviewerID).or_default() += 1;
        *per_item.entry(&r.asin).or_default() += 1;
        assert!(
            pairs.insert((&r.reviewerID, &r.asin)),
            "duplicate pair {} {}",
            r.reviewerID,
            r.asin
        );
    }
    assert!(
        per_user.values().all(|&n| n >= 5),
        "a user has fewer than 5 reviews"
    );
    assert!(
        per_item.values().all(|&n| n >= 5),
        "an item has fewer than 5 reviews"
    );
    assert_eq!(per_user.len(), 600);
    assert_eq!(per_item.len(), 400);
    let n = data.reviews.len();
    assert!(
        (4500..=5100).contains(&n),
        "{n} reviews, expected about 600 × 8"
    );
    assert_eq!(n, data.planted.counts.reviews);
}

#[test]
fn review_records_look_like_amazon_2014() {
    let data = default_dataset();
    for (line, r) in data.review_lines.iter().zip(&data.reviews) {
        assert!(line.is_ascii(), "non-ASCII review line: {line}");
        assert!(line.starts_with("{\"reviewerID\": \""), "{line}");
        assert!(
            r.reviewerID.starts_with('A')
                && (13..=14).contains(&r.reviewerID.len())
                && r.reviewerID
                    .bytes()
                    .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit()),
            "{}",
            r.reviewerID
        );
        assert!(
            r.asin.len() == 10 && r.asin.starts_with("B00"),
            "{}",
            r.asin
        );
        assert!(r.helpful[0] <= r.helpful[1], "{:?}", r.helpful);
        assert!(
            [1.0, 2.0, 3.0, 4.0, 5.0].contains(&r.overall),
            "{}",
            r.overall
        );
        assert!(
            line.contains(&format!("\"overall\": {:.1},", r.overall)),
            "overall not a float: {line}"
        );
        assert_eq!(r.reviewTime, review_time(r.unixReviewTime));
        assert_eq!(r.unixReviewTime % 86_400, 0);
        let year: i32 = r.reviewTime[r.reviewTime.len() - 4..].parse().unwrap();
        assert!((2010..=2014).contains(&year), "{}", r.reviewTime);
        assert!(!r.summary.is_empty());
        let n_words = words(&r.reviewText).count();
        assert!(
            n_words == 0 || (20..=80).contains(&n_words),
            "{n_words} words: {}",
            r.reviewText
        );
    }
    let n = data.reviews.len() as f64;
    let nameless = data
        .reviews
        .iter()
        .filter(|r| r.reviewerName.is_none())
        .count() as f64;
    assert!(
        (0.004..=0.02).contains(&(nameless / n)),
        "{nameless} records without reviewerName"
    );
    let empty = data
        .reviews
        .iter()
        .filter(|r| r.reviewText.is_empty())
        .count();
    assert!((1..=10).contains(&empty), "{empty} empty review texts");
    // Names with accents are written as \u escapes, as Python's json.dumps does.
    assert!(
        data.review_lines.iter().any(|l| l.contains("\\u00")),
        "no escaped non-ASCII name"
    );
    let times: HashSet<&str> = data.reviews.iter().map(|r| r.reviewTime.as_str()).collect();
    assert!(
        times.iter().any(|t| t.as_bytes()[4] == b','),
        "no single-digit day: {times:?}"
    );
}

#[test]
fn ratings_are_skewed_positive_like_amazon() {
    let data = default_dataset();
    let mut stars = [0usize; 5];
    for r in &data.reviews {
        stars[r.overall as usize - 1] += 1;
    }
    assert_eq!(stars, data.planted.counts.stars);
    let n = data.reviews.len() as f64;
    let share = stars.map(|s| s as f64 / n);
    assert!((0.55..=0.66).contains(&share[4]), "5★ share {share:?}");
    assert!((0.15..=0.25).contains(&share[3]), "4★ share {share:?}");
    assert!(
        (0.05..=0.11).contains(&(share[0] + share[1])),
        "1–2★ share {share:?}"
    );
    assert!(
        stars.windows(2).all(|w| w[0] < w[1]),
        "not increasing with stars: {stars:?}"
    );
}

/// Item and user biases by alternating shrunk means.
fn fit_biases<'a>(
    reviews: &'a [Review],
    train: &[usize],
    global: f64,
) -> (HashMap<&'a str, f64>, HashMap<&'a str, f64>) {
    const SHRINK: f64 = 3.0;
    let mut item_bias: HashMap<&str, f64> = HashMap::new();
    let mut user_bias: HashMap<&str, f64> = HashMap::new();
    for _ in 0..10 {
        let mut sums: HashMap<&str, (f64, f64)> = HashMap::new();
        for &k in train {
            let r = &reviews[k];
            let e = sums.entry(r.asin.as_str()).or_default();
            e.0 += r.overall - global - user_bias.get(r.reviewerID.as_str()).unwrap_or(&0.0);
            e.1 += 1.0;
        }
        item_bias = sums
            .into_iter()
            .map(|(k, (s, n))| (k, s / (n + SHRINK)))
            .collect();
        let mut sums: HashMap<&str, (f64, f64)> = HashMap::new();
        for &k in train {
            let r = &reviews[k];
            let e = sums.entry(r.reviewerID.as_str()).or_default();
            e.0 += r.overall - global - item_bias.get(r.asin.as_str()).unwrap_or(&0.0);
            e.1 += 1.0;
        }
        user_bias = sums
            .into_iter()
            .map(|(k, (s, n))| (k, s / (n + SHRINK)))
            .collect();
    }
    (item_bias, user_bias)
}

#[test]
fn item_and_user_biases_beat_the_global_mean() {
    let reviews = &default_dataset().reviews;
    let (train, test) = split(reviews.len());
    let global = mean(train.iter().map(|&k| reviews[k].overall));
    let (item_bias, user_bias) = fit_biases(reviews, &train, global);
    let baseline = rmse(test.iter().map(|&k| (global, reviews[k].overall)));
    let biased = rmse(test.iter().map(|&k| {
        let r = &reviews[k];
        let p = global
            + item_bias.get(r.asin.as_str()).unwrap_or(&0.0)
            + user_bias.get(r.reviewerID.as_str()).unwrap_or(&0.0);
        (p, r.overall)
    }));
    eprintln!("test RMSE: global mean {baseline:.3}, item + user biases {biased:.3}");
    assert!(
        biased < 0.85 * baseline,
        "biases RMSE {biased:.3} vs global mean {baseline:.3}"
    );
}

#[test]
fn words_of_an_items_other_reviews_beat_the_global_mean() {
    // Word scores learnt from training reviews alone (no planted lexicon): the mean rating
    // residual of the reviews a word occurs in. A pair is predicted from the text of the item's
    // *other* training reviews only.
    let reviews = &default_dataset().reviews;
    let (train, test) = split(reviews.len());
    let global = mean(train.iter().map(|&k| reviews[k].overall));
    let mut word_stats: HashMap<String, (f64, usize)> = HashMap::new();
    for &k in &train {
        let distinct: HashSet<String> = words(&reviews[k].reviewText).collect();
        for w in distinct {
            let e = word_stats.entry(w).or_default();
            e.0 += reviews[k].overall - global;
            e.1 += 1;
        }
    }
    let word_score: HashMap<String, f64> = word_stats
        .into_iter()
        .filter(|(_, (_, n))| *n >= 20)
        .map(|(w, (s, n))| (w, s / n as f64))
        .collect();
    let review_score = |k: usize| -> Option<f64> {
        let scores: Vec<f64> = words(&reviews[k].reviewText)
            .filter_map(|w| word_score.get(&w).copied())
            .collect();
        (!scores.is_empty()).then(|| mean(scores.into_iter()))
    };
    let mut by_item: HashMap<&str, Vec<(usize, f64)>> = HashMap::new();
    for &k in &train {
        if let Some(s) = review_score(k) {
            by_item
                .entry(reviews[k].asin.as_str())
                .or_default()
                .push((k, s));
        }
    }
    let item_text = |k: usize| -> Option<f64> {
        let others: Vec<f64> = by_item
            .get(reviews[k].asin.as_str())?
            .iter()
            .filter(|(j, _)| *j != k)
            .map(|(_, s)| *s)
            .collect();
        (!others.is_empty()).then(|| mean(others.into_iter()))
    };
    // Calibrate prediction = a + b·feature on the training pairs.
    let fit: Vec<(f64, f64)> = train
        .iter()
        .filter_map(|&k| item_text(k).map(|x| (x, reviews[k].overall)))
        .collect();
    let mx = mean(fit.iter().map(|p| p.0));
    let my = mean(fit.iter().map(|p| p.1));
    let b = fit.iter().map(|(x, y)| (x - mx) * (y - my)).sum::<f64>()
        / fit.iter().map(|(x, _)| (x - mx) * (x - mx)).sum::<f64>();
    let a = my - b * mx;

    let baseline = rmse(test.iter().map(|&k| (global, reviews[k].overall)));
    let text = rmse(test.iter().map(|&k| {
        (
            item_text(k).map_or(global, |x| a + b * x),
            reviews[k].overall,
        )
    }));
    eprintln!("test RMSE: global mean {baseline:.3}, words of the item's other reviews {text:.3}");
    assert!(b > 0.0, "slope {b}");
    assert!(
        text < 0.9 * baseline,
        "text-only RMSE {text:.3} vs global mean {baseline:.3}"
    );
}

#[test]
fn every_meaningful_word_is_frequent_in_training_reviews() {
    let data = default_dataset();
    let (train, _) = split(data.reviews.len());
    let mut counts: HashMap<String, usize> = HashMap::new();
    for &k in &train {
        let r = &data.reviews[k];
        for w in words(&r.reviewText).chain(words(&r.summary)) {
            *counts.entry(w).or_default() += 1;
        }
    }
    let p = &data.planted;
    let meaningful = p
        .genres
        .iter()
        .flat_map(|g| g.nouns.iter().chain(&g.context))
        .chain(p.aspects.iter().flat_map(|a| a.good.iter().chain(&a.bad)))
        .chain(p.lexicon.sentiment.iter().flatten())
        .chain(p.lexicon.style.iter().flatten());
    let mut n_meaningful = 0;
    let mut rarest = (usize::MAX, "");
    for w in meaningful {
        n_meaningful += 1;
        let n = counts.get(w).copied().unwrap_or(0);
        assert!(
            n >= 20,
            "`{w}` occurs {n} times in the training reviews (< 20)"
        );
        rarest = rarest.min((n, w.as_str()));
    }
    eprintln!(
        "{n_meaningful} meaningful words; the rarest, `{}`, occurs {} times",
        rarest.1, rarest.0
    );
    assert!(n_meaningful > 150, "{n_meaningful}");
    // A small inventory: a few hundred distinct words in all.
    assert!(
        (150..=400).contains(&counts.len()),
        "{} distinct words",
        counts.len()
    );
}

#[test]
fn style_words_mark_the_users_bias() {
    // Harsh users' style words come with lower ratings than lenient users'.
    let data = default_dataset();
    let groups = &data.planted.lexicon.style;
    let mut sums = vec![(0.0, 0usize); groups.len()];
    for r in &data.reviews {
        for w in words(&r.reviewText) {
            if let Some(g) = groups.iter().position(|ws| ws.contains(&w)) {
                sums[g].0 += r.overall;
                sums[g].1 += 1;
            }
        }
    }
    let means: Vec<f64> = sums.iter().map(|(s, n)| s / *n as f64).collect();
    eprintln!("mean stars by style group: {means:?}");
    assert!(
        means.windows(2).all(|w| w[0] < w[1]),
        "mean stars by style group: {means:?}"
    );
}

#[test]
fn metadata_lines_have_the_2014_keys_and_quality_words() {
    let data = default_dataset();
    let p = &data.planted;
    assert_eq!(data.meta_lines.len(), p.counts.items_with_meta);
    let missing = p.items.len() - p.counts.items_with_meta;
    assert!(
        (5..=40).contains(&missing),
        "{missing} items without metadata"
    );
    let no_description = data
        .meta_lines
        .iter()
        .filter(|l| !l.contains("'description': "))
        .count();
    assert!(
        no_description >= 10,
        "{no_description} items without a description"
    );
    assert!(data
        .meta_lines
        .iter()
        .all(|l| l.starts_with("{'asin': 'B00") && l.contains("'title': ")));
    for key in [
        "'price': ",
        "'imUrl': 'http://ecx.images-amazon.com/images/I/B00",
        "'related': {",
        "'salesRank': {'Synthetic': ",
        "'categories': [['Synthetic', ",
        "'brand': ",
    ] {
        assert!(
            data.meta_lines.iter().filter(|l| l.contains(key)).count() > 300,
            "few lines with {key}"
        );
    }
    // The quirks a literal parser must handle.
    for quirk in ["\\xe9", "\\u2019", "\\u2122", "\\'", "\\n", ": \"", "&#34;"] {
        assert!(
            data.meta_lines.iter().any(|l| l.contains(quirk)),
            "no line with {quirk}"
        );
    }

    // Quality words in the metadata follow the planted quality.
    let quality: HashMap<&str, f64> = p
        .items
        .iter()
        .map(|i| (i.asin.as_str(), i.quality))
        .collect();
    let mut by_tier = vec![Vec::new(); p.lexicon.quality_tiers.len()];
    for line in &data.meta_lines {
        let asin = &line[10..20];
        let hits: Vec<usize> = p
            .lexicon
            .quality_tiers
            .iter()
            .map(|tier| words(line).filter(|w| tier.contains(w)).count())
            .collect();
        let tier = (0..hits.len()).max_by_key(|&t| hits[t]).unwrap();
        by_tier[tier].push(quality[asin]);
    }
    let means: Vec<f64> = by_tier.iter().map(|q| mean(q.iter().copied())).collect();
    eprintln!("mean planted quality by metadata tier: {means:?}");
    assert!(
        means[0] + 0.8 < means[2] && means[0] < means[1] && means[1] < means[2],
        "quality by tier {means:?}"
    );
}

#[test]
fn metadata_is_python_literals_as_ascii_repr_writes_them() {
    let Ok(version) = std::process::Command::new("python3")
        .arg("--version")
        .output()
    else {
        eprintln!("skipped: python3 is not available to check the metadata literals");
        return;
    };
    assert!(version.status.success());
    let dir = tempfile::tempdir().unwrap();
    lrmm_datagen::generate(&GenerateConfig::default(), dir.path()).unwrap();
    let meta = dir.path().join(META_FILE);
    // Each line must be a dict literal that Python reads, and print back to the same line.
    let script = "import ast, gzip, sys\n\
        n = 0\n\
        for k, line in enumerate(gzip.open(sys.argv[1], 'rt'), 1):\n\
        \x20   d = ast.literal_eval(line)\n\
        \x20   assert isinstance(d, dict) and isinstance(d['asin'], str), k\n\
        \x20   assert ascii(d) == line.rstrip('\\n'), (k, ascii(d), line)\n\
        \x20   n += 1\n\
        print(n)\n";
    let out = std::process::Command::new("python3")
        .arg("-c")
        .arg(script)
        .arg(&meta)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "python3 rejected {}: {}",
        meta.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    let n: usize = String::from_utf8_lossy(&out.stdout).trim().parse().unwrap();
    assert_eq!(n, default_dataset().meta_lines.len());
}

#[test]
fn images_decode_and_their_hue_and_brightness_follow_genre_and_quality() {
    let data = default_dataset();
    let p = &data.planted;
    let expected: BTreeMap<String, ImageKind> = p
        .items
        .iter()
        .filter_map(|i| i.image.file_name(&i.asin).map(|n| (n, i.image)))
        .collect();
    assert_eq!(
        data.images.keys().collect::<Vec<_>>(),
        expected.keys().collect::<Vec<_>>()
    );
    let share = data.images.len() as f64 / p.items.len() as f64;
    assert!(
        (0.8..=0.95).contains(&share),
        "{share} of items have an image file"
    );
    assert!(expected.values().filter(|k| **k == ImageKind::Png).count() >= 10);

    let mut undecodable = Vec::new();
    let mut hits = 0;
    let mut decoded = 0;
    let (mut brightness, mut quality) = (Vec::new(), Vec::new());
    for item in &p.items {
        let Some(name) = item.image.file_name(&item.asin) else {
            continue;
        };
        let bytes = &data.images[&name];
        let image = match image::load_from_memory(bytes) {
            Ok(image) => image.to_rgb8(),
            Err(_) => {
                assert_eq!(
                    &bytes[..2],
                    &[0xFF, 0xD8],
                    "{name}: corrupt file is not a cut JPEG"
                );
                undecodable.push(name);
                continue;
            }
        };
        decoded += 1;
        assert_eq!(image.dimensions(), (64, 64), "{name}");
        // Hue and brightness of the product: the saturated pixels.
        let (mut sx, mut sy, mut v_sum, mut n) = (0.0, 0.0, 0.0, 0);
        for px in image.pixels() {
            let (h, s, v) = rgb_to_hsv(px.0.map(|c| f64::from(c) / 255.0));
            if s > 0.3 && v > 0.15 {
                sx += h.to_radians().cos();
                sy += h.to_radians().sin();
                v_sum += v;
                n += 1;
            }
        }
        assert!(n > 64 * 64 / 10, "{name}: product covers only {n} pixels");
        let hue = sy.atan2(sx).to_degrees().rem_euclid(360.0);
        let nearest = (0..p.genres.len())
            .min_by(|&a, &b| {
                let d = |g: usize| {
                    180.0 - ((hue - p.genres[g].hue_degrees).rem_euclid(360.0) - 180.0).abs()
                };
                d(a).total_cmp(&d(b))
            })
            .unwrap();
        hits += usize::from(nearest == item.genre);
        brightness.push(v_sum / f64::from(n));
        quality.push(item.quality);
    }
    assert_eq!(undecodable.len(), 1, "corrupt images: {undecodable:?}");
    let corrupt: Vec<&String> = expected
        .iter()
        .filter(|(_, k)| **k == ImageKind::CorruptJpeg)
        .map(|(n, _)| n)
        .collect();
    assert_eq!(corrupt, vec![&undecodable[0]]);
    let accuracy = hits as f64 / decoded as f64;
    let r = correlation(&brightness, &quality);
    eprintln!("genre from hue: {accuracy:.3}; brightness–quality correlation {r:.3}");
    assert!(
        accuracy > 0.95,
        "genre from hue right for {accuracy:.3} of images"
    );
    assert!(r > 0.6, "brightness–quality correlation {r:.3}");
}

#[test]
fn cli_writes_a_small_dataset_and_rejects_impossible_settings() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("small");
    let status = std::process::Command::new(env!("CARGO_BIN_EXE_lrmm-datagen"))
        .args([
            "--out",
            out.to_str().unwrap(),
            "--seed",
            "3",
            "--users",
            "30",
            "--items",
            "20",
        ])
        .args(["--reviews-per-user", "6", "--image-size", "16"])
        .output()
        .unwrap();
    assert!(
        status.status.success(),
        "{}",
        String::from_utf8_lossy(&status.stderr)
    );
    let lines = gunzip(&out.join(REVIEWS_FILE));
    let reviews: Vec<Review> = lines
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let mut per_item: HashMap<&str, usize> = HashMap::new();
    for r in &reviews {
        *per_item.entry(&r.asin).or_default() += 1;
    }
    assert_eq!(per_item.len(), 20);
    assert!(per_item.values().all(|&n| n >= 5));
    let decoded = std::fs::read_dir(out.join(IMAGES_DIR))
        .unwrap()
        .find_map(|e| image::open(e.unwrap().path()).ok());
    assert_eq!(decoded.unwrap().width(), 16);

    // 10 users × 5 reviews cannot give 20 items 5 reviews each.
    let bad_out = dir.path().join("impossible");
    let status = std::process::Command::new(env!("CARGO_BIN_EXE_lrmm-datagen"))
        .args([
            "--out",
            bad_out.to_str().unwrap(),
            "--users",
            "10",
            "--items",
            "20",
            "--reviews-per-user",
            "5",
        ])
        .output()
        .unwrap();
    assert!(!status.status.success());
    let stderr = String::from_utf8_lossy(&status.stderr);
    assert!(
        stderr.contains("cannot give each of 20 items 5 reviews"),
        "{stderr}"
    );
    assert!(
        !bad_out.exists(),
        "a rejected run left {}",
        bad_out.display()
    );
}

#[test]
fn tight_settings_still_give_a_5core() {
    for (users, items, reviews_per_user) in [(5, 5, 5), (10, 10, 5), (25, 20, 6), (50, 40, 5)] {
        let config = GenerateConfig {
            users,
            items,
            reviews_per_user,
            image_size: 8,
            seed: 4,
        };
        let dataset = lrmm_datagen::build(&config).unwrap();
        let mut per_user: HashMap<String, usize> = HashMap::new();
        let mut per_item: HashMap<String, usize> = HashMap::new();
        let mut pairs = HashSet::new();
        for line in dataset.reviews_jsonl.lines() {
            let r: Review = serde_json::from_str(line).unwrap();
            assert!(
                pairs.insert((r.reviewerID.clone(), r.asin.clone())),
                "duplicate pair in {config:?}"
            );
            *per_user.entry(r.reviewerID).or_default() += 1;
            *per_item.entry(r.asin).or_default() += 1;
        }
        assert_eq!(
            (per_user.len(), per_item.len()),
            (users, items),
            "{config:?}"
        );
        assert!(
            per_user.values().chain(per_item.values()).all(|&n| n >= 5),
            "not a 5-core: {config:?}"
        );
    }
}
