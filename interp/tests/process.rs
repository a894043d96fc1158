//! The language's dealings with its process, checked through the `brisk`
//! binary: standard input (`read-line`), files (`read-file`), arguments
//! (`argv`) and the exit status (`exit`), which an in-process run cannot
//! show.

use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Output, Stdio};

/// A file under the system's temporary directory, named for the test
/// that writes it, holding `text`.
fn temp_file(name: &str, text: &str) -> PathBuf {
    let path = std::env::temp_dir().join(format!("brisk-process-{}-{name}", std::process::id()));
    std::fs::write(&path, text).unwrap();
    path
}

/// Runs `program` (written to a file named for `name`) with `args`,
/// feeding it `input` on standard input.
fn run(name: &str, program: &str, args: &[&str], input: &str) -> Output {
    let file = temp_file(&format!("{name}.brisk"), program);
    let mut child = Command::new(env!("CARGO_BIN_EXE_brisk"))
        .arg("run")
        .arg(&file)
        .arg("--")
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.as_bytes())
        .unwrap();
    let output = child.wait_with_output().unwrap();
    std::fs::remove_file(file).unwrap();
    output
}

fn stdout(output: &Output) -> String {
    String::from_utf8(output.stdout.clone()).unwrap()
}

fn stderr(output: &Output) -> String {
    String::from_utf8(output.stderr.clone()).unwrap()
}

#[test]
fn read_line_reads_standard_input_to_its_end() {
    let output = run(
        "read-line",
        "(let loop ((line (read-line)) (n 0))
           (if (nil? line)
               (print \"lines:\" n)
               (begin (print (string-upcase line)) (loop (read-line) (+ n 1)))))",
        &[],
        "a\r\nbé\n\nlast",
    );
    assert_eq!(stdout(&output), "A\nBÉ\n\nLAST\nlines: 4\n");
    assert!(output.status.success());
}

#[test]
fn read_file_reads_a_whole_file() {
    let data = temp_file("data.txt", "héllo\nworld\n");
    let output = run(
        "read-file",
        "(define text (read-file (nth (argv) 0)))
         (print (string-length text) (string-split text \"\\n\"))",
        &[data.to_str().unwrap()],
        "",
    );
    std::fs::remove_file(&data).unwrap();
    assert_eq!(stdout(&output), "12 [\"héllo\", \"world\", \"\"]\n");

    let output = run("read-missing", "(read-file \"/no/such/file\")", &[], "");
    assert_eq!(output.status.code(), Some(1));
    assert!(
        stderr(&output).contains("read-file: cannot read \"/no/such/file\""),
        "{}",
        stderr(&output)
    );
}

#[test]
fn exit_ends_the_process_with_its_code_after_flushing_the_output() {
    let output = run(
        "exit-3",
        "(display \"out\") (exit 3) (print \"never\")",
        &[],
        "",
    );
    assert_eq!(
        (stdout(&output).as_str(), output.status.code()),
        ("out", Some(3))
    );
    for (program, code) in [("(exit)", 0), ("(exit #t)", 0), ("(exit #f)", 1)] {
        let output = run("exit-codes", program, &[], "");
        assert_eq!(output.status.code(), Some(code), "{program}");
    }
    let output = run("exit-256", "(exit 256)", &[], "");
    assert_eq!(output.status.code(), Some(1));
    assert!(
        stderr(&output).contains("exit: exit code 256 is out of range (0 to 255)"),
        "{}",
        stderr(&output)
    );
}
