//! What every loom model shares: a payload that counts its drops and checks
//! that every use happens-before its destruction, and the model runner.
//!
//! The counter is a loom atomic behind a loom `Arc`, created inside the
//! model, so each execution starts from zero. A second drop panics on the
//! spot; [`check`] fails an execution that never drops. The payload also
//! holds a loom `UnsafeCell` that
//! [`Payload::touch`] reads and `Drop` writes: if a thread's use of the
//! object does not happen-before the free (a missing Release/Acquire pair in
//! the protocol), loom reports a causality violation.

use loom::cell::UnsafeCell;
use loom::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use loom::sync::Arc;

/// Counts the drops of the payloads made from it.
#[derive(Clone, Default)]
pub struct Drops(Arc<AtomicUsize>);

impl Drops {
    /// A payload that bumps this counter when dropped.
    pub fn payload(&self) -> Payload {
        Payload {
            drops: Arc::clone(&self.0),
            value: UnsafeCell::new(0),
        }
    }

    /// How many payloads have been dropped so far.
    pub fn count(&self) -> usize {
        self.0.load(SeqCst)
    }
}

/// The value inside the models' objects.
pub struct Payload {
    drops: Arc<AtomicUsize>,
    /// Read by `touch`, written by `drop`; loom tracks the causality.
    value: UnsafeCell<u64>,
}

// SAFETY: `value` is only read through `&self` (`touch`) and only written
// in `drop`, which has the payload to itself; loom checks that every read
// happens-before that write.
unsafe impl Sync for Payload {}

impl Payload {
    /// Reads the payload, as a user of the object would.
    pub fn touch(&self) {
        // SAFETY: a shared read; the only write is in `drop`.
        let value = self.value.with(|value| unsafe { *value });
        assert_eq!(value, 0, "payload used after drop");
    }
}

impl Drop for Payload {
    fn drop(&mut self) {
        // SAFETY: `drop` has the payload to itself.
        self.value.with_mut(|value| unsafe { *value = 1 });
        let before = self.drops.fetch_add(1, SeqCst);
        assert_eq!(before, 0, "payload dropped twice");
    }
}

/// Runs `model` under every interleaving loom reaches, with at most two
/// preemptions per execution unless `LOOM_MAX_PREEMPTIONS` says otherwise.
///
/// After `model` returns, waits until every thread that registered has run
/// its exit path (loom runs a thread's thread-local destructors after its
/// `join` has returned, and the exit path must finish before the model's
/// statics are torn down), then asserts that the payload counted by the
/// returned [`Drops`] was dropped exactly once (a leak fails here, a double
/// drop already failed in `Payload::drop`).
#[allow(dead_code)] // `loom_weak.rs` uses `check_then` alone
pub fn check(model: impl Fn() -> Drops + Sync + Send + 'static) {
    check_then(model, || {});
}

/// [`check`], with `after` run at the end of each execution, once every
/// registered thread has run its exit path: for properties of what the
/// protocol freed (`loom_weak.rs` counts the freed blocks there).
#[allow(dead_code)] // not every model file uses it
pub fn check_then(
    model: impl Fn() -> Drops + Sync + Send + 'static,
    after: impl Fn() + Sync + Send + 'static,
) {
    let mut builder = loom::model::Builder::new();
    if builder.preemption_bound.is_none() {
        builder.preemption_bound = Some(2);
    }
    builder.check(move || {
        let drops = model();
        while brisk_refcount::thread::registered_count() > 0 {
            loom::thread::yield_now();
        }
        assert_eq!(drops.count(), 1, "payload not dropped exactly once");
        after();
    });
}
