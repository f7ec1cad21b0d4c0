//! The API the evaluation stage calls: load a trained model next to a dataset's artifacts,
//! predict ratings for interaction rows with any modalities removed, and read the modality
//! embeddings and their autoencoder reconstructions.

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;

use candle_core::{DType, Device, Tensor};
use lrmm_core::{ArtifactDir, Modality, PerModality, Split};

use crate::data::{assemble, Dataset, MODALITY_SLOTS};
use crate::error::{ModelError, Result};
use crate::init::load_safetensors;
use crate::lstm::InferenceGuard;
use crate::model::{HeadIds, Lrmm};
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

    /// The predictions [`Predictor::predict`] gives for `rows`, for rows outside the training
    /// split (test, validation and the query rows of an extended dataset) only, computed with
    /// each distinct user's U embedding and each distinct item's O, M and V embeddings encoded
    /// once. Such a row's documents depend on its user and item alone (no history holds it), so
    /// scoring N candidate items for M users costs M + N encoder passes instead of M·N: what
    /// ranking and top-K prediction need. A training row is an error: its documents leave its
    /// own review out.
    pub fn predict_queries(&self, rows: &[usize], drop: &[Modality]) -> Result<Vec<f32>> {
        self.predict_queries_with_progress(rows, drop, |_| {})
    }

    /// [`Predictor::predict_queries`], calling `progress` with the number of rows scored after
    /// each batch (the users' and items' encodings come first).
    pub fn predict_queries_with_progress(
        &self,
        rows: &[usize],
        drop: &[Modality],
        progress: impl FnMut(usize),
    ) -> Result<Vec<f32>> {
        let pairs: Vec<(usize, usize)> = rows.iter().map(|&r| (r, r)).collect();
        self.predict_query_pairs_with_progress(&pairs, drop, progress)
    }

    /// Scores of (user, item) combinations given as two rows each: the user of the first row
    /// with the item of the second, both rows outside the training split (as in
    /// [`Predictor::predict_queries`], which is the case of equal rows). Ranking N candidates
    /// for M users then needs M + N query rows, one per user and one per item, instead of one
    /// per (user, item) pair (16.4M at 160 copies of Musical Instruments).
    pub fn predict_query_pairs_with_progress(
        &self,
        pairs: &[(usize, usize)],
        drop: &[Modality],
        mut progress: impl FnMut(usize),
    ) -> Result<Vec<f32>> {
        let ds = &*self.data;
        let all_rows = pairs.iter().flat_map(|&(u, i)| [u, i]);
        if let Some(bad) = all_rows.clone().find(|&r| r >= ds.len()) {
            return Err(ModelError::Invalid(format!(
                "row {bad} is out of range: the dataset has {} interactions",
                ds.len()
            )));
        }
        if let Some(train) = all_rows.clone().find(|&r| ds.split[r] == Split::Train) {
            return Err(ModelError::Invalid(format!(
                "row {train} is a training row: its documents depend on the row, not only on its \
                 user and item; predict it with Predictor::predict"
            )));
        }
        if pairs.is_empty() {
            return Ok(Vec::new());
        }
        let _no_backward = InferenceGuard::new();
        let users = Representatives::of(pairs.iter().map(|&(r, _)| (ds.user_id[r], r)));
        let items = Representatives::of(pairs.iter().map(|&(_, r)| (ds.item_id[r], r)));
        let user = self.encode_once(&users.rows, &[Modality::User])?;
        let item = self.encode_once(
            &items.rows,
            &[Modality::Item, Modality::Meta, Modality::Image],
        )?;
        let encoded = |m: Modality| if m == Modality::User { &user } else { &item };

        let device = self.model.device();
        let batch_size = self.saved.config.train.eval_batch_size.max(1);
        let mut out = Vec::with_capacity(pairs.len());
        for chunk in pairs.chunks(batch_size) {
            let user_ids: Vec<u32> = chunk.iter().map(|&(r, _)| ds.user_id[r]).collect();
            let item_ids: Vec<u32> = chunk.iter().map(|&(_, r)| ds.item_id[r]).collect();
            let (user_slots, item_slots) = (users.slots(&user_ids), items.slots(&item_ids));
            let slot_of = |m: Modality| {
                if m == Modality::User {
                    &user_slots
                } else {
                    &item_slots
                }
            };
            let mut keep = vec![0f32; chunk.len() * MODALITY_SLOTS];
            for (i, k) in keep.chunks_mut(MODALITY_SLOTS).enumerate() {
                for m in Modality::ALL {
                    k[m.index()] = encoded(m).available[m.index()][slot_of(m)[i] as usize];
                }
                for m in drop {
                    k[m.index()] = 0.0;
                }
            }
            let index = |v: &[u32]| Tensor::from_slice(v, v.len(), device);
            let (user_index, item_index) = (index(&user_slots)?, index(&item_slots)?);
            let embeddings = PerModality::try_from_fn(|m| -> Result<Tensor> {
                let at = if m == Modality::User {
                    &user_index
                } else {
                    &item_index
                };
                Ok(encoded(m).embeddings[m.index()]
                    .as_ref()
                    .expect("encoded")
                    .index_select(at, 0)?)
            })?;
            let keep = Tensor::from_slice(&keep, (chunk.len(), MODALITY_SLOTS), device)?
                .to_dtype(self.model.dtype())?;
            let (user_ids, item_ids) = (index(&user_ids)?, index(&item_ids)?);
            let ids = HeadIds {
                user: &user_ids,
                item: &item_ids,
            };
            let f = self.model.head(embeddings, &keep, None, &ids)?;
            let p = f.prediction.to_dtype(DType::F32)?.to_vec1::<f32>()?;
            out.extend(
                p.into_iter()
                    .map(|x| x.clamp(RATING_RANGE.0, RATING_RANGE.1)),
            );
            progress(chunk.len());
        }
        Ok(out)
    }

    /// The embeddings of `modalities` for `rows` (one representative row per user or item),
    /// in batches, and where each modality exists.
    fn encode_once(&self, rows: &[usize], modalities: &[Modality]) -> Result<Encoded> {
        let c = &self.saved.config;
        let mut parts: [Vec<Tensor>; MODALITY_SLOTS] = Default::default();
        let mut available: [Vec<f32>; MODALITY_SLOTS] = Default::default();
        for chunk in rows.chunks(c.train.eval_batch_size.max(1)) {
            let batch = assemble(&self.data, chunk, &c.data, &[], None);
            let dev = batch.to_device(self.model.device(), self.model.dtype())?;
            for &m in modalities {
                // Detached: a kept embedding must not keep its chunk's graph (the model's
                // weights are variables, so every output holds its inputs, the chunk's 4096-d
                // image features among them) alive — 0.9 GB at 16 copies of MI, 11 GB at 160.
                parts[m.index()].push(self.model.embed(m, &dev)?.detach());
                available[m.index()]
                    .extend(batch.available.chunks(MODALITY_SLOTS).map(|a| a[m.index()]));
            }
        }
        let mut embeddings: [Option<Tensor>; MODALITY_SLOTS] = Default::default();
        for &m in modalities {
            embeddings[m.index()] = Some(Tensor::cat(&parts[m.index()], 0)?);
        }
        Ok(Encoded {
            embeddings,
            available,
        })
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

/// One row per distinct user (or item) of a set of rows, the first that names it.
struct Representatives {
    /// The representative rows, in order of first appearance.
    rows: Vec<usize>,
    /// Id → index into `rows`.
    slot: HashMap<u32, usize>,
}

impl Representatives {
    fn of(id_and_row: impl Iterator<Item = (u32, usize)>) -> Self {
        let mut reps = Self {
            rows: Vec::new(),
            slot: HashMap::new(),
        };
        for (id, row) in id_and_row {
            if let std::collections::hash_map::Entry::Vacant(e) = reps.slot.entry(id) {
                e.insert(reps.rows.len());
                reps.rows.push(row);
            }
        }
        reps
    }

    /// The slot of each id.
    fn slots(&self, ids: &[u32]) -> Vec<u32> {
        ids.iter().map(|id| self.slot[id] as u32).collect()
    }
}

/// Embeddings of representative rows: `[reps, d]` per encoded modality (by
/// [`Modality::index`]), and 1/0 for whether the modality exists for each representative.
struct Encoded {
    embeddings: [Option<Tensor>; MODALITY_SLOTS],
    available: [Vec<f32>; MODALITY_SLOTS],
}
