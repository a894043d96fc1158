//! Loom models of `Weak::upgrade` racing each way a `Brc`'s object can be
//! freed, and of the last `Weak` racing the strong free for the memory.
//!
//! An upgrade holds no counted reference, so it may only count up an object
//! that some reference still keeps alive, and whatever frees the object must
//! see the upgrade's increment or be seen by it. `Brc::downgrade` publishes
//! the object first, so the owner's last local reference never frees on the
//! spot but goes through the merge CAS on the shared word; the upgrade
//! (`embed::try_incref`) is a CAS on that same word that gives up on a
//! merged count of zero. Each model below is one way the count can reach
//! zero while an upgrade runs.
//!
//! Every model checks, in every execution: an upgrade that succeeds keeps
//! the object alive (its read of the payload happens-before the drop, or
//! loom reports a causality violation); the payload is dropped exactly
//! once; the block's memory is freed exactly once
//! ([`brisk_refcount::loom_blocks_freed`]); and an upgrade that runs after
//! the payload was dropped fails (asserted where the model can order it).
//!
//! Mutants tried (each reverted), and the model that catches it:
//!
//! | mutant | caught by |
//! |---|---|
//! | `Brc::downgrade` without `mark_published`: the owner's last local decrement finds the shared word zero and frees at once, under the upgrade's CAS | `upgrade_races_the_owners_last_local_decrement` (causality violation) |
//! | `try_incref_shared` as a plain `fetch_add`, without the check for a dead count: resurrects a freed object | every model (causality violation, then a double drop) |
//! | the upgrade's CAS Relaxed on success instead of Acquire | `upgrade_races_new_cyclic_making_the_header_live` (causality violation) |
//! | `new_cyclic`'s store of the live shared word Relaxed instead of Release | `upgrade_races_new_cyclic_making_the_header_live` (causality violation) |
//! | the strong free frees the block without giving up its weak reference (a `Weak` alive) | `last_weak_races_the_strong_free` (use of the freed weak count) |
//! | `release_weak`'s decrement Relaxed and without the Acquire fence | none: loom does not see plain memory being freed, so an unordered free is invisible to it; the ordering is `Arc`'s, argued at the site |
//!
#![cfg(loom)]

mod loom_support;

use brisk_refcount::{
    loom_blocks_freed,
    policy_kit::{SharedState, SharedWord},
    safepoint, Atomic, Brc, RcPolicy, Weak,
};
use loom::sync::mpsc;
use loom::thread;
use loom_support::{check_then, Drops, Payload};

/// Upgrades `weak`, reading the payload through the new handle, and
/// reports whether it succeeded.
fn upgrade_and_touch<P: RcPolicy>(weak: &Weak<Payload, P>) -> bool {
    match weak.upgrade() {
        Some(strong) => {
            strong.touch();
            true
        }
        None => false,
    }
}

/// The model's one block was freed exactly once.
fn one_block_freed() {
    assert_eq!(loom_blocks_freed(), 1, "block not freed exactly once");
}

/// Interleaving: the owner makes the object, downgrades it, hands the
/// `Weak` to a thread that upgrades it, and drops its only strong
/// reference: the owner's last local decrement (`merge_zero_local`). The
/// upgrade's CAS lands before the merge CAS (`Published` 0 → 1: the merge
/// leaves count 1 and the upgraded handle frees) or after it (the merge
/// read `Published` 0, made it `Merged` 0 and freed the value; the upgrade
/// reads `Merged` 0 and fails). Either way the `Weak` may be dropped before
/// or after the strong free.
///
/// Property: a successful upgrade reads the payload before it is dropped;
/// one drop, one free of the block.
#[test]
fn upgrade_races_the_owners_last_local_decrement() {
    check_then(
        || {
            let drops = Drops::default();
            let payload = drops.payload();
            let owner = thread::spawn(move || {
                let a = Brc::new(payload);
                let weak = Brc::downgrade(&a);
                let upgrader = thread::spawn(move || {
                    upgrade_and_touch(&weak);
                });
                drop(a);
                upgrader
            });
            owner.join().unwrap().join().unwrap();
            drops
        },
        one_block_freed,
    );
}

/// Interleaving: a non-owner dropped its reference at shared count zero,
/// so the object sits `Queued` on its owner's merge queue, holding the
/// queue's reference. The owner then drops its last handle (its `local`
/// still counts the queue's reference) and merges at a safepoint, while
/// another thread upgrades: `Queued` 0 → 1 before the merge (which leaves
/// count 1), or `Merged` 0 after it (fails).
///
/// Property: as above; and an upgrade after the safepoint that freed the
/// object fails.
#[test]
fn upgrade_races_the_merge_of_a_queued_object() {
    check_then(
        || {
            let drops = Drops::default();
            let payload = drops.payload();
            let owner = thread::spawn(move || {
                let a = Brc::new(payload);
                let weak = Brc::downgrade(&a);
                let b = Brc::clone(&a);
                // Queues the object: `Published` 0 → `Queued`.
                thread::spawn(move || drop(b)).join().unwrap();
                let upgrader = thread::spawn(move || {
                    upgrade_and_touch(&weak);
                    weak
                });
                drop(a);
                safepoint();
                upgrader
            });
            let weak = owner.join().unwrap().join().unwrap();
            if weak.strong_count() == 0 {
                assert!(weak.upgrade().is_none(), "upgraded a dropped value");
            }
            drops
        },
        one_block_freed,
    );
}

/// Interleaving: the object is merged with one reference, held by this
/// thread (its owner gave up its last local references while a non-owner's
/// clone was counted on the shared half). This thread drops it, the last
/// decrement (`Merged` 1 → 0, frees), while another thread upgrades
/// (`Merged` 1 → 2 first, or reads `Merged` 0 and fails).
///
/// Property: as above.
#[test]
fn upgrade_races_the_last_decrement_of_a_merged_object() {
    check_then(
        || {
            let drops = Drops::default();
            let payload = drops.payload();
            let (to_main, from_owner) = mpsc::channel::<Brc<Payload>>();
            let (to_owner, from_main) = mpsc::channel::<Brc<Payload>>();
            let owner = thread::spawn(move || {
                let a = Brc::new(payload);
                let weak = Brc::downgrade(&a);
                to_main.send(a.clone()).unwrap();
                let back = from_main.recv().unwrap();
                // The owner's last local references: merged, count 1 (the
                // clone the main thread made on the shared half).
                drop((a, back));
                weak
            });
            let b = from_owner.recv().unwrap();
            let c = b.clone();
            to_owner.send(b).unwrap();
            let weak = owner.join().unwrap();
            assert_eq!(
                Brc::header(&c).shared_word(),
                SharedWord::new(1, SharedState::Merged)
            );
            let upgrader = thread::spawn(move || {
                upgrade_and_touch(&weak);
            });
            drop(c);
            upgrader.join().unwrap();
            drops
        },
        one_block_freed,
    );
}

/// Interleaving: the owner made the object, downgraded it and exited, its
/// `local` still counting the handle it gave away. This thread drops that
/// handle: shared count zero, so it queues, finds the owner gone and
/// merges the object itself (the dead-owner path, `1 + 0 − 1 = 0`: frees),
/// while another thread upgrades: before the queueing CAS (`Published`
/// 0 → 1: this drop only subtracts, and the upgrader's drop takes the
/// dead-owner path instead), between it and the merge (`Queued` 0 → 1: the
/// merge leaves count 1), or after it (fails).
///
/// Property: as above.
#[test]
fn upgrade_races_the_dead_owner_merge() {
    check_then(
        || {
            let drops = Drops::default();
            let payload = drops.payload();
            let (a, weak) = thread::spawn(move || {
                let a = Brc::new(payload);
                let weak = Brc::downgrade(&a);
                (a, weak)
            })
            .join()
            .unwrap();
            let upgrader = thread::spawn(move || {
                upgrade_and_touch(&weak);
            });
            drop(a);
            upgrader.join().unwrap();
            drops
        },
        one_block_freed,
    );
}

/// Interleaving: one strong reference on this thread and one `Weak` on
/// another, under the `Atomic` policy (the weak count is the same under
/// every policy; this keeps the strong count to one CAS). This thread drops
/// the strong reference (the strong free: drop the value, then give up the
/// weak reference the strong references held together) while the other
/// upgrades through its `Weak` and drops it. Either may give up the last
/// weak reference and free the memory.
///
/// Property: the memory is freed once, after the value's drop; a
/// successful upgrade reads the payload before the drop.
#[test]
fn last_weak_races_the_strong_free() {
    check_then(
        || {
            let drops = Drops::default();
            let a: Brc<Payload, Atomic> = Brc::new_with_policy(drops.payload());
            let weak = Brc::downgrade(&a);
            let other = thread::spawn(move || {
                upgrade_and_touch(&weak);
                drop(weak);
            });
            drop(a);
            other.join().unwrap();
            drops
        },
        one_block_freed,
    );
}

/// Interleaving: `Brc::new_cyclic` hands its closure a `Weak`, which the
/// closure gives to a new thread; that thread upgrades while this one
/// writes the value and makes the header live. The upgrade reads the dead
/// header (fails) or the live one written by the Release store.
///
/// Property: an upgrade that succeeds sees the value written (loom reports
/// a causality violation otherwise); one drop, one free.
#[test]
fn upgrade_races_new_cyclic_making_the_header_live() {
    check_then(
        || {
            let drops = Drops::default();
            let made = drops.clone();
            let owner = thread::spawn(move || {
                let mut upgrader = None;
                let a: Brc<Payload> = Brc::new_cyclic(|weak| {
                    let weak = weak.clone();
                    upgrader = Some(thread::spawn(move || {
                        upgrade_and_touch(&weak);
                    }));
                    // Made after the spawn, so that only the header's
                    // Release store can order its initialisation before
                    // the upgrader's read.
                    made.payload()
                });
                (a, upgrader.unwrap())
            });
            let (a, upgrader) = owner.join().unwrap();
            upgrader.join().unwrap();
            drop(a);
            drops
        },
        one_block_freed,
    );
}
