//! What the criterion bench targets share.

use std::time::Duration;

use criterion::Criterion;

/// Short measurements, so that a whole bench target runs in about a minute
/// on two cores: these benches compare implementations side by side, and
/// brisk-lab makes the longer, interleaved runs.
pub fn short_config() -> Criterion {
    Criterion::default()
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2))
        .sample_size(20)
}
