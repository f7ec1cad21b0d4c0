//! Each user's and each item's training rows, in the order their reviews fill a document.
//!
//! Only training rows enter a history, so validation and test reviews never leak into any
//! sample's input; the order is by time (ties by row), newest first unless configured otherwise.

use lrmm_core::Split;

use crate::config::DocOrder;

/// Training rows (indices into `interactions.parquet`) per user and per item, in document order.
#[derive(Debug, Clone, Default)]
pub struct Histories {
    users: Vec<Vec<u32>>,
    items: Vec<Vec<u32>>,
}

impl Histories {
    /// Indexes the training rows of the given columns (one entry per interaction row).
    pub fn index(
        user_id: &[u32],
        item_id: &[u32],
        unix_time: &[i64],
        split: &[Split],
        (n_users, n_items): (usize, usize),
        order: DocOrder,
    ) -> Self {
        let mut users = vec![Vec::new(); n_users];
        let mut items = vec![Vec::new(); n_items];
        for r in 0..user_id.len() {
            if split[r] == Split::Train {
                users[user_id[r] as usize].push(r as u32);
                items[item_id[r] as usize].push(r as u32);
            }
        }
        for h in users.iter_mut().chain(items.iter_mut()) {
            h.sort_by_key(|&r| (unix_time[r as usize], r));
            if order == DocOrder::RecentFirst {
                h.reverse();
            }
        }
        Self { users, items }
    }

    /// The training rows of user `user`.
    pub fn user(&self, user: usize) -> &[u32] {
        &self.users[user]
    }

    /// The training rows of item `item`.
    pub fn item(&self, item: usize) -> &[u32] {
        &self.items[item]
    }
}
