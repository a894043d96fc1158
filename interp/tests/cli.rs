//! The `brisk` binary: exit statuses, `--policy`, `--stats`, `--trace`,
//! `--version`, program arguments, programs on standard input, coloured
//! diagnostics on a terminal, and the REPL on piped input and on a
//! terminal.
//!
//! Expected outputs written in `str![...]` are snapbox snapshots:
//! `SNAPSHOTS=overwrite cargo test -p brisk-interp --test cli` rewrites
//! them in this file to what the binary prints now.

mod command;

use std::io::{BufRead, BufReader, Read, Write};
use std::os::fd::{FromRawFd, OwnedFd};
use std::path::PathBuf;
use std::process::{Child, Command, Output, Stdio};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use command::brisk;
use snapbox::str;

/// `brisk` with `args`, to be run by snapbox, in the examples' directory.
fn snap(args: &[&str]) -> snapbox::cmd::Command {
    snapbox::cmd::Command::new(env!("CARGO_BIN_EXE_brisk"))
        .current_dir(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("examples"))
        .args(args)
}

fn repl(input: impl AsRef<[u8]>, extra: &[&str]) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_brisk"))
        .arg("repl")
        .args(extra)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the binary runs");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.as_ref())
        .unwrap();
    child.wait_with_output().unwrap()
}

/// How long a program run by [`run_program`] may take before the test
/// fails. A guard, not a mechanism: every program here finishes (or fails)
/// in well under a second, and this bound only turns a hang into a failure
/// instead of a stuck CI job.
const HANG_GUARD: Duration = Duration::from_secs(30);

/// Runs `source` as the program `name` (in a fresh directory) with `brisk
/// run`; panics if it has not finished within [`HANG_GUARD`].
fn run_program(name: &str, source: &str) -> Output {
    let dir = std::env::temp_dir().join(format!("brisk-cli-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join(name), source).unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_brisk"))
        .current_dir(&dir)
        .args(["run", name])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the binary runs");
    let started = Instant::now();
    while child.try_wait().unwrap().is_none() {
        if started.elapsed() > HANG_GUARD {
            child.kill().unwrap();
            let output = child.wait_with_output().unwrap();
            std::fs::remove_dir_all(&dir).unwrap();
            panic!(
                "{name} hung (killed after {HANG_GUARD:?}); stderr:\n{}",
                text(&output.stderr)
            );
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    let output = child.wait_with_output().unwrap();
    std::fs::remove_dir_all(&dir).unwrap();
    output
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
fn runs_an_example_under_each_policy_with_arguments() {
    for policy in ["biased", "deferred", "atomic", "gil"] {
        let output = brisk(&["run", "fib.brisk", "--policy", policy, "15"]);
        assert!(
            output.status.success(),
            "{policy}: {}",
            text(&output.stderr)
        );
        assert_eq!(text(&output.stdout), "fib(15) = 610\n");
    }
}

#[test]
fn a_bad_policy_or_missing_file_is_a_usage_error() {
    let output = brisk(&["run", "fib.brisk", "--policy", "refcount"]);
    assert_eq!(output.status.code(), Some(2));
    let output = brisk(&["run", "no-such-file.brisk"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(text(&output.stderr).starts_with("no-such-file.brisk: error: cannot read the file"));
}

#[test]
fn stats_are_printed_or_explained() {
    let output = brisk(&["run", "fib.brisk", "--stats", "10"]);
    assert!(output.status.success());
    assert_eq!(text(&output.stdout), "fib(10) = 55\n");
    let stderr = text(&output.stderr);
    if brisk_refcount::stats::ENABLED {
        assert!(stderr.contains("owner-path operations"), "{stderr}");
        assert!(stderr.contains("shared-path operations"), "{stderr}");
        assert!(stderr.contains("queued objects"), "{stderr}");
        assert!(stderr.contains("merged objects"), "{stderr}");
        assert!(stderr.contains("coalesced operations"), "{stderr}");
    } else {
        assert!(stderr.contains("without the `stats` feature"), "{stderr}");
        assert!(stderr.contains("--features stats"), "{stderr}");
    }
}

#[test]
fn trace_writes_runtime_events_to_stderr() {
    let output = brisk(&["run", "pipeline.brisk", "--trace", "2", "3"]);
    assert!(output.status.success(), "{}", text(&output.stderr));
    let stderr = text(&output.stderr);
    assert!(stderr.contains("interpreter start"), "{stderr}");
    assert!(stderr.contains("spawn-interpreter"), "{stderr}");
    assert!(!text(&output.stdout).is_empty());
}

#[test]
fn errors_exit_with_status_one_and_no_backtrace() {
    let dir = std::env::temp_dir().join(format!("brisk-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("bad.brisk");
    std::fs::write(&file, "(define (f x)\n  (* x undefined))\n(print (f 2))\n").unwrap();
    let output = Command::new(env!("CARGO_BIN_EXE_brisk"))
        .current_dir(&dir)
        .args(["run", "bad.brisk"])
        .env("RUST_BACKTRACE", "1")
        .output()
        .unwrap();
    std::fs::remove_dir_all(&dir).unwrap();
    assert_eq!(output.status.code(), Some(1));
    snapbox::assert_data_eq!(
        text(&output.stderr),
        str![[r#"
bad.brisk:2:8: error: undefined variable 'undefined'
  |
2 |   (* x undefined))
  |        ^^^^^^^^^
  in f at bad.brisk:2:8
  in <main> at bad.brisk:3:8

"#]]
    );
}

#[test]
fn the_repl_evaluates_piped_lines() {
    let output = repl(
        "(define (sq x)\n  (* x x))\n(sq 12)\n\"text\"\n(print 'hi)\n(define h (spawn-interpreter (lambda () (sq 3))))\n(join h)\n",
        &["--policy", "gil"],
    );
    assert!(output.status.success(), "{}", text(&output.stderr));
    snapbox::assert_data_eq!(
        text(&output.stdout),
        str![[r#"
144
"text"
hi
9

"#]]
    );
    assert_eq!(text(&output.stderr), "");
}

#[test]
fn repl_errors_keep_going_and_fail_the_exit_status() {
    let output = repl("(define x 1)\n(+ x \"a\")\n(+ x 1)\n(oops\n", &[]);
    assert_eq!(output.status.code(), Some(1));
    assert_eq!(text(&output.stdout), "2\n");
    snapbox::assert_data_eq!(
        text(&output.stderr),
        str![[r#"
<repl>:2:1: error: cannot add int and string
  |
2 | (+ x "a")
  | ^^^^^^^^^
<repl>:4:1: error: unclosed '('
  |
4 | (oops
  | ^

"#]]
    );
}

/// A line that is not valid UTF-8 is reported (at its first bad byte) and
/// skipped, with the entry it was part of; the REPL goes on with the next
/// line, and the exit status says an entry failed.
#[test]
fn the_repl_reports_a_line_that_is_not_utf8_and_goes_on() {
    let output = repl(
        b"(print 1)\n(print \"\xff\")\n(print\n\xfe)\n(print 2)\n",
        &[],
    );
    assert_eq!(output.status.code(), Some(1));
    assert_eq!(text(&output.stdout), "1\n2\n");
    snapbox::assert_data_eq!(
        text(&output.stderr),
        str![[r#"
<repl>:2:9: error: the line is not valid UTF-8 (it was skipped)
<repl>:4:1: error: the line is not valid UTF-8 (it was skipped)

"#]]
    );
}

/// An interpreter that is handed its own handle (moved to it over a
/// channel) and joins it fails with an error, and the program exits 1.
/// Whether the child's `join` or the parent's end-of-program join takes the
/// thread first, the child must fail, and its failure is the program's.
#[test]
fn an_interpreter_that_joins_itself_fails() {
    let output = run_program(
        "join-itself.brisk",
        "(define ch (channel))\n\
         (define h (spawn-interpreter (lambda () (join (recv ch)))))\n\
         (send ch h 'move)\n",
    );
    let stderr = text(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.starts_with(
            "join-itself.brisk:2:41: error: join: interpreter 2 cannot join itself (it would wait for itself forever)\n"
        ),
        "{stderr}"
    );
    assert!(!stderr.contains("panicked"), "{stderr}");
}

/// Strings are bounded like every other size a program asks for: doubling
/// a string stops with an error at the documented limit (2^24 bytes, which
/// 24 doublings of a one-byte string reach exactly) instead of growing
/// until the process is killed. The loop is bounded so that, without the
/// limit, the program ends (with a 64 MiB string) rather than exhausting
/// memory.
#[test]
fn a_string_past_the_size_limit_is_an_error() {
    let output = run_program(
        "string-limit.brisk",
        "(define s \"x\")\n\
         (for (i 0 26)\n\
         \x20 (set! s (string-append s s))\n\
         \x20 (print (string-length s)))\n",
    );
    let stderr = text(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    let lengths: Vec<String> = (1..=24).map(|k| (1u64 << k).to_string()).collect();
    assert_eq!(text(&output.stdout).lines().collect::<Vec<_>>(), lengths);
    assert!(
        stderr.starts_with(
            "string-limit.brisk:3:11: error: string-append: the string would be 33554432 bytes long (at most 16777216)\n"
        ),
        "{stderr}"
    );
}

/// A worker that fails before it sends does not leave the main interpreter
/// waiting forever in `recv`: the `recv` fails and names the worker's
/// failure.
#[test]
fn recv_fails_when_the_sender_has_failed() {
    let output = run_program(
        "recv-failed-sender.brisk",
        "(define ch (channel))\n\
         (define (work) (error \"worker gave up before sending\"))\n\
         (spawn-interpreter (lambda () (work) (send ch 1 'copy)))\n\
         (print (recv ch))\n",
    );
    let stderr = text(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.starts_with(
            "recv-failed-sender.brisk:4:8: error: recv: interpreter 2 failed: worker gave up before sending\n"
        ),
        "{stderr}"
    );
    assert!(
        stderr.contains(
            "caused by:\n  recv-failed-sender.brisk:2:16: error: worker gave up before sending\n"
        ),
        "{stderr}"
    );
}

/// `recv` on an empty channel that no other interpreter can send to any
/// more (the only other one has finished without sending) fails instead of
/// waiting forever. The worker is joined first, so it has finished when
/// `recv` runs.
#[test]
fn recv_fails_when_no_other_interpreter_is_left() {
    let output = run_program(
        "recv-no-sender.brisk",
        "(define ch (channel))\n\
         (join (spawn-interpreter (lambda () (+ 1 2))))\n\
         (recv ch)\n",
    );
    let stderr = text(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.starts_with(
            "recv-no-sender.brisk:3:1: error: recv: the channel is empty and no other interpreter is running to send to it\n"
        ),
        "{stderr}"
    );
}

/// Immutable values are shareable wherever else they are referenced, so
/// whether `move` works does not depend on the size of an integer, or on a
/// float, a computed string or a tuple of such values being held elsewhere
/// too (here by the loop variable and by globals). The receiver is another
/// interpreter, which reads everything after the last send.
#[test]
fn move_shares_immutable_values_referenced_elsewhere() {
    let output = run_program(
        "move-immutable.brisk",
        "(define ch (channel))\n\
         (define h (spawn-interpreter (lambda ()\n\
         \x20 (define total 0)\n\
         \x20 (for (j 0 10) (set! total (+ total (first (recv ch)))))\n\
         \x20 (print total (recv ch) (recv ch) (recv ch))\n\
         \x20 total)))\n\
         (for (i 250 260) (send ch (list i) 'move))\n\
         (define x 2.5)\n\
         (define s (string-append \"com\" \"puted\"))\n\
         (define t (tuple 1000 s x))\n\
         (send ch (list x) 'move)\n\
         (send ch (list s) 'move)\n\
         (send ch (list t) 'move)\n\
         (print (join h) x s t)\n",
    );
    let stderr = text(&output.stderr);
    assert_eq!(output.status.code(), Some(0), "{stderr}");
    assert_eq!(
        text(&output.stdout),
        "2545 [2.5] [\"computed\"] [(1000, \"computed\", 2.5)]\n\
         2545 2.5 computed (1000, \"computed\", 2.5)\n"
    );
}

/// A tuple is shareable only if everything in it is: a tuple held
/// elsewhere that holds a mutable list still makes the graph not isolated.
#[test]
fn move_refuses_a_tuple_held_elsewhere_that_holds_a_mutable_value() {
    let output = run_program(
        "move-tuple-of-list.brisk",
        "(define ch (channel))\n\
         (define t (tuple 1000 (list 1)))\n\
         (send ch (list t) 'move)\n",
    );
    let stderr = text(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.starts_with(
            "move-tuple-of-list.brisk:3:1: error: send: cannot move a graph that is referenced from outside: 1 external reference(s)\n"
        ),
        "{stderr}"
    );
}

/// A fresh directory holding `source` as the program `name`.
fn program_dir(name: &str, source: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("brisk-cli-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join(name), source).unwrap();
    dir
}

/// Sends each line `reader` yields (without its line ending) over a
/// channel, from a thread of its own, until the reader ends or fails.
fn lines_of(reader: impl Read + Send + 'static) -> mpsc::Receiver<String> {
    let (send, lines) = mpsc::channel();
    thread::spawn(move || {
        for line in BufReader::new(reader).lines() {
            let Ok(line) = line else { break };
            if send.send(line.trim_end_matches('\r').to_owned()).is_err() {
                break;
            }
        }
    });
    lines
}

/// Waits for the lines in `expected`, in order, from `lines`; kills the
/// child and fails if they have not all arrived within [`HANG_GUARD`].
fn await_lines(lines: &mpsc::Receiver<String>, expected: &[&str], child: &mut Child) {
    let deadline = Instant::now() + HANG_GUARD;
    let mut seen = Vec::new();
    while seen.len() < expected.len() {
        let left = deadline.saturating_duration_since(Instant::now());
        match lines.recv_timeout(left) {
            Ok(line) => seen.push(line),
            Err(_) => {
                child.kill().unwrap();
                panic!("only {seen:?} of {expected:?} arrived while the program ran");
            }
        }
    }
    assert_eq!(seen, expected);
}

/// Sends `signal` to the child, then waits for it to end (within
/// [`HANG_GUARD`]) and returns its exit status and what it wrote to
/// standard error (if that is still the child's to read).
fn signal_and_wait(mut child: Child, signal: libc::c_int) -> (Option<i32>, String) {
    let pid = child.id() as libc::pid_t;
    // SAFETY: `kill` has no memory-safety preconditions; `pid` is our
    // child, which has not been waited for, so the id is still its own.
    assert_eq!(unsafe { libc::kill(pid, signal) }, 0);
    let stderr = child.stderr.take();
    let (send, ended) = mpsc::channel();
    thread::spawn(move || {
        let mut text = String::new();
        if let Some(mut stderr) = stderr {
            let _ = stderr.read_to_string(&mut text);
        }
        let _ = send.send((child.wait().unwrap().code(), text));
    });
    ended.recv_timeout(HANG_GUARD).unwrap_or_else(|_| {
        // SAFETY: as above; the child has not been reaped.
        unsafe { libc::kill(pid, libc::SIGKILL) };
        panic!("the program did not end after signal {signal}");
    })
}

/// A pseudo-terminal of 24 lines of 80 columns: its (controller,
/// terminal) ends.
fn pseudo_terminal() -> (OwnedFd, OwnedFd) {
    let (mut controller, mut terminal) = (-1, -1);
    let size = libc::winsize {
        ws_row: 24,
        ws_col: 80,
        ws_xpixel: 0,
        ws_ypixel: 0,
    };
    // SAFETY: both out-pointers point at live integers and `size` at a
    // live window size; the name and settings may be null.
    let made = unsafe {
        libc::openpty(
            &mut controller,
            &mut terminal,
            core::ptr::null_mut(),
            core::ptr::null(),
            &size,
        )
    };
    assert_eq!(made, 0, "openpty: {}", std::io::Error::last_os_error());
    // SAFETY: `openpty` succeeded, so both are open descriptors that
    // nothing else owns.
    unsafe {
        (
            OwnedFd::from_raw_fd(controller),
            OwnedFd::from_raw_fd(terminal),
        )
    }
}

/// A program that prints and then loops forever.
const PRINT_THEN_LOOP: &str = "(print \"started\")\n\
     (for (i 0 3) (print i))\n\
     (define (spin) (spin))\n\
     (spin)\n";

/// On a terminal, what a program prints shows as it prints it, and Ctrl-C
/// (SIGINT) ends the program with a message and exit status 130. Standard
/// output is a pseudo-terminal here; the signal is sent once the lines
/// printed before the loop have been read from it.
#[test]
fn ctrl_c_ends_a_program_whose_output_showed_line_by_line() {
    let dir = program_dir("ctrl-c.brisk", PRINT_THEN_LOOP);
    let (controller, terminal) = pseudo_terminal();
    let mut child = Command::new(env!("CARGO_BIN_EXE_brisk"))
        .current_dir(&dir)
        .args(["run", "ctrl-c.brisk"])
        .stdout(Stdio::from(terminal))
        .stderr(Stdio::piped())
        .spawn()
        .expect("the binary runs");
    let lines = lines_of(std::fs::File::from(controller));
    await_lines(&lines, &["started", "0", "1", "2"], &mut child);
    let (code, stderr) = signal_and_wait(child, libc::SIGINT);
    std::fs::remove_dir_all(&dir).unwrap();
    assert_eq!(code, Some(130), "{stderr}");
    assert_eq!(stderr, "ctrl-c.brisk: error: interrupted\n");
}

/// Piped, output is buffered, and SIGTERM still ends the program with
/// everything it printed: the buffer is flushed, the program reports the
/// signal and exits with 143 (128 + 15). `--trace` gives the point to send
/// it at: the event of the `spawn-interpreter` that follows the prints.
#[test]
fn sigterm_flushes_buffered_output() {
    let source = PRINT_THEN_LOOP.replace(
        "(define (spin)",
        "(spawn-interpreter (lambda () 1))\n(define (spin)",
    );
    let dir = program_dir("sigterm.brisk", &source);
    let mut child = Command::new(env!("CARGO_BIN_EXE_brisk"))
        .current_dir(&dir)
        .args(["run", "sigterm.brisk", "--trace"])
        .env("RUST_LOG", "brisk=debug")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the binary runs");
    let stdout = lines_of(child.stdout.take().unwrap());
    let trace = lines_of(child.stderr.take().unwrap());
    let deadline = Instant::now() + HANG_GUARD;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match trace.recv_timeout(left) {
            Ok(line) if line.contains("spawn-interpreter") => break,
            Ok(_) => {}
            Err(_) => {
                child.kill().unwrap();
                panic!("no spawn-interpreter event arrived");
            }
        }
    }
    let (code, _) = signal_and_wait(child, libc::SIGTERM);
    std::fs::remove_dir_all(&dir).unwrap();
    assert_eq!(code, Some(143));
    let printed: Vec<String> = stdout.iter().collect();
    assert_eq!(printed, ["started", "0", "1", "2"]);
    let rest: Vec<String> = trace.iter().collect();
    assert!(
        rest.iter()
            .any(|line| line == "sigterm.brisk: error: terminated"),
        "{rest:?}"
    );
}

/// `--max-depth N` bounds the call depth: a recursion 1,000 calls deep
/// fails under `--max-depth 100` with a diagnostic and exit status 1, and
/// runs without it.
#[test]
fn max_depth_bounds_recursion() {
    let dir = program_dir(
        "deep.brisk",
        "(define (depth n) (if (= n 0) 0 (+ 1 (depth (- n 1)))))\n(print (depth 1000))\n",
    );
    let run = |extra: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_brisk"))
            .current_dir(&dir)
            .args(["run", "deep.brisk"])
            .args(extra)
            .output()
            .expect("the binary runs")
    };
    let bounded = run(&["--max-depth", "100"]);
    let unbounded = run(&[]);
    std::fs::remove_dir_all(&dir).unwrap();
    let stderr = text(&bounded.stderr);
    assert_eq!(bounded.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.starts_with("deep.brisk:1:38: error: recursion limit exceeded (100 frames)\n"),
        "{stderr}"
    );
    assert!(unbounded.status.success(), "{}", text(&unbounded.stderr));
    assert_eq!(text(&unbounded.stdout), "1000\n");
}

/// `brisk run -` runs the program piped to its standard input, and reports
/// its errors under the name `<stdin>`.
#[test]
fn run_reads_the_program_from_stdin_for_a_dash() {
    snap(&["run", "-", "--policy", "gil", "7"])
        .stdin("(print (* 6 (int (first (argv)))))\n")
        .assert()
        .success()
        .stdout_eq(str![[r#"
42

"#]]);
    snap(&["run", "-"])
        .stdin("(print \"a\")\n(print (+ 1 \"a\"))\n")
        .assert()
        .code(1)
        .stdout_eq(str![[r#"
a

"#]])
        .stderr_eq(str![[r#"
<stdin>:2:8: error: cannot add int and string
  |
2 | (print (+ 1 "a"))
  |        ^^^^^^^^^

"#]]);
}

/// `--version` works on the command and on each subcommand (even where
/// the subcommand's arguments are missing), prints the crate's version and
/// exits 0.
#[test]
fn every_subcommand_prints_the_version() {
    let version = env!("CARGO_PKG_VERSION");
    for (args, name) in [
        (&["--version"][..], "brisk"),
        (&["run", "--version"][..], "brisk-run"),
        (&["repl", "--version"][..], "brisk-repl"),
    ] {
        snap(args)
            .assert()
            .success()
            .stdout_eq(format!("{name} {version}\n"));
    }
}

/// Usage errors exit with status 2, on the command and on a subcommand.
#[test]
fn usage_errors_exit_with_status_two() {
    snap(&["fly"]).assert().code(2);
    snap(&["repl", "--no-such-option"]).assert().code(2);
    snap(&["run"]).assert().code(2);
}

/// Runs `brisk run bad.brisk` (a program that fails) with standard error on
/// a pseudo-terminal and `env` set; returns what it wrote there.
fn diagnostic_on_a_terminal(env: &[(&str, &str)]) -> String {
    let dir = program_dir("bad.brisk", "(print (+ 1 \"a\"))\n");
    let (controller, terminal) = pseudo_terminal();
    let mut child = Command::new(env!("CARGO_BIN_EXE_brisk"))
        .current_dir(&dir)
        .args(["run", "bad.brisk"])
        .env_remove("NO_COLOR")
        .envs(env.iter().copied())
        .stderr(Stdio::from(terminal))
        .spawn()
        .expect("the binary runs");
    let lines = lines_of(std::fs::File::from(controller));
    let status = child.wait().unwrap();
    std::fs::remove_dir_all(&dir).unwrap();
    assert_eq!(status.code(), Some(1));
    let mut seen = String::new();
    while let Ok(line) = lines.recv_timeout(HANG_GUARD) {
        seen.push_str(&line);
        seen.push('\n');
        if line.contains('^') {
            break;
        }
    }
    seen
}

/// On a terminal a diagnostic is coloured, unless `NO_COLOR` is set to
/// something; an empty `NO_COLOR` counts as unset (no-color.org). Piped,
/// it is plain (every other test here reads it through a pipe).
#[test]
fn diagnostics_are_coloured_on_a_terminal_unless_no_color_is_set() {
    let coloured = diagnostic_on_a_terminal(&[]);
    assert!(coloured.contains("\x1b["), "{coloured:?}");
    assert!(coloured.contains("bad.brisk:1:8:"), "{coloured:?}");
    let empty = diagnostic_on_a_terminal(&[("NO_COLOR", "")]);
    assert!(empty.contains("\x1b["), "{empty:?}");
    let plain = diagnostic_on_a_terminal(&[("NO_COLOR", "1")]);
    assert!(!plain.contains('\x1b'), "{plain:?}");
    assert!(
        plain.starts_with("bad.brisk:1:8: error: cannot add int and string\n"),
        "{plain:?}"
    );
}

/// A `brisk repl` whose standard streams are a pseudo-terminal, with the
/// screen as it has been written so far. The line editor asks the terminal
/// where its cursor is; the reading thread answers as a terminal would
/// (column 1).
struct TerminalRepl {
    child: Child,
    input: std::fs::File,
    screen: Arc<Mutex<Vec<u8>>>,
    /// How much of the screen [`TerminalRepl::expect`] has passed over.
    seen: usize,
}

impl TerminalRepl {
    fn start(home: &std::path::Path) -> Self {
        let (controller, terminal) = pseudo_terminal();
        let child = Command::new(env!("CARGO_BIN_EXE_brisk"))
            .arg("repl")
            .env("HOME", home)
            .env("TERM", "xterm")
            .stdin(Stdio::from(terminal.try_clone().unwrap()))
            .stdout(Stdio::from(terminal.try_clone().unwrap()))
            .stderr(Stdio::from(terminal))
            .spawn()
            .expect("the binary runs");
        let input = std::fs::File::from(controller);
        let mut answers = input.try_clone().unwrap();
        let mut output = input.try_clone().unwrap();
        let screen = Arc::new(Mutex::new(Vec::new()));
        let written = Arc::clone(&screen);
        thread::spawn(move || {
            let mut buffer = [0; 4096];
            while let Ok(n @ 1..) = output.read(&mut buffer) {
                let mut screen = written.lock().unwrap();
                screen.extend_from_slice(&buffer[..n]);
                if buffer[..n].windows(4).any(|w| w == b"\x1b[6n") {
                    let _ = answers.write_all(b"\x1b[1;1R");
                }
            }
        });
        TerminalRepl {
            child,
            input,
            screen,
            seen: 0,
        }
    }

    /// Waits (within [`HANG_GUARD`]) for `text` to appear on the screen
    /// after what earlier calls have passed over, and passes over it.
    fn expect(&mut self, text: &str) {
        let deadline = Instant::now() + HANG_GUARD;
        loop {
            {
                let screen = self.screen.lock().unwrap();
                let rest = String::from_utf8_lossy(&screen[self.seen..]).into_owned();
                if let Some(at) = rest.find(text) {
                    self.seen += at + text.len();
                    return;
                }
                if Instant::now() > deadline {
                    drop(screen);
                    self.child.kill().unwrap();
                    panic!("{text:?} did not appear; the screen after what was seen: {rest:?}");
                }
            }
            thread::sleep(Duration::from_millis(10));
        }
    }

    /// Types `keys` once the prompt is on the screen.
    fn type_at_prompt(&mut self, keys: &str) {
        self.expect("> ");
        self.input.write_all(keys.as_bytes()).unwrap();
    }
}

/// On a terminal the REPL reads with a line editor: Enter inside an open
/// list goes on with the same entry (whose lines count in the line numbers
/// of later errors), Ctrl-C drops what is being typed and prompts again,
/// errors are coloured, Ctrl-D ends the REPL with status 0 (even after an
/// entry failed), and the entries are kept in `~/.brisk_history` for the
/// next session.
#[test]
fn the_repl_on_a_terminal_edits_entries_and_keeps_history() {
    let home = std::env::temp_dir().join(format!("brisk-cli-{}-home", std::process::id()));
    std::fs::create_dir_all(&home).unwrap();
    let mut repl = TerminalRepl::start(&home);
    repl.type_at_prompt("(+ 1\r");
    repl.input.write_all(b"2)\r").unwrap();
    repl.expect("3\r\n");
    repl.type_at_prompt("(print 99");
    repl.expect("(print 99");
    repl.input.write_all(b"\x03").unwrap();
    repl.type_at_prompt("(+ 1 \"a\")\r");
    repl.expect("<repl>:3:1:");
    repl.expect("cannot add int and string");
    repl.type_at_prompt("(* 7 6)\r");
    repl.expect("42\r\n");
    repl.type_at_prompt("\x04");
    let status = repl.child.wait().unwrap();
    let history = std::fs::read_to_string(home.join(".brisk_history")).unwrap_or_default();
    std::fs::remove_dir_all(&home).unwrap();
    assert_eq!(status.code(), Some(0));
    let screen = String::from_utf8_lossy(&repl.screen.lock().unwrap()).into_owned();
    assert!(!screen.contains("99\r\n"), "{screen:?}");
    assert!(history.contains("(* 7 6)"), "{history:?}");
    assert!(history.contains("(+ 1"), "{history:?}");
    assert!(!history.contains("(print 99"), "{history:?}");
}
