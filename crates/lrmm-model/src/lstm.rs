//! The LSTM of the text encoders (paper eqs. 6–8), in two implementations with one parameter set:
//!
//! * [`LstmImpl::Stepwise`]: candle ops, one step at a time. Runs on every device and is the
//!   reference the fused version is tested against.
//! * [`LstmImpl::Fused`]: the whole recurrence as one CPU [`CustomOp3`] with a hand-written
//!   backward (BPTT). candle's autograd over 100 small steps allocates and zero-fills per step;
//!   the fused op keeps the per-step work to one matmul and one pass over the gates.
//!
//! Both compute the input projections `x_t W_ih^T + b` for all steps in ONE matmul; only the
//! recurrent product `h_{t-1} W_hh^T` is per step. Gate order in `W_ih`, `W_hh` and `b` is
//! (i, f, g, o), PyTorch's, so weights can be compared with `torch.nn.LSTM`.

use std::cell::Cell;
use std::sync::Mutex;

use candle_core::{
    CpuStorage, CustomOp3, DType, Device, Layout, Result, Shape, Storage, Tensor, WithDType, D,
};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

/// Which recurrence implementation a model runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum LstmImpl {
    /// The fused CPU op on a CPU device, the stepwise one elsewhere.
    #[default]
    Auto,
    Fused,
    Stepwise,
}

/// One LSTM layer. `w_ih`: [4H, E], `w_hh`: [4H, H], `bias`: [4H].
#[derive(Debug, Clone)]
pub struct Lstm {
    pub w_ih: Tensor,
    pub w_hh: Tensor,
    pub bias: Tensor,
    pub implementation: LstmImpl,
}

impl Lstm {
    pub fn hidden(&self) -> usize {
        self.w_hh.dims()[1]
    }

    /// `x`: [B, T, E] → every step's hidden state [B, T, H], starting from zero state.
    pub fn forward(&self, x: &Tensor) -> Result<Tensor> {
        let (b, t, e) = x.dims3()?;
        let h4 = self.w_ih.dims()[0];
        // All steps' input projections in one matmul; the bias is added inside the recurrence.
        let xproj = x
            .reshape((b * t, e))?
            .matmul(&self.w_ih.t()?)?
            .reshape((b, t, h4))?;
        let fused = match self.implementation {
            LstmImpl::Fused => true,
            LstmImpl::Stepwise => false,
            LstmImpl::Auto => x.device().is_cpu(),
        };
        if fused {
            fused_recurrence(&xproj, &self.w_hh, &self.bias)
        } else {
            stepwise_recurrence(&xproj, &self.w_hh, &self.bias)
        }
    }
}

/// The recurrence with candle ops. `xproj`: [B, T, 4H] input projections without bias.
pub fn stepwise_recurrence(xproj: &Tensor, w_hh: &Tensor, bias: &Tensor) -> Result<Tensor> {
    let (b, t, _) = xproj.dims3()?;
    let hidden = w_hh.dims()[1];
    let xproj = xproj.broadcast_add(bias)?;
    let w_t = w_hh.t()?;
    let mut h = Tensor::zeros((b, hidden), xproj.dtype(), xproj.device())?;
    let mut c = h.clone();
    let mut outputs = Vec::with_capacity(t);
    for step in 0..t {
        let z = xproj
            .narrow(1, step, 1)?
            .squeeze(1)?
            .add(&h.matmul(&w_t)?)?;
        let gates = z.chunk(4, D::Minus1)?;
        let i = candle_nn::ops::sigmoid(&gates[0])?;
        let f = candle_nn::ops::sigmoid(&gates[1])?;
        let g = gates[2].tanh()?;
        let o = candle_nn::ops::sigmoid(&gates[3])?;
        c = f.mul(&c)?.add(&i.mul(&g)?)?;
        h = o.mul(&c.tanh()?)?;
        outputs.push(h.clone());
    }
    Tensor::stack(&outputs, 1)
}

thread_local! {
    static INFERENCE: Cell<bool> = const { Cell::new(false) };
}

/// While alive, fused LSTM calls on this thread keep nothing for a backward pass, like
/// `torch.no_grad()`: evaluation and inference skip the gate stash (B·T·5H values per encoder).
#[derive(Debug)]
pub struct InferenceGuard {
    previous: bool,
}

impl InferenceGuard {
    pub fn new() -> Self {
        Self {
            previous: INFERENCE.with(|c| c.replace(true)),
        }
    }
}

impl Default for InferenceGuard {
    fn default() -> Self {
        Self::new()
    }
}

impl Drop for InferenceGuard {
    fn drop(&mut self) {
        INFERENCE.with(|c| c.set(self.previous));
    }
}

/// Whether an [`InferenceGuard`] is alive on this thread (no backward pass will follow).
pub fn inference_mode() -> bool {
    INFERENCE.with(|c| c.get())
}

/// The recurrence as one fused op (CPU only). `xproj`: [B, T, 4H] without bias → [B, T, H].
pub fn fused_recurrence(xproj: &Tensor, w_hh: &Tensor, bias: &Tensor) -> Result<Tensor> {
    let (x, w, b) = (xproj.contiguous()?, w_hh.contiguous()?, bias.contiguous()?);
    if !inference_mode() && (x.track_op() || w.track_op() || b.track_op()) {
        x.apply_op3(
            &w,
            &b,
            LstmRecurrence {
                keep_stash: true,
                stash: Mutex::new(None),
            },
        )
    } else {
        // Inference: nothing will ask for gradients, so the gates need not be kept.
        x.apply_op3_no_bwd(
            &w,
            &b,
            &LstmRecurrence {
                keep_stash: false,
                stash: Mutex::new(None),
            },
        )
    }
}

/// Floating types the fused op runs on (f32 for training, f64 for gradient checks).
pub trait Real: WithDType + lrmm_core::linalg::GemmScalar {
    fn exp_(self) -> Self;
    fn tanh_(self) -> Self;
    fn sigmoid(self) -> Self {
        Self::one() / (Self::one() + (Self::zero() - self).exp_())
    }
    /// σ of every value in place.
    fn sigmoid_slice(xs: &mut [Self]) {
        for x in xs {
            *x = x.sigmoid();
        }
    }
    /// tanh of every value in place.
    fn tanh_slice(xs: &mut [Self]) {
        for x in xs {
            *x = x.tanh_();
        }
    }
    fn stash(c: Vec<Self>, gates: Vec<Self>) -> Stash;
    fn unstash(stash: &Stash) -> Option<(&[Self], &[Self])>;
}

/// e^x for f32 in a form the compiler vectorises (libm's `expf` is a call per value, and the gate
/// pass takes five per hidden unit and step): x = n ln2 + r with |r| ≤ ln2/2, e^r by its degree-6
/// Taylor polynomial (relative error below 3e-7, tested; f32 rounding is 6e-8), 2^n from the
/// exponent bits. Inputs are clamped to [−87, 88], where e^x is a normal f32.
#[inline(always)]
fn exp_f32(x: f32) -> f32 {
    const ROUND: f32 = 12_582_912.0; // 1.5 · 2^23: adding and subtracting it rounds to an integer
    let x = x.clamp(-87.0, 88.0);
    let n = (x * std::f32::consts::LOG2_E + ROUND) - ROUND;
    let r = x - n * 0.693_145_75 - n * 1.428_606_8e-6; // ln 2 in two parts
    let p = 1.0
        + r * (1.0
            + r * (0.5
                + r * (1.0 / 6.0 + r * (1.0 / 24.0 + r * (1.0 / 120.0 + r * (1.0 / 720.0))))));
    p * f32::from_bits(((n as i32 + 127) as u32) << 23)
}

impl Real for f32 {
    fn exp_(self) -> Self {
        self.exp()
    }
    /// 1 − 2/(e^{2x} + 1): exact to f32 rounding in absolute terms and several times faster
    /// than libm's tanhf, which dominated the gate pass.
    fn tanh_(self) -> Self {
        1.0 - 2.0 / ((2.0 * self).exp() + 1.0)
    }
    fn sigmoid_slice(xs: &mut [Self]) {
        for x in xs {
            *x = 1.0 / (1.0 + exp_f32(-*x));
        }
    }
    fn tanh_slice(xs: &mut [Self]) {
        for x in xs {
            *x = 1.0 - 2.0 / (exp_f32(2.0 * *x) + 1.0);
        }
    }
    fn stash(c: Vec<Self>, gates: Vec<Self>) -> Stash {
        Stash::F32(c, gates)
    }
    fn unstash(stash: &Stash) -> Option<(&[Self], &[Self])> {
        match stash {
            Stash::F32(c, g) => Some((c, g)),
            Stash::F64(..) => None,
        }
    }
}

impl Real for f64 {
    fn exp_(self) -> Self {
        self.exp()
    }
    fn tanh_(self) -> Self {
        self.tanh()
    }
    fn stash(c: Vec<Self>, gates: Vec<Self>) -> Stash {
        Stash::F64(c, gates)
    }
    fn unstash(stash: &Stash) -> Option<(&[Self], &[Self])> {
        match stash {
            Stash::F64(c, g) => Some((c, g)),
            Stash::F32(..) => None,
        }
    }
}

/// What the forward pass keeps for BPTT: cell states [B, T, H] and activated gates (i, f, g, o)
/// [B, T, 4H].
#[derive(Debug)]
pub enum Stash {
    F32(Vec<f32>, Vec<f32>),
    F64(Vec<f64>, Vec<f64>),
}

/// The fused LSTM recurrence. One instance per forward call: it keeps that call's cell states
/// and gates for its own backward, so the op's output is just the hidden states.
#[derive(Debug)]
struct LstmRecurrence {
    keep_stash: bool,
    stash: Mutex<Option<Stash>>,
}

fn contiguous_slice<'a, T: WithDType>(storage: &'a CpuStorage, layout: &Layout) -> Result<&'a [T]> {
    let data = storage.as_slice::<T>()?;
    match layout.contiguous_offsets() {
        Some((start, end)) => Ok(&data[start..end]),
        None => candle_core::bail!("fused lstm: input is not contiguous"),
    }
}

/// Returns (h [B*T*H], c [B*T*H], gates [B*T*4H]).
fn forward_cpu<T: Real>(
    x: &[T],
    w_hh: &[T],
    bias: &[T],
    b: usize,
    t: usize,
    hidden: usize,
) -> Result<(Vec<T>, Vec<T>, Vec<T>)> {
    let h4 = 4 * hidden;
    // W_hhᵀ [H, 4H], row-major, for h_{t−1} W_hhᵀ.
    let mut w_t = vec![T::zero(); hidden * h4];
    for (row, w_row) in w_hh.chunks_exact(hidden).enumerate() {
        for (col, &v) in w_row.iter().enumerate() {
            w_t[col * h4 + row] = v;
        }
    }
    let mut hs = vec![T::zero(); b * t * hidden];
    let mut cs = vec![T::zero(); b * t * hidden];
    let mut gs = vec![T::zero(); b * t * h4];
    let mut h = vec![T::zero(); b * hidden];
    let mut recurrent = vec![T::zero(); b * h4];
    for step in 0..t {
        if step > 0 {
            lrmm_core::linalg::matmul_into(&mut recurrent, &h, &w_t, b, hidden, h4);
        }
        hs.par_chunks_mut(t * hidden)
            .zip(cs.par_chunks_mut(t * hidden))
            .zip(gs.par_chunks_mut(t * h4))
            .zip(h.par_chunks_mut(hidden))
            .enumerate()
            .for_each(|(bi, (((h_b, c_b), g_b), h_now))| {
                let z_in = &x[(bi * t + step) * h4..(bi * t + step + 1) * h4];
                let z_rec = &recurrent[bi * h4..(bi + 1) * h4];
                let (c_before, c_rest) = c_b.split_at_mut(step * hidden);
                let c_out = &mut c_rest[..hidden];
                let h_out = &mut h_b[step * hidden..(step + 1) * hidden];
                let gates = &mut g_b[step * h4..(step + 1) * h4];
                // Pre-activations, then each gate block through its nonlinearity, one pass each
                // (at step 0 the recurrent buffer is still all zeros).
                for ((z, (&a, &r)), &bias) in gates.iter_mut().zip(z_in.iter().zip(z_rec)).zip(bias)
                {
                    *z = a + r + bias;
                }
                let (ifg, o) = gates.split_at_mut(3 * hidden);
                let (i_f, g) = ifg.split_at_mut(2 * hidden);
                T::sigmoid_slice(i_f);
                T::tanh_slice(g);
                T::sigmoid_slice(o);
                let (i, f) = i_f.split_at(hidden);
                if step == 0 {
                    for ((c, &i), &g) in c_out.iter_mut().zip(i.iter()).zip(g.iter()) {
                        *c = i * g;
                    }
                } else {
                    let c_prev = &c_before[(step - 1) * hidden..];
                    for ((((c, &i), &f), &g), &cp) in
                        c_out.iter_mut().zip(i).zip(f).zip(g.iter()).zip(c_prev)
                    {
                        *c = f * cp + i * g;
                    }
                }
                h_out.copy_from_slice(c_out);
                T::tanh_slice(h_out);
                for (h, &o) in h_out.iter_mut().zip(o.iter()) {
                    *h *= o;
                }
                h_now.copy_from_slice(h_out);
            });
    }
    Ok((hs, cs, gs))
}

/// BPTT through the stashed gates. Returns (d xproj [B*T*4H], d w_hh [4H*H], d bias [4H]).
#[allow(clippy::too_many_arguments)]
fn backward_cpu<T: Real>(
    hs: &[T],
    cs: &[T],
    gs: &[T],
    grad: &[T],
    w_hh: &Tensor,
    b: usize,
    t: usize,
    hidden: usize,
) -> Result<(Vec<T>, Vec<T>, Vec<T>)> {
    let h4 = 4 * hidden;
    let one = T::one();
    let w = w_hh.flatten_all()?.to_vec1::<T>()?;
    let mut dz_all = vec![T::zero(); b * t * h4];
    let mut dz_step = vec![T::zero(); b * h4];
    let mut dh_next = vec![T::zero(); b * hidden];
    let mut dc_next = vec![T::zero(); b * hidden];
    for step in (0..t).rev() {
        dz_all
            .par_chunks_mut(t * h4)
            .zip(dz_step.par_chunks_mut(h4))
            .zip(dh_next.par_chunks_mut(hidden))
            .zip(dc_next.par_chunks_mut(hidden))
            .enumerate()
            .for_each_init(Vec::new, |tanh_c, (bi, (((dz_b, dz_s), dh_b), dc_b))| {
                let at = bi * t + step;
                let c = &cs[at * hidden..(at + 1) * hidden];
                let c_prev = if step == 0 {
                    None
                } else {
                    Some(&cs[(at - 1) * hidden..at * hidden])
                };
                let g4 = &gs[at * h4..(at + 1) * h4];
                let gr = &grad[at * hidden..(at + 1) * hidden];
                tanh_c.clear();
                tanh_c.extend_from_slice(c);
                T::tanh_slice(tanh_c);
                for j in 0..hidden {
                    let (i, f, g, o) = (
                        g4[j],
                        g4[hidden + j],
                        g4[2 * hidden + j],
                        g4[3 * hidden + j],
                    );
                    let dh = gr[j] + dh_b[j];
                    let tc = tanh_c[j];
                    let d_o = dh * tc;
                    let dc = dc_b[j] + dh * o * (one - tc * tc);
                    let d_i = dc * g;
                    let d_g = dc * i;
                    let d_f = match c_prev {
                        Some(cp) => dc * cp[j],
                        None => T::zero(),
                    };
                    dc_b[j] = dc * f;
                    dz_s[j] = d_i * i * (one - i);
                    dz_s[hidden + j] = d_f * f * (one - f);
                    dz_s[2 * hidden + j] = d_g * (one - g * g);
                    dz_s[3 * hidden + j] = d_o * o * (one - o);
                }
                dz_b[step * h4..(step + 1) * h4].copy_from_slice(dz_s);
            });
        if step > 0 {
            lrmm_core::linalg::matmul_into(&mut dh_next, &dz_step, &w, b, h4, hidden);
        }
    }
    // dW_hh = Σ_t dz_tᵀ h_{t−1}: one matmul over all steps (h_{−1} = 0, so step 0 is skipped).
    let mut h_prev = vec![T::zero(); b * t * hidden];
    h_prev
        .par_chunks_mut(t * hidden)
        .enumerate()
        .for_each(|(bi, hp)| {
            let src = &hs[bi * t * hidden..(bi + 1) * t * hidden];
            hp[hidden..].copy_from_slice(&src[..(t - 1) * hidden]);
        });
    let dz = Tensor::from_vec(dz_all, (b * t, h4), &Device::Cpu)?;
    let hp = Tensor::from_vec(h_prev, (b * t, hidden), &Device::Cpu)?;
    let dw = dz.t()?.matmul(&hp)?.flatten_all()?.to_vec1::<T>()?;
    let db = dz.sum(0)?.to_vec1::<T>()?;
    Ok((dz.flatten_all()?.to_vec1::<T>()?, dw, db))
}

impl CustomOp3 for LstmRecurrence {
    fn name(&self) -> &'static str {
        "lrmm-fused-lstm"
    }

    fn cpu_fwd(
        &self,
        s1: &CpuStorage,
        l1: &Layout,
        s2: &CpuStorage,
        l2: &Layout,
        s3: &CpuStorage,
        l3: &Layout,
    ) -> Result<(CpuStorage, Shape)> {
        let (b, t, h4) = l1.shape().dims3()?;
        let (h4w, hidden) = l2.shape().dims2()?;
        if h4 != h4w || h4 != 4 * hidden || l3.shape().dims() != [h4] {
            candle_core::bail!("fused lstm: xproj [{b},{t},{h4}], w_hh [{h4w},{hidden}] and bias {:?} do not match", l3.shape())
        }
        let shape = Shape::from((b, t, hidden));
        macro_rules! run {
            ($ty:ty, $variant:ident) => {{
                let (hs, cs, gs) = forward_cpu::<$ty>(
                    contiguous_slice(s1, l1)?,
                    contiguous_slice(s2, l2)?,
                    contiguous_slice(s3, l3)?,
                    b,
                    t,
                    hidden,
                )?;
                if self.keep_stash {
                    *self.stash.lock().map_err(|_| {
                        candle_core::Error::Msg("fused lstm: poisoned stash".into())
                    })? = Some(<$ty>::stash(cs, gs));
                }
                Ok((CpuStorage::$variant(hs), shape))
            }};
        }
        match (s1, s2, s3) {
            (CpuStorage::F32(_), CpuStorage::F32(_), CpuStorage::F32(_)) => run!(f32, F32),
            (CpuStorage::F64(_), CpuStorage::F64(_), CpuStorage::F64(_)) => run!(f64, F64),
            _ => candle_core::bail!("fused lstm: f32 or f64 inputs of one dtype expected"),
        }
    }

    fn bwd(
        &self,
        xproj: &Tensor,
        w_hh: &Tensor,
        _bias: &Tensor,
        res: &Tensor,
        grad_res: &Tensor,
    ) -> Result<(Option<Tensor>, Option<Tensor>, Option<Tensor>)> {
        let (b, t, h4) = xproj.dims3()?;
        let hidden = h4 / 4;
        let w = w_hh.detach();
        let guard = self
            .stash
            .lock()
            .map_err(|_| candle_core::Error::Msg("fused lstm: poisoned stash".into()))?;
        let Some(stash) = guard.as_ref() else {
            candle_core::bail!("fused lstm: backward without a stashed forward")
        };
        macro_rules! run {
            ($ty:ty) => {{
                let (cs, gs) = <$ty>::unstash(stash).ok_or_else(|| {
                    candle_core::Error::Msg("fused lstm: stash dtype mismatch".into())
                })?;
                let grad_c = grad_res.contiguous()?;
                let (res_guard, res_layout) = res.storage_and_layout();
                let (grad_guard, grad_layout) = grad_c.storage_and_layout();
                let (Storage::Cpu(res_cpu), Storage::Cpu(grad_cpu)) = (&*res_guard, &*grad_guard)
                else {
                    candle_core::bail!("fused lstm: backward on a non-CPU tensor")
                };
                let hs = contiguous_slice::<$ty>(res_cpu, res_layout)?;
                let grad = contiguous_slice::<$ty>(grad_cpu, grad_layout)?;
                let (dx, dw, db) = backward_cpu::<$ty>(hs, cs, gs, grad, &w, b, t, hidden)?;
                (
                    Tensor::from_vec(dx, (b, t, h4), &Device::Cpu)?,
                    Tensor::from_vec(dw, (h4, hidden), &Device::Cpu)?,
                    Tensor::from_vec(db, h4, &Device::Cpu)?,
                )
            }};
        }
        let (dx, dw, db) = match xproj.dtype() {
            DType::F32 => run!(f32),
            DType::F64 => run!(f64),
            other => candle_core::bail!("fused lstm: unsupported dtype {other:?}"),
        };
        Ok((Some(dx), Some(dw), Some(db)))
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn vectorised_exp_and_gates_match_libm() {
        let mut worst = 0f64;
        for k in -8700..=8800 {
            let x = k as f32 * 0.01;
            let want = f64::from(x).exp();
            worst = worst.max((f64::from(exp_f32(x)) - want).abs() / want);
        }
        assert!(worst < 3e-7, "relative error {worst}");
        // Clamped at the ends, never 0, inf or NaN.
        assert_eq!(exp_f32(-1000.0), exp_f32(-87.0));
        assert!(exp_f32(-1000.0) > 0.0 && exp_f32(1000.0).is_finite());
        let xs: Vec<f32> = (-300..=300).map(|k| k as f32 * 0.05).collect();
        let (mut s, mut t) = (xs.clone(), xs.clone());
        f32::sigmoid_slice(&mut s);
        f32::tanh_slice(&mut t);
        for ((&x, &s), &t) in xs.iter().zip(&s).zip(&t) {
            assert!(
                (f64::from(s) - 1.0 / (1.0 + (-f64::from(x)).exp())).abs() < 1e-6,
                "σ({x})"
            );
            assert!(
                (f64::from(t) - f64::from(x).tanh()).abs() < 1e-6,
                "tanh({x})"
            );
        }
    }

    use super::*;
    use candle_core::Var;
    use lrmm_core::SeededRng;

    fn random(rng: &mut SeededRng, shape: &[usize], scale: f64, dtype: DType) -> Tensor {
        let n: usize = shape.iter().product();
        let v: Vec<f64> = (0..n).map(|_| rng.normal() * scale).collect();
        Tensor::from_vec(v, shape, &Device::Cpu)
            .unwrap()
            .to_dtype(dtype)
            .unwrap()
    }

    #[test]
    fn fused_matches_stepwise_forward_and_gradients() {
        let mut rng = SeededRng::new(3);
        let (b, t, h) = (3, 7, 5);
        for dtype in [DType::F32, DType::F64] {
            let xproj = Var::from_tensor(&random(&mut rng, &[b, t, 4 * h], 1.0, dtype)).unwrap();
            let w = Var::from_tensor(&random(&mut rng, &[4 * h, h], 0.5, dtype)).unwrap();
            let bias = Var::from_tensor(&random(&mut rng, &[4 * h], 0.5, dtype)).unwrap();
            let probe = random(&mut rng, &[b, t, h], 1.0, dtype);
            let run = |fused: bool| {
                let out = if fused {
                    fused_recurrence(&xproj, &w, &bias)
                } else {
                    stepwise_recurrence(&xproj, &w, &bias)
                }
                .unwrap();
                let loss = out.mul(&probe).unwrap().sum_all().unwrap();
                let grads = loss.backward().unwrap();
                let flat = |x: &Tensor| {
                    x.to_dtype(DType::F64)
                        .unwrap()
                        .flatten_all()
                        .unwrap()
                        .to_vec1::<f64>()
                        .unwrap()
                };
                (
                    flat(&out),
                    flat(grads.get(&xproj).unwrap()),
                    flat(grads.get(&w).unwrap()),
                    flat(grads.get(&bias).unwrap()),
                )
            };
            let (a, b_) = (run(true), run(false));
            let tol = if dtype == DType::F32 { 1e-5 } else { 1e-12 };
            for (name, x, y) in [
                ("h", &a.0, &b_.0),
                ("dxproj", &a.1, &b_.1),
                ("dw_hh", &a.2, &b_.2),
                ("dbias", &a.3, &b_.3),
            ] {
                let max = x
                    .iter()
                    .zip(y)
                    .map(|(p, q)| (p - q).abs())
                    .fold(0.0, f64::max);
                assert!(max < tol, "{dtype:?} {name}: max abs diff {max}");
            }
        }
    }

    #[test]
    fn inference_guard_keeps_outputs_and_drops_only_the_backward() {
        let mut rng = SeededRng::new(8);
        let (b, t, h) = (2, 5, 3);
        let x = Var::from_tensor(&random(&mut rng, &[b, t, 4 * h], 1.0, DType::F32)).unwrap();
        let w = Var::from_tensor(&random(&mut rng, &[4 * h, h], 0.5, DType::F32)).unwrap();
        let bias = Var::from_tensor(&random(&mut rng, &[4 * h], 0.5, DType::F32)).unwrap();
        let flat = |t: &Tensor| t.flatten_all().unwrap().to_vec1::<f32>().unwrap();
        let trained = fused_recurrence(&x, &w, &bias).unwrap();
        let inferred = {
            let _guard = InferenceGuard::new();
            fused_recurrence(&x, &w, &bias).unwrap()
        };
        assert_eq!(flat(&trained), flat(&inferred));
        assert!(inferred
            .sum_all()
            .unwrap()
            .backward()
            .unwrap()
            .get(&x)
            .is_none());
        // Dropping the guard restores gradient tracking.
        let again = fused_recurrence(&x, &w, &bias).unwrap();
        assert!(again
            .sum_all()
            .unwrap()
            .backward()
            .unwrap()
            .get(&x)
            .is_some());
    }

    #[test]
    fn fused_gradient_matches_finite_differences() {
        let mut rng = SeededRng::new(11);
        let (b, t, h) = (2, 4, 3);
        let x0 = random(&mut rng, &[b, t, 4 * h], 1.0, DType::F64);
        let w0 = random(&mut rng, &[4 * h, h], 0.7, DType::F64);
        let b0 = random(&mut rng, &[4 * h], 0.5, DType::F64);
        let probe = random(&mut rng, &[b, t, h], 1.0, DType::F64);
        let loss_of = |x: &Tensor, w: &Tensor, bias: &Tensor| -> f64 {
            fused_recurrence(x, w, bias)
                .unwrap()
                .mul(&probe)
                .unwrap()
                .sum_all()
                .unwrap()
                .to_scalar::<f64>()
                .unwrap()
        };
        let (x, w, bias) = (
            Var::from_tensor(&x0).unwrap(),
            Var::from_tensor(&w0).unwrap(),
            Var::from_tensor(&b0).unwrap(),
        );
        let grads = fused_recurrence(&x, &w, &bias)
            .unwrap()
            .mul(&probe)
            .unwrap()
            .sum_all()
            .unwrap()
            .backward()
            .unwrap();
        let eps = 1e-6;
        let inputs = [&x0, &w0, &b0];
        for (which, var) in [&x, &w, &bias].into_iter().enumerate() {
            let analytic = grads
                .get(var)
                .unwrap()
                .flatten_all()
                .unwrap()
                .to_vec1::<f64>()
                .unwrap();
            let values = inputs[which]
                .flatten_all()
                .unwrap()
                .to_vec1::<f64>()
                .unwrap();
            for k in 0..values.len() {
                let nudged = |delta: f64| {
                    let mut v = values.clone();
                    v[k] += delta;
                    let moved = Tensor::from_vec(v, inputs[which].shape(), &Device::Cpu).unwrap();
                    let mut args = inputs.map(|t| t.clone());
                    args[which] = moved;
                    loss_of(&args[0], &args[1], &args[2])
                };
                let fd = (nudged(eps) - nudged(-eps)) / (2.0 * eps);
                assert!(
                    (fd - analytic[k]).abs() < 1e-6 * (1.0 + fd.abs()),
                    "input {which}[{k}]: fd {fd} vs analytic {}",
                    analytic[k]
                );
            }
        }
    }
}
