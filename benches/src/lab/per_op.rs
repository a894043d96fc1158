//! Experiment 1: what one counting operation costs on each path.
//!
//! The analogue of the BRC paper's Table 7 (Choi, Shull, Torrellas, PACT
//! 2018): the cost of a clone+drop pair ([`workloads::clone_drop`]) for
//! brisk's policies and for the peers `Rc`, `Arc`, `triomphe::Arc`,
//! `trc::Trc` and `hybrid_rc`, as ratios to `Rc` paired by round. The
//! owner-proven `LocalBrc` rows price the owner path without its owner
//! check. The non-owner variants use
//! a handle to an object made by another, still-living thread; the deferred
//! non-owner runs on an attached thread and reaches a safepoint every
//! [`SAFEPOINT_EVERY`] pairs, inside the timed loop.
//!
//!
//! # Beside the paper
//!
//! The paper's Table 7 gives the time of one counter increment in Swift's
//! runtime, in a single-threaded loop with the counter in cache, on an
//! Intel Core i7 (Haswell) of four cores at 3.50 GHz ([`BRC_TABLE_7`]).
//! `brc_table` sets brisk's rows of the same four paths beside it.
//!
//! [`workloads::clone_drop`]: crate::workloads::clone_drop

use std::sync::Arc;

use brisk_gc::{Deferred, Garbage};
use brisk_refcount::{owner_scope, Atomic, Brc, NonAtomic};

use super::env::Binary;
use super::measure::{interleave, Plan, Samples, Variant};
use super::metrics::per_op as metrics;
use super::paired::median_with_interval;
use super::report::{fine_ratio, num, range, ratio, Table};
use super::{Ctx, Experiment, Outcome, Report};
use crate::workloads::clone_drop::{timed_batches, MadeElsewhere, BATCH, SAFEPOINT_EVERY};
use crate::workloads::garbage::{settle, Peak};

/// The experiment.
pub const EXPERIMENT: Experiment = Experiment {
    name: "per_op",
    title: "Per-operation cost (BRC Table 7 analogue)",
    question: "How much single-thread overhead does GIL-free reference counting add? \
               (\"Do we know yet how much single-thread overhead this adds?\", python-dev 2017)",
    timed: &[Binary::BriskLab],
    run,
};

/// Which path a variant takes, for the table.
struct Row {
    name: &'static str,
    path: &'static str,
}

const ROWS: [Row; 14] = [
    Row {
        name: metrics::RC,
        path: "non-atomic (std)",
    },
    Row {
        name: metrics::ARC,
        path: "atomic RMW (std)",
    },
    Row {
        name: "triomphe::Arc",
        path: "atomic RMW, no weak count",
    },
    Row {
        name: "trc::Trc",
        path: "thread-local non-atomic count",
    },
    Row {
        name: metrics::HYBRID_RC,
        path: "thread-local handle, non-atomic",
    },
    Row {
        name: "hybrid_rc::Arc",
        path: "shared handle, atomic",
    },
    Row {
        name: "Brc<NonAtomic>",
        path: "plain count (single-thread only)",
    },
    Row {
        name: "Brc<Atomic>",
        path: "atomic RMW on the shared half",
    },
    Row {
        name: metrics::BIASED_OWNER,
        path: "owner: plain load + store",
    },
    Row {
        name: metrics::BIASED_NON_OWNER,
        path: "non-owner: atomic on shared",
    },
    Row {
        name: metrics::DEFERRED_OWNER,
        path: "owner: plain load + store",
    },
    Row {
        name: metrics::DEFERRED_NON_OWNER,
        path: "non-owner: coalescing buffer (attached)",
    },
    Row {
        name: metrics::LOCAL_BIASED,
        path: "owner, checked once per scope",
    },
    Row {
        name: metrics::LOCAL_DEFERRED,
        path: "owner, checked once per scope",
    },
];

/// One `per_op` measurement: each row's samples in nanoseconds per pair,
/// one per round, in [`row_names`] order, and the deferred non-owner's garbage.
pub struct Measured {
    /// Per row, one sample per round; rounds pair across rows.
    pub samples: Vec<Samples>,
    /// Peak pending garbage during the rounds.
    peak: Garbage,
    /// Garbage left once the measuring thread settled.
    left: Garbage,
}

/// The rows' names, in the order of [`Measured::samples`]; `Rc`, the
/// baseline, first.
pub fn row_names() -> impl Iterator<Item = &'static str> {
    ROWS.iter().map(|row| row.name)
}

/// The path each row takes, by name, for tables.
pub fn row_path(name: &str) -> Option<&'static str> {
    ROWS.iter().find(|row| row.name == name).map(|row| row.path)
}

/// Times every row in [`Plan::micro`]'s rounds, interleaved.
pub fn measure(ctx: &Ctx) -> Measured {
    let plan = Plan::micro(ctx);
    // The measuring thread is a mutator throughout: `Deferred` buffers a
    // non-owner's operations only on an attached thread.
    let attached = brisk_gc::attach();

    let rc = std::rc::Rc::new(0u64);
    let arc = Arc::new(0u64);
    let tri = triomphe::Arc::new(0u64);
    let trc = trc::Trc::new(0u64);
    let hrc = hybrid_rc::Rc::new(0u64);
    let harc = hybrid_rc::Arc::new(0u64);
    let non_atomic = Brc::<u64, NonAtomic>::new_with_policy(0);
    let atomic = Brc::<u64, Atomic>::new_with_policy(0);
    let biased = Brc::new(0u64);
    let biased_other = MadeElsewhere::new(|| Brc::new(0u64));
    let deferred = Brc::<u64, Deferred>::new_with_policy(0);
    let deferred_other = MadeElsewhere::new(|| Brc::<u64, Deferred>::new_with_policy(0));

    let units = BATCH as f64;
    let (samples, peak) = owner_scope(|scope| {
        let biased_local = scope.claim(&biased).expect("made on this thread");
        let deferred_local = scope.claim(&deferred).expect("made on this thread");
        let mut variants = vec![
            Variant::new(ROWS[0].name, units, |n| timed_batches::<_, false>(&rc, n)),
            Variant::new(ROWS[1].name, units, |n| timed_batches::<_, false>(&arc, n)),
            Variant::new(ROWS[2].name, units, |n| timed_batches::<_, false>(&tri, n)),
            Variant::new(ROWS[3].name, units, |n| timed_batches::<_, false>(&trc, n)),
            Variant::new(ROWS[4].name, units, |n| timed_batches::<_, false>(&hrc, n)),
            Variant::new(ROWS[5].name, units, |n| timed_batches::<_, false>(&harc, n)),
            Variant::new(ROWS[6].name, units, |n| {
                timed_batches::<_, false>(&non_atomic, n)
            }),
            Variant::new(ROWS[7].name, units, |n| {
                timed_batches::<_, false>(&atomic, n)
            }),
            Variant::new(ROWS[8].name, units, |n| {
                timed_batches::<_, false>(&biased, n)
            }),
            Variant::new(ROWS[9].name, units, |n| {
                timed_batches::<_, false>(&biased_other.handle, n)
            }),
            Variant::new(ROWS[10].name, units, |n| {
                timed_batches::<_, false>(&deferred, n)
            }),
            Variant::new(ROWS[11].name, units, |n| {
                timed_batches::<_, true>(&deferred_other.handle, n)
            }),
            Variant::new(ROWS[12].name, units, |n| {
                timed_batches::<_, false>(&biased_local, n)
            }),
            Variant::new(ROWS[13].name, units, |n| {
                timed_batches::<_, false>(&deferred_local, n)
            }),
        ];
        Peak::reset();
        let samples = interleave(ctx, "clone+drop", &mut variants, plan.rounds, plan.target);
        drop(variants);
        (samples, Peak::get())
    });
    biased_other.finish();
    deferred_other.finish();
    drop(deferred);
    let left = settle();
    drop(attached);
    Measured {
        samples,
        peak,
        left,
    }
}

fn run(ctx: &Ctx) -> Outcome {
    let plan = Plan::micro(ctx);
    let Measured {
        samples,
        peak,
        left,
    } = measure(ctx);

    let mut report = Report::new();
    let mut table = Table::new(&[
        "variant",
        "path",
        "ns per clone+drop (median)",
        "min–max",
        "ratio to Rc, paired by round (95% interval)",
    ])
    .left(1);
    let mut to_rc = Vec::with_capacity(ROWS.len());
    for (row, s) in ROWS.iter().zip(&samples) {
        let m = s.median();
        report.metric(metrics::ns_per_pair(row.name), m);
        let ratios = s.paired_ratios(&samples[0]);
        let paired = median_with_interval(&mut report, &metrics::ratio_to_rc(row.name), &ratios);
        to_rc.push(ratios.median());
        table.row(vec![
            format!("`{}`", row.name),
            row.path.to_owned(),
            num(m),
            range(s.min(), s.max()),
            paired,
        ]);
    }
    report.para(format!(
        "One clone and the drop of that clone on a handle that stays alive, so \
         nothing is freed and only the counting paths are timed. {} rounds, the \
         variants interleaved in each; a sample is {} ms of pairs, unrolled in \
         batches of {BATCH}. The deferred non-owner reaches a safepoint every \
         {SAFEPOINT_EVERY} pairs inside the timed loop.",
        plan.rounds,
        plan.target.as_millis()
    ));
    report.table(&table);

    report.para(format!(
        "Reading it: the biased owner path costs {} of `Rc` and `Arc` costs {}; a \
         biased non-owner pays {} (an uncontended atomic, as `Arc`), and the deferred \
         non-owner {} because its pairs cancel in the coalescing buffer. With the \
         owner check made once for the scope (`LocalBrc`), the owner path costs {} \
         under `Biased` and {} under `Deferred`: the rest of the owner path's cost \
         is the check.",
        ratio(to_rc[8]),
        ratio(to_rc[1]),
        ratio(to_rc[9]),
        ratio(to_rc[11]),
        ratio(to_rc[12]),
        ratio(to_rc[13]),
    ));
    report.para(
        "A round runs every variant once, each round starting one variant later, \
         and each ratio is the median over rounds of the variant's sample divided \
         by `Rc`'s in the same round: this machine's clock drifts by tens of \
         percent between rounds, and a ratio of two samples taken a fraction of a \
         second apart moves much less than either. The interval is the sign \
         test's, distribution-free.",
    );
    brc_table(&mut report, &samples);
    report.metric(
        metrics::DEFERRED_NON_OWNER_PEAK_PENDING,
        peak.deferred_objects as f64,
    );
    report.note(format!(
        "Peak pending epoch garbage during the deferred non-owner loop: {} deferred \
         objects, {} bytes (a pair nets to zero in the buffer, so 0 is expected); \
         left after settling: {} objects.",
        peak.deferred_objects, peak.deferred_bytes, left.deferred_objects
    ));
    if ctx.suite == super::Suite::Smoke {
        report.note("Smoke suite: samples are too short for any timing claim.");
    }
    Outcome::Ran(report)
}

/// The BRC paper's Table 7 ("Time of counter increment operations", Choi,
/// Shull and Torrellas, *Biased Reference Counting: Minimizing Atomic
/// Operations in Garbage Collection*, PACT 2018, §7.2): one increment in a
/// single-threaded loop, in Swift's runtime, on "a desktop machine with an
/// Intel Core i7 processor" of "four cores cycling at 3.50 GHz" (§6; a
/// Haswell, §3.1). Each entry: the paper's configuration, the `per_op` row
/// that takes the same path, and the paper's time in ns.
#[allow(
    clippy::approx_constant,
    reason = "6.28 ns is the paper's measured time, not τ"
)]
pub const BRC_TABLE_7: [(&str, &str, f64); 4] = [
    ("Ideal (non-atomic, unsafe)", metrics::RC, 5.77),
    ("Original (atomic)", metrics::ARC, 13.84),
    ("Biased, operation by owner", metrics::BIASED_OWNER, 6.28),
    (
        "Biased, operation by non-owner",
        metrics::BIASED_NON_OWNER,
        15.57,
    ),
];

/// The paper's machine, for the table's header.
const BRC_MACHINE: &str = "Intel Core i7 (Haswell), 4 cores at 3.50 GHz";

/// A ratio between two rows of Table 7: (name, numerator row, denominator
/// row), by the `per_op` rows that stand for them.
const BRC_RATIOS: [(&str, &str, &str); 3] = [
    ("atomic ÷ owner", metrics::ARC, metrics::BIASED_OWNER),
    ("owner ÷ non-atomic", metrics::BIASED_OWNER, metrics::RC),
    (
        "non-owner ÷ atomic",
        metrics::BIASED_NON_OWNER,
        metrics::ARC,
    ),
];

/// The paper's time for the Table 7 entry that `row` stands for.
fn paper_ns(row: &str) -> f64 {
    BRC_TABLE_7
        .iter()
        .find(|(_, r, _)| *r == row)
        .map(|&(_, _, ns)| ns)
        .expect("a row of Table 7")
}

/// The section that sets the BRC paper's Table 7 beside this run's rows of
/// the same paths (`samples` in [`ROWS`] order): times, and the ratios
/// between paths, brisk's paired by round with a 95% interval. Records
/// [`metrics::brc_paper_ns`] and [`metrics::brc_ratio`].
fn brc_table(report: &mut Report, samples: &[Samples]) {
    let of = |name: &str| {
        let i = ROWS
            .iter()
            .position(|row| row.name == name)
            .expect("a row of per_op");
        &samples[i]
    };
    let machine = super::env::cpu_model().unwrap_or_else(|| "this machine".to_owned());
    report.heading("Beside the BRC paper's Table 7");
    let mut table = Table::new(&[
        "path",
        &format!("BRC paper: one increment, ns ({BRC_MACHINE})"),
        "brisk row",
        &format!(
            "brisk: clone+drop pair, ns ({machine}, {} cores)",
            super::cores()
        ),
        "brisk: half a pair, ns",
    ])
    .left(2);
    for (config, row, ns) in BRC_TABLE_7 {
        report.metric(metrics::brc_paper_ns(row), ns);
        let pair = of(row).median();
        table.row(vec![
            config.to_owned(),
            format!("{ns:.2}"),
            format!("`{row}`"),
            num(pair),
            num(pair / 2.0),
        ]);
    }
    report.table(&table);
    let mut table = Table::new(&[
        "ratio",
        "BRC paper",
        "brisk, paired by round (95% interval)",
    ]);
    for (name, top, bottom) in BRC_RATIOS {
        let paper = paper_ns(top) / paper_ns(bottom);
        let paired = of(top).paired_ratios(of(bottom));
        table.row(vec![
            format!("{name} (`{top}` ÷ `{bottom}`)"),
            fine_ratio(paper),
            median_with_interval(report, &metrics::brc_ratio(top, bottom), &paired),
        ]);
    }
    report.table(&table);
    report.para(
        "What the two measure differs, so read the ratios, not the nanoseconds. The \
         paper times one increment in a loop; `per_op` times an increment and the \
         decrement that undoes it (\"half a pair\" is only a rough per-operation \
         figure: the two halves need not cost the same). The paper's non-atomic \
         configuration is Swift with the atomic removed, which is unsafe with threads; \
         its counterpart here is `Rc`. Both are best cases: one thread, the counter in \
         L1, no contention. But the paper's increment is Swift's runtime code, which \
         compiled Swift calls for each operation (`swift_retain`), so even its plain \
         increment takes about twenty cycles; brisk's paths are inlined into the timed \
         loop, where a plain increment and decrement overlap with the loop's other work \
         and an atomic one cannot, so a ratio of an atomic path to a plain one comes out \
         larger here than there. And the cores differ (the paper's is a Haswell of 2013–2015): \
         what an uncontended atomic costs next to a plain add is a property of the core.",
    );
}

#[cfg(test)]
mod tests {
    use super::{paper_ns, row_names, BRC_RATIOS, BRC_TABLE_7};
    use crate::lab::metrics::per_op as metrics;

    #[test]
    fn table_7_gives_the_papers_ratios() {
        let atomic_over_owner = paper_ns(metrics::ARC) / paper_ns(metrics::BIASED_OWNER);
        assert_eq!(format!("{atomic_over_owner:.2}"), "2.20");
        // "B owner takes 8.8% longer than I, and B non-owner takes 12.5%
        // longer than O" (§7.2).
        let owner = paper_ns(metrics::BIASED_OWNER) / paper_ns(metrics::RC);
        assert_eq!(format!("{owner:.3}"), "1.088");
        let non_owner = paper_ns(metrics::BIASED_NON_OWNER) / paper_ns(metrics::ARC);
        assert_eq!(format!("{non_owner:.3}"), "1.125");
    }

    #[test]
    fn table_7_names_rows_that_per_op_measures() {
        for (_, row, _) in BRC_TABLE_7 {
            assert!(row_names().any(|r| r == row), "{row}");
        }
        for (_, top, bottom) in BRC_RATIOS {
            assert!(row_names().any(|r| r == top) && row_names().any(|r| r == bottom));
        }
    }
}
