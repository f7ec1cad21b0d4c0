//! Throughput of the prediction stage: pairs/s over a dataset folder's known users and items,
//! with its trained model and with an untrained model of the paper's shapes over the same
//! folder, beside the model alone on the same rows (what the stage adds per pair); and the time
//! of one user's top-10 over N candidate items. One JSON line per measurement.

use std::io::Write;
use std::path::PathBuf;
use std::time::Instant;

use candle_core::DType;
use clap::Parser;
use lrmm_core::cli::{DeviceSpec, Verbosity};
use lrmm_model::config::Config;
use lrmm_model::model::Lrmm;
use lrmm_model::saved::{SavedModel, MODEL_FILE};
use lrmm_predict::{Pair, PredictOptions, Query, Session};

/// Benchmark lrmm-predict: pairs/s at the trained config and at the paper's shapes, and one
/// user's top-10 over --candidates items.
///
/// Example:
///
///   lrmm-bench-predict --model build/default/model --data build/default --pairs 4096
#[derive(Debug, Parser)]
#[command(name = "lrmm-bench-predict", verbatim_doc_comment)]
struct Args {
    /// Trained model folder read.
    #[arg(long, value_name = "DIR")]
    model: PathBuf,
    /// Artifact folder read: the model's dataset folder.
    #[arg(long, value_name = "DIR")]
    data: PathBuf,
    /// Pairs per throughput measurement (known users × known items, in order).
    #[arg(long, default_value_t = 4096)]
    pairs: usize,
    /// Candidate items of the top-10 measurement (known items, then new ones without data).
    #[arg(long, default_value_t = 10_000)]
    candidates: usize,
    /// The paper-shaped config (batch 256 at inference, as bench-train measures).
    #[arg(long, value_name = "PATH", default_value = "pipelines/paper.toml")]
    paper_config: PathBuf,
    /// Timed repetitions of each throughput measurement (the best is reported).
    #[arg(long, default_value_t = 2)]
    steps: usize,
    /// Device (cuda needs a build with `--features cuda`).
    #[arg(long, default_value = "cpu", value_parser = lrmm_core::cli::device_parser())]
    device: DeviceSpec,
    #[command(flatten)]
    verbosity: Verbosity,
}

/// The best of `steps` timings of `f`, in seconds.
fn best_of(steps: usize, mut f: impl FnMut() -> anyhow::Result<()>) -> anyhow::Result<f64> {
    let mut best = f64::INFINITY;
    for _ in 0..steps.max(1) {
        let t = Instant::now();
        f()?;
        best = best.min(t.elapsed().as_secs_f64());
    }
    Ok(best)
}

/// An untrained model of `paper`'s shapes over the trained model's dataset, written into `dir`.
fn paper_model(trained: &SavedModel, paper: Config, dir: &std::path::Path) -> anyhow::Result<()> {
    let mut saved = trained.clone();
    saved.config.model = paper.model;
    saved.config.data = paper.data;
    saved.config.train.eval_batch_size = paper.train.batch_size;
    let model = Lrmm::new(
        &saved.config.model,
        saved.dims,
        saved.seed,
        DType::F32,
        &candle_core::Device::Cpu,
    )?;
    std::fs::create_dir_all(dir)?;
    lrmm_model::init::save_safetensors(&dir.join(MODEL_FILE), &model.store.tensors())?;
    saved.write(dir)?;
    Ok(())
}

fn main() -> anyhow::Result<()> {
    let a: Args = lrmm_core::cli::parse(&lrmm_core::build_info!("cuda"));
    lrmm_core::logging::init(&a.verbosity)?;
    tracing::info!("{a:?}");
    let device = lrmm_model::device::device(a.device)?;
    let trained = SavedModel::read(&a.model)?;
    let tmp = tempfile::tempdir()?;
    let paper_dir = tmp.path().join("paper-model");
    paper_model(&trained, Config::load(&a.paper_config, &[])?, &paper_dir)?;

    // Known users × known items, in order.
    let data = lrmm_core::ArtifactDir::new(&a.data);
    let ds = lrmm_model::data::Dataset::load(&data, trained.config.data.order)?;
    let ids = lrmm_predict::records::KnownIds::read(&data, &ds, &[])?;
    drop(ds);
    let all_items = ids.all_items();
    let n_users = ids.known_users();
    let pairs: Vec<Pair> = (0..a.pairs)
        .map(|k| Pair {
            reviewer_id: ids
                .user_name(((k / all_items.len()) % n_users) as u32)
                .to_string(),
            asin: all_items[k % all_items.len()].clone(),
        })
        .collect();

    let mut out = std::io::stdout().lock();
    for (name, model_dir) in [("trained", a.model.clone()), ("paper-shapes", paper_dir)] {
        let opts = PredictOptions::new(&model_dir, &a.data);
        let query = Query::Pairs(pairs.clone());
        let t = Instant::now();
        let session = Session::open(&opts, &query, &device)?;
        let open_s = t.elapsed().as_secs_f64();
        let c = session.predictor().saved().config.clone();
        let stage = best_of(a.steps, || {
            session.predict_rows(false)?;
            Ok(())
        })?;
        let model_only = best_of(a.steps, || {
            session.predictor().predict(session.rows(), &[])?;
            Ok(())
        })?;
        let line = serde_json::json!({
            "bench": "lrmm-predict pairs",
            "model": name,
            "hidden": c.model.hidden,
            "ae_hidden": c.model.ae_hidden,
            "word_dim": c.model.word_dim,
            "max_len": c.data.max_len,
            "batch": c.train.eval_batch_size,
            "pairs": pairs.len(),
            "pairs_per_s": (pairs.len() as f64 / stage * 10.0).round() / 10.0,
            "model_only_samples_per_s": (pairs.len() as f64 / model_only * 10.0).round() / 10.0,
            "open_s": (open_s * 1000.0).round() / 1000.0,
        });
        writeln!(out, "{line}")?;
    }

    // One user's top-10 over `candidates` items: the known ones, then new ones without data.
    let mut candidates = all_items.clone();
    candidates.truncate(a.candidates);
    let n_known = candidates.len();
    candidates.extend((n_known..a.candidates).map(|k| format!("BENCH-NEW-{k:07}")));
    let query = Query::TopK {
        k: 10,
        users: vec![ids.user_name(0).to_string()],
        candidates: Some(candidates),
        exclude_rated: true,
    };
    let opts = PredictOptions::new(&a.model, &a.data);
    let t = Instant::now();
    let session = Session::open(&opts, &query, &device)?;
    let open_s = t.elapsed().as_secs_f64();
    let t = Instant::now();
    let report = session.predict(&query, false)?;
    let rank_s = t.elapsed().as_secs_f64();
    let line = serde_json::json!({
        "bench": "lrmm-predict top-10",
        "model": "trained",
        "candidates": a.candidates,
        "known_candidates": n_known,
        "listed": report.predictions.len(),
        "predict_and_rank_s": (rank_s * 1000.0).round() / 1000.0,
        "open_s": (open_s * 1000.0).round() / 1000.0,
        "total_s": ((open_s + rank_s) * 1000.0).round() / 1000.0,
    });
    writeln!(out, "{line}")?;
    Ok(())
}
