//! `brisk-lab --check`: are the published figures those of the code?
//!
//! # The problem
//!
//! A figure in `papers/results/` describes the code it was measured on.
//! Once `refcount/`, `gc/`, `runtime/` or `interp/` change, it may no
//! longer describe the code people get, and a figure copied into README.md
//! or `papers/answers.md` may no longer be the one in `results.json`.
//! Nothing failed when either happened.
//!
//! # What it checks
//!
//! Without running any experiment (it reads files and asks git two
//! questions, in well under a second):
//!
//! * **Freshness.** Every experiment of [`EXPERIMENTS`](super::EXPERIMENTS)
//!   has an entry in `results.json`, measured in the quick or full suite,
//!   on a clean work tree, at a commit that contains the last commit that
//!   changed the measured code (`git log -1 --format=%H -- refcount gc
//!   runtime interp`, then `git merge-base --is-ancestor LAST COMMIT`).
//! * **The README's headline.** The text between the
//!   [`headline::BEGIN`] and `END` markers is what
//!   [`headline::render`] makes from
//!   `results.json`; each row that differs is named.
//! * **Marked figures** in README.md and `papers/answers.md`. A figure
//!   written by hand is marked so that the check can recompute it:
//!
//!   ```text
//!   <!-- brisk-lab:figure per_op Brc<Biased>_owner/ratio_to_rc ratio -->1.49×<!-- /brisk-lab:figure -->
//!   ```
//!
//!   The opening marker names the experiment, the metric (as results.json
//!   spells it) and a [`Format`]; the text up to the closing marker must be
//!   that metric formatted so. `brisk-lab --headline` rewrites every marked
//!   figure from `results.json` ([`fill_figures`]), as it rewrites the
//!   headline.
//!
//! Each failure is one line of the report; `brisk-lab --check` prints them
//! and exits 1 if there are any.

use std::path::{Path, PathBuf};
use std::process::Command;

use super::headline;
use super::report::{fine_ratio, int, nanos, num, percent, ratio, with_interval};
use super::results::{self, Results};
use super::Suite;

/// The folders whose changes make earlier figures stale.
pub const MEASURED_CODE: [&str; 4] = ["refcount", "gc", "runtime", "interp"];

/// The opening of a figure marker; the experiment, metric and format
/// follow, then ` -->`.
pub const FIGURE_OPEN: &str = "<!-- brisk-lab:figure ";
/// The closing marker after a figure.
pub const FIGURE_CLOSE: &str = "<!-- /brisk-lab:figure -->";

/// The files whose headline and marked figures are checked, relative to
/// the workspace.
pub const DOCUMENTS: [&str; 2] = ["README.md", "papers/answers.md"];

/// The git history the freshness check asks about.
pub trait History {
    /// The last commit that changed any of `paths`.
    fn last_change(&self, paths: &[&str]) -> Result<String, String>;
    /// Whether `ancestor` is `commit` or one of its ancestors.
    fn contains(&self, commit: &str, ancestor: &str) -> Result<bool, String>;
}

/// The history of the git checkout at a path.
pub struct Git(pub PathBuf);

impl Git {
    fn git(&self, args: &[&str]) -> Result<std::process::Output, String> {
        Command::new("git")
            .arg("-C")
            .arg(&self.0)
            .args(args)
            .output()
            .map_err(|e| format!("cannot run git: {e}"))
    }
}

impl History for Git {
    fn last_change(&self, paths: &[&str]) -> Result<String, String> {
        let mut args = vec!["log", "-1", "--format=%H", "--"];
        args.extend(paths);
        let out = self.git(&args)?;
        let commit = String::from_utf8_lossy(&out.stdout).trim().to_owned();
        if !out.status.success() || commit.is_empty() {
            return Err(format!(
                "git log found no commit that changed {}: {}",
                paths.join(", "),
                String::from_utf8_lossy(&out.stderr).trim()
            ));
        }
        Ok(commit)
    }

    fn contains(&self, commit: &str, ancestor: &str) -> Result<bool, String> {
        let out = self.git(&["merge-base", "--is-ancestor", ancestor, commit])?;
        match out.status.code() {
            Some(0) => Ok(true),
            Some(1) => Ok(false),
            _ => Err(format!(
                "git merge-base cannot compare {} with {}: {}",
                super::env::short(commit),
                super::env::short(ancestor),
                String::from_utf8_lossy(&out.stderr).trim()
            )),
        }
    }
}

/// Every problem with the results in `results_dir` and the documents of
/// `workspace`: one line each; empty if all is current. `experiments` are
/// the names that must have entries.
pub fn check(
    workspace: &Path,
    results_dir: &Path,
    experiments: &[&str],
    history: &dyn History,
) -> Vec<String> {
    let path = results_dir.join(results::FILE);
    let shown = path.strip_prefix(workspace).unwrap_or(&path).display();
    let doc = match Results::read(&path) {
        Ok(Some(doc)) => doc,
        Ok(None) => return vec![format!("{shown}: no such file")],
        Err(e) => {
            return vec![format!(
                "{shown} {e}; nothing else can be checked against it"
            )]
        }
    };
    let mut problems = freshness(&doc, experiments, history);
    for name in DOCUMENTS {
        let file = workspace.join(name);
        let text = match std::fs::read_to_string(&file) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
            Err(e) => {
                problems.push(format!("{name}: cannot read it: {e}"));
                continue;
            }
        };
        if let Some(block) = headline::block(&text) {
            problems.extend(
                headline_differences(block, &headline::render(&doc))
                    .into_iter()
                    .map(|d| format!("{name}: headline {d}")),
            );
        }
        problems.extend(
            check_figures(&text, &doc)
                .into_iter()
                .map(|d| format!("{name}: {d}")),
        );
    }
    problems
}

/// The experiments of `doc` that do not describe the code as it is: not
/// there, from the smoke suite, from a dirty tree, or older than the last
/// change to [`MEASURED_CODE`].
pub fn freshness(doc: &Results, experiments: &[&str], history: &dyn History) -> Vec<String> {
    let last = match history.last_change(&MEASURED_CODE) {
        Ok(last) => last,
        Err(e) => return vec![e],
    };
    let mut problems = Vec::new();
    for &name in experiments {
        let Some(entry) = doc.experiments.get(name) else {
            problems.push(format!("{name}: no entry in results.json"));
            continue;
        };
        let env = &entry.environment;
        if env.suite == Suite::Smoke {
            problems.push(format!(
                "{name}: from the smoke suite, which claims no timing"
            ));
        }
        if env.git_dirty == Some(true) {
            problems.push(format!(
                "{name}: measured on a work tree with uncommitted changes"
            ));
        }
        let Some(commit) = &env.git_commit else {
            problems.push(format!("{name}: no git commit recorded"));
            continue;
        };
        match history.contains(commit, &last) {
            Ok(true) => {}
            Ok(false) => problems.push(format!(
                "{name}: measured at {}, before {}, the last commit that changed {}/",
                super::env::short(commit),
                super::env::short(&last),
                MEASURED_CODE.join("/, ")
            )),
            Err(e) => problems.push(format!("{name}: {e}")),
        }
    }
    problems
}

/// How the text between the headline markers, `found`, differs from the
/// headline rendered now, `expected`: one line per row that differs (named
/// by its question, with the figures on either side), is missing or is
/// extra.
pub fn headline_differences(found: &str, expected: &str) -> Vec<String> {
    let lines = |text: &str| -> Vec<String> {
        text.lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .map(str::to_owned)
            .collect()
    };
    let (found, expected) = (lines(found), lines(expected));
    if found == expected {
        return Vec::new();
    }
    let mut out = Vec::new();
    for line in &expected {
        if found.contains(line) {
            continue;
        }
        let (label, figures) = split_row(line);
        match found.iter().find(|f| split_row(f).0 == label) {
            Some(old) => out.push(format!(
                "{} \"{label}\" reads \"{}\"; results.json gives \"{figures}\"",
                if line.starts_with('|') { "row" } else { "line" },
                split_row(old).1
            )),
            None => out.push(format!("lacks \"{line}\"")),
        }
    }
    for line in &found {
        let label = split_row(line).0;
        if !expected.iter().any(|e| split_row(e).0 == label) {
            out.push(format!("has \"{line}\", which results.json does not give"));
        }
    }
    out
}

/// A headline line as what names it and what it says: a table row's
/// question and its "measured" cell; for any other line, its first words
/// and the whole line.
fn split_row(line: &str) -> (String, &str) {
    match line.strip_prefix('|') {
        Some(rest) => {
            let mut cells = rest.split(" | ").map(str::trim);
            let question = cells.next().unwrap_or_default().to_owned();
            (question, cells.next().unwrap_or_default())
        }
        None => (
            line.split_whitespace()
                .take(6)
                .collect::<Vec<_>>()
                .join(" "),
            line,
        ),
    }
}

/// How a marked figure is written.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Format {
    /// `1.23×` ([`ratio`]).
    Ratio,
    /// `1.234×` ([`fine_ratio`]).
    FineRatio,
    /// `1.012× (0.990×–1.031×)`: the metric and its 95% interval.
    Interval,
    /// A duration given in ns, as `90.1 ns` or `1.71 ms` ([`nanos`]).
    Nanos,
    /// A duration and its 95% interval, as `64.5 ns (61.0 ns–70.2 ns)`.
    NanosInterval,
    /// A share, as `12.34%` ([`percent`]).
    Percent,
    /// Three significant figures or so ([`num`]).
    Num,
    /// A whole number with separators, as `10,000` ([`int`]).
    Int,
    /// A byte count, as `24 B`.
    Bytes,
}

impl Format {
    /// Every format, with the name a marker uses.
    pub const ALL: [(&'static str, Format); 9] = [
        ("ratio", Format::Ratio),
        ("fine_ratio", Format::FineRatio),
        ("interval", Format::Interval),
        ("nanos", Format::Nanos),
        ("nanos_interval", Format::NanosInterval),
        ("percent", Format::Percent),
        ("num", Format::Num),
        ("int", Format::Int),
        ("bytes", Format::Bytes),
    ];

    /// The format a marker calls `name`.
    pub fn from_name(name: &str) -> Option<Format> {
        Self::ALL.iter().find(|(n, _)| *n == name).map(|&(_, f)| f)
    }

    /// Metric `metric` of `experiment` in `doc`, written in this format;
    /// `None` if `doc` lacks it (or, for the formats with an interval, its
    /// bounds).
    pub fn render(self, doc: &Results, experiment: &str, metric: &str) -> Option<String> {
        let (name, v) = doc
            .metrics(experiment)
            .find(|(name, _)| name.as_str() == metric)?;
        let interval = || doc.interval(experiment, name);
        Some(match self {
            Format::Ratio => ratio(v),
            Format::FineRatio => fine_ratio(v),
            Format::Interval => with_interval(fine_ratio, v, Some(interval()?)),
            Format::Nanos => nanos(v),
            Format::NanosInterval => with_interval(nanos, v, Some(interval()?)),
            Format::Percent => percent(v),
            Format::Num => num(v),
            Format::Int => int(v.round().max(0.0) as u64),
            Format::Bytes => headline::bytes(v),
        })
    }
}

/// A marked figure found in a document.
struct Marked<'a> {
    /// 1-based line of its opening marker.
    line: usize,
    /// Byte range of the figure's text, between the markers.
    text: std::ops::Range<usize>,
    /// What the markers say it should be: `Ok(figure)`, or why that cannot
    /// be known.
    expected: Result<String, String>,
    /// The marker's words, for messages.
    label: &'a str,
}

/// Every figure marker of `text`, with the figure `doc` gives it; an
/// unclosed or malformed marker ends the scan with an error.
fn marked<'a>(text: &'a str, doc: &Results) -> Result<Vec<Marked<'a>>, String> {
    let mut found = Vec::new();
    let mut at = 0;
    while let Some(i) = text[at..].find(FIGURE_OPEN) {
        let start = at + i;
        let line = text[..start].matches('\n').count() + 1;
        let words_at = start + FIGURE_OPEN.len();
        let Some(end) = text[words_at..].find("-->") else {
            return Err(format!("line {line}: a figure marker without `-->`"));
        };
        let label = text[words_at..words_at + end].trim();
        let body = words_at + end + "-->".len();
        let Some(close) = text[body..].find(FIGURE_CLOSE) else {
            return Err(format!(
                "line {line}: figure `{label}` has no closing {FIGURE_CLOSE}"
            ));
        };
        let words: Vec<&str> = label.split_whitespace().collect();
        let expected = match words[..] {
            [experiment, metric, format] => match Format::from_name(format) {
                Some(f) => f.render(doc, experiment, metric).ok_or_else(|| {
                    format!("results.json has no `{metric}` for experiment `{experiment}`")
                }),
                None => Err(format!(
                    "no format `{format}` (one of {})",
                    Format::ALL.map(|(n, _)| n).join(", ")
                )),
            },
            _ => Err("a marker is `brisk-lab:figure EXPERIMENT METRIC FORMAT`".to_owned()),
        };
        found.push(Marked {
            line,
            text: body..body + close,
            expected,
            label,
        });
        at = body + close + FIGURE_CLOSE.len();
    }
    Ok(found)
}

/// The marked figures of `text` that differ from `doc`, one line each.
pub fn check_figures(text: &str, doc: &Results) -> Vec<String> {
    let figures = match marked(text, doc) {
        Ok(figures) => figures,
        Err(e) => return vec![e],
    };
    figures
        .into_iter()
        .filter_map(|m| {
            let found = &text[m.text.clone()];
            match &m.expected {
                Ok(expected) if expected == found => None,
                Ok(expected) => Some(format!(
                    "line {}: figure `{}` reads \"{found}\"; results.json gives \"{expected}\"",
                    m.line, m.label
                )),
                Err(why) => Some(format!("line {}: figure `{}`: {why}", m.line, m.label)),
            }
        })
        .collect()
}

/// `text` with every marked figure rewritten from `doc`; figures it
/// cannot compute are left as they are. Errors on a malformed marker.
pub fn fill_figures(text: &str, doc: &Results) -> Result<String, String> {
    let figures = marked(text, doc)?;
    let mut out = String::with_capacity(text.len());
    let mut at = 0;
    for m in figures {
        out.push_str(&text[at..m.text.start]);
        match m.expected {
            Ok(figure) => out.push_str(&figure),
            Err(_) => out.push_str(&text[m.text.clone()]),
        }
        at = m.text.end;
    }
    out.push_str(&text[at..]);
    Ok(out)
}

#[cfg(test)]
pub(crate) mod tests {
    use std::collections::{BTreeMap, BTreeSet};
    use std::path::PathBuf;
    use std::sync::atomic::{AtomicUsize, Ordering};

    use super::{check, check_figures, fill_figures, freshness, headline_differences, History};
    use crate::lab::env::{Allocator, Binary, Environment};
    use crate::lab::headline;
    use crate::lab::metrics::per_op;
    use crate::lab::results::{Entry, Recorded, Results};
    use crate::lab::Suite;

    /// A fresh, empty folder under the system's temporary directory.
    pub(crate) fn temp_dir(name: &str) -> PathBuf {
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let dir = std::env::temp_dir().join(format!(
            "brisk-lab-{name}-{}-{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        ));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    /// A history in which `last` changed the measured code, and each
    /// commit contains the ancestors listed for it.
    struct Fake {
        last: &'static str,
        contains: BTreeMap<&'static str, BTreeSet<&'static str>>,
    }

    impl History for Fake {
        fn last_change(&self, _: &[&str]) -> Result<String, String> {
            Ok(self.last.to_owned())
        }

        fn contains(&self, commit: &str, ancestor: &str) -> Result<bool, String> {
            match self.contains.get(commit) {
                Some(set) => Ok(commit == ancestor || set.contains(ancestor)),
                None => Err(format!("unknown commit {commit}")),
            }
        }
    }

    /// `old` precedes `last`, which precedes `new`.
    fn history() -> Fake {
        Fake {
            last: "last",
            contains: BTreeMap::from([
                ("old", BTreeSet::new()),
                ("last", BTreeSet::from(["old"])),
                ("new", BTreeSet::from(["old", "last"])),
            ]),
        }
    }

    fn entry(commit: &str, metrics: &[(crate::lab::metrics::Metric, f64)]) -> Entry {
        Entry {
            title: "t".to_owned(),
            environment: Environment {
                machine: "amd-epyc-2core".to_owned(),
                cpu_model: "AMD EPYC".to_owned(),
                cores: 2,
                load_average: None,
                allocators: BTreeMap::from([(Binary::BriskLab, Allocator::Mimalloc)]),
                rustc: "rustc".to_owned(),
                optimized: true,
                git_commit: Some(commit.to_owned()),
                git_dirty: Some(false),
                date: "2026-12-01T00:00:00Z".to_owned(),
                suite: Suite::Quick,
            },
            seconds: 1.0,
            outcome: Recorded::Ran {
                metrics: metrics.iter().map(|(k, v)| (k.clone(), Some(*v))).collect(),
                notes: vec![],
                plots: vec![],
            },
        }
    }

    fn doc_at(commit: &str) -> Results {
        let owner = per_op::ratio_to_rc(per_op::BIASED_OWNER);
        let mut doc = Results::new();
        doc.experiments.insert(
            "per_op".to_owned(),
            entry(
                commit,
                &[
                    (owner.clone(), 1.4949),
                    (owner.low(), 1.25),
                    (owner.high(), 1.5),
                    (per_op::ns_per_pair(per_op::BIASED_OWNER), 0.722),
                ],
            ),
        );
        doc
    }

    #[test]
    fn an_entry_older_than_the_last_change_is_stale() {
        let problems = freshness(&doc_at("old"), &["per_op"], &history());
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert!(problems[0].starts_with("per_op: measured at old, before last"));
        assert!(freshness(&doc_at("last"), &["per_op"], &history()).is_empty());
        assert!(freshness(&doc_at("new"), &["per_op"], &history()).is_empty());
    }

    #[test]
    fn missing_smoke_dirty_and_unknown_entries_are_reported() {
        let mut doc = doc_at("new");
        let problems = freshness(&doc, &["per_op", "memory"], &history());
        assert_eq!(problems, ["memory: no entry in results.json"]);

        let env = &mut doc.experiments.get_mut("per_op").unwrap().environment;
        env.suite = Suite::Smoke;
        env.git_dirty = Some(true);
        let problems = freshness(&doc, &["per_op"], &history());
        assert_eq!(problems.len(), 2, "{problems:?}");
        assert!(problems[0].contains("smoke"), "{problems:?}");
        assert!(problems[1].contains("uncommitted"), "{problems:?}");

        let problems = freshness(&doc_at("elsewhere"), &["per_op"], &history());
        assert_eq!(problems, ["per_op: unknown commit elsewhere"]);
    }

    /// The header row must not compare brisk's object header with
    /// CPython's alone: a container brisk's collector tracks has a link in
    /// front of its header that free-threaded CPython does not have.
    #[test]
    fn the_header_row_gives_the_bytes_a_tracked_container_spends() {
        use crate::lab::metrics::memory;
        let mut doc = Results::new();
        doc.experiments.insert(
            "memory".to_owned(),
            entry(
                "new",
                &[
                    (memory::BRISK_OBJECT_HEADER_BYTES, 24.0),
                    (memory::CPYTHON_FT_OBJECT_HEADER_BYTES, 32.0),
                    (memory::BRISK_CONTAINER_PREFIX_BYTES, 56.0),
                    (memory::CPYTHON_FT_CONTAINER_PREFIX_BYTES, 32.0),
                ],
            ),
        );
        let rendered = headline::render(&doc);
        let row = rendered
            .lines()
            .find(|line| line.contains("memory.md"))
            .expect("a row from the memory experiment");
        assert!(row.contains("24 B vs 32 B"), "{row}");
        assert!(row.contains("56 B vs 32 B"), "{row}");
    }

    #[test]
    fn a_headline_that_matches_passes_and_a_changed_row_is_named() {
        let doc = doc_at("new");
        let rendered = headline::render(&doc);
        assert!(headline_differences(&format!("\n\n{rendered}\n"), &rendered).is_empty());

        let edited = rendered.replace("1.49×", "1.48×");
        assert_ne!(edited, rendered, "the row shows the ratio");
        let diff = headline_differences(&edited, &rendered);
        assert_eq!(diff.len(), 1, "{diff:?}");
        assert!(
            diff[0].starts_with("row \"Clone+drop on the owner thread"),
            "{diff:?}"
        );
        assert!(
            diff[0].contains("1.48×") && diff[0].contains("1.49×"),
            "{diff:?}"
        );
    }

    #[test]
    fn marked_figures_are_recomputed() {
        let doc = doc_at("new");
        let good = "owner <!-- brisk-lab:figure per_op Brc<Biased>_owner/ratio_to_rc ratio -->\
                    1.49×<!-- /brisk-lab:figure --> and \
                    <!-- brisk-lab:figure per_op Brc<Biased>_owner/ratio_to_rc interval -->\
                    1.495× (1.250×–1.500×)<!-- /brisk-lab:figure -->.";
        assert_eq!(check_figures(good, &doc), Vec::<String>::new());

        let stale = good.replace("1.49×<", "1.51×<");
        let problems = check_figures(&stale, &doc);
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert!(problems[0].contains("reads \"1.51×\""), "{problems:?}");
        assert_eq!(fill_figures(&stale, &doc).unwrap(), good);

        let unknown =
            "\n<!-- brisk-lab:figure per_op nothing ratio -->1×<!-- /brisk-lab:figure -->";
        let problems = check_figures(unknown, &doc);
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert!(problems[0].starts_with("line 2:"), "{problems:?}");
        assert!(problems[0].contains("no `nothing`"), "{problems:?}");
        assert_eq!(fill_figures(unknown, &doc).unwrap(), unknown);

        let mut timed = doc_at("new");
        let send = crate::lab::metrics::send_cost::ns_per_send("share", 10);
        timed.experiments.insert(
            "send_cost".to_owned(),
            entry(
                "new",
                &[
                    (send.clone(), 64.5),
                    (send.low(), 61.0),
                    (send.high(), 70.2),
                ],
            ),
        );
        let nanos = "<!-- brisk-lab:figure send_cost share/10/ns_per_send nanos_interval -->\
                     64.5 ns (61.0 ns–70.2 ns)<!-- /brisk-lab:figure -->";
        assert_eq!(check_figures(nanos, &timed), Vec::<String>::new());

        let bad_format = "<!-- brisk-lab:figure per_op x furlongs -->1<!-- /brisk-lab:figure -->";
        assert!(check_figures(bad_format, &doc)[0].contains("no format `furlongs`"));
        let unclosed = "<!-- brisk-lab:figure per_op x ratio -->1";
        assert!(check_figures(unclosed, &doc)[0].contains("no closing"));
        assert!(fill_figures(unclosed, &doc).is_err());
    }

    #[test]
    fn check_reads_the_files_and_reports_every_problem() {
        let workspace = temp_dir("check");
        let results = workspace.join("papers/results");
        std::fs::create_dir_all(&results).unwrap();

        // No results.json, then one in an older layout: one problem, no panic.
        let problems = check(&workspace, &results, &["per_op"], &history());
        assert!(problems[0].ends_with("no such file"), "{problems:?}");
        std::fs::write(results.join("results.json"), r#"{"environment": {}}"#).unwrap();
        let problems = check(&workspace, &results, &["per_op"], &history());
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert!(problems[0].contains("older brisk-lab"), "{problems:?}");

        // Current results, a README that matches them and answers with a
        // marked figure that does not.
        let doc = doc_at("new");
        std::fs::write(results.join("results.json"), doc.to_text()).unwrap();
        let readme = format!(
            "# brisk\n\n{}\n\n{}\n{}\n",
            headline::BEGIN,
            headline::render(&doc),
            headline::END
        );
        std::fs::write(workspace.join("README.md"), &readme).unwrap();
        std::fs::write(
            workspace.join("papers/answers.md"),
            "Owner: <!-- brisk-lab:figure per_op Brc<Biased>_owner/ns_per_pair nanos -->\
             0.700 ns<!-- /brisk-lab:figure -->\n",
        )
        .unwrap();
        let problems = check(&workspace, &results, &["per_op"], &history());
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert!(
            problems[0].starts_with("papers/answers.md: line 1:"),
            "{problems:?}"
        );
        assert!(problems[0].contains("\"0.722 ns\""), "{problems:?}");

        // A README edited by hand, and results from before the last change.
        std::fs::write(
            workspace.join("README.md"),
            readme.replace("0.722 ns", "0.7 ns"),
        )
        .unwrap();
        std::fs::write(results.join("results.json"), doc_at("old").to_text()).unwrap();
        let problems = check(&workspace, &results, &["per_op"], &history());
        assert_eq!(problems.len(), 4, "{problems:?}");
        assert!(
            problems[0].starts_with("per_op: measured at old"),
            "{problems:?}"
        );
        assert!(
            problems[1].starts_with("README.md: headline row \"Clone+drop"),
            "{problems:?}"
        );
        // The line under the table names the commit, which changed too.
        assert!(
            problems[2].starts_with("README.md: headline line \"Each row"),
            "{problems:?}"
        );
        assert!(
            problems[3].starts_with("papers/answers.md: line 1:"),
            "{problems:?}"
        );
        std::fs::remove_dir_all(&workspace).unwrap();
    }
}
