//! Per-thread merge queues: how a non-owner hands an object back to its owner.
//!
//! A non-owner decrement that finds the shared count at zero cannot subtract:
//! the object's remaining references may all be counted in the owner's
//! `local`, and only the owner may read and clear that. Instead it marks the
//! object `Queued`, keeps its reference *in the queue*, and pushes the object
//! onto the owner's queue. The owner, at its next safepoint, merges every
//! queued object: folds `local` into `shared`, marks it `Merged`, and drops the
//! queue's reference. This is the BRC paper's "QueuedObjects" list (Choi,
//! Shull, Torrellas, PACT 2018, §4.2) and CPython's `Python/brc.c`.
//!
//! # Cost
//!
//! A producer/consumer workload queues every object it passes, so the queue is
//! kept cheap:
//!
//! * an entry is three words and lives in a `Vec` that the owner swaps out
//!   whole at each merge, so pushing never allocates once the vector has
//!   grown, and the owner takes the lock once per batch;
//! * the owner learns about entries from a flag it polls with a Relaxed load,
//!   never from the lock;
//! * no destructor runs while the lock is held: the owner merges after it
//!   unlocks.
//!
//! # Thread exit
//!
//! When the owner exits it marks its queue closed under the lock and merges
//! what is left. A push that finds the queue closed fails, and the pusher
//! merges the object itself (the biased protocol's dead-owner path): the
//! owner's `local` can no longer change, and the lock made its last write
//! visible.

use core::ptr::NonNull;

use crate::header::RcHeader;
use crate::sync::{lock, AtomicBool, Mutex, Ordering::Relaxed};

/// Frees an object given its header: drops the payload and releases the
/// memory. Called exactly once per object, on whichever thread releases the
/// last reference (which, for queued objects, is the owner).
///
/// # Safety
///
/// Callers pass a header whose count has reached zero and that no other
/// thread can reach any more.
pub type Dealloc = unsafe fn(NonNull<RcHeader>);

/// Merges a queued object on its owner's thread (or on a non-owner thread
/// when the owner has exited) and drops the reference the queue holds,
/// calling the [`Dealloc`] if that was the last one.
///
/// [`merge_queued`](crate::policy_kit::merge_queued) does this at once;
/// a policy that reconciles counts later (the epoch-deferred policy) passes
/// its own function that merges now and defers the queue's decrement.
///
/// # Safety
///
/// Called with a header that is in state `Queued` or `Merged` and whose
/// count includes the queue's reference, on the owner's thread or after the
/// owner has exited.
pub type MergeFn = unsafe fn(NonNull<RcHeader>, Dealloc);

/// One queued object: the header, and how to merge and free it.
pub(crate) struct Queued {
    pub(crate) header: NonNull<RcHeader>,
    pub(crate) dealloc: Dealloc,
    pub(crate) merge: MergeFn,
}

// SAFETY: a queued object is handed from the queuing thread to the owner; the
// header is only accessed through atomics, and the payload only by the
// `Dealloc`, which the object's creator made for a `Send + Sync` payload or an
// object model that guarantees the same.
unsafe impl Send for Queued {}

impl Queued {
    /// Merges the object and drops the queue's reference.
    ///
    /// # Safety
    ///
    /// See [`MergeFn`]: on the owner thread or after the owner has exited.
    pub(crate) unsafe fn merge(self) {
        // SAFETY: the caller upholds `MergeFn`'s contract; the entry was built
        // from a live queued header and its own callbacks.
        unsafe { (self.merge)(self.header, self.dealloc) }
    }
}

/// Merges every entry of `entries`, in order. A destructor that panics
/// does not lose the entries after it: they are merged while the panic
/// unwinds, as a `Vec` still drops its other items after one item's
/// destructor panics (and, as there, a second panic aborts the process).
///
/// # Safety
///
/// As [`Queued::merge`], for every entry.
pub(crate) unsafe fn merge_each(entries: impl Iterator<Item = Queued>) {
    /// Merges what is left of the iterator when dropped: on the way out of
    /// a panic, the entries after the one whose destructor panicked.
    struct Rest<I: Iterator<Item = Queued>>(I);

    impl<I: Iterator<Item = Queued>> Drop for Rest<I> {
        fn drop(&mut self) {
            for entry in self.0.by_ref() {
                // SAFETY: `merge_each`'s caller vouches for every entry.
                unsafe { entry.merge() };
            }
        }
    }

    let mut rest = Rest(entries);
    for entry in rest.0.by_ref() {
        // SAFETY: as above.
        unsafe { entry.merge() };
    }
}

/// The lock-protected part of a [`MergeQueue`].
struct QueueInner {
    /// Set once, by the owner at thread exit. After that, pushes fail.
    closed: bool,
    /// Objects waiting to be merged by the owner.
    entries: Vec<Queued>,
}

/// A thread's merge queue.
pub(crate) struct MergeQueue {
    /// Entries and the closed flag. Pushers and the owner lock it briefly; no
    /// destructor runs while it is held.
    inner: Mutex<QueueInner>,
    /// Set by pushers after a push, cleared by the owner when it takes the
    /// entries. A hint only: the entries themselves travel under `inner`.
    pending: AtomicBool,
}

impl MergeQueue {
    pub(crate) fn new() -> Self {
        MergeQueue {
            inner: Mutex::new(QueueInner {
                closed: false,
                entries: Vec::new(),
            }),
            pending: AtomicBool::new(false),
        }
    }

    /// Appends `entry`, or gives it back if the owner has exited.
    pub(crate) fn push(&self, entry: Queued) -> Result<(), Queued> {
        let mut inner = lock(&self.inner);
        if inner.closed {
            return Err(entry);
        }
        inner.entries.push(entry);
        // Relaxed: the flag only tells the owner to look; the entry itself is
        // published by the unlock below and read under the owner's lock.
        self.pending.store(true, Relaxed);
        Ok(())
    }

    /// Whether entries may be waiting. Owner thread; one Relaxed load.
    #[inline]
    pub(crate) fn has_pending(&self) -> bool {
        // Relaxed: a stale `false` only delays the merge to the next
        // safepoint; a `true` is followed by taking the lock.
        self.pending.load(Relaxed)
    }

    /// Moves every waiting entry into `out` (owner thread). `out` should be
    /// empty; its capacity is reused for the next batch.
    pub(crate) fn take_into(&self, out: &mut Vec<Queued>) {
        let mut inner = lock(&self.inner);
        // Relaxed: cleared under the lock, so a push that lands after this
        // store sets it again before its unlock.
        self.pending.store(false, Relaxed);
        core::mem::swap(&mut inner.entries, out);
    }

    /// Marks the queue closed and returns what is left (owner thread, at
    /// exit). Every later push fails.
    pub(crate) fn close(&self) -> Vec<Queued> {
        let mut inner = lock(&self.inner);
        inner.closed = true;
        // Relaxed: nobody polls a closed queue.
        self.pending.store(false, Relaxed);
        core::mem::take(&mut inner.entries)
    }
}
