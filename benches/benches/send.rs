//! What does it cost to pass a graph to another interpreter? brisk's three
//! send modes against the subprocess design.
//!
//! The workload, the graph and what is timed are described in
//! `brisk_bench::workloads::send` (shared with brisk-lab's `send_cost`).
//! Each line is `send/<mode>/<nodes>`; criterion's throughput line is per
//! node. `share<Deferred>`, `move<Deferred>` and `copy<Deferred>` run under
//! the `Deferred` policy; every other line runs under `Biased`. The
//! subprocess lines pipe to the `brisk-send-child` binary.

use std::time::Duration;

use brisk_bench::workloads::send::{ChildSpec, Mode, Pair, SIZES};
use brisk_runtime::{Biased, Deferred, RuntimePolicy};
use criterion::measurement::WallTime;
use criterion::{criterion_main, BenchmarkGroup, BenchmarkId, Criterion, Throughput};

fn bench_modes<P: RuntimePolicy>(
    group: &mut BenchmarkGroup<'_, WallTime>,
    suffix: &str,
    modes: &[Mode],
) {
    let pair = Pair::<P>::spawn(ChildSpec::new(env!("CARGO_BIN_EXE_brisk-send-child")));
    for &mode in modes {
        for nodes in SIZES {
            group.throughput(Throughput::Elements(nodes as u64));
            let name = format!("{}{suffix}", mode.name());
            group.bench_function(BenchmarkId::new(name, nodes), |b| {
                b.iter_custom(|iters| pair.run(mode, nodes, iters))
            });
        }
    }
    pair.stop();
}

fn send(c: &mut Criterion) {
    let mut group = c.benchmark_group("send");
    bench_modes::<Biased>(&mut group, "", &Mode::ALL);
    bench_modes::<Deferred>(
        &mut group,
        "<Deferred>",
        &[Mode::Share, Mode::Move, Mode::Copy],
    );
    group.finish();
}

fn config() -> Criterion {
    Criterion::default()
        .warm_up_time(Duration::from_millis(300))
        .measurement_time(Duration::from_secs(1))
        .sample_size(10)
}

/// A private module, because `criterion_group!` makes an undocumented
/// `pub fn`.
mod group {
    criterion::criterion_group! {
        name = benches;
        config = super::config();
        targets = super::send
    }
}
criterion_main!(group::benches);
