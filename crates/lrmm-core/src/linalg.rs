//! The one matrix product the CPU hot loops call directly (the image stage's convolutions, the
//! fused LSTM's recurrence): the `gemm` crate, candle's own CPU matmul backend, writing into a
//! buffer the caller owns, so a loop reuses its buffers instead of allocating a tensor per step.

/// Scalars the product runs on.
pub trait GemmScalar: Copy + 'static {
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

/// `dst[m × n] = lhs[m × k] · rhs[k × n]`, all row-major, on every rayon thread.
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
    assert_eq!(dst.len(), m * n, "matmul_into: dst is not {m}×{n}");
    assert_eq!(lhs.len(), m * k, "matmul_into: lhs is not {m}×{k}");
    assert_eq!(rhs.len(), k * n, "matmul_into: rhs is not {k}×{n}");
    if k == 0 {
        dst.fill(T::ZERO);
        return;
    }
    // SAFETY: the three slices hold exactly the m×n, m×k and k×n row-major matrices the strides
    // describe (asserted above), and `dst` is exclusively borrowed, so every access is in bounds
    // and unaliased.
    #[allow(unsafe_code)] // gemm's API is raw pointers and strides; the crate's one unsafe block
    unsafe {
        gemm::gemm(
            m,
            n,
            k,
            dst.as_mut_ptr(),
            1,
            n as isize,
            false,
            lhs.as_ptr(),
            1,
            k as isize,
            rhs.as_ptr(),
            1,
            n as isize,
            T::ZERO,
            T::ONE,
            false,
            false,
            false,
            gemm::Parallelism::Rayon(rayon::current_num_threads()),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_the_schoolbook_product() {
        let (m, k, n) = (5, 7, 3);
        let lhs: Vec<f64> = (0..m * k).map(|v| (v as f64 * 0.37).sin()).collect();
        let rhs: Vec<f64> = (0..k * n).map(|v| (v as f64 * 0.11).cos()).collect();
        let mut dst = vec![f64::NAN; m * n]; // overwritten, never read
        matmul_into(&mut dst, &lhs, &rhs, m, k, n);
        for i in 0..m {
            for j in 0..n {
                let want: f64 = (0..k).map(|p| lhs[i * k + p] * rhs[p * n + j]).sum();
                assert!((dst[i * n + j] - want).abs() < 1e-12);
            }
        }
        // k = 0: the empty sum.
        let mut dst = vec![f32::NAN; 4];
        matmul_into(&mut dst, &[], &[], 2, 0, 2);
        assert_eq!(dst, vec![0.0; 4]);
    }
}
