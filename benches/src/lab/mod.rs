//! brisk-lab: every figure brisk claims, from one command.
//!
//! # The problem
//!
//! The questions brisk exists to answer (`DESIGN.md`, and the 2017
//! python-dev thread in `shared/reference/`) are quantitative: what does
//! GIL-free counting cost one thread, how does a hot object scale, what does
//! a send cost against a subprocess. Criterion answers one micro-question
//! at a time and prints numbers; the papers need every figure from one run,
//! in files, with the machine that produced them.
//!
//! # The mechanism
//!
//! Each experiment is one module with a `run` function that takes a [`Ctx`]
//! and returns an [`Outcome`]: a [`Report`] (markdown tables, notes, named
//! metrics, plots) or the reason it was skipped. It also names the programs
//! it times ([`Experiment::timed`]: brisk-lab itself, the `brisk`
//! interpreter, or both). The binary (`src/bin/brisk-lab.rs`) runs the
//! selected experiments under a progress bar and writes, in the output
//! folder (default `papers/results/`):
//!
//! * `<name>.md` per experiment, with the command that reproduces it and a
//!   line on the environment it ran in;
//! * `<name>*.svg` plots where a curve says more than a table;
//! * `results.json` ([`results`]): one entry per experiment, each with its
//!   own environment ([`env::Environment`]: machine label, CPU model,
//!   cores, load average at its start, the allocator of each binary it
//!   timed, rustc, git commit and whether the tree was clean, date, suite),
//!   its status, and every figure by name ([`metrics`]). `--only NAME`
//!   replaces that one entry and keeps the others;
//! * `headline.md`, the summary README.md shows (and, for a default run, the
//!   README section between the `brisk-lab:headline` markers, and every
//!   figure marked in README.md or `papers/answers.md`; see [`check`]).
//!
//! # Metric names
//!
//! Figures are named by [`metrics::Metric`]s, which only [`metrics`] can
//! make: one function per family of figures, used both where an experiment
//! records a figure and where the headline reads it, so that a misspelled
//! name does not compile.
//!
//! # Freshness
//!
//! `brisk-lab --check` runs no experiment. It fails, listing why, when an
//! experiment's entry in `results.json` is missing, from the smoke suite,
//! from a dirty tree, or measured before the last commit that changed
//! `refcount/`, `gc/`, `runtime/` or `interp/`; or when README.md's
//! headline or a marked figure of README.md or `papers/answers.md` is not
//! what `results.json` gives ([`check`] describes the markers). CI runs it
//! and prints the result.
//!
//! # Noise
//!
//! These machines are shared and noisy. Every experiment interleaves the
//! variants it compares (A B C A B C …, [`measure::interleave`]) so that a
//! burst of load hits all of them alike, and reports medians, the spread
//! across rounds, and ratios between variants measured side by side.
//!
//! # Suites
//!
//! [`Suite::Quick`] (the default) takes a few minutes on two cores;
//! [`Suite::Full`] runs longer samples and more rounds; [`Suite::Smoke`]
//! runs every code path in seconds and makes no timing claim (CI runs it,
//! and it writes under `target/`, never into `papers/results/`).
//!
//! | experiment | module |
//! |---|---|
//! | per-operation cost, beside the BRC paper's Table 7 | [`per_op`] |
//! | the same over random code placements | [`per_op_placement`] |
//! | contention scaling | [`contention`] |
//! | producer/consumer | [`producer_consumer`] |
//! | reclamation delay under `Deferred` | [`reclamation_delay`] |
//! | where operations go | [`where_ops_go`] |
//! | whole-program overhead | [`whole_program`] |
//! | the same over random code placements | [`placement`] |
//! | instructions per policy (callgrind) | [`instructions`] |
//! | counting operations per 1,000 instructions, brisk and CPython | [`counting_density`] |
//! | parallel-map scaling, 1…N interpreters | [`parallel_scaling`] |
//! | parallel-map, worker interpreters against worker processes | [`parallel_processes`] |
//! | send cost versus graph size | [`send_cost`] |
//! | memory | [`memory`] |
//! | cycle collector pause | [`cycle_pause`] |
//! | brisk against CPython, r7rs-benchmarks programs | [`vs_python`] |

pub mod check;
pub mod child;
pub mod env;
pub mod headline;
pub mod measure;
pub mod metrics;
pub mod paired;
pub mod plot;
pub mod process_map;
pub mod programs;
pub mod report;
pub mod results;

pub mod contention;
pub mod counting_density;
pub mod cycle_pause;
pub mod instructions;
pub mod memory;
pub mod parallel_processes;
pub mod parallel_scaling;
pub mod per_op;
pub mod per_op_placement;
pub mod placement;
pub mod producer_consumer;
pub mod reclamation_delay;
pub mod send_cost;
pub mod vs_python;
pub mod where_ops_go;
pub mod whole_program;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use indicatif::ProgressBar;
use serde::{Deserialize, Serialize};

pub use report::{Outcome, Report};

/// How long and how careful a run is.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Suite {
    /// Every code path once, in seconds; no timing claims.
    Smoke,
    /// The default: a few minutes on two cores.
    Quick,
    /// Longer samples, more rounds, larger programs.
    Full,
}

impl Suite {
    /// The suite's name in results.
    pub fn name(self) -> &'static str {
        match self {
            Suite::Smoke => "smoke",
            Suite::Quick => "quick",
            Suite::Full => "full",
        }
    }

    /// The suite called `name` (as [`Suite::name`] writes it).
    pub fn from_name(name: &str) -> Option<Suite> {
        [Suite::Smoke, Suite::Quick, Suite::Full]
            .into_iter()
            .find(|s| s.name() == name)
    }

    /// One of three settings, by suite.
    pub fn pick<T>(self, smoke: T, quick: T, full: T) -> T {
        match self {
            Suite::Smoke => smoke,
            Suite::Quick => quick,
            Suite::Full => full,
        }
    }
}

/// What an experiment gets to run with.
pub struct Ctx {
    /// The suite.
    pub suite: Suite,
    /// The workspace root (where `interp/` and `papers/` are).
    pub workspace: PathBuf,
    /// The folder results go to; plots are written here.
    pub out: PathBuf,
    /// This executable, for child processes (`send-child`, `memory-child`).
    pub exe: PathBuf,
    /// The cargo target folder this executable was built in; the release
    /// `brisk` binary is built there too.
    pub target_dir: PathBuf,
    /// A prebuilt `brisk` to time instead of building one (`--brisk`), for
    /// a machine without cargo.
    pub brisk: Option<PathBuf>,
    /// The experiment running now, for progress messages.
    pub name: &'static str,
    bar: ProgressBar,
    /// The allocator of each binary the running experiment has found to
    /// time ([`Ctx::timed_binary`]); the driver takes it when the
    /// experiment ends.
    timed: Mutex<BTreeMap<env::Binary, env::Allocator>>,
}

impl Ctx {
    /// A context for experiment `name`.
    pub fn new(
        suite: Suite,
        workspace: PathBuf,
        out: PathBuf,
        exe: PathBuf,
        target_dir: PathBuf,
        brisk: Option<PathBuf>,
        bar: ProgressBar,
    ) -> Self {
        Ctx {
            suite,
            workspace,
            out,
            exe,
            target_dir,
            brisk,
            name: "",
            bar,
            timed: Mutex::new(BTreeMap::new()),
        }
    }

    /// Records that the running experiment times `binary` at `path`, whose
    /// allocator is read from the executable
    /// ([`env::Allocator::of_executable`]).
    pub fn timed_binary(&self, binary: env::Binary, path: &Path) {
        match env::Allocator::of_executable(path) {
            Ok(allocator) => {
                let mut timed = self.timed.lock().unwrap_or_else(|e| e.into_inner());
                timed.insert(binary, allocator);
            }
            Err(e) => self.say(format!(
                "{}: cannot read {} for its allocator: {e}",
                self.name,
                path.display()
            )),
        }
    }

    /// The allocators of the binaries `experiment` timed: those recorded
    /// since the last call, and this process's own if the experiment names
    /// brisk-lab. Only the binaries it names are kept.
    pub fn take_timed(&self, experiment: &Experiment) -> BTreeMap<env::Binary, env::Allocator> {
        let mut timed = std::mem::take(&mut *self.timed.lock().unwrap_or_else(|e| e.into_inner()));
        if experiment.timed.contains(&env::Binary::BriskLab) {
            timed
                .entry(env::Binary::BriskLab)
                .or_insert_with(env::Allocator::of_this_build);
        }
        timed.retain(|b, _| experiment.timed.contains(b));
        timed
    }

    /// Shows what the experiment is doing now.
    pub fn step(&self, what: impl std::fmt::Display) {
        self.bar.set_message(format!("{}: {what}", self.name));
    }

    /// Prints a line above the progress bar (or on stderr when the bar is
    /// hidden, as it is when stderr is not a terminal).
    pub fn say(&self, line: impl std::fmt::Display) {
        if self.bar.is_hidden() {
            eprintln!("{line}");
        } else {
            self.bar.println(line.to_string());
        }
    }

    /// The progress bar, for the driver.
    pub fn bar(&self) -> &ProgressBar {
        &self.bar
    }
}

/// One experiment: its name (`--only NAME`), title, the question it
/// answers, and how to run it.
pub struct Experiment {
    /// Short name: the file name of its table and its key in results.json.
    pub name: &'static str,
    /// Title of its table.
    pub title: &'static str,
    /// The question it answers, quoted at the top of its table.
    pub question: &'static str,
    /// The programs it times, whose allocators its environment records.
    pub timed: &'static [env::Binary],
    /// Runs it.
    pub run: fn(&Ctx) -> Outcome,
}

/// Every experiment, in the order the suite runs them.
pub const EXPERIMENTS: [Experiment; 16] = [
    per_op::EXPERIMENT,
    per_op_placement::EXPERIMENT,
    contention::EXPERIMENT,
    producer_consumer::EXPERIMENT,
    reclamation_delay::EXPERIMENT,
    where_ops_go::EXPERIMENT,
    whole_program::EXPERIMENT,
    vs_python::EXPERIMENT,
    placement::EXPERIMENT,
    instructions::EXPERIMENT,
    counting_density::EXPERIMENT,
    parallel_scaling::EXPERIMENT,
    parallel_processes::EXPERIMENT,
    send_cost::EXPERIMENT,
    memory::EXPERIMENT,
    cycle_pause::EXPERIMENT,
];

/// The cores this process may run on (`available_parallelism`; 1 if
/// unknown).
pub fn cores() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

/// The thread (or interpreter) counts of a scaling curve up to `n`: 1, 2,
/// 4, 8, … below `n`, with the midpoint between two powers once they are
/// more than 4 apart (12, 24, …), then `n` itself. On 16 cores: 1, 2, 4,
/// 8, 12, 16; on 2: 1, 2.
pub fn thread_counts(n: usize) -> Vec<usize> {
    let mut counts = Vec::new();
    let mut t = 1;
    while t < n {
        counts.push(t);
        if t > 4 && t + t / 2 < n {
            counts.push(t + t / 2);
        }
        t *= 2;
    }
    counts.push(n);
    counts
}

#[cfg(test)]
mod tests {
    use super::{thread_counts, Suite};

    #[test]
    fn a_suite_is_found_by_the_name_it_writes() {
        for suite in [Suite::Smoke, Suite::Quick, Suite::Full] {
            assert_eq!(Suite::from_name(suite.name()), Some(suite));
        }
        assert_eq!(Suite::from_name("Quick"), None);
        assert_eq!(Suite::from_name(""), None);
    }

    #[test]
    fn thread_counts_double_then_fill_in() {
        assert_eq!(thread_counts(1), [1]);
        assert_eq!(thread_counts(2), [1, 2]);
        assert_eq!(thread_counts(6), [1, 2, 4, 6]);
        assert_eq!(thread_counts(12), [1, 2, 4, 8, 12]);
        assert_eq!(thread_counts(16), [1, 2, 4, 8, 12, 16]);
        assert_eq!(thread_counts(20), [1, 2, 4, 8, 12, 16, 20]);
        assert_eq!(thread_counts(64), [1, 2, 4, 8, 12, 16, 24, 32, 48, 64]);
    }
}
