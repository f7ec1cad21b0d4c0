//! [`spawn_batches`]: assembles the batches of an epoch on a worker thread, a few ahead of the
//! training loop, so document assembly overlaps with the model's forward and backward passes.

use std::sync::mpsc::{sync_channel, Receiver};
use std::sync::Arc;
use std::thread::JoinHandle;

use super::batch::{assemble, Batch};
use super::dataset::Dataset;
use super::noise::TrainNoise;
use crate::config::DataConfig;

/// Batches assembled ahead of the consumer; bounds the memory the worker may run ahead with.
const BATCHES_AHEAD: usize = 4;

/// Assembles the batches of `rows` (in the given order) on a background thread, a few ahead of
/// the consumer. The thread ends when every batch is sent or the receiver is dropped.
pub fn spawn_batches(
    ds: Arc<Dataset>,
    rows: Vec<usize>,
    batch_size: usize,
    docs: DataConfig,
    mut noise: Option<TrainNoise>,
) -> (Receiver<Batch>, JoinHandle<()>) {
    let (tx, rx) = sync_channel(BATCHES_AHEAD);
    let handle = std::thread::spawn(move || {
        for chunk in rows.chunks(batch_size) {
            let batch = assemble(&ds, chunk, &docs, &[], noise.as_mut());
            if tx.send(batch).is_err() {
                return;
            }
        }
    });
    (rx, handle)
}
