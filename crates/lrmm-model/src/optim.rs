//! Optimisers: ADADELTA (Zeiler 2012; the paper's) and AdamW. Both apply weight decay only to
//! parameters marked `decay` and keep their state as named tensors so a checkpoint can resume.

use std::collections::HashMap;

use candle_core::backprop::GradStore;
use candle_core::{DType, Tensor, Var};
use rayon::prelude::*;

use crate::config::{OptimizerKind, TrainConfig};
use crate::init::Param;
use crate::{ModelError, Result};

/// Per-parameter optimiser state. On the CPU in f32 it lives in host vectors and the update
/// is one fused in-place pass per parameter ([`HostUpdate`]; the tensor-op form allocates a
/// dozen parameter-sized temporaries per step); elsewhere it is kept as tensors.
#[derive(Debug)]
enum State {
    Tensors { first: Tensor, second: Tensor },
    Host { first: Vec<f32>, second: Vec<f32> },
}

#[derive(Debug)]
struct Slot {
    name: String,
    var: Var,
    decay: bool,
    /// ADADELTA: E[g²], E[Δx²]. AdamW: m, v.
    state: State,
}

/// Hyperparameters of one update, in the precision the host path computes in.
#[derive(Debug, Clone, Copy)]
struct Rule {
    kind: OptimizerKind,
    lr: f64,
    weight_decay: f64,
    rho: f64,
    eps: f64,
    beta1: f64,
    beta2: f64,
    step: u64,
    /// AdamW's 1 / (1 − β₁ᵗ) and 1 / (1 − β₂ᵗ) for this step, computed once per step: inside
    /// the per-element loop the two `powi` calls were a fifth of a training step's time.
    bias_corrections: (f32, f32),
}

impl Rule {
    /// Advances to the next step.
    fn next_step(&mut self) {
        self.step += 1;
        let t = self.step as i32;
        self.bias_corrections = (
            (1.0 / (1.0 - self.beta1.powi(t))) as f32,
            (1.0 / (1.0 - self.beta2.powi(t))) as f32,
        );
    }

    /// The update of one parameter's elements: `theta`, `first` and `second` in place from `grad`.
    /// The kind is matched once, outside the element loop, so the loop vectorises (it runs under
    /// [`pulp::Arch::dispatch`]: AVX-512 or AVX2 where the CPU has them; inlined into it, or
    /// it is compiled for the baseline SSE2 only).
    #[inline(always)]
    fn apply(
        &self,
        decay: bool,
        theta: &mut [f32],
        grad: &[f32],
        first: &mut [f32],
        second: &mut [f32],
    ) {
        let wd = if decay { self.weight_decay as f32 } else { 0.0 };
        let lr = self.lr as f32;
        let elements = theta
            .iter_mut()
            .zip(grad)
            .zip(first.iter_mut())
            .zip(second.iter_mut());
        match self.kind {
            OptimizerKind::Adadelta => {
                let (rho, eps) = (self.rho as f32, self.eps as f32);
                for (((theta, &g), first), second) in elements {
                    let g = g + wd * *theta;
                    *first = rho * *first + (1.0 - rho) * g * g;
                    let delta = (*second + eps).sqrt() / (*first + eps).sqrt() * g;
                    *second = rho * *second + (1.0 - rho) * delta * delta;
                    *theta -= lr * delta;
                }
            }
            OptimizerKind::Adamw => {
                let (b1, b2, eps) = (self.beta1 as f32, self.beta2 as f32, self.eps as f32);
                let (c1, c2) = self.bias_corrections;
                for (((theta, &g), first), second) in elements {
                    *theta *= 1.0 - lr * wd;
                    *first = b1 * *first + (1.0 - b1) * g;
                    *second = b2 * *second + (1.0 - b2) * g * g;
                    *theta -= lr * (*first * c1) / ((*second * c2).sqrt() + eps);
                }
            }
        }
    }
}

/// One chunk of one parameter's host update, compiled for the CPU's widest vectors.
struct ElementUpdate<'a> {
    rule: &'a Rule,
    decay: bool,
    theta: &'a mut [f32],
    grad: &'a [f32],
    first: &'a mut [f32],
    second: &'a mut [f32],
}

impl pulp::WithSimd for ElementUpdate<'_> {
    type Output = ();

    #[inline(always)]
    fn with_simd<S: pulp::Simd>(self, _simd: S) {
        self.rule
            .apply(self.decay, self.theta, self.grad, self.first, self.second);
    }
}

/// The host update of one f32 parameter on the CPU as a candle in-place op: θ is updated where
/// it lies, read from the variable's own storage, so a step copies nothing (reading θ and g
/// into vectors and writing θ back cost three passes over every parameter per step).
struct HostUpdate<'a> {
    rule: Rule,
    decay: bool,
    state: std::sync::Mutex<(&'a mut [f32], &'a mut [f32])>,
    arch: pulp::Arch,
}

impl candle_core::InplaceOp2 for HostUpdate<'_> {
    fn name(&self) -> &'static str {
        "lrmm-optimizer-update"
    }

    fn cpu_fwd(
        &self,
        theta: &mut candle_core::CpuStorage,
        theta_layout: &candle_core::Layout,
        grad: &candle_core::CpuStorage,
        grad_layout: &candle_core::Layout,
    ) -> candle_core::Result<()> {
        let (Some((t0, t1)), Some((g0, g1))) = (
            theta_layout.contiguous_offsets(),
            grad_layout.contiguous_offsets(),
        ) else {
            candle_core::bail!("optimizer: parameter or gradient is not contiguous")
        };
        let theta = match theta {
            candle_core::CpuStorage::F32(values) => &mut values[t0..t1],
            _ => candle_core::bail!("optimizer: the host update is for f32 parameters"),
        };
        let grad = &grad.as_slice::<f32>()?[g0..g1];
        let mut state = self
            .state
            .lock()
            .map_err(|_| candle_core::Error::Msg("optimizer: poisoned state".into()))?;
        let (first, second) = &mut *state;
        if grad.len() != theta.len() || first.len() != theta.len() {
            candle_core::bail!(
                "optimizer: parameter of {} values, gradient of {}, state of {}",
                theta.len(),
                grad.len(),
                first.len()
            )
        }
        const CHUNK: usize = 1 << 14;
        theta
            .par_chunks_mut(CHUNK)
            .zip(grad.par_chunks(CHUNK))
            .zip(first.par_chunks_mut(CHUNK))
            .zip(second.par_chunks_mut(CHUNK))
            .for_each(|(((theta, grad), first), second)| {
                self.arch.dispatch(ElementUpdate {
                    rule: &self.rule,
                    decay: self.decay,
                    theta,
                    grad,
                    first,
                    second,
                })
            });
        Ok(())
    }
}

/// ADADELTA as PyTorch implements it (`torch.optim.Adadelta`):
/// g ← g + λθ; E[g²] ← ρE[g²] + (1−ρ)g²; Δ = √(E[Δx²]+ε)/√(E[g²]+ε) · g;
/// E[Δx²] ← ρE[Δx²] + (1−ρ)Δ²; θ ← θ − lr·Δ.
/// AdamW (Loshchilov & Hutter): θ ← θ(1 − lr·λ) − lr·m̂/(√v̂ + ε).
#[derive(Debug)]
pub struct Optimizer {
    slots: Vec<Slot>,
    rule: Rule,
}

impl Optimizer {
    /// An optimiser over the trainable parameters.
    pub fn new(params: &[Param], cfg: &TrainConfig, weight_decay: f64) -> Result<Self> {
        let slots = params
            .iter()
            .filter(|p| p.trainable)
            .map(|p| {
                let state = if p.var.device().is_cpu() && p.var.dtype() == DType::F32 {
                    State::Host {
                        first: vec![0.0; p.var.elem_count()],
                        second: vec![0.0; p.var.elem_count()],
                    }
                } else {
                    State::Tensors {
                        first: p.var.zeros_like()?,
                        second: p.var.zeros_like()?,
                    }
                };
                Ok(Slot {
                    name: p.name.clone(),
                    var: p.var.clone(),
                    decay: p.decay,
                    state,
                })
            })
            .collect::<Result<Vec<_>>>()?;
        let eps = match cfg.optimizer {
            OptimizerKind::Adadelta => cfg.adadelta_eps,
            OptimizerKind::Adamw => cfg.adam_eps,
        };
        let rule = Rule {
            kind: cfg.optimizer,
            lr: cfg.learning_rate,
            weight_decay,
            rho: cfg.adadelta_rho,
            eps,
            beta1: cfg.adam_beta1,
            beta2: cfg.adam_beta2,
            step: 0,
            bias_corrections: (1.0, 1.0),
        };
        Ok(Self { slots, rule })
    }

    /// Applies one update from `grads`. Parameters without a gradient are left alone.
    pub fn step(&mut self, grads: &GradStore) -> Result<()> {
        self.rule.next_step();
        let rule = self.rule;
        let arch = pulp::Arch::new();
        for slot in &mut self.slots {
            let Some(g) = grads.get(&slot.var) else {
                continue;
            };
            let decay = slot.decay;
            match &mut slot.state {
                State::Host { first, second } => {
                    let g = g.to_dtype(DType::F32)?.contiguous()?;
                    let update = HostUpdate {
                        rule,
                        decay,
                        state: std::sync::Mutex::new((&mut first[..], &mut second[..])),
                        arch,
                    };
                    slot.var.as_tensor().inplace_op2(&g, &update)?;
                }
                State::Tensors { first, second } => {
                    let theta = slot.var.as_tensor();
                    let wd = if decay { rule.weight_decay } else { 0.0 };
                    match rule.kind {
                        OptimizerKind::Adadelta => {
                            let g = if wd > 0.0 {
                                g.add(&theta.affine(wd, 0.0)?)?
                            } else {
                                g.clone()
                            };
                            let sq = first
                                .affine(rule.rho, 0.0)?
                                .add(&g.sqr()?.affine(1.0 - rule.rho, 0.0)?)?;
                            let delta = second
                                .affine(1.0, rule.eps)?
                                .sqrt()?
                                .div(&sq.affine(1.0, rule.eps)?.sqrt()?)?
                                .mul(&g)?;
                            let acc = second
                                .affine(rule.rho, 0.0)?
                                .add(&delta.sqr()?.affine(1.0 - rule.rho, 0.0)?)?;
                            slot.var.set(&theta.sub(&delta.affine(rule.lr, 0.0)?)?)?;
                            *first = sq;
                            *second = acc;
                        }
                        OptimizerKind::Adamw => {
                            let decayed = if wd > 0.0 {
                                theta.affine(1.0 - rule.lr * wd, 0.0)?
                            } else {
                                theta.clone()
                            };
                            let m = first
                                .affine(rule.beta1, 0.0)?
                                .add(&g.affine(1.0 - rule.beta1, 0.0)?)?;
                            let v = second
                                .affine(rule.beta2, 0.0)?
                                .add(&g.sqr()?.affine(1.0 - rule.beta2, 0.0)?)?;
                            let t = rule.step as i32;
                            let m_hat = m.affine(1.0 / (1.0 - rule.beta1.powi(t)), 0.0)?;
                            let v_hat = v.affine(1.0 / (1.0 - rule.beta2.powi(t)), 0.0)?;
                            let update = m_hat.div(&v_hat.sqrt()?.affine(1.0, rule.eps)?)?;
                            slot.var.set(&decayed.sub(&update.affine(rule.lr, 0.0)?)?)?;
                            *first = m;
                            *second = v;
                        }
                    }
                }
            }
        }
        Ok(())
    }

    /// The optimiser state as named tensors (`optim.<param>.first/second`, `optim.step`).
    pub fn state(&self) -> Result<Vec<(String, Tensor)>> {
        let mut out = Vec::with_capacity(2 * self.slots.len() + 1);
        for s in &self.slots {
            let (first, second) = match &s.state {
                State::Tensors { first, second } => (first.clone(), second.clone()),
                State::Host { first, second } => (
                    Tensor::from_slice(first, s.var.shape(), s.var.device())?,
                    Tensor::from_slice(second, s.var.shape(), s.var.device())?,
                ),
            };
            out.push((format!("optim.{}.first", s.name), first));
            out.push((format!("optim.{}.second", s.name), second));
        }
        out.push((
            "optim.step".into(),
            Tensor::new(&[self.rule.step as f32], &candle_core::Device::Cpu)?,
        ));
        Ok(out)
    }

    /// Restores a state written by [`Optimizer::state`].
    pub fn load_state(&mut self, map: &HashMap<String, Tensor>) -> Result<()> {
        for s in &mut self.slots {
            let get = |suffix: &str| -> Result<&Tensor> {
                let key = format!("optim.{}.{suffix}", s.name);
                let t = map
                    .get(&key)
                    .ok_or_else(|| ModelError::Invalid(format!("checkpoint lacks `{key}`")))?;
                if t.dims() != s.var.dims() {
                    return Err(ModelError::Invalid(format!(
                        "checkpoint `{key}` has shape {:?}, expected {:?}",
                        t.dims(),
                        s.var.dims()
                    )));
                }
                Ok(t)
            };
            let (f, g) = (get("first")?, get("second")?);
            match &mut s.state {
                State::Tensors { first, second } => {
                    *first = f.to_dtype(s.var.dtype())?.to_device(s.var.device())?;
                    *second = g.to_dtype(s.var.dtype())?.to_device(s.var.device())?;
                }
                State::Host { first, second } => {
                    *first = f.to_dtype(DType::F32)?.flatten_all()?.to_vec1::<f32>()?;
                    *second = g.to_dtype(DType::F32)?.flatten_all()?.to_vec1::<f32>()?;
                }
            }
        }
        if let Some(step) = map.get("optim.step") {
            self.rule.step = step.to_vec1::<f32>()?.first().copied().unwrap_or(0.0) as u64;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::init::{Init, ParamStore};
    use candle_core::Device;

    fn cfg(kind: OptimizerKind, lr: f64) -> TrainConfig {
        TrainConfig {
            optimizer: kind,
            learning_rate: lr,
            batch_size: 1,
            max_epochs: 1,
            patience: 1,
            adadelta_rho: 0.9,
            adadelta_eps: 1e-6,
            adam_beta1: 0.9,
            adam_beta2: 0.999,
            adam_eps: 1e-8,
            eval_batch_size: 1,
        }
    }

    /// ADADELTA by hand, for a scalar parameter θ with loss θ²·c (gradient 2cθ), weight decay λ.
    fn adadelta_by_hand(theta0: f64, c: f64, lambda: f64, lr: f64, steps: usize) -> f64 {
        let (rho, eps): (f64, f64) = (0.9, 1e-6);
        let (mut theta, mut eg, mut ed) = (theta0, 0.0, 0.0);
        for _ in 0..steps {
            let g = 2.0 * c * theta + lambda * theta;
            eg = rho * eg + (1.0 - rho) * g * g;
            let delta = (ed + eps).sqrt() / (eg + eps).sqrt() * g;
            ed = rho * ed + (1.0 - rho) * delta * delta;
            theta -= lr * delta;
        }
        theta
    }

    /// Both state layouts: f64 tensors (any device) and f32 host vectors (the CPU fast path).
    #[test]
    fn adadelta_follows_the_update_rule() {
        for (dtype, tol) in [(DType::F64, 1e-12), (DType::F32, 1e-5)] {
            let mut store = ParamStore::new(0, dtype, &Device::Cpu);
            store
                .add("w", &[2], Init::Values(vec![1.5, -0.7]), true)
                .unwrap();
            let c = Tensor::new(&[3.0f64, 0.5], &Device::Cpu)
                .unwrap()
                .to_dtype(dtype)
                .unwrap();
            let mut opt =
                Optimizer::new(&store.params, &cfg(OptimizerKind::Adadelta, 0.5), 0.01).unwrap();
            for step in 0..5 {
                if step == 3 {
                    // A save/restore of the state in the middle changes nothing.
                    let state: HashMap<String, Tensor> = opt.state().unwrap().into_iter().collect();
                    opt = Optimizer::new(&store.params, &cfg(OptimizerKind::Adadelta, 0.5), 0.01)
                        .unwrap();
                    opt.load_state(&state).unwrap();
                }
                let w = store.params[0].var.as_tensor();
                let loss = w.sqr().unwrap().mul(&c).unwrap().sum_all().unwrap();
                opt.step(&loss.backward().unwrap()).unwrap();
            }
            let got = store.params[0]
                .var
                .as_tensor()
                .to_dtype(DType::F64)
                .unwrap()
                .to_vec1::<f64>()
                .unwrap();
            let want = [
                adadelta_by_hand(1.5, 3.0, 0.01, 0.5, 5),
                adadelta_by_hand(-0.7, 0.5, 0.01, 0.5, 5),
            ];
            for k in 0..2 {
                assert!(
                    (got[k] - want[k]).abs() < tol,
                    "{dtype:?} {k}: {} vs {}",
                    got[k],
                    want[k]
                );
            }
            // The first step moves θ by lr·sqrt(ε)/sqrt(0.1 g² + ε)·g ≈ lr·0.00316: visibly, not by lr·g.
            assert!((got[0] - 1.5).abs() > 1e-3);
        }
    }

    /// The f32 host update (in place, in chunks over both cores, vectorised) against the tensor
    /// form on f64, for a parameter of several chunks, both optimisers, with and without decay.
    #[test]
    fn host_update_in_place_matches_the_tensor_update() {
        let n = 40_003; // three chunks of 2^14 and a ragged tail
        let init: Vec<f64> = (0..n)
            .map(|k| ((k * 37 % 101) as f64 - 50.0) / 40.0)
            .collect();
        let scale: Vec<f64> = (0..n).map(|k| 0.2 + (k % 7) as f64).collect();
        for kind in [OptimizerKind::Adadelta, OptimizerKind::Adamw] {
            for decay in [true, false] {
                let run = |dtype: DType| -> Vec<f64> {
                    let mut store = ParamStore::new(0, dtype, &Device::Cpu);
                    store
                        .add("w", &[n], Init::Values(init.clone()), decay)
                        .unwrap();
                    let c = Tensor::new(scale.as_slice(), &Device::Cpu)
                        .unwrap()
                        .to_dtype(dtype)
                        .unwrap();
                    let mut opt = Optimizer::new(&store.params, &cfg(kind, 0.05), 0.01).unwrap();
                    for _ in 0..4 {
                        let w = store.params[0].var.as_tensor();
                        let loss = w.sqr().unwrap().mul(&c).unwrap().sum_all().unwrap();
                        opt.step(&loss.backward().unwrap()).unwrap();
                    }
                    flat_f64(store.params[0].var.as_tensor())
                };
                let (host, tensors) = (run(DType::F32), run(DType::F64));
                let moved = host
                    .iter()
                    .zip(&init)
                    .filter(|(a, b)| (*a - *b).abs() > 1e-4)
                    .count();
                assert!(moved > n / 2, "{kind:?}: the update left most values alone");
                for (k, (a, b)) in host.iter().zip(&tensors).enumerate() {
                    assert!(
                        (a - b).abs() < 1e-5 * (1.0 + b.abs()),
                        "{kind:?} decay {decay}, element {k}: host {a} vs tensor {b}"
                    );
                }
            }
        }
    }

    fn flat_f64(t: &Tensor) -> Vec<f64> {
        t.to_dtype(DType::F64).unwrap().to_vec1::<f64>().unwrap()
    }

    #[test]
    fn adamw_decouples_weight_decay_and_skips_undecayed_params() {
        for dtype in [DType::F64, DType::F32] {
            let mut store = ParamStore::new(0, dtype, &Device::Cpu);
            store.add("w", &[1], Init::Values(vec![2.0]), true).unwrap();
            store
                .add("s", &[1], Init::Values(vec![2.0]), false)
                .unwrap();
            let mut opt =
                Optimizer::new(&store.params, &cfg(OptimizerKind::Adamw, 0.1), 0.5).unwrap();
            let loss = store.params[0]
                .var
                .as_tensor()
                .add(store.params[1].var.as_tensor())
                .unwrap()
                .sum_all()
                .unwrap();
            opt.step(&loss.backward().unwrap()).unwrap();
            // First Adam step: m̂/√v̂ = g/|g| = 1, so θ ← θ(1 − lr·λ) − lr.
            let read = |k: usize| {
                store.params[k]
                    .var
                    .as_tensor()
                    .to_dtype(DType::F64)
                    .unwrap()
                    .to_vec1::<f64>()
                    .unwrap()[0]
            };
            let (w, s) = (read(0), read(1));
            assert!(
                (w - (2.0 * (1.0 - 0.05) - 0.1)).abs() < 1e-6,
                "{dtype:?} {w}"
            );
            assert!((s - (2.0 - 0.1)).abs() < 1e-6, "{dtype:?} {s}");
        }
    }
}
