//! The LRMM network (paper section 2), one small module per layer. `docs/model.md` maps each
//! equation to the code below.

use candle_core::{DType, Device, Tensor, D};
use lrmm_core::{Modality, PerModality};

use crate::config::{Activation, LossConfig, ModelConfig};
use crate::data::{Dataset, DeviceBatch};
use crate::error::{ModelError, Result};
use crate::init::{Init, ParamStore};
use crate::lstm::Lstm;
use crate::per_text::PerText;

/// A value per modality from a fallible `f`, evaluated in [`Modality::ALL`] order (the order of
/// parameter creation and of every concatenation), stopping at the first error.
fn try_per_modality<T>(f: impl FnMut(Modality) -> Result<T>) -> Result<PerModality<T>> {
    PerModality::try_from_fn(f)
}

/// The four modality embeddings side by side, [B, 4·d], in [`Modality::ALL`] order.
fn concat(parts: PerModality<&Tensor>) -> Result<Tensor> {
    Ok(Tensor::cat(&parts.to_array(), 1)?)
}

/// Sizes that come from the data rather than the config.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct DataDims {
    /// Vocabulary size (ids 0..vocab_size; 0 is [PAD]).
    pub vocab_size: usize,
    /// Length of the CNN image feature (4096 for VGG fc6).
    pub image_dim: usize,
    /// Mean training rating: the scoring bias starts there.
    pub rating_mean: f64,
    /// Number of users and items of the training dataset (sizes of the optional baseline biases).
    #[serde(default)]
    pub n_users: usize,
    #[serde(default)]
    pub n_items: usize,
}

impl DataDims {
    /// The sizes of a loaded dataset, as training records them.
    pub fn of(ds: &Dataset) -> Self {
        Self {
            vocab_size: ds.vocab_size,
            image_dim: ds.image_dim,
            rating_mean: ds.train_mean(),
            n_users: ds.n_users,
            n_items: ds.n_items,
        }
    }
}

/// `y = x W^T + b`, weights in PyTorch's [out, in] layout.
#[derive(Debug, Clone)]
pub struct Linear {
    pub weight: Tensor,
    pub bias: Tensor,
}

impl Linear {
    fn new(store: &mut ParamStore, name: &str, n_in: usize, n_out: usize) -> Result<Self> {
        let weight = store.add(
            &format!("{name}.weight"),
            &[n_out, n_in],
            Init::Glorot {
                fan_in: n_in,
                fan_out: n_out,
            },
            true,
        )?;
        let bias = store.add(&format!("{name}.bias"), &[n_out], Init::Constant(0.0), true)?;
        Ok(Self { weight, bias })
    }

    pub fn forward(&self, x: &Tensor) -> Result<Tensor> {
        Ok(x.matmul(&self.weight.t()?)?.broadcast_add(&self.bias)?)
    }
}

/// Word embedding → LSTM → mean over the real tokens (eqs. 5–9).
#[derive(Debug, Clone)]
pub struct TextEncoder {
    pub embedding: Tensor,
    pub lstm: Lstm,
}

impl TextEncoder {
    fn new(store: &mut ParamStore, name: &str, cfg: &ModelConfig, vocab: usize) -> Result<Self> {
        let (e, h) = (cfg.word_dim, cfg.hidden);
        // Unit-variance rows: Glorot over a 20k-word vocabulary would start every word near zero.
        let embedding = store.add(
            &format!("{name}.embedding"),
            &[vocab, e],
            Init::Uniform((3.0 / e as f64).sqrt()),
            true,
        )?;
        // 4h rows: the LSTM's four gates (i, f, g, o), unrelated to the four modalities.
        let w_ih = store.add(
            &format!("{name}.lstm.w_ih"),
            &[4 * h, e],
            Init::Glorot {
                fan_in: e,
                fan_out: 4 * h,
            },
            true,
        )?;
        let w_hh = store.add(
            &format!("{name}.lstm.w_hh"),
            &[4 * h, h],
            Init::Orthogonal,
            true,
        )?;
        // Forget-gate bias 1 (Gers et al.), the others 0: early gradients flow through the cell.
        let bias_values: Vec<f64> = (0..4 * h)
            .map(|k| if (h..2 * h).contains(&k) { 1.0 } else { 0.0 })
            .collect();
        let bias = store.add(
            &format!("{name}.lstm.bias"),
            &[4 * h],
            Init::Values(bias_values),
            true,
        )?;
        Ok(Self {
            embedding,
            lstm: Lstm::new(w_ih, w_hh, bias, cfg.lstm),
        })
    }

    /// `tokens`: [B, T] u32, right-padded; `pool`: [B, 1, T] with 1/n on the n real tokens.
    pub fn forward(&self, tokens: &Tensor, pool: &Tensor) -> Result<Tensor> {
        Ok(self.lstm.encode(&self.embedding, tokens, pool)?)
    }
}

/// Standardised CNN feature → d (eq. 10). tanh keeps e^v in the (−1, 1) range of the LSTM means.
#[derive(Debug, Clone)]
pub struct ImageEncoder {
    pub proj: Linear,
    /// Per-dimension mean and standard deviation of the training items' features (buffers).
    pub feature_mean: Tensor,
    pub feature_std: Tensor,
}

impl ImageEncoder {
    pub fn forward(&self, features: &Tensor) -> Result<Tensor> {
        let x = features
            .broadcast_sub(&self.feature_mean)?
            .broadcast_div(&self.feature_std)?;
        Ok(self.proj.forward(&x)?.tanh()?)
    }
}

/// One modality's sparse autoencoder (eqs. 17–18): it reads all four masked embeddings and
/// reconstructs its own modality, so a dropped modality is imputed from the others.
#[derive(Debug, Clone)]
pub struct Autoencoder {
    pub encoder: Linear,
    pub decoder: Linear,
}

impl Autoencoder {
    /// Returns (reconstruction [B, d], hidden activations [B, d_h]).
    pub fn forward(&self, x: &Tensor) -> Result<(Tensor, Tensor)> {
        let hidden = candle_nn::ops::sigmoid(&self.encoder.forward(x)?)?;
        let recon = self.decoder.forward(&hidden)?.tanh()?;
        Ok((recon, hidden))
    }
}

/// The optional baseline offsets (`model.baseline_biases`): fixed buffers, one scalar per id,
/// set by training from the training ratings and saved with the weights.
#[derive(Debug, Clone)]
pub struct BaselineBiases {
    pub user: Tensor,
    pub item: Tensor,
}

impl BaselineBiases {
    /// The same offsets for `n_users` users and `n_items` items: ids the model never saw (a
    /// dataset extended by new users and items) get an offset of zero.
    pub fn padded(&self, n_users: usize, n_items: usize) -> Result<Self> {
        let pad = |t: &Tensor, n: usize| -> Result<Tensor> {
            let known = t.dim(0)?;
            if n <= known {
                return Ok(t.clone());
            }
            let zeros = Tensor::zeros(n - known, t.dtype(), t.device())?;
            Ok(Tensor::cat(&[t, &zeros], 0)?)
        };
        Ok(Self {
            user: pad(&self.user, n_users)?,
            item: pad(&self.item, n_items)?,
        })
    }

    /// b_u · keep_U + b_i · keep_O for the batch: a dropped or missing modality takes its offset
    /// with it, so the cold-start predictions (−U, −O) do not see it.
    fn offsets(&self, ids: &HeadIds, keep: &PerModality<Tensor>) -> Result<Tensor> {
        let user = self
            .user
            .index_select(ids.user, 0)?
            .mul(&keep[Modality::User].squeeze(1)?)?;
        let item = self
            .item
            .index_select(ids.item, 0)?
            .mul(&keep[Modality::Item].squeeze(1)?)?;
        Ok(user.add(&item)?)
    }
}

/// The [B] u32 user and item indices of a head's samples (for the optional id offsets).
#[derive(Debug, Clone, Copy)]
pub struct HeadIds<'a> {
    pub user: &'a Tensor,
    pub item: &'a Tensor,
}

/// What one forward pass produces.
#[derive(Debug, Clone)]
pub struct Forward {
    /// Predicted ratings [B], unclamped.
    pub prediction: Tensor,
    /// Modality embeddings e^g [B, d] before dropout.
    pub embeddings: PerModality<Tensor>,
    /// Autoencoder reconstructions e^g_recon [B, d].
    pub reconstructions: PerModality<Tensor>,
    /// Autoencoder hidden activations [B, d_h].
    pub hidden: PerModality<Tensor>,
}

/// One modality's autoencoder outputs in a forward pass.
struct Imputed {
    /// The masked embedding, with the reconstruction filled in where the modality is not kept.
    fused: Tensor,
    /// What the reconstruction loss sees (see [`Lrmm::forward`]).
    reconstruction: Tensor,
    hidden: Tensor,
}

/// The scalar loss and its parts (eq. 22 with uncertainty weights).
#[derive(Debug, Clone)]
pub struct LossParts {
    pub total: Tensor,
    /// Mean squared rating error (eq. 19 without the decay term, which the optimiser applies).
    pub mse: Tensor,
    /// Σ_g mean ‖e_recon^g − e^g‖² over samples whose modality g exists (eq. 21, first term).
    pub recon: Tensor,
    /// Σ_g H^g (eq. 20).
    pub kl: Tensor,
}

/// The whole model.
#[derive(Debug)]
pub struct Lrmm {
    pub config: ModelConfig,
    pub dims: DataDims,
    pub store: ParamStore,
    /// The LSTM encoders of U, O and M.
    pub text: PerText<TextEncoder>,
    pub image: ImageEncoder,
    pub autoencoders: PerModality<Autoencoder>,
    pub shared: Linear,
    pub score: Linear,
    /// Baseline offsets added to the score (`model.baseline_biases`); `None` without them, or
    /// when the model is applied to another dataset's ids.
    pub biases: Option<BaselineBiases>,
    /// log-variance weights of the two loss terms: α = exp(−s_reg), β = exp(−s_rec).
    pub s_reg: Tensor,
    pub s_rec: Tensor,
    /// Cut the reconstruction loss off from the encoders (its targets and its inputs), so that it
    /// trains the autoencoders only. True except in gradient checks, where the loss must be the
    /// plain function of the weights that finite differences see.
    pub stop_gradients: bool,
}

impl Lrmm {
    /// Builds the model with seeded initial weights.
    pub fn new(
        config: &ModelConfig,
        dims: DataDims,
        seed: u64,
        dtype: DType,
        device: &Device,
    ) -> Result<Self> {
        let mut store = ParamStore::new(seed, dtype, device);
        let d = config.hidden;
        // Every autoencoder and the shared layer read the four embeddings side by side.
        let joint_dim = Modality::ALL.len() * d;
        let text = PerText::try_from_fn(|m| {
            TextEncoder::new(&mut store, m.name(), config, dims.vocab_size)
        })?;
        let proj = Linear::new(&mut store, "image.proj", dims.image_dim, d)?;
        let feature_mean =
            store.buffer("image.feature_mean", &[dims.image_dim], Init::Constant(0.0))?;
        let feature_std =
            store.buffer("image.feature_std", &[dims.image_dim], Init::Constant(1.0))?;
        let image = ImageEncoder {
            proj,
            feature_mean,
            feature_std,
        };
        let autoencoders = try_per_modality(|m| {
            Ok(Autoencoder {
                encoder: Linear::new(
                    &mut store,
                    &format!("ae.{}.encoder", m.name()),
                    joint_dim,
                    config.ae_hidden,
                )?,
                decoder: Linear::new(
                    &mut store,
                    &format!("ae.{}.decoder", m.name()),
                    config.ae_hidden,
                    d,
                )?,
            })
        })?;
        let shared = Linear::new(&mut store, "shared", joint_dim, config.shared_dim)?;
        let score_w = store.add(
            "score.weight",
            &[1, config.shared_dim],
            Init::Glorot {
                fan_in: config.shared_dim,
                fan_out: 1,
            },
            true,
        )?;
        let score_b = store.add("score.bias", &[1], Init::Constant(dims.rating_mean), true)?;
        let biases = if config.baseline_biases {
            if dims.n_users == 0 || dims.n_items == 0 {
                return Err(ModelError::Invalid(
                    "model.baseline_biases needs the dataset's user and item counts".into(),
                ));
            }
            Some(BaselineBiases {
                user: store.buffer("baseline.user", &[dims.n_users], Init::Constant(0.0))?,
                item: store.buffer("baseline.item", &[dims.n_items], Init::Constant(0.0))?,
            })
        } else {
            None
        };
        let s_reg = store.add("loss.s_reg", &[], Init::Constant(0.0), false)?;
        let s_rec = store.add("loss.s_rec", &[], Init::Constant(0.0), false)?;
        Ok(Self {
            config: config.clone(),
            dims,
            store,
            text,
            image,
            autoencoders,
            shared,
            score: Linear {
                weight: score_w,
                bias: score_b,
            },
            biases,
            s_reg,
            s_rec,
            stop_gradients: true,
        })
    }

    pub fn device(&self) -> &Device {
        self.store.device()
    }

    pub fn dtype(&self) -> DType {
        self.store.dtype()
    }

    /// Sets the baseline offsets (with `model.baseline_biases`) from a fit on the training ratings.
    pub fn set_baseline(&self, fit: &lrmm_core::baseline::BaselineEstimates) -> Result<()> {
        let dev = self.device();
        let set = |name: &str, v: &[f64]| -> Result<()> {
            let t = Tensor::from_slice(v, v.len(), dev)?.to_dtype(self.dtype())?;
            self.store.get(name).expect("buffer exists").var.set(&t)?;
            Ok(())
        };
        set("baseline.user", &fit.bu)?;
        set("baseline.item", &fit.bi)
    }

    /// Sets the image standardisation buffers (from the training items' features).
    pub fn set_image_stats(&self, mean: &[f32], std: &[f32]) -> Result<()> {
        let dev = self.device();
        let set = |name: &str, v: &[f32]| -> Result<()> {
            let t = Tensor::from_slice(v, v.len(), dev)?.to_dtype(self.dtype())?;
            self.store.get(name).expect("buffer exists").var.set(&t)?;
            Ok(())
        };
        set("image.feature_mean", mean)?;
        set("image.feature_std", std)
    }

    /// One forward pass. Dropout is applied when the batch carries dropout masks (training).
    pub fn forward(&self, batch: &DeviceBatch) -> Result<Forward> {
        let embeddings = try_per_modality(|m| self.embed(m, batch))?;
        let ids = HeadIds {
            user: &batch.user_ids,
            item: &batch.item_ids,
        };
        self.head(embeddings, &batch.keep, batch.dropout.as_ref(), &ids)
    }

    /// The embedding e^m of modality `m` for every sample of `batch` (zeros where it is missing):
    /// its text encoder (eqs. 3–9) or the image projection (eq. 10).
    pub fn embed(&self, m: Modality, batch: &DeviceBatch) -> Result<Tensor> {
        if m.is_text() {
            self.text[m].forward(&batch.tokens[m], &batch.pool[m])
        } else {
            self.image.forward(&batch.image)
        }
    }

    /// Everything after the encoders: dropout (`dropout`, training), m-drop by `keep` [B, 4],
    /// the autoencoders' imputation, the shared layer, the score and the id offsets of `ids`.
    /// The samples' embeddings may come from anywhere — a batch's encoders, or embeddings
    /// computed once per user and item and gathered for many pairs
    /// ([`crate::inference::Predictor::predict_queries`]).
    pub fn head(
        &self,
        embeddings: PerModality<Tensor>,
        keep: &Tensor,
        dropout: Option<&PerText<Tensor>>,
        ids: &HeadIds,
    ) -> Result<Forward> {
        // Dropout after the recurrent layer (text modalities), with masks drawn by the batcher.
        let inputs = try_per_modality(|m| match (dropout, m.is_text()) {
            (Some(masks), true) => Ok(embeddings[m].mul(&masks[m])?),
            _ => Ok(embeddings[m].clone()),
        })?;
        // m-drop (eq. 15): a dropped or missing modality's embedding becomes zero.
        let keep = try_per_modality(|m| Ok(keep.narrow(1, m.index(), 1)?))?;
        let masked = try_per_modality(|m| Ok(inputs[m].broadcast_mul(&keep[m])?))?;
        let ae_input = concat(masked.as_ref())?;
        // The reconstruction loss sees the autoencoders applied to a detached copy of their input,
        // so it trains the autoencoders only; the imputation path below stays end to end. Without
        // a backward pass (inference) both give the same values: run the autoencoders once.
        let loss_input =
            if self.stop_gradients && ae_input.track_op() && !crate::lstm::inference_mode() {
                Some(ae_input.detach())
            } else {
                None
            };
        let imputed = try_per_modality(|m| {
            let ae = &self.autoencoders[m];
            let (recon, h) = ae.forward(&ae_input)?;
            // m-auto imputation: keep what is there, fill what is not with the reconstruction.
            let one_minus_k = keep[m].affine(-1.0, 1.0)?;
            let fused = masked[m].add(&recon.broadcast_mul(&one_minus_k)?)?;
            let (reconstruction, hidden) = match &loss_input {
                Some(x) => ae.forward(x)?,
                None => (recon, h),
            };
            Ok(Imputed {
                fused,
                reconstruction,
                hidden,
            })
        })?;
        let joint = concat(imputed.as_ref().map(|_, i| &i.fused))?;
        let shared = self.shared.forward(&joint)?;
        let shared = match self.config.shared_activation {
            Activation::Tanh => shared.tanh()?,
            Activation::Relu => shared.relu()?,
        };
        let mut prediction = self.score.forward(&shared)?.squeeze(1)?;
        if let Some(biases) = &self.biases {
            prediction = prediction.add(&biases.offsets(ids, &keep)?)?;
        }
        Ok(Forward {
            prediction,
            embeddings,
            reconstructions: imputed.as_ref().map(|_, i| i.reconstruction.clone()),
            hidden: imputed.map(|_, i| i.hidden),
        })
    }

    /// The training objective. α = exp(−s_reg), β = exp(−s_rec) are learned, and the +s terms
    /// keep them from collapsing to zero (homoscedastic uncertainty weighting, Kendall et al. 2018).
    pub fn loss(&self, out: &Forward, batch: &DeviceBatch, cfg: &LossConfig) -> Result<LossParts> {
        let mse = out.prediction.sub(&batch.ratings)?.sqr()?.mean_all()?;
        let mut recon = Tensor::zeros((), self.dtype(), self.device())?;
        let mut kl = recon.clone();
        for m in Modality::ALL {
            let target = if self.stop_gradients {
                out.embeddings[m].detach()
            } else {
                out.embeddings[m].clone()
            };
            let per_sample = out.reconstructions[m].sub(&target)?.sqr()?.sum(D::Minus1)?;
            let avail = batch.available.narrow(1, m.index(), 1)?.squeeze(1)?;
            let count = avail.sum_all()?.maximum(1.0)?;
            recon = recon.add(&per_sample.mul(&avail)?.sum_all()?.div(&count)?)?;
            kl = kl.add(&sparsity_penalty(&out.hidden[m], cfg.sparsity_target)?)?;
        }
        let rec_total = recon.add(&kl.affine(cfg.sparsity_weight, 0.0)?)?;
        let total = self
            .s_reg
            .neg()?
            .exp()?
            .mul(&mse)?
            .add(&self.s_reg)?
            .add(&self.s_rec.neg()?.exp()?.mul(&rec_total)?)?
            .add(&self.s_rec)?;
        Ok(LossParts {
            total,
            mse,
            recon,
            kl,
        })
    }
}

/// Eq. 20: Σ_i ρ log(ρ/ρ̂_i) + (1−ρ) log((1−ρ)/(1−ρ̂_i)), ρ̂_i the batch mean of hidden unit i.
pub fn sparsity_penalty(hidden: &Tensor, rho: f64) -> Result<Tensor> {
    let rho_hat = hidden.mean(0)?.clamp(1e-6, 1.0 - 1e-6)?;
    let a = rho_hat.log()?.affine(-rho, rho * rho.ln())?;
    let b = rho_hat
        .affine(-1.0, 1.0)?
        .log()?
        .affine(-(1.0 - rho), (1.0 - rho) * (1.0 - rho).ln())?;
    Ok(a.add(&b)?.sum_all()?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kl_penalty_matches_hand_computation() {
        // Two hidden units over three samples: ρ̂ = (0.1, 0.5).
        let h = Tensor::new(&[[0.1f64, 0.2], [0.05, 0.8], [0.15, 0.5]], &Device::Cpu).unwrap();
        let rho: f64 = 0.05;
        let kl = |p: f64| rho * (rho / p).ln() + (1.0 - rho) * ((1.0 - rho) / (1.0 - p)).ln();
        let want = kl(0.1) + kl(0.5);
        let got = sparsity_penalty(&h, rho)
            .unwrap()
            .to_scalar::<f64>()
            .unwrap();
        assert!((got - want).abs() < 1e-12, "{got} vs {want}");
        // At ρ̂ = ρ the penalty vanishes.
        let h = Tensor::new(&[[0.05f64], [0.05]], &Device::Cpu).unwrap();
        assert!(
            sparsity_penalty(&h, rho)
                .unwrap()
                .to_scalar::<f64>()
                .unwrap()
                .abs()
                < 1e-12
        );
    }
}
