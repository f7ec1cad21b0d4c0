//! Who reviewed what, when, and with how many stars.
//!
//! Pairs are drawn as a 5-core by construction: every item first gets five distinct reviewers,
//! then every user fills the rest of their reviews with items drawn by popularity, never
//! reviewing an item twice.

use std::collections::HashSet;

use lrmm_core::SeededRng;

use crate::world::{RatingModel, World, RATING_MODEL};
use crate::DatagenError;

/// The least number of reviews of every user and of every item.
pub const CORE: usize = 5;

/// One review, before its words are written.
#[derive(Debug, Clone)]
pub struct Interaction {
    pub user: usize,
    pub item: usize,
    pub stars: u8,
    pub unix_time: i64,
    pub helpful: [u32; 2],
}

/// Draws the (user, item) pairs, each user's in `user.review_count`.
pub fn draw_pairs(world: &World, seed: u64) -> Result<Vec<(usize, usize)>, DatagenError> {
    let mut rng = SeededRng::derive(seed, "datagen/pairs");
    let n_users = world.users.len();
    let n_items = world.items.len();
    let mut capacity: Vec<usize> = world.users.iter().map(|u| u.review_count).collect();

    // Top up review counts if the draw left fewer review slots than the items need.
    let needed = CORE * n_items;
    while capacity.iter().sum::<usize>() < needed {
        let u = rng.below(n_users as u64) as usize;
        if capacity[u] < n_items {
            capacity[u] += 1;
        }
    }

    let mut reviewed: Vec<HashSet<usize>> = vec![HashSet::new(); n_users];
    let mut remaining = capacity;

    // Five reviewers for every item, taken from the users with the most room left (ties broken
    // at random). Like the Gale–Ryser construction, this never gets stuck while a 5-core with
    // these review counts exists, which `GenerateConfig::validate` ensures.
    let mut items: Vec<usize> = (0..n_items).collect();
    rng.shuffle(&mut items);
    let mut order: Vec<(usize, u64, usize)> = Vec::with_capacity(n_users);
    for item in items {
        order.clear();
        order.extend(
            (0..n_users)
                .filter(|&u| remaining[u] > 0)
                .map(|u| (remaining[u], rng.next_u64(), u)),
        );
        if order.len() < CORE {
            return Err(DatagenError::InvalidConfig(format!(
                "cannot give item {item} {CORE} distinct reviewers: too few review slots left"
            )));
        }
        order.select_nth_unstable_by(CORE - 1, |a, b| (b.0, b.1).cmp(&(a.0, a.1)));
        for &(_, _, user) in &order[..CORE] {
            reviewed[user].insert(item);
            remaining[user] -= 1;
        }
    }

    // The rest by popularity, so some items are much more reviewed than others.
    let popularity: Vec<f64> = world.items.iter().map(|i| i.popularity).collect();
    for user in 0..n_users {
        while remaining[user] > 0 {
            let item = rng.weighted(&popularity);
            if reviewed[user].insert(item) {
                remaining[user] -= 1;
            }
        }
    }

    let mut pairs: Vec<(usize, usize)> = reviewed
        .iter()
        .enumerate()
        .flat_map(|(user, items)| items.iter().map(move |&item| (user, item)))
        .collect();
    pairs.sort_unstable();
    Ok(pairs)
}

/// First and last day (UTC) a generated review may carry: the span of the 2014 release.
pub const FIRST_DAY: (i64, u32, u32) = (2010, 1, 1);
pub const LAST_DAY: (i64, u32, u32) = (2014, 7, 23);
/// How long one user keeps reviewing.
const ACTIVE_DAYS: i64 = 500;

/// Rates every pair by the planted model and gives it a date and helpfulness votes.
pub fn rate(world: &World, pairs: &[(usize, usize)], seed: u64) -> Vec<Interaction> {
    let mut noise = SeededRng::derive(seed, "datagen/rating-noise");
    let mut times = SeededRng::derive(seed, "datagen/times");
    let mut votes = SeededRng::derive(seed, "datagen/helpful");
    let first = days_from_civil(FIRST_DAY.0, FIRST_DAY.1, FIRST_DAY.2);
    let last = days_from_civil(LAST_DAY.0, LAST_DAY.1, LAST_DAY.2);
    let user_start: Vec<i64> = (0..world.users.len())
        .map(|_| first + times.below((last - first - ACTIVE_DAYS) as u64) as i64)
        .collect();

    pairs
        .iter()
        .map(|&(user, item)| {
            let latent = RATING_MODEL.expected_latent(&world.users[user], &world.items[item])
                + RATING_MODEL.noise_sd * noise.normal();
            let stars = RatingModel::stars(latent);
            let day = user_start[user] + times.below(ACTIVE_DAYS as u64) as i64;
            Interaction {
                user,
                item,
                stars,
                unix_time: day * 86_400,
                helpful: helpful_votes(&mut votes, stars),
            }
        })
        .collect()
}

/// Two reviews in three get no votes; the rest get a few, more often helpful when positive.
fn helpful_votes(rng: &mut SeededRng, stars: u8) -> [u32; 2] {
    if rng.bernoulli(0.66) {
        return [0, 0];
    }
    let total = (0.4 + 1.1 * rng.normal()).exp().ceil().min(400.0) as u32;
    let p_helpful = 0.45 + 0.1 * f64::from(stars - 1);
    let up = (0..total).filter(|_| rng.bernoulli(p_helpful)).count() as u32;
    [up, total]
}

/// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm).
pub fn days_from_civil(year: i64, month: u32, day: u32) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let m = i64::from(month);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(day) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The date of a day since 1970-01-01.
pub fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

/// Amazon's `reviewTime`: zero-padded month, unpadded day, e.g. "02 28, 2014", "04 5, 2014".
pub fn review_time(unix_time: i64) -> String {
    let (year, month, day) = civil_from_days(unix_time.div_euclid(86_400));
    format!("{month:02} {day}, {year}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn review_time_matches_real_records() {
        // Pairs seen in reviews_Musical_Instruments_5.json.gz.
        assert_eq!(review_time(1_393_545_600), "02 28, 2014");
        assert_eq!(review_time(1_363_392_000), "03 16, 2013");
        assert_eq!(
            review_time(days_from_civil(2014, 4, 5) * 86_400),
            "04 5, 2014"
        );
    }

    #[test]
    fn civil_round_trip_over_the_release() {
        let first = days_from_civil(2009, 12, 1);
        for d in first..first + 2000 {
            let (y, m, day) = civil_from_days(d);
            assert_eq!(days_from_civil(y, m, day), d);
        }
        assert_eq!(days_from_civil(1970, 1, 1), 0);
        assert_eq!(civil_from_days(days_from_civil(2012, 2, 29)), (2012, 2, 29));
    }
}
