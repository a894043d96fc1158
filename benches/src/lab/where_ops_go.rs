//! Experiment 4: where the counting operations of real programs go.
//!
//! The analogue of the BRC paper's Tables 2 and 3 (private versus shared
//! operations, objects queued). The counters exist only with the `stats`
//! feature, which must never be on in a timed binary, so this experiment
//! builds a separate `brisk` with `--features stats` (in `target/lab-stats`,
//! see [`programs`]) and runs each example with `--stats` under `biased` and
//! `deferred`, parsing the counters the interpreter prints on stderr.

use super::programs::{self, Run};
use super::report::{int, percent, Table};
use super::{Ctx, Experiment, Outcome, Report, Suite};

/// The experiment.
pub const EXPERIMENT: Experiment = Experiment {
    name: "where_ops_go",
    title: "Where counting operations go (BRC Tables 2–3 analogue)",
    question: "How many counting operations take the owner's plain path, how many the \
               shared atomic path, and how many are queued or coalesced, in real programs?",
    run,
};

const POLICIES: [&str; 2] = ["biased", "deferred"];

/// The counters `brisk run --stats` prints.
#[derive(Debug, Default, Clone, Copy)]
struct Counters {
    owner: f64,
    shared: f64,
    buffered: f64,
    queued: f64,
    merged: f64,
    coalesced: f64,
    applied: f64,
    frees: f64,
}

/// Parses `--stats` output: lines such as `  owner-path operations   123 ( 45.6%)`.
fn parse(stderr: &str) -> Option<Counters> {
    let mut c = Counters::default();
    let mut seen = 0;
    for line in stderr.lines() {
        let line = line.trim();
        let field = [
            ("owner-path operations", &mut c.owner),
            ("shared-path operations", &mut c.shared),
            ("buffered operations", &mut c.buffered),
            ("queued objects", &mut c.queued),
            ("merged objects", &mut c.merged),
            ("coalesced operations", &mut c.coalesced),
            ("applied atomics", &mut c.applied),
            ("frees", &mut c.frees),
        ]
        .into_iter()
        .find(|(label, _)| line.starts_with(label));
        if let Some((label, slot)) = field {
            let rest = line[label.len()..].trim_start();
            let number = rest.split_whitespace().next()?;
            *slot = number.parse().ok()?;
            seen += 1;
        }
    }
    (seen == 8).then_some(c)
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
         `brisk run FILE ARGS --policy P --stats`, summed over every thread of the \
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
            let r: Run = match programs::run_example(ctx, &bin, program, policy, &["--stats"]) {
                Ok(r) => r,
                Err(e) => return Outcome::Skipped(format!("a program failed: {e}")),
            };
            let Some(c) = parse(&r.stderr) else {
                return Outcome::Skipped(format!(
                    "could not read the counters `brisk run --stats` printed: {}",
                    r.stderr.trim()
                ));
            };
            let total = c.owner + c.shared + c.buffered;
            let share = |x: f64| if total > 0.0 { x / total } else { f64::NAN };
            let queued_share = if c.frees > 0.0 {
                c.queued / c.frees
            } else {
                f64::NAN
            };
            if policy == "biased" && program.is_single() {
                single_owner.push(share(c.owner));
            }
            if program.name == programs::CROSSING {
                crossing.push((policy, share(c.shared + c.buffered)));
            }
            let k = format!("{}/{policy}", program.name);
            report.metric(format!("{k}/operations"), total);
            report.metric(format!("{k}/owner_share"), share(c.owner));
            report.metric(format!("{k}/shared_share"), share(c.shared));
            report.metric(format!("{k}/buffered_share"), share(c.buffered));
            report.metric(format!("{k}/coalesced_share"), share(c.coalesced));
            report.metric(format!("{k}/queued_objects"), c.queued);
            report.metric(format!("{k}/merged_objects"), c.merged);
            report.metric(format!("{k}/applied_atomics"), c.applied);
            report.metric(format!("{k}/frees"), c.frees);
            report.metric(format!("{k}/queued_per_free"), queued_share);
            table.row(vec![
                format!("`{}`", program.name),
                int(total as u64),
                percent(share(c.owner)),
                percent(share(c.shared)),
                int(c.shared as u64),
                percent(share(c.buffered)),
                percent(share(c.coalesced)),
                int(c.queued as u64),
                int(c.frees as u64),
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
        report.metric("single_interpreter/biased/owner_share_min", lo);
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
    use super::parse;

    #[test]
    fn parses_the_interpreter_stats_block() {
        let text = "refcount stats (biased policy):\n\
                    \x20 owner-path operations          1000 ( 90.9%)\n\
                    \x20 shared-path operations          100 (  9.1%)\n\
                    \x20 buffered operations               0 (  0.0%)\n\
                    \x20 queued objects                    3\n\
                    \x20 merged objects                    3\n\
                    \x20 coalesced operations              0\n\
                    \x20 applied atomics                   0\n\
                    \x20 frees                            50\n";
        let c = parse(text).expect("all eight counters");
        assert_eq!(c.owner, 1000.0);
        assert_eq!(c.shared, 100.0);
        assert_eq!(c.queued, 3.0);
        assert_eq!(c.frees, 50.0);
        assert!(parse("note: --stats needs counters compiled in").is_none());
    }
}
