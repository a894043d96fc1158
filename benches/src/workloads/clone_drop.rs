//! One thread clones and drops a handle: the per-operation cost.
//!
//! The BRC paper's Table 7 (Choi, Shull, Torrellas, PACT 2018) prices one
//! reference-count operation on each path. Here one *pair* is a clone and
//! the drop of that clone, on a handle that stays alive throughout, so the
//! count never reaches zero and nothing is freed: only the counting paths
//! are timed.
//!
//! * On the owner, `Brc<Biased>` and `Brc<Deferred>` take the plain
//!   load-and-store path that `Rc` takes, after an owner check;
//!   `LocalBrc` makes that check once, outside the loop.
//! * On a thread that did not make the object ([`MadeElsewhere`]),
//!   `Brc<Biased>` pays one uncontended atomic per operation, as `Arc`
//!   does, and `Brc<Deferred>` on an attached thread records each operation
//!   in the thread's coalescing buffer, where a pair nets to zero.
//!
//! `black_box` on each clone makes the increment reach memory before the
//! drop reads it back, so a pair can be neither fused nor removed.

use std::hint::black_box;
use std::sync::mpsc;
use std::sync::{Arc, Barrier};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use super::garbage::safepoint_and_sample;

/// Clone+drop pairs per batch, so that the caller's own loop is a small
/// part of what is timed.
pub const BATCH: u64 = 64;

/// Clone+drop pairs between two safepoints on an attached thread (2048
/// counting operations): roughly how often an interpreter checks its eval
/// breaker (`brisk_runtime::SAFEPOINT_PERIOD` is 1024 ticks).
pub const SAFEPOINT_EVERY: u64 = 1024;

/// Clones and drops `handle` [`BATCH`] times.
#[inline(always)]
pub fn clone_drop_batch<T: Clone>(handle: &T) {
    for _ in 0..BATCH {
        drop(black_box(handle.clone()));
    }
}

/// Runs `batches` batches of [`clone_drop_batch`] and returns the time
/// taken. With `GC` the thread must be attached
/// ([`brisk_gc::attach`]); it then reaches a safepoint (and samples the
/// pending garbage, [`super::garbage::Peak`]) every [`SAFEPOINT_EVERY`]
/// pairs, and the time includes those safepoints.
pub fn timed_batches<T: Clone, const GC: bool>(handle: &T, batches: u64) -> Duration {
    const BATCHES_PER_SAFEPOINT: u64 = SAFEPOINT_EVERY / BATCH;
    let t0 = Instant::now();
    for i in 0..batches {
        clone_drop_batch(handle);
        if GC && i % BATCHES_PER_SAFEPOINT == BATCHES_PER_SAFEPOINT - 1 {
            safepoint_and_sample();
        }
    }
    t0.elapsed()
}

/// The variants [`pairs_in_this_process`] runs, by name: `Rc`, `Arc`, and
/// `Brc` under each policy, on the owner and (for the owner-biased
/// policies) on a non-owner, and the owner-proven `LocalBrc`.
pub const PAIR_VARIANTS: [&str; 10] = [
    "Rc",
    "Arc",
    "Brc<NonAtomic>",
    "Brc<Atomic>",
    "Brc<Biased> owner",
    "Brc<Deferred> owner",
    "Brc<Biased> non-owner",
    "Brc<Deferred> non-owner",
    "LocalBrc<Biased>",
    "LocalBrc<Deferred>",
];

/// Runs `batches` batches of clone+drop pairs of `variant` (one of
/// [`PAIR_VARIANTS`]) on a fresh object, set up as `per_op` sets it up:
/// the thread attached, a non-owner's object made on another live thread,
/// the deferred non-owner reaching a safepoint every [`SAFEPOINT_EVERY`]
/// pairs. With zero batches only the set-up runs, so that a count of
/// instructions with and without the pairs isolates them.
pub fn pairs_in_this_process(variant: &str, batches: u64) -> Result<(), String> {
    use brisk_gc::Deferred;
    use brisk_refcount::{owner_scope, Atomic, Brc, NonAtomic};

    let _attached = brisk_gc::attach();
    match variant {
        "Rc" => {
            timed_batches::<_, false>(&std::rc::Rc::new(0u64), batches);
        }
        "Arc" => {
            timed_batches::<_, false>(&Arc::new(0u64), batches);
        }
        "Brc<NonAtomic>" => {
            timed_batches::<_, false>(&Brc::<u64, NonAtomic>::new_with_policy(0), batches);
        }
        "Brc<Atomic>" => {
            timed_batches::<_, false>(&Brc::<u64, Atomic>::new_with_policy(0), batches);
        }
        "Brc<Biased> owner" => {
            timed_batches::<_, false>(&Brc::new(0u64), batches);
        }
        "Brc<Deferred> owner" => {
            timed_batches::<_, false>(&Brc::<u64, Deferred>::new_with_policy(0), batches);
        }
        "LocalBrc<Biased>" => owner_scope(|scope| {
            let local = scope.localize(Brc::new(0u64)).expect("made here");
            timed_batches::<_, false>(&local, batches);
        }),
        "LocalBrc<Deferred>" => owner_scope(|scope| {
            let local = scope.localize(Brc::<u64, Deferred>::new_with_policy(0));
            timed_batches::<_, false>(&local.expect("made here"), batches);
        }),
        "Brc<Biased> non-owner" => {
            let other = MadeElsewhere::new(|| Brc::new(0u64));
            timed_batches::<_, false>(&other.handle, batches);
            other.finish();
        }
        "Brc<Deferred> non-owner" => {
            let other = MadeElsewhere::new(|| Brc::<u64, Deferred>::new_with_policy(0));
            timed_batches::<_, true>(&other.handle, batches);
            other.finish();
        }
        _ => {
            return Err(format!(
                "no variant {variant:?}; one of {}",
                PAIR_VARIANTS.join(", ")
            ))
        }
    }
    Ok(())
}

/// A handle made on a thread that stays alive, holding its own reference,
/// until [`MadeElsewhere::finish`]. For `Brc` that thread is the owner, so
/// [`MadeElsewhere::handle`] is a non-owner's handle.
pub struct MadeElsewhere<T> {
    /// The non-owner's handle.
    pub handle: T,
    release: Arc<Barrier>,
    maker: JoinHandle<()>,
}

impl<T: Clone + Send + 'static> MadeElsewhere<T> {
    /// Makes the object with `make` on a new thread and hands a clone here.
    pub fn new(make: fn() -> T) -> Self {
        let release = Arc::new(Barrier::new(2));
        let (tx, rx) = mpsc::channel();
        let maker = thread::spawn({
            let release = Arc::clone(&release);
            move || {
                let own = make();
                tx.send(own.clone())
                    .expect("the caller waits for the handle");
                release.wait();
                drop(own);
            }
        });
        let handle = rx.recv().expect("the maker sends a handle");
        MadeElsewhere {
            handle,
            release,
            maker,
        }
    }

    /// Drops our handle while the maker is alive (a `Brc` then queues to
    /// it), then lets the maker drop its own and exit (draining its queue).
    pub fn finish(self) {
        drop(self.handle);
        self.release.wait();
        self.maker.join().expect("the maker thread panicked");
    }
}

#[cfg(test)]
mod tests {
    use super::{pairs_in_this_process, PAIR_VARIANTS};

    #[test]
    fn every_pair_variant_runs_and_an_unknown_one_is_an_error() {
        for variant in PAIR_VARIANTS {
            for batches in [0, 2] {
                assert_eq!(pairs_in_this_process(variant, batches), Ok(()), "{variant}");
            }
        }
        let unknown = pairs_in_this_process("Box", 1).unwrap_err();
        assert!(unknown.starts_with("no variant \"Box\""), "{unknown}");
    }
}
