//! `tokenizer.json` loads in Python `tokenizers` and encodes to the same ids as this crate.
//! Skipped, with the reason printed, when `python3 -c "import tokenizers"` fails.

mod common;

use common::{
    items_frame, python_encode, python_tokenizers_available, reviews_frame, write_inputs, Review,
};
use lrmm_vocab::{run, Encoder, MetadataScope, VocabOptions, VocabRule, UNK_ID};
use tokenizers::Tokenizer;

/// Text that tests every normalizer step, Unicode classes and the ASCII-only regexes.
const TRICKY: &[&str] = &[
    r#"<span class="a-size-medium">Fender Strings</span> Rock &amp; Roll &quot;Live&quot;"#,
    "<a\nhref='x'>multi-line tag</a> &#39;quoted&#39; &#x2F;slash &nbsp;space &AMP;",
    "3 < 5 > 2, I <3 my guitar <!-- a comment --> <> <<b>>",
    "ＦＵＬＬＷＩＤＴＨ ﬁne ½ ² ℃ ™ Ａ＆ａｍｐ；Ｂ",
    "naïve café résumé e\u{301}clair Straße İstanbul ΣΊΣΥΦΟΣ",
    "日本語のレビュー 中文评论 한국어 리뷰 مراجعة",
    "emoji 🎸🎸 ok 👍🏽 under_score snake_case",
    "don't!!! wow... (really?) $19.99 12,345.67 50% #1 @home a+b=c",
    "tab\tnew\nline\r\nnon\u{00A0}breaking\u{2003}em-space zero\u{200B}width",
    "",
    "   ",
    "UNSEENWORD guitar unseenword2",
];

#[test]
fn python_tokenizers_loads_tokenizer_json_and_gives_the_same_ids() {
    if !python_tokenizers_available() {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    // Every tricky text but the last is training text, repeated so that its words pass min_freq 2.
    let mut rows: Vec<Review<'_>> = Vec::new();
    for (i, text) in TRICKY[..TRICKY.len() - 1].iter().enumerate() {
        rows.push((i as u32, 0, "train", text));
        rows.push((i as u32, 1, "train", text));
    }
    rows.push((0, 1, "test", TRICKY[TRICKY.len() - 1]));
    let dir = write_inputs(
        tmp.path(),
        &mut reviews_frame(&rows),
        &mut items_frame(&[(0, "Metadata &amp; <b>Title</b>"), (1, "")]),
    );
    let options = VocabOptions {
        rule: VocabRule {
            min_freq: 2,
            max_size: None,
        },
        metadata_scope: MetadataScope::TrainItems,
    };
    let stats = run(&dir, &options).unwrap();
    assert!(stats.vocab_size > 60, "{}", stats.vocab_size);

    let tokenizer = Tokenizer::from_file(dir.tokenizer()).unwrap();
    let encoder = Encoder::new(&tokenizer).unwrap();
    let python = python_encode(&dir.tokenizer(), TRICKY);
    assert_eq!(python.len(), TRICKY.len());
    for (text, python_ids) in TRICKY.iter().zip(&python) {
        let rust_ids = encoder.encode(text).unwrap();
        assert_eq!(&rust_ids, python_ids, "{text:?}");
        assert_eq!(
            tokenizer.encode(*text, false).unwrap().get_ids(),
            python_ids.as_slice()
        );
    }
    // The comparison is not vacuous: known words, and [UNK] for the unseen ones.
    assert!(python[0].len() >= 5 && !python[0].contains(&UNK_ID));
    assert_eq!(
        python[TRICKY.len() - 1]
            .iter()
            .filter(|&&id| id == UNK_ID)
            .count(),
        2
    );
    assert!(python[9].is_empty());
}
