//! JSON strings as the Amazon review files have them: Python's `json.dumps` with
//! `ensure_ascii`, so every non-ASCII character is a `\uXXXX` escape (a surrogate pair beyond
//! the BMP) and the files are pure ASCII.

use std::fmt::Write as _;

/// `json.dumps(s)` of a Python string, quotes included.
pub fn ascii_json_string(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            ' '..='~' | '\u{7f}' => out.push(c),
            c => {
                let mut units = [0u16; 2];
                for unit in c.encode_utf16(&mut units) {
                    let _ = write!(out, "\\u{unit:04x}");
                }
            }
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    // Expected strings are what CPython's `json.dumps` prints.
    #[test]
    fn escapes_like_python_json_dumps() {
        assert_eq!(ascii_json_string("plain"), "\"plain\"");
        assert_eq!(
            ascii_json_string("say \"hi\" \\ /"),
            "\"say \\\"hi\\\" \\\\ /\""
        );
        assert_eq!(ascii_json_string("José"), "\"Jos\\u00e9\"");
        assert_eq!(ascii_json_string("a\nb\u{1a}"), "\"a\\nb\\u001a\"");
        assert_eq!(ascii_json_string("\u{1f3b8}"), "\"\\ud83c\\udfb8\"");
    }

    #[test]
    fn output_parses_back_to_the_same_string() {
        for s in ["Zoë \"Z\" O'Brien", "tab\there", "\u{2019}\u{1f600}\u{0}"] {
            let back: String = serde_json::from_str(&ascii_json_string(s)).unwrap();
            assert_eq!(back, s);
        }
    }
}
