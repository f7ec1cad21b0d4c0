//! The text encoders' LSTM (paper eqs. 5–9: embedding → LSTM → masked mean pooling), in three
//! implementations over one parameter set:
//!
//! * [`LstmImpl::Stepwise`]: candle ops, one time step at a time. Runs on every device and is the
//!   reference the others are tested against.
//! * [`LstmImpl::Fused`]: the whole encoder, token ids to pooled state and back, as one CPU op
//!   with a hand-written backward ([`fused`]): no candle temporaries, buffers reused across
//!   batches, the batch cut into row chunks that run side by side on the cores. On a CUDA device
//!   `Fused` means the recurrence below.
//! * [`LstmImpl::Recurrence`]: the GPU's encoder ([`recurrence`]): all input projections in one
//!   matmul, per step one product and ONE fused gate kernel, the mirror backward. On the CPU it
//!   runs its Rust reference, for tests.
//!
//! Gate order in `W_ih`, `W_hh` and `b` is (i, f, g, o), PyTorch's, so weights can be compared
//! with `torch.nn.LSTM`.

mod activations;
pub mod fused;
pub mod recurrence;
mod workspace;

use std::cell::Cell;
use std::sync::Arc;

use candle_core::{CpuStorage, DType, Device, Layout, Result, Tensor, WithDType, D};
use serde::{Deserialize, Serialize};

pub use workspace::Workspaces;

/// Which encoder implementation a model runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum LstmImpl {
    /// The fused CPU op on a CPU device (f32 or f64), the recurrence kernels on a CUDA device
    /// (f32), the stepwise candle ops elsewhere.
    #[default]
    Auto,
    /// The fused op of the device: the CPU op, or the recurrence kernels on CUDA.
    Fused,
    Stepwise,
    /// The recurrence kernels (CUDA), or their CPU reference on the CPU.
    Recurrence,
}

/// What an encoder call runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Resolved {
    FusedCpu,
    Recurrence,
    Stepwise,
}

/// One LSTM layer. `w_ih`: [4H, E], `w_hh`: [4H, H], `bias`: [4H].
#[derive(Debug, Clone)]
pub struct Lstm {
    pub w_ih: Tensor,
    pub w_hh: Tensor,
    pub bias: Tensor,
    pub implementation: LstmImpl,
    /// The fused op's buffers, kept from one batch to the next.
    workspaces: Arc<Workspaces>,
}

impl Lstm {
    pub fn new(w_ih: Tensor, w_hh: Tensor, bias: Tensor, implementation: LstmImpl) -> Self {
        Self {
            w_ih,
            w_hh,
            bias,
            implementation,
            workspaces: Arc::default(),
        }
    }

    pub fn hidden(&self) -> usize {
        self.w_hh.dims()[1]
    }

    fn resolve(&self, device: &Device, dtype: DType) -> Resolved {
        match self.implementation {
            LstmImpl::Stepwise => Resolved::Stepwise,
            LstmImpl::Recurrence => Resolved::Recurrence,
            LstmImpl::Auto | LstmImpl::Fused if device.is_cuda() && dtype == DType::F32 => {
                Resolved::Recurrence
            }
            LstmImpl::Fused => Resolved::FusedCpu,
            LstmImpl::Auto if device.is_cpu() && matches!(dtype, DType::F32 | DType::F64) => {
                Resolved::FusedCpu
            }
            LstmImpl::Auto => Resolved::Stepwise,
        }
    }

    /// `tokens` [B, T] u32 (right-padded) → the mean of the LSTM states over each row's real
    /// tokens, [B, H]. `pool` [B, 1, T] holds 1/n on the n real tokens and 0 on padding.
    pub fn encode(&self, embedding: &Tensor, tokens: &Tensor, pool: &Tensor) -> Result<Tensor> {
        match self.resolve(tokens.device(), embedding.dtype()) {
            Resolved::FusedCpu => return fused::encode(embedding, self, tokens, pool),
            Resolved::Recurrence => return recurrence::encode(embedding, self, tokens, pool),
            Resolved::Stepwise => {}
        }
        let (b, t) = tokens.dims2()?;
        let x = embedding
            .index_select(&tokens.flatten_all()?, 0)?
            .reshape((b, t, ()))?;
        let states = self.forward_stepwise(&x)?;
        // Eq. 9 as a batched matmul: padding has weight 0, so trailing [PAD]s change nothing.
        pool.matmul(&states)?.squeeze(1)
    }

    /// `x`: [B, T, E] → every step's hidden state [B, T, H], starting from zero state, with
    /// candle ops.
    pub fn forward_stepwise(&self, x: &Tensor) -> Result<Tensor> {
        let (b, t, e) = x.dims3()?;
        let h4 = self.w_ih.dims()[0];
        // All steps' input projections in one matmul; the bias is added inside the recurrence.
        let xproj = x
            .reshape((b * t, e))?
            .matmul(&self.w_ih.t()?)?
            .reshape((b, t, h4))?;
        stepwise_recurrence(&xproj, &self.w_hh, &self.bias)
    }
}

/// The recurrence with candle ops. `xproj`: [B, T, 4H] input projections without bias.
pub fn stepwise_recurrence(xproj: &Tensor, w_hh: &Tensor, bias: &Tensor) -> Result<Tensor> {
    let (b, t, _) = xproj.dims3()?;
    let hidden = w_hh.dims()[1];
    let xproj = xproj.broadcast_add(bias)?;
    let w_t = w_hh.t()?;
    let mut h = Tensor::zeros((b, hidden), xproj.dtype(), xproj.device())?;
    let mut c = h.clone();
    let mut outputs = Vec::with_capacity(t);
    for step in 0..t {
        let z = xproj
            .narrow(1, step, 1)?
            .squeeze(1)?
            .add(&h.matmul(&w_t)?)?;
        let gates = z.chunk(4, D::Minus1)?;
        let i = candle_nn::ops::sigmoid(&gates[0])?;
        let f = candle_nn::ops::sigmoid(&gates[1])?;
        let g = gates[2].tanh()?;
        let o = candle_nn::ops::sigmoid(&gates[3])?;
        c = f.mul(&c)?.add(&i.mul(&g)?)?;
        h = o.mul(&c.tanh()?)?;
        outputs.push(h.clone());
    }
    Tensor::stack(&outputs, 1)
}

/// A custom op's contiguous CPU input as a slice; `op` names the op in the error.
fn cpu_slice<'a, T: WithDType>(
    storage: &'a CpuStorage,
    layout: &Layout,
    op: &str,
) -> Result<&'a [T]> {
    let data = storage.as_slice::<T>()?;
    match layout.contiguous_offsets() {
        Some((start, end)) => Ok(&data[start..end]),
        None => candle_core::bail!("{op}: input is not contiguous"),
    }
}

thread_local! {
    static INFERENCE: Cell<bool> = const { Cell::new(false) };
}

/// While alive, fused LSTM calls on this thread keep nothing for a backward pass, like
/// `torch.no_grad()`: evaluation and inference keep none of the activations a backward pass reads
/// (B·T·(E + 7H) values per encoder).
#[derive(Debug)]
pub struct InferenceGuard {
    previous: bool,
}

impl InferenceGuard {
    pub fn new() -> Self {
        Self {
            previous: INFERENCE.with(|c| c.replace(true)),
        }
    }
}

impl Default for InferenceGuard {
    fn default() -> Self {
        Self::new()
    }
}

impl Drop for InferenceGuard {
    fn drop(&mut self) {
        INFERENCE.with(|c| c.set(self.previous));
    }
}

/// Whether an [`InferenceGuard`] is alive on this thread (no backward pass will follow).
pub fn inference_mode() -> bool {
    INFERENCE.with(|c| c.get())
}

#[cfg(test)]
mod tests;
