//! What does a reference count cost? `Brc` against its peers.
//!
//! Each group answers one question from `DESIGN.md`; each line in a group is
//! one implementation, named by its type.
//!
//! * `clone_drop/*/owner`: clone and drop a handle on the thread that made
//!   it, the path biased counting makes as cheap as `Rc` (BRC, PACT 2018).
//! * `clone_drop/*/non_owner`: the same on a thread that did not make it,
//!   where `Brc` pays what `Arc` pays.
//! * `contended/*/2_threads`: the owner and one other thread clone and drop
//!   one object at once.
//! * `producer_consumer/*/batch_64`: objects made on one thread and dropped
//!   on another, which for `Brc` sends every object through its owner's
//!   merge queue.
//!
//! The time of one iteration covers [`BATCH`] clone+drop pairs in
//! `clone_drop`, one pair on each thread in `contended`, and one object in
//! `producer_consumer`; criterion's throughput line gives the per-element
//! rate.

use std::hint::black_box;
use std::sync::mpsc;
use std::sync::{Arc, Barrier};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use brisk_refcount::{safepoint, Atomic, Brc, NonAtomic};
use criterion::measurement::WallTime;
use criterion::{criterion_main, BenchmarkGroup, BenchmarkId, Criterion, Throughput};
use crossbeam_channel::{bounded, Receiver, Sender};

/// Clone+drop pairs per iteration in `clone_drop`, so that criterion's own
/// loop is a small part of what is timed.
const BATCH: u64 = 64;

/// Objects per message in `producer_consumer`.
const SEND_BATCH: usize = 64;

/// Clones and drops `handle` [`BATCH`] times. `black_box` on each clone
/// makes the increment reach memory before the drop reads it back, so the
/// pair can be neither fused nor removed.
#[inline(always)]
fn clone_drop_batch<T: Clone>(handle: &T) {
    for _ in 0..BATCH {
        drop(black_box(handle.clone()));
    }
}

fn bench_clone_drop_owner<T: Clone>(
    group: &mut BenchmarkGroup<'_, WallTime>,
    name: &str,
    handle: T,
) {
    group.bench_function(BenchmarkId::new(name, "owner"), |b| {
        b.iter(|| clone_drop_batch(&handle))
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

    /// Drops our handle while the maker is alive (a `Brc` then queues to
    /// it), then lets the maker drop its own and exit (draining its queue).
    fn finish(self) {
        drop(self.handle);
        self.release.wait();
        self.maker.join().unwrap();
    }
}

fn bench_clone_drop_non_owner<T: Clone + Send + 'static>(
    group: &mut BenchmarkGroup<'_, WallTime>,
    name: &str,
    make: fn() -> T,
) {
    let made = MadeElsewhere::new(make);
    group.bench_function(BenchmarkId::new(name, "non_owner"), |b| {
        b.iter(|| clone_drop_batch(&made.handle))
    });
    made.finish();
}

fn clone_drop(c: &mut Criterion) {
    let mut group = c.benchmark_group("clone_drop");
    group.throughput(Throughput::Elements(BATCH));

    bench_clone_drop_owner(&mut group, "Rc", std::rc::Rc::new(0u64));
    bench_clone_drop_owner(&mut group, "Arc", Arc::new(0u64));
    bench_clone_drop_owner(&mut group, "triomphe::Arc", triomphe::Arc::new(0u64));
    bench_clone_drop_owner(&mut group, "trc::Trc", trc::Trc::new(0u64));
    bench_clone_drop_owner(&mut group, "hybrid_rc::Rc", hybrid_rc::Rc::new(0u64));
    bench_clone_drop_owner(&mut group, "hybrid_rc::Arc", hybrid_rc::Arc::new(0u64));
    bench_clone_drop_owner(&mut group, "Brc<Biased>", Brc::new(0u64));
    bench_clone_drop_owner(&mut group, "Brc<Atomic>", Brc::<u64, Atomic>::new_in(0));
    bench_clone_drop_owner(
        &mut group,
        "Brc<NonAtomic>",
        Brc::<u64, NonAtomic>::new_in(0),
    );

    bench_clone_drop_non_owner(&mut group, "Arc", || Arc::new(0u64));
    bench_clone_drop_non_owner(&mut group, "Brc<Biased>", || Brc::new(0u64));

    group.finish();
}

/// A second thread that clones and drops its own handle to a shared object
/// as many times as the bench thread does, starting and ending together.
struct Hammer {
    rounds: Sender<u64>,
    start: Arc<Barrier>,
    done: Arc<Barrier>,
    thread: JoinHandle<()>,
}

impl Hammer {
    fn spawn<T: Clone + Send + 'static>(handle: T) -> Self {
        let (rounds, rx) = bounded::<u64>(1);
        let start = Arc::new(Barrier::new(2));
        let done = Arc::new(Barrier::new(2));
        let thread = thread::spawn({
            let (start, done) = (Arc::clone(&start), Arc::clone(&done));
            move || {
                for iters in rx {
                    start.wait();
                    for _ in 0..iters {
                        drop(black_box(handle.clone()));
                    }
                    done.wait();
                }
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
    fn run<T: Clone>(&self, handle: &T, iters: u64) -> Duration {
        self.rounds.send(iters).unwrap();
        self.start.wait();
        let t0 = Instant::now();
        for _ in 0..iters {
            drop(black_box(handle.clone()));
        }
        self.done.wait();
        t0.elapsed()
    }

    fn stop(self) {
        drop(self.rounds);
        self.thread.join().unwrap();
    }
}

fn bench_contended<T: Clone + Send + 'static>(
    group: &mut BenchmarkGroup<'_, WallTime>,
    name: &str,
    handle: T,
) {
    let hammer = Hammer::spawn(handle.clone());
    group.bench_function(BenchmarkId::new(name, "2_threads"), |b| {
        b.iter_custom(|iters| hammer.run(&handle, iters))
    });
    hammer.stop();
}

fn contended(c: &mut Criterion) {
    let mut group = c.benchmark_group("contended");
    // One iteration is one clone+drop on each thread.
    group.throughput(Throughput::Elements(2));
    bench_contended(&mut group, "Arc", Arc::new(0u64));
    // Made here, so the bench thread is the owner and the hammer is not.
    bench_contended(&mut group, "Brc<Biased>", Brc::new(0u64));
    // The hammer's last drop queued the object back to us.
    safepoint();
    group.finish();
}

enum Msg<T> {
    Batch(Vec<T>),
    /// Reply on the ack channel once everything before this is dropped.
    Sync,
}

/// A thread that drops every object it is sent.
struct Consumer<T> {
    tx: Sender<Msg<T>>,
    acks: Receiver<()>,
    thread: JoinHandle<()>,
}

impl<T: Send + 'static> Consumer<T> {
    fn spawn() -> Self {
        // A short queue keeps the producer at most a few batches ahead, so
        // both threads run at once and memory stays flat.
        let (tx, rx) = bounded::<Msg<T>>(4);
        let (ack_tx, acks) = bounded(1);
        let thread = thread::spawn(move || {
            for msg in rx {
                match msg {
                    Msg::Batch(objects) => drop(objects),
                    Msg::Sync => ack_tx.send(()).unwrap(),
                }
            }
        });
        Consumer { tx, acks, thread }
    }

    /// Makes `n` objects here and has the consumer drop them; the time runs
    /// until every object is dropped and `settle` has run on this thread.
    fn run(&self, n: u64, make: fn(u64) -> T, settle: fn()) -> Duration {
        let t0 = Instant::now();
        let mut i = 0;
        while i < n {
            let len = (n - i).min(SEND_BATCH as u64);
            let batch: Vec<T> = (i..i + len).map(make).collect();
            self.tx.send(Msg::Batch(batch)).unwrap();
            i += len;
        }
        self.tx.send(Msg::Sync).unwrap();
        self.acks.recv().unwrap();
        settle();
        t0.elapsed()
    }

    fn stop(self) {
        drop(self.tx);
        self.thread.join().unwrap();
    }
}

fn bench_producer_consumer<T: Send + 'static>(
    group: &mut BenchmarkGroup<'_, WallTime>,
    name: &str,
    make: fn(u64) -> T,
    settle: fn(),
) {
    let consumer = Consumer::spawn();
    group.bench_function(BenchmarkId::new(name, format!("batch_{SEND_BATCH}")), |b| {
        b.iter_custom(|iters| consumer.run(iters, make, settle))
    });
    consumer.stop();
}

fn producer_consumer(c: &mut Criterion) {
    let mut group = c.benchmark_group("producer_consumer");
    group.throughput(Throughput::Elements(1));
    bench_producer_consumer(&mut group, "Arc", Arc::new, || {});
    // Every `Brc::new` is a safepoint that merges (and frees) what the
    // consumer queued back; the last batch is merged by `safepoint`.
    bench_producer_consumer(&mut group, "Brc<Biased>", Brc::new, || {
        safepoint();
    });
    group.finish();
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
        targets = super::clone_drop, super::contended, super::producer_consumer
    }
}
criterion_main!(group::benches);
