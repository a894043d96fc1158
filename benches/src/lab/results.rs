//! Writing what a run found: one markdown file per experiment and
//! `results.json`.
//!
//! # results.json
//!
//! One [`Results`] document, serialized by serde:
//!
//! ```json
//! {
//!   "schema": 2,
//!   "experiments": {
//!     "per_op": {
//!       "title": "Per-operation cost: …",
//!       "environment": {
//!         "machine": "amd-epyc-2core", "cpu_model": "AMD EPYC", "cores": 2,
//!         "load_average": [0.76, 1.15, 0.78],
//!         "allocators": { "brisk-lab": "mimalloc" },
//!         "rustc": "rustc 1.95.0 (…)", "optimized": true,
//!         "git_commit": "ad4f8fe…", "git_dirty": false,
//!         "date": "2026-11-26T22:37:05Z", "suite": "quick"
//!       },
//!       "seconds": 41.3,
//!       "status": "ran",
//!       "metrics": { "Brc<Biased>_owner/ratio_to_rc": 1.49, … },
//!       "notes": ["…"],
//!       "plots": []
//!     },
//!     "instructions": { …, "status": "skipped", "reason": "no valgrind" }
//!   }
//! }
//! ```
//!
//! Each entry holds its own [`Environment`] (machine, load at its start,
//! the allocator of each binary it timed, commit, date, suite), because
//! `--only NAME` replaces that one entry and keeps the others, which may
//! come from other runs. Metric names are [`Metric`]s; a value JSON cannot
//! hold (NaN, an infinity) is written as `null`. [`SCHEMA`] changes when
//! the layout does: a file of another schema is not read as this one
//! ([`Results::read`]), and a run over it starts a fresh document.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::io;
use std::path::Path;

use serde::{Deserialize, Serialize};

use super::env::Environment;
use super::metrics::Metric;
use super::{Experiment, Outcome, Suite};

/// The layout version of results.json this brisk-lab writes and reads.
pub const SCHEMA: u32 = 2;

/// The file name of the document in an output folder.
pub const FILE: &str = "results.json";

/// Every experiment's latest result in one output folder.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Results {
    /// [`SCHEMA`] when written.
    pub schema: u32,
    /// Entries by experiment name ([`Experiment::name`]).
    pub experiments: BTreeMap<String, Entry>,
}

/// One experiment's latest result.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Entry {
    /// Its title ([`Experiment::title`]).
    pub title: String,
    /// Where and when it ran.
    pub environment: Environment,
    /// How long it took, seconds, to a tenth.
    pub seconds: f64,
    /// What it found, or why it did not run.
    #[serde(flatten)]
    pub outcome: Recorded,
}

/// An [`Outcome`] as results.json keeps it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "status", rename_all = "lowercase")]
pub enum Recorded {
    /// It ran.
    Ran {
        /// Every figure by name; `None` for a value JSON cannot hold.
        metrics: BTreeMap<Metric, Option<f64>>,
        /// Its caveats.
        notes: Vec<String>,
        /// File names of its plots, in the same folder.
        plots: Vec<String>,
    },
    /// It could not run here.
    Skipped {
        /// Why.
        reason: String,
    },
}

/// Why results.json could not be read.
#[derive(Debug)]
pub enum ReadError {
    /// The file could not be read.
    Io(io::Error),
    /// It is not a results document of [`SCHEMA`].
    Schema(String),
}

impl std::fmt::Display for ReadError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ReadError::Io(e) => write!(f, "{e}"),
            ReadError::Schema(why) => write!(f, "{why}"),
        }
    }
}

impl std::error::Error for ReadError {}

impl Results {
    /// A document with no entries.
    pub fn new() -> Self {
        Results {
            schema: SCHEMA,
            experiments: BTreeMap::new(),
        }
    }

    /// Reads `path`: `Ok(None)` if there is no such file, an error if it
    /// cannot be read or is not a document of this [`SCHEMA`] (an older
    /// brisk-lab's, say).
    pub fn read(path: &Path) -> Result<Option<Results>, ReadError> {
        let text = match std::fs::read_to_string(path) {
            Ok(text) => text,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(ReadError::Io(e)),
        };
        Self::parse(&text).map(Some)
    }

    /// Reads a document from its text.
    pub fn parse(text: &str) -> Result<Results, ReadError> {
        #[derive(Deserialize)]
        struct Version {
            schema: Option<u32>,
        }
        let older = "was written by an older brisk-lab (no `schema` field, one environment \
                     for the whole file); every experiment must be run again";
        match serde_json::from_str::<Version>(text) {
            Err(e) => return Err(ReadError::Schema(format!("is not JSON: {e}"))),
            Ok(Version { schema: None }) => return Err(ReadError::Schema(older.to_owned())),
            Ok(Version {
                schema: Some(schema),
            }) if schema != SCHEMA => {
                return Err(ReadError::Schema(format!(
                    "has schema {schema}; this brisk-lab reads schema {SCHEMA}"
                )))
            }
            Ok(_) => {}
        }
        serde_json::from_str(text)
            .map_err(|e| ReadError::Schema(format!("does not match schema {SCHEMA}: {e}")))
    }

    /// The metric `name` of experiment `experiment`, if it ran and
    /// recorded a finite value.
    pub fn metric(&self, experiment: &str, name: &Metric) -> Option<f64> {
        match &self.experiments.get(experiment)?.outcome {
            Recorded::Ran { metrics, .. } => metrics.get(name).copied().flatten(),
            Recorded::Skipped { .. } => None,
        }
    }

    /// The 95% interval recorded for metric `name` of `experiment`
    /// ([`Metric::low`], [`Metric::high`]), if the run recorded one.
    pub fn interval(&self, experiment: &str, name: &Metric) -> Option<(f64, f64)> {
        Some((
            self.metric(experiment, &name.low())?,
            self.metric(experiment, &name.high())?,
        ))
    }

    /// The metrics of experiment `experiment` (none if it did not run).
    pub fn metrics(&self, experiment: &str) -> impl Iterator<Item = (&Metric, f64)> {
        let metrics = match self.experiments.get(experiment).map(|e| &e.outcome) {
            Some(Recorded::Ran { metrics, .. }) => Some(metrics),
            _ => None,
        };
        metrics
            .into_iter()
            .flatten()
            .filter_map(|(k, v)| Some((k, (*v)?)))
    }

    /// The document as written: pretty JSON and a final newline.
    pub fn to_text(&self) -> String {
        let text = serde_json::to_string_pretty(self).expect("results serialize to JSON");
        text + "\n"
    }
}

impl Default for Results {
    fn default() -> Self {
        Results::new()
    }
}

/// The command that reproduces experiment `name` in `suite`.
pub fn command(name: &str, suite: Suite) -> String {
    let base = "cargo run --release -p brisk-bench --bin brisk-lab --";
    match suite {
        Suite::Smoke => format!("{base} --smoke --only {name}"),
        Suite::Quick => format!("{base} --only {name}"),
        Suite::Full => format!("{base} --full --only {name}"),
    }
}

/// Writes `<out>/<name>.md` for one experiment.
pub fn write_markdown(
    out: &Path,
    experiment: &Experiment,
    outcome: &Outcome,
    env: &Environment,
    seconds: f64,
) -> io::Result<()> {
    let mut md = String::new();
    let _ = writeln!(md, "# {}\n", experiment.title);
    let _ = writeln!(md, "> {}\n", experiment.question);
    let _ = writeln!(
        md,
        "Measured by brisk-lab ({}); {:.0} s. Reproduce with `{}`. Every figure \
         below comes from that run (`results.json`, key `{}`).\n",
        env.summary(),
        seconds,
        command(experiment.name, env.suite),
        experiment.name,
    );
    match outcome {
        Outcome::Ran(report) => {
            md.push_str(&report.body);
            if !report.notes.is_empty() {
                md.push_str("## Notes\n\n");
                for note in &report.notes {
                    let _ = writeln!(md, "- {note}");
                }
                md.push('\n');
            }
        }
        Outcome::Skipped(reason) => {
            let _ = writeln!(md, "**Skipped:** {reason}\n");
        }
    }
    std::fs::write(out.join(format!("{}.md", experiment.name)), md)
}

/// One experiment's entry in results.json.
pub fn entry(experiment: &Experiment, outcome: &Outcome, env: &Environment, seconds: f64) -> Entry {
    let outcome = match outcome {
        Outcome::Ran(report) => Recorded::Ran {
            metrics: report
                .metrics
                .iter()
                .map(|(k, v)| (k.clone(), v.is_finite().then_some(*v)))
                .collect(),
            notes: report.notes.clone(),
            plots: report.plots.clone(),
        },
        Outcome::Skipped(reason) => Recorded::Skipped {
            reason: reason.clone(),
        },
    };
    Entry {
        title: experiment.title.to_owned(),
        environment: env.clone(),
        seconds: (seconds * 10.0).round() / 10.0,
        outcome,
    }
}

/// Writes `<out>/results.json`: the entries of this run over those already
/// there (from earlier `--only` runs). A file that cannot be read as this
/// schema is replaced, with a warning on stderr. Returns the merged
/// document.
pub fn write_json(out: &Path, entries: Vec<(String, Entry)>) -> io::Result<Results> {
    let path = out.join(FILE);
    let mut doc = match Results::read(&path) {
        Ok(doc) => doc.unwrap_or_default(),
        Err(e) => {
            eprintln!(
                "brisk-lab: warning: {} {e}; starting a fresh one (its old entries are \
                 dropped; git keeps them)",
                path.display()
            );
            Results::new()
        }
    };
    doc.experiments.extend(entries);
    std::fs::write(&path, doc.to_text())?;
    Ok(doc)
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::{Entry, ReadError, Recorded, Results, SCHEMA};
    use crate::lab::env::{Allocator, Binary, Environment};
    use crate::lab::metrics::per_op;
    use crate::lab::Suite;

    pub(crate) fn environment(commit: &str) -> Environment {
        Environment {
            machine: "amd-epyc-2core".to_owned(),
            cpu_model: "AMD EPYC".to_owned(),
            cores: 2,
            load_average: Some([0.5, 0.25, 0.125]),
            allocators: BTreeMap::from([(Binary::Brisk, Allocator::System)]),
            rustc: "rustc 1.95.0".to_owned(),
            optimized: true,
            git_commit: Some(commit.to_owned()),
            git_dirty: Some(false),
            date: "2026-12-01T00:00:00Z".to_owned(),
            suite: Suite::Quick,
        }
    }

    fn doc() -> Results {
        let mut doc = Results::new();
        doc.experiments.insert(
            "per_op".to_owned(),
            Entry {
                title: "Per-operation cost".to_owned(),
                environment: environment("abc"),
                seconds: 1.5,
                outcome: Recorded::Ran {
                    metrics: BTreeMap::from([
                        (per_op::ratio_to_rc(per_op::RC), Some(1.0)),
                        (per_op::ns_per_pair(per_op::RC), None),
                    ]),
                    notes: vec!["a note".to_owned()],
                    plots: vec![],
                },
            },
        );
        doc.experiments.insert(
            "instructions".to_owned(),
            Entry {
                title: "Instructions".to_owned(),
                environment: environment("abc"),
                seconds: 0.0,
                outcome: Recorded::Skipped {
                    reason: "no valgrind".to_owned(),
                },
            },
        );
        doc
    }

    #[test]
    fn a_document_reads_back_as_written() {
        let doc = doc();
        let text = doc.to_text();
        assert!(text.contains("\"status\": \"ran\""), "{text}");
        assert!(text.contains("\"brisk\": \"system\""), "{text}");
        assert!(text.contains("\"suite\": \"quick\""), "{text}");
        assert_eq!(Results::parse(&text).unwrap(), doc);
        assert_eq!(
            doc.metric("per_op", &per_op::ratio_to_rc(per_op::RC)),
            Some(1.0)
        );
        assert_eq!(doc.metric("per_op", &per_op::ns_per_pair(per_op::RC)), None);
        assert_eq!(
            doc.metric("instructions", &per_op::ratio_to_rc(per_op::RC)),
            None
        );
    }

    #[test]
    fn an_older_or_broken_file_is_an_error_not_a_panic() {
        let older = r#"{"environment": {"cores": 2}, "experiments": {}}"#;
        let Err(ReadError::Schema(why)) = Results::parse(older) else {
            panic!("an older document read as this schema");
        };
        assert!(why.contains("older brisk-lab"), "{why}");
        let newer = format!(r#"{{"schema": {}, "experiments": {{}}}}"#, SCHEMA + 1);
        assert!(matches!(Results::parse(&newer), Err(ReadError::Schema(_))));
        assert!(matches!(Results::parse("{"), Err(ReadError::Schema(_))));
        let missing = format!(r#"{{"schema": {SCHEMA}, "experiments": {{"x": {{}}}}}}"#);
        assert!(matches!(
            Results::parse(&missing),
            Err(ReadError::Schema(_))
        ));
    }

    #[test]
    fn writing_over_an_unreadable_file_starts_a_fresh_one() {
        let dir = crate::lab::check::tests::temp_dir("results-over-old");
        std::fs::write(dir.join("results.json"), "{\"environment\": {}}").unwrap();
        let entry = doc().experiments["per_op"].clone();
        let written = super::write_json(&dir, vec![("per_op".to_owned(), entry)]).unwrap();
        assert_eq!(written.experiments.len(), 1);
        let read = Results::read(&dir.join("results.json")).unwrap().unwrap();
        assert_eq!(read, written);
        // A second run of another experiment keeps the first.
        let other = doc().experiments["instructions"].clone();
        let written = super::write_json(&dir, vec![("instructions".to_owned(), other)]).unwrap();
        assert_eq!(written.experiments.len(), 2);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
