//! The API the evaluation stage calls: load a trained model next to a dataset's artifacts,
//! predict ratings for interaction rows with any modalities removed, and read the modality
//! embeddings and their autoencoder reconstructions.

use std::path::Path;
use std::sync::Arc;

use candle_core::{DType, Device, Tensor};
use lrmm_core::{ArtifactDir, Modality};

use crate::data::{assemble, Dataset};
use crate::error::{ModelError, Result};
use crate::init::load_safetensors;
use crate::model::Lrmm;
use crate::predict::{predict_rows, run_batches};
use crate::saved::{sha256_file, SavedModel, MODEL_FILE};

// `RATING_RANGE` lives with the batch prediction; its old path stays for callers.
pub use crate::predict::RATING_RANGE;

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
    Ok(trained_on.is_some_and(|h| *h == sha256_file(&path).unwrap_or_default()))
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
        let weights = model_dir.join(MODEL_FILE);
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
            .load_from(&load_safetensors(&weights)?, &weights)?;
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

    /// As [`Predictor::from_parts`], on `ds`: the dataset folder the model was trained on,
    /// extended in memory by users and items it never saw ([`crate::data::Dataset::extend`],
    /// which keeps the folder as `root`). The baseline offsets stay in use when the folder's
    /// interactions are the trained ones, zero for the new ids.
    pub fn for_extended(
        model_dir: &Path,
        saved: SavedModel,
        ds: Arc<Dataset>,
        device: &Device,
    ) -> Result<Predictor> {
        let mut p = Self::from_parts(model_dir, saved, Arc::clone(&ds), device)?;
        if let Some(b) = &p.model.biases {
            p.model.biases = Some(b.padded(ds.n_users, ds.n_items)?);
        }
        Ok(p)
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
                // Availability before `drop`: what the data holds for each row.
                let batch = assemble(&self.data, chunk, &c.data, &[], None);
                for e in modalities.iter_mut() {
                    let m = e.modality;
                    e.embedding.extend(flat(&f.embeddings[m])?);
                    e.reconstruction.extend(flat(&f.reconstructions[m])?);
                    e.available
                        .extend((0..batch.size()).map(|i| batch.is_available(i, m)));
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
