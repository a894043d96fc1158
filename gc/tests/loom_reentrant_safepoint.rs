//! Loom models of a destructor that calls `brisk_gc::safepoint()` while it
//! runs inside a safepoint: the free of a queued object runs the payload's
//! `Drop`, which merges the same owner's queue again, flushes and runs
//! another collection step before the outer safepoint has finished.
//!
//! Two places run destructors inside a safepoint. Under `Biased` the queue
//! merge itself frees (`policy_kit::merge_queued`), so the inner safepoint runs
//! in the middle of the outer one's merge loop, whose batch vector is taken
//! out of the thread handle for the duration. Under `Deferred` the merge
//! only defers the queue's `-1`; the free runs in a later safepoint's
//! collection step, while that safepoint holds the thread's pin out of the
//! mutator, so the inner safepoint pins and collects on its own.
//!
//! The `Biased` model fails against a merge loop that keeps its batch in the
//! thread handle while it merges (instead of taking it out): the nested
//! merge swaps that batch with the queue, and an object already merged and
//! freed is merged again. Both models assert that some explored execution
//! really merged from inside a destructor.
#![cfg(loom)]

mod loom_support;

use std::sync::atomic::{AtomicUsize, Ordering::Relaxed};

use brisk_refcount::{Biased, Brc, RcPolicy};
use loom::sync::mpsc;
use loom::thread;
use loom_support::{check, finish, spawn_gated, Deferred, Drops, Payload};

/// Executions in which a destructor's safepoint merged at least one queued
/// object (a re-entrant merge of the owner's queue), per test.
static REENTRANT_MERGES_BIASED: AtomicUsize = AtomicUsize::new(0);
static REENTRANT_MERGES_DEFERRED: AtomicUsize = AtomicUsize::new(0);

/// A payload whose destructor runs a safepoint, then drops the checked
/// payload (so a double drop or a use after it is still reported).
struct Reentrant {
    payload: Payload,
    /// Where to count the executions in which the destructor's safepoint
    /// merged something.
    merges: &'static AtomicUsize,
}

impl Drop for Reentrant {
    fn drop(&mut self) {
        self.payload.check();
        if brisk_gc::safepoint() > 0 {
            self.merges.fetch_add(1, Relaxed);
        }
        self.payload.check();
    }
}

fn reentrant<P: RcPolicy>(drops: &Drops, merges: &'static AtomicUsize) -> Brc<Reentrant, P> {
    Brc::new_with_policy(Reentrant {
        payload: drops.payload(),
        merges,
    })
}

/// Interleaving: owner `O` makes `x` and `y` under `Biased`, hands a clone
/// of each (counted in `O`'s `local`) to non-owner `T` and drops its own
/// handles (`local` 1 each: `T`'s references). `T` reads and drops `x`, then
/// `y`: each drop finds the shared count 0 (`Private`), sets `Queued` and
/// pushes the object to `O`'s queue; `T` signals `O` after each. `O` waits
/// for the first signal, runs a safepoint, waits for the second and runs
/// another (the signals leave the loom preemptions for the race between
/// the merge and `y`'s push). A merge of `x` or `y` takes the count to zero
/// and frees inside the merge loop: the destructor's safepoint polls `O`'s
/// queue and, if the other object was pushed after the outer safepoint took
/// its batch, merges and frees it there — a merge nested in a merge, whose
/// destructor runs a third safepoint. `T` ends freely: it never pins and
/// never makes objects, so its only exit step is dropping its cached owner.
///
/// Property: each object is merged once and freed once (the nested merge
/// starts from a fresh batch and never sees the outer batch's entries),
/// every read, including the destructors' own, happens-before the free,
/// and some explored execution merged re-entrantly.
#[test]
fn drop_runs_a_safepoint_inside_a_biased_queue_merge() {
    REENTRANT_MERGES_BIASED.store(0, Relaxed);
    check(|| {
        let (drops_x, drops_y) = (Drops::default(), Drops::default());
        let (dx, dy) = (drops_x.clone(), drops_y.clone());
        let (to_t, from_o) = mpsc::channel::<(Brc<Reentrant, Biased>, Brc<Reentrant, Biased>)>();
        let (done_tx, done_rx) = mpsc::channel::<()>();
        let owner = spawn_gated(move || {
            let x = reentrant::<Biased>(&dx, &REENTRANT_MERGES_BIASED);
            let y = reentrant::<Biased>(&dy, &REENTRANT_MERGES_BIASED);
            to_t.send((x.clone(), y.clone())).unwrap();
            drop((x, y)); // local 1 each: T's references
            done_rx.recv().unwrap(); // x queued
            brisk_gc::safepoint(); // merges x, and y if it is there
            done_rx.recv().unwrap(); // y queued
            brisk_gc::safepoint();
        });
        let non_owner = thread::spawn(move || {
            let (x, y) = from_o.recv().unwrap();
            x.payload.check();
            drop(x); // shared 0: Queued, pushed to O
            done_tx.send(()).unwrap();
            y.payload.check();
            drop(y); // likewise
            done_tx.send(()).unwrap();
        });
        finish(vec![owner], vec![non_owner], &[drops_x, drops_y]);
    });
    let merges = REENTRANT_MERGES_BIASED.load(Relaxed);
    eprintln!("executions with a re-entrant merge: {merges}");
    assert!(merges > 0, "no explored execution merged from a destructor");
}

/// Interleaving: owner `O` makes `x` and `y` under `Deferred` and hands a
/// clone of each to the attached non-owner `T`, dropping its own (`local` 1
/// each). `T` reads and drops `x` (buffered `-1`) and runs two safepoints:
/// the `-1` is deferred, applied an epoch later (by `T` or `O`, whichever
/// collects), finds `Published` count 0 and queues `x` to `O`. `T` then does
/// the same with `y`. `O` runs safepoints until `T` is done and two more:
/// one merges `x` (count 1: the queue's reference) and defers the queue's
/// `-1`, and a later collection step applies it and frees `x` — on `O`,
/// inside `O`'s safepoint, which holds `O`'s pin out of its mutator at that
/// moment, or on `T`. `x`'s destructor runs a safepoint: on `O` it merges
/// `O`'s queue again (picking up `y` if `T` queued it meanwhile, deferring
/// its `-1` through a brief pin), flushes and runs another collection step.
///
/// Property: each object is freed exactly once and never read after its
/// free, whichever thread collects, and some explored execution merged
/// re-entrantly.
#[test]
fn drop_runs_a_safepoint_inside_a_deferred_collection_step() {
    REENTRANT_MERGES_DEFERRED.store(0, Relaxed);
    check(|| {
        let (drops_x, drops_y) = (Drops::default(), Drops::default());
        let (dx, dy) = (drops_x.clone(), drops_y.clone());
        type Obj = Brc<Reentrant, Deferred>;
        let (to_t, from_o) = mpsc::channel::<(Obj, Obj)>();
        let (done_tx, done_rx) = mpsc::channel::<()>();
        let owner = spawn_gated(move || {
            let attached = brisk_gc::attach();
            let x = reentrant::<Deferred>(&dx, &REENTRANT_MERGES_DEFERRED);
            let y = reentrant::<Deferred>(&dy, &REENTRANT_MERGES_DEFERRED);
            to_t.send((x.clone(), y.clone())).unwrap();
            drop((x, y)); // local 1 each: T's references
            while done_rx.try_recv().is_err() {
                brisk_gc::safepoint();
                thread::yield_now();
            }
            brisk_gc::safepoint();
            brisk_gc::safepoint();
            drop(attached);
        });
        let non_owner = spawn_gated(move || {
            let (x, y) = from_o.recv().unwrap();
            let attached = brisk_gc::attach();
            x.payload.check();
            drop(x); // -1 buffered
            brisk_gc::safepoint(); // deferred
            brisk_gc::safepoint(); // applied: Queued to O
            y.payload.check();
            drop(y);
            brisk_gc::safepoint();
            brisk_gc::safepoint();
            drop(attached);
            done_tx.send(()).unwrap();
        });
        finish(vec![owner, non_owner], vec![], &[drops_x, drops_y]);
    });
    let merges = REENTRANT_MERGES_DEFERRED.load(Relaxed);
    eprintln!("executions with a re-entrant merge: {merges}");
    assert!(merges > 0, "no explored execution merged from a destructor");
}
