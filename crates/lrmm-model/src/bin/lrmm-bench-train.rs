//! Training and inference throughput of the LRMM model on synthetic batches of the paper's
//! shapes, printed as one JSON line in the form of `../shared/bench/lrmm_torch.py`.

use std::io::Write;
use std::time::Instant;

use candle_core::DType;
use clap::{Parser, ValueEnum};
use lrmm_core::cli::{DeviceSpec, Verbosity};
use lrmm_core::SeededRng;
use lrmm_model::config::{LossConfig, ModelConfig, OptimizerKind, TrainConfig};
use lrmm_model::data::{Batch, DropoutMasks, PaddedDocuments, MODALITY_SLOTS};
use lrmm_model::lstm::LstmImpl;
use lrmm_model::model::{DataDims, Lrmm};
use lrmm_model::optim::Optimizer;
use lrmm_model::per_text::PerText;

/// Measure LRMM training and inference samples/s on synthetic token and feature batches.
///
/// Reads and writes no files: builds a model of the given shapes (default: the paper's, batch
/// 256, L 100, LSTM 256, AE 1024, embedding 128, vocabulary 20k) on random batches, runs two
/// warm-up steps (as the reference does: the second inference call is the one that builds each
/// encoder's projection table, which every later call with the same weights reads), times
/// --steps training steps and as many inference batches, and prints one JSON
/// line (train_samples_per_s, infer_samples_per_s, params) in the form of
/// ../shared/bench/lrmm_torch.py.
///
/// Example (what `make bench-train` runs):
///
///   lrmm-bench-train --lstm fused --device cpu --steps 3
#[derive(Debug, Parser)]
#[command(name = "lrmm-bench-train", verbatim_doc_comment)]
struct Args {
    /// Samples per batch.
    #[arg(long, default_value_t = 256)]
    batch: usize,
    /// Document length L.
    #[arg(long, default_value_t = 100)]
    len: usize,
    /// Vocabulary size.
    #[arg(long, default_value_t = 20_000)]
    vocab: usize,
    /// Word embedding width.
    #[arg(long, default_value_t = 128)]
    word_dim: usize,
    /// LSTM hidden size (and the shared layer's width).
    #[arg(long, default_value_t = 256)]
    hidden: usize,
    /// Hidden width of each modality's autoencoder.
    #[arg(long, default_value_t = 1024)]
    ae_hidden: usize,
    /// Image feature width (VGG fc6: 4096).
    #[arg(long, default_value_t = 4096)]
    image_dim: usize,
    /// Timed steps (after 1 warm-up step).
    #[arg(long, default_value_t = 3)]
    steps: usize,
    /// LSTM implementation.
    #[arg(long, value_enum, default_value_t = LstmArg::Auto)]
    lstm: LstmArg,
    /// Compute device (cuda needs a build with `--features cuda`).
    #[arg(long, default_value = "cpu", value_parser = lrmm_core::cli::device_parser())]
    device: DeviceSpec,
    #[command(flatten)]
    verbosity: Verbosity,
}

/// `--lstm`: which LSTM kernel the text encoders use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum LstmArg {
    /// The device's fused encoder: the CPU op (vectorised gates, reused buffers) or, on CUDA,
    /// the recurrence kernels.
    Fused,
    /// Stock candle ops, one time step at a time (slow on a CPU).
    Stepwise,
    /// The recurrence kernels (CUDA's; on the CPU their Rust reference).
    Recurrence,
    /// Fused on the CPU and on CUDA (f32), stepwise elsewhere.
    Auto,
}

impl LstmArg {
    fn kind(self) -> LstmImpl {
        match self {
            LstmArg::Fused => LstmImpl::Fused,
            LstmArg::Stepwise => LstmImpl::Stepwise,
            LstmArg::Recurrence => LstmImpl::Recurrence,
            LstmArg::Auto => LstmImpl::Auto,
        }
    }

    fn name(self) -> &'static str {
        match self {
            LstmArg::Fused => "fused",
            LstmArg::Stepwise => "stepwise",
            LstmArg::Recurrence => "recurrence",
            LstmArg::Auto => "auto",
        }
    }
}

fn synthetic_batch(a: &Args, rng: &mut SeededRng) -> Batch {
    let (b, l) = (a.batch, a.len);
    let tokens = PerText::from_fn(|_| {
        (0..b * l)
            .map(|_| 1 + rng.below(a.vocab as u64 - 1) as u32)
            .collect::<Vec<u32>>()
    });
    let text = tokens.map(|_, tokens| PaddedDocuments {
        len: l,
        tokens,
        pool: vec![1.0 / l as f32; b * l],
    });
    let image = (0..b * a.image_dim).map(|_| rng.next_f32()).collect();
    let keep = (0..b * MODALITY_SLOTS)
        .map(|_| if rng.next_f32() > 0.25 { 1.0 } else { 0.0 })
        .collect();
    let masks = PerText::from_fn(|_| {
        (0..b * a.hidden)
            .map(|_| if rng.bernoulli(0.5) { 0.0 } else { 2.0 })
            .collect::<Vec<f32>>()
    });
    let dropout = Some(DropoutMasks {
        width: a.hidden,
        masks,
    });
    let ratings = (0..b).map(|_| 1.0 + 4.0 * rng.next_f32()).collect();
    Batch {
        rows: (0..b).collect(),
        text,
        image_dim: a.image_dim,
        image,
        available: vec![1.0; b * MODALITY_SLOTS],
        keep,
        dropout,
        ratings,
        user_ids: vec![0; b],
        item_ids: vec![0; b],
    }
}

fn main() -> anyhow::Result<()> {
    let a: Args = lrmm_core::cli::parse(&lrmm_core::build_info!("cuda"));
    lrmm_core::logging::init(&a.verbosity)?;
    tracing::info!("{a:?}");
    let device = lrmm_model::device::device(a.device)?;
    let lstm = a.lstm.kind();
    let cfg = ModelConfig {
        word_dim: a.word_dim,
        hidden: a.hidden,
        ae_hidden: a.ae_hidden,
        shared_dim: a.hidden,
        dropout: 0.5,
        lstm,
        shared_activation: Default::default(),
        baseline_biases: false,
        baseline_reg: Default::default(),
    };
    let dims = DataDims {
        vocab_size: a.vocab,
        image_dim: a.image_dim,
        rating_mean: 3.0,
        n_users: 0,
        n_items: 0,
    };
    let model = Lrmm::new(&cfg, dims, 0, DType::F32, &device)?;
    let train_cfg = TrainConfig {
        optimizer: OptimizerKind::Adadelta,
        learning_rate: 1.0,
        batch_size: a.batch,
        max_epochs: 1,
        patience: 1,
        adadelta_rho: 0.9,
        adadelta_eps: 1e-6,
        adam_beta1: 0.9,
        adam_beta2: 0.999,
        adam_eps: 1e-8,
        eval_batch_size: a.batch,
    };
    let loss_cfg = LossConfig::default();
    let mut optim = Optimizer::new(&model.store.params, &train_cfg, loss_cfg.weight_decay)?;
    let mut rng = SeededRng::new(0);
    let batches = (0..3)
        .map(|_| synthetic_batch(&a, &mut rng).to_device(&device, DType::F32))
        .collect::<Result<Vec<_>, _>>()?;
    let sync = |t: &candle_core::Tensor| -> anyhow::Result<()> {
        t.to_dtype(DType::F32)?.sum_all()?.to_scalar::<f32>()?;
        Ok(())
    };
    // Seconds spent in forward, backward and the optimiser step, over the timed steps.
    let mut phases = [0f64; 3];
    let mut train_step = |i: usize, phases: &mut [f64; 3]| -> anyhow::Result<()> {
        let b = &batches[i % 3];
        let t = Instant::now();
        let out = model.forward(b)?;
        let loss = model.loss(&out, b, &loss_cfg)?;
        sync(&loss.total)?;
        phases[0] += t.elapsed().as_secs_f64();
        let t = Instant::now();
        let grads = loss.total.backward()?;
        sync(&model.score.bias)?;
        phases[1] += t.elapsed().as_secs_f64();
        let t = Instant::now();
        optim.step(&grads)?;
        sync(&model.score.bias)?;
        phases[2] += t.elapsed().as_secs_f64();
        Ok(())
    };
    // Two warm-up steps, as ../shared/bench/lrmm_torch.py takes.
    for i in 0..2 {
        train_step(i, &mut [0.0; 3])?;
    }
    let t0 = Instant::now();
    for i in 0..a.steps {
        train_step(i + 1, &mut phases)?;
    }
    let train = (a.steps * a.batch) as f64 / t0.elapsed().as_secs_f64();
    let per = |x: f64| x / a.steps as f64;
    tracing::info!(
        "per training step: forward {:.3} s, backward {:.3} s, optimiser {:.3} s",
        per(phases[0]),
        per(phases[1]),
        per(phases[2])
    );
    let eval: Vec<_> = batches
        .iter()
        .map(|b| lrmm_model::data::DeviceBatch {
            dropout: None,
            ..b.clone()
        })
        .collect();
    let _no_backward = lrmm_model::lstm::InferenceGuard::new();
    for _ in 0..2 {
        sync(&model.forward(&eval[0])?.prediction)?;
    }
    let t0 = Instant::now();
    for i in 0..a.steps {
        sync(&model.forward(&eval[i % 3])?.prediction)?;
    }
    let infer = (a.steps * a.batch) as f64 / t0.elapsed().as_secs_f64();
    let params: usize = model
        .store
        .params
        .iter()
        .filter(|p| p.trainable)
        .map(|p| p.var.elem_count())
        .sum();
    let line = serde_json::json!({
        "impl": format!("lrmm-candle-{}", a.lstm.name()),
        "device": a.device,
        "threads": candle_core::utils::get_num_threads(),
        "train_samples_per_s": (train * 10.0).round() / 10.0,
        "infer_samples_per_s": (infer * 10.0).round() / 10.0,
        "params": params,
    });
    writeln!(std::io::stdout(), "{line}")?;
    Ok(())
}
