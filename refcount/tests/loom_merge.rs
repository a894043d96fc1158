//! Loom model of the explicit merge: the owner merges a queued object at
//! `safepoint()` while a non-owner keeps incrementing and decrementing it.
#![cfg(loom)]

mod loom_support;

use brisk_refcount::{safepoint, Brc};
use loom::thread;
use loom_support::{check, Drops};

/// Interleaving: the owner makes `a`, `b`, `d` (all counted in `local`) and
/// gives `b` and `d` to a non-owner, which drops `b` (count 0 → `Queued`,
/// push), clones `e` from `d`, and drops `e` and `d`. Meanwhile the owner
/// drops `a` and calls `safepoint()`, so its merge (`local` and `tid` to 0,
/// CAS to `Merged` with `count + local − 1`) lands before, between or after
/// the non-owner's increment and decrements, which then see `Queued` (count
/// possibly negative) or `Merged` (exact count, the last one frees). The
/// owner joins the non-owner and calls `safepoint()` again.
///
/// Property: exactly one free — by the owner's merge or by the non-owner's
/// last decrement of the merged object — and never while a reference is
/// live.
#[test]
fn safepoint_merge_races_non_owner_inc_dec() {
    check(|| {
        let drops = Drops::default();
        let payload = drops.payload();
        thread::spawn(move || {
            let a = Brc::new(payload);
            let b = Brc::clone(&a);
            let d = Brc::clone(&a);
            let non_owner = thread::spawn(move || {
                b.touch();
                drop(b);
                let e = Brc::clone(&d);
                e.touch();
                drop(e);
                d.touch();
                drop(d);
            });
            drop(a);
            safepoint();
            non_owner.join().unwrap();
            safepoint();
        })
        .join()
        .unwrap();
        drops
    });
}

/// Interleaving: as above, but the owner keeps `a` alive across the merge
/// and drops it only after the non-owner is done: the owner's
/// `safepoint()` races the non-owner's queue push, clone and drops; after
/// a merge the owner's own decrement of `a` goes through the shared path
/// (`tid` is 0) and may be the one that frees.
///
/// Property: the owner's reference survives the merge (the payload is
/// still alive after the non-owner is joined), and the object is freed
/// exactly once.
#[test]
fn owner_reference_survives_merge() {
    check(|| {
        let drops = Drops::default();
        let payload = drops.payload();
        let seen = drops.clone();
        thread::spawn(move || {
            let a = Brc::new(payload);
            let b = Brc::clone(&a);
            let d = Brc::clone(&a);
            let non_owner = thread::spawn(move || {
                b.touch();
                drop(b);
                let e = Brc::clone(&d);
                e.touch();
                drop(e);
                d.touch();
                drop(d);
            });
            safepoint();
            non_owner.join().unwrap();
            safepoint();
            assert_eq!(seen.count(), 0, "freed while the owner holds `a`");
            assert_eq!(Brc::strong_count(&a), 1);
            drop(a);
        })
        .join()
        .unwrap();
        drops
    });
}
