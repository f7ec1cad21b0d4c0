//! The text encoder for a GPU ([`LstmImpl::Recurrence`](super::LstmImpl)): the fused CPU op's
//! algorithm cut where a GPU wants it cut.
//!
//! **Forward.** Candle ops gather the embeddings of every step, time-major, and make all input
//! projections Z_x = X W_ihᵀ in ONE matmul (cuBLAS on CUDA). The recurrence is one custom op:
//! per step one product h_{t−1} W_hhᵀ into the step's gates and ONE kernel that adds Z_x and the
//! bias, applies the gates and writes c_t and h_t. Its output is every step's hidden state,
//! [T·B, H]; the masked mean pooling is a weighted sum over the steps in candle ops.
//!
//! **Backward** (the op's [`CustomOp3::bwd`]), the mirror: per step, from the last, ONE kernel
//! turns dL/dh_t (the pooling's gradient plus the recurrent part) and dL/dc_t into the gates'
//! pre-activation gradients dZ_t, then one product dZ_t W_hh gives the next step's recurrent
//! part. dW_hh = Σ_t dZ_tᵀ h_{t−1} is ONE matmul over all steps, the bias gradient a sum over
//! rows, and candle's autograd takes dZ back through the input projection (dW_ih and dX: one
//! matmul each over all steps) and the gather (the embedding gradient).
//!
//! On CUDA (`recurrence/cuda.rs`) the products are cuBLAS sgemm calls and the kernels are
//! `recurrence/kernels.cu`, compiled to PTX by the build script; [`plan`] holds the grid and the
//! products' configurations. On the CPU the same op runs the same steps in Rust
//! (`recurrence/reference.rs`): the executable reference of the CUDA path, tested against the
//! fused op. A test compiles the kernels themselves for the host and runs them with the plan
//! against that reference (`recurrence/emulation.rs`), so a machine without a GPU checks all
//! but cuBLAS, the hardware and the launch plumbing. (The CPU's own encoder stays the fused op,
//! which is faster.)

use std::sync::Mutex;

use candle_core::{CpuStorage, CustomOp2, CustomOp3, Layout, Result, Shape, Tensor, WithDType};

use super::{inference_mode, Lstm};

#[cfg(feature = "cuda")]
mod cuda;
#[cfg(test)]
mod emulation;
pub mod plan;
mod reference;

use plan::Dims;
use reference::{backward_cpu, forward_cpu, Saved};

/// `embedding` [V, E] → `tokens` [B, T] u32 → pooled [B, H], pooling weights `pool` [B, 1, T].
pub fn encode(embedding: &Tensor, lstm: &Lstm, tokens: &Tensor, pool: &Tensor) -> Result<Tensor> {
    let (batch, steps) = tokens.dims2()?;
    let hidden = lstm.hidden();
    if pool.elem_count() != batch * steps {
        candle_core::bail!(
            "LSTM recurrence: pooling weights {:?} do not match tokens [{batch}, {steps}]",
            pool.shape()
        )
    }
    if batch == 0 || steps == 0 {
        return Tensor::zeros((batch, hidden), embedding.dtype(), embedding.device());
    }
    // Time-major: step t of row b is row t·B + b, so a step's rows are one contiguous block.
    let ids = tokens.t()?.contiguous()?.flatten_all()?;
    let inputs = embedding.index_select(&ids, 0)?.matmul(&lstm.w_ih.t()?)?;
    let (w_hh, bias) = (lstm.w_hh.contiguous()?, lstm.bias.contiguous()?);
    let train = !inference_mode() && (inputs.track_op() || w_hh.track_op() || bias.track_op());
    let op = Recurrence {
        batch,
        steps,
        train,
        stash: Mutex::new(None),
    };
    let states = if train {
        inputs.apply_op3(&w_hh, &bias, op)?
    } else {
        inputs.apply_op3_no_bwd(&w_hh, &bias, &op)?
    };
    // Eq. 9: Σ_t w_{b,t} h_{t,b}; padding has weight 0.
    let weights = pool
        .reshape((batch, steps))?
        .t()?
        .contiguous()?
        .reshape((steps * batch, 1))?
        .to_dtype(states.dtype())?;
    states
        .broadcast_mul(&weights)?
        .reshape((steps, batch, hidden))?
        .sum(0)
}

/// The recurrence over all steps: inputs [T·B, 4H] (x W_ihᵀ), W_hh [4H, H], bias [4H] →
/// every step's hidden state [T·B, H].
struct Recurrence {
    batch: usize,
    steps: usize,
    /// Keep the activated gates and the cell states for a backward pass.
    train: bool,
    stash: Mutex<Option<Stash>>,
}

/// What a training forward keeps for the backward (the activated gates and the cell states), on
/// the device it ran on.
enum Stash {
    F32(Saved<f32>),
    F64(Saved<f64>),
    #[cfg(feature = "cuda")]
    Cuda(cuda::Saved),
}

/// The shapes of the recurrence's inputs → hidden size, checked against `batch` and `steps`.
fn hidden_size(
    inputs: &Shape,
    w_hh: &Shape,
    bias: &Shape,
    batch: usize,
    steps: usize,
) -> Result<usize> {
    let (rows, h4) = inputs.dims2()?;
    let (h4_w, hidden) = w_hh.dims2()?;
    let h4_b = bias.dims1()?;
    if hidden == 0 || rows != batch * steps || h4 != 4 * hidden || h4_w != h4 || h4_b != h4 {
        candle_core::bail!(
            "LSTM recurrence: inputs {inputs:?}, W_hh {w_hh:?} and bias {bias:?} do not match {steps} steps of {batch} rows"
        )
    }
    Ok(hidden)
}

/// Checks the backward's inputs (every step's dL/dh, W_hh) against `dims`, as the kernels index
/// them.
fn check_backward_shapes(d_states: &Shape, w_hh: &Shape, dims: Dims) -> Result<()> {
    let Dims {
        batch,
        steps,
        hidden,
    } = dims;
    if hidden == 0
        || d_states.dims2()? != (steps * batch, hidden)
        || w_hh.dims2()? != (4 * hidden, hidden)
    {
        candle_core::bail!(
            "LSTM recurrence backward: dL/dh {d_states:?} and W_hh {w_hh:?} do not match {steps} steps of {batch} rows"
        )
    }
    Ok(())
}

/// [`super::cpu_slice`] for this op.
fn cpu_slice<'a, T: WithDType>(storage: &'a CpuStorage, layout: &Layout) -> Result<&'a [T]> {
    super::cpu_slice(storage, layout, "LSTM recurrence")
}

impl Recurrence {
    fn dims(&self, hidden: usize) -> Dims {
        Dims {
            batch: self.batch,
            steps: self.steps,
            hidden,
        }
    }

    fn lock_stash(&self) -> Result<std::sync::MutexGuard<'_, Option<Stash>>> {
        self.stash
            .lock()
            .map_err(|_| candle_core::Error::Msg("LSTM recurrence: poisoned stash".into()))
    }

    /// Keeps `stash` for the backward when training.
    fn keep(&self, stash: Stash) -> Result<()> {
        if self.train {
            *self.lock_stash()? = Some(stash);
        }
        Ok(())
    }
}

impl CustomOp3 for Recurrence {
    fn name(&self) -> &'static str {
        "lrmm-lstm-recurrence"
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
        let hidden = hidden_size(l1.shape(), l2.shape(), l3.shape(), self.batch, self.steps)?;
        let shape = Shape::from((self.steps * self.batch, hidden));
        macro_rules! run {
            ($ty:ty, $variant:ident) => {{
                let (states, saved) = forward_cpu::<$ty>(
                    cpu_slice(s1, l1)?,
                    cpu_slice(s2, l2)?,
                    cpu_slice(s3, l3)?,
                    self.dims(hidden),
                );
                self.keep(Stash::$variant(saved))?;
                Ok((CpuStorage::$variant(states), shape))
            }};
        }
        match (s1, s2, s3) {
            (CpuStorage::F32(_), CpuStorage::F32(_), CpuStorage::F32(_)) => run!(f32, F32),
            (CpuStorage::F64(_), CpuStorage::F64(_), CpuStorage::F64(_)) => run!(f64, F64),
            _ => candle_core::bail!("LSTM recurrence: f32 or f64 inputs of one dtype expected"),
        }
    }

    #[cfg(feature = "cuda")]
    fn cuda_fwd(
        &self,
        s1: &candle_core::CudaStorage,
        l1: &Layout,
        s2: &candle_core::CudaStorage,
        l2: &Layout,
        s3: &candle_core::CudaStorage,
        l3: &Layout,
    ) -> Result<(candle_core::CudaStorage, Shape)> {
        let hidden = hidden_size(l1.shape(), l2.shape(), l3.shape(), self.batch, self.steps)?;
        let shape = (self.steps * self.batch, hidden);
        let (states, saved) =
            cuda::forward((s1, l1), (s2, l2), (s3, l3), self.dims(hidden), self.train)?;
        if let Some(saved) = saved {
            self.keep(Stash::Cuda(saved))?;
        }
        Ok((states, Shape::from(shape)))
    }

    fn bwd(
        &self,
        _inputs: &Tensor,
        w_hh: &Tensor,
        bias: &Tensor,
        states: &Tensor,
        d_states: &Tensor,
    ) -> Result<(Option<Tensor>, Option<Tensor>, Option<Tensor>)> {
        let Some(stash) = self.lock_stash()?.take() else {
            candle_core::bail!(
                "LSTM recurrence: backward without a stashed forward (or a second backward)"
            )
        };
        let backward = RecurrenceBackward {
            dims: self.dims(w_hh.dim(1)?),
            stash: Mutex::new(Some(stash)),
        };
        let d_gates = d_states.contiguous()?.apply_op2_no_bwd(w_hh, &backward)?;
        let d_bias = d_gates.sum(0)?.reshape(bias.shape())?;
        // dW_hh = Σ_{t≥1} dZ_tᵀ h_{t−1}: the rows of steps 1.. against the states of steps ..T−1.
        let d_w_hh = if self.steps > 1 {
            let rows = (self.steps - 1) * self.batch;
            d_gates
                .narrow(0, self.batch, rows)?
                .t()?
                .matmul(&states.detach().narrow(0, 0, rows)?)?
        } else {
            w_hh.zeros_like()?
        };
        Ok((Some(d_gates), Some(d_w_hh), Some(d_bias)))
    }
}

/// The recurrence's backward: dL/dh of every step [T·B, H] and W_hh [4H, H] → dZ [T·B, 4H],
/// from the forward's stash.
struct RecurrenceBackward {
    dims: Dims,
    stash: Mutex<Option<Stash>>,
}

impl RecurrenceBackward {
    fn take(&self) -> Result<Stash> {
        self.stash
            .lock()
            .ok()
            .and_then(|mut stash| stash.take())
            .ok_or_else(|| candle_core::Error::Msg("LSTM recurrence: backward run twice".into()))
    }
}

impl CustomOp2 for RecurrenceBackward {
    fn name(&self) -> &'static str {
        "lrmm-lstm-recurrence-backward"
    }

    fn cpu_fwd(
        &self,
        s1: &CpuStorage,
        l1: &Layout,
        s2: &CpuStorage,
        l2: &Layout,
    ) -> Result<(CpuStorage, Shape)> {
        check_backward_shapes(l1.shape(), l2.shape(), self.dims)?;
        let shape = Shape::from((self.dims.steps * self.dims.batch, 4 * self.dims.hidden));
        macro_rules! run {
            ($ty:ty, $variant:ident, $saved:expr) => {{
                let d_gates =
                    backward_cpu::<$ty>(cpu_slice(s1, l1)?, cpu_slice(s2, l2)?, &$saved, self.dims);
                Ok((CpuStorage::$variant(d_gates), shape))
            }};
        }
        match (self.take()?, s1, s2) {
            (Stash::F32(saved), CpuStorage::F32(_), CpuStorage::F32(_)) => run!(f32, F32, saved),
            (Stash::F64(saved), CpuStorage::F64(_), CpuStorage::F64(_)) => run!(f64, F64, saved),
            _ => candle_core::bail!(
                "LSTM recurrence: backward on the CPU needs a CPU forward of the same dtype"
            ),
        }
    }

    #[cfg(feature = "cuda")]
    fn cuda_fwd(
        &self,
        s1: &candle_core::CudaStorage,
        l1: &Layout,
        s2: &candle_core::CudaStorage,
        l2: &Layout,
    ) -> Result<(candle_core::CudaStorage, Shape)> {
        check_backward_shapes(l1.shape(), l2.shape(), self.dims)?;
        let Stash::Cuda(saved) = self.take()? else {
            candle_core::bail!("LSTM recurrence: backward on CUDA needs a CUDA forward")
        };
        let d_gates = cuda::backward((s1, l1), (s2, l2), &saved, self.dims)?;
        let Dims {
            batch,
            steps,
            hidden,
        } = self.dims;
        Ok((d_gates, Shape::from((steps * batch, 4 * hidden))))
    }
}
