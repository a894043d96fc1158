//! The live-object counter: how tests prove that dropping a runtime frees
//! everything.
//!
//! Every object allocation adds one and every free subtracts one
//! (immortal objects are not counted). The counter is process-wide, so a
//! test that asserts it returns to zero must not run beside another test
//! that allocates runtime objects.
//!
//! One shared counter would put an atomic read-modify-write on a single
//! cache line into every allocation of every thread, and interpreters
//! running in parallel would fight over that line. So the count is split
//! into cache-line-sized shards; each thread counts on its own shard (an
//! uncontended atomic add), and a read sums them. A shard can go negative
//! (an object allocated on one thread and freed on another); the sum is
//! exact whenever no thread is allocating or freeing.

use core::cell::Cell;

use crate::sync::{lazy_global, AtomicIsize, AtomicUsize, Ordering::Relaxed};

/// Shards: enough that threads rarely share one.
const SHARDS: usize = 64;

/// One shard, alone on its cache lines (128 bytes: adjacent-line
/// prefetchers pair 64-byte lines).
#[repr(align(128))]
struct Shard(AtomicIsize);

lazy_global!(fn shards() -> [Shard; SHARDS] = core::array::from_fn(|_| Shard(AtomicIsize::new(0))));

lazy_global!(fn next_shard() -> AtomicUsize = AtomicUsize::new(0));

std::thread_local! {
    /// This thread's shard index, or `usize::MAX` before the first count.
    static SHARD: Cell<usize> = const { Cell::new(usize::MAX) };
}

/// The calling thread's shard.
#[inline]
fn shard() -> &'static AtomicIsize {
    let index = SHARD
        .try_with(|shard| {
            if shard.get() == usize::MAX {
                // Relaxed: any spread of indices is correct; round robin
                // keeps threads apart.
                shard.set(next_shard().fetch_add(1, Relaxed) % SHARDS);
            }
            shard.get()
        })
        .unwrap_or(0);
    &shards()[index].0
}

/// Objects allocated and not yet freed, in every runtime of the process.
pub fn live_objects() -> usize {
    // Relaxed: a statistic; tests read it after joining every thread.
    let sum: isize = shards().iter().map(|shard| shard.0.load(Relaxed)).sum();
    usize::try_from(sum).unwrap_or(0)
}

#[inline]
pub(crate) fn allocated() {
    // Relaxed: a statistic.
    shard().fetch_add(1, Relaxed);
}

#[inline]
pub(crate) fn freed() {
    // Relaxed: a statistic.
    shard().fetch_sub(1, Relaxed);
}
