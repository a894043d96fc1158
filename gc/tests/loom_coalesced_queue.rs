//! Loom models of a *coalesced* decrement that queues: a non-owner's net
//! `-2`, applied by one `shared_decref_by(n = 2)` an epoch later, finds a
//! `Published` object at count 0 and leaves it `Queued` at count `-1` (the
//! queue keeps one of the two references), while a second non-owner still
//! holds increments in its buffer. The owner then merges with a count that
//! is 0, not positive: what keeps the object alive is the other thread's
//! buffered `+2`, which the merged count does not see yet, and the
//! decrements the merge defers cannot be applied before it is flushed.
#![cfg(loom)]

mod loom_support;

use std::sync::atomic::{AtomicUsize, Ordering::Relaxed};

use brisk_refcount::policy_kit::SharedState;
use loom::sync::mpsc;
use loom_support::{check, finish, spawn_gated, Drops, Obj};

/// Executions in which `T2`, about to flush its buffered increments, found
/// the object already merged at a count of 0 or less, per test.
static MERGED_AT_ZERO: AtomicUsize = AtomicUsize::new(0);
static ZERO_LOCAL_AT_ZERO: AtomicUsize = AtomicUsize::new(0);

/// Whether `obj`'s header reads `Merged` at a count of 0 or less: `O`
/// merged while the caller's increments were still in its buffer.
fn merged_at_zero(obj: &Obj) -> bool {
    let word = Obj::header(obj).shared_word();
    word.state() == SharedState::Merged && word.count() <= 0
}

/// The attached non-owner `T1`: receives two clones counted in `O`'s
/// `local`, drops both (one hot entry, net `-2`), and runs three
/// safepoints: the first defers the `-2` as one batch entry, the next two
/// advance the epoch twice and apply it (`Published` 0 → `Queued` -1,
/// pushed to `O`); then it tells `O` it is done. `O` waits for that before
/// it lends to `T2`, so nothing else is pinned meanwhile and the `-2` is
/// always applied before `T2`'s increments exist: the explored race is the
/// one between `O`'s merge and `T2`'s flush.
fn spawn_coalescing_dropper(
    lent: mpsc::Receiver<(Obj, Obj)>,
    done: mpsc::Sender<()>,
) -> loom_support::Gated<()> {
    spawn_gated(move || {
        let (a, a2) = lent.recv().unwrap();
        let attached = brisk_gc::attach();
        a.check();
        drop(a); // Published; -1 buffered
        drop(a2); // -2 on the hot entry
        brisk_gc::safepoint(); // -2 deferred: one entry, n = 2
        brisk_gc::safepoint();
        brisk_gc::safepoint(); // applied: Queued, count -1
        drop(attached);
        done.send(()).unwrap();
    })
}

/// Interleaving: owner `O` makes `x` and hands two clones to `T1` (see
/// `spawn_coalescing_dropper`: the object ends `Queued` at `-1`), then `x`
/// itself, as `b`, to the attached `T2` (`local` holds 3: `b`, `a`, `a2`;
/// loom's `local` holds at most 3, so no spill into `shared`). `T2` clones
/// `c1` and `c2` from `b` (a buffered `+2`), sends them to `O` and keeps
/// `b`. `O` drops `c1` and `c2` (owner decrements: `local` falls to 1, the
/// count of `b`), tells `T2`, and runs two safepoints; the first merges the
/// queued object (`explicit_merge` in `deferred_merge_queued`) and defers the
/// queue's `-1`. `T2` waits for `O`'s drops, then flushes its `+2` at a
/// safepoint, reads `b`, drops it and detaches (its `-1` deferred). When
/// `O`'s merge runs before `T2`'s flush it computes `-1 + 1 = 0`.
///
/// Property: a merged count of 0 is not a free: the queue's deferred `-1`
/// waits for `T2` to flush its `+2` and unpin, so `b`'s reads
/// happen-before the single free. The model asserts that some explored
/// execution merged at 0 while `T2`'s `+2` was still buffered (`T2` reads
/// the merged word before its flush).
#[test]
fn queue_merge_reaches_zero_under_buffered_increments() {
    MERGED_AT_ZERO.store(0, Relaxed);
    check(|| {
        let drops = Drops::default();
        let d = drops.clone();
        let (to_t1, from_o1) = mpsc::channel::<(Obj, Obj)>();
        let (t1_done, from_t1) = mpsc::channel::<()>();
        let (to_t2, from_o2) = mpsc::channel::<Obj>();
        let (to_o, from_t2) = mpsc::channel::<(Obj, Obj)>();
        let (to_t2_dropped, o_dropped) = mpsc::channel::<()>();
        let owner = spawn_gated(move || {
            let x: Obj = d.object();
            to_t1.send((x.clone(), x.clone())).unwrap();
            from_t1.recv().unwrap();
            to_t2.send(x).unwrap(); // local 3: `b`, `a`, `a2`
            let (c1, c2) = from_t2.recv().unwrap();
            c1.check();
            drop((c1, c2)); // local 1: `b`
            to_t2_dropped.send(()).unwrap();
            brisk_gc::safepoint(); // merge: -1 + local 1
            brisk_gc::safepoint();
        });
        let t1 = spawn_coalescing_dropper(from_o1, t1_done);
        let t2 = spawn_gated(move || {
            let b = from_o2.recv().unwrap();
            let attached = brisk_gc::attach();
            let c1 = b.clone(); // Published; +1 buffered
            let c2 = b.clone(); // +2
            to_o.send((c1, c2)).unwrap();
            b.check();
            o_dropped.recv().unwrap();
            if merged_at_zero(&b) {
                MERGED_AT_ZERO.fetch_add(1, Relaxed);
            }
            brisk_gc::safepoint(); // +2 applied
            b.check();
            drop(b); // -1 buffered
            drop(attached); // -1 deferred
        });
        finish(vec![owner, t1, t2], vec![], &[drops]);
    });
    let merged = MERGED_AT_ZERO.load(Relaxed);
    eprintln!("executions with a queue merge at count 0: {merged}");
    assert!(
        merged > 0,
        "no explored execution merged under a buffered +2"
    );
}

/// Interleaving: as above, but `T2` clones three times, sends `b`, `c1` and
/// `c2` to `O` and keeps `c3` (a buffered `+3`). `O` drops all three: the
/// last drop takes `local` to zero on a `Queued` object, so
/// `deferred_zero_local` merges with the owner's reference added back —
/// `-1 + 0 + 1 = 0` while the `+3` is buffered — and defers the owner's
/// `-1`; `O`'s safepoints then merge the queue entry of the already merged
/// object (count 0 again if `T2` has not flushed) and defer the queue's
/// `-1`.
///
/// Property: neither merge frees, and neither deferred `-1` is applied
/// before `T2` flushes its `+3` and unpins: `c3`'s reads happen-before the
/// single free. The model asserts that some explored execution reached the
/// owner's zero on the queued object while the `+3` was buffered.
#[test]
fn owner_zero_local_on_queued_object_under_buffered_increments() {
    ZERO_LOCAL_AT_ZERO.store(0, Relaxed);
    check(|| {
        let drops = Drops::default();
        let d = drops.clone();
        let (to_t1, from_o1) = mpsc::channel::<(Obj, Obj)>();
        let (t1_done, from_t1) = mpsc::channel::<()>();
        let (to_t2, from_o2) = mpsc::channel::<Obj>();
        let (to_o, from_t2) = mpsc::channel::<(Obj, Obj, Obj)>();
        let (to_t2_dropped, o_dropped) = mpsc::channel::<()>();
        let owner = spawn_gated(move || {
            let x: Obj = d.object();
            to_t1.send((x.clone(), x.clone())).unwrap();
            from_t1.recv().unwrap();
            to_t2.send(x).unwrap(); // local 3: `b`, `a`, `a2`
            let (b, c1, c2) = from_t2.recv().unwrap();
            c1.check();
            drop((b, c1, c2)); // local 0: merge (-1 + 0 + 1), defer -1
            to_t2_dropped.send(()).unwrap();
            brisk_gc::safepoint();
            brisk_gc::safepoint();
        });
        let t1 = spawn_coalescing_dropper(from_o1, t1_done);
        let t2 = spawn_gated(move || {
            let b = from_o2.recv().unwrap();
            let attached = brisk_gc::attach();
            let c1 = b.clone(); // Published; +1 buffered
            let c2 = b.clone();
            let c3 = b.clone(); // +3
            to_o.send((b, c1, c2)).unwrap();
            c3.check();
            o_dropped.recv().unwrap();
            if merged_at_zero(&c3) {
                ZERO_LOCAL_AT_ZERO.fetch_add(1, Relaxed);
            }
            brisk_gc::safepoint(); // +3 applied
            c3.check();
            drop(c3); // -1 buffered
            drop(attached); // -1 deferred
        });
        finish(vec![owner, t1, t2], vec![], &[drops]);
    });
    let reached = ZERO_LOCAL_AT_ZERO.load(Relaxed);
    eprintln!("executions with the owner's zero on a queued object: {reached}");
    assert!(reached > 0, "no explored execution reached zero on Queued");
}
