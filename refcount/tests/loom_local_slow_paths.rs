//! Loom models of `LocalBrc`'s ways off its fast path that
//! `loom_local.rs` does not take: the owner's `local` reaching zero while a
//! handle is still held, and an increment that overflows `local`.
//!
//! A handle steps `local` before it looks, and trusts a non-negative
//! result. That is sound only if every transition that takes the object
//! from its owner while a reference is held leaves `local` at `DISOWNED`
//! (`local.rs`, "The proof, and what keeps it true"). One of them is
//! `merge_zero_local`: a held handle does not keep `local` above zero,
//! because references are fungible — a reference a non-owner counted on
//! the shared half and then handed to the owner is dropped on the owner
//! path, so `local` can reach zero while the owner still holds a handle.
//! The models check that the handle then counts on the shared half, and
//! that a spill leaves the exact split it documents.
#![cfg(loom)]

mod loom_support;

use brisk_refcount::policy_kit::SharedState;
use brisk_refcount::{owner_scope, safepoint, Brc, LocalBrc};
use loom::sync::mpsc::channel;
use loom::thread;
use loom_support::{check, Drops};

/// Interleaving: the owner holds a `LocalBrc` and lends a clone `lent`
/// (both counted in `local`, 2) to a non-owner, which clones `m1` and `m2`
/// there (shared 2), sends them back over a channel and drops `lent`
/// (shared 2 → 1, or 2 → 1 on the merged word). The owner drops `m1` and
/// `m2` on its owner path: `local` goes 2 → 1 → 0 with the handle still
/// held, and `merge_zero_local` gives the object up (`Merged` with the
/// shared count: the handle's reference, and `lent`'s if not yet dropped).
/// The owner then clones the handle and drops the clone, racing the
/// non-owner's drop; joins it, and drops the handle last.
///
/// Property: after the join the count is exactly the handle's (merged, 1);
/// the handle's clone counted on the shared half (its drop subtracts
/// there); exactly one free, after every use.
///
/// Mutant caught: `merge_zero_local` without its `DISOWNED` store (`local`
/// left at −1): the handle's clone steps it to 0 and stays on the fast
/// path, uncounted on the merged word, while its drop subtracts from it —
/// the object is freed while the handle is still held.
#[test]
fn local_handle_held_across_merge_zero_local() {
    check(|| {
        let drops = Drops::default();
        let payload = drops.payload();
        thread::spawn(move || {
            owner_scope(|scope| {
                let local = scope.localize(Brc::new(payload)).ok().unwrap();
                let lent = LocalBrc::into_brc(local.clone());
                let (give_back, given_back) = channel();
                let non_owner = thread::spawn(move || {
                    let m1 = Brc::clone(&lent);
                    let m2 = Brc::clone(&lent);
                    give_back.send((m1, m2)).unwrap();
                    lent.touch();
                    drop(lent);
                });
                let (m1, m2) = given_back.recv().unwrap();
                drop(m1);
                // The owner's last local reference, with `local` held.
                drop(m2);
                let header = Brc::header(LocalBrc::as_brc(&local));
                assert_eq!(header.local_count(), 0);
                let copy = local.clone();
                copy.touch();
                drop(copy);
                non_owner.join().unwrap();
                let word = header.shared_word();
                assert_eq!((word.state(), word.count()), (SharedState::Merged, 1));
                local.touch();
                drop(local);
            });
        })
        .join()
        .unwrap();
        drops
    });
}

/// Interleaving: the owner holds a `LocalBrc` and lends a clone (counted in
/// `local`) to a non-owner, which drops it: at shared 0 it queues the object
/// back, after a spill it subtracts. Meanwhile the owner clones the handle
/// twice: the first fills `local` (3 references, the most it counts under
/// loom), the second leaves the fast path (`clone_slow` puts `local` back
/// and runs the owner increment, which spills two of the four references
/// into `shared`). The owner joins the non-owner, reaches a safepoint
/// (merging the object if it was queued), clones once more, and drops
/// everything.
///
/// Property: right after the spill `local` counts exactly 2 and `shared`
/// holds the two spilled references (less the non-owner's, if it
/// subtracted; `Queued` only with both); after the safepoint the count is
/// exactly the three references held; exactly one free, after every use.
///
/// Mutant caught: `clone_slow` without putting `local` back: the spill
/// starts from one reference too many, `local` counts 3 after it, and the
/// object leaks.
#[test]
fn local_handle_clone_spills_on_overflow() {
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
                let header = Brc::header(LocalBrc::as_brc(&local));
                let c1 = local.clone();
                let c2 = local.clone();
                assert_eq!(header.local_count(), 2, "spill left the wrong local");
                let word = header.shared_word();
                match word.state() {
                    SharedState::Queued => assert_eq!(word.count(), 2),
                    SharedState::Private => assert!((1..=2).contains(&word.count())),
                    state => panic!("unexpected state after the spill: {state:?}"),
                }
                non_owner.join().unwrap();
                safepoint();
                assert_eq!(Brc::strong_count(LocalBrc::as_brc(&local)), 3);
                let c3 = local.clone();
                c3.touch();
                drop((c1, c2, c3));
                drop(local);
            });
        })
        .join()
        .unwrap();
        drops
    });
}
