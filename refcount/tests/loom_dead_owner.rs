//! Loom models of an owner thread exiting while other threads still hold,
//! and queue, its objects: the exit path closes the queue and merges what is
//! in it; a later push fails (queue closed) or finds no owner (registry
//! entry gone), and the pusher merges the object itself.
#![cfg(loom)]

mod loom_support;

use brisk_refcount::Brc;
use loom::thread;
use loom_support::{check, Drops};

/// Interleaving: the owner gives `b` (counted in `local`) to a non-owner,
/// drops `a` and exits without a safepoint; the non-owner's drop queues the
/// object (count 0 → `Queued`) and its push lands before the owner's exit
/// closes the queue (the exit path merges it), after the close (the push
/// fails and the non-owner merges it), or after the owner left the registry
/// (the lookup misses and the non-owner merges it).
///
/// Property: exactly one free, once the owner's exit path has finished; the
/// dead-owner merge reads the owner's final `local` (ordered by the queue or
/// registry lock), so it neither leaks nor frees early.
#[test]
fn non_owner_queues_to_exiting_owner() {
    check(|| {
        let drops = Drops::default();
        let payload = drops.payload();
        let owner = thread::spawn(move || {
            let a = Brc::new(payload);
            let b = Brc::clone(&a);
            let non_owner = thread::spawn(move || {
                b.touch();
                drop(b);
            });
            drop(a);
            non_owner
        });
        let non_owner = owner.join().unwrap();
        non_owner.join().unwrap();
        drops
    });
}

/// Interleaving: the owner makes `a`, `b`, `c`, gives `b` to a non-owner
/// thread and `c` to the model's main thread, drops `a` and exits. The two
/// non-owner drops race each other and the owner's exit path: one queues
/// (to the live owner, to a closed queue, or to an id no longer in the
/// registry), the other subtracts before the merge (count −1, `Queued`) or
/// after it (`Merged`, the last decrement frees).
///
/// Property: exactly one free, whichever of the exit path, the queuing
/// thread or the last decrement does it.
#[test]
fn exiting_owner_races_two_non_owner_drops() {
    check(|| {
        let drops = Drops::default();
        let payload = drops.payload();
        let owner = thread::spawn(move || {
            let a = Brc::new(payload);
            let b = Brc::clone(&a);
            let c = Brc::clone(&a);
            let non_owner = thread::spawn(move || {
                b.touch();
                drop(b);
            });
            drop(a);
            (c, non_owner)
        });
        let (c, non_owner) = owner.join().unwrap();
        c.touch();
        drop(c);
        non_owner.join().unwrap();
        drops
    });
}

/// Interleaving: the owner gives `b` to a non-owner, then detaches
/// (`thread::detach`) while still holding `a`, and drops `a` afterwards as a
/// non-owner of its own object. The non-owner's drop lands before the
/// detach (queued, then merged by the exit path), during it, or after it
/// (the owner's id is gone from the registry, so the dropping thread merges
/// the object itself). The owner then makes a second object, registering
/// again under a new id, and drops it on the owner path.
///
/// Property: exactly one free of the first object, whichever thread's drop
/// comes last; detaching never frees an object its thread still holds.
#[test]
fn owner_detaches_while_holding_a_reference() {
    check(|| {
        let drops = Drops::default();
        let payload = drops.payload();
        let second_drops = Drops::default();
        let second = second_drops.payload();
        let owner = thread::spawn(move || {
            let a = Brc::new(payload);
            let b = Brc::clone(&a);
            let first_id = brisk_refcount::thread::attach();
            let non_owner = thread::spawn(move || {
                b.touch();
                drop(b);
            });
            brisk_refcount::thread::detach();
            a.touch();
            drop(a);
            let c = Brc::new(second);
            assert_ne!(brisk_refcount::thread::attach(), first_id);
            drop(c);
            assert_eq!(second_drops.count(), 1, "freed on the owner path");
            non_owner
        });
        let non_owner = owner.join().unwrap();
        non_owner.join().unwrap();
        drops
    });
}
