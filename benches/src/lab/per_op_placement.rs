//! Experiment 1, continued: per-operation ratios to `Rc` over random code
//! placements.
//!
//! # Why
//!
//! A clone+drop pair on the owner path is a dozen to twenty instructions,
//! a few cycles. At that size, where the loop's branch targets fall against
//! the processor's fetch and decode-cache boundaries moves a variant's time
//! by tens of percent (Mytkowicz, Diwan, Hauswirth and Sweeney, ASPLOS
//! 2009): on the 2-core box an edit to the `Brc` increment left
//! `LocalBrc`'s code as it was and still moved its `per_op` ratio from
//! 1.17× to 1.32×, and `Brc<NonAtomic>`, untouched too, moved the other
//! way. One build's `per_op` is one draw of placement for every row. The
//! `placement` experiment answers the same problem for whole programs; this
//! is its per-operation counterpart.
//!
//! # How
//!
//! brisk-lab itself is linked again for each seed 1, 2, … with its
//! functions in a seeded random order ([`programs::build_placed_lab`]),
//! and each placed build runs `per_op`'s measurement in a child process
//! (the hidden `per-op-child` subcommand, [`child_output`]). For each
//! placement a row's figure is the median of its per-round ratios to `Rc`;
//! over the placements the figures are summarised by their median, with a
//! 95% interval for it ([`Samples::median_interval`]), and their range.

use std::process::{Command, Stdio};

use serde::{Deserialize, Serialize};

use super::env::Binary;
use super::measure::Samples;
use super::metrics::per_op as metrics;
use super::paired::median_with_interval;
use super::per_op::{self, Measured};
use super::plot::{Estimate, Forest};
use super::programs;
use super::report::{fine_ratio, num, Table};
use super::{Ctx, Experiment, Outcome, Report, Suite};

/// The experiment.
pub const EXPERIMENT: Experiment = Experiment {
    name: "per_op_placement",
    title: "Per-operation ratios to Rc over random code placements",
    question: "What does the owner path cost against `Rc`, once the luck of where the linker \
               put each loop is averaged out? (\"Do we know yet how much single-thread \
               overhead this adds?\", python-dev 2017)",
    timed: &[Binary::BriskLab],
    run,
};

/// The owner-path target the `gc` issue set: `Deferred`'s owner path
/// within 15% of `Rc`.
const OWNER_TARGET: f64 = 1.15;

/// The rows the reading names: the owner paths under `Deferred`.
const OWNER_ROWS: [&str; 2] = [metrics::DEFERRED_OWNER, metrics::LOCAL_DEFERRED];

/// One row's samples as `per-op-child` prints them.
#[derive(Serialize, Deserialize)]
struct ChildRow {
    name: String,
    ns_per_pair: Vec<f64>,
}

/// The `per-op-child` subcommand: `per_op`'s measurement in this process,
/// as one JSON array of rows.
pub fn child_output(ctx: &Ctx) -> String {
    let Measured { samples, .. } = per_op::measure(ctx);
    let rows: Vec<ChildRow> = per_op::row_names()
        .zip(samples)
        .map(|(name, s)| ChildRow {
            name: name.to_owned(),
            ns_per_pair: s.values().to_vec(),
        })
        .collect();
    serde_json::to_string(&rows).expect("rows of names and numbers serialise")
}

/// Runs the placed build `bin` as a `per-op-child` and returns its samples
/// in `per_op`'s row order.
fn run_child(ctx: &Ctx, bin: &std::path::Path) -> Result<Vec<Samples>, String> {
    let output = Command::new(bin)
        .current_dir(&ctx.workspace)
        .args(["per-op-child", "--suite", ctx.suite.name()])
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("could not run {}: {e}", bin.display()))?;
    if !output.status.success() {
        return Err(format!(
            "{} per-op-child failed ({}): {}",
            bin.display(),
            output.status,
            String::from_utf8_lossy(&output.stderr).trim()
        ));
    }
    let rows: Vec<ChildRow> = serde_json::from_slice(&output.stdout)
        .map_err(|e| format!("per-op-child printed no rows: {e}"))?;
    let names: Vec<&str> = rows.iter().map(|r| r.name.as_str()).collect();
    if !names.iter().copied().eq(per_op::row_names()) {
        return Err(format!(
            "per-op-child's rows {names:?} are not this build's; rebuild brisk-lab"
        ));
    }
    Ok(rows
        .into_iter()
        .map(|r| Samples::new(r.ns_per_pair))
        .collect())
}

fn run(ctx: &Ctx) -> Outcome {
    let placements = ctx.suite.pick(1, 8, 16);
    let names: Vec<&str> = per_op::row_names().collect();
    // over[i]: row i's paired median ratio to `Rc`, one per placement;
    // ns[i]: its median nanoseconds per pair, one per placement.
    let mut over = vec![Samples::default(); names.len()];
    let mut ns = vec![Samples::default(); names.len()];
    for seed in 1..=placements as u64 {
        let bin = match programs::build_placed_lab(ctx, seed) {
            Ok(bin) => bin,
            Err(why) => return Outcome::Skipped(why),
        };
        ctx.step(format!("placement {seed}/{placements}: per_op"));
        let samples = match run_child(ctx, &bin) {
            Ok(samples) => samples,
            Err(why) => return Outcome::Skipped(why),
        };
        for (i, s) in samples.iter().enumerate() {
            over[i].push(s.paired_ratios(&samples[0]).median());
            ns[i].push(s.median());
        }
    }

    let mut report = Report::new();
    report.para(format!(
        "{placements} builds of brisk-lab that differ only in the order the linker laid \
         out their functions (`-C link-arg=-Wl,--shuffle-sections=*=SEED`, seeds 1 to \
         {placements}), each running `per_op`'s {} measurement in its own process. A \
         row's figure for one placement is the median of its per-round ratios to `Rc` \
         (the rows interleaved, their order rotating each round); the table gives the \
         median of those figures over the placements, its 95% interval, and their \
         range.",
        ctx.suite.name()
    ));
    let mut table = Table::new(&[
        "variant",
        "path",
        "ratio to Rc, median over placements (95% interval)",
        "min–max over placements",
        "ns per pair (median over placements)",
    ])
    .left(1);
    for (i, name) in names.iter().enumerate() {
        table.row(vec![
            format!("`{name}`"),
            per_op::row_path(name).unwrap_or_default().to_owned(),
            median_with_interval(&mut report, &metrics::ratio_to_rc(name), &over[i]),
            format!(
                "{}–{}",
                fine_ratio(over[i].min()),
                fine_ratio(over[i].max())
            ),
            num(ns[i].median()),
        ]);
        report.metric(metrics::ns_per_pair(name), ns[i].median());
    }
    report.table(&table);
    forest(ctx, &mut report, &names, &over);

    let reading: Vec<String> = OWNER_ROWS
        .iter()
        .map(|name| {
            let i = names
                .iter()
                .position(|n| n == name)
                .expect("an owner row of per_op");
            let under = over[i]
                .values()
                .iter()
                .filter(|&&r| r <= OWNER_TARGET)
                .count();
            format!(
                "`{name}` {} at the median, at or under {} in {under} of {placements} \
                 placements",
                fine_ratio(over[i].median()),
                fine_ratio(OWNER_TARGET)
            )
        })
        .collect();
    report.para(format!(
        "Reading it, against the target of {} `Rc` for the owner path under `Deferred`: \
         {}.",
        fine_ratio(OWNER_TARGET),
        reading.join("; ")
    ));
    if ctx.suite == Suite::Smoke {
        report.note("Smoke suite: one placement, samples too short for any timing claim.");
    }
    Outcome::Ran(report)
}

/// The legend of the forest plot: brisk's own rows, then the others.
const GROUPS: [&str; 2] = ["brisk (Brc, LocalBrc)", "std and other crates"];

/// Which of [`GROUPS`] the row `name` belongs to.
fn group(name: &str) -> usize {
    if name.starts_with("Brc<") || name.starts_with("LocalBrc<") {
        0
    } else {
        1
    }
}

/// The forest plot of the rows' ratios to `Rc` over the placements
/// (`over[i]` for `names[i]`): each row's median with its 95% interval,
/// against 1.00× and [`OWNER_TARGET`].
fn forest(ctx: &Ctx, report: &mut Report, names: &[&str], over: &[Samples]) {
    let rows: Vec<Estimate> = names
        .iter()
        .zip(over)
        .map(|(name, s)| Estimate {
            label: (*name).to_owned(),
            group: group(name),
            median: s.median(),
            interval: s.median_interval(),
        })
        .collect();
    let target = format!("{OWNER_TARGET:.2}×: the owner-path target");
    report.para(format!(
        "The same as a picture: a dot at each row's median ratio over the placements, a \
         bar over its 95% interval, and dashed lines at 1.00× (`Rc`) and at the \
         owner-path target, {}.",
        fine_ratio(OWNER_TARGET)
    ));
    report.forest(
        &ctx.out,
        "per_op_placement_forest.svg",
        &Forest {
            title: "clone+drop ÷ Rc's, over code placements (median, 95% interval)",
            x_label: "time of a clone+drop pair ÷ Rc's (log scale)",
            groups: &GROUPS,
            lines: &[(1.0, "1.00×: as fast as Rc"), (OWNER_TARGET, &target)],
            log_x: true,
        },
        &rows,
    );
}

#[cfg(test)]
mod tests {
    use super::{group, per_op, GROUPS};

    #[test]
    fn every_row_of_per_op_has_a_group() {
        let brisk: Vec<&str> = per_op::row_names().filter(|n| group(n) == 0).collect();
        assert!(brisk.contains(&"Brc<Biased> owner"), "{brisk:?}");
        assert!(brisk.contains(&"LocalBrc<Deferred>"), "{brisk:?}");
        assert_eq!(group("Rc"), 1);
        assert_eq!(group("hybrid_rc::Arc"), 1);
        assert!(per_op::row_names().all(|n| group(n) < GROUPS.len()));
    }
}
