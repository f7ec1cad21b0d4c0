//! The words: review texts and summaries tied to the rating, the item and the user; titles and
//! descriptions tied to the item's genre, quality and aspects.

use lrmm_core::SeededRng;

use crate::lexicon::{
    ASPECTS, GENRES, PEOPLE, PERIODS, QUALITY_TIERS, REVIEW_TEMPLATES, SENTIMENT, STAR_SUMMARIES,
};
use crate::world::{Item, User};

/// Review texts have 20 to 80 words (unless left empty).
pub const MIN_REVIEW_WORDS: usize = 20;
pub const MAX_REVIEW_WORDS: usize = 80;

fn pick<'a>(rng: &mut SeededRng, words: &[&'a str]) -> &'a str {
    words[rng.below(words.len() as u64) as usize]
}

/// A sentiment word for a review of `stars`: usually of that rating, one in four a neighbour's.
fn sentiment_word(rng: &mut SeededRng, stars: u8) -> &'static str {
    let mut level = i32::from(stars) - 1;
    if rng.bernoulli(0.25) {
        level += if rng.bernoulli(0.5) { 1 } else { -1 };
    }
    pick(rng, SENTIMENT[level.clamp(0, 4) as usize])
}

/// A word about one of the item's aspects: the one the user weighs most, half the time. It is
/// a good word with a chance that rises with how well the item does on that aspect.
fn aspect_word(rng: &mut SeededRng, user: &User, item: &Item) -> &'static str {
    let k = if rng.bernoulli(0.5) {
        (0..ASPECTS.len())
            .max_by(|&a, &b| user.taste[a].abs().total_cmp(&user.taste[b].abs()))
            .unwrap_or(0)
    } else {
        rng.below(ASPECTS.len() as u64) as usize
    };
    let p_good = 1.0 / (1.0 + (-3.0 * item.aspects[k]).exp());
    let words = if rng.bernoulli(p_good) {
        ASPECTS[k].good
    } else {
        ASPECTS[k].bad
    };
    pick(rng, words)
}

fn fill_template(
    rng: &mut SeededRng,
    template: &str,
    user: &User,
    item: &Item,
    stars: u8,
) -> Vec<String> {
    let genre = &GENRES[item.genre];
    template
        .split(' ')
        .map(|slot| {
            match slot {
                "{S}" => sentiment_word(rng, stars),
                "{N}" => item.noun.as_str(),
                "{G}" => pick(rng, genre.context),
                "{A}" => aspect_word(rng, user, item),
                "{Y}" => {
                    user.style_words[rng.below(user.style_words.len() as u64) as usize].as_str()
                }
                "{P}" => pick(rng, PEOPLE),
                "{T}" => pick(rng, PERIODS),
                word => word,
            }
            .to_string()
        })
        .collect()
}

fn capitalise(word: &str) -> String {
    let mut chars = word.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// The review text: sentences from templates until the drawn length is reached.
pub fn review_text(rng: &mut SeededRng, user: &User, item: &Item, stars: u8) -> String {
    // Mostly short, some long; complaints run longer, as on Amazon.
    let mut target = MIN_REVIEW_WORDS + (60.0 * rng.next_f64().powf(1.6)) as usize;
    if stars <= 2 {
        target += 15;
    }
    let target = target.min(MAX_REVIEW_WORDS);

    let mut sentences: Vec<Vec<String>> = Vec::new();
    let mut words = 0;
    while words < target {
        let template = pick(rng, REVIEW_TEMPLATES);
        let mut sentence = fill_template(rng, template, user, item, stars);
        let room = MAX_REVIEW_WORDS - words;
        sentence.truncate(room);
        words += sentence.len();
        sentences.push(sentence);
    }

    let mut text = String::new();
    for (k, sentence) in sentences.iter().enumerate() {
        if k > 0 {
            // Real reviews often lose the space after a full stop ("affordable.I did").
            if !rng.bernoulli(0.03) {
                text.push(' ');
            }
        }
        let body: Vec<String> = sentence
            .iter()
            .enumerate()
            .map(|(j, w)| {
                if j == 0 || w == "i" {
                    capitalise(w)
                } else {
                    w.clone()
                }
            })
            .collect();
        text.push_str(&body.join(" "));
        text.push(if stars == 5 && rng.bernoulli(0.2) {
            '!'
        } else {
            '.'
        });
    }
    text
}

/// The summary line: a lazy "Five Stars", or a sentiment word, sometimes with the noun.
pub fn summary(rng: &mut SeededRng, item: &Item, stars: u8) -> String {
    if rng.bernoulli(0.3) {
        return STAR_SUMMARIES[usize::from(stars - 1)].to_string();
    }
    let mut s = capitalise(sentiment_word(rng, stars));
    if rng.bernoulli(0.5) {
        s.push(' ');
        s.push_str(&item.noun);
    }
    if rng.bernoulli(0.25) {
        s.push('!');
    }
    s
}

/// The metadata title: brand, quality word, product noun and a tail, in title case.
pub fn title(rng: &mut SeededRng, item: &Item) -> String {
    let genre = &GENRES[item.genre];
    let tier = capitalise(pick(rng, QUALITY_TIERS[item.quality_tier]));
    let mut brand = item.brand.clone();
    if rng.bernoulli(0.05) {
        brand.push('\u{2122}');
    }
    let tail = match rng.below(4) {
        0 => format!(", {}-Inch", 4 + rng.below(20)),
        1 => format!(" for {}", capitalise(pick(rng, genre.context))),
        2 => format!(" ({} Pack)", 2 + rng.below(5)),
        _ => String::new(),
    };
    format!("{brand} {tier} {}{tail}", capitalise(&item.noun))
}

/// The metadata description: marketing sentences with the item's quality words, genre words and
/// the aspects it is good at, with the quirks of real descriptions (apostrophes, inch marks,
/// curly quotes, `&#34;` entities, line breaks).
pub fn description(rng: &mut SeededRng, item: &Item) -> String {
    let genre = &GENRES[item.genre];
    let tier_words = QUALITY_TIERS[item.quality_tier];
    let mut strengths: Vec<usize> = (0..ASPECTS.len()).collect();
    strengths.sort_by(|&a, &b| item.aspects[b].total_cmp(&item.aspects[a]));
    let best = pick(rng, ASPECTS[strengths[0]].good);
    let second = pick(rng, ASPECTS[strengths[1]].good);

    let first_context = rng.below(genre.context.len() as u64) as usize;
    let other_context = (first_context + 1 + rng.below(genre.context.len() as u64 - 1) as usize)
        % genre.context.len();
    let context = [genre.context[first_context], genre.context[other_context]];
    let apostrophe = if rng.bernoulli(0.08) { "\u{2019}" } else { "'" };
    let mut sentences = vec![
        format!(
            "This {} {} is {best} and {second}.",
            pick(rng, tier_words),
            item.noun
        ),
        format!("Perfect for {} and {}.", context[0], context[1]),
    ];
    if rng.bernoulli(0.4) {
        sentences.push(format!(
            "It{apostrophe}s the {} choice for {}.",
            pick(rng, tier_words),
            pick(rng, genre.context)
        ));
    } else {
        let tier_word = pick(rng, tier_words);
        let article = if tier_word.starts_with(['a', 'e', 'i', 'o', 'u']) {
            "An"
        } else {
            "A"
        };
        sentences.push(format!(
            "{article} {tier_word} {} from {}.",
            item.noun, item.brand
        ));
    }
    if rng.bernoulli(0.1) {
        sentences.push(format!("Measures {}\" across.", 3 + rng.below(30)));
    }
    if rng.bernoulli(0.05) {
        sentences.push(format!("The &#34;{}&#34; edition.", pick(rng, tier_words)));
    }
    let separator = if rng.bernoulli(0.15) { "\n" } else { " " };
    sentences.join(separator)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::world::ImageKind;

    fn fixture() -> (User, Item) {
        let user = User {
            reviewer_id: "A1".into(),
            name: None,
            bias: 0.0,
            taste: vec![0.5, 0.0, 0.0, 0.0],
            style_group: 3,
            style_words: vec!["truly".into(), "super".into()],
            review_count: 5,
        };
        let item = Item {
            asin: "B000000001".into(),
            genre: 4,
            noun: "speaker".into(),
            brand: "Sonora".into(),
            quality: 1.0,
            aspects: vec![2.0, 0.0, 0.0, 0.0],
            popularity: 1.0,
            quality_tier: 2,
            has_meta: true,
            has_description: true,
            image: ImageKind::Jpeg,
        };
        (user, item)
    }

    #[test]
    fn review_length_stays_in_bounds() {
        let (user, item) = fixture();
        let mut rng = SeededRng::new(3);
        for stars in 1..=5 {
            for _ in 0..200 {
                let text = review_text(&mut rng, &user, &item, stars);
                let n = text
                    .split(|c: char| !c.is_alphanumeric())
                    .filter(|w| !w.is_empty())
                    .count();
                assert!(
                    (MIN_REVIEW_WORDS..=MAX_REVIEW_WORDS).contains(&n),
                    "{n} words: {text}"
                );
            }
        }
    }

    #[test]
    fn sentiment_words_follow_the_stars() {
        let mut rng = SeededRng::new(4);
        for stars in 1..=5u8 {
            let own = SENTIMENT[usize::from(stars - 1)];
            let hits = (0..1000)
                .filter(|_| own.contains(&sentiment_word(&mut rng, stars)))
                .count();
            // A neighbour off the scale (0★, 6★) falls back to the own level.
            let expected = if stars == 1 || stars == 5 {
                875.0
            } else {
                750.0
            };
            assert!(
                (hits as f64 - expected).abs() < 40.0,
                "{stars}★: {hits}/1000 own-level words"
            );
        }
    }

    #[test]
    fn good_aspects_get_good_words() {
        let (user, item) = fixture();
        let mut rng = SeededRng::new(5);
        let good = (0..1000)
            .filter(|_| {
                let w = aspect_word(&mut rng, &user, &item);
                ASPECTS.iter().any(|a| a.good.contains(&w))
            })
            .count();
        // Half the mentions are of durability (a = 2, almost always good), half uniform.
        assert!(good > 700, "{good}");
    }
}
