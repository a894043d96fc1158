//! Loom models of the flushes that must precede every unpin other than a
//! safepoint's: detaching (`brisk_gc::blocking`, dropping the `Attached`
//! token) and thread exit while attached.
//!
//! The non-owner threads here end freely (not behind the support module's
//! gate): their only thread-local with a loom-visible destructor is the
//! mutator, so their exit paths are deterministic and explored, racing the
//! owner.
#![cfg(loom)]

mod loom_support;

use loom::sync::mpsc;
use loom::thread;
use loom_support::{check, finish, spawn_gated, spawn_lending_owner, Drops, Obj};

/// Interleaving: owner `O` hands `x2` to attached non-owner `T`; `T` clones
/// `y` (buffered `+1`) and sends `x2` back; `O` drops `x` and `x2` (`local`
/// 0 on a published object: merge, defer `-1`) and runs two safepoints,
/// which can advance the epoch as soon as `T` unpins. `T` calls
/// `brisk_gc::blocking`, which flushes (the `+1` is applied) and unpins, and
/// reads `y` *while detached*; after it re-attaches it drops `y` (buffered
/// `-1`) and drops its `Attached` token, which flushes (the `-1` deferred)
/// and unpins.
///
/// Property: because `blocking` flushed before unpinning, the owner's `-1`
/// can never take the count to zero while `T` holds `y` unpinned; the
/// detach flush defers `T`'s `-1`; every read happens-before the single free.
#[test]
fn blocking_and_detach_flush_before_unpinning() {
    check(|| {
        let drops = Drops::default();
        let d = drops.clone();
        let (to_t, from_o) = mpsc::channel::<Obj>();
        let (to_o, from_t) = mpsc::channel::<Obj>();
        let owner = spawn_lending_owner(d, to_t, from_t, 2);
        let non_owner = thread::spawn(move || {
            let x2 = from_o.recv().unwrap();
            let attached = brisk_gc::attach();
            let y = x2.clone(); // Published; +1 buffered
            to_o.send(x2).unwrap();
            brisk_gc::blocking(|| y.check()); // flushed (+1 applied), unpinned
            drop(y); // -1 buffered
            drop(attached); // -1 deferred, unpinned
        });
        finish(vec![owner], vec![non_owner], &[drops]);
    });
}

/// Interleaving: `T` attaches for good (the token is forgotten), clones `y`
/// from the `x2` it was given (buffered `+1`) and sends both back to `O`,
/// then ends: its thread-local mutator's destructor is the exit path, which
/// flushes the `+1` and unpins. `O` drops `x` and `x2` (`local` −1: merge,
/// defer `-1`), runs two safepoints, reads `y` and drops it (now a non-owner
/// `-1`: the object is merged).
///
/// Property: the exit flush applies `T`'s `+1` before `T` unpins, so the
/// owner's deferred `-1` cannot free the object while `O` still holds `y`
/// (the `+1` counts it); exactly one free.
#[test]
fn thread_exit_while_attached_flushes_positive_delta() {
    check(|| {
        let drops = Drops::default();
        let d = drops.clone();
        let (to_t, from_o) = mpsc::channel::<Obj>();
        let (to_o, from_t) = mpsc::channel::<(Obj, Obj)>();
        let owner = spawn_gated(move || {
            let x: Obj = d.object();
            to_t.send(x.clone()).unwrap();
            let (x2, y) = from_t.recv().unwrap();
            drop(x);
            drop(x2); // local 0: merge, defer -1
            brisk_gc::safepoint();
            brisk_gc::safepoint();
            y.check();
            drop(y); // merged: a non-owner -1, deferred
        });
        let non_owner = thread::spawn(move || {
            let x2 = from_o.recv().unwrap();
            core::mem::forget(brisk_gc::attach()); // attached until exit
            let y = x2.clone(); // Published; +1 buffered
            to_o.send((x2, y)).unwrap();
            // Exit: the mutator's destructor flushes the +1, then unpins.
        });
        finish(vec![owner], vec![non_owner], &[drops]);
    });
}

/// Interleaving: `T` attaches for good, clones `y` from its `x2`, reads it
/// and drops both: a net `-1` left in its buffer when it ends. Its exit path
/// defers that `-1` (through a temporary registration: the thread's own
/// mutator is being destroyed) and unpins. Meanwhile `O`, holding `x`, runs
/// two safepoints — which may apply the `-1`, find `Published` count 0 and
/// queue the object to `O`, or merge it — reads `x` and drops it.
///
/// Property: the exit path defers rather than loses the `-1` (a lost one is
/// a leak, which the final check reports), and `O`'s reads happen-before the
/// single free.
#[test]
fn thread_exit_while_attached_defers_negative_delta() {
    check(|| {
        let drops = Drops::default();
        let d = drops.clone();
        let (to_t, from_o) = mpsc::channel::<Obj>();
        let owner = spawn_gated(move || {
            let x: Obj = d.object();
            to_t.send(x.clone()).unwrap();
            brisk_gc::safepoint();
            brisk_gc::safepoint();
            x.check();
            drop(x);
        });
        let non_owner = thread::spawn(move || {
            let x2 = from_o.recv().unwrap();
            core::mem::forget(brisk_gc::attach()); // attached until exit
            let y = x2.clone(); // Published; +1 buffered
            y.check();
            drop((x2, y)); // net -1 buffered
                           // Exit: the mutator's destructor defers the -1, then unpins.
        });
        finish(vec![owner], vec![non_owner], &[drops]);
    });
}
