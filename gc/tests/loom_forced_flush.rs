//! Loom model of the flush a full coalescing buffer forces in the middle of
//! a pin period, with several objects in the buffer (under loom the table
//! has 4 slots and asks for a flush at 3).
//!
//! A forced flush is an ordinary flush made without repinning: increments
//! are applied at once and decrements join a batch deferred through the
//! pin the thread still holds, so they wait for this thread's *next* repin,
//! like any other. The model checks that the bookkeeping of that path (the
//! hot entry evicted with the rest, the table reused afterwards, the batch
//! deferred on the held pin) counts every reference exactly once.
#![cfg(loom)]

mod loom_support;

use loom::sync::mpsc;
use loom_support::{check, finish, spawn_gated, Drops, Obj};

/// Objects the non-owner counts: one more than the buffer holds before it
/// asks for a flush, since the hot entry sits in front of the table.
const OBJECTS: usize = 4;

/// Interleaving: owner `O` makes four objects and lends a clone of each
/// (counted in `local`) to the attached non-owner `T`, then drops its own
/// handles (each `local` falls to 1, the lent reference) and runs a
/// safepoint, merging whatever `T`'s applied decrements queued back. `T`
/// clones each lent reference: the fourth distinct object forces a flush
/// mid-pin, applying the four `+1`s. `T` reads the clones, drops the lent
/// references (the fourth drop forces another flush: four `-1`s deferred as
/// one batch on the pin `T` still holds), reads the clones again, runs a
/// safepoint, drops the clones and detaches.
///
/// Property: every object is freed exactly once, after `T`'s last read
/// (the payload's loom cell orders each read before the free); nothing is
/// left in the domain.
#[test]
fn flush_forced_mid_pin_counts_every_object_once() {
    check(|| {
        let drops: Vec<Drops> = (0..OBJECTS).map(|_| Drops::default()).collect();
        let made = drops.clone();
        let (to_t, from_o) = mpsc::channel::<Vec<Obj>>();
        let owner = spawn_gated(move || {
            let objects: Vec<Obj> = made.iter().map(Drops::object).collect();
            to_t.send(objects.iter().map(Obj::clone).collect()).unwrap();
            drop(objects);
            brisk_gc::safepoint();
        });
        let non_owner = spawn_gated(move || {
            let lent = from_o.recv().unwrap();
            let attached = brisk_gc::attach();
            // The fourth distinct object forces a flush: +1s applied.
            let clones: Vec<Obj> = lent.iter().map(Obj::clone).collect();
            clones.iter().for_each(|c| c.check());
            // Forces a second flush: the -1s are deferred on the held pin.
            drop(lent);
            clones.iter().for_each(|c| c.check());
            brisk_gc::safepoint();
            drop(clones);
            drop(attached);
        });
        finish(vec![owner, non_owner], vec![], &drops);
    });
}
