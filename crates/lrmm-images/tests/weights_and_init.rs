//! Loading torchvision weights: wrong files fail naming the tensor; without a file the seeded
//! random initialisation is reproducible and follows torchvision's scheme.

mod common;

use std::collections::HashMap;

use candle_core::{DType, Device, Module, Tensor};
use common::{fixtures, flat, load_fixture, max_abs_diff};
use lrmm_images::{vgg, weights, Depth, Error, OutputLayer, Vgg, VggConfig};

fn w16_config(layer: OutputLayer) -> VggConfig {
    VggConfig::new(Depth::Vgg16, layer)
        .with_width_divisor(16)
        .with_classifier_width(24)
}

fn load_err(tensors: &HashMap<String, Tensor>, config: &VggConfig) -> String {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bad.safetensors");
    candle_core::safetensors::save(tensors, &path).unwrap();
    let err = weights::load(&path, config, &Device::Cpu).unwrap_err();
    assert!(matches!(err, Error::Weights { .. }), "{err}");
    let message = err.to_string();
    assert!(
        message.contains("bad.safetensors"),
        "the error must name the file: {message}"
    );
    message
}

#[test]
fn missing_and_misshaped_tensors_are_all_named() {
    let mut tensors = load_fixture("vgg16_w16.safetensors");
    tensors.remove("features.28.weight");
    tensors.insert(
        "classifier.0.weight".into(),
        Tensor::zeros((24, 100), DType::F32, &Device::Cpu).unwrap(),
    );
    let message = load_err(&tensors, &w16_config(OutputLayer::Fc6));
    eprintln!("{message}");
    assert!(
        message.contains("missing tensor `features.28.weight` (expected shape [32, 32, 3, 3])"),
        "{message}"
    );
    assert!(
        message.contains("tensor `classifier.0.weight` has shape [24, 100], expected [24, 1568]"),
        "{message}"
    );
    assert!(
        !message.contains("features.26"),
        "only the broken tensors are listed: {message}"
    );
}

#[test]
fn fc7_is_required_only_for_fc7_output() {
    let mut tensors = load_fixture("vgg16_w16.safetensors");
    tensors.remove("classifier.3.weight");
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("no_fc7.safetensors");
    candle_core::safetensors::save(&tensors, &path).unwrap();
    assert!(weights::load(&path, &w16_config(OutputLayer::Fc6), &Device::Cpu).is_ok());
    let message = weights::load(&path, &w16_config(OutputLayer::Fc7), &Device::Cpu)
        .unwrap_err()
        .to_string();
    assert!(
        message.contains("missing tensor `classifier.3.weight`"),
        "{message}"
    );
}

#[test]
fn another_depth_gets_a_hint() {
    let tensors = load_fixture("vgg11_w64.safetensors");
    let config = VggConfig::new(Depth::Vgg16, OutputLayer::Fc6)
        .with_width_divisor(64)
        .with_classifier_width(16);
    let message = load_err(&tensors, &config);
    assert!(message.contains("pass --depth vgg11"), "{message}");
}

#[test]
fn files_that_are_not_safetensors_fail_with_the_path() {
    let dir = tempfile::tempdir().unwrap();
    let text = dir.path().join("weights.txt");
    std::fs::write(&text, "not weights at all, just text").unwrap();
    let err = weights::load(&text, &w16_config(OutputLayer::Fc6), &Device::Cpu).unwrap_err();
    assert!(err.to_string().contains("weights.txt"), "{err}");

    let truncated = dir.path().join("cut.safetensors");
    let bytes = std::fs::read(fixtures().join("vgg16_w16.safetensors")).unwrap();
    std::fs::write(&truncated, &bytes[..bytes.len() - 1000]).unwrap();
    let err = weights::load(&truncated, &w16_config(OutputLayer::Fc6), &Device::Cpu).unwrap_err();
    assert!(
        err.to_string().contains("cut.safetensors") && err.to_string().contains("truncated"),
        "{err}"
    );
}

#[test]
fn half_precision_files_load() {
    let tensors: HashMap<String, Tensor> = load_fixture("vgg16_w16.safetensors")
        .into_iter()
        .map(|(k, v)| (k, v.to_dtype(DType::F16).unwrap()))
        .collect();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("f16.safetensors");
    candle_core::safetensors::save(&tensors, &path).unwrap();
    let config = w16_config(OutputLayer::Fc6);
    let model = Vgg::from_tensors(
        config,
        weights::load(&path, &config, &Device::Cpu).unwrap(),
        &Device::Cpu,
    )
    .unwrap();
    let pre = load_fixture("preprocess.safetensors");
    let y = flat(
        &model
            .forward(&pre["astronaut"].unsqueeze(0).unwrap())
            .unwrap(),
    );
    let expected = flat(&load_fixture("vgg_outputs.safetensors")["vgg16_w16.fc6"]);
    let err = max_abs_diff(&y, &expected[..24]);
    assert!(err < 0.05, "f16 weights: max abs error {err}");
}

#[test]
fn random_init_is_seeded_and_follows_torchvision() {
    let config = VggConfig::new(Depth::Vgg16, OutputLayer::Fc7).with_width_divisor(4);
    let a = vgg::random_weights(&config, 7, &Device::Cpu).unwrap();
    let b = vgg::random_weights(&config, 7, &Device::Cpu).unwrap();
    let c = vgg::random_weights(&config, 8, &Device::Cpu).unwrap();
    assert_eq!(a.len(), config.tensor_specs().len());
    for (name, t) in &a {
        assert_eq!(
            flat(t),
            flat(&b[name]),
            "{name} differs between runs with one seed"
        );
    }
    assert_ne!(flat(&a["features.0.weight"]), flat(&c["features.0.weight"]));

    let std = |t: &Tensor| {
        let v = flat(t);
        let mean = v.iter().map(|&x| f64::from(x)).sum::<f64>() / v.len() as f64;
        (v.iter()
            .map(|&x| (f64::from(x) - mean).powi(2))
            .sum::<f64>()
            / v.len() as f64)
            .sqrt()
    };
    // Kaiming normal, fan-out, ReLU gain: features.28 has 128 outputs · 3 · 3.
    let conv = std(&a["features.28.weight"]);
    let want = (2.0f64 / (128.0 * 9.0)).sqrt();
    assert!(
        (conv / want - 1.0).abs() < 0.02,
        "conv std {conv}, want {want}"
    );
    let fc = std(&a["classifier.3.weight"]);
    assert!((fc / 0.01 - 1.0).abs() < 0.02, "linear std {fc}");
    assert!(flat(&a["classifier.0.bias"]).iter().all(|&v| v == 0.0));

    // The first tensors' values do not depend on which later tensors exist.
    let fc6_only = vgg::random_weights(&config_fc6(&config), 7, &Device::Cpu).unwrap();
    assert_eq!(
        flat(&fc6_only["classifier.0.weight"]),
        flat(&a["classifier.0.weight"])
    );
}

fn config_fc6(config: &VggConfig) -> VggConfig {
    VggConfig {
        output: OutputLayer::Fc6,
        ..*config
    }
}
