//! `parallel-map` with worker interpreters in one process against worker
//! processes that exchange their data serialized: subinterpreters against
//! subprocesses on the same map (Q5).
//!
//! # The two designs
//!
//! * **Interpreters**: `brisk run parallel-map.brisk W ITEMS SPAN --policy
//!   biased`, as [`parallel_scaling`](super::parallel_scaling) runs it: the
//!   input is frozen and shared with W interpreters in one process, and
//!   each sends its answers back by move.
//! * **Processes**: `brisk-lab map-parent` (`process_map`): a parent
//!   process starts W worker processes, each one interpreter under the same
//!   policy, sends each its items serialized and reads back its answers
//!   serialized, as `multiprocessing.Pool.map` does with pickle.
//!
//! The work per item is the same brisk code in both (`process_map`
//! checks it), and both print the same lines, which the experiment checks.
//!
//! # The maps
//!
//! Three maps at each worker count 1, 2 and N (N being the cores this
//! process may use): few items with much work each (the items and span of
//! `parallel_scaling`), many items with little work each (250 times the
//! items, one number each: 250 times the messages' volume for a similar
//! amount of work), and no items at all, which leaves only what each
//! design costs to start and stop its workers.
//!
//! # Timing
//!
//! Both run as subprocesses through `brisk-lab measure` ([`programs::run`]),
//! wall time from spawn to exit. In each round every map and worker count
//! runs once in both designs, back to back in an order that alternates
//! each round; the figure is the median over rounds of each round's
//! processes ÷ interpreters, with its 95% interval.

use std::collections::BTreeSet;

use super::env::Binary;
use super::measure::{rotation, Samples};
use super::metrics::parallel_processes::{self as m, Design};
use super::paired::median_with_interval;
use super::programs::{self, Build};
use super::report::{fine_ratio, nanos, Table};
use super::{cores, Ctx, Experiment, Outcome, Report, Suite};

/// The experiment.
pub const EXPERIMENT: Experiment = Experiment {
    name: "parallel_processes",
    title: "parallel-map: worker interpreters in one process against worker processes",
    question: "\"If the only advantage of subinterpreters over subprocesses is that the \
               communication costs are lower, then surely you should be targeting cases \
               where the communication costs are high?\" On the same map, with its data \
               crossing serialized between processes or shared and moved between \
               interpreters, which finishes first?",
    timed: &[Binary::Brisk, Binary::BriskLab],
    run,
};

/// The program the interpreters run, in `interp/examples/`.
const FILE: &str = "parallel-map.brisk";

/// The policy of both designs' interpreters.
const POLICY: &str = "biased";

/// One map: its name in tables and metrics, its items, and the numbers
/// per item.
#[derive(Copy, Clone, Debug)]
struct Map {
    name: &'static str,
    items: usize,
    span: usize,
}

/// The maps of `suite`.
fn maps(suite: Suite) -> [Map; 3] {
    let (few, many, span) = suite.pick((24, 240, 40), (192, 48_000, 250), (192, 192_000, 1000));
    [
        Map {
            name: "few-items",
            items: few,
            span,
        },
        Map {
            name: "many-items",
            items: many,
            span: 1,
        },
        Map {
            name: "no-items",
            items: 0,
            span: 1,
        },
    ]
}

/// The worker counts: 1, 2 and the cores, each once.
fn worker_counts(cores: usize) -> Vec<usize> {
    let mut counts: Vec<usize> = vec![1, 2, cores];
    counts.sort_unstable();
    counts.dedup();
    counts
}

/// The command line of one run of `design`: the program to run (the
/// `brisk` binary or this executable) and its arguments.
fn command(design: Design, map: Map, workers: usize) -> Vec<String> {
    let (w, items, span) = (
        workers.to_string(),
        map.items.to_string(),
        map.span.to_string(),
    );
    let args: Vec<&str> = match design {
        Design::Interpreters => vec!["run", FILE, &w, &items, &span, "--policy", POLICY],
        Design::Processes => vec![
            "map-parent",
            "--workers",
            &w,
            "--items",
            &items,
            "--span",
            &span,
            "--policy",
            POLICY,
        ],
    };
    args.into_iter().map(str::to_owned).collect()
}

/// Every run's wall time, by map, worker count and design, in round order.
struct Runs {
    /// `samples[map][count][design]`, seconds.
    samples: Vec<Vec<[Samples; 2]>>,
    /// (map, workers) whose processes printed something else than the
    /// interpreters, or whose runs disagreed between rounds.
    mismatches: BTreeSet<(&'static str, usize)>,
}

fn run(ctx: &Ctx) -> Outcome {
    let bin = match programs::build(ctx, Build::Plain) {
        Ok(bin) => bin,
        Err(why) => return Outcome::Skipped(why),
    };
    let maps = maps(ctx.suite);
    let counts = worker_counts(cores());
    let rounds = ctx.suite.pick(1, 8, 12);
    let dir = ctx.workspace.join("interp/examples");
    let mut runs = Runs {
        samples: vec![vec![Default::default(); counts.len()]; maps.len()],
        mismatches: BTreeSet::new(),
    };
    let mut printed: Vec<Vec<Option<String>>> = vec![vec![None; counts.len()]; maps.len()];
    for round in 0..rounds {
        for (i, &map) in maps.iter().enumerate() {
            for (j, &workers) in counts.iter().enumerate() {
                ctx.step(format!(
                    "round {}/{rounds}: {}, {workers} workers",
                    round + 1,
                    map.name
                ));
                for d in rotation(round, Design::ALL.len()) {
                    let design = Design::ALL[d];
                    let program = match design {
                        Design::Interpreters => &bin,
                        Design::Processes => &ctx.exe,
                    };
                    let args = command(design, map, workers);
                    let r = match programs::run(&ctx.exe, program, &args, &dir) {
                        Ok(r) => r,
                        Err(e) => return Outcome::Skipped(format!("a run failed: {e}")),
                    };
                    runs.samples[i][j][d].push(r.wall.as_secs_f64());
                    let expected = printed[i][j].get_or_insert_with(|| r.stdout.clone());
                    if *expected != r.stdout {
                        runs.mismatches.insert((map.name, workers));
                    }
                }
            }
        }
    }

    let mut report = Report::new();
    describe(&mut report, &maps, &counts, rounds);
    ratio_table(&mut report, &maps, &counts, &runs);
    speedup_table(&mut report, &maps, &counts, &runs);
    report.para(
        "What this does not show. The items here are small integers, so a message is a \
         few bytes per item and serializing it costs little next to the work; the cost \
         of sending large graphs, by mode, is `send_cost.md`'s. Each run starts its \
         workers afresh, as a program that maps once does; a pool kept across many maps \
         would pay the processes' start once. The processes' parent is native code \
         (`brisk-lab`), which builds the input and assembles the answers without an \
         interpreter, where `parallel-map.brisk`'s main interpreter runs a loop in the \
         language: that favours the processes, a little. On a machine with two cores \
         N is 2; a machine with more cores extends the table.",
    );
    if runs.mismatches.is_empty() {
        report.note("Both designs printed the same results for every map and worker count.");
    } else {
        let list: Vec<String> = runs
            .mismatches
            .iter()
            .map(|(map, w)| format!("{map} with {w} workers"))
            .collect();
        report.note(format!(
            "OUTPUT DIFFERS between the designs for: {}.",
            list.join(", ")
        ));
    }
    if ctx.suite == Suite::Smoke {
        report.note("Smoke suite: tiny maps, one round; no timing claim.");
    }
    Outcome::Ran(report)
}

/// The opening paragraph: what runs, and how it is timed.
fn describe(report: &mut Report, maps: &[Map], counts: &[usize], rounds: usize) {
    let list: Vec<String> = maps
        .iter()
        .map(|m| match m.items {
            0 => format!("`{}` (no items: starting and stopping the workers)", m.name),
            n => format!("`{}` ({n} items, span {})", m.name, m.span),
        })
        .collect();
    report.para(format!(
        "Interpreters: `brisk run {FILE} W ITEMS SPAN --policy {POLICY}` (the release \
         build): W worker interpreters in one process share the frozen input and send \
         their answers back by move. Processes: `brisk-lab map-parent --workers W \
         --items ITEMS --span SPAN --policy {POLICY}`: W worker processes, each one \
         interpreter under `{POLICY}`, get their items as postcard frames on a pipe and \
         send their answers back the same way (`brisk_bench::lab::process_map`). Every \
         item runs the same language code in both (a test checks that the worker's \
         functions are the example's), and both print the same lines. Maps: {}. Worker \
         counts: {}. Wall time from spawn to exit, over {rounds} round(s), each running \
         every map and count in both designs back to back, the order alternating by \
         round.",
        list.join(", "),
        counts
            .iter()
            .map(usize::to_string)
            .collect::<Vec<_>>()
            .join(", ")
    ));
}

/// The table of processes ÷ interpreters, paired by round.
fn ratio_table(report: &mut Report, maps: &[Map], counts: &[usize], runs: &Runs) {
    report.heading("Processes ÷ interpreters, paired by round");
    let mut table = Table::new(&[
        "map",
        "workers",
        "interpreters",
        "processes",
        "processes ÷ interpreters (95% interval)",
    ]);
    // The median ratios of the maps with items, and what the processes
    // added, in seconds, to the map of none.
    let (mut with_items, mut start_stop) = (Vec::new(), Vec::new());
    for (i, map) in maps.iter().enumerate() {
        for (j, &workers) in counts.iter().enumerate() {
            let [interpreters, processes] = &runs.samples[i][j];
            for (design, s) in Design::ALL.iter().zip([interpreters, processes]) {
                report.metric(m::seconds(map.name, *design, workers), s.median());
            }
            let paired = processes.paired_ratios(interpreters);
            if map.items > 0 {
                with_items.push(paired.median());
            } else {
                start_stop.push((workers, processes.median() - interpreters.median()));
            }
            table.row(vec![
                format!("`{}`", map.name),
                workers.to_string(),
                nanos(interpreters.median() * 1e9),
                nanos(processes.median() * 1e9),
                median_with_interval(
                    report,
                    &m::processes_over_interpreters(map.name, workers),
                    &paired,
                ),
            ]);
        }
    }
    report.table(&table);
    report.para(
        "Times are medians over the rounds. Above 1, the processes took longer. The \
         ratio is the median of each round's ratio, with the sign test's interval (none \
         with fewer than six rounds): the two runs of a round follow one another, so the \
         machine's drift between rounds moves the ratio less than either time.",
    );
    let lo = with_items.iter().copied().fold(f64::INFINITY, f64::min);
    let hi = with_items.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let added: Vec<String> = start_stop
        .iter()
        .map(|&(w, s)| format!("{} with {w}", nanos(s * 1e9)))
        .collect();
    report.para(format!(
        "Reading it: on the maps with items the processes took {}–{} of the \
         interpreters' time (medians of the paired ratios; read each against its \
         interval); with no items, starting and stopping the worker processes took \
         this much longer than the interpreters, by the medians: {}.",
        fine_ratio(lo),
        fine_ratio(hi),
        added.join(", ")
    ));
}

/// The table of each design's speedup over one worker, paired by round.
fn speedup_table(report: &mut Report, maps: &[Map], counts: &[usize], runs: &Runs) {
    if counts.len() < 2 {
        return;
    }
    report.heading("Speedup over one worker, paired by round");
    let mut table = Table::new(&[
        "map",
        "workers",
        "interpreters (95% interval)",
        "processes (95% interval)",
    ]);
    for (i, map) in maps.iter().enumerate().filter(|(_, m)| m.items > 0) {
        for (j, &workers) in counts.iter().enumerate().skip(1) {
            let mut row = vec![format!("`{}`", map.name), workers.to_string()];
            for (d, design) in Design::ALL.iter().enumerate() {
                let one = &runs.samples[i][0][d];
                let speedup = one.paired_ratios(&runs.samples[i][j][d]);
                row.push(median_with_interval(
                    report,
                    &m::speedup(map.name, *design, workers),
                    &speedup,
                ));
            }
            table.row(row);
        }
    }
    report.table(&table);
    report.para(
        "Each design's one-worker time over its W-worker time in the same round, for the \
         maps with items.",
    );
}

#[cfg(test)]
mod tests {
    use super::{command, maps, worker_counts, Design};
    use crate::lab::Suite;

    #[test]
    fn worker_counts_are_one_two_and_the_cores_once_each() {
        assert_eq!(worker_counts(1), [1, 2]);
        assert_eq!(worker_counts(2), [1, 2]);
        assert_eq!(worker_counts(16), [1, 2, 16]);
    }

    #[test]
    fn both_designs_get_the_same_map() {
        let map = maps(Suite::Quick)[0];
        let interpreters = command(Design::Interpreters, map, 2);
        let processes = command(Design::Processes, map, 2);
        assert_eq!(
            interpreters[2..5],
            ["2".to_owned(), map.items.to_string(), map.span.to_string()]
        );
        for (flag, value) in [("--workers", "2"), ("--items", "192"), ("--span", "250")] {
            let at = processes.iter().position(|a| a == flag).unwrap();
            assert_eq!(processes[at + 1], value);
        }
        assert_eq!(interpreters.last(), processes.last(), "the same policy");
    }

    #[test]
    fn the_many_items_map_has_the_few_items_numbers() {
        // 250 times the items, one number each: as many Collatz sums.
        let [few, many, none] = maps(Suite::Quick);
        assert_eq!(few.items * few.span, many.items * many.span);
        assert_eq!(none.items, 0);
    }
}
