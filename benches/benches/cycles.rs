//! Garbage cycles: brisk's cycle collector against the Rust collectors that
//! dumpster's benchmark compares, and its pause against the heap's size.
//!
//! * `dumpster/*`: the workload of dumpster's benchmark
//!   (`dumpster_bench`, `single_threaded`: 50 roots, 1,000,000 random
//!   create / link / drop / unlink operations from `fastrand` seeded with
//!   12345, then the roots dropped and one collection; see
//!   `brisk_bench::workloads::cycles`), one line per backend: brisk's lists
//!   under `Biased` and `Deferred` (automatic collection at the default
//!   threshold), `dumpster::sync::Gc`, `dumpster::unsync::Gc`,
//!   `bacon_rajan_cc::Cc`, and `Arc` and `Rc`, which leak every cycle and
//!   so price counting alone. One iteration is a whole run; the throughput
//!   line gives operations per second. After each brisk line, stderr says
//!   how many of the run's objects were left alive after its final
//!   collection (0: every cycle reclaimed) and how many collections ran.
//! * `pause/<policy>/<heap>/<objects>`: one `Mutator::collect` on a tracked
//!   heap of lists in rings of ten, timed by the collector's own report
//!   (how long the world was stopped). `live`: the rings stay reachable,
//!   the collection scans them and frees nothing; `garbage`: they are
//!   built and dropped before each collection (outside the time), which
//!   finds them all.

mod common;

use brisk_bench::workloads::cycles::{
    self, ArcGraph, BaconRajanGraph, BriskLists, DumpsterSyncGraph, DumpsterUnsyncGraph, Graph,
    Heap, PauseProbe, RcGraph, Workload,
};
use brisk_runtime::{Biased, Deferred, RuntimePolicy};
use criterion::measurement::WallTime;
use criterion::{criterion_main, BenchmarkGroup, BenchmarkId, Criterion, Throughput};

const WORKLOAD: Workload = Workload::DUMPSTER;

/// One line of the `dumpster` group: whole runs on graphs from `make`.
/// Prints brisk's tally of the last run.
fn bench_backend<G: Graph>(
    group: &mut BenchmarkGroup<'_, WallTime>,
    name: &str,
    make: impl Fn() -> G + Copy,
) {
    let mut last = None;
    group.bench_function(name, |b| {
        b.iter_custom(|runs| {
            let (time, tally) = cycles::timed_runs(make, WORKLOAD, runs);
            last = tally;
            time
        })
    });
    if let Some(tally) = last {
        eprintln!(
            "dumpster/{name}: {} of the run's objects alive after the final collection, \
             {} collections",
            tally.left_alive, tally.collections
        );
    }
}

fn dumpster(c: &mut Criterion) {
    let mut group = c.benchmark_group("dumpster");
    // A run takes tens of milliseconds.
    group.sample_size(10);
    group.throughput(Throughput::Elements(WORKLOAD.ops as u64));
    bench_backend(&mut group, "brisk<Biased>", BriskLists::<Biased>::new);
    bench_backend(&mut group, "brisk<Deferred>", BriskLists::<Deferred>::new);
    bench_backend(&mut group, "dumpster::sync::Gc", DumpsterSyncGraph::default);
    bench_backend(
        &mut group,
        "dumpster::unsync::Gc",
        DumpsterUnsyncGraph::default,
    );
    bench_backend(&mut group, "bacon_rajan_cc::Cc", BaconRajanGraph::default);
    bench_backend(&mut group, "Arc", ArcGraph::default);
    bench_backend(&mut group, "Rc", RcGraph::default);
    group.finish();
}

/// The lines of the `pause` group for one policy.
fn bench_pauses<P: RuntimePolicy + 'static>(group: &mut BenchmarkGroup<'_, WallTime>, name: &str) {
    for heap in [Heap::Live, Heap::Garbage] {
        for objects in [1_000, 10_000, 100_000] {
            let probe = PauseProbe::spawn::<P>(objects, heap);
            let id = BenchmarkId::new(format!("{name}/{}", heap.name()), objects);
            group.bench_function(id, |b| {
                b.iter_custom(|iters| (0..iters).map(|_| probe.collect().report.pause).sum())
            });
            probe.finish();
        }
    }
}

fn pause(c: &mut Criterion) {
    let mut group = c.benchmark_group("pause");
    // A collection of 100,000 objects takes tens of milliseconds.
    group.sample_size(10);
    bench_pauses::<Biased>(&mut group, "Biased");
    bench_pauses::<Deferred>(&mut group, "Deferred");
    group.finish();
}

/// A private module, because `criterion_group!` makes an undocumented
/// `pub fn`.
mod group {
    criterion::criterion_group! {
        name = benches;
        config = super::common::short_config();
        targets = super::dumpster, super::pause
    }
}
criterion_main!(group::benches);
