//! The headline table: one line per question, from `results.json`.
//!
//! Written as `headline.md` next to the results and, for a run into the
//! default `papers/results/`, spliced into README.md between the markers
//! [`BEGIN`] and [`END`], so the README's figures are always the last run's
//! and never typed by hand. `brisk-lab --check` renders it again and
//! compares ([`super::check`]).
//!
//! Every figure is looked up with the functions of [`super::metrics`], the
//! same ones the experiments record it with.

use std::collections::BTreeSet;
use std::path::Path;

use super::env::short;
use super::metrics::{
    contention, cycle_pause, instructions, memory, per_op, placement, producer_consumer, send_cost,
    vs_python, whole_program, Metric,
};
use super::programs::POLICIES;
use super::report::{fine_ratio, nanos, ratio, with_interval, Table};
use super::results::Results;
use crate::workloads::cycles::Heap;
use crate::workloads::send::Mode;

/// The line before the generated table in README.md.
pub const BEGIN: &str = "<!-- brisk-lab:headline:begin -->";
/// The line after it.
pub const END: &str = "<!-- brisk-lab:headline:end -->";

/// A byte count, as `24 B`.
pub fn bytes(b: f64) -> String {
    format!("{b:.0} B")
}

/// A whole count, as `0`.
fn count(n: f64) -> String {
    format!("{n:.0}")
}

/// One row of the headline.
struct Row {
    /// The question, as the first column reads.
    question: String,
    /// The experiment whose table answers it.
    experiment: &'static str,
    /// The row shows only if this metric is there (its experiment ran).
    needs: Metric,
    /// The figures.
    measured: String,
}

/// Figures of one results document.
struct Figures<'a>(&'a Results);

impl Figures<'_> {
    /// Metric `name` of `experiment` through `fmt`, with its 95% interval
    /// where the run recorded one (`1.02× (0.99×–1.05×)`), or `–` where
    /// the run lacks it.
    fn get(&self, experiment: &str, name: &Metric, fmt: fn(f64) -> String) -> String {
        match self.0.metric(experiment, name) {
            Some(value) => with_interval(fmt, value, self.0.interval(experiment, name)),
            None => "–".to_owned(),
        }
    }

    /// One figure per policy, as `` `biased` 1.02×, `deferred` 1.04× ``.
    fn by_policy(
        &self,
        experiment: &str,
        policies: &[&str],
        name: fn(&str) -> Metric,
        fmt: fn(f64) -> String,
    ) -> String {
        policies
            .iter()
            .map(|p| format!("`{p}` {}", self.get(experiment, &name(p), fmt)))
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// The policies whose ratios to `gil` the whole-program rows give.
const GIL_FREE: &[&str] = &["biased", "deferred", "atomic"];

/// The rows about counting on one thread and across threads.
fn counting_rows(f: &Figures<'_>) -> Vec<Row> {
    let per_op_ratio = |v: &str| f.get("per_op", &per_op::ratio_to_rc(v), ratio);
    let placed = |v: &str| f.get("per_op_placement", &per_op::ratio_to_rc(v), fine_ratio);
    let mut rows = vec![
        Row {
            question: "Clone+drop on the owner thread vs `Rc` (paired by round): \
                       `Brc<Biased>`, and `LocalBrc<Biased>` (owner checked once)"
                .to_owned(),
            experiment: "per_op",
            needs: per_op::ratio_to_rc(per_op::BIASED_OWNER),
            measured: format!(
                "{} ({} per pair); `LocalBrc`: {}; `Arc`: {}",
                per_op_ratio(per_op::BIASED_OWNER),
                f.get("per_op", &per_op::ns_per_pair(per_op::BIASED_OWNER), nanos),
                per_op_ratio(per_op::LOCAL_BIASED),
                per_op_ratio(per_op::ARC),
            ),
        },
        Row {
            question: "Clone+drop on another thread, vs `Rc`".to_owned(),
            experiment: "per_op",
            needs: per_op::ratio_to_rc(per_op::BIASED_NON_OWNER),
            measured: format!(
                "`Biased` {}, `Deferred` {}",
                per_op_ratio(per_op::BIASED_NON_OWNER),
                per_op_ratio(per_op::DEFERRED_NON_OWNER),
            ),
        },
        Row {
            question: "Clone+drop on the owner thread vs `Rc`, median over random code \
                       placements: `Brc<Deferred>`, `LocalBrc<Deferred>`"
                .to_owned(),
            experiment: "per_op_placement",
            needs: per_op::ratio_to_rc(per_op::DEFERRED_OWNER),
            measured: format!(
                "{}; `LocalBrc`: {}; `hybrid_rc::Rc`: {}",
                placed(per_op::DEFERRED_OWNER),
                placed(per_op::LOCAL_DEFERRED),
                placed(per_op::HYBRID_RC),
            ),
        },
    ];
    // The curve's last point is at every core the run had.
    if let Some(entry) = f.0.experiments.get("contention") {
        let n = entry.environment.cores;
        rows.push(Row {
            question: format!(
                "One hot object, {n} threads: `Deferred` vs `Arc` throughput (paired by round)"
            ),
            experiment: "contention",
            needs: contention::deferred_over_arc(n),
            measured: f.get("contention", &contention::deferred_over_arc(n), ratio),
        });
    }
    let to_arc = |v: &str| {
        f.get(
            "producer_consumer",
            &producer_consumer::ratio_to_arc(v),
            fine_ratio,
        )
    };
    rows.push(Row {
        question: "Made on one thread, dropped on another: time per object over `Arc`'s \
                   (paired by round)"
            .to_owned(),
        experiment: "producer_consumer",
        needs: producer_consumer::ratio_to_arc(producer_consumer::BIASED),
        measured: format!(
            "`Brc<Biased>` {}, `Brc<Deferred>` {} (`Arc`: {} per object)",
            to_arc(producer_consumer::BIASED),
            to_arc(producer_consumer::DEFERRED),
            f.get(
                "producer_consumer",
                &producer_consumer::ns_per_object(producer_consumer::ARC),
                nanos
            ),
        ),
    });
    rows
}

/// The rows about whole programs.
fn program_rows(f: &Figures<'_>) -> Vec<Row> {
    vec![
        Row {
            question: "Whole single-interpreter programs vs `gil`, paired by round \
                       (median of the per-round geometric means, one build)"
                .to_owned(),
            experiment: "whole_program",
            needs: whole_program::geomean_paired_ratio_to_gil(POLICIES[1]),
            measured: f.by_policy(
                "whole_program",
                GIL_FREE,
                whole_program::geomean_paired_ratio_to_gil,
                fine_ratio,
            ),
        },
        Row {
            question: "The same, median over random code placements".to_owned(),
            experiment: "placement",
            needs: placement::over_placements(POLICIES[1]),
            measured: f.by_policy(
                "placement",
                GIL_FREE,
                placement::over_placements,
                fine_ratio,
            ),
        },
        Row {
            question: "The same programs in instructions vs `gil` (callgrind, geometric \
                       mean)"
                .to_owned(),
            experiment: "instructions",
            needs: instructions::geomean_over_gil(POLICIES[1]),
            measured: f.by_policy(
                "instructions",
                GIL_FREE,
                instructions::geomean_over_gil,
                fine_ratio,
            ),
        },
        Row {
            question: "The language vs CPython (`python3`) on fourteen r7rs-benchmarks programs: \
                       wall time over Python's, geometric mean of the per-round geometric \
                       means (below 1: brisk faster)"
                .to_owned(),
            experiment: "vs_python",
            needs: vs_python::geomean_paired_ratio_to_python(POLICIES[1]),
            measured: format!(
                "{}; slower than CPython on {} of 14 under `biased`",
                f.by_policy(
                    "vs_python",
                    &["gil", "biased"],
                    vs_python::geomean_paired_ratio_to_python,
                    fine_ratio,
                ),
                slower_than_python(f, "biased"),
            ),
        },
        Row {
            question: "`parallel-map`, 2 interpreters vs 1 (speedup, paired by round)".to_owned(),
            experiment: "whole_program",
            needs: whole_program::parallel_map_paired_speedup(POLICIES[1]),
            measured: f.by_policy(
                "whole_program",
                &["biased", "deferred", "gil"],
                whole_program::parallel_map_paired_speedup,
                ratio,
            ),
        },
    ]
}

/// How many of `vs_python`'s programs ran slower under `variant` than
/// under CPython (median ratio above 1), or `–` without the experiment.
fn slower_than_python(f: &Figures<'_>, variant: &str) -> String {
    let ratios: Vec<f64> = super::vs_python::PROGRAMS
        .iter()
        .filter_map(|p| {
            f.0.metric(
                "vs_python",
                &vs_python::program(p, variant, vs_python::Figure::PairedRatioToPython),
            )
        })
        .collect();
    if ratios.is_empty() {
        return "–".to_owned();
    }
    ratios.iter().filter(|&&r| r > 1.0).count().to_string()
}

/// The rows about sends, memory and cycles.
fn runtime_rows(f: &Figures<'_>) -> Vec<Row> {
    const NODES: usize = 10_000;
    let send = |mode: Mode| {
        f.get(
            "send_cost",
            &send_cost::ns_per_send(mode.name(), NODES),
            nanos,
        )
    };
    let pause = |policy: &str| {
        let name = cycle_pause::pause(policy, Heap::Live, 100_000, cycle_pause::PauseFigure::Ns);
        f.get("cycle_pause", &name, nanos)
    };
    let dumpster = |figure| cycle_pause::dumpster(cycle_pause::BRISK_BIASED, figure);
    use cycle_pause::DumpsterFigure::{LeftAlive, RatioToArc, RatioToDumpsterSync};
    vec![
        Row {
            question: "Send a 10,000-object graph: share (frozen already) / share+freeze / \
                       move / copy / subprocess"
                .to_owned(),
            experiment: "send_cost",
            needs: send_cost::ns_per_send(Mode::Share.name(), NODES),
            measured: format!(
                "{} / {} / {} / {} / {}",
                send(Mode::Share),
                send(Mode::ShareFreeze),
                send(Mode::Move),
                send(Mode::Copy),
                send(Mode::Subprocess)
            ),
        },
        Row {
            question: "Bytes before an object's payload, brisk vs free-threaded CPython: \
                       untracked objects (numbers, strings, tuples) / containers (lists, \
                       dicts, closures: brisk adds its cycle collector's link)"
                .to_owned(),
            experiment: "memory",
            needs: memory::BRISK_OBJECT_HEADER_BYTES,
            measured: format!(
                "{} vs {} / {} vs {}",
                f.get("memory", &memory::BRISK_OBJECT_HEADER_BYTES, bytes),
                f.get("memory", &memory::CPYTHON_FT_OBJECT_HEADER_BYTES, bytes),
                f.get("memory", &memory::BRISK_CONTAINER_PREFIX_BYTES, bytes),
                f.get("memory", &memory::CPYTHON_FT_CONTAINER_PREFIX_BYTES, bytes)
            ),
        },
        Row {
            question: "Cycle collection, 100,000 live tracked lists: world stopped".to_owned(),
            experiment: "cycle_pause",
            needs: cycle_pause::pause(
                cycle_pause::BIASED,
                Heap::Live,
                100_000,
                cycle_pause::PauseFigure::Ns,
            ),
            measured: format!(
                "`Biased` {}, `Deferred` {}",
                pause(cycle_pause::BIASED),
                pause(cycle_pause::DEFERRED)
            ),
        },
        Row {
            question: "dumpster's cycle benchmark: `brisk<Biased>` vs `Arc` (leaks cycles) / \
                       `dumpster::sync`"
                .to_owned(),
            experiment: "cycle_pause",
            needs: dumpster(RatioToArc),
            measured: format!(
                "{} / {}; objects left after its last collection: {}",
                f.get("cycle_pause", &dumpster(RatioToArc), ratio),
                f.get("cycle_pause", &dumpster(RatioToDumpsterSync), ratio),
                f.get("cycle_pause", &dumpster(LeftAlive), count),
            ),
        },
    ]
}

/// The headline table, in markdown, with a line on where it came from.
pub fn render(doc: &Results) -> String {
    let f = Figures(doc);
    let mut rows = counting_rows(&f);
    rows.extend(program_rows(&f));
    rows.extend(runtime_rows(&f));
    // A row shows only if its experiment ran.
    rows.retain(|row| doc.metric(row.experiment, &row.needs).is_some());
    let mut table = Table::new(&["question", "measured", "table"])
        .left(1)
        .left(2);
    for row in &rows {
        table.row(vec![
            row.question.clone(),
            row.measured.clone(),
            format!("[{0}.md](papers/results/{0}.md)", row.experiment),
        ]);
    }
    let experiments: BTreeSet<&str> = rows.iter().map(|r| r.experiment).collect();
    format!(
        "{}\nEach row is from the latest run of its experiment written to \
         `papers/results/`; each table names its machine, commit and start time. {} \
         Medians of interleaved rounds; see each table for spreads.\n",
        table.to_markdown(),
        provenance(doc, &experiments),
    )
}

/// Where the runs of `experiments` were made: suites, machines, commits
/// and dates, each listed once.
fn provenance(doc: &Results, experiments: &BTreeSet<&str>) -> String {
    let envs: Vec<_> = experiments
        .iter()
        .filter_map(|e| doc.experiments.get(*e))
        .map(|e| &e.environment)
        .collect();
    if envs.is_empty() {
        return "No experiment of the headline has run.".to_owned();
    }
    let list = |items: BTreeSet<String>| items.into_iter().collect::<Vec<_>>().join(", ");
    let suites = list(envs.iter().map(|e| e.suite.name().to_owned()).collect());
    let machines = list(
        envs.iter()
            .map(|e| format!("{} ({}, {} cores)", e.machine, e.cpu_model, e.cores))
            .collect(),
    );
    let commits = list(
        envs.iter()
            .map(|e| {
                e.git_commit
                    .as_deref()
                    .map_or("no commit", short)
                    .to_owned()
            })
            .collect(),
    );
    let dates: BTreeSet<&str> = envs.iter().map(|e| e.date.as_str()).collect();
    let first = dates.first().copied().unwrap_or_default();
    let last = dates.last().copied().unwrap_or_default();
    let when = if first == last {
        first.to_owned()
    } else {
        format!("{first} to {last}")
    };
    format!("Runs: {suites} suite on {machines}, at commit {commits}, {when}.")
}

/// The text between [`BEGIN`] and [`END`] in `text`, if both are there in
/// that order.
pub fn block(text: &str) -> Option<&str> {
    let b = text.find(BEGIN)? + BEGIN.len();
    let e = text[b..].find(END)? + b;
    Some(&text[b..e])
}

/// Replaces the text between [`BEGIN`] and [`END`] in `readme` with
/// `table`. Returns false (and leaves the file) if the markers are missing.
pub fn splice_readme(readme: &Path, table: &str) -> std::io::Result<bool> {
    let text = std::fs::read_to_string(readme)?;
    let (Some(b), Some(e)) = (text.find(BEGIN), text.find(END)) else {
        return Ok(false);
    };
    if e < b {
        return Ok(false);
    }
    let new = format!("{}{BEGIN}\n\n{table}\n{}", &text[..b], &text[e..]);
    if new != text {
        std::fs::write(readme, new)?;
    }
    Ok(true)
}
