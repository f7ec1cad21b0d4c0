//! The planted parameters: who the users are, what the items are, and how a rating comes about.
//!
//! A rating is `clamp(round(μ + q_i + b_u + t_u·a_i + ε), 1, 5)`: item quality `q_i` and user
//! bias `b_u` explain most of its variance, the taste–aspect product `t_u·a_i` is the
//! personal part, `ε` small noise. With μ ≈ 4.9 and a latent spread of ≈ 1.6 the clamp gives
//! Amazon's positive skew (about 58% 5★, 22% 4★, 13% 3★, 7% 1–2★).

use std::collections::HashSet;

use lrmm_core::SeededRng;
use serde::{Deserialize, Serialize};

use crate::lexicon::{ASPECTS, FIRST_NAMES, GENRES, LAST_NAMES, NICKNAMES, STYLE};
use crate::GenerateConfig;

/// Share of items that are lemons, and how much worse a lemon is (in stars).
pub const LEMON_SHARE: f64 = 0.05;
pub const LEMON_PENALTY: f64 = 1.5;

/// Number of aspects an item has and a user weighs.
pub const ASPECT_COUNT: usize = ASPECTS.len();

/// The rating model's constants, written to `planted.json`.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq)]
pub struct RatingModel {
    /// μ: the latent rating of an average user on an average item.
    pub global_offset: f64,
    pub quality_sd: f64,
    pub bias_sd: f64,
    pub taste_sd: f64,
    pub aspect_sd: f64,
    pub noise_sd: f64,
}

pub const RATING_MODEL: RatingModel = RatingModel {
    global_offset: 4.7,
    quality_sd: 1.2,
    bias_sd: 0.75,
    taste_sd: 0.45,
    aspect_sd: 0.7,
    noise_sd: 0.55,
};

impl RatingModel {
    /// The latent rating before noise.
    pub fn expected_latent(&self, user: &User, item: &Item) -> f64 {
        let taste: f64 = user
            .taste
            .iter()
            .zip(&item.aspects)
            .map(|(t, a)| t * a)
            .sum();
        self.global_offset + item.quality + user.bias + taste
    }

    /// Stars from a latent rating.
    pub fn stars(latent: f64) -> u8 {
        latent.round().clamp(1.0, 5.0) as u8
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct User {
    pub reviewer_id: String,
    /// `None` for the ~1% of reviewers whose records have no `reviewerName`.
    pub name: Option<String>,
    /// b_u, added to every rating the user gives.
    pub bias: f64,
    /// t_u, how much the user cares about each aspect (signed).
    pub taste: Vec<f64>,
    /// Which `STYLE` group (by bias quartile) the user's style words come from.
    pub style_group: usize,
    pub style_words: Vec<String>,
    pub review_count: usize,
}

/// What lies in `images/` for an item.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum ImageKind {
    None,
    Jpeg,
    Png,
    /// A JPEG cut short inside its header: no decoder reads it.
    CorruptJpeg,
}

impl ImageKind {
    pub fn file_name(self, asin: &str) -> Option<String> {
        match self {
            Self::None => None,
            Self::Jpeg | Self::CorruptJpeg => Some(format!("{asin}.jpg")),
            Self::Png => Some(format!("{asin}.png")),
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Item {
    pub asin: String,
    /// Index into the genres of `planted.json`.
    pub genre: usize,
    pub noun: String,
    pub brand: String,
    /// q_i, added to every rating the item gets.
    pub quality: f64,
    /// a_i, how the item does on each aspect.
    pub aspects: Vec<f64>,
    /// Relative chance of being reviewed beyond the five reviews every item gets.
    pub popularity: f64,
    /// 0 (budget) to 2 (premium): the quality words of the item's metadata.
    pub quality_tier: usize,
    /// False for the ~5% of items with no metadata line.
    pub has_meta: bool,
    /// False for items whose metadata has a title but no description.
    pub has_description: bool,
    pub image: ImageKind,
}

/// Everything planted, before any review is drawn.
#[derive(Debug, Clone)]
pub struct World {
    pub users: Vec<User>,
    pub items: Vec<Item>,
}

impl World {
    pub fn generate(config: &GenerateConfig) -> Self {
        let users = generate_users(config);
        let items = generate_items(config);
        Self { users, items }
    }
}

const ALPHANUMERIC: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ";

fn random_code(rng: &mut SeededRng, prefix: &str, len: usize) -> String {
    let mut code = String::from(prefix);
    while code.len() < len {
        code.push(ALPHANUMERIC[rng.below(ALPHANUMERIC.len() as u64) as usize] as char);
    }
    code
}

fn pick<'a>(rng: &mut SeededRng, words: &[&'a str]) -> &'a str {
    words[rng.below(words.len() as u64) as usize]
}

fn generate_users(config: &GenerateConfig) -> Vec<User> {
    let mut rng = SeededRng::derive(config.seed, "datagen/users");
    let mut seen = HashSet::new();
    let mut users: Vec<User> = (0..config.users)
        .map(|_| {
            // Real reviewer ids are "A" and 12–13 more capitals and digits.
            let len = if rng.bernoulli(0.85) { 14 } else { 13 };
            let reviewer_id = loop {
                let id = random_code(&mut rng, "A", len);
                if seen.insert(id.clone()) {
                    break id;
                }
            };
            let name = Some(reviewer_name(&mut rng));
            let bias = RATING_MODEL.bias_sd * rng.normal();
            let taste = (0..ASPECT_COUNT)
                .map(|_| RATING_MODEL.taste_sd * rng.normal())
                .collect();
            // Review counts vary around the mean as in real 5-cores, never below five.
            let spread = config.reviews_per_user.saturating_sub(5) as u64;
            let review_count = (5 + rng.below(2 * spread + 1) as usize).min(config.items);
            User {
                reviewer_id,
                name,
                bias,
                taste,
                style_group: 0,
                style_words: Vec::new(),
                review_count,
            }
        })
        .collect();

    // Style groups are bias quartiles, so each group's words mark a range of leniency.
    let mut by_bias: Vec<usize> = (0..users.len()).collect();
    by_bias.sort_by(|&a, &b| users[a].bias.total_cmp(&users[b].bias));
    for (rank, &u) in by_bias.iter().enumerate() {
        let group = rank * STYLE.len() / users.len();
        let words = STYLE[group];
        let first = rng.below(words.len() as u64) as usize;
        let second = (first + 1 + rng.below(words.len() as u64 - 1) as usize) % words.len();
        users[u].style_group = group;
        users[u].style_words = vec![words[first].to_string(), words[second].to_string()];
    }

    // About 1% of reviewers have no name; all their records then lack `reviewerName`.
    let nameless = (users.len() / 100).max(1).min(users.len());
    let mut order: Vec<usize> = (0..users.len()).collect();
    rng.shuffle(&mut order);
    for &u in &order[..nameless] {
        users[u].name = None;
    }
    users
}

fn reviewer_name(rng: &mut SeededRng) -> String {
    let first = pick(rng, FIRST_NAMES);
    match rng.below(10) {
        0..=3 => format!("{first} {}", pick(rng, LAST_NAMES)),
        4..=5 => format!("{first} {}.", initial(pick(rng, LAST_NAMES))),
        6 => format!("{}. {}", initial(first), pick(rng, LAST_NAMES)),
        7 => pick(rng, NICKNAMES).to_string(),
        // Amazon appends a quoted pen name, as in `cassandra tu "Yeah, well, ..."`.
        8 => format!("{first} \"{}\"", pick(rng, NICKNAMES)),
        _ => first.to_string(),
    }
}

fn initial(name: &str) -> char {
    name.chars().next().unwrap_or('X')
}

fn generate_items(config: &GenerateConfig) -> Vec<Item> {
    let mut rng = SeededRng::derive(config.seed, "datagen/items");
    let mut asins: Vec<String> = Vec::with_capacity(config.items);
    let mut seen = HashSet::new();
    while asins.len() < config.items {
        let asin = random_code(&mut rng, "B00", 10);
        if seen.insert(asin.clone()) {
            asins.push(asin);
        }
    }
    // Amazon files list items by asin; item index = position in that order.
    asins.sort();

    // Nouns go round within a genre, from a random start, so every noun names some items.
    let mut next_noun: Vec<usize> = GENRES
        .iter()
        .map(|g| rng.below(g.nouns.len() as u64) as usize)
        .collect();
    let mut items: Vec<Item> = asins
        .into_iter()
        .map(|asin| {
            let genre = rng.below(GENRES.len() as u64) as usize;
            let spec = &GENRES[genre];
            // One item in twenty is a lemon, which gives Amazon's long tail of 1★ and 2★.
            let lemon = rng.bernoulli(LEMON_SHARE);
            let quality =
                RATING_MODEL.quality_sd * rng.normal() - if lemon { LEMON_PENALTY } else { 0.0 };
            let aspects = (0..ASPECT_COUNT)
                .map(|_| RATING_MODEL.aspect_sd * rng.normal())
                .collect();
            let standardised = quality / RATING_MODEL.quality_sd;
            let popularity = (0.6 * rng.normal() + 0.3 * standardised).exp();
            // The tier follows quality, with one item in five mislabelled as marketing goes.
            let mut quality_tier = if standardised < -0.5 {
                0
            } else if standardised > 0.5 {
                2
            } else {
                1
            };
            if rng.bernoulli(0.2) {
                quality_tier = rng.below(3) as usize;
            }
            let has_meta = !rng.bernoulli(0.05);
            let has_description = !rng.bernoulli(0.10);
            let image = if rng.bernoulli(0.9) {
                if rng.bernoulli(0.1) {
                    ImageKind::Png
                } else {
                    ImageKind::Jpeg
                }
            } else {
                ImageKind::None
            };
            next_noun[genre] += 1;
            Item {
                asin,
                genre,
                noun: spec.nouns[next_noun[genre] % spec.nouns.len()].to_string(),
                brand: pick(&mut rng, spec.brands).to_string(),
                quality,
                aspects,
                popularity,
                quality_tier,
                has_meta,
                has_description,
                image,
            }
        })
        .collect();

    // Exactly one image file is corrupt: one of the JPEGs (if there is any).
    let jpegs: Vec<usize> = (0..items.len())
        .filter(|&i| items[i].image == ImageKind::Jpeg)
        .collect();
    if !jpegs.is_empty() {
        let victim = jpegs[rng.below(jpegs.len() as u64) as usize];
        items[victim].image = ImageKind::CorruptJpeg;
    }
    items
}
