//! How long a `Deferred` object waits between its last drop and its free.
//!
//! Under [`Deferred`], the last decrement of an object that another thread
//! made is not applied where it is dropped: it waits in the dropping
//! thread's coalescing buffer until that thread's next safepoint, then in an
//! epoch batch until the global epoch has advanced twice, and the epoch
//! advances only once every attached thread has reached a safepoint since
//! the last advance (`papers/design.md`, "Bounded garbage"). The decrement
//! that then finds the count at zero queues the object to its owner, whose
//! merge at its next safepoint defers the queue's reference the same way.
//! One attached thread that rarely reaches a safepoint therefore delays
//! every such free, and the garbage waiting meanwhile grows with it.
//!
//! This module measures both with three threads:
//!
//! * the **producer** (the caller, attached) makes [`Stamped`] objects and
//!   sends them to a [`Consumer`], reaching a safepoint every
//!   [`SAFEPOINT_EVERY`] objects;
//! * the **consumer** drops each one; its [`LastDrop`] wrapper writes the
//!   time of the drop into the object just before the handle goes;
//! * the **straggler** ([`Straggler`]), attached, clones and drops a shared
//!   handle and reaches a safepoint only every `K` of those operations.
//!
//! [`Stamped`]'s destructor runs at the free, on whichever thread applies
//! the last decrement, and records the time since the drop stamp
//! ([`take_delays`]).
//!
//! [`Deferred`]: brisk_gc::Deferred
//! [`Consumer`]: super::producer_consumer::Consumer
//! [`SAFEPOINT_EVERY`]: super::clone_drop::SAFEPOINT_EVERY

use std::hint::black_box;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use brisk_gc::Deferred;
use brisk_refcount::Brc;

use super::garbage::{clock_ns, safepoint_and_sample};

/// Delays from drop stamp to free, in nanoseconds, not yet taken.
static DELAYS: Mutex<Vec<u64>> = Mutex::new(Vec::new());
/// Frees recorded since the process started.
static FREED: AtomicUsize = AtomicUsize::new(0);

/// The payload: 32 bytes, the first eight the time of its last drop.
pub struct Stamped {
    dropped_at: AtomicU64,
    _rest: [u64; 3],
}

impl Stamped {
    /// A payload not dropped yet.
    pub fn new(i: u64) -> Self {
        Stamped {
            dropped_at: AtomicU64::new(0),
            _rest: [i; 3],
        }
    }
}

impl Drop for Stamped {
    /// The free: records the time since the drop stamp.
    fn drop(&mut self) {
        // Acquire pairs with the stamp's Release; the free is ordered after
        // the last drop anyway (through the epoch and the owner's queue).
        let at = self.dropped_at.load(Ordering::Acquire);
        let delay = clock_ns().saturating_sub(at);
        DELAYS
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(delay);
        FREED.fetch_add(1, Ordering::Relaxed);
    }
}

/// The only handle of a [`Stamped`] object: dropping it stamps the time,
/// then drops the handle.
pub struct LastDrop(pub Brc<Stamped, Deferred>);

impl LastDrop {
    /// A new object, owned by the calling thread.
    pub fn new(i: u64) -> Self {
        LastDrop(Brc::new_with_policy(Stamped::new(i)))
    }
}

impl Drop for LastDrop {
    fn drop(&mut self) {
        self.0.dropped_at.store(clock_ns(), Ordering::Release);
        // The field, the last handle, is dropped right after this.
    }
}

/// Takes every delay recorded since the last call, in nanoseconds.
pub fn take_delays() -> Vec<u64> {
    std::mem::take(&mut *DELAYS.lock().unwrap_or_else(PoisonError::into_inner))
}

/// How many [`Stamped`] objects were freed since the process started.
pub fn freed() -> usize {
    FREED.load(Ordering::Relaxed)
}

/// What a [`Straggler`] did.
#[derive(Copy, Clone, Debug, Default)]
pub struct StragglerStats {
    /// Safepoints reached.
    pub safepoints: u64,
    /// How long it ran.
    pub elapsed: Duration,
}

impl StragglerStats {
    /// The mean time between two safepoints.
    pub fn mean_interval(&self) -> Duration {
        self.elapsed / u32::try_from(self.safepoints.max(1)).unwrap_or(u32::MAX)
    }
}

/// An attached thread that reaches a safepoint only every `every`
/// operations, an operation being a clone and drop of a handle another
/// thread made (buffered, as a mutator's counting of a shared object is).
pub struct Straggler {
    stop: Arc<AtomicBool>,
    thread: JoinHandle<StragglerStats>,
}

impl Straggler {
    /// Starts the thread on a clone of `shared`.
    pub fn spawn(shared: &Brc<u64, Deferred>, every: u64) -> Self {
        let stop = Arc::new(AtomicBool::new(false));
        let handle = shared.clone();
        let thread = {
            let stop = stop.clone();
            thread::spawn(move || {
                let attached = brisk_gc::attach();
                let mut stats = StragglerStats::default();
                let start = Instant::now();
                while !stop.load(Ordering::Relaxed) {
                    for _ in 0..every {
                        drop(black_box(handle.clone()));
                    }
                    safepoint_and_sample();
                    stats.safepoints += 1;
                }
                stats.elapsed = start.elapsed();
                drop(handle);
                drop(attached);
                stats
            })
        };
        Straggler { stop, thread }
    }

    /// Stops and joins the thread.
    pub fn stop(self) -> StragglerStats {
        self.stop.store(true, Ordering::Relaxed);
        self.thread.join().expect("the straggler panicked")
    }
}
