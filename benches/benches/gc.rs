//! What does deferred reconciliation buy? `Brc<Deferred>` against `Rc`,
//! `Arc` and `Brc<Biased>`.
//!
//! Each group answers one question from `DESIGN.md`, "Deferred
//! reconciliation"; each line in a group is one implementation, named by its
//! type.
//!
//! * `clone_drop/*/owner`: clone and drop a handle on the thread that made
//!   it. `Deferred` keeps the biased owner path, so it should cost what
//!   `Brc<Biased>` costs, close to `Rc`.
//! * `clone_drop/*/non_owner`: the same on one thread that did not make it,
//!   alone: `Arc` and `Brc<Biased>` pay an uncontended atomic per operation,
//!   `Brc<Deferred>` records in the thread's coalescing buffer and reaches a
//!   safepoint every [`SAFEPOINT_EVERY`] pairs.
//! * `contended/*/2_threads`: the owner and one other thread clone and drop
//!   one object at once. For `Brc<Deferred>` both threads are attached and
//!   both reach a safepoint every [`SAFEPOINT_EVERY`] pairs; the time
//!   includes those safepoints.
//!
//! The time of one iteration covers [`BATCH`] clone+drop pairs in
//! `clone_drop` and one pair on each thread in `contended`; criterion's
//! throughput line gives the per-element rate.
//!
//! Criterion has no custom metrics, so the peak of the deferred work the
//! epoch domain held ([`brisk_gc::garbage`], sampled after every safepoint
//! of the measured loops) is printed on stderr after each `Brc<Deferred>`
//! line that reaches safepoints. A clone+drop pair nets to zero in the
//! coalescing buffer, so these loops defer nothing: a non-zero peak means
//! work reached an epoch batch that coalescing should have cancelled.

use std::hint::black_box;
use std::sync::atomic::{AtomicUsize, Ordering::Relaxed};
use std::sync::mpsc;
use std::sync::{Arc, Barrier};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use brisk_gc::Deferred;
use brisk_refcount::Brc;
use criterion::measurement::WallTime;
use criterion::{criterion_main, BenchmarkGroup, BenchmarkId, Criterion, Throughput};
use crossbeam_channel::{bounded, Sender};

/// Clone+drop pairs per iteration in `clone_drop`, as in `refcount.rs`.
const BATCH: u64 = 64;

/// Clone+drop pairs between two safepoints on an attached thread (2048
/// counting operations): roughly how often an interpreter checks its eval
/// breaker.
const SAFEPOINT_EVERY: u64 = 1024;

/// Clones and drops `handle` [`BATCH`] times. `black_box` on each clone
/// makes the increment reach memory before the drop reads it back, so the
/// pair can be neither fused nor removed.
#[inline(always)]
fn clone_drop_batch<T: Clone>(handle: &T) {
    for _ in 0..BATCH {
        drop(black_box(handle.clone()));
    }
}

/// The largest pending garbage seen since the last [`Peak::reset`].
struct Peak;

static PEAK_OBJECTS: AtomicUsize = AtomicUsize::new(0);
static PEAK_BYTES: AtomicUsize = AtomicUsize::new(0);
static PEAK_RETIRED: AtomicUsize = AtomicUsize::new(0);

impl Peak {
    fn reset() {
        PEAK_OBJECTS.store(0, Relaxed);
        PEAK_BYTES.store(0, Relaxed);
        PEAK_RETIRED.store(0, Relaxed);
    }

    /// Folds the domain's current garbage into the peak. Called after each
    /// safepoint: one load per counter, an RMW only on a new maximum.
    fn sample() {
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

    /// Prints the peak seen by the samples taken during the measurement
    /// (not the set-up's or the tear-down's deferred decrements).
    fn report(id: &str) {
        eprintln!(
            "{id}: peak pending garbage {} deferred objects, {} bytes, {} retired",
            PEAK_OBJECTS.load(Relaxed),
            PEAK_BYTES.load(Relaxed),
            PEAK_RETIRED.load(Relaxed),
        );
    }
}

/// A safepoint on an attached thread, then a garbage sample.
#[inline(never)] // keep the slow path out of the measured loops
fn safepoint_and_sample() {
    brisk_gc::safepoint();
    Peak::sample();
}

/// Runs `iters` batches of [`clone_drop_batch`]; with `GC`, reaches a
/// safepoint every [`SAFEPOINT_EVERY`] pairs. Returns the time taken.
fn timed_batches<T: Clone, const GC: bool>(handle: &T, iters: u64) -> Duration {
    const BATCHES_PER_SAFEPOINT: u64 = SAFEPOINT_EVERY / BATCH;
    let t0 = Instant::now();
    for i in 0..iters {
        clone_drop_batch(handle);
        if GC && i % BATCHES_PER_SAFEPOINT == BATCHES_PER_SAFEPOINT - 1 {
            safepoint_and_sample();
        }
    }
    t0.elapsed()
}

/// The owner path never consults the mutator, so it runs without
/// safepoints: the fast path alone, as for `Rc`.
fn bench_clone_drop_owner<T: Clone>(
    group: &mut BenchmarkGroup<'_, WallTime>,
    name: &str,
    handle: T,
) {
    group.bench_function(BenchmarkId::new(name, "owner"), |b| {
        b.iter_custom(|iters| timed_batches::<T, false>(&handle, iters))
    });
}

/// A handle made on a thread that stays alive, holding its own reference,
/// until this value is dropped. For `Brc` that thread is the owner, so the
/// handle here is a non-owner's.
struct MadeElsewhere<T> {
    handle: T,
    release: Arc<Barrier>,
    maker: JoinHandle<()>,
}

impl<T: Clone + Send + 'static> MadeElsewhere<T> {
    fn new(make: fn() -> T) -> Self {
        let release = Arc::new(Barrier::new(2));
        let (tx, rx) = mpsc::channel();
        let maker = thread::spawn({
            let release = Arc::clone(&release);
            move || {
                let own = make();
                tx.send(own.clone()).unwrap();
                release.wait();
                drop(own);
            }
        });
        let handle = rx.recv().unwrap();
        MadeElsewhere {
            handle,
            release,
            maker,
        }
    }

    /// Drops our handle while the maker is alive, then lets the maker drop
    /// its own and exit.
    fn finish(self) {
        drop(self.handle);
        self.release.wait();
        self.maker.join().unwrap();
    }
}

fn bench_clone_drop_non_owner<T: Clone + Send + 'static, const GC: bool>(
    group: &mut BenchmarkGroup<'_, WallTime>,
    name: &str,
    make: fn() -> T,
) {
    let made = MadeElsewhere::new(make);
    group.bench_function(BenchmarkId::new(name, "non_owner"), |b| {
        b.iter_custom(|iters| timed_batches::<T, GC>(&made.handle, iters))
    });
    made.finish();
}

/// Applies what the `Deferred` runs left behind, so the next run starts
/// from an empty domain.
fn settle() {
    brisk_gc::safepoint();
    let left = brisk_gc::collect(1000);
    if !left.is_empty() {
        eprintln!("gc: garbage left after a Deferred run: {left:?}");
    }
}

fn clone_drop(c: &mut Criterion) {
    // The bench thread is a mutator for the whole group: `Deferred` records
    // its non-owner operations only on an attached thread.
    let attached = brisk_gc::attach();
    let mut group = c.benchmark_group("clone_drop");
    group.throughput(Throughput::Elements(BATCH));

    bench_clone_drop_owner(&mut group, "Rc", std::rc::Rc::new(0u64));
    bench_clone_drop_owner(&mut group, "Brc<Biased>", Brc::new(0u64));
    // No safepoints on the owner path, so no garbage samples either.
    bench_clone_drop_owner(&mut group, "Brc<Deferred>", Brc::<u64, Deferred>::new_in(0));

    bench_clone_drop_non_owner::<_, false>(&mut group, "Arc", || Arc::new(0u64));
    bench_clone_drop_non_owner::<_, false>(&mut group, "Brc<Biased>", || Brc::new(0u64));
    Peak::reset();
    bench_clone_drop_non_owner::<_, true>(&mut group, "Brc<Deferred>", || {
        Brc::<u64, Deferred>::new_in(0)
    });
    Peak::report("clone_drop/Brc<Deferred>/non_owner");
    settle();

    group.finish();
    drop(attached);
}

/// A second thread that clones and drops its own handle to a shared object
/// as many times as the bench thread does, starting and ending together.
/// With `GC` it is attached, reaches a safepoint every [`SAFEPOINT_EVERY`]
/// pairs, and waits for work detached ([`brisk_gc::blocking`]).
struct Hammer {
    rounds: Sender<u64>,
    start: Arc<Barrier>,
    done: Arc<Barrier>,
    thread: JoinHandle<()>,
}

/// Clones and drops `handle` `iters` times; with `GC`, reaches a safepoint
/// every [`SAFEPOINT_EVERY`] pairs.
#[inline(always)]
fn clone_drop_loop<T: Clone, const GC: bool>(handle: &T, iters: u64) {
    for i in 0..iters {
        drop(black_box(handle.clone()));
        if GC && i % SAFEPOINT_EVERY == SAFEPOINT_EVERY - 1 {
            safepoint_and_sample();
        }
    }
}

impl Hammer {
    fn spawn<T: Clone + Send + 'static, const GC: bool>(handle: T) -> Self {
        let (rounds, rx) = bounded::<u64>(1);
        let start = Arc::new(Barrier::new(2));
        let done = Arc::new(Barrier::new(2));
        let thread = thread::spawn({
            let (start, done) = (Arc::clone(&start), Arc::clone(&done));
            move || {
                let attached = GC.then(brisk_gc::attach);
                let next = || {
                    if GC {
                        brisk_gc::blocking(|| rx.recv().ok())
                    } else {
                        rx.recv().ok()
                    }
                };
                while let Some(iters) = next() {
                    start.wait();
                    clone_drop_loop::<T, GC>(&handle, iters);
                    done.wait();
                }
                // Buffered: flushed by the detach below.
                drop(handle);
                drop(attached);
            }
        });
        Hammer {
            rounds,
            start,
            done,
            thread,
        }
    }

    /// Both threads clone and drop `iters` times; returns the time until
    /// both are done.
    fn run<T: Clone, const GC: bool>(&self, handle: &T, iters: u64) -> Duration {
        self.rounds.send(iters).unwrap();
        self.start.wait();
        let t0 = Instant::now();
        clone_drop_loop::<T, GC>(handle, iters);
        self.done.wait();
        t0.elapsed()
    }

    fn stop(self) {
        drop(self.rounds);
        self.thread.join().unwrap();
    }
}

fn bench_contended<T: Clone + Send + 'static, const GC: bool>(
    group: &mut BenchmarkGroup<'_, WallTime>,
    name: &str,
    handle: T,
) {
    let hammer = Hammer::spawn::<T, GC>(handle.clone());
    group.bench_function(BenchmarkId::new(name, "2_threads"), |b| {
        b.iter_custom(|iters| hammer.run::<T, GC>(&handle, iters))
    });
    hammer.stop();
}

fn contended(c: &mut Criterion) {
    let attached = brisk_gc::attach();
    let mut group = c.benchmark_group("contended");
    // One iteration is one clone+drop on each thread.
    group.throughput(Throughput::Elements(2));
    bench_contended::<_, false>(&mut group, "Arc", Arc::new(0u64));
    // Made here, so the bench thread is the owner and the hammer is not.
    bench_contended::<_, false>(&mut group, "Brc<Biased>", Brc::new(0u64));
    // The hammer's last drop queued the object back to us.
    brisk_refcount::safepoint();
    Peak::reset();
    bench_contended::<_, true>(&mut group, "Brc<Deferred>", Brc::<u64, Deferred>::new_in(0));
    Peak::report("contended/Brc<Deferred>/2_threads");
    settle();
    group.finish();
    drop(attached);
}

fn config() -> Criterion {
    Criterion::default()
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2))
        .sample_size(20)
}

/// A private module, because `criterion_group!` makes an undocumented
/// `pub fn`.
mod group {
    criterion::criterion_group! {
        name = benches;
        config = super::config();
        targets = super::clone_drop, super::contended
    }
}
criterion_main!(group::benches);
