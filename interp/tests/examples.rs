//! Golden-output tests: every example in `examples/` prints exactly its
//! `.out` file under every counting policy, and leaves no object behind
//! (`golden`).

use std::path::PathBuf;

mod common;
mod golden;

fn examples_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("examples")
}

/// The program prints its golden output under every policy and leaves no
/// object behind.
fn check(name: &str) {
    golden::check(&examples_dir(), name, &[]);
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
