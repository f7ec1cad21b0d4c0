//! The trained LRMM model as a [`RatingModel`], through `lrmm_model::inference::Predictor`.

use std::path::Path;

use anyhow::Context;
use candle_core::Device;
use lrmm_core::{ArtifactDir, Modality};
use lrmm_model::inference::{Embeddings, Predictor};

use crate::evaluate::RatingModel;

pub struct LrmmModel {
    predictor: Predictor,
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
        Ok(Self { predictor })
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
}
