//! Objects made on one thread and dropped on another: the queue path.
//!
//! A producer makes objects and sends them, [`SEND_BATCH`] at a time, to a
//! [`Consumer`] thread that drops them. For `Arc` the consumer frees each
//! object. For `Brc<Biased>` the consumer's drop is a non-owner decrement
//! that finds the shared count at zero, so every object goes through its
//! owner's merge queue and is freed by the producer at its next safepoint
//! (every `Brc::new` is one). For `Brc<Deferred>` the consumer is attached:
//! its decrements are buffered, deferred one epoch at its safepoint, then
//! queued to the owner in the same way.

use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use crossbeam_channel::{bounded, Receiver, Sender};

use super::clone_drop::SAFEPOINT_EVERY;
use super::garbage::{recv, safepoint_and_sample};

/// Objects per message.
pub const SEND_BATCH: usize = 64;

enum Msg<T> {
    Batch(Vec<T>),
    /// Reply on the ack channel once everything before this is dropped.
    Sync,
}

/// A thread that drops every object it is sent. With `GC` it is attached
/// and reaches a safepoint every [`SAFEPOINT_EVERY`] objects and before it
/// acknowledges a [`Consumer::run`].
pub struct Consumer<T> {
    gc: bool,
    tx: Sender<Msg<T>>,
    acks: Receiver<()>,
    thread: JoinHandle<()>,
}

impl<T: Send + 'static> Consumer<T> {
    /// Starts the consumer thread.
    pub fn spawn<const GC: bool>() -> Self {
        // A short queue keeps the producer at most a few batches ahead, so
        // both threads run at once and memory stays flat.
        let (tx, rx) = bounded::<Msg<T>>(4);
        let (ack_tx, acks) = bounded(1);
        let thread = thread::spawn(move || {
            let attached = GC.then(brisk_gc::attach);
            let next = || recv::<_, GC>(&rx);
            let mut since_safepoint = 0;
            while let Some(msg) = next() {
                match msg {
                    Msg::Batch(objects) => {
                        since_safepoint += objects.len() as u64;
                        drop(objects);
                        if GC && since_safepoint >= SAFEPOINT_EVERY {
                            safepoint_and_sample();
                            since_safepoint = 0;
                        }
                    }
                    Msg::Sync => {
                        if GC {
                            safepoint_and_sample();
                            since_safepoint = 0;
                        }
                        ack_tx.send(()).expect("the producer waits for the ack");
                    }
                }
            }
            drop(attached);
        });
        Consumer {
            gc: GC,
            tx,
            acks,
            thread,
        }
    }

    /// Makes `n` objects here with `make` and has the consumer drop them;
    /// the time runs until every object is dropped and `settle` has run on
    /// this thread (the producer's merge of what was queued back to it).
    ///
    /// With `GC`, a producer that is attached reaches a safepoint every
    /// [`SAFEPOINT_EVERY`] objects too, as a mutator does: an attached
    /// thread that never reaches one holds the epoch back, and every
    /// deferred decrement with it.
    pub fn run(&self, n: u64, make: fn(u64) -> T, settle: fn()) -> Duration {
        let safepoints = self.gc && brisk_gc::is_attached();
        let t0 = Instant::now();
        let mut i = 0;
        let mut since_safepoint = 0;
        while i < n {
            let len = (n - i).min(SEND_BATCH as u64);
            let batch: Vec<T> = (i..i + len).map(make).collect();
            self.tx
                .send(Msg::Batch(batch))
                .expect("the consumer is alive");
            i += len;
            since_safepoint += len;
            if safepoints && since_safepoint >= SAFEPOINT_EVERY {
                safepoint_and_sample();
                since_safepoint = 0;
            }
        }
        self.tx.send(Msg::Sync).expect("the consumer is alive");
        self.acks.recv().expect("the consumer acks");
        settle();
        t0.elapsed()
    }

    /// Stops and joins the consumer.
    pub fn stop(self) {
        drop(self.tx);
        self.thread.join().expect("the consumer panicked");
    }
}
