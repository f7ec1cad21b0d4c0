//! A ranking protocol that tells models apart: each test item is ranked among items its user
//! never rated (leave-one-out HR@K and NDCG@K, as in He et al.'s NCF protocol).
//!
//! Ranking a user's own one or two test items (`metrics::ranking_metrics`) gives 1.0 to every
//! model, the global mean included. Here every test row (u, i) is a positive, and its candidates
//! are items u has no interaction with in any split: all of them ([`Protocol::All`]) or `n`
//! drawn with the seed ([`Protocol::Sampled`]). A model scores each candidate with its predicted
//! rating. Ties are broken at random *in expectation*: the positive's rank is uniform over the
//! tied positions, so a constant predictor (the global mean) gets exactly the chance level,
//! K / (candidates + 1), and never ties with a model that ranks.

use std::collections::HashMap;

use lrmm_core::SeededRng;

use crate::data::Ratings;

/// Which negatives each test item is ranked against.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Protocol {
    /// Every item the user never rated (affordable on small catalogues).
    All,
    /// This many items the user never rated, drawn without replacement with the seed (99 is
    /// the usual choice).
    Sampled(usize),
}

impl Protocol {
    /// How the protocol is named in tables and `metrics.json`.
    pub fn describe(self, k: usize, seed: u64) -> String {
        match self {
            Protocol::All => format!(
                "HR@{k}/NDCG@{k}: each test item ranked among all items its user never rated"
            ),
            Protocol::Sampled(n) => format!(
                "HR@{k}/NDCG@{k}: each test item ranked among {n} items its user never rated, sampled with seed {seed}"
            ),
        }
    }
}

/// The candidates of every test row: `pairs` lists (user, item) to score, positives first.
#[derive(Debug, Clone, PartialEq)]
pub struct RankingTask {
    /// For test row j (in the order given): its positive at `pairs[offsets[j]]`, its negatives
    /// at `pairs[offsets[j] + 1 .. offsets[j + 1]]`.
    pub offsets: Vec<usize>,
    pub pairs: Vec<(u32, u32)>,
}

impl RankingTask {
    /// Builds the candidates of `rows` (indices into `ratings`). Items are `0..n_items`, with
    /// `n_items` one past the largest item id of any split.
    pub fn new(ratings: &Ratings, rows: &[usize], protocol: Protocol, seed: u64) -> Self {
        let n_items = ratings.item.iter().map(|&i| i + 1).max().unwrap_or(0);
        // Each user's rated items, sorted and distinct.
        let mut rated: Vec<Vec<u32>> = Vec::new();
        for (&u, &i) in ratings.user.iter().zip(&ratings.item) {
            let u = u as usize;
            if rated.len() <= u {
                rated.resize_with(u + 1, Vec::new);
            }
            rated[u].push(i);
        }
        for items in &mut rated {
            items.sort_unstable();
            items.dedup();
        }
        let mut offsets = Vec::with_capacity(rows.len() + 1);
        let mut pairs = Vec::new();
        for &r in rows {
            let (user, positive) = (ratings.user[r], ratings.item[r]);
            offsets.push(pairs.len());
            pairs.push((user, positive));
            let unrated = Unrated::new(&rated[user as usize], n_items);
            match protocol {
                Protocol::All => pairs.extend((0..unrated.len).map(|p| (user, unrated.nth(p)))),
                Protocol::Sampled(n) => {
                    // One stream per test row: adding a row or a model changes no other row's draw.
                    let mut rng = SeededRng::derive(seed, &format!("ranking/{r}"));
                    pairs.extend(unrated.sample(n, &mut rng).into_iter().map(|i| (user, i)));
                }
            }
        }
        offsets.push(pairs.len());
        Self { offsets, pairs }
    }

    pub fn len(&self) -> usize {
        self.offsets.len() - 1
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// HR@K and NDCG@K of test row `j` from the scores of every pair (aligned with `pairs`).
    pub fn row_metrics(&self, j: usize, scores: &[f32], k: usize) -> (f64, f64) {
        let (start, end) = (self.offsets[j], self.offsets[j + 1]);
        hit_and_ndcg(scores[start], &scores[start + 1..end], k)
    }

    /// Mean HR@K and NDCG@K over the test rows selected by `mask` (aligned with the rows the
    /// task was built from); `None` when none is selected.
    pub fn mean_metrics(
        &self,
        scores: &[f32],
        k: usize,
        mask: &[bool],
    ) -> (Option<f64>, Option<f64>) {
        let (mut hr, mut ndcg, mut n) = (0.0, 0.0, 0usize);
        for j in (0..self.len()).filter(|&j| mask[j]) {
            let (h, g) = self.row_metrics(j, scores, k);
            hr += h;
            ndcg += g;
            n += 1;
        }
        if n == 0 {
            (None, None)
        } else {
            (Some(hr / n as f64), Some(ndcg / n as f64))
        }
    }
}

/// The items a user never rated, in increasing order, as a virtual list: the catalogue is
/// 0..n_items, the user's rated items a handful, so an item is found from its position in
/// O(rated) instead of listing the whole catalogue per test row (which made the ranking
/// quadratic: 164k test rows × 144k items at 160 copies of Musical Instruments).
struct Unrated<'a> {
    /// The user's rated items, sorted and distinct.
    rated: &'a [u32],
    /// How many items the user never rated.
    len: usize,
}

impl<'a> Unrated<'a> {
    /// The unrated items of a catalogue of `n_items` for a user who rated `rated` (sorted,
    /// distinct, each below `n_items`).
    fn new(rated: &'a [u32], n_items: u32) -> Self {
        Self {
            rated,
            len: n_items as usize - rated.len(),
        }
    }

    /// The `p`-th item the user never rated (0-based).
    fn nth(&self, p: usize) -> u32 {
        let mut item = p as u32;
        // Every rated item at or below the answer pushes it one further.
        for &r in self.rated {
            if r <= item {
                item += 1;
            } else {
                break;
            }
        }
        item
    }

    /// `n` of them (all, if fewer) drawn without replacement: the first `n` steps of a
    /// Fisher–Yates shuffle of the list, each step's draw `rng.below(len − j)`, with the moved
    /// entries kept in a map: the same draws and the same items as shuffling the listed
    /// items, in O(n · rated).
    fn sample(&self, n: usize, rng: &mut SeededRng) -> Vec<u32> {
        let take = n.min(self.len);
        let mut moved: HashMap<usize, u32> = HashMap::with_capacity(2 * take);
        let mut picked = Vec::with_capacity(take);
        let at = |p: usize, moved: &HashMap<usize, u32>| {
            moved.get(&p).copied().unwrap_or_else(|| self.nth(p))
        };
        for j in 0..take {
            let pick = j + rng.below((self.len - j) as u64) as usize;
            let (at_j, at_pick) = (at(j, &moved), at(pick, &moved));
            // Swap: position j is final from here on; `pick` holds what j held.
            moved.insert(pick, at_j);
            picked.push(at_pick);
        }
        picked
    }
}

/// HR@K (the positive in the top K) and NDCG@K (1 / log2(rank + 2) when it is) of one positive
/// among `negatives`, in expectation over a uniformly random order of the ties.
pub fn hit_and_ndcg(positive: f32, negatives: &[f32], k: usize) -> (f64, f64) {
    let above = negatives.iter().filter(|&&s| s > positive).count();
    let tied = negatives.iter().filter(|&&s| s == positive).count();
    // The positive's 0-based rank is uniform over above..=above + tied.
    let positions = above..=above + tied;
    let share = 1.0 / (tied + 1) as f64;
    let hit = positions.clone().filter(|&p| p < k).count() as f64 * share;
    let ndcg = positions
        .filter(|&p| p < k)
        .map(|p| 1.0 / ((p + 2) as f64).log2())
        .sum::<f64>()
        * share;
    (hit, ndcg)
}

#[cfg(test)]
mod tests {
    use super::*;
    use lrmm_core::Split;

    #[test]
    fn ties_are_broken_at_random_in_expectation() {
        // Strictly first: a hit at rank 0.
        assert_eq!(hit_and_ndcg(5.0, &[1.0, 2.0], 1), (1.0, 1.0));
        // Strictly last of three with K = 2: a miss.
        assert_eq!(hit_and_ndcg(0.0, &[1.0, 2.0], 2), (0.0, 0.0));
        // A constant predictor among 99 negatives: HR@10 is the chance level 10 / 100.
        let (hr, ndcg) = hit_and_ndcg(3.5, &[3.5; 99], 10);
        assert!((hr - 0.1).abs() < 1e-12, "{hr}");
        let expected: f64 = (0..10).map(|p| 1.0 / ((p + 2) as f64).log2()).sum::<f64>() / 100.0;
        assert!((ndcg - expected).abs() < 1e-12);
        // One above, one tied, K = 2: rank 1 or 2 with equal chance.
        let (hr, ndcg) = hit_and_ndcg(3.0, &[4.0, 3.0, 1.0], 2);
        assert!((hr - 0.5).abs() < 1e-12);
        assert!((ndcg - 0.5 / 3f64.log2()).abs() < 1e-12);
    }

    fn ratings() -> Ratings {
        let mut r = Ratings::default();
        // User 0 rated items 0, 1 (train) and 2 (test); user 1 rated 3 (train) and 0 (test).
        for (u, i, s) in [
            (0, 0, Split::Train),
            (0, 1, Split::Train),
            (1, 3, Split::Train),
        ] {
            r.push(u, i, 4.0, s);
        }
        r.push(0, 2, 5.0, Split::Test);
        r.push(1, 0, 2.0, Split::Test);
        r.push(1, 5, 3.0, Split::Train);
        r
    }

    #[test]
    fn negatives_are_items_the_user_never_rated() {
        let r = ratings();
        let rows = r.rows(Split::Test);
        let all = RankingTask::new(&r, &rows, Protocol::All, 1);
        assert_eq!(all.len(), 2);
        // Items 0..6; user 0 rated 0, 1, 2 → negatives 3, 4, 5; user 1 rated 0, 3, 5 → 1, 2, 4.
        assert_eq!(&all.pairs[..4], &[(0, 2), (0, 3), (0, 4), (0, 5)]);
        assert_eq!(&all.pairs[4..], &[(1, 0), (1, 1), (1, 2), (1, 4)]);
        let sampled = RankingTask::new(&r, &rows, Protocol::Sampled(2), 7);
        assert_eq!(sampled.offsets, [0, 3, 6]);
        for j in 0..2 {
            let (user, positive) = sampled.pairs[sampled.offsets[j]];
            let negatives = &sampled.pairs[sampled.offsets[j] + 1..sampled.offsets[j + 1]];
            let seen: Vec<u32> = (0..r.len())
                .filter(|&x| r.user[x] == user)
                .map(|x| r.item[x])
                .collect();
            assert!(negatives
                .iter()
                .all(|(u, i)| *u == user && !seen.contains(i) && *i != positive));
        }
        assert_eq!(
            sampled,
            RankingTask::new(&r, &rows, Protocol::Sampled(2), 7),
            "seeded"
        );
        // Asking for more negatives than exist gives all of them.
        assert_eq!(
            RankingTask::new(&r, &rows, Protocol::Sampled(50), 7)
                .pairs
                .len(),
            all.pairs.len()
        );
    }

    #[test]
    fn sampling_without_listing_draws_what_shuffling_the_list_draws() {
        // The reference: list every unrated item, then the first n steps of Fisher–Yates.
        fn listed(rated: &[u32], n_items: u32, n: usize, rng: &mut SeededRng) -> Vec<u32> {
            let mut unrated: Vec<u32> = (0..n_items).filter(|i| !rated.contains(i)).collect();
            let take = n.min(unrated.len());
            for j in 0..take {
                let pick = j + rng.below((unrated.len() - j) as u64) as usize;
                unrated.swap(j, pick);
            }
            unrated.truncate(take);
            unrated
        }
        let mut rng = SeededRng::new(3);
        let n_items = 120;
        for case in 0..200u64 {
            // 0 to 40 rated items, sometimes at the ends of the catalogue.
            let mut rated: Vec<u32> = (0..rng.below(41))
                .map(|_| rng.below(u64::from(n_items)) as u32)
                .collect();
            if case % 3 == 0 {
                rated.extend([0, n_items - 1]);
            }
            rated.sort_unstable();
            rated.dedup();
            let unrated = Unrated::new(&rated, n_items);
            let all: Vec<u32> = (0..unrated.len).map(|p| unrated.nth(p)).collect();
            let expected: Vec<u32> = (0..n_items).filter(|i| !rated.contains(i)).collect();
            assert_eq!(all, expected, "rated {rated:?}");
            for n in [1, 5, 99, 200] {
                let mut a = SeededRng::derive(case, "draw");
                let mut b = SeededRng::derive(case, "draw");
                assert_eq!(
                    unrated.sample(n, &mut a),
                    listed(&rated, n_items, n, &mut b),
                    "case {case}, n {n}, rated {rated:?}"
                );
            }
        }
    }

    #[test]
    fn a_model_that_ranks_beats_the_global_mean() {
        let r = ratings();
        let rows = r.rows(Split::Test);
        let task = RankingTask::new(&r, &rows, Protocol::All, 1);
        let constant = vec![3.0; task.pairs.len()];
        // A model that scores each test positive highest.
        let oracle: Vec<f32> = (0..task.pairs.len())
            .map(|p| if task.offsets.contains(&p) { 5.0 } else { 1.0 })
            .collect();
        let mask = [true, true];
        let (hr_mean, _) = task.mean_metrics(&constant, 1, &mask);
        let (hr_oracle, ndcg_oracle) = task.mean_metrics(&oracle, 1, &mask);
        assert_eq!(hr_mean, Some(0.25));
        assert_eq!((hr_oracle, ndcg_oracle), (Some(1.0), Some(1.0)));
        assert_eq!(task.mean_metrics(&oracle, 1, &[false, false]), (None, None));
    }
}
