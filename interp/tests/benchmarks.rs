//! Golden-output tests of `benchmarks/`: the r7rs-benchmarks programs
//! translated into the language.
//!
//! Each `benchmarks/<name>.brisk` takes a repetition count as its first
//! argument; run once (`1`), it must print exactly `benchmarks/<name>.out`
//! under every counting policy, and leave no object behind. The golden
//! files were checked against the Python twins (`<name>.py`), which print
//! the same text for the same count, so these tests need no Python.
//!
//! The runtime's live-object counter is process-wide, so the runs are
//! serialised.

use std::path::PathBuf;
use std::sync::{Arc, Mutex};

mod common;

use brisk_interp::{run_with_policy, Limits, Policy, RunOptions, Source};
use common::settled_live_objects;

/// Serialises the tests of this binary (the live-object counter is global).
static SERIAL: Mutex<()> = Mutex::new(());

/// The programs of `benchmarks/`, as the issue lists them.
const PROGRAMS: [&str; 14] = [
    "tak",
    "fib",
    "ack",
    "cpstak",
    "takl",
    "nqueens",
    "deriv",
    "primes",
    "destruc",
    "array1",
    "string",
    "sum",
    "mbrot",
    "quicksort",
];

fn benchmarks_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("benchmarks")
}

/// Runs `benchmarks/<name>.brisk 1` in-process under `policy` and returns
/// what it printed.
fn run_once(name: &str, policy: Policy) -> String {
    let path = benchmarks_dir().join(format!("{name}.brisk"));
    let text = std::fs::read_to_string(&path).expect("the program exists");
    let source = Source::new(format!("{name}.brisk"), text);
    let output = Arc::new(Mutex::new(Vec::<u8>::new()));
    let options = RunOptions {
        args: vec!["1".to_owned()],
        output: output.clone(),
        limits: Limits::default(),
    };
    if let Err(diagnostic) = run_with_policy(policy, &source, options) {
        panic!("{name} failed under {}:\n{diagnostic}", policy.name());
    }
    let bytes = output.lock().unwrap().clone();
    String::from_utf8(bytes).expect("output is UTF-8")
}

/// The program prints its golden output under every policy, and the
/// live-object counter is back to zero after each run.
fn check(name: &str) {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let expected = std::fs::read_to_string(benchmarks_dir().join(format!("{name}.out")))
        .expect("the golden output exists");
    for policy in Policy::ALL {
        assert_eq!(
            brisk_runtime::live_objects(),
            0,
            "objects alive before {name} under {}",
            policy.name()
        );
        let printed = run_once(name, policy);
        assert_eq!(printed, expected, "{name} under {}", policy.name());
        assert_eq!(
            settled_live_objects(0),
            0,
            "{name} leaked objects under {}",
            policy.name()
        );
    }
}

#[test]
fn tak() {
    check("tak");
}

#[test]
fn fib() {
    check("fib");
}

#[test]
fn ack() {
    check("ack");
}

#[test]
fn cpstak() {
    check("cpstak");
}

#[test]
fn takl() {
    check("takl");
}

#[test]
fn nqueens() {
    check("nqueens");
}

#[test]
fn deriv() {
    check("deriv");
}

#[test]
fn primes() {
    check("primes");
}

#[test]
fn destruc() {
    check("destruc");
}

#[test]
fn array1() {
    check("array1");
}

#[test]
fn string() {
    check("string");
}

#[test]
fn sum() {
    check("sum");
}

#[test]
fn mbrot() {
    check("mbrot");
}

#[test]
fn quicksort() {
    check("quicksort");
}

/// Every program in the folder is one of [`PROGRAMS`] (so has a test
/// above), with a golden output and a Python twin.
#[test]
fn every_benchmark_is_checked() {
    let mut found: Vec<String> = std::fs::read_dir(benchmarks_dir())
        .unwrap()
        .filter_map(|entry| {
            let name = entry.ok()?.file_name().into_string().ok()?;
            name.strip_suffix(".brisk").map(str::to_owned)
        })
        .collect();
    found.sort();
    let mut expected: Vec<String> = PROGRAMS.iter().map(|s| s.to_string()).collect();
    expected.sort();
    assert_eq!(found, expected);
    for name in PROGRAMS {
        for ext in ["out", "py"] {
            let file = benchmarks_dir().join(format!("{name}.{ext}"));
            assert!(file.exists(), "{}", file.display());
        }
    }
}
