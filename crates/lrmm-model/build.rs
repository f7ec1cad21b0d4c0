//! Under the `cuda` feature, compiles the LSTM recurrence kernels (`src/lstm/recurrence/kernels.cu`)
//! to PTX with nvcc, as candle-kernels does for candle's own kernels; the PTX is embedded in the
//! binary and loaded by the CUDA device at the first encoder call. Without the feature it does
//! nothing, so the default build needs no CUDA toolchain.

use std::path::PathBuf;
use std::process::Command;

const KERNELS: &str = "src/lstm/recurrence/kernels.cu";

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-changed={KERNELS}");
    println!("cargo:rerun-if-env-changed=CUDA_COMPUTE_CAP");
    println!("cargo:rerun-if-env-changed=CUDA_HOME");
    if std::env::var_os("CARGO_FEATURE_CUDA").is_none() {
        return;
    }
    let out = PathBuf::from(std::env::var_os("OUT_DIR").expect("cargo sets OUT_DIR"));
    // PTX for a virtual architecture: the driver compiles it for the GPU it finds, so PTX made
    // for compute capability N runs on N and every later one. ../shared/gpu sets 90 (H100/H200).
    let capability = std::env::var("CUDA_COMPUTE_CAP").unwrap_or_else(|_| "80".into());
    let nvcc = std::env::var_os("CUDA_HOME")
        .map(|home| PathBuf::from(home).join("bin/nvcc"))
        .filter(|path| path.exists())
        .unwrap_or_else(|| PathBuf::from("nvcc"));
    let ptx = out.join("recurrence.ptx");
    let status = Command::new(&nvcc)
        .args(["--ptx", "-O3", "-std=c++17"])
        .arg(format!("--gpu-architecture=compute_{capability}"))
        .arg(KERNELS)
        .arg("-o")
        .arg(&ptx)
        .status()
        .unwrap_or_else(|e| {
            panic!(
                "the cuda feature needs nvcc ({}): {e}; see ../shared/gpu/README.md",
                nvcc.display()
            )
        });
    assert!(status.success(), "nvcc failed on {KERNELS} ({status})");
}
