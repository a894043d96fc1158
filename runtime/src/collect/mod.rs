//! The cycle collector: reference counting frees everything except cycles;
//! this frees the cycles, across interpreters.
//!
//! # Mechanism
//!
//! * **Tracking** (`collect/tracked.rs`): every container (`List`, `Dict`, `Slot`,
//!   `Native`) is linked into its interpreter's tracked set when it is
//!   allocated and unlinked when it is freed — a lock that only that
//!   interpreter's threads take, and a 32-byte link in front of the header.
//! * **Triggering**: each mutator counts its container allocations in a
//!   plain cell and adds them to the runtime's total once per
//!   [`ALLOCATION_BATCH`] (the per-thread buffering of CPython's
//!   free-threaded build, which keeps the shared counter off the allocation
//!   path). When the total since the last collection passes the threshold —
//!   [`DEFAULT_THRESHOLD`], or the number of containers that survived the
//!   last collection if that is larger, so collection work stays
//!   proportional to allocation — the allocating mutator collects. Any
//!   mutator can also call [`Mutator::collect`](crate::Mutator::collect).
//! * **Collecting** (`collect/scan.rs`): the collector stops the world, so every
//!   other mutator of every interpreter has merged and flushed and is
//!   parked; computes `gc_refs = count − internal references` over the
//!   tracked objects of *all* interpreters (so a cycle through two
//!   interpreters' objects is found like any other); marks what is
//!   reachable from objects with external references; and takes a counted
//!   reference to the rest. The world then resumes: nobody can reach the
//!   garbage, so the collector empties the garbage containers and drops
//!   its references outside the pause, and the counting protocol frees
//!   the objects (for biased counting, on their owners' next merge).
//!
//! Under [`Deferred`](crate::Deferred), decrements wait an epoch before they
//! reach the header, so a count can be higher than the truth during a
//! collection. That is safe: the object looks externally referenced and is
//! kept; a later collection, after the decrement lands, frees it.
//!
//! # What the collector cannot free
//!
//! A garbage container is emptied through its type: lists, dicts and slots
//! always can be; an embedder's native type can through
//! [`NativeObject::clear`](crate::NativeObject::clear). A cycle made only of
//! native objects that do not implement `clear` (and tuples) stays alive,
//! as in CPython an object without `tp_clear` cannot break a cycle.
//!
//! # Contract
//!
//! Objects may be touched only by threads attached to an interpreter of
//! their runtime (as [`Gil`](crate::Gil) already requires for counting):
//! the collector relies on the stopped world to read counts that nobody
//! changes.

pub(crate) mod scan;
pub(crate) mod tracked;

use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::object::Ref;
use crate::policy::RuntimePolicy;
use crate::runtime::RuntimeInner;
use crate::sync::{
    lock, AtomicBool, AtomicUsize, Mutex,
    Ordering::{Acquire, Relaxed, Release},
};
use tracked::TrackedSet;

/// Container allocations a mutator counts locally before adding them to the
/// runtime's total.
pub const ALLOCATION_BATCH: u32 = 256;

/// Container allocations between automatic collections (at least; see the
/// [module docs](self)).
pub const DEFAULT_THRESHOLD: usize = 10_000;

/// What one collection did.
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq)]
pub struct CollectionReport {
    /// Objects scanned: the tracked containers that are not frozen, and the
    /// tuples reached from them.
    pub scanned: usize,
    /// Objects found unreachable and released (freed now, or by their
    /// owner's next merge under biased counting).
    pub unreachable: usize,
    /// Containers tracked in every interpreter while the world was stopped:
    /// the live ones, the garbage, and those already being freed.
    pub tracked: usize,
    /// How long the world was stopped.
    pub pause: Duration,
}

/// Totals over every collection of a runtime.
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq)]
pub struct GcStats {
    /// Collections run.
    pub collections: u64,
    /// Objects scanned, summed.
    pub scanned: u64,
    /// Objects found unreachable, summed.
    pub unreachable: u64,
    /// Time the world was stopped, summed.
    pub total_pause: Duration,
    /// The longest pause.
    pub max_pause: Duration,
    /// The most containers tracked at any collection (see
    /// [`CollectionReport::tracked`]): a bound on the memory the cycle
    /// garbage took between collections.
    pub max_tracked: usize,
    /// The latest collection (automatic or on demand).
    pub last: CollectionReport,
}

/// A runtime's collector state.
pub(crate) struct GcState {
    /// Every interpreter's tracked set, including sets of dropped
    /// interpreters while they have members. Locked to add an interpreter
    /// and, briefly, by each collection.
    sets: Mutex<Vec<Arc<TrackedSet>>>,
    /// Container allocations between automatic collections; 0 disables them.
    threshold: AtomicUsize,
    /// Container allocations reported since the last collection.
    allocations: AtomicUsize,
    /// Containers tracked after the last collection.
    survivors: AtomicUsize,
    /// A collection is running: a second one started meanwhile is skipped.
    collecting: AtomicBool,
    /// Totals, updated after each collection.
    stats: Mutex<GcStats>,
}

impl GcState {
    pub(crate) fn new() -> Self {
        GcState {
            sets: Mutex::new(Vec::new()),
            threshold: AtomicUsize::new(DEFAULT_THRESHOLD),
            allocations: AtomicUsize::new(0),
            survivors: AtomicUsize::new(0),
            collecting: AtomicBool::new(false),
            stats: Mutex::new(GcStats::default()),
        }
    }

    /// A tracked set for a new interpreter.
    pub(crate) fn new_set(&self) -> Arc<TrackedSet> {
        let set = TrackedSet::new();
        lock(&self.sets).push(Arc::clone(&set));
        set
    }

    /// Containers tracked now, in every interpreter.
    pub(crate) fn tracked(&self) -> usize {
        members(&lock(&self.sets))
    }

    pub(crate) fn set_threshold(&self, threshold: Option<usize>) {
        // Relaxed: a setting; a collection decided on the old value is fine.
        self.threshold.store(threshold.unwrap_or(0), Relaxed);
    }

    pub(crate) fn stats(&self) -> GcStats {
        *lock(&self.stats)
    }

    /// Adds a mutator's batch of container allocations; says whether a
    /// collection is due.
    pub(crate) fn note_allocations(&self, batch: u32) -> bool {
        // Relaxed: counters for a heuristic; no data is published through
        // them.
        let threshold = self.threshold.load(Relaxed);
        let total = self.allocations.fetch_add(batch as usize, Relaxed) + batch as usize;
        threshold != 0 && total >= threshold.max(self.survivors.load(Relaxed))
    }
}

impl<P: RuntimePolicy> RuntimeInner<P> {
    /// Runs one collection. `stop` stops the world (as a mutator, or from a
    /// thread that is not one); the release phase runs under the global lock
    /// if the policy has one (`with_gil` takes it only if this thread does
    /// not hold it already). An empty report if another collection is
    /// running.
    pub(crate) fn collect<W>(&self, stop: impl FnOnce() -> W) -> CollectionReport {
        let gc = &self.gc;
        // Acquire: pairs with the Release in `Collecting::drop`, so this
        // collection starts after the previous one's updates.
        if gc
            .collecting
            .compare_exchange(false, true, Acquire, Relaxed)
            .is_err()
        {
            return CollectionReport::default();
        }
        let _collecting = Collecting(&gc.collecting);
        let span = tracing::info_span!(
            target: "brisk::gc",
            "collect",
            scanned = tracing::field::Empty,
            unreachable = tracing::field::Empty,
            pause_us = tracing::field::Empty,
        )
        .entered();
        let start = Instant::now();
        let stopped = stop();
        let sets = {
            let mut sets = lock(&gc.sets);
            // Sets of dropped interpreters that have emptied are let go.
            sets.retain(|set| Arc::strong_count(set) > 1 || set.len() > 0);
            sets.clone()
        };
        let tracked = members(&sets);
        // SAFETY: `stop` stopped the world (the caller's contract).
        let found = unsafe { scan::find_garbage::<P>(&sets) };
        drop(stopped);
        let pause = start.elapsed();
        let report = CollectionReport {
            scanned: found.scanned,
            unreachable: found.garbage.len(),
            tracked,
            pause,
        };
        self.with_gil(|| release(found.garbage, &self.singletons.none));
        // Relaxed: heuristics (see `note_allocations`).
        gc.allocations.store(0, Relaxed);
        gc.survivors.store(members(&sets), Relaxed);
        let mut stats = lock(&gc.stats);
        stats.collections += 1;
        stats.scanned += report.scanned as u64;
        stats.unreachable += report.unreachable as u64;
        stats.total_pause += pause;
        stats.max_pause = stats.max_pause.max(pause);
        stats.max_tracked = stats.max_tracked.max(tracked);
        stats.last = report;
        drop(stats);
        span.record("scanned", report.scanned);
        span.record("unreachable", report.unreachable);
        span.record("pause_us", pause.as_micros() as u64);
        report
    }
}

/// Members of `sets`, summed.
pub(crate) fn members(sets: &[Arc<TrackedSet>]) -> usize {
    sets.iter().map(|set| set.len()).sum()
}

/// Ends a collection, also when a native type's `trace` or `clear` panics.
struct Collecting<'a>(&'a AtomicBool);

impl Drop for Collecting<'_> {
    fn drop(&mut self) {
        // Release: pairs with the Acquire of the next collection's exchange.
        self.0.store(false, Release);
    }
}

/// Breaks the garbage cycles: empties every garbage container, then drops
/// the references the scan took, and the counting protocol frees the rest.
#[cold]
#[inline(never)] // once per collection
fn release<P: RuntimePolicy>(garbage: Vec<Ref<P>>, none: &Ref<P>) {
    let mut released = Vec::new();
    for object in &garbage {
        object.clear_for_collector(none, &mut released);
    }
    // Garbage members lose their internal references here but stay alive
    // through `garbage`; everything else they held may be freed.
    drop(released);
    drop(garbage);
}

impl Drop for GcState {
    fn drop(&mut self) {
        for set in lock(&self.sets).drain(..) {
            TrackedSet::release(set);
        }
    }
}
