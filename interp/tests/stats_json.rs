//! `brisk run --stats=json`: the counters as one JSON object that reads
//! back into `brisk_refcount::embed::stats::Stats`, the type brisk-lab's
//! `where_ops_go` reads it with.
//!
//! The counters exist only with the `stats` feature. A plain `cargo test`
//! checks the note a binary without them prints;
//! `cargo test -p brisk-interp --features stats --test stats_json` checks
//! the counters themselves.

mod command;

use std::process::Output;

use brisk_refcount::embed::stats::{Stats, ENABLED};
use command::brisk;

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// The last non-empty line of standard error, read as [`Stats`].
fn stats_of(output: &Output) -> Stats {
    let stderr = text(&output.stderr);
    let last = stderr
        .lines()
        .rev()
        .find(|l| !l.trim().is_empty())
        .unwrap_or_else(|| panic!("nothing on standard error"));
    serde_json::from_str(last).unwrap_or_else(|e| panic!("not a Stats object ({e}): {last}"))
}

#[test]
fn json_counters_read_back_as_stats() {
    let output = brisk(&["run", "fib.brisk", "--stats=json", "10"]);
    assert!(output.status.success(), "{}", text(&output.stderr));
    assert_eq!(text(&output.stdout), "fib(10) = 55\n");
    if !ENABLED {
        let stderr = text(&output.stderr);
        assert!(stderr.contains("without the `stats` feature"), "{stderr}");
        return;
    }
    let stats = stats_of(&output);
    assert!(stats.owner_ops > 0, "{stats:?}");
    assert!(stats.frees > 0, "{stats:?}");
    // One interpreter on one thread: nothing crosses to another owner.
    assert_eq!(stats.queued, 0, "{stats:?}");
}

#[test]
fn json_is_one_line_with_every_counter() {
    if !ENABLED {
        return;
    }
    let output = brisk(&["run", "pipeline.brisk", "--stats=json", "2", "3"]);
    assert!(output.status.success(), "{}", text(&output.stderr));
    let stderr = text(&output.stderr);
    let last = stderr.lines().last().expect("a line");
    let object: serde_json::Map<String, serde_json::Value> =
        serde_json::from_str(last).expect("a JSON object");
    let mut keys: Vec<&str> = object.keys().map(String::as_str).collect();
    keys.sort_unstable();
    assert_eq!(
        keys,
        [
            "applied_atomics",
            "buffered_ops",
            "coalesced_ops",
            "frees",
            "merged",
            "owner_ops",
            "queued",
            "shared_ops"
        ]
    );
    assert!(object.values().all(serde_json::Value::is_u64), "{last}");
}

#[test]
fn plain_stats_stays_a_table_and_takes_no_value_after_a_space() {
    // `--stats 10`: 10 is the program's argument, not a format.
    let output = brisk(&["run", "fib.brisk", "--stats", "10"]);
    assert!(output.status.success(), "{}", text(&output.stderr));
    assert_eq!(text(&output.stdout), "fib(10) = 55\n");
    let stderr = text(&output.stderr);
    if ENABLED {
        assert!(stderr.contains("owner-path operations"), "{stderr}");
        assert!(!stderr.contains('{'), "{stderr}");
    }
}

#[test]
fn an_unknown_format_is_a_usage_error() {
    let output = brisk(&["run", "fib.brisk", "--stats=yaml", "10"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(text(&output.stderr).contains("yaml"));
}
