//! The recurrence's CPU reference: the steps of the CUDA path (`cuda.rs` and `kernels.cu`) in
//! Rust, one (row, unit) at a time as a kernel thread does them, with the fused op's per-unit
//! gate functions. What the tests compare the kernels and the fused op with.

use lrmm_core::linalg::{gemm, Threads, View};

use super::super::activations::Real;
use super::super::fused::{unit_backward, unit_forward};
use super::plan::Dims;

/// What a training forward keeps for the backward: the activated gates [T·B, 4H] and the cell
/// states [T·B, H].
pub(super) struct Saved<T> {
    gates: Vec<T>,
    cells: Vec<T>,
}

/// `out = h · W_hhᵀ` for `rows` rows: [rows, H] · [4H, H]ᵀ → [rows, 4H].
fn recurrent_product<T: Real>(out: &mut [T], h: &[T], w_hh: &[T], rows: usize, hidden: usize) {
    gemm(
        out,
        View::row_major(h, rows, hidden),
        View::row_major(w_hh, 4 * hidden, hidden).t(),
        false,
        Threads::One,
    );
}

/// The CPU reference of the forward: per step the product, then what `lstm_step_forward` does
/// for each (row, unit). Returns the states and what the backward needs.
pub(super) fn forward_cpu<T: Real>(
    inputs: &[T],
    w_hh: &[T],
    bias: &[T],
    dims: Dims,
) -> (Vec<T>, Saved<T>) {
    let Dims {
        batch,
        steps,
        hidden,
    } = dims;
    let (units, h4) = (dims.units(), 4 * hidden);
    let mut gates = vec![T::zero(); steps * batch * h4];
    let mut cells = vec![T::zero(); steps * units];
    let mut states = vec![T::zero(); steps * units];
    for step in 0..steps {
        let at = step * units;
        let step_gates = &mut gates[step * batch * h4..(step + 1) * batch * h4];
        if step > 0 {
            recurrent_product(step_gates, &states[at - units..at], w_hh, batch, hidden);
        }
        let step_inputs = &inputs[step * batch * h4..(step + 1) * batch * h4];
        for u in 0..units {
            let (row, j) = (u / hidden, u % hidden);
            let g0 = row * h4 + j;
            let z = [0, 1, 2, 3].map(|k| {
                let gk = g0 + k * hidden;
                let recurrent = if step > 0 { step_gates[gk] } else { T::zero() };
                step_inputs[gk] + bias[k * hidden + j] + recurrent
            });
            let c_prev = if step > 0 {
                cells[at - units + u]
            } else {
                T::zero()
            };
            let (activated, c, _, h) = unit_forward(z, c_prev);
            for (k, value) in activated.into_iter().enumerate() {
                step_gates[g0 + k * hidden] = value;
            }
            cells[at + u] = c;
            states[at + u] = h;
        }
    }
    (states, Saved { gates, cells })
}

/// The CPU reference of the backward: per step, from the last, what `lstm_step_backward` does
/// for each (row, unit), then the product dZ_t W_hh. Returns dZ [T·B, 4H].
pub(super) fn backward_cpu<T: Real>(
    d_states: &[T],
    w_hh: &[T],
    saved: &Saved<T>,
    dims: Dims,
) -> Vec<T> {
    let Dims {
        batch,
        steps,
        hidden,
    } = dims;
    let (units, h4) = (dims.units(), 4 * hidden);
    let mut d_gates = vec![T::zero(); steps * batch * h4];
    let mut d_hidden = vec![T::zero(); units];
    let mut d_cell = vec![T::zero(); units];
    for step in (0..steps).rev() {
        let at = step * units;
        let step_gates = &saved.gates[step * batch * h4..(step + 1) * batch * h4];
        let step_d_gates = &mut d_gates[step * batch * h4..(step + 1) * batch * h4];
        for u in 0..units {
            let (row, j) = (u / hidden, u % hidden);
            let g0 = row * h4 + j;
            let activated = [0, 1, 2, 3].map(|k| step_gates[g0 + k * hidden]);
            let c_prev = if step > 0 {
                saved.cells[at - units + u]
            } else {
                T::zero()
            };
            let t = saved.cells[at + u].tanh_();
            let dh = d_states[at + u] + d_hidden[u];
            let (dz, dc_prev) = unit_backward(activated, c_prev, t, dh, d_cell[u]);
            for (k, value) in dz.into_iter().enumerate() {
                step_d_gates[g0 + k * hidden] = value;
            }
            d_cell[u] = dc_prev;
        }
        if step > 0 {
            // dL/dh_{t−1} from the recurrence: dZ_t · W_hh, [B, 4H] · [4H, H].
            gemm(
                &mut d_hidden,
                View::row_major(step_d_gates, batch, h4),
                View::row_major(w_hh, h4, hidden),
                false,
                Threads::One,
            );
        }
    }
    d_gates
}
