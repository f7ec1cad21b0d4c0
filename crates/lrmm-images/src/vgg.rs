//! VGG as torchvision builds it (`torchvision.models.vgg{11,13,16,19}`, no batch norm), batched,
//! in eval mode, stopping at the first (fc6) or second (fc7) fully-connected layer.
//!
//! The module tree mirrors torchvision's so that its `state_dict` names map one to one:
//! `features.N` is the N-th entry of torchvision's `features` Sequential (convs, ReLUs and max
//! pools all take an index), `classifier.0` is fc6 and `classifier.3` is fc7. Both fc outputs
//! are taken after their ReLU, like Caffe's in-place `fc6` blob that McAuley's features come from.
//! Dropout is the identity in eval mode and is left out.

use std::collections::HashMap;
use std::fmt;
use std::str::FromStr;

use candle_core::{DType, Device, Module, Tensor};
use candle_nn::{Conv2d, Conv2dConfig, Linear, VarBuilder};
use lrmm_core::SeededRng;
use rayon::prelude::*;

use crate::cpu_conv::{self, Conv3x3ReluNhwc};
use crate::error::{Error, Result};

/// Side of the square that `features` is pooled to before the classifier.
const POOLED_SIDE: usize = 7;
/// torchvision's classifier width.
const FULL_CLASSIFIER_WIDTH: usize = 4096;
/// Five 2×2 max pools: smaller inputs have nothing left to pool.
pub const MIN_INPUT_SIDE: usize = 32;

/// Number of weight layers: VGG11, 13, 16 or 19.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Depth {
    Vgg11,
    Vgg13,
    Vgg16,
    Vgg19,
}

/// One entry of torchvision's `cfgs`: a 3×3 conv with this many output channels, or a max pool.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stage {
    Conv(usize),
    Pool,
}

impl Depth {
    pub const ALL: [Depth; 4] = [Depth::Vgg11, Depth::Vgg13, Depth::Vgg16, Depth::Vgg19];

    /// torchvision's `cfgs` "A", "B", "D", "E".
    fn stages(self) -> Vec<Stage> {
        let convs_per_block: [usize; 5] = match self {
            Depth::Vgg11 => [1, 1, 2, 2, 2],
            Depth::Vgg13 => [2, 2, 2, 2, 2],
            Depth::Vgg16 => [2, 2, 3, 3, 3],
            Depth::Vgg19 => [2, 2, 4, 4, 4],
        };
        let widths = [64, 128, 256, 512, 512];
        let mut stages = Vec::new();
        for (n, width) in convs_per_block.into_iter().zip(widths) {
            stages.extend(std::iter::repeat_n(Stage::Conv(width), n));
            stages.push(Stage::Pool);
        }
        stages
    }

    /// The stages with their index in torchvision's `features` Sequential, where each conv is
    /// followed by its own ReLU entry: VGG16's convs are `features.0, 2, 5, 7, 10, …`.
    fn indexed_stages(self) -> Vec<(usize, Stage)> {
        let mut index = 0;
        self.stages()
            .into_iter()
            .map(|stage| {
                let at = index;
                index += match stage {
                    Stage::Conv(_) => 2,
                    Stage::Pool => 1,
                };
                (at, stage)
            })
            .collect()
    }

    fn number(self) -> usize {
        match self {
            Depth::Vgg11 => 11,
            Depth::Vgg13 => 13,
            Depth::Vgg16 => 16,
            Depth::Vgg19 => 19,
        }
    }

    fn n_convs(self) -> usize {
        self.number() - 3
    }
}

impl fmt::Display for Depth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "vgg{}", self.number())
    }
}

impl FromStr for Depth {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let digits = s.trim().to_ascii_lowercase();
        let digits = digits.strip_prefix("vgg").unwrap_or(&digits);
        Depth::ALL
            .into_iter()
            .find(|d| d.number().to_string() == digits)
            .ok_or_else(|| format!("unknown VGG depth `{s}` (expected 11, 13, 16 or 19)"))
    }
}

/// The layer whose (post-ReLU) activations are the image feature.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum OutputLayer {
    /// First fully-connected layer, `classifier.0` (the paper's choice).
    Fc6,
    /// Second fully-connected layer, `classifier.3`.
    Fc7,
}

impl fmt::Display for OutputLayer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            OutputLayer::Fc6 => "fc6",
            OutputLayer::Fc7 => "fc7",
        })
    }
}

impl FromStr for OutputLayer {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s.trim().to_ascii_lowercase().as_str() {
            "fc6" => Ok(OutputLayer::Fc6),
            "fc7" => Ok(OutputLayer::Fc7),
            _ => Err(format!("unknown output layer `{s}` (expected fc6 or fc7)")),
        }
    }
}

/// Which VGG to build. `width_divisor` and `classifier_width` shrink the layers while keeping
/// the topology and the tensor names, for tests and smoke runs; the real network has 1 and 4096.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct VggConfig {
    pub depth: Depth,
    pub output: OutputLayer,
    /// Conv widths are torchvision's divided by this (a power of two up to 64).
    pub width_divisor: usize,
    /// Width of fc6 and fc7, i.e. the feature dimension.
    pub classifier_width: usize,
}

/// How a tensor is initialised when no weights file is given: torchvision's `VGG._initialize_weights`.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Init {
    /// Kaiming normal, fan-out mode, ReLU gain: N(0, 2 / (c_out · 3 · 3)).
    ConvKaiming {
        fan_out: usize,
    },
    /// N(0, 0.01²).
    LinearNormal,
    Zeros,
}

/// A tensor the network needs, in torchvision's naming.
#[derive(Debug, Clone, PartialEq)]
pub struct TensorSpec {
    pub name: String,
    pub shape: Vec<usize>,
    init: Init,
}

impl VggConfig {
    pub fn new(depth: Depth, output: OutputLayer) -> Self {
        Self {
            depth,
            output,
            width_divisor: 1,
            classifier_width: FULL_CLASSIFIER_WIDTH,
        }
    }

    /// The same topology with every conv and classifier width divided by `divisor`.
    pub fn with_width_divisor(mut self, divisor: usize) -> Self {
        self.width_divisor = divisor;
        self.classifier_width = FULL_CLASSIFIER_WIDTH / divisor.max(1);
        self
    }

    pub fn with_classifier_width(mut self, width: usize) -> Self {
        self.classifier_width = width;
        self
    }

    /// Length of one image's feature vector.
    pub fn feature_dim(&self) -> usize {
        self.classifier_width
    }

    pub fn validate(&self) -> Result<()> {
        let d = self.width_divisor;
        if d == 0 || !d.is_power_of_two() || d > 64 {
            return Err(Error::Config(format!(
                "width divisor {d}: expected a power of two from 1 to 64"
            )));
        }
        if self.classifier_width == 0 {
            return Err(Error::Config("classifier width must be positive".into()));
        }
        Ok(())
    }

    /// e.g. `vgg16 to fc6` or `vgg16 to fc6 (conv widths / 16, classifier width 24)`.
    pub fn describe(&self) -> String {
        let base = format!("{} to {}", self.depth, self.output);
        if self.width_divisor == 1 && self.classifier_width == FULL_CLASSIFIER_WIDTH {
            base
        } else {
            format!(
                "{base} (conv widths / {}, classifier width {})",
                self.width_divisor, self.classifier_width
            )
        }
    }

    /// The config [`VggConfig::describe`] wrote `text` for (its inverse), or `None`.
    pub fn from_description(text: &str) -> Option<Self> {
        let (base, reduced) = match text.split_once(" (") {
            Some((base, rest)) => (base, Some(rest.strip_suffix(')')?)),
            None => (text, None),
        };
        let (depth, output) = base.split_once(" to ")?;
        let mut config = Self::new(depth.parse().ok()?, output.parse().ok()?);
        if let Some(reduced) = reduced {
            let (divisor, width) = reduced.split_once(", classifier width ")?;
            config.width_divisor = divisor.strip_prefix("conv widths / ")?.parse().ok()?;
            config.classifier_width = width.parse().ok()?;
        }
        (config.describe() == text).then_some(config)
    }

    fn last_conv_width(&self) -> usize {
        512 / self.width_divisor
    }

    /// Every tensor the network reads, in torchvision's `state_dict` naming and order. Tensors
    /// past the output layer (fc7 for an fc6 network, the 1000-way `classifier.6`) are not needed.
    pub fn tensor_specs(&self) -> Vec<TensorSpec> {
        let mut specs = Vec::new();
        let mut in_channels = 3;
        for (index, stage) in self.depth.indexed_stages() {
            if let Stage::Conv(width) = stage {
                let out = width / self.width_divisor;
                specs.push(TensorSpec {
                    name: format!("features.{index}.weight"),
                    shape: vec![out, in_channels, 3, 3],
                    init: Init::ConvKaiming { fan_out: out * 9 },
                });
                specs.push(TensorSpec {
                    name: format!("features.{index}.bias"),
                    shape: vec![out],
                    init: Init::Zeros,
                });
                in_channels = out;
            }
        }
        let flat = self.last_conv_width() * POOLED_SIDE * POOLED_SIDE;
        let mut fc = |index: usize, inputs: usize| {
            specs.push(TensorSpec {
                name: format!("classifier.{index}.weight"),
                shape: vec![self.classifier_width, inputs],
                init: Init::LinearNormal,
            });
            specs.push(TensorSpec {
                name: format!("classifier.{index}.bias"),
                shape: vec![self.classifier_width],
                init: Init::Zeros,
            });
        };
        fc(0, flat);
        if self.output == OutputLayer::Fc7 {
            fc(3, self.classifier_width);
        }
        specs
    }
}

/// Weights drawn as torchvision initialises an untrained VGG, from `seed`. Each tensor is drawn in
/// fixed chunks from a stream derived from its name, so the result depends on the seed alone, not
/// on the thread count or on which other tensors exist.
pub fn random_weights(
    config: &VggConfig,
    seed: u64,
    device: &Device,
) -> Result<HashMap<String, Tensor>> {
    const CHUNK: usize = 1 << 16;
    config.validate()?;
    let mut tensors = HashMap::new();
    for spec in config.tensor_specs() {
        let n: usize = spec.shape.iter().product();
        let std = match spec.init {
            Init::ConvKaiming { fan_out } => (2.0 / fan_out as f64).sqrt(),
            Init::LinearNormal => 0.01,
            Init::Zeros => 0.0,
        };
        let mut values = vec![0f32; n];
        if std > 0.0 {
            values
                .par_chunks_mut(CHUNK)
                .enumerate()
                .for_each(|(chunk, out)| {
                    let mut rng =
                        SeededRng::derive(seed, &format!("vgg-init/{}/{chunk}", spec.name));
                    for v in out {
                        *v = (rng.normal() * std) as f32;
                    }
                });
        }
        let tensor = Tensor::from_vec(values, spec.shape.as_slice(), device)?;
        tensors.insert(spec.name, tensor);
    }
    Ok(tensors)
}

/// A 3×3, padding-1 convolution followed by ReLU (torchvision's `features.N` and `features.N+1`).
/// On CPU it also keeps its weights in the layout of the channels-last path ([`cpu_conv`]).
#[derive(Debug, Clone)]
pub struct ConvRelu {
    conv: Conv2d,
    nhwc: Option<Conv3x3ReluNhwc>,
}

impl ConvRelu {
    fn new(in_channels: usize, out_channels: usize, vb: VarBuilder) -> candle_core::Result<Self> {
        let cfg = Conv2dConfig {
            padding: 1,
            ..Default::default()
        };
        let on_cpu = vb.device().is_cpu();
        let conv = candle_nn::conv2d(in_channels, out_channels, 3, cfg, vb)?;
        let nhwc = match (on_cpu, conv.bias()) {
            (true, Some(bias)) => Some(Conv3x3ReluNhwc::new(conv.weight(), bias)?),
            _ => None,
        };
        Ok(Self { conv, nhwc })
    }
}

impl Module for ConvRelu {
    fn forward(&self, x: &Tensor) -> candle_core::Result<Tensor> {
        self.conv.forward(x)?.relu()
    }
}

/// 2×2 max pool, stride 2, floor mode (PyTorch's default).
#[derive(Debug, Clone, Copy)]
pub struct MaxPool;

impl Module for MaxPool {
    fn forward(&self, x: &Tensor) -> candle_core::Result<Tensor> {
        x.max_pool2d(2)
    }
}

/// `nn.AdaptiveAvgPool2d((7, 7))`: the identity for 224×224 inputs; for other sizes each output
/// cell averages input rows `floor(i·h/7) .. ceil((i+1)·h/7)` (and the same for columns), done
/// as two small matrix products.
#[derive(Debug, Clone, Copy)]
pub struct AdaptiveAvgPool {
    side: usize,
}

impl AdaptiveAvgPool {
    fn pooling_matrix(&self, input: usize, device: &Device) -> candle_core::Result<Tensor> {
        let out = self.side;
        let mut m = vec![0f32; out * input];
        for i in 0..out {
            let start = i * input / out;
            let end = ((i + 1) * input).div_ceil(out);
            let weight = 1.0 / (end - start) as f32;
            for j in start..end {
                m[i * input + j] = weight;
            }
        }
        Tensor::from_vec(m, (out, input), device)
    }
}

impl Module for AdaptiveAvgPool {
    fn forward(&self, x: &Tensor) -> candle_core::Result<Tensor> {
        let (b, c, h, w) = x.dims4()?;
        if h == self.side && w == self.side {
            return Ok(x.clone());
        }
        let rows = self.pooling_matrix(h, x.device())?; // [7, h]
        let cols = self.pooling_matrix(w, x.device())?.t()?; // [w, 7]
        let x = x.reshape((b * c * h, w))?.matmul(&cols)?; // [b·c·h, 7]
        let x = x.reshape((b * c, h, self.side))?;
        rows.broadcast_left(b * c)?
            .matmul(&x)?
            .reshape((b, c, self.side, self.side))
    }
}

/// A fully-connected layer followed by ReLU (`classifier.N` and `classifier.N+1`).
#[derive(Debug, Clone)]
pub struct LinearRelu {
    linear: Linear,
}

impl LinearRelu {
    fn new(inputs: usize, outputs: usize, vb: VarBuilder) -> candle_core::Result<Self> {
        let weight = vb.get((outputs, inputs), "weight")?;
        let bias = vb.get(outputs, "bias")?;
        Ok(Self {
            linear: Linear::new(weight, Some(bias)),
        })
    }
}

impl Module for LinearRelu {
    fn forward(&self, x: &Tensor) -> candle_core::Result<Tensor> {
        self.linear.forward(x)?.relu()
    }
}

#[derive(Debug, Clone)]
enum FeatureLayer {
    ConvRelu(ConvRelu),
    MaxPool(MaxPool),
}

impl Module for FeatureLayer {
    fn forward(&self, x: &Tensor) -> candle_core::Result<Tensor> {
        match self {
            FeatureLayer::ConvRelu(layer) => layer.forward(x),
            FeatureLayer::MaxPool(layer) => layer.forward(x),
        }
    }
}

/// A batched VGG from pixels (`[batch, 3, h, w]`, ImageNet-normalised, h, w ≥ 32) to the
/// post-ReLU activations of fc6 or fc7 (`[batch, classifier_width]`).
#[derive(Debug, Clone)]
pub struct Vgg {
    config: VggConfig,
    features: Vec<FeatureLayer>,
    avgpool: AdaptiveAvgPool,
    fc6: LinearRelu,
    fc7: Option<LinearRelu>,
}

impl Vgg {
    /// Builds the network from `vb`, which holds tensors named as in [`VggConfig::tensor_specs`].
    pub fn new(config: VggConfig, vb: VarBuilder) -> Result<Self> {
        config.validate()?;
        let mut features = Vec::new();
        let mut in_channels = 3;
        let vb_features = vb.pp("features");
        for (index, stage) in config.depth.indexed_stages() {
            match stage {
                Stage::Conv(width) => {
                    let out = width / config.width_divisor;
                    let layer = ConvRelu::new(in_channels, out, vb_features.pp(index))?;
                    features.push(FeatureLayer::ConvRelu(layer));
                    in_channels = out;
                }
                Stage::Pool => features.push(FeatureLayer::MaxPool(MaxPool)),
            }
        }
        let vb_classifier = vb.pp("classifier");
        let flat = config.last_conv_width() * POOLED_SIDE * POOLED_SIDE;
        let fc6 = LinearRelu::new(flat, config.classifier_width, vb_classifier.pp(0))?;
        let fc7 = match config.output {
            OutputLayer::Fc6 => None,
            OutputLayer::Fc7 => Some(LinearRelu::new(
                config.classifier_width,
                config.classifier_width,
                vb_classifier.pp(3),
            )?),
        };
        Ok(Self {
            config,
            features,
            avgpool: AdaptiveAvgPool { side: POOLED_SIDE },
            fc6,
            fc7,
        })
    }

    /// The network with `tensors` (from [`crate::weights::load`] or [`random_weights`]).
    pub fn from_tensors(
        config: VggConfig,
        tensors: HashMap<String, Tensor>,
        device: &Device,
    ) -> Result<Self> {
        Self::new(
            config,
            VarBuilder::from_tensors(tensors, DType::F32, device),
        )
    }

    pub fn config(&self) -> &VggConfig {
        &self.config
    }

    /// The forward pass through candle's own NCHW `conv2d` and `max_pool2d`, the path every
    /// non-CPU device takes; on CPU, [`Module::forward`] takes the faster channels-last path.
    pub fn forward_nchw(&self, x: &Tensor) -> candle_core::Result<Tensor> {
        check_input(x)?;
        let mut x = x.clone();
        for layer in &self.features {
            x = layer.forward(&x)?;
        }
        self.classify(&x)
    }

    fn features_nhwc(&self, x: &Tensor) -> candle_core::Result<Tensor> {
        let mut x = x.permute((0, 2, 3, 1))?.contiguous()?;
        for layer in &self.features {
            x = match layer {
                FeatureLayer::ConvRelu(ConvRelu {
                    nhwc: Some(conv), ..
                }) => conv.forward(&x)?,
                FeatureLayer::ConvRelu(ConvRelu { nhwc: None, .. }) => {
                    candle_core::bail!("model was built for another device than the CPU")
                }
                FeatureLayer::MaxPool(_) => cpu_conv::max_pool_2x2_nhwc(&x)?,
            };
        }
        x.permute((0, 3, 1, 2))?.contiguous()
    }

    /// Adaptive pooling, flatten in torchvision's (c, h, w) order, fc6 (and fc7).
    fn classify(&self, features: &Tensor) -> candle_core::Result<Tensor> {
        let x = self.avgpool.forward(features)?.flatten_from(1)?;
        let x = self.fc6.forward(&x)?;
        match &self.fc7 {
            Some(fc7) => fc7.forward(&x),
            None => Ok(x),
        }
    }
}

fn check_input(x: &Tensor) -> candle_core::Result<()> {
    let (_, c, h, w) = x.dims4()?;
    if c != 3 || h < MIN_INPUT_SIDE || w < MIN_INPUT_SIDE {
        candle_core::bail!(
            "VGG input must be [batch, 3, h, w] with h, w >= {MIN_INPUT_SIDE}, got {:?}",
            x.dims()
        );
    }
    Ok(())
}

impl Module for Vgg {
    fn forward(&self, x: &Tensor) -> candle_core::Result<Tensor> {
        if !x.device().is_cpu() {
            return self.forward_nchw(x);
        }
        check_input(x)?;
        let features = self.features_nhwc(x)?;
        self.classify(&features)
    }
}

/// Counts the conv layers of a torchvision VGG `state_dict`, to say which depth a file holds.
pub(crate) fn depth_of_conv_count(n_convs: usize) -> Option<Depth> {
    Depth::ALL.into_iter().find(|d| d.n_convs() == n_convs)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn descriptions_read_back_as_the_config_they_describe() {
        for config in [
            VggConfig::new(Depth::Vgg16, OutputLayer::Fc6),
            VggConfig::new(Depth::Vgg11, OutputLayer::Fc7).with_width_divisor(8),
            VggConfig::new(Depth::Vgg19, OutputLayer::Fc6)
                .with_width_divisor(16)
                .with_classifier_width(24),
        ] {
            assert_eq!(
                VggConfig::from_description(&config.describe()),
                Some(config)
            );
        }
        assert_eq!(VggConfig::from_description("resnet50 to fc6"), None);
        assert_eq!(
            VggConfig::from_description("vgg16 to fc6 (conv widths / x)"),
            None
        );
    }

    #[test]
    fn stage_indices_match_torchvision_numbering() {
        // torchvision vgg16: convs at features.0, 2, 5, 7, 10, 12, 14, 17, 19, 21, 24, 26, 28.
        let specs = VggConfig::new(Depth::Vgg16, OutputLayer::Fc6).tensor_specs();
        let convs: Vec<&str> = specs
            .iter()
            .filter(|s| s.name.starts_with("features.") && s.name.ends_with(".weight"))
            .map(|s| s.name.as_str())
            .collect();
        let expected: Vec<String> = [0, 2, 5, 7, 10, 12, 14, 17, 19, 21, 24, 26, 28]
            .iter()
            .map(|i| format!("features.{i}.weight"))
            .collect();
        assert_eq!(convs, expected);
        let fc6 = specs
            .iter()
            .find(|s| s.name == "classifier.0.weight")
            .unwrap();
        assert_eq!(fc6.shape, vec![4096, 25088]);
        assert!(!specs.iter().any(|s| s.name.starts_with("classifier.3")));
        for depth in Depth::ALL {
            let n = VggConfig::new(depth, OutputLayer::Fc7)
                .tensor_specs()
                .iter()
                .filter(|s| s.name.starts_with("features.") && s.name.ends_with(".weight"))
                .count();
            assert_eq!(depth_of_conv_count(n), Some(depth));
        }
    }

    #[test]
    fn adaptive_pool_averages_torch_windows() {
        // 3 → 7: windows [0,1) [0,1) [0,2) [1,2) [1,3) [2,3) [2,3)
        let pool = AdaptiveAvgPool { side: 7 };
        let m = pool
            .pooling_matrix(3, &Device::Cpu)
            .unwrap()
            .to_vec2::<f32>()
            .unwrap();
        assert_eq!(m[0], vec![1.0, 0.0, 0.0]);
        assert_eq!(m[2], vec![0.5, 0.5, 0.0]);
        assert_eq!(m[4], vec![0.0, 0.5, 0.5]);
        assert_eq!(m[6], vec![0.0, 0.0, 1.0]);
    }

    #[test]
    fn depth_and_layer_parse() {
        assert_eq!("16".parse::<Depth>().unwrap(), Depth::Vgg16);
        assert_eq!("VGG19".parse::<Depth>().unwrap(), Depth::Vgg19);
        assert!("17".parse::<Depth>().is_err());
        assert_eq!("fc7".parse::<OutputLayer>().unwrap(), OutputLayer::Fc7);
    }
}
