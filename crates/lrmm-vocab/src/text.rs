//! How raw text becomes words: the normalizer and pre-tokenizer of `tokenizer.json`.
//!
//! Only built-in `tokenizers` components that serialise are used, so that Python's
//! `tokenizers.Tokenizer.from_file` rebuilds exactly this pipeline. The two regular expressions
//! are plain ASCII on purpose: Python `tokenizers` runs them with Oniguruma and this crate with
//! fancy-regex, and ASCII classes mean the same in both.

use tokenizers::normalizers::{Lowercase, Replace, NFKC};
use tokenizers::pre_tokenizers::whitespace::Whitespace;
use tokenizers::{
    NormalizedString, Normalizer, NormalizerWrapper, OffsetReferential, OffsetType,
    PreTokenizedString, PreTokenizer, PreTokenizerWrapper,
};

use tokenizers::utils::SysRegex;

use crate::error::{Result, VocabError};

/// An HTML tag or comment: `<span class="a-size-medium">`, `</span>`, `<br />`, `<!-- x -->`.
/// It must open with a letter, `/` or `!`, so that "3 < 5 and 6 > 4" survives.
pub const HTML_TAG: &str = r"<[!/]?[A-Za-z][^<>]*>|<!--[^<>]*-->";

/// A named or numeric HTML entity: `&amp;`, `&quot;`, `&#39;`, `&#x2F;`.
pub const HTML_ENTITY: &str = r"&(?:[A-Za-z][A-Za-z0-9]*|#[0-9]+|#[xX][0-9A-Fa-f]+);";

/// The normalizer: Unicode NFKC, HTML tags and entities replaced by a space (so that
/// `Foo</span>bar` stays two words), then lowercase. NFKC comes first so that full-width
/// `＆ａｍｐ；` is recognised as an entity.
pub fn normalizer() -> Result<NormalizerWrapper> {
    let replace = |pattern: &str| {
        Replace::new(
            tokenizers::normalizers::replace::ReplacePattern::Regex(pattern.to_owned()),
            " ",
        )
        .map_err(VocabError::tokenizer)
    };
    Ok(tokenizers::normalizers::Sequence::new(vec![
        NFKC.into(),
        replace(HTML_TAG)?.into(),
        replace(HTML_ENTITY)?.into(),
        Lowercase.into(),
    ])
    .into())
}

/// The pre-tokenizer: runs of word characters, and runs of other non-space characters
/// (`\w+|[^\w\s]+`), so "don't!!" is `don`, `'`, `t`, `!!`.
pub fn pre_tokenizer() -> PreTokenizerWrapper {
    Whitespace.into()
}

/// The regex of the `Whitespace` pre-tokenizer.
const WORD: &str = r"\w+|[^\w\s]+";

/// Splits text into the words the vocabulary is counted on and the model looks up.
///
/// `tokenizers` runs every step on a `NormalizedString` that tracks the alignment of each byte,
/// which this stage never uses and which costs about 5× the work. When the pipeline is exactly
/// this crate's (same serialised normalizer and pre-tokenizer), an ASCII text takes a plain
/// string path that computes the same words: NFKC leaves ASCII unchanged, Unicode lowercase of
/// ASCII is ASCII lowercase, and the tag, entity and word regexes are the same patterns run by
/// the same regex engine. Any other text, or any other pipeline, takes the `tokenizers` path.
pub struct WordSplitter {
    normalizer: NormalizerWrapper,
    pre_tokenizer: PreTokenizerWrapper,
    ascii: Option<AsciiPath>,
}

struct AsciiPath {
    tag: SysRegex,
    entity: SysRegex,
    word: SysRegex,
}

impl AsciiPath {
    fn new() -> Result<Self> {
        let compile = |pattern: &str| SysRegex::new(pattern).map_err(VocabError::tokenizer);
        Ok(Self {
            tag: compile(HTML_TAG)?,
            entity: compile(HTML_ENTITY)?,
            word: compile(WORD)?,
        })
    }

    fn for_each_word(&self, text: &str, on_word: &mut impl FnMut(&str)) {
        debug_assert!(text.is_ascii());
        let mut normalized = if text.contains(['<', '&']) {
            replace_with_space(&self.entity, &replace_with_space(&self.tag, text))
        } else {
            text.to_owned()
        };
        normalized.make_ascii_lowercase();
        for (start, end) in self.word.find_iter(&normalized) {
            on_word(&normalized[start..end]);
        }
    }
}

/// What the `Replace` normalizer does: every non-overlapping match, left to right, becomes " ".
fn replace_with_space(regex: &SysRegex, text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut last = 0;
    for (start, end) in regex.find_iter(text) {
        out.push_str(&text[last..start]);
        out.push(' ');
        last = end;
    }
    out.push_str(&text[last..]);
    out
}

impl WordSplitter {
    pub fn new() -> Result<Self> {
        Self::from_parts(normalizer()?, pre_tokenizer())
    }

    /// A splitter from the components of a tokenizer, e.g. one loaded from `tokenizer.json`.
    pub fn from_parts(
        normalizer: NormalizerWrapper,
        pre_tokenizer: PreTokenizerWrapper,
    ) -> Result<Self> {
        let serialized = |n: &NormalizerWrapper, p: &PreTokenizerWrapper| {
            (serde_json::to_string(n).ok(), serde_json::to_string(p).ok())
        };
        let ours = serialized(&self::normalizer()?, &self::pre_tokenizer());
        let is_ours = ours.0.is_some() && serialized(&normalizer, &pre_tokenizer) == ours;
        Ok(Self {
            normalizer,
            pre_tokenizer,
            ascii: if is_ours {
                Some(AsciiPath::new()?)
            } else {
                None
            },
        })
    }

    /// The same splitter without the ASCII path: every text through `tokenizers`. For tests
    /// and the benchmark.
    pub fn tokenizers_path_only(mut self) -> Self {
        self.ascii = None;
        self
    }

    /// Whether ASCII texts take the plain string path.
    pub fn has_ascii_path(&self) -> bool {
        self.ascii.is_some()
    }

    /// Calls `on_word` for every word of `text`, in order.
    pub fn for_each_word(&self, text: &str, mut on_word: impl FnMut(&str)) -> Result<()> {
        if text.is_empty() {
            return Ok(());
        }
        if let Some(ascii) = &self.ascii {
            if text.is_ascii() {
                ascii.for_each_word(text, &mut on_word);
                return Ok(());
            }
        }
        let mut normalized = NormalizedString::from(text);
        self.normalizer
            .normalize(&mut normalized)
            .map_err(VocabError::tokenizer)?;
        let mut pieces = PreTokenizedString::from(normalized);
        self.pre_tokenizer
            .pre_tokenize(&mut pieces)
            .map_err(VocabError::tokenizer)?;
        for (word, _, _) in pieces.get_splits(OffsetReferential::Normalized, OffsetType::None) {
            on_word(word);
        }
        Ok(())
    }

    /// The words of `text`, in order.
    pub fn words(&self, text: &str) -> Result<Vec<String>> {
        let mut words = Vec::new();
        self.for_each_word(text, |w| words.push(w.to_owned()))?;
        Ok(words)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Words by both paths, which must agree.
    fn words(text: &str) -> Vec<String> {
        let splitter = WordSplitter::new().unwrap();
        assert!(splitter.has_ascii_path());
        let words = splitter.words(text).unwrap();
        let slow = splitter.tokenizers_path_only().words(text).unwrap();
        assert_eq!(
            words, slow,
            "ASCII path and tokenizers path differ on {text:?}"
        );
        words
    }

    #[test]
    fn strips_html_tags_and_entities_and_lowercases() {
        assert_eq!(
            words(r#"<span class="a-size-medium">Foo</span>Bar Rock &amp; Roll&quot;<br />OK"#),
            ["foo", "bar", "rock", "roll", "ok"]
        );
        assert_eq!(words("a &#39;b&#x2F;c"), ["a", "b", "c"]);
    }

    #[test]
    fn keeps_comparisons_that_are_not_tags() {
        assert_eq!(
            words("3 < 5 and 6 > 4"),
            ["3", "<", "5", "and", "6", ">", "4"]
        );
        assert_eq!(words("I <3 it"), ["i", "<", "3", "it"]);
    }

    #[test]
    fn nfkc_folds_compatibility_characters() {
        // Full-width letters, the "ﬁ" ligature, and a full-width entity.
        assert_eq!(
            words("ＧＵＩＴＡＲ ﬁne Ａ＆ａｍｐ；Ｂ"),
            ["guitar", "fine", "a", "b"]
        );
    }

    #[test]
    fn splits_words_and_punctuation() {
        assert_eq!(
            words("Don't buy it!!! Great... 5-star"),
            ["don", "'", "t", "buy", "it", "!!!", "great", "...", "5", "-", "star"]
        );
        assert!(words("").is_empty());
        assert!(words(" \n\t ").is_empty());
    }

    #[test]
    fn ascii_path_agrees_with_tokenizers_on_edge_cases() {
        for text in [
            "<<b>>x</b >< /b><B>y<!--c--><!-- c -->&amp&amp;&AMP;&#;&#x;&#X1f;&a1;&1a;",
            "a\tb\nc\r\nd\x0be\x0cf\x1fg\x7fh \\ _x_ __ -_- ^^ ``",
            "UPPER lower MiXeD 123abc abc123 a_b A.B. e.g. i.e.",
            "<a href=\"x\">tag\nacross lines</a> 1<2 a>b <3 <",
        ] {
            words(text);
        }
    }

    #[test]
    fn another_pipeline_takes_the_tokenizers_path() {
        let mut normalizer = normalizer().unwrap();
        if let NormalizerWrapper::Sequence(seq) = &mut normalizer {
            // The same steps without Lowercase.
            let steps: Vec<NormalizerWrapper> = seq.as_ref().iter().take(3).cloned().collect();
            *seq = tokenizers::normalizers::Sequence::new(steps);
        }
        let splitter = WordSplitter::from_parts(normalizer, pre_tokenizer()).unwrap();
        assert!(!splitter.has_ascii_path());
        assert_eq!(splitter.words("Foo &amp; BAR").unwrap(), ["Foo", "BAR"]);
    }
}
