//! The API the evaluation stage calls: load a trained model next to a dataset's artifacts,
//! predict ratings for interaction rows with any modalities removed, and read the modality
//! embeddings and their autoencoder reconstructions.

use std::path::Path;
use std::sync::Arc;

use candle_core::{DType, Device, Tensor};
use lrmm_core::ArtifactDir;

use crate::data::{assemble, Dataset};
use crate::model::{Forward, Lrmm};
use crate::training::SavedModel;
use crate::{Modality, ModelError, Result};

/// Ratings are clamped to this range at evaluation.
pub const RATING_RANGE: (f32, f32) = (1.0, 5.0);

/// Runs the model over `rows` in batches of `batch_size`, in evaluation mode (no m-drop, no
/// dropout), with `drop` removed from every sample; calls `visit` with each batch's rows and output.
pub(crate) fn run_batches(
    model: &Lrmm,
    ds: &Dataset,
    rows: &[usize],
    drop: &[Modality],
    docs: &crate::config::DataConfig,
    batch_size: usize,
    mut visit: impl FnMut(&[usize], &Forward) -> Result<()>,
) -> Result<()> {
    if let Some(&bad) = rows.iter().find(|&&r| r >= ds.len()) {
        return Err(ModelError::Invalid(format!(
            "row {bad} is out of range: the dataset has {} interactions",
            ds.len()
        )));
    }
    let _no_backward = crate::lstm::InferenceGuard::new();
    for chunk in rows.chunks(batch_size.max(1)) {
        let batch = assemble(ds, chunk, docs, drop, None);
        let dev = batch.to_device(
            model.device(),
            model.dtype(),
            ds.image_dim,
            model.config.hidden,
        )?;
        let out = model.forward(&dev)?;
        visit(chunk, &out)?;
    }
    Ok(())
}

/// Predicted ratings of `rows`, clamped to [`RATING_RANGE`].
pub(crate) fn predict_rows(
    model: &Lrmm,
    ds: &Dataset,
    rows: &[usize],
    drop: &[Modality],
    docs: &crate::config::DataConfig,
    batch_size: usize,
) -> Result<Vec<f32>> {
    let mut out = Vec::with_capacity(rows.len());
    run_batches(model, ds, rows, drop, docs, batch_size, |_, f| {
        let p = f.prediction.to_dtype(DType::F32)?.to_vec1::<f32>()?;
        out.extend(
            p.into_iter()
                .map(|x| x.clamp(RATING_RANGE.0, RATING_RANGE.1)),
        );
        Ok(())
    })?;
    Ok(out)
}

/// One modality's embeddings for a set of rows, row-major `[rows.len() × dim]`.
#[derive(Debug, Clone)]
pub struct ModalityEmbeddings {
    pub modality: Modality,
    /// The encoder's embedding e^g (what the sample's data gives; zeros where the modality is missing).
    pub embedding: Vec<f32>,
    /// The autoencoder's reconstruction e^g_recon, computed from the kept modalities.
    pub reconstruction: Vec<f32>,
    /// Whether the modality exists in the data for each row (before `drop`).
    pub available: Vec<bool>,
}

/// Per-modality embeddings and reconstructions (for the paper's Figure 5).
#[derive(Debug, Clone)]
pub struct Embeddings {
    /// Embedding width d.
    pub dim: usize,
    /// The rows these embeddings belong to, in order.
    pub rows: Vec<usize>,
    /// In [`Modality::ALL`] order.
    pub modalities: Vec<ModalityEmbeddings>,
}

impl Embeddings {
    /// The embeddings of one modality.
    pub fn get(&self, m: Modality) -> &ModalityEmbeddings {
        &self.modalities[m.index()]
    }
}

/// Whether `ds` holds the interactions the model was trained on (same file contents).
fn same_interactions(saved: &SavedModel, ds: &Dataset) -> Result<bool> {
    let path = ArtifactDir::new(&ds.root).interactions();
    let trained_on = saved.inputs.get("interactions.parquet");
    Ok(trained_on.is_some_and(|h| *h == crate::training::sha256_file(&path).unwrap_or_default()))
}

/// A trained model bound to a dataset's artifacts.
#[derive(Debug)]
pub struct Predictor {
    model: Lrmm,
    data: Arc<Dataset>,
    saved: SavedModel,
}

impl Predictor {
    /// Loads `model_dir/config.json` and `model_dir/model.safetensors` and the artifacts of
    /// `data` (interactions, tokens, image features), ready to predict on `device`.
    pub fn load(model_dir: &Path, data: &ArtifactDir, device: &Device) -> Result<Predictor> {
        let saved = SavedModel::read(model_dir)?;
        let ds = Dataset::load(data, saved.config.data.order)?;
        Self::from_parts(model_dir, saved, Arc::new(ds), device)
    }

    /// As [`Predictor::load`], on an already loaded dataset.
    pub fn from_parts(
        model_dir: &Path,
        saved: SavedModel,
        ds: Arc<Dataset>,
        device: &Device,
    ) -> Result<Predictor> {
        let weights = model_dir.join(crate::training::MODEL_FILE);
        if ds.vocab_size > saved.dims.vocab_size {
            return Err(ModelError::bad(
                &weights,
                format!("the model knows {} token ids but {} uses {}; encode the data with the model's tokenizer", saved.dims.vocab_size, ds.root.display(), ds.vocab_size),
            ));
        }
        if ds.image_dim != saved.dims.image_dim {
            return Err(ModelError::bad(
                &weights,
                format!(
                    "the model expects {}-d image features, {} has {}",
                    saved.dims.image_dim,
                    ds.root.display(),
                    ds.image_dim
                ),
            ));
        }
        let mut model = Lrmm::new(
            &saved.config.model,
            saved.dims,
            saved.seed,
            DType::F32,
            device,
        )?;
        model
            .store
            .load_from(&crate::init::load_safetensors(&weights)?, &weights)?;
        if model.biases.is_some() && !same_interactions(&saved, &ds)? {
            // User and item indices of another dataset (cross-domain) name other people and
            // products: their offsets would be noise, so only the content path remains.
            tracing::warn!(
                "{} is not the dataset the model was trained on: its baseline offsets are not used",
                ds.root.display()
            );
            model.biases = None;
        }
        Ok(Predictor {
            model,
            data: ds,
            saved,
        })
    }

    /// Predicted ratings for interaction rows (indices into `interactions.parquet`) with the
    /// modalities in `drop` removed at inference, clamped to [1, 5].
    pub fn predict(&self, rows: &[usize], drop: &[Modality]) -> Result<Vec<f32>> {
        let c = &self.saved.config;
        predict_rows(
            &self.model,
            &self.data,
            rows,
            drop,
            &c.data,
            c.train.eval_batch_size,
        )
    }

    /// Each modality's embedding and its autoencoder reconstruction for `rows`, with `drop`
    /// removed from the autoencoders' inputs.
    pub fn embeddings(&self, rows: &[usize], drop: &[Modality]) -> Result<Embeddings> {
        let c = &self.saved.config;
        let mut modalities: Vec<ModalityEmbeddings> = Modality::ALL
            .iter()
            .map(|&m| ModalityEmbeddings {
                modality: m,
                embedding: Vec::new(),
                reconstruction: Vec::new(),
                available: Vec::new(),
            })
            .collect();
        let flat = |t: &Tensor| -> Result<Vec<f32>> {
            Ok(t.to_dtype(DType::F32)?.flatten_all()?.to_vec1::<f32>()?)
        };
        run_batches(
            &self.model,
            &self.data,
            rows,
            drop,
            &c.data,
            c.train.eval_batch_size,
            |chunk, f| {
                let avail = assemble(&self.data, chunk, &c.data, &[], None).available;
                for (g, m) in modalities.iter_mut().enumerate() {
                    m.embedding.extend(flat(&f.embeddings[g])?);
                    m.reconstruction.extend(flat(&f.reconstructions[g])?);
                    m.available.extend(avail.chunks(4).map(|a| a[g] > 0.0));
                }
                Ok(())
            },
        )?;
        Ok(Embeddings {
            dim: self.model.config.hidden,
            rows: rows.to_vec(),
            modalities,
        })
    }

    /// Whether the model's baseline offsets are in use (they are not on another dataset).
    pub fn uses_baseline_biases(&self) -> bool {
        self.model.biases.is_some()
    }

    /// The dataset the predictor reads.
    pub fn dataset(&self) -> &Dataset {
        &self.data
    }

    /// Everything `config.json` records about the model.
    pub fn saved(&self) -> &SavedModel {
        &self.saved
    }
}
