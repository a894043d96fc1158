//! Experiment 6: what it costs to pass a graph, by mode and size.
//!
//! The direct answer to "surely you should be targeting cases where the
//! communication costs are high?" (python-dev, 2017): one send and its
//! receive ([`workloads::send`]) for share, move and copy between two
//! interpreters, against the subprocess design (serialize, pipe, decode in
//! another process), for graphs of 1 to 10,000 objects. Every mode of one
//! size is measured in each round, in turn.
//!
//! [`workloads::send`]: crate::workloads::send

use std::time::Duration;

use brisk_runtime::{Biased, Deferred};

use super::env::Binary;
use super::measure::{interleave, Samples, Variant};
use super::metrics::send_cost::{self as m, Ratio};
use super::plot::{Chart, Series};
use super::report::{int, nanos, ratio, Table};
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

/// A line of the table: a policy and a mode.
struct Line {
    name: String,
    deferred: bool,
    mode: Mode,
}

fn lines() -> Vec<Line> {
    let mut lines: Vec<Line> = Mode::ALL
        .iter()
        .map(|&mode| Line {
            name: mode.name().to_owned(),
            deferred: false,
            mode,
        })
        .collect();
    for mode in [Mode::Share, Mode::Move, Mode::Copy] {
        lines.push(Line {
            name: format!("{}<Deferred>", mode.name()),
            deferred: true,
            mode,
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
                let (b, d, mode) = (&biased, &deferred, line.mode);
                if line.deferred {
                    Variant::new(line.name.clone(), 1.0, move |n| d.run(mode, nodes, n))
                } else {
                    Variant::new(line.name.clone(), 1.0, move |n| b.run(mode, nodes, n))
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
         a suffix run under `Biased`. {rounds} rounds; in each, every line of one size \
         runs in turn; medians."
    ));
    let mut headers = vec!["nodes".to_owned()];
    headers.extend(lines.iter().map(|l| format!("`{}`", l.name)));
    let mut table = Table::new(&headers);
    for (i, &nodes) in sizes.iter().enumerate() {
        let mut row = vec![int(nodes as u64)];
        for (l, line) in lines.iter().enumerate() {
            let ns = results[l][i].median();
            row.push(nanos(ns));
            report.metric(m::ns_per_send(&line.name, nodes), ns);
            report.metric(m::ns_per_node(&line.name, nodes), ns / nodes as f64);
        }
        table.row(row);
    }
    report.heading("Time per send (median)");
    report.table(&table);

    let find = |name: &str| lines.iter().position(|l| l.name == name).expect("a line");
    let (share, mv, copy, sub) = (
        find("share"),
        find("move"),
        find("copy"),
        find("subprocess"),
    );
    let mut table = Table::new(&[
        "nodes",
        "subprocess ÷ share",
        "subprocess ÷ move",
        "subprocess ÷ copy",
        "copy ÷ move",
    ]);
    for (i, &nodes) in sizes.iter().enumerate() {
        let m = |l: usize| results[l][i].median();
        let cells = [
            m(sub) / m(share),
            m(sub) / m(mv),
            m(sub) / m(copy),
            m(copy) / m(mv),
        ];
        for (r, v) in [
            Ratio::SubprocessOverShare,
            Ratio::SubprocessOverMove,
            Ratio::SubprocessOverCopy,
            Ratio::CopyOverMove,
        ]
        .into_iter()
        .zip(cells)
        {
            report.metric(m::ratio(r, nodes), v);
        }
        let mut row = vec![int(nodes as u64)];
        row.extend(cells.iter().map(|&v| ratio(v)));
        table.row(row);
    }
    report.heading("Ratios (Biased)");
    report.table(&table);

    let series: Vec<Series> = lines
        .iter()
        .enumerate()
        .filter(|(_, l)| !l.deferred)
        .map(|(l, line)| Series {
            name: line.name.clone(),
            points: sizes
                .iter()
                .zip(&results[l])
                .map(|(&n, s)| (n as f64, s.median() / 1e3))
                .collect(),
        })
        .collect();
    let file = "send_cost.svg";
    report.plot(
        &ctx.out,
        file,
        &Chart {
            title: "Cost of one send versus graph size (Biased)",
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
