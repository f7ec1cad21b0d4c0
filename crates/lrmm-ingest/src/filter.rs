//! Which reviews are kept: one per (user, item) pair, an optional user sample for smoke runs,
//! an optional k-core. Each works on row indices into the [`ReviewTable`].

use lrmm_core::SeededRng;

use crate::read::ReviewTable;

/// Keeps one review per (user, item) pair: the most recent one (largest `unixReviewTime`; on a
/// tie, the later line), since a re-review is the user's current opinion. Returns the kept rows
/// in file order and the number dropped.
pub fn dedup_latest<T>(table: &ReviewTable<T>) -> (Vec<usize>, usize) {
    let mut best: polars::prelude::PlHashMap<(u32, u32), usize> =
        polars::prelude::PlHashMap::with_capacity_and_hasher(table.len(), Default::default());
    for row in 0..table.len() {
        best.entry((table.user[row], table.item[row]))
            .and_modify(|kept| {
                if table.unix_time[row] >= table.unix_time[*kept] {
                    *kept = row;
                }
            })
            .or_insert(row);
    }
    let mut rows: Vec<usize> = best.into_values().collect();
    rows.sort_unstable();
    let dropped = table.len() - rows.len();
    (rows, dropped)
}

/// Keeps every review of `n` users drawn at random (by `seed`) among those in `rows`.
pub fn sample_users<T>(table: &ReviewTable<T>, rows: &[usize], n: usize, seed: u64) -> Vec<usize> {
    let mut users: Vec<u32> = rows.iter().map(|&r| table.user[r]).collect();
    users.sort_unstable_by(|a, b| {
        table.users.names[*a as usize].cmp(&table.users.names[*b as usize])
    });
    users.dedup();
    SeededRng::derive(seed, "sample-users").shuffle(&mut users);
    let mut chosen = vec![false; table.users.len()];
    for &u in users.iter().take(n) {
        chosen[u as usize] = true;
    }
    rows.iter()
        .copied()
        .filter(|&r| chosen[table.user[r] as usize])
        .collect()
}

/// Repeatedly removes users and items with fewer than `k` reviews until none is left.
pub fn k_core<T>(table: &ReviewTable<T>, mut rows: Vec<usize>, k: usize) -> Vec<usize> {
    loop {
        let mut per_user = vec![0usize; table.users.len()];
        let mut per_item = vec![0usize; table.items.len()];
        for &r in &rows {
            per_user[table.user[r] as usize] += 1;
            per_item[table.item[r] as usize] += 1;
        }
        let before = rows.len();
        rows.retain(|&r| {
            per_user[table.user[r] as usize] >= k && per_item[table.item[r] as usize] >= k
        });
        if rows.len() == before {
            return rows;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table(rows: &[(&str, &str, i64)]) -> ReviewTable {
        let mut t: ReviewTable = ReviewTable::default();
        for (u, i, time) in rows {
            t.user.push(t.users.intern((*u).to_string()));
            t.item.push(t.items.intern((*i).to_string()));
            t.rating.push(3.0);
            t.unix_time.push(*time);
            t.text.push("");
        }
        t
    }

    #[test]
    fn dedup_keeps_latest_and_later_line_on_ties() {
        let t = table(&[
            ("u", "a", 5),
            ("u", "a", 9),
            ("u", "a", 7),
            ("v", "a", 1),
            ("v", "a", 1),
            ("u", "b", 0),
        ]);
        let (rows, dropped) = dedup_latest(&t);
        assert_eq!(rows, vec![1, 4, 5]);
        assert_eq!(dropped, 3);
    }

    #[test]
    fn k_core_is_iterative() {
        // Removing item c (1 review) leaves user w with 1 review, which must go too.
        let t = table(&[
            ("u", "a", 0),
            ("u", "b", 0),
            ("v", "a", 0),
            ("v", "b", 0),
            ("w", "a", 0),
            ("w", "c", 0),
        ]);
        let rows = k_core(&t, (0..t.len()).collect(), 2);
        assert_eq!(rows, vec![0, 1, 2, 3]);
    }

    #[test]
    fn user_sample_keeps_all_reviews_of_chosen_users() {
        let t = table(&[
            ("u", "a", 0),
            ("v", "a", 0),
            ("u", "b", 0),
            ("w", "c", 0),
            ("v", "c", 0),
        ]);
        let all: Vec<usize> = (0..t.len()).collect();
        let rows = sample_users(&t, &all, 2, 1);
        let users: std::collections::BTreeSet<u32> = rows.iter().map(|&r| t.user[r]).collect();
        assert_eq!(users.len(), 2);
        for r in 0..t.len() {
            assert_eq!(rows.contains(&r), users.contains(&t.user[r]));
        }
        assert_eq!(rows, sample_users(&t, &all, 2, 1));
    }
}
