//! The ridge's design matrix, stored without its repetition.
//!
//! Training row r of item i reads [meta_i ; (R_i − own_r) / ‖R_i − own_r‖]: the item's metadata
//! block (the same for every row of the item) and its review block, the TF-IDF weights of the
//! item's training reviews R_i less what the row's own review contributes. Written out, every
//! row repeats its item's few hundred review words (at 1.6M ratings, 7 GB of non-zeros, and
//! every conjugate-gradient step reads all of them); here each item's blocks are kept once and
//! each row keeps only its own review's words, so a product costs
//! Σ_items nnz(item) + Σ_rows nnz(own review), linear in the ratings with a small constant.
//!
//! Products run on rayon's threads, but every sum has a fixed order (per-output sums run
//! sequentially; scatters add fixed chunks in order), so results do not depend on the number of
//! threads.

use rayon::prelude::*;

/// A sparse matrix, compressed rows, columns sorted within a row.
#[derive(Debug, Clone)]
pub(super) struct Csr {
    indptr: Vec<usize>,
    indices: Vec<u32>,
    values: Vec<f64>,
    n_cols: usize,
}

impl Csr {
    pub(super) fn new(n_cols: usize) -> Self {
        Self {
            indptr: vec![0],
            indices: Vec::new(),
            values: Vec::new(),
            n_cols,
        }
    }

    pub(super) fn push(&mut self, row: &[(u32, f64)]) {
        for &(c, v) in row {
            self.indices.push(c);
            self.values.push(v);
        }
        self.indptr.push(self.indices.len());
    }

    pub(super) fn n_rows(&self) -> usize {
        self.indptr.len() - 1
    }

    pub(super) fn row(&self, r: usize) -> impl Iterator<Item = (usize, f64)> + '_ {
        let span = self.indptr[r]..self.indptr[r + 1];
        self.indices[span.clone()]
            .iter()
            .zip(&self.values[span])
            .map(|(&c, &v)| (c as usize, v))
    }

    /// Row `r` times `v`.
    fn row_dot(&self, r: usize, v: &[f64]) -> f64 {
        self.row(r).map(|(c, x)| x * v[c]).sum()
    }

    /// The value at (r, c), 0 where none is stored.
    fn get(&self, r: usize, c: usize) -> f64 {
        let span = self.indptr[r]..self.indptr[r + 1];
        match self.indices[span.clone()].binary_search(&(c as u32)) {
            Ok(k) => self.values[span.start + k],
            Err(_) => 0.0,
        }
    }

    /// Σ_r weight_r · row_r² elementwise into `out` (diagonal of Xᵀ diag(weight) X).
    fn add_weighted_squares(&self, weight: &[f64], out: &mut [f64]) {
        for (r, &w) in weight.iter().enumerate() {
            if w != 0.0 {
                for (c, x) in self.row(r) {
                    out[c] += w * x * x;
                }
            }
        }
    }

    /// X v.
    pub(super) fn mul(&self, v: &[f64]) -> Vec<f64> {
        (0..self.n_rows())
            .into_par_iter()
            .map(|r| self.row_dot(r, v))
            .collect()
    }

    /// Xᵀ y (tests of the written-out matrix).
    #[cfg(test)]
    pub(super) fn t_mul(&self, y: &[f64]) -> Vec<f64> {
        chunked_sum(self.n_rows(), self.n_cols, |r, out| {
            for (c, x) in self.row(r) {
                out[c] += x * y[r];
            }
        })
    }

    /// diag(XᵀX) (tests of the written-out matrix).
    #[cfg(test)]
    pub(super) fn column_squares(&self) -> Vec<f64> {
        let mut out = vec![0.0; self.n_cols];
        self.add_weighted_squares(&vec![1.0; self.n_rows()], &mut out);
        out
    }
}

/// Σ over k in 0..n of what `add(k, out)` adds into a zeroed vector of length `len`: fixed chunks
/// of k on rayon's threads, their sums added in chunk order, so the bits do not depend on the
/// number of threads.
fn chunked_sum(n: usize, len: usize, add: impl Fn(usize, &mut [f64]) + Sync) -> Vec<f64> {
    const CHUNKS: usize = 8;
    let size = n.div_ceil(CHUNKS).max(1);
    let parts: Vec<Vec<f64>> = (0..n.div_ceil(size))
        .into_par_iter()
        .map(|chunk| {
            let mut out = vec![0.0; len];
            for k in chunk * size..((chunk + 1) * size).min(n) {
                add(k, &mut out);
            }
            out
        })
        .collect();
    let mut parts = parts.into_iter();
    let mut total = parts.next().unwrap_or_else(|| vec![0.0; len]);
    for part in parts {
        for (t, p) in total.iter_mut().zip(part) {
            *t += p;
        }
    }
    total
}

/// 1 / √`squares`, 0 for an empty block.
pub(super) fn inverse_norm(squares: f64) -> f64 {
    if squares > 0.0 {
        1.0 / squares.sqrt()
    } else {
        0.0
    }
}

/// The training rows' design matrix, row r = [meta_i ; scale_r · (R_i − own_r)] for its item i.
#[derive(Debug, Clone)]
pub(super) struct Design {
    /// Per item id: the metadata block, L2-normalised.
    meta: Csr,
    /// Per item id: the review block of all its training reviews, TF-IDF weights not normalised.
    reviews: Csr,
    /// Per item id: 1 / ‖R_i‖ (0 for an item without training reviews), for prediction.
    item_scale: Vec<f64>,
    /// Per training row: its item id.
    item: Vec<u32>,
    /// Per training row: 1 / ‖R_i − own_r‖ (0: nothing left).
    scale: Vec<f64>,
    /// Per training row: the corrections own_r.
    own: Csr,
}

impl Design {
    /// `meta` and `reviews`: one row per item id over the same columns; no training rows yet.
    pub(super) fn new(meta: Csr, reviews: Csr) -> Self {
        debug_assert_eq!(meta.n_rows(), reviews.n_rows());
        let item_scale = (0..reviews.n_rows())
            .map(|i| inverse_norm(reviews.row(i).map(|(_, x)| x * x).sum()))
            .collect();
        let own = Csr::new(reviews.n_cols);
        Self {
            meta,
            reviews,
            item_scale,
            item: Vec::new(),
            scale: Vec::new(),
            own,
        }
    }

    /// Adds a training row of item `item`: `correction` holds, by column, what the row's own
    /// review takes off the item's review weights (columns the item's block holds), `scale` is
    /// 1 / ‖R_item − correction‖ (0 when nothing is left).
    pub(super) fn push_row(&mut self, item: u32, correction: &[(u32, f64)], scale: f64) {
        self.item.push(item);
        self.scale.push(scale);
        self.own.push(correction);
    }

    pub(super) fn n_cols(&self) -> usize {
        self.reviews.n_cols
    }

    fn n_items(&self) -> usize {
        self.reviews.n_rows()
    }

    /// X v, one value per training row.
    pub(super) fn mul(&self, v: &[f64]) -> Vec<f64> {
        let meta = self.meta.mul(v);
        let reviews = self.reviews.mul(v);
        (0..self.item.len())
            .into_par_iter()
            .map(|r| {
                let i = self.item[r] as usize;
                meta[i] + self.scale[r] * (reviews[i] - self.own.row_dot(r, v))
            })
            .collect()
    }

    /// Xᵀ y: Σ_i (Σ_{r∈i} y_r) meta_i + (Σ_{r∈i} y_r scale_r) R_i − Σ_r y_r scale_r own_r.
    pub(super) fn t_mul(&self, y: &[f64]) -> Vec<f64> {
        let (meta_weight, review_weight) = self.per_item(|r| (y[r], y[r] * self.scale[r]));
        let items = chunked_sum(self.n_items(), self.n_cols(), |i, out| {
            for (c, x) in self.meta.row(i) {
                out[c] += meta_weight[i] * x;
            }
            for (c, x) in self.reviews.row(i) {
                out[c] += review_weight[i] * x;
            }
        });
        let own = chunked_sum(self.item.len(), self.n_cols(), |r, out| {
            let weight = y[r] * self.scale[r];
            for (c, x) in self.own.row(r) {
                out[c] += weight * x;
            }
        });
        items.into_iter().zip(own).map(|(a, b)| a - b).collect()
    }

    /// diag(XᵀX): the item blocks' squares times their rows' weights, then each row's corrected
    /// entries swapped in.
    pub(super) fn column_squares(&self) -> Vec<f64> {
        let (rows_per_item, scale_squares) = self.per_item(|r| (1.0, self.scale[r].powi(2)));
        let mut out = vec![0.0; self.n_cols()];
        self.meta.add_weighted_squares(&rows_per_item, &mut out);
        self.reviews.add_weighted_squares(&scale_squares, &mut out);
        for (r, &i) in self.item.iter().enumerate() {
            let s2 = self.scale[r].powi(2);
            for (c, delta) in self.own.row(r) {
                let full = self.reviews.get(i as usize, c);
                out[c] += s2 * ((full - delta).powi(2) - full * full);
            }
        }
        out
    }

    /// x_iᵀw of every item id with all its training reviews: [meta_i ; R_i / ‖R_i‖]ᵀw, what a
    /// prediction for item i reads.
    pub(super) fn item_scores(&self, w: &[f64]) -> Vec<f64> {
        let meta = self.meta.mul(w);
        let reviews = self.reviews.mul(w);
        (0..self.n_items())
            .map(|i| meta[i] + self.item_scale[i] * reviews[i])
            .collect()
    }

    /// Per item id, the sums over its training rows of `f(row)`'s two parts.
    fn per_item(&self, f: impl Fn(usize) -> (f64, f64)) -> (Vec<f64>, Vec<f64>) {
        let (mut a, mut b) = (vec![0.0; self.n_items()], vec![0.0; self.n_items()]);
        for (r, &i) in self.item.iter().enumerate() {
            let (x, y) = f(r);
            a[i as usize] += x;
            b[i as usize] += y;
        }
        (a, b)
    }

    /// Training row `r` written out, (column, value) by column (tests).
    #[cfg(test)]
    pub(super) fn row(&self, r: usize) -> Vec<(usize, f64)> {
        let i = self.item[r] as usize;
        let mut out: Vec<(usize, f64)> = self.meta.row(i).collect();
        for (c, x) in self.reviews.row(i) {
            let value = self.scale[r] * (x - self.own.get(r, c));
            if value != 0.0 {
                out.push((c, value));
            }
        }
        out
    }

    /// Item `i`'s prediction row [meta_i ; R_i / ‖R_i‖] written out (tests).
    #[cfg(test)]
    pub(super) fn item_row(&self, i: usize) -> Vec<(usize, f64)> {
        let reviews = self
            .reviews
            .row(i)
            .map(|(c, x)| (c, self.item_scale[i] * x));
        self.meta.row(i).chain(reviews).collect()
    }

    /// Training rows.
    #[cfg(test)]
    pub(super) fn n_rows(&self) -> usize {
        self.item.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use lrmm_core::SeededRng;

    /// 6 items over 10 columns (metadata 0..4, reviews 4..10), 40 rows with own reviews that take
    /// off part or, for item 5's single row, all of their item's review block.
    fn random_design(seed: u64) -> Design {
        let mut rng = SeededRng::new(seed);
        let (n_items, n_cols) = (6, 10);
        let (mut meta, mut reviews) = (Csr::new(n_cols), Csr::new(n_cols));
        let mut blocks = Vec::new();
        for _ in 0..n_items {
            let (mut m, mut r) = (Vec::new(), Vec::new());
            for c in 0..10u32 {
                let (block, p) = if c < 4 { (&mut m, 0.6) } else { (&mut r, 0.7) };
                if rng.bernoulli(p) {
                    block.push((c, 0.5 + rng.next_f64()));
                }
            }
            meta.push(&m);
            reviews.push(&r);
            blocks.push(r);
        }
        let mut corrections = Vec::new();
        for k in 0..40 {
            let item = if k == 39 { 5 } else { rng.below(5) as u32 };
            let block = &blocks[item as usize];
            let mut correction = Vec::new();
            for &(c, x) in block {
                if k == 39 {
                    correction.push((c, x));
                } else if rng.bernoulli(0.4) {
                    correction.push((c, x * rng.next_f64()));
                }
            }
            let norm = block
                .iter()
                .map(|&(c, x)| {
                    let d = correction.iter().find(|o| o.0 == c).map_or(0.0, |o| o.1);
                    (x - d).powi(2)
                })
                .sum::<f64>()
                .sqrt();
            let scale = if norm > 1e-12 { 1.0 / norm } else { 0.0 };
            corrections.push((item, correction, scale));
        }
        let mut design = Design::new(meta, reviews);
        for (item, correction, scale) in &corrections {
            design.push_row(*item, correction, *scale);
        }
        design
    }

    fn explicit(design: &Design) -> Csr {
        let mut x = Csr::new(design.n_cols());
        for r in 0..design.n_rows() {
            let row: Vec<(u32, f64)> = design
                .row(r)
                .into_iter()
                .map(|(c, v)| (c as u32, v))
                .collect();
            x.push(&row);
        }
        x
    }

    fn close(a: &[f64], b: &[f64]) {
        assert_eq!(a.len(), b.len());
        for (k, (x, y)) in a.iter().zip(b).enumerate() {
            assert!(
                (x - y).abs() <= 1e-12 * (1.0 + y.abs()),
                "[{k}]: {x} vs {y}"
            );
        }
    }

    #[test]
    fn implicit_products_equal_the_written_out_matrix() {
        let design = random_design(4);
        let x = explicit(&design);
        let mut rng = SeededRng::new(5);
        let v: Vec<f64> = (0..design.n_cols()).map(|_| rng.normal()).collect();
        let y: Vec<f64> = (0..design.n_rows()).map(|_| rng.normal()).collect();
        close(&design.mul(&v), &x.mul(&v));
        close(&design.t_mul(&y), &x.t_mul(&y));
        close(&design.column_squares(), &x.column_squares());
        // The row whose review is all its item has: metadata only.
        assert!(design.row(39).iter().all(|&(c, _)| c < 4));
    }

    #[test]
    fn products_do_not_depend_on_the_number_of_threads() {
        let design = random_design(6);
        let y: Vec<f64> = (0..design.n_rows()).map(|r| r as f64 - 7.5).collect();
        let one = rayon::ThreadPoolBuilder::new()
            .num_threads(1)
            .build()
            .unwrap()
            .install(|| design.t_mul(&y));
        let three = rayon::ThreadPoolBuilder::new()
            .num_threads(3)
            .build()
            .unwrap()
            .install(|| design.t_mul(&y));
        let bits = |v: &[f64]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
        assert_eq!(bits(&one), bits(&three));
    }
}
