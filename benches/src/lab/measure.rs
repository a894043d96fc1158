//! Interleaved measurement: calibrate, then A B C A B C …, then medians.
//!
//! A shared machine's load comes in bursts. Timing every sample of A, then
//! every sample of B, lets a burst land on one variant only; interleaving
//! spreads it over all of them, and the median of each variant's rounds
//! drops the rounds a burst spoiled. Ratios are then taken between medians
//! measured side by side.

use std::time::Duration;

use super::Ctx;

/// Samples of one variant: a time per unit of work, in nanoseconds.
#[derive(Clone, Debug, Default)]
pub struct Samples {
    values: Vec<f64>,
}

impl Samples {
    /// Samples from values.
    pub fn new(values: Vec<f64>) -> Self {
        Samples { values }
    }

    /// Adds one sample.
    pub fn push(&mut self, value: f64) {
        self.values.push(value);
    }

    /// Each sample divided by the sample of `base` taken in the same round
    /// (both pushed in round order). On a machine whose speed drifts from
    /// round to round, the ratio of two runs made back to back moves much
    /// less than either run.
    pub fn paired_ratios(&self, base: &Samples) -> Samples {
        Samples::new(
            self.values
                .iter()
                .zip(&base.values)
                .map(|(value, base)| value / base)
                .collect(),
        )
    }

    /// The median (the mean of the middle two for an even count; NaN when
    /// empty).
    pub fn median(&self) -> f64 {
        median(&self.values)
    }

    /// A confidence interval for the median of the distribution the
    /// samples come from, with coverage of at least 95% (exactly 95% is
    /// rarely reachable with few samples: with eight it is 99.2%), or
    /// `None` with fewer than six samples (too few for any such interval).
    ///
    /// Distribution-free: the interval between the `k`-th smallest and the
    /// `k`-th largest sample, with `k` the largest rank at which fewer than
    /// `k` of `n` fair coin flips come up heads with probability at most
    /// 2.5% (the interval of the sign test; Hollander and Wolfe,
    /// *Nonparametric Statistical Methods*, §3.6). It assumes only that the
    /// samples are independent draws, not that the noise is normal, which
    /// suits a machine whose bursts of load give long tails.
    pub fn median_interval(&self) -> Option<(f64, f64)> {
        let n = self.values.len();
        // P(Binomial(n, 1/2) < k), summed term by term.
        let mut below = 0.0;
        let mut term = 0.5f64.powi(n as i32); // P(X = 0)
        let mut k = 0;
        while k < n / 2 && below + term <= 0.025 {
            below += term;
            term = term * (n - k) as f64 / (k + 1) as f64; // P(X = k + 1)
            k += 1;
        }
        if k == 0 {
            return None;
        }
        let mut sorted = self.values.clone();
        sorted.sort_by(f64::total_cmp);
        Some((sorted[k - 1], sorted[n - k]))
    }

    /// The `q`-quantile (0 ≤ `q` ≤ 1) by the nearest-rank rule: the
    /// smallest sample at or above which lie at least a `q` share of them
    /// (the 0.99-quantile is the p99). NaN when empty.
    pub fn quantile(&self, q: f64) -> f64 {
        if self.values.is_empty() {
            return f64::NAN;
        }
        let mut sorted = self.values.clone();
        sorted.sort_by(f64::total_cmp);
        let rank = (q.clamp(0.0, 1.0) * sorted.len() as f64).ceil() as usize;
        sorted[rank.clamp(1, sorted.len()) - 1]
    }

    /// The smallest sample.
    pub fn min(&self) -> f64 {
        self.values.iter().copied().fold(f64::INFINITY, f64::min)
    }

    /// The largest sample.
    pub fn max(&self) -> f64 {
        self.values
            .iter()
            .copied()
            .fold(f64::NEG_INFINITY, f64::max)
    }

    /// How many samples.
    pub fn len(&self) -> usize {
        self.values.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.values.is_empty()
    }

    /// The samples.
    pub fn values(&self) -> &[f64] {
        &self.values
    }
}

/// The median of `values` (NaN when empty).
pub fn median(values: &[f64]) -> f64 {
    if values.is_empty() {
        return f64::NAN;
    }
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    let mid = sorted.len() / 2;
    if !sorted.len().is_multiple_of(2) {
        sorted[mid]
    } else {
        (sorted[mid - 1] + sorted[mid]) / 2.0
    }
}

/// The geometric mean of positive `values` (NaN when empty).
pub fn geomean(values: &[f64]) -> f64 {
    if values.is_empty() {
        return f64::NAN;
    }
    (values.iter().map(|v| v.ln()).sum::<f64>() / values.len() as f64).exp()
}

/// A variant to time: `run(n)` does `n` iterations and returns the time
/// they took; one iteration is `units` units of work (pairs, objects,
/// sends), so samples come out in nanoseconds per unit.
pub struct Variant<'a> {
    /// Its name in progress messages.
    pub name: String,
    /// Units of work per iteration.
    pub units: f64,
    run: Box<dyn FnMut(u64) -> Duration + 'a>,
    iters: u64,
}

impl<'a> Variant<'a> {
    /// A variant named `name` whose iterations are `units` units each.
    pub fn new(name: impl Into<String>, units: f64, run: impl FnMut(u64) -> Duration + 'a) -> Self {
        Variant {
            name: name.into(),
            units,
            run: Box::new(run),
            iters: 0,
        }
    }

    /// Finds an iteration count whose run takes about `target`: doubles
    /// from one until a run takes an eighth of it, then scales. Each step
    /// takes the fastest of three runs, so that one descheduling on a
    /// loaded machine cannot fix the count too low (a one-send sample is
    /// mostly the receiver's wake-up).
    fn calibrate(&mut self, target: Duration) {
        let mut iters = 1u64;
        loop {
            let took = (0..3).map(|_| (self.run)(iters)).min().expect("three runs");
            if took >= target / 8 || iters >= 1 << 40 {
                let scale = target.as_secs_f64() / took.as_secs_f64().max(1e-9);
                self.iters = ((iters as f64 * scale).round() as u64).max(1);
                return;
            }
            iters *= 2;
        }
    }

    /// One sample: nanoseconds per unit.
    fn sample(&mut self) -> f64 {
        let took = (self.run)(self.iters);
        took.as_secs_f64() * 1e9 / (self.iters as f64 * self.units)
    }
}

/// Calibrates each variant to about `target` per sample (the calibration
/// runs double as warm-up), then takes `rounds` rounds, each running every
/// variant once in [`rotation`]'s order, so that no variant always runs
/// first or always follows the same one (a
/// machine whose clock drifts within a round would otherwise favour a
/// fixed position). Returns each variant's samples in nanoseconds per unit,
/// in the order given, one per round ([`Samples::paired_ratios`] pairs
/// them by round).
pub fn interleave(
    ctx: &Ctx,
    label: &str,
    variants: &mut [Variant<'_>],
    rounds: usize,
    target: Duration,
) -> Vec<Samples> {
    for v in variants.iter_mut() {
        ctx.step(format!("{label}: calibrating {}", v.name));
        v.calibrate(target);
    }
    let mut samples = vec![Samples::default(); variants.len()];
    for round in 0..rounds {
        ctx.step(format!("{label}: round {}/{rounds}", round + 1));
        for i in rotation(round, variants.len()) {
            samples[i].push(variants[i].sample());
        }
    }
    samples
}

/// The order of round `round` over `n` variants: from `round mod n`, going
/// round, so that over `n` rounds each runs once in each position.
pub fn rotation(round: usize, n: usize) -> impl Iterator<Item = usize> {
    (0..n).map(move |k| (round + k) % n)
}

/// Per-suite sampling settings: rounds and time per sample.
#[derive(Copy, Clone, Debug)]
pub struct Plan {
    /// Rounds of A B C ….
    pub rounds: usize,
    /// Time per sample.
    pub target: Duration,
}

impl Plan {
    /// The usual plan for micro-benchmarks in each suite.
    pub fn micro(ctx: &Ctx) -> Plan {
        ctx.suite.pick(
            Plan {
                rounds: 2,
                target: Duration::from_millis(2),
            },
            Plan {
                rounds: 15,
                target: Duration::from_millis(20),
            },
            Plan {
                rounds: 21,
                target: Duration::from_millis(50),
            },
        )
    }
}

#[cfg(test)]
mod tests {
    use super::Samples;

    fn one_to(n: usize) -> Samples {
        // Shuffled, so that the interval cannot rely on push order.
        Samples::new((1..=n).rev().map(|v| v as f64).collect())
    }

    #[test]
    fn quantiles_take_the_nearest_rank() {
        let s = one_to(100);
        assert_eq!(s.quantile(0.5), 50.0);
        assert_eq!(s.quantile(0.99), 99.0);
        assert_eq!(s.quantile(1.0), 100.0);
        assert_eq!(s.quantile(0.0), 1.0);
        assert_eq!(one_to(3).quantile(0.99), 3.0);
        assert!(Samples::default().quantile(0.5).is_nan());
    }

    #[test]
    fn median_interval_ranks_match_the_sign_test_table() {
        // P(X <= 0) for n = 5 is 1/32 > 2.5%: no 95% interval.
        assert_eq!(one_to(5).median_interval(), None);
        // n = 6: P(X <= 0) = 1/64, P(X <= 1) = 7/64: ranks 1 and 6.
        assert_eq!(one_to(6).median_interval(), Some((1.0, 6.0)));
        // n = 12: P(X <= 2) = 79/4096 = 1.9%, P(X <= 3) = 7.3%: ranks 3 and 10.
        assert_eq!(one_to(12).median_interval(), Some((3.0, 10.0)));
        // n = 20: P(X <= 5) = 2.07%, P(X <= 6) = 5.8%: ranks 6 and 15.
        assert_eq!(one_to(20).median_interval(), Some((6.0, 15.0)));
        assert_eq!(Samples::default().median_interval(), None);
    }
}
