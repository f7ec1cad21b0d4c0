//! Parameters: their names (the `model.safetensors` keys), their seeded initialisation, and
//! saving/loading. Every random draw comes from [`SeededRng`], one derived stream per parameter
//! name, so the same seed gives bit-identical weights and adding a parameter shifts no other.

use std::collections::HashMap;
use std::path::Path;

use candle_core::{DType, Device, Tensor, Var};
use lrmm_core::SeededRng;

use crate::{ModelError, Result};

/// How a parameter starts.
#[derive(Debug, Clone)]
pub enum Init {
    /// Glorot/Xavier uniform, ±sqrt(6 / (fan_in + fan_out)) (paper section 3.3).
    Glorot { fan_in: usize, fan_out: usize },
    /// Stacked square blocks, each a random orthogonal matrix (Saxe et al. 2014).
    Orthogonal,
    /// Uniform in ±limit.
    Uniform(f64),
    /// Every entry the same value.
    Constant(f64),
    /// Explicit values (row-major).
    Values(Vec<f64>),
}

/// A random orthogonal n×n matrix (row-major): modified Gram–Schmidt on the rows of a Gaussian
/// matrix, which is full rank with probability one. candle has no QR.
pub fn orthogonal(n: usize, rng: &mut SeededRng) -> Vec<f64> {
    let mut q: Vec<f64> = (0..n * n).map(|_| rng.normal()).collect();
    for i in 0..n {
        for j in 0..i {
            let dot: f64 = (0..n).map(|k| q[i * n + k] * q[j * n + k]).sum();
            for k in 0..n {
                q[i * n + k] -= dot * q[j * n + k];
            }
        }
        let norm = (0..n).map(|k| q[i * n + k].powi(2)).sum::<f64>().sqrt();
        for k in 0..n {
            q[i * n + k] /= norm;
        }
    }
    q
}

fn initial_values(init: &Init, shape: &[usize], rng: &mut SeededRng) -> Result<Vec<f64>> {
    let n: usize = shape.iter().product();
    let uniform = |limit: f64, rng: &mut SeededRng| {
        (0..n)
            .map(|_| (rng.next_f64() * 2.0 - 1.0) * limit)
            .collect()
    };
    Ok(match init {
        Init::Glorot { fan_in, fan_out } => {
            uniform((6.0 / (*fan_in + *fan_out) as f64).sqrt(), rng)
        }
        Init::Uniform(limit) => uniform(*limit, rng),
        Init::Constant(v) => vec![*v; n],
        Init::Values(v) if v.len() == n => v.clone(),
        Init::Values(v) => {
            return Err(ModelError::Invalid(format!(
                "{} initial values for shape {shape:?}",
                v.len()
            )))
        }
        Init::Orthogonal => {
            let cols = *shape.last().unwrap_or(&0);
            if shape.len() != 2 || cols == 0 || !shape[0].is_multiple_of(cols) {
                return Err(ModelError::Invalid(format!(
                    "orthogonal init needs [k·n, n], got {shape:?}"
                )));
            }
            (0..shape[0] / cols)
                .flat_map(|_| orthogonal(cols, rng))
                .collect()
        }
    })
}

/// One named tensor of the model.
#[derive(Debug, Clone)]
pub struct Param {
    pub name: String,
    pub var: Var,
    /// Updated by the optimiser (false: a fixed buffer such as feature statistics).
    pub trainable: bool,
    /// Subject to weight decay.
    pub decay: bool,
}

/// All tensors of a model, in creation order.
#[derive(Debug)]
pub struct ParamStore {
    pub params: Vec<Param>,
    seed: u64,
    dtype: DType,
    device: Device,
}

impl ParamStore {
    pub fn new(seed: u64, dtype: DType, device: &Device) -> Self {
        Self {
            params: Vec::new(),
            seed,
            dtype,
            device: device.clone(),
        }
    }

    pub fn dtype(&self) -> DType {
        self.dtype
    }

    pub fn device(&self) -> &Device {
        &self.device
    }

    /// Creates a trainable parameter and returns the tensor the modules compute with.
    pub fn add(&mut self, name: &str, shape: &[usize], init: Init, decay: bool) -> Result<Tensor> {
        self.push(name, shape, init, true, decay)
    }

    /// Creates a fixed buffer saved with the weights.
    pub fn buffer(&mut self, name: &str, shape: &[usize], init: Init) -> Result<Tensor> {
        self.push(name, shape, init, false, false)
    }

    fn push(
        &mut self,
        name: &str,
        shape: &[usize],
        init: Init,
        trainable: bool,
        decay: bool,
    ) -> Result<Tensor> {
        if self.params.iter().any(|p| p.name == name) {
            return Err(ModelError::Invalid(format!(
                "parameter `{name}` defined twice"
            )));
        }
        let mut rng = SeededRng::derive(self.seed, &format!("init/{name}"));
        let values = initial_values(&init, shape, &mut rng)?;
        let tensor = Tensor::from_vec(values, shape, &Device::Cpu)?
            .to_dtype(self.dtype)?
            .to_device(&self.device)?;
        let var = Var::from_tensor(&tensor)?;
        let out = var.as_tensor().clone();
        self.params.push(Param {
            name: name.to_string(),
            var,
            trainable,
            decay,
        });
        Ok(out)
    }

    pub fn get(&self, name: &str) -> Option<&Param> {
        self.params.iter().find(|p| p.name == name)
    }

    /// Every tensor by name, as saved.
    pub fn tensors(&self) -> Vec<(String, Tensor)> {
        self.params
            .iter()
            .map(|p| (p.name.clone(), p.var.as_tensor().clone()))
            .collect()
    }

    /// Overwrites every parameter from `map` (e.g. a loaded safetensors file). Every parameter
    /// must be present with its shape; `source` names the file in errors.
    pub fn load_from(&self, map: &HashMap<String, Tensor>, source: &Path) -> Result<()> {
        for p in &self.params {
            let t = map
                .get(&p.name)
                .ok_or_else(|| ModelError::bad(source, format!("missing tensor `{}`", p.name)))?;
            if t.dims() != p.var.dims() {
                return Err(ModelError::bad(
                    source,
                    format!(
                        "tensor `{}` has shape {:?}, the model expects {:?}",
                        p.name,
                        t.dims(),
                        p.var.dims()
                    ),
                ));
            }
            p.var
                .set(&t.to_dtype(self.dtype)?.to_device(&self.device)?)?;
        }
        Ok(())
    }
}

/// Serialises named tensors in safetensors format (f32 on disk, readable by Python).
pub fn safetensors_bytes(tensors: &[(String, Tensor)]) -> Result<Vec<u8>> {
    let mut sorted = Vec::with_capacity(tensors.len());
    for (name, t) in tensors {
        let t = if t.dtype() == DType::F64 {
            t.to_dtype(DType::F32)?
        } else {
            t.clone()
        };
        sorted.push((name.clone(), t.to_device(&Device::Cpu)?.contiguous()?));
    }
    sorted.sort_by(|a, b| a.0.cmp(&b.0));
    safetensors::serialize(sorted.iter().map(|(n, t)| (n.as_str(), t)), None)
        .map_err(|e| ModelError::Invalid(format!("safetensors serialisation failed: {e}")))
}

/// Writes named tensors to `path` atomically.
pub fn save_safetensors(path: &Path, tensors: &[(String, Tensor)]) -> Result<()> {
    let bytes = safetensors_bytes(tensors)?;
    lrmm_core::atomic::write_atomic(path, |w| std::io::Write::write_all(w, &bytes))?;
    Ok(())
}

/// Loads a safetensors file onto the CPU, naming the file in errors.
pub fn load_safetensors(path: &Path) -> Result<HashMap<String, Tensor>> {
    candle_core::safetensors::load(path, &Device::Cpu)
        .map_err(|e| ModelError::bad(path, format!("cannot read safetensors: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn orthogonal_blocks_are_orthonormal() {
        let mut store = ParamStore::new(5, DType::F64, &Device::Cpu);
        let n = 16;
        let w = store
            .add("w_hh", &[4 * n, n], Init::Orthogonal, true)
            .unwrap();
        let v = w.to_vec2::<f64>().unwrap();
        for block in 0..4 {
            for i in 0..n {
                for j in 0..n {
                    let dot: f64 = (0..n)
                        .map(|k| v[block * n + i][k] * v[block * n + j][k])
                        .sum();
                    let want = if i == j { 1.0 } else { 0.0 };
                    assert!((dot - want).abs() < 1e-10, "block {block} ({i},{j}): {dot}");
                }
            }
        }
        // Blocks are distinct draws, not copies.
        assert_ne!(v[0], v[n]);
    }

    #[test]
    fn glorot_range_and_seed_determinism() {
        let make = |seed| {
            let mut s = ParamStore::new(seed, DType::F32, &Device::Cpu);
            s.add(
                "a",
                &[30, 50],
                Init::Glorot {
                    fan_in: 50,
                    fan_out: 30,
                },
                true,
            )
            .unwrap()
            .flatten_all()
            .unwrap()
            .to_vec1::<f32>()
            .unwrap()
        };
        let (a, b, c) = (make(1), make(1), make(2));
        assert_eq!(a, b);
        assert_ne!(a, c);
        let limit = (6.0f32 / 80.0).sqrt();
        assert!(a.iter().all(|x| x.abs() <= limit));
        assert!(
            a.iter().any(|x| x.abs() > 0.9 * limit),
            "values should fill the range"
        );
    }
}
