//! Loom models of a *detached* non-owner's first touch of a never-shared
//! object: `mark_published` followed by an increment applied at once (or a
//! decrement deferred alone, through a brief pin), racing the owner's own
//! decrements, whose last one frees a `Private` object on the spot.
//!
//! The non-owner can only touch the object through a reference, and it can
//! only get one from the owner, through synchronisation: that reference is
//! counted in the owner's `local`, so the owner cannot reach zero until it
//! is handed back, and by then the first touch happens-before the owner's
//! zero check.
#![cfg(loom)]

mod loom_support;

use loom::sync::mpsc;
use loom::thread;
use loom_support::{check, finish, spawn_gated, Drops, Obj};

/// Interleaving: owner `O` makes `x` and hands a clone `y` (counted in
/// `local`) to the detached non-owner `T`, then reads and drops `x` while
/// `T` clones `z` from `y` — its first touch: `Published`, then `+1`
/// applied at once — racing `O`'s drop. `T` sends `y` back and reads `z`.
/// `O` drops `y`: `local` reaches zero, and `deferred_zero_local` must find
/// the shared word non-zero (`Published`, count 1 or, once `T` has dropped
/// `z` and its deferred `-1` was applied, 0), merge and defer its `-1`
/// instead of freeing. `T` drops `z` (detached: its `-1` deferred alone
/// through a brief pin) and ends.
///
/// Property: the owner never frees while `T` holds `z`: `T`'s reads
/// happen-before the single free.
#[test]
fn detached_first_touch_clone_races_owner_drops() {
    check(|| {
        let drops = Drops::default();
        let d = drops.clone();
        let (to_t, from_o) = mpsc::channel::<Obj>();
        let (to_o, from_t) = mpsc::channel::<Obj>();
        let owner = spawn_gated(move || {
            let x: Obj = d.object();
            to_t.send(x.clone()).unwrap();
            x.check();
            drop(x); // local 1: `y`
            drop(from_t.recv().unwrap()); // local 0: Published, so merge, defer -1
            brisk_gc::safepoint();
        });
        let non_owner = thread::spawn(move || {
            let y = from_o.recv().unwrap();
            let z = y.clone(); // first touch: Published, +1 applied
            to_o.send(y).unwrap();
            z.check();
            drop(z); // -1 deferred alone
        });
        finish(vec![owner], vec![non_owner], &[drops]);
    });
}

/// Interleaving: `O` hands `y` (counted in `local`) to the detached `T`
/// and drops `x` while `T` drops `y` — its first touch is a decrement:
/// `Published`, then the `-1` deferred alone through a brief pin. `O`'s
/// `local` stays at 1 (the count of `y`, which only `O` can take off), so
/// `O` never reaches its zero check; `O` runs safepoints that collect `T`'s
/// `-1` (pushed to the domain by `T`'s own safepoint, which also collects),
/// which finds `Published` count 0 and queues the object to `O`, and merge
/// it (`1 + 0`), deferring the queue's `-1`.
///
/// Property: a first touch that is a drop never lets the owner free a
/// referenced object, and the object is freed exactly once, after `T`'s
/// read of `y`.
#[test]
fn detached_first_touch_drop_races_owner_drop() {
    check(|| {
        let drops = Drops::default();
        let d = drops.clone();
        let (to_t, from_o) = mpsc::channel::<Obj>();
        let owner = spawn_gated(move || {
            let x: Obj = d.object();
            to_t.send(x.clone()).unwrap();
            x.check();
            drop(x); // local 1: `y`
            brisk_gc::safepoint();
            brisk_gc::safepoint();
        });
        let non_owner = spawn_gated(move || {
            let y = from_o.recv().unwrap();
            y.check();
            drop(y); // first touch: Published, -1 deferred alone
            brisk_gc::safepoint(); // pushes the -1 to the domain, collects
        });
        finish(vec![owner, non_owner], vec![], &[drops]);
    });
}
