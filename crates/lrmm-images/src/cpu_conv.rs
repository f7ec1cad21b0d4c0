//! The CPU path of the VGG's conv stack, channels-last (NHWC).
//!
//! candle's CPU `conv2d` (0.11) converts every layer's input to NHWC, builds its im2col tiles
//! with strided writes and scatters the result back to NCHW: about 27 GFLOP/s on the 224×224
//! layers here, where a plain matmul of the same size runs at 120+. Keeping activations NHWC
//! from the first layer to the last makes im2col a run of contiguous copies of `c_in` floats,
//! the matmul writes straight into the next layer's input, and bias and ReLU follow in place. The
//! matmul is `lrmm_core::linalg::matmul_into` (the `gemm` crate, candle's CPU backend, called
//! directly). A 3×3, stride-1, padding-1
//! convolution is all VGG needs, so that is all this implements.

use candle_core::{Device, Result, Storage, Tensor};
use rayon::prelude::*;

/// im2col block size in floats (24 MiB): large enough for an efficient matmul, small enough that
/// batch 128 at 224×224 never materialises a whole layer's patches (3.7 GB per 32 images).
const BLOCK_FLOATS: usize = 6 << 20;

/// Runs `f` on the contiguous f32 values of a CPU tensor, without copying them.
fn with_cpu_slice<R>(t: &Tensor, f: impl FnOnce(&[f32]) -> Result<R>) -> Result<R> {
    let t = t.contiguous()?;
    let (storage, layout) = t.storage_and_layout();
    match &*storage {
        Storage::Cpu(cpu) => {
            let data = cpu.as_slice::<f32>()?;
            let start = layout.start_offset();
            f(&data[start..start + layout.shape().elem_count()])
        }
        _ => candle_core::bail!("the NHWC conv path runs on CPU tensors only"),
    }
}

/// A 3×3, stride-1, padding-1 convolution with bias, followed by ReLU, on NHWC tensors.
#[derive(Debug, Clone)]
pub struct Conv3x3ReluNhwc {
    /// `[3 · 3 · c_in, c_out]` row-major, rows ordered (ky, kx, c_in) like the im2col columns.
    weight: Vec<f32>,
    bias: Vec<f32>,
    c_in: usize,
    c_out: usize,
}

impl Conv3x3ReluNhwc {
    /// From torchvision's `[c_out, c_in, 3, 3]` weight and `[c_out]` bias.
    pub fn new(weight: &Tensor, bias: &Tensor) -> Result<Self> {
        let (c_out, c_in, kh, kw) = weight.dims4()?;
        if (kh, kw) != (3, 3) {
            candle_core::bail!("expected a 3x3 kernel, got {kh}x{kw}");
        }
        let weight = weight
            .to_device(&Device::Cpu)?
            .to_dtype(candle_core::DType::F32)?
            .permute((2, 3, 1, 0))?
            .flatten_all()?
            .to_vec1::<f32>()?;
        Ok(Self {
            weight,
            bias: bias.to_device(&Device::Cpu)?.to_vec1::<f32>()?,
            c_in,
            c_out,
        })
    }

    /// `x`: `[b, h, w, c_in]` → `relu(conv(x) + bias)`: `[b, h, w, c_out]`.
    pub fn forward(&self, x: &Tensor) -> Result<Tensor> {
        let (b, h, w, c) = x.dims4()?;
        if c != self.c_in {
            candle_core::bail!("conv expects {} input channels, got {c}", self.c_in);
        }
        let k = 9 * c;
        let c_out = self.c_out;
        let total_rows = b * h;
        let rows_per_block = (BLOCK_FLOATS / (w * k)).clamp(1, total_rows);
        let mut out = vec![0f32; total_rows * w * c_out];
        // One patch buffer per layer, every value rewritten per block (padding included), so no
        // block pays for zeroing 24 MiB.
        let mut patches = vec![0f32; rows_per_block * w * k];
        with_cpu_slice(x, |src| {
            for first_row in (0..total_rows).step_by(rows_per_block) {
                let rows = rows_per_block.min(total_rows - first_row);
                // Patches of `rows` output rows: one line of 9·c_in values per output pixel.
                let patches = &mut patches[..rows * w * k];
                patches
                    .par_chunks_mut(w * k)
                    .enumerate()
                    .for_each(|(r, line)| {
                        let row = first_row + r;
                        let (image, y) = (row / h, row % h);
                        for ky in 0..3 {
                            let sy = (y + ky).checked_sub(1).filter(|&sy| sy < h);
                            for x_out in 0..w {
                                for kx in 0..3 {
                                    let at = x_out * k + (ky * 3 + kx) * c;
                                    let dst = &mut line[at..at + c];
                                    let sx = (x_out + kx).checked_sub(1).filter(|&sx| sx < w);
                                    match (sy, sx) {
                                        (Some(sy), Some(sx)) => {
                                            let from = ((image * h + sy) * w + sx) * c;
                                            dst.copy_from_slice(&src[from..from + c]);
                                        }
                                        _ => dst.fill(0.0),
                                    }
                                }
                            }
                        }
                    });
                let dst = &mut out[first_row * w * c_out..(first_row + rows) * w * c_out];
                lrmm_core::linalg::matmul_into(dst, patches, &self.weight, rows * w, k, c_out);
                dst.par_chunks_mut(w * c_out).for_each(|line| {
                    for pixel in line.chunks_exact_mut(c_out) {
                        for (d, bias) in pixel.iter_mut().zip(&self.bias) {
                            *d = (*d + bias).max(0.0);
                        }
                    }
                });
            }
            Ok(())
        })?;
        Tensor::from_vec(out, (b, h, w, c_out), &Device::Cpu)
    }
}

/// 2×2 max pool, stride 2, floor mode, on NHWC tensors.
pub fn max_pool_2x2_nhwc(x: &Tensor) -> Result<Tensor> {
    let (b, h, w, c) = x.dims4()?;
    let (oh, ow) = (h / 2, w / 2);
    let mut out = vec![0f32; b * oh * ow * c];
    if out.is_empty() {
        return Tensor::from_vec(out, (b, oh, ow, c), &Device::Cpu);
    }
    with_cpu_slice(x, |src| {
        out.par_chunks_mut(ow * c)
            .enumerate()
            .for_each(|(row, line)| {
                let (image, oy) = (row / oh, row % oh);
                let top = (image * h + 2 * oy) * w * c;
                let bottom = top + w * c;
                for ox in 0..ow {
                    let dst = &mut line[ox * c..(ox + 1) * c];
                    let at = 2 * ox * c;
                    for (j, d) in dst.iter_mut().enumerate() {
                        *d = src[top + at + j]
                            .max(src[top + at + c + j])
                            .max(src[bottom + at + j])
                            .max(src[bottom + at + c + j]);
                    }
                }
            });
        Ok(())
    })?;
    Tensor::from_vec(out, (b, oh, ow, c), &Device::Cpu)
}
