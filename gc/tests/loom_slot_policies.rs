//! Loom models of `AtomicSlot` and `RawSlot` holding objects counted under a
//! policy other than `Deferred`: `brisk_refcount::Biased` (the owner counts
//! on `local`, everyone else with atomics on `shared`, a last non-owner
//! decrement queues the object to its owner) and `brisk_refcount::Atomic`
//! (one atomic count, no owner). The slot's epoch protocol is the same for
//! every policy: a reader counts what it loaded while pinned, and a writer's
//! old value is retired, dropped one epoch later on whichever thread
//! collects. `RawSlot::replace_now` skips the epoch and is only sound under
//! a lock that every reader and writer holds (a global interpreter lock).
//!
//! # Which threads end behind the gate
//!
//! Under `Biased` the writer owns the values (it made them) and pins (a
//! store retires through a pin), and the reader may queue a value to the
//! writer; both end behind the support module's gate (see `Gated` there).
//! Under `Atomic` no thread registers with `brisk-refcount` and nobody
//! queues, so each thread's only thread-local with loom steps at exit is
//! its mutator: the threads end freely and their exit paths are explored.
//!
//! The store models fail against a `RawSlot::store` that drops the old value
//! at once instead of retiring it (a use after free of the header); the
//! `replace_now` models fail when the reader counts after releasing the lock
//! (a read concurrent with the free).
#![cfg(loom)]

mod loom_support;

use core::ptr::NonNull;

use brisk_gc::{AtomicSlot, RawSlot, SlotOps};
use brisk_refcount::{Atomic, Biased, Brc, RcHeader, RcPolicy};
use loom::sync::{Arc, Mutex};
use loom::thread::{self, JoinHandle};
use loom_support::{check, finish, settle, spawn_gated, Drops, Gated, Payload};

/// The model threads of one execution: gated ones (policies whose threads
/// have two exit paths with loom steps) or plain ones.
struct Threads {
    gate: bool,
    gated: Vec<Gated<()>>,
    plain: Vec<JoinHandle<()>>,
}

impl Threads {
    fn new<P: RcPolicy>() -> Self {
        Threads {
            gate: P::NAME != Atomic::NAME,
            gated: Vec::new(),
            plain: Vec::new(),
        }
    }

    fn spawn(&mut self, f: impl FnOnce() + 'static) {
        if self.gate {
            self.gated.push(spawn_gated(f));
        } else {
            self.plain.push(thread::spawn(f));
        }
    }

    /// Joins every thread as [`finish`] does, checking no payload yet (the
    /// caller still holds a slot).
    fn finish(self) {
        finish(self.gated, self.plain, &[]);
    }
}

/// Interleaving: writer `W` makes `v1` and stores it, makes `v2` and
/// `store`s it — retiring the slot's reference to `v1` — and runs two
/// safepoints (it is not attached: each pins briefly and runs a collection
/// step). An attached reader `R` loads the slot (nothing, `v1` or `v2`):
/// the pointer read while pinned, then an increment under `P` (a non-owner
/// atomic under both policies), keeps the handle across a safepoint, reads
/// it and drops it. The retired reference is dropped an epoch later by
/// whichever thread collects: under `Biased`, on `W` it is the owner's last
/// local reference (freed at once, or merged if `R`'s count is still
/// there), and on `R` or the main thread it is a non-owner decrement that
/// may find the shared count at zero and queue `v1` to `W`. The main thread
/// drops the slot at the end, retiring `v2`.
///
/// Property: the reader never counts or reads a value whose last reference
/// is gone (the retirement waits for its unpin), every read happens-before
/// the single free, and `v1` and `v2` are each freed exactly once.
fn reader_loads_while_writer_stores<P: RcPolicy>()
where
    Brc<Payload, P>: Send + Sync,
{
    check(|| {
        let (drops1, drops2) = (Drops::default(), Drops::default());
        let slot = Arc::new(AtomicSlot::<Payload, P>::new(None));
        let mut threads = Threads::new::<P>();
        let (s, d1, d2) = (Arc::clone(&slot), drops1.clone(), drops2.clone());
        threads.spawn(move || {
            s.store(Some(Brc::new_with_policy(d1.payload())));
            s.store(Some(Brc::new_with_policy(d2.payload()))); // retires v1
            brisk_gc::safepoint();
            brisk_gc::safepoint();
        });
        let s = Arc::clone(&slot);
        threads.spawn(move || {
            let attached = brisk_gc::attach();
            let seen = s.load(); // pinned: pointer, then a counted reference
            brisk_gc::safepoint();
            if let Some(v) = &seen {
                v.check();
            }
            drop(seen);
            drop(attached);
        });
        threads.finish();
        drop(slot); // retires v2
        settle(&[drops1, drops2]);
    });
}

/// [`reader_loads_while_writer_stores`] under `Biased`.
#[test]
fn biased_reader_loads_while_writer_stores() {
    reader_loads_while_writer_stores::<Biased>();
}

/// [`reader_loads_while_writer_stores`] under `Atomic`; the threads' exit
/// paths are explored too.
#[test]
fn atomic_reader_loads_while_writer_stores() {
    reader_loads_while_writer_stores::<Atomic>();
}

/// Gives up one reference of a `Brc<Payload, P>` through its header: the
/// `drop_ref` of the `RawSlot` models.
///
/// # Safety
///
/// `header` heads a `Brc<Payload, P>` and the caller owns one reference.
unsafe fn drop_brc<P: RcPolicy>(header: NonNull<RcHeader>) {
    // SAFETY: forwarded from the caller.
    drop(unsafe { Brc::<Payload, P>::from_header(header) });
}

/// A raw slot and the lock that every reader and writer holds around it (a
/// global interpreter lock): what `RawSlot::replace_now` requires.
struct Locked {
    gil: Mutex<()>,
    slot: RawSlot,
}

/// Interleaving: writer `W` makes `v1` and, holding the lock, stores it with
/// `replace_now`; it releases the lock, then, holding it again, replaces
/// `v1` by `v2` with `replace_now`, which hands the slot's reference to
/// `v1` straight back (no epoch). `W` releases the lock, reads `v1` and
/// drops it: under `Biased` the owner's last local reference (freed at once
/// if no other count is left, else merged), under `Atomic` a plain
/// decrement. Reader `R`, holding the lock, loads the slot (nothing, `v1` or
/// `v2`) and counts it before unlocking, then reads the value and drops it
/// without the lock, racing `W`'s drop of `v1`. At the end the main thread
/// takes `v2` out of the slot and drops it.
///
/// Property: the reference `replace_now` hands back is the slot's own (so
/// `v1` is freed exactly once, by whichever of `W` and `R` drops last), and
/// because `R` counted under the lock before `W` could replace, no read of
/// `R`'s happens after the free.
fn replace_now_under_an_outside_lock<P: RcPolicy>() {
    check(|| {
        let (drops1, drops2) = (Drops::default(), Drops::default());
        let ops = SlotOps {
            incref: P::incref,
            drop_ref: drop_brc::<P>,
        };
        let locked = Arc::new(Locked {
            gil: Mutex::new(()),
            slot: RawSlot::new(None),
        });
        let mut threads = Threads::new::<P>();
        let (l, d1, d2) = (Arc::clone(&locked), drops1.clone(), drops2.clone());
        threads.spawn(move || {
            let v1 = Brc::<Payload, P>::new_with_policy(d1.payload());
            let v2 = Brc::<Payload, P>::new_with_policy(d2.payload());
            {
                let _gil = l.gil.lock().unwrap();
                // SAFETY: every reader and writer holds the lock; the slot
                // takes over `v1`'s reference; it held nothing before.
                let old = unsafe { l.slot.replace_now(Some(Brc::into_header(v1))) };
                assert!(old.is_none());
            }
            let old = {
                let _gil = l.gil.lock().unwrap();
                // SAFETY: as above; `old` is the slot's reference to `v1`.
                unsafe { l.slot.replace_now(Some(Brc::into_header(v2))) }
            };
            let old = old.expect("v1 was stored");
            // SAFETY: `replace_now` handed back the slot's counted reference
            // to a `Brc<Payload, P>`.
            let v1 = unsafe { Brc::<Payload, P>::from_header(old) };
            v1.check();
            drop(v1);
            brisk_gc::safepoint(); // merges v1 if R queued it here
        });
        let l = Arc::clone(&locked);
        threads.spawn(move || {
            let seen = {
                let _gil = l.gil.lock().unwrap();
                // SAFETY: every value stored is a `Brc<Payload, P>` counted
                // by `ops`; the count is made under the lock.
                unsafe { l.slot.load(ops) }
            };
            if let Some(header) = seen {
                // SAFETY: `load` counted this reference for us.
                let v = unsafe { Brc::<Payload, P>::from_header(header) };
                v.check();
                drop(v);
            }
        });
        threads.finish();
        let gil = locked.gil.lock().unwrap();
        // SAFETY: the lock is held and every other thread has ended.
        let last = unsafe { locked.slot.replace_now(None) }.expect("v2 was stored");
        // SAFETY: the slot's reference to `v2`, handed back.
        drop(unsafe { Brc::<Payload, P>::from_header(last) });
        drop(gil);
        settle(&[drops1, drops2]);
    });
}

/// [`replace_now_under_an_outside_lock`] under `Biased`.
#[test]
fn biased_replace_now_under_an_outside_lock() {
    replace_now_under_an_outside_lock::<Biased>();
}

/// [`replace_now_under_an_outside_lock`] under `Atomic`; the threads' exit
/// paths are explored too.
#[test]
fn atomic_replace_now_under_an_outside_lock() {
    replace_now_under_an_outside_lock::<Atomic>();
}
