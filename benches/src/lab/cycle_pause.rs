//! Experiment 8: the cycle collector's pause versus heap size, and
//! dumpster's benchmark of garbage cycles.
//!
//! Reference counting frees everything but cycles; brisk's collector
//! (`brisk_runtime::collect`) stops the world and runs trial deletion over
//! every tracked container (lists, dicts, slots, native objects). Two
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
//! [`workloads::cycles`]: crate::workloads::cycles
//! [`rings`]: crate::workloads::cycles::rings
//! [`CollectionReport::pause`]: brisk_runtime::CollectionReport::pause

use std::cell::Cell;
use std::time::Duration;

use brisk_runtime::{Biased, CollectionReport, Deferred, RuntimePolicy};

use super::measure::{interleave, Samples, Variant};
use super::plot::{Chart, Series};
use super::report::{int, key, nanos, num, range, ratio, Table};
use super::{Ctx, Experiment, Outcome, Report, Suite};
use crate::workloads::cycles::{
    timed_runs, ArcGraph, BaconRajanGraph, BriskLists, DumpsterSyncGraph, DumpsterUnsyncGraph,
    Graph, Heap, PauseProbe, RcGraph, Tally, Workload, RING,
};

/// The experiment.
pub const EXPERIMENT: Experiment = Experiment {
    name: "cycle_pause",
    title: "Cycle collector: pause versus heap size, and dumpster's cycle benchmark",
    question: "How long does a cycle collection stop the world as the heap grows, and \
               what does collecting cost a program that makes cycles all along?",
    run,
};

fn run(ctx: &Ctx) -> Outcome {
    let mut report = Report::new();
    pauses(ctx, &mut report);
    dumpster(ctx, &mut report);
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
        "pause (median)",
        "min–max",
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
            probes.push(Probe::spawn::<Biased>("Biased", objects, heap));
            probes.push(Probe::spawn::<Deferred>("Deferred", objects, heap));
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
            table.row(vec![
                heap.name().to_owned(),
                int(objects as u64),
                format!("`{policy}`"),
                int(scanned as u64),
                int(last.unreachable as u64),
                nanos(pause.median()),
                format!("{}–{}", nanos(pause.min()), nanos(pause.max())),
                num(per_object),
                nanos(call.median()),
            ]);
            let prefix = format!("pause/{policy}/{}/{objects}", heap.name());
            report.metric(format!("{prefix}/ns"), pause.median());
            report.metric(format!("{prefix}/ns_per_scanned_object"), per_object);
            report.metric(format!("{prefix}/collect_call_ns"), call.median());
            report.metric(format!("{prefix}/scanned"), scanned as f64);
            report.metric(format!("{prefix}/unreachable"), last.unreachable as f64);
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
        name: "brisk<Biased>",
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
    let arc = run_ms(&samples[5]);
    let dumpster_sync = run_ms(&samples[2]);
    let mut table = Table::new(&[
        "backend",
        "cycles",
        "ms per run (median)",
        "min–max",
        "÷ `Arc`",
        "÷ `dumpster::sync`",
        "left alive",
        "collections",
    ])
    .left(1);
    for ((backend, s), tally) in BACKENDS.iter().zip(&samples).zip(&tallies) {
        let ms = run_ms(s);
        let per_run = workload.ops as f64 / 1e6;
        let prefix = format!("dumpster/{}", key(backend.name));
        let (left, collections) = match tally.get() {
            Some(t) => {
                report.metric(format!("{prefix}/left_alive"), t.left_alive as f64);
                report.metric(format!("{prefix}/collections"), t.collections as f64);
                (int(t.left_alive as u64), int(t.collections))
            }
            None => ("–".to_owned(), "–".to_owned()),
        };
        table.row(vec![
            format!("`{}`", backend.name),
            backend.cycles.to_owned(),
            num(ms),
            range(s.min() * per_run, s.max() * per_run),
            ratio(ms / arc),
            ratio(ms / dumpster_sync),
            left,
            collections,
        ]);
        report.metric(format!("{prefix}/ms_per_run"), ms);
        report.metric(format!("{prefix}/ratio_to_arc"), ms / arc);
        report.metric(
            format!("{prefix}/ratio_to_dumpster_sync"),
            ms / dumpster_sync,
        );
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
    let brisk = run_ms(&samples[0]);
    report.para(format!(
        "Reading it: `brisk<Biased>` takes {} of `Arc`'s time, which counts the same \
         references but never collects and leaks every cycle, and {} of \
         `dumpster::sync`'s, a collector built for this pattern.",
        ratio(brisk / arc),
        ratio(brisk / dumpster_sync),
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
