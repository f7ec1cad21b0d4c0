//! [`PerText`]: one value per *text* modality (U, O, M), indexed by [`Modality`].
//!
//! The three LSTM-encoded modalities have their own encoders, padded token batches and dropout
//! masks; the image has none of these. [`lrmm_core::PerModality`] holds a value for all four;
//! this holds one for [`Modality::TEXT`] only, so that code which handles text never needs a
//! placeholder for the image, nor a bare index.

use std::ops::{Index, IndexMut};

use lrmm_core::Modality;

/// A value for each of [`Modality::TEXT`] (user, item, meta).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct PerText<T> {
    pub user: T,
    pub item: T,
    pub meta: T,
}

impl<T> PerText<T> {
    /// A value computed for each text modality, in [`Modality::TEXT`] order.
    pub fn from_fn(mut f: impl FnMut(Modality) -> T) -> Self {
        Self {
            user: f(Modality::User),
            item: f(Modality::Item),
            meta: f(Modality::Meta),
        }
    }

    /// As [`PerText::from_fn`] with a fallible `f`, stopping at the first error (in
    /// [`Modality::TEXT`] order).
    pub fn try_from_fn<E>(mut f: impl FnMut(Modality) -> Result<T, E>) -> Result<Self, E> {
        Ok(Self {
            user: f(Modality::User)?,
            item: f(Modality::Item)?,
            meta: f(Modality::Meta)?,
        })
    }

    /// Each text modality with its value, in [`Modality::TEXT`] order.
    pub fn iter(&self) -> impl Iterator<Item = (Modality, &T)> {
        Modality::TEXT.into_iter().map(move |m| (m, &self[m]))
    }

    /// A new container from each text modality's value.
    pub fn map<U>(self, mut f: impl FnMut(Modality, T) -> U) -> PerText<U> {
        PerText {
            user: f(Modality::User, self.user),
            item: f(Modality::Item, self.item),
            meta: f(Modality::Meta, self.meta),
        }
    }

    /// References to each value.
    pub fn as_ref(&self) -> PerText<&T> {
        PerText {
            user: &self.user,
            item: &self.item,
            meta: &self.meta,
        }
    }

    /// The value of `m`, or `None` for the image.
    pub fn get(&self, m: Modality) -> Option<&T> {
        match m {
            Modality::User => Some(&self.user),
            Modality::Item => Some(&self.item),
            Modality::Meta => Some(&self.meta),
            Modality::Image => None,
        }
    }
}

impl<T> Index<Modality> for PerText<T> {
    type Output = T;

    /// Panics for [`Modality::Image`], which is not text.
    fn index(&self, m: Modality) -> &T {
        self.get(m)
            .unwrap_or_else(|| panic!("{m:?} is not a text modality"))
    }
}

impl<T> IndexMut<Modality> for PerText<T> {
    /// Panics for [`Modality::Image`], which is not text.
    fn index_mut(&mut self, m: Modality) -> &mut T {
        match m {
            Modality::User => &mut self.user,
            Modality::Item => &mut self.item,
            Modality::Meta => &mut self.meta,
            Modality::Image => panic!("{m:?} is not a text modality"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_order_and_indexing() {
        let mut p = PerText::from_fn(|m| m.index());
        p[Modality::Meta] += 10;
        let got: Vec<_> = p.iter().map(|(m, &v)| (m, v)).collect();
        assert_eq!(
            got,
            [
                (Modality::User, 0),
                (Modality::Item, 1),
                (Modality::Meta, 12)
            ]
        );
        assert!(p.get(Modality::Image).is_none());
        let r: Result<PerText<usize>, &str> = PerText::try_from_fn(|m| {
            if m == Modality::Item {
                Err("item")
            } else {
                Ok(0)
            }
        });
        assert_eq!(r, Err("item"));
    }

    #[test]
    #[should_panic(expected = "not a text modality")]
    fn the_image_is_not_text() {
        let p = PerText::from_fn(|_| 0u8);
        let _ = p[Modality::Image];
    }
}
