//! Reads one Python literal per line, the format of Amazon's 2014 metadata dumps
//! (`meta_<Category>.json`). Those files were written with Python's `str(dict)`, so they use
//! single quotes, `True`/`None` and Python escapes, and no JSON parser accepts them.
//!
//! The accepted language is what `ast.literal_eval` accepts for the types in [`PyValue`]:
//! dicts, lists, tuples (read as lists), str and bytes literals with every prefix but `f`,
//! ints, floats, `True`, `False` and `None`. Not supported: sets, complex numbers,
//! `\N{...}` escapes (they need the Unicode name table), a bare top-level tuple (`1, 2`),
//! comments and backslash continuations outside strings. None of these occur in the Amazon
//! dumps. Where Python would keep a lone surrogate, a Rust `String` gets U+FFFD.

use std::fmt;

/// Nesting deeper than this is an error: a hostile line must not overflow the stack.
const MAX_DEPTH: usize = 256;

/// A parsed Python literal. Tuples become lists and bytes become (lossy UTF-8) strings,
/// since the ingestion code treats both alike.
#[derive(Debug, Clone, PartialEq)]
pub enum PyValue {
    None,
    Bool(bool),
    /// Ints beyond `i64` become [`PyValue::Float`]; Python's ints are unbounded.
    Int(i64),
    Float(f64),
    Str(String),
    List(Vec<PyValue>),
    /// Entries in source order; keys may be any literal, as in Python.
    Dict(Vec<(PyValue, PyValue)>),
}

impl PyValue {
    /// The value under a string key of a dict; `None` for a missing key or a non-dict.
    #[must_use]
    pub fn get(&self, key: &str) -> Option<&PyValue> {
        match self {
            // The last duplicate wins, as when Python builds the dict.
            PyValue::Dict(entries) => entries
                .iter()
                .rev()
                .find(|(k, _)| k.as_str() == Some(key))
                .map(|(_, value)| value),
            _ => None,
        }
    }

    #[must_use]
    pub fn as_str(&self) -> Option<&str> {
        match self {
            PyValue::Str(text) => Some(text),
            _ => None,
        }
    }
}

/// Why a line is not a literal, and where: `column` counts chars from 1.
#[derive(Debug, Clone, PartialEq)]
pub struct ParseError {
    pub column: usize,
    pub message: String,
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "column {}: {}", self.column, self.message)
    }
}

impl std::error::Error for ParseError {}

impl ParseError {
    fn at(pos: usize, message: impl Into<String>) -> Self {
        ParseError {
            column: pos + 1,
            message: message.into(),
        }
    }
}

/// Parses `line` as exactly one literal; only whitespace may surround it.
///
/// # Errors
/// A [`ParseError`] at the first char that cannot continue a literal.
pub fn parse_literal(line: &str) -> Result<PyValue, ParseError> {
    let mut parser = Parser {
        chars: line.chars().collect(),
        pos: 0,
        depth: 0,
    };
    parser.skip_whitespace();
    if parser.peek().is_none() {
        return Err(parser.error("empty input, expected a Python literal"));
    }
    let value = parser.value()?;
    parser.skip_whitespace();
    match parser.peek() {
        None => Ok(value),
        Some(c) => Err(parser.error(format!("unexpected {c:?} after the literal"))),
    }
}

/// Recursive descent over the line's chars, so that `pos + 1` is the column for errors.
struct Parser {
    chars: Vec<char>,
    pos: usize,
    depth: usize,
}

/// A string literal's contents. Bytes stay bytes until adjacent literals are joined, so
/// that a UTF-8 sequence split across `b'..' b'..'` still decodes.
enum Literal {
    Text(String),
    Bytes(Vec<u8>),
}

impl Literal {
    /// A char written as itself in the source.
    fn push_char(&mut self, c: char) -> Result<(), &'static str> {
        match self {
            Literal::Text(text) => text.push(c),
            Literal::Bytes(bytes) => bytes.push(
                u8::try_from(c)
                    .ok()
                    .filter(u8::is_ascii)
                    .ok_or("bytes literals may contain only ASCII characters")?,
            ),
        }
        Ok(())
    }

    /// The value of a simple, octal or `\x` escape: a code point in a str, a byte in bytes.
    fn push_code(&mut self, code: u32) -> Result<(), &'static str> {
        match self {
            Literal::Text(text) => text.push(char::from_u32(code).ok_or("invalid code point")?),
            Literal::Bytes(bytes) => bytes.push(
                u8::try_from(code).map_err(|_| "escape value above 0o377 in a bytes literal")?,
            ),
        }
        Ok(())
    }
}

impl Parser {
    fn peek(&self) -> Option<char> {
        self.chars.get(self.pos).copied()
    }

    fn peek_at(&self, offset: usize) -> Option<char> {
        self.chars.get(self.pos + offset).copied()
    }

    fn eat(&mut self, expected: char) -> bool {
        let found = self.peek() == Some(expected);
        if found {
            self.pos += 1;
        }
        found
    }

    fn error(&self, message: impl Into<String>) -> ParseError {
        ParseError::at(self.pos, message)
    }

    fn expected(&self, what: &str) -> ParseError {
        match self.peek() {
            Some(c) => self.error(format!("expected {what}, found {c:?}")),
            None => self.error(format!("expected {what}, found end of input")),
        }
    }

    /// Python's own whitespace only: anything else outside a string is a syntax error there.
    fn skip_whitespace(&mut self) {
        while matches!(self.peek(), Some(' ' | '\t' | '\n' | '\r' | '\x0c')) {
            self.pos += 1;
        }
    }

    fn value(&mut self) -> Result<PyValue, ParseError> {
        match self.peek() {
            None => Err(self.error("unexpected end of input, expected a value")),
            Some(_) if self.string_prefix_len().is_some() => self.strings(),
            Some('{') => self.nested(Self::dict),
            Some('[') => self.nested(Self::list),
            Some('(') => self.nested(Self::tuple),
            Some('-' | '+') => self.signed_number(),
            Some(c) if c.is_ascii_digit() || c == '.' => self.number(false),
            Some(c) if c.is_alphabetic() || c == '_' => self.word(),
            Some(c) => Err(self.error(format!("unexpected {c:?}, expected a value"))),
        }
    }

    fn nested(
        &mut self,
        parse: fn(&mut Self) -> Result<PyValue, ParseError>,
    ) -> Result<PyValue, ParseError> {
        if self.depth >= MAX_DEPTH {
            return Err(self.error(format!("nesting deeper than {MAX_DEPTH} levels")));
        }
        self.depth += 1;
        let result = parse(self);
        self.depth -= 1;
        result
    }

    /// After an item: `true` if `close` ended the container, `false` after a comma.
    fn after_item(
        &mut self,
        close: char,
        container: &str,
        open: usize,
    ) -> Result<bool, ParseError> {
        self.skip_whitespace();
        if self.eat(close) {
            return Ok(true);
        }
        if self.eat(',') {
            return Ok(false);
        }
        Err(self.expected(&format!(
            "',' or '{close}' in the {container} opened at column {}",
            open + 1
        )))
    }

    fn dict(&mut self) -> Result<PyValue, ParseError> {
        let open = self.pos;
        self.pos += 1;
        let mut entries = Vec::new();
        loop {
            // Checked before every key, which also admits a trailing comma.
            self.skip_whitespace();
            if self.eat('}') {
                return Ok(PyValue::Dict(entries));
            }
            let key = self.value()?;
            self.skip_whitespace();
            if !self.eat(':') {
                return Err(self.expected("':' after dict key"));
            }
            self.skip_whitespace();
            let value = self.value()?;
            entries.push((key, value));
            if self.after_item('}', "dict", open)? {
                return Ok(PyValue::Dict(entries));
            }
        }
    }

    fn list(&mut self) -> Result<PyValue, ParseError> {
        let open = self.pos;
        self.pos += 1;
        self.items(Vec::new(), ']', "list", open)
    }

    fn tuple(&mut self) -> Result<PyValue, ParseError> {
        let open = self.pos;
        self.pos += 1;
        self.skip_whitespace();
        if self.eat(')') {
            return Ok(PyValue::List(Vec::new()));
        }
        let first = self.value()?;
        self.skip_whitespace();
        // `(x)` only groups; the comma is what makes a tuple.
        if self.eat(')') {
            return Ok(first);
        }
        if !self.eat(',') {
            return Err(self.expected(&format!(
                "',' or ')' in the tuple opened at column {}",
                open + 1
            )));
        }
        self.items(vec![first], ')', "tuple", open)
    }

    fn items(
        &mut self,
        mut items: Vec<PyValue>,
        close: char,
        container: &str,
        open: usize,
    ) -> Result<PyValue, ParseError> {
        loop {
            self.skip_whitespace();
            if self.eat(close) {
                return Ok(PyValue::List(items));
            }
            items.push(self.value()?);
            if self.after_item(close, container, open)? {
                return Ok(PyValue::List(items));
            }
        }
    }

    fn word(&mut self) -> Result<PyValue, ParseError> {
        let start = self.pos;
        while self.peek().is_some_and(|c| c.is_alphanumeric() || c == '_') {
            self.pos += 1;
        }
        let word: String = self.chars[start..self.pos].iter().collect();
        match word.as_str() {
            "True" => Ok(PyValue::Bool(true)),
            "False" => Ok(PyValue::Bool(false)),
            "None" => Ok(PyValue::None),
            _ if matches!(self.peek(), Some('\'' | '"')) => Err(ParseError::at(
                start,
                format!("unsupported string prefix '{word}'"),
            )),
            _ => Err(ParseError::at(
                start,
                format!("'{word}' is not a Python literal"),
            )),
        }
    }

    /// The length of the string prefix (`r`, `u`, `b`, `br`, `rb`, any case) if a string
    /// literal starts here.
    fn string_prefix_len(&self) -> Option<usize> {
        (0..=2).find(|&len| {
            let Some(prefix) = self.chars.get(self.pos..self.pos + len) else {
                return false;
            };
            let prefix: String = prefix.iter().map(char::to_ascii_lowercase).collect();
            matches!(self.peek_at(len), Some('\'' | '"'))
                && matches!(prefix.as_str(), "" | "r" | "u" | "b" | "br" | "rb")
        })
    }

    /// One or more adjacent string literals, joined as Python joins them.
    fn strings(&mut self) -> Result<PyValue, ParseError> {
        let mut joined = self.string_literal()?;
        loop {
            self.skip_whitespace();
            if self.string_prefix_len().is_none() {
                break;
            }
            let start = self.pos;
            joined = match (joined, self.string_literal()?) {
                (Literal::Text(mut a), Literal::Text(b)) => {
                    a.push_str(&b);
                    Literal::Text(a)
                }
                (Literal::Bytes(mut a), Literal::Bytes(b)) => {
                    a.extend_from_slice(&b);
                    Literal::Bytes(a)
                }
                _ => {
                    return Err(ParseError::at(
                        start,
                        "cannot join a bytes literal and a str literal",
                    ))
                }
            };
        }
        Ok(PyValue::Str(match joined {
            Literal::Text(text) => text,
            Literal::Bytes(bytes) => String::from_utf8_lossy(&bytes).into_owned(),
        }))
    }

    fn string_literal(&mut self) -> Result<Literal, ParseError> {
        let start = self.pos;
        let (mut raw, mut bytes) = (false, false);
        while let Some(letter) = self.peek().filter(char::is_ascii_alphabetic) {
            raw |= letter.eq_ignore_ascii_case(&'r');
            bytes |= letter.eq_ignore_ascii_case(&'b');
            self.pos += 1;
        }
        let Some(quote) = self.peek() else {
            return Err(self.expected("a string"));
        };
        let triple = self.peek_at(1) == Some(quote) && self.peek_at(2) == Some(quote);
        let quote_len = if triple { 3 } else { 1 };
        self.pos += quote_len;
        let mut out = if bytes {
            Literal::Bytes(Vec::new())
        } else {
            Literal::Text(String::new())
        };
        loop {
            let at = self.pos;
            let c = match self.peek() {
                Some('\n' | '\r') if !triple => None,
                other => other,
            };
            let Some(c) = c else {
                return Err(self.error(format!(
                    "unterminated string starting at column {}",
                    start + 1
                )));
            };
            if c == quote
                && (!triple || (self.peek_at(1) == Some(quote) && self.peek_at(2) == Some(quote)))
            {
                self.pos += quote_len;
                return Ok(out);
            }
            self.pos += 1;
            if c != '\\' {
                out.push_char(c)
                    .map_err(|message| ParseError::at(at, message))?;
            } else if raw {
                // A raw string keeps the backslash and the char after it, which still
                // cannot end the string.
                out.push_char('\\')
                    .map_err(|message| ParseError::at(at, message))?;
                if let Some(next) = self.peek() {
                    self.pos += 1;
                    out.push_char(next)
                        .map_err(|message| ParseError::at(at + 1, message))?;
                }
            } else {
                self.escape(&mut out, at)?;
            }
        }
    }

    /// Decodes the escape whose backslash is at `backslash`; `pos` is just after it.
    fn escape(&mut self, out: &mut Literal, backslash: usize) -> Result<(), ParseError> {
        let fail = |message: &str| ParseError::at(backslash, message);
        // At the end of input the caller reports the unterminated string.
        let Some(c) = self.peek() else { return Ok(()) };
        self.pos += 1;
        let code = match c {
            '\n' => return Ok(()),
            '\r' => {
                self.eat('\n');
                return Ok(());
            }
            '\\' | '\'' | '"' => u32::from(c),
            'a' => 0x07,
            'b' => 0x08,
            'f' => 0x0c,
            'n' => 0x0a,
            'r' => 0x0d,
            't' => 0x09,
            'v' => 0x0b,
            '0'..='7' => {
                let mut code = c.to_digit(8).unwrap_or_default();
                for _ in 0..2 {
                    let Some(digit) = self.peek().and_then(|d| d.to_digit(8)) else {
                        break;
                    };
                    code = code * 8 + digit;
                    self.pos += 1;
                }
                code
            }
            'x' => self.hex_escape('x', 2, backslash)?,
            'u' | 'U' if matches!(out, Literal::Text(_)) => {
                let decoded = self.unicode_escape(c, backslash)?;
                return out.push_char(decoded).map_err(fail);
            }
            'N' if matches!(out, Literal::Text(_)) => {
                return Err(fail("\\N{...} named escapes are not supported"));
            }
            // Python keeps an unrecognised escape as written, backslash included.
            _ => {
                out.push_char('\\').map_err(fail)?;
                return out.push_char(c).map_err(fail);
            }
        };
        out.push_code(code).map_err(fail)
    }

    fn hex_escape(
        &mut self,
        letter: char,
        width: usize,
        backslash: usize,
    ) -> Result<u32, ParseError> {
        let value = self.hex_at(self.pos, width).ok_or_else(|| {
            ParseError::at(
                backslash,
                format!("invalid \\{letter} escape: expected {width} hex digits"),
            )
        })?;
        self.pos += width;
        Ok(value)
    }

    fn hex_at(&self, from: usize, width: usize) -> Option<u32> {
        let digits = self.chars.get(from..from + width)?;
        digits
            .iter()
            .try_fold(0u32, |value, c| Some(value * 16 + c.to_digit(16)?))
    }

    fn unicode_escape(&mut self, letter: char, backslash: usize) -> Result<char, ParseError> {
        let width = if letter == 'u' { 4 } else { 8 };
        let unit = self.hex_escape(letter, width, backslash)?;
        match unit {
            // Python would keep lone surrogates, but a Rust String cannot hold them. A pair
            // written as two escapes (how JSON-minded tools spell astral chars) is one char.
            0xD800..=0xDBFF => Ok(match self.low_surrogate_escape_ahead() {
                Some((low, len)) => {
                    self.pos += len;
                    char::from_u32(0x10000 + ((unit - 0xD800) << 10) + (low - 0xDC00))
                        .unwrap_or(char::REPLACEMENT_CHARACTER)
                }
                None => char::REPLACEMENT_CHARACTER,
            }),
            0xDC00..=0xDFFF => Ok(char::REPLACEMENT_CHARACTER),
            _ => char::from_u32(unit).ok_or_else(|| {
                ParseError::at(
                    backslash,
                    format!("invalid \\{letter} escape: {unit:#x} is beyond U+10FFFF"),
                )
            }),
        }
    }

    /// A `\uDC00`-style low-surrogate escape right here: its value and length in chars.
    fn low_surrogate_escape_ahead(&self) -> Option<(u32, usize)> {
        if self.peek() != Some('\\') {
            return None;
        }
        let width = match self.peek_at(1)? {
            'u' => 4,
            'U' => 8,
            _ => return None,
        };
        let unit = self.hex_at(self.pos + 2, width)?;
        (0xDC00..=0xDFFF)
            .contains(&unit)
            .then_some((unit, 2 + width))
    }

    fn signed_number(&mut self) -> Result<PyValue, ParseError> {
        let sign = self.peek();
        self.pos += 1;
        // `- 5` is a valid literal in Python, so whitespace may follow the sign.
        self.skip_whitespace();
        match self.peek() {
            Some(c) if c.is_ascii_digit() || c == '.' => self.number(sign == Some('-')),
            _ => Err(self.expected(&format!("a number after '{}'", sign.unwrap_or('-')))),
        }
    }

    fn number(&mut self, negative: bool) -> Result<PyValue, ParseError> {
        let start = self.pos;
        let radix = match (self.peek(), self.peek_at(1)) {
            (Some('0'), Some('x' | 'X')) => 16,
            (Some('0'), Some('o' | 'O')) => 8,
            (Some('0'), Some('b' | 'B')) => 2,
            _ => 10,
        };
        if radix != 10 {
            self.pos += 2;
            // `0x_ff` is valid: an underscore may follow the radix prefix.
            if self.peek() == Some('_') && self.peek_at(1).is_some_and(|c| c.is_digit(radix)) {
                self.pos += 1;
            }
            let digits = self.digits(radix);
            if digits.is_empty() {
                return Err(ParseError::at(
                    start,
                    format!("base-{radix} integer has no digits"),
                ));
            }
            self.reject_number_suffix()?;
            return Ok(int_value(negative, &digits, radix));
        }

        let whole = self.digits(10);
        let mut fraction = None;
        if self.eat('.') {
            let digits = self.digits(10);
            if whole.is_empty() && digits.is_empty() {
                return Err(ParseError::at(start, "expected digits around '.'"));
            }
            fraction = Some(digits);
        }
        let mut exponent = None;
        if matches!(self.peek(), Some('e' | 'E')) {
            let exponent_start = self.pos;
            self.pos += 1;
            let exponent_sign = if self.eat('-') {
                "-"
            } else {
                self.eat('+');
                ""
            };
            let digits = self.digits(10);
            if digits.is_empty() {
                return Err(ParseError::at(exponent_start, "exponent has no digits"));
            }
            exponent = Some(format!("{exponent_sign}{digits}"));
        }
        self.reject_number_suffix()?;

        if fraction.is_none() && exponent.is_none() {
            if whole.starts_with('0') && whole.bytes().any(|b| b != b'0') {
                return Err(ParseError::at(
                    start,
                    "leading zeros are not allowed in decimal integers (use 0o for octal)",
                ));
            }
            return Ok(int_value(negative, &whole, 10));
        }
        let sign = if negative { "-" } else { "" };
        let or_zero = |digits: &str| {
            if digits.is_empty() {
                "0".to_owned()
            } else {
                digits.to_owned()
            }
        };
        let text = format!(
            "{sign}{}.{}e{}",
            or_zero(&whole),
            or_zero(&fraction.unwrap_or_default()),
            exponent.unwrap_or_else(|| "0".to_owned()),
        );
        text.parse()
            .map(PyValue::Float)
            .map_err(|_| ParseError::at(start, format!("invalid float literal {text:?}")))
    }

    /// Digits of `radix`, dropping the single underscores Python allows between them.
    fn digits(&mut self, radix: u32) -> String {
        let mut digits = String::new();
        while let Some(c) = self.peek() {
            if c.is_digit(radix) {
                digits.push(c);
            } else if !(c == '_'
                && !digits.is_empty()
                && self.peek_at(1).is_some_and(|n| n.is_digit(radix)))
            {
                break;
            }
            self.pos += 1;
        }
        digits
    }

    /// Python tokenises `12abc` as a number glued to a name, never a literal.
    fn reject_number_suffix(&self) -> Result<(), ParseError> {
        match self.peek() {
            Some('j' | 'J') => Err(self.error("complex numbers are not supported")),
            Some(c) if c.is_alphanumeric() || c == '_' => {
                Err(self.error(format!("invalid {c:?} in number")))
            }
            _ => Ok(()),
        }
    }
}

/// `digits` are valid for `radix`, so parsing can fail only by overflow; then the value is
/// kept as a float rather than rejecting the record.
fn int_value(negative: bool, digits: &str, radix: u32) -> PyValue {
    let signed = if negative {
        format!("-{digits}")
    } else {
        digits.to_owned()
    };
    if let Ok(value) = i64::from_str_radix(&signed, radix) {
        return PyValue::Int(value);
    }
    let magnitude = if radix == 10 {
        // Correctly rounded, unlike the digit-by-digit fold below.
        digits.parse().unwrap_or(f64::INFINITY)
    } else {
        digits
            .chars()
            .filter_map(|c| c.to_digit(radix))
            .fold(0.0, |value, digit| {
                value * f64::from(radix) + f64::from(digit)
            })
    };
    PyValue::Float(if negative { -magnitude } else { magnitude })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(value: &str) -> PyValue {
        PyValue::Str(value.to_owned())
    }

    fn parsed(input: &str) -> PyValue {
        parse_literal(input).unwrap_or_else(|e| panic!("{input:?} should parse: {e}"))
    }

    fn parsed_str(input: &str) -> String {
        match parsed(input) {
            PyValue::Str(value) => value,
            other => panic!("{input:?} should be a string, got {other:?}"),
        }
    }

    fn failure(input: &str) -> ParseError {
        match parse_literal(input) {
            Ok(value) => panic!("{input:?} should fail, got {value:?}"),
            Err(e) => e,
        }
    }

    /// Asserts the error column and that the message mentions `fragment`.
    fn assert_fails(input: &str, column: usize, fragment: &str) {
        let error = failure(input);
        assert_eq!(error.column, column, "column for {input:?}: {error}");
        assert!(
            error.message.contains(fragment),
            "message for {input:?} lacks {fragment:?}: {error}"
        );
    }

    #[test]
    fn escaped_quotes_of_both_kinds_in_both_quote_styles() {
        assert_eq!(parsed_str(r#"'it\'s a "quote"'"#), r#"it's a "quote""#);
        assert_eq!(parsed_str(r#"'a\"b'"#), r#"a"b"#);
        assert_eq!(parsed_str(r#""say \"hi\", it's""#), r#"say "hi", it's"#);
        assert_eq!(parsed_str(r#""a\'b""#), "a'b");
        assert_eq!(parsed_str(r"'back\\slash\\'"), r"back\slash\");
    }

    #[test]
    fn simple_and_octal_escapes() {
        assert_eq!(
            parsed_str(r"'\n\r\t\b\f\v\a\0'"),
            "\n\r\t\u{8}\u{c}\u{b}\u{7}\0"
        );
        // Octal takes at most three digits, so the final '0' is a plain char.
        assert_eq!(parsed_str(r"'\101\7\1010'"), "A\u{7}A0");
        assert_eq!(parsed_str(r"'\351'"), "é");
    }

    #[test]
    fn unknown_escapes_keep_their_backslash_like_python() {
        assert_eq!(parsed_str(r"'C:\dir\q'"), r"C:\dir\q");
    }

    #[test]
    fn hex_and_unicode_escapes() {
        assert_eq!(parsed_str(r"'caf\xe9'"), "café");
        assert_eq!(parsed_str(r"'caf\u00e9'"), "café");
        assert_eq!(parsed_str(r"'\U0001F3B8 guitar'"), "🎸 guitar");
        assert_eq!(parsed_str(r"'\xE9\u00C9'"), "éÉ");
    }

    #[test]
    fn surrogate_pairs_combine_and_lone_surrogates_become_replacement_chars() {
        assert_eq!(parsed_str(r"'\ud83d\ude00!'"), "😀!");
        assert_eq!(parsed_str(r"'\uD83D\U0000DE00'"), "😀");
        assert_eq!(parsed_str(r"'\ud83dx'"), "\u{FFFD}x");
        assert_eq!(parsed_str(r"'\ude00'"), "\u{FFFD}");
        assert_eq!(parsed_str(r"'\ud83d\u0041'"), "\u{FFFD}A");
        assert_eq!(parsed_str(r"'\ud83d\ud83d\ude00'"), "\u{FFFD}😀");
    }

    #[test]
    fn backslash_newline_continues_the_string() {
        assert_eq!(parsed_str("'ab\\\ncd'"), "abcd");
        assert_eq!(parsed_str("'ab\\\r\ncd'"), "abcd");
    }

    #[test]
    fn raw_unicode_text_in_the_line() {
        let value = parsed("{'title': 'Ñandú – 日本のギター 🎸', 'brand': \"Café\"}");
        assert_eq!(
            value.get("title").and_then(PyValue::as_str),
            Some("Ñandú – 日本のギター 🎸")
        );
        assert_eq!(value.get("brand").and_then(PyValue::as_str), Some("Café"));
    }

    #[test]
    fn raw_strings_skip_escape_processing() {
        assert_eq!(parsed_str(r"r'a\nb\'c'"), r"a\nb\'c");
        assert_eq!(parsed_str(r#"R"\d\x""#), r"\d\x");
        assert_eq!(parsed_str(r"rb'\xff'"), r"\xff");
        assert_fails(r"r'ends\'", 9, "unterminated string starting at column 1");
    }

    #[test]
    fn unicode_and_bytes_prefixes() {
        assert_eq!(parsed_str("u'x'"), "x");
        assert_eq!(parsed_str("U\"x\""), "x");
        assert_eq!(parsed_str("b'abc'"), "abc");
        // Bytes are decoded as UTF-8 only after joining, so a split sequence survives.
        assert_eq!(parsed_str(r"b'caf\xc3' b'\xa9'"), "café");
        assert_eq!(parsed_str(r"b'\u00e9'"), r"\u00e9");
        assert_fails("b'é'", 3, "only ASCII");
        assert_fails("'a' b'b'", 5, "cannot join");
        assert_fails("f'x'", 1, "unsupported string prefix 'f'");
        assert_fails("ur'x'", 1, "unsupported string prefix 'ur'");
    }

    #[test]
    fn adjacent_string_literals_concatenate() {
        assert_eq!(parsed_str(r#"'a' "b"'c'"#), "abc");
        assert_eq!(parsed_str("'a'u'b' r'\\n'"), "ab\\n");
        assert_eq!(parsed("{'k': 'a' 'b', 'n': 1}").get("k"), Some(&text("ab")));
    }

    #[test]
    fn triple_quoted_strings_hold_quotes_and_newlines() {
        assert_eq!(parsed_str("'''it's \"x\"\n y'''"), "it's \"x\"\n y");
        assert_eq!(parsed_str(r#""""a""b""""#), r#"a""b"#);
        assert_fails("'''abc''", 9, "unterminated string starting at column 1");
    }

    #[test]
    fn nested_dicts_lists_and_tuples() {
        let value = parsed("{'a': [1, (2, 3), {'b': [[]]}], 'c': ((4,),)}");
        let expected = PyValue::Dict(vec![
            (
                text("a"),
                PyValue::List(vec![
                    PyValue::Int(1),
                    PyValue::List(vec![PyValue::Int(2), PyValue::Int(3)]),
                    PyValue::Dict(vec![(
                        text("b"),
                        PyValue::List(vec![PyValue::List(vec![])]),
                    )]),
                ]),
            ),
            (
                text("c"),
                PyValue::List(vec![PyValue::List(vec![PyValue::Int(4)])]),
            ),
        ]);
        assert_eq!(value, expected);
    }

    #[test]
    fn empty_containers() {
        assert_eq!(parsed("{}"), PyValue::Dict(vec![]));
        assert_eq!(parsed("{ }"), PyValue::Dict(vec![]));
        assert_eq!(parsed("[]"), PyValue::List(vec![]));
        assert_eq!(parsed("( )"), PyValue::List(vec![]));
    }

    #[test]
    fn trailing_commas_and_parenthesised_values() {
        assert_eq!(
            parsed("[1, 2,]"),
            PyValue::List(vec![PyValue::Int(1), PyValue::Int(2)])
        );
        assert_eq!(
            parsed("{'a': 1,}"),
            PyValue::Dict(vec![(text("a"), PyValue::Int(1))])
        );
        assert_eq!(parsed("(1,)"), PyValue::List(vec![PyValue::Int(1)]));
        assert_eq!(parsed("(1)"), PyValue::Int(1));
        assert_eq!(parsed("(('x'))"), text("x"));
        assert_fails("[1,,]", 4, "expected a value");
        assert_fails("[,]", 2, "expected a value");
    }

    #[test]
    fn dict_keys_may_be_any_literal() {
        let value = parsed("{1: 'one', (1, 2): None, 'k': True}");
        let PyValue::Dict(entries) = &value else {
            panic!("not a dict: {value:?}")
        };
        assert_eq!(entries[0], (PyValue::Int(1), text("one")));
        assert_eq!(
            entries[1].0,
            PyValue::List(vec![PyValue::Int(1), PyValue::Int(2)])
        );
        assert_eq!(value.get("k"), Some(&PyValue::Bool(true)));
    }

    #[test]
    fn integers() {
        assert_eq!(parsed("0"), PyValue::Int(0));
        assert_eq!(parsed("000"), PyValue::Int(0));
        assert_eq!(parsed("-5"), PyValue::Int(-5));
        assert_eq!(parsed("+7"), PyValue::Int(7));
        assert_eq!(parsed("- 3"), PyValue::Int(-3));
        assert_eq!(parsed("1_000_000"), PyValue::Int(1_000_000));
        assert_eq!(parsed("0x1F"), PyValue::Int(31));
        assert_eq!(parsed("0X_ff"), PyValue::Int(255));
        assert_eq!(parsed("-0o17"), PyValue::Int(-15));
        assert_eq!(parsed("0b1_01"), PyValue::Int(5));
        assert_eq!(parsed("-9223372036854775808"), PyValue::Int(i64::MIN));
        assert_eq!(parsed("9223372036854775807"), PyValue::Int(i64::MAX));
    }

    #[test]
    fn integers_beyond_i64_become_floats() {
        assert_eq!(
            parsed("9223372036854775808"),
            PyValue::Float(9_223_372_036_854_775_808.0)
        );
        assert_eq!(parsed("-100000000000000000000"), PyValue::Float(-1e20));
        assert_eq!(
            parsed("0x10000000000000000"),
            PyValue::Float(18_446_744_073_709_551_616.0)
        );
    }

    #[test]
    fn floats() {
        assert_eq!(parsed("1.5"), PyValue::Float(1.5));
        assert_eq!(parsed("-1.5e-3"), PyValue::Float(-0.0015));
        assert_eq!(parsed("1e3"), PyValue::Float(1000.0));
        assert_eq!(parsed("2E+2"), PyValue::Float(200.0));
        assert_eq!(parsed(".5"), PyValue::Float(0.5));
        assert_eq!(parsed("-.25"), PyValue::Float(-0.25));
        assert_eq!(parsed("1."), PyValue::Float(1.0));
        assert_eq!(parsed("007.5"), PyValue::Float(7.5));
        assert_eq!(parsed("1_0.0_1e1_0"), PyValue::Float(10.01e10));
        assert_eq!(parsed("17.95"), PyValue::Float(17.95));
    }

    #[test]
    fn malformed_numbers_are_rejected() {
        assert_fails("01", 1, "leading zeros");
        assert_fails("1_", 2, "invalid '_' in number");
        assert_fails("1__0", 2, "invalid '_' in number");
        assert_fails("1e", 2, "exponent has no digits");
        assert_fails("1.5e+", 4, "exponent has no digits");
        assert_fails("3j", 2, "complex numbers");
        assert_fails("0b102", 5, "invalid '2' in number");
        assert_fails("0x", 1, "no digits");
        assert_fails(".", 1, "digits around '.'");
        assert_fails("--1", 2, "expected a number after '-'");
        assert_fails("inf", 1, "'inf' is not a Python literal");
        assert_fails("nan", 1, "'nan' is not a Python literal");
        assert_fails("-inf", 2, "expected a number after '-'");
    }

    #[test]
    fn keywords() {
        assert_eq!(
            parsed("[True, False, None]"),
            PyValue::List(vec![
                PyValue::Bool(true),
                PyValue::Bool(false),
                PyValue::None
            ])
        );
        assert_fails("true", 1, "'true' is not a Python literal");
        assert_fails("[Nonesuch]", 2, "'Nonesuch' is not a Python literal");
    }

    #[test]
    fn whitespace_between_every_token() {
        let value = parsed(" \t{ 'a' :\n[ 1 , - 2.5 , ] , 'b' : ( None , ) }\r\n ");
        assert_eq!(
            value.get("a"),
            Some(&PyValue::List(vec![PyValue::Int(1), PyValue::Float(-2.5)]))
        );
        assert_eq!(value.get("b"), Some(&PyValue::List(vec![PyValue::None])));
    }

    #[test]
    fn get_and_as_str() {
        let value = parsed("{'a': 1, 2: 'two', 'a': 'last'}");
        assert_eq!(
            value.get("a"),
            Some(&text("last")),
            "the last duplicate key wins, as in Python"
        );
        assert_eq!(value.get("2"), None, "an int key is not the string '2'");
        assert_eq!(value.get("missing"), None);
        assert_eq!(parsed("['a']").get("a"), None);
        assert_eq!(text("x").as_str(), Some("x"));
        assert_eq!(PyValue::Int(1).as_str(), None);
    }

    #[test]
    fn a_real_amazon_record_with_related_sales_rank_and_categories() {
        let line = r#"{'asin': 'B00004Y2UT', 'related': {'also_bought': ['B0002E1G5C', 'B0002GLDQM'], 'bought_together': ['B0002E1G5C'], 'buy_after_viewing': ['B000068NW5']}, 'title': 'Fender 4\' Guitar Cable \xe9', 'price': 4.99, 'salesRank': {'Musical Instruments': 3}, 'imUrl': 'http://ecx.images-amazon.com/images/I/41A.jpg', 'categories': [['Musical Instruments', 'Instrument Accessories'], ['Musical Instruments', 'Amplifiers & Effects']], 'description': "Fender's cable.\nDurable."}"#;
        let record = parsed(line);
        assert_eq!(
            record.get("asin").and_then(PyValue::as_str),
            Some("B00004Y2UT")
        );
        assert_eq!(
            record.get("title").and_then(PyValue::as_str),
            Some("Fender 4' Guitar Cable é")
        );
        assert_eq!(record.get("price"), Some(&PyValue::Float(4.99)));
        assert_eq!(
            record
                .get("salesRank")
                .and_then(|rank| rank.get("Musical Instruments")),
            Some(&PyValue::Int(3))
        );
        let also_bought = record
            .get("related")
            .and_then(|related| related.get("also_bought"));
        assert_eq!(
            also_bought,
            Some(&PyValue::List(vec![text("B0002E1G5C"), text("B0002GLDQM")]))
        );
        let Some(PyValue::List(categories)) = record.get("categories") else {
            panic!("categories should be a list: {record:?}")
        };
        assert_eq!(categories.len(), 2);
        assert_eq!(
            categories[1],
            PyValue::List(vec![
                text("Musical Instruments"),
                text("Amplifiers & Effects")
            ])
        );
        assert_eq!(
            record.get("description").and_then(PyValue::as_str),
            Some("Fender's cable.\nDurable.")
        );
    }

    #[test]
    fn unterminated_strings_name_where_they_started() {
        assert_fails("{'a': 'abc", 11, "unterminated string starting at column 7");
        assert_fails("'abc\\'", 7, "unterminated string starting at column 1");
        assert_fails(
            "'line\nbreak'",
            6,
            "unterminated string starting at column 1",
        );
        assert_fails("u'", 3, "unterminated string starting at column 1");
    }

    #[test]
    fn structural_errors_name_the_column() {
        assert_fails("{'a' 1}", 6, "expected ':' after dict key, found '1'");
        assert_fails("{'a', 'b'}", 5, "expected ':' after dict key");
        assert_fails("{'a': 1} x", 10, "unexpected 'x' after the literal");
        assert_fails("[1] [2]", 5, "after the literal");
        assert_fails(
            "[1, [2, 3]",
            11,
            "expected ',' or ']' in the list opened at column 1, found end of input",
        );
        assert_fails("[1, 2}", 6, "expected ',' or ']'");
        assert_fails(
            "{'a': 1]",
            8,
            "expected ',' or '}' in the dict opened at column 1, found ']'",
        );
        assert_fails("(1 2)", 4, "expected ',' or ')' in the tuple");
        assert_fails("]", 1, "unexpected ']', expected a value");
        assert_fails("{'a': }", 7, "expected a value");
        assert_fails("", 1, "empty input");
        assert_fails("   ", 4, "empty input");
        assert_fails("@", 1, "unexpected '@'");
    }

    #[test]
    fn bad_escapes_point_at_the_backslash() {
        assert_fails(r"'ab\x4g'", 4, "invalid \\x escape: expected 2 hex digits");
        assert_fails(r"'\x'", 2, "invalid \\x escape");
        assert_fails(r"'\u12'", 2, "invalid \\u escape: expected 4 hex digits");
        assert_fails(r"'\U0011FFFF'", 2, "beyond U+10FFFF");
        assert_fails(r"'\N{BULLET}'", 2, "named escapes are not supported");
        assert_fails(r"b'\777'", 3, "above 0o377");
    }

    #[test]
    fn columns_count_chars_not_bytes() {
        assert_fails("'日本語' x", 7, "after the literal");
    }

    #[test]
    fn nesting_is_limited_instead_of_overflowing_the_stack() {
        let deepest_allowed = format!("{}{}", "[".repeat(MAX_DEPTH), "]".repeat(MAX_DEPTH));
        assert!(parse_literal(&deepest_allowed).is_ok());
        let too_deep = format!("{}{}", "[".repeat(MAX_DEPTH + 1), "]".repeat(MAX_DEPTH + 1));
        assert_fails(&too_deep, MAX_DEPTH + 1, "nesting deeper than");
        // Each "{'a': (" opens two containers, so the one too many is the `{` of copy 128.
        assert_fails(
            &"{'a': (".repeat(100_000),
            128 * 7 + 1,
            "nesting deeper than",
        );
    }

    #[test]
    fn display_names_the_column() {
        assert_eq!(
            failure("{'a' 1}").to_string(),
            "column 6: expected ':' after dict key, found '1'"
        );
    }

    #[test]
    fn parses_every_line_of_the_real_musical_instruments_head() {
        let Some(data_dir) = lrmm_testing::shared_data_dir() else {
            eprintln!("skipped: the shared data folder is absent (set LRMM_SHARED_DATA or place ../shared/data beside the repository)");
            return;
        };
        let path =
            data_dir.join("amazon-2014/Musical_Instruments/meta_Musical_Instruments.head100.json");
        let Ok(contents) = std::fs::read_to_string(&path) else {
            eprintln!("skipped: {} is absent", path.display());
            return;
        };
        let (mut lines, mut titled, mut description_chars, mut also_bought) = (0, 0, 0, 0);
        for (index, line) in contents.lines().enumerate() {
            let record = parse_literal(line)
                .unwrap_or_else(|e| panic!("{} line {}: {e}", path.display(), index + 1));
            let asin = record.get("asin").and_then(PyValue::as_str);
            assert!(
                asin.is_some_and(|asin| asin.len() == 10),
                "line {}: asin {asin:?}",
                index + 1
            );
            lines += 1;
            titled += usize::from(record.get("title").and_then(PyValue::as_str).is_some());
            description_chars += record
                .get("description")
                .and_then(PyValue::as_str)
                .map_or(0, |description| description.chars().count());
            if let Some(PyValue::List(asins)) =
                record.get("related").and_then(|r| r.get("also_bought"))
            {
                also_bought += asins.len();
            }
        }
        eprintln!("{}: {lines} records, {titled} with a title", path.display());
        // Reference figures from Python's `ast.literal_eval` over the same file.
        assert_eq!(lines, 100);
        assert_eq!(titled, 79);
        assert_eq!(description_chars, 54_455);
        assert_eq!(also_bought, 822);
    }
}
