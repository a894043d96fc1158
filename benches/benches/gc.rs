//! What does deferred reconciliation buy? `Brc<Deferred>` against `Rc`,
//! `Arc` and `Brc<Biased>`.
//!
//! Each group answers one question from `DESIGN.md`, "Deferred
//! reconciliation"; each line in a group is one implementation, named by its
//! type. The workloads are in `brisk_bench::workloads`, shared with
//! brisk-lab.
//!
//! * `clone_drop/*/owner`: clone and drop a handle on the thread that made
//!   it. `Deferred` keeps the biased owner path, so it should cost what
//!   `Brc<Biased>` costs, close to `Rc`.
//! * `clone_drop/*/non_owner`: the same on one thread that did not make it,
//!   alone: `Arc` and `Brc<Biased>` pay an uncontended atomic per operation,
//!   `Brc<Deferred>` records in the thread's coalescing buffer and reaches a
//!   safepoint every `SAFEPOINT_EVERY` (1024) pairs.
//! * `contended/*/2_threads`: the owner and one other thread clone and drop
//!   one object at once. For `Brc<Deferred>` both threads are attached and
//!   both reach a safepoint every `SAFEPOINT_EVERY` (1024) pairs; the time
//!   includes those safepoints.
//!
//! The time of one iteration covers [`BATCH`] clone+drop pairs in
//! `clone_drop` and one pair on each thread in `contended`; criterion's
//! throughput line gives the per-element rate.
//!
//! Criterion has no custom metrics, so the peak of the deferred work the
//! epoch domain held ([`Peak`], sampled after every safepoint of the
//! measured loops) is printed on stderr after each `Brc<Deferred>` line
//! that reaches safepoints. A clone+drop pair nets to zero in the
//! coalescing buffer, so these loops defer nothing: a non-zero peak means
//! work reached an epoch batch that coalescing should have cancelled.

mod common;

use std::sync::Arc;

use brisk_bench::workloads::clone_drop::{timed_batches, MadeElsewhere, BATCH};
use brisk_bench::workloads::contended::Crew;
use brisk_bench::workloads::garbage::{settle, Peak};
use brisk_gc::Deferred;
use brisk_refcount::{owner_scope, Brc};
use criterion::measurement::WallTime;
use criterion::{criterion_main, BenchmarkGroup, BenchmarkId, Criterion, Throughput};

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

/// Applies what a `Deferred` run left behind and says if anything stays.
fn settle_and_check() {
    let left = settle();
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
    bench_clone_drop_owner(
        &mut group,
        "Brc<Deferred>",
        Brc::<u64, Deferred>::new_with_policy(0),
    );
    owner_scope(|scope| {
        let local = scope.localize(Brc::<u64, Deferred>::new_with_policy(0));
        let local = local.expect("made on this thread");
        bench_clone_drop_owner(&mut group, "LocalBrc<Deferred>", local);
    });

    bench_clone_drop_non_owner::<_, false>(&mut group, "Arc", || Arc::new(0u64));
    bench_clone_drop_non_owner::<_, false>(&mut group, "Brc<Biased>", || Brc::new(0u64));
    Peak::reset();
    bench_clone_drop_non_owner::<_, true>(&mut group, "Brc<Deferred>", || {
        Brc::<u64, Deferred>::new_with_policy(0)
    });
    Peak::report("clone_drop/Brc<Deferred>/non_owner");
    settle_and_check();

    group.finish();
    drop(attached);
}

fn bench_contended<T: Clone + Send + 'static, const GC: bool>(
    group: &mut BenchmarkGroup<'_, WallTime>,
    name: &str,
    handle: T,
) {
    let crew = Crew::spawn::<T, GC>(&handle, 1);
    group.bench_function(BenchmarkId::new(name, "2_threads"), |b| {
        b.iter_custom(|iters| crew.run::<T, GC>(&handle, iters))
    });
    crew.stop();
}

fn contended(c: &mut Criterion) {
    let attached = brisk_gc::attach();
    let mut group = c.benchmark_group("contended");
    // One iteration is one clone+drop on each thread.
    group.throughput(Throughput::Elements(2));
    bench_contended::<_, false>(&mut group, "Arc", Arc::new(0u64));
    // Made here, so the bench thread is the owner and the helper is not.
    bench_contended::<_, false>(&mut group, "Brc<Biased>", Brc::new(0u64));
    // The helper's last drop queued the object back to us.
    brisk_refcount::safepoint();
    Peak::reset();
    bench_contended::<_, true>(
        &mut group,
        "Brc<Deferred>",
        Brc::<u64, Deferred>::new_with_policy(0),
    );
    Peak::report("contended/Brc<Deferred>/2_threads");
    settle_and_check();
    group.finish();
    drop(attached);
}

/// A private module, because `criterion_group!` makes an undocumented
/// `pub fn`.
mod group {
    criterion::criterion_group! {
        name = benches;
        config = super::common::short_config();
        targets = super::clone_drop, super::contended
    }
}
criterion_main!(group::benches);
