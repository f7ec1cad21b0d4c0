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
use lrmm_core::cli::DeviceSpec;
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

impl WeightsSource {
    /// The source [`WeightsSource::describe`] wrote `text` for.
    pub fn from_description(text: &str) -> Self {
        let seed = text
            .strip_prefix("random init (torchvision's scheme), seed ")
            .and_then(|s| s.parse().ok());
        match seed {
            Some(seed) => WeightsSource::Random { seed },
            None => WeightsSource::File(PathBuf::from(text)),
        }
    }
}

/// The preprocessing every feature goes through (`preprocess`), as `__metadata__` records it.
pub const PREPROCESSING: &str =
    "torchvision ImageNet eval: Resize(256) (Pillow bilinear, antialiased), CenterCrop(224), \
     ToTensor, Normalize(mean=[0.485,0.456,0.406], std=[0.229,0.224,0.225])";

/// `__metadata__` keys of `image_features.safetensors` that say how the features were made.
pub const META_MODEL: &str = "model";
pub const META_WEIGHTS: &str = "weights";
pub const META_WEIGHTS_SHA256: &str = "weights_sha256";
pub const META_PREPROCESSING: &str = "preprocessing";

/// What `image_features.safetensors` records about the network that made its features: the
/// VGG, the weights (and, for a weights file, its sha256) and the preprocessing.
pub fn extraction_metadata(
    config: &VggConfig,
    weights: &WeightsSource,
) -> Result<BTreeMap<String, String>> {
    let mut out = BTreeMap::from([
        (META_MODEL.to_string(), config.describe()),
        (META_WEIGHTS.to_string(), weights.describe()),
        (META_PREPROCESSING.to_string(), PREPROCESSING.to_string()),
    ]);
    if let WeightsSource::File(path) = weights {
        out.insert(
            META_WEIGHTS_SHA256.to_string(),
            lrmm_core::atomic::sha256_file(path)?,
        );
    }
    Ok(out)
}

/// The network [`extraction_metadata`] describes: its config, weights source and the weights
/// file's sha256 when one was recorded. The error names the key that is missing or unreadable.
pub fn extraction_from_metadata(
    metadata: &BTreeMap<String, String>,
) -> std::result::Result<(VggConfig, WeightsSource, Option<String>), String> {
    let get = |key: &str| {
        metadata.get(key).ok_or_else(|| {
            format!(
                "no `{key}` in __metadata__ (features not made by lrmm-images from image files)"
            )
        })
    };
    let model = get(META_MODEL)?;
    let config = VggConfig::from_description(model)
        .ok_or_else(|| format!("`{META_MODEL}` = {model:?} does not describe a VGG"))?;
    let preprocessing = get(META_PREPROCESSING)?;
    if preprocessing != PREPROCESSING {
        return Err(format!(
            "`{META_PREPROCESSING}` = {preprocessing:?}, this build preprocesses as {PREPROCESSING:?}"
        ));
    }
    let weights = WeightsSource::from_description(get(META_WEIGHTS)?);
    Ok((config, weights, metadata.get(META_WEIGHTS_SHA256).cloned()))
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

/// Opens the device a command line names (`lrmm_core::cli::DeviceSpec`, parsed there): the CPU,
/// or CUDA GPU `N`, which needs the crate's `cuda` feature. The image stage's one conversion.
pub fn device(spec: DeviceSpec) -> Result<Device> {
    match spec {
        DeviceSpec::Cpu => Ok(Device::Cpu),
        DeviceSpec::Cuda(ordinal) => Device::new_cuda(ordinal).map_err(|e| {
            Error::Config(lrmm_core::cli::cuda_open_error(
                ordinal,
                "lrmm-images",
                cfg!(feature = "cuda"),
                &e,
            ))
        }),
    }
}

/// `--depth 11|13|16|19` (`vgg16` is accepted too).
impl clap::ValueEnum for Depth {
    fn value_variants<'a>() -> &'a [Self] {
        &Depth::ALL
    }

    fn to_possible_value(&self) -> Option<clap::builder::PossibleValue> {
        let (number, name) = match self {
            Depth::Vgg11 => ("11", "vgg11"),
            Depth::Vgg13 => ("13", "vgg13"),
            Depth::Vgg16 => ("16", "vgg16"),
            Depth::Vgg19 => ("19", "vgg19"),
        };
        Some(clap::builder::PossibleValue::new(number).alias(name))
    }
}

/// `--layer fc6|fc7`.
impl clap::ValueEnum for OutputLayer {
    fn value_variants<'a>() -> &'a [Self] {
        &[OutputLayer::Fc6, OutputLayer::Fc7]
    }

    fn to_possible_value(&self) -> Option<clap::builder::PossibleValue> {
        Some(clap::builder::PossibleValue::new(match self {
            OutputLayer::Fc6 => "fc6",
            OutputLayer::Fc7 => "fc7",
        }))
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
    features.write(&out.image_features(), &metadata)?;
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
