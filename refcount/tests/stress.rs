//! Multi-thread stress tests of `Brc` on the biased policy: every value is
//! dropped exactly once, and none is left once its owner has reached a
//! safepoint or exited.
//!
//! Sizes shrink under Miri, which runs these too.

use std::cell::Cell;
use std::rc::Rc;
use std::sync::atomic::{AtomicBool, AtomicU8, AtomicUsize, Ordering::SeqCst};
use std::sync::mpsc;
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread;

use brisk_refcount::{safepoint, Atomic, Biased, Brc, NonAtomic, RcPolicy, Weak};

/// Objects per producer/consumer run.
const OBJECTS: usize = if cfg!(miri) { 40 } else { 100_000 };
/// Steps per thread of the random test.
const STEPS: usize = if cfg!(miri) { 60 } else { 100_000 };
/// Threads of the random test.
const THREADS: usize = 4;

/// Per-value drop counts for one test.
struct Tracker {
    /// How many times value `i` was dropped.
    drops: Vec<AtomicU8>,
    /// How many values were made (the next id).
    made: AtomicUsize,
}

impl Tracker {
    /// A tracker for at most `capacity` values.
    fn new(capacity: usize) -> Arc<Tracker> {
        Arc::new(Tracker {
            drops: (0..capacity).map(|_| AtomicU8::new(0)).collect(),
            made: AtomicUsize::new(0),
        })
    }

    /// A fresh tracked value.
    fn make(self: &Arc<Self>) -> Value {
        let id = self.made.fetch_add(1, SeqCst);
        assert!(id < self.drops.len(), "tracker capacity exceeded");
        Value {
            tracker: Arc::clone(self),
            id,
            check: Value::check_word(id),
        }
    }

    /// Asserts that every value made so far was dropped exactly once.
    fn assert_all_dropped_once(&self) {
        let made = self.made.load(SeqCst);
        for (id, drops) in self.drops[..made].iter().enumerate() {
            assert_eq!(drops.load(SeqCst), 1, "value {id} of {made}");
        }
    }
}

/// The payload: reports its drop to the tracker, and carries a check word
/// that a use after free would likely see corrupted.
struct Value {
    tracker: Arc<Tracker>,
    id: usize,
    check: u64,
}

impl Value {
    fn check_word(id: usize) -> u64 {
        (id as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ 0xA5A5_A5A5
    }

    /// Reads the value, as a user of the object would.
    fn touch(&self) {
        assert_eq!(self.check, Value::check_word(self.id), "corrupted value");
    }
}

impl Drop for Value {
    fn drop(&mut self) {
        self.touch();
        let before = self.tracker.drops[self.id].fetch_add(1, SeqCst);
        assert_eq!(before, 0, "value {} dropped twice", self.id);
    }
}

/// xorshift64*: a tiny seeded generator, so a failing run replays exactly.
struct Rng(u64);

impl Rng {
    fn new(seed: u64) -> Rng {
        Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }

    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// Uniform enough in `0..n`, for `n > 0`.
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

/// A producer makes objects and sends each one's only reference to a
/// consumer, which reads it, sometimes clones it, and drops it: every drop
/// finds the shared count at zero and queues the object back to the
/// producer, whose `Brc::new` and explicit `safepoint()` calls merge them.
/// After joining the consumer, one last `safepoint()` must leave every value
/// dropped exactly once.
#[test]
fn producer_consumer_merged_at_safepoints() {
    let tracker = Tracker::new(OBJECTS);
    let t = Arc::clone(&tracker);
    thread::spawn(move || {
        let (tx, rx) = mpsc::channel::<Brc<Value>>();
        let consumer = thread::spawn(move || {
            for (i, object) in rx.into_iter().enumerate() {
                object.touch();
                if i % 3 == 0 {
                    let clone = Brc::clone(&object);
                    drop(object);
                    clone.touch();
                }
            }
        });
        let mut kept = Vec::new();
        for i in 0..OBJECTS {
            let object = Brc::new(t.make());
            if i % 5 == 0 {
                // The owner keeps a reference a while: the consumer's drop
                // then queues an object whose `local` is still 1.
                kept.push(Brc::clone(&object));
            }
            tx.send(object).unwrap();
            if i % 64 == 0 {
                safepoint();
                kept.clear();
            }
        }
        drop(tx);
        drop(kept);
        consumer.join().unwrap();
        safepoint();
        t.assert_all_dropped_once();
    })
    .join()
    .unwrap();
    tracker.assert_all_dropped_once();
}

/// As above, but the producer never calls `safepoint()` and exits while the
/// consumer is still dropping: objects queued before the exit are merged by
/// the exit path, later ones by the consumer itself (closed queue or owner
/// gone from the registry). Once both threads are joined every value must
/// be dropped exactly once.
#[test]
fn producer_exits_while_consumer_drops() {
    let tracker = Tracker::new(OBJECTS);
    let t = Arc::clone(&tracker);
    let (tx, rx) = mpsc::channel::<Brc<Value>>();
    let consumer = thread::spawn(move || {
        for object in rx {
            object.touch();
        }
    });
    let producer = thread::spawn(move || {
        for _ in 0..OBJECTS {
            tx.send(Brc::new(t.make())).unwrap();
        }
    });
    producer.join().unwrap();
    consumer.join().unwrap();
    tracker.assert_all_dropped_once();
}

/// The owner makes objects, keeps clones of some, hands half to a worker
/// during its life and returns the rest (with the clones) when it exits.
/// After its exit, the test thread and two helpers clone, read and drop
/// them: every final decrement goes through the dead-owner merge. Every
/// value must be dropped exactly once once all threads are done.
#[test]
fn objects_outlive_their_owner() {
    let tracker = Tracker::new(OBJECTS);
    let t = Arc::clone(&tracker);
    let (tx, rx) = mpsc::channel::<Brc<Value>>();
    let worker = thread::spawn(move || {
        for object in rx {
            let clone = Brc::clone(&object);
            drop(object);
            clone.touch();
        }
    });
    let owner = thread::spawn(move || {
        let mut survivors = Vec::new();
        for i in 0..OBJECTS {
            let object = Brc::new(t.make());
            if i % 2 == 0 {
                tx.send(object).unwrap();
            } else {
                if i % 3 == 0 {
                    survivors.push(Brc::clone(&object));
                }
                survivors.push(object);
            }
        }
        survivors
    });
    let mut left = owner.join().unwrap();
    let right = left.split_off(left.len() / 2);
    let helpers = [left, right].map(|objects| {
        thread::spawn(move || {
            for object in objects {
                let clone = Brc::clone(&object);
                object.touch();
                drop(object);
                drop(clone);
            }
        })
    });
    for helper in helpers {
        helper.join().unwrap();
    }
    worker.join().unwrap();
    tracker.assert_all_dropped_once();
}

/// For every object the owner keeps `a` and sends `b` to a worker, which
/// sends back a clone `c` (counted in `shared`) and drops `b`; the owner
/// drops `a` and `c`. The owner's `local` reaching zero races the worker's
/// decrement: either side may free, or the owner merges and the worker
/// frees. Every value must be dropped exactly once, with nothing queued.
#[test]
fn owner_and_non_owner_race_last_drops() {
    let tracker = Tracker::new(OBJECTS);
    let t = Arc::clone(&tracker);
    thread::spawn(move || {
        let (to_worker, from_owner) = mpsc::channel::<Brc<Value>>();
        let (to_owner, from_worker) = mpsc::channel::<Brc<Value>>();
        let worker = thread::spawn(move || {
            for b in from_owner {
                to_owner.send(Brc::clone(&b)).unwrap();
                b.touch();
            }
        });
        let mut held = Vec::new();
        for _ in 0..OBJECTS {
            let a = Brc::new(t.make());
            to_worker.send(Brc::clone(&a)).unwrap();
            held.push(a);
            if held.len() == 16 {
                for a in held.drain(..) {
                    let c = from_worker.recv().unwrap();
                    assert!(Brc::ptr_eq(&a, &c));
                    drop(a);
                    drop(c);
                }
            }
        }
        for a in held {
            drop(from_worker.recv().unwrap());
            drop(a);
        }
        drop(to_worker);
        worker.join().unwrap();
        assert_eq!(safepoint(), 0, "nothing may be queued");
        t.assert_all_dropped_once();
    })
    .join()
    .unwrap();
    tracker.assert_all_dropped_once();
}

/// Rounds of the `try_unwrap` race: a few hit the window in every 10,000
/// on two cores.
const UNWRAP_ROUNDS: usize = if cfg!(miri) { 20 } else { 50_000 };

/// `Brc::try_unwrap` spins against `Weak::upgrade` on another thread: each
/// round the owner makes an object and hands a `Weak` to it over, then
/// calls `try_unwrap` until it gets the value, while the other thread
/// upgrades until the upgrade fails. The value may be moved out only when no
/// upgraded handle is alive: the upgrader raises `holding` while it holds
/// one and reads the value through it, so an `Ok` seen with `holding` up,
/// or a read of a value already moved out and dropped (its check word), is
/// the race lost. Every value must be dropped exactly once.
fn try_unwrap_races_upgrades<P: RcPolicy + Send + Sync + 'static>() {
    let tracker = Tracker::new(UNWRAP_ROUNDS);
    let holding = Arc::new(AtomicBool::new(false));
    let slot: Arc<Mutex<Option<Weak<Value, P>>>> = Arc::default();
    let done = Arc::new(AtomicBool::new(false));
    let upgrader = {
        let (holding, slot, done) = (Arc::clone(&holding), Arc::clone(&slot), Arc::clone(&done));
        thread::spawn(move || {
            while !done.load(SeqCst) {
                let Some(weak) = slot.lock().unwrap().take() else {
                    std::hint::spin_loop();
                    continue;
                };
                while let Some(strong) = weak.upgrade() {
                    holding.store(true, SeqCst);
                    strong.touch();
                    holding.store(false, SeqCst);
                }
            }
        })
    };
    for _ in 0..UNWRAP_ROUNDS {
        let mut a: Brc<Value, P> = Brc::new_with_policy(tracker.make());
        *slot.lock().unwrap() = Some(Brc::downgrade(&a));
        let value = loop {
            match Brc::try_unwrap(a) {
                Ok(value) => break value,
                Err(back) => a = back,
            }
        };
        assert!(
            !holding.load(SeqCst),
            "try_unwrap moved the value out while an upgraded Brc was alive"
        );
        drop(value);
        // The upgrader is done with this round's `Weak` before the next.
        while slot.lock().unwrap().is_some() || holding.load(SeqCst) {
            std::hint::spin_loop();
        }
    }
    done.store(true, SeqCst);
    upgrader.join().unwrap();
    safepoint();
    tracker.assert_all_dropped_once();
}

#[test]
fn try_unwrap_never_moves_out_under_a_live_upgrade_atomic() {
    try_unwrap_races_upgrades::<Atomic>();
}

#[test]
fn try_unwrap_never_moves_out_under_a_live_upgrade_biased() {
    try_unwrap_races_upgrades::<Biased>();
}

/// Four threads run seeded random steps over a pool of handles each: make
/// an object, clone one, drop one, send one to a random thread, receive,
/// or call `safepoint()`. Objects therefore cross threads in every
/// direction, are queued to owners that may be busy or gone, and are
/// merged at safepoints and exits. At the end each thread drops its
/// senders and drains its inbox. Every value must be dropped exactly once.
#[test]
fn random_clone_send_drop() {
    let tracker = Tracker::new(THREADS * STEPS);
    let (senders, inboxes): (Vec<_>, Vec<_>) =
        (0..THREADS).map(|_| mpsc::channel::<Brc<Value>>()).unzip();
    let threads: Vec<_> = inboxes
        .into_iter()
        .enumerate()
        .map(|(index, inbox)| {
            let senders = senders.clone();
            let t = Arc::clone(&tracker);
            thread::spawn(move || {
                let mut rng = Rng::new(0xB215_u64 + index as u64);
                let mut pool: Vec<Brc<Value>> = Vec::new();
                for _ in 0..STEPS {
                    match rng.below(16) {
                        0..=3 => pool.push(Brc::new(t.make())),
                        4..=6 if !pool.is_empty() => {
                            let clone = Brc::clone(&pool[rng.below(pool.len())]);
                            pool.push(clone);
                        }
                        7..=9 if !pool.is_empty() => {
                            let object = pool.swap_remove(rng.below(pool.len()));
                            object.touch();
                        }
                        10..=12 if !pool.is_empty() => {
                            let object = pool.swap_remove(rng.below(pool.len()));
                            senders[rng.below(THREADS)].send(object).unwrap();
                        }
                        13 | 14 => pool.extend(inbox.try_iter()),
                        15 => {
                            safepoint();
                        }
                        _ => {}
                    }
                }
                drop(senders);
                drop(pool);
                for object in inbox {
                    object.touch();
                }
            })
        })
        .collect();
    drop(senders);
    for thread in threads {
        thread.join().unwrap();
    }
    tracker.assert_all_dropped_once();
}

/// Scoped threads clone a `Brc` borrowed from the owner, read the clones
/// and drop most of them; each hands one clone back. The owner drops the
/// returned clones, which are counted in `shared`, so its `local` reaches
/// zero while it still holds the original, and it gives the object up
/// (`merge_zero_local`); its last drop then goes through the shared path.
#[test]
fn scoped_threads_clone_a_borrowed_brc() {
    const CLONES: usize = if cfg!(miri) { 10 } else { 10_000 };
    let tracker = Tracker::new(1);
    let shared = Brc::new(tracker.make());
    let returned: Vec<Brc<Value>> = thread::scope(|scope| {
        let handles: Vec<_> = (0..THREADS)
            .map(|_| {
                scope.spawn(|| {
                    let mut clones: Vec<_> = (0..CLONES).map(|_| Brc::clone(&shared)).collect();
                    for clone in &clones {
                        clone.touch();
                    }
                    let kept = clones.pop().unwrap();
                    drop(clones);
                    kept
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    assert_eq!(safepoint(), 0, "shared clones never queue");
    assert_eq!(Brc::strong_count(&shared), 1 + THREADS);
    drop(returned);
    assert_eq!(Brc::strong_count(&shared), 1);
    assert_eq!(tracker.drops[0].load(SeqCst), 0);
    drop(shared);
    tracker.assert_all_dropped_once();
}

/// Compiles only for `Send + Sync` types.
fn assert_send_sync<T: Send + Sync>() {}

/// Naming `<T as AmbiguousIfSend<_>>::ok` compiles only when `T` is *not*
/// `Send`: for a `Send` type both impls apply and the call is ambiguous
/// (the `static_assertions::assert_not_impl_any!` trick).
trait AmbiguousIfSend<A> {
    fn ok() {}
}
impl<T: ?Sized> AmbiguousIfSend<()> for T {}
impl<T: ?Sized + Send> AmbiguousIfSend<u8> for T {}

/// As [`AmbiguousIfSend`], for `Sync`.
trait AmbiguousIfSync<A> {
    fn ok() {}
}
impl<T: ?Sized> AmbiguousIfSync<()> for T {}
impl<T: ?Sized + Sync> AmbiguousIfSync<u8> for T {}

/// `Brc<T>` is `Send` and `Sync` exactly when `T` is both (checked at
/// compile time): not for a `Send`-only payload (`Cell`), a `Sync`-only one
/// (`MutexGuard`), one that is neither (`Rc`), nor under the single-thread
/// `NonAtomic` policy.
#[test]
fn brc_is_send_sync_exactly_when_payload_is() {
    assert_send_sync::<Brc<u64>>();
    assert_send_sync::<Brc<Mutex<Vec<u8>>>>();
    assert_send_sync::<Brc<u64, Atomic>>();
    <Brc<Cell<u8>> as AmbiguousIfSend<_>>::ok();
    <Brc<Cell<u8>> as AmbiguousIfSync<_>>::ok();
    <Brc<MutexGuard<'static, u8>> as AmbiguousIfSend<_>>::ok();
    <Brc<MutexGuard<'static, u8>> as AmbiguousIfSync<_>>::ok();
    <Brc<Rc<u8>> as AmbiguousIfSend<_>>::ok();
    <Brc<Rc<u8>> as AmbiguousIfSync<_>>::ok();
    <Brc<u64, NonAtomic> as AmbiguousIfSend<_>>::ok();
    <Brc<u64, NonAtomic> as AmbiguousIfSync<_>>::ok();
}
