//! What does a reference count cost? `Brc` against its peers.
//!
//! Each group answers one question from `DESIGN.md`; each line in a group is
//! one implementation, named by its type. The workloads are in
//! `brisk_bench::workloads`, shared with brisk-lab.
//!
//! * `clone_drop/*/owner`: clone and drop a handle on the thread that made
//!   it, the path biased counting makes as cheap as `Rc` (BRC, PACT 2018).
//!   `LocalBrc/owner` is the same path with the owner check made once for
//!   the loop (`brisk_refcount::local`).
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

mod common;

use std::sync::Arc;

use brisk_bench::workloads::clone_drop::{timed_batches, MadeElsewhere, BATCH};
use brisk_bench::workloads::contended::Crew;
use brisk_bench::workloads::producer_consumer::{Consumer, SEND_BATCH};
use brisk_refcount::{owner_scope, safepoint, Atomic, Brc, NonAtomic};
use criterion::measurement::WallTime;
use criterion::{criterion_main, BenchmarkGroup, BenchmarkId, Criterion, Throughput};

fn bench_clone_drop_owner<T: Clone>(
    group: &mut BenchmarkGroup<'_, WallTime>,
    name: &str,
    handle: T,
) {
    group.bench_function(BenchmarkId::new(name, "owner"), |b| {
        b.iter_custom(|iters| timed_batches::<T, false>(&handle, iters))
    });
}

fn bench_clone_drop_non_owner<T: Clone + Send + 'static>(
    group: &mut BenchmarkGroup<'_, WallTime>,
    name: &str,
    make: fn() -> T,
) {
    let made = MadeElsewhere::new(make);
    group.bench_function(BenchmarkId::new(name, "non_owner"), |b| {
        b.iter_custom(|iters| timed_batches::<T, false>(&made.handle, iters))
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
    owner_scope(|scope| {
        let local = scope.localize(Brc::new(0u64)).expect("made here");
        bench_clone_drop_owner(&mut group, "LocalBrc<Biased>", local);
    });
    bench_clone_drop_owner(
        &mut group,
        "Brc<Atomic>",
        Brc::<u64, Atomic>::new_with_policy(0),
    );
    bench_clone_drop_owner(
        &mut group,
        "Brc<NonAtomic>",
        Brc::<u64, NonAtomic>::new_with_policy(0),
    );

    bench_clone_drop_non_owner(&mut group, "Arc", || Arc::new(0u64));
    bench_clone_drop_non_owner(&mut group, "Brc<Biased>", || Brc::new(0u64));

    group.finish();
}

fn bench_contended<T: Clone + Send + 'static>(
    group: &mut BenchmarkGroup<'_, WallTime>,
    name: &str,
    handle: T,
) {
    let crew = Crew::spawn::<T, false>(&handle, 1);
    group.bench_function(BenchmarkId::new(name, "2_threads"), |b| {
        b.iter_custom(|iters| crew.run::<T, false>(&handle, iters))
    });
    crew.stop();
}

fn contended(c: &mut Criterion) {
    let mut group = c.benchmark_group("contended");
    // One iteration is one clone+drop on each thread.
    group.throughput(Throughput::Elements(2));
    bench_contended(&mut group, "Arc", Arc::new(0u64));
    // Made here, so the bench thread is the owner and the helper is not.
    bench_contended(&mut group, "Brc<Biased>", Brc::new(0u64));
    // The helper's last drop queued the object back to us.
    safepoint();
    group.finish();
}

fn bench_producer_consumer<T: Send + 'static>(
    group: &mut BenchmarkGroup<'_, WallTime>,
    name: &str,
    make: fn(u64) -> T,
    settle: fn(),
) {
    let consumer = Consumer::spawn::<false>();
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

/// A private module, because `criterion_group!` makes an undocumented
/// `pub fn`.
mod group {
    criterion::criterion_group! {
        name = benches;
        config = super::common::short_config();
        targets = super::clone_drop, super::contended, super::producer_consumer
    }
}
criterion_main!(group::benches);
