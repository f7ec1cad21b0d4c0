//! Behaviour of the whole model and the training stage on small synthetic data.

use std::path::Path;
use std::sync::Arc;

use candle_core::{DType, Device, Tensor};
use lrmm_core::{ArtifactDir, SeededRng, Split};
use lrmm_model::config::{BaselineReg, Config, DataConfig, DocOrder};
use lrmm_model::data::{assemble, Batch, Dataset, PaddedDocuments, TrainNoise, MODALITY_SLOTS};
use lrmm_model::inference::Predictor;
use lrmm_model::lstm::LstmImpl;
use lrmm_model::model::{DataDims, Lrmm};
use lrmm_model::training::{train, TrainOptions};
use lrmm_model::{Modality, ModelError, PerModality};
use lrmm_testing::synthetic::{self, tiny_config, SyntheticSpec};

fn synthetic_dir(spec: SyntheticSpec) -> (tempfile::TempDir, ArtifactDir) {
    let tmp = tempfile::tempdir().unwrap();
    let dir = ArtifactDir::new(tmp.path().join("data"));
    synthetic::write(&dir, spec).unwrap();
    (tmp, dir)
}

fn train_into(
    dir: &ArtifactDir,
    out: &Path,
    config: Config,
    seed: u64,
) -> lrmm_model::Result<lrmm_model::training::SavedModel> {
    train(&TrainOptions {
        data_dir: dir.root().to_path_buf(),
        config,
        seed,
        device: Device::Cpu,
        out_dir: out.to_path_buf(),
        progress: false,
        interrupt_after: None,
        lrmm_version: String::new(),
    })
}

fn small_dataset() -> Dataset {
    let (_tmp, dir) = synthetic_dir(SyntheticSpec {
        users: 30,
        items: 20,
        interactions_per_user: 6,
        image_dim: 8,
        seed: 4,
    });
    Dataset::load(&dir, DocOrder::RecentFirst).unwrap()
}

fn model_for(ds: &Dataset, cfg: &Config, dtype: DType, lstm: LstmImpl) -> Lrmm {
    let mut mc = cfg.model.clone();
    mc.lstm = lstm;
    let dims = DataDims::of(ds);
    Lrmm::new(&mc, dims, 7, dtype, &Device::Cpu).unwrap()
}

#[test]
fn forward_shapes() {
    let ds = small_dataset();
    let cfg = tiny_config();
    let model = model_for(&ds, &cfg, DType::F32, LstmImpl::Auto);
    let rows: Vec<usize> = (0..10).collect();
    let batch = assemble(&ds, &rows, &cfg.data, &[], None)
        .to_device(&Device::Cpu, DType::F32)
        .unwrap();
    let out = model.forward(&batch).unwrap();
    assert_eq!(out.prediction.dims(), &[10]);
    for m in Modality::ALL {
        assert_eq!(out.embeddings[m].dims(), &[10, 12], "{m:?}");
        assert_eq!(out.reconstructions[m].dims(), &[10, 12], "{m:?}");
        assert_eq!(out.hidden[m].dims(), &[10, 24], "{m:?}");
    }
    let loss = model.loss(&out, &batch, &cfg.loss).unwrap();
    assert_eq!(loss.total.dims(), &[] as &[usize]);
}

/// Appends `extra` padding tokens to every text document of a batch.
fn pad_more(b: &Batch, extra: usize) -> Batch {
    let mut p = b.clone();
    for m in Modality::TEXT {
        let docs = &b.text[m];
        let old = docs.len;
        let mut tokens = Vec::new();
        let mut pool = Vec::new();
        for i in 0..b.size() {
            tokens.extend_from_slice(&docs.tokens[i * old..(i + 1) * old]);
            tokens.extend(std::iter::repeat_n(0, extra));
            pool.extend_from_slice(&docs.pool[i * old..(i + 1) * old]);
            pool.extend(std::iter::repeat_n(0.0, extra));
        }
        p.text[m] = PaddedDocuments {
            len: old + extra,
            tokens,
            pool,
        };
    }
    p
}

#[test]
fn padding_tokens_change_nothing() {
    let ds = small_dataset();
    let cfg = tiny_config();
    for lstm in [LstmImpl::Fused, LstmImpl::Stepwise] {
        let model = model_for(&ds, &cfg, DType::F32, lstm);
        let rows: Vec<usize> = (0..16).collect();
        let b = assemble(&ds, &rows, &cfg.data, &[], None);
        let run = |b: &Batch| {
            let dev = b.to_device(&Device::Cpu, DType::F32).unwrap();
            model
                .forward(&dev)
                .unwrap()
                .prediction
                .to_vec1::<f32>()
                .unwrap()
        };
        let (a, c) = (run(&b), run(&pad_more(&b, 9)));
        for (x, y) in a.iter().zip(&c) {
            assert!((x - y).abs() < 1e-5, "{lstm:?}: {x} vs {y} after padding");
        }
        // Control: a real token in the padding does change the output.
        let mut changed = pad_more(&b, 1);
        let user = &mut changed.text[Modality::User];
        let l = user.len;
        user.tokens[l - 1] = 3;
        let n = (user.pool[..l].iter().filter(|&&w| w > 0.0).count() + 1) as f32;
        for w in user.pool[..l].iter_mut() {
            *w = 1.0 / n;
        }
        let d = run(&changed);
        assert!(
            (d[0] - a[0]).abs() > 1e-7,
            "a real token must change the user embedding"
        );
    }
}

#[test]
fn gradient_matches_finite_differences_on_a_tiny_model() {
    let ds = small_dataset();
    let mut cfg = tiny_config();
    cfg.model.hidden = 4;
    cfg.model.word_dim = 3;
    cfg.model.ae_hidden = 5;
    cfg.model.shared_dim = 4;
    cfg.data.max_len = 6;
    let mut model = model_for(&ds, &cfg, DType::F64, LstmImpl::Fused);
    model.stop_gradients = false;
    let rows: Vec<usize> = (0..6).collect();
    // Fixed m-drop pattern (drawn once) and no dropout, so the loss is a smooth function of θ.
    let mut noise = TrainNoise {
        mdrop: PerModality::splat(0.3),
        dropout: 0.0,
        hidden: 4,
        rng: SeededRng::new(2),
    };
    let mut host = assemble(&ds, &rows, &cfg.data, &[], Some(&mut noise));
    host.dropout = None;
    let batch = host.to_device(&Device::Cpu, DType::F64).unwrap();
    let loss_value = || -> f64 {
        let out = model.forward(&batch).unwrap();
        model
            .loss(&out, &batch, &cfg.loss)
            .unwrap()
            .total
            .to_scalar::<f64>()
            .unwrap()
    };
    let out = model.forward(&batch).unwrap();
    let grads = model
        .loss(&out, &batch, &cfg.loss)
        .unwrap()
        .total
        .backward()
        .unwrap();
    let mut rng = SeededRng::new(5);
    let mut checked = 0;
    for p in model.store.params.iter().filter(|p| p.trainable) {
        let Some(g) = grads.get(&p.var) else { continue };
        let g = g.flatten_all().unwrap().to_vec1::<f64>().unwrap();
        let theta = p
            .var
            .as_tensor()
            .flatten_all()
            .unwrap()
            .to_vec1::<f64>()
            .unwrap();
        // Embedding rows of unused words have zero gradient; probe the entries that matter.
        let candidates: Vec<usize> = (0..g.len()).filter(|&k| g[k] != 0.0).collect();
        for _ in 0..3.min(candidates.len()) {
            let k = candidates[rng.below(candidates.len() as u64) as usize];
            let eps = 1e-6;
            let set = |v: f64| {
                let mut t = theta.clone();
                t[k] = v;
                p.var
                    .set(&Tensor::from_vec(t, p.var.shape(), &Device::Cpu).unwrap())
                    .unwrap();
            };
            set(theta[k] + eps);
            let up = loss_value();
            set(theta[k] - eps);
            let down = loss_value();
            set(theta[k]);
            let fd = (up - down) / (2.0 * eps);
            assert!(
                (fd - g[k]).abs() < 1e-5 * (1.0 + fd.abs()),
                "{}[{k}]: finite difference {fd} vs backprop {}",
                p.name,
                g[k]
            );
            checked += 1;
        }
    }
    assert!(checked > 40, "only {checked} gradient entries checked");
}

#[test]
fn saved_weights_reload_to_identical_predictions() {
    let ds = small_dataset();
    let cfg = tiny_config();
    let a = model_for(&ds, &cfg, DType::F32, LstmImpl::Auto);
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join("w.safetensors");
    lrmm_model::init::save_safetensors(&path, &a.store.tensors()).unwrap();
    let mut other = cfg.model.clone();
    other.lstm = LstmImpl::Auto;
    let b = Lrmm::new(&other, a.dims, 99, DType::F32, &Device::Cpu).unwrap();
    let rows: Vec<usize> = (0..ds.len()).collect();
    let batch = assemble(&ds, &rows, &cfg.data, &[], None)
        .to_device(&Device::Cpu, DType::F32)
        .unwrap();
    let pa = a
        .forward(&batch)
        .unwrap()
        .prediction
        .to_vec1::<f32>()
        .unwrap();
    let before = b
        .forward(&batch)
        .unwrap()
        .prediction
        .to_vec1::<f32>()
        .unwrap();
    assert_ne!(pa, before, "another seed must give another model");
    b.store
        .load_from(&lrmm_model::init::load_safetensors(&path).unwrap(), &path)
        .unwrap();
    assert_eq!(
        pa,
        b.forward(&batch)
            .unwrap()
            .prediction
            .to_vec1::<f32>()
            .unwrap()
    );
}

#[test]
fn training_beats_the_global_mean_and_the_predictor_reproduces_it() {
    let (tmp, dir) = synthetic_dir(SyntheticSpec::default());
    let out = tmp.path().join("model");
    let mut cfg = tiny_config();
    cfg.train.max_epochs = 12;
    cfg.train.patience = 4;
    cfg.model.hidden = 16;
    cfg.model.word_dim = 16;
    cfg.model.shared_dim = 16;
    let saved = train_into(&dir, &out, cfg, 3).unwrap();
    eprintln!(
        "synthetic: best valid RMSE {:.4} at epoch {} vs global mean {:.4}",
        saved.best_valid_rmse, saved.best_epoch, saved.global_mean_valid_rmse
    );
    assert!(
        saved.best_valid_rmse < 0.8 * saved.global_mean_valid_rmse,
        "valid RMSE {} is not clearly below the global mean's {}",
        saved.best_valid_rmse,
        saved.global_mean_valid_rmse
    );
    for f in ["model.safetensors", "config.json", "train_log.csv"] {
        assert!(out.join(f).exists(), "{f} missing");
    }
    assert!(
        !out.join("checkpoint.safetensors").exists(),
        "checkpoint left after a finished run"
    );
    let log = std::fs::read_to_string(out.join("train_log.csv")).unwrap();
    assert_eq!(log.lines().count(), 1 + saved.epochs_run);
    assert!(log.starts_with("epoch,train_loss,train_mse"));

    // The saved model, reloaded through the public API, reproduces the recorded validation RMSE.
    let p = Predictor::load(&out, &dir, &Device::Cpu).unwrap();
    let ds = p.dataset();
    let valid = ds.rows(Split::Valid);
    let pred = p.predict(&valid, &[]).unwrap();
    let (rmse, _) = lrmm_model::training::rmse_mae(&pred, ds, &valid);
    assert!(
        (rmse - saved.best_valid_rmse).abs() < 1e-6,
        "{rmse} vs {}",
        saved.best_valid_rmse
    );
    assert!(pred.iter().all(|&x| (1.0..=5.0).contains(&x)));
    // Removing the user modality changes predictions; the model still beats nothing-at-all.
    let minus_u = p.predict(&valid, &[Modality::User]).unwrap();
    assert_ne!(pred, minus_u);
    let all = p.predict(&valid, &Modality::ALL).unwrap();
    assert!(
        all.windows(2).all(|w| w[0] == w[1]),
        "with every modality removed all inputs are equal"
    );
    let emb = p.embeddings(&valid[..5], &[Modality::Image]).unwrap();
    assert_eq!(emb.rows.len(), 5);
    assert_eq!(emb.get(Modality::Meta).embedding.len(), 5 * emb.dim);
    assert_eq!(emb.get(Modality::Image).reconstruction.len(), 5 * emb.dim);
    assert!(p.predict(&[ds.len()], &[]).is_err());
}

#[test]
fn same_seed_same_model_and_resume_matches_an_uninterrupted_run() {
    let (tmp, dir) = synthetic_dir(SyntheticSpec {
        users: 60,
        items: 30,
        interactions_per_user: 8,
        image_dim: 8,
        seed: 2,
    });
    let mut cfg = tiny_config();
    cfg.train.max_epochs = 3;
    let run = |name: &str, seed: u64| {
        let out = tmp.path().join(name);
        train_into(&dir, &out, cfg.clone(), seed).unwrap();
        std::fs::read(out.join("model.safetensors")).unwrap()
    };
    let a = run("a", 5);
    assert_eq!(a, run("b", 5), "same seed, different weights");
    assert_ne!(a, run("c", 6), "another seed, same weights");

    // Interrupted after one epoch, then rerun: the same model as the uninterrupted run.
    let out = tmp.path().join("resumed");
    let opts = TrainOptions {
        data_dir: dir.root().to_path_buf(),
        config: cfg.clone(),
        seed: 5,
        device: Device::Cpu,
        out_dir: out.clone(),
        progress: false,
        interrupt_after: Some(1),
        lrmm_version: String::new(),
    };
    assert!(matches!(train(&opts), Err(ModelError::Interrupted(1))));
    assert!(!out.join("model.safetensors").exists());
    assert!(out.join("checkpoint.safetensors").exists());
    train(&TrainOptions {
        interrupt_after: None,
        ..opts
    })
    .unwrap();
    assert_eq!(
        a,
        std::fs::read(out.join("model.safetensors")).unwrap(),
        "resumed run differs"
    );
    let log = std::fs::read_to_string(out.join("train_log.csv")).unwrap();
    assert_eq!(log.lines().count(), 4, "{log}");
}

#[test]
fn divergence_stops_with_a_clear_error_and_no_model() {
    let (tmp, dir) = synthetic_dir(SyntheticSpec {
        users: 20,
        items: 10,
        interactions_per_user: 5,
        image_dim: 4,
        seed: 3,
    });
    let mut cfg = tiny_config();
    cfg.train.learning_rate = 1e30;
    let out = tmp.path().join("model");
    let err = train_into(&dir, &out, cfg, 1).unwrap_err();
    assert!(matches!(err, ModelError::NonFinite(_)), "{err}");
    assert!(err.to_string().contains("learning_rate"), "{err}");
    assert!(!out.join("model.safetensors").exists());
}

#[test]
fn bad_artifacts_name_the_file_and_the_problem() {
    let spec = SyntheticSpec {
        users: 20,
        items: 10,
        interactions_per_user: 5,
        image_dim: 4,
        seed: 3,
    };
    let (_tmp, dir) = synthetic_dir(spec);
    // A tokenizer with fewer words than the token ids use.
    let tok = serde_json::json!({"model": {"type": "WordLevel", "vocab": {"[PAD]": 0, "[UNK]": 1, "a": 2}}});
    std::fs::write(dir.tokenizer(), tok.to_string()).unwrap();
    let err = Dataset::load(&dir, DocOrder::RecentFirst)
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("review_tokens.parquet") && err.contains("vocabulary size 3"),
        "{err}"
    );

    let (_tmp2, dir) = synthetic_dir(spec);
    std::fs::write(dir.image_features(), b"not a safetensors file").unwrap();
    let err = Dataset::load(&dir, DocOrder::RecentFirst)
        .unwrap_err()
        .to_string();
    assert!(err.contains("image_features.safetensors"), "{err}");

    // Review tokens that are not row-aligned with the interactions.
    let (_tmp3, dir) = synthetic_dir(spec);
    let other = tempfile::tempdir().unwrap();
    let other_dir = ArtifactDir::new(other.path());
    synthetic::write(&other_dir, SyntheticSpec { seed: 9, ..spec }).unwrap();
    std::fs::copy(other_dir.review_tokens(), dir.review_tokens()).unwrap();
    let err = Dataset::load(&dir, DocOrder::RecentFirst)
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("review_tokens.parquet") && err.contains("row"),
        "{err}"
    );
}

#[test]
fn leak_target_option_puts_the_target_review_in_the_documents() {
    let ds = Arc::new(small_dataset());
    let row = ds.rows(Split::Train)[0];
    let mut with = Vec::new();
    let mut without = Vec::new();
    let docs = DataConfig {
        max_len: 1000,
        leak_target: false,
        order: DocOrder::RecentFirst,
    };
    ds.user_document(row, &docs, &mut without);
    ds.user_document(
        row,
        &DataConfig {
            leak_target: true,
            ..docs
        },
        &mut with,
    );
    assert_eq!(with.len(), without.len() + ds.review(row).len());
}

#[test]
fn baseline_offsets_count_only_when_their_modality_is_kept() {
    let ds = small_dataset();
    let mut cfg = tiny_config();
    cfg.model.baseline_biases = true;
    let model = model_for(&ds, &cfg, DType::F32, LstmImpl::Auto);
    let rows: Vec<usize> = (0..ds.len()).collect();
    let predict = |drop: &[Modality]| -> (Vec<f32>, Vec<f32>) {
        let host = assemble(&ds, &rows, &cfg.data, drop, None);
        let dev = host.to_device(&Device::Cpu, DType::F32).unwrap();
        let p = model.forward(&dev).unwrap().prediction.to_vec1().unwrap();
        (p, host.keep)
    };
    let drops = [&[][..], &[Modality::User], &[Modality::Item]];
    // The offsets start at zero, so they change nothing until set.
    let before: Vec<_> = drops.iter().map(|d| predict(d).0).collect();
    let fit = lrmm_core::baseline::BaselineEstimates {
        global_mean: 0.0,
        bu: vec![0.7; ds.n_users],
        bi: vec![-0.2; ds.n_items],
    };
    model.set_baseline(&fit).unwrap();
    let mut both = 0;
    for (drop, before) in drops.iter().zip(&before) {
        let (after, keep) = predict(drop);
        for (i, k) in keep.chunks(MODALITY_SLOTS).enumerate() {
            let (keep_u, keep_o) = (k[Modality::User.index()], k[Modality::Item.index()]);
            let want = 0.7 * keep_u - 0.2 * keep_o;
            assert!(
                (after[i] - before[i] - want).abs() < 1e-5,
                "drop {drop:?}, row {i}: moved {} instead of {want}",
                after[i] - before[i]
            );
            both += usize::from(keep_u == 1.0 && keep_o == 1.0);
        }
    }
    assert!(both > 0, "no row kept both U and O");
}

/// A one-epoch model with baseline offsets (regularised by `reg`) on the default synthetic
/// dataset: the temporary folder, the data and the model folder.
fn trained_with_offsets(reg: BaselineReg) -> (tempfile::TempDir, ArtifactDir, std::path::PathBuf) {
    let (tmp, dir) = synthetic_dir(SyntheticSpec::default());
    let out = tmp.path().join("model");
    let mut cfg = tiny_config();
    cfg.model.baseline_biases = true;
    cfg.model.baseline_reg = reg;
    cfg.train.max_epochs = 1;
    train_into(&dir, &out, cfg, 3).unwrap();
    (tmp, dir, out)
}

/// Asserts that the user offsets saved in `model_dir` are `expected` (f32 of the f64 fit).
fn assert_saved_user_offsets(model_dir: &Path, expected: &[f64]) {
    let weights =
        lrmm_model::init::load_safetensors(&model_dir.join(lrmm_model::saved::MODEL_FILE)).unwrap();
    let saved = weights["baseline.user"].to_vec1::<f32>().unwrap();
    assert_eq!(saved.len(), expected.len());
    for (s, f) in saved.iter().zip(expected) {
        assert!((f64::from(*s) - f).abs() < 1e-5, "{s} vs {f}");
    }
}

#[test]
fn baseline_offsets_are_fitted_on_train_and_not_applied_to_another_dataset() {
    let (_tmp, dir, out) = trained_with_offsets(BaselineReg::Surprise);
    let own = Predictor::load(&out, &dir, &Device::Cpu).unwrap();
    assert!(own.uses_baseline_biases());
    assert_eq!(own.saved().baseline_reg, Some([15.0, 10.0]));
    // The saved offsets are the ALS fit on the training ratings, unchanged by training.
    let fit = own.dataset().baseline_estimates();
    assert!(
        fit.bu.iter().any(|&b| b.abs() > 0.05),
        "a flat fit proves nothing"
    );
    assert_saved_user_offsets(&out, &fit.bu);
    let (_other_tmp, other) = synthetic_dir(SyntheticSpec {
        seed: 11,
        ..SyntheticSpec::default()
    });
    let foreign = Predictor::load(&out, &other, &Device::Cpu).unwrap();
    assert!(
        !foreign.uses_baseline_biases(),
        "another dataset's user and item indices must not pick up this model's offsets"
    );
    let rows = foreign.dataset().rows(Split::Test);
    assert!(foreign
        .predict(&rows, &[])
        .unwrap()
        .iter()
        .all(|p| (1.0..=5.0).contains(p)));
}

/// `model.baseline_reg = "validation"`: the saved offsets are the fit whose regularisation did
/// best on the validation rows, and config.json records that pair.
#[test]
fn baseline_offsets_take_the_regularisation_chosen_on_validation() {
    let (_tmp, dir, out) = trained_with_offsets(BaselineReg::Validation);
    let own = Predictor::load(&out, &dir, &Device::Cpu).unwrap();
    let ds = own.dataset();
    let chosen = ds.baseline_on_validation(&ds.rows(Split::Valid));
    let best = chosen
        .candidates
        .iter()
        .map(|c| c.valid_rmse)
        .fold(f64::INFINITY, f64::min);
    assert_eq!(chosen.chosen.valid_rmse, best);
    assert_eq!(
        own.saved().baseline_reg,
        Some([chosen.chosen.reg_u, chosen.chosen.reg_i])
    );
    assert_saved_user_offsets(&out, &chosen.estimates.bu);
    // It is a choice: some candidate scores differently from the chosen one.
    assert!(chosen
        .candidates
        .iter()
        .any(|c| (c.valid_rmse - best).abs() > 1e-6));
}

#[test]
fn query_predictions_with_shared_encodings_equal_row_predictions() {
    let (tmp, dir) = synthetic_dir(SyntheticSpec::default());
    let out = tmp.path().join("model");
    let mut cfg = tiny_config();
    cfg.model.baseline_biases = true;
    cfg.train.max_epochs = 2;
    cfg.train.eval_batch_size = 7; // several batches, users and items spread across them
    train_into(&dir, &out, cfg, 5).unwrap();
    let p = Predictor::load(&out, &dir, &Device::Cpu).unwrap();
    let ds = p.dataset();
    let mut rows = ds.rows(Split::Test);
    rows.extend(ds.rows(Split::Valid));
    // Repeated users and items, out of order: each is encoded once and gathered many times.
    rows.extend(rows.clone().iter().rev());
    let users: std::collections::HashSet<u32> = rows.iter().map(|&r| ds.user_id[r]).collect();
    assert!(users.len() < rows.len() / 2, "the test needs shared users");
    for drop in [
        &[][..],
        &[Modality::User],
        &[Modality::Item, Modality::Image],
        &Modality::ALL,
    ] {
        let by_row = p.predict(&rows, drop).unwrap();
        let by_query = p.predict_queries(&rows, drop).unwrap();
        assert_eq!(by_row.len(), by_query.len());
        // The same (user, item) combinations given as another row of the user and another row
        // of the item.
        let pairs: Vec<(usize, usize)> = rows
            .iter()
            .map(|&r| {
                let of_user = rows.iter().find(|&&s| ds.user_id[s] == ds.user_id[r]);
                let of_item = rows.iter().rev().find(|&&s| ds.item_id[s] == ds.item_id[r]);
                (*of_user.unwrap(), *of_item.unwrap())
            })
            .collect();
        assert!(
            pairs.iter().any(|&(u, i)| u != i),
            "the test needs split pairs"
        );
        let by_pair = p
            .predict_query_pairs_with_progress(&pairs, drop, |_| {})
            .unwrap();
        assert_eq!(by_pair, by_query, "drop {drop:?}");
        for (i, (a, b)) in by_row.iter().zip(&by_query).enumerate() {
            assert!(
                (a - b).abs() < 1e-5,
                "drop {drop:?}, row {}: {a} vs {b}",
                rows[i]
            );
        }
    }
    let train_row = ds.rows(Split::Train)[0];
    let err = p
        .predict_queries(&[train_row], &[])
        .unwrap_err()
        .to_string();
    assert!(err.contains("training row"), "{err}");
    assert!(p.predict_queries(&[ds.len()], &[]).is_err());
    assert!(p.predict_queries(&[], &[]).unwrap().is_empty());
}
