//! The CUDA kernels checked without a GPU: `emulate_kernels.cpp` compiles `kernels.cu` for the
//! host (CUDA's built-ins as plain variables, each launch's threads run in turn, cuBLAS as a
//! naive column-major product) and drives them with the plan's grid and product configurations;
//! its states and gate gradients must equal the CPU reference's. A GPU run then has only the
//! hardware, cuBLAS and the launch plumbing left to show.

use std::path::Path;
use std::process::Command;

use lrmm_core::SeededRng;

use super::plan::{ColumnMajorProduct, Dims};
use super::reference::{backward_cpu, forward_cpu};

/// A C++ compiler, if the machine has one.
fn compiler() -> Option<&'static str> {
    ["c++", "g++", "clang++"]
        .into_iter()
        .find(|c| Command::new(c).arg("--version").output().is_ok())
}

fn product_args(p: ColumnMajorProduct) -> Vec<String> {
    let flags = [usize::from(p.transpose_a), usize::from(p.transpose_b)];
    flags
        .into_iter()
        .chain([p.m, p.n, p.k, p.lda, p.ldb, p.ldc])
        .map(|v| v.to_string())
        .collect()
}

fn random(rng: &mut SeededRng, n: usize, scale: f64) -> Vec<f32> {
    (0..n).map(|_| (rng.normal() * scale) as f32).collect()
}

fn max_abs_diff(a: &[f32], b: &[f64]) -> f64 {
    assert_eq!(a.len(), b.len());
    a.iter()
        .zip(b)
        .map(|(&x, &y)| (f64::from(x) - y).abs())
        .fold(0.0, f64::max)
}

#[test]
fn cuda_kernels_run_on_the_host_match_the_cpu_reference() {
    let Some(compiler) = compiler() else {
        // On a CI runner the check must not vanish silently.
        assert!(
            std::env::var_os("CI").is_none(),
            "no C++ compiler (c++, g++, clang++) for the CUDA kernels' host emulation"
        );
        eprintln!("skipped: no C++ compiler to build the kernels' host emulation");
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let source =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("src/lstm/recurrence/emulate_kernels.cpp");
    let exe = dir.path().join("emulate_kernels");
    let built = Command::new(compiler)
        .args(["-std=c++17", "-O1", "-Wno-unknown-pragmas", "-o"])
        .arg(&exe)
        .arg(&source)
        .output()
        .unwrap();
    assert!(
        built.status.success(),
        "{compiler} on {}: {}",
        source.display(),
        String::from_utf8_lossy(&built.stderr)
    );
    let mut rng = SeededRng::new(21);
    // The plan's grid (more threads than units), and a small grid whose threads loop.
    let cases = [
        (
            Dims {
                batch: 6,
                steps: 5,
                hidden: 7,
            },
            None,
        ),
        (
            Dims {
                batch: 3,
                steps: 4,
                hidden: 5,
            },
            Some((2, 4)),
        ),
    ];
    for (dims, grid) in cases {
        let (rows, h) = (dims.steps * dims.batch, dims.hidden);
        let inputs = random(&mut rng, rows * 4 * h, 1.0);
        let w_hh = random(&mut rng, 4 * h * h, 0.5);
        let bias = random(&mut rng, 4 * h, 0.5);
        let d_states = random(&mut rng, rows * h, 1.0);
        let bytes: Vec<u8> = [&inputs, &w_hh, &bias, &d_states]
            .into_iter()
            .flat_map(|v| v.iter().flat_map(|x| x.to_le_bytes()))
            .collect();
        std::fs::write(dir.path().join("in.f32"), bytes).unwrap();
        let (blocks, threads) = grid.unwrap_or(dims.grid());
        let ran = Command::new(&exe)
            .arg(dir.path())
            .args([dims.batch, dims.steps, h].map(|v| v.to_string()))
            .args([blocks, threads].map(|v| v.to_string()))
            .args(product_args(dims.recurrent_product()))
            .args(product_args(dims.gradient_product()))
            .output()
            .unwrap();
        assert!(
            ran.status.success(),
            "{}",
            String::from_utf8_lossy(&ran.stderr)
        );
        let out: Vec<f32> = std::fs::read(dir.path().join("out.f32"))
            .unwrap()
            .chunks_exact(4)
            .map(|b| f32::from_le_bytes(b.try_into().unwrap()))
            .collect();
        let (trained, rest) = out.split_at(rows * h);
        let (inferred, d_gates) = rest.split_at(rows * h);

        let wide = |v: &[f32]| v.iter().map(|&x| f64::from(x)).collect::<Vec<f64>>();
        let (states, saved) = forward_cpu::<f64>(&wide(&inputs), &wide(&w_hh), &wide(&bias), dims);
        let reference = backward_cpu::<f64>(&wide(&d_states), &wide(&w_hh), &saved, dims);
        let label = format!("{dims:?}, grid ({blocks}, {threads})");
        assert!(max_abs_diff(trained, &states) < 1e-5, "{label}: states");
        assert_eq!(trained, inferred, "{label}: one step's gates or all");
        assert!(max_abs_diff(d_gates, &reference) < 1e-5, "{label}: dZ");
        assert!(d_gates.iter().any(|&v| v != 0.0), "{label}: dZ is all zero");
    }
}
