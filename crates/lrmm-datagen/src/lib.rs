//! The default dataset of lrmm: a small Amazon-format category ("Synthetic") generated from a
//! seed, with planted structure that a multimodal recommender can learn.
//!
//! [`build`] makes the whole dataset in memory (a few MB), [`write`] puts it into a folder:
//! `reviews_Synthetic_5.json.gz` (2014 review JSON lines, a 5-core), `meta_Synthetic.json.gz`
//! (2014 metadata, one Python dict literal per line), `images/<asin>.jpg|png` and
//! `planted.json` (the parameters behind it all). See `docs/datagen.md`.

pub mod images;
pub mod interactions;
pub mod json;
pub mod lexicon;
mod meta;
mod output;
pub mod pyrepr;
pub mod text;
pub mod world;

use std::path::PathBuf;

use lrmm_core::SeededRng;
use serde::{Deserialize, Serialize};

pub use output::{write, WriteReport};
pub use world::{ImageKind, Item, RatingModel, User};

use crate::interactions::{review_time, Interaction, CORE};
use crate::json::ascii_json_string;
use crate::lexicon::{ASPECTS, GENRES, QUALITY_TIERS, SENTIMENT, STYLE};
use crate::world::{World, RATING_MODEL};

/// The category name in file names, `salesRank` and `categories`.
pub const CATEGORY: &str = "Synthetic";
pub const REVIEWS_FILE: &str = "reviews_Synthetic_5.json.gz";
pub const META_FILE: &str = "meta_Synthetic.json.gz";
pub const IMAGES_DIR: &str = "images";
pub const PLANTED_FILE: &str = "planted.json";

#[derive(Debug, thiserror::Error)]
pub enum DatagenError {
    #[error("invalid generator settings: {0}")]
    InvalidConfig(String),
    #[error(transparent)]
    Artifact(#[from] lrmm_core::Error),
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot encode the image of item {asin}: {source}")]
    Image {
        asin: String,
        #[source]
        source: image::ImageError,
    },
}

/// The generator's settings; the defaults make the default dataset.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
pub struct GenerateConfig {
    pub seed: u64,
    pub users: usize,
    pub items: usize,
    /// Mean reviews per user (each user writes between 5 and 2·mean − 5).
    pub reviews_per_user: usize,
    /// Side of the square product images, in pixels.
    pub image_size: u32,
}

impl Default for GenerateConfig {
    fn default() -> Self {
        Self {
            seed: 1,
            users: 600,
            items: 400,
            reviews_per_user: 8,
            image_size: 64,
        }
    }
}

impl GenerateConfig {
    /// Rejects settings under which no 5-core exists or images would be degenerate.
    pub fn validate(&self) -> Result<(), DatagenError> {
        let fail = |m: String| Err(DatagenError::InvalidConfig(m));
        if self.users < CORE || self.items < CORE {
            return fail(format!(
                "a 5-core needs at least {CORE} users and {CORE} items (got {} users, {} items)",
                self.users, self.items
            ));
        }
        if self.reviews_per_user < CORE || self.reviews_per_user > self.items {
            return fail(format!(
                "--reviews-per-user must be between {CORE} and --items ({}), got {}",
                self.items, self.reviews_per_user
            ));
        }
        if self.users * self.reviews_per_user < CORE * self.items {
            return fail(format!(
                "{} users × {} reviews cannot give each of {} items {CORE} reviews: \
                 raise --users or --reviews-per-user, or lower --items",
                self.users, self.reviews_per_user, self.items
            ));
        }
        if !(8..=1024).contains(&self.image_size) {
            return fail(format!(
                "--image-size must be between 8 and 1024, got {}",
                self.image_size
            ));
        }
        Ok(())
    }
}

/// A genre as written to `planted.json`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct PlantedGenre {
    pub name: String,
    pub hue_degrees: f64,
    pub nouns: Vec<String>,
    pub context: Vec<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct PlantedAspect {
    pub name: String,
    pub good: Vec<String>,
    pub bad: Vec<String>,
}

/// The words that carry a signal, by what they are tied to.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct PlantedLexicon {
    /// Index 0 holds the words of 1★ reviews, index 4 those of 5★ reviews.
    pub sentiment: Vec<Vec<String>>,
    /// By user-bias quartile, harshest first.
    pub style: Vec<Vec<String>>,
    /// Metadata quality words, budget first.
    pub quality_tiers: Vec<Vec<String>>,
}

/// What the dataset holds, counted.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Counts {
    pub reviews: usize,
    pub users: usize,
    pub items: usize,
    /// Reviews with 1★ … 5★.
    pub stars: [usize; 5],
    pub items_with_meta: usize,
    pub items_with_description: usize,
    pub jpeg_images: usize,
    pub png_images: usize,
    pub corrupt_images: usize,
    pub reviews_without_name: usize,
    pub empty_review_texts: usize,
}

/// Everything behind the dataset: `planted.json`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Planted {
    pub config: GenerateConfig,
    pub description: String,
    pub rating_model: RatingModel,
    pub genres: Vec<PlantedGenre>,
    pub aspects: Vec<PlantedAspect>,
    pub lexicon: PlantedLexicon,
    pub counts: Counts,
    pub users: Vec<User>,
    pub items: Vec<Item>,
}

/// The whole dataset in memory, file contents ready to write.
#[derive(Debug, Clone)]
pub struct Dataset {
    pub planted: Planted,
    /// The review JSON lines, uncompressed.
    pub reviews_jsonl: String,
    /// The metadata literal lines, uncompressed.
    pub meta_lines: String,
    /// Image file name and bytes, by asin order.
    pub images: Vec<(String, Vec<u8>)>,
}

const DESCRIPTION: &str = "stars = clamp(round(global_offset + item.quality + user.bias + \
    user.taste · item.aspects + N(0, noise_sd²)), 1, 5). Review words: sentiment words of the \
    review's stars (1 in 4 of a neighbouring rating), the item's noun and genre context words, \
    aspect words (good or bad by the sign of item.aspects, about the user's strongest taste half \
    the time), the user's two style words (chosen by bias quartile). Metadata: quality-tier \
    words (by item.quality, 1 in 5 random), genre words, the item's two best aspects. Image: \
    hue of the genre, brightness rising and grain falling with item.quality.";

/// Builds the dataset for `config` in memory.
pub fn build(config: &GenerateConfig) -> Result<Dataset, DatagenError> {
    config.validate()?;
    let world = World::generate(config);
    let pairs = interactions::draw_pairs(&world, config.seed)?;
    let mut reviews = interactions::rate(&world, &pairs, config.seed);
    // Amazon's 5-core files are grouped by item; within an item, oldest first.
    reviews.sort_by(|a, b| {
        (a.item, a.unix_time, &world.users[a.user].reviewer_id).cmp(&(
            b.item,
            b.unix_time,
            &world.users[b.user].reviewer_id,
        ))
    });

    let (reviews_jsonl, empty_review_texts) = review_lines(&world, &reviews, config.seed);
    let meta_lines = meta::meta_lines(&world, config.seed);
    let images = render_images(&world, config)?;

    let mut stars = [0usize; 5];
    for r in &reviews {
        stars[usize::from(r.stars - 1)] += 1;
    }
    let counts = Counts {
        reviews: reviews.len(),
        users: world.users.len(),
        items: world.items.len(),
        stars,
        items_with_meta: world.items.iter().filter(|i| i.has_meta).count(),
        items_with_description: world
            .items
            .iter()
            .filter(|i| i.has_meta && i.has_description)
            .count(),
        jpeg_images: world
            .items
            .iter()
            .filter(|i| i.image == ImageKind::Jpeg)
            .count(),
        png_images: world
            .items
            .iter()
            .filter(|i| i.image == ImageKind::Png)
            .count(),
        corrupt_images: world
            .items
            .iter()
            .filter(|i| i.image == ImageKind::CorruptJpeg)
            .count(),
        reviews_without_name: reviews
            .iter()
            .filter(|r| world.users[r.user].name.is_none())
            .count(),
        empty_review_texts,
    };
    let planted = Planted {
        config: *config,
        description: DESCRIPTION.to_string(),
        rating_model: RATING_MODEL,
        genres: GENRES
            .iter()
            .map(|g| PlantedGenre {
                name: g.name.to_string(),
                hue_degrees: g.hue_degrees,
                nouns: owned(g.nouns),
                context: owned(g.context),
            })
            .collect(),
        aspects: ASPECTS
            .iter()
            .map(|a| PlantedAspect {
                name: a.name.to_string(),
                good: owned(a.good),
                bad: owned(a.bad),
            })
            .collect(),
        lexicon: PlantedLexicon {
            sentiment: SENTIMENT.iter().map(|w| owned(w)).collect(),
            style: STYLE.iter().map(|w| owned(w)).collect(),
            quality_tiers: QUALITY_TIERS.iter().map(|w| owned(w)).collect(),
        },
        counts,
        users: world.users,
        items: world.items,
    };
    Ok(Dataset {
        planted,
        reviews_jsonl,
        meta_lines,
        images,
    })
}

/// Builds the dataset and writes it into `out`.
pub fn generate(
    config: &GenerateConfig,
    out: &std::path::Path,
) -> Result<(Dataset, WriteReport), DatagenError> {
    let dataset = build(config)?;
    let report = write(&dataset, out)?;
    Ok((dataset, report))
}

fn owned(words: &[&str]) -> Vec<String> {
    words.iter().map(|w| (*w).to_string()).collect()
}

/// The review JSON lines, in the 2014 field order, and how many texts were left empty.
fn review_lines(world: &World, reviews: &[Interaction], seed: u64) -> (String, usize) {
    let mut words = SeededRng::derive(seed, "datagen/review-text");
    // A few reviews have an empty text, as 7 of 10,261 real Musical Instruments reviews do.
    let mut pick_empty = SeededRng::derive(seed, "datagen/empty-texts");
    let mut order: Vec<usize> = (0..reviews.len()).collect();
    pick_empty.shuffle(&mut order);
    let n_empty = (reviews.len() / 800).max(1).min(reviews.len());
    let mut empty = vec![false; reviews.len()];
    for &k in &order[..n_empty] {
        empty[k] = true;
    }

    let mut out = String::with_capacity(reviews.len() * 450);
    for (k, review) in reviews.iter().enumerate() {
        let user = &world.users[review.user];
        let item = &world.items[review.item];
        let body = text::review_text(&mut words, user, item, review.stars);
        let summary = text::summary(&mut words, item, review.stars);
        let body = if empty[k] { String::new() } else { body };
        out.push_str("{\"reviewerID\": ");
        out.push_str(&ascii_json_string(&user.reviewer_id));
        out.push_str(", \"asin\": ");
        out.push_str(&ascii_json_string(&item.asin));
        if let Some(name) = &user.name {
            out.push_str(", \"reviewerName\": ");
            out.push_str(&ascii_json_string(name));
        }
        out.push_str(&format!(
            ", \"helpful\": [{}, {}], \"reviewText\": {}, \"overall\": {}.0, \"summary\": {}, \
             \"unixReviewTime\": {}, \"reviewTime\": {}}}\n",
            review.helpful[0],
            review.helpful[1],
            ascii_json_string(&body),
            review.stars,
            ascii_json_string(&summary),
            review.unix_time,
            ascii_json_string(&review_time(review.unix_time)),
        ));
    }
    (out, n_empty)
}

fn render_images(
    world: &World,
    config: &GenerateConfig,
) -> Result<Vec<(String, Vec<u8>)>, DatagenError> {
    let mut files = Vec::new();
    for item in &world.items {
        let Some(name) = item.image.file_name(&item.asin) else {
            continue;
        };
        let picture = images::render(item, config.image_size, config.seed);
        let encoded = match item.image {
            ImageKind::Png => images::encode_png(&picture),
            ImageKind::CorruptJpeg => {
                images::encode_jpeg(&picture).map(|j| images::truncate_jpeg(&j))
            }
            _ => images::encode_jpeg(&picture),
        }
        .map_err(|source| DatagenError::Image {
            asin: item.asin.clone(),
            source,
        })?;
        files.push((name, encoded));
    }
    Ok(files)
}
