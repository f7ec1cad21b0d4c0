//! Batches: [`assemble`] builds a [`Batch`] of samples on the host (padded token ids, pooling
//! weights, image features, availability and keep masks), and [`Batch::to_device`] turns it into
//! the [`DeviceBatch`] of tensors the model reads.
//!
//! A modality with no tokens or no image row is *missing*: it is masked exactly like an m-dropped
//! one. The [B × 4] masks are flat, one row per sample, indexed by [`Modality::index`].

use candle_core::{DType, Device, Tensor};
use lrmm_core::Modality;

use super::dataset::Dataset;
use super::noise::{DropoutMasks, TrainNoise};
use crate::config::DataConfig;
use crate::error::Result;
use crate::per_text::PerText;

/// Entries per sample in the availability and keep masks: one per modality.
pub const MODALITY_SLOTS: usize = Modality::ALL.len();

/// One text modality's documents of a batch, right-padded to a common length.
#[derive(Debug, Clone, PartialEq)]
pub struct PaddedDocuments {
    /// Padded length: the longest document in the batch, ≥ 1.
    pub len: usize,
    /// [B × len] token ids, right-padded with 0.
    pub tokens: Vec<u32>,
    /// [B × len] mean-pooling weights: 1/n on the n real tokens, 0 on padding.
    pub pool: Vec<f32>,
}

impl PaddedDocuments {
    /// Pads one document per sample.
    fn pad(documents: &[Vec<u32>]) -> Self {
        let b = documents.len();
        let len = documents.iter().map(Vec::len).max().unwrap_or(0).max(1);
        let mut tokens = vec![0; b * len];
        let mut pool = vec![0.0; b * len];
        for (i, doc) in documents.iter().enumerate() {
            tokens[i * len..i * len + doc.len()].copy_from_slice(doc);
            let w = 1.0 / doc.len().max(1) as f32;
            pool[i * len..i * len + doc.len()].fill(w);
        }
        Self { len, tokens, pool }
    }
}

/// One batch on the host.
#[derive(Debug, Clone)]
pub struct Batch {
    pub rows: Vec<usize>,
    /// The documents of each text modality.
    pub text: PerText<PaddedDocuments>,
    /// D, the width of an image feature.
    pub image_dim: usize,
    /// [B × D] image features (zeros where missing).
    pub image: Vec<f32>,
    /// [B × 4] 1 where the modality exists in the data.
    pub available: Vec<f32>,
    /// [B × 4] 1 where the modality exists and was neither m-dropped nor removed by the caller.
    pub keep: Vec<f32>,
    /// Inverted-dropout masks of the three text embeddings (training only).
    pub dropout: Option<DropoutMasks>,
    pub ratings: Vec<f32>,
    /// [B] user and item indices (for the optional id biases).
    pub user_ids: Vec<u32>,
    pub item_ids: Vec<u32>,
}

/// Assembles the samples `rows`. `drop` removes modalities for every sample (inference);
/// `noise` adds m-drop and dropout (training).
pub fn assemble(
    ds: &Dataset,
    rows: &[usize],
    docs: &DataConfig,
    drop: &[Modality],
    mut noise: Option<&mut TrainNoise>,
) -> Batch {
    let b = rows.len();
    let mut documents: PerText<Vec<Vec<u32>>> = PerText::from_fn(|_| Vec::with_capacity(b));
    let mut scratch = Vec::with_capacity(docs.max_len);
    for &r in rows {
        for m in Modality::TEXT {
            ds.document(m, r, docs, &mut scratch);
            documents[m].push(scratch.clone());
        }
    }
    let text = documents.as_ref().map(|_, d| PaddedDocuments::pad(d));
    let d = ds.image_dim;
    let mut image = vec![0.0; b * d];
    let mut available = vec![0.0; b * MODALITY_SLOTS];
    for (i, &r) in rows.iter().enumerate() {
        let slots = &mut available[i * MODALITY_SLOTS..(i + 1) * MODALITY_SLOTS];
        let item = ds.item_id[r] as usize;
        if let Some(f) = ds.image(item) {
            image[i * d..(i + 1) * d].copy_from_slice(f);
            slots[Modality::Image.index()] = 1.0;
        }
        for m in Modality::TEXT {
            if !documents[m][i].is_empty() {
                slots[m.index()] = 1.0;
            }
        }
    }
    let mut keep = available.clone();
    for k in keep.chunks_mut(MODALITY_SLOTS) {
        for m in drop {
            k[m.index()] = 0.0;
        }
        if let Some(noise) = noise.as_deref_mut() {
            noise.mdrop_sample(k);
        }
    }
    let dropout = noise.map(|noise| noise.dropout_masks(b));
    let ratings = rows.iter().map(|&r| ds.rating[r]).collect();
    let user_ids = rows.iter().map(|&r| ds.user_id[r]).collect();
    let item_ids = rows.iter().map(|&r| ds.item_id[r]).collect();
    Batch {
        rows: rows.to_vec(),
        text,
        image_dim: d,
        image,
        available,
        keep,
        dropout,
        ratings,
        user_ids,
        item_ids,
    }
}

/// A batch on the compute device.
#[derive(Debug, Clone)]
pub struct DeviceBatch {
    pub size: usize,
    /// [B, T_g] u32 per text modality.
    pub tokens: PerText<Tensor>,
    /// [B, 1, T_g] per text modality.
    pub pool: PerText<Tensor>,
    /// [B, D].
    pub image: Tensor,
    /// [B, 4].
    pub available: Tensor,
    /// [B, 4].
    pub keep: Tensor,
    /// [B, d] per text modality.
    pub dropout: Option<PerText<Tensor>>,
    /// [B].
    pub ratings: Tensor,
    /// [B] u32 user and item indices.
    pub user_ids: Tensor,
    pub item_ids: Tensor,
}

impl Batch {
    pub fn size(&self) -> usize {
        self.rows.len()
    }

    /// Whether modality `m` exists in the data for sample `i` of the batch.
    pub fn is_available(&self, i: usize, m: Modality) -> bool {
        self.available[i * MODALITY_SLOTS + m.index()] > 0.0
    }

    /// Whether modality `m` of sample `i` reaches the model (present, not dropped).
    pub fn is_kept(&self, i: usize, m: Modality) -> bool {
        self.keep[i * MODALITY_SLOTS + m.index()] > 0.0
    }

    /// Copies the batch to `device`, its floating-point parts as `dtype`.
    pub fn to_device(&self, device: &Device, dtype: DType) -> Result<DeviceBatch> {
        let b = self.size();
        let f = |v: &[f32], shape: &[usize]| -> Result<Tensor> {
            Ok(Tensor::from_slice(v, shape, device)?.to_dtype(dtype)?)
        };
        let tokens = PerText::try_from_fn(|m| -> Result<Tensor> {
            let docs = &self.text[m];
            Ok(Tensor::from_slice(&docs.tokens, (b, docs.len), device)?)
        })?;
        let pool = PerText::try_from_fn(|m| {
            let docs = &self.text[m];
            f(&docs.pool, &[b, 1, docs.len])
        })?;
        let dropout = match &self.dropout {
            Some(d) => Some(PerText::try_from_fn(|m| f(&d.masks[m], &[b, d.width]))?),
            None => None,
        };
        Ok(DeviceBatch {
            size: b,
            tokens,
            pool,
            image: f(&self.image, &[b, self.image_dim])?,
            available: f(&self.available, &[b, MODALITY_SLOTS])?,
            keep: f(&self.keep, &[b, MODALITY_SLOTS])?,
            dropout,
            ratings: f(&self.ratings, &[b])?,
            user_ids: Tensor::from_slice(&self.user_ids, b, device)?,
            item_ids: Tensor::from_slice(&self.item_ids, b, device)?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::super::dataset::tiny_dataset;
    use super::*;
    use crate::config::DocOrder;
    use lrmm_core::{PerModality, SeededRng, Split};

    #[test]
    fn batches_mark_missing_and_dropped_modalities() {
        let ds = tiny_dataset();
        let docs = DataConfig::default();
        let b = assemble(&ds, &[0, 3], &docs, &[Modality::Item], None);
        // Row 0: user doc present, item 0 has no other training review, meta present, image present.
        assert_eq!(&b.available[0..4], &[1.0, 0.0, 1.0, 1.0]);
        // Row 3: user 1 has no other review; item 1 doc = row 1; no meta, no image.
        assert_eq!(&b.available[4..8], &[0.0, 1.0, 0.0, 0.0]);
        assert!(b.is_available(1, Modality::Item) && !b.is_available(1, Modality::Image));
        assert_eq!(
            &b.keep[4..8],
            &[0.0, 0.0, 0.0, 0.0],
            "item dropped by the caller"
        );
        assert!(!b.is_kept(1, Modality::Item));
        assert_eq!(
            b.text.as_ref().map(|_, d| d.len),
            PerText::from_fn(|m| [3, 3, 2][m.index()])
        );
        assert_eq!(&b.text[Modality::User].tokens[0..3], &[4, 5, 6]);
        assert_eq!(&b.text[Modality::Item].pool[3..6], &[1.0 / 3.0; 3]);
        assert!(b.text[Modality::User].pool[3..6].iter().all(|&w| w == 0.0));
        assert!(b.dropout.is_none());
        assert_eq!(b.image_dim, 2);
    }

    #[test]
    fn mdrop_rate_matches_p_m() {
        let n = 2000;
        let ds = Dataset::from_parts(
            (0..n as u32).map(|i| i % 50).collect(),
            (0..n as u32).map(|i| i % 40).collect(),
            vec![3.0; n],
            (0..n as i64).collect(),
            vec![Split::Train; n],
            &vec![vec![2, 3]; n],
            &vec![vec![4]; 40],
            &vec![Some(vec![0.5]); 40],
            1,
            5,
            DocOrder::RecentFirst,
        );
        let p = PerModality {
            user: 0.1,
            item: 0.25,
            meta: 0.5,
            image: 0.0,
        };
        let mut noise = TrainNoise {
            mdrop: p,
            dropout: 0.5,
            hidden: 8,
            rng: SeededRng::new(9),
        };
        let rows: Vec<usize> = (0..n).collect();
        let mut dropped = PerModality::splat(0usize);
        let mut zeros = 0usize;
        let mut total_masks = 0usize;
        for _ in 0..5 {
            let b = assemble(&ds, &rows, &DataConfig::default(), &[], Some(&mut noise));
            assert!(b.available.iter().all(|&a| a == 1.0));
            for i in 0..b.size() {
                for m in Modality::ALL {
                    dropped[m] += usize::from(!b.is_kept(i, m));
                }
            }
            let masks = b.dropout.as_ref().unwrap();
            assert_eq!(masks.width, 8);
            for (_, m) in masks.masks.iter() {
                zeros += m.iter().filter(|&&x| x == 0.0).count();
                total_masks += m.len();
                assert!(m.iter().all(|&x| x == 0.0 || x == 2.0));
            }
        }
        for m in Modality::ALL {
            let rate = dropped[m] as f64 / (5 * n) as f64;
            // 10,000 Bernoulli draws: 4 standard deviations is at most 0.02.
            assert!(
                (rate - p[m]).abs() < 0.02,
                "modality {m:?}: rate {rate} vs p {}",
                p[m]
            );
        }
        let rate = zeros as f64 / total_masks as f64;
        assert!((rate - 0.5).abs() < 0.01, "dropout rate {rate}");
    }
}
