//! Programs with many forms compile and run in time linear in their size:
//! many literals in one function, many internal defines in one body, many
//! REPL entries, one REPL entry of many lines. Nothing here is timed; quadratic work would make these
//! tests take minutes instead of about a second.

use std::fmt::Write as _;
use std::sync::{Arc, Mutex};

use brisk_interp::{repl, Policy, Session, Source};

/// 200,000 distinct integer literals in the top-level function: one
/// constant each.
#[test]
fn many_literals_compile() {
    let mut text = String::from("(define xs (list");
    for i in 0..200_000 {
        write!(text, " {i}").unwrap();
    }
    text.push_str("))\n");
    let main = Session::new()
        .compile(&Source::new("literals.brisk", text))
        .unwrap();
    assert_eq!(main.constants.len(), 200_000);
}

/// 100,000 internal defines in one body, each using the one before.
#[test]
fn many_internal_defines_compile() {
    let mut text = String::from("(define (f)\n  (define v0 0)\n");
    for i in 1..100_000 {
        writeln!(text, "  (define v{i} (+ v{} 1))", i - 1).unwrap();
    }
    text.push_str("  v99999)\n");
    let main = Session::new()
        .compile(&Source::new("defines.brisk", text))
        .unwrap();
    assert_eq!(main.children[0].frame_size, 100_000);
}

/// Feeds `input` to the REPL, expects no failure, and returns what it
/// printed.
fn repl_output(input: &str) -> String {
    let output = Arc::new(Mutex::new(Vec::<u8>::new()));
    let mut errors = Vec::new();
    let failures = repl::repl_with_policy(
        Policy::Biased,
        &mut input.as_bytes(),
        output.clone(),
        &mut errors,
        false,
    );
    assert_eq!(failures, 0, "{}", String::from_utf8_lossy(&errors));
    let printed = output.lock().unwrap().clone();
    String::from_utf8(printed).unwrap()
}

/// 50,000 REPL entries, one a line; each is compiled and run on its own.
#[test]
fn many_repl_entries_run() {
    let input: String = (0..50_000).map(|i| format!("(+ {i} 1)\n")).collect();
    let printed = repl_output(&input);
    assert_eq!(printed.lines().count(), 50_000);
    assert_eq!(printed.lines().last(), Some("50000"));
}

/// One REPL entry 50,000 lines long: the loop waits for the line that
/// closes it without parsing the whole entry again at every line.
#[test]
fn a_long_repl_entry_runs() {
    let mut input = String::from("(length (list\n");
    for i in 0..50_000 {
        writeln!(input, "  {i} ; item {i} (\"of\" the list)").unwrap();
    }
    input.push_str("  \"a string\n over ( two lines\"))\n(+ 1 2)\n");
    let printed = repl_output(&input);
    assert_eq!(printed, "50001\n3\n");
}
