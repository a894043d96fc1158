//! Loom models of `policy_kit::shared_decref_by` with `n ≥ 2`: a non-owner gives
//! up several references with one CAS (a flushed batch of coalesced
//! decrements), while the owner's own count moves.
//!
//! One CAS must do what `n` successive decrements would: subtract while the
//! shared count stays at or above zero; if it would pass zero on an object
//! that is neither queued nor merged, keep one reference for the queue (the
//! count may be left negative, `count − n + 1`) and hand the object to its
//! owner; free a merged object whose count reaches exactly zero. The models
//! go through the raw API (`loom_support/raw.rs`), since `Brc` never drops
//! more than one reference at a time.
#![cfg(loom)]

mod loom_support;
#[path = "loom_support/raw.rs"]
mod raw;

use brisk_refcount::policy_kit::SharedState;
use brisk_refcount::safepoint;
use loom::thread;
use loom_support::{check, Drops};
use raw::Raw;

/// Interleaving: the owner makes `a` and clones `b` and `c` (all three
/// counted in `local`) and hands `b` and `c` to a non-owner, which clones
/// `f` on the shared half (shared count 1) and then gives up `b`, `c` and
/// `f` with one `shared_decref_by(3)`. The count would pass zero (1 − 3),
/// so the CAS sets `Queued` with the count at −1: three references gone,
/// one kept for the queue. Meanwhile the owner drops `a` and reaches a
/// safepoint, which may run before or after the push lands; after joining
/// the non-owner, a second safepoint merges what is left:
/// `local` 2 + shared −1 − the queue's 1 = 0.
///
/// Property: the batch queues (never a plain subtract, which would leave
/// nobody to notice the total reach zero), its negative count frees nothing
/// early, and the object is freed exactly once, after the non-owner's use.
///
/// Mutants caught: the queue test `(0..n).contains(&count)` narrowed to
/// `count == 0` (the batch subtracts to −2 and the object leaks), and the
/// queued count written as `count − n` without the queue's reference (the
/// merge reaches −1 and the object leaks).
#[test]
fn batch_passes_zero_and_queues_with_a_negative_count() {
    check(|| {
        let drops = Drops::default();
        let payload = drops.payload();
        thread::spawn(move || {
            let a = Raw::new(payload);
            // SAFETY: the owner holds `a`; `b` and `c` are counted on the
            // owner path and handed to the non-owner, which counts `f` on
            // the shared half and gives up all three with one batch; the
            // owner drops `a` on the owner path.
            unsafe {
                let b = a.owner_clone();
                let _c = a.owner_clone();
                let non_owner = thread::spawn(move || {
                    let f = b.shared_clone();
                    f.touch();
                    // `b` stands for `b`, `c` and `f`: three references.
                    b.shared_drop_by(3);
                });
                a.touch();
                a.owner_drop();
                safepoint();
                non_owner.join().unwrap();
            }
            safepoint();
        })
        .join()
        .unwrap();
        drops
    });
}

/// Interleaving: the owner makes `a` and lends `b` (counted in `local`) to a
/// non-owner, which clones `f` and `g` on the shared half (shared count 2)
/// and sends `b` back over a channel; the owner drops `b` and `a`, so its
/// `local` reaches zero and `merge_zero_local` runs, while the non-owner
/// gives up `f` and `g` with one `shared_decref_by(2)`. Either the batch
/// lands first (shared 2 → 0, a plain subtract in `Private`; the owner then
/// finds shared 0 and frees, or its merge CAS fails and retries to a
/// merged zero and frees), or the owner merges first (`Merged`, count 2)
/// and the batch takes the count from exactly 2 to 0 and frees.
///
/// Property: exactly one free, by whichever thread takes the count to
/// zero, after both threads' uses.
///
/// Mutant caught: the merged free test `count == n` written `count == 1`
/// (as for a single decrement): the batch subtracts 2 → 0 on the merged
/// word without freeing, and the object leaks.
#[test]
fn batch_races_merge_zero_local() {
    check(|| {
        let drops = Drops::default();
        let payload = drops.payload();
        thread::spawn(move || {
            let a = Raw::new(payload);
            let (give_back, given_back) = loom::sync::mpsc::channel();
            // SAFETY: the owner holds `a` and lends `b` (owner path); the
            // non-owner counts `f` and `g` on the shared half, returns `b`,
            // and gives up `f` and `g` with one batch; the owner drops `b`
            // and `a` on the owner path, the last of them reaching zero.
            unsafe {
                let b = a.owner_clone();
                let non_owner = thread::spawn(move || {
                    let f = b.shared_clone();
                    let _g = b.shared_clone();
                    give_back.send(b).unwrap();
                    f.touch();
                    // `f` stands for `f` and `g`.
                    f.shared_drop_by(2);
                });
                let b = given_back.recv().unwrap();
                b.owner_drop();
                a.touch();
                a.owner_drop();
                non_owner.join().unwrap();
            }
            safepoint();
        })
        .join()
        .unwrap();
        drops
    });
}

/// Interleaving: the object is already merged (the owner gave it up with
/// two shared references outstanding), and two non-owners give up their
/// references concurrently: one a batch of two, one a single reference.
/// Whichever lands second takes the count to zero: the batch from exactly
/// 2, or the single decrement from 1.
///
/// Property: exactly one free; a batch on a merged word with a count above
/// `n` subtracts and never frees, and the free is ordered after both
/// threads' uses (the Acquire fence after the last Release CAS).
///
/// Mutant caught: the decrement's CAS made Relaxed instead of Release —
/// the freeing thread's Acquire fence then has nothing to pair with, and
/// loom reports the other thread's read of the payload racing its drop.
#[test]
fn batch_and_single_decrement_race_on_a_merged_object() {
    check(|| {
        let drops = Drops::default();
        let payload = drops.payload();
        let (batch, single) = thread::spawn(move || {
            let a = Raw::new(payload);
            // SAFETY: the owner counts three references on the shared
            // half and drops its own on the owner path: `local` reaches
            // zero with shared 3, so the object is merged, not freed.
            unsafe {
                let batch = a.shared_clone();
                let _second = a.shared_clone();
                let single = a.shared_clone();
                a.owner_drop();
                let word = a.header().shared_word();
                assert_eq!((word.state(), word.count()), (SharedState::Merged, 3));
                (batch, single)
            }
        })
        .join()
        .unwrap();
        let non_owner = thread::spawn(move || {
            // SAFETY: `batch` stands for two references, given up at once.
            unsafe {
                batch.touch();
                batch.shared_drop_by(2);
            }
        });
        // SAFETY: the last reference of this thread, given up once.
        unsafe {
            single.touch();
            single.shared_drop();
        }
        non_owner.join().unwrap();
        drops
    });
}
