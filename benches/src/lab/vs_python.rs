//! brisk against CPython on the same algorithms: fourteen classic programs
//! of the r7rs-benchmarks suite, each in the language and in Python.
//!
//! `interp/benchmarks/<name>.brisk` and its twin `<name>.py` run the same
//! algorithm on the same data structures and print the same text; their
//! first argument is how many times to repeat the program's classic input
//! (each program's default takes a few tenths of a second under the
//! release `brisk`). Three variants run each program as a subprocess
//! ([`programs::run`]): `brisk run --policy gil`, `brisk run --policy
//! biased` and `python3`. Each round runs every program under the three
//! variants back to back, in an order that rotates by one each round
//! ([`rotation`]), so that a variant's time divided by Python's *in the
//! same round* cancels most of the machine's drift ([`PolicyRuns`], as
//! `whole_program` keeps its runs).
//!
//! Per program: the median of those per-round ratios with its 95% interval
//! ([`median_with_interval`]). Over the programs: the geometric mean of the
//! per-program medians, and, for an interval, each round's geometric mean
//! over the fourteen programs, summarised the same way. Every variant must
//! print what Python printed, which the experiment checks. Without
//! `python3` on the `PATH` the experiment is skipped.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use super::env::Binary;
use super::measure::{geomean, rotation};
use super::metrics::vs_python::{self as m, Figure};
use super::paired::{median_with_interval, note_outputs, PolicyRuns};
use super::programs::{self, Build};
use super::report::{fine_ratio, num, Table};
use super::{Ctx, Experiment, Outcome, Report, Suite};

/// The experiment.
pub const EXPERIMENT: Experiment = Experiment {
    name: "vs_python",
    title: "brisk against CPython on fourteen r7rs-benchmarks programs",
    question: "How fast is the language, under a GIL and under biased counting, next to \
               CPython running the same algorithms?",
    timed: &[Binary::Brisk],
    run,
};

/// The programs of `interp/benchmarks/`, by file stem.
pub const PROGRAMS: [&str; 14] = [
    "tak",
    "fib",
    "ack",
    "cpstak",
    "takl",
    "nqueens",
    "deriv",
    "primes",
    "destruc",
    "array1",
    "string",
    "sum",
    "mbrot",
    "quicksort",
];

/// One way to run a program.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
enum Variant {
    /// The release `brisk` under this policy.
    Brisk(&'static str),
    /// `python3`: the baseline.
    Python,
}

impl Variant {
    /// The name in tables and metric keys.
    fn name(self) -> &'static str {
        match self {
            Variant::Brisk(policy) => policy,
            Variant::Python => "python",
        }
    }
}

/// The variants, Python (the baseline, as [`PolicyRuns`] wants it) first.
const VARIANTS: [Variant; 3] = [
    Variant::Python,
    Variant::Brisk("gil"),
    Variant::Brisk("biased"),
];

/// Index of the baseline in [`VARIANTS`].
const PYTHON: usize = 0;

/// The command that finds the Python interpreter the twins run under.
const PYTHON_EXE: &str = "python3";

/// The Python interpreter itself: `sys.executable` as `python3` on the
/// `PATH` reports it, so that a launcher in front of it (a version
/// manager's shim, a shell script) is not timed with it; and its version.
/// Or why it cannot be run.
pub(super) fn python_interpreter() -> Result<(PathBuf, String), String> {
    let output = Command::new(PYTHON_EXE)
        .args([
            "-c",
            "import sys, platform; print(sys.executable); print(platform.python_version())",
        ])
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("`{PYTHON_EXE}` cannot be run: {e}"))?;
    if !output.status.success() {
        return Err(format!("`{PYTHON_EXE}` failed ({})", output.status));
    }
    let text = String::from_utf8_lossy(&output.stdout);
    match text.lines().collect::<Vec<_>>()[..] {
        [exe, version] if !exe.is_empty() => Ok((PathBuf::from(exe), format!("Python {version}"))),
        _ => Err(format!(
            "`{PYTHON_EXE}` did not name its executable and version: {text:?}"
        )),
    }
}

/// The program arguments of `suite`: one repetition in the smoke suite,
/// the programs' defaults otherwise.
fn args(suite: Suite) -> Vec<String> {
    suite.pick(vec!["1".to_owned()], Vec::new(), Vec::new())
}

/// Runs program `name` once as `variant`, from `dir`, and returns its
/// wall time and output.
fn run_one(
    ctx: &Ctx,
    (bin, python, dir): (&Path, &Path, &Path),
    name: &str,
    variant: Variant,
) -> Result<programs::Run, String> {
    let args = args(ctx.suite);
    match variant {
        Variant::Brisk(policy) => {
            let file = format!("{name}.brisk");
            programs::run_file_in(ctx, bin, (dir, &file), &args, policy, &[])
        }
        Variant::Python => {
            let mut all = vec![format!("{name}.py")];
            all.extend(args);
            programs::run(&ctx.exe, python, &all, dir)
        }
    }
}

fn run(ctx: &Ctx) -> Outcome {
    let (python_exe, python) = match python_interpreter() {
        Ok(found) => found,
        Err(why) => return Outcome::Skipped(why),
    };
    let bin = match programs::build(ctx, Build::Plain) {
        Ok(bin) => bin,
        Err(why) => return Outcome::Skipped(why),
    };
    let dir = ctx.workspace.join("interp/benchmarks");
    let rounds = ctx.suite.pick(1, 6, 12);
    let mut runs = PolicyRuns::default();
    for round in 0..rounds {
        for (i, name) in PROGRAMS.iter().enumerate() {
            ctx.step(format!("round {}/{rounds}: {name}", round + 1));
            for j in rotation(round, VARIANTS.len()) {
                match run_one(ctx, (&bin, &python_exe, &dir), name, VARIANTS[j]) {
                    Ok(r) => runs.record((i, j), r),
                    Err(e) => return Outcome::Skipped(format!("a program failed: {e}")),
                }
            }
        }
    }

    let mut report = Report::new();
    report.para(format!(
        "Each program of `interp/benchmarks/` as a subprocess: `brisk run NAME.brisk \
         --policy P` (brisk-lab's own build profile: release for timings) and `{} NAME.py` ({python}, the interpreter itself as `sys.executable` names it, \
         so that no launcher's start-up is timed with it), with \
         {}; wall time from spawn to exit, start-up included. {rounds} rounds; in each, \
         every program under the three variants back to back, in an order that rotates \
         by one each round. A ratio below 1 means brisk is faster.",
        python_exe.display(),
        match args(ctx.suite).first() {
            Some(count) => format!("the repetition count {count}"),
            None => "each program's default repetition count".to_owned(),
        }
    ));
    let brisk: Vec<usize> = (0..VARIANTS.len()).filter(|&j| j != PYTHON).collect();
    let mut headers = vec!["program".to_owned(), "`python3` time".to_owned()];
    headers.extend(
        brisk
            .iter()
            .map(|&j| format!("`{}` ÷ `python3` (95% interval)", VARIANTS[j].name())),
    );
    let mut table = Table::new(&headers);
    for (i, name) in PROGRAMS.iter().enumerate() {
        let python_time = runs.samples[&(i, PYTHON)].median();
        let python = VARIANTS[PYTHON].name();
        report.metric(m::program(name, python, Figure::Seconds), python_time);
        let mut row = vec![format!("`{name}`"), format!("{} s", num(python_time))];
        for &j in &brisk {
            let variant = VARIANTS[j].name();
            report.metric(
                m::program(name, variant, Figure::Seconds),
                runs.samples[&(i, j)].median(),
            );
            let key = m::program(name, variant, Figure::PairedRatioToPython);
            row.push(median_with_interval(&mut report, &key, &runs.paired(i, j)));
        }
        table.row(row);
    }
    let mut row = vec!["geometric mean".to_owned(), String::new()];
    for &j in &brisk {
        let variant = VARIANTS[j].name();
        let medians: Vec<f64> = (0..PROGRAMS.len())
            .map(|i| runs.paired(i, j).median())
            .collect();
        let mean = geomean(&medians);
        report.metric(m::geomean_ratio_to_python(variant), mean);
        let every: Vec<usize> = (0..PROGRAMS.len()).collect();
        let interval = median_with_interval(
            &mut report,
            &m::geomean_paired_ratio_to_python(variant),
            &runs.per_round_geomean(&every, j),
        );
        row.push(format!("{} (per round: {interval})", fine_ratio(mean)));
    }
    table.row(row);
    report.table(&table);
    report.para(
        "The geometric mean is of the fourteen per-program medians; in brackets, the \
         median over the rounds of each round's geometric mean, with its 95% interval \
         (distribution-free, between two order statistics; none with fewer than six \
         rounds).",
    );
    note_outputs(
        &mut report,
        &runs.mismatches_by(|i, j| format!("{} under {}", PROGRAMS[i], VARIANTS[j].name())),
        "Both policies printed what Python printed for every program.",
    );
    if ctx.suite == Suite::Smoke {
        report.note("Smoke suite: one repetition of each program, one round; no timing claim.");
    }
    Outcome::Ran(report)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What `sys.executable` says when `exe` runs.
    fn executable_seen_by(exe: &Path) -> Option<String> {
        let output = Command::new(exe)
            .args(["-c", "import sys; print(sys.executable)"])
            .output()
            .ok()?;
        Some(String::from_utf8_lossy(&output.stdout).trim().to_owned())
    }

    /// The baseline is CPython itself, not a launcher in front of it (a
    /// version manager's shim is a shell script that adds its own start-up
    /// to every timed run): the executable timed is the one the
    /// interpreter reports as its own.
    #[test]
    fn the_baseline_is_the_interpreter_not_a_launcher() {
        let Ok((exe, _)) = python_interpreter() else {
            eprintln!("no python3 here: nothing to check");
            return;
        };
        let seen = executable_seen_by(&exe).expect("the interpreter runs");
        assert_eq!(
            Path::new(&seen),
            exe,
            "the timed executable is not the interpreter"
        );
    }
}
