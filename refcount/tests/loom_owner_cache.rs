//! Loom model of the owner cache in `thread::push_to_owner`: a non-owner
//! keeps the last owner it queued to (`OWNER_CACHE`, an `Arc` of that
//! thread's state), so a run of hand-backs to one producer skips the
//! registry lock. The cached `Arc` keeps the state alive after its thread
//! has exited, so a push through the cache can reach a queue that its owner
//! has already closed; the push must fail there, and the pusher merge the
//! object itself, exactly as after a registry miss.
//!
//! `loom_dead_owner.rs` models the registry path (a cold cache); this file
//! models the warm one.
#![cfg(loom)]

mod loom_support;
#[path = "loom_support/raw.rs"]
mod raw;

use loom::sync::mpsc::channel;
use loom::thread;
use loom_support::{check, Drops};
use raw::Raw;

/// Interleaving: owner O makes `x1` and `x2`, keeps a second reference to
/// `x2` and sends one reference to each to the model's main thread N, then
/// waits. N drops `x1` (shared count 0: it queues to O, which is alive, so
/// the registry lookup hits and fills N's owner cache with O's state) and
/// tells O, which drops its own `x2` (`local` 2 → 1) and returns: its exit
/// path closes its queue, merges `x1` (freeing it) and leaves the
/// registry. N drops `x2`, whose owner is also O, racing O's last drop and
/// exit path: the push through the cache lands before the close (O's exit
/// merges `x2`) or after it (the cached queue is closed, the push fails,
/// and N merges `x2` itself).
///
/// Property: each object is freed exactly once, once O's exit path has
/// finished, and N's merge of `x2` reads O's final `local` (ordered by the
/// queue lock, which both the close and the failed push take).
///
/// Mutant caught: `push_to_owner` answering `Ok` on a cache hit whatever
/// the push returned: the entry for `x2` is dropped with the closed queue's
/// refusal, nobody merges it, and `x2` leaks.
#[test]
fn cached_push_to_an_exited_owner_fails_and_merges_here() {
    check(|| {
        let first = Drops::default();
        let second = Drops::default();
        let (p1, p2) = (first.payload(), second.payload());
        let (to_n, from_o) = channel();
        let (queued, wait_queued) = channel();
        let owner = thread::spawn(move || {
            let x1 = Raw::new(p1);
            let x2 = Raw::new(p2);
            // SAFETY: O holds `x2`, counts a second reference on its owner
            // path for N, and gives its own up on the owner path.
            unsafe {
                let for_n = x2.owner_clone();
                to_n.send((x1, for_n)).unwrap();
                // O stays registered until N's first push has filled its
                // cache.
                wait_queued.recv().unwrap();
                x2.touch();
                x2.owner_drop();
            }
        });
        let (x1, x2) = from_o.recv().unwrap();
        // SAFETY: N holds the only reference to each object, both counted
        // in O's `local`, and gives each up once on the non-owner path.
        unsafe {
            x1.touch();
            x1.shared_drop();
            queued.send(()).unwrap();
            x2.touch();
            x2.shared_drop();
        }
        owner.join().unwrap();
        // Loom runs O's exit path after `join` returns.
        while brisk_refcount::thread::registered_count() > 0 {
            thread::yield_now();
        }
        assert_eq!(first.count(), 1, "x1 not freed exactly once");
        second
    });
}
