//! The cycle collector: reference counting frees everything except cycles;
//! this frees the cycles, across interpreters.
//!
//! # Mechanism
//!
//! * **Tracking** (`object/tracked.rs`): every container (`List`, `Dict`, `Slot`,
//!   `Native`) is linked into its interpreter's tracked set when it is
//!   allocated and unlinked when it is freed — a lock that only that
//!   interpreter's threads take, and a 32-byte link in front of the header.
//! * **Triggering**: each mutator counts its container allocations in a
//!   plain cell and adds them to the runtime's total once per
//!   [`ALLOCATION_BATCH`] (the per-thread buffering of CPython's
//!   free-threaded build, which keeps the shared counter off the allocation
//!   path). When the total since the last collection passes the threshold —
//!   [`DEFAULT_THRESHOLD`], or the number of live containers the last
//!   collection found if that is larger, so collection work stays
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
//! # Keeping up with several mutators
//!
//! The threshold must follow the live data, never the garbage: if garbage
//! raised it, the next collection would come later and find more garbage,
//! which would raise it again, and memory would grow without bound while
//! only one collection in a while ran, with a pause as long as the heap.
//! One mutator alone never shows this; several allocating while one of
//! them collects do. Three rules keep the threshold and the garbage
//! between collections bounded:
//!
//! * **Counted in the stopped world.** The survivor count is taken, and the
//!   allocation count restarted, before the world resumes. Afterwards the
//!   other mutators allocate while the collector releases the garbage; a
//!   count taken after the release would take their new containers for
//!   survivors and forget their allocations.
//! * **Survivors are long-lived.** A container counts as live data only if
//!   this scan and an earlier one both found it alive, as CPython counts
//!   `long_lived_total` from its oldest generation, and never once a scan
//!   condemned it (`scan.rs`). Garbage can look alive for a collection or
//!   two after it is made or found: under biased counting its last
//!   decrement waits in its owner's queue until the owner's merge, and under
//!   [`Deferred`](crate::Deferred) it waits an epoch.
//! * **Back-pressure.** A mutator whose allocations make a collection due
//!   while another thread's collection runs waits (detached) for it to end,
//!   merges, and then collects if one is still due. Releasing the garbage
//!   can take longer than the other mutators take to make as much again;
//!   without the wait, what they allocate during a release would be
//!   unbounded, and each collection would start with more than the last.
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
//! the collector stops only its own runtime's mutators, and relies on the
//! stopped world to read counts that nobody changes and objects that
//! nobody frees.
//!
//! The runtime's own ways of handing objects over keep to it: a
//! [`channel`](crate::channel) belongs to the runtime of the first mutator
//! that uses it and refuses mutators of any other runtime, so no message
//! reaches a thread of another runtime.
//!
//! One breach is not caught. A [`Ref`] is `Send`, so Rust code can move
//! one to a thread that is not attached to its runtime (a plain thread, or
//! a mutator of another runtime) and drop it there; if that drop frees an
//! object while a collection of its runtime is scanning, the collection
//! reads freed memory. The type system does not prevent this, and the
//! runtime does not check it: an embedder must keep each `Ref` on threads
//! of its runtime, or hand it back to one before dropping it.

pub(crate) mod scan;

use std::sync::{Arc, PoisonError};
use std::thread::{self, ThreadId};
use std::time::{Duration, Instant};

use crate::gil::GlobalLock;
use crate::object::tracked::TrackedSet;
use crate::object::Ref;
use crate::policy::RuntimePolicy;
use crate::sync::{lock, AtomicUsize, Condvar, Mutex, Ordering::Relaxed};

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
    /// The live containers the last collection found (see
    /// [`scan::Found::survivors`]), counted while the world was stopped.
    survivors: AtomicUsize,
    /// The thread running a collection, if one is: a second collection
    /// started meanwhile is skipped, and a mutator whose allocations made a
    /// collection due waits on `collection_ended` for this one to end.
    collector: Mutex<Option<ThreadId>>,
    /// Signalled when `collector` goes back to `None`.
    collection_ended: Condvar,
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
            collector: Mutex::new(None),
            collection_ended: Condvar::new(),
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
        let total = self.allocations.fetch_add(batch as usize, Relaxed) + batch as usize;
        self.due_after(total)
    }

    /// Whether the allocations reported since the last collection make one
    /// due.
    pub(crate) fn is_due(&self) -> bool {
        // Relaxed: as in `note_allocations`.
        self.due_after(self.allocations.load(Relaxed))
    }

    /// Whether `total` allocations since the last collection make one due.
    fn due_after(&self, total: usize) -> bool {
        // Relaxed: as in `note_allocations`.
        let threshold = self.threshold.load(Relaxed);
        threshold != 0 && total >= threshold.max(self.survivors.load(Relaxed))
    }

    /// Whether a thread other than the caller is running a collection.
    pub(crate) fn collecting_elsewhere(&self) -> bool {
        lock(&self.collector).is_some_and(|id| id != thread::current().id())
    }

    /// Waits until no thread other than the caller is running a
    /// collection. Call it detached (inside
    /// [`Mutator::blocking`](crate::Mutator::blocking)): the collection
    /// stops the world, and must not wait for the waiter.
    #[cold]
    #[inline(never)] // only when allocation outruns a running collection
    pub(crate) fn wait_for_collection(&self) {
        let me = thread::current().id();
        let mut collector = lock(&self.collector);
        while collector.is_some_and(|id| id != me) {
            collector = self
                .collection_ended
                .wait(collector)
                .unwrap_or_else(PoisonError::into_inner);
        }
    }

    /// Runs one collection. `stop` stops the world (as a mutator, or from a
    /// thread that is not one); the release phase runs under `gil`, the
    /// global lock of runtime `runtime` (a key, see `attached`), if the
    /// policy has one ([`GlobalLock::with`] takes it only if this thread
    /// does not hold it already); `none` is what a cleared container that
    /// must hold a value holds. An empty report if another collection is
    /// running.
    pub(crate) fn collect<P: RuntimePolicy, W>(
        &self,
        stop: impl FnOnce() -> W,
        gil: &GlobalLock,
        runtime: usize,
        none: &Ref<P>,
    ) -> CollectionReport {
        {
            // The lock orders this collection after the previous one's
            // updates.
            let mut collector = lock(&self.collector);
            if collector.is_some() {
                return CollectionReport::default();
            }
            *collector = Some(thread::current().id());
        }
        let _collecting = Collecting(self);
        let span = brisk_refcount::trace::span(|| {
            tracing::info_span!(
                target: "brisk::gc",
                "collect",
                scanned = tracing::field::Empty,
                unreachable = tracing::field::Empty,
                pause_us = tracing::field::Empty,
            )
        })
        .entered();
        let start = Instant::now();
        let stopped = stop();
        let sets = {
            let mut sets = lock(&self.sets);
            // Sets of dropped interpreters that have emptied are let go.
            sets.retain(|set| Arc::strong_count(set) > 1 || set.len() > 0);
            sets.clone()
        };
        let tracked = members(&sets);
        // SAFETY: `stop` stopped the world (the caller's contract).
        let found = unsafe { scan::find_garbage::<P>(&sets) };
        // Counted here, in the stopped world, not after the release below:
        // see "Counted in the stopped world" in the module docs. Relaxed:
        // heuristics (see `note_allocations`).
        self.survivors.store(found.survivors, Relaxed);
        self.allocations.store(0, Relaxed);
        drop(stopped);
        let pause = start.elapsed();
        let report = CollectionReport {
            scanned: found.scanned,
            unreachable: found.garbage.len(),
            tracked,
            pause,
        };
        gil.with::<P, _>(runtime, || {
            release(found.garbage, none);
            if P::COALESCES {
                // The release's decrements wait in this thread's buffer, and
                // then an epoch; flushed now, the garbage is freed a
                // collection sooner than at this thread's next safepoint.
                brisk_gc::safepoint();
            }
        });
        let mut stats = lock(&self.stats);
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

/// Ends a collection, also when a native type's `trace` or `clear` panics,
/// and wakes the mutators waiting for it.
struct Collecting<'a>(&'a GcState);

impl Drop for Collecting<'_> {
    fn drop(&mut self) {
        *lock(&self.0.collector) = None;
        self.0.collection_ended.notify_all();
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
