//! Experiment 8: the cycle collector's pause versus heap size, dumpster's
//! benchmark of garbage cycles, and several interpreters making garbage
//! cycles at once.
//!
//! Reference counting frees everything but cycles; brisk's collector
//! (`brisk_runtime::collect`) stops the world and runs trial deletion over
//! every tracked container (lists, dicts, slots, native objects). Three
//! questions follow:
//!
//! * **How long does the world stop, as the heap grows?** A
//!   [`PauseProbe`] per policy and heap shape holds a tracked heap of lists
//!   in rings of ten ([`rings`]) on a runtime and thread of its own, and
//!   collects on request. `live`: the rings stay reachable, so a collection
//!   scans them and frees nothing; `garbage`: they are rebuilt and dropped
//!   before each collection, which must find every ring. The figure is the
//!   collector's own [`CollectionReport::pause`] (how long the world was
//!   stopped); the whole `collect()` call, which also releases the garbage
//!   after the world resumes, is shown beside it. Every probe of a size
//!   collects once per round, in turn; medians over the rounds.
//! * **What does collection cost on a workload that makes cycles all
//!   along?** The workload of dumpster's benchmark (`dumpster_bench` in
//!   the `dumpster` crate's repository; see [`workloads::cycles`]): 50
//!   roots, then 1,000,000 random create / link / drop / unlink operations
//!   from a seeded generator, the roots dropped, one final collection. brisk's
//!   lists under `Biased` and `Deferred` (automatic collection at the
//!   default threshold) against `dumpster`'s two collectors,
//!   `bacon_rajan_cc`, and `Arc` and `Rc`, which leak the cycles and so
//!   price counting alone; all interleaved, one whole run per sample. The
//!   count of the run's objects brisk left alive after its final
//!   collection shows whether it reclaimed every cycle.
//!
//! * **Does the collector keep up with several allocating interpreters,
//!   and at what memory?** [`concurrent_garbage`]: 1, 2 and 4 interpreters
//!   of one runtime make garbage cycles of two lists at once (the pattern
//!   of the runtime test `concurrent_garbage_stays_bounded`), under each
//!   policy. Each configuration runs in a fresh process
//!   (`brisk-lab cycles-child`, [`child_main`], read back as a
//!   [`ConcurrentRun`]), so that its peak RSS is its own; the pauses are
//!   the runtime's [`GcStats`]. The check: 4 interpreters under each
//!   policy peak within 2× the resident memory of 4 under `gil`.
//!
//! [`workloads::cycles`]: crate::workloads::cycles
//! [`concurrent_garbage`]: crate::workloads::cycles::concurrent_garbage
//! [`GcStats`]: brisk_runtime::GcStats
//! [`rings`]: crate::workloads::cycles::rings
//! [`CollectionReport::pause`]: brisk_runtime::CollectionReport::pause

use std::cell::Cell;
use std::time::{Duration, Instant};

use brisk_runtime::{Atomic, Biased, CollectionReport, Deferred, Gil, RuntimePolicy};
use serde::{Deserialize, Serialize};

use super::child;
use super::env::Binary;
use super::measure::{interleave, rotation, Samples, Variant};
use super::memory::max_rss_self;
use super::metrics::cycle_pause::{self as m, ConcurrentFigure, DumpsterFigure, PauseFigure};
use super::paired::{median_with_interval, median_with_interval_as};
use super::plot::{Chart, Series};
use super::programs::POLICIES;
use super::report::{int, nanos, num, range, ratio, Table};
use super::{Ctx, Experiment, Outcome, Report, Suite};
use crate::workloads::cycles::{
    concurrent_garbage, timed_runs, ArcGraph, BaconRajanGraph, BriskLists, DumpsterSyncGraph,
    DumpsterUnsyncGraph, Graph, Heap, PauseProbe, RcGraph, Tally, Workload, LIVE_PER_INTERPRETER,
    RING,
};

/// The experiment.
pub const EXPERIMENT: Experiment = Experiment {
    name: "cycle_pause",
    title: "Cycle collector: pause versus heap size, dumpster's cycle benchmark, and \
            several allocating interpreters",
    question: "How long does a cycle collection stop the world as the heap grows, what \
               does collecting cost a program that makes cycles all along, and does the \
               collector keep the memory of several allocating interpreters within 2× of \
               a GIL's?",
    timed: &[Binary::BriskLab],
    run,
};

fn run(ctx: &Ctx) -> Outcome {
    let mut report = Report::new();
    pauses(ctx, &mut report);
    dumpster(ctx, &mut report);
    if let Err(why) = concurrent(ctx, &mut report) {
        report.note(format!("Several interpreters: not measured, {why}"));
    }
    if ctx.suite == Suite::Smoke {
        report.note("Smoke suite: tiny heaps and short runs; no timing claim.");
    }
    Outcome::Ran(report)
}

/// One probe: a policy, a heap shape, and what its collections measured.
struct Probe {
    policy: &'static str,
    heap: Heap,
    probe: PauseProbe,
    /// The collector's pauses, ns.
    pause: Samples,
    /// Whole `collect()` calls, ns.
    call: Samples,
    /// The last collection's report.
    last: CollectionReport,
}

impl Probe {
    fn spawn<P: RuntimePolicy + 'static>(policy: &'static str, objects: usize, heap: Heap) -> Self {
        Probe {
            policy,
            heap,
            probe: PauseProbe::spawn::<P>(objects, heap),
            pause: Samples::default(),
            call: Samples::default(),
            last: CollectionReport::default(),
        }
    }

    /// One collection, timed unless it is a warm-up.
    fn collect(&mut self, timed: bool) {
        let collected = self.probe.collect();
        if timed {
            self.pause.push(ns(collected.report.pause));
            self.call.push(ns(collected.call));
        }
        self.last = collected.report;
    }

    fn name(&self) -> String {
        format!("{} {}", self.policy, self.heap.name())
    }
}

fn ns(d: Duration) -> f64 {
    d.as_secs_f64() * 1e9
}

/// Part one: pause versus heap size.
fn pauses(ctx: &Ctx, report: &mut Report) {
    let sizes: Vec<usize> = ctx.suite.pick(
        vec![100, 1_000],
        vec![1_000, 10_000, 100_000],
        vec![1_000, 10_000, 100_000, 1_000_000],
    );
    let rounds = ctx.suite.pick(3, 9, 15);
    let mut table = Table::new(&[
        "heap",
        "lists",
        "policy",
        "scanned",
        "unreachable",
        "pause (median, 95% interval)",
        "ns per scanned object",
        "whole `collect()`",
    ])
    .left(2);
    let mut series: Vec<Series> = Vec::new();
    for &objects in &sizes {
        let mut probes = Vec::new();
        for heap in [Heap::Live, Heap::Garbage] {
            ctx.step(format!(
                "{objects} lists: building the {} heaps",
                heap.name()
            ));
            probes.push(Probe::spawn::<Biased>(m::BIASED, objects, heap));
            probes.push(Probe::spawn::<Deferred>(m::DEFERRED, objects, heap));
        }
        // One warm-up collection each, then the rounds, interleaved.
        for probe in &mut probes {
            probe.collect(false);
        }
        for round in 0..rounds {
            ctx.step(format!("{objects} lists: round {}/{rounds}", round + 1));
            for probe in &mut probes {
                probe.collect(true);
            }
        }
        for probe in probes {
            let (policy, heap, pause, call, last) = (
                probe.policy,
                probe.heap,
                &probe.pause,
                &probe.call,
                probe.last,
            );
            let scanned = last.scanned;
            let per_object = pause.median() / scanned.max(1) as f64;
            let pause_cell = median_with_interval_as(
                report,
                &m::pause(policy, heap, objects, PauseFigure::Ns),
                pause,
                nanos,
            );
            table.row(vec![
                heap.name().to_owned(),
                int(objects as u64),
                format!("`{policy}`"),
                int(scanned as u64),
                int(last.unreachable as u64),
                pause_cell,
                num(per_object),
                nanos(call.median()),
            ]);
            let mut metric =
                |figure, value| report.metric(m::pause(policy, heap, objects, figure), value);
            metric(PauseFigure::NsPerScannedObject, per_object);
            metric(PauseFigure::CollectCallNs, call.median());
            metric(PauseFigure::Scanned, scanned as f64);
            metric(PauseFigure::Unreachable, last.unreachable as f64);
            let name = probe.name();
            let point = (objects as f64, pause.median() / 1e3);
            match series.iter_mut().find(|s| s.name == name) {
                Some(s) => s.points.push(point),
                None => series.push(Series {
                    name,
                    points: vec![point],
                }),
            }
            probe.probe.finish();
        }
    }
    report.heading("Pause versus heap size");
    report.para(format!(
        "`Mutator::collect` on a runtime holding `lists` tracked lists in rings of {RING} \
         (each list holds the next), plus one list holding a member of each ring. `live`: \
         the rings stay reachable; `garbage`: they are built and dropped before each \
         collection (outside the time), so the collection must find them all. The pause \
         is the collector's report (world stopped); the whole call also releases the \
         garbage after the world resumes. Automatic collection is off. One warm-up \
         collection, then {rounds} rounds, the four probes of a size collecting in turn; \
         medians."
    ));
    report.table(&table);
    report.plot(
        &ctx.out,
        "cycle_pause.svg",
        &Chart {
            title: "Cycle collection pause versus tracked heap",
            x_label: "tracked lists",
            y_label: "µs the world is stopped",
            log_x: true,
            log_y: true,
            whole_x: false,
        },
        &series,
    );
}

/// A backend of the dumpster workload, for the table.
struct Backend {
    name: &'static str,
    cycles: &'static str,
}

const BACKENDS: [Backend; 7] = [
    Backend {
        name: m::BRISK_BIASED,
        cycles: "trial deletion, stop-the-world, automatic",
    },
    Backend {
        name: "brisk<Deferred>",
        cycles: "trial deletion, stop-the-world, automatic",
    },
    Backend {
        name: "dumpster::sync::Gc",
        cycles: "dumpster, concurrent",
    },
    Backend {
        name: "dumpster::unsync::Gc",
        cycles: "dumpster, thread-local",
    },
    Backend {
        name: "bacon_rajan_cc::Cc",
        cycles: "trial deletion, when asked (once, at the end)",
    },
    Backend {
        name: "Arc",
        cycles: "leaked",
    },
    Backend {
        name: "Rc",
        cycles: "leaked",
    },
];

/// A variant that runs the workload on graphs from `make` and keeps the
/// last run's tally in `tally`.
fn backend<'a, G: Graph + 'a>(
    name: &str,
    workload: Workload,
    make: fn() -> G,
    tally: &'a Cell<Option<Tally>>,
) -> Variant<'a> {
    Variant::new(name, workload.ops as f64, move |runs| {
        let (time, last) = timed_runs(make, workload, runs);
        tally.set(last);
        time
    })
}

/// Part two: dumpster's benchmark, every backend interleaved.
fn dumpster(ctx: &Ctx, report: &mut Report) {
    let workload = Workload::DUMPSTER.with_ops(ctx.suite.pick(10_000, 1_000_000, 1_000_000));
    let rounds = ctx.suite.pick(2, 11, 21);
    let tallies: [Cell<Option<Tally>>; 7] = Default::default();
    let b = &BACKENDS;
    let mut variants = vec![
        backend(b[0].name, workload, BriskLists::<Biased>::new, &tallies[0]),
        backend(
            b[1].name,
            workload,
            BriskLists::<Deferred>::new,
            &tallies[1],
        ),
        backend(b[2].name, workload, DumpsterSyncGraph::default, &tallies[2]),
        backend(
            b[3].name,
            workload,
            DumpsterUnsyncGraph::default,
            &tallies[3],
        ),
        backend(b[4].name, workload, BaconRajanGraph::default, &tallies[4]),
        backend(b[5].name, workload, ArcGraph::default, &tallies[5]),
        backend(b[6].name, workload, RcGraph::default, &tallies[6]),
    ];
    // A run is long: any target gives one run per sample, after three
    // calibration runs that warm up.
    let samples = interleave(
        ctx,
        "dumpster",
        &mut variants,
        rounds,
        Duration::from_nanos(1),
    );
    drop(variants);

    let run_ms = |s: &Samples| s.median() * workload.ops as f64 / 1e6;
    // The baselines of the ratios, by index into BACKENDS.
    let (arc, dumpster_sync) = (&samples[5], &samples[2]);
    // Each backend's two ratio cells, in BACKENDS order.
    let mut ratio_cells: Vec<[String; 2]> = Vec::new();
    let mut table = Table::new(&[
        "backend",
        "cycles",
        "ms per run (median)",
        "min–max",
        "÷ `Arc`, paired by round (95% interval)",
        "÷ `dumpster::sync`, paired by round (95% interval)",
        "left alive",
        "collections",
    ])
    .left(1);
    for ((backend, s), tally) in BACKENDS.iter().zip(&samples).zip(&tallies) {
        let ms = run_ms(s);
        let per_run = workload.ops as f64 / 1e6;
        let metric = |figure| m::dumpster(backend.name, figure);
        let to_arc = median_with_interval(
            report,
            &metric(DumpsterFigure::RatioToArc),
            &s.paired_ratios(arc),
        );
        let to_sync = median_with_interval(
            report,
            &metric(DumpsterFigure::RatioToDumpsterSync),
            &s.paired_ratios(dumpster_sync),
        );
        let (left, collections) = match tally.get() {
            Some(t) => {
                report.metric(metric(DumpsterFigure::LeftAlive), t.left_alive as f64);
                report.metric(metric(DumpsterFigure::Collections), t.collections as f64);
                (int(t.left_alive as u64), int(t.collections))
            }
            None => ("–".to_owned(), "–".to_owned()),
        };
        table.row(vec![
            format!("`{}`", backend.name),
            backend.cycles.to_owned(),
            num(ms),
            range(s.min() * per_run, s.max() * per_run),
            to_arc.clone(),
            to_sync.clone(),
            left,
            collections,
        ]);
        report.metric(metric(DumpsterFigure::MsPerRun), ms);
        ratio_cells.push([to_arc, to_sync]);
    }
    report.heading("dumpster's benchmark");
    report.para(format!(
        "The workload of the `dumpster` crate's benchmark (`dumpster_bench`, \
         `single_threaded`), rewritten here: {} roots, then {} operations drawn from \
         `fastrand` seeded with {} — make a node, link two roots, drop a root, unlink an \
         edge, each a quarter of the time — then the roots dropped and one final \
         collection, all timed. A brisk node is a `List` object holding its out-edges, \
         with a safepoint per operation as an interpreter reaches them. {rounds} rounds, \
         the backends interleaved; one whole run per sample. `left alive`: the run's \
         runtime objects still alive after brisk's final collection (0: every cycle \
         reclaimed); `collections`: brisk's collections in the run, the final one \
         included.",
        workload.roots,
        int(workload.ops as u64),
        workload.seed,
    ));
    report.table(&table);
    report.para(format!(
        "Reading it: `brisk<Biased>` takes {} of `Arc`'s time, which counts the same \
         references but never collects and leaks every cycle, and {} of \
         `dumpster::sync`'s, a collector built for this pattern (each run's time over the \
         baseline's in the same round: the median and its 95% interval).",
        ratio_cells[0][0], ratio_cells[0][1],
    ));
    for (backend, tally) in BACKENDS.iter().zip(&tallies) {
        if let Some(t) = tally.get().filter(|t| t.left_alive > 0) {
            report.note(format!(
                "`{}` left {} of the run's objects alive after its final collection.",
                backend.name, t.left_alive
            ));
        }
    }
}

/// Interpreter counts of part three.
const INTERPRETERS: [usize; 3] = [1, 2, 4];

/// What one `cycles-child` process measured: one policy, one interpreter
/// count.
#[derive(Copy, Clone, Debug, Serialize, Deserialize)]
pub struct ConcurrentRun {
    /// The process's peak resident set, bytes (`VmHWM`).
    pub max_rss: u64,
    /// Collections run.
    pub collections: u64,
    /// Containers the collections found unreachable, summed.
    pub unreachable: u64,
    /// The longest pause, ns.
    pub max_pause_ns: u64,
    /// All pauses, summed, ns.
    pub total_pause_ns: u64,
    /// The most containers tracked at any collection.
    pub max_tracked: usize,
    /// Wall time of the whole run, seconds.
    pub seconds: f64,
}

/// The `cycles-child` subcommand: `interpreters` interpreters under
/// `policy` (a [`POLICIES`] name) each make `cycles` garbage cycles
/// ([`concurrent_garbage`]) in this process.
pub fn child_main(policy: &str, interpreters: usize, cycles: u64) -> Result<ConcurrentRun, String> {
    if interpreters == 0 {
        return Err("at least one interpreter".to_owned());
    }
    let start = Instant::now();
    let stats = match policy {
        "gil" => concurrent_garbage::<Gil>(interpreters, cycles),
        "atomic" => concurrent_garbage::<Atomic>(interpreters, cycles),
        "biased" => concurrent_garbage::<Biased>(interpreters, cycles),
        "deferred" => concurrent_garbage::<Deferred>(interpreters, cycles),
        other => return Err(format!("unknown policy {other:?}; one of {POLICIES:?}")),
    };
    let ns = |d: Duration| u64::try_from(d.as_nanos()).unwrap_or(u64::MAX);
    Ok(ConcurrentRun {
        max_rss: max_rss_self(),
        collections: stats.collections,
        unreachable: stats.unreachable,
        max_pause_ns: ns(stats.max_pause),
        total_pause_ns: ns(stats.total_pause),
        max_tracked: stats.max_tracked,
        seconds: start.elapsed().as_secs_f64(),
    })
}

/// One configuration's runs, one per round.
#[derive(Default)]
struct Config {
    rss_mib: Samples,
    max_pause: Samples,
    mean_pause: Samples,
    collections: Samples,
    unreachable: Samples,
    max_tracked: usize,
    seconds: Samples,
}

/// Part three: 1, 2 and 4 allocating interpreters per policy, each
/// configuration in a process of its own.
fn concurrent(ctx: &Ctx, report: &mut Report) -> Result<(), String> {
    let cycles: u64 = ctx.suite.pick(6_000, 200_000, 500_000);
    let rounds = ctx.suite.pick(1, 3, 5);
    let configs: Vec<(usize, usize)> = (0..POLICIES.len())
        .flat_map(|p| INTERPRETERS.iter().map(move |&n| (p, n)))
        .collect();
    let mut runs: Vec<Config> = configs.iter().map(|_| Config::default()).collect();
    for round in 0..rounds {
        for c in rotation(round, configs.len()) {
            let (p, n) = configs[c];
            ctx.step(format!(
                "round {}/{rounds}: {n} interpreter(s) under {}",
                round + 1,
                POLICIES[p]
            ));
            let args = [
                "cycles-child".to_owned(),
                "--policy".to_owned(),
                POLICIES[p].to_owned(),
                "--interpreters".to_owned(),
                n.to_string(),
                "--cycles".to_owned(),
                cycles.to_string(),
            ];
            let r: ConcurrentRun = child::run_json(ctx, &args)?;
            let run = &mut runs[c];
            run.rss_mib.push(r.max_rss as f64 / (1 << 20) as f64);
            run.max_pause.push(r.max_pause_ns as f64);
            run.mean_pause
                .push(r.total_pause_ns as f64 / r.collections.max(1) as f64);
            run.collections.push(r.collections as f64);
            run.unreachable.push(r.unreachable as f64);
            run.max_tracked = run.max_tracked.max(r.max_tracked);
            run.seconds.push(r.seconds);
        }
    }
    let config = |p: usize, n: usize| {
        let c = configs
            .iter()
            .position(|&k| k == (p, n))
            .expect("every policy and count is configured");
        &runs[c]
    };

    report.heading("Several interpreters making garbage cycles");
    report.para(format!(
        "N interpreters of one runtime, each keeping {LIVE_PER_INTERPRETER} live lists and \
         then making {} garbage cycles of two lists (each holds the other and an \
         integer) with a safepoint per cycle, all at once (the pattern of the runtime \
         test `concurrent_garbage_stays_bounded`); automatic collection at the default \
         threshold. Each configuration is a process of its own (`brisk-lab cycles-child \
         --policy P --interpreters N --cycles {cycles}`), so its peak RSS (`VmHWM`) is \
         its own. {rounds} rounds, the configurations in a rotating order; medians over \
         the rounds, and the largest tracked set seen. Each interpreter makes \
         {} lists, all garbage but its live ones: \"found unreachable\" is how many \
         of them the collections found (the runtime's teardown frees the rest).",
        int(cycles),
        int(2 * cycles)
    ));
    let mut table = Table::new(&[
        "policy",
        "interpreters",
        "peak RSS MiB",
        "÷ `gil`'s, same N",
        "collections",
        "found unreachable",
        "mean pause",
        "longest pause",
        "most tracked",
        "wall time",
    ]);
    for (p, policy) in POLICIES.iter().enumerate() {
        for &n in &INTERPRETERS {
            let run = config(p, n);
            let rss = run.rss_mib.median();
            let to_gil = rss / config(0, n).rss_mib.median();
            let mut metric = |figure, value| report.metric(m::concurrent(policy, n, figure), value);
            metric(ConcurrentFigure::MaxRssMib, rss);
            metric(ConcurrentFigure::RssToGil, to_gil);
            metric(ConcurrentFigure::Collections, run.collections.median());
            metric(ConcurrentFigure::Unreachable, run.unreachable.median());
            metric(ConcurrentFigure::MeanPauseNs, run.mean_pause.median());
            metric(ConcurrentFigure::MaxPauseNs, run.max_pause.median());
            metric(ConcurrentFigure::MaxTracked, run.max_tracked as f64);
            metric(ConcurrentFigure::Seconds, run.seconds.median());
            table.row(vec![
                format!("`{policy}`"),
                n.to_string(),
                num(rss),
                ratio(to_gil),
                int(run.collections.median() as u64),
                int(run.unreachable.median() as u64),
                nanos(run.mean_pause.median()),
                nanos(run.max_pause.median()),
                int(run.max_tracked as u64),
                format!("{} s", num(run.seconds.median())),
            ]);
        }
    }
    report.table(&table);

    let most = INTERPRETERS[INTERPRETERS.len() - 1];
    let gil = config(0, most).rss_mib.median();
    let mut verdicts = Vec::new();
    for (p, policy) in POLICIES.iter().enumerate().skip(1) {
        let to_gil = config(p, most).rss_mib.median() / gil;
        let within = to_gil <= 2.0;
        report.metric(m::within_2x_gil(policy, most), f64::from(u8::from(within)));
        verdicts.push(format!(
            "`{policy}` {} ({})",
            ratio(to_gil),
            if within { "within 2×" } else { "OVER 2×" }
        ));
    }
    report.para(format!(
        "With {most} interpreters, peak RSS as a multiple of `gil`'s ({} MiB): {}. \
         Under `gil` the interpreters take turns, so its garbage comes from one thread \
         at a time; the other policies allocate from {most} threads at once while one \
         collector, stopping them all, must keep up. The \"most tracked\" column bounds \
         the cycle garbage a collection found waiting.",
        num(gil),
        verdicts.join(", ")
    ));
    Ok(())
}
