use std::collections::HashMap;

use lrmm_core::Split;

use crate::data::Ratings;

/// Training ratings indexed as Surprise's `Trainset`: inner ids in order of first appearance,
/// `ur[u]` = (item, rating) of user u in row order, `ir[i]` likewise. SGD visits ratings in
/// `ur` order, as Surprise's `all_ratings()` does.
#[derive(Debug, Clone)]
pub struct TrainSet {
    pub ur: Vec<Vec<(usize, f64)>>,
    pub ir: Vec<Vec<(usize, f64)>>,
    pub global_mean: f64,
    users: HashMap<u32, usize>,
    items: HashMap<u32, usize>,
}

impl TrainSet {
    pub fn from_ratings(ratings: &Ratings, split: Split) -> Self {
        let rows = ratings.rows(split);
        Self::from_triples(
            rows.iter()
                .map(|&r| (ratings.user[r], ratings.item[r], ratings.rating[r])),
        )
    }

    pub fn from_triples(triples: impl IntoIterator<Item = (u32, u32, f32)>) -> Self {
        let mut set = TrainSet {
            ur: Vec::new(),
            ir: Vec::new(),
            global_mean: 0.0,
            users: HashMap::new(),
            items: HashMap::new(),
        };
        let (mut sum, mut n) = (0.0, 0usize);
        for (user, item, rating) in triples {
            let u = *set.users.entry(user).or_insert_with(|| {
                set.ur.push(Vec::new());
                set.ur.len() - 1
            });
            let i = *set.items.entry(item).or_insert_with(|| {
                set.ir.push(Vec::new());
                set.ir.len() - 1
            });
            let r = f64::from(rating);
            set.ur[u].push((i, r));
            set.ir[i].push((u, r));
            sum += r;
            n += 1;
        }
        set.global_mean = if n > 0 { sum / n as f64 } else { 0.0 };
        set
    }

    pub fn n_users(&self) -> usize {
        self.ur.len()
    }

    pub fn n_items(&self) -> usize {
        self.ir.len()
    }

    pub fn n_ratings(&self) -> usize {
        self.ur.iter().map(Vec::len).sum()
    }

    pub fn inner_user(&self, user: u32) -> Option<usize> {
        self.users.get(&user).copied()
    }

    pub fn inner_item(&self, item: u32) -> Option<usize> {
        self.items.get(&item).copied()
    }

    /// Every (user, item, rating) in Surprise's `all_ratings()` order.
    pub fn all_ratings(&self) -> impl Iterator<Item = (usize, usize, f64)> + '_ {
        self.ur
            .iter()
            .enumerate()
            .flat_map(|(u, list)| list.iter().map(move |&(i, r)| (u, i, r)))
    }
}

/// A row-major matrix of factors, one row per user or item.
#[derive(Debug, Clone)]
pub(crate) struct Factors {
    pub data: Vec<f64>,
    pub dim: usize,
}

impl Factors {
    pub fn from_fn(rows: usize, dim: usize, mut draw: impl FnMut() -> f64) -> Self {
        Self {
            data: (0..rows * dim).map(|_| draw()).collect(),
            dim,
        }
    }

    pub fn row(&self, r: usize) -> &[f64] {
        &self.data[r * self.dim..(r + 1) * self.dim]
    }

    pub fn row_mut(&mut self, r: usize) -> &mut [f64] {
        &mut self.data[r * self.dim..(r + 1) * self.dim]
    }
}

pub(crate) fn dot(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inner_ids_follow_first_appearance_and_ratings_keep_row_order() {
        let t = TrainSet::from_triples([(7, 3, 5.0), (2, 3, 1.0), (7, 9, 3.0)]);
        assert_eq!(t.inner_user(7), Some(0));
        assert_eq!(t.inner_user(2), Some(1));
        assert_eq!(t.inner_item(9), Some(1));
        assert_eq!(t.inner_user(5), None);
        assert!((t.global_mean - 3.0).abs() < 1e-12);
        let order: Vec<_> = t.all_ratings().collect();
        assert_eq!(order, vec![(0, 0, 5.0), (0, 1, 3.0), (1, 0, 1.0)]);
        assert_eq!(t.ir[0], vec![(0, 5.0), (1, 1.0)]);
    }
}
