//! Golden-output tests of `benchmarks/`: the r7rs-benchmarks programs
//! translated into the language.
//!
//! Each `benchmarks/<name>.brisk` takes a repetition count as its first
//! argument; run once (`1`), it must print exactly `benchmarks/<name>.out`
//! under every counting policy, and leave no object behind. The golden
//! files were checked against the Python twins (`<name>.py`), which print
//! the same text for the same count, so these tests need no Python.

use std::path::PathBuf;

mod common;
mod golden;

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

/// The program prints its golden output under every policy and leaves no
/// object behind.
fn check(name: &str) {
    golden::check(&benchmarks_dir(), name, &["1"]);
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
    golden::check_folder(&benchmarks_dir(), &PROGRAMS, &["out", "py"]);
}
