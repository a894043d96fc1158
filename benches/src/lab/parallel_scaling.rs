//! Experiment 5b: `parallel-map` with 1, 2, 4, … N worker interpreters.
//!
//! [`whole_program`](super::whole_program) runs
//! `interp/examples/parallel-map.brisk` with one and with two workers; this
//! experiment follows the same program up to N workers, N being the cores
//! this process may use (the counts of [`thread_counts`]: 1, 2, 4, 8, 12, 16
//! on 16 cores; 1, 2 on two). The program's first argument is its worker
//! count; the items and the work per item (its second and third) are the
//! same at every count, with more items than `whole_program` uses so that
//! the largest count still has work to share. 192 items divide evenly among
//! every count up to 16 (and 24, 32, 48, 64).
//!
//! Each run is a `brisk` subprocess, timed from spawn to exit (see
//! [`programs`]). In each round every worker count runs once under every
//! policy; the figure is the median wall time over the rounds, and the
//! speedup at N workers is a policy's 1-worker median ÷ its N-worker median.
//! Under `gil` the workers take turns on one lock, so its curve is what a
//! GIL gives. Every run must print what the first run printed after its
//! first line (which names the worker count), which the experiment checks.

use std::collections::BTreeSet;

use super::env::Binary;
use super::measure::Samples;
use super::metrics::parallel_scaling::{self as m, Figure};
use super::paired::median_with_interval;
use super::plot::{Chart, Series};
use super::programs::{self, POLICIES};
use super::report::{num, percent, ratio, Table};
use super::{cores, thread_counts, Ctx, Experiment, Outcome, Report, Suite};

/// The experiment.
pub const EXPERIMENT: Experiment = Experiment {
    name: "parallel_scaling",
    title: "parallel-map scaling: 1…N worker interpreters per policy",
    question: "How far do interpreters in one process scale on a CPU-bound map as cores \
               are added, per policy? (\"I still don't understand what the benefits are \
               unless we can remove the GIL and somehow get a speedup over processes\")",
    timed: &[Binary::Brisk],
    run,
};

/// The program, in `interp/examples/`.
const FILE: &str = "parallel-map.brisk";

/// The program's arguments with `workers` workers: the worker count, then
/// the items and the span of numbers whose Collatz steps each item sums
/// (none after the count in the smoke suite: the defaults, 24 items of 40).
fn args(suite: Suite, workers: usize) -> Vec<String> {
    let work: &[&str] = suite.pick(&[], &["192", "250"], &["192", "1000"]);
    std::iter::once(workers.to_string())
        .chain(work.iter().map(|s| s.to_string()))
        .collect()
}

/// What a run printed after its first line.
fn after_first_line(stdout: &str) -> &str {
    stdout.split_once('\n').map_or("", |(_, rest)| rest)
}

fn run(ctx: &Ctx) -> Outcome {
    let bin = match programs::build(ctx, programs::Build::Plain) {
        Ok(bin) => bin,
        Err(why) => return Outcome::Skipped(why),
    };
    let cores = cores();
    let counts = thread_counts(cores);
    // Enough rounds for a 95% interval of each paired speedup.
    let rounds = ctx.suite.pick(1, 8, 12);
    // samples[i][j]: seconds with counts[i] workers under POLICIES[j].
    let mut samples = vec![vec![Samples::default(); POLICIES.len()]; counts.len()];
    let mut expected: Option<String> = None;
    let mut mismatches = BTreeSet::new();
    for round in 0..rounds {
        for (i, &workers) in counts.iter().enumerate() {
            ctx.step(format!("round {}/{rounds}: {workers} workers", round + 1));
            let args = args(ctx.suite, workers);
            for (j, policy) in POLICIES.iter().enumerate() {
                let r = match programs::run_file(ctx, &bin, FILE, &args, policy, &[]) {
                    Ok(r) => r,
                    Err(e) => return Outcome::Skipped(format!("a run failed: {e}")),
                };
                samples[i][j].push(r.wall.as_secs_f64());
                let printed = after_first_line(&r.stdout);
                if printed != expected.get_or_insert_with(|| printed.to_owned()).as_str() {
                    mismatches.insert((workers, *policy));
                }
            }
        }
    }

    let seconds = |i: usize, j: usize| samples[i][j].median();
    let speedup = |i: usize, j: usize| seconds(0, j) / seconds(i, j);
    let mut report = Report::new();
    report.para(format!(
        "`brisk run {FILE} WORKERS{} --policy P` as a subprocess (the release build); \
         wall time from spawn to exit, median of {rounds} rounds, every worker count \
         under every policy in each round. Worker counts up to {cores}: the cores this \
         process may use. Speedup is a policy's 1-worker time ÷ its N-worker time.",
        args(ctx.suite, 1)[1..]
            .iter()
            .map(|a| format!(" {a}"))
            .collect::<String>()
    ));

    report.heading("Speedup over one worker, per policy");
    let mut headers = vec!["workers".to_owned()];
    headers.extend(POLICIES.iter().map(|p| format!("`{p}`")));
    let mut table = Table::new(&headers);
    for (i, &workers) in counts.iter().enumerate() {
        let mut row = vec![workers.to_string()];
        for (j, policy) in POLICIES.iter().enumerate() {
            row.push(ratio(speedup(i, j)));
            report.metric(m::workers(policy, workers, Figure::Speedup), speedup(i, j));
        }
        table.row(row);
    }
    report.table(&table);
    if counts.len() > 1 {
        report.heading("Speedup paired by round");
        report.para(
            "The median of each round's one-worker time over its N-worker time, for the \
             same policy, with a 95% interval: the runs of one round follow one another, \
             so the machine's drift between rounds moves this less than the ratio of \
             medians above.",
        );
        let mut headers = vec!["workers".to_owned()];
        headers.extend(POLICIES.iter().map(|p| format!("`{p}`")));
        let mut table = Table::new(&headers);
        for (i, &workers) in counts.iter().enumerate().skip(1) {
            let mut row = vec![workers.to_string()];
            for (j, policy) in POLICIES.iter().enumerate() {
                row.push(median_with_interval(
                    &mut report,
                    &m::workers(policy, workers, Figure::PairedSpeedup),
                    &samples[0][j].paired_ratios(&samples[i][j]),
                ));
            }
            table.row(row);
        }
        report.table(&table);
    }
    let mut series: Vec<Series> = POLICIES
        .iter()
        .enumerate()
        .map(|(j, policy)| Series {
            name: policy.to_string(),
            points: (0..counts.len())
                .map(|i| (counts[i] as f64, speedup(i, j)))
                .collect(),
        })
        .collect();
    series.push(Series {
        name: "ideal".to_owned(),
        points: counts.iter().map(|&w| (w as f64, w as f64)).collect(),
    });
    report.plot(
        &ctx.out,
        "parallel_scaling.svg",
        &Chart {
            title: "parallel-map: speedup over one worker",
            x_label: "worker interpreters",
            y_label: "speedup (same policy, 1 worker = 1)",
            log_x: false,
            log_y: false,
            whole_x: true,
        },
        &series,
    );
    // What several interpreters gain over one under a GIL.
    let (last, most) = (counts.len() - 1, counts[counts.len() - 1]);
    let mut gains = Vec::new();
    for (j, policy) in POLICIES.iter().enumerate() {
        let gain = seconds(0, 0) / seconds(last, j);
        report.metric(m::workers(policy, most, Figure::SpeedupOverGil1), gain);
        gains.push(format!("`{policy}` {}", ratio(gain)));
    }
    report.para(format!(
        "Against one worker under `gil`, {most} workers finish this much faster \
         (each policy's single-interpreter cost included): {}.",
        gains.join(", ")
    ));

    report.heading("Median wall time");
    let mut headers = vec!["workers".to_owned()];
    headers.extend(POLICIES.iter().map(|p| format!("`{p}` s")));
    headers.push("spread".to_owned());
    let mut table = Table::new(&headers);
    let mut worst_spread: f64 = 0.0;
    for (i, &workers) in counts.iter().enumerate() {
        let mut row = vec![workers.to_string()];
        for (j, policy) in POLICIES.iter().enumerate() {
            row.push(num(seconds(i, j)));
            report.metric(m::workers(policy, workers, Figure::Seconds), seconds(i, j));
        }
        // Run-to-run noise: the widest (max − min) / median of the four.
        let spread = samples[i]
            .iter()
            .map(|s| (s.max() - s.min()) / s.median())
            .fold(0.0, f64::max);
        worst_spread = worst_spread.max(spread);
        report.metric(m::spread(workers), spread);
        row.push(percent(spread));
        table.row(row);
    }
    report.table(&table);
    report.metric(m::WORST_SPREAD, worst_spread);
    report.para(format!(
        "\"Spread\" is the widest (max − min) ÷ median over the {rounds} rounds among \
         the four policies at that worker count; the widest in this run was {}.",
        percent(worst_spread)
    ));

    if cores <= 2 {
        report.note(format!(
            "This machine gives the process {cores} cores, so the curve has {} points; a \
             machine with more cores extends it (N = cores).",
            counts.len()
        ));
    }
    if mismatches.is_empty() {
        report.note("Every run printed the same results (after its first line).");
    } else {
        report.note(format!(
            "OUTPUT DIFFERS from the first run for: {}.",
            mismatches
                .iter()
                .map(|(w, p)| format!("{w} workers under `{p}`"))
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    if ctx.suite == Suite::Smoke {
        report.note("Smoke suite: the program's default (tiny) work, one round; no timing claim.");
    }
    Outcome::Ran(report)
}
