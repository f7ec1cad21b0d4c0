//! The recurrence on a CUDA device: per step one cuBLAS sgemm and one launch of the kernels in
//! `kernels.cu` (compiled to PTX by the build script), all on candle's stream, so the steps queue
//! without a host synchronisation. f32 only: the products run in full f32 (no TF32), as the
//! parity with the CPU op asks.
//!
//! This module holds the crate's only unsafe blocks: cuBLAS and kernel launches take raw device
//! pointers, and cudarc leaves their bounds to the caller.

use candle_core::backend::BackendStorage;
use candle_core::cuda_backend::cudarc::cublas::{
    sys::cublasOperation_t, CudaBlas, Gemm, GemmConfig,
};
use candle_core::cuda_backend::cudarc::driver::{
    CudaSlice, CudaView, DevicePtr, DevicePtrMut, LaunchConfig, PushKernelArg,
};
use candle_core::cuda_backend::WrapErr;
use candle_core::{CudaDevice, CudaStorage, Layout, Result};

use super::plan::{ColumnMajorProduct, Dims};

const PTX: &str = include_str!(concat!(env!("OUT_DIR"), "/recurrence.ptx"));
const MODULE: &str = "lrmm_lstm_recurrence";

impl From<ColumnMajorProduct> for GemmConfig<f32> {
    fn from(p: ColumnMajorProduct) -> Self {
        let op = |transpose| {
            if transpose {
                cublasOperation_t::CUBLAS_OP_T
            } else {
                cublasOperation_t::CUBLAS_OP_N
            }
        };
        // Sizes were checked against i32 by `ints` before any product runs.
        GemmConfig {
            transa: op(p.transpose_a),
            transb: op(p.transpose_b),
            m: p.m as i32,
            n: p.n as i32,
            k: p.k as i32,
            alpha: 1.0,
            lda: p.lda as i32,
            ldb: p.ldb as i32,
            beta: 0.0,
            ldc: p.ldc as i32,
        }
    }
}

fn launch_config(dims: Dims) -> LaunchConfig {
    let (blocks, threads) = dims.grid();
    LaunchConfig {
        grid_dim: (blocks, 1, 1),
        block_dim: (threads, 1, 1),
        shared_mem_bytes: 0,
    }
}

/// The kernels' integer arguments (batch, hidden), and a check that every size the products
/// and kernels take fits their 32-bit ints (offsets inside the kernels are 64-bit).
fn ints(dims: Dims) -> Result<(i32, i32)> {
    let int = |n: usize| {
        i32::try_from(n).map_err(|_| {
            candle_core::Error::Msg(format!(
                "LSTM recurrence: {n} does not fit the CUDA kernels' int ({dims:?})"
            ))
        })
    };
    int(4 * dims.hidden)?;
    int(dims.steps)?;
    Ok((int(dims.batch)?, int(dims.hidden)?))
}

/// The forward's activated gates [T·B, 4H] and cell states [T·B, H], for the backward.
pub(super) struct Saved {
    gates: CudaSlice<f32>,
    cells: CudaSlice<f32>,
}

/// An input's f32 data where its (contiguous) layout says.
fn view<'a>(storage: &'a CudaStorage, layout: &Layout, what: &str) -> Result<CudaView<'a, f32>> {
    let Some((start, end)) = layout.contiguous_offsets() else {
        candle_core::bail!("LSTM recurrence: {what} is not contiguous")
    };
    Ok(storage.as_cuda_slice::<f32>()?.slice(start..end))
}

/// One product of the plan: `out = op(a) · op(b)` on candle's cuBLAS handle and stream.
fn product<A, B, C>(
    blas: &CudaBlas,
    config: ColumnMajorProduct,
    a: &A,
    b: &B,
    out: &mut C,
) -> Result<()>
where
    A: DevicePtr<f32>,
    B: DevicePtr<f32>,
    C: DevicePtrMut<f32>,
{
    // SAFETY: every caller passes views of exactly the extents the plan's configuration reads
    // and writes (W_hh [4H, H], one step's rows of h, dZ, the gates or dh).
    #[allow(unsafe_code)]
    let done = unsafe { blas.gemm(config.into(), a, b, out) };
    done.w()
}

/// inputs [T·B, 4H], W_hh [4H, H], bias [4H] → every step's hidden state [T·B, H], and the
/// gates and cells when `train`.
pub(super) fn forward(
    (inputs, inputs_layout): (&CudaStorage, &Layout),
    (w_hh, w_hh_layout): (&CudaStorage, &Layout),
    (bias, bias_layout): (&CudaStorage, &Layout),
    dims: Dims,
    train: bool,
) -> Result<(CudaStorage, Option<Saved>)> {
    let device: &CudaDevice = inputs.device();
    let inputs = view(inputs, inputs_layout, "the input projections")?;
    let w_hh = view(w_hh, w_hh_layout, "W_hh")?;
    let bias = view(bias, bias_layout, "the bias")?;
    let (units, step_gates) = (dims.units(), dims.step_gates());
    let mut states = device.alloc_zeros::<f32>(dims.steps * units)?;
    let mut cells = device.alloc_zeros::<f32>(dims.steps * units)?;
    // Inference keeps one step's gates, training every step's.
    let mut gates = device.alloc_zeros::<f32>(if train { dims.steps } else { 1 } * step_gates)?;
    let kernel = device.get_or_load_custom_func("lstm_step_forward", MODULE, PTX)?;
    let blas = device.cublas_handle();
    let (batch, hidden) = ints(dims)?;
    let per_step = i32::from(train);
    for step in 0..dims.steps {
        if step > 0 {
            let at = if train { step * step_gates } else { 0 };
            let h_prev = states.slice((step - 1) * units..step * units);
            let mut out = gates.slice_mut(at..at + step_gates);
            product(&blas, dims.recurrent_product(), &w_hh, &h_prev, &mut out)?;
        }
        let step = step as i32;
        let mut launch = kernel.builder();
        launch.arg(&inputs);
        launch.arg(&bias);
        launch.arg(&mut gates);
        launch.arg(&mut cells);
        launch.arg(&mut states);
        launch.arg(&batch);
        launch.arg(&hidden);
        launch.arg(&step);
        launch.arg(&per_step);
        // SAFETY: the kernel reads and writes within the extents documented in kernels.cu, which
        // the buffers above have.
        #[allow(unsafe_code)]
        let launched = unsafe { launch.launch(launch_config(dims)) };
        launched.w()?;
    }
    let saved = train.then_some(Saved { gates, cells });
    Ok((CudaStorage::wrap_cuda_slice(states, device.clone()), saved))
}

/// dL/dh of every step [T·B, H] and W_hh → dZ [T·B, 4H].
pub(super) fn backward(
    (d_states, d_states_layout): (&CudaStorage, &Layout),
    (w_hh, w_hh_layout): (&CudaStorage, &Layout),
    saved: &Saved,
    dims: Dims,
) -> Result<CudaStorage> {
    let device: &CudaDevice = d_states.device();
    let d_states = view(d_states, d_states_layout, "the states' gradient")?;
    let w_hh = view(w_hh, w_hh_layout, "W_hh")?;
    let (units, step_gates) = (dims.units(), dims.step_gates());
    let mut d_gates = device.alloc_zeros::<f32>(dims.steps * step_gates)?;
    // dZ_{t+1} W_hh, zero before the last step's kernel.
    let mut d_hidden = device.alloc_zeros::<f32>(units)?;
    let mut d_cell = device.alloc_zeros::<f32>(units)?;
    let kernel = device.get_or_load_custom_func("lstm_step_backward", MODULE, PTX)?;
    let blas = device.cublas_handle();
    let (batch, hidden) = ints(dims)?;
    for step in (0..dims.steps).rev() {
        let step_int = step as i32;
        let mut launch = kernel.builder();
        launch.arg(&d_states);
        launch.arg(&d_hidden);
        launch.arg(&saved.gates);
        launch.arg(&saved.cells);
        launch.arg(&mut d_cell);
        launch.arg(&mut d_gates);
        launch.arg(&batch);
        launch.arg(&hidden);
        launch.arg(&step_int);
        // SAFETY: as in `forward`.
        #[allow(unsafe_code)]
        let launched = unsafe { launch.launch(launch_config(dims)) };
        launched.w()?;
        if step > 0 {
            let this_step = d_gates.slice(step * step_gates..(step + 1) * step_gates);
            product(
                &blas,
                dims.gradient_product(),
                &w_hh,
                &this_step,
                &mut d_hidden,
            )?;
        }
    }
    Ok(CudaStorage::wrap_cuda_slice(d_gates, device.clone()))
}
