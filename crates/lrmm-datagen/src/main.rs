//! `lrmm-datagen`: writes the offline default dataset.

use std::path::PathBuf;
use std::time::Instant;

use anyhow::Context;
use clap::Parser;
use lrmm_core::cli::Verbosity;
use lrmm_datagen::GenerateConfig;

/// Write a small Amazon-format dataset ("Synthetic" category) with planted structure, from a seed.
///
/// Reads nothing. Writes into --out: reviews_Synthetic_5.json.gz (2014 review JSON lines, a
/// 5-core), meta_Synthetic.json.gz (2014 metadata, Python dict literals), images/<asin>.jpg|png
/// (about 90% of items, one corrupt) and planted.json (the parameters behind it). The same seed
/// gives the same bytes; files already holding them are left untouched.
///
/// Example (what `make datagen` runs):
///
///   lrmm-datagen --out data/generated/default --seed 1
#[derive(Parser, Debug)]
#[command(verbatim_doc_comment)]
struct Args {
    /// Folder to write into (created if needed); files already holding the same bytes are kept.
    #[arg(long, value_name = "DIR")]
    out: PathBuf,
    /// Seed of every random choice.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Number of users.
    #[arg(long, default_value_t = 600)]
    users: usize,
    /// Number of items.
    #[arg(long, default_value_t = 400)]
    items: usize,
    /// Mean reviews per user (each writes between 5 and 2·mean − 5; every item gets at least 5).
    #[arg(long, default_value_t = 8)]
    reviews_per_user: usize,
    /// Side of the square product images, in pixels.
    #[arg(long, default_value_t = 64)]
    image_size: u32,
    #[command(flatten)]
    verbosity: Verbosity,
}

fn main() -> anyhow::Result<()> {
    let args: Args = lrmm_core::cli::parse(&lrmm_core::build_info!());
    lrmm_core::logging::init(&args.verbosity)?;
    tracing::info!("{args:?}");
    let config = GenerateConfig {
        seed: args.seed,
        users: args.users,
        items: args.items,
        reviews_per_user: args.reviews_per_user,
        image_size: args.image_size,
    };
    let started = Instant::now();
    let (dataset, report) = lrmm_datagen::generate(&config, &args.out)
        .with_context(|| format!("generating the dataset into {}", args.out.display()))?;
    let c = &dataset.planted.counts;
    tracing::info!(
        "{} reviews by {} users of {} items; stars 1–5: {:?}",
        c.reviews,
        c.users,
        c.items,
        c.stars
    );
    tracing::info!(
        "{} items with metadata ({} with a description); images: {} jpeg, {} png, {} corrupt, {} items without",
        c.items_with_meta,
        c.items_with_description,
        c.jpeg_images,
        c.png_images,
        c.corrupt_images,
        c.items - c.jpeg_images - c.png_images - c.corrupt_images
    );
    for path in &report.written {
        tracing::info!("wrote {}", path.display());
    }
    for path in &report.unchanged {
        tracing::info!("unchanged {}", path.display());
    }
    tracing::info!("done in {:.2} s", started.elapsed().as_secs_f64());
    Ok(())
}
