//! `meta_Synthetic.json.gz`: one Python dict literal per item with metadata, in asin order,
//! keys in a per-item order (Python 2 dicts had none), `asin` first.

use lrmm_core::SeededRng;

use crate::lexicon::GENRES;
use crate::pyrepr::PyValue;
use crate::text;
use crate::world::{World, RATING_MODEL};
use crate::CATEGORY;

pub fn meta_lines(world: &World, seed: u64) -> String {
    let mut rng = SeededRng::derive(seed, "datagen/meta");
    let mut by_genre: Vec<Vec<usize>> = vec![Vec::new(); GENRES.len()];
    for (i, item) in world.items.iter().enumerate() {
        by_genre[item.genre].push(i);
    }
    // Sales rank follows popularity: the most reviewed items sell best.
    let mut by_popularity: Vec<usize> = (0..world.items.len()).collect();
    by_popularity.sort_by(|&a, &b| {
        world.items[b]
            .popularity
            .total_cmp(&world.items[a].popularity)
    });
    let mut sales_rank = vec![0i64; world.items.len()];
    for (rank, &i) in by_popularity.iter().enumerate() {
        sales_rank[i] = 1 + rank as i64 * 250;
    }

    let mut out = String::new();
    for (i, item) in world.items.iter().enumerate() {
        // Every item draws the same number of values, so whether one has metadata does not
        // shift the others'.
        let title = text::title(&mut rng, item);
        let description = text::description(&mut rng, item);
        let z = item.quality / RATING_MODEL.quality_sd;
        let price = ((2.8 + 0.35 * z + 0.4 * rng.normal()).exp() * 100.0).round() / 100.0;
        let has_price = !rng.bernoulli(0.08);
        let has_related = !rng.bernoulli(0.1);
        let has_brand = !rng.bernoulli(0.1);
        let related = related_asins(&mut rng, world, &by_genre[item.genre], i);
        let mut rest: Vec<(String, PyValue)> = Vec::new();
        rest.push(("title".into(), PyValue::Str(title)));
        if item.has_description {
            rest.push(("description".into(), PyValue::Str(description)));
        }
        if has_price {
            rest.push(("price".into(), PyValue::Float(price.max(0.99))));
        }
        rest.push((
            "imUrl".into(),
            PyValue::str(format!(
                "http://ecx.images-amazon.com/images/I/{}.jpg",
                item.asin
            )),
        ));
        if has_related {
            rest.push(("related".into(), related));
        }
        rest.push((
            "salesRank".into(),
            PyValue::Dict(vec![(
                CATEGORY.into(),
                PyValue::Int(sales_rank[i] + rng.below(250) as i64),
            )]),
        ));
        let genre = GENRES[item.genre].name;
        rest.push((
            "categories".into(),
            PyValue::List(vec![PyValue::List(vec![
                PyValue::str(CATEGORY),
                PyValue::str(genre),
            ])]),
        ));
        if has_brand {
            rest.push(("brand".into(), PyValue::Str(item.brand.clone())));
        }
        rng.shuffle(&mut rest);
        if !item.has_meta {
            continue;
        }
        let mut entries = vec![("asin".to_string(), PyValue::Str(item.asin.clone()))];
        entries.extend(rest);
        out.push_str(&PyValue::Dict(entries).repr());
        out.push('\n');
    }
    out
}

/// `related`: lists of other asins, mostly of the same genre.
fn related_asins(rng: &mut SeededRng, world: &World, same_genre: &[usize], me: usize) -> PyValue {
    let mut lists = Vec::new();
    for (key, max_len) in [
        ("also_bought", 8u64),
        ("also_viewed", 6),
        ("bought_together", 2),
    ] {
        let len = rng.below(max_len + 1);
        if len == 0 {
            continue;
        }
        let mut asins = Vec::new();
        for _ in 0..len {
            let other = if rng.bernoulli(0.8) {
                same_genre[rng.below(same_genre.len() as u64) as usize]
            } else {
                rng.below(world.items.len() as u64) as usize
            };
            let asin = PyValue::Str(world.items[other].asin.clone());
            if other != me && !asins.contains(&asin) {
                asins.push(asin);
            }
        }
        if !asins.is_empty() {
            lists.push((key.to_string(), PyValue::List(asins)));
        }
    }
    PyValue::Dict(lists)
}
