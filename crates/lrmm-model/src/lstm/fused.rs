//! The fused CPU text encoder: token ids → embedding → LSTM → masked mean pooling (eqs. 5–9)
//! and its backward, as ONE candle [`CustomOp3`], so none of candle's per-op temporaries of
//! B·T·4H values is ever allocated.
//!
//! **Forward.** The batch is cut into row chunks (sizes fixed by the batch size alone, so results
//! do not depend on the thread count). Each chunk runs on one rayon thread, its products on that
//! thread only: the chunks never wait for each other, where splitting every per-step product
//! across the cores would synchronise them 100 times per document. Per chunk, time-major:
//! gather the embeddings X of every step → all input projections Z = X W_ihᵀ in one gemm → per
//! step Z_t += h_{t−1} W_hhᵀ (one gemm into Z_t itself) and one pass over the gates that also adds
//! w_t · h_t into the pooled sum. Steps after a chunk's last real token are never run: their
//! pooling weight is 0 and the state of a unidirectional LSTM before them does not depend on them.
//! Inference keeps nothing for a backward pass and holds one step's cell and hidden state, never
//! [B, T, H]. When the same weights come again (evaluation, prediction: every batch after the
//! first), a step's input projections are read from a table of every word's E W_ihᵀ + b
//! ([`ProjectionTable`]) instead of being a product over the batch.
//!
//! **Backward.** The pooled gradient enters the recurrence at each step (dh_t += w_t · dP); the
//! gates' gradients dZ overwrite the stashed gates step by step; then per chunk dW_hh = Σ dZ_tᵀ
//! h_{t−1}, dW_ih = dZᵀ X and dX = dZ W_ih are one gemm each over all steps, and the embedding
//! gradient is a scatter-add of dX over the batch's tokens. Chunk partials are summed in chunk
//! order.
//!
//! **Buffers** come from the encoder's [`Workspaces`] and go back when the op is dropped (after
//! the backward pass), so a training loop maps its activation buffers once, not per batch.
//!
//! The op's inputs are the embedding [V, E], W_ih [4H, E] and W_hh with the bias as one more
//! column, [4H, H + 1] (a candle `cat`, whose backward hands each part its gradient): candle's
//! custom ops take three tensors. Token ids and pooling weights are data, not parameters, and
//! travel inside the op.

use std::ops::Range;
use std::sync::Mutex;

use candle_core::{
    CpuStorage, CustomOp3, DType, Device, Layout, Result, Shape, Storage, Tensor, WithDType,
};
use lrmm_core::linalg::{gemm, Threads, View};
use rayon::prelude::*;

use super::activations::Real;
use super::workspace::{self, ChunkBuffers, ProjectionTable, Workspaces};
use super::{inference_mode, Lstm};

/// Rows per chunk aimed at: large enough for the gemm micro-kernel to run at full rate, small
/// enough that a paper-sized batch (256) gives every core of a small machine more than one chunk.
const CHUNK_ROWS: usize = 64;

/// The row ranges a batch of `batch` rows is cut into: about [`CHUNK_ROWS`] each, at least two
/// when there are two rows, every chunk but the last of the same size.
fn chunks(batch: usize) -> Vec<Range<usize>> {
    let count = batch.div_ceil(CHUNK_ROWS).max(2).min(batch.max(1));
    let rows = batch.div_ceil(count).max(1);
    (0..batch)
        .step_by(rows)
        .map(|start| start..(start + rows).min(batch))
        .collect()
}

/// `embedding` [V, E] → `tokens` [B, T] u32 → pooled [B, H], pooling weights `pool` [B, 1, T]
/// (1/n on the n real tokens, 0 on padding), on the CPU.
pub fn encode(embedding: &Tensor, lstm: &Lstm, tokens: &Tensor, pool: &Tensor) -> Result<Tensor> {
    let (batch, len) = tokens.dims2()?;
    if pool.elem_count() != batch * len {
        candle_core::bail!(
            "fused encoder: pooling weights {:?} do not match tokens [{batch}, {len}]",
            pool.shape()
        )
    }
    let ids = tokens.flatten_all()?.to_vec1::<u32>()?;
    let weights = pool.flatten_all()?.to_dtype(DType::F64)?.to_vec1::<f64>()?;
    let recurrent = Tensor::cat(&[&lstm.w_hh, &lstm.bias.unsqueeze(1)?], 1)?;
    let (embedding, w_ih) = (embedding.contiguous()?, lstm.w_ih.contiguous()?);
    let train =
        !inference_mode() && (embedding.track_op() || w_ih.track_op() || recurrent.track_op());
    let op = FusedEncoder {
        tokens: ids,
        weights,
        batch,
        len,
        train,
        workspaces: lstm.workspaces.clone(),
        stash: Mutex::new(None),
    };
    if train {
        embedding.apply_op3(&w_ih, &recurrent, op)
    } else {
        embedding.apply_op3_no_bwd(&w_ih, &recurrent, &op)
    }
}

/// One forward call of the fused encoder; it keeps that call's activations for its backward.
struct FusedEncoder {
    tokens: Vec<u32>,
    weights: Vec<f64>,
    batch: usize,
    len: usize,
    /// Keep the activations for a backward pass.
    train: bool,
    workspaces: std::sync::Arc<Workspaces>,
    stash: Mutex<Option<Stash>>,
}

/// What a training forward keeps for its backward: every chunk's buffers.
enum Stash {
    F32(Vec<ChunkBuffers<f32>>),
    F64(Vec<ChunkBuffers<f64>>),
}

impl Drop for FusedEncoder {
    fn drop(&mut self) {
        let stash = self.stash.get_mut().ok().and_then(Option::take);
        match stash {
            Some(Stash::F32(buffers)) => workspace::give(f32::buffers(&self.workspaces), buffers),
            Some(Stash::F64(buffers)) => workspace::give(f64::buffers(&self.workspaces), buffers),
            None => {}
        }
    }
}

/// The operands every chunk reads.
struct Operands<'a, T> {
    embedding: &'a [T],
    word_dim: usize,
    vocab: usize,
    w_ih: &'a [T],
    /// W_hh and the bias as its last column, [4H, H + 1].
    recurrent: &'a [T],
    /// W_hhᵀ, [H, 4H], contiguous: the per-step product's right-hand side.
    w_hh_t: Vec<T>,
    bias: Vec<T>,
    hidden: usize,
    tokens: &'a [u32],
    weights: &'a [f64],
    len: usize,
    /// The CPU's widest vector instructions, for the element-wise passes.
    arch: pulp::Arch,
}

impl<'a, T: Real> Operands<'a, T> {
    fn new(
        op: &'a FusedEncoder,
        embedding: &'a [T],
        w_ih: &'a [T],
        recurrent: &'a [T],
        word_dim: usize,
        hidden: usize,
    ) -> Self {
        let h4 = 4 * hidden;
        let mut w_hh_t = vec![T::zero(); hidden * h4];
        let mut bias = vec![T::zero(); h4];
        for (row, values) in recurrent.chunks_exact(hidden + 1).enumerate() {
            for (col, &v) in values[..hidden].iter().enumerate() {
                w_hh_t[col * h4 + row] = v;
            }
            bias[row] = values[hidden];
        }
        Self {
            embedding,
            word_dim,
            vocab: embedding.len() / word_dim.max(1),
            w_ih,
            recurrent,
            w_hh_t,
            bias,
            hidden,
            tokens: &op.tokens,
            weights: &op.weights,
            len: op.len,
            arch: pulp::Arch::new(),
        }
    }

    #[inline(always)]
    fn weight(&self, row: usize, step: usize) -> T {
        T::from_f64(self.weights[row * self.len + step])
    }

    /// Steps up to and including the last with a non-zero pooling weight in any of `rows`.
    fn steps(&self, rows: &Range<usize>) -> usize {
        rows.clone()
            .map(|r| {
                let w = &self.weights[r * self.len..(r + 1) * self.len];
                w.iter().rposition(|&v| v != 0.0).map_or(0, |p| p + 1)
            })
            .max()
            .unwrap_or(0)
    }

    /// The word at `step` of `row`, checked against the vocabulary.
    fn token(&self, row: usize, step: usize) -> Result<usize> {
        let id = self.tokens[row * self.len + step] as usize;
        if id >= self.vocab {
            candle_core::bail!(
                "fused encoder: token id {id} (row {row}, position {step}) is outside the vocabulary of {}",
                self.vocab
            )
        }
        Ok(id)
    }

    /// The embeddings of `steps` steps from `first` of `rows`, time-major, into `x`.
    fn gather(&self, x: &mut [T], rows: &Range<usize>, first: usize, steps: usize) -> Result<()> {
        let e = self.word_dim;
        for s in 0..steps {
            for (r, row) in rows.clone().enumerate() {
                let id = self.token(row, first + s)?;
                let at = (s * rows.len() + r) * e;
                x[at..at + e].copy_from_slice(&self.embedding[id * e..(id + 1) * e]);
            }
        }
        Ok(())
    }

    /// All input projections of `rows` steps: `z = x · W_ihᵀ`.
    fn project(&self, z: &mut [T], x: &[T], rows: usize) {
        let h4 = 4 * self.hidden;
        gemm(
            z,
            View::row_major(x, rows, self.word_dim),
            View::row_major(self.w_ih, h4, self.word_dim).t(),
            false,
            Threads::One,
        );
    }

    /// `z (+)= h · W_hhᵀ` for one step of `rows` rows: added to `z` when `accumulate`, else
    /// written over it.
    fn recurrent_product(&self, z: &mut [T], h: &[T], rows: usize, accumulate: bool) {
        gemm(
            z,
            View::row_major(h, rows, self.hidden),
            View::row_major(&self.w_hh_t, self.hidden, 4 * self.hidden),
            accumulate,
            Threads::One,
        );
    }
}

/// Hidden units the gate passes handle at once: whole blocks are copied into local arrays, so the
/// compiler vectorises the lane loop without having to prove that the row's slices do not overlap.
const LANES: usize = 16;

#[inline(always)]
fn block<T: Copy>(values: &[T], at: usize) -> [T; LANES] {
    values[at..at + LANES].try_into().expect("a whole block")
}

/// One hidden unit's step: biased pre-activations (i, f, g, o) and c_{t−1} → (activated gates,
/// c_t, tanh c_t, h_t).
#[inline(always)]
pub(super) fn unit_forward<T: Real>(z: [T; 4], c_prev: T) -> ([T; 4], T, T, T) {
    let (i, f, g, o) = (z[0].sigmoid(), z[1].sigmoid(), z[2].tanh_(), z[3].sigmoid());
    let c = f * c_prev + i * g;
    let t = c.tanh_();
    ([i, f, g, o], c, t, o * t)
}

/// One row's step: pre-activations `z` (4H, without bias) → activated gates (i, f, g, o) in
/// place; `c` holds c_{t−1} on entry and c_t on return; `tanh_c` and `h` receive tanh(c_t) and h_t.
#[inline(always)]
fn cell_forward<T: Real>(z: &mut [T], bias: &[T], c: &mut [T], tanh_c: &mut [T], h: &mut [T]) {
    let hidden = c.len();
    let gate = |k: usize, j: usize| k * hidden + j;
    let mut j0 = 0;
    while j0 + LANES <= hidden {
        let mut zs = [[T::zero(); LANES]; 4];
        for (k, lanes) in zs.iter_mut().enumerate() {
            let (pre, b) = (block(z, gate(k, j0)), block(bias, gate(k, j0)));
            for l in 0..LANES {
                lanes[l] = pre[l] + b[l];
            }
        }
        let mut cs = block(c, j0);
        let (mut ts, mut hs) = ([T::zero(); LANES], [T::zero(); LANES]);
        for l in 0..LANES {
            let (g, c, t, h) = unit_forward([zs[0][l], zs[1][l], zs[2][l], zs[3][l]], cs[l]);
            (zs[0][l], zs[1][l], zs[2][l], zs[3][l]) = (g[0], g[1], g[2], g[3]);
            (cs[l], ts[l], hs[l]) = (c, t, h);
        }
        for (k, lanes) in zs.iter().enumerate() {
            z[gate(k, j0)..gate(k, j0) + LANES].copy_from_slice(lanes);
        }
        c[j0..j0 + LANES].copy_from_slice(&cs);
        tanh_c[j0..j0 + LANES].copy_from_slice(&ts);
        h[j0..j0 + LANES].copy_from_slice(&hs);
        j0 += LANES;
    }
    for j in j0..hidden {
        let pre = [0, 1, 2, 3].map(|k| z[gate(k, j)] + bias[gate(k, j)]);
        let (g, cell, t, out) = unit_forward(pre, c[j]);
        for k in 0..4 {
            z[gate(k, j)] = g[k];
        }
        (c[j], tanh_c[j], h[j]) = (cell, t, out);
    }
}

/// One hidden unit's step backward: activated gates, c_{t−1}, tanh c_t, dL/dh_t and dL/dc_t from
/// the later steps → (the gates' pre-activation gradients, dL/dc_{t−1}).
#[inline(always)]
pub(super) fn unit_backward<T: Real>(gates: [T; 4], c_prev: T, t: T, dh: T, dc: T) -> ([T; 4], T) {
    let one = T::one();
    let [i, f, g, o] = gates;
    let dc = dc + dh * o * (one - t * t);
    let dz = [
        dc * g * i * (one - i),
        dc * c_prev * f * (one - f),
        dc * i * (one - g * g),
        dh * t * o * (one - o),
    ];
    (dz, dc * f)
}

/// One row's step backward: `gates` (i, f, g, o) → their pre-activation gradients in place.
/// `dh` is dL/dh_t, `dc` holds dL/dc_t from the later steps on entry and dL/dc_{t−1} on return.
#[inline(always)]
fn cell_backward<T: Real>(gates: &mut [T], c_prev: &[T], tanh_c: &[T], dh: &[T], dc: &mut [T]) {
    let hidden = dc.len();
    let gate = |k: usize, j: usize| k * hidden + j;
    let mut j0 = 0;
    while j0 + LANES <= hidden {
        let mut gs = [0, 1, 2, 3].map(|k| block(gates, gate(k, j0)));
        let (cp, ts, dhs) = (block(c_prev, j0), block(tanh_c, j0), block(dh, j0));
        let mut dcs = block(dc, j0);
        for l in 0..LANES {
            let (dz, d_c) = unit_backward(
                [gs[0][l], gs[1][l], gs[2][l], gs[3][l]],
                cp[l],
                ts[l],
                dhs[l],
                dcs[l],
            );
            (gs[0][l], gs[1][l], gs[2][l], gs[3][l]) = (dz[0], dz[1], dz[2], dz[3]);
            dcs[l] = d_c;
        }
        for (k, lanes) in gs.iter().enumerate() {
            gates[gate(k, j0)..gate(k, j0) + LANES].copy_from_slice(lanes);
        }
        dc[j0..j0 + LANES].copy_from_slice(&dcs);
        j0 += LANES;
    }
    for j in j0..hidden {
        let g = [0, 1, 2, 3].map(|k| gates[gate(k, j)]);
        let (dz, d_c) = unit_backward(g, c_prev[j], tanh_c[j], dh[j], dc[j]);
        for k in 0..4 {
            gates[gate(k, j)] = dz[k];
        }
        dc[j] = d_c;
    }
}

/// `sum += weight · values` (nothing when the weight is zero: a padding position).
#[inline(always)]
fn accumulate<T: Real>(sum: &mut [T], weight: T, values: &[T]) {
    if weight != T::zero() {
        for (s, &v) in sum.iter_mut().zip(values) {
            *s += weight * v;
        }
    }
}

/// One step's gate pass over a chunk's rows ([`cell_forward`], then the pooled sum), run through
/// [`pulp::Arch::dispatch`] so that it is compiled for, and runs with, the CPU's widest vectors.
struct GatePass<'a, 'o, T> {
    ops: &'a Operands<'o, T>,
    rows: &'a Range<usize>,
    step: usize,
    z: &'a mut [T],
    c: &'a mut [T],
    /// Row r's tanh(c) at `r · tanh_c_stride` (0: one scratch row for all).
    tanh_c: &'a mut [T],
    tanh_c_stride: usize,
    h: &'a mut [T],
    pooled: &'a mut [T],
    /// Inference with a projection table: row r's input projection and bias are row `ids[r]`
    /// of `table`, added to `z` (which then holds only the recurrent part).
    table_rows: Option<(&'a [T], &'a [usize])>,
}

impl<T: Real> pulp::WithSimd for GatePass<'_, '_, T> {
    type Output = ();

    #[inline(always)]
    fn with_simd<S: pulp::Simd>(self, _simd: S) {
        let hidden = self.ops.hidden;
        let h4 = 4 * hidden;
        for (r, row) in self.rows.clone().enumerate() {
            let cols = r * hidden..(r + 1) * hidden;
            let at = r * self.tanh_c_stride;
            let h = &mut self.h[cols.clone()];
            let bias = match self.table_rows {
                Some((table, ids)) => &table[ids[r] * h4..(ids[r] + 1) * h4],
                None => &self.ops.bias[..],
            };
            cell_forward(
                &mut self.z[r * h4..(r + 1) * h4],
                bias,
                &mut self.c[cols.clone()],
                &mut self.tanh_c[at..at + hidden],
                h,
            );
            accumulate(&mut self.pooled[cols], self.ops.weight(row, self.step), h);
        }
    }
}

/// One step's gate pass backward over a chunk's rows: the pooled gradient into dh, then
/// [`cell_backward`]; dispatched like [`GatePass`].
struct GateBackwardPass<'a, 'o, T> {
    ops: &'a Operands<'o, T>,
    rows: &'a Range<usize>,
    step: usize,
    gates: &'a mut [T],
    /// Every step's cell states and their tanh, [steps·rows, H].
    c: &'a [T],
    tanh_c: &'a [T],
    zeros: &'a [T],
    dh: &'a mut [T],
    dc: &'a mut [T],
    d_pooled: &'a [T],
}

impl<T: Real> pulp::WithSimd for GateBackwardPass<'_, '_, T> {
    type Output = ();

    #[inline(always)]
    fn with_simd<S: pulp::Simd>(self, _simd: S) {
        let hidden = self.ops.hidden;
        let (h4, bc, s) = (4 * hidden, self.rows.len(), self.step);
        for (r, row) in self.rows.clone().enumerate() {
            let cols = r * hidden..(r + 1) * hidden;
            accumulate(
                &mut self.dh[cols.clone()],
                self.ops.weight(row, s),
                &self.d_pooled[cols.clone()],
            );
            let c_prev = if s == 0 {
                self.zeros
            } else {
                &self.c[((s - 1) * bc + r) * hidden..((s - 1) * bc + r + 1) * hidden]
            };
            let at = (s * bc + r) * hidden;
            cell_backward(
                &mut self.gates[r * h4..(r + 1) * h4],
                c_prev,
                &self.tanh_c[at..at + hidden],
                &self.dh[cols.clone()],
                &mut self.dc[cols],
            );
        }
    }
}

/// A training forward of one chunk: fills its buffers (the stash) and its rows' pooled sums.
fn forward_chunk<T: Real>(
    ops: &Operands<T>,
    rows: &Range<usize>,
    buf: &mut ChunkBuffers<T>,
    pooled: &mut [T],
) -> Result<()> {
    let (bc, e, hidden) = (rows.len(), ops.word_dim, ops.hidden);
    let h4 = 4 * hidden;
    let steps = ops.steps(rows);
    buf.reserve_training(steps * bc, e, hidden);
    buf.steps = steps;
    pooled.fill(T::zero());
    let n = steps * bc;
    ops.gather(&mut buf.x[..n * e], rows, 0, steps)?;
    ops.project(&mut buf.z[..n * h4], &buf.x[..n * e], n);
    for s in 0..steps {
        let z = &mut buf.z[s * bc * h4..(s + 1) * bc * h4];
        let (h_before, h_now) = buf.h.split_at_mut(s * bc * hidden);
        let (c_before, c_now) = buf.c.split_at_mut(s * bc * hidden);
        let (c_now, h_now) = (&mut c_now[..bc * hidden], &mut h_now[..bc * hidden]);
        if s == 0 {
            c_now.fill(T::zero());
        } else {
            ops.recurrent_product(z, &h_before[(s - 1) * bc * hidden..], bc, true);
            c_now.copy_from_slice(&c_before[(s - 1) * bc * hidden..]);
        }
        let tanh_c = &mut buf.tanh_c[s * bc * hidden..(s + 1) * bc * hidden];
        ops.arch.dispatch(GatePass {
            ops,
            rows,
            step: s,
            z,
            c: c_now,
            tanh_c,
            tanh_c_stride: hidden,
            h: h_now,
            pooled: &mut *pooled,
            table_rows: None,
        });
    }
    Ok(())
}

/// An inference forward of one chunk: the pooled sums only, one step's state at a time. With a
/// projection `table` [V, 4H] the gate pass reads each step's input projections from it; without,
/// all steps' are one product.
fn infer_chunk<T: Real>(
    ops: &Operands<T>,
    table: Option<&[T]>,
    rows: &Range<usize>,
    buf: &mut ChunkBuffers<T>,
    pooled: &mut [T],
) -> Result<()> {
    let (bc, e, hidden) = (rows.len(), ops.word_dim, ops.hidden);
    let h4 = 4 * hidden;
    let steps = ops.steps(rows);
    let projected = if table.is_some() { 1 } else { steps.max(1) };
    buf.reserve_inference(projected * bc, e, hidden, bc);
    pooled.fill(T::zero());
    let c = &mut buf.c[..bc * hidden];
    let h = &mut buf.h[..bc * hidden];
    let tanh_c = &mut buf.tanh_c[..hidden];
    c.fill(T::zero());
    if table.is_none() {
        let n = steps * bc;
        ops.gather(&mut buf.x[..n * e], rows, 0, steps)?;
        ops.project(&mut buf.z[..n * h4], &buf.x[..n * e], n);
    }
    let mut ids = Vec::with_capacity(if table.is_some() { bc } else { 0 });
    for s in 0..steps {
        let z = match table {
            // The table holds the input projections and the bias: z is the recurrent part only.
            Some(_) => {
                ids.clear();
                for row in rows.clone() {
                    ids.push(ops.token(row, s)?);
                }
                let z = &mut buf.z[..bc * h4];
                if s == 0 {
                    z.fill(T::zero());
                } else {
                    ops.recurrent_product(z, h, bc, false);
                }
                z
            }
            None => {
                let z = &mut buf.z[s * bc * h4..(s + 1) * bc * h4];
                if s > 0 {
                    ops.recurrent_product(z, h, bc, true);
                }
                z
            }
        };
        ops.arch.dispatch(GatePass {
            ops,
            rows,
            step: s,
            z,
            c: &mut *c,
            tanh_c: &mut *tanh_c,
            tanh_c_stride: 0,
            h: &mut *h,
            pooled: &mut *pooled,
            table_rows: table.map(|t| (t, &ids[..])),
        });
    }
    Ok(())
}

/// One chunk's backward. On return `buf.z` holds dZ, `buf.x` holds dX and the partial weight
/// gradients `buf.d_w_ih` [4H, E], `buf.d_recurrent` [4H, H + 1] are this chunk's.
fn backward_chunk<T: Real>(
    ops: &Operands<T>,
    rows: &Range<usize>,
    buf: &mut ChunkBuffers<T>,
    d_pooled: &[T],
) {
    let (bc, e, hidden) = (rows.len(), ops.word_dim, ops.hidden);
    let h4 = 4 * hidden;
    let steps = buf.steps;
    buf.reserve_gradients(bc, e, hidden);
    buf.d_w_ih[..h4 * e].fill(T::zero());
    buf.d_recurrent[..h4 * (hidden + 1)].fill(T::zero());
    if steps == 0 {
        return;
    }
    let dh = &mut buf.dh[..bc * hidden];
    let dc = &mut buf.dc[..bc * hidden];
    let zeros = &buf.zeros[..hidden];
    dh.fill(T::zero());
    dc.fill(T::zero());
    for s in (0..steps).rev() {
        let z = &mut buf.z[s * bc * h4..(s + 1) * bc * h4];
        ops.arch.dispatch(GateBackwardPass {
            ops,
            rows,
            step: s,
            gates: &mut *z,
            c: &buf.c,
            tanh_c: &buf.tanh_c,
            zeros,
            dh: &mut *dh,
            dc: &mut *dc,
            d_pooled,
        });
        if s > 0 {
            // dL/dh_{t−1} from the recurrence: dZ_t · W_hh (W_hh is the first H columns).
            gemm(
                dh,
                View::row_major(z, bc, h4),
                View::strided(ops.recurrent, h4, hidden, hidden + 1),
                false,
                Threads::One,
            );
        }
    }
    let n = steps * bc;
    let dz = &buf.z[..n * h4];
    // dW_hh = Σ_t dZ_tᵀ h_{t−1} (h_{−1} = 0), written into the first H columns of d_recurrent.
    if steps > 1 {
        let later = &dz[bc * h4..];
        let mut d_w_hh = vec![T::zero(); h4 * hidden];
        gemm(
            &mut d_w_hh,
            View::row_major(later, n - bc, h4).t(),
            View::row_major(&buf.h[..(n - bc) * hidden], n - bc, hidden),
            false,
            Threads::One,
        );
        for (dst, src) in buf.d_recurrent[..h4 * (hidden + 1)]
            .chunks_exact_mut(hidden + 1)
            .zip(d_w_hh.chunks_exact(hidden))
        {
            dst[..hidden].copy_from_slice(src);
        }
    }
    // d bias = Σ dZ, the last column.
    let mut d_bias = vec![T::zero(); h4];
    for dz_row in dz.chunks_exact(h4) {
        for (d, &v) in d_bias.iter_mut().zip(dz_row) {
            *d += v;
        }
    }
    for (row, d) in buf.d_recurrent[..h4 * (hidden + 1)]
        .chunks_exact_mut(hidden + 1)
        .zip(d_bias)
    {
        row[hidden] = d;
    }
    gemm(
        &mut buf.d_w_ih[..h4 * e],
        View::row_major(dz, n, h4).t(),
        View::row_major(&buf.x[..n * e], n, e),
        false,
        Threads::One,
    );
    gemm(
        &mut buf.x[..n * e],
        View::row_major(dz, n, h4),
        View::row_major(ops.w_ih, h4, e),
        false,
        Threads::One,
    );
}

/// [`super::cpu_slice`] for this op.
fn cpu_slice<'a, T: WithDType>(storage: &'a CpuStorage, layout: &Layout) -> Result<&'a [T]> {
    super::cpu_slice(storage, layout, "fused encoder")
}

/// The shapes of the three inputs: (vocab, word_dim, hidden).
fn dims(emb: &Shape, w_ih: &Shape, recurrent: &Shape) -> Result<(usize, usize, usize)> {
    let (vocab, e) = emb.dims2()?;
    let (h4, e_ih) = w_ih.dims2()?;
    let (h4_r, h1) = recurrent.dims2()?;
    let hidden = h4 / 4;
    if e_ih != e || h4_r != h4 || h4 != 4 * hidden || h1 != hidden + 1 {
        candle_core::bail!("fused encoder: embedding {emb:?}, w_ih {w_ih:?} and [w_hh | bias] {recurrent:?} do not match")
    }
    Ok((vocab, e, hidden))
}

/// Where a dtype's chunk buffers, projection table and stash live.
trait Pooled: Real + Default {
    fn buffers(ws: &Workspaces) -> &Mutex<Vec<ChunkBuffers<Self>>>;
    fn table(ws: &Workspaces) -> &Mutex<ProjectionTable<Self>>;
    fn stash(buffers: Vec<ChunkBuffers<Self>>) -> Stash;
    fn unstash(stash: Stash) -> Option<Vec<ChunkBuffers<Self>>>;
}

/// [`Pooled`] for a dtype: its fields of [`Workspaces`] and its [`Stash`] variant.
macro_rules! pooled {
    ($ty:ty, $variant:ident, $buffers:ident, $table:ident) => {
        impl Pooled for $ty {
            fn buffers(ws: &Workspaces) -> &Mutex<Vec<ChunkBuffers<Self>>> {
                &ws.$buffers
            }
            fn table(ws: &Workspaces) -> &Mutex<ProjectionTable<Self>> {
                &ws.$table
            }
            fn stash(buffers: Vec<ChunkBuffers<Self>>) -> Stash {
                Stash::$variant(buffers)
            }
            fn unstash(stash: Stash) -> Option<Vec<ChunkBuffers<Self>>> {
                match stash {
                    Stash::$variant(buffers) => Some(buffers),
                    _ => None,
                }
            }
        }
    };
}

pooled!(f32, F32, buffers_f32, table_f32);
pooled!(f64, F64, buffers_f64, table_f64);

impl FusedEncoder {
    fn forward<T: Pooled>(
        &self,
        embedding: &[T],
        w_ih: &[T],
        recurrent: &[T],
        e: usize,
        hidden: usize,
    ) -> Result<Vec<T>> {
        if self.batch == 0 {
            return Ok(Vec::new());
        }
        let ops = Operands::new(self, embedding, w_ih, recurrent, e, hidden);
        let mut tables = T::table(&self.workspaces)
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        let table = if self.train {
            None
        } else {
            tables.for_weights(embedding, w_ih, &ops.bias, e)
        };
        let ranges = chunks(self.batch);
        let mut buffers = workspace::take(T::buffers(&self.workspaces), ranges.len());
        let mut pooled = vec![T::zero(); self.batch * hidden];
        let rows_per_chunk = ranges[0].len().max(1);
        let results: Vec<Result<()>> = ranges
            .par_iter()
            .zip(buffers.par_iter_mut())
            .zip(pooled.par_chunks_mut(rows_per_chunk * hidden))
            .map(|((rows, buf), out)| {
                if self.train {
                    forward_chunk(&ops, rows, buf, out)
                } else {
                    infer_chunk(&ops, table, rows, buf, out)
                }
            })
            .collect();
        let outcome = results.into_iter().collect::<Result<()>>();
        if self.train && outcome.is_ok() {
            *self.lock_stash()? = Some(T::stash(buffers));
        } else {
            workspace::give(T::buffers(&self.workspaces), buffers);
        }
        outcome.map(|()| pooled)
    }

    fn backward<T: Pooled>(
        &self,
        embedding: &[T],
        w_ih: &[T],
        recurrent: &[T],
        d_pooled: &[T],
        e: usize,
        hidden: usize,
    ) -> Result<(Vec<T>, Vec<T>, Vec<T>)> {
        let stash = self.lock_stash()?.take();
        let Some(mut buffers) = stash.and_then(T::unstash) else {
            candle_core::bail!("fused encoder: backward without a stashed forward of this dtype (or a second backward)")
        };
        let ops = Operands::new(self, embedding, w_ih, recurrent, e, hidden);
        let ranges = chunks(self.batch);
        let rows_per_chunk = ranges[0].len().max(1);
        ranges
            .par_iter()
            .zip(buffers.par_iter_mut())
            .zip(d_pooled.par_chunks(rows_per_chunk * hidden))
            .for_each(|((rows, buf), d)| backward_chunk(&ops, rows, buf, d));
        let h4 = 4 * hidden;
        let mut d_w_ih = vec![T::zero(); h4 * e];
        let mut d_recurrent = vec![T::zero(); h4 * (hidden + 1)];
        let mut d_embedding = vec![T::zero(); embedding.len()];
        for (rows, buf) in ranges.iter().zip(&buffers) {
            for (d, &v) in d_w_ih.iter_mut().zip(&buf.d_w_ih[..h4 * e]) {
                *d += v;
            }
            for (d, &v) in d_recurrent
                .iter_mut()
                .zip(&buf.d_recurrent[..h4 * (hidden + 1)])
            {
                *d += v;
            }
            // The embedding gradient: each token's dX row added to its word's row.
            for s in 0..buf.steps {
                for (r, row) in rows.clone().enumerate() {
                    let id = self.tokens[row * self.len + s] as usize;
                    let at = (s * rows.len() + r) * e;
                    for (d, &v) in d_embedding[id * e..(id + 1) * e]
                        .iter_mut()
                        .zip(&buf.x[at..at + e])
                    {
                        *d += v;
                    }
                }
            }
        }
        workspace::give(T::buffers(&self.workspaces), buffers);
        Ok((d_embedding, d_w_ih, d_recurrent))
    }

    fn lock_stash(&self) -> Result<std::sync::MutexGuard<'_, Option<Stash>>> {
        self.stash
            .lock()
            .map_err(|_| candle_core::Error::Msg("fused encoder: poisoned stash".into()))
    }
}

impl CustomOp3 for FusedEncoder {
    fn name(&self) -> &'static str {
        "lrmm-fused-text-encoder"
    }

    fn cpu_fwd(
        &self,
        s1: &CpuStorage,
        l1: &Layout,
        s2: &CpuStorage,
        l2: &Layout,
        s3: &CpuStorage,
        l3: &Layout,
    ) -> Result<(CpuStorage, Shape)> {
        let (_, e, hidden) = dims(l1.shape(), l2.shape(), l3.shape())?;
        let shape = Shape::from((self.batch, hidden));
        macro_rules! run {
            ($ty:ty, $variant:ident) => {{
                let out = self.forward::<$ty>(
                    cpu_slice(s1, l1)?,
                    cpu_slice(s2, l2)?,
                    cpu_slice(s3, l3)?,
                    e,
                    hidden,
                )?;
                Ok((CpuStorage::$variant(out), shape))
            }};
        }
        match (s1, s2, s3) {
            (CpuStorage::F32(_), CpuStorage::F32(_), CpuStorage::F32(_)) => run!(f32, F32),
            (CpuStorage::F64(_), CpuStorage::F64(_), CpuStorage::F64(_)) => run!(f64, F64),
            _ => candle_core::bail!("fused encoder: f32 or f64 inputs of one dtype expected"),
        }
    }

    fn bwd(
        &self,
        embedding: &Tensor,
        w_ih: &Tensor,
        recurrent: &Tensor,
        _res: &Tensor,
        grad_res: &Tensor,
    ) -> Result<(Option<Tensor>, Option<Tensor>, Option<Tensor>)> {
        let (vocab, e, hidden) = dims(embedding.shape(), w_ih.shape(), recurrent.shape())?;
        let h4 = 4 * hidden;
        // The inputs and the incoming gradient are read where they lie, not copied (the
        // embedding alone is V × E values).
        let grad = grad_res.contiguous()?;
        let storages = [embedding, w_ih, recurrent, &grad].map(|t| t.storage_and_layout());
        let cpu = |k: usize| match &*storages[k].0 {
            Storage::Cpu(storage) => Ok(storage),
            _ => Err(candle_core::Error::Msg(
                "fused encoder: backward on a non-CPU tensor".into(),
            )),
        };
        macro_rules! run {
            ($ty:ty) => {{
                let slice = |k: usize| cpu_slice::<$ty>(cpu(k)?, storages[k].1);
                let (d_emb, d_w_ih, d_rec) =
                    self.backward::<$ty>(slice(0)?, slice(1)?, slice(2)?, slice(3)?, e, hidden)?;
                (
                    Tensor::from_vec(d_emb, (vocab, e), &Device::Cpu)?,
                    Tensor::from_vec(d_w_ih, (h4, e), &Device::Cpu)?,
                    Tensor::from_vec(d_rec, (h4, hidden + 1), &Device::Cpu)?,
                )
            }};
        }
        let (d_emb, d_w_ih, d_rec) = match embedding.dtype() {
            DType::F32 => run!(f32),
            DType::F64 => run!(f64),
            other => candle_core::bail!("fused encoder: unsupported dtype {other:?}"),
        };
        Ok((Some(d_emb), Some(d_w_ih), Some(d_rec)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chunks_cover_the_batch_and_depend_on_its_size_only() {
        for batch in [1, 2, 3, 63, 64, 65, 100, 256, 1000] {
            let ranges = chunks(batch);
            assert_eq!(ranges.first().unwrap().start, 0);
            assert_eq!(ranges.last().unwrap().end, batch);
            for pair in ranges.windows(2) {
                assert_eq!(pair[0].end, pair[1].start);
                assert_eq!(
                    pair[0].len(),
                    ranges[0].len(),
                    "only the last chunk is shorter"
                );
            }
            assert!(ranges.len() >= 2 || batch == 1, "batch {batch}: {ranges:?}");
            assert!(ranges[0].len() <= CHUNK_ROWS.max(batch.div_ceil(2)));
        }
        assert_eq!(chunks(256).len(), 4);
        assert_eq!(chunks(64).len(), 2);
    }
}
