//! Training and inference throughput of the LRMM model on synthetic batches of the paper's
//! shapes, printed as one JSON line in the form of `../shared/bench/lrmm_torch.py`.

use std::io::Write;
use std::time::Instant;

use anyhow::Context;
use candle_core::{DType, Device};
use clap::Parser;
use lrmm_core::SeededRng;
use lrmm_model::config::{LossConfig, ModelConfig, OptimizerKind, TrainConfig};
use lrmm_model::data::Batch;
use lrmm_model::lstm::LstmImpl;
use lrmm_model::model::{DataDims, Lrmm};
use lrmm_model::optim::Optimizer;

/// Measure LRMM training and inference samples/s on synthetic token and feature batches.
#[derive(Debug, Parser)]
struct Args {
    #[arg(long, default_value_t = 256)]
    batch: usize,
    /// Document length L.
    #[arg(long, default_value_t = 100)]
    len: usize,
    #[arg(long, default_value_t = 20_000)]
    vocab: usize,
    #[arg(long, default_value_t = 128)]
    word_dim: usize,
    #[arg(long, default_value_t = 256)]
    hidden: usize,
    #[arg(long, default_value_t = 1024)]
    ae_hidden: usize,
    #[arg(long, default_value_t = 4096)]
    image_dim: usize,
    /// Timed steps (after 1 warm-up step).
    #[arg(long, default_value_t = 3)]
    steps: usize,
    /// fused, stepwise or auto.
    #[arg(long, default_value = "auto")]
    lstm: String,
    /// cpu or cuda.
    #[arg(long, default_value = "cpu")]
    device: String,
}

fn synthetic_batch(a: &Args, rng: &mut SeededRng) -> Batch {
    let (b, l) = (a.batch, a.len);
    let mut tokens = || {
        (0..b * l)
            .map(|_| 1 + rng.below(a.vocab as u64 - 1) as u32)
            .collect::<Vec<u32>>()
    };
    let tokens = [tokens(), tokens(), tokens()];
    let pool = [
        vec![1.0 / l as f32; b * l],
        vec![1.0 / l as f32; b * l],
        vec![1.0 / l as f32; b * l],
    ];
    let image = (0..b * a.image_dim).map(|_| rng.next_f32()).collect();
    let keep = (0..b * 4)
        .map(|_| if rng.next_f32() > 0.25 { 1.0 } else { 0.0 })
        .collect();
    let mut mask = || {
        (0..b * a.hidden)
            .map(|_| if rng.bernoulli(0.5) { 0.0 } else { 2.0 })
            .collect::<Vec<f32>>()
    };
    let dropout = Some([mask(), mask(), mask()]);
    let ratings = (0..b).map(|_| 1.0 + 4.0 * rng.next_f32()).collect();
    Batch {
        rows: (0..b).collect(),
        len: [l; 3],
        tokens,
        pool,
        image,
        available: vec![1.0; b * 4],
        keep,
        dropout,
        ratings,
        user_ids: vec![0; b],
        item_ids: vec![0; b],
    }
}

fn main() -> anyhow::Result<()> {
    lrmm_core::logging::init();
    let a = Args::parse();
    let device = match a.device.as_str() {
        "cpu" => Device::Cpu,
        "cuda" => {
            Device::new_cuda(0).context("cannot open CUDA device 0 (build with --features cuda)")?
        }
        other => anyhow::bail!("--device {other}: expected cpu or cuda"),
    };
    let lstm = match a.lstm.as_str() {
        "fused" => LstmImpl::Fused,
        "stepwise" => LstmImpl::Stepwise,
        "auto" => LstmImpl::Auto,
        other => anyhow::bail!("--lstm {other}: expected fused, stepwise or auto"),
    };
    let cfg = ModelConfig {
        word_dim: a.word_dim,
        hidden: a.hidden,
        ae_hidden: a.ae_hidden,
        shared_dim: a.hidden,
        dropout: 0.5,
        lstm,
        shared_activation: Default::default(),
        baseline_biases: false,
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
        .map(|_| {
            synthetic_batch(&a, &mut rng).to_device(&device, DType::F32, a.image_dim, a.hidden)
        })
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
    train_step(0, &mut [0.0; 3])?;
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
    sync(&model.forward(&eval[0])?.prediction)?;
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
        "impl": format!("lrmm-candle-{}", a.lstm),
        "device": a.device,
        "threads": candle_core::utils::get_num_threads(),
        "train_samples_per_s": (train * 10.0).round() / 10.0,
        "infer_samples_per_s": (infer * 10.0).round() / 10.0,
        "params": params,
    });
    writeln!(std::io::stdout(), "{line}")?;
    Ok(())
}
