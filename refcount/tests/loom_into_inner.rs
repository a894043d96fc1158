//! Loom models of `Brc::into_inner`'s contract, taken from `Arc::into_inner`:
//! when threads call it on the last handles of an object, exactly one of
//! them gets the value. That needs the decrement itself to decide, since a
//! uniqueness check followed by a separate decrement lets both callers see
//! two references and both get `None`.
//!
//! Where the contract holds: under `Atomic`, and under `Biased` on the
//! owner thread or once the object is merged (its whole count is on the
//! shared half). Where it cannot: a non-owner's last drop of an unmerged
//! object goes to its owner's merge queue, and the owner drops the value
//! (`Brc`'s "Differences from `Arc`").
#![cfg(loom)]

mod loom_support;

use brisk_refcount::{Atomic, Brc, RcPolicy};
use loom::sync::mpsc;
use loom::thread;
use loom_support::{check, Drops, Payload};

/// Counts the callers that got the value, and drops it.
fn took(value: Option<Payload>) -> usize {
    match value {
        Some(payload) => {
            payload.touch();
            1
        }
        None => 0,
    }
}

/// Calls `into_inner` on `mine` here and on `theirs` on a new thread, and
/// asserts that exactly one of the two got the value.
fn exactly_one_takes<P: RcPolicy + Send + Sync>(mine: Brc<Payload, P>, theirs: Brc<Payload, P>) {
    let other = thread::spawn(move || took(Brc::into_inner(theirs)));
    let mine = took(Brc::into_inner(mine));
    let theirs = other.join().unwrap();
    assert_eq!(
        mine + theirs,
        1,
        "into_inner gave the value {} times",
        mine + theirs
    );
}

/// Interleaving: an `Atomic` object with two handles; this thread and a
/// spawned one each call `into_inner` on one, in any order, including both
/// reading the count before either decrements.
///
/// Property: exactly one caller gets the payload, and it is dropped exactly
/// once (by that caller).
#[test]
fn atomic_last_two_handles_give_the_value_to_exactly_one_caller() {
    check(|| {
        let drops = Drops::default();
        let a: Brc<Payload, Atomic> = Brc::new_with_policy(drops.payload());
        let b = a.clone();
        exactly_one_takes(a, b);
        drops
    });
}

/// Interleaving: a `Biased` object made by thread `O` and merged (its owner
/// gave up its last local reference while another thread counted on the
/// shared half); two other threads each hold one of the last two handles
/// and call `into_inner`, in any order.
///
/// Property: exactly one of them gets the payload, dropped exactly once.
#[test]
fn merged_biased_last_two_handles_give_the_value_to_exactly_one_caller() {
    check(|| {
        let drops = Drops::default();
        let payload = drops.payload();
        let (to_n, from_o) = mpsc::channel::<Brc<Payload>>();
        let (to_o, from_n) = mpsc::channel::<Brc<Payload>>();
        let owner = thread::spawn(move || {
            let a = Brc::new(payload);
            to_n.send(a.clone()).unwrap();
            let back = from_n.recv().unwrap();
            // The owner's last local references: merged, count 2 (the two
            // clones the other thread made on the shared half).
            drop((a, back));
        });
        let b = from_o.recv().unwrap();
        let c = b.clone();
        let d = b.clone();
        to_o.send(b).unwrap();
        owner.join().unwrap();
        exactly_one_takes(c, d);
        drops
    });
}
