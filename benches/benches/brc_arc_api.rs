//! Does `Brc` keep up with `Arc` on the API that ports from `Arc`?
//!
//! The `refcount` bench times clone and drop of a sized value; these time
//! the rest of what code ported from `Arc` does often, each against std's
//! `Arc` on the same thread and payload. All run on the owner, the thread
//! that made the object. Results: `papers/results/brc_arc_api.md`.
//!
//! * `downgrade_upgrade/*/owner`: [`BATCH`] times, downgrade a live handle,
//!   upgrade that `Weak`, and drop both. For `Brc` the first downgrade
//!   publishes the object (`brisk_refcount::brc`, "Weak references"); the
//!   upgrades then count on the owner's local half.
//! * `clone_drop_unsized/*/[u8]` and `.../str`: [`BATCH`] clone+drop pairs
//!   of a `Brc<[u8]>` or `Brc<str>` (a wide pointer; the block carries its
//!   metadata in a prefix, `brisk_refcount::brc`, "Layout") against
//!   `Arc<[u8]>` and `Arc<str>`.
//!
//! Criterion's throughput line gives the per-pair rate.

mod common;

use std::hint::black_box;
use std::sync::Arc;

use brisk_bench::workloads::clone_drop::{timed_batches, BATCH};
use brisk_refcount::Brc;
use criterion::measurement::WallTime;
use criterion::{criterion_main, BenchmarkGroup, BenchmarkId, Criterion, Throughput};

/// The payload of the unsized handles: 32 bytes, a short string's size.
const TEXT: &str = "a reference-counted string of 32";

/// [`BATCH`] downgrade+upgrade pairs through `downgrade` and `upgrade`,
/// the `Weak` and the upgraded handle dropped each time.
fn bench_downgrade_upgrade<T, W, S>(
    group: &mut BenchmarkGroup<'_, WallTime>,
    name: &str,
    handle: &T,
    downgrade: fn(&T) -> W,
    upgrade: fn(&W) -> Option<S>,
) {
    group.bench_function(BenchmarkId::new(name, "owner"), |b| {
        b.iter(|| {
            for _ in 0..BATCH {
                let weak = black_box(downgrade(black_box(handle)));
                drop(black_box(upgrade(&weak)));
            }
        })
    });
}

fn downgrade_upgrade(c: &mut Criterion) {
    let mut group = c.benchmark_group("downgrade_upgrade");
    group.throughput(Throughput::Elements(BATCH));
    bench_downgrade_upgrade(
        &mut group,
        "Arc",
        &Arc::new(0u64),
        Arc::downgrade,
        std::sync::Weak::upgrade,
    );
    bench_downgrade_upgrade(
        &mut group,
        "Brc<Biased>",
        &Brc::new(0u64),
        Brc::downgrade,
        brisk_refcount::Weak::upgrade,
    );
    group.finish();
}

fn bench_clone_drop<T: Clone>(
    group: &mut BenchmarkGroup<'_, WallTime>,
    name: &str,
    payload: &str,
    handle: T,
) {
    group.bench_function(BenchmarkId::new(name, payload), |b| {
        b.iter_custom(|iters| timed_batches::<T, false>(&handle, iters))
    });
}

fn clone_drop_unsized(c: &mut Criterion) {
    let mut group = c.benchmark_group("clone_drop_unsized");
    group.throughput(Throughput::Elements(BATCH));
    let bytes = TEXT.as_bytes();
    bench_clone_drop::<Arc<[u8]>>(&mut group, "Arc", "[u8]", Arc::from(bytes));
    bench_clone_drop::<Brc<[u8]>>(&mut group, "Brc<Biased>", "[u8]", Brc::from(bytes));
    bench_clone_drop::<Arc<str>>(&mut group, "Arc", "str", Arc::from(TEXT));
    bench_clone_drop::<Brc<str>>(&mut group, "Brc<Biased>", "str", Brc::from(TEXT));
    group.finish();
}

/// A private module, because `criterion_group!` makes an undocumented
/// `pub fn`.
mod group {
    criterion::criterion_group! {
        name = benches;
        config = super::common::short_config();
        targets = super::downgrade_upgrade, super::clone_drop_unsized
    }
}
criterion_main!(group::benches);
