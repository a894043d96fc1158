//! Error messages: every program in `tests/errors/` fails with exactly the
//! diagnostic in its `.err` file — `file:line:col: error: message`, the
//! source line and carets — and exit status 1, through the real binary.
//! No input may make the binary panic.
//!
//! The `.err` files are snapbox snapshots. After an intended change to
//! the diagnostics, `SNAPSHOTS=overwrite cargo test -p brisk-interp --test
//! errors` writes what the binary prints now into them (and creates the
//! `.err` of a new program); review the result with `git diff`.

mod common;

use std::path::PathBuf;
use std::process::Command;

use brisk_interp::{Session, Source};
use snapbox::assert::DEFAULT_ACTION_ENV;
use snapbox::{Assert, Data};

use common::programs_in;

fn errors_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests")
        .join("errors")
}

fn programs() -> Vec<String> {
    programs_in(&errors_dir())
}

#[test]
fn there_are_at_least_fifteen_malformed_programs() {
    assert!(programs().len() >= 15, "{} programs", programs().len());
}

#[test]
fn each_program_fails_with_its_diagnostic() {
    let assert = Assert::new().action_env(DEFAULT_ACTION_ENV);
    let mut mismatches = Vec::new();
    for name in programs() {
        let file = format!("{name}.brisk");
        let output = Command::new(env!("CARGO_BIN_EXE_brisk"))
            .current_dir(errors_dir())
            .args(["run", &file])
            .output()
            .expect("the binary runs");
        let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
        assert!(!stderr.contains("panicked"), "{name} panicked:\n{stderr}");
        assert_eq!(
            output.status.code(),
            Some(1),
            "{name}: exit status\n{stderr}"
        );
        let first_line = stderr.lines().next().unwrap_or_default();
        assert!(
            first_line.starts_with(&format!("{file}:")) && first_line.contains(": error: "),
            "{name}: the diagnostic must start with file:line:col: error:\n{stderr}"
        );
        // Raw: `...` in an excerpt is text, not a snapbox wildcard.
        let expected = Data::read_from(&errors_dir().join(format!("{name}.err")), None).raw();
        if let Err(mismatch) = assert.try_eq(Some(&name), stderr.into(), expected) {
            mismatches.push(mismatch.to_string());
        }
    }
    assert!(mismatches.is_empty(), "{}", mismatches.join("\n"));
}

/// A sample of the exact positions, spelled out so a reader can check them
/// against the programs without opening the `.err` files.
#[test]
fn positions_point_at_the_offending_expression() {
    let cases = [
        (
            "undefined-variable",
            "undefined-variable.brisk:2:16: error: undefined variable 'totl'",
        ),
        (
            "unclosed-paren",
            "unclosed-paren.brisk:3:1: error: unclosed '('",
        ),
        (
            "unexpected-close",
            "unexpected-close.brisk:1:10: error: unexpected ')'",
        ),
        (
            "add-string-and-int",
            "add-string-and-int.brisk:2:8: error: cannot add string and int",
        ),
        (
            "wrong-argument-count",
            "wrong-argument-count.brisk:2:8: error: function 'square' expects 1 argument, got 2",
        ),
        (
            "recursion-limit",
            "recursion-limit.brisk:2:8: error: recursion limit exceeded (1000000 frames)",
        ),
        (
            "invalid-number",
            "invalid-number.brisk:1:11: error: invalid number literal '12abc'",
        ),
        (
            "duplicate-parameter",
            "duplicate-parameter.brisk:1:14: error: duplicate parameter 'a'",
        ),
    ];
    for (name, headline) in cases {
        let expected = std::fs::read_to_string(errors_dir().join(format!("{name}.err"))).unwrap();
        assert_eq!(expected.lines().next(), Some(headline), "{name}");
    }
}

/// The excerpt of a very long line is a window around the error, with
/// `...` where the line goes on: an error in the middle of a 100 KB line
/// shows a line's worth of it, with the caret under the offending token.
#[test]
fn a_long_line_is_shown_around_the_error() {
    let filler = "1 ".repeat(25_000);
    let text = format!("(print {filler}12abc {filler})\n");
    let error = Session::new()
        .compile(&Source::new("long.brisk", text))
        .unwrap_err();
    let rendered = error.to_string();
    let lines: Vec<&str> = rendered.lines().collect();
    assert_eq!(
        lines[0],
        "long.brisk:1:50008: error: invalid number literal '12abc'"
    );
    assert!(
        lines.iter().all(|line| line.chars().count() <= 80),
        "{rendered}"
    );
    assert!(
        lines[2].starts_with("1 | ...") && lines[2].ends_with("..."),
        "{rendered}"
    );
    let at = lines[2].find("12abc").expect("the token is shown");
    assert_eq!(lines[3].find('^'), Some(at), "{rendered}");
    assert_eq!(lines[3].matches('^').count(), 5, "{rendered}");
}
