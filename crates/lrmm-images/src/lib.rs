//! The image stage of lrmm: the visual modality V (paper eq. 10), a 4096-d feature per item.
//!
//! - [`vgg`]: a batched VGG11/13/16/19 in candle that stops at fc6 (default) or fc7, with
//!   torchvision's tensor names; [`weights`] loads a torchvision `state_dict` saved as safetensors.
//! - [`preprocess`]: decoding with `image` and torchvision's ImageNet transform, bit-exact on
//!   lossless images.
//! - [`extract`]: a folder of images named by asin → features, decoding alongside inference.
//! - [`mcauley`]: import of McAuley's precomputed `image_features_<Category>.b`.
//! - [`artifact`]: `image_features.safetensors` and `image_status.parquet`.
//!
//! A missing or undecodable image is a missing modality: it gets a status row, never an error.

pub mod artifact;
pub mod cpu_conv;
pub mod error;
pub mod extract;
pub mod mcauley;
pub mod preprocess;
pub mod vgg;
pub mod weights;

use std::collections::BTreeMap;
use std::path::PathBuf;

use candle_core::Device;
use lrmm_core::ArtifactDir;

pub use artifact::{Features, ImageStatus, StatusRow};
pub use error::{Error, Result};
pub use vgg::{Depth, OutputLayer, Vgg, VggConfig};

/// Where the network's weights come from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WeightsSource {
    /// A torchvision `state_dict` saved with `safetensors.torch.save_file`.
    File(PathBuf),
    /// torchvision's initialisation of an untrained VGG, drawn from this seed: the offline
    /// default, which keeps the pipeline runnable but carries no ImageNet knowledge.
    Random { seed: u64 },
}

impl WeightsSource {
    pub fn describe(&self) -> String {
        match self {
            WeightsSource::File(path) => path.display().to_string(),
            WeightsSource::Random { seed } => {
                format!("random init (torchvision's scheme), seed {seed}")
            }
        }
    }
}

/// Builds the network on `device`.
pub fn build_model(config: VggConfig, weights: &WeightsSource, device: &Device) -> Result<Vgg> {
    let tensors = match weights {
        WeightsSource::File(path) => weights::load(path, &config, device)?,
        WeightsSource::Random { seed } => {
            tracing::warn!(
                "no VGG weights given: {} with a seeded random initialisation (seed {seed}); \
                 the features carry no ImageNet knowledge (see docs/images.md to make a weights file)",
                config.describe()
            );
            vgg::random_weights(&config, *seed, device)?
        }
    };
    Vgg::from_tensors(config, tensors, device)
}

/// `cpu`, `cuda` or `cuda:N`. CUDA needs the crate's `cuda` feature.
pub fn parse_device(name: &str) -> Result<Device> {
    match name.trim() {
        "cpu" => Ok(Device::Cpu),
        "cuda" => Ok(Device::new_cuda(0)?),
        other => match other
            .strip_prefix("cuda:")
            .and_then(|n| n.parse::<usize>().ok())
        {
            Some(ordinal) => Ok(Device::new_cuda(ordinal)?),
            None => Err(Error::Config(format!(
                "unknown device `{other}` (expected cpu, cuda or cuda:N)"
            ))),
        },
    }
}

/// Writes both artifacts into `out`, the status table first and the features file last, so the
/// features file (the make target) exists only once everything is in place. Logs the counts.
pub fn write_artifacts(
    out: &ArtifactDir,
    features: &Features,
    statuses: &[StatusRow],
    mut metadata: BTreeMap<String, String>,
) -> Result<()> {
    let counts = artifact::count_statuses(statuses);
    for (status, n) in &counts {
        metadata.insert(format!("n_{status}"), n.to_string());
    }
    metadata.insert(
        "features_dtype".into(),
        "F32 [n, dim]; item_ids U32 [n]".into(),
    );
    out.create()?;
    artifact::write_status(&out.image_status(), statuses)?;
    artifact::write_features(&out.image_features(), features, &metadata)?;
    tracing::info!(
        "{} items: {} ok, {} missing, {} corrupt → {} ({}-d)",
        statuses.len(),
        counts["ok"],
        counts["missing"],
        counts["corrupt"],
        out.image_features().display(),
        features.dim
    );
    Ok(())
}
