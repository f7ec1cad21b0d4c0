//! Product photos: a coloured product on a near-white background. The product's hue is its
//! genre's (± a few degrees); its brightness rises and its grain falls with item quality.

use image::codecs::jpeg::JpegEncoder;
use image::codecs::png::PngEncoder;
use image::{ExtendedColorType, ImageEncoder, Rgb, RgbImage};
use lrmm_core::SeededRng;

use crate::lexicon::GENRES;
use crate::world::{Item, RATING_MODEL};

const JPEG_QUALITY: u8 = 90;

/// Value (HSV brightness) of the product's colour for a standardised quality `z`.
pub fn planted_brightness(z: f64) -> f64 {
    (0.62 + 0.15 * z).clamp(0.3, 0.95)
}

/// Amplitude of the per-pixel grain (0–255 scale) for a standardised quality `z`.
pub fn planted_grain(z: f64) -> f64 {
    6.0 + 30.0 / (1.0 + (1.5 * z).exp())
}

/// HSV (hue in degrees, s and v in 0..=1) to RGB in 0..=1.
pub fn hsv_to_rgb(hue: f64, saturation: f64, value: f64) -> [f64; 3] {
    let h = hue.rem_euclid(360.0) / 60.0;
    let c = value * saturation;
    let x = c * (1.0 - (h % 2.0 - 1.0).abs());
    let m = value - c;
    let (r, g, b) = match h as u32 {
        0 => (c, x, 0.0),
        1 => (x, c, 0.0),
        2 => (0.0, c, x),
        3 => (0.0, x, c),
        4 => (x, 0.0, c),
        _ => (c, 0.0, x),
    };
    [r + m, g + m, b + m]
}

/// RGB in 0..=1 to HSV (hue in degrees).
pub fn rgb_to_hsv(rgb: [f64; 3]) -> (f64, f64, f64) {
    let [r, g, b] = rgb;
    let max = r.max(g).max(b);
    let min = r.min(g).min(b);
    let delta = max - min;
    let hue = if delta == 0.0 {
        0.0
    } else if max == r {
        60.0 * ((g - b) / delta).rem_euclid(6.0)
    } else if max == g {
        60.0 * ((b - r) / delta + 2.0)
    } else {
        60.0 * ((r - g) / delta + 4.0)
    };
    let saturation = if max == 0.0 { 0.0 } else { delta / max };
    (hue, saturation, max)
}

/// Draws the item's photo, `size`×`size` RGB.
pub fn render(item: &Item, size: u32, seed: u64) -> RgbImage {
    let mut rng = SeededRng::derive(seed, &format!("datagen/image/{}", item.asin));
    let z = item.quality / RATING_MODEL.quality_sd;
    let hue = GENRES[item.genre].hue_degrees + 8.0 * rng.normal();
    let saturation = 0.6 + 0.2 * rng.next_f64();
    // Lighting varies from photo to photo, so brightness hints at quality without giving it away.
    let value = (planted_brightness(z) + 0.05 * rng.normal()).clamp(0.2, 1.0);
    let colour = hsv_to_rgb(hue, saturation, value);
    let grain = planted_grain(z);
    let background = 238.0 + 14.0 * rng.next_f64();

    let s = f64::from(size);
    let centre = [
        s * (0.5 + 0.08 * (rng.next_f64() - 0.5)),
        s * (0.5 + 0.08 * (rng.next_f64() - 0.5)),
    ];
    let half = [
        s * (0.22 + 0.14 * rng.next_f64()),
        s * (0.22 + 0.14 * rng.next_f64()),
    ];
    let ellipse = rng.bernoulli(0.5);

    RgbImage::from_fn(size, size, |x, y| {
        let dx = (f64::from(x) + 0.5 - centre[0]) / half[0];
        let dy = (f64::from(y) + 0.5 - centre[1]) / half[1];
        let inside = if ellipse {
            dx * dx + dy * dy <= 1.0
        } else {
            dx.abs() <= 1.0 && dy.abs() <= 1.0
        };
        if inside {
            // A soft highlight towards the top left, as under a studio light.
            let shade = 1.0 + 0.12 * (-(dx + dy) / 2.0).clamp(-1.0, 1.0);
            let noise = grain * (rng.next_f64() * 2.0 - 1.0);
            Rgb(colour.map(|c| (c * 255.0 * shade + noise).round().clamp(0.0, 255.0) as u8))
        } else {
            let level = (background + 3.0 * (rng.next_f64() * 2.0 - 1.0))
                .round()
                .clamp(0.0, 255.0) as u8;
            Rgb([level; 3])
        }
    })
}

pub fn encode_jpeg(image: &RgbImage) -> Result<Vec<u8>, image::ImageError> {
    let mut bytes = Vec::new();
    JpegEncoder::new_with_quality(&mut bytes, JPEG_QUALITY).encode(
        image.as_raw(),
        image.width(),
        image.height(),
        ExtendedColorType::Rgb8,
    )?;
    Ok(bytes)
}

pub fn encode_png(image: &RgbImage) -> Result<Vec<u8>, image::ImageError> {
    let mut bytes = Vec::new();
    PngEncoder::new(&mut bytes).write_image(
        image.as_raw(),
        image.width(),
        image.height(),
        ExtendedColorType::Rgb8,
    )?;
    Ok(bytes)
}

/// A JPEG cut off halfway through its header tables, as a failed download leaves it: it starts
/// like a JPEG, but no decoder, however lenient, gets a pixel out of it.
pub fn truncate_jpeg(jpeg: &[u8]) -> Vec<u8> {
    let start_of_scan = jpeg
        .windows(2)
        .position(|w| w == [0xFF, 0xDA])
        .unwrap_or(jpeg.len());
    jpeg[..(start_of_scan / 2).max(4).min(jpeg.len())].to_vec()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hsv_round_trip() {
        for hue in [0.0, 30.0, 60.0, 150.0, 240.0, 300.0, 359.0] {
            let (h, s, v) = rgb_to_hsv(hsv_to_rgb(hue, 0.7, 0.6));
            assert!(
                (h - hue).abs() < 1e-9 && (s - 0.7).abs() < 1e-9 && (v - 0.6).abs() < 1e-9,
                "{hue} -> {h} {s} {v}"
            );
        }
    }

    #[test]
    fn better_items_are_brighter_and_smoother() {
        assert!(planted_brightness(1.0) > planted_brightness(0.0));
        assert!(planted_brightness(0.0) > planted_brightness(-1.0));
        assert!(planted_grain(1.0) < planted_grain(-1.0));
    }

    #[test]
    fn truncated_jpeg_keeps_its_signature_and_does_not_decode() {
        let image = RgbImage::from_pixel(32, 32, Rgb([200, 30, 30]));
        let jpeg = encode_jpeg(&image).unwrap();
        assert!(image::load_from_memory(&jpeg).is_ok());
        let cut = truncate_jpeg(&jpeg);
        assert!(cut.len() < jpeg.len() / 2);
        assert_eq!(&cut[..2], &[0xFF, 0xD8]);
        assert!(image::load_from_memory_with_format(&cut, image::ImageFormat::Jpeg).is_err());
    }
}
