//! The headline table: one line per question, from `results.json`.
//!
//! Written as `headline.md` next to the results and, for a run into the
//! default `papers/results/`, spliced into README.md between the markers
//! [`BEGIN`] and [`END`], so the README's figures are always the last run's
//! and never typed by hand.

use std::path::Path;

use serde_json::Value;

use super::report::{fine_ratio, nanos, ratio, Table};

/// The line before the generated table in README.md.
pub const BEGIN: &str = "<!-- brisk-lab:headline:begin -->";
/// The line after it.
pub const END: &str = "<!-- brisk-lab:headline:end -->";

/// A byte count, as `24 B`.
fn bytes(b: f64) -> String {
    format!("{b:.0} B")
}

/// Looks up `experiments.<exp>.metrics.<name>`.
fn metric(doc: &Value, exp: &str, name: &str) -> Option<f64> {
    doc.get("experiments")?
        .get(exp)?
        .get("metrics")?
        .get(name)?
        .as_f64()
}

/// Metric `name` of `exp` through `fmt`, or `–` where the run lacks it.
fn figure(doc: &Value, exp: &str, name: &str, fmt: fn(f64) -> String) -> String {
    metric(doc, exp, name).map_or_else(|| "–".to_owned(), fmt)
}

/// One figure per policy, as `` `biased` 1.02×, `deferred` 1.04× ``: metric
/// `key(policy)` of `exp` through `fmt`, for each of `policies`.
fn by_policy(
    doc: &Value,
    exp: &str,
    policies: [&str; 3],
    key: impl Fn(&str) -> String,
    fmt: fn(f64) -> String,
) -> String {
    policies
        .map(|p| format!("`{p}` {}", figure(doc, exp, &key(p), fmt)))
        .join(", ")
}

/// The policies whose ratios to `gil` the whole-program rows give.
const GIL_FREE: [&str; 3] = ["biased", "deferred", "atomic"];

/// The headline table, in markdown, with a line on where it came from.
pub fn render(doc: &Value) -> String {
    let f = |exp: &str, name: &str, fmt: fn(f64) -> String| figure(doc, exp, name, fmt);
    let mut table = Table::new(&["question", "measured", "table"])
        .left(1)
        .left(2);
    // A row shows only if its experiment ran (its first metric exists).
    let mut add = |q: &str, exp: &str, first: &str, figure: String| {
        if metric(doc, exp, first).is_some() {
            table.row(vec![
                q.to_owned(),
                figure,
                format!("[{exp}.md](papers/results/{exp}.md)"),
            ]);
        }
    };
    let owner = "Brc<Biased>_owner/ratio_to_rc";
    add(
        "Clone+drop on the owner thread vs `Rc` (paired by round): `Brc<Biased>`, and `LocalBrc<Biased>` (owner checked once)",
        "per_op",
        owner,
        format!(
            "{} ({} per pair); `LocalBrc`: {}; `Arc`: {}",
            f("per_op", owner, ratio),
            f("per_op", "Brc<Biased>_owner/ns_per_pair", nanos),
            f("per_op", "LocalBrc<Biased>/ratio_to_rc", ratio),
            f("per_op", "Arc/ratio_to_rc", ratio),
        ),
    );
    let non_owner = "Brc<Biased>_non-owner/ratio_to_rc";
    add(
        "Clone+drop on another thread, vs `Rc`",
        "per_op",
        non_owner,
        format!(
            "`Biased` {}, `Deferred` {}",
            f("per_op", non_owner, ratio),
            f("per_op", "Brc<Deferred>_non-owner/ratio_to_rc", ratio),
        ),
    );
    let placed = "Brc<Deferred>_owner/ratio_to_rc";
    add(
        "Clone+drop on the owner thread vs `Rc`, median over random code placements: `Brc<Deferred>`, `LocalBrc<Deferred>`",
        "per_op_placement",
        placed,
        format!(
            "{}; `LocalBrc`: {}; `hybrid_rc::Rc`: {}",
            f("per_op_placement", placed, fine_ratio),
            f("per_op_placement", "LocalBrc<Deferred>/ratio_to_rc", fine_ratio),
            f("per_op_placement", "hybrid_rc::Rc/ratio_to_rc", fine_ratio),
        ),
    );
    add(
        "Whole single-interpreter programs vs `gil`, paired by round (geometric mean, one build)",
        "whole_program",
        "geomean_single/biased/paired_ratio_to_gil",
        by_policy(
            doc,
            "whole_program",
            GIL_FREE,
            |p| format!("geomean_single/{p}/paired_ratio_to_gil"),
            fine_ratio,
        ),
    );
    add(
        "The same, median over random code placements",
        "placement",
        "over_placements/biased/ratio_to_gil",
        by_policy(
            doc,
            "placement",
            GIL_FREE,
            |p| format!("over_placements/{p}/ratio_to_gil"),
            fine_ratio,
        ),
    );
    add(
        "The same programs in instructions vs `gil` (callgrind, geometric mean)",
        "instructions",
        "geomean/biased_over_gil",
        by_policy(
            doc,
            "instructions",
            GIL_FREE,
            |p| format!("geomean/{p}_over_gil"),
            fine_ratio,
        ),
    );
    add(
        "`parallel-map`, 2 interpreters vs 1 (speedup, paired by round)",
        "whole_program",
        "parallel-map/biased/paired_speedup_2_over_1",
        by_policy(
            doc,
            "whole_program",
            ["biased", "deferred", "gil"],
            |p| format!("parallel-map/{p}/paired_speedup_2_over_1"),
            ratio,
        ),
    );
    let threads = doc
        .get("experiments")
        .and_then(|e| e.get("contention"))
        .and_then(|c| c.get("metrics"))
        .and_then(Value::as_object)
        .and_then(|metrics| {
            metrics
                .keys()
                .filter_map(|k| {
                    k.strip_prefix("deferred_over_arc/")?
                        .strip_suffix("_threads")?
                        .parse::<u64>()
                        .ok()
                })
                .max()
        });
    if let Some(n) = threads {
        let key = format!("deferred_over_arc/{n}_threads");
        add(
            &format!("One hot object, {n} threads: `Deferred` vs `Arc` throughput"),
            "contention",
            &key,
            f("contention", &key, ratio),
        );
    }
    let per_object = |t: &str| f("producer_consumer", &format!("{t}/ns_per_object"), nanos);
    add(
        "Made on one thread, dropped on another: per object",
        "producer_consumer",
        "Arc/ns_per_object",
        format!(
            "`Arc` {}, `Brc<Biased>` {}, `Brc<Deferred>` {}",
            per_object("Arc"),
            per_object("Brc<Biased>"),
            per_object("Brc<Deferred>")
        ),
    );
    let send = |mode: &str| f("send_cost", &format!("{mode}/10000/ns_per_send"), nanos);
    add(
        "Send a 10,000-object graph: share / move / copy / subprocess",
        "send_cost",
        "share/10000/ns_per_send",
        format!(
            "{} / {} / {} / {}",
            send("share"),
            send("move"),
            send("copy"),
            send("subprocess")
        ),
    );
    add(
        "Object header bytes: brisk vs free-threaded CPython",
        "memory",
        "brisk_object_header_bytes",
        format!(
            "{} vs {}",
            f("memory", "brisk_object_header_bytes", bytes),
            f("memory", "cpython_ft_object_header_bytes", bytes)
        ),
    );
    let pause = |p: &str| f("cycle_pause", &format!("pause/{p}/live/100000/ns"), nanos);
    add(
        "Cycle collection, 100,000 live tracked lists: world stopped",
        "cycle_pause",
        "pause/Biased/live/100000/ns",
        format!(
            "`Biased` {}, `Deferred` {}",
            pause("Biased"),
            pause("Deferred")
        ),
    );
    let vs = |peer: &str| {
        f(
            "cycle_pause",
            &format!("dumpster/brisk<Biased>/ratio_to_{peer}"),
            ratio,
        )
    };
    add(
        "dumpster's cycle benchmark: `brisk<Biased>` vs `Arc` (leaks cycles) / \
         `dumpster::sync`",
        "cycle_pause",
        "dumpster/brisk<Biased>/ratio_to_arc",
        format!(
            "{} / {}; objects left after its last collection: {}",
            vs("arc"),
            vs("dumpster_sync"),
            f("cycle_pause", "dumpster/brisk<Biased>/left_alive", |n| {
                format!("{n:.0}")
            }),
        ),
    );
    let env = doc.get("environment");
    let field = |k: &str| {
        env.and_then(|e| e.get(k))
            .and_then(Value::as_str)
            .unwrap_or("?")
    };
    let cores = env
        .and_then(|e| e.get("cores"))
        .and_then(Value::as_u64)
        .unwrap_or(0);
    let machine = env
        .and_then(|e| e.get("machine"))
        .and_then(Value::as_str)
        .map(|m| format!(", {m}"))
        .unwrap_or_default();
    format!(
        "{}\nEach row is from the latest run of its experiment written to \
         `papers/results/`; each table names its commit and start time. The latest of \
         those runs: {} suite, {}, {} cores{machine}, load {} at start, {}. Medians of \
         interleaved rounds; see each table for spreads.\n",
        table.to_markdown(),
        field("suite"),
        field("cpu_model"),
        cores,
        field("load_average"),
        field("date"),
    )
}

/// Replaces the text between [`BEGIN`] and [`END`] in `readme` with
/// `table`. Returns false (and leaves the file) if the markers are missing.
pub fn splice_readme(readme: &Path, table: &str) -> std::io::Result<bool> {
    let text = std::fs::read_to_string(readme)?;
    let (Some(b), Some(e)) = (text.find(BEGIN), text.find(END)) else {
        return Ok(false);
    };
    if e < b {
        return Ok(false);
    }
    let new = format!("{}{BEGIN}\n\n{table}\n{}", &text[..b], &text[e..]);
    if new != text {
        std::fs::write(readme, new)?;
    }
    Ok(true)
}
