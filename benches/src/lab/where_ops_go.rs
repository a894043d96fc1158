//! Experiment 4: where the counting operations of real programs go.
//!
//! The analogue of the BRC paper's Tables 2 and 3 (private versus shared
//! operations, objects queued). The counters exist only with the `stats`
//! feature, which must never be on in a timed binary, so this experiment
//! builds a separate `brisk` with `--features stats` (in `target/lab-stats`,
//! see [`programs`]) and runs each example with `--stats=json` under
//! `biased` and `deferred`. The interpreter writes its counters as one JSON
//! object on standard error, a [`Stats`] serialized, which this experiment
//! reads back into the same type (brisk-refcount's `serde` feature).

use brisk_refcount::embed::stats::Stats;

use super::env::Binary;
use super::metrics::where_ops_go::{self as m, Figure};
use super::programs::{self, Run};
use super::report::{int, percent, Table};
use super::{Ctx, Experiment, Outcome, Report, Suite};

/// The experiment.
pub const EXPERIMENT: Experiment = Experiment {
    name: "where_ops_go",
    title: "Where counting operations go (BRC Tables 2–3 analogue)",
    question: "How many counting operations take the owner's plain path, how many the \
               shared atomic path, and how many are queued or coalesced, in real programs?",
    timed: &[Binary::Brisk],
    run,
};

const POLICIES: [&str; 2] = ["biased", "deferred"];

/// The counters `brisk run --stats=json` wrote: the last non-empty line of
/// its standard error, a [`Stats`] serialized by the interpreter with the
/// same type.
pub(super) fn read_stats(stderr: &str) -> Result<Stats, String> {
    let last = stderr
        .lines()
        .rev()
        .find(|l| !l.trim().is_empty())
        .ok_or("`brisk run --stats=json` printed nothing on standard error")?;
    serde_json::from_str(last).map_err(|e| {
        format!(
            "could not read the counters `brisk run --stats=json` printed ({e}): {}",
            stderr.trim()
        )
    })
}

fn run(ctx: &Ctx) -> Outcome {
    if ctx.suite == Suite::Smoke {
        return Outcome::Skipped(
            "not in the smoke suite: it needs a second build of `brisk` with the `stats` \
             feature (`target/lab-stats`), which takes minutes"
                .to_owned(),
        );
    }
    let bin = match programs::build(ctx, programs::Build::Stats) {
        Ok(bin) => bin,
        Err(why) => return Outcome::Skipped(why),
    };
    let list = programs::all();
    let mut report = Report::new();
    report.para(format!(
        "Counters of a `brisk` built with `--features stats` (never timed), from \
         `brisk run FILE ARGS --policy P --stats=json`, summed over every thread of the \
         process. Shares are of all counting operations (owner + shared + buffered). \
         Programs: {}.",
        list.iter()
            .map(|p| format!("`{}`", p.command_line(ctx.suite)))
            .collect::<Vec<_>>()
            .join(", ")
    ));
    // Owner-path shares of the single-interpreter programs under `biased`.
    let mut single_owner: Vec<f64> = Vec::new();
    // The crossing program's non-owner share per policy: shared-path
    // operations under `biased`, buffered ones under `deferred`.
    let mut crossing: Vec<(&str, f64)> = Vec::new();
    for policy in POLICIES {
        report.heading(format!("`{policy}`"));
        let mut table = Table::new(&[
            "program",
            "operations",
            "owner path",
            "shared path",
            "shared-path ops",
            "buffered",
            "coalesced away",
            "queued objects",
            "frees",
            "queued ÷ frees",
        ]);
        for program in &list {
            ctx.step(format!("{} under {policy}", program.name));
            let run = programs::run_example(ctx, &bin, program, policy, &["--stats=json"]);
            let r: Run = match run {
                Ok(r) => r,
                Err(e) => return Outcome::Skipped(format!("a program failed: {e}")),
            };
            let c = match read_stats(&r.stderr) {
                Ok(stats) => stats,
                Err(why) => return Outcome::Skipped(why),
            };
            let total = (c.owner_ops + c.shared_ops + c.buffered_ops) as f64;
            let share = |x: u64| {
                if total > 0.0 {
                    x as f64 / total
                } else {
                    f64::NAN
                }
            };
            let queued_share = if c.frees > 0 {
                c.queued as f64 / c.frees as f64
            } else {
                f64::NAN
            };
            if policy == "biased" && program.is_single() {
                single_owner.push(share(c.owner_ops));
            }
            if program.name == programs::CROSSING {
                crossing.push((policy, share(c.shared_ops + c.buffered_ops)));
            }
            let mut metric =
                |figure, value| report.metric(m::program(program.name, policy, figure), value);
            metric(Figure::Operations, total);
            metric(Figure::OwnerShare, share(c.owner_ops));
            metric(Figure::SharedShare, share(c.shared_ops));
            metric(Figure::BufferedShare, share(c.buffered_ops));
            metric(Figure::CoalescedShare, share(c.coalesced_ops));
            metric(Figure::QueuedObjects, c.queued as f64);
            metric(Figure::MergedObjects, c.merged as f64);
            metric(Figure::AppliedAtomics, c.applied_atomics as f64);
            metric(Figure::Frees, c.frees as f64);
            metric(Figure::QueuedPerFree, queued_share);
            table.row(vec![
                format!("`{}`", program.name),
                int(total as u64),
                percent(share(c.owner_ops)),
                percent(share(c.shared_ops)),
                int(c.shared_ops),
                percent(share(c.buffered_ops)),
                percent(share(c.coalesced_ops)),
                int(c.queued),
                int(c.frees),
                percent(queued_share),
            ]);
        }
        report.table(&table);
    }
    report.para(
        "\"Coalesced away\" counts buffered operations that needed no atomic of their own \
         (buffered minus the atomics a flush applied); \"queued ÷ frees\" is the share of \
         freed objects that went through an owner's merge queue.",
    );
    if !single_owner.is_empty() {
        let lo = single_owner.iter().copied().fold(f64::INFINITY, f64::min);
        let hi = single_owner
            .iter()
            .copied()
            .fold(f64::NEG_INFINITY, f64::max);
        report.metric(m::SINGLE_BIASED_OWNER_SHARE_MIN, lo);
        let range = if lo == hi {
            percent(lo)
        } else {
            format!("{} to {}", percent(lo), percent(hi))
        };
        report.para(format!(
            "Under `biased`, the programs with one interpreter took the owner path for \
             {range} of their counting operations."
        ));
    }
    if !crossing.is_empty() {
        let shares: Vec<String> = crossing
            .iter()
            .map(|(policy, share)| format!("{} under `{policy}`", percent(*share)))
            .collect();
        report.para(format!(
            "The non-owner share (shared path plus buffered) of the counting operations \
             of `{}`, whose later stages keep and reread records another interpreter \
             made: {}.",
            programs::CROSSING,
            shares.join(", ")
        ));
    }
    Outcome::Ran(report)
}

#[cfg(test)]
mod tests {
    use brisk_refcount::embed::stats::Stats;

    use super::read_stats;

    #[test]
    fn reads_the_counters_from_the_last_line_of_stderr() {
        let stats = Stats {
            owner_ops: 1000,
            shared_ops: 100,
            queued: 3,
            merged: 3,
            frees: 50,
            ..Stats::default()
        };
        let json = serde_json::to_string(&stats).unwrap();
        let stderr = format!("a warning first\n{json}\n\n");
        assert_eq!(read_stats(&stderr), Ok(stats));
    }

    #[test]
    fn a_binary_without_counters_is_an_error_that_quotes_it() {
        let note = "note: --stats needs counters compiled in; this binary was built \
                    without the `stats` feature.";
        let why = read_stats(note).unwrap_err();
        assert!(why.contains("without the `stats` feature"), "{why}");
        assert!(read_stats("").is_err());
        assert!(
            read_stats(r#"{"owner_ops": 1}"#).is_err(),
            "every counter is required"
        );
    }
}
