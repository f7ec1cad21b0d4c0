//! The trained LRMM model as a [`RatingModel`], through `lrmm_model::inference::Predictor`.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::Context;
use candle_core::Device;
use lrmm_core::{ArtifactDir, Modality};
use lrmm_model::data::{Extension, NewRow};
use lrmm_model::inference::{Embeddings, Predictor};

use crate::evaluate::RatingModel;

pub struct LrmmModel {
    predictor: Predictor,
    model_dir: PathBuf,
    device: Device,
}

impl std::fmt::Debug for LrmmModel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LrmmModel").finish_non_exhaustive()
    }
}

impl LrmmModel {
    /// Loads the model in `model_dir` over the artifacts in `data`.
    pub fn load(model_dir: &Path, data: &Path, device: &Device) -> anyhow::Result<Self> {
        let predictor =
            Predictor::load(model_dir, &ArtifactDir::new(data), device).with_context(|| {
                format!(
                    "cannot load the LRMM model in {} for {}",
                    model_dir.display(),
                    data.display()
                )
            })?;
        Ok(Self {
            predictor,
            model_dir: model_dir.to_path_buf(),
            device: device.clone(),
        })
    }

    /// Per-modality embeddings and their reconstructions (Figure 5).
    pub fn embeddings(&self, rows: &[usize], drop: &[Modality]) -> anyhow::Result<Embeddings> {
        Ok(self.predictor.embeddings(rows, drop)?)
    }
}

impl RatingModel for LrmmModel {
    fn predict(&self, rows: &[usize], drop: &[Modality]) -> anyhow::Result<Vec<f32>> {
        Ok(self.predictor.predict(rows, drop)?)
    }

    /// Each distinct user and each distinct item gets one query row of the dataset extended in
    /// memory (outside every history, so its documents are exactly those of a test row of the
    /// same user or item), and each pair is scored from its user's row and its item's row with
    /// each user and item encoded once (`Predictor::predict_query_pairs_with_progress`): memory
    /// in the distinct users and items, not in the pairs (99 per test row).
    fn score_pairs(&self, pairs: &[(u32, u32)]) -> anyhow::Result<Option<Vec<f32>>> {
        let ds = self.predictor.dataset();
        let (mut user_row, mut item_row) = (HashMap::new(), HashMap::new());
        let mut new_rows = Vec::new();
        for &(u, i) in pairs {
            if !user_row.contains_key(&u) || !item_row.contains_key(&i) {
                user_row.entry(u).or_insert(new_rows.len());
                item_row.entry(i).or_insert(new_rows.len());
                new_rows.push(NewRow::query(u, i));
            }
        }
        let extension = Extension {
            users: ds.n_users,
            items: ds.n_items,
            rows: new_rows,
            ..Extension::default()
        };
        let (extended, rows) = ds.extend(&extension)?;
        let scorer = Predictor::for_extended(
            &self.model_dir,
            self.predictor.saved().clone(),
            Arc::new(extended),
            &self.device,
        )?;
        let row_pairs: Vec<(usize, usize)> = pairs
            .iter()
            .map(|(u, i)| (rows[user_row[u]], rows[item_row[i]]))
            .collect();
        Ok(Some(scorer.predict_query_pairs_with_progress(
            &row_pairs,
            &[],
            |_| {},
        )?))
    }
}
