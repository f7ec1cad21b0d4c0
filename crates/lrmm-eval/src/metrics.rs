//! Error and ranking metrics (paper eqs. 23–24, and Recall@K / NDCG@K over each user's test
//! items). Sums run in f64 so that a million f32 errors add up without drift.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

pub use lrmm_core::metrics::{error_metrics, mae, rmse, ErrorMetrics};

/// Recall@K and NDCG@K averaged over users.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct RankingMetrics {
    /// Mean over users with at least one relevant test item.
    pub recall: Option<f64>,
    /// Mean over users with at least one test item.
    pub ndcg: Option<f64>,
    pub users: usize,
}

/// The true ratings of one user's test items in the order of the predicted scores, highest
/// first. Ties keep the input order, so the caller decides (and documents) how ties break.
pub fn rank_by_prediction(predicted: &[f32], truth: &[f32]) -> Vec<f32> {
    let mut order: Vec<usize> = (0..truth.len()).collect();
    order.sort_by(|&a, &b| predicted[b].total_cmp(&predicted[a]));
    order.into_iter().map(|i| truth[i]).collect()
}

/// Share of a user's relevant test items (true rating ≥ `threshold`) that are ranked in the top
/// `k`. `None` when the user has no relevant item, so that such users do not count as misses.
pub fn recall_at_k(ranked_truth: &[f32], k: usize, threshold: f32) -> Option<f64> {
    let relevant = ranked_truth.iter().filter(|&&r| r >= threshold).count();
    if relevant == 0 {
        return None;
    }
    let hits = ranked_truth
        .iter()
        .take(k)
        .filter(|&&r| r >= threshold)
        .count();
    Some(hits as f64 / relevant as f64)
}

/// NDCG@K with graded gains 2^r − 1 and log2(rank + 1) discounts; the ideal ranking sorts the
/// same items by their true rating. `None` for an empty list.
pub fn ndcg_at_k(ranked_truth: &[f32], k: usize) -> Option<f64> {
    let dcg = |ratings: &[f32]| -> f64 {
        ratings
            .iter()
            .take(k)
            .enumerate()
            .map(|(rank, &r)| (2f64.powf(f64::from(r)) - 1.0) / ((rank + 2) as f64).log2())
            .sum()
    };
    if ranked_truth.is_empty() {
        return None;
    }
    let mut ideal = ranked_truth.to_vec();
    ideal.sort_by(|a, b| b.total_cmp(a));
    let ideal_dcg = dcg(&ideal);
    if ideal_dcg <= 0.0 {
        return None;
    }
    Some(dcg(ranked_truth) / ideal_dcg)
}

/// Recall@K and NDCG@K over each user's test items: a user's items are ranked by `predicted`,
/// and the metrics averaged over users. Ties break by input order (row order of the test set).
pub fn ranking_metrics(
    users: &[u32],
    predicted: &[f32],
    truth: &[f32],
    k: usize,
    threshold: f32,
) -> RankingMetrics {
    let mut per_user: BTreeMap<u32, (Vec<f32>, Vec<f32>)> = BTreeMap::new();
    for ((&u, &p), &t) in users.iter().zip(predicted).zip(truth) {
        let entry = per_user.entry(u).or_default();
        entry.0.push(p);
        entry.1.push(t);
    }
    let (mut recall_sum, mut recall_n, mut ndcg_sum, mut ndcg_n) = (0.0, 0usize, 0.0, 0usize);
    for (p, t) in per_user.values() {
        let ranked = rank_by_prediction(p, t);
        if let Some(r) = recall_at_k(&ranked, k, threshold) {
            recall_sum += r;
            recall_n += 1;
        }
        if let Some(n) = ndcg_at_k(&ranked, k) {
            ndcg_sum += n;
            ndcg_n += 1;
        }
    }
    RankingMetrics {
        recall: (recall_n > 0).then(|| recall_sum / recall_n as f64),
        ndcg: (ndcg_n > 0).then(|| ndcg_sum / ndcg_n as f64),
        users: per_user.len(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() < 1e-9
    }

    #[test]
    fn rmse_and_mae_by_hand() {
        // errors: +1, -2, 0, +0.5 → squares 1, 4, 0, 0.25 (mean 1.3125); abs 1, 2, 0, 0.5 (mean 0.875)
        let pred = [4.0, 1.0, 3.0, 5.0];
        let truth = [3.0, 3.0, 3.0, 4.5];
        assert!(close(rmse(&pred, &truth).unwrap(), 1.3125f64.sqrt()));
        assert!(close(mae(&pred, &truth).unwrap(), 0.875));
        let m = error_metrics(&pred, &truth);
        assert_eq!(m.n, 4);
        assert_eq!(error_metrics(&[], &[]).rmse, None);
    }

    #[test]
    fn recall_counts_relevant_items_in_the_top_k() {
        // Ranked true ratings: 5, 2, 4, 4, 1; relevant (≥4) = 3 items.
        let ranked = [5.0, 2.0, 4.0, 4.0, 1.0];
        assert!(close(recall_at_k(&ranked, 1, 4.0).unwrap(), 1.0 / 3.0));
        assert!(close(recall_at_k(&ranked, 3, 4.0).unwrap(), 2.0 / 3.0));
        assert!(close(recall_at_k(&ranked, 10, 4.0).unwrap(), 1.0));
        assert_eq!(recall_at_k(&[3.0, 2.0], 10, 4.0), None);
    }

    #[test]
    fn ndcg_by_hand() {
        // Ranked true ratings 3, 5, 1: gains 7, 31, 1; DCG@3 = 7/1 + 31/log2(3) + 1/2.
        // Ideal 5, 3, 1: 31 + 7/log2(3) + 1/2.
        let ranked = [3.0, 5.0, 1.0];
        let l3 = 3f64.log2();
        let expected = (7.0 + 31.0 / l3 + 0.5) / (31.0 + 7.0 / l3 + 0.5);
        assert!(close(ndcg_at_k(&ranked, 3).unwrap(), expected));
        // K = 1 only sees the first item: 7 / 31.
        assert!(close(ndcg_at_k(&ranked, 1).unwrap(), 7.0 / 31.0));
        assert!(close(ndcg_at_k(&[5.0, 3.0, 1.0], 3).unwrap(), 1.0));
    }

    #[test]
    fn ranking_metrics_average_over_users() {
        // User 1: predicted order puts the 2-star item first, then the 5-star item.
        // User 2: one 3-star item (no relevant item: excluded from recall, NDCG = 1).
        let users = [1, 2, 1];
        let pred = [3.0, 4.0, 4.5];
        let truth = [5.0, 3.0, 2.0];
        let m = ranking_metrics(&users, &pred, &truth, 1, 4.0);
        assert_eq!(m.users, 2);
        assert!(close(m.recall.unwrap(), 0.0));
        // User 1 NDCG@1 = (2^2-1)/(2^5-1) = 3/31; user 2 = 1.
        assert!(close(m.ndcg.unwrap(), (3.0 / 31.0 + 1.0) / 2.0));
        let m2 = ranking_metrics(&users, &pred, &truth, 2, 4.0);
        assert!(close(m2.recall.unwrap(), 1.0));
    }

    #[test]
    fn ties_keep_input_order() {
        assert_eq!(
            rank_by_prediction(&[1.0, 2.0, 1.0], &[3.0, 4.0, 5.0]),
            vec![4.0, 3.0, 5.0]
        );
    }
}
