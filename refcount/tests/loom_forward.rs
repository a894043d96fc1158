//! Loom models of forwarded headers (`RcHeader::forward_to`) and of
//! `make_immortal`, the two header rewrites that `freeze` uses to count a
//! frozen strongly connected component as one object (Parkinson, Clebsch,
//! Wrigstad, ISMM 2024).
//!
//! A member X of a component forwards to its representative T: every count
//! on X lands on T's shared word, from any thread, the owner's included.
//! The rewrite itself is single-threaded by contract — no other thread
//! counts on X while it is rewritten, and X's references were added to T
//! first — so the models order it with channels (the stop-the-world of
//! `freeze`) or, in one model, with the marker alone, which is the
//! Release/Acquire pair that `forward_to` and `forwarded_target` document.
//! The races are what comes after: forwarded decrements from several
//! threads on T, T's own queue and merge, and a queue entry for X that was
//! made before the forward and is merged after it.
//!
//! In the last two models O adds X's references to T's shared half, so no
//! forwarded decrement on O finds T at zero and queues it back to O: loom
//! drops a thread's thread-locals in `HashMap` order, so an owner that has
//! also pushed to a queue (its owner cache and its handle both live) makes
//! an execution loom cannot replay.
//!
//! When T's count reaches zero the component is freed as a unit: the
//! members are made immortal, so their references to one another are
//! dropped as no-ops, and then freed. The models free X that way once the
//! threads are done.
#![cfg(loom)]

mod loom_support;
#[path = "loom_support/raw.rs"]
mod raw;

use brisk_refcount::header::FORWARDED;
use brisk_refcount::{safepoint, Biased};
use loom::sync::mpsc::channel;
use loom::thread;
use loom_support::{check, Drops};
use raw::Raw;

/// Frees the member `x` as its component's free would, once its
/// representative is gone: makes it immortal, drops a reference through it
/// (a no-op now, as a reference another member held to it would be), and
/// frees it. Waits for every registered thread's exit path first, so that
/// nothing counts on the component any more.
///
/// Every model ends with it. Mutant caught: `make_immortal` without its
/// `tid` store — X still reads as forwarded, the drop follows a "target"
/// that is now the merged-zero shared word, and the test process crashes.
///
/// # Safety
///
/// `x` forwards to a representative whose count has reached zero (or will
/// once the exit paths have run), and no thread uses `x` afterwards.
unsafe fn free_member(x: Raw, member: &Drops, representative: &Drops) {
    while brisk_refcount::thread::registered_count() > 0 {
        thread::yield_now();
    }
    assert_eq!(representative.count(), 1, "representative not freed once");
    // SAFETY: the component is unreachable (its count reached zero) and
    // nothing counts on `x`; once immortal, the drop through `x` is a no-op
    // and does not follow the forward to the freed representative.
    unsafe {
        x.make_immortal();
        x.drop_in::<Biased>();
        x.dispose();
    }
    assert_eq!(member.count(), 1, "member not freed once");
}

/// Interleaving: owner O makes the representative T and the member X, and
/// gives X's references to thread P (`x`) and to the model's main thread
/// (`x2`), both counted in X's `local`. Each counts one more on X's shared
/// half (`clone_in`) and tells O it has stopped. O adds X's exact count
/// (`local` 2 + shared 2) to T on its owner path (the fourth increment
/// spills), forwards X to T, and resumes both; then P's clone through X
/// and both threads' drops land on T's shared word (the first decrement to
/// find it at zero queues T to O, the others subtract) while O drops T's
/// own reference and merges at its safepoints and at exit.
///
/// Property: T is freed exactly once, after every use through X on both
/// threads; X itself is never freed by counting, and is freed as a member.
///
/// Mutant caught: `forwarded_incref` dropping the increment: T's count is
/// one short of the references held, the merge that should free it
/// computes −1, and T leaks.
#[test]
fn forwarded_counts_from_two_threads_land_on_the_target() {
    check(|| {
        let (rep, member) = (Drops::default(), Drops::default());
        let (pt, px) = (rep.payload(), member.payload());
        let (to_main, from_o) = channel();
        let (stopped_p, stopped) = channel();
        let stopped_main = stopped_p.clone();
        let (resume_p, wait_p) = channel::<()>();
        let (resume_main, wait_main) = channel::<()>();
        let owner = thread::spawn(move || {
            let t = Raw::new(pt);
            let x = Raw::new(px);
            // SAFETY: O counts `x2` on X's owner path and hands out both of
            // X's references; it forwards X only while both other threads
            // are stopped (the channel orders their counts before), after
            // adding X's exact count to T.
            let p = unsafe {
                let x2 = x.owner_clone();
                to_main.send((x, x2)).unwrap();
                let p = thread::spawn(move || {
                    let y = x.clone_in::<Biased>();
                    stopped_p.send(()).unwrap();
                    wait_p.recv().unwrap();
                    let w = y.clone_in::<Biased>();
                    y.drop_in::<Biased>();
                    w.touch();
                    w.drop_in::<Biased>();
                    x.drop_in::<Biased>();
                });
                stopped.recv().unwrap();
                stopped.recv().unwrap();
                let count = x.header().local_count() as i64 + x.header().shared_word().count();
                assert_eq!(count, 4);
                for _ in 0..count {
                    t.owner_clone();
                }
                x.forward_to(t);
                resume_p.send(()).unwrap();
                resume_main.send(()).unwrap();
                t.touch();
                t.owner_drop();
                p
            };
            safepoint();
            p.join().unwrap();
            safepoint();
        });
        let (x, x2) = from_o.recv().unwrap();
        // SAFETY: main holds `x2` and counts `z` on X's shared half before
        // it stops; after the forward both are given up through X.
        unsafe {
            let z = x2.clone_in::<Biased>();
            stopped_main.send(()).unwrap();
            wait_main.recv().unwrap();
            z.touch();
            z.drop_in::<Biased>();
            x2.drop_in::<Biased>();
        }
        owner.join().unwrap();
        // SAFETY: every reference through X has been given up.
        unsafe { free_member(x, &member, &rep) };
        rep
    });
}

/// Interleaving: owner O makes T and X and gives P a reference `xp` to X
/// (counted in X's `local`). P does not count until it sees X's marker: it
/// spins on X's `tid` until it reads `FORWARDED`, then drops `xp` through
/// X, whose decrement reads the target's address from X's shared word. O adds X's two
/// references to T's shared half, forwards X (the Release store of the
/// marker), drops its own reference through X (the forward applies on the
/// owner too: a shared decrement of T) and then T's own reference, whose
/// `merge_zero_local` frees T or gives it up to the last forwarded
/// decrement. The marker is the only synchronisation between O's rewrite
/// and P's decrement.
///
/// Property: P's decrement, ordered after the rewrite by the Acquire fence
/// in `forwarded_target`, finds T's address in X's shared word and lands on
/// T; T is freed exactly once.
///
/// Mutant caught: the marker stored Relaxed in `forward_to`: P may read
/// X's shared word as it was before the rewrite (no target), its decrement
/// is lost, and T leaks.
#[test]
fn a_thread_that_sees_the_marker_sees_the_target() {
    check(|| {
        let (rep, member) = (Drops::default(), Drops::default());
        let (pt, px) = (rep.payload(), member.payload());
        let x = thread::spawn(move || {
            let t = Raw::new(pt);
            let x = Raw::new(px);
            // SAFETY: O counts `xp` on X's owner path for P, which counts
            // nothing until X is forwarded; X's two references are added to
            // T before the rewrite.
            unsafe {
                let xp = x.owner_clone();
                let p = thread::spawn(move || {
                    while xp.header().owner() != FORWARDED {
                        thread::yield_now();
                    }
                    xp.touch();
                    xp.drop_in::<Biased>();
                });
                t.shared_clone();
                t.shared_clone();
                x.forward_to(t);
                x.drop_in::<Biased>();
                t.touch();
                t.owner_drop();
                p.join().unwrap();
                safepoint();
                x
            }
        })
        .join()
        .unwrap();
        // SAFETY: every reference through X has been given up.
        unsafe { free_member(x, &member, &rep) };
        rep
    });
}

/// Interleaving: owner O makes T and X and gives the model's main thread N
/// two references to X (`x1`, `x2`), counted in X's `local`. N drops `x1`:
/// X's shared count is 0, so N queues X to O; the queue now holds that
/// reference. Once N has said so, O adds X's exact count (`local` 3: its own
/// `x0`, the queue's, `x2`) to T's shared half and forwards X, then resumes
/// N. Now N drops `x2` through X (a shared decrement of T) while O drops
/// `x0` through X and T's own reference (`merge_zero_local`) and reaches a
/// safepoint: the merge of X's queue entry finds X forwarded and must give
/// the queue's reference up on T, not on X's rewritten header.
///
/// Property: T is freed exactly once, by O's `merge_zero_local` or by the
/// last forwarded decrement (N's, or O's merge of X); the queue's reference
/// is neither lost nor counted on X.
///
/// Mutant caught: `merge_queued` without its forward check: X's header is
/// merged as a plain object (`local` DISOWNED, `shared` T's address), the
/// queue's reference never reaches T, and T leaks.
#[test]
fn queued_member_forwarded_before_its_merge() {
    check(|| {
        let (rep, member) = (Drops::default(), Drops::default());
        let (pt, px) = (rep.payload(), member.payload());
        let (to_n, from_o) = channel();
        let (queued, wait_queued) = channel::<()>();
        let (resume, wait_resume) = channel::<()>();
        let owner = thread::spawn(move || {
            let t = Raw::new(pt);
            let x0 = Raw::new(px);
            // SAFETY: O counts `x1` and `x2` on X's owner path for N. It
            // rewrites X only after N's queueing drop is complete (the
            // channel orders it), after adding X's exact count to T; then
            // it drops `x0` through X and T's own reference.
            unsafe {
                let x1 = x0.owner_clone();
                let _x2 = x0.owner_clone();
                to_n.send(x1).unwrap();
                wait_queued.recv().unwrap();
                assert_eq!(x0.header().shared_word().count(), 0);
                let count = x0.header().local_count();
                assert_eq!(count, 3);
                for _ in 0..count {
                    t.shared_clone();
                }
                x0.forward_to(t);
                resume.send(()).unwrap();
                x0.drop_in::<Biased>();
                t.touch();
                t.owner_drop();
            }
            safepoint();
        });
        let x = from_o.recv().unwrap();
        // SAFETY: `x` stands for N's two references, `x1` and `x2`: the
        // first is given up before the forward (it queues X), the second
        // after it, through X.
        unsafe {
            x.touch();
            x.shared_drop();
            queued.send(()).unwrap();
            wait_resume.recv().unwrap();
            x.drop_in::<Biased>();
        }
        owner.join().unwrap();
        // SAFETY: every reference through X has been given up, the queue's
        // included, once O's exit path has run.
        unsafe { free_member(x, &member, &rep) };
        rep
    });
}
