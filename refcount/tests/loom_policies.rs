//! Loom models of the two unbiased policies (`policy.rs`): `Atomic`, where
//! every count is an atomic read-modify-write on `shared` (the model of
//! `Arc`), and `NonAtomic`, where every count is a plain load and store of
//! `local` and an outside lock (a GIL) is what makes threads take turns.
//!
//! For `Atomic` the argument is `Arc`'s: increments may be Relaxed because
//! the caller already holds a reference; the decrement is Release and the
//! thread that takes the count to zero issues an Acquire fence before the
//! free, so every other thread's use happens-before it. For `NonAtomic` the
//! lock carries the whole argument: each count happens inside a critical
//! section, so it sees the previous one's store, including the spill of an
//! overflowing `local` into `shared` and its refill.
#![cfg(loom)]

mod loom_support;
#[path = "loom_support/raw.rs"]
mod raw;

use brisk_refcount::{Atomic, Brc, NonAtomic};
use loom::sync::{Arc, Mutex};
use loom::thread;
use loom_support::{check, Drops};
use raw::Raw;

/// Interleaving: the model's main thread makes `a` under `Atomic` and
/// clones `b` and `c`; thread T1 clones `d` from `b`, uses it and drops
/// both; thread T2 uses `c` and drops it; main uses `a` and drops it. The
/// three threads' increments and decrements of `shared` interleave in every
/// order, and any of them may take the count to zero.
///
/// Property: exactly one free, and every use on every thread
/// happens-before it (the payload's cell would report a race otherwise).
///
/// Mutants caught: the decrement's `fetch_sub` made Relaxed instead of
/// Release, and the Acquire fence before the free removed: in both, a use
/// on another thread is no longer ordered before the free, and loom reports
/// the race on the payload.
#[test]
fn atomic_clones_and_drops_race_on_three_threads() {
    check(|| {
        let drops = Drops::default();
        let a: Brc<_, Atomic> = Brc::new_with_policy(drops.payload());
        let b = Brc::clone(&a);
        let c = Brc::clone(&a);
        let t1 = thread::spawn(move || {
            let d = Brc::clone(&b);
            d.touch();
            drop(b);
            drop(d);
        });
        let t2 = thread::spawn(move || {
            c.touch();
            drop(c);
        });
        a.touch();
        drop(a);
        t1.join().unwrap();
        t2.join().unwrap();
        drops
    });
}

/// Interleaving: a GIL (a loom `Mutex`) is held around every count. Main
/// makes `x` under `NonAtomic` and clones it three times: the third clone
/// overflows `local` (3 references, the most it counts under loom) and
/// spills two of the four into `shared`. Main hands two references to T1
/// and keeps two. T1, holding the GIL, clones one more, uses it and drops
/// all three of its references; main, holding the GIL, uses the object and
/// drops its two. The two critical sections run in either order; whichever
/// runs second takes `local` to zero, refills it from the spilled
/// references, and frees at the last one.
///
/// Property: exactly one free, every use ordered before it by the GIL; the
/// plain loads and stores lose no count when a lock orders them.
///
/// Mutant caught: `nonatomic_refill_or_free` refilling `local` without
/// taking the references out of `shared`: they are counted twice, and the
/// object leaks. (Removing T1's GIL, a mutant of the model, fails too:
/// the two threads' loads and stores of `local` lose an update.)
#[test]
fn nonatomic_counts_taking_turns_under_a_gil() {
    check(|| {
        let drops = Drops::default();
        let gil = Arc::new(Mutex::new(()));
        let (x, y) = {
            let _gil = gil.lock().unwrap();
            let x = Raw::new_with_policy::<NonAtomic>(drops.payload());
            // SAFETY: under the GIL; `x` holds a reference. `x` and `y` then
            // stand for two references each.
            unsafe {
                let y = x.clone_in::<NonAtomic>();
                x.clone_in::<NonAtomic>();
                x.clone_in::<NonAtomic>();
                let header = x.header();
                assert_eq!(header.local_count(), 2, "the spill left 2 in local");
                assert_eq!(header.shared_word().count(), 2, "and moved 2");
                (x, y)
            }
        };
        let t1_gil = Arc::clone(&gil);
        let t1 = thread::spawn(move || {
            let _gil = t1_gil.lock().unwrap();
            // SAFETY: under the GIL; `y` stands for two references, and `z`
            // is one more, each given up once.
            unsafe {
                let z = y.clone_in::<NonAtomic>();
                z.touch();
                z.drop_in::<NonAtomic>();
                y.drop_in::<NonAtomic>();
                y.drop_in::<NonAtomic>();
            }
        });
        {
            let _gil = gil.lock().unwrap();
            // SAFETY: under the GIL; `x` stands for main's two references,
            // each given up once.
            unsafe {
                x.touch();
                x.drop_in::<NonAtomic>();
                x.drop_in::<NonAtomic>();
            }
        }
        t1.join().unwrap();
        drops
    });
}
