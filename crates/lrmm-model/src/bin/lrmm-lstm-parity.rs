//! The text encoder on a device against the fused CPU op: forward and every gradient, and the
//! encoder's time per batch; one JSON line (what `scripts/gpu-check.sh` runs on a GPU machine).

use std::io::Write;
use std::time::Instant;

use candle_core::{DType, Device, Tensor, Var};
use clap::{Parser, ValueEnum};
use lrmm_core::cli::{DeviceSpec, Verbosity};
use lrmm_core::SeededRng;
use lrmm_model::lstm::{Lstm, LstmImpl};

/// Compare one text encoder (embedding → LSTM → masked mean pooling) on --device with the fused
/// CPU op on the same parameters and batch: the pooled output and the gradients of the
/// embedding, W_ih, W_hh and the bias, each as max |candidate − reference| / max |reference|.
///
/// The batch has documents of random lengths 1..=L (one row empty) over a vocabulary of
/// --vocab words; the loss is Σ pooled · R for a random R. The reference is always the fused
/// CPU op in f32; the candidate is --lstm on --device (on the CPU, `auto` means the stepwise
/// candle ops, so that two different implementations meet; on CUDA, the recurrence kernels). With --time-steps N it also times
/// N forward and N forward + backward passes of the candidate at the same shapes.
///
/// Example (what the GPU check runs):
///
///   lrmm-lstm-parity --device cuda --batch 256 --len 100 --word-dim 128 --hidden 256
#[derive(Debug, Parser)]
#[command(name = "lrmm-lstm-parity", verbatim_doc_comment)]
struct Args {
    #[arg(long, default_value_t = 64)]
    batch: usize,
    #[arg(long, default_value_t = 100)]
    len: usize,
    #[arg(long, default_value_t = 5000)]
    vocab: usize,
    #[arg(long, default_value_t = 128)]
    word_dim: usize,
    #[arg(long, default_value_t = 256)]
    hidden: usize,
    /// The candidate's LSTM implementation.
    #[arg(long, value_enum, default_value_t = LstmArg::Auto)]
    lstm: LstmArg,
    /// Largest relative difference that passes.
    #[arg(long, default_value_t = 1e-4)]
    tolerance: f64,
    /// Timed passes of the candidate (0: no timing).
    #[arg(long, default_value_t = 0)]
    time_steps: usize,
    /// The candidate's device (cuda needs a build with `--features cuda`).
    #[arg(long, default_value = "cpu", value_parser = lrmm_core::cli::device_parser())]
    device: DeviceSpec,
    #[arg(long, default_value_t = 1)]
    seed: u64,
    #[command(flatten)]
    verbosity: Verbosity,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum LstmArg {
    Auto,
    Fused,
    Stepwise,
    /// The recurrence kernels on CUDA; on the CPU their Rust reference.
    Recurrence,
}

/// Parameters (as variables on one device) and one batch.
struct Case {
    embedding: Var,
    w_ih: Var,
    w_hh: Var,
    bias: Var,
    tokens: Tensor,
    pool: Tensor,
    probe: Tensor,
}

fn random(rng: &mut SeededRng, shape: &[usize], scale: f64) -> anyhow::Result<Tensor> {
    let n: usize = shape.iter().product();
    let v: Vec<f32> = (0..n).map(|_| (rng.normal() * scale) as f32).collect();
    Ok(Tensor::from_vec(v, shape, &Device::Cpu)?)
}

impl Case {
    fn new(a: &Args) -> anyhow::Result<Self> {
        let (b, t, e, h, v) = (a.batch, a.len, a.word_dim, a.hidden, a.vocab);
        let mut rng = SeededRng::new(a.seed);
        let mut tokens = vec![0u32; b * t];
        let mut pool = vec![0f32; b * t];
        for r in 0..b {
            // Row 0 is an empty document (pooled 0, no gradient); the others 1..=T tokens.
            let n = if r == 0 {
                0
            } else {
                1 + rng.below(t as u64) as usize
            };
            for s in 0..n {
                tokens[r * t + s] = 1 + rng.below(v as u64 - 1) as u32;
                pool[r * t + s] = 1.0 / n as f32;
            }
        }
        // PyTorch's LSTM init scale, 1/√H, keeps the gates out of saturation.
        let scale = 1.0 / (h as f64).sqrt();
        Ok(Self {
            embedding: Var::from_tensor(&random(&mut rng, &[v, e], 1.0)?)?,
            w_ih: Var::from_tensor(&random(&mut rng, &[4 * h, e], scale)?)?,
            w_hh: Var::from_tensor(&random(&mut rng, &[4 * h, h], scale)?)?,
            bias: Var::from_tensor(&random(&mut rng, &[4 * h], scale)?)?,
            tokens: Tensor::from_vec(tokens, (b, t), &Device::Cpu)?,
            pool: Tensor::from_vec(pool, (b, 1, t), &Device::Cpu)?,
            probe: random(&mut rng, &[b, h], 1.0)?,
        })
    }

    fn to_device(&self, device: &Device) -> anyhow::Result<Self> {
        let var = |v: &Var| -> anyhow::Result<Var> { Ok(Var::from_tensor(&v.to_device(device)?)?) };
        Ok(Self {
            embedding: var(&self.embedding)?,
            w_ih: var(&self.w_ih)?,
            w_hh: var(&self.w_hh)?,
            bias: var(&self.bias)?,
            tokens: self.tokens.to_device(device)?,
            pool: self.pool.to_device(device)?,
            probe: self.probe.to_device(device)?,
        })
    }

    fn lstm(&self, implementation: LstmImpl) -> Lstm {
        Lstm::new(
            self.w_ih.as_tensor().clone(),
            self.w_hh.as_tensor().clone(),
            self.bias.as_tensor().clone(),
            implementation,
        )
    }

    fn forward(&self, lstm: &Lstm) -> anyhow::Result<Tensor> {
        Ok(lstm.encode(self.embedding.as_tensor(), &self.tokens, &self.pool)?)
    }

    /// The pooled output and the gradients of Σ pooled · probe, on the CPU as f64.
    fn run(&self, lstm: &Lstm) -> anyhow::Result<[Vec<f64>; 5]> {
        let out = self.forward(lstm)?;
        let grads = out.mul(&self.probe)?.sum_all()?.backward()?;
        let flat = |x: &Tensor| -> anyhow::Result<Vec<f64>> {
            Ok(x.to_dtype(DType::F64)?
                .flatten_all()?
                .to_device(&Device::Cpu)?
                .to_vec1()?)
        };
        let g = |v: &Var| -> anyhow::Result<Vec<f64>> {
            flat(grads.get(v).ok_or_else(|| anyhow::anyhow!("no gradient"))?)
        };
        Ok([
            flat(&out)?,
            g(&self.embedding)?,
            g(&self.w_ih)?,
            g(&self.w_hh)?,
            g(&self.bias)?,
        ])
    }
}

/// max |a − b| / max |a| (0 when both are all zero).
fn relative(reference: &[f64], candidate: &[f64]) -> f64 {
    let scale = reference.iter().fold(0f64, |m, v| m.max(v.abs()));
    let diff = reference
        .iter()
        .zip(candidate)
        .fold(0f64, |m, (a, b)| m.max((a - b).abs()));
    if scale == 0.0 {
        diff
    } else {
        diff / scale
    }
}

fn sync(device: &Device) -> anyhow::Result<()> {
    Ok(device.synchronize()?)
}

fn main() -> anyhow::Result<()> {
    let a: Args = lrmm_core::cli::parse(&lrmm_core::build_info!("cuda"));
    lrmm_core::logging::init(&a.verbosity)?;
    tracing::info!("{a:?}");
    let device = lrmm_model::device::device(a.device)?;
    let implementation = match (a.lstm, device.is_cpu()) {
        (LstmArg::Auto, true) => LstmImpl::Stepwise,
        (LstmArg::Auto, false) => LstmImpl::Auto,
        (LstmArg::Fused, _) => LstmImpl::Fused,
        (LstmArg::Stepwise, _) => LstmImpl::Stepwise,
        (LstmArg::Recurrence, _) => LstmImpl::Recurrence,
    };
    let cpu = Case::new(&a)?;
    let reference = cpu.run(&cpu.lstm(LstmImpl::Fused))?;
    let case = cpu.to_device(&device)?;
    let lstm = case.lstm(implementation);
    let candidate = case.run(&lstm)?;
    let names = ["pooled", "d_embedding", "d_w_ih", "d_w_hh", "d_bias"];
    let errors: serde_json::Map<String, serde_json::Value> = names
        .iter()
        .zip(reference.iter().zip(&candidate))
        .map(|(name, (r, c))| (name.to_string(), serde_json::json!(relative(r, c))))
        .collect();
    let max = errors
        .values()
        .filter_map(serde_json::Value::as_f64)
        .fold(0f64, f64::max);
    let mut line = serde_json::json!({
        "reference": "cpu fused f32",
        "candidate": format!("{} {implementation:?} f32", a.device),
        "shapes": {"batch": a.batch, "len": a.len, "vocab": a.vocab, "word_dim": a.word_dim, "hidden": a.hidden},
        "relative": errors,
        "max_relative": max,
        "tolerance": a.tolerance,
        "pass": max.is_finite() && max <= a.tolerance,
    });
    if a.time_steps > 0 {
        // Warm-up (kernel loading, buffers), then timed passes.
        case.run(&lstm)?;
        sync(&device)?;
        let started = Instant::now();
        for _ in 0..a.time_steps {
            let _guard = lrmm_model::lstm::InferenceGuard::new();
            case.forward(&lstm)?;
        }
        sync(&device)?;
        let forward = started.elapsed().as_secs_f64() / a.time_steps as f64;
        let started = Instant::now();
        for _ in 0..a.time_steps {
            let out = case.forward(&lstm)?;
            out.mul(&case.probe)?.sum_all()?.backward()?;
        }
        sync(&device)?;
        let train = started.elapsed().as_secs_f64() / a.time_steps as f64;
        line["ms_per_batch"] = serde_json::json!({
            "inference_forward": (forward * 1e5).round() / 100.0,
            "forward_backward": (train * 1e5).round() / 100.0,
        });
    }
    writeln!(std::io::stdout(), "{line}")?;
    Ok(())
}
