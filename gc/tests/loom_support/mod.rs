//! What every `brisk-gc` loom model shares: a payload that detects a double
//! drop and any use after its drop, and the model runner that settles the
//! epoch domain at the end of each execution.
//!
//! # The payload
//!
//! [`Payload`] counts its drops in a loom atomic behind a loom `Arc` (so an
//! execution that leaks it fails loom's leak check), clears an `alive` flag
//! when dropped, and holds a loom [`UnsafeCell`] that [`Payload::check`]
//! reads and `Drop` writes. Every read through a handle calls `check`: it
//! asserts `alive`, and loom reports a causality violation if the read is not
//! ordered before the drop's write — the "no access after free" property,
//! including the happens-before edge the free needs, not just the flag.
//!
//! # Settling
//!
//! Deferred decrements and retired slot values run one epoch later, on
//! whichever thread collects. After the model's threads are joined, the main
//! model thread runs bounded [`brisk_gc::safepoint`]s (merge, flush, collect,
//! with a `yield_now` so that joined threads may finish their exit paths:
//! loom runs a thread's thread-local destructors after its `join` returned)
//! until every payload was dropped, the domain's garbage is empty and every
//! registered thread has run its exit path. Then each payload must have been
//! dropped exactly once. The main thread never makes an object (so it never
//! registers with `brisk-refcount`) and ends detached, because the model's
//! statics are torn down before its own thread-locals.
//!
//! # What is explored
//!
//! Every model ends with [`finish`]: threads that made objects and pinned
//! end behind a gate opened after `loom::stop_exploring()` (see [`Gated`]
//! for why loom needs this), so each model explores every interleaving of
//! its threads' bodies (and of the exit paths of the ungated non-owner
//! threads), and then runs the gated exit paths and the settling on one
//! schedule. Properties of what runs in that tail — exactly-once free, no
//! leak — are still checked on every explored prefix.
//!
//! Each model was also run against a mutant of `brisk-gc` with the step it
//! is about removed (deferral of the owner's last `-1`, of the queue's `-1`,
//! slot retirement, the flush in `blocking` and at thread exit); each
//! mutant fails its model.
#![allow(dead_code)] // each model file uses its own subset

use loom::cell::UnsafeCell;
use loom::sync::atomic::{AtomicBool, AtomicUsize, Ordering::SeqCst};
use loom::sync::{mpsc, Arc};

pub use brisk_gc::Deferred;
pub use brisk_refcount::Brc;

/// A shared handle on a [`Payload`] under the policy being checked.
pub type Obj = Brc<Payload, Deferred>;

/// The value the payload's cell holds while alive.
const LIVE: u64 = 0x5eed;

/// Counts the drops of the payloads made from it.
#[derive(Clone, Default)]
pub struct Drops(Arc<AtomicUsize>);

impl Drops {
    /// A payload that bumps this counter when dropped.
    pub fn payload(&self) -> Payload {
        Payload {
            drops: Arc::clone(&self.0),
            alive: AtomicBool::new(true),
            data: UnsafeCell::new(LIVE),
        }
    }

    /// A new object (owned by the calling thread) holding a payload.
    pub fn object(&self) -> Obj {
        Brc::new_with_policy(self.payload())
    }

    /// How many payloads have been dropped so far.
    pub fn count(&self) -> usize {
        self.0.load(SeqCst)
    }
}

/// The value inside the models' objects.
pub struct Payload {
    drops: Arc<AtomicUsize>,
    alive: AtomicBool,
    data: UnsafeCell<u64>,
}

// SAFETY: `data` is read through `&self` only by `check` and written only by
// `Drop` (through `&mut self`); loom's cell tracks those accesses and reports
// any that are not ordered, which is exactly what the models check.
unsafe impl Sync for Payload {}

impl Payload {
    /// A read through a handle: the payload must not have been dropped, and
    /// this read must happen-before its drop.
    pub fn check(&self) {
        assert!(self.alive.load(SeqCst), "payload used after it was dropped");
        // SAFETY: a shared read; loom checks it against the drop's write.
        let value = self.data.with(|p| unsafe { *p });
        assert_eq!(value, LIVE, "payload used after it was dropped");
    }
}

impl Drop for Payload {
    fn drop(&mut self) {
        assert!(self.alive.swap(false, SeqCst), "payload dropped twice");
        // SAFETY: `&mut self`: the only access; loom checks the readers.
        self.data.with_mut(|p| unsafe { *p = 0 });
        let before = self.drops.fetch_add(1, SeqCst);
        assert_eq!(before, 0, "payload dropped twice");
    }
}

/// Safepoints the main thread runs at most while settling.
const SETTLE_STEPS: usize = 64;

/// Runs safepoints on the calling (main model) thread until every counter in
/// `drops` is 1, the domain holds no garbage and no registered thread is left,
/// or `SETTLE_STEPS` safepoints have run; then asserts each payload was
/// dropped exactly once and nothing is left behind.
pub fn settle(drops: &[Drops]) {
    let done = || {
        drops.iter().all(|d| d.count() == 1)
            && brisk_gc::garbage().is_empty()
            && brisk_refcount::thread::registered_count() == 0
    };
    let mut steps = 0;
    while !done() && steps < SETTLE_STEPS {
        for d in drops {
            assert!(d.count() <= 1, "payload dropped twice");
        }
        brisk_gc::safepoint();
        loom::thread::yield_now();
        steps += 1;
    }
    for (i, d) in drops.iter().enumerate() {
        assert_eq!(
            d.count(),
            1,
            "payload {i} not dropped exactly once after {steps} safepoints; garbage: {:?}",
            brisk_gc::garbage()
        );
    }
    assert!(
        brisk_gc::garbage().is_empty(),
        "garbage left: {:?}",
        brisk_gc::garbage()
    );
    assert_eq!(brisk_refcount::thread::registered_count(), 0);
    assert!(!brisk_gc::is_attached(), "main thread must end detached");
}

/// A model thread that, once its closure has returned, reports "done" and
/// waits at a gate before it ends.
///
/// Why: loom keeps a thread's thread-locals in a `HashMap` with a random
/// hasher and drops them in that map's order when the thread ends. A thread
/// that made objects (`brisk-refcount`'s exit path) *and* pinned
/// (`brisk-gc`'s mutator and its crossbeam handle) has two thread-locals
/// whose destructors take loom steps, in an order that changes from one
/// execution to the next — and loom must replay every explored prefix
/// exactly ("Is the model fully deterministic?"). So such threads end behind
/// a gate that [`finish`] opens only after `loom::stop_exploring()`: their
/// exit paths run on a single, unexplored schedule after every explored
/// branch. A thread whose only such thread-local is the mutator (a non-owner
/// that never makes objects and never queues to a live owner) may end freely;
/// its exit path is deterministic and is explored (`loom_flush_exit.rs`).
pub struct Gated<T> {
    join: loom::thread::JoinHandle<T>,
    done: mpsc::Receiver<()>,
    go: mpsc::Sender<()>,
}

/// The owner side shared by the publish-race models: makes an object, lends
/// a clone to a non-owner over `lend`, drops its own, takes the clone back
/// over `back` and drops it (`local` reaches 0 on a published object: it
/// merges and defers its `-1`), then runs `safepoints` safepoints.
pub fn spawn_lending_owner(
    drops: Drops,
    lend: mpsc::Sender<Obj>,
    back: mpsc::Receiver<Obj>,
    safepoints: usize,
) -> Gated<()> {
    spawn_gated(move || {
        let x: Obj = drops.object();
        lend.send(x.clone()).unwrap();
        drop(x);
        drop(back.recv().unwrap()); // local 0: merge, defer -1
        for _ in 0..safepoints {
            brisk_gc::safepoint();
        }
    })
}

/// The non-owner side of the queue-merge models: receives a clone over
/// `lent`, attaches, reads and drops it (a buffered `-1`) and runs three
/// safepoints: the first defers the `-1`, the next ones advance the epoch
/// and, once the owner has repinned, apply it, which finds `Published`
/// count 0 and queues the object to its owner.
pub fn spawn_deferring_non_owner(lent: mpsc::Receiver<Obj>) -> Gated<()> {
    spawn_gated(move || {
        let b = lent.recv().unwrap();
        let attached = brisk_gc::attach();
        b.check();
        drop(b); // -1 buffered
        brisk_gc::safepoint(); // -1 deferred
        brisk_gc::safepoint();
        brisk_gc::safepoint();
        drop(attached);
    })
}

/// Spawns `f` as a [`Gated`] model thread.
pub fn spawn_gated<T: 'static>(f: impl FnOnce() -> T + 'static) -> Gated<T> {
    let (done_tx, done) = mpsc::channel();
    let (go, go_rx) = mpsc::channel::<()>();
    let join = loom::thread::spawn(move || {
        let result = f();
        done_tx.send(()).unwrap();
        go_rx.recv().unwrap();
        result
    });
    Gated { join, done, go }
}

impl<T> Gated<T> {
    /// Waits until the thread's closure has returned (it then waits at its
    /// gate). Explored.
    pub fn wait_done(&self) {
        self.done.recv().unwrap();
    }
}

/// Ends a model: joins the `plain` threads, waits for every gated thread's
/// closure, stops exploring, opens the gates, joins the gated threads and
/// [`settle`]s `drops`.
pub fn finish(gated: Vec<Gated<()>>, plain: Vec<loom::thread::JoinHandle<()>>, drops: &[Drops]) {
    for t in plain {
        t.join().unwrap();
    }
    for g in &gated {
        g.wait_done();
    }
    // Everything after this point runs on one schedule: the gated threads'
    // exit paths (see [`Gated`]) and the final collection.
    loom::stop_exploring();
    for g in &gated {
        g.go.send(()).unwrap();
    }
    for g in gated {
        g.join.join().unwrap();
    }
    settle(drops);
}

/// Runs `model` under every interleaving loom reaches (at most two
/// preemptions per execution unless `LOOM_MAX_PREEMPTIONS` says otherwise).
/// The model ends with [`finish`]. Prints how many executions were explored.
pub fn check(model: impl Fn() + Sync + Send + 'static) {
    let mut builder = loom::model::Builder::new();
    if builder.preemption_bound.is_none() {
        builder.preemption_bound = Some(2);
    }
    // crossbeam-epoch's pins and collection steps take many loom steps, and
    // the final settling runs up to `SETTLE_STEPS` safepoints.
    builder.max_branches = builder.max_branches.max(100_000);
    static RUNS: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let start = std::time::Instant::now();
    builder.check(move || {
        RUNS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        model();
    });
    eprintln!(
        "executions: {} in {:.1?}",
        RUNS.swap(0, std::sync::atomic::Ordering::Relaxed),
        start.elapsed()
    );
}
