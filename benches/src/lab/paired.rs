//! Rounds of every policy over the example programs, and their ratios to
//! `gil` paired by round.
//!
//! A round runs one program under every policy back to back. On a machine
//! whose speed drifts, two runs made seconds apart see nearly the same
//! machine, so the ratio of a policy's time to `gil`'s *in the same round*
//! moves much less than either time. The order of the policies rotates by
//! one each round, so that over every four rounds each policy runs once in
//! each position and a drift within a round favours none of them.

use std::collections::BTreeMap;
use std::path::Path;

use super::measure::{geomean, rotation, Samples};
use super::metrics::{whole_program as m, Metric};
use super::programs::{self, Program, POLICIES};
use super::report::{fine_ratio, with_interval, Report, Table};
use super::Ctx;

/// Every run of one `brisk` binary: wall times in seconds, the first
/// output and the peak RSS, by (program, policy) index into the program
/// list and [`POLICIES`]. Other experiments keep other variants in it
/// (`vs_python`: Python and two policies); variant 0 is always the
/// baseline the ratios divide by.
#[derive(Default)]
pub struct PolicyRuns {
    /// Wall times, in round order.
    pub samples: BTreeMap<(usize, usize), Samples>,
    /// What the first run printed.
    pub outputs: BTreeMap<(usize, usize), String>,
    /// The largest peak resident set, bytes.
    pub rss: BTreeMap<(usize, usize), u64>,
}

impl PolicyRuns {
    /// Runs `program` (index `i`) once under every policy with `bin`, in
    /// round `round`'s rotation of [`POLICIES`].
    pub fn round(
        &mut self,
        ctx: &Ctx,
        bin: &Path,
        (i, program): (usize, &Program),
        round: usize,
    ) -> Result<(), String> {
        for j in rotation(round, POLICIES.len()) {
            let r = programs::run_example(ctx, bin, program, POLICIES[j], &[])?;
            self.record((i, j), r);
        }
        Ok(())
    }

    /// Adds run `r` of program `i` as variant `j`: its wall time, its output
    /// if it is the first, and its peak RSS if it is the largest.
    pub fn record(&mut self, (i, j): (usize, usize), r: programs::Run) {
        self.samples
            .entry((i, j))
            .or_default()
            .push(r.wall.as_secs_f64());
        self.outputs.entry((i, j)).or_insert(r.stdout);
        let peak = self.rss.entry((i, j)).or_insert(0);
        *peak = (*peak).max(r.max_rss);
    }

    /// Each round's time of policy `j` divided by `gil`'s (variant 0's),
    /// for program `i`.
    pub fn paired(&self, i: usize, j: usize) -> Samples {
        self.samples[&(i, j)].paired_ratios(&self.samples[&(i, 0)])
    }

    /// The geometric mean, over the single-interpreter programs of `list`,
    /// of policy `j`'s median paired ratio to `gil`: one policy's figure
    /// for the whole build.
    pub fn paired_geomean(&self, list: &[Program], j: usize) -> f64 {
        let medians: Vec<f64> = (0..list.len())
            .filter(|&i| list[i].is_single())
            .map(|i| self.paired(i, j).median())
            .collect();
        geomean(&medians)
    }

    /// Each round's geometric mean, over the programs `programs` (indices
    /// into the program list), of policy `j`'s [`paired`](Self::paired)
    /// ratio in that round: one figure per round for the whole set, so
    /// that its median has an interval as one program's ratios do.
    pub fn per_round_geomean(&self, programs: &[usize], j: usize) -> Samples {
        let ratios: Vec<Samples> = programs.iter().map(|&i| self.paired(i, j)).collect();
        let rounds = ratios.iter().map(Samples::len).min().unwrap_or(0);
        Samples::new(
            (0..rounds)
                .map(|r| geomean(&ratios.iter().map(|s| s.values()[r]).collect::<Vec<_>>()))
                .collect(),
        )
    }

    /// `program under policy` for every run whose output differs from
    /// `gil`'s for the same program.
    pub fn mismatches(&self, list: &[Program]) -> Vec<String> {
        self.mismatches_by(|i, j| format!("{} under {}", list[i].name, POLICIES[j]))
    }

    /// `name(i, j)` for every run (program `i`, variant `j`) whose output
    /// differs from variant 0's for the same program.
    pub fn mismatches_by(&self, name: impl Fn(usize, usize) -> String) -> Vec<String> {
        self.outputs
            .iter()
            .filter(|(&(i, _), output)| self.outputs.get(&(i, 0)) != Some(*output))
            .map(|(&(i, j), _)| name(i, j))
            .collect()
    }
}

/// Adds the table of paired ratios to `gil` for the single-interpreter
/// programs of `runs`, each a median over the rounds with a 95% interval
/// for it ([`median_with_interval`]), and the metrics
/// [`m::program`]`(…, PairedRatioToGil)` and
/// [`m::geomean_paired_ratio_to_gil`] (the median of
/// [`PolicyRuns::per_round_geomean`]), each with its interval.
pub fn paired_table(report: &mut Report, list: &[Program], runs: &PolicyRuns) {
    let mut headers = vec!["program".to_owned()];
    headers.extend(
        POLICIES[1..]
            .iter()
            .map(|p| format!("`{p}` ÷ `gil` (95% interval)")),
    );
    let mut table = Table::new(&headers);
    for (i, program) in list.iter().enumerate().filter(|(_, p)| p.is_single()) {
        let mut row = vec![format!("`{}`", program.name)];
        for (j, policy) in POLICIES.iter().enumerate().skip(1) {
            let key = m::program(program.name, policy, m::Figure::PairedRatioToGil);
            row.push(median_with_interval(report, &key, &runs.paired(i, j)));
        }
        table.row(row);
    }
    let single: Vec<usize> = (0..list.len()).filter(|&i| list[i].is_single()).collect();
    let mut row = vec!["geometric mean per round".to_owned()];
    for (j, policy) in POLICIES.iter().enumerate().skip(1) {
        let key = m::geomean_paired_ratio_to_gil(policy);
        row.push(median_with_interval(
            report,
            &key,
            &runs.per_round_geomean(&single, j),
        ));
    }
    table.row(row);
    report.table(&table);
    report.para(
        "The last row takes, in each round, the geometric mean of that round's ratios \
         over the programs above, and gives the median of those per-round means with \
         its 95% interval.",
    );
}

/// `ratios`' median and its 95% interval, as `1.012× (0.990×–1.031×)`,
/// recorded as the metrics `key`, [`Metric::low`] and [`Metric::high`].
/// Without enough samples for an interval, only the median.
pub fn median_with_interval(report: &mut Report, key: &Metric, ratios: &Samples) -> String {
    median_with_interval_as(report, key, ratios, fine_ratio)
}

/// [`median_with_interval`] of any samples, each figure written by `fmt`
/// (`64.5 ns (61.0 ns–70.2 ns)` with [`nanos`](super::report::nanos)).
pub fn median_with_interval_as(
    report: &mut Report,
    key: &Metric,
    samples: &Samples,
    fmt: fn(f64) -> String,
) -> String {
    let median = samples.median();
    report.metric(key.clone(), median);
    let interval = samples.median_interval();
    if let Some((low, high)) = interval {
        report.metric(key.low(), low);
        report.metric(key.high(), high);
    }
    with_interval(fmt, median, interval)
}

/// Notes whether every run printed what `gil` printed: `all_same` if
/// `mismatches` is empty, else the list.
pub fn note_outputs(report: &mut Report, mismatches: &[String], all_same: &str) {
    if mismatches.is_empty() {
        report.note(all_same);
    } else {
        report.note(format!(
            "OUTPUT DIFFERS from `gil` for: {}.",
            mismatches.join(", ")
        ));
    }
}

#[cfg(test)]
mod tests {
    use super::{PolicyRuns, Samples};

    #[test]
    fn each_round_has_one_geometric_mean_over_the_programs() {
        let mut runs = PolicyRuns::default();
        for (key, times) in [
            ((0, 0), vec![1.0, 1.0]),
            ((0, 1), vec![2.0, 4.0]),
            ((1, 0), vec![1.0, 2.0]),
            ((1, 1), vec![8.0, 2.0]),
        ] {
            runs.samples.insert(key, Samples::new(times));
        }
        // Round 0: ratios 2 and 8; round 1: 4 and 1.
        let close = |got: Samples, want: [f64; 2]| {
            assert_eq!(got.len(), 2);
            for (g, w) in got.values().iter().zip(want) {
                assert!((g - w).abs() < 1e-12, "{:?} != {want:?}", got.values());
            }
        };
        close(runs.per_round_geomean(&[0, 1], 1), [4.0, 2.0]);
        close(runs.per_round_geomean(&[1], 1), [8.0, 1.0]);
    }
}
