//! Loom model of coalescing: two attached non-owners clone and drop one
//! object, each recording only a net delta in its buffer, while the owner
//! drops its own reference.
#![cfg(loom)]

mod loom_support;

use loom::sync::mpsc;
use loom_support::{check, finish, spawn_gated, Drops, Obj};

/// Interleaving: owner `O` makes `x`, hands a clone (counted in `local`) to
/// each of the attached non-owners `T1` and `T2`, reads `x` and drops it
/// (`local` stays above zero: the clones are still counted there). Each
/// `Ti` clones `c` from its `b` (the first touch publishes; the two
/// publishes race each other and `O`'s decrement), drops `b`, reads `c`,
/// drops `c` — three operations coalesced into one net `-1`, no other
/// header write — and detaches: the flush defers the `-1` (it reaches the
/// domain when `Ti` ends) and unpins. After the explored part the deferred
/// `-1`s are applied by the final settling: the first finds `Published` count 0 and queues the
/// object to `O`, whose exit merges it and defers the queue's `-1`.
///
/// Property: coalescing loses no reference and adds none — the object is
/// neither freed early (every read happens-before the free) nor leaked —
/// whatever the order of the publishes, flushes and `O`'s drop; exactly one
/// free. (Deferred decrements applied concurrently with the owner's merge
/// are explored in `loom_queue_merge.rs`.)
#[test]
fn two_non_owners_coalesce_while_owner_drops() {
    check(|| {
        let drops = Drops::default();
        let d = drops.clone();
        let (to_t1, from_o1) = mpsc::channel::<Obj>();
        let (to_t2, from_o2) = mpsc::channel::<Obj>();
        let owner = spawn_gated(move || {
            let x: Obj = d.object();
            to_t1.send(x.clone()).unwrap();
            to_t2.send(x.clone()).unwrap();
            x.check();
            drop(x);
        });
        let non_owner = |from_o: mpsc::Receiver<Obj>| {
            move || {
                let attached = brisk_gc::attach();
                let b = from_o.recv().unwrap();
                let c = b.clone(); // Published; +1 buffered
                drop(b); // -1 buffered
                c.check();
                drop(c); // -1 buffered: net -1
                drop(attached); // -1 deferred, unpinned
            }
        };
        let t1 = spawn_gated(non_owner(from_o1));
        let t2 = spawn_gated(non_owner(from_o2));
        finish(vec![owner, t1, t2], vec![], &[drops]);
    });
}
