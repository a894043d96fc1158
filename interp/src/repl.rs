//! The read-eval-print loop of `brisk repl`.
//!
//! Input is read a line at a time; a line that leaves a list or a string
//! open is continued on the next ones. Each complete entry is compiled in
//! one session and run on one VM, so definitions persist, and the value of
//! an entry is printed unless it is `nil`. Errors are reported (with line
//! numbers counted over the whole input) and the loop goes on. A line that
//! is not valid UTF-8 is reported and skipped, with the entry it was part
//! of.
//!
//! The loop works the same on a terminal and on piped input; the prompt is
//! shown only when asked for (the CLI asks when standard input is a
//! terminal).

use std::io::{BufRead, Write};
use std::sync::Arc;

use brisk_runtime::{Atomic, Biased, Deferred, Gil, Runtime, RuntimePolicy};

use crate::compiler::Session;
use crate::error::{Diagnostic, Source};
use crate::host::{Host, Limits, Output};
use crate::parser::parse;
use crate::value::repr;
use crate::vm::Vm;
use crate::Policy;

/// The name errors in REPL input are reported under.
pub const REPL_SOURCE: &str = "<repl>";

/// Runs the loop over `input` under policy `P` until the input ends.
/// Values and prompts go to `output`, diagnostics to `errors`. Returns how
/// many entries failed.
pub fn repl<P: RuntimePolicy>(
    input: &mut dyn BufRead,
    output: Output,
    errors: &mut dyn Write,
    prompt: bool,
) -> usize {
    let mut session = Session::new();
    let runtime = Arc::new(Runtime::<P>::new());
    let interpreter = runtime.new_interpreter("main");
    let mut failures = 0;
    {
        let m = interpreter.attach();
        let host = Host::new(
            Arc::clone(&runtime),
            Arc::clone(session.symbols()),
            Arc::clone(&output),
            Vec::new(),
            Limits::default(),
        );
        let mut vm = Vm::new(&m, host);
        if let Err(error) = vm.run_main(session.prelude()) {
            let _ = write!(errors, "{error}");
            return 1;
        }
        let show = |text: &str| {
            let mut out = output.lock().unwrap_or_else(|e| e.into_inner());
            let _ = out.write_all(text.as_bytes());
            let _ = out.flush();
        };
        let mut entry = String::new();
        let mut open = Openness::default();
        let mut entry_line = 1;
        let mut lines_read = 0;
        loop {
            if prompt {
                show(if entry.is_empty() { "> " } else { "... " });
            }
            let mut line = Vec::new();
            let at_end = !matches!(input.read_until(b'\n', &mut line), Ok(n) if n > 0);
            if !at_end {
                lines_read += 1;
                match String::from_utf8(line) {
                    Ok(line) => {
                        if entry.is_empty() {
                            entry_line = lines_read;
                        }
                        open.scan(&line);
                        entry.push_str(&line);
                    }
                    Err(error) => {
                        failures += 1;
                        let _ = write!(errors, "{}", not_utf8(lines_read, &error));
                        entry.clear();
                        open = Openness::default();
                        continue;
                    }
                }
            }
            if entry.trim().is_empty() {
                entry.clear();
                if at_end {
                    break;
                }
                continue;
            }
            if open.is_open() && !at_end {
                continue;
            }
            // Line numbers are counted over the whole input.
            let source = Source::at_line(REPL_SOURCE, entry.clone(), entry_line);
            if let Err(error) = parse(&source) {
                let incomplete = error.message.starts_with("unclosed")
                    || error.message.starts_with("unterminated string");
                if incomplete && !at_end {
                    continue;
                }
            }
            entry.clear();
            open = Openness::default();
            let outcome = session.compile(&source).and_then(|main| vm.run_main(&main));
            match outcome {
                Ok(value) if value.kind() != brisk_runtime::Kind::None => {
                    show(&format!("{}\n", repr(&value)));
                }
                Ok(_) => {}
                Err(error) => {
                    failures += 1;
                    let _ = write!(errors, "{error}");
                }
            }
            if at_end {
                break;
            }
        }
        if let Err(error) = vm.join_children() {
            failures += 1;
            let _ = write!(errors, "{error}");
        }
    }
    drop(interpreter);
    drop(runtime);
    failures
}

/// What an entry leaves open so far: lists, and a string. Updated a line
/// at a time, so that an entry is parsed once its lists and strings are
/// closed, not again at every line it spans. It follows the lexer's rules
/// for what opens and closes (brackets; strings, with backslash escapes;
/// `;` comments outside strings) only to tell when the entry may be
/// complete: the parser decides.
#[derive(Default)]
struct Openness {
    /// Lists opened minus lists closed.
    depth: i64,
    /// Whether the text so far ends inside a string.
    in_string: bool,
}

impl Openness {
    /// Takes in the next line of the entry.
    fn scan(&mut self, line: &str) {
        let mut chars = line.chars();
        while let Some(c) = chars.next() {
            match (self.in_string, c) {
                (true, '\\') => {
                    chars.next();
                }
                (true, '"') => self.in_string = false,
                (true, _) => {}
                (false, '"') => self.in_string = true,
                (false, ';') => break,
                (false, '(' | '[') => self.depth += 1,
                (false, ')' | ']') => self.depth -= 1,
                (false, _) => {}
            }
        }
    }

    /// Whether a list or a string is still open.
    fn is_open(&self) -> bool {
        self.in_string || self.depth > 0
    }
}

/// The report of input line `line`, which is not valid UTF-8: at its first
/// bad byte.
fn not_utf8(line: usize, error: &std::string::FromUtf8Error) -> Diagnostic {
    let valid = &error.as_bytes()[..error.utf8_error().valid_up_to()];
    let mut diagnostic =
        Diagnostic::without_location(REPL_SOURCE, "the line is not valid UTF-8 (it was skipped)");
    diagnostic.line = line;
    diagnostic.col = String::from_utf8_lossy(valid).chars().count() + 1;
    diagnostic
}

/// [`repl`] under the policy named at run time.
pub fn repl_with_policy(
    policy: Policy,
    input: &mut dyn BufRead,
    output: Output,
    errors: &mut dyn Write,
    prompt: bool,
) -> usize {
    match policy {
        Policy::Biased => repl::<Biased>(input, output, errors, prompt),
        Policy::Deferred => repl::<Deferred>(input, output, errors, prompt),
        Policy::Atomic => repl::<Atomic>(input, output, errors, prompt),
        Policy::Gil => repl::<Gil>(input, output, errors, prompt),
    }
}
