//! Several threads clone and drop one hot object at once.
//!
//! The object stands for what every thread of an interpreter touches: a
//! type, a builtin function, a shared dictionary. The calling thread made it
//! (for `Brc`, it is the owner) and the [`Crew`]'s helpers are non-owners.
//! All threads start together, each runs the same number of clone+drop
//! pairs, and the time runs until the last one is done.
//!
//! * `Arc` and `Brc<Atomic>`: every operation is an atomic RMW on one cache
//!   line, which bounces between cores.
//! * `Brc<Biased>`: the owner's operations are plain; each helper's are
//!   atomic on the shared half, so the helpers still contend.
//! * `Brc<Deferred>`: every thread is attached; a helper's pairs cancel in
//!   its coalescing buffer and touch no shared memory. Each thread reaches
//!   a safepoint every [`SAFEPOINT_EVERY`] pairs, counted in the time.

use std::hint::black_box;
use std::sync::{Arc, Barrier};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use crossbeam_channel::{bounded, Sender};

use super::clone_drop::SAFEPOINT_EVERY;
use super::garbage::{recv, safepoint_and_sample};

/// Clones and drops `handle` `pairs` times; with `GC` (an attached thread),
/// reaches a safepoint after every [`SAFEPOINT_EVERY`] pairs. The pairs run
/// in chunks of that size with the safepoint outside the inner loop, so the
/// loop's code is the same with and without `GC` (a call inside it costs
/// every policy a register reload per pair).
#[inline(always)]
pub fn clone_drop_loop<T: Clone, const GC: bool>(handle: &T, pairs: u64) {
    let mut left = pairs;
    while left > 0 {
        let chunk = left.min(SAFEPOINT_EVERY);
        for _ in 0..chunk {
            drop(black_box(handle.clone()));
        }
        left -= chunk;
        if GC && chunk == SAFEPOINT_EVERY {
            safepoint_and_sample();
        }
    }
}

/// Helper threads that clone and drop their own handles to a shared object
/// as many times as the calling thread does, starting and ending together.
/// With `GC` each helper is attached, and waits for work detached
/// ([`brisk_gc::blocking`]) so that it never holds the epoch back.
pub struct Crew {
    rounds: Vec<Sender<u64>>,
    start: Arc<Barrier>,
    done: Arc<Barrier>,
    threads: Vec<JoinHandle<()>>,
}

impl Crew {
    /// Starts `helpers` threads, each with a clone of `handle`.
    pub fn spawn<T: Clone + Send + 'static, const GC: bool>(handle: &T, helpers: usize) -> Self {
        let start = Arc::new(Barrier::new(helpers + 1));
        let done = Arc::new(Barrier::new(helpers + 1));
        let mut rounds = Vec::with_capacity(helpers);
        let mut threads = Vec::with_capacity(helpers);
        for _ in 0..helpers {
            let (tx, rx) = bounded::<u64>(1);
            let handle = handle.clone();
            let (start, done) = (Arc::clone(&start), Arc::clone(&done));
            threads.push(thread::spawn(move || {
                let attached = GC.then(brisk_gc::attach);
                let next = || recv::<_, GC>(&rx);
                while let Some(pairs) = next() {
                    start.wait();
                    clone_drop_loop::<T, GC>(&handle, pairs);
                    done.wait();
                }
                // Under `Deferred`, buffered: flushed by the detach below.
                drop(handle);
                drop(attached);
            }));
            rounds.push(tx);
        }
        Crew {
            rounds,
            start,
            done,
            threads,
        }
    }

    /// Every thread, the caller included, clones and drops `pairs` times;
    /// returns the time until all are done. With `GC` the caller must be
    /// attached.
    pub fn run<T: Clone, const GC: bool>(&self, handle: &T, pairs: u64) -> Duration {
        for tx in &self.rounds {
            tx.send(pairs).expect("a helper thread exited early");
        }
        self.start.wait();
        let t0 = Instant::now();
        clone_drop_loop::<T, GC>(handle, pairs);
        self.done.wait();
        t0.elapsed()
    }

    /// Threads counting at once, the caller included.
    pub fn threads(&self) -> usize {
        self.threads.len() + 1
    }

    /// Stops and joins the helpers; they drop their handles on the way out.
    pub fn stop(self) {
        drop(self.rounds);
        for thread in self.threads {
            thread.join().expect("a helper thread panicked");
        }
    }
}
