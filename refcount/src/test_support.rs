//! What the unit tests share: a value that counts its drops, in a `Brc`.

use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::sync::Arc;

use crate::Brc;

/// Counts how many times values tagged with it were dropped.
pub(crate) struct Tracked(pub(crate) Arc<AtomicUsize>);

impl Drop for Tracked {
    fn drop(&mut self) {
        self.0.fetch_add(1, SeqCst);
    }
}

/// A new `Brc<Tracked>` owned by this thread, and its drop counter.
pub(crate) fn tracked() -> (Brc<Tracked>, Arc<AtomicUsize>) {
    let drops = Arc::new(AtomicUsize::new(0));
    (Brc::new(Tracked(Arc::clone(&drops))), drops)
}
