//! Experiment 5, continued: whole-program ratios to `gil` over random code
//! placements.
//!
//! # Why
//!
//! `whole_program` times one build. In that build each counting policy is
//! its own monomorphisation of the interpreter's eval loop, at its own
//! addresses, and where a hot loop's branch targets fall against the
//! processor's fetch, decode-cache and predictor boundaries moves its speed
//! by several percent, whatever the loop does. So one build's ratio of two
//! policies is the counting difference plus one draw of a placement
//! difference, and an unrelated edit can redraw it (Mytkowicz, Diwan,
//! Hauswirth and Sweeney, "Producing wrong data without doing anything
//! obviously wrong!", ASPLOS 2009). Stabilizer (Curtsinger and Berger,
//! ASPLOS 2013) answers by timing many random layouts and reporting over
//! them.
//!
//! # How
//!
//! The same `brisk`, linked again for each seed 1, 2, … with its functions
//! in a seeded random order (LLD's `--shuffle-sections`;
//! [`programs::Build::Placed`]). The instructions do not change, only
//! where every function starts. For each placement, every
//! single-interpreter example runs under every policy in rounds
//! ([`paired`](super::paired)), and each policy gets the median of its
//! per-round ratios to `gil`, then the geometric mean over the programs:
//! one figure per placement and policy. The figures over the placements
//! are then summarised by their median, with a 95% confidence interval for
//! it ([`Samples::median_interval`]).

use super::env::Binary;
use super::measure::Samples;
use super::metrics::placement as m;
use super::paired::{median_with_interval, note_outputs, PolicyRuns};
use super::programs::{self, Build, POLICIES, SINGLE, TARGETS};
use super::report::{fine_ratio, num, Table};
use super::{Ctx, Experiment, Outcome, Report};

/// The experiment.
pub const EXPERIMENT: Experiment = Experiment {
    name: "placement",
    title: "Whole-program ratios to a GIL over random code placements",
    question: "What does GIL-free counting cost a single thread, once the luck of where the \
               linker put each policy's code is averaged out? (\"Do we know yet how much \
               single-thread overhead this adds?\", python-dev 2017)",
    timed: &[Binary::Brisk],
    run,
};

fn run(ctx: &Ctx) -> Outcome {
    // Four rounds per placement: each policy once in each position.
    let (placements, rounds) = ctx.suite.pick((1, 1), (8, 4), (16, 4));
    // over[j]: policy j's figure, one per placement (the geometric mean
    // over the programs of its paired medians); per_program[i][j]: the
    // paired medians of program i under policy j, one per placement.
    let mut over = vec![Samples::default(); POLICIES.len()];
    let mut per_program = vec![vec![Samples::default(); POLICIES.len()]; SINGLE.len()];
    let mut gil_seconds = Samples::default();
    let mut mismatches = Vec::new();
    for seed in 1..=placements as u64 {
        let bin = match programs::build(ctx, Build::Placed(seed)) {
            Ok(bin) => bin,
            Err(why) => return Outcome::Skipped(why),
        };
        let mut runs = PolicyRuns::default();
        for round in 0..rounds {
            ctx.step(format!(
                "placement {seed}/{placements}, round {}/{rounds}",
                round + 1
            ));
            for (i, program) in SINGLE.iter().enumerate() {
                if let Err(e) = runs.round(ctx, &bin, (i, program), round) {
                    return Outcome::Skipped(format!("a program failed: {e}"));
                }
            }
        }
        mismatches.extend(
            runs.mismatches(&SINGLE)
                .into_iter()
                .map(|m| format!("{m} (placement {seed})")),
        );
        for j in 1..POLICIES.len() {
            for (i, medians) in per_program.iter_mut().enumerate() {
                medians[j].push(runs.paired(i, j).median());
            }
            over[j].push(runs.paired_geomean(&SINGLE, j));
        }
        gil_seconds.push(
            (0..SINGLE.len())
                .map(|i| runs.samples[&(i, 0)].median())
                .sum(),
        );
    }

    let mut report = Report::new();
    report.para(format!(
        "{placements} builds of `brisk` that differ only in the order the linker laid out \
         their functions (`-C link-arg=-Wl,--shuffle-sections=*=SEED`, seeds 1 to \
         {placements}). For each, {rounds} rounds of every single-interpreter example \
         under every policy, the order of the policies rotating each round, with the \
         arguments `whole_program` uses ({}); a policy's figure for one \
         placement is the geometric mean over the programs of the median of its \
         per-round ratios to `gil`.",
        SINGLE
            .iter()
            .map(|p| format!("`{}`", p.command_line(ctx.suite)))
            .collect::<Vec<_>>()
            .join(", ")
    ));

    let mut headers = vec!["placement (seed)".to_owned(), "`gil` time".to_owned()];
    headers.extend(POLICIES[1..].iter().map(|p| format!("`{p}` ÷ `gil`")));
    let mut table = Table::new(&headers);
    for (s, gil) in gil_seconds.values().iter().enumerate() {
        let mut row = vec![(s + 1).to_string(), format!("{} s", num(*gil))];
        for (j, policy) in POLICIES.iter().enumerate().skip(1) {
            let figure = over[j].values()[s];
            row.push(fine_ratio(figure));
            report.metric(m::seed(s as u64 + 1, policy), figure);
        }
        table.row(row);
    }
    let mut row = vec![
        "median over placements (95% interval)".to_owned(),
        String::new(),
    ];
    for (j, policy) in POLICIES.iter().enumerate().skip(1) {
        row.push(median_with_interval(
            &mut report,
            &m::over_placements(policy),
            &over[j],
        ));
    }
    table.row(row);
    report.table(&table);
    let gil_spread = gil_seconds.max() / gil_seconds.min();
    report.metric(m::GIL_TIME_MAX_OVER_MIN, gil_spread);
    report.para(format!(
        "\"`gil` time\" is the sum over the programs of `gil`'s median time in that \
         placement; the slowest placement's is {} the fastest's. That spread is the \
         placements and the machine's drift between them together; the ratios, paired \
         within rounds, carry the placements but little of the drift. The median over \
         placements is the figure that prices the counting rather than one placement.",
        fine_ratio(gil_spread)
    ));

    report.heading("Per program, over placements");
    let mut headers = vec!["program".to_owned()];
    headers.extend(
        POLICIES[1..]
            .iter()
            .map(|p| format!("`{p}` ÷ `gil` median (min–max)")),
    );
    let mut table = Table::new(&headers);
    for (i, program) in SINGLE.iter().enumerate() {
        let mut row = vec![format!("`{}`", program.name)];
        for (j, policy) in POLICIES.iter().enumerate().skip(1) {
            let s = &per_program[i][j];
            report.metric(m::program_over_placements(program.name, policy), s.median());
            row.push(format!(
                "{} ({}–{})",
                fine_ratio(s.median()),
                fine_ratio(s.min()),
                fine_ratio(s.max())
            ));
        }
        table.row(row);
    }
    report.table(&table);

    let reading: Vec<String> = TARGETS
        .iter()
        .map(|&(policy, target)| {
            let j = POLICIES
                .iter()
                .position(|p| *p == policy)
                .expect("a policy of the table");
            let median = over[j].median();
            let within = match over[j].median_interval() {
                Some((_, high)) if high <= target => "met, and the interval's top is under it",
                _ if median <= target => "met at the median",
                _ => "not met",
            };
            format!(
                "`{policy}` {} (target: within {:.0}% of `gil`; {within})",
                fine_ratio(median),
                (target - 1.0) * 100.0
            )
        })
        .collect();
    report.para(format!(
        "Reading it, the median over placements: {}. The `instructions` experiment \
         counts the same programs' instructions, which placement does not move.",
        reading.join("; ")
    ));

    note_outputs(
        &mut report,
        &mismatches,
        "Every policy printed the same output as `gil` in every placement.",
    );
    if ctx.suite == super::Suite::Smoke {
        report.note(
            "Smoke suite: one placement, one round, the programs' default (tiny) \
             arguments; no timing claim.",
        );
    }
    Outcome::Ran(report)
}
