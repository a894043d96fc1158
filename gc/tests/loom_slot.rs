//! Loom models of `AtomicSlot`: a reader loads (pinned, then counts) while a
//! writer replaces the value and the old value's last count goes away.
#![cfg(loom)]

mod loom_support;

use brisk_gc::AtomicSlot;
use loom::sync::Arc;
use loom_support::{check, finish, spawn_gated, Drops, Payload};

type Slot = AtomicSlot<Payload>;

/// Interleaving: writer `W` makes `v1` and stores it in the slot (the slot's
/// reference is `W`'s `local` count, the only one), makes `v2` and `store`s
/// it — retiring the slot's reference to `v1` — and runs two safepoints to
/// push the retirement and advance the epoch. An attached reader `R` loads
/// the slot (it may see nothing, `v1` or `v2`) — the pointer read while
/// pinned, then a buffered `+1` — keeps the handle across a safepoint (which
/// applies the `+1`), reads it, and drops it (buffered `-1`, deferred at
/// detach). The retired reference is dropped by whichever thread runs the
/// retirement: on `W` it is the owner's last local reference (freed at once
/// if `R` never touched `v1`, else merged and deferred); elsewhere it is a
/// non-owner `-1` that queues `v1` back to `W` or, once `W` has exited,
/// merges it where it is applied. The model's main thread drops the slot at
/// the end, retiring `v2`.
///
/// Property: a reader never counts or reads a value whose last reference is
/// gone (every read happens-before the free), and `v1` and `v2` are each
/// freed exactly once.
#[test]
fn reader_loads_while_writer_stores() {
    check(|| {
        let (drops1, drops2) = (Drops::default(), Drops::default());
        let slot = Arc::new(Slot::new(None));
        let (s, d1, d2) = (Arc::clone(&slot), drops1.clone(), drops2.clone());
        let writer = spawn_gated(move || {
            s.store(Some(d1.object()));
            s.store(Some(d2.object())); // retires v1
            brisk_gc::safepoint();
            brisk_gc::safepoint();
        });
        let s = Arc::clone(&slot);
        let reader = spawn_gated(move || {
            let attached = brisk_gc::attach();
            let seen = s.load(); // pinned: pointer, then buffered +1
            brisk_gc::safepoint(); // +1 applied
            if let Some(v) = &seen {
                v.check();
            }
            drop(seen); // buffered -1
            drop(attached); // deferred -1
        });
        finish(vec![writer, reader], vec![], &[]);
        drop(slot); // retires v2
        loom_support::settle(&[drops1, drops2]);
    });
}

/// Interleaving: `W` stores `v1`, then `swap`s in `v2`, getting back a
/// counted handle to `v1` (an owner increment) while the slot's reference
/// is retired; `W` reads the returned handle and drops it (owner decrement,
/// `local` 2 → 1) and runs a safepoint. `R`, attached, loads twice around a
/// safepoint and reads each value it saw, dropping each handle at once (net
/// zero deltas, never applied).
///
/// Property: as above — no read after the free, each value freed exactly
/// once — with the retirement now holding `v1`'s *last* reference, so the
/// retired drop is what takes `v1` to zero.
#[test]
fn reader_loads_while_writer_swaps_and_drops_old_value() {
    check(|| {
        let (drops1, drops2) = (Drops::default(), Drops::default());
        let slot = Arc::new(Slot::new(None));
        let (s, d1, d2) = (Arc::clone(&slot), drops1.clone(), drops2.clone());
        let writer = spawn_gated(move || {
            s.store(Some(d1.object()));
            let old = s.swap(Some(d2.object())).expect("v1 was stored");
            old.check();
            drop(old); // local 2 -> 1: the retired reference is the last
            brisk_gc::safepoint();
        });
        let s = Arc::clone(&slot);
        let reader = spawn_gated(move || {
            let attached = brisk_gc::attach();
            if let Some(v) = s.load() {
                v.check();
            }
            brisk_gc::safepoint();
            if let Some(v) = s.load() {
                v.check();
            }
            drop(attached);
        });
        finish(vec![writer, reader], vec![], &[]);
        drop(slot); // retires v2
        loom_support::settle(&[drops1, drops2]);
    });
}
