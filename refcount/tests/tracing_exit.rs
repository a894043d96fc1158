//! An embedder's formatting subscriber must never make a thread's exit
//! abort.
//!
//! A formatting layer writes each event through a thread-local buffer of
//! its own. When a thread exits, that buffer may be destroyed before
//! another thread-local whose destructor drops a counted object; if the
//! drop raises an event (a non-owner queueing the object to its owner),
//! the layer touches its destroyed buffer, panics inside a destructor, and
//! the process aborts. One process, one global subscriber: a single test.
#![cfg(not(loom))]

use std::cell::RefCell;

use brisk_refcount::Brc;

thread_local! {
    /// A user's thread-local holding another thread's object, dropped
    /// while the thread's thread-locals are torn down.
    static HELD: RefCell<Option<Brc<u64>>> = const { RefCell::new(None) };
    /// A user's thread-local whose destructor makes the thread's first
    /// object, so the thread registers (an event) during its teardown.
    static MAKES_ON_EXIT: MakesOnExit = const { MakesOnExit };
}

/// Makes and drops an object when dropped.
struct MakesOnExit;

impl Drop for MakesOnExit {
    fn drop(&mut self) {
        assert_eq!(*Brc::new(5u64), 5);
    }
}

#[test]
fn an_object_dropped_by_a_thread_local_destructor_does_not_abort_the_thread_exit() {
    tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_writer(std::io::sink)
        // No timestamps: Miri, which runs this test too, isolates the clock.
        .without_time()
        .init();
    let object = Brc::new(7u64);
    for _ in 0..4 {
        let copy = Brc::clone(&object);
        std::thread::spawn(move || {
            // The user's thread-local first, so it is destroyed last.
            HELD.with(|held| *held.borrow_mut() = Some(copy));
            // Then an event: the formatting layer makes its buffer now,
            // so it is destroyed before `HELD`.
            tracing::info!("worker running");
        })
        .join()
        .expect("the worker exits cleanly");
    }
    // The second case reaches an event: `catch_unwind` keeps the layer's
    // panic inside the destructor.
    std::thread::spawn(|| {
        MAKES_ON_EXIT.with(|_| ());
        tracing::info!("worker running");
    })
    .join()
    .expect("the worker exits cleanly");
    brisk_refcount::safepoint();
    assert_eq!(*object, 7);
}
