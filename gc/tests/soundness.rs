//! Regression tests for the epoch layer's soundness defects, one test per
//! defect, each on a schedule forced with channels (never sleeps).
//!
//! A premature free is caught in release builds too: every payload is a
//! [`Canary`] whose drop is recorded in a [`Registry`] kept outside the
//! object, so "dropped while a handle is alive" and "dropped twice" are
//! assertions on live memory, not reads of freed memory.
//!
//! The epoch domain is process-wide, so the tests of this binary take one
//! lock ([`serial`]): a test that counts epochs or garbage is not disturbed
//! by another test's pinned threads.

use std::cell::RefCell;
use std::sync::{mpsc, Arc, Mutex, MutexGuard};
use std::thread;

use brisk_gc::{AtomicSlot, Deferred};
use brisk_refcount::policy_kit::SharedState;
use brisk_refcount::{Biased, Brc};

/// Serialises the tests of this binary (they share the epoch domain).
fn serial() -> MutexGuard<'static, ()> {
    static LOCK: Mutex<()> = Mutex::new(());
    LOCK.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Drops per object, kept outside the objects.
#[derive(Clone, Default)]
struct Registry(Arc<Mutex<Vec<usize>>>);

impl Registry {
    /// A new payload with the next id.
    fn canary(&self) -> Canary {
        let mut drops = self.0.lock().unwrap();
        drops.push(0);
        Canary {
            id: drops.len() - 1,
            magic: ALIVE,
            registry: self.clone(),
        }
    }

    fn drops(&self, id: usize) -> usize {
        self.0.lock().unwrap()[id]
    }

    /// Panics unless object `id` is alive.
    fn assert_alive(&self, id: usize) {
        assert_eq!(self.drops(id), 0, "object {id} was freed while in use");
    }

    fn assert_each_dropped_once(&self) {
        for (id, &n) in self.0.lock().unwrap().iter().enumerate() {
            assert_eq!(n, 1, "object {id} dropped {n} times");
        }
    }
}

const ALIVE: u64 = 0xa11c_e5ca_1ab1_e000;

/// A payload that records its drop and checks a canary on every use.
struct Canary {
    id: usize,
    magic: u64,
    registry: Registry,
}

impl Canary {
    /// A use through a handle: the object must not have been dropped.
    fn check(&self) {
        assert_eq!(self.magic, ALIVE, "object used after drop");
    }
}

impl Drop for Canary {
    fn drop(&mut self) {
        assert_eq!(self.magic, ALIVE, "object {} dropped twice", self.id);
        self.magic = 0;
        self.registry.0.lock().unwrap()[self.id] += 1;
    }
}

type Obj = Brc<Canary, Deferred>;

/// Joins a scoped thread. Unlike the scope's own wait at its end, a join
/// returns only once the thread has run its thread-local destructors (the
/// mutator's exit path, which flushes and unpins), so a collection after it
/// is held back by nobody.
fn join(thread: thread::ScopedJoinHandle<'_, ()>) {
    thread.join().unwrap();
}

/// Runs collection steps on a detached thread until nothing is left.
fn drain() {
    let left = brisk_gc::collect(10_000);
    assert!(left.is_empty(), "garbage left: {left:?}");
}

/// Defect: `safepoint()` ran destructors (its collection step) and then
/// re-pinned without applying the increments those destructors buffered,
/// so a decrement deferred meanwhile could free the object under the
/// destructor's clone.
///
/// Schedule: the main thread makes `x`. Thread `T` attaches, makes a holder
/// whose payload holds a reference to `x`, parks it in a slot, empties the
/// slot (retiring the holder: its last reference is dropped, on `T`, by a
/// later collection step) and runs safepoints until the holder's destructor
/// has run in one of them. The destructor, on `T`,
/// clones `x` (a non-owner clone: buffered) and parks the original with
/// the main thread. Property: when that safepoint returns, the clone's `+1`
/// has been applied to `x`'s shared count.
#[test]
fn safepoint_applies_increments_made_by_the_destructors_it_runs() {
    let _serial = serial();
    let registry = Registry::default();
    let x: Obj = Brc::new_with_policy(registry.canary());
    thread_local! {
        static KEPT: RefCell<Vec<Obj>> = const { RefCell::new(Vec::new()) };
    }
    /// When dropped, clones the object it holds and keeps the clone, and
    /// parks the original.
    struct Holder {
        x: Option<Obj>,
        parked: Arc<Mutex<Vec<Obj>>>,
    }
    impl Drop for Holder {
        fn drop(&mut self) {
            let x = self.x.take().unwrap();
            KEPT.with(|kept| kept.borrow_mut().push(x.clone()));
            self.parked.lock().unwrap().push(x);
        }
    }
    let parked = Arc::new(Mutex::new(Vec::new()));
    let holder = Holder {
        x: Some(x.clone()),
        parked: Arc::clone(&parked),
    };
    let (to_main, from_t) = mpsc::channel::<usize>();
    let (to_t, from_main) = mpsc::channel::<()>();
    thread::scope(|s| {
        let thread = s.spawn(move || {
            let attached = brisk_gc::attach();
            // Made here, so that its last reference is dropped on the owner
            // path, on this thread.
            let slot: AtomicSlot<Holder, Biased> = AtomicSlot::new(Some(Brc::new(holder)));
            slot.clear();
            let mut steps = 0;
            while KEPT.with(|kept| kept.borrow().is_empty()) {
                brisk_gc::safepoint();
                steps += 1;
                assert!(steps < 10_000, "the holder was never collected here");
            }
            // The destructor ran inside the safepoint that just returned.
            to_main.send(KEPT.with(|kept| kept.borrow().len())).unwrap();
            from_main.recv().unwrap();
            KEPT.with(|kept| kept.borrow_mut().clear());
            drop(attached);
        });
        // Owned by this closure, so that a failed assertion below drops it
        // and lets `T` finish instead of hanging the scope.
        let to_t = to_t;
        assert_eq!(from_t.recv().unwrap(), 1);
        // `x` and the parked original are counted in `local`; the kept
        // clone must already be on the shared count.
        let word = Brc::header(&x).shared_word();
        assert_eq!(
            word.count(),
            1,
            "the destructor's increment was left in T's buffer: {word:?}"
        );
        registry.assert_alive(0);
        to_t.send(()).unwrap();
        join(thread);
    });
    drop(x);
    drop(parked.lock().unwrap().drain(..).collect::<Vec<_>>());
    drain();
    registry.assert_each_dropped_once();
}

/// Defect: under `Deferred` the merged count can be zero or less while other
/// threads still buffer increments, and two `debug_assert!(count >= 1)`
/// said otherwise, so a debug build panicked on a legal schedule.
///
/// Schedule: the main thread (owner) makes `x` and three clones; attached
/// thread `A` drops two of them (one coalesced `-2`) and runs safepoints
/// until that `-2` is applied: `Published` count 0 becomes `Queued` count
/// -1, queued to the owner. Attached thread `B` then clones the third twice
/// (`+2` buffered) and hands all three back. The owner drops everything
/// without reaching a safepoint: its last local reference merges with
/// count 0 while `B`'s `+2` is still buffered. Property: no panic, and `x`
/// is freed exactly once, after `B` has flushed.
#[test]
fn merged_count_may_be_zero_while_increments_are_buffered() {
    let _serial = serial();
    let registry = Registry::default();
    let x: Obj = Brc::new_with_policy(registry.canary());
    let (a, b, c) = (x.clone(), x.clone(), x.clone());
    let (back_tx, back_rx) = mpsc::channel::<Vec<Obj>>();
    let (go_tx, go_rx) = mpsc::channel::<()>();
    thread::scope(|s| {
        let thread = s.spawn(|| {
            let attached = brisk_gc::attach();
            drop((a, b)); // coalesced: one -2
            let mut steps = 0;
            while Brc::header(&x).shared_word().state() != SharedState::Queued {
                brisk_gc::safepoint();
                steps += 1;
                assert!(steps < 10_000, "the -2 was never applied");
            }
            assert_eq!(Brc::header(&x).shared_word().count(), -1);
            drop(attached);
        });
        join(thread);
    });
    thread::scope(|s| {
        let thread = s.spawn(move || {
            let attached = brisk_gc::attach();
            let (c1, c2) = (c.clone(), c.clone()); // +2 buffered
            back_tx.send(vec![c, c1, c2]).unwrap();
            go_rx.recv().unwrap();
            drop(attached); // flushes the +2
        });
        // Owned by this closure: a panic below drops it and releases `B`.
        let go_tx = go_tx;
        let back = back_rx.recv().unwrap();
        drop(x);
        drop(back); // the owner's last local reference: merged count 0
        registry.assert_alive(0);
        go_tx.send(()).unwrap();
        join(thread);
    });
    drain();
    registry.assert_each_dropped_once();
}

/// Defect: `collect(n)` stopped after a step that merged nothing and left
/// no garbage, although that very step's collection had queued an object
/// back to the calling thread.
///
/// Schedule: the main thread owns `x` and hands its only other reference to
/// thread `A`, then drops its own (`local` 1: `A`'s). `A`, attached, drops
/// its reference (buffered `-1`) and detaches (the `-1` is deferred). The
/// main thread calls `collect(1000)`: a step applies the `-1`, which finds
/// `Published` count 0 and queues `x` to the main thread. Property: when
/// `collect` returns, `x` has been merged and freed.
#[test]
fn collect_merges_what_its_own_steps_queued() {
    let _serial = serial();
    let registry = Registry::default();
    let x: Obj = Brc::new_with_policy(registry.canary());
    let lent = x.clone();
    drop(x);
    thread::spawn(move || {
        let attached = brisk_gc::attach();
        lent.check();
        drop(lent);
        drop(attached);
    })
    .join()
    .unwrap();
    let left = brisk_gc::collect(1000);
    assert!(left.is_empty(), "garbage left: {left:?}");
    assert_eq!(registry.drops(0), 1, "collect returned with x still queued");
}

/// Defect: `blocking` set the attachment depth to zero for the closure and
/// restored it afterwards, so a token dropped inside the closure was
/// ignored (the thread re-pinned with no token left) and a token made
/// inside was overwritten.
#[test]
fn blocking_honours_tokens_dropped_or_made_inside_it() {
    let _serial = serial();
    thread::spawn(|| {
        let token = brisk_gc::attach();
        brisk_gc::blocking(move || drop(token));
        assert!(
            !brisk_gc::is_attached(),
            "re-pinned with no token left: the epoch is held back"
        );

        let outer = brisk_gc::attach();
        let inner = brisk_gc::blocking(|| {
            assert!(!brisk_gc::is_attached());
            let inner = brisk_gc::attach();
            assert!(brisk_gc::is_attached(), "a token made inside attaches");
            inner
        });
        assert!(brisk_gc::is_attached());
        drop(inner);
        assert!(brisk_gc::is_attached(), "the outer token is still alive");
        drop(outer);
        assert!(!brisk_gc::is_attached());
    })
    .join()
    .unwrap();
    drain();
}

/// Defect: `tracing` events emitted while the coalescing buffer was borrowed
/// mutably ran subscriber code, and a subscriber that counts a non-owned
/// `Deferred` object re-entered the buffer through an aliased `&mut`; the
/// increment it recorded was lost when the outer flush finished.
///
/// Schedule: the main thread owns four objects. Thread `T` attaches, and
/// counts all four as a non-owner (so its buffer is not empty at the
/// flush); a subscriber installed on `T` clones the first two on its first
/// event and keeps the clones; `T` runs two safepoints. Property: both
/// clones are counted. The re-entry itself is undefined behaviour that Miri
/// reports (CI runs this test under Miri); natively, the counts are checked.
#[test]
fn a_subscriber_that_counts_during_a_flush_loses_nothing() {
    let _serial = serial();
    let registry = Registry::default();
    let objects: Vec<Obj> = (0..4)
        .map(|_| Brc::new_with_policy(registry.canary()))
        .collect();
    thread::scope(|s| {
        let thread = s.spawn(|| {
            let attached = brisk_gc::attach();
            let subscriber = CountingSubscriber {
                targets: vec![objects[0].clone(), objects[1].clone()],
                kept: Mutex::new(Vec::new()),
            };
            // Unapplied deltas for two other objects: +1 each, held to the end.
            let others = vec![objects[2].clone(), objects[3].clone()];
            let subscriber = Arc::new(subscriber);
            tracing::subscriber::with_default(Arc::clone(&subscriber), || {
                brisk_gc::safepoint();
            });
            brisk_gc::safepoint();
            for y in &objects[..2] {
                // The main thread's reference (in `local`), the subscriber's
                // target clone, and the clone it kept: 1 + 2.
                assert_eq!(
                    Brc::strong_count(y),
                    3,
                    "an increment made inside the flush was lost"
                );
            }
            drop(others);
            drop(subscriber);
            drop(attached);
        });
        join(thread);
    });
    drop(objects);
    drain();
    registry.assert_each_dropped_once();
}

/// A subscriber that, on its first event, clones each of its targets once.
struct CountingSubscriber {
    targets: Vec<Obj>,
    kept: Mutex<Vec<Obj>>,
}

impl tracing::Subscriber for CountingSubscriber {
    fn enabled(&self, _: &tracing::Metadata<'_>) -> bool {
        true
    }
    fn new_span(&self, _: &tracing::span::Attributes<'_>) -> tracing::span::Id {
        tracing::span::Id::from_u64(1)
    }
    fn record(&self, _: &tracing::span::Id, _: &tracing::span::Record<'_>) {}
    fn record_follows_from(&self, _: &tracing::span::Id, _: &tracing::span::Id) {}
    fn event(&self, _: &tracing::Event<'_>) {
        let Ok(mut kept) = self.kept.try_lock() else {
            return;
        };
        if kept.is_empty() {
            for target in &self.targets {
                target.check();
                kept.push(target.clone());
            }
        }
    }
    fn enter(&self, _: &tracing::span::Id) {}
    fn exit(&self, _: &tracing::span::Id) {}
}
