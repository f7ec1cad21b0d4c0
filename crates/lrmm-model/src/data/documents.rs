//! A sample's text documents (paper section 2.1), assembled from a [`Dataset`]:
//!
//! * U — the user's *training* reviews except the sample's own row (unless `leak_target`), in
//!   the configured order, concatenated, first L tokens;
//! * O — the item's document, likewise from the item's training reviews;
//! * M — the first L tokens of the item's metadata.
//!
//! An empty document means the modality is missing for that sample.

use lrmm_core::Modality;

use super::dataset::Dataset;
use crate::config::DataConfig;

impl Dataset {
    /// Concatenates the reviews of `history` (skipping `target` unless `leak_target`) into
    /// `out`, cut after `max_len` tokens.
    fn history_document(
        &self,
        history: &[u32],
        target: usize,
        docs: &DataConfig,
        out: &mut Vec<u32>,
    ) {
        out.clear();
        for &r in history {
            if r as usize == target && !docs.leak_target {
                continue;
            }
            let review = self.review(r as usize);
            let room = docs.max_len - out.len();
            out.extend_from_slice(&review[..review.len().min(room)]);
            if out.len() == docs.max_len {
                break;
            }
        }
    }

    /// The user document of sample `row` (at most `max_len` tokens; empty = missing).
    pub fn user_document(&self, row: usize, docs: &DataConfig, out: &mut Vec<u32>) {
        let history = self.histories().user(self.user_id[row] as usize);
        self.history_document(history, row, docs, out);
    }

    /// The item document of sample `row`.
    pub fn item_document(&self, row: usize, docs: &DataConfig, out: &mut Vec<u32>) {
        let history = self.histories().item(self.item_id[row] as usize);
        self.history_document(history, row, docs, out);
    }

    /// The metadata document of sample `row`: its item's metadata, first `max_len` tokens.
    pub fn meta_document(&self, row: usize, docs: &DataConfig, out: &mut Vec<u32>) {
        let meta = self.metadata(self.item_id[row] as usize);
        out.clear();
        out.extend_from_slice(&meta[..meta.len().min(docs.max_len)]);
    }

    /// The document of text modality `m` for sample `row`.
    ///
    /// # Panics
    /// For [`Modality::Image`], which has no document.
    pub fn document(&self, m: Modality, row: usize, docs: &DataConfig, out: &mut Vec<u32>) {
        match m {
            Modality::User => self.user_document(row, docs, out),
            Modality::Item => self.item_document(row, docs, out),
            Modality::Meta => self.meta_document(row, docs, out),
            Modality::Image => panic!("the image modality has no text document"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::dataset::tiny_dataset;
    use super::*;
    use crate::config::DocOrder;

    #[test]
    fn documents_leave_out_the_target_and_follow_the_order() {
        let ds = tiny_dataset();
        let docs = DataConfig {
            max_len: 100,
            leak_target: false,
            order: DocOrder::RecentFirst,
        };
        let mut out = Vec::new();
        ds.user_document(0, &docs, &mut out);
        assert_eq!(
            out,
            vec![4, 5, 6],
            "row 0's own review must not be in its user document"
        );
        ds.user_document(2, &docs, &mut out);
        assert_eq!(
            out,
            vec![4, 5, 6, 2, 3],
            "valid row: all training reviews, newest first"
        );
        ds.item_document(1, &docs, &mut out);
        assert_eq!(out, vec![8, 9]);
        let leak = DataConfig {
            leak_target: true,
            ..docs.clone()
        };
        ds.user_document(0, &leak, &mut out);
        assert_eq!(out, vec![4, 5, 6, 2, 3]);
        let short = DataConfig { max_len: 4, ..docs };
        ds.user_document(2, &short, &mut out);
        assert_eq!(out, vec![4, 5, 6, 2]);
        ds.item_document(3, &short, &mut out);
        assert_eq!(out, vec![4, 5, 6], "item 1 without row 3 itself");
    }

    #[test]
    fn metadata_documents_are_cut_at_max_len() {
        let ds = tiny_dataset();
        let short = DataConfig {
            max_len: 1,
            ..DataConfig::default()
        };
        let mut out = vec![99];
        ds.document(Modality::Meta, 0, &short, &mut out);
        assert_eq!(out, vec![10]);
        ds.document(Modality::Meta, 3, &short, &mut out);
        assert!(out.is_empty(), "item 1 has no metadata");
    }
}
