//! Hostile and unusual image files: each becomes an `ok` or a counted `corrupt` status (a missing
//! modality), never a crash. The files are made here, at run time, except the CMYK JPEG, which
//! the `image` crate cannot write (it comes from the fixtures, made by Pillow).

mod common;

use std::collections::HashMap;
use std::fs::File;
use std::io::BufWriter;
use std::path::Path;

use candle_core::Device;
use common::{fixtures, write_items};
use image::codecs::gif::{GifEncoder, Repeat};
use image::codecs::png::{CompressionType, FilterType, PngEncoder};
use image::{Delay, Frame, ImageBuffer, ImageEncoder, Rgb, RgbImage, Rgba, RgbaImage};
use lrmm_core::ArtifactDir;
use lrmm_images::extract::{self, ExtractOptions, ImageFolder};
use lrmm_images::preprocess::DecodeLimits;
use lrmm_images::{
    artifact, vgg, Depth, Features, ImageStatus, OutputLayer, StatusRow, Vgg, VggConfig,
};

fn tiny_model() -> Vgg {
    let config = VggConfig::new(Depth::Vgg11, OutputLayer::Fc6).with_width_divisor(64);
    let tensors = vgg::random_weights(&config, 3, &Device::Cpu).unwrap();
    Vgg::from_tensors(config, tensors, &Device::Cpu).unwrap()
}

fn noise(width: u32, height: u32) -> RgbImage {
    RgbImage::from_fn(width, height, |x, y| {
        let v = (x.wrapping_mul(2_654_435_761) ^ y.wrapping_mul(40_503)) >> 7;
        Rgb([v as u8, (v >> 8) as u8, (v >> 16) as u8])
    })
}

fn save_png_fast(image: &RgbImage, path: &Path) {
    let file = BufWriter::new(File::create(path).unwrap());
    PngEncoder::new_with_quality(file, CompressionType::Fast, FilterType::NoFilter)
        .write_image(
            image.as_raw(),
            image.width(),
            image.height(),
            image::ExtendedColorType::Rgb8,
        )
        .unwrap();
}

/// Writes every case into `dir` and returns (asin, what we expect) pairs.
fn make_cases(dir: &Path) -> Vec<(&'static str, ImageStatus)> {
    let jpeg_path = dir.join("FULLJPEG01.jpg");
    noise(64, 48).save(&jpeg_path).unwrap();
    let jpeg = std::fs::read(&jpeg_path).unwrap();
    std::fs::write(dir.join("TRUNCJPEG1.jpg"), &jpeg[..jpeg.len() / 2]).unwrap();
    let png_path = dir.join("FULLPNG001.png");
    noise(64, 48).save(&png_path).unwrap();
    let png = std::fs::read(&png_path).unwrap();
    std::fs::write(dir.join("TRUNCPNG01.png"), &png[..png.len() / 2]).unwrap();
    std::fs::write(dir.join("HEADERONLY.jpg"), &jpeg[..40]).unwrap();
    std::fs::write(dir.join("ZEROBYTES1.jpg"), b"").unwrap();
    std::fs::write(dir.join("TEXTASJPG1.jpg"), b"<html>404 Not Found</html>\n").unwrap();
    RgbImage::from_pixel(1, 1, Rgb([200, 10, 30]))
        .save(dir.join("ONEBYONE01.png"))
        .unwrap();
    save_png_fast(
        &RgbImage::from_fn(10_000, 10_000, |x, y| {
            Rgb([(x / 40) as u8, (y / 40) as u8, 90])
        }),
        &dir.join("HUGE100000.png"),
    );
    std::fs::copy(fixtures().join("cmyk.jpg"), dir.join("CMYKJPEG01.jpg")).unwrap();
    let deep: ImageBuffer<Rgb<u16>, Vec<u16>> = ImageBuffer::from_fn(40, 30, |x, y| {
        Rgb([(x * 1600) as u16, (y * 2100) as u16, 65_535])
    });
    deep.save(dir.join("SIXTEENBIT.png")).unwrap();
    // Two solid frames: the stage must take the first (red), as Pillow does.
    let frames = [Rgba([255, 0, 0, 255]), Rgba([0, 0, 255, 255])].map(|c| {
        Frame::from_parts(
            RgbaImage::from_pixel(50, 40, c),
            0,
            0,
            Delay::from_numer_denom_ms(100, 1),
        )
    });
    let mut gif = GifEncoder::new(File::create(dir.join("ANIMATED01.gif")).unwrap());
    gif.set_repeat(Repeat::Infinite).unwrap();
    gif.encode_frames(frames).unwrap();
    drop(gif);
    RgbImage::from_pixel(50, 40, Rgb([255, 0, 0]))
        .save(dir.join("REDFRAME01.png"))
        .unwrap();
    noise(30, 20).save(dir.join("WEBPLOSSLS.webp")).unwrap();
    std::fs::copy(fixtures().join("chelsea.webp"), dir.join("CHELSEAWEB.webp")).unwrap();
    // Content decides the format, not the name.
    std::fs::copy(dir.join("ONEBYONE01.png"), dir.join("PNGNAMEDJP.jpg")).unwrap();
    std::fs::copy(dir.join("ONEBYONE01.png"), dir.join("NOEXTENSIO")).unwrap();
    // Each case names the status it must get.
    vec![
        ("FULLJPEG01", ImageStatus::Ok),
        ("TRUNCJPEG1", ImageStatus::Corrupt),
        ("FULLPNG001", ImageStatus::Ok),
        ("TRUNCPNG01", ImageStatus::Corrupt),
        ("HEADERONLY", ImageStatus::Corrupt),
        ("ZEROBYTES1", ImageStatus::Corrupt),
        ("TEXTASJPG1", ImageStatus::Corrupt),
        ("ONEBYONE01", ImageStatus::Ok),
        ("HUGE100000", ImageStatus::Ok),
        ("CMYKJPEG01", ImageStatus::Ok),
        ("SIXTEENBIT", ImageStatus::Ok),
        ("ANIMATED01", ImageStatus::Ok),
        ("REDFRAME01", ImageStatus::Ok),
        ("WEBPLOSSLS", ImageStatus::Ok),
        ("CHELSEAWEB", ImageStatus::Ok),
        ("PNGNAMEDJP", ImageStatus::Ok),
        ("NOEXTENSIO", ImageStatus::Ok),
        ("NOFILEHERE", ImageStatus::Missing),
    ]
}

#[test]
fn every_bad_input_is_ok_or_a_counted_corrupt_status() {
    let dir = tempfile::tempdir().unwrap();
    let images = dir.path().join("images");
    std::fs::create_dir(&images).unwrap();
    let cases = make_cases(&images);
    let items: Vec<(u32, &str)> = cases
        .iter()
        .enumerate()
        .map(|(i, c)| (i as u32, c.0))
        .collect();
    let out = ArtifactDir::new(dir.path().join("build"));
    out.create().unwrap();
    write_items(&out.items(), &items);

    let items = extract::read_items(&out.items()).unwrap();
    let folder = ImageFolder::scan(&images).unwrap();
    let options = ExtractOptions {
        batch_size: 4,
        decode_threads: 2,
        ..Default::default()
    };
    let model = tiny_model();
    let (features, statuses) =
        extract::extract(&model, &Device::Cpu, &items, &folder, &options).unwrap();
    lrmm_images::write_artifacts(&out, &features, &statuses, Default::default()).unwrap();

    let by_asin: HashMap<&str, &StatusRow> = cases.iter().map(|c| c.0).zip(&statuses).collect();
    for (asin, expected) in &cases {
        let row = by_asin[asin];
        eprintln!(
            "{asin}: {} {}",
            row.status.as_str(),
            row.error.as_deref().unwrap_or("")
        );
        assert_eq!(row.status, *expected, "{asin}: {:?}", row.error);
        match row.status {
            ImageStatus::Ok => assert!(row.error.is_none()),
            // The error names the file, so a user can go and look at it.
            ImageStatus::Corrupt => assert!(
                row.error.as_deref().unwrap().contains(asin),
                "{asin}: {:?}",
                row.error
            ),
            ImageStatus::Missing => assert!(row.error.is_some()),
        }
    }

    // One feature row per ok item, finite, and the animated GIF is its first frame.
    let ok: Vec<u32> = statuses
        .iter()
        .filter(|s| s.status == ImageStatus::Ok)
        .map(|s| s.item_id)
        .collect();
    assert_eq!(features.item_ids, ok);
    assert!(features.values.iter().all(|v| v.is_finite()));
    let row_of = |asin: &str| {
        let id = cases.iter().position(|c| c.0 == asin).unwrap() as u32;
        features
            .row(features.item_ids.iter().position(|&i| i == id).unwrap())
            .to_vec()
    };
    assert_eq!(row_of("ANIMATED01"), row_of("REDFRAME01"));

    // The artifacts on disk say the same, counts included.
    let (read_back, metadata) = Features::read(&out.image_features()).unwrap();
    assert_eq!(read_back, features);
    assert_eq!(
        artifact::read_status(&out.image_status()).unwrap(),
        statuses
    );
    let corrupt = statuses
        .iter()
        .filter(|s| s.status == ImageStatus::Corrupt)
        .count();
    assert_eq!(metadata["n_corrupt"], corrupt.to_string());
    assert_eq!(metadata["n_missing"], "1");
}

#[test]
fn images_over_the_limits_are_corrupt_not_decoded() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("WIDE.png");
    save_png_fast(&noise(3000, 20), &path);
    let bytes = std::fs::read(&path).unwrap();
    let by_side = DecodeLimits {
        max_side: 2048,
        ..Default::default()
    };
    let err = lrmm_images::preprocess::decode(&bytes, by_side).unwrap_err();
    assert!(err.to_lowercase().contains("limit"), "{err}");
    let by_memory = DecodeLimits {
        max_alloc_bytes: 100_000,
        ..Default::default()
    };
    let err = lrmm_images::preprocess::decode(&bytes, by_memory).unwrap_err();
    assert!(err.to_lowercase().contains("limit"), "{err}");
    assert!(lrmm_images::preprocess::decode(&bytes, DecodeLimits::default()).is_ok());
}
