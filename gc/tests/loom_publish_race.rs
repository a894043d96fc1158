//! Loom models of the publish race: a non-owner's buffered `+1` on an object
//! racing the owner dropping its last local reference once the object is
//! `Published` (the owner then merges without subtracting and defers its
//! `-1` one epoch).
#![cfg(loom)]

mod loom_support;

use loom::sync::mpsc;
use loom::thread;
use loom_support::{check, finish, spawn_lending_owner, Drops, Obj};

/// Interleaving: owner `O` makes `x` and `x2` (both counted in `local`) and
/// hands `x2` to an attached non-owner `T`. `T` clones `y` from `x2` (first
/// touch: `Published`, then a *buffered* `+1`, not applied) and sends `x2`
/// back. `O` drops `x` and `x2` — its `local` reaches zero on a published
/// object, so it merges (`+1`) and defers its `-1` — then runs two
/// safepoints, pushing that `-1` to the domain and trying to advance the
/// epoch twice, while `T` reads `y` and drops it (net delta zero: nothing is
/// ever applied for `T`) and finally detaches.
///
/// Property: the owner's deferred `-1` cannot be applied while `T` is still
/// pinned, so `T`'s read of `y` happens-before the free (no use after free,
/// checked by the payload's loom cell); the object is freed exactly once.
#[test]
fn owner_last_local_drop_races_buffered_increment() {
    check(|| {
        let drops = Drops::default();
        let d = drops.clone();
        let (to_t, from_o) = mpsc::channel::<Obj>();
        let (to_o, from_t) = mpsc::channel::<Obj>();
        let owner = spawn_lending_owner(d, to_t, from_t, 2);
        let non_owner = thread::spawn(move || {
            let x2 = from_o.recv().unwrap();
            let attached = brisk_gc::attach();
            let y = x2.clone(); // Published; +1 buffered
            to_o.send(x2).unwrap();
            y.check();
            drop(y); // -1 buffered: net zero
            drop(attached); // flush (nothing) and unpin
        });
        finish(vec![owner], vec![non_owner], &[drops]);
    });
}

/// Interleaving: as above, but `T` runs a safepoint after sending `x2` back,
/// so its `+1` is *applied* (a `fetch_add` on `shared`) racing the owner's
/// merge CAS (which then retries), and `T` keeps `y` across that safepoint,
/// reads it, and drops it after: a buffered `-1` deferred at detach.
///
/// Property: the applied `+1` is never lost to the merge CAS (the count
/// would reach zero with `y` alive) and never lands after the free; `y`'s
/// reads happen-before the free; exactly one free.
#[test]
fn increment_applied_at_safepoint_races_owner_merge() {
    check(|| {
        let drops = Drops::default();
        let d = drops.clone();
        let (to_t, from_o) = mpsc::channel::<Obj>();
        let (to_o, from_t) = mpsc::channel::<Obj>();
        let owner = spawn_lending_owner(d, to_t, from_t, 1);
        let non_owner = thread::spawn(move || {
            let x2 = from_o.recv().unwrap();
            let attached = brisk_gc::attach();
            let y = x2.clone(); // Published; +1 buffered
            to_o.send(x2).unwrap();
            brisk_gc::safepoint(); // +1 applied, repin
            y.check();
            drop(y); // -1 buffered
            drop(attached); // -1 deferred, unpin
        });
        finish(vec![owner], vec![non_owner], &[drops]);
    });
}
