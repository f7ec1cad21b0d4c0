//! torchvision's ImageNet evaluation transform, reproduced to the bit on 8-bit RGB pixels:
//!
//! ```python
//! Compose([Resize(256), CenterCrop(224), ToTensor(), Normalize(IMAGENET_MEAN, IMAGENET_STD)])
//! ```
//!
//! applied to `PIL.Image.open(path).convert("RGB")`. `Resize` on a PIL image is Pillow's
//! antialiased bilinear resample (a triangle filter stretched by the shrink factor), computed in
//! 22-bit fixed point with a rounding to 8 bits after the horizontal and again after the
//! vertical pass; this module does the same integer arithmetic, so for losslessly stored images
//! the output equals torchvision's. Only the 224×224 window that survives the crop is computed.
//! JPEG files still differ by the decoder (`image`/zune-jpeg against Pillow's libjpeg-turbo).

use std::io::Cursor;
use std::ops::Range;
use std::path::Path;

use image::{ImageFormat, ImageReader, Limits, RgbImage};

/// Shorter side after `Resize(256)`.
pub const RESIZE_SHORTER: usize = 256;
/// Side of `CenterCrop(224)`, the network's input.
pub const CROP: usize = 224;
/// Values of one preprocessed image: `[3, 224, 224]`, channel-major.
pub const PIXELS_PER_IMAGE: usize = 3 * CROP * CROP;
pub const IMAGENET_MEAN: [f32; 3] = [0.485, 0.456, 0.406];
pub const IMAGENET_STD: [f32; 3] = [0.229, 0.224, 0.225];

/// Pillow's `PRECISION_BITS` for 8-bit resampling.
const PRECISION_BITS: u32 = 32 - 8 - 2;

/// Guards against decompression bombs: images larger than this are `corrupt`, never decoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DecodeLimits {
    /// Largest accepted width or height in pixels.
    pub max_side: u32,
    /// Largest buffer the decoder may allocate, in bytes.
    pub max_alloc_bytes: u64,
}

impl Default for DecodeLimits {
    /// 20,000 pixels a side and 512 MiB (the `image` crate's own allocation default): a
    /// 10,000×10,000 RGB photo (300 MB) decodes, a forged 60,000×60,000 header does not.
    fn default() -> Self {
        Self {
            max_side: 20_000,
            max_alloc_bytes: 512 << 20,
        }
    }
}

/// Decodes JPEG, PNG, WebP or GIF (first frame of an animation) to 8-bit RGB. The format is
/// sniffed from the bytes, so a file's extension does not matter. Alpha is dropped and 16-bit
/// or CMYK images are converted, as Pillow's `convert("RGB")` does.
pub fn decode(bytes: &[u8], limits: DecodeLimits) -> Result<RgbImage, String> {
    if bytes.is_empty() {
        return Err("empty file".into());
    }
    let mut reader = ImageReader::new(Cursor::new(bytes))
        .with_guessed_format()
        .map_err(|e| e.to_string())?;
    match reader.format() {
        Some(ImageFormat::Jpeg | ImageFormat::Png | ImageFormat::WebP | ImageFormat::Gif) => {}
        Some(other) => return Err(format!("unsupported image format {other:?}")),
        None => return Err("not a JPEG, PNG, WebP or GIF image".into()),
    }
    if reader.format() == Some(ImageFormat::Jpeg) && !jpeg_is_complete(bytes) {
        // The decoder would fill the missing rows with grey and call it a success; Pillow
        // refuses such files ("image file is truncated"), and so do we.
        return Err("truncated JPEG: no end-of-image marker after the last scan".into());
    }
    let mut image_limits = Limits::default();
    image_limits.max_image_width = Some(limits.max_side);
    image_limits.max_image_height = Some(limits.max_side);
    image_limits.max_alloc = Some(limits.max_alloc_bytes);
    reader.limits(image_limits);
    let image = reader.decode().map_err(|e| e.to_string())?;
    if image.width() == 0 || image.height() == 0 {
        return Err(format!(
            "image has no pixels ({}x{})",
            image.width(),
            image.height()
        ));
    }
    Ok(image.into_rgb8())
}

/// Whether an end-of-image marker (FF D9) follows the last start-of-scan marker (FF DA). Neither
/// can occur inside entropy-coded data (an FF there is always followed by 00 or a restart
/// marker), so a file cut inside its last scan has none; files without a scan are left to the
/// decoder to reject.
fn jpeg_is_complete(bytes: &[u8]) -> bool {
    match bytes.windows(2).rposition(|w| w == [0xFF, 0xDA]) {
        Some(sos) => bytes[sos..].windows(2).any(|w| w == [0xFF, 0xD9]),
        None => true,
    }
}

/// Reads, decodes and preprocesses one image file.
pub fn load(path: &Path, limits: DecodeLimits) -> Result<Vec<f32>, String> {
    let bytes = std::fs::read(path).map_err(|e| e.to_string())?;
    decode(&bytes, limits).map(|rgb| preprocess(&rgb))
}

/// torchvision's `Resize(256)` output size for a `width`×`height` image: the shorter side
/// becomes 256, the longer `int(256 * long / short)`.
pub fn resized_size(width: usize, height: usize) -> (usize, usize) {
    let (short, long) = if width <= height {
        (width, height)
    } else {
        (height, width)
    };
    let new_long = ((RESIZE_SHORTER * long) as f64 / short as f64) as usize;
    if width <= height {
        (RESIZE_SHORTER, new_long)
    } else {
        (new_long, RESIZE_SHORTER)
    }
}

/// torchvision's `CenterCrop` offset: `int(round((size - crop) / 2))`, and Python rounds half
/// to even (a margin of 117 starts the crop at 58, not 59).
fn crop_start(size: usize) -> usize {
    ((size - CROP) as f64 / 2.0).round_ties_even() as usize
}

/// The normalised `[3, 224, 224]` network input of an RGB image.
pub fn preprocess(rgb: &RgbImage) -> Vec<f32> {
    let cropped = resize_and_crop(rgb);
    let mut out = vec![0f32; PIXELS_PER_IMAGE];
    for (i, pixel) in cropped.chunks_exact(3).enumerate() {
        for c in 0..3 {
            // ToTensor divides by 255 and Normalize subtracts then divides, all in f32.
            out[c * CROP * CROP + i] =
                (f32::from(pixel[c]) / 255.0 - IMAGENET_MEAN[c]) / IMAGENET_STD[c];
        }
    }
    out
}

/// The 224×224 RGB window (row-major, interleaved) of the image resized to [`resized_size`].
pub fn resize_and_crop(rgb: &RgbImage) -> Vec<u8> {
    let (in_w, in_h) = (rgb.width() as usize, rgb.height() as usize);
    let (out_w, out_h) = resized_size(in_w, in_h);
    let (left, top) = (crop_start(out_w), crop_start(out_h));
    let src = rgb.as_raw();

    let vertical = Resample::new(in_h, out_h, top..top + CROP);
    let rows = if out_h == in_h {
        top..top + CROP
    } else {
        vertical.source_span()
    };

    // Horizontal pass over the source rows the vertical pass reads, only the crop's columns.
    let row_len = CROP * 3;
    let mut tmp = vec![0u8; rows.len() * row_len];
    if out_w == in_w {
        for (t, y) in rows.clone().enumerate() {
            let start = (y * in_w + left) * 3;
            tmp[t * row_len..(t + 1) * row_len].copy_from_slice(&src[start..start + row_len]);
        }
    } else {
        let horizontal = Resample::new(in_w, out_w, left..left + CROP);
        for (t, y) in rows.clone().enumerate() {
            let src_row = &src[y * in_w * 3..(y + 1) * in_w * 3];
            let dst_row = &mut tmp[t * row_len..(t + 1) * row_len];
            for (xx, dst) in dst_row.chunks_exact_mut(3).enumerate() {
                let (first, weights) = horizontal.taps(xx);
                let mut acc = [1i64 << (PRECISION_BITS - 1); 3];
                for (x, &w) in weights.iter().enumerate() {
                    let p = &src_row[(first + x) * 3..(first + x) * 3 + 3];
                    for c in 0..3 {
                        acc[c] += i64::from(p[c]) * i64::from(w);
                    }
                }
                for c in 0..3 {
                    dst[c] = clip8(acc[c]);
                }
            }
        }
    }
    if out_h == in_h {
        return tmp;
    }

    let mut out = vec![0u8; CROP * row_len];
    let base = rows.start;
    for yy in 0..CROP {
        let (first, weights) = vertical.taps(yy);
        let dst_row = &mut out[yy * row_len..(yy + 1) * row_len];
        for (i, dst) in dst_row.iter_mut().enumerate() {
            let mut acc = 1i64 << (PRECISION_BITS - 1);
            for (y, &w) in weights.iter().enumerate() {
                acc += i64::from(tmp[(first + y - base) * row_len + i]) * i64::from(w);
            }
            *dst = clip8(acc);
        }
    }
    out
}

fn clip8(acc: i64) -> u8 {
    (acc >> PRECISION_BITS).clamp(0, 255) as u8
}

/// Pillow's `precompute_coeffs` + `normalize_coeffs_8bpc` for the bilinear filter along one
/// axis, for the output positions in `outputs` only.
#[derive(Debug)]
struct Resample {
    /// (first source index, number of taps) per output position.
    bounds: Vec<(usize, usize)>,
    /// Fixed-point weights, `ksize` per output position.
    weights: Vec<i32>,
    ksize: usize,
}

impl Resample {
    fn new(in_size: usize, out_size: usize, outputs: Range<usize>) -> Self {
        let scale = in_size as f64 / out_size as f64;
        let filterscale = scale.max(1.0);
        let support = filterscale; // the bilinear filter's support is 1
        let ksize = support.ceil() as usize * 2 + 1;
        let mut bounds = Vec::with_capacity(outputs.len());
        let mut weights = vec![0i32; outputs.len() * ksize];
        let mut k = vec![0f64; ksize];
        for (o, xx) in outputs.enumerate() {
            let center = (xx as f64 + 0.5) * scale;
            let ss = 1.0 / filterscale;
            // C's (int) cast truncates toward zero; the clamp makes it agree with floor here.
            let xmin = ((center - support + 0.5) as i64).max(0) as usize;
            let xmax = ((center + support + 0.5) as i64).min(in_size as i64) as usize;
            let taps = xmax - xmin;
            let mut total = 0.0;
            for (x, kx) in k.iter_mut().enumerate().take(taps) {
                *kx = bilinear(((x + xmin) as f64 - center + 0.5) * ss);
                total += *kx;
            }
            for x in 0..taps {
                if total != 0.0 {
                    k[x] /= total;
                }
                let scaled = k[x] * f64::from(1u32 << PRECISION_BITS);
                weights[o * ksize + x] = if k[x] < 0.0 {
                    (-0.5 + scaled) as i32
                } else {
                    (0.5 + scaled) as i32
                };
            }
            bounds.push((xmin, taps));
        }
        Self {
            bounds,
            weights,
            ksize,
        }
    }

    fn taps(&self, output: usize) -> (usize, &[i32]) {
        let (first, n) = self.bounds[output];
        (
            first,
            &self.weights[output * self.ksize..output * self.ksize + n],
        )
    }

    /// The source positions any of the outputs reads.
    fn source_span(&self) -> Range<usize> {
        let start = self.bounds.iter().map(|b| b.0).min().unwrap_or(0);
        let end = self.bounds.iter().map(|b| b.0 + b.1).max().unwrap_or(0);
        start..end
    }
}

fn bilinear(x: f64) -> f64 {
    let x = x.abs();
    if x < 1.0 {
        1.0 - x
    } else {
        0.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resized_size_follows_torchvision() {
        assert_eq!(resized_size(400, 300), (341, 256));
        assert_eq!(resized_size(150, 100), (384, 256));
        assert_eq!(resized_size(300, 400), (256, 341));
        assert_eq!(resized_size(1, 1), (256, 256));
        assert_eq!(crop_start(341), 58);
        assert_eq!(crop_start(343), 60);
        assert_eq!(crop_start(256), 16);
    }

    #[test]
    fn flat_image_stays_flat_and_normalises_exactly() {
        let rgb = RgbImage::from_pixel(37, 53, image::Rgb([255, 0, 128]));
        let x = preprocess(&rgb);
        assert_eq!(x.len(), PIXELS_PER_IMAGE);
        let plane = CROP * CROP;
        assert!(x[..plane].iter().all(|&v| v == (1.0 - 0.485) / 0.229));
        assert!(x[plane..2 * plane]
            .iter()
            .all(|&v| v == (0.0 - 0.456) / 0.224));
        assert!(x[2 * plane..]
            .iter()
            .all(|&v| v == (128.0 / 255.0 - 0.406) / 0.225));
    }

    #[test]
    fn weights_of_each_output_sum_to_one_in_fixed_point() {
        for (input, output) in [(300, 256), (100, 256), (1000, 256), (257, 256), (1, 256)] {
            let r = Resample::new(input, output, 0..output);
            for o in 0..output {
                let (_, w) = r.taps(o);
                let sum: i64 = w.iter().map(|&v| i64::from(v)).sum();
                assert!(
                    (sum - (1 << PRECISION_BITS)).abs() <= w.len() as i64,
                    "{input}->{output} at {o}: {sum}"
                );
            }
        }
    }
}
