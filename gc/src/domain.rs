//! The epoch domain: one dedicated crossbeam-epoch [`Collector`], and the
//! garbage it holds.
//!
//! # Why epochs
//!
//! Two things in brisk must not happen until every thread has moved past a
//! point in time:
//!
//! * a **deferred decrement** (under [`Deferred`](crate::Deferred)) may only
//!   be applied once every increment that was buffered before it has been
//!   applied — that is, once every thread that was pinned when it was issued
//!   has flushed and repinned;
//! * a **retired** reference (the old value of an [`AtomicSlot`](crate::AtomicSlot))
//!   may only be dropped once no thread can still be between loading the
//!   pointer and counting it.
//!
//! Both are exactly what epoch-based reclamation provides (Fraser, *Practical
//! lock-freedom*, 2004; crossbeam-epoch): work deferred through a pinned
//! [`Guard`] runs only after the global epoch has advanced twice, which
//! requires every thread that was pinned at the time to have unpinned.
//!
//! # One domain
//!
//! brisk uses its own [`Collector`], not crossbeam's global one, so that
//! nothing else in the process (another crate's lock-free map) holds brisk's
//! epoch back, and brisk's garbage is measurable on its own
//! ([`garbage`]). The [`Deferred`](crate::Deferred) policy is a type, not a
//! value, so the domain is process-wide.
//!
//! # Bounded garbage
//!
//! Every flush defers its decrements as **one** closure (one batch), and every
//! safepoint flushes the thread's crossbeam bag and runs a collection step,
//! so as long as mutators keep reaching safepoints the pending work is
//! bounded by what was issued in the last two epochs. [`garbage`] reports
//! it; the benchmarks report its peak.

use core::ptr::NonNull;

use brisk_refcount::policy_kit::{self, MergeFn};
use brisk_refcount::{Dealloc, RcHeader};
use crossbeam_epoch::{Collector, Guard};

use crate::sync::{event, lazy_global, AtomicUsize, Ordering::Relaxed};

/// The process-wide epoch domain.
pub(crate) struct Domain {
    /// brisk's own collector; every mutator registers a handle with it.
    pub(crate) collector: Collector,
    /// Decrements deferred and not yet applied (one per object per batch).
    deferred_objects: AtomicUsize,
    /// Deferred batches not yet applied: one epoch-collector closure each.
    deferred_batches: AtomicUsize,
    /// Bytes held by deferred batches not yet applied.
    deferred_bytes: AtomicUsize,
    /// References retired from slots and not yet released.
    retired_objects: AtomicUsize,
}

lazy_global!(pub(crate) fn domain() -> Domain = Domain {
    collector: Collector::new(),
    deferred_objects: AtomicUsize::new(0),
    deferred_batches: AtomicUsize::new(0),
    deferred_bytes: AtomicUsize::new(0),
    retired_objects: AtomicUsize::new(0),
});

/// A snapshot of the garbage the domain holds.
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq)]
pub struct Garbage {
    /// Deferred decrements waiting for their epoch (one per object per
    /// batch).
    pub deferred_objects: usize,
    /// The batches those decrements travel in: each is one closure in the
    /// epoch collector, which runs a bounded number of closures per
    /// collection step.
    pub deferred_batches: usize,
    /// Heap bytes held by those batches.
    pub deferred_bytes: usize,
    /// Slot references retired and waiting for their epoch.
    pub retired_objects: usize,
}

impl Garbage {
    /// Whether nothing is waiting.
    pub fn is_empty(&self) -> bool {
        self.deferred_objects == 0 && self.retired_objects == 0
    }
}

/// How much deferred work the domain holds right now. A snapshot: other
/// threads keep adding and applying.
pub fn garbage() -> Garbage {
    let domain = domain();
    // Relaxed: statistics; no decision about memory is made on them.
    Garbage {
        deferred_objects: domain.deferred_objects.load(Relaxed),
        deferred_batches: domain.deferred_batches.load(Relaxed),
        deferred_bytes: domain.deferred_bytes.load(Relaxed),
        retired_objects: domain.retired_objects.load(Relaxed),
    }
}

/// A header pointer that may travel to whichever thread runs the deferred
/// work.
struct SendHeader(NonNull<RcHeader>);

// SAFETY: headers are only touched through atomics, and the payload only by
// its `Dealloc`, whose object model guarantees it may run on any thread
// (`Brc` requires `T: Send + Sync` to be shared at all).
unsafe impl Send for SendHeader {}

/// A batch of decrements to apply one epoch later.
#[derive(Default)]
pub(crate) struct DecrementBatch {
    entries: Vec<(SendHeader, u32, Dealloc)>,
}

impl DecrementBatch {
    pub(crate) const fn new() -> Self {
        DecrementBatch {
            entries: Vec::new(),
        }
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// How many entries the batch holds.
    pub(crate) fn len(&self) -> usize {
        self.entries.len()
    }

    /// Adds `n` decrements of `header`.
    pub(crate) fn push(&mut self, header: NonNull<RcHeader>, n: u32, dealloc: Dealloc) {
        self.entries.push((SendHeader(header), n, dealloc));
    }

    /// Defers the whole batch through `guard`: it is applied once every
    /// thread pinned now has repinned. A decrement that finds an object's
    /// shared count at zero queues it to its owner, to be merged with
    /// `merge`.
    ///
    /// # Safety
    ///
    /// Each entry gives up `n` counted references that the caller owned, and
    /// its `Dealloc` frees that object; `merge` upholds
    /// [`MergeFn`]'s contract.
    pub(crate) unsafe fn defer(self, guard: &Guard, merge: MergeFn) {
        let domain = domain();
        let objects = self.entries.len();
        let bytes = self.entries.capacity() * core::mem::size_of::<(SendHeader, u32, Dealloc)>();
        // Relaxed: statistics.
        domain.deferred_objects.fetch_add(objects, Relaxed);
        domain.deferred_batches.fetch_add(1, Relaxed);
        domain.deferred_bytes.fetch_add(bytes, Relaxed);
        event!(tracing::trace!(target: "brisk::gc", objects, "deferred decrements"));
        guard.defer(move || {
            let batch = self;
            event!(tracing::trace!(target: "brisk::gc", objects, "applying deferred decrements"));
            for (header, n, dealloc) in batch.entries {
                // SAFETY: one epoch has passed since these references were
                // given up, so every increment buffered before that has been
                // applied; see `papers/design.md`, "Deferred reconciliation".
                unsafe { policy_kit::shared_decref_by(header.0, n, dealloc, merge) };
            }
            let stats = self::domain();
            // Relaxed: statistics.
            stats.deferred_objects.fetch_sub(objects, Relaxed);
            stats.deferred_batches.fetch_sub(1, Relaxed);
            stats.deferred_bytes.fetch_sub(bytes, Relaxed);
        });
    }
}

/// Drops one reference with `drop_ref` once every thread pinned now (the
/// caller, through `guard`, among them) has unpinned: delayed reclamation
/// for pointers that other threads may have loaded without counting yet
/// (slot values).
///
/// # Safety
///
/// `drop_ref(header)` gives up one counted reference the caller owns and is
/// sound to call on any thread.
pub(crate) unsafe fn retire(
    guard: &Guard,
    header: NonNull<RcHeader>,
    drop_ref: unsafe fn(NonNull<RcHeader>),
) {
    // Relaxed: statistics.
    domain().retired_objects.fetch_add(1, Relaxed);
    let header = SendHeader(header);
    guard.defer(move || {
        let header = header;
        // SAFETY: an epoch has passed, so no reader is between loading the
        // pointer and counting it; the caller's contract covers the rest.
        unsafe { drop_ref(header.0) };
        // Relaxed: statistics.
        domain().retired_objects.fetch_sub(1, Relaxed);
    });
}
