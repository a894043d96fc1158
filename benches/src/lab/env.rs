//! The machine and build a run came from, recorded with every result.

use std::path::Path;
use std::process::Command;

use serde::Serialize;

use super::Suite;

/// Where and when the figures were measured.
#[derive(Clone, Debug, Serialize)]
pub struct Environment {
    /// CPU model from `/proc/cpuinfo` (`model name`), or `unknown`.
    pub cpu_model: String,
    /// Cores this process may run on (`available_parallelism`).
    pub cores: usize,
    /// Load averages from `/proc/loadavg` when the run started (1, 5 and
    /// 15 minutes): a loaded machine shows it here.
    pub load_average: Option<String>,
    /// A free-text label for the machine (`--machine`).
    pub machine: Option<String>,
    /// The compiler that built brisk-lab (`rustc -V`, captured by the
    /// build script).
    pub rustc: String,
    /// Whether brisk-lab was built with optimizations.
    pub optimized: bool,
    /// The allocator brisk-lab (and the subprocess baseline's child) ran
    /// on: `mimalloc` or `system` ([`crate::allocator`]).
    pub allocator: String,
    /// `git rev-parse HEAD` of the workspace, if it is a git checkout.
    pub git_commit: Option<String>,
    /// Whether the work tree had uncommitted changes.
    pub git_dirty: Option<bool>,
    /// When the run started, RFC 3339, UTC.
    pub date: String,
    /// `smoke`, `quick` or `full`.
    pub suite: String,
}

impl Environment {
    /// Reads the environment now.
    pub fn capture(workspace: &Path, suite: Suite, machine: Option<String>) -> Self {
        let git = |args: &[&str]| {
            Command::new("git")
                .arg("-C")
                .arg(workspace)
                .args(args)
                .output()
                .ok()
                .filter(|o| o.status.success())
                .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
        };
        let git_commit = git(&["rev-parse", "HEAD"]);
        let git_dirty = git_commit
            .as_ref()
            .and_then(|_| git(&["status", "--porcelain", "--untracked-files=no"]))
            .map(|s| !s.is_empty());
        Environment {
            cpu_model: cpu_model().unwrap_or_else(|| "unknown".to_owned()),
            cores: super::cores(),
            load_average: std::fs::read_to_string("/proc/loadavg")
                .ok()
                .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" ")),
            machine,
            rustc: env!("BRISK_LAB_RUSTC").to_owned(),
            optimized: !cfg!(debug_assertions),
            allocator: crate::allocator::NAME.to_owned(),
            git_commit,
            git_dirty,
            date: now_rfc3339(),
            suite: suite.name().to_owned(),
        }
    }

    /// One line for the top of each table.
    pub fn summary(&self) -> String {
        let mut line = format!(
            "{} suite, {} ({} cores",
            self.suite, self.cpu_model, self.cores
        );
        if let Some(load) = &self.load_average {
            line += &format!(", load {load} at start");
        }
        line += ")";
        if let Some(machine) = &self.machine {
            line += &format!(", {machine}");
        }
        line += &format!(", {}, {} allocator", self.rustc, self.allocator);
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

fn short(commit: &str) -> &str {
    &commit[..commit.len().min(10)]
}

/// The first `model name` in `/proc/cpuinfo`.
fn cpu_model() -> Option<String> {
    let info = std::fs::read_to_string("/proc/cpuinfo").ok()?;
    info.lines()
        .find(|l| l.starts_with("model name"))
        .and_then(|l| l.split_once(':'))
        .map(|(_, v)| v.trim().to_owned())
}

/// Now, as RFC 3339 in UTC, to the second.
pub fn now_rfc3339() -> String {
    let now = time::OffsetDateTime::now_utc()
        .replace_nanosecond(0)
        .unwrap_or_else(|_| time::OffsetDateTime::now_utc());
    now.format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_else(|_| "unknown".to_owned())
}
