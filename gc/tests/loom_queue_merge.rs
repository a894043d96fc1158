//! Loom model of the queue hand-off under `Deferred`: a non-owner's
//! *deferred* decrement, applied an epoch later, finds `Published` count 0
//! and queues the object to its owner; the owner's safepoint merges it and
//! defers the queue's `-1` another epoch.
#![cfg(loom)]

mod loom_support;

use std::sync::atomic::{AtomicUsize, Ordering::Relaxed};

use loom::sync::mpsc;
use loom_support::{check, finish, spawn_deferring_non_owner, spawn_gated, Drops, Obj};

/// Executions in which the owner's safepoint merged a queued object, per
/// test.
static OWNER_MERGED: AtomicUsize = AtomicUsize::new(0);
static OWNER_MERGED_WHILE_BUFFERED: AtomicUsize = AtomicUsize::new(0);

/// Interleaving: owner `O` makes `x`, hands a clone `b` (counted in `local`)
/// to the attached non-owner `T`, and runs safepoints between reads of `x`
/// before dropping it. `T` reads `b`, drops it (buffered `-1`) and runs
/// three safepoints: the first defers the `-1` and pushes it to the domain,
/// the next ones advance the epoch and — once `O` has repinned — apply it.
/// Applied (by `T` or by `O`, whichever collects), it finds `Published`
/// count 0: `Queued`, pushed to `O`'s queue. `O`'s next safepoint merges:
/// `local + shared` becomes the merged count and the queue's reference is
/// given up one epoch later. `O`'s drop of `x` lands before the merge (an
/// owner decrement of `local`) or after it (a non-owner `-1`).
///
/// Property: the queue's reference keeps the object alive across the merge
/// and the deferral (every read of `x` happens-before the free), and the
/// object is freed exactly once. The model also asserts that some explored
/// execution really merged on the owner's safepoint.
#[test]
fn deferred_decrement_queues_and_owner_merge_defers() {
    OWNER_MERGED.store(0, Relaxed);
    check(|| {
        let drops = Drops::default();
        let d = drops.clone();
        let (to_t, from_o) = mpsc::channel::<Obj>();
        let owner = spawn_gated(move || {
            let x: Obj = d.object();
            to_t.send(x.clone()).unwrap();
            let mut merged = brisk_gc::safepoint();
            x.check();
            merged += brisk_gc::safepoint();
            x.check();
            drop(x);
            merged += brisk_gc::safepoint();
            if merged > 0 {
                OWNER_MERGED.fetch_add(1, Relaxed);
            }
        });
        let non_owner = spawn_deferring_non_owner(from_o);
        finish(vec![owner, non_owner], vec![], &[drops]);
    });
    let merged = OWNER_MERGED.load(Relaxed);
    eprintln!("executions with an owner-side queue merge: {merged}");
    assert!(merged > 0, "no explored execution merged on the owner");
}

/// Interleaving: owner `O` hands two clones, `u` and `x2` (both counted in
/// `local`), to the attached non-owner `T`. `T` drops `u` (buffered `-1`)
/// and runs two safepoints: the first defers the `-1`, the second can
/// advance the epoch past it and apply it — `Published` count 0, so the
/// object is queued to `O`. `T` then clones `y` from `x2` (a *buffered*
/// `+1`, not applied), sends `x2` back and reads `y`, twice, around a
/// safepoint. `O` drops `x` and the returned `x2` (`local` falls to 1: the
/// reference the queue holds) and runs two safepoints; the first merges the
/// queued object: count `0 + 1` — the queue's reference only, since `T`'s
/// `+1` is still in `T`'s buffer.
///
/// Property: the queue's `-1` is *deferred*, so it cannot be applied until
/// `T` has flushed its `+1` and unpinned; applied at once it would free the
/// object under `T`'s `y` (this model catches exactly that mutation). Every
/// read happens-before the single free. The model asserts that some explored
/// execution merged the queued object on `O`.
#[test]
fn queue_merge_defers_its_decrement_past_a_buffered_increment() {
    OWNER_MERGED_WHILE_BUFFERED.store(0, Relaxed);
    check(|| {
        let drops = Drops::default();
        let d = drops.clone();
        let (to_t, from_o) = mpsc::channel::<(Obj, Obj)>();
        let (to_o, from_t) = mpsc::channel::<Obj>();
        let owner = spawn_gated(move || {
            let x: Obj = d.object();
            to_t.send((x.clone(), x.clone())).unwrap();
            let x2 = from_t.recv().unwrap();
            drop(x);
            drop(x2); // local 1: the queue's reference (once queued)
            let merged = brisk_gc::safepoint() + brisk_gc::safepoint();
            if merged > 0 {
                OWNER_MERGED_WHILE_BUFFERED.fetch_add(1, Relaxed);
            }
        });
        let non_owner = spawn_gated(move || {
            let (u, x2) = from_o.recv().unwrap();
            let attached = brisk_gc::attach();
            drop(u); // -1 buffered
            brisk_gc::safepoint(); // -1 deferred
            brisk_gc::safepoint(); // may apply it: Queued to O
            let y = x2.clone(); // +1 buffered
            to_o.send(x2).unwrap();
            y.check();
            brisk_gc::safepoint(); // +1 applied
            y.check();
            drop(y);
            drop(attached);
        });
        finish(vec![owner, non_owner], vec![], &[drops]);
    });
    let merged = OWNER_MERGED_WHILE_BUFFERED.load(Relaxed);
    eprintln!("executions with an owner-side queue merge: {merged}");
    assert!(merged > 0, "no explored execution merged on the owner");
}
