//! Experiment 7: what brisk costs in memory.
//!
//! Three figures:
//!
//! * **Header bytes per object**: brisk's, measured with `size_of`, against
//!   CPython's (default and free-threaded builds) and the BRC paper's, whose
//!   figures are quoted with their sources.
//! * **Peak RSS per policy**: the same allocation-heavy workload, run once
//!   per policy in a child process of its own (`brisk-lab memory-child`,
//!   [`child_main`]) so that each peak is that policy's alone. The workload
//!   keeps a live set of objects and then streams more objects from a
//!   producer to a consumer thread that drops them
//!   ([`workloads::producer_consumer`]), the case where an object's memory
//!   waits for its owner's merge (and, under `Deferred`, for an epoch).
//! * **Pending epoch garbage** under `Deferred`: the peak of the deferred
//!   decrement batches, sampled at every consumer safepoint in that child.
//!
//! [`workloads::producer_consumer`]: crate::workloads::producer_consumer

use std::sync::Arc;
use std::time::Instant;

use brisk_gc::Deferred;
use brisk_refcount::{Atomic, Brc, RcHeader};
use serde_json::{json, Value};

use super::child;
use super::env::Binary;
use super::measure::Samples;
use super::metrics::memory as m;
use super::report::{num, Table};
use super::{Ctx, Experiment, Outcome, Report};
use crate::workloads::garbage::{settle, Peak};
use crate::workloads::producer_consumer::Consumer;

/// The experiment.
pub const EXPERIMENT: Experiment = Experiment {
    name: "memory",
    title: "Memory: header bytes, peak RSS per policy, pending epoch garbage",
    question: "What does biased and deferred counting cost in memory: per object, at peak, \
               and in garbage waiting for an epoch?",
    timed: &[Binary::BriskLab],
    run,
};

/// The kinds of object the child can run the workload with.
pub const KINDS: [&str; 5] = [
    "baseline",
    "Arc",
    "Brc<Atomic>",
    "Brc<Biased>",
    "Brc<Deferred>",
];

/// The payload of every object: 32 bytes.
type Payload = [u64; 4];

/// Runs the workload in this process (the `memory-child` subcommand) and
/// returns what it measured as one JSON object.
pub fn child_main(kind: &str, live: u64, churn: u64) -> Result<Value, String> {
    let start = Instant::now();
    let attached = brisk_gc::attach();
    Peak::reset();
    match kind {
        "baseline" => {}
        "Arc" => workload::<Arc<Payload>, false>(live, churn, |i| Arc::new([i; 4]), || {}),
        "Brc<Atomic>" => workload::<Brc<Payload, Atomic>, false>(
            live,
            churn,
            |i| Brc::new_with_policy([i; 4]),
            || {},
        ),
        "Brc<Biased>" => workload::<Brc<Payload>, false>(
            live,
            churn,
            |i| Brc::new([i; 4]),
            || {
                brisk_refcount::safepoint();
            },
        ),
        "Brc<Deferred>" => workload::<Brc<Payload, Deferred>, true>(
            live,
            churn,
            |i| Brc::new_with_policy([i; 4]),
            || {
                brisk_gc::safepoint();
            },
        ),
        other => return Err(format!("unknown kind {other:?}; one of {KINDS:?}")),
    }
    let peak = Peak::get();
    let left = settle();
    drop(attached);
    Ok(json!({
        "kind": kind,
        "max_rss": max_rss_self(),
        "peak_deferred_objects": peak.deferred_objects,
        "peak_deferred_bytes": peak.deferred_bytes,
        "left_deferred_objects": left.deferred_objects,
        "seconds": start.elapsed().as_secs_f64(),
    }))
}

/// Keeps `live` objects, then streams `churn` more through a consumer
/// thread, then drops the live set.
fn workload<T: Send + 'static, const GC: bool>(
    live: u64,
    churn: u64,
    make: fn(u64) -> T,
    merge: fn(),
) {
    let kept: Vec<T> = (0..live).map(make).collect();
    let consumer = Consumer::<T>::spawn::<GC>();
    consumer.run(churn, make, merge);
    consumer.stop();
    merge();
    drop(kept);
}

/// This process's peak resident set in bytes: `VmHWM` of
/// `/proc/self/status`. Not `getrusage`'s `ru_maxrss`, which Linux carries
/// across `execve` from the parent's address space (a child spawned by a
/// large parent reports at least the parent's peak).
pub fn max_rss_self() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|status| {
            let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
            let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
            Some(kib * 1024)
        })
        .unwrap_or(0)
}

fn run(ctx: &Ctx) -> Outcome {
    let mut report = Report::new();
    headers(&mut report);

    let (live, churn, rounds) = ctx.suite.pick(
        (10_000u64, 20_000u64, 1usize),
        (1_000_000, 2_000_000, 3),
        (4_000_000, 8_000_000, 5),
    );
    let mut rss: Vec<Samples> = vec![Samples::default(); KINDS.len()];
    let mut peak_objects = vec![0u64; KINDS.len()];
    let mut peak_bytes = vec![0u64; KINDS.len()];
    for round in 0..rounds {
        for (k, kind) in KINDS.iter().enumerate() {
            ctx.step(format!("round {}/{rounds}: {kind}", round + 1));
            let args = [
                "memory-child".to_owned(),
                "--kind".to_owned(),
                (*kind).to_owned(),
                "--live".to_owned(),
                live.to_string(),
                "--churn".to_owned(),
                churn.to_string(),
            ];
            let v: Value = match child::run_json(ctx, &args) {
                Ok(v) => v,
                Err(e) => return Outcome::Skipped(e),
            };
            let get = |k: &str| v.get(k).and_then(Value::as_u64).unwrap_or(0);
            rss[k].push(get("max_rss") as f64 / (1 << 20) as f64);
            peak_objects[k] = peak_objects[k].max(get("peak_deferred_objects"));
            peak_bytes[k] = peak_bytes[k].max(get("peak_deferred_bytes"));
        }
    }

    report.heading("Peak RSS per policy");
    report.para(format!(
        "Each line is a separate child process (`brisk-lab memory-child --kind K --live \
         {live} --churn {churn}`): it keeps {} objects of 32 bytes, then streams {} more \
         from a producer to a consumer thread that drops them, 64 per message, then \
         drops the live set. `baseline` allocates nothing (the process's own footprint). \
         Peak RSS is the child's `VmHWM` (`/proc/self/status`), median of {rounds} rounds, \
         the kinds interleaved in each.",
        num(live as f64),
        num(churn as f64)
    ));
    let base = rss[0].median();
    let mut table = Table::new(&[
        "kind",
        "peak RSS MiB (median)",
        "above baseline MiB",
        "bytes per live object",
        "peak pending deferred objects",
    ]);
    for (k, kind) in KINDS.iter().enumerate() {
        let peak = rss[k].median();
        let per_object = if k == 0 {
            f64::NAN
        } else {
            (peak - base) * (1 << 20) as f64 / live as f64
        };
        table.row(vec![
            format!("`{kind}`"),
            num(peak),
            if k == 0 {
                "–".to_owned()
            } else {
                num(peak - base)
            },
            num(per_object),
            if kind.ends_with("<Deferred>") {
                num(peak_objects[k] as f64)
            } else {
                "–".to_owned()
            },
        ]);
        report.metric(m::max_rss_mib(kind), peak);
        if k > 0 {
            report.metric(m::rss_above_baseline_mib(kind), peak - base);
        }
    }
    report.table(&table);
    let d = KINDS.len() - 1;
    report.metric(m::DEFERRED_PEAK_PENDING_OBJECTS, peak_objects[d] as f64);
    report.metric(m::DEFERRED_PEAK_PENDING_BYTES, peak_bytes[d] as f64);
    report.para(format!(
        "\"Bytes per live object\" divides the RSS above baseline by the live set, so it \
         also carries the streamed objects still in flight and allocator slack. Under \
         `Deferred`, the peak of decrement batches waiting for an epoch was {} objects \
         ({} bytes of batches) — those objects stay allocated until the epoch passes \
         and their owner merges them. The whole-program peak RSS of each `interp` \
         example per policy is in `whole_program.md`.",
        num(peak_objects[d] as f64),
        num(peak_bytes[d] as f64)
    ));
    Outcome::Ran(report)
}

/// The header-size table.
fn headers(report: &mut Report) {
    let rc_header = std::mem::size_of::<RcHeader>();
    let object_header = brisk_runtime::HEADER_BYTES;
    let container_prefix = brisk_runtime::TRACKED_LINK_BYTES + object_header;
    let word = std::mem::size_of::<usize>();
    report.heading("Header bytes per object");
    let mut table = Table::new(&["header", "bytes", "of which counting", "source"]).left(3);
    let rows: [(&str, usize, String, &str); 9] = [
        (
            "brisk `RcHeader` (tid, local, shared)",
            rc_header,
            rc_header.to_string(),
            "measured: `size_of::<brisk_refcount::RcHeader>()`",
        ),
        (
            "brisk runtime object header (`RcHeader` + flags + kind)",
            object_header,
            rc_header.to_string(),
            "measured: `brisk_runtime::HEADER_BYTES` (= `size_of` of the header)",
        ),
        (
            "brisk tracked container (list, dict, slot, native object): collector link + \
             object header",
            container_prefix,
            rc_header.to_string(),
            "measured: `brisk_runtime::TRACKED_LINK_BYTES` + `HEADER_BYTES`",
        ),
        (
            "`Rc<T>` / `Arc<T>` allocation prefix (strong, weak)",
            2 * word,
            (2 * word).to_string(),
            "std's `RcInner`/`ArcInner`: two `usize` counts before the value",
        ),
        (
            "CPython default build `PyObject` (ob_refcnt, ob_type)",
            16,
            "8".to_owned(),
            "CPython 3.13 `Include/object.h`, `Py_GIL_DISABLED` unset",
        ),
        (
            "CPython 3.13 free-threaded `PyObject`",
            32,
            "24".to_owned(),
            "CPython 3.13 `Include/object.h` with `Py_GIL_DISABLED`: ob_tid 8, \
             ob_flags 2, ob_mutex 1, ob_gc_bits 1, ob_ref_local 4, ob_ref_shared 8, \
             ob_type 8 (all but ob_type counted as counting state)",
        ),
        (
            "CPython default build container: `PyGC_Head` + `PyObject`",
            CPYTHON_DEFAULT_CONTAINER,
            "8".to_owned(),
            "CPython 3.13 `_PyType_PreHeaderSize` (`Include/internal/pycore_object.h`): \
             a GC type's object has the 16-byte `PyGC_Head` in front",
        ),
        (
            "CPython 3.13 free-threaded container",
            CPYTHON_FT_CONTAINER,
            "24".to_owned(),
            "the same function with `Py_GIL_DISABLED` adds no `PyGC_Head`: the collector \
             finds objects through mimalloc's heaps (`Python/gc_free_threading.c`)",
        ),
        (
            "BRC paper (Swift)",
            8,
            "8".to_owned(),
            "Choi, Shull, Torrellas, PACT 2018, as summarized in `papers/design.md` §1: \
             owner id, both counters and flags packed in one 64-bit word (14-bit thread \
             id); not re-checked against the paper in this run",
        ),
    ];
    for (name, bytes, counting, source) in rows {
        table.row(vec![
            name.to_owned(),
            bytes.to_string(),
            counting,
            source.to_owned(),
        ]);
    }
    report.table(&table);
    report.metric(m::BRISK_RC_HEADER_BYTES, rc_header as f64);
    report.metric(m::BRISK_OBJECT_HEADER_BYTES, object_header as f64);
    report.metric(m::CPYTHON_FT_OBJECT_HEADER_BYTES, 32.0);
    report.metric(m::CPYTHON_DEFAULT_OBJECT_HEADER_BYTES, 16.0);
    report.metric(m::BRISK_CONTAINER_PREFIX_BYTES, container_prefix as f64);
    report.metric(
        m::CPYTHON_FT_CONTAINER_PREFIX_BYTES,
        CPYTHON_FT_CONTAINER as f64,
    );
    report.metric(
        m::CPYTHON_DEFAULT_CONTAINER_PREFIX_BYTES,
        CPYTHON_DEFAULT_CONTAINER as f64,
    );
    report.para(format!(
        "Like for like, a brisk runtime object's header ({object_header} bytes: count, \
         flags, type tag) is {} bytes smaller than a free-threaded CPython object's \
         (32: counts, lock, GC bits, type pointer) and {} bytes larger than a default \
         CPython object's (16). That holds for the objects brisk does not track: numbers, \
         strings, tuples. A container the cycle collector tracks spends {container_prefix} \
         bytes before its payload, {} more than either CPython build's {CPYTHON_FT_CONTAINER}. \
         Only the brisk rows are measured; the others are quoted from the sources named.",
        32i64 - object_header as i64,
        object_header as i64 - 16,
        container_prefix as i64 - CPYTHON_FT_CONTAINER as i64,
    ));
}

/// Bytes before a free-threaded CPython 3.13 container's payload: its
/// `PyObject` alone (quoted; see the table).
const CPYTHON_FT_CONTAINER: usize = 32;
/// Bytes before a default CPython 3.13 container's payload: `PyGC_Head`
/// and `PyObject` (quoted; see the table).
const CPYTHON_DEFAULT_CONTAINER: usize = 32;
