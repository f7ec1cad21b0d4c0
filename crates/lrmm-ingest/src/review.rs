//! One review line of either release (2014 `reviews_<Cat>.json`, 2018 `<Cat>.json`). The 2018
//! extras (`vote`, `verified`, `style`, `image`) are accepted and ignored: ratings and text are
//! all the model reads.

use std::borrow::Cow;

use serde::Deserialize;

/// The fields lrmm keeps from a review line.
#[derive(Debug, Clone, PartialEq)]
pub struct RawReview {
    pub reviewer_id: String,
    pub asin: String,
    pub rating: f32,
    pub unix_time: i64,
    /// `summary` and `reviewText` joined by a newline; either may be empty.
    pub text: String,
}

#[derive(Deserialize)]
struct ReviewLine<'a> {
    #[serde(rename = "reviewerID", borrow)]
    reviewer_id: Option<Cow<'a, str>>,
    #[serde(borrow)]
    asin: Option<Cow<'a, str>>,
    overall: Option<f64>,
    #[serde(rename = "reviewText", borrow)]
    review_text: Option<Cow<'a, str>>,
    #[serde(borrow)]
    summary: Option<Cow<'a, str>>,
    #[serde(rename = "unixReviewTime")]
    unix_time: Option<i64>,
    #[serde(rename = "reviewTime", borrow)]
    review_time: Option<Cow<'a, str>>,
}

/// Parses one review line; the error says what is wrong with it (the caller adds file and line).
pub fn parse_review(line: &str) -> Result<RawReview, String> {
    let rec: ReviewLine = serde_json::from_str(line).map_err(|e| format!("invalid JSON: {e}"))?;
    let reviewer_id = required(rec.reviewer_id, "reviewerID")?;
    let asin = required(rec.asin, "asin")?;
    let rating = rec
        .overall
        .ok_or_else(|| "missing required field `overall`".to_string())?;
    if !(1.0..=5.0).contains(&rating) {
        return Err(format!("rating `overall` = {rating} is outside 1–5"));
    }
    let unix_time = match (rec.unix_time, rec.review_time.as_deref()) {
        (Some(t), _) => t,
        (None, Some(date)) => parse_review_time(date).ok_or_else(|| {
            format!("cannot read `reviewTime` {date:?} (expected \"MM DD, YYYY\")")
        })?,
        (None, None) => 0,
    };
    let summary = rec.summary.as_deref().unwrap_or("").trim();
    let body = rec.review_text.as_deref().unwrap_or("").trim();
    let text = match (summary.is_empty(), body.is_empty()) {
        (false, false) => format!("{summary}\n{body}"),
        (false, true) => summary.to_string(),
        (true, _) => body.to_string(),
    };
    Ok(RawReview {
        reviewer_id,
        asin,
        rating: rating as f32,
        unix_time,
        text,
    })
}

/// A required id field of a line, as given (ids are matched exactly; only an all-blank one is
/// refused).
pub fn required(value: Option<Cow<'_, str>>, name: &str) -> Result<String, String> {
    match value {
        Some(v) if !v.trim().is_empty() => Ok(v.into_owned()),
        Some(_) => Err(format!("required field `{name}` is empty")),
        None => Err(format!("missing required field `{name}`")),
    }
}

/// Amazon's `reviewTime`, "MM DD, YYYY" (day without leading zero), as a Unix time at midnight UTC.
fn parse_review_time(s: &str) -> Option<i64> {
    let (month_day, year) = s.split_once(',')?;
    let mut parts = month_day.split_whitespace();
    let month: i64 = parts.next()?.parse().ok()?;
    let day: i64 = parts.next()?.parse().ok()?;
    let year: i64 = year.trim().parse().ok()?;
    if !(1..=12).contains(&month) || !(1..=31).contains(&day) {
        return None;
    }
    Some(days_from_civil(year, month, day) * 86_400)
}

/// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

#[cfg(test)]
mod tests {
    use super::*;

    const LINE_2014: &str = r#"{"reviewerID": "A2IBPI20UZIR0U", "asin": "1384719342", "reviewerName": "cassandra tu \"Yeah, well, that's just like, u...", "helpful": [0, 0], "reviewText": "Not much to write about here.", "overall": 5.0, "summary": "good", "unixReviewTime": 1393545600, "reviewTime": "02 28, 2014"}"#;
    const LINE_2018: &str = r#"{"overall": 1.0, "vote": "1,341", "verified": false, "reviewTime": "12 19, 2008", "reviewerID": "APV13CM0919JD", "asin": "B001GXRQW0", "style": {"Gift Amount:": " 50"}, "reviewerName": "LEH", "reviewText": "Amazon,\nI am shopping", "summary": "Merry Christmas.", "unixReviewTime": 1229644800, "image": ["https://x/y.jpg"]}"#;

    #[test]
    fn parses_both_releases() {
        let r = parse_review(LINE_2014).unwrap();
        assert_eq!(r.reviewer_id, "A2IBPI20UZIR0U");
        assert_eq!(r.asin, "1384719342");
        assert_eq!(r.rating, 5.0);
        assert_eq!(r.unix_time, 1_393_545_600);
        assert_eq!(r.text, "good\nNot much to write about here.");
        let r = parse_review(LINE_2018).unwrap();
        assert_eq!((r.rating, r.unix_time), (1.0, 1_229_644_800));
        assert_eq!(r.text, "Merry Christmas.\nAmazon,\nI am shopping");
    }

    #[test]
    fn optional_fields_may_be_missing_or_empty() {
        let r = parse_review(r#"{"reviewerID": "U", "asin": "I", "overall": 3.0, "reviewText": "", "reviewTime": "02 28, 2014"}"#).unwrap();
        assert_eq!(r.text, "");
        assert_eq!(
            r.unix_time, 1_393_545_600,
            "reviewTime is the fallback for a missing unixReviewTime"
        );
    }

    #[test]
    fn bad_records_say_what_is_wrong() {
        let cases = [
            (
                r#"{"asin": "I", "overall": 3.0}"#,
                "missing required field `reviewerID`",
            ),
            (
                r#"{"reviewerID": "U", "overall": 3.0}"#,
                "missing required field `asin`",
            ),
            (
                r#"{"reviewerID": "U", "asin": "I"}"#,
                "missing required field `overall`",
            ),
            (
                r#"{"reviewerID": "U", "asin": "I", "overall": 6.0}"#,
                "outside 1–5",
            ),
            (
                r#"{"reviewerID": "U", "asin": "I", "overall": 0}"#,
                "outside 1–5",
            ),
            (
                r#"{"reviewerID": "", "asin": "I", "overall": 3}"#,
                "`reviewerID` is empty",
            ),
            (
                r#"{"reviewerID": "U", "asin": "I", "overall": "five"}"#,
                "invalid JSON",
            ),
            (
                r#"{"reviewerID": "U", "asin": "I", "overall": 4.0"#,
                "invalid JSON",
            ),
            ("{'reviewerID': 'U'}", "invalid JSON"),
        ];
        for (line, expected) in cases {
            let err = parse_review(line).unwrap_err();
            assert!(err.contains(expected), "{line}: {err}");
        }
    }

    #[test]
    fn civil_dates() {
        assert_eq!(days_from_civil(1970, 1, 1), 0);
        assert_eq!(days_from_civil(2000, 3, 1), 11_017);
        assert_eq!(parse_review_time("12 19, 2008"), Some(1_229_644_800));
        assert_eq!(parse_review_time("13 19, 2008"), None);
    }
}
