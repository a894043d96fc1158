//! The peak of the deferred work the epoch domain holds.
//!
//! Under `Deferred`, a non-owner's net decrements wait one epoch in a batch
//! before they are applied ([`brisk_gc::garbage`] counts them). The measured
//! loops sample that figure after each safepoint and keep the largest value
//! seen since the last [`Peak::reset`]. A clone+drop pair nets to zero in
//! the coalescing buffer, so those loops should defer nothing: a non-zero
//! peak there means work reached an epoch batch that coalescing should have
//! cancelled. The producer/consumer loops do defer one decrement per object.

use std::cell::Cell;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering::Relaxed};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use brisk_gc::Garbage;

/// The largest pending garbage seen since the last [`Peak::reset`],
/// process-wide.
pub struct Peak;

static PEAK_OBJECTS: AtomicUsize = AtomicUsize::new(0);
static PEAK_BATCHES: AtomicUsize = AtomicUsize::new(0);
static PEAK_BYTES: AtomicUsize = AtomicUsize::new(0);
static PEAK_RETIRED: AtomicUsize = AtomicUsize::new(0);

impl Peak {
    /// Forgets the peak.
    pub fn reset() {
        PEAK_OBJECTS.store(0, Relaxed);
        PEAK_BATCHES.store(0, Relaxed);
        PEAK_BYTES.store(0, Relaxed);
        PEAK_RETIRED.store(0, Relaxed);
    }

    /// Folds the domain's current garbage into the peak: one load per
    /// counter, an RMW only on a new maximum.
    pub fn sample() {
        let now = brisk_gc::garbage();
        for (peak, value) in [
            (&PEAK_OBJECTS, now.deferred_objects),
            (&PEAK_BATCHES, now.deferred_batches),
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
            deferred_batches: PEAK_BATCHES.load(Relaxed),
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

/// The longest time any thread went between two calls of
/// [`safepoint_and_sample`] while [`Gaps`] was on.
///
/// The epoch advances only once every attached thread has reached a
/// safepoint since the last advance, so the slowest thread's gap sets how
/// long deferred work waits. Off by default: a measured loop then pays one
/// load per safepoint for it. The gap includes the time a thread spent
/// detached between two safepoints (a consumer waiting on its channel), so
/// it bounds the time the thread held the epoch back from above.
pub struct Gaps;

/// The generation of the current tracking period; 0 while off.
static GAP_GENERATION: AtomicU64 = AtomicU64::new(0);
static NEXT_GAP_GENERATION: AtomicU64 = AtomicU64::new(1);
/// When the current period started, [`clock_ns`].
static GAPS_STARTED_NS: AtomicU64 = AtomicU64::new(0);
static LONGEST_GAP_NS: AtomicU64 = AtomicU64::new(0);

thread_local! {
    /// This thread's last sampled safepoint ([`clock_ns`]), and the
    /// generation it was in.
    static LAST_SAFEPOINT: Cell<(u64, u64)> = const { Cell::new((0, 0)) };
}

/// Nanoseconds since the first call in this process: a clock whose
/// readings fit in an atomic and compare across threads.
pub fn clock_ns() -> u64 {
    static ORIGIN: OnceLock<Instant> = OnceLock::new();
    let origin = *ORIGIN.get_or_init(Instant::now);
    u64::try_from(origin.elapsed().as_nanos()).unwrap_or(u64::MAX)
}

impl Gaps {
    /// Forgets the longest gap and starts tracking. A thread's first gap
    /// runs from this call to its first safepoint after it: a thread may
    /// have been pinned all along.
    pub fn start() {
        LONGEST_GAP_NS.store(0, Relaxed);
        GAPS_STARTED_NS.store(clock_ns(), Relaxed);
        GAP_GENERATION.store(NEXT_GAP_GENERATION.fetch_add(1, Relaxed), Relaxed);
    }

    /// Stops tracking and returns the longest gap seen since [`Gaps::start`].
    pub fn stop() -> Duration {
        GAP_GENERATION.store(0, Relaxed);
        Duration::from_nanos(LONGEST_GAP_NS.load(Relaxed))
    }

    #[cold]
    fn track(generation: u64) {
        let now = clock_ns();
        let (g, last) = LAST_SAFEPOINT.replace((generation, now));
        let since = if g == generation {
            last
        } else {
            GAPS_STARTED_NS.load(Relaxed)
        };
        LONGEST_GAP_NS.fetch_max(now.saturating_sub(since), Relaxed);
    }
}

/// A safepoint on an attached thread, then a garbage sample (and, while
/// [`Gaps`] is on, the time since this thread's last one).
#[inline(never)] // keep the slow path out of the measured loops
pub fn safepoint_and_sample() {
    brisk_gc::safepoint();
    Peak::sample();
    let generation = GAP_GENERATION.load(Relaxed);
    if generation != 0 {
        Gaps::track(generation);
    }
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
