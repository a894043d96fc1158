//! Experiment 5: whole programs under each policy, as ratios to `gil`.
//!
//! Each example of `interp/examples/` runs as a `brisk` subprocess (the
//! release build; see [`programs`]) under `gil`, `biased`, `deferred` and
//! `atomic`, in rounds ([`paired`](super::paired)): in each round every
//! program runs once under every policy, the policies of one program back
//! to back in an order that rotates each round. Every policy must print
//! the same output for the same program, which the experiment checks.
//! `parallel-map` runs with one and with two worker interpreters, which
//! gives its speedup per policy (under `gil` the workers take turns).
//!
//! `window` is the example whose objects really cross: its later stages
//! keep the records another interpreter made and read them over and over,
//! so most of its counting is a non-owner's ([`programs::CROSSING`]); its
//! own section gives each policy's ratio to `gil` paired by round.
//!
//! Two views of the single-interpreter programs: each policy's median time
//! over `gil`'s median, and the median of the ratios paired by round, with
//! a 95% confidence interval. Both are of one build, whose code placement
//! is one draw; [`placement`](super::placement) averages over many.

use super::env::Binary;
use super::measure::geomean;
use super::metrics::whole_program::{self as m, Figure};
use super::paired::{median_with_interval, note_outputs, paired_table, PolicyRuns};
use super::plot::{Estimate, Forest};
use super::programs::{self, Build, Program, POLICIES, TARGETS};
use super::report::{fine_ratio, num, percent, ratio, Table};
use super::{Ctx, Experiment, Outcome, Report};

/// The experiment.
pub const EXPERIMENT: Experiment = Experiment {
    name: "whole_program",
    title: "Whole-program time per policy, relative to a GIL",
    question: "What does GIL-free counting cost a whole single-threaded program, and what \
               do several interpreters gain? (\"I still don't understand what the benefits \
               are unless we can remove the GIL and somehow get a speedup over processes\")",
    timed: &[Binary::Brisk],
    run,
};

fn run(ctx: &Ctx) -> Outcome {
    let bin = match programs::build(ctx, Build::Plain) {
        Ok(bin) => bin,
        Err(why) => return Outcome::Skipped(why),
    };
    let rounds = ctx.suite.pick(1, 12, 20);
    let list = programs::all();
    let mut runs = PolicyRuns::default();
    for round in 0..rounds {
        for (i, program) in list.iter().enumerate() {
            ctx.step(format!("round {}/{rounds}: {}", round + 1, program.name));
            if let Err(e) = runs.round(ctx, &bin, (i, program), round) {
                return Outcome::Skipped(format!("a program failed: {e}"));
            }
        }
    }
    let samples = &runs.samples;

    let mut report = Report::new();
    report.para(format!(
        "`brisk run FILE ARGS --policy P` as a subprocess (the release build); wall \
         time from spawn to exit, median of {rounds} rounds, every program under every \
         policy in each round, the policies in an order that rotates by one each round. \
         Programs and arguments (`interp/examples/`): {}.",
        list.iter()
            .map(|p| format!("`{}`", p.command_line(ctx.suite)))
            .collect::<Vec<_>>()
            .join(", ")
    ));
    let mut headers = vec!["program".to_owned(), "interpreters".to_owned()];
    headers.push("`gil` time".to_owned());
    headers.extend(POLICIES[1..].iter().map(|p| format!("`{p}` ÷ `gil`")));
    headers.push("spread".to_owned());
    let mut table = Table::new(&headers);
    let mut worst_spread: f64 = 0.0;
    let mut ratios: Vec<Vec<f64>> = vec![Vec::new(); POLICIES.len()];
    for (i, program) in list.iter().enumerate() {
        let gil = samples[&(i, 0)].median();
        let mut row = vec![
            format!("`{}`", program.name),
            program.interpreters.to_string(),
        ];
        row.push(format!("{} s", num(gil)));
        for (j, policy) in POLICIES.iter().enumerate() {
            let t = samples[&(i, j)].median();
            report.metric(m::program(program.name, policy, Figure::Seconds), t);
            report.metric(
                m::program(program.name, policy, Figure::RatioToGil),
                t / gil,
            );
            if j > 0 {
                row.push(ratio(t / gil));
            }
            if program.is_single() {
                ratios[j].push(t / gil);
            }
        }
        // Run-to-run noise: the widest (max − min) / median of the four.
        let spread = (0..POLICIES.len())
            .map(|j| {
                let s = &samples[&(i, j)];
                (s.max() - s.min()) / s.median()
            })
            .fold(0.0, f64::max);
        worst_spread = worst_spread.max(spread);
        report.metric(m::spread(program.name), spread);
        row.push(percent(spread));
        table.row(row);
    }
    let mut row = vec![
        "geometric mean, single-interpreter programs".to_owned(),
        String::new(),
        String::new(),
    ];
    for (j, policy) in POLICIES.iter().enumerate().skip(1) {
        let g = geomean(&ratios[j]);
        row.push(ratio(g));
        report.metric(m::geomean_ratio_to_gil(policy), g);
    }
    table.row(row);
    report.table(&table);
    report.metric(m::WORST_SPREAD, worst_spread);
    report.para(format!(
        "\"Spread\" is the run-to-run noise of each program: the widest (max − min) ÷ \
         median over its {rounds} rounds, among the four policies; the widest in this \
         run was {}. A ratio nearer 1 than its spread is not a measured difference.",
        percent(worst_spread)
    ));

    report.heading("Paired by round");
    report.para(format!(
        "The same programs, each policy's time divided by `gil`'s in the same round \
         (the runs of one round follow one another, so they see the machine at nearly \
         the same speed): the median of the {rounds} per-round ratios, and a 95% \
         confidence interval for that median (distribution-free: between two order \
         statistics of the ratios). The code placement of this one build still \
         weighs on these; `placement.md` averages it out."
    ));
    paired_table(&mut report, &list, &runs);
    forest(ctx, &mut report, &list, &runs);

    report.heading("parallel-map: one worker interpreter versus two");
    let one = list.iter().position(|p| p.name == "parallel-map/1");
    let two = list.iter().position(|p| p.name == "parallel-map/2");
    if let (Some(one), Some(two)) = (one, two) {
        let mut table = Table::new(&[
            "policy",
            "1 worker",
            "2 workers",
            "speedup",
            "speedup paired by round (95% interval)",
        ]);
        for (j, policy) in POLICIES.iter().enumerate() {
            let t1 = samples[&(one, j)].median();
            let t2 = samples[&(two, j)].median();
            report.metric(m::parallel_map_speedup(policy), t1 / t2);
            let paired = samples[&(one, j)].paired_ratios(&samples[&(two, j)]);
            table.row(vec![
                format!("`{policy}`"),
                format!("{} s", num(t1)),
                format!("{} s", num(t2)),
                ratio(t1 / t2),
                median_with_interval(
                    &mut report,
                    &m::parallel_map_paired_speedup(policy),
                    &paired,
                ),
            ]);
        }
        report.table(&table);
        let cores = super::cores();
        report.para(format!(
            "The same items are mapped either way; two workers can at best halve the \
             time on a machine with two idle cores (this one has {cores}). Under `gil` \
             the workers take turns on one lock. \"Speedup\" divides the medians; the \
             paired speedup is the median of each round's one-worker time over its \
             two-worker time, which the machine's drift between rounds moves less."
        ));
    }

    if let Some(i) = list.iter().position(|p| p.name == programs::CROSSING) {
        crossing_table(&mut report, &runs, i, rounds);
    }

    report.heading("Peak resident memory per policy");
    let mut table = Table::new(
        &std::iter::once("program".to_owned())
            .chain(POLICIES.iter().map(|p| format!("`{p}` MiB")))
            .collect::<Vec<_>>(),
    );
    for (i, program) in list.iter().enumerate() {
        let mut row = vec![format!("`{}`", program.name)];
        for (j, policy) in POLICIES.iter().enumerate() {
            let mib = runs.rss[&(i, j)] as f64 / (1 << 20) as f64;
            row.push(num(mib));
            report.metric(m::program(program.name, policy, Figure::MaxRssMib), mib);
        }
        table.row(row);
    }
    report.para(
        "The largest peak RSS over the rounds (`ru_maxrss` from `wait4` in a small \
         helper process, `brisk-lab measure`): the whole process, binary and allocator \
         included.",
    );
    report.table(&table);

    note_outputs(
        &mut report,
        &runs.mismatches(&list),
        "Every policy printed the same output as `gil` for every program.",
    );
    if ctx.suite == super::Suite::Smoke {
        report.note(
            "Smoke suite: the programs' default (tiny) arguments, one round; no timing claim.",
        );
    }
    Outcome::Ran(report)
}

/// The forest plot of the paired ratios to `gil`: one row per program (the
/// single-interpreter ones and [`programs::CROSSING`]) and policy, its
/// median over the rounds with its 95% interval, against lines at 1 and
/// at each of [`TARGETS`].
fn forest(ctx: &Ctx, report: &mut Report, list: &[Program], runs: &PolicyRuns) {
    let policies = &POLICIES[1..];
    let mut rows = Vec::new();
    for (i, program) in list.iter().enumerate() {
        if !program.is_single() && program.name != programs::CROSSING {
            continue;
        }
        for (g, policy) in policies.iter().enumerate() {
            let ratios = runs.paired(i, g + 1);
            rows.push(Estimate {
                label: format!("{} · {policy}", program.name),
                group: g,
                median: ratios.median(),
                interval: ratios.median_interval(),
            });
        }
    }
    let labels: Vec<(f64, String)> = std::iter::once((1.0, "1.00×: as fast as gil".to_owned()))
        .chain(TARGETS.iter().map(|&(policy, target)| {
            (
                target,
                format!("{}: the {policy} target", fine_ratio(target)),
            )
        }))
        .collect();
    let lines: Vec<(f64, &str)> = labels
        .iter()
        .map(|(x, label)| (*x, label.as_str()))
        .collect();
    report.para(
        "The same ratios as a picture, `window` included: a dot at each program's median \
         ratio to `gil` under each policy, a bar over its 95% interval (none with fewer \
         than six rounds), and dashed lines at 1.00× and at the targets (`biased` within \
         2% of `gil`, `deferred` within 3%). A bar that crosses a line does not tell the \
         two apart.",
    );
    report.forest(
        &ctx.out,
        "whole_program_forest.svg",
        &Forest {
            title: "Whole programs: time ÷ gil's, paired by round (median, 95% interval)",
            x_label: "time ÷ gil's time in the same round",
            groups: policies,
            lines: &lines,
            log_x: false,
        },
        &rows,
    );
}

/// The section on [`programs::CROSSING`] (program `i` of the runs): each
/// policy's time over `gil`'s in the same round, as a median with its 95%
/// interval, recorded as [`m::program`]`(…, PairedRatioToGil)`.
fn crossing_table(report: &mut Report, runs: &PolicyRuns, i: usize, rounds: usize) {
    let name = programs::CROSSING;
    report.heading(format!("Objects that cross: `{name}`"));
    let mut table = Table::new(&[
        "policy",
        "median time",
        "÷ `gil`, paired by round (95% interval)",
    ]);
    for (j, policy) in POLICIES.iter().enumerate() {
        let paired = if j == 0 {
            "1 (the baseline)".to_owned()
        } else {
            let key = m::program(name, policy, Figure::PairedRatioToGil);
            median_with_interval(report, &key, &runs.paired(i, j))
        };
        table.row(vec![
            format!("`{policy}`"),
            format!("{} s", num(runs.samples[&(i, j)].median())),
            paired,
        ]);
    }
    report.para(format!(
        "In `{name}.brisk` a producer shares frozen records with a matcher and a \
         reporter, which keep the last records they received in a window and read \
         them against every new one: most counting operations are a non-owner's, \
         on records another interpreter owns (`where_ops_go.md` gives the share). \
         This is where the policies part: a non-owner's operation is an atomic \
         read-modify-write under `biased` and `atomic`, a buffered entry that \
         mostly cancels under `deferred`, and a plain one under `gil`, whose \
         stages take turns. The median of the {rounds} per-round ratios, with \
         the sign test's interval."
    ));
    report.table(&table);
}
