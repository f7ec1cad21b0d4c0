//! The four modalities of a sample and a value per modality.
//!
//! Every stage that speaks of modalities (the model's encoders and masks, the batches, the
//! m-drop config, the evaluation's −U/−O/−M/−V settings) names them with [`Modality`] and keeps
//! one value each in a [`PerModality`], so no code indexes a modality by a bare number.

use std::ops::{Index, IndexMut};

use serde::{Deserialize, Serialize};

/// The four modalities, in the order used by every tensor, mask and concatenation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Modality {
    /// The user's review history (U).
    User,
    /// The item's review history (O).
    Item,
    /// The item's metadata text, title + description (M).
    Meta,
    /// The item's image feature (V).
    Image,
}

impl Modality {
    /// Every modality, in tensor order.
    pub const ALL: [Modality; 4] = [
        Modality::User,
        Modality::Item,
        Modality::Meta,
        Modality::Image,
    ];

    /// The modalities encoded from token ids by an LSTM (all but the image).
    pub const TEXT: [Modality; 3] = [Modality::User, Modality::Item, Modality::Meta];

    /// Position in masks and concatenations.
    pub fn index(self) -> usize {
        self as usize
    }

    /// Short name, used in weight names, config keys and logs.
    pub fn name(self) -> &'static str {
        match self {
            Modality::User => "user",
            Modality::Item => "item",
            Modality::Meta => "meta",
            Modality::Image => "image",
        }
    }

    /// The paper's letter: U, O, M, V (as in −U for user cold start).
    pub fn letter(self) -> char {
        match self {
            Modality::User => 'U',
            Modality::Item => 'O',
            Modality::Meta => 'M',
            Modality::Image => 'V',
        }
    }

    /// Whether the modality is text (encoded by an LSTM).
    pub fn is_text(self) -> bool {
        self != Modality::Image
    }
}

impl std::fmt::Display for Modality {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// One value per modality, indexed by [`Modality`]. Serialised with the modality names as keys
/// (`{user, item, meta, image}`), so a TOML section such as `[mdrop]` reads naturally.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PerModality<T> {
    pub user: T,
    pub item: T,
    pub meta: T,
    pub image: T,
}

impl<T> PerModality<T> {
    /// A value computed for each modality, in [`Modality::ALL`] order.
    pub fn from_fn(mut f: impl FnMut(Modality) -> T) -> Self {
        Self {
            user: f(Modality::User),
            item: f(Modality::Item),
            meta: f(Modality::Meta),
            image: f(Modality::Image),
        }
    }

    /// As [`PerModality::from_fn`] with a fallible `f`, stopping at the first error (in
    /// [`Modality::ALL`] order).
    pub fn try_from_fn<E>(mut f: impl FnMut(Modality) -> Result<T, E>) -> Result<Self, E> {
        Ok(Self {
            user: f(Modality::User)?,
            item: f(Modality::Item)?,
            meta: f(Modality::Meta)?,
            image: f(Modality::Image)?,
        })
    }

    /// The same value for every modality.
    pub fn splat(value: T) -> Self
    where
        T: Clone,
    {
        Self::from_fn(|_| value.clone())
    }

    /// Each modality with its value, in [`Modality::ALL`] order.
    pub fn iter(&self) -> impl Iterator<Item = (Modality, &T)> {
        Modality::ALL.into_iter().map(move |m| (m, &self[m]))
    }

    /// A new container from each modality's value.
    pub fn map<U>(self, mut f: impl FnMut(Modality, T) -> U) -> PerModality<U> {
        PerModality {
            user: f(Modality::User, self.user),
            item: f(Modality::Item, self.item),
            meta: f(Modality::Meta, self.meta),
            image: f(Modality::Image, self.image),
        }
    }

    /// References to each value.
    pub fn as_ref(&self) -> PerModality<&T> {
        PerModality {
            user: &self.user,
            item: &self.item,
            meta: &self.meta,
            image: &self.image,
        }
    }

    /// The values in [`Modality::ALL`] order.
    pub fn to_array(self) -> [T; 4] {
        [self.user, self.item, self.meta, self.image]
    }
}

impl<T> Index<Modality> for PerModality<T> {
    type Output = T;

    fn index(&self, m: Modality) -> &T {
        match m {
            Modality::User => &self.user,
            Modality::Item => &self.item,
            Modality::Meta => &self.meta,
            Modality::Image => &self.image,
        }
    }
}

impl<T> IndexMut<Modality> for PerModality<T> {
    fn index_mut(&mut self, m: Modality) -> &mut T {
        match m {
            Modality::User => &mut self.user,
            Modality::Item => &mut self.item,
            Modality::Meta => &mut self.meta,
            Modality::Image => &mut self.image,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn index_matches_tensor_order() {
        for (i, m) in Modality::ALL.into_iter().enumerate() {
            assert_eq!(m.index(), i);
        }
        assert_eq!(
            Modality::ALL.map(Modality::letter),
            ['U', 'O', 'M', 'V'],
            "the paper's letters"
        );
        assert!(Modality::TEXT.iter().all(|m| m.is_text()));
        assert!(!Modality::Image.is_text());
    }

    #[test]
    fn per_modality_indexing_and_order() {
        let mut p = PerModality::from_fn(|m| m.index() * 10);
        p[Modality::Meta] += 1;
        assert_eq!(p.to_array(), [0, 10, 21, 30]);
        let names: Vec<_> = p.iter().map(|(m, _)| m.name()).collect();
        assert_eq!(names, ["user", "item", "meta", "image"]);
        assert_eq!(p.map(|m, v| v + m.index()).image, 33);
    }

    #[test]
    fn per_modality_serde_uses_names_and_rejects_unknown_keys() {
        let p: PerModality<f64> =
            serde_json::from_str(r#"{"user":0.1,"item":0.2,"meta":0.3,"image":0.4}"#).unwrap();
        assert_eq!(p[Modality::Meta], 0.3);
        assert!(serde_json::from_str::<PerModality<f64>>(
            r#"{"user":0.1,"item":0.2,"meta":0.3,"image":0.4,"audio":1}"#
        )
        .is_err());
    }
}
