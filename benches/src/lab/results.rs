//! Writing what a run found: one markdown file per experiment and
//! `results.json`.
//!
//! `results.json` holds one entry per experiment, each with the suite, date
//! and commit it came from, so that `--only NAME` replaces that entry and
//! keeps the others. Its top-level `environment` is the latest run's.

use std::fmt::Write as _;
use std::io;
use std::path::Path;

use serde_json::{json, Map, Value};

use super::env::Environment;
use super::{Experiment, Outcome, Suite};

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
    suite: Suite,
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
        command(experiment.name, suite),
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
pub fn entry(experiment: &Experiment, outcome: &Outcome, env: &Environment, seconds: f64) -> Value {
    let mut e = json!({
        "title": experiment.title,
        "suite": env.suite,
        "date": env.date,
        "git_commit": env.git_commit,
        "seconds": (seconds * 10.0).round() / 10.0,
    });
    match outcome {
        Outcome::Ran(report) => {
            let metrics: Map<String, Value> = report
                .metrics
                .iter()
                .map(|(k, v)| (k.clone(), finite(*v)))
                .collect();
            e["status"] = json!("ran");
            e["metrics"] = Value::Object(metrics);
            e["notes"] = json!(report.notes);
            e["plots"] = json!(report.plots);
        }
        Outcome::Skipped(reason) => {
            e["status"] = json!("skipped");
            e["reason"] = json!(reason);
            e["metrics"] = json!({});
        }
    }
    e
}

/// A JSON number, or null for NaN and infinities (which JSON cannot hold).
fn finite(v: f64) -> Value {
    serde_json::Number::from_f64(v).map_or(Value::Null, Value::Number)
}

/// Writes `<out>/results.json`: the entries of this run over those already
/// there (from earlier `--only` runs). Returns the merged document.
pub fn write_json(
    out: &Path,
    env: &Environment,
    entries: Vec<(String, Value)>,
) -> io::Result<Value> {
    let path = out.join("results.json");
    let mut experiments = std::fs::read_to_string(&path)
        .ok()
        .and_then(|text| serde_json::from_str::<Value>(&text).ok())
        .and_then(|old| old.get("experiments").cloned())
        .and_then(|e| match e {
            Value::Object(map) => Some(map),
            _ => None,
        })
        .unwrap_or_default();
    for (name, e) in entries {
        experiments.insert(name, e);
    }
    let doc = json!({
        "generated_by": "brisk-lab",
        "environment": env,
        "experiments": Value::Object(experiments),
    });
    let text = serde_json::to_string_pretty(&doc).map_err(io::Error::other)?;
    std::fs::write(&path, text + "\n")?;
    Ok(doc)
}
