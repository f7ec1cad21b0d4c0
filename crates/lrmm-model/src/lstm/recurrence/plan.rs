//! What the CUDA recurrence launches, independent of CUDA: its sizes, the grid of a step's
//! kernel and the cuBLAS configuration of each product. The CUDA host code (`cuda.rs`) and the
//! kernels' host emulation (`emulation.rs`, a test) read the same values, so the test checks the
//! configuration the GPU runs.

/// Threads per block of a step's kernel.
const THREADS: u32 = 256;
/// The kernels loop over a step's units when the grid is smaller (CUDA's x-dimension limit is
/// larger; this keeps the grid moderate for huge batches).
const MAX_BLOCKS: u32 = 65_535;

/// The recurrence's sizes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Dims {
    pub batch: usize,
    pub steps: usize,
    pub hidden: usize,
}

/// A cuBLAS sgemm call (column-major, α = 1, β = 0): C [m×n] = op(A) [m×k] · op(B) [k×n].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ColumnMajorProduct {
    pub transpose_a: bool,
    pub transpose_b: bool,
    pub m: usize,
    pub n: usize,
    pub k: usize,
    pub lda: usize,
    pub ldb: usize,
    pub ldc: usize,
}

impl Dims {
    /// (row, unit) pairs of one step: one thread each.
    pub fn units(&self) -> usize {
        self.batch * self.hidden
    }

    /// Gate values of one step.
    pub fn step_gates(&self) -> usize {
        4 * self.units()
    }

    /// (blocks, threads per block) of a step's kernel.
    pub fn grid(&self) -> (u32, u32) {
        let units = u32::try_from(self.units()).unwrap_or(u32::MAX);
        (units.div_ceil(THREADS).clamp(1, MAX_BLOCKS), THREADS)
    }

    /// Row-major `out [B, 4H] = h [B, H] · W_hhᵀ` with A = W_hh, B = h. Column-major, the
    /// row-major W_hh [4H, H] is [H, 4H] and h is [H, B]: out (as [4H, B]) = W_hhᵀ · h.
    pub fn recurrent_product(&self) -> ColumnMajorProduct {
        let (b, h) = (self.batch, self.hidden);
        ColumnMajorProduct {
            transpose_a: true,
            transpose_b: false,
            m: 4 * h,
            n: b,
            k: h,
            lda: h,
            ldb: h,
            ldc: 4 * h,
        }
    }

    /// Row-major `out [B, H] = dZ [B, 4H] · W_hh [4H, H]` with A = W_hh, B = dZ. Column-major:
    /// out (as [H, B]) = W_hh (as [H, 4H]) · dZ (as [4H, B]).
    pub fn gradient_product(&self) -> ColumnMajorProduct {
        let (b, h) = (self.batch, self.hidden);
        ColumnMajorProduct {
            transpose_a: false,
            transpose_b: false,
            m: h,
            n: b,
            k: 4 * h,
            lda: h,
            ldb: 4 * h,
            ldc: h,
        }
    }
}
