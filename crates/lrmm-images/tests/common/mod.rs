#![allow(dead_code)] // each test binary uses a different part of these helpers

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use candle_core::{Device, Tensor};
use polars::prelude::*;

pub fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

pub fn load_fixture(name: &str) -> HashMap<String, Tensor> {
    let path = fixtures().join(name);
    candle_core::safetensors::load(&path, &Device::Cpu).unwrap_or_else(|e| {
        panic!(
            "{}: {e} (run tests/fixtures/make_fixtures.py)",
            path.display()
        )
    })
}

pub fn flat(t: &Tensor) -> Vec<f32> {
    t.flatten_all().unwrap().to_vec1::<f32>().unwrap()
}

pub fn max_abs_diff(a: &[f32], b: &[f32]) -> f32 {
    assert_eq!(a.len(), b.len(), "lengths differ");
    a.iter()
        .zip(b)
        .map(|(x, y)| (x - y).abs())
        .fold(0.0, f32::max)
}

pub fn mean_abs_diff(a: &[f32], b: &[f32]) -> f64 {
    assert_eq!(a.len(), b.len(), "lengths differ");
    a.iter()
        .zip(b)
        .map(|(x, y)| f64::from((x - y).abs()))
        .sum::<f64>()
        / a.len() as f64
}

/// A minimal `items.parquet`: only the columns the image stage reads.
pub fn write_items(path: &Path, items: &[(u32, &str)]) {
    let ids: Vec<u32> = items.iter().map(|i| i.0).collect();
    let asins: Vec<&str> = items.iter().map(|i| i.1).collect();
    let mut df = DataFrame::new(
        items.len(),
        vec![
            Column::new("item_id".into(), ids),
            Column::new("asin".into(), asins),
        ],
    )
    .unwrap();
    lrmm_core::parquet::write_atomic(path, &mut df).unwrap();
}
