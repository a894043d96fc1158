//! Experiment 3: objects made on one thread and dropped on another.
//!
//! The queue path, per object ([`workloads::producer_consumer`]): `Arc`
//! frees on the consumer; `Brc<Biased>` queues every object back to its
//! owner, which merges and frees it at a safepoint; `Brc<Deferred>` buffers
//! the consumer's decrement, defers it one epoch, then queues it.
//!
//! The three variants are paired by round, as in [`per_op`](super::per_op):
//! a round times each of them once, the order rotating from round to
//! round ([`interleave`]), and each type's ratio to `Arc` is taken within a
//! round before the median over rounds is. The time of one variant alone
//! moves by a factor of two or more between runs on one quiet machine (the
//! consumer's wake-ups and the scheduler's placement of two busy threads on
//! two cores differ from run to run); two samples taken a fraction of a
//! second apart see the same placement, so their ratio moves much less.
//! Each ratio comes with the sign test's 95% interval for its median
//! ([`median_with_interval`]).
//!
//! [`workloads::producer_consumer`]: crate::workloads::producer_consumer

use std::sync::Arc;

use brisk_gc::Deferred;
use brisk_refcount::Brc;

use super::env::Binary;
use super::measure::{interleave, Plan, Variant};
use super::metrics::producer_consumer as metrics;
use super::paired::median_with_interval;
use super::report::{num, range, ratio, Table};
use super::{Ctx, Experiment, Outcome, Report};
use crate::workloads::garbage::{settle, Peak};
use crate::workloads::producer_consumer::{Consumer, SEND_BATCH};

/// The experiment.
pub const EXPERIMENT: Experiment = Experiment {
    name: "producer_consumer",
    title: "Producer/consumer: the queue path per object",
    question: "What does an object cost that is made on one thread and dropped on \
               another, the case biased counting makes slow?",
    timed: &[Binary::BriskLab],
    run,
};

const NAMES: [&str; 3] = [metrics::ARC, metrics::BIASED, metrics::DEFERRED];

fn run(ctx: &Ctx) -> Outcome {
    let plan = Plan::micro(ctx);
    let attached = brisk_gc::attach();
    Peak::reset();
    let arc = Consumer::<Arc<u64>>::spawn::<false>();
    let biased = Consumer::<Brc<u64>>::spawn::<false>();
    let deferred = Consumer::<Brc<u64, Deferred>>::spawn::<true>();
    let mut variants = vec![
        Variant::new(NAMES[0], 1.0, |n| arc.run(n, Arc::new, || {})),
        // Every `Brc::new` is a safepoint that merges what came back; the
        // last batch is merged by the explicit safepoint.
        Variant::new(NAMES[1], 1.0, |n| {
            biased.run(n, Brc::new, || {
                brisk_refcount::safepoint();
            })
        }),
        Variant::new(NAMES[2], 1.0, |n| {
            deferred.run(n, Brc::new_with_policy, || {
                brisk_gc::safepoint();
            })
        }),
    ];
    let samples = interleave(ctx, "objects", &mut variants, plan.rounds, plan.target);
    drop(variants);
    arc.stop();
    biased.stop();
    deferred.stop();
    brisk_refcount::safepoint();
    let peak = Peak::get();
    let left = settle();
    drop(attached);

    let mut report = Report::new();
    report.para(format!(
        "The producer (the measuring thread) makes `Arc<u64>` or `Brc<u64>` objects \
         and sends them {SEND_BATCH} at a time over a bounded channel to a consumer \
         thread that drops them. The time runs until the consumer has dropped the \
         last one and the producer has merged what was queued back. {} rounds; each \
         round times every type once, the order rotating by one each round, and a \
         type's ratio to `Arc` is its sample divided by `Arc`'s in the same round: \
         the median of those per-round ratios, with a 95% interval for it (the sign \
         test's, distribution-free).",
        plan.rounds
    ));
    let mut table = Table::new(&[
        "type",
        "ns per object (median)",
        "min–max",
        "ratio to Arc, paired by round (95% interval)",
    ]);
    let mut to_arc = Vec::with_capacity(NAMES.len());
    for (name, s) in NAMES.iter().zip(&samples) {
        let m = s.median();
        report.metric(metrics::ns_per_object(name), m);
        let ratios = s.paired_ratios(&samples[0]);
        let paired = median_with_interval(&mut report, &metrics::ratio_to_arc(name), &ratios);
        to_arc.push(ratios.median());
        table.row(vec![
            format!("`{name}`"),
            num(m),
            range(s.min(), s.max()),
            paired,
        ]);
    }
    report.table(&table);
    report.para(format!(
        "Reading it: an object made on one thread and dropped on another costs {} of \
         `Arc`'s time under `Biased` (the owner merges and frees it) and {} under \
         `Deferred` (its last decrement waits an epoch first). The nanoseconds per \
         object are shown for scale only: they move between runs far more than the \
         paired ratios do.",
        ratio(to_arc[1]),
        ratio(to_arc[2]),
    ));
    report.metric(
        metrics::DEFERRED_PEAK_PENDING_OBJECTS,
        peak.deferred_objects as f64,
    );
    report.metric(
        metrics::DEFERRED_PEAK_PENDING_BYTES,
        peak.deferred_bytes as f64,
    );
    report.para(format!(
        "Under `Deferred` every object's last decrement waits one epoch: the peak \
         pending epoch garbage seen at the consumer's safepoints was {} objects \
         ({} bytes of batches).",
        peak.deferred_objects, peak.deferred_bytes
    ));
    if !left.is_empty() {
        report.note(format!("Garbage left after settling: {left:?}"));
    }
    Outcome::Ran(report)
}
