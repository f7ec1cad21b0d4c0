//! Train/valid/test assignment. Deterministic for a seed: rows arrive in a canonical order
//! (sorted by user, time, item), so the same interactions and seed give the same split
//! whatever the order of lines in the input file.

use lrmm_core::{SeededRng, Split};
use serde::Serialize;

#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct SplitFractions {
    pub train: f64,
    pub valid: f64,
    pub test: f64,
}

impl Default for SplitFractions {
    fn default() -> Self {
        Self {
            train: 0.8,
            valid: 0.1,
            test: 0.1,
        }
    }
}

impl SplitFractions {
    pub fn validate(&self) -> Result<(), String> {
        let all = [self.train, self.valid, self.test];
        if all.iter().any(|f| !(0.0..=1.0).contains(f))
            || (all.iter().sum::<f64>() - 1.0).abs() > 1e-6
        {
            return Err(format!(
                "split fractions must be in [0, 1] and sum to 1, got train {} valid {} test {}",
                self.train, self.valid, self.test
            ));
        }
        Ok(())
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[serde(tag = "mode", rename_all = "kebab-case")]
pub enum SplitMode {
    /// Interactions split at random by the fractions (the paper's split).
    Random,
    /// Item cold start: a `fraction` of the items has all its interactions in valid/test; the
    /// other interactions fill the rest of the fractions at random.
    ColdItems { fraction: f64 },
}

/// The split of each row. `items[r]` is the dense item id of row r, `n_items` their count.
pub fn assign_splits(
    items: &[u32],
    n_items: usize,
    fractions: SplitFractions,
    mode: SplitMode,
    seed: u64,
) -> Vec<Split> {
    let n = items.len();
    let target_train = (n as f64 * fractions.train).round() as usize;
    let target_valid = (n as f64 * fractions.valid).round() as usize;
    let mut splits = vec![Split::Test; n];
    let mut rows: Vec<usize> = (0..n).collect();

    if let SplitMode::ColdItems { fraction } = mode {
        let mut item_order: Vec<u32> = (0..n_items as u32).collect();
        SeededRng::derive(seed, "cold-items").shuffle(&mut item_order);
        let n_cold = ((n_items as f64) * fraction).round() as usize;
        let eval_total = fractions.valid + fractions.test;
        let valid_share = if eval_total > 0.0 {
            fractions.valid / eval_total
        } else {
            0.5
        };
        let n_cold_valid = (n_cold as f64 * valid_share).round() as usize;
        let mut cold = vec![None; n_items];
        for (rank, &item) in item_order.iter().take(n_cold).enumerate() {
            cold[item as usize] = Some(if rank < n_cold_valid {
                Split::Valid
            } else {
                Split::Test
            });
        }
        rows.retain(|&r| match cold[items[r] as usize] {
            Some(split) => {
                splits[r] = split;
                false
            }
            None => true,
        });
    }

    // Warm rows fill train first, then whatever valid still lacks; the rest is test.
    let cold_valid = splits.iter().filter(|s| **s == Split::Valid).count();
    SeededRng::derive(seed, "split").shuffle(&mut rows);
    let n_train = target_train.min(rows.len());
    let n_valid = target_valid
        .saturating_sub(cold_valid)
        .min(rows.len() - n_train);
    for (rank, &r) in rows.iter().enumerate() {
        splits[r] = if rank < n_train {
            Split::Train
        } else if rank < n_train + n_valid {
            Split::Valid
        } else {
            Split::Test
        };
    }
    splits
}

#[cfg(test)]
mod tests {
    use super::*;

    fn count(s: &[Split], which: Split) -> usize {
        s.iter().filter(|x| **x == which).count()
    }

    #[test]
    fn random_split_hits_fractions_and_depends_on_seed() {
        let items: Vec<u32> = (0..10_001).map(|i| i % 97).collect();
        let a = assign_splits(&items, 97, SplitFractions::default(), SplitMode::Random, 3);
        assert_eq!(count(&a, Split::Train), 8001);
        assert_eq!(count(&a, Split::Valid), 1000);
        assert_eq!(count(&a, Split::Test), 1000);
        assert_eq!(
            a,
            assign_splits(&items, 97, SplitFractions::default(), SplitMode::Random, 3)
        );
        assert_ne!(
            a,
            assign_splits(&items, 97, SplitFractions::default(), SplitMode::Random, 4)
        );
    }

    #[test]
    fn cold_items_never_reach_train() {
        let items: Vec<u32> = (0..20_000).map(|i| (i * 31 % 200) as u32).collect();
        let s = assign_splits(
            &items,
            200,
            SplitFractions::default(),
            SplitMode::ColdItems { fraction: 0.1 },
            9,
        );
        let mut in_train = [false; 200];
        let mut in_eval = [false; 200];
        for (r, split) in s.iter().enumerate() {
            if *split == Split::Train {
                in_train[items[r] as usize] = true;
            } else {
                in_eval[items[r] as usize] = true;
            }
        }
        let cold = (0..200).filter(|&i| !in_train[i]).count();
        assert_eq!(cold, 20, "10% of the items are cold");
        assert!((0..200).filter(|&i| !in_train[i]).all(|i| in_eval[i]));
        let train = count(&s, Split::Train) as f64 / 20_000.0;
        assert!((train - 0.8).abs() < 0.01, "{train}");
    }
}
