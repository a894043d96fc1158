//! Loom models of the merge queue: a non-owner finds the shared count at
//! zero, sets `Queued` and pushes the object onto its owner's queue, while
//! the owner's own count moves — and reaches zero (`merge_zero_local`).
#![cfg(loom)]

mod loom_support;
#[path = "loom_support/raw.rs"]
mod raw;

use brisk_refcount::{safepoint, Brc};
use loom::thread;
use loom_support::{check, Drops};
use raw::Raw;

/// Interleaving: the owner makes `a`, `b`, `d` (all counted in `local`).
/// Non-owner N1 drops `b`; non-owner N2 clones `e` from `d` and hands `d`
/// and `e` back; the owner then drops `a`, `d`, `e`, so its `local` reaches
/// zero and `merge_zero_local` runs. When N1 drops first it queues (count 0
/// → `Queued`) and N2's clone lifts the count to 1, so the owner gives the
/// object up (`Merged`, count 1) with the queue's reference still pending;
/// when N2 clones first, N1 merely subtracts and the owner frees at once.
/// The owner finally joins N1 and calls `safepoint()`.
///
/// Property: exactly one free — by the owner's `merge_zero_local`, by its
/// `safepoint()`, or by N1 — never a double free and never a leak.
#[test]
fn queue_races_merge_zero_local() {
    check(|| {
        let drops = Drops::default();
        let payload = drops.payload();
        thread::spawn(move || {
            let a = Brc::new(payload);
            let b = Brc::clone(&a);
            let d = Brc::clone(&a);
            let n1 = thread::spawn(move || {
                b.touch();
                drop(b);
            });
            let n2 = thread::spawn(move || {
                d.touch();
                let e = Brc::clone(&d);
                (d, e)
            });
            let (d, e) = n2.join().unwrap();
            drop(a);
            drop(d);
            drop(e);
            n1.join().unwrap();
            safepoint();
        })
        .join()
        .unwrap();
        drops
    });
}

/// Interleaving: the same race through the raw API (see `raw`), so that
/// loom also tries the owner's whole `merge_zero_local` — `tid = 0`, then
/// the `Merged` CAS — between N1's `Queued` CAS and N1's read of the owner
/// id, N1 finding `tid == 0`, and N1's decrement landing on either side of
/// the owner's CAS.
///
/// Property: exactly one free. This is the regression model for the
/// unowned-on-queue bug: N1 used to treat `tid == 0` as "owner exited" and
/// merge the object itself, leaking it (after a stale read of `local`) or
/// freeing it a second time (when its merge landed between the owner's
/// `tid` store and the owner's CAS).
#[test]
fn queue_finds_owner_gone_after_merge_zero_local() {
    check(|| {
        let drops = Drops::default();
        let payload = drops.payload();
        thread::spawn(move || {
            let a = Raw::new(payload);
            // SAFETY: the owner holds `a`; each copy below is one counted
            // reference, dropped exactly once by the thread it is given to,
            // through the owner path here and the shared path elsewhere.
            unsafe {
                let b = a.owner_clone();
                let d = a.owner_clone();
                let n1 = thread::spawn(move || {
                    b.touch();
                    b.shared_drop();
                });
                let n2 = thread::spawn(move || d.shared_clone());
                let e = n2.join().unwrap();
                a.owner_drop();
                d.owner_drop();
                e.owner_drop();
                n1.join().unwrap();
            }
            safepoint();
        })
        .join()
        .unwrap();
        drops
    });
}

/// Interleaving: the owner gives `b` and `c` (counted in `local`) to two
/// non-owners and drops `a`; the two non-owner drops race. Exactly one finds
/// the shared count at zero and queues; the other subtracts, taking the
/// count negative in state `Queued` (or, if the owner's first `safepoint()`
/// already merged the object, the count is exact and the last one frees).
/// The owner joins both and calls `safepoint()` again.
///
/// Property: a negative shared count never frees early (nothing is dropped
/// until the merge or the last merged decrement), and the object is freed
/// exactly once.
#[test]
fn two_non_owners_race_to_queue() {
    check(|| {
        let drops = Drops::default();
        let payload = drops.payload();
        thread::spawn(move || {
            let a = Brc::new(payload);
            let b = Brc::clone(&a);
            let c = Brc::clone(&a);
            let n1 = thread::spawn(move || {
                b.touch();
                drop(b);
            });
            let n2 = thread::spawn(move || {
                c.touch();
                drop(c);
            });
            drop(a);
            safepoint();
            n1.join().unwrap();
            n2.join().unwrap();
            safepoint();
        })
        .join()
        .unwrap();
        drops
    });
}
