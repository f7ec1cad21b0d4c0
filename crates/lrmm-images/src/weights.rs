//! Loading a torchvision VGG `state_dict` saved as safetensors, checked against the network
//! before any tensor is read, so a wrong file fails with every missing or mis-shaped tensor named.

use std::collections::HashMap;
use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::path::Path;

use candle_core::{DType, Device, Tensor};
use safetensors::tensor::{Metadata, TensorInfo};
use safetensors::Dtype;

use crate::error::{Error, Result};
use crate::vgg::{depth_of_conv_count, VggConfig};

/// Headers larger than this are not safetensors headers (the format's own limit).
const MAX_HEADER_BYTES: u64 = 100_000_000;

/// Reads the tensors `config` needs from a safetensors file in torchvision's naming (extra
/// tensors such as `classifier.6` are ignored). f32, f16, bf16 and f64 files are accepted and
/// converted to f32.
pub fn load(path: &Path, config: &VggConfig, device: &Device) -> Result<HashMap<String, Tensor>> {
    config.validate()?;
    let mut file = File::open(path).map_err(|e| Error::io(path, e))?;
    let (metadata, data_start) = read_header(path, &mut file)?;
    check(path, config, &metadata)?;
    let mut tensors = HashMap::new();
    for spec in config.tensor_specs() {
        let info = metadata.info(&spec.name).expect("checked above");
        let (start, end) = info.data_offsets;
        let mut bytes = vec![0u8; end - start];
        file.seek(SeekFrom::Start(data_start + start as u64))
            .and_then(|_| file.read_exact(&mut bytes))
            .map_err(|e| Error::io(path, e))?;
        let dtype = candle_dtype(info.dtype).expect("checked above");
        let tensor =
            Tensor::from_raw_buffer(&bytes, dtype, &info.shape, device)?.to_dtype(DType::F32)?;
        tensors.insert(spec.name, tensor);
    }
    Ok(tensors)
}

/// The parsed header and the byte offset where tensor data starts.
fn read_header(path: &Path, file: &mut File) -> Result<(Metadata, u64)> {
    let bad = |message: String| Error::SafetensorsHeader {
        path: path.to_path_buf(),
        message,
    };
    let file_len = file.metadata().map_err(|e| Error::io(path, e))?.len();
    let mut len_bytes = [0u8; 8];
    file.read_exact(&mut len_bytes)
        .map_err(|_| bad(format!("file has {file_len} bytes, too short for a header")))?;
    let header_len = u64::from_le_bytes(len_bytes);
    if header_len > MAX_HEADER_BYTES || 8 + header_len > file_len {
        return Err(bad(format!(
            "header length {header_len} does not fit a {file_len}-byte file"
        )));
    }
    let mut header = vec![0u8; header_len as usize];
    file.read_exact(&mut header)
        .map_err(|e| Error::io(path, e))?;
    let metadata: Metadata =
        serde_json::from_slice(&header).map_err(|e| bad(format!("header: {e}")))?;
    let data_start = 8 + header_len;
    let expected_len = data_start + metadata.data_len() as u64;
    if expected_len != file_len {
        return Err(bad(format!(
            "header describes {expected_len} bytes but the file has {file_len} (truncated or padded)"
        )));
    }
    Ok((metadata, data_start))
}

fn candle_dtype(dtype: Dtype) -> Option<DType> {
    match dtype {
        Dtype::F32 => Some(DType::F32),
        Dtype::F16 => Some(DType::F16),
        Dtype::BF16 => Some(DType::BF16),
        Dtype::F64 => Some(DType::F64),
        _ => None,
    }
}

/// Every problem at once, with a hint when the file is recognisably another VGG.
fn check(path: &Path, config: &VggConfig, metadata: &Metadata) -> Result<()> {
    let mut problems = Vec::new();
    for spec in config.tensor_specs() {
        match metadata.info(&spec.name) {
            None => problems.push(format!(
                "missing tensor `{}` (expected shape {:?})",
                spec.name, spec.shape
            )),
            Some(TensorInfo { shape, .. }) if *shape != spec.shape => problems.push(format!(
                "tensor `{}` has shape {:?}, expected {:?}",
                spec.name, shape, spec.shape
            )),
            Some(TensorInfo { dtype, .. }) if candle_dtype(*dtype).is_none() => {
                problems.push(format!(
                    "tensor `{}` has dtype {dtype:?}, expected F32, F16, BF16 or F64",
                    spec.name
                ))
            }
            Some(_) => {}
        }
    }
    if problems.is_empty() {
        return Ok(());
    }
    Err(Error::Weights {
        path: path.to_path_buf(),
        model: config.describe(),
        problems,
        hint: hint(config, metadata),
    })
}

fn hint(config: &VggConfig, metadata: &Metadata) -> String {
    let names = metadata.tensors();
    if names.keys().any(|n| n.ends_with("running_mean")) {
        return "\n  hint: this looks like a batch-norm VGG (vgg16_bn); only the plain VGGs are supported".into();
    }
    if !names.keys().any(|n| n.starts_with("features.")) {
        let sample: Vec<&String> = names.keys().take(3).collect();
        return format!(
            "\n  hint: no `features.N` tensors; expected torchvision's state_dict naming, found e.g. {sample:?}"
        );
    }
    let n_convs = names
        .iter()
        .filter(|(n, info)| {
            n.starts_with("features.") && n.ends_with(".weight") && info.shape.len() == 4
        })
        .count();
    match depth_of_conv_count(n_convs) {
        Some(depth) if depth != config.depth => {
            format!("\n  hint: the file holds {n_convs} conv layers, i.e. a {depth}: pass --depth {depth}")
        }
        _ => String::new(),
    }
}
