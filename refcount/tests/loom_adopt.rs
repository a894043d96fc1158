//! Loom models of `policy_kit::adopt`: an object made and counted on one
//! thread is handed, with every reference to it, to another, which
//! re-biases it to itself and then shares it like any object it made.
//!
//! `adopt` folds the whole count into the new owner's `local` (what `local`
//! cannot count stays in `shared`, `Private`) and stamps the new owner's id.
//! Its contract makes the adoption itself single-threaded: nobody else holds
//! a reference, the count is exact, and the hand-over (here a channel)
//! orders the giver's writes before it. The race comes after: a third
//! thread given a reference by the new owner must queue its last drop to the
//! *new* owner, and the counts that owner merges must add up to the
//! references really held.
#![cfg(loom)]

mod loom_support;
#[path = "loom_support/raw.rs"]
mod raw;

use brisk_refcount::policy_kit::{self, SharedState};
use brisk_refcount::{embed, safepoint, Biased};
use loom::sync::mpsc::channel;
use loom::thread;
use loom_support::{check, Drops};
use raw::Raw;

/// Interleaving: thread A makes `x` and clones `y` (both counted in A's
/// `local`: an exact count of 2, A's shared word 0) and sends both over a
/// channel to thread B. B adopts the object, clones `z` on its new owner
/// path and sends `y` to the model's main thread, which drops it on the
/// non-owner path: the shared count is 0, so it queues the object to B.
/// B drops `x` and `z` and reaches a safepoint (racing the push), waits for
/// main's word that the drop is done, and reaches a safepoint again:
/// `local` 1 + shared 0 − the queue's 1 = 0, freed at B's merge. A's exit
/// path runs concurrently with all of it.
///
/// Property: after `adopt`, B is the owner (`exact_count` is 2 on B);
/// exactly one free, on B's merge, after every thread's use.
///
/// Mutant caught: `adopt` without its `tid` store. B's clone and drops then
/// take the shared path of A's object, and main's drop queues to A: pushed
/// before A's exit (A merges a count that B's later drops make negative) or
/// merged by main after it; either way a reference is lost or found twice.
/// (The owner assertion fails first, on every execution.)
#[test]
fn adopted_object_queues_to_its_new_owner() {
    check(|| {
        let drops = Drops::default();
        let payload = drops.payload();
        let (to_b, from_a) = channel();
        let (to_main, from_b) = channel();
        let (dropped, wait_dropped) = channel();
        let a = thread::spawn(move || {
            let x = Raw::new(payload);
            // SAFETY: A holds `x` and counts `y` on its owner path; both
            // leave A with the send, which orders A's writes before B's.
            unsafe {
                let y = x.owner_clone();
                assert_eq!(x.exact_count(), Some(2));
                to_b.send((x, y)).unwrap();
            }
        });
        let b = thread::spawn(move || {
            let (x, y) = from_a.recv().unwrap();
            // SAFETY: B holds every reference (`x`, `y`) and the channel
            // ordered A's writes before this; after `adopt` B counts on the
            // full path (`clone_in`/`drop_in`), which must find B the owner.
            unsafe {
                x.adopt();
                assert!(embed::is_owned_by_current_thread(x.header()));
                assert_eq!(x.exact_count(), Some(2));
                let z = x.clone_in::<Biased>();
                to_main.send(y).unwrap();
                x.touch();
                x.drop_in::<Biased>();
                z.drop_in::<Biased>();
            }
            safepoint();
            wait_dropped.recv().unwrap();
            safepoint();
        });
        let y = from_b.recv().unwrap();
        // SAFETY: main's one reference, given up once on the full path
        // (main owns nothing, so the non-owner path).
        unsafe {
            y.touch();
            y.drop_in::<Biased>();
        }
        dropped.send(()).unwrap();
        a.join().unwrap();
        b.join().unwrap();
        drops
    });
}

/// Interleaving: thread A makes `x` and counts four more references on the
/// shared half, then drops `x` on its owner path: `local` reaches zero with
/// shared 4, so A gives the object up (`Merged`, count 4, exact on any
/// thread). A sends the four references over a channel to thread B, which
/// adopts the object: `local` counts at most 3 references under loom, so 3
/// go there and the fourth stays in `shared` (`Private`, count 1). B sends
/// two references to the model's main thread, which drops them on the
/// non-owner path: the first subtracts (1 → 0), the second finds zero and
/// queues the object to B. B drops its own two on the owner path (`local`
/// 3 → 1), reaches a safepoint (racing the push), waits for main's word
/// and reaches a safepoint again: `local` 1 + shared 0 − the queue's 1 = 0.
///
/// Property: the adoption keeps the exact count, split across `local` and
/// `shared`; exactly one free, at B's merge, after every thread's use.
///
/// Mutants caught: `adopt` dropping the remainder (`shared` written as
/// zero: main's second decrement subtracts to −1 and B's merge leaks the
/// object), and `adopt` keeping the merged state (`word.state()` instead of
/// `Private`: main's first decrement finds `Merged`, count 1, and frees
/// while B still holds two references).
#[test]
fn adopted_merged_object_keeps_its_count_across_both_halves() {
    check(|| {
        let drops = Drops::default();
        let payload = drops.payload();
        let (to_b, from_a) = channel();
        let (to_main, from_b) = channel();
        let (dropped, wait_dropped) = channel();
        let a = thread::spawn(move || {
            let x = Raw::new(payload);
            // SAFETY: A counts four references on the shared half and gives
            // up `x` on its owner path, merging the object; the four leave
            // with the send, which orders A's writes before B's.
            unsafe {
                let r = x.shared_clone();
                for _ in 0..3 {
                    x.shared_clone();
                }
                x.owner_drop();
                let word = r.header().shared_word();
                assert_eq!((word.state(), word.count()), (SharedState::Merged, 4));
                assert_eq!(r.exact_count(), Some(4));
                // `r` stands for all four references.
                to_b.send(r).unwrap();
            }
        });
        let b = thread::spawn(move || {
            let r = from_a.recv().unwrap();
            // SAFETY: B holds all four references and the channel ordered
            // A's writes before this; it sends two to main and gives up its
            // own two on the full path, which must find B the owner.
            unsafe {
                r.adopt();
                let header = r.header();
                assert!(embed::is_owned_by_current_thread(header));
                assert_eq!(header.local_count(), 3);
                let word = header.shared_word();
                assert_eq!((word.state(), word.count()), (SharedState::Private, 1));
                // The copy sent stands for main's two references, `r` for
                // B's two.
                to_main.send(r).unwrap();
                r.touch();
                r.drop_in::<Biased>();
                r.drop_in::<Biased>();
            }
            safepoint();
            wait_dropped.recv().unwrap();
            safepoint();
        });
        let r = from_b.recv().unwrap();
        // SAFETY: main's two references, each given up once on the
        // non-owner path.
        unsafe {
            r.touch();
            r.drop_in::<Biased>();
            r.drop_in::<Biased>();
        }
        dropped.send(()).unwrap();
        a.join().unwrap();
        b.join().unwrap();
        drops
    });
}
