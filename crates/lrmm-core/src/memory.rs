//! Process-wide memory settings, applied once by every binary ([`crate::cli::parse`]).

/// Asks glibc's malloc to keep freed memory for reuse instead of handing it back to the kernel.
///
/// By default glibc serves an allocation above 128 KiB (raised adaptively) with its own `mmap`
/// and unmaps it on free, and trims the heap whenever 128 KiB at its top are free. A training
/// step allocates and frees the same large buffers every batch (candle's op outputs, gradients),
/// so each batch mapped fresh pages again — every first write a page fault, every unmap a TLB
/// shoot-down across the cores: at the default config's shapes the backward pass spent more time
/// there than computing. With allocations up to 32 MiB (glibc's largest threshold on 64-bit) from
/// the heap and no trimming, freed memory is reused. Larger allocations are still mapped and
/// unmapped, so a stage that frees a big buffer still returns it; the peak stays the peak.
/// Elsewhere than Linux with glibc this does nothing.
pub fn keep_freed_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        const MMAP_THRESHOLD: libc::c_int = 32 << 20;
        // SAFETY: mallopt takes no pointers and only sets malloc's tuning parameters (glibc
        // serialises it with allocation); a value it does not accept is refused through the
        // return value, not undefined behaviour. Both values are within glibc's documented range.
        #[allow(unsafe_code)] // the C API has no safe wrapper; the crate's second unsafe block
        let accepted = unsafe {
            libc::mallopt(libc::M_MMAP_THRESHOLD, MMAP_THRESHOLD) == 1
                && libc::mallopt(libc::M_TRIM_THRESHOLD, libc::c_int::MAX) == 1
        };
        if !accepted {
            tracing::debug!("glibc refused the malloc thresholds; allocation behaviour unchanged");
        }
    }
}
