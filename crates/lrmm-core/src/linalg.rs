//! The one matrix product the CPU hot loops call directly (the image stage's convolutions, the
//! fused LSTM text encoders): the `gemm` crate, candle's own CPU matmul backend, writing into a
//! buffer the caller owns, so a loop reuses its buffers instead of allocating a tensor per step.
//!
//! Operands are [`View`]s: a slice with a shape and strides, so a transposed or column-sliced
//! matrix is passed without copying it. This module holds the crate's only `unsafe` block.

/// Scalars the product runs on.
pub trait GemmScalar: Copy + Send + Sync + 'static {
    const ZERO: Self;
    const ONE: Self;
}

impl GemmScalar for f32 {
    const ZERO: Self = 0.0;
    const ONE: Self = 1.0;
}

impl GemmScalar for f64 {
    const ZERO: Self = 0.0;
    const ONE: Self = 1.0;
}

/// A read-only `rows × cols` matrix in a slice: element (r, c) is `data[r·row_stride + c·col_stride]`.
#[derive(Debug, Clone, Copy)]
pub struct View<'a, T> {
    data: &'a [T],
    rows: usize,
    cols: usize,
    row_stride: usize,
    col_stride: usize,
}

impl<'a, T> View<'a, T> {
    /// A contiguous row-major matrix.
    ///
    /// # Panics
    /// When `data` does not hold exactly `rows × cols` values.
    pub fn row_major(data: &'a [T], rows: usize, cols: usize) -> Self {
        assert_eq!(data.len(), rows * cols, "View: data is not {rows}×{cols}");
        Self::strided(data, rows, cols, cols)
    }

    /// Row-major rows `row_stride` apart, of which the first `cols` values are the matrix (a
    /// column slice of a wider matrix).
    ///
    /// # Panics
    /// When the last element lies outside `data` or the rows overlap.
    pub fn strided(data: &'a [T], rows: usize, cols: usize, row_stride: usize) -> Self {
        assert!(
            cols <= row_stride || rows <= 1,
            "View: rows of {cols} overlap at stride {row_stride}"
        );
        let view = Self {
            data,
            rows,
            cols,
            row_stride,
            col_stride: 1,
        };
        assert!(
            view.in_bounds(),
            "View: {rows}×{cols} at stride {row_stride} exceeds {} values",
            data.len()
        );
        view
    }

    /// The transpose, without moving any data.
    pub fn t(self) -> Self {
        Self {
            rows: self.cols,
            cols: self.rows,
            row_stride: self.col_stride,
            col_stride: self.row_stride,
            ..self
        }
    }

    pub fn rows(&self) -> usize {
        self.rows
    }

    pub fn cols(&self) -> usize {
        self.cols
    }

    fn in_bounds(&self) -> bool {
        self.rows == 0
            || self.cols == 0
            || (self.rows - 1) * self.row_stride + (self.cols - 1) * self.col_stride
                < self.data.len()
    }
}

/// How many threads one product may use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Threads {
    /// The calling thread only: for products already running side by side on rayon's threads.
    One,
    /// Every rayon thread.
    All,
}

/// `dst[m × n] (+)= lhs[m × k] · rhs[k × n]` with `dst` contiguous row-major; `accumulate` adds
/// the product to what `dst` holds, otherwise `dst` is overwritten (never read).
///
/// # Panics
/// When the shapes do not agree or `dst` is not `m × n`.
pub fn gemm<T: GemmScalar>(
    dst: &mut [T],
    lhs: View<'_, T>,
    rhs: View<'_, T>,
    accumulate: bool,
    threads: Threads,
) {
    let (m, k, n) = (lhs.rows, lhs.cols, rhs.cols);
    assert_eq!(
        rhs.rows, k,
        "gemm: lhs is {m}×{k} but rhs has {} rows",
        rhs.rows
    );
    assert_eq!(dst.len(), m * n, "gemm: dst is not {m}×{n}");
    if m == 0 || n == 0 {
        return;
    }
    if k == 0 {
        if !accumulate {
            dst.fill(T::ZERO);
        }
        return;
    }
    let parallelism = match threads {
        Threads::One => gemm::Parallelism::None,
        Threads::All => gemm::Parallelism::Rayon(rayon::current_num_threads()),
    };
    // SAFETY: `View::in_bounds` (checked when each view was made, and preserved by `t()`) puts
    // every element (r, c) of lhs and rhs at an index inside its slice; `dst` holds exactly the
    // m×n row-major matrix its strides describe (asserted above) and is exclusively borrowed, so
    // gemm's reads and writes are in bounds, and writes alias no operand.
    #[allow(unsafe_code)] // gemm's API is raw pointers and strides; the crate's one unsafe block
    unsafe {
        gemm::gemm(
            m,
            n,
            k,
            dst.as_mut_ptr(),
            1,
            n as isize,
            accumulate,
            lhs.data.as_ptr(),
            lhs.col_stride as isize,
            lhs.row_stride as isize,
            rhs.data.as_ptr(),
            rhs.col_stride as isize,
            rhs.row_stride as isize,
            if accumulate { T::ONE } else { T::ZERO },
            T::ONE,
            false,
            false,
            false,
            parallelism,
        );
    }
}

/// `dst[m × n] = lhs[m × k] · rhs[k × n]`, all contiguous row-major, on every rayon thread.
///
/// # Panics
/// When a slice's length is not the size its shape says.
pub fn matmul_into<T: GemmScalar>(
    dst: &mut [T],
    lhs: &[T],
    rhs: &[T],
    m: usize,
    k: usize,
    n: usize,
) {
    gemm(
        dst,
        View::row_major(lhs, m, k),
        View::row_major(rhs, k, n),
        false,
        Threads::All,
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    fn schoolbook(
        lhs: impl Fn(usize, usize) -> f64,
        rhs: impl Fn(usize, usize) -> f64,
        m: usize,
        k: usize,
        n: usize,
    ) -> Vec<f64> {
        let mut out = vec![0.0; m * n];
        for i in 0..m {
            for j in 0..n {
                out[i * n + j] = (0..k).map(|p| lhs(i, p) * rhs(p, j)).sum();
            }
        }
        out
    }

    fn assert_close(got: &[f64], want: &[f64]) {
        assert_eq!(got.len(), want.len());
        for (g, w) in got.iter().zip(want) {
            assert!((g - w).abs() < 1e-12, "{g} vs {w}");
        }
    }

    #[test]
    fn matches_the_schoolbook_product() {
        let (m, k, n) = (5, 7, 3);
        let lhs: Vec<f64> = (0..m * k).map(|v| (v as f64 * 0.37).sin()).collect();
        let rhs: Vec<f64> = (0..k * n).map(|v| (v as f64 * 0.11).cos()).collect();
        let mut dst = vec![f64::NAN; m * n]; // overwritten, never read
        matmul_into(&mut dst, &lhs, &rhs, m, k, n);
        assert_close(
            &dst,
            &schoolbook(|i, p| lhs[i * k + p], |p, j| rhs[p * n + j], m, k, n),
        );
        // k = 0: the empty sum.
        let mut dst = vec![f32::NAN; 4];
        matmul_into(&mut dst, &[], &[], 2, 0, 2);
        assert_eq!(dst, vec![0.0; 4]);
    }

    #[test]
    fn transposed_and_column_sliced_operands_and_accumulation() {
        let (m, k, n) = (6, 4, 5);
        // lhs stored as its transpose [k × m]; rhs the first n columns of a [k × (n + 2)] matrix.
        let lhs_t: Vec<f64> = (0..k * m).map(|v| (v as f64 * 0.29).sin()).collect();
        let wide: Vec<f64> = (0..k * (n + 2)).map(|v| (v as f64 * 0.17).cos()).collect();
        let want = schoolbook(
            |i, p| lhs_t[p * m + i],
            |p, j| wide[p * (n + 2) + j],
            m,
            k,
            n,
        );
        let lhs = View::row_major(&lhs_t, k, m).t();
        let rhs = View::strided(&wide, k, n, n + 2);
        let mut dst = vec![f64::NAN; m * n];
        gemm(&mut dst, lhs, rhs, false, Threads::One);
        assert_close(&dst, &want);
        // Accumulating adds the product once more.
        gemm(&mut dst, lhs, rhs, true, Threads::All);
        assert_close(&dst, &want.iter().map(|v| 2.0 * v).collect::<Vec<_>>());
    }

    #[test]
    #[should_panic(expected = "exceeds")]
    fn a_view_past_its_slice_is_refused() {
        let data = [0f32; 10];
        let _ = View::strided(&data, 3, 3, 4); // the last element would be index 10
    }
}
