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
    golden::check_folder(&examples_dir(), &checked, &["out"]);
}
