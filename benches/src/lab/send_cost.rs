//! Experiment 6: what it costs to pass a graph, by mode and size.
//!
//! The direct answer to "surely you should be targeting cases where the
//! communication costs are high?" (python-dev, 2017): one send and its
//! receive ([`workloads::send`]) for share, move and copy between two
//! interpreters, against the subprocess design (serialize, pipe, decode in
//! another process), for graphs of 1 to 10,000 objects. Every mode of one
//! size is measured in each round, in turn.
//!
//! # Freeze
//!
//! `share` sends a graph that was frozen once, before any timer: its O(1)
//! is the price of a graph that is frozen already. A graph that is not
//! frozen yet must first be frozen, and `freeze` walks the whole graph,
//! computes its strongly connected components and stops the world while
//! it does (`brisk_runtime::freeze`). So two more lines: `freeze` alone on
//! fresh graphs ([`Pair::freeze`]), reported per object, and
//! `share+freeze`, which freezes each fresh graph and shares it: the true
//! cost of sharing a graph that was mutable until then, which the plot sets
//! beside `share`, `move`, `copy` and `subprocess`.
//!
//! [`workloads::send`]: crate::workloads::send

use std::time::Duration;

use brisk_runtime::{Biased, Deferred};

use super::env::Binary;
use super::measure::{interleave, Samples, Variant};
use super::metrics::send_cost::{self as m, Ratio};
use super::paired::median_with_interval_as;
use super::plot::{Chart, Series};
use super::report::{int, nanos, percent, ratio, Table};
use super::{Ctx, Experiment, Outcome, Report};
use crate::workloads::send::{ChildSpec, Mode, Pair, SIZES};

/// The experiment.
pub const EXPERIMENT: Experiment = Experiment {
    name: "send_cost",
    title: "Send cost versus graph size: share, move, copy, subprocess",
    question: "\"If the only advantage of subinterpreters over subprocesses is that the \
               communication costs are lower, then surely you should be targeting cases \
               where the communication costs are high?\" What does a send cost, by mode, \
               as the graph grows?",
    timed: &[Binary::BriskLab],
    run,
};

/// The line of `freeze` alone.
const FREEZE: &str = "freeze";

/// The lines the plot shows, in its legend's order: the modes a reader
/// chooses between for a graph that is not frozen yet, and `share` of one
/// that is.
const PLOTTED: [Mode; 5] = [
    Mode::Share,
    Mode::ShareFreeze,
    Mode::Move,
    Mode::Copy,
    Mode::Subprocess,
];

/// A line of the table: a policy and what is timed (a send mode, or
/// `freeze` alone when `mode` is `None`).
struct Line {
    name: String,
    deferred: bool,
    mode: Option<Mode>,
}

fn lines() -> Vec<Line> {
    let mut lines: Vec<Line> = Mode::ALL
        .iter()
        .map(|&mode| Line {
            name: mode.name().to_owned(),
            deferred: false,
            mode: Some(mode),
        })
        .collect();
    lines.push(Line {
        name: FREEZE.to_owned(),
        deferred: false,
        mode: None,
    });
    for mode in [Mode::Share, Mode::Move, Mode::Copy] {
        lines.push(Line {
            name: format!("{}<Deferred>", mode.name()),
            deferred: true,
            mode: Some(mode),
        });
    }
    lines
}

fn run(ctx: &Ctx) -> Outcome {
    let sizes: Vec<usize> = ctx.suite.pick(vec![1, 100], SIZES.to_vec(), SIZES.to_vec());
    let (rounds, target) = ctx.suite.pick(
        (2, Duration::from_millis(2)),
        (7, Duration::from_millis(25)),
        (11, Duration::from_millis(80)),
    );
    let child = ChildSpec {
        program: ctx.exe.clone(),
        args: vec!["send-child".to_owned()],
    };
    let biased = Pair::<Biased>::spawn(child.clone());
    let deferred = Pair::<Deferred>::spawn(child);
    let lines = lines();

    // results[line][size index], ns per send.
    let mut results: Vec<Vec<Samples>> = vec![Vec::new(); lines.len()];
    for &nodes in &sizes {
        let mut variants: Vec<Variant<'_>> = lines
            .iter()
            .map(|line| {
                let (b, d) = (&biased, &deferred);
                match (line.mode, line.deferred) {
                    (Some(mode), true) => {
                        Variant::new(line.name.clone(), 1.0, move |n| d.run(mode, nodes, n))
                    }
                    (Some(mode), false) => {
                        Variant::new(line.name.clone(), 1.0, move |n| b.run(mode, nodes, n))
                    }
                    (None, _) => Variant::new(line.name.clone(), 1.0, move |n| b.freeze(nodes, n)),
                }
            })
            .collect();
        let label = format!("{nodes} nodes");
        let samples = interleave(ctx, &label, &mut variants, rounds, target);
        for (r, s) in results.iter_mut().zip(samples) {
            r.push(s);
        }
    }
    biased.stop();
    deferred.stop();

    let mut report = Report::new();
    report.para(format!(
        "One send and its receive, timed as one-way throughput between two interpreters \
         on two threads (`brisk_bench::workloads::send` describes the graph and the \
         timing). The graph of *n* objects is a list of *n*−1 two-tuples of small \
         integers. `subprocess` walks the graph straight into postcard and pipes it to a \
         child process (`brisk-lab send-child`) that decodes and drops it and acks; \
         `subprocess_mirror` first converts the graph into a serde tree. Lines without \
         a suffix run under `Biased`. `share` sends a graph frozen once beforehand; \
         `share+freeze` freezes a freshly built graph and then shares it, which is what \
         sharing a graph that was still mutable costs; `freeze` times the freeze alone. \
         {rounds} rounds; in each, every line of one size runs in turn. Medians, with \
         a 95% interval for each (distribution-free, between two order statistics of \
         the rounds; none with fewer than six rounds)."
    ));
    let mut headers = vec!["nodes".to_owned()];
    headers.extend(lines.iter().map(|l| format!("`{}`", l.name)));
    let mut table = Table::new(&headers);
    for (i, &nodes) in sizes.iter().enumerate() {
        let mut row = vec![int(nodes as u64)];
        for (l, line) in lines.iter().enumerate() {
            let per_send = &results[l][i];
            let per_node = Samples::new(
                per_send
                    .values()
                    .iter()
                    .map(|ns| ns / nodes as f64)
                    .collect(),
            );
            row.push(median_with_interval_as(
                &mut report,
                &m::ns_per_send(&line.name, nodes),
                per_send,
                nanos,
            ));
            median_with_interval_as(
                &mut report,
                &m::ns_per_node(&line.name, nodes),
                &per_node,
                nanos,
            );
        }
        table.row(row);
    }
    report.heading("Time per send (median, 95% interval)");
    report.table(&table);

    let find = |name: &str| lines.iter().position(|l| l.name == name).expect("a line");
    let (share, share_freeze, freeze) = (
        find(Mode::Share.name()),
        find(Mode::ShareFreeze.name()),
        find(FREEZE),
    );
    freeze_table(
        &mut report,
        &sizes,
        [&results[share], &results[share_freeze], &results[freeze]],
    );

    let (mv, copy, sub) = (
        find(Mode::Move.name()),
        find(Mode::Copy.name()),
        find(Mode::Subprocess.name()),
    );
    let mut table = Table::new(&[
        "nodes",
        "subprocess ÷ share",
        "subprocess ÷ (share+freeze)",
        "subprocess ÷ move",
        "subprocess ÷ copy",
        "copy ÷ move",
    ]);
    for (i, &nodes) in sizes.iter().enumerate() {
        let mut row = vec![int(nodes as u64)];
        for (r, over, under) in [
            (Ratio::SubprocessOverShare, sub, share),
            (Ratio::SubprocessOverShareFreeze, sub, share_freeze),
            (Ratio::SubprocessOverMove, sub, mv),
            (Ratio::SubprocessOverCopy, sub, copy),
            (Ratio::CopyOverMove, copy, mv),
        ] {
            let paired = results[over][i].paired_ratios(&results[under][i]);
            row.push(median_with_interval_as(
                &mut report,
                &m::ratio(r, nodes),
                &paired,
                ratio,
            ));
        }
        table.row(row);
    }
    report.heading("Ratios (Biased), paired by round (95% interval)");
    report.table(&table);
    report.para(
        "Each ratio is taken in each round between the two lines' samples of that round, \
         which ran one after the other; the table gives the median of those ratios and \
         its 95% interval.",
    );

    let series: Vec<Series> = PLOTTED
        .iter()
        .map(|mode| {
            let l = find(mode.name());
            Series {
                name: mode.name().to_owned(),
                points: sizes
                    .iter()
                    .zip(&results[l])
                    .map(|(&n, s)| (n as f64, s.median() / 1e3))
                    .collect(),
            }
        })
        .collect();
    let file = "send_cost.svg";
    report.plot(
        &ctx.out,
        file,
        &Chart {
            title: "Cost of one send versus graph size (Biased; share+freeze: not yet frozen)",
            x_label: "objects in the graph",
            y_label: "µs per send",
            log_x: true,
            log_y: true,
            whole_x: false,
        },
        &series,
    );
    if ctx.suite == super::Suite::Smoke {
        report.note("Smoke suite: two sizes, tiny samples; no timing claim.");
    }
    Outcome::Ran(report)
}

/// The section on `freeze`: its cost per graph and per object, and what it
/// adds to a share, from the samples of `share`, `share+freeze` and
/// `freeze` (one per size in `sizes`, in that order). Records
/// [`m::freeze_share_of_share_freeze`].
fn freeze_table(
    report: &mut Report,
    sizes: &[usize],
    [share, share_freeze, freeze]: [&[Samples]; 3],
) {
    report.heading("Freeze: cost per object, and share of an unfrozen graph");
    let mut table = Table::new(&[
        "nodes",
        "`freeze` per graph",
        "`freeze` per object",
        "`share` (frozen already)",
        "`share+freeze`",
        "freeze's part of `share+freeze`",
    ]);
    for (i, &nodes) in sizes.iter().enumerate() {
        let (f, s, sf) = (
            freeze[i].median(),
            share[i].median(),
            share_freeze[i].median(),
        );
        let part = freeze_part(s, sf);
        report.metric(m::freeze_share_of_share_freeze(nodes), part);
        table.row(vec![
            int(nodes as u64),
            nanos(f),
            nanos(f / nodes as f64),
            nanos(s),
            nanos(sf),
            percent(part),
        ]);
    }
    report.table(&table);
    report.para(
        "`freeze` is timed on graphs built just before (untimed), while the receiving \
         interpreter is parked: it walks the graph, finds its strongly connected \
         components (Tarjan) and marks every object frozen, with the world stopped \
         for the whole walk (`brisk_runtime::freeze`), so every other interpreter of \
         the runtime waits for it too; with more interpreters running, the stop itself \
         costs more than here, where one other is parked. `share+freeze` is the cost of \
         sharing a graph that was mutable until the send; \"freeze's part\" is \
         (`share+freeze` − `share`) ÷ `share+freeze`. A graph frozen once and shared \
         many times pays the freeze once; `share` alone is that case.",
    );
}

/// The share of `share+freeze`'s time (`share_freeze`) that `share` alone
/// (`share`) does not explain: what the freeze adds. Clamped to `[0, 1]`,
/// since the two medians come from different samples.
fn freeze_part(share: f64, share_freeze: f64) -> f64 {
    ((share_freeze - share) / share_freeze).clamp(0.0, 1.0)
}

#[cfg(test)]
mod tests {
    use super::{freeze_part, lines, FREEZE, PLOTTED};

    #[test]
    fn every_plotted_mode_and_freeze_are_lines() {
        let names: Vec<String> = lines().into_iter().map(|l| l.name).collect();
        for mode in PLOTTED {
            assert!(names.iter().any(|n| n == mode.name()), "{}", mode.name());
        }
        assert!(names.iter().any(|n| n == FREEZE));
        assert!(names.iter().any(|n| n == "share+freeze"));
    }

    #[test]
    fn freezes_part_is_what_share_does_not_explain() {
        assert_eq!(freeze_part(100.0, 400.0), 0.75);
        assert_eq!(freeze_part(100.0, 100.0), 0.0);
        assert_eq!(
            freeze_part(120.0, 100.0),
            0.0,
            "noise cannot make it negative"
        );
    }
}
