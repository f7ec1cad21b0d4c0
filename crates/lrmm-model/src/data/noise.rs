//! The randomness of a training batch: m-drop (paper eq. 13) and the recurrent-dropout masks,
//! both drawn from one seeded stream in a fixed order, so a seed gives the same batches.

use lrmm_core::{Modality, PerModality, SeededRng};

use crate::per_text::PerText;

/// Randomness of a training batch: m-drop and recurrent dropout, both drawn from seeded streams.
#[derive(Debug, Clone)]
pub struct TrainNoise {
    /// p_m, the probability of dropping each modality of a sample.
    pub mdrop: PerModality<f64>,
    /// Dropout probability after the recurrent layer.
    pub dropout: f64,
    /// d, the embedding width the dropout masks cover.
    pub hidden: usize,
    pub rng: SeededRng,
}

/// Inverted-dropout scale masks of the three text embeddings, [B × width] each.
#[derive(Debug, Clone, PartialEq)]
pub struct DropoutMasks {
    /// d, the embedding width each mask row covers.
    pub width: usize,
    pub masks: PerText<Vec<f32>>,
}

impl TrainNoise {
    /// m-drops one sample: zeroes the entries of `keep` (indexed by [`Modality::index`]) of the
    /// modalities drawn for dropping.
    pub fn mdrop_sample(&mut self, keep: &mut [f32]) {
        for m in Modality::ALL {
            // Draw for every slot, present or not, so one sample's availability does not
            // shift the random stream of the next.
            if self.rng.bernoulli(self.mdrop[m]) {
                keep[m.index()] = 0.0;
            }
        }
    }

    /// Dropout masks for a batch of `batch_size` samples: 0 with the dropout probability, else
    /// 1/(1 − p), drawn user, item, meta in turn.
    pub fn dropout_masks(&mut self, batch_size: usize) -> DropoutMasks {
        let (p, width) = (self.dropout, self.hidden);
        let rng = &mut self.rng;
        let scale = 1.0 / (1.0 - p) as f32;
        let masks = PerText::from_fn(|_| {
            (0..batch_size * width)
                .map(|_| if rng.bernoulli(p) { 0.0 } else { scale })
                .collect::<Vec<f32>>()
        });
        DropoutMasks { width, masks }
    }
}
