//! Loom models of the owner-proven handle (`LocalBrc`): its fast paths
//! trust `local` alone, so every way the owner can lose the object while a
//! handle is held must show in `local` before the handle next reads it.
#![cfg(loom)]

mod loom_support;

use brisk_refcount::{owner_scope, safepoint, thread::detach, Brc, LocalBrc};
use loom::thread;
use loom_support::{check, Drops};

/// Interleaving: the owner holds a `LocalBrc` and lends a clone (counted on
/// `local`) to a non-owner, which drops it: the shared count is zero, so it
/// queues the object back. The owner's `safepoint()` inside the scope races
/// the push, and its merge (when it finds the entry) moves `local` into the
/// shared half and stores `DISOWNED`. Then the owner clones and drops the handle
/// and drops it: fast paths before the merge, the policy's full paths
/// after it (the handle stores a negative `local`, and puts it back).
/// After joining the non-owner and a second `safepoint()` (the object is
/// merged by then), the owner clones the handle once more and drops the
/// clone as a plain `Brc`, which gives it up on the shared half.
///
/// Property: exactly one free, after the owner's last use. (A queue merge
/// that left `local` non-negative would let that clone count on `local`
/// while its drop subtracts from `shared`: a free before the last touch.)
#[test]
fn local_handle_survives_a_queue_merge() {
    check(|| {
        let drops = Drops::default();
        let payload = drops.payload();
        thread::spawn(move || {
            owner_scope(|scope| {
                let local = scope.localize(Brc::new(payload)).ok().unwrap();
                let lent = LocalBrc::into_brc(local.clone());
                let non_owner = thread::spawn(move || {
                    lent.touch();
                    drop(lent);
                });
                safepoint();
                let copy = local.clone();
                copy.touch();
                drop(copy);
                non_owner.join().unwrap();
                safepoint();
                // Merged now: a clone that leaves the scope as a `Brc` is
                // dropped on the shared half, so the clone must have
                // counted there too.
                let escaped = LocalBrc::into_brc(local.clone());
                drop(escaped);
                local.touch();
                drop(local);
            });
        })
        .join()
        .unwrap();
        drops
    });
}

/// Interleaving: the owner's last local reference is a `LocalBrc`, and a
/// non-owner holds a reference of its own (cloned there, on the shared
/// half) that it drops while the owner drops the handle. The handle's drop
/// reads `local` 1 and takes the owner's zero path (`merge_zero_local`),
/// racing the non-owner's decrement, which may find the object merged (and
/// free it) or not yet (and queue it to the owner, whose exit merges it).
///
/// Property: exactly one free, never while a reference is live.
#[test]
fn last_local_handle_races_a_non_owner_drop() {
    check(|| {
        let drops = Drops::default();
        let payload = drops.payload();
        thread::spawn(move || {
            let a = Brc::new(payload);
            let lent = a.clone();
            let (give_back, given_back) = loom::sync::mpsc::channel();
            let non_owner = thread::spawn(move || {
                let mine = lent.clone();
                give_back.send(lent).unwrap();
                mine.touch();
                drop(mine);
            });
            let lent = given_back.recv().unwrap();
            drop(lent);
            owner_scope(|scope| {
                let local = scope.localize(a).ok().unwrap();
                local.touch();
                drop(local);
            });
            non_owner.join().unwrap();
            safepoint();
        })
        .join()
        .unwrap();
        drops
    });
}

/// Interleaving: the owner asks to detach while a `LocalBrc` is held, and
/// a non-owner drops a lent reference, the one that takes the shared count
/// below zero, while the owner clones and drops the handle. The detach
/// waits for the scope to close, so the non-owner finds the owner
/// registered and queues the object rather than merging it as a dead
/// owner's under the handle's plain steps on `local`; the detach, when the
/// scope closes, merges the queue (or finds the push not yet made, and the
/// non-owner then merges after the queue is closed).
///
/// Property: exactly one free, after the owner's last use.
#[test]
fn detach_inside_a_scope_races_a_non_owner_drop() {
    check(|| {
        let drops = Drops::default();
        let payload = drops.payload();
        thread::spawn(move || {
            let non_owner = owner_scope(|scope| {
                let local = scope.localize(Brc::new(payload)).ok().unwrap();
                let lent = LocalBrc::into_brc(local.clone());
                detach();
                let non_owner = thread::spawn(move || {
                    lent.touch();
                    drop(lent);
                });
                let copy = local.clone();
                copy.touch();
                drop(copy);
                local.touch();
                drop(local);
                non_owner
            });
            non_owner.join().unwrap();
        })
        .join()
        .unwrap();
        drops
    });
}
