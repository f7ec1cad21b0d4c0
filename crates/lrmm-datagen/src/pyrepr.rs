//! Python literals written the way the 2014 Amazon metadata files were: `repr()` of a dict, with
//! every non-ASCII character escaped (Python 2's `repr` of unicode, Python 3's `ascii()`).
//!
//! Quote choice and escapes follow CPython's `unicode_repr`: single quotes unless the string
//! holds a `'` and no `"`; then `\\`, the chosen quote, `\t`, `\n`, `\r` escaped, other control
//! characters and Latin-1 as `\xNN`, the rest of the BMP as `\uNNNN`, beyond it `\UNNNNNNNN`.

use std::fmt::Write as _;

/// A Python value, enough of them for Amazon metadata.
#[derive(Debug, Clone, PartialEq)]
pub enum PyValue {
    Str(String),
    Int(i64),
    Float(f64),
    List(Vec<PyValue>),
    /// Keys keep their order, as a Python 3.7+ dict does.
    Dict(Vec<(String, PyValue)>),
}

impl PyValue {
    pub fn str(s: impl Into<String>) -> Self {
        Self::Str(s.into())
    }

    /// The Python literal, as `ascii(value)` prints it.
    pub fn repr(&self) -> String {
        let mut out = String::new();
        self.write_repr(&mut out);
        out
    }

    fn write_repr(&self, out: &mut String) {
        match self {
            Self::Str(s) => out.push_str(&repr_str(s)),
            Self::Int(i) => {
                let _ = write!(out, "{i}");
            }
            Self::Float(x) => out.push_str(&repr_float(*x)),
            Self::List(items) => {
                out.push('[');
                for (k, item) in items.iter().enumerate() {
                    if k > 0 {
                        out.push_str(", ");
                    }
                    item.write_repr(out);
                }
                out.push(']');
            }
            Self::Dict(entries) => {
                out.push('{');
                for (k, (key, value)) in entries.iter().enumerate() {
                    if k > 0 {
                        out.push_str(", ");
                    }
                    out.push_str(&repr_str(key));
                    out.push_str(": ");
                    value.write_repr(out);
                }
                out.push('}');
            }
        }
    }
}

/// `ascii(s)` of a Python string.
pub fn repr_str(s: &str) -> String {
    let quote = if s.contains('\'') && !s.contains('"') {
        '"'
    } else {
        '\''
    };
    let mut out = String::with_capacity(s.len() + 2);
    out.push(quote);
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\t' => out.push_str("\\t"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            c if c == quote => {
                out.push('\\');
                out.push(c);
            }
            ' '..='~' => out.push(c),
            c if (c as u32) < 0x100 => {
                let _ = write!(out, "\\x{:02x}", c as u32);
            }
            c if (c as u32) < 0x1_0000 => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => {
                let _ = write!(out, "\\U{:08x}", c as u32);
            }
        }
    }
    out.push(quote);
    out
}

/// `repr(x)` of a Python float: the shortest digits that round-trip (Rust's `Display` gives the
/// same digits), always with a `.0` or an exponent, scientific below 1e-4 and from 1e16 on.
pub fn repr_float(x: f64) -> String {
    if x.is_nan() {
        return "nan".into();
    }
    if x.is_infinite() {
        return if x > 0.0 { "inf".into() } else { "-inf".into() };
    }
    let magnitude = x.abs();
    if magnitude != 0.0 && !(1e-4..1e16).contains(&magnitude) {
        // Rust writes `1.5e-5`; Python writes `1.5e-05` (sign always, at least two digits).
        let sci = format!("{x:e}");
        let (mantissa, exponent) = sci.split_once('e').unwrap_or((sci.as_str(), "0"));
        let (sign, digits) = match exponent.strip_prefix('-') {
            Some(d) => ('-', d),
            None => ('+', exponent),
        };
        return format!("{mantissa}e{sign}{digits:0>2}");
    }
    let plain = format!("{x}");
    if plain.contains('.') {
        plain
    } else {
        plain + ".0"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // Every expected string below is what CPython 3.11 prints for `ascii(value)`.
    #[test]
    fn strings_pick_quotes_like_python() {
        assert_eq!(repr_str("plain"), "'plain'");
        assert_eq!(repr_str("it's"), "\"it's\"");
        assert_eq!(repr_str("say \"hi\""), "'say \"hi\"'");
        assert_eq!(repr_str("it's 12\" wide"), "'it\\'s 12\" wide'");
        assert_eq!(repr_str(""), "''");
    }

    #[test]
    fn strings_escape_like_python_ascii() {
        assert_eq!(repr_str("Café"), "'Caf\\xe9'");
        assert_eq!(repr_str("it\u{2019}s"), "'it\\u2019s'");
        assert_eq!(repr_str("a\tb\nc\rd\\e"), "'a\\tb\\nc\\rd\\\\e'");
        assert_eq!(repr_str("\u{1}\u{7f}\u{a0}"), "'\\x01\\x7f\\xa0'");
        assert_eq!(repr_str("\u{1f3b8}"), "'\\U0001f3b8'");
        assert_eq!(repr_str("Panmaster\u{2122}"), "'Panmaster\\u2122'");
    }

    #[test]
    fn floats_print_like_python_repr() {
        assert_eq!(repr_float(17.95), "17.95");
        assert_eq!(repr_float(20.0), "20.0");
        assert_eq!(repr_float(0.1 + 0.2), "0.30000000000000004");
        assert_eq!(repr_float(-3.0), "-3.0");
        assert_eq!(repr_float(0.0001), "0.0001");
        assert_eq!(repr_float(0.00001), "1e-05");
        assert_eq!(repr_float(1.5e-7), "1.5e-07");
        assert_eq!(repr_float(1e16), "1e+16");
        assert_eq!(repr_float(123456789012345.0), "123456789012345.0");
        assert_eq!(repr_float(2.5e300), "2.5e+300");
    }

    #[test]
    fn nested_dict_prints_like_python() {
        let value = PyValue::Dict(vec![
            ("asin".into(), PyValue::str("B00ABC1234")),
            ("price".into(), PyValue::Float(9.0)),
            (
                "salesRank".into(),
                PyValue::Dict(vec![("Toys".into(), PyValue::Int(1234))]),
            ),
            (
                "categories".into(),
                PyValue::List(vec![PyValue::List(vec![
                    PyValue::str("A"),
                    PyValue::str("B's"),
                ])]),
            ),
            ("related".into(), PyValue::Dict(vec![])),
            ("tags".into(), PyValue::List(vec![])),
        ]);
        assert_eq!(
            value.repr(),
            "{'asin': 'B00ABC1234', 'price': 9.0, 'salesRank': {'Toys': 1234}, \
             'categories': [['A', \"B's\"]], 'related': {}, 'tags': []}"
        );
    }
}
