//! Experiment: how long `Deferred` keeps an object after its last drop,
//! and how much garbage waits meanwhile, when one attached thread rarely
//! reaches a safepoint.
//!
//! # The bound the design gives
//!
//! Deferred work runs once the global epoch has advanced twice since it
//! was deferred, and the epoch can advance whenever every attached thread
//! has reached a safepoint since the last advance (`papers/design.md`,
//! "Bounded garbage"; `gc/src/domain.rs`, "Why epochs"). In time: let `G`
//! be the longest gap between two safepoints of any attached thread. An
//! advance is made by a collection step, which every safepoint runs before
//! it repins; so within `G` of one advance every thread has repinned, and
//! within another `G` a step has made the next advance: at most `2G` per
//! advance. A decrement deferred at a safepoint (which comes within `G` of
//! the drop it carries) is therefore applied within `G + 2 × 2G = 5G`.
//!
//! An object whose last handle a non-owner drops goes through two such
//! deferrals: the dropper's −1, which then finds the count at zero and
//! queues the object to its owner; and the queue's −1, which the owner's
//! merge (at its next safepoint, within `G`) defers in turn. From last drop
//! to free: at most `10G`. The garbage pending at any moment is what was
//! deferred in the last two epochs.
//!
//! # The measurement
//!
//! [`workloads::reclamation`]: a producer (this thread) makes 32-byte
//! objects, a consumer thread drops them, and a third attached thread, the
//! straggler, reaches a safepoint only every `K` counting operations. Each
//! object's last drop writes a timestamp into it; its destructor, at the
//! free, records the delay. The pending garbage ([`brisk_gc::garbage`]) is
//! sampled at every safepoint of the three threads. A baseline runs the
//! producer and consumer alone, without the straggler. Each round runs the
//! baseline and every `K` once, the order rotating; the delays of a `K` are
//! pooled over its rounds.
//!
//! [`workloads::reclamation`]: crate::workloads::reclamation

use std::time::{Duration, Instant};

use brisk_gc::{Deferred, Garbage};
use brisk_refcount::Brc;

use super::env::Binary;
use super::measure::{rotation, Samples};
use super::metrics::reclamation_delay::{self as m, Figure};
use super::report::{int, nanos, num, Table};
use super::{Ctx, Experiment, Outcome, Report, Suite};
use crate::workloads::clone_drop::SAFEPOINT_EVERY;
use crate::workloads::garbage::{safepoint_and_sample, settle, Gaps, Peak};
use crate::workloads::producer_consumer::Consumer;
use crate::workloads::reclamation::{freed, take_delays, LastDrop, Straggler, StragglerStats};

/// The experiment.
pub const EXPERIMENT: Experiment = Experiment {
    name: "reclamation_delay",
    title: "Reclamation delay under Deferred, with a thread that rarely reaches a safepoint",
    question: "How long after its last drop is a `Deferred` object freed, and how much garbage \
               waits, when one attached thread reaches a safepoint only every K operations? \
               (The design's bound: deferred work runs after two epoch advances, and the \
               epoch advances once every attached thread has passed a safepoint since the \
               last advance. With G the longest gap between two safepoints of any attached \
               thread, one deferral waits at most 5G, and an object a non-owner drops last \
               is deferred twice (its −1, then its owner queue's −1): freed within 10G.)",
    timed: &[Binary::BriskLab],
    run,
};

/// The design's bound on the delay from last drop to free, in longest
/// safepoint gaps of any attached thread (module docs): two deferrals of
/// at most five gaps each.
const BOUND_GAPS: f64 = 10.0;

/// How long one run waits for its last objects to be freed.
const DRAIN_LIMIT: Duration = Duration::from_secs(10);

/// One run with one `K`.
struct RunResult {
    delays: Vec<u64>,
    peak: Garbage,
    straggler: Option<StragglerStats>,
    /// The longest gap between two safepoints of any attached thread.
    gap: Duration,
    /// Objects not freed within [`DRAIN_LIMIT`] of the last send.
    unfreed: usize,
}

/// Makes `objects` objects here, has `consumer` drop them while a
/// straggler reaches a safepoint every `every` operations (none for
/// `None`), then waits (reaching safepoints, detached in between) until
/// all are freed.
fn one_run(
    consumer: &Consumer<LastDrop>,
    shared: &Brc<u64, Deferred>,
    every: Option<u64>,
    objects: u64,
) -> RunResult {
    take_delays();
    let before = freed();
    Peak::reset();
    Gaps::start();
    let straggler = every.map(|every| Straggler::spawn(shared, every));
    consumer.run(objects, LastDrop::new, safepoint_and_sample);
    let target = usize::try_from(objects).unwrap_or(usize::MAX);
    let deadline = Instant::now() + DRAIN_LIMIT;
    while freed() - before < target && Instant::now() < deadline {
        safepoint_and_sample();
        brisk_gc::blocking(|| std::thread::sleep(Duration::from_micros(100)));
    }
    let gap = Gaps::stop();
    let stats = straggler.map(Straggler::stop);
    let unfreed = target.saturating_sub(freed() - before);
    settle();
    RunResult {
        delays: take_delays(),
        peak: Peak::get(),
        straggler: stats,
        gap,
        unfreed,
    }
}

/// What the runs of one `K` found.
#[derive(Default)]
struct PerK {
    delays: Vec<f64>,
    peak: Garbage,
    intervals: Samples,
    /// The longest gap of any attached thread, over the runs.
    gap: Duration,
    /// The largest of each run's longest delay divided by [`BOUND_GAPS`]
    /// times its longest gap.
    worst_to_bound: f64,
    unfreed: usize,
}

/// `K` as the table shows it: `none` for the baseline without a straggler.
fn k_name(k: Option<u64>) -> String {
    k.map_or("none".to_owned(), |k| k.to_string())
}

fn run(ctx: &Ctx) -> Outcome {
    let straggler_ks: &[u64] = ctx.suite.pick(
        &[1, 100, 10_000],
        &[1, 100, 10_000, 1_000_000],
        &[1, 100, 10_000, 1_000_000],
    );
    let ks: Vec<Option<u64>> = std::iter::once(None)
        .chain(straggler_ks.iter().copied().map(Some))
        .collect();
    let objects = ctx.suite.pick(5_000, 200_000, 1_000_000);
    let rounds = ctx.suite.pick(1, 5, 9);

    let attached = brisk_gc::attach();
    let shared = Brc::<u64, Deferred>::new_with_policy(0);
    let consumer = Consumer::<LastDrop>::spawn::<true>();
    let mut per_k: Vec<PerK> = ks.iter().map(|_| PerK::default()).collect();
    for round in 0..rounds {
        for i in rotation(round, ks.len()) {
            ctx.step(format!(
                "round {}/{rounds}: K = {}",
                round + 1,
                k_name(ks[i])
            ));
            let r = one_run(&consumer, &shared, ks[i], objects);
            let k = &mut per_k[i];
            k.delays.extend(r.delays.iter().map(|&d| d as f64));
            k.peak.deferred_objects = k.peak.deferred_objects.max(r.peak.deferred_objects);
            k.peak.deferred_bytes = k.peak.deferred_bytes.max(r.peak.deferred_bytes);
            k.peak.retired_objects = k.peak.retired_objects.max(r.peak.retired_objects);
            if let Some(straggler) = r.straggler {
                k.intervals
                    .push(straggler.mean_interval().as_secs_f64() * 1e9);
            }
            let longest_delay = r.delays.iter().copied().max().unwrap_or(0) as f64;
            let bound = BOUND_GAPS * r.gap.as_secs_f64() * 1e9;
            k.worst_to_bound = k.worst_to_bound.max(longest_delay / bound);
            k.gap = k.gap.max(r.gap);
            k.unfreed += r.unfreed;
        }
    }
    consumer.stop();
    drop(shared);
    let left = settle();
    drop(attached);

    let mut report = Report::new();
    report.para(format!(
        "The producer (the measuring thread, attached) makes {} objects of 32 bytes per \
         run under `Deferred` and sends them 64 at a time to an attached consumer thread \
         that drops each, so the last drop is a non-owner's; both reach a safepoint every \
         {SAFEPOINT_EVERY} objects. A third attached thread clones and drops a handle \
         another thread made and reaches a safepoint only every K of those operations. \
         The delay runs from a timestamp the last drop writes into the object to its \
         destructor at the free; after the last send the producer keeps reaching \
         safepoints until every object is freed. {rounds} rounds, every K once per \
         round in a rotating order, with a baseline run without the third thread (K = \
         none); delays pooled over the rounds. The pending garbage is \
         `brisk_gc::garbage()` sampled at every safepoint of the attached threads.",
        int(objects)
    ));
    let mut table = Table::new(&[
        "K",
        "straggler's safepoint interval (mean)",
        "longest gap between safepoints, any thread",
        "delay median",
        "delay p99",
        "delay max",
        "worst run's max ÷ bound (10 × its gap)",
        "peak pending objects",
        "peak pending bytes",
    ]);
    for (k, r) in ks.iter().zip(&per_k) {
        let delays = Samples::new(r.delays.clone());
        let (median, p99, max) = (delays.median(), delays.quantile(0.99), delays.max());
        let interval = r.intervals.median();
        let gap = r.gap.as_secs_f64() * 1e9;
        let name = k_name(*k);
        let mut metric = |figure, value| report.metric(m::k(&name, figure), value);
        metric(Figure::DelayMedianNs, median);
        metric(Figure::DelayP99Ns, p99);
        metric(Figure::DelayMaxNs, max);
        if k.is_some() {
            metric(Figure::StragglerIntervalNs, interval);
        }
        metric(Figure::LongestGapNs, gap);
        metric(Figure::MaxDelayToBound, r.worst_to_bound);
        metric(
            Figure::PeakPendingDeferredObjects,
            r.peak.deferred_objects as f64,
        );
        metric(
            Figure::PeakPendingDeferredBytes,
            r.peak.deferred_bytes as f64,
        );
        metric(Figure::Unfreed, r.unfreed as f64);
        table.row(vec![
            k_name(*k),
            if k.is_some() {
                nanos(interval)
            } else {
                "–".to_owned()
            },
            nanos(gap),
            nanos(median),
            nanos(p99),
            nanos(max),
            num(r.worst_to_bound),
            int(r.peak.deferred_objects as u64),
            int(r.peak.deferred_bytes as u64),
        ]);
    }
    report.table(&table);
    let p99 = |r: &PerK| Samples::new(r.delays.clone()).quantile(0.99);
    let (none, rarest) = (&per_k[0], &per_k[per_k.len() - 1]);
    report.para(format!(
        "Reading it: without the third thread an object waited {} at the 99th \
         percentile and at most {} objects were pending at once; with a straggler \
         reaching a safepoint every {} operations, {} and {} objects. The design \
         bounds the delay by ten times the longest gap between two safepoints of any \
         attached thread (two deferrals, each a wait for a safepoint and two epoch \
         advances of at most two gaps each); the last-but-two column divides each run's longest delay by \
         that bound and shows the worst run: at most 1 where the bound held. The gap \
         is measured at every sampled safepoint of the three threads and includes time \
         a thread spent descheduled while pinned, and time it spent detached (the \
         consumer waiting on its channel), so the bound it gives is loose. Where K is \
         small the straggler is not the slowest thread: the producer's and consumer's \
         intervals ({SAFEPOINT_EVERY} objects each) and the scheduler's time slices \
         set the delay instead.",
        nanos(p99(none)),
        int(none.peak.deferred_objects as u64),
        int(straggler_ks[straggler_ks.len() - 1]),
        nanos(p99(rarest)),
        int(rarest.peak.deferred_objects as u64),
    ));
    let cores = super::cores();
    report.para(format!(
        "Three threads keep busy at once (producer, consumer, straggler) on {cores} \
         cores; where there are fewer cores than that, a thread descheduled while \
         pinned stretches its gap between safepoints by a time slice, which the \
         \"longest gap\" column shows."
    ));
    let over: Vec<String> = ks
        .iter()
        .zip(&per_k)
        .filter(|(_, r)| r.worst_to_bound > 1.0)
        .map(|(k, r)| format!("K = {} ({})", k_name(*k), num(r.worst_to_bound)))
        .collect();
    if !over.is_empty() {
        report.note(format!(
            "The longest delay of a run exceeded 10 × its longest safepoint gap for {}. \
             The bound counts epoch advances only; it assumes each collection step runs \
             all the work that has expired, while a step runs at most 8 sealed bags of \
             64 deferred closures (crossbeam-epoch 0.9), and the owner's merge defers \
             one closure per queued object, so a backlog can outlast its two epochs.",
            over.join(", ")
        ));
    }
    let unfreed: usize = per_k.iter().map(|r| r.unfreed).sum();
    if unfreed > 0 {
        report.note(format!(
            "{unfreed} objects were not freed within {} s of their run's last send.",
            DRAIN_LIMIT.as_secs()
        ));
    }
    if !left.is_empty() {
        report.note(format!("Garbage left after settling: {left:?}"));
    }
    if ctx.suite == Suite::Smoke {
        report.note("Smoke suite: a few thousand objects, one round; no timing claim.");
    }
    Outcome::Ran(report)
}
