//! Golden-output tests: every example in `examples/` prints exactly its
//! `.out` file under every counting policy, and leaves no object behind.
//!
//! The runtime's live-object counter is process-wide, so every test in
//! this file holds `SERIAL` while it runs.

use std::path::PathBuf;
use std::sync::{Arc, Mutex};

mod common;

use brisk_interp::{run_with_policy, Limits, Policy, RunOptions, Source};
use common::settled_live_objects;

/// Serialises the tests of this binary (the live-object counter is global).
static SERIAL: Mutex<()> = Mutex::new(());

fn examples_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("examples")
}

/// Runs `examples/<name>.brisk` in-process under `policy` and returns
/// what it printed.
fn run_example(name: &str, policy: Policy) -> String {
    let path = examples_dir().join(format!("{name}.brisk"));
    let text = std::fs::read_to_string(&path).expect("the example exists");
    let source = Source::new(format!("{name}.brisk"), text);
    let output = Arc::new(Mutex::new(Vec::<u8>::new()));
    let options = RunOptions {
        args: Vec::new(),
        output: output.clone(),
        limits: Limits::default(),
    };
    if let Err(diagnostic) = run_with_policy(policy, &source, options) {
        panic!("{name} failed under {}:\n{diagnostic}", policy.name());
    }
    let bytes = output.lock().unwrap().clone();
    String::from_utf8(bytes).expect("output is UTF-8")
}

/// The example prints its golden output under every policy, and the
/// live-object counter is back to zero after each run.
fn check(name: &str) {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let expected = std::fs::read_to_string(examples_dir().join(format!("{name}.out")))
        .expect("the golden output exists");
    for policy in Policy::ALL {
        assert_eq!(
            brisk_runtime::live_objects(),
            0,
            "objects alive before {name} under {}",
            policy.name()
        );
        let printed = run_example(name, policy);
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
fn fib() {
    check("fib");
}

#[test]
fn binary_trees() {
    check("binary-trees");
}

#[test]
fn nbody() {
    check("nbody");
}

#[test]
fn spectral_norm() {
    check("spectral-norm");
}

#[test]
fn richards() {
    check("richards");
}

#[test]
fn parallel_map() {
    check("parallel-map");
}

#[test]
fn pipeline() {
    check("pipeline");
}

#[test]
fn window() {
    check("window");
}

/// Every example in the folder has a test above and a golden file.
#[test]
fn every_example_is_checked() {
    let checked = [
        "fib",
        "binary-trees",
        "nbody",
        "spectral-norm",
        "richards",
        "parallel-map",
        "pipeline",
        "window",
    ];
    let mut found: Vec<String> = std::fs::read_dir(examples_dir())
        .unwrap()
        .filter_map(|entry| {
            let name = entry.ok()?.file_name().into_string().ok()?;
            name.strip_suffix(".brisk").map(str::to_owned)
        })
        .collect();
    found.sort();
    let mut expected: Vec<String> = checked.iter().map(|s| s.to_string()).collect();
    expected.sort();
    assert_eq!(found, expected);
    for name in checked {
        assert!(
            examples_dir().join(format!("{name}.out")).exists(),
            "{name}.out"
        );
    }
}
