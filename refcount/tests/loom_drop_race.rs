//! Loom models of the owner and a non-owner racing to drop an object's last
//! references.
#![cfg(loom)]

mod loom_support;

use brisk_refcount::{safepoint, Brc};
use loom::sync::mpsc;
use loom::thread;
use loom_support::{check, Drops};

/// Interleaving: the owner holds `a`; a non-owner holds `b` (counted in
/// `local`) and hands the owner a clone `c` (counted in `shared`) over a
/// channel. The owner then drops `a` and `c`, taking `local` to zero
/// (`merge_zero_local`), while the non-owner drops `b`, taking the shared
/// count from 1 to 0. Depending on the order the owner frees at once
/// (shared word already 0), or merges with count 1 and the non-owner's
/// decrement frees, or its merge CAS retries after the decrement and frees.
///
/// Property: exactly one free, on whichever thread is last; nothing is ever
/// queued (the shared count is positive whenever the non-owner decrements).
#[test]
fn owner_local_zero_races_non_owner_decrement() {
    check(|| {
        let drops = Drops::default();
        let payload = drops.payload();
        thread::spawn(move || {
            let a = Brc::new(payload);
            let b = Brc::clone(&a);
            let (tx, rx) = mpsc::channel();
            let non_owner = thread::spawn(move || {
                tx.send(Brc::clone(&b)).unwrap();
                b.touch();
                drop(b);
            });
            let c = rx.recv().unwrap();
            drop(a);
            c.touch();
            drop(c);
            non_owner.join().unwrap();
            assert_eq!(safepoint(), 0, "nothing may be queued");
        })
        .join()
        .unwrap();
        drops
    });
}

/// Interleaving: the owner holds `a` and gives `b` (counted in `local`) to a
/// non-owner, which drops it — finding the shared count at zero, so it sets
/// `Queued` and pushes the object onto the owner's queue — while the owner
/// drops `a`; the owner then joins the non-owner and calls `safepoint()`.
///
/// Property: the queue's reference keeps the object alive until the merge
/// (nothing is dropped before the owner's safepoint, whatever the order of
/// the two drops), and the merge frees it, exactly once.
#[test]
fn owner_and_non_owner_drop_through_the_queue() {
    check(|| {
        let drops = Drops::default();
        let payload = drops.payload();
        let seen = drops.clone();
        thread::spawn(move || {
            let a = Brc::new(payload);
            let b = Brc::clone(&a);
            let non_owner = thread::spawn(move || {
                b.touch();
                drop(b);
            });
            a.touch();
            drop(a);
            non_owner.join().unwrap();
            assert_eq!(seen.count(), 0, "freed while queued");
            assert_eq!(safepoint(), 1);
            assert_eq!(seen.count(), 1);
        })
        .join()
        .unwrap();
        drops
    });
}
