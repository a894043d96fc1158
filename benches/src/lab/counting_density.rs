//! Counting density: how often each interpreter counts per unit of work,
//! so that an overhead measured in brisk can be carried over to CPython.
//!
//! # The problem
//!
//! `whole_program` and `instructions` measure what GIL-free counting costs
//! brisk's interpreter: an overhead *Z*. The 2017 question is about
//! CPython, and *Z* does not carry over by itself: an interpreter that
//! counts twice as often per unit of work pays twice the overhead for the
//! same extra cost per counting operation. What carries over is the cost
//! per operation; what differs is the density.
//!
//! # The transfer
//!
//! If each counting operation costs a little more under a policy, an
//! interpreter that makes *X* counting operations per 1,000 instructions
//! slows down in proportion to *X*, and one that makes *Y* in proportion to
//! *Y*: so *Z* in brisk is about *Z·Y/X* in CPython ([`transfer`]). That
//! assumes the same extra cost per operation and instructions that cost
//! alike on both sides; it is a scale, not a prediction.
//!
//! # brisk's density, X
//!
//! Each single-interpreter example, with the arguments `instructions` runs
//! it with under callgrind, is run twice more:
//!
//! * under callgrind, the plain release `brisk` with `--policy gil`, for
//!   its instructions less the start-up's (a one-line program), by the
//!   same machinery as `instructions` (`instructions::count_examples`);
//! * with the counting build (`--features stats`, as `where_ops_go`) and
//!   `--stats=json`. Under `gil` every increment and decrement that reaches
//!   the counting policy is recorded on entry, on an immortal object too:
//!   the operations the interpreter *requests* of the policy, which are
//!   what a policy's extra cost per operation multiplies. (The VM's hottest
//!   paths, loading a constant or a local and popping, test for an
//!   immortal object first and then do not ask the policy at all; that
//!   test costs the same under every policy, and those operations are not
//!   in the count.) Under `biased` an immortal object's operations are
//!   skipped before they are recorded, which leaves those *on mortal
//!   objects*. The start-up program's counts are taken off both.
//!
//! # CPython's density, Y
//!
//! The published figure is per bytecode: about 1.1 increfs and 1.3 decrefs
//! per bytecode executed, from the statistics of CPython's test suite
//! during 3.12's development, before PEP 683's immortal objects
//! ([`CPYTHON_INCREFS_PER_BYTECODE`], [`CPYTHON_DECREFS_PER_BYTECODE`]).
//! Per 1,000 machine instructions it needs CPython's machine instructions
//! per bytecode, *k*, for which no published figure was found; so *k* is
//! measured here when `python3` and valgrind are present, on twins of
//! `interp/benchmarks/` whose time goes to the eval loop
//! (`PYTHON_TWINS`): instructions under callgrind (an empty program's
//! off) over the bytecodes executed (counted in a second run by a
//! `sys.settrace` opcode tracer, `BYTECODE_COUNTER`, the empty program's
//! off). Then *Y* = 2.4 × 1000 ÷ *k* ([`per_thousand`]). The figure per
//! bytecode and *k* come from different CPython versions and programs; the
//! report says which.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use brisk_refcount::embed::stats::Stats;
use serde::Deserialize;

use super::env::Binary;
use super::instructions::{self, callgrind_with_env, count_examples, ExampleCounts, StartUp};
use super::measure::{geomean, median};
use super::metrics::counting_density::{self as m, Figure, PythonFigure};
use super::programs::{self, Build};
use super::report::{int, num, percent, ratio, Table};
use super::vs_python::python_interpreter;
use super::where_ops_go::read_stats;
use super::{Ctx, Experiment, Outcome, Report, Suite};

/// The experiment.
pub const EXPERIMENT: Experiment = Experiment {
    name: "counting_density",
    title: "Counting density: counting operations per 1,000 instructions, brisk and CPython",
    question: "How often does each interpreter count per unit of work, and what does an \
               overhead measured in brisk mean for CPython? (\"Do we know yet how much \
               single-thread overhead this adds?\", python-dev 2017)",
    timed: &[Binary::Brisk],
    run,
};

/// Increfs per bytecode executed in CPython (quoted): "There are about 1.1
/// increfs and 1.3 decrefs per bytecode instruction executed", from "stats
/// gathered from running the test suite" (Michael Droettboom, "Deferred
/// reference counts", faster-cpython/ideas issue 443, 2 August 2022).
pub const CPYTHON_INCREFS_PER_BYTECODE: f64 = 1.1;

/// Decrefs per bytecode executed in CPython (quoted, as
/// [`CPYTHON_INCREFS_PER_BYTECODE`]).
pub const CPYTHON_DECREFS_PER_BYTECODE: f64 = 1.3;

/// Increfs plus decrefs over an average CPython object's lifetime (quoted
/// from the same issue: "the average object sees 6 increfs and 7 decrefs
/// over its lifetime").
pub const CPYTHON_OPS_PER_OBJECT: f64 = 6.0 + 7.0;

/// Where the CPython figures come from, for the report.
const CPYTHON_SOURCE: &str = "M. Droettboom, \"Deferred reference counts\", \
     faster-cpython/ideas issue 443 (2 August 2022), \
     <https://github.com/faster-cpython/ideas/issues/443>: statistics of CPython's \
     test suite during 3.12's development";

/// The twins of `interp/benchmarks/` whose CPython instructions per
/// bytecode are measured: recursion, calls and small-integer arithmetic,
/// where CPython's time goes to its eval loop rather than to C code.
const PYTHON_TWINS: [&str; 3] = ["fib", "tak", "nqueens"];

/// A fixed hash seed, so that CPython's counts repeat run to run.
const PYTHON_ENV: [(&str, &str); 1] = [("PYTHONHASHSEED", "0")];

/// Run as `python3 -c BYTECODE_COUNTER FILE ARGS…`: runs `FILE` as
/// `__main__` with `ARGS` as its arguments under an opcode tracer, and
/// writes `{"bytecodes": N}` as the last line of standard error.
const BYTECODE_COUNTER: &str = r#"
import json, runpy, sys
count = 0
def opcodes(frame, event, arg):
    global count
    if event == "opcode":
        count += 1
    return opcodes
def calls(frame, event, arg):
    frame.f_trace_opcodes = True
    return opcodes
path = sys.argv[1]
sys.argv = sys.argv[1:]
sys.settrace(calls)
try:
    runpy.run_path(path, run_name="__main__")
finally:
    sys.settrace(None)
    print(json.dumps({"bytecodes": count}), file=sys.stderr)
"#;

/// What `BYTECODE_COUNTER` writes.
#[derive(Debug, PartialEq, Deserialize)]
struct Bytecodes {
    bytecodes: u64,
}

/// Counting operations per 1,000 instructions.
pub fn per_thousand(operations: f64, instructions: f64) -> f64 {
    1000.0 * operations / instructions
}

/// An overhead measured in brisk (0.02 for 2%), carried to an interpreter
/// that counts `y` times per 1,000 instructions where brisk counts `x`:
/// the same extra cost per counting operation, spread over
/// `y ÷ x` times the share of the work.
pub fn transfer(overhead: f64, x: f64, y: f64) -> f64 {
    overhead * y / x
}

/// The machine instructions per bytecode at which CPython, at
/// `ops_per_bytecode`, would count as densely per instruction as an
/// interpreter making `x` counting operations per 1,000 instructions.
pub fn break_even_instructions_per_bytecode(ops_per_bytecode: f64, x: f64) -> f64 {
    1000.0 * ops_per_bytecode / x
}

/// One example's counts, start-up off.
struct Density {
    name: &'static str,
    /// Instructions under `gil`.
    instructions: f64,
    /// Counting operations under `gil` (immortal objects included).
    requested: f64,
    /// Counting operations under `biased` (mortal objects only).
    mortal: f64,
    /// Objects freed under `gil`.
    frees: f64,
}

/// Counting operations recorded in `stats`, on any path.
fn operations(stats: &Stats) -> f64 {
    (stats.owner_ops + stats.shared_ops + stats.buffered_ops) as f64
}

/// The counters of `brisk run FILE ARGS --policy POLICY --stats=json` with
/// the counting build `bin`, `file` being in `dir`.
fn stats_of(
    ctx: &Ctx,
    bin: &Path,
    (dir, file): (&Path, &str),
    args: &[String],
    policy: &str,
) -> Result<Stats, String> {
    let run = programs::run_file_in(ctx, bin, (dir, file), args, policy, &["--stats=json"])?;
    read_stats(&run.stderr)
}

/// The counters of each example (and of the start-up program, taken off)
/// under `gil` and `biased`, with the arguments `counts` ran them with.
fn densities(ctx: &Ctx, stats_bin: &Path, counts: &ExampleCounts) -> Result<Vec<Density>, String> {
    let start_up = StartUp::write()?;
    let (start_dir, start_file) = start_up.dir_and_file();
    let base = |policy| stats_of(ctx, stats_bin, (start_dir, &start_file), &[], policy);
    let (base_gil, base_biased) = (base("gil")?, base("biased")?);
    let dir = ctx.workspace.join("interp/examples");
    let mut out = Vec::new();
    for (i, example) in counts.examples.iter().enumerate() {
        let name = example.program.name;
        ctx.step(format!("{name}: counters under gil and biased"));
        let file = (dir.as_path(), example.program.file);
        let gil = stats_of(ctx, stats_bin, file, &example.args, "gil")?;
        let biased = stats_of(ctx, stats_bin, file, &example.args, "biased")?;
        out.push(Density {
            name,
            instructions: counts.own(i, 0),
            requested: (operations(&gil) - operations(&base_gil)).max(0.0),
            mortal: (operations(&biased) - operations(&base_biased)).max(0.0),
            frees: gil.frees.saturating_sub(base_gil.frees) as f64,
        });
    }
    Ok(out)
}

/// One twin's CPython counts, the empty program's off.
struct Twin {
    name: &'static str,
    instructions: f64,
    bytecodes: f64,
}

/// Bytecodes executed by `python FILE ARGS` in `dir`, by
/// `BYTECODE_COUNTER`.
fn bytecodes(python: &Path, dir: &Path, file: &str, args: &[String]) -> Result<u64, String> {
    let output = Command::new(python)
        .args(["-c", BYTECODE_COUNTER, file])
        .args(args)
        .envs(PYTHON_ENV)
        .current_dir(dir)
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("could not run {}: {e}", python.display()))?;
    let stderr = String::from_utf8_lossy(&output.stderr);
    if !output.status.success() {
        return Err(format!(
            "counting the bytecodes of {file} failed: {}",
            stderr.trim()
        ));
    }
    parse_bytecodes(&stderr)
}

/// The count `BYTECODE_COUNTER` wrote as the last line of `stderr`.
fn parse_bytecodes(stderr: &str) -> Result<u64, String> {
    let last = stderr
        .lines()
        .rev()
        .find(|l| !l.trim().is_empty())
        .unwrap_or("");
    serde_json::from_str::<Bytecodes>(last)
        .map(|b| b.bytecodes)
        .map_err(|e| {
            format!(
                "the bytecode counter wrote no count ({e}): {}",
                stderr.trim()
            )
        })
}

/// CPython's instructions and bytecodes for each of `PYTHON_TWINS`, and
/// the interpreter's version; or why they could not be counted.
fn python_twins(ctx: &Ctx) -> Result<(String, Vec<Twin>), String> {
    let (python, version) = python_interpreter()?;
    let dir = ctx.workspace.join("interp/benchmarks");
    let empty: PathBuf =
        std::env::temp_dir().join(format!("brisk-lab-empty-{}.py", std::process::id()));
    std::fs::write(&empty, "").map_err(|e| format!("could not write {}: {e}", empty.display()))?;
    let empty_name = empty.to_string_lossy().into_owned();
    let count = |file: &str, args: &[String]| -> Result<(f64, f64), String> {
        ctx.step(format!("CPython: {file} under callgrind, then traced"));
        let mut all = vec![file.to_owned()];
        all.extend_from_slice(args);
        let counted = callgrind_with_env(&python, &all, &dir, &PYTHON_ENV, file)?;
        let bytecodes = bytecodes(&python, &dir, file, args)?;
        Ok((counted.instructions as f64, bytecodes as f64))
    };
    let twins = (|| {
        let (base_instructions, base_bytecodes) = count(&empty_name, &[])?;
        let one = vec!["1".to_owned()];
        PYTHON_TWINS
            .iter()
            .map(|&name| {
                let (instructions, bytecodes) = count(&format!("{name}.py"), &one)?;
                Ok(Twin {
                    name,
                    instructions: instructions - base_instructions,
                    bytecodes: bytecodes - base_bytecodes,
                })
            })
            .collect::<Result<Vec<_>, String>>()
    })();
    let _ = std::fs::remove_file(&empty);
    Ok((version, twins?))
}

fn run(ctx: &Ctx) -> Outcome {
    if ctx.suite == Suite::Smoke {
        return Outcome::Skipped(
            "not in the smoke suite: it needs the counting build of `brisk` and callgrind, \
             which take minutes"
                .to_owned(),
        );
    }
    if !instructions::have_valgrind() {
        return Outcome::Skipped(
            "valgrind was not found (Debian: `apt-get install valgrind`)".to_owned(),
        );
    }
    // The counting build first, so that the environment records the
    // allocator of the plain build, whose instructions are counted.
    let stats_bin = match programs::build(ctx, Build::Stats) {
        Ok(bin) => bin,
        Err(why) => return Outcome::Skipped(why),
    };
    let bin = match programs::build(ctx, Build::Plain) {
        Ok(bin) => bin,
        Err(why) => return Outcome::Skipped(why),
    };
    let counts = match count_examples(ctx, &bin, &["gil"]) {
        Ok(counts) => counts,
        Err(why) => return Outcome::Skipped(why),
    };
    let densities = match densities(ctx, &stats_bin, &counts) {
        Ok(d) => d,
        Err(why) => return Outcome::Skipped(why),
    };

    let mut report = Report::new();
    let x = brisk_table(&mut report, &counts, &densities);
    cpython_table(&mut report);
    let k = match python_twins(ctx) {
        Ok((version, twins)) => Some(twins_table(&mut report, &version, &twins)),
        Err(why) => {
            report.note(format!(
                "CPython's instructions per bytecode were not measured: {why}. The transfer \
                 below is then given only as a formula."
            ));
            None
        }
    };
    transfer_section(&mut report, x, k);
    Outcome::Ran(report)
}

/// The table of brisk's densities; returns the geometric mean of the
/// requested operations per 1,000 instructions (*X*).
fn brisk_table(report: &mut Report, counts: &ExampleCounts, densities: &[Density]) -> f64 {
    report.heading("brisk's interpreter");
    let lines: Vec<String> = counts
        .examples
        .iter()
        .map(|e| format!("`{} {}`", e.program.file, e.args.join(" ")))
        .collect();
    report.para(format!(
        "Instructions: `valgrind --tool=callgrind brisk run FILE ARGS --policy gil` (the \
         release build), less the start-up's ({} instructions, a one-line program), as in \
         `instructions.md`. Counting operations: the same programs with a `brisk` built \
         with `--features stats` and `--stats=json`, less the start-up program's. \
         \"Requested\" is every increment and decrement that reached the counting policy \
         under `gil`, which records each on entry, on an immortal object too: what a \
         policy's extra cost per operation multiplies. The VM's hottest paths (loading a \
         constant or a local, popping) test for an immortal object first and then do not \
         ask the policy, at the same cost under every policy; those are not counted. \
         \"On mortal objects\" is the count under `biased`, which skips an immortal \
         object's operations (small integers, constants, builtins) before recording them. \
         Programs: {}.",
        int(counts.start_up[0]),
        lines.join(", ")
    ));
    let mut table = Table::new(&[
        "program",
        "instructions (`gil`)",
        "requested operations",
        "requested per 1,000 instructions",
        "on mortal objects",
        "mortal per 1,000 instructions",
        "requested per object freed",
    ]);
    let (mut requested, mut mortal) = (Vec::new(), Vec::new());
    for d in densities {
        let r = per_thousand(d.requested, d.instructions);
        let mo = per_thousand(d.mortal, d.instructions);
        let per_free = d.requested / d.frees;
        requested.push(r);
        mortal.push(mo);
        let mut metric = |figure, value| report.metric(m::program(d.name, figure), value);
        metric(Figure::Instructions, d.instructions);
        metric(Figure::RequestedOps, d.requested);
        metric(Figure::RequestedPerThousand, r);
        metric(Figure::MortalOps, d.mortal);
        metric(Figure::MortalPerThousand, mo);
        metric(Figure::RequestedPerFree, per_free);
        table.row(vec![
            format!("`{}`", d.name),
            int(d.instructions as u64),
            int(d.requested as u64),
            num(r),
            int(d.mortal as u64),
            num(mo),
            num(per_free),
        ]);
    }
    let (x, x_mortal) = (geomean(&requested), geomean(&mortal));
    report.metric(m::GEOMEAN_REQUESTED_PER_THOUSAND, x);
    report.metric(m::GEOMEAN_MORTAL_PER_THOUSAND, x_mortal);
    table.row(vec![
        "geometric mean".to_owned(),
        String::new(),
        String::new(),
        num(x),
        String::new(),
        num(x_mortal),
        String::new(),
    ]);
    report.table(&table);
    report.para(
        "\"Per object freed\" divides the requested operations by the objects the run \
         freed (objects alive at exit are not freed and not in it, so a program that \
         allocates little, as `fib`, reads high); CPython's figure below is per object \
         over its lifetime. Under `biased` an immortal object's operation that reaches \
         the policy still costs its owner check, so the requested count, not the mortal \
         one, is X below.",
    );
    x
}

/// The quoted CPython figures.
fn cpython_table(report: &mut Report) {
    report.heading("CPython, as published");
    let per_bytecode = CPYTHON_INCREFS_PER_BYTECODE + CPYTHON_DECREFS_PER_BYTECODE;
    report.metric(m::CPYTHON_OPS_PER_BYTECODE, per_bytecode);
    report.metric(m::CPYTHON_OPS_PER_OBJECT, CPYTHON_OPS_PER_OBJECT);
    let mut table = Table::new(&["figure", "value"]);
    table.row(vec![
        "increfs per bytecode executed".to_owned(),
        num(CPYTHON_INCREFS_PER_BYTECODE),
    ]);
    table.row(vec![
        "decrefs per bytecode executed".to_owned(),
        num(CPYTHON_DECREFS_PER_BYTECODE),
    ]);
    table.row(vec![
        "counting operations per bytecode".to_owned(),
        num(per_bytecode),
    ]);
    table.row(vec![
        "counting operations over an average object's lifetime".to_owned(),
        num(CPYTHON_OPS_PER_OBJECT),
    ]);
    report.table(&table);
    report.para(format!(
        "Source: {CPYTHON_SOURCE}. They are from before PEP 683 (immortal objects, \
         CPython 3.12), so every `Py_INCREF` and `Py_DECREF` counted, on `None`, \
         `True` and small integers too, where brisk's VM skips most operations on \
         immortal objects before they reach the policy; since then an operation on an \
         immortal object skips the write in CPython too, and 3.14's borrowed loads \
         (`LOAD_FAST_BORROW`) skip some operations altogether, so a newer CPython counts \
         less often than this. No published \
         figure per machine instruction was found: the next section measures CPython's \
         instructions per bytecode here to state one."
    ));
}

/// The table of CPython's instructions per bytecode; returns their median
/// (*k*).
fn twins_table(report: &mut Report, version: &str, twins: &[Twin]) -> f64 {
    report.heading("CPython's instructions per bytecode, measured here");
    let mut table = Table::new(&[
        "twin",
        "instructions",
        "bytecodes",
        "instructions per bytecode",
    ]);
    let mut per = Vec::new();
    for t in twins {
        let k = t.instructions / t.bytecodes;
        per.push(k);
        report.metric(
            m::python(t.name, PythonFigure::Instructions),
            t.instructions,
        );
        report.metric(m::python(t.name, PythonFigure::Bytecodes), t.bytecodes);
        report.metric(m::python(t.name, PythonFigure::InstructionsPerBytecode), k);
        table.row(vec![
            format!("`{}.py 1`", t.name),
            int(t.instructions as u64),
            int(t.bytecodes as u64),
            num(k),
        ]);
    }
    let k = median(&per);
    report.metric(m::PYTHON_INSTRUCTIONS_PER_BYTECODE, k);
    table.row(vec![
        "median".to_owned(),
        String::new(),
        String::new(),
        num(k),
    ]);
    report.para(format!(
        "{version}, `PYTHONHASHSEED=0`. Instructions: `valgrind --tool=callgrind python3 \
         NAME.py 1` in `interp/benchmarks/` (one repetition of the twin of \
         `NAME.brisk`), less an empty program's. Bytecodes: the same run under a \
         `sys.settrace` tracer with opcode events on, counting them, less what it counts \
         for the empty program. These are twins whose time goes to the eval loop \
         (calls, recursion, small integers); a program that spends its time in C \
         (string methods, `sort`) runs many more instructions per bytecode."
    ));
    report.table(&table);
    k
}

/// The transfer: *Y* from *k* (if measured) and the published figure per
/// bytecode, the factor *Y*/*X*, and what a few overheads in brisk become.
fn transfer_section(report: &mut Report, x: f64, k: Option<f64>) {
    report.heading("Carrying an overhead from brisk to CPython");
    let per_bytecode = CPYTHON_INCREFS_PER_BYTECODE + CPYTHON_DECREFS_PER_BYTECODE;
    let even = break_even_instructions_per_bytecode(per_bytecode, x);
    report.metric(m::BREAK_EVEN_INSTRUCTIONS_PER_BYTECODE, even);
    let Some(k) = k else {
        report.para(format!(
            "brisk's interpreter requests X = {} counting operations per 1,000 \
             instructions (geometric mean). At {} per bytecode, CPython counts more densely \
             per instruction than that if it executes fewer than {} machine instructions \
             per bytecode; an overhead Z in brisk is then about Z × (1000 × {} ÷ k) ÷ X in \
             CPython, k being CPython's instructions per bytecode.",
            num(x),
            num(per_bytecode),
            num(even),
            num(per_bytecode)
        ));
        return;
    };
    let y = per_thousand(per_bytecode, k);
    let factor = y / x;
    report.metric(m::CPYTHON_OPS_PER_THOUSAND, y);
    report.metric(m::TRANSFER_FACTOR, factor);
    report.para(format!(
        "X, brisk: {} requested counting operations per 1,000 instructions (geometric \
         mean over the examples). Y, CPython: {} per bytecode × 1000 ÷ {} instructions \
         per bytecode = {} per 1,000 instructions. Y ÷ X = {}: for the same extra cost \
         per counting operation, CPython's overhead would be about {} brisk's. (CPython \
         counts as densely as brisk at {} instructions per bytecode.)",
        num(x),
        num(per_bytecode),
        num(k),
        num(y),
        num(factor),
        ratio(factor),
        num(even)
    ));
    let mut table = Table::new(&["overhead in brisk", "about, in CPython"]);
    for z in [0.01, 0.02, 0.03, 0.05] {
        table.row(vec![percent(z), percent(transfer(z, x, y))]);
    }
    report.table(&table);
    report.para(
        "What this does not show: it assumes that an operation costs CPython what it \
         costs brisk more under a policy, which holds only as far as the two count the \
         same way (a plain load and store on the owner's path; CPython's free-threaded \
         build adds its own checks); Y counts operations on objects that CPython has \
         since made immortal and brisk's X mostly does not, which makes Y ÷ X too large; \
         Y mixes a 2022 figure from CPython's test suite with instructions per bytecode \
         of a different CPython on three small programs; and instructions are not time. \
         It is the scale between the two interpreters, not a measured overhead of \
         CPython.",
    );
}

#[cfg(test)]
mod tests {
    use super::{
        break_even_instructions_per_bytecode, parse_bytecodes, per_thousand, transfer,
        CPYTHON_DECREFS_PER_BYTECODE, CPYTHON_INCREFS_PER_BYTECODE,
    };

    #[test]
    fn density_is_operations_per_thousand_instructions() {
        assert_eq!(per_thousand(50.0, 10_000.0), 5.0);
        // CPython's 2.4 per bytecode at 48 instructions per bytecode.
        let y = per_thousand(
            CPYTHON_INCREFS_PER_BYTECODE + CPYTHON_DECREFS_PER_BYTECODE,
            48.0,
        );
        assert!((y - 50.0).abs() < 1e-9, "{y}");
    }

    #[test]
    fn an_overhead_scales_with_the_density_ratio() {
        // An interpreter counting twice as densely pays twice the overhead.
        assert!((transfer(0.02, 10.0, 20.0) - 0.04).abs() < 1e-12);
        assert!((transfer(0.03, 10.0, 10.0) - 0.03).abs() < 1e-12);
        // At the break-even instructions per bytecode, Y equals X.
        let x = 8.0;
        let k = break_even_instructions_per_bytecode(2.4, x);
        assert!((per_thousand(2.4, k) - x).abs() < 1e-9);
    }

    #[test]
    fn the_bytecode_count_is_the_last_line_of_stderr() {
        assert_eq!(parse_bytecodes("warning\n{\"bytecodes\": 42}\n\n"), Ok(42));
        assert!(parse_bytecodes("Traceback (most recent call last):").is_err());
        assert!(parse_bytecodes("").is_err());
    }
}
