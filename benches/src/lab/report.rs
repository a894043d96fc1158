//! What an experiment hands back: markdown, named metrics, notes, plots.

use std::fmt::Write as _;
use std::path::Path;

use super::metrics::Metric;
use super::plot::{forest_chart, line_chart, Chart, Estimate, Forest, Series};

/// How an experiment ended.
pub enum Outcome {
    /// It ran; here is what it found.
    Ran(Report),
    /// It could not run here; the reason goes into its table and
    /// results.json.
    Skipped(String),
}

/// The findings of one experiment.
#[derive(Default)]
pub struct Report {
    /// Markdown after the title and question: tables and the prose that
    /// reads them.
    pub body: String,
    /// Every figure by name, in the order recorded.
    pub metrics: Vec<(Metric, f64)>,
    /// Caveats: what was skipped inside the experiment, what the machine
    /// could not show.
    pub notes: Vec<String>,
    /// File names of the plots written into the output folder.
    pub plots: Vec<String>,
}

impl Report {
    /// An empty report.
    pub fn new() -> Self {
        Report::default()
    }

    /// Records a figure under its name ([`super::metrics`]).
    pub fn metric(&mut self, name: Metric, value: f64) {
        self.metrics.push((name, value));
    }

    /// Adds a paragraph of markdown.
    pub fn para(&mut self, text: impl AsRef<str>) {
        self.body.push_str(text.as_ref().trim_end());
        self.body.push_str("\n\n");
    }

    /// Adds a `##` heading.
    pub fn heading(&mut self, text: impl AsRef<str>) {
        let _ = write!(self.body, "## {}\n\n", text.as_ref());
    }

    /// Adds a table.
    pub fn table(&mut self, table: &Table) {
        self.body.push_str(&table.to_markdown());
        self.body.push('\n');
    }

    /// Adds a note.
    pub fn note(&mut self, text: impl Into<String>) {
        self.notes.push(text.into());
    }

    /// Draws `series` as `file` in the output folder `out` and embeds it;
    /// if it cannot be drawn, says why in a note instead.
    pub fn plot(&mut self, out: &Path, file: &str, chart: &Chart<'_>, series: &[Series]) {
        match line_chart(&out.join(file), chart, series) {
            Ok(()) => {
                let _ = write!(self.body, "![{}]({file})\n\n", chart.title);
                self.plots.push(file.to_owned());
            }
            Err(e) => self.note(format!("plot {file} not written: {e}")),
        }
    }

    /// Draws `rows` as the forest plot `file` in the output folder `out`
    /// and embeds it; if it cannot be drawn, says why in a note instead.
    pub fn forest(&mut self, out: &Path, file: &str, chart: &Forest<'_>, rows: &[Estimate]) {
        match forest_chart(&out.join(file), chart, rows) {
            Ok(()) => {
                let _ = write!(self.body, "![{}]({file})\n\n", chart.title);
                self.plots.push(file.to_owned());
            }
            Err(e) => self.note(format!("plot {file} not written: {e}")),
        }
    }
}

/// A markdown table: a header row, then rows; numeric columns are
/// right-aligned.
pub struct Table {
    headers: Vec<String>,
    right: Vec<bool>,
    rows: Vec<Vec<String>>,
}

impl Table {
    /// A table with these column headers; the first column is left-aligned,
    /// the rest right-aligned (use [`Table::left`] to change one).
    pub fn new<S: AsRef<str>>(headers: &[S]) -> Self {
        Table {
            headers: headers.iter().map(|h| h.as_ref().to_owned()).collect(),
            right: (0..headers.len()).map(|i| i > 0).collect(),
            rows: Vec::new(),
        }
    }

    /// Left-aligns column `i`.
    pub fn left(mut self, i: usize) -> Self {
        self.right[i] = false;
        self
    }

    /// Adds a row (padded or cut to the header's width).
    pub fn row(&mut self, cells: Vec<String>) {
        let mut cells = cells;
        cells.resize(self.headers.len(), String::new());
        self.rows.push(cells);
    }

    /// The table in GitHub markdown.
    pub fn to_markdown(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(out, "| {} |", self.headers.join(" | "));
        let rule: Vec<&str> = self
            .right
            .iter()
            .map(|&r| if r { "---:" } else { "---" })
            .collect();
        let _ = writeln!(out, "|{}|", rule.join("|"));
        for row in &self.rows {
            let _ = writeln!(out, "| {} |", row.join(" | "));
        }
        out
    }
}

/// A number with three significant figures or so, without exponent.
pub fn num(x: f64) -> String {
    if !x.is_finite() {
        return "–".to_owned();
    }
    let a = x.abs();
    if a >= 1000.0 {
        group_thousands(x.round() as i64)
    } else if a >= 100.0 {
        format!("{x:.0}")
    } else if a >= 10.0 {
        format!("{x:.1}")
    } else if a >= 1.0 {
        format!("{x:.2}")
    } else {
        format!("{x:.3}")
    }
}

/// A whole number with thousands separators, as `10,000`.
pub fn int(n: u64) -> String {
    group_thousands(i64::try_from(n).unwrap_or(i64::MAX))
}

/// A ratio, as `1.23×`.
pub fn ratio(x: f64) -> String {
    if !x.is_finite() {
        return "–".to_owned();
    }
    format!("{x:.2}×")
}

/// A ratio to three decimals, as `1.023×`, for differences of a few
/// percent.
pub fn fine_ratio(x: f64) -> String {
    if !x.is_finite() {
        return "–".to_owned();
    }
    format!("{x:.3}×")
}

/// A share in percent, as `12.34%`; tiny and near-total shares that would
/// round to 0% or 100% read `<0.01%` and `>99.99%`.
pub fn percent(x: f64) -> String {
    if !x.is_finite() {
        return "–".to_owned();
    }
    let p = 100.0 * x;
    if x == 0.0 {
        "0%".to_owned()
    } else if x == 1.0 {
        "100%".to_owned()
    } else if p < 0.01 {
        "<0.01%".to_owned()
    } else if p > 99.99 {
        ">99.99%".to_owned()
    } else {
        format!("{p:.2}%")
    }
}

/// A duration given in nanoseconds, in the unit that reads best.
pub fn nanos(ns: f64) -> String {
    if !ns.is_finite() {
        "–".to_owned()
    } else if ns >= 1e9 {
        format!("{} s", num(ns / 1e9))
    } else if ns >= 1e6 {
        format!("{} ms", num(ns / 1e6))
    } else if ns >= 1e3 {
        format!("{} µs", num(ns / 1e3))
    } else {
        format!("{} ns", num(ns))
    }
}

/// `value` through `fmt`, then its 95% interval where there is one:
/// `1.012× (0.990×–1.031×)` with [`fine_ratio`], or `1.012×` without an
/// interval.
pub fn with_interval(fmt: fn(f64) -> String, value: f64, interval: Option<(f64, f64)>) -> String {
    match interval {
        Some((low, high)) => format!("{} ({}–{})", fmt(value), fmt(low), fmt(high)),
        None => fmt(value),
    }
}

/// The spread of samples as `min–max`.
pub fn range(min: f64, max: f64) -> String {
    format!("{}–{}", num(min), num(max))
}

fn group_thousands(n: i64) -> String {
    let digits = n.unsigned_abs().to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    if n < 0 {
        format!("-{out}")
    } else {
        out
    }
}

/// A metric-name part from a display name: `Brc<Biased> owner` →
/// `Brc<Biased>_owner`.
pub fn key(name: &str) -> String {
    name.replace(' ', "_")
}
