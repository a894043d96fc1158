//! The machine and build each experiment ran on, recorded with its result.
//!
//! # Why per experiment
//!
//! `results.json` gathers experiments from several runs (`--only NAME`
//! replaces one entry and keeps the rest), and runs are made on different
//! machines: one environment for the whole file would describe one of them
//! and mislabel the others. So every entry carries the [`Environment`] its
//! experiment started in, captured at that experiment's start.
//!
//! # The allocator of the binary timed
//!
//! An experiment times brisk-lab itself (its own process and its child
//! processes), the `brisk` interpreter as a subprocess, or both
//! ([`super::Experiment::timed`]), and the two need not share an allocator:
//! brisk-lab's is chosen by its `mimalloc` feature ([`crate::allocator`]),
//! the interpreter's by how brisk-interp was built. So the allocator is
//! read from each binary actually timed, not assumed:
//! [`Allocator::of_executable`] looks in the executable for mimalloc's own
//! messages, which are there exactly when mimalloc is linked in (and in
//! this workspace a binary links mimalloc only to make it its global
//! allocator). Every `brisk` an experiment gets from
//! [`programs::build`](super::programs::build), and every placed
//! brisk-lab, is read so ([`super::Ctx::timed_binary`]); brisk-lab's own
//! process is its build's [`Allocator::of_this_build`].
//!
//! # The machine label
//!
//! `--machine LABEL` names the machine; without it the label is made from
//! the CPU model and the core count ([`machine_label`]: "AMD EPYC" with 2
//! cores is `amd-epyc-2core`), so that two machines with different CPUs
//! never share a label.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;

use serde::{Deserialize, Serialize};

use super::Suite;

/// A program an experiment times.
#[derive(Copy, Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Binary {
    /// brisk-lab: its own process, and the child processes it starts from
    /// its own executable (`send-child`, `memory-child`, `cycles-child`,
    /// `pairs-child`, and the placed builds of `per-op-child`).
    BriskLab,
    /// The `brisk` interpreter, run as a subprocess.
    Brisk,
}

/// A global allocator.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Allocator {
    /// mimalloc, as CPython's free-threaded build uses.
    Mimalloc,
    /// The C library's malloc (glibc's on Linux).
    System,
}

/// Bytes that mimalloc's C library puts in every executable that links
/// it, reversed: the prefix of its error messages, `mimalloc: error: `
/// (`_mi_error_message`, in `src/options.c`), which stripping leaves in
/// place. Kept reversed so that brisk-lab's own executable holds the
/// prefix only if it links mimalloc too.
const MIMALLOC_MARK_REVERSED: &[u8] = b" :rorre :collamim";

impl Allocator {
    /// The allocator of this process: brisk-lab's `mimalloc` feature.
    pub fn of_this_build() -> Allocator {
        if crate::allocator::NAME == "mimalloc" {
            Allocator::Mimalloc
        } else {
            Allocator::System
        }
    }

    /// The allocator of the executable at `path`: mimalloc if it links
    /// mimalloc, else the system's.
    pub fn of_executable(path: &Path) -> std::io::Result<Allocator> {
        let bytes = std::fs::read(path)?;
        let linked = bytes
            .windows(MIMALLOC_MARK_REVERSED.len())
            .any(|w| w.iter().rev().eq(MIMALLOC_MARK_REVERSED));
        Ok(if linked {
            Allocator::Mimalloc
        } else {
            Allocator::System
        })
    }
}

impl Binary {
    /// The binary's file name.
    pub fn name(self) -> &'static str {
        match self {
            Binary::BriskLab => "brisk-lab",
            Binary::Brisk => "brisk",
        }
    }
}

impl Allocator {
    /// The allocator's name, as results.json writes it.
    pub fn name(self) -> &'static str {
        match self {
            Allocator::Mimalloc => "mimalloc",
            Allocator::System => "system",
        }
    }
}

/// Where and when one experiment was measured.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Environment {
    /// A name for the machine: `--machine`, or [`machine_label`] of the CPU
    /// model and the cores.
    pub machine: String,
    /// CPU model from `/proc/cpuinfo` (`model name`), or `unknown`.
    pub cpu_model: String,
    /// Cores this process may run on (`available_parallelism`).
    pub cores: usize,
    /// Load averages over 1, 5 and 15 minutes (`/proc/loadavg`) when the
    /// experiment started: a loaded machine shows it here.
    pub load_average: Option<[f64; 3]>,
    /// The allocator of each binary the experiment timed: of those it
    /// names ([`super::Experiment::timed`]), the ones it ran; none if it
    /// was skipped.
    pub allocators: BTreeMap<Binary, Allocator>,
    /// The compiler that built brisk-lab (`rustc -V`, captured by the
    /// build script); the `brisk` it builds uses the same one.
    pub rustc: String,
    /// Whether brisk-lab was built with optimizations.
    pub optimized: bool,
    /// `git rev-parse HEAD` of the workspace, if it is a git checkout.
    pub git_commit: Option<String>,
    /// Whether the work tree had uncommitted changes to tracked files.
    pub git_dirty: Option<bool>,
    /// When the experiment started, RFC 3339, UTC.
    pub date: String,
    /// The suite it ran in.
    pub suite: Suite,
}

/// What does not change between the experiments of one run.
#[derive(Clone, Debug)]
pub struct Host {
    /// The workspace, whose git state is recorded.
    workspace: std::path::PathBuf,
    machine: String,
    cpu_model: String,
    cores: usize,
    suite: Suite,
}

impl Host {
    /// The machine this process runs on, labelled `machine` if given.
    pub fn capture(workspace: &Path, suite: Suite, machine: Option<String>) -> Self {
        let cpu_model = cpu_model().unwrap_or_else(|| "unknown".to_owned());
        let cores = super::cores();
        Host {
            workspace: workspace.to_path_buf(),
            machine: machine.unwrap_or_else(|| machine_label(&cpu_model, cores)),
            cpu_model,
            cores,
            suite,
        }
    }

    /// The environment of an experiment that starts now, without its
    /// allocators, which are known once it has found the binaries it times
    /// ([`Environment::allocators`]).
    pub fn environment(&self) -> Environment {
        let git = |args: &[&str]| {
            Command::new("git")
                .arg("-C")
                .arg(&self.workspace)
                .args(args)
                .output()
                .ok()
                .filter(|o| o.status.success())
                .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
        };
        let git_commit = git(&["rev-parse", "HEAD"]);
        // The files a run writes itself (the results, README's headline,
        // the marked figures of answers.md) are left out: written by an
        // earlier experiment of the same run, they say nothing about the
        // code this one measures.
        let git_dirty = git_commit
            .as_ref()
            .and_then(|_| {
                git(&[
                    "status",
                    "--porcelain",
                    "--untracked-files=no",
                    "--",
                    ".",
                    ":(exclude)papers/results",
                    ":(exclude)README.md",
                    ":(exclude)papers/answers.md",
                ])
            })
            .map(|s| !s.is_empty());
        Environment {
            machine: self.machine.clone(),
            cpu_model: self.cpu_model.clone(),
            cores: self.cores,
            load_average: load_average(),
            allocators: BTreeMap::new(),
            rustc: env!("BRISK_LAB_RUSTC").to_owned(),
            optimized: !cfg!(debug_assertions),
            git_commit,
            git_dirty,
            date: now_rfc3339(),
            suite: self.suite,
        }
    }

    /// One line on the machine, for the start of a run.
    pub fn summary(&self) -> String {
        format!(
            "{} suite on {} ({}, {} cores), rustc {}",
            self.suite.name(),
            self.machine,
            self.cpu_model,
            self.cores,
            env!("BRISK_LAB_RUSTC").trim_start_matches("rustc ")
        )
    }
}

impl Environment {
    /// One line for the top of each table.
    pub fn summary(&self) -> String {
        let mut line = format!(
            "{} suite, {}: {} ({} cores",
            self.suite.name(),
            self.machine,
            self.cpu_model,
            self.cores
        );
        if let Some([one, five, fifteen]) = self.load_average {
            line += &format!(", load {one:.2} {five:.2} {fifteen:.2} at start");
        }
        line += &format!("), {}", self.rustc);
        let allocators: Vec<String> = self
            .allocators
            .iter()
            .map(|(b, a)| format!("`{}` on {}", b.name(), a.name()))
            .collect();
        if !allocators.is_empty() {
            line += &format!(", {}", allocators.join(" and "));
        }
        match (&self.git_commit, self.git_dirty) {
            (Some(c), Some(true)) => {
                line += &format!(", commit {} + uncommitted changes", short(c))
            }
            (Some(c), _) => line += &format!(", commit {}", short(c)),
            (None, _) => line += ", no git commit",
        }
        line += &format!(", {}", self.date);
        if !self.optimized {
            line += ", UNOPTIMIZED BUILD (timings meaningless)";
        }
        line
    }
}

/// The first ten characters of a commit hash.
pub fn short(commit: &str) -> &str {
    &commit[..commit.len().min(10)]
}

/// A machine label from a CPU model and a core count: the model's words in
/// lower case, without trademarks, clock speed and words that say nothing
/// ("Processor", "CPU", "64-Core"), joined by `-`, then the cores:
/// `AMD EPYC 7763 64-Core Processor` on 16 cores is
/// `amd-epyc-7763-16core`.
pub fn machine_label(cpu_model: &str, cores: usize) -> String {
    let model = cpu_model.split('@').next().unwrap_or_default();
    let model = model
        .replace("(R)", " ")
        .replace("(r)", " ")
        .replace("(TM)", " ")
        .replace("(tm)", " ");
    let words: Vec<String> = model
        .split(|c: char| !c.is_ascii_alphanumeric() && c != '-')
        .map(|w| w.trim_matches('-').to_ascii_lowercase())
        .filter(|w| !w.is_empty())
        .filter(|w| !matches!(w.as_str(), "processor" | "cpu" | "unknown"))
        .filter(|w| !w.ends_with("-core"))
        .collect();
    let mut label = words.join("-");
    if !label.is_empty() {
        label.push('-');
    }
    label + &format!("{cores}core")
}

/// The first `model name` in `/proc/cpuinfo`.
pub fn cpu_model() -> Option<String> {
    let info = std::fs::read_to_string("/proc/cpuinfo").ok()?;
    info.lines()
        .find(|l| l.starts_with("model name"))
        .and_then(|l| l.split_once(':'))
        .map(|(_, v)| v.trim().to_owned())
}

/// The three load averages of `/proc/loadavg`.
fn load_average() -> Option<[f64; 3]> {
    let text = std::fs::read_to_string("/proc/loadavg").ok()?;
    let mut fields = text.split_whitespace().map(|f| f.parse::<f64>().ok());
    Some([fields.next()??, fields.next()??, fields.next()??])
}

/// Now, as RFC 3339 in UTC, to the second.
pub fn now_rfc3339() -> String {
    let now = time::OffsetDateTime::now_utc()
        .replace_nanosecond(0)
        .unwrap_or_else(|_| time::OffsetDateTime::now_utc());
    now.format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_else(|_| "unknown".to_owned())
}

#[cfg(test)]
mod tests {
    use super::{machine_label, Allocator, Binary, Host};
    use crate::lab::Suite;

    #[test]
    fn a_machine_label_is_the_model_and_the_cores() {
        assert_eq!(machine_label("AMD EPYC", 2), "amd-epyc-2core");
        assert_eq!(
            machine_label("AMD EPYC 7763 64-Core Processor", 16),
            "amd-epyc-7763-16core"
        );
        assert_eq!(
            machine_label("Intel(R) Xeon(R) Platinum 8480C CPU @ 2.00GHz", 16),
            "intel-xeon-platinum-8480c-16core"
        );
        assert_eq!(machine_label("unknown", 4), "4core");
    }

    #[test]
    fn an_executable_that_links_mimalloc_is_told_from_one_that_does_not() {
        let dir = crate::lab::check::tests::temp_dir("allocator");
        let with = dir.join("with");
        let without = dir.join("without");
        std::fs::write(&with, b"\x7fELF...mimalloc: error: %s...").unwrap();
        std::fs::write(&without, b"\x7fELF...malloc...mimalloc...").unwrap();
        assert_eq!(
            Allocator::of_executable(&with).unwrap(),
            Allocator::Mimalloc
        );
        assert_eq!(
            Allocator::of_executable(&without).unwrap(),
            Allocator::System
        );
        assert!(Allocator::of_executable(&dir.join("none")).is_err());
        std::fs::remove_dir_all(&dir).unwrap();
    }

    /// A run writes its own results, README.md's headline and the marked
    /// figures of papers/answers.md as it goes: those leave the tree
    /// clean for the experiments after them; a change to anything else
    /// does not.
    #[test]
    fn the_labs_own_outputs_leave_the_tree_clean() {
        let dir = crate::lab::check::tests::temp_dir("dirty");
        let git = |args: &[&str]| {
            let ok = std::process::Command::new("git")
                .arg("-C")
                .arg(&dir)
                .args(["-c", "user.name=t", "-c", "user.email=t@t"])
                .args(args)
                .output()
                .map(|o| o.status.success())
                .unwrap_or(false);
            assert!(ok, "git {args:?}");
        };
        git(&["init", "-q"]);
        std::fs::create_dir_all(dir.join("papers/results")).unwrap();
        for file in [
            "papers/results/per_op.md",
            "README.md",
            "papers/answers.md",
            "lib.rs",
        ] {
            std::fs::write(dir.join(file), "before").unwrap();
        }
        git(&["add", "."]);
        git(&["commit", "-q", "-m", "start"]);
        let host = Host::capture(&dir, Suite::Quick, None);
        for file in ["papers/results/per_op.md", "README.md", "papers/answers.md"] {
            std::fs::write(dir.join(file), "written by the run").unwrap();
        }
        assert_eq!(host.environment().git_dirty, Some(false));
        std::fs::write(dir.join("lib.rs"), "changed").unwrap();
        assert_eq!(host.environment().git_dirty, Some(true));
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn this_test_executable_reads_as_its_own_build() {
        let exe = std::env::current_exe().unwrap();
        assert_eq!(
            Allocator::of_executable(&exe).unwrap(),
            Allocator::of_this_build()
        );
        assert_eq!(Binary::Brisk.name(), "brisk");
    }
}
