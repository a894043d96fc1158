//! A program that installs an ordinary formatting subscriber at the most
//! verbose level must not abort when its threads exit.
//!
//! The libraries count and merge from thread-local destructors (a thread's
//! exit path merges its queue, a mutator flushes its buffer). A formatting
//! layer writes each event through a thread-local buffer of its own, which
//! may already be destroyed by then; an event raised there panics inside a
//! destructor, and the process aborts. This test is one process with one
//! global subscriber, so it has a single test function.

use std::sync::mpsc;

use brisk_runtime::{channel, Biased, Deferred, Runtime, RuntimePolicy, SendMode};

/// Every interpreter thread makes objects, hands some to the other
/// interpreter, drops the rest and exits with work still queued to it.
fn traffic<P: RuntimePolicy + 'static>() {
    let runtime = Runtime::<P>::new();
    let a = runtime.new_interpreter("a");
    let b = runtime.new_interpreter("b");
    let (tx, rx) = channel::<P>();
    let (done_tx, done_rx) = mpsc::channel();
    let producer = a.spawn(move |m| {
        for i in 0..64 {
            let item = m.tuple(vec![m.int(i), m.str("payload")]);
            m.freeze(&item).unwrap();
            let keep = item.clone();
            tx.send(m, item, SendMode::Share).unwrap();
            drop(keep);
        }
        // Exit only once the consumer has dropped what it received, so
        // those drops queue work to this thread's exit path.
        done_rx.recv().unwrap();
    });
    let consumer = b.spawn(move |m| {
        let mut held = Vec::new();
        for _ in 0..64 {
            held.push(rx.recv(m).unwrap());
        }
        drop(held);
        done_tx.send(()).unwrap();
    });
    consumer.join().unwrap();
    producer.join().unwrap();
}

#[test]
fn threads_exit_cleanly_under_a_formatting_subscriber() {
    tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_writer(std::io::sink)
        // No timestamps: Miri, which runs this test too, isolates the clock.
        .without_time()
        .init();
    traffic::<Biased>();
    traffic::<Deferred>();
    let _ = brisk_gc::collect(16);
}
