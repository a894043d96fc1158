//! Experiment 2: one hot object, 1…N threads.
//!
//! Every thread clones and drops its own handle to one object as fast as it
//! can ([`workloads::contended`]); throughput is total operations (a clone
//! or a drop) per second across threads. The object is made by the
//! measuring thread, so for `Brc` thread 0 is the owner and the others are
//! non-owners. `Deferred` threads are attached and reach a safepoint every
//! [`SAFEPOINT_EVERY`] pairs. N is the number of cores this process may
//! use; thread counts are 1, 2, 4, 8, 12, 16, … up to N (and N itself; see
//! [`thread_counts`]).
//!
//! [`workloads::contended`]: crate::workloads::contended

use std::sync::Arc;

use brisk_gc::Deferred;
use brisk_refcount::Brc;

use super::env::Binary;
use super::measure::{interleave, Plan, Samples, Variant};
use super::metrics::contention as m;
use super::paired::median_with_interval;
use super::plot::{Chart, Series};
use super::report::{num, Table};
use super::{cores, thread_counts, Ctx, Experiment, Outcome, Report};
use crate::workloads::clone_drop::SAFEPOINT_EVERY;
use crate::workloads::contended::Crew;
use crate::workloads::garbage::{settle, Peak};

/// The experiment.
pub const EXPERIMENT: Experiment = Experiment {
    name: "contention",
    title: "Contention scaling: one hot object, 1…N threads",
    question: "How does counting on an object every thread uses (a type, a builtin, a \
               shared dict) scale with threads, per policy?",
    timed: &[Binary::BriskLab],
    run,
};

const POLICIES: [&str; 3] = ["Arc", "Brc<Biased>", "Brc<Deferred>"];

fn run(ctx: &Ctx) -> Outcome {
    let plan = Plan::micro(ctx);
    let cores = cores();
    let counts = thread_counts(cores);
    let attached = brisk_gc::attach();
    Peak::reset();

    // results[policy][i] for counts[i]: ns per operation, all threads.
    let mut results: Vec<Vec<Samples>> = vec![Vec::new(); POLICIES.len()];
    for &threads in &counts {
        let arc = Arc::new(0u64);
        let biased = Brc::new(0u64);
        let deferred = Brc::<u64, Deferred>::new_with_policy(0);
        let helpers = threads - 1;
        let crews = [
            Crew::spawn::<_, false>(&arc, helpers),
            Crew::spawn::<_, false>(&biased, helpers),
            Crew::spawn::<_, true>(&deferred, helpers),
        ];
        // One iteration: one pair on each thread, two operations each.
        let units = (2 * threads) as f64;
        let mut variants = vec![
            Variant::new(POLICIES[0], units, |n| crews[0].run::<_, false>(&arc, n)),
            Variant::new(POLICIES[1], units, |n| crews[1].run::<_, false>(&biased, n)),
            Variant::new(POLICIES[2], units, |n| {
                crews[2].run::<_, true>(&deferred, n)
            }),
        ];
        let label = format!("{threads} thread{}", if threads == 1 { "" } else { "s" });
        let samples = interleave(ctx, &label, &mut variants, plan.rounds, plan.target);
        drop(variants);
        for crew in crews {
            crew.stop();
        }
        // The helpers' last drops queued `biased` back to us.
        brisk_refcount::safepoint();
        drop((arc, biased, deferred));
        for (r, s) in results.iter_mut().zip(samples) {
            r.push(s);
        }
    }
    let peak = Peak::get();
    let left = settle();
    drop(attached);

    let mops = |s: &Samples| 1e3 / s.median();
    let mut report = Report::new();
    report.para(format!(
        "Throughput in millions of counting operations per second, all threads \
         together (a clone+drop pair is two operations). Thread 0 made the object \
         (the owner); threads 1… are non-owners. `Brc<Deferred>` threads are \
         attached and reach a safepoint every {SAFEPOINT_EVERY} pairs. {} rounds, \
         policies interleaved at each thread count; medians. Up to {cores} threads: \
         the cores this process may use. The last column pairs the policies by \
         round: each round's `Brc<Deferred>` throughput over `Arc`'s in the same \
         round, the median of those ratios and its 95% interval (none with fewer than \
         six rounds).",
        plan.rounds
    ));
    let mut headers = vec!["threads".to_owned()];
    headers.extend(POLICIES.iter().map(|p| format!("`{p}` Mops/s")));
    headers.push("Deferred ÷ Arc, paired by round (95% interval)".to_owned());
    let mut table = Table::new(&headers);
    for (i, &threads) in counts.iter().enumerate() {
        let mut row = vec![threads.to_string()];
        for (p, policy) in POLICIES.iter().enumerate() {
            let v = mops(&results[p][i]);
            row.push(num(v));
            report.metric(m::mops(policy, threads), v);
        }
        // Throughput is the inverse of time per operation.
        let speedups = results[0][i].paired_ratios(&results[2][i]);
        row.push(median_with_interval(
            &mut report,
            &m::deferred_over_arc(threads),
            &speedups,
        ));
        table.row(row);
    }
    report.table(&table);

    let series: Vec<Series> = POLICIES
        .iter()
        .enumerate()
        .map(|(p, policy)| Series {
            name: policy.to_string(),
            points: counts
                .iter()
                .zip(&results[p])
                .map(|(&t, s)| (t as f64, mops(s)))
                .collect(),
        })
        .collect();
    let file = "contention.svg";
    report.plot(
        &ctx.out,
        file,
        &Chart {
            title: "One hot object: clone+drop throughput",
            x_label: "threads",
            y_label: "Mops/s (all threads)",
            log_x: false,
            log_y: false,
            whole_x: true,
        },
        &series,
    );
    if cores <= 2 {
        report.note(format!(
            "This machine gives the process {cores} cores, so the curve has {} points; \
             on a shared, loaded machine the multi-thread points also measure the \
             other load. A machine with more cores extends it (N = cores).",
            counts.len()
        ));
    }
    report.note(format!(
        "Peak pending epoch garbage over the Deferred runs: {} deferred objects (clone+drop \
         pairs cancel in the buffer); left after settling: {}.",
        peak.deferred_objects, left.deferred_objects
    ));
    Outcome::Ran(report)
}
