//! Experiment 3: objects made on one thread and dropped on another.
//!
//! The queue path, per object ([`workloads::producer_consumer`]): `Arc`
//! frees on the consumer; `Brc<Biased>` queues every object back to its
//! owner, which merges and frees it at a safepoint; `Brc<Deferred>` buffers
//! the consumer's decrement, defers it one epoch, then queues it.
//!
//! [`workloads::producer_consumer`]: crate::workloads::producer_consumer

use std::sync::Arc;

use brisk_gc::Deferred;
use brisk_refcount::Brc;

use super::measure::{interleave, Plan, Variant};
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
    run,
};

const NAMES: [&str; 3] = ["Arc", "Brc<Biased>", "Brc<Deferred>"];

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
         last one and the producer has merged what was queued back. {} rounds, \
         interleaved; medians.",
        plan.rounds
    ));
    let arc_ns = samples[0].median();
    let mut table = Table::new(&["type", "ns per object (median)", "min–max", "ratio to Arc"]);
    for (name, s) in NAMES.iter().zip(&samples) {
        let m = s.median();
        table.row(vec![
            format!("`{name}`"),
            num(m),
            range(s.min(), s.max()),
            ratio(m / arc_ns),
        ]);
        report.metric(format!("{name}/ns_per_object"), m);
        report.metric(format!("{name}/ratio_to_arc"), m / arc_ns);
    }
    report.table(&table);
    report.metric(
        "deferred/peak_pending_deferred_objects",
        peak.deferred_objects as f64,
    );
    report.metric(
        "deferred/peak_pending_deferred_bytes",
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
