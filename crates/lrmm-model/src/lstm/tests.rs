//! The fused encoder against the stepwise candle reference and against finite differences, for
//! the pooled output and the gradient of every parameter (embedding, W_ih, W_hh, bias).

use candle_core::{DType, Device, Tensor, Var};
use lrmm_core::SeededRng;

use super::*;

fn random(rng: &mut SeededRng, shape: &[usize], scale: f64, dtype: DType) -> Tensor {
    let n: usize = shape.iter().product();
    let v: Vec<f64> = (0..n).map(|_| rng.normal() * scale).collect();
    Tensor::from_vec(v, shape, &Device::Cpu)
        .unwrap()
        .to_dtype(dtype)
        .unwrap()
}

fn flat(x: &Tensor) -> Vec<f64> {
    x.to_dtype(DType::F64)
        .unwrap()
        .flatten_all()
        .unwrap()
        .to_vec1::<f64>()
        .unwrap()
}

/// An encoder's parameters as variables, and one padded batch.
struct Case {
    embedding: Var,
    w_ih: Var,
    w_hh: Var,
    bias: Var,
    tokens: Tensor,
    pool: Tensor,
    probe: Tensor,
}

/// `lengths[r]` real tokens in row r (0 = an empty document), mean pooling, vocabulary `vocab`;
/// word 1 appears in every row so its gradient sums over the batch, word `vocab − 1` never.
fn case(
    rng: &mut SeededRng,
    lengths: &[usize],
    t: usize,
    e: usize,
    h: usize,
    vocab: usize,
    dtype: DType,
) -> Case {
    let b = lengths.len();
    let mut tokens = vec![0u32; b * t];
    let mut pool = vec![0f64; b * t];
    for (r, &n) in lengths.iter().enumerate() {
        for s in 0..n {
            tokens[r * t + s] = if s == 0 {
                1
            } else {
                1 + rng.below(vocab as u64 - 2) as u32
            };
            pool[r * t + s] = 1.0 / n as f64;
        }
    }
    Case {
        embedding: Var::from_tensor(&random(rng, &[vocab, e], 1.0, dtype)).unwrap(),
        w_ih: Var::from_tensor(&random(rng, &[4 * h, e], 0.5, dtype)).unwrap(),
        w_hh: Var::from_tensor(&random(rng, &[4 * h, h], 0.5, dtype)).unwrap(),
        bias: Var::from_tensor(&random(rng, &[4 * h], 0.5, dtype)).unwrap(),
        tokens: Tensor::from_vec(tokens, (b, t), &Device::Cpu).unwrap(),
        pool: Tensor::from_vec(pool, (b, 1, t), &Device::Cpu)
            .unwrap()
            .to_dtype(dtype)
            .unwrap(),
        probe: random(rng, &[b, h], 1.0, dtype),
    }
}

impl Case {
    fn lstm(&self, implementation: LstmImpl) -> Lstm {
        Lstm::new(
            self.w_ih.as_tensor().clone(),
            self.w_hh.as_tensor().clone(),
            self.bias.as_tensor().clone(),
            implementation,
        )
    }

    /// Pooled output and the gradients of Σ pooled · probe: (out, d_emb, d_w_ih, d_w_hh, d_bias).
    fn run(&self, lstm: &Lstm) -> [Vec<f64>; 5] {
        let out = lstm
            .encode(self.embedding.as_tensor(), &self.tokens, &self.pool)
            .unwrap();
        let grads = out
            .mul(&self.probe)
            .unwrap()
            .sum_all()
            .unwrap()
            .backward()
            .unwrap();
        let g = |v: &Var| flat(grads.get(v).expect("a gradient"));
        [
            flat(&out),
            g(&self.embedding),
            g(&self.w_ih),
            g(&self.w_hh),
            g(&self.bias),
        ]
    }
}

fn max_diff(a: &[f64], b: &[f64]) -> f64 {
    assert_eq!(a.len(), b.len());
    a.iter()
        .zip(b)
        .map(|(p, q)| (p - q).abs())
        .fold(0.0, f64::max)
}

const NAMES: [&str; 5] = ["pooled", "d embedding", "d w_ih", "d w_hh", "d bias"];

/// Every output of `candidate` within `tol` (max abs difference) of `reference`'s.
fn assert_close(label: &str, reference: &[Vec<f64>; 5], candidate: &[Vec<f64>; 5], tol: f64) {
    for (name, (x, y)) in NAMES.iter().zip(reference.iter().zip(candidate)) {
        let d = max_diff(x, y);
        assert!(d < tol, "{label} {name}: max abs diff {d}");
    }
}

#[test]
fn fused_matches_stepwise_forward_and_every_gradient() {
    let mut rng = SeededRng::new(3);
    // Five rows in two chunks with different step counts, an empty document and a full one.
    let lengths = [7, 3, 0, 1, 5];
    for dtype in [DType::F32, DType::F64] {
        let c = case(&mut rng, &lengths, 7, 4, 5, 13, dtype);
        let fused = c.run(&c.lstm(LstmImpl::Fused));
        let stepwise = c.run(&c.lstm(LstmImpl::Stepwise));
        let tol = if dtype == DType::F32 { 1e-5 } else { 1e-12 };
        assert_close(&format!("{dtype:?}"), &fused, &stepwise, tol);
        // The empty document pools to zero; a word no row uses gets no gradient.
        assert!(fused[0][2 * 5..3 * 5].iter().all(|&v| v == 0.0));
        assert!(fused[1][12 * 4..].iter().all(|&v| v == 0.0));
        assert!(
            fused[1][4..8].iter().any(|&v| v != 0.0),
            "word 1 is in every row"
        );
    }
}

#[test]
fn pooling_with_any_weights_matches_the_reference() {
    // Weights that are not a mean, with zeros inside a document and past its end.
    let mut rng = SeededRng::new(5);
    let c = case(&mut rng, &[6, 6, 4], 6, 3, 4, 9, DType::F64);
    let weights = [
        0.5, 0.0, 0.25, 1.0, 0.0, 0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.0, 0.0, 2.0, 0.0, 0.0, 0.0,
    ];
    let c = Case {
        pool: Tensor::from_vec(weights.to_vec(), (3, 1, 6), &Device::Cpu).unwrap(),
        ..c
    };
    let fused = c.run(&c.lstm(LstmImpl::Fused));
    let stepwise = c.run(&c.lstm(LstmImpl::Stepwise));
    assert_close("stepwise", &fused, &stepwise, 1e-12);
    // The CUDA path's algorithm, in its CPU reference.
    let recurrence = c.run(&c.lstm(LstmImpl::Recurrence));
    assert_close("recurrence", &fused, &recurrence, 1e-12);
}

#[test]
fn fused_gradients_match_finite_differences() {
    let mut rng = SeededRng::new(11);
    let c = case(&mut rng, &[4, 2, 3], 4, 3, 3, 7, DType::F64);
    let lstm = c.lstm(LstmImpl::Fused);
    let analytic = c.run(&lstm);
    let loss = |lstm: &Lstm, embedding: &Tensor| -> f64 {
        let _no_backward = InferenceGuard::new();
        lstm.encode(embedding, &c.tokens, &c.pool)
            .unwrap()
            .mul(&c.probe)
            .unwrap()
            .sum_all()
            .unwrap()
            .to_scalar::<f64>()
            .unwrap()
    };
    let params = [&c.embedding, &c.w_ih, &c.w_hh, &c.bias];
    let eps = 1e-6;
    for (which, param) in params.iter().enumerate() {
        let values = flat(param.as_tensor());
        for k in 0..values.len() {
            let nudged = |delta: f64| {
                let mut v = values.clone();
                v[k] += delta;
                let moved = Tensor::from_vec(v, param.shape(), &Device::Cpu).unwrap();
                let mut args: Vec<Tensor> = params.iter().map(|p| p.as_tensor().clone()).collect();
                args[which] = moved;
                let lstm = Lstm::new(
                    args[1].clone(),
                    args[2].clone(),
                    args[3].clone(),
                    LstmImpl::Fused,
                );
                loss(&lstm, &args[0])
            };
            let fd = (nudged(eps) - nudged(-eps)) / (2.0 * eps);
            let a = analytic[which + 1][k];
            assert!(
                (fd - a).abs() < 1e-6 * (1.0 + fd.abs()),
                "{}[{k}]: fd {fd} vs analytic {a}",
                NAMES[which + 1]
            );
        }
    }
}

#[test]
fn reused_buffers_give_the_results_of_fresh_ones() {
    // A long batch, then a shorter and narrower one, through one encoder: the second must not
    // read anything the first left in the shared buffers.
    let mut rng = SeededRng::new(21);
    let big = case(&mut rng, &[9, 9, 8, 9, 7, 9, 9, 3], 9, 4, 3, 10, DType::F32);
    let small = case(&mut rng, &[2, 5, 1], 5, 4, 3, 10, DType::F32);
    let small = Case {
        embedding: Var::from_tensor(big.embedding.as_tensor()).unwrap(),
        w_ih: Var::from_tensor(big.w_ih.as_tensor()).unwrap(),
        w_hh: Var::from_tensor(big.w_hh.as_tensor()).unwrap(),
        bias: Var::from_tensor(big.bias.as_tensor()).unwrap(),
        ..small
    };
    let shared = big.lstm(LstmImpl::Fused);
    let _ = big.run(&shared);
    {
        let _no_backward = InferenceGuard::new();
        let _ = shared
            .encode(big.embedding.as_tensor(), &big.tokens, &big.pool)
            .unwrap();
    }
    let reused = small.run(&shared);
    let fresh = small.run(&small.lstm(LstmImpl::Fused));
    for (name, (x, y)) in NAMES.iter().zip(reused.iter().zip(&fresh)) {
        assert_eq!(x, y, "{name}");
    }
}

#[test]
fn inference_guard_keeps_outputs_and_drops_only_the_backward() {
    let mut rng = SeededRng::new(8);
    let c = case(&mut rng, &[5, 2, 4], 5, 3, 3, 8, DType::F32);
    let lstm = c.lstm(LstmImpl::Fused);
    let emb = c.embedding.as_tensor();
    let trained = lstm.encode(emb, &c.tokens, &c.pool).unwrap();
    let inferred = {
        let _guard = InferenceGuard::new();
        lstm.encode(emb, &c.tokens, &c.pool).unwrap()
    };
    assert_eq!(flat(&trained), flat(&inferred));
    assert!(inferred
        .sum_all()
        .unwrap()
        .backward()
        .unwrap()
        .get(&c.embedding)
        .is_none());
    // Dropping the guard restores gradient tracking.
    let again = lstm.encode(emb, &c.tokens, &c.pool).unwrap();
    assert!(again
        .sum_all()
        .unwrap()
        .backward()
        .unwrap()
        .get(&c.embedding)
        .is_some());
}

#[test]
fn a_second_backward_and_an_unknown_word_are_errors() {
    let mut rng = SeededRng::new(9);
    let c = case(&mut rng, &[3, 2], 3, 2, 2, 5, DType::F32);
    let lstm = c.lstm(LstmImpl::Fused);
    let loss = lstm
        .encode(c.embedding.as_tensor(), &c.tokens, &c.pool)
        .unwrap()
        .sum_all()
        .unwrap();
    assert!(loss.backward().is_ok());
    let err = loss.backward().unwrap_err().to_string();
    assert!(err.contains("second backward"), "{err}");
    let bad = Tensor::from_vec(vec![1u32, 5, 0, 1, 2, 0], (2, 3), &Device::Cpu).unwrap();
    let err = lstm
        .encode(c.embedding.as_tensor(), &bad, &c.pool)
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("token id 5") && err.contains("vocabulary of 5"),
        "{err}"
    );
}

#[test]
fn inference_with_the_projection_table_matches_and_follows_the_weights() {
    let mut rng = SeededRng::new(13);
    let c = case(&mut rng, &[6, 2, 5, 0], 6, 4, 5, 11, DType::F32);
    let lstm = c.lstm(LstmImpl::Fused);
    let infer = |embedding: &Tensor| {
        let _no_backward = InferenceGuard::new();
        flat(&lstm.encode(embedding, &c.tokens, &c.pool).unwrap())
    };
    let reference = c.run(&c.lstm(LstmImpl::Stepwise))[0].clone();
    // First call: the weights are remembered; second and third: the table serves the steps.
    for call in 0..3 {
        let d = max_diff(&infer(c.embedding.as_tensor()), &reference);
        assert!(d < 1e-5, "call {call}: {d}");
    }
    assert!(lstm.workspaces.table_f32.lock().unwrap().is_built());
    // New weights (as after a training step): the old table must not be used.
    let moved = (c.embedding.as_tensor() * 1.5).unwrap();
    let expected = {
        let moved_case = Case {
            embedding: Var::from_tensor(&moved).unwrap(),
            ..case(&mut rng, &[1], 6, 4, 5, 11, DType::F32)
        };
        let moved_case = Case {
            w_ih: Var::from_tensor(c.w_ih.as_tensor()).unwrap(),
            w_hh: Var::from_tensor(c.w_hh.as_tensor()).unwrap(),
            bias: Var::from_tensor(c.bias.as_tensor()).unwrap(),
            tokens: c.tokens.clone(),
            pool: c.pool.clone(),
            probe: c.probe.clone(),
            ..moved_case
        };
        moved_case.run(&moved_case.lstm(LstmImpl::Stepwise))[0].clone()
    };
    for call in 0..2 {
        let d = max_diff(&infer(&moved), &expected);
        assert!(d < 1e-5, "moved weights, call {call}: {d}");
        assert_eq!(
            lstm.workspaces.table_f32.lock().unwrap().is_built(),
            call == 1
        );
    }
}

/// The gate passes and the optimiser run under `pulp::Arch::dispatch`: on a CPU with AVX2 and
/// FMA it must pick a vector level, not the scalar fallback (pulp's `x86-v3` feature; without
/// it an AVX2-only CPU ran them as 4-wide SSE2, a tenth of a training step).
#[test]
fn simd_dispatch_uses_the_cpus_vector_level() {
    #[cfg(target_arch = "x86_64")]
    {
        // pulp's V3 level: what `pulp::x86::V3` requires beyond SSE4.2.
        let v3 = is_x86_feature_detected!("avx")
            && is_x86_feature_detected!("avx2")
            && is_x86_feature_detected!("fma")
            && is_x86_feature_detected!("bmi1")
            && is_x86_feature_detected!("bmi2")
            && is_x86_feature_detected!("lzcnt")
            && is_x86_feature_detected!("popcnt");
        if v3 {
            assert!(
                !matches!(pulp::Arch::new(), pulp::Arch::Scalar),
                "the CPU has AVX2 and FMA but pulp dispatches to its scalar fallback"
            );
        } else {
            eprintln!("skipped: this CPU lacks AVX2/FMA, so the scalar fallback is right");
        }
    }
}

#[test]
fn recurrence_matches_fused_forward_and_every_gradient() {
    // The CUDA path's algorithm (gather, one projection, per-step product + gate pass, the
    // mirrored backward, dW_hh as one product) in its CPU reference, against the fused op.
    let mut rng = SeededRng::new(11);
    let lengths = [7, 3, 0, 1, 5, 7];
    for dtype in [DType::F32, DType::F64] {
        let c = case(&mut rng, &lengths, 7, 4, 5, 13, dtype);
        let fused = c.run(&c.lstm(LstmImpl::Fused));
        let recurrence = c.run(&c.lstm(LstmImpl::Recurrence));
        let tol = if dtype == DType::F32 { 1e-5 } else { 1e-12 };
        assert_close(&format!("{dtype:?}"), &fused, &recurrence, tol);
        assert!(
            recurrence[3].iter().any(|&v| v != 0.0),
            "W_hh gets a gradient"
        );
    }
}

#[test]
fn recurrence_with_one_step_or_one_row_matches_the_fused_op() {
    // Any pooling weights: `pooling_with_any_weights_matches_the_reference`.
    let mut rng = SeededRng::new(12);
    // One step (no recurrent product, dW_hh = 0) and one row.
    let one_step = case(&mut rng, &[1, 1, 0], 1, 3, 4, 9, DType::F64);
    let one_row = case(&mut rng, &[5], 5, 3, 4, 9, DType::F64);
    for (label, c) in [("one step", one_step), ("one row", one_row)] {
        let fused = c.run(&c.lstm(LstmImpl::Fused));
        let recurrence = c.run(&c.lstm(LstmImpl::Recurrence));
        assert_close(label, &fused, &recurrence, 1e-12);
    }
}

#[test]
fn recurrence_inference_keeps_no_backward_and_a_second_backward_is_an_error() {
    let mut rng = SeededRng::new(13);
    let c = case(&mut rng, &[5, 2, 4], 5, 3, 3, 8, DType::F32);
    let lstm = c.lstm(LstmImpl::Recurrence);
    let emb = c.embedding.as_tensor();
    let trained = lstm.encode(emb, &c.tokens, &c.pool).unwrap();
    let inferred = {
        let _guard = InferenceGuard::new();
        lstm.encode(emb, &c.tokens, &c.pool).unwrap()
    };
    assert_eq!(flat(&trained), flat(&inferred));
    let grads = inferred.sum_all().unwrap().backward().unwrap();
    assert!(grads.get(&c.embedding).is_none());
    let loss = trained.sum_all().unwrap();
    assert!(loss.backward().is_ok());
    let err = loss.backward().unwrap_err().to_string();
    assert!(err.contains("second backward"), "{err}");
    // An empty batch pools to nothing; mismatched pooling weights are an error.
    let none = Tensor::zeros((0, 4), DType::U32, &Device::Cpu).unwrap();
    let empty_pool = Tensor::zeros((0, 1, 4), DType::F32, &Device::Cpu).unwrap();
    assert_eq!(lstm.encode(emb, &none, &empty_pool).unwrap().dims(), [0, 3]);
    let err = lstm
        .encode(emb, &c.tokens, &empty_pool)
        .unwrap_err()
        .to_string();
    assert!(err.contains("pooling weights"), "{err}");
}

#[test]
fn auto_and_fused_pick_the_cpu_op_on_the_cpu() {
    let lstm = |implementation| {
        let w = Tensor::zeros((4, 1), DType::F32, &Device::Cpu).unwrap();
        Lstm::new(
            w.clone(),
            w,
            Tensor::zeros(4, DType::F32, &Device::Cpu).unwrap(),
            implementation,
        )
    };
    let cpu = Device::Cpu;
    assert_eq!(
        lstm(LstmImpl::Auto).resolve(&cpu, DType::F32),
        Resolved::FusedCpu
    );
    assert_eq!(
        lstm(LstmImpl::Auto).resolve(&cpu, DType::BF16),
        Resolved::Stepwise
    );
    assert_eq!(
        lstm(LstmImpl::Fused).resolve(&cpu, DType::F64),
        Resolved::FusedCpu
    );
    assert_eq!(
        lstm(LstmImpl::Recurrence).resolve(&cpu, DType::F32),
        Resolved::Recurrence
    );
    assert_eq!(
        lstm(LstmImpl::Stepwise).resolve(&cpu, DType::F32),
        Resolved::Stepwise
    );
}
