//! Buffers of the fused encoder that live across batches: a training loop maps its activation
//! buffers (about 50 MB per chunk at the paper's shapes) once, not once per batch, and never has
//! the kernel zero fresh pages for them.

use std::sync::Mutex;

use rayon::prelude::*;

use lrmm_core::linalg::{gemm, GemmScalar, Threads, View};

/// One chunk's buffers. Only the prefix a call needs is used; a buffer grows when a call needs
/// more and never shrinks, and every value a call reads it has written first.
#[derive(Debug, Default)]
pub struct ChunkBuffers<T> {
    /// Gathered embeddings [steps·rows, E], time-major; dX after the backward.
    pub x: Vec<T>,
    /// Gate pre-activations, then activated gates [steps·rows, 4H]; dZ after the backward.
    pub z: Vec<T>,
    /// Cell states [steps·rows, H] (training), or one step's [rows, H] (inference).
    pub c: Vec<T>,
    /// tanh of the cell states, as `c` in training; one row of scratch [H] at inference.
    pub tanh_c: Vec<T>,
    /// Hidden states, as `c`.
    pub h: Vec<T>,
    /// dL/dh and dL/dc of the step being back-propagated, [rows, H].
    pub dh: Vec<T>,
    pub dc: Vec<T>,
    /// H zeros: c_{−1}.
    pub zeros: Vec<T>,
    /// This chunk's share of dW_ih [4H, E] and of d[W_hh | bias] [4H, H + 1].
    pub d_w_ih: Vec<T>,
    pub d_recurrent: Vec<T>,
    /// Steps the forward ran (up to the chunk's last real token).
    pub steps: usize,
}

fn at_least<T: GemmScalar>(buffer: &mut Vec<T>, len: usize) {
    if buffer.len() < len {
        buffer.resize(len, T::ZERO);
    }
}

impl<T: GemmScalar> ChunkBuffers<T> {
    /// Room for a training forward over `n` = steps × rows positions.
    pub fn reserve_training(&mut self, n: usize, word_dim: usize, hidden: usize) {
        at_least(&mut self.x, n * word_dim);
        at_least(&mut self.z, n * 4 * hidden);
        for states in [&mut self.c, &mut self.tanh_c, &mut self.h] {
            at_least(states, n * hidden);
        }
    }

    /// Room for an inference forward projecting `n` positions at a time over `rows` rows.
    pub fn reserve_inference(&mut self, n: usize, word_dim: usize, hidden: usize, rows: usize) {
        at_least(&mut self.x, n * word_dim);
        at_least(&mut self.z, n * 4 * hidden);
        at_least(&mut self.c, rows * hidden);
        at_least(&mut self.h, rows * hidden);
        at_least(&mut self.tanh_c, hidden);
    }

    /// Room for the backward of a chunk of `rows` rows.
    pub fn reserve_gradients(&mut self, rows: usize, word_dim: usize, hidden: usize) {
        at_least(&mut self.dh, rows * hidden);
        at_least(&mut self.dc, rows * hidden);
        // Written once, never changed: zeros stay zeros.
        at_least(&mut self.zeros, hidden);
        at_least(&mut self.d_w_ih, 4 * hidden * word_dim);
        at_least(&mut self.d_recurrent, 4 * hidden * (hidden + 1));
    }
}

/// The largest projection table kept, in values (1 GiB of f32): 4H × the vocabulary.
const MAX_TABLE_VALUES: usize = 1 << 28;

/// Every word's input projection with the bias, E W_ihᵀ + b [V, 4H], for inference with fixed
/// weights: the gate pass then reads a step's projections from the table instead of a product
/// over the batch computing them (a third of an encoder's FLOPs at the paper's shapes). Built
/// when the same weights come a second time, so that a single call (and every training step,
/// whose weights change) pays only for a copy of them.
#[derive(Debug, Default)]
pub struct ProjectionTable<T> {
    /// The weights seen last: the table, when there is one, was computed from them.
    embedding: Vec<T>,
    w_ih: Vec<T>,
    bias: Vec<T>,
    table: Option<Vec<T>>,
}

/// Whether two slices hold equal values, compared on every rayon thread (10 MB per call at the
/// paper's shapes).
fn same<T: PartialEq + Sync>(a: &[T], b: &[T]) -> bool {
    const BLOCK: usize = 1 << 16;
    a.len() == b.len()
        && a.par_chunks(BLOCK)
            .zip(b.par_chunks(BLOCK))
            .all(|(x, y)| x == y)
}

impl<T: GemmScalar + PartialEq + std::ops::Add<Output = T>> ProjectionTable<T> {
    /// The table for `embedding` [V, E], `w_ih` [4H, E] and `bias` [4H]: `None` the first time
    /// these weights are seen (they are remembered) or when the table would be too large.
    pub fn for_weights(
        &mut self,
        embedding: &[T],
        w_ih: &[T],
        bias: &[T],
        word_dim: usize,
    ) -> Option<&[T]> {
        let (vocab, h4) = (
            embedding.len() / word_dim.max(1),
            w_ih.len() / word_dim.max(1),
        );
        if vocab * h4 > MAX_TABLE_VALUES {
            return None;
        }
        if !same(&self.embedding, embedding) || !same(&self.w_ih, w_ih) || self.bias != bias {
            for (kept, now) in [
                (&mut self.embedding, embedding),
                (&mut self.w_ih, w_ih),
                (&mut self.bias, bias),
            ] {
                kept.clear();
                kept.extend_from_slice(now);
            }
            self.table = None;
            return None;
        }
        if self.table.is_none() {
            let mut table = vec![T::ZERO; vocab * h4];
            gemm(
                &mut table,
                View::row_major(embedding, vocab, word_dim),
                View::row_major(w_ih, h4, word_dim).t(),
                false,
                Threads::All,
            );
            table.par_chunks_mut(h4).for_each(|row| {
                for (v, &b) in row.iter_mut().zip(bias) {
                    *v = *v + b;
                }
            });
            self.table = Some(table);
        }
        self.table.as_deref()
    }

    /// Whether a table for the weights seen last is held.
    pub fn is_built(&self) -> bool {
        self.table.is_some()
    }
}

/// The buffer sets of one encoder, per dtype, shared by its forward calls, and its projection
/// tables.
#[derive(Debug, Default)]
pub struct Workspaces {
    pub buffers_f32: Mutex<Vec<ChunkBuffers<f32>>>,
    pub buffers_f64: Mutex<Vec<ChunkBuffers<f64>>>,
    pub table_f32: Mutex<ProjectionTable<f32>>,
    pub table_f64: Mutex<ProjectionTable<f64>>,
}

/// `count` buffer sets from `pool`, the most recently given back first, new empty ones if it runs
/// short.
pub fn take<T: Default>(pool: &Mutex<Vec<ChunkBuffers<T>>>, count: usize) -> Vec<ChunkBuffers<T>> {
    // A poisoned pool only means another call panicked mid-way: its buffers are still buffers.
    let mut pool = pool.lock().unwrap_or_else(|e| e.into_inner());
    let keep = pool.len().saturating_sub(count);
    let mut taken = pool.split_off(keep);
    taken.resize_with(count, ChunkBuffers::default);
    taken
}

/// Puts `buffers` back into `pool` for the next call.
pub fn give<T>(pool: &Mutex<Vec<ChunkBuffers<T>>>, buffers: Vec<ChunkBuffers<T>>) {
    pool.lock()
        .unwrap_or_else(|e| e.into_inner())
        .extend(buffers);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buffers_come_back_and_only_grow() {
        let ws = Workspaces::default();
        let mut taken = take(&ws.buffers_f32, 2);
        assert_eq!(taken.len(), 2);
        taken[0].reserve_training(10, 3, 2);
        let ptr = taken[0].z.as_ptr();
        give(&ws.buffers_f32, taken);
        let mut again = take(&ws.buffers_f32, 3);
        assert_eq!(again.len(), 3);
        // The grown set is handed out again, with its allocation.
        let reused = again.iter_mut().find(|b| !b.z.is_empty()).unwrap();
        assert_eq!(reused.z.as_ptr(), ptr);
        reused.reserve_training(1, 3, 2);
        assert_eq!(
            reused.z.len(),
            10 * 8,
            "a smaller call keeps the buffer's size"
        );
        assert!(take(&ws.buffers_f64, 1)[0].z.is_empty());
    }
}
