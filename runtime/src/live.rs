//! The live-object counter: how tests prove that dropping a runtime frees
//! everything.
//!
//! Every object allocation adds one and every free subtracts one
//! (immortal objects are not counted). The counter is process-wide, so a
//! test that asserts it returns to zero must not run beside another test
//! that allocates runtime objects.
//!
//! # Cost
//!
//! The count is taken on every allocation and every free, so it must cost
//! less than an atomic read-modify-write: a `lock`-prefixed add is some
//! twenty cycles, a sixth of what a float's whole allocate-compute-free
//! costs in the interpreter. So each thread counts in a counter of its own
//! ([`Counter`]) that no other thread writes: a plain load and a plain
//! store, with no `lock` prefix, on a line no other thread writes. A
//! counter can go negative (an object allocated on one thread and freed on
//! another); [`live_objects`] sums every counter.
//!
//! # Threads come and go
//!
//! A thread takes a counter from the registry on its first count (a free
//! one if there is one, else a new one, leaked: there are never more
//! counters than threads ever alive at once). When the thread exits, its
//! count is folded into `retired` and its counter, zeroed, goes back to
//! the free list. Folding and summing both hold the registry's lock, so a
//! sum never sees a count twice or not at all. A thread that counts after
//! its own counter is gone (an object freed by a thread-local destructor
//! at exit) counts in `retired` directly, with an atomic add.
//!
//! # Exactness
//!
//! The sum is exact whenever no thread is allocating or freeing, which is
//! how tests read it: after joining every thread (a join orders the joined
//! thread's stores, its exit's fold included, before the read). The
//! counter is a statistic outside every loom model, so it uses the
//! shim's [`stat`](crate::sync::stat) atomics and lock, never loom's.

use crate::sync::stat::{lock, AtomicIsize, Mutex, Ordering::Relaxed};

/// One thread's count, alone on its cache lines (128 bytes: adjacent-line
/// prefetchers pair 64-byte lines). Only the thread that holds it writes
/// it, except when it is folded into `retired` under the registry's lock
/// (the thread is gone by then).
#[repr(align(128))]
struct Counter(AtomicIsize);

/// Every counter ever made, which threads hold and which are free, and
/// the counts of threads that have exited.
struct Registry {
    all: Vec<&'static Counter>,
    free: Vec<&'static Counter>,
}

static REGISTRY: Mutex<Registry> = Mutex::new(Registry {
    all: Vec::new(),
    free: Vec::new(),
});

/// The counts of exited threads, and counts made after a thread's counter
/// was given back.
static RETIRED: AtomicIsize = AtomicIsize::new(0);

/// A thread's hold on its counter: given back when the thread exits.
struct Held(&'static Counter);

impl Held {
    fn take() -> Self {
        let mut registry = lock(&REGISTRY);
        let counter = registry.free.pop().unwrap_or_else(|| {
            let counter: &'static Counter = Box::leak(Box::new(Counter(AtomicIsize::new(0))));
            registry.all.push(counter);
            counter
        });
        Held(counter)
    }
}

impl Drop for Held {
    fn drop(&mut self) {
        let mut registry = lock(&REGISTRY);
        // Relaxed: the registry's lock orders these against a sum.
        RETIRED.fetch_add(self.0 .0.swap(0, Relaxed), Relaxed);
        registry.free.push(self.0);
    }
}

std::thread_local! {
    static HELD: Held = Held::take();
}

/// Adds `delta` to the calling thread's count.
#[inline]
fn count(delta: isize) {
    let counted = HELD.try_with(|held| {
        let counter = &held.0 .0;
        // Relaxed load and store, not an add: only this thread writes its
        // counter while it holds it.
        counter.store(counter.load(Relaxed) + delta, Relaxed);
    });
    if counted.is_err() {
        // Relaxed: a statistic.
        RETIRED.fetch_add(delta, Relaxed);
    }
}

/// Objects allocated and not yet freed, in every runtime of the process.
pub fn live_objects() -> usize {
    let registry = lock(&REGISTRY);
    // Relaxed: a statistic; tests read it after joining every thread.
    let held: isize = registry.all.iter().map(|c| c.0.load(Relaxed)).sum();
    usize::try_from(held + RETIRED.load(Relaxed)).unwrap_or(0)
}

#[inline]
pub(crate) fn allocated() {
    count(1);
}

#[inline]
pub(crate) fn freed() {
    count(-1);
}
