//! Loom model of an owner thread's exit under `Deferred`, explored: the
//! owner's exit path (`brisk-refcount`'s thread handle closing the merge
//! queue and merging what is left in it) races a non-owner's deferred
//! decrement that finds the count at zero and queues the object to that
//! owner.
//!
//! # Why the owner never pins
//!
//! The other `brisk-gc` models end every thread that made objects and pinned
//! behind the support module's gate, because such a thread has two
//! thread-locals whose destructors take loom steps (`brisk-refcount`'s
//! handle and `brisk-gc`'s mutator, which owns a crossbeam `LocalHandle`
//! once the thread has pinned), dropped in an order that changes from one
//! execution to the next. Detaching is not enough: the mutator keeps its
//! crossbeam registration, and dropping that takes loom steps too. The owner
//! here therefore never registers with the epoch domain: it never attaches,
//! never runs `brisk_gc::safepoint`, never merges its queue while alive and
//! never drops the last local reference of a published object (each of those
//! pins, and a pin registers the mutator's handle). Its mutator thread-local
//! exists (every count under `Deferred` checks the hot entry first) but its
//! destructor does nothing, so the only exit step loom sees is the thread
//! handle's, in a fixed order. The owner ends freely and its exit path is
//! explored against the non-owner. The merge that the exit path runs defers
//! the queue's `-1` through a temporary registration (the mutator
//! thread-local is already gone by then).
//!
//! The main model thread waits, before it stops exploring, until the owner
//! has left `brisk-refcount`'s registry (the last step of its exit path), so
//! the whole exit path lies in the explored part of every execution.
//!
//! The model fails (a leak) against an exit path that leaves its queue open
//! (a push after the close lands where nobody merges it) and against one
//! that drops what was left in the queue unmerged.
#![cfg(loom)]

mod loom_support;

use std::sync::atomic::{AtomicUsize, Ordering::Relaxed};

use loom::sync::mpsc;
use loom::thread;
use loom_support::{check, finish, spawn_gated, Drops, Obj};

/// Executions in which the non-owner's decrement was applied while the owner
/// was still registered (it queued to the owner, or found the queue closed
/// while the owner was mid-exit), and in which the owner had left the
/// registry before the non-owner began applying (it merged the object
/// itself).
static APPLIED_WHILE_OWNER_REGISTERED: AtomicUsize = AtomicUsize::new(0);
static APPLIED_AFTER_OWNER_LEFT: AtomicUsize = AtomicUsize::new(0);

/// Waits until every thread registered with `brisk-refcount` has finished
/// its exit path (loom runs a thread's thread-local destructors after its
/// `join` has returned).
fn wait_for_exit_paths() {
    while brisk_refcount::thread::registered_count() != 0 {
        thread::yield_now();
    }
}

/// Interleaving: owner `O` makes `x`, hands a clone `b` (counted in `O`'s
/// `local`) to the attached non-owner `T`, reads and drops `x` (`local` 1:
/// `T`'s reference) and ends. Its exit path resets its id, closes its queue
/// under the queue lock, merges what was queued (deferring the queue's `-1`
/// through a temporary registration) and leaves the registry. `T` reads
/// `b`, drops it (buffered `-1`) and runs three safepoints: the first defers
/// the `-1`, the next ones advance the epoch (nobody else is pinned) and
/// apply it, which finds `Published` count 0, marks the object `Queued` and
/// hands it to `O`: into `O`'s open queue (merged by `O`'s exit path), or,
/// with the queue already closed or `O` gone from the registry, merged by `T`
/// itself. Either merge gives the queue's reference up one epoch later.
///
/// Property: exactly one of `O`'s exit path and `T` merges the object (never
/// both, never neither: a lost entry is a leak, a double merge a double
/// drop), every read happens-before the single free, and the model asserts
/// that loom explored both sides of the race — applications made while `O`
/// was still registered and after it had left.
#[test]
fn owner_exit_races_a_queueing_decrement() {
    APPLIED_WHILE_OWNER_REGISTERED.store(0, Relaxed);
    APPLIED_AFTER_OWNER_LEFT.store(0, Relaxed);
    check(|| {
        let drops = Drops::default();
        let d = drops.clone();
        let (to_t, from_o) = mpsc::channel::<Obj>();
        let owner = thread::spawn(move || {
            let x: Obj = d.object();
            to_t.send(x.clone()).unwrap();
            x.check();
            drop(x); // owner decrement: local 1 (T's reference)

            // Exit: close the queue, merge what is in it, leave the registry.
        });
        let non_owner = spawn_gated(move || {
            let b = from_o.recv().unwrap();
            let attached = brisk_gc::attach();
            b.check();
            drop(b); // -1 buffered
            let owner_left = brisk_refcount::thread::registered_count() == 0;
            brisk_gc::safepoint(); // -1 deferred
            brisk_gc::safepoint(); // epoch advanced: -1 applied, Queued
            brisk_gc::safepoint();
            let owner_registered = brisk_refcount::thread::registered_count() != 0;
            if owner_left {
                APPLIED_AFTER_OWNER_LEFT.fetch_add(1, Relaxed);
            }
            if owner_registered {
                APPLIED_WHILE_OWNER_REGISTERED.fetch_add(1, Relaxed);
            }
            drop(attached);
        });
        owner.join().unwrap();
        wait_for_exit_paths();
        finish(vec![non_owner], vec![], &[drops]);
    });
    let (before, after) = (
        APPLIED_WHILE_OWNER_REGISTERED.load(Relaxed),
        APPLIED_AFTER_OWNER_LEFT.load(Relaxed),
    );
    eprintln!("applied while the owner was registered: {before}; after it left: {after}");
    assert!(
        before > 0,
        "no explored execution applied before the owner left"
    );
    assert!(
        after > 0,
        "no explored execution applied after the owner left"
    );
}
