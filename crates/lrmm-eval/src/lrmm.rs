//! The trained LRMM model as a [`RatingModel`], through `lrmm_model::inference::Predictor`.

use std::path::Path;

use anyhow::Context;
use candle_core::Device;
use lrmm_core::ArtifactDir;
use lrmm_model::inference::{Embeddings, Predictor};

use crate::evaluate::{Modality, RatingModel};

pub struct LrmmModel {
    predictor: Predictor,
}

impl std::fmt::Debug for LrmmModel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LrmmModel").finish_non_exhaustive()
    }
}

fn to_model(m: Modality) -> lrmm_model::Modality {
    match m {
        Modality::User => lrmm_model::Modality::User,
        Modality::Item => lrmm_model::Modality::Item,
        Modality::Meta => lrmm_model::Modality::Meta,
        Modality::Image => lrmm_model::Modality::Image,
    }
}

/// `cpu` or `cuda` (GPU 0; needs a build with lrmm-model's `cuda` feature).
pub fn device(name: &str) -> anyhow::Result<Device> {
    match name {
        "cpu" => Ok(Device::Cpu),
        "cuda" => Device::new_cuda(0).context("cannot open CUDA device 0 (was lrmm built with --features cuda?)"),
        other => anyhow::bail!("unknown device `{other}`: use cpu or cuda"),
    }
}

impl LrmmModel {
    /// Loads the model in `model_dir` over the artifacts in `data`.
    pub fn load(model_dir: &Path, data: &Path, device: &Device) -> anyhow::Result<Self> {
        let predictor = Predictor::load(model_dir, &ArtifactDir::new(data), device)
            .with_context(|| format!("cannot load the LRMM model in {} for {}", model_dir.display(), data.display()))?;
        Ok(Self { predictor })
    }

    /// Per-modality embeddings and their reconstructions (Figure 5).
    pub fn embeddings(&self, rows: &[usize], drop: &[Modality]) -> anyhow::Result<Embeddings> {
        let drop: Vec<_> = drop.iter().map(|&m| to_model(m)).collect();
        Ok(self.predictor.embeddings(rows, &drop)?)
    }
}

impl RatingModel for LrmmModel {
    fn predict(&self, rows: &[usize], drop: &[Modality]) -> anyhow::Result<Vec<f32>> {
        let drop: Vec<_> = drop.iter().map(|&m| to_model(m)).collect();
        Ok(self.predictor.predict(rows, &drop)?)
    }
}
