//! Loom models of the local-count overflow spill. Under `cfg(loom)` the
//! owner counts at most 3 references in `local`, so the fourth owner
//! reference already moves half of the count into `shared`.
#![cfg(loom)]

mod loom_support;
#[path = "loom_support/raw.rs"]
mod raw;

use brisk_refcount::policy_kit::SharedState;
use brisk_refcount::{safepoint, Brc};
use loom::thread;
use loom_support::{check, Drops};
use raw::Raw;

/// The most references `local` counts under `cfg(loom)`.
const LOOM_LOCAL_MAX: u32 = 3;

/// Interleaving: the owner makes `a`, gives `b` (counted in `local`) to a
/// non-owner, then clones `c`, `d`, `e` — `d` spills (two of the four
/// references move to `shared`), `e` is counted in `local` again — while
/// the non-owner drops `b`. The drop lands before the spills (count
/// 0: it queues, and the spills then lift the count of the `Queued` word)
/// or after one (it subtracts). The owner then drops `a`, `c`, `d`: `local`
/// reaches zero with the spilled references still in `shared`, so the
/// object is merged, not freed; `e`'s drop goes through the shared path.
/// The owner joins the non-owner and calls `safepoint()`.
///
/// Property: the spill moves exactly half of the four references (`local`
/// counts 2 right after it, 3 after `e`), and `shared` then holds the two
/// moved, less the non-owner's reference if its decrement subtracted
/// (`Queued` only with both, since a queueing decrement subtracts nothing);
/// exactly one free (no leak of the spilled references, no double free).
///
/// Mutant caught: `spill_local` moving one reference more than half
/// (`refs / 2 + 1`): the total is unchanged, so only the split shows it.
#[test]
fn spill_races_non_owner_drop() {
    check(|| {
        let drops = Drops::default();
        let payload = drops.payload();
        thread::spawn(move || {
            let a = Brc::new(payload);
            let b = Brc::clone(&a);
            let non_owner = thread::spawn(move || {
                b.touch();
                drop(b);
            });
            let header = Brc::header(&a);
            let c = Brc::clone(&a);
            assert_eq!(header.local_count(), LOOM_LOCAL_MAX);
            let d = Brc::clone(&a);
            assert_eq!(header.local_count(), 2, "the spill keeps half of four");
            let e = Brc::clone(&a);
            assert_eq!(header.local_count(), LOOM_LOCAL_MAX);
            let word = header.shared_word();
            match word.state() {
                SharedState::Queued => assert_eq!(word.count(), 2),
                SharedState::Private => assert!((1..=2).contains(&word.count()), "{word:?}"),
                state => panic!("unexpected state after the spill: {state:?}"),
            }
            drop(a);
            drop(c);
            drop(d);
            drop(e);
            non_owner.join().unwrap();
            safepoint();
        })
        .join()
        .unwrap();
        drops
    });
}

/// Interleaving: a non-owner holds `b` while the owner clones past the
/// threshold (a spill), then drops it; the owner joins it and calls
/// `safepoint()` (merging the object if the drop queued it), so the count
/// is settled.
///
/// Property: the spills lose no reference: `strong_count` is exactly the
/// four references the owner holds, whatever the order, split as the order
/// dictates — the drop subtracted after the spill (`Private`, 3 in `local`,
/// 1 in `shared`), or queued before it and was merged (`Merged`, all 4 in
/// `shared`); dropping them frees it exactly once, on the owner.
///
/// Mutant caught: the same `refs / 2 + 1` spill as above, which keeps the
/// total and the object mortal but leaves the split `(Private, 2, 2)`.
#[test]
fn spill_keeps_count_exact() {
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
            let held = [Brc::clone(&a), Brc::clone(&a), Brc::clone(&a)];
            non_owner.join().unwrap();
            safepoint();
            assert_eq!(Brc::strong_count(&a), 4);
            let header = Brc::header(&a);
            let word = header.shared_word();
            let split = (word.state(), header.local_count(), word.count());
            assert!(
                split == (SharedState::Private, 3, 1) || split == (SharedState::Merged, 0, 4),
                "unexpected split after the spill and merge: {split:?}"
            );
            drop(held);
            drop(a);
            assert_eq!(seen.count(), 1);
        })
        .join()
        .unwrap();
        drops
    });
}

/// Interleaving: through the raw API (see `raw`), the owner makes `a`,
/// gives `b` to a non-owner, and clones `c`, `d`, `e` (a spill); the
/// non-owner clones `f` from `b` and drops `f` and `b`, the second drop
/// queueing when it finds the count at zero. With the spills lifting the
/// `Queued` count above zero, the owner's three decrements take `local` to
/// zero and `merge_zero_local` may run between the non-owner's `Queued` CAS
/// and its read of the owner id; the owner drops `e` last (through the
/// shared path once merged), joins the non-owner and calls `safepoint()`.
///
/// Property: exactly one free. The spill alone (no third thread) can make
/// the count positive after the `Queued` transition, so this is a
/// two-thread regression model for the unowned-on-queue bug.
#[test]
fn spill_lifts_queued_count_before_merge_zero_local() {
    check(|| {
        let drops = Drops::default();
        let payload = drops.payload();
        thread::spawn(move || {
            let a = Raw::new(payload);
            // SAFETY: the owner holds `a`; each copy below is one counted
            // reference, dropped exactly once, through the owner path on the
            // owner while it has not merged the object, through the shared
            // path otherwise.
            unsafe {
                let b = a.owner_clone();
                let non_owner = thread::spawn(move || {
                    let f = b.shared_clone();
                    f.touch();
                    f.shared_drop();
                    b.shared_drop();
                });
                let c = a.owner_clone();
                let d = a.owner_clone();
                let e = a.owner_clone();
                a.owner_drop();
                c.owner_drop();
                d.owner_drop();
                e.shared_drop();
                non_owner.join().unwrap();
            }
            safepoint();
        })
        .join()
        .unwrap();
        drops
    });
}
