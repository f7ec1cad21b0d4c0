//! One metadata line of either release: 2014 lines are Python dict literals (parsed by
//! [`crate::pyliteral`]), 2018 lines are JSON with list-valued `description`/`feature` and the
//! image under `imageURLHighRes`, `imageURL` or `image`. Both end up as the same [`ItemMeta`].

use serde_json::Value;

use crate::pyliteral::{parse_literal, PyValue};

/// What lrmm keeps of an item's metadata.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ItemMeta {
    pub asin: String,
    pub title: Option<String>,
    pub description: Option<String>,
    /// 2018 `feature` bullet points, one per line.
    pub features: Option<String>,
    pub image_url: Option<String>,
}

impl ItemMeta {
    /// The item's metadata document: title, description and features, HTML removed.
    pub fn document(&self) -> String {
        [&self.title, &self.description, &self.features]
            .into_iter()
            .flatten()
            .map(|s| strip_html(s))
            .filter(|s| !s.is_empty())
            .collect::<Vec<_>>()
            .join("\n")
    }
}

/// Parses one metadata line, choosing JSON or Python-literal syntax by its first key's quote.
pub fn parse_meta(line: &str) -> Result<ItemMeta, String> {
    let value = if looks_like_json(line) {
        serde_json::from_str::<Value>(line).map_err(|e| format!("invalid JSON: {e}"))?
    } else {
        let literal = parse_literal(line).map_err(|e| format!("invalid Python literal: {e}"))?;
        to_json(literal)
    };
    let Value::Object(map) = value else {
        return Err("a metadata line must be a dict/object".to_string());
    };
    let asin = match map.get("asin") {
        Some(Value::String(s)) if !s.trim().is_empty() => s.trim().to_string(),
        Some(Value::String(_)) => return Err("required field `asin` is empty".to_string()),
        Some(other) => return Err(format!("`asin` must be a string, found {other}")),
        None => return Err("missing required field `asin`".to_string()),
    };
    let image_url = ["imageURLHighRes", "imageURL", "imUrl", "image"]
        .iter()
        .find_map(|k| map.get(*k).and_then(first_text));
    Ok(ItemMeta {
        asin,
        title: map.get("title").and_then(joined_text),
        description: map.get("description").and_then(joined_text),
        features: map.get("feature").and_then(joined_text),
        image_url,
    })
}

fn looks_like_json(line: &str) -> bool {
    let rest = line
        .trim_start()
        .strip_prefix('{')
        .unwrap_or("")
        .trim_start();
    rest.starts_with('"') || rest.starts_with('}')
}

/// A string, or the non-empty strings of a list joined by newlines; `None` when empty.
fn joined_text(v: &Value) -> Option<String> {
    let text = match v {
        Value::String(s) => s.trim().to_string(),
        Value::Array(items) => items
            .iter()
            .filter_map(|i| i.as_str())
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .collect::<Vec<_>>()
            .join("\n"),
        _ => return None,
    };
    (!text.is_empty()).then_some(text)
}

fn first_text(v: &Value) -> Option<String> {
    match v {
        Value::String(s) if !s.trim().is_empty() => Some(s.trim().to_string()),
        Value::Array(items) => items.iter().find_map(first_text),
        _ => None,
    }
}

fn to_json(v: PyValue) -> Value {
    match v {
        PyValue::None => Value::Null,
        PyValue::Bool(b) => Value::Bool(b),
        PyValue::Int(i) => Value::from(i),
        PyValue::Float(f) => serde_json::Number::from_f64(f).map_or(Value::Null, Value::Number),
        PyValue::Str(s) => Value::String(s),
        PyValue::List(items) => Value::Array(items.into_iter().map(to_json).collect()),
        PyValue::Dict(pairs) => Value::Object(
            pairs
                .into_iter()
                .map(|(k, v)| {
                    let key = match k {
                        PyValue::Str(s) => s,
                        other => to_json(other).to_string(),
                    };
                    (key, to_json(v))
                })
                .collect(),
        ),
    }
}

/// Removes HTML tags and decodes the common entities. Real 2018 titles are often a whole
/// `<span class="a-size-medium …">` fragment; the words inside are what matter.
pub fn strip_html(s: &str) -> String {
    if !s.contains('<') && !s.contains('&') {
        return s.split_whitespace().collect::<Vec<_>>().join(" ");
    }
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '<' => {
                // A tag runs to the next '>'; a lone '<' (e.g. "a < b") is kept as text.
                let rest: String = chars.clone().take_while(|&c| c != '>').collect();
                let closed = chars.clone().nth(rest.chars().count()) == Some('>');
                let starts_like_tag = rest
                    .chars()
                    .next()
                    .is_some_and(|c| c.is_ascii_alphabetic() || c == '/' || c == '!');
                // Real 2018 titles can be a tag cut off before its '>': drop that fragment.
                if !closed && starts_like_tag && rest.contains('=') {
                    break;
                }
                let is_tag = rest.len() < 2048
                    && chars.clone().nth(rest.chars().count()) == Some('>')
                    && rest
                        .chars()
                        .next()
                        .is_some_and(|c| c.is_ascii_alphabetic() || c == '/' || c == '!');
                if is_tag {
                    for _ in 0..=rest.chars().count() {
                        chars.next();
                    }
                    // Block elements separate words; inline ones (<b>, <span>) may split one.
                    if is_block_tag(&rest) {
                        out.push(' ');
                    }
                } else {
                    out.push('<');
                }
            }
            '&' => {
                let entity: String = chars.clone().take(10).take_while(|&c| c != ';').collect();
                let decoded = if chars.clone().nth(entity.chars().count()) == Some(';') {
                    decode_entity(&entity)
                } else {
                    None
                };
                match decoded {
                    Some(ch) => {
                        for _ in 0..=entity.chars().count() {
                            chars.next();
                        }
                        out.push(ch);
                    }
                    None => out.push('&'),
                }
            }
            _ => out.push(c),
        }
    }
    out.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn is_block_tag(tag: &str) -> bool {
    let name: String = tag
        .trim_start_matches('/')
        .chars()
        .take_while(char::is_ascii_alphanumeric)
        .collect::<String>()
        .to_ascii_lowercase();
    matches!(
        name.as_str(),
        "br" | "p"
            | "div"
            | "li"
            | "ul"
            | "ol"
            | "tr"
            | "td"
            | "th"
            | "table"
            | "h1"
            | "h2"
            | "h3"
            | "h4"
            | "h5"
            | "h6"
    )
}

fn decode_entity(name: &str) -> Option<char> {
    if let Some(num) = name.strip_prefix('#') {
        let code = match num.strip_prefix(['x', 'X']) {
            Some(hex) => u32::from_str_radix(hex, 16).ok()?,
            None => num.parse().ok()?,
        };
        return char::from_u32(code);
    }
    Some(match name {
        "amp" => '&',
        "lt" => '<',
        "gt" => '>',
        "quot" => '"',
        "apos" => '\'',
        "nbsp" => ' ',
        "ndash" => '–',
        "mdash" => '—',
        "reg" => '®',
        "trade" => '™',
        "copy" => '©',
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_2014_literal() {
        let line = r#"{'asin': '0006428320', 'title': 'Six Sonatas For Two Flutes Or Violins, Volume 2 (#4-6)', 'price': 17.95, 'imUrl': 'http://ecx.images-amazon.com/images/I/41EpRmh8MEL._SY300_.jpg', 'related': {'also_viewed': ['B0058DK7RA']}, 'salesRank': {'Musical Instruments': 207315}, 'categories': [['Musical Instruments', 'Instrument Accessories']], 'description': "It's \"great\"\xe9"}"#;
        let m = parse_meta(line).unwrap();
        assert_eq!(m.asin, "0006428320");
        assert_eq!(
            m.title.as_deref(),
            Some("Six Sonatas For Two Flutes Or Violins, Volume 2 (#4-6)")
        );
        assert_eq!(m.description.as_deref(), Some("It's \"great\"é"));
        assert_eq!(
            m.image_url.as_deref(),
            Some("http://ecx.images-amazon.com/images/I/41EpRmh8MEL._SY300_.jpg")
        );
    }

    #[test]
    fn parses_2018_json_with_lists_and_both_image_spellings() {
        let line = r#"{"category": [], "description": ["First part.", "", "Second part."], "feature": ["Strong", "Light"], "title": "<span class=\"a-size-medium a-color-base\">Vogue &amp; Co</span>", "imageURL": ["https://a/small.jpg"], "imageURLHighRes": ["https://a/large.jpg"], "asin": "B00005N7P0"}"#;
        let m = parse_meta(line).unwrap();
        assert_eq!(m.description.as_deref(), Some("First part.\nSecond part."));
        assert_eq!(m.features.as_deref(), Some("Strong\nLight"));
        assert_eq!(m.image_url.as_deref(), Some("https://a/large.jpg"));
        assert_eq!(
            m.document(),
            "Vogue & Co\nFirst part. Second part.\nStrong Light"
        );
        let only_small =
            parse_meta(r#"{"asin": "X", "imageURL": ["https://a/s.jpg"], "image": []}"#).unwrap();
        assert_eq!(only_small.image_url.as_deref(), Some("https://a/s.jpg"));
        let none = parse_meta(r#"{"asin": "X", "imageURL": [], "title": ""}"#).unwrap();
        assert_eq!((none.image_url, none.title), (None, None));
    }

    #[test]
    fn bad_meta_lines() {
        for (line, expected) in [
            ("{'title': 'x'}", "missing required field `asin`"),
            (r#"{"title": "x"}"#, "missing required field `asin`"),
            (
                "{'asin': 'x', 'title': 'unterminated}",
                "invalid Python literal",
            ),
            (r#"{"asin": "x", "title": }"#, "invalid JSON"),
            ("['asin', 'x']", "must be a dict"),
            ("{'asin': 12}", "`asin` must be a string"),
        ] {
            let err = parse_meta(line).unwrap_err();
            assert!(err.contains(expected), "{line}: {err}");
        }
    }

    #[test]
    fn html_stripping_keeps_text_and_lone_brackets() {
        assert_eq!(
            strip_html("<b>Bold</b> &amp; <i>it</i>&#39;s"),
            "Bold & it's"
        );
        assert_eq!(strip_html("one<br/>two<p>three</p>"), "one two three");
        assert_eq!(
            strip_html("<span class=\"a-size-medium a-color-secondary\""),
            ""
        );
        assert_eq!(strip_html("a < b && c > d"), "a < b && c > d");
        assert_eq!(strip_html("5&nbsp;pack &unknown; x"), "5 pack &unknown; x");
    }
}
