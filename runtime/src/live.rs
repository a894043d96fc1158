//! The live-object counter: how tests prove that dropping a runtime frees
//! everything.
//!
//! Every object allocation adds one and every free subtracts one
//! (immortal objects are not counted). The counter is process-wide, so a
//! test that asserts it returns to zero must not run beside another test
//! that allocates runtime objects.

use crate::sync::{lazy_global, AtomicUsize, Ordering::Relaxed};

lazy_global!(fn counter() -> AtomicUsize = AtomicUsize::new(0));

/// Objects allocated and not yet freed, in every runtime of the process.
pub fn live_objects() -> usize {
    // Relaxed: a statistic; tests read it after joining every thread.
    counter().load(Relaxed)
}

pub(crate) fn allocated() {
    // Relaxed: a statistic.
    counter().fetch_add(1, Relaxed);
}

pub(crate) fn freed() {
    // Relaxed: a statistic.
    counter().fetch_sub(1, Relaxed);
}
