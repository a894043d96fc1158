//! Loom model of what the cycle collector relies on from stop-the-world:
//! counts that mutators wrote before parking or detaching are the counts it
//! reads.
//!
//! Run with
//!
//! ```text
//! RUSTFLAGS="--cfg loom" LOOM_MAX_PREEMPTIONS=2 CARGO_TARGET_DIR=/work/target-loomrt \
//!     cargo test -p brisk-runtime --release --test loom_collect
//! ```
//!
//! A mutator's reference-count writes are Relaxed stores (the owner's
//! `local`, a flushed buffer's `shared`). The collector reads them with
//! Relaxed loads while the world is stopped and computes `gc_refs` from
//! them; an increment it failed to see would make a live object look like
//! garbage. The model: an attached mutator applies an increment (a Relaxed
//! store), reaches a safepoint, applies another, and detaches (as
//! `blocking` or thread exit does). The collector stops the world and reads
//! the count twice. In every interleaving it must see at least the first
//! increment (the mutator cannot have parked or detached without making it)
//! and the same value both times (nobody counts while the world is stopped).

#![cfg(loom)]

use loom::sync::atomic::AtomicUsize;
use loom::sync::atomic::Ordering::Relaxed;
use loom::sync::Arc;
use loom::thread;

use brisk_runtime::stw::StopTheWorld;

#[test]
fn collector_sees_counts_written_before_park_or_detach() {
    loom::model(|| {
        let stw = Arc::new(StopTheWorld::new());
        // The object starts with one reference; the mutator adds two.
        let count = Arc::new(AtomicUsize::new(1));
        // Attached before the collector can request a stop, as a mutator
        // that is running when the collection starts.
        stw.attach();
        let mutator = {
            let (stw, count) = (Arc::clone(&stw), Arc::clone(&count));
            thread::spawn(move || {
                count.store(2, Relaxed);
                if stw.is_requested() {
                    stw.park();
                }
                count.store(3, Relaxed);
                stw.detach();
            })
        };
        let stopped = stw.stop(false);
        let seen = count.load(Relaxed);
        assert!(
            seen >= 2,
            "the collector missed an increment made before the park"
        );
        thread::yield_now();
        assert_eq!(count.load(Relaxed), seen, "a count changed while stopped");
        drop(stopped);
        mutator.join().unwrap();
    });
}
