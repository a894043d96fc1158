//! The peak of the deferred work the epoch domain holds.
//!
//! Under `Deferred`, a non-owner's net decrements wait one epoch in a batch
//! before they are applied ([`brisk_gc::garbage`] counts them). The measured
//! loops sample that figure after each safepoint and keep the largest value
//! seen since the last [`Peak::reset`]. A clone+drop pair nets to zero in
//! the coalescing buffer, so those loops should defer nothing: a non-zero
//! peak there means work reached an epoch batch that coalescing should have
//! cancelled. The producer/consumer loops do defer one decrement per object.

use std::sync::atomic::{AtomicUsize, Ordering::Relaxed};

use brisk_gc::Garbage;

/// The largest pending garbage seen since the last [`Peak::reset`],
/// process-wide.
pub struct Peak;

static PEAK_OBJECTS: AtomicUsize = AtomicUsize::new(0);
static PEAK_BYTES: AtomicUsize = AtomicUsize::new(0);
static PEAK_RETIRED: AtomicUsize = AtomicUsize::new(0);

impl Peak {
    /// Forgets the peak.
    pub fn reset() {
        PEAK_OBJECTS.store(0, Relaxed);
        PEAK_BYTES.store(0, Relaxed);
        PEAK_RETIRED.store(0, Relaxed);
    }

    /// Folds the domain's current garbage into the peak: one load per
    /// counter, an RMW only on a new maximum.
    pub fn sample() {
        let now = brisk_gc::garbage();
        for (peak, value) in [
            (&PEAK_OBJECTS, now.deferred_objects),
            (&PEAK_BYTES, now.deferred_bytes),
            (&PEAK_RETIRED, now.retired_objects),
        ] {
            if value > peak.load(Relaxed) {
                peak.fetch_max(value, Relaxed);
            }
        }
    }

    /// The peak so far, each field's maximum on its own.
    pub fn get() -> Garbage {
        Garbage {
            deferred_objects: PEAK_OBJECTS.load(Relaxed),
            deferred_bytes: PEAK_BYTES.load(Relaxed),
            retired_objects: PEAK_RETIRED.load(Relaxed),
        }
    }

    /// Prints the peak on stderr, after the line `id`.
    pub fn report(id: &str) {
        let peak = Peak::get();
        eprintln!(
            "{id}: peak pending garbage {} deferred objects, {} bytes, {} retired",
            peak.deferred_objects, peak.deferred_bytes, peak.retired_objects,
        );
    }
}

/// A safepoint on an attached thread, then a garbage sample.
#[inline(never)] // keep the slow path out of the measured loops
pub fn safepoint_and_sample() {
    brisk_gc::safepoint();
    Peak::sample();
}

/// Receives from `rx`; with `GC` (an attached thread), detached while it
/// waits ([`brisk_gc::blocking`]), so a waiting thread never holds the
/// epoch back. `None` once the channel is closed.
pub fn recv<T, const GC: bool>(rx: &crossbeam_channel::Receiver<T>) -> Option<T> {
    if GC {
        brisk_gc::blocking(|| rx.recv().ok())
    } else {
        rx.recv().ok()
    }
}

/// Applies what `Deferred` runs left behind, so the next run starts from an
/// empty domain; returns what is still left (another attached thread's pin
/// can hold some).
pub fn settle() -> Garbage {
    brisk_gc::safepoint();
    brisk_gc::collect(1000)
}
