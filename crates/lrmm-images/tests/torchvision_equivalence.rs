//! Our VGG and preprocessing against torchvision's, on fixtures made by
//! `tests/fixtures/make_fixtures.py` (torch 2.15, torchvision 0.29, Pillow 13).

mod common;

use candle_core::{Device, Module, Tensor};
use common::{fixtures, flat, load_fixture, max_abs_diff, mean_abs_diff, write_items};
use lrmm_images::extract::{self, ExtractOptions, ImageFolder};
use lrmm_images::preprocess::{self, DecodeLimits};
use lrmm_images::{weights, Depth, ImageStatus, OutputLayer, Vgg, VggConfig};

/// The reduced VGG16 of the fixtures: conv widths / 16, classifier width 24.
fn vgg16_w16(layer: OutputLayer) -> Vgg {
    let config = VggConfig::new(Depth::Vgg16, layer)
        .with_width_divisor(16)
        .with_classifier_width(24);
    let tensors = weights::load(
        &fixtures().join("vgg16_w16.safetensors"),
        &config,
        &Device::Cpu,
    )
    .unwrap();
    Vgg::from_tensors(config, tensors, &Device::Cpu).unwrap()
}

#[test]
fn reduced_vgg16_matches_torchvision_fc6_and_fc7_within_1e_4() {
    let pre = load_fixture("preprocess.safetensors");
    let outputs = load_fixture("vgg_outputs.safetensors");
    let x = Tensor::stack(&[&pre["astronaut"], &pre["coffee"]], 0).unwrap();
    for (layer, key) in [
        (OutputLayer::Fc6, "vgg16_w16.fc6"),
        (OutputLayer::Fc7, "vgg16_w16.fc7"),
    ] {
        let model = vgg16_w16(layer);
        let theirs = flat(&outputs[key]);
        let scale = theirs.iter().fold(0f32, |m, v| m.max(v.abs()));
        assert!(scale > 0.5, "fixture outputs too small to test anything");
        // Both paths: channels-last (CPU) and candle's NCHW conv2d (what CUDA runs).
        for (path, ours) in [
            ("nhwc", model.forward(&x)),
            ("nchw", model.forward_nchw(&x)),
        ] {
            let err = max_abs_diff(&flat(&ours.unwrap()), &theirs);
            eprintln!("{key} ({path}): max abs error {err:.2e} (largest output {scale:.3})");
            assert!(err < 1e-4, "{key} ({path}): max abs error {err:e}");
        }
    }
}

#[test]
fn every_depth_matches_torchvision_with_adaptive_pooling() {
    // A 48×80 input leaves 1×2 after five pools, which torch's AdaptiveAvgPool2d spreads to 7×7.
    let outputs = load_fixture("vgg_outputs.safetensors");
    let x = &outputs["odd_input"];
    let cases = [
        (Depth::Vgg11, "vgg11_w64", 64, 16),
        (Depth::Vgg13, "vgg13_w64", 64, 16),
        (Depth::Vgg16, "vgg16_w16", 16, 24),
        (Depth::Vgg19, "vgg19_w64", 64, 16),
    ];
    for (depth, name, divisor, width) in cases {
        let config = VggConfig::new(depth, OutputLayer::Fc6)
            .with_width_divisor(divisor)
            .with_classifier_width(width);
        let tensors = weights::load(
            &fixtures().join(format!("{name}.safetensors")),
            &config,
            &Device::Cpu,
        )
        .unwrap();
        let model = Vgg::from_tensors(config, tensors, &Device::Cpu).unwrap();
        let ours = flat(&model.forward(x).unwrap());
        let key = if depth == Depth::Vgg16 {
            "vgg16_w16.odd_fc6".to_string()
        } else {
            format!("{name}.fc6")
        };
        let theirs = flat(&outputs[&key]);
        let err = max_abs_diff(&ours, &theirs);
        eprintln!("{key}: max abs error {err:.2e}");
        assert!(theirs.iter().any(|&v| v > 0.0), "{key}: all-zero fixture");
        assert!(err < 1e-4, "{key}: max abs error {err:e}");
    }
}

#[test]
fn png_preprocessing_equals_torchvision_exactly() {
    // Lossless input: the same pixels reach both resizers, and ours does Pillow's integer
    // arithmetic, so the normalised tensors agree to the last bit.
    let expected = flat(&load_fixture("preprocess.safetensors")["astronaut"]);
    let ours =
        preprocess::load(&fixtures().join("astronaut.png"), DecodeLimits::default()).unwrap();
    let err = max_abs_diff(&ours, &expected);
    eprintln!("astronaut.png (384x288 → 341x256, crop at x=58): max abs error {err:e}");
    assert_eq!(err, 0.0);
}

#[test]
fn jpeg_preprocessing_is_within_decoder_differences() {
    // JPEG adds the decoder's differences (zune-jpeg against Pillow's libjpeg-turbo): a few
    // 8-bit levels at most, one level being 1/255/0.225 ≈ 0.017 after normalisation.
    let expected = flat(&load_fixture("preprocess.safetensors")["coffee"]);
    let ours = preprocess::load(&fixtures().join("coffee.jpg"), DecodeLimits::default()).unwrap();
    let max = max_abs_diff(&ours, &expected);
    let mean = mean_abs_diff(&ours, &expected);
    eprintln!("coffee.jpg (150x100 → 384x256): max abs error {max:.4}, mean abs error {mean:.5}");
    assert!(max < 0.1, "max abs error {max}");
    assert!(mean < 0.01, "mean abs error {mean}");
}

#[test]
fn whole_stage_on_photo_files_reproduces_torchvision_features() {
    let dir = tempfile::tempdir().unwrap();
    let images = dir.path().join("images");
    std::fs::create_dir(&images).unwrap();
    std::fs::copy(
        fixtures().join("astronaut.png"),
        images.join("B000ASTRO1.png"),
    )
    .unwrap();
    std::fs::copy(fixtures().join("coffee.jpg"), images.join("B000COFFEE.jpg")).unwrap();
    let items_path = dir.path().join("items.parquet");
    write_items(
        &items_path,
        &[(0, "B000COFFEE"), (1, "B000NOIMG0"), (2, "B000ASTRO1")],
    );

    let items = extract::read_items(&items_path).unwrap();
    let folder = ImageFolder::scan(&images).unwrap();
    let options = ExtractOptions {
        batch_size: 1,
        ..Default::default()
    };
    let model = vgg16_w16(OutputLayer::Fc6);
    let (features, statuses) =
        extract::extract(&model, &Device::Cpu, &items, &folder, &options).unwrap();
    let status: Vec<_> = statuses.iter().map(|s| (s.item_id, s.status)).collect();
    assert_eq!(
        status,
        vec![
            (0, ImageStatus::Ok),
            (1, ImageStatus::Missing),
            (2, ImageStatus::Ok)
        ]
    );
    assert_eq!(features.item_ids, vec![0, 2]);

    let expected = flat(&load_fixture("vgg_outputs.safetensors")["vgg16_w16.fc6"]);
    // Fixture rows: astronaut, coffee. Feature rows: item 0 (coffee), item 2 (astronaut).
    let astronaut_err = max_abs_diff(features.row(1), &expected[..24]);
    let coffee_err = max_abs_diff(features.row(0), &expected[24..48]);
    eprintln!(
        "files → fc6: astronaut.png max abs error {astronaut_err:.2e}, coffee.jpg {coffee_err:.2e}"
    );
    assert!(astronaut_err < 1e-4);
    assert!(coffee_err < 0.05, "coffee.jpg fc6 error {coffee_err}");
}
