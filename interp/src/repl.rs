//! The read-eval-print loop of `brisk repl`.
//!
//! The loop reads from an [`Input`]: lines of piped input, or entries
//! from the line editor on a terminal. An entry that leaves a list or a
//! string open goes on with the next text read. Each complete entry is compiled
//! in one session and run on one VM, so definitions persist, and the value
//! of an entry is printed unless it is `nil`. Errors are reported (with
//! line numbers counted over the whole input) and the loop goes on. A line
//! that is not valid UTF-8 is reported and skipped, with the entry it was
//! part of.
//!
//! Any [`BufRead`] is an input that yields its lines: that is how piped
//! input and tests drive the loop, with no prompt and nothing else on
//! standard output but values. On a terminal, [`Terminal`] reads with
//! rustyline's editor instead: `> ` prompts an entry, Enter on an entry
//! whose lists or strings are still open starts a new line of the same
//! entry, each entry goes to a history kept in `~/.brisk_history`, Ctrl-C
//! clears what is being typed and Ctrl-D on an empty line ends the loop.

use std::io::{BufRead, Write};
use std::path::PathBuf;
use std::sync::Arc;

use brisk_runtime::{Atomic, Biased, Deferred, Gil, Runtime, RuntimePolicy};
use rustyline::completion::Completer;
use rustyline::error::ReadlineError;
use rustyline::highlight::Highlighter;
use rustyline::hint::Hinter;
use rustyline::history::FileHistory;
use rustyline::validate::{ValidationContext, ValidationResult, Validator};
use rustyline::Helper;

use crate::compiler::Session;
use crate::error::{Diagnostic, Source};
use crate::host::{Host, Limits, Output};
use crate::parser::parse;
use crate::value::repr;
use crate::vm::Vm;
use crate::Policy;

/// The name errors in REPL input are reported under.
pub const REPL_SOURCE: &str = "<repl>";

/// What an [`Input`] read.
pub enum Read {
    /// Text: one line with its newline (the last line of piped input may
    /// lack it), or several lines.
    Text(Vec<u8>),
    /// The user abandoned what they were typing: the open entry is dropped.
    Cleared,
    /// The input is over.
    End,
}

/// Where the loop's entries come from.
pub trait Input {
    /// Reads more text. `continued` says an entry is open, so a prompt
    /// shows that the text goes on with it.
    fn read(&mut self, continued: bool) -> Read;
}

/// Piped input, a line at a time, with no prompt.
impl<R: BufRead + ?Sized> Input for R {
    fn read(&mut self, _continued: bool) -> Read {
        let mut line = Vec::new();
        match self.read_until(b'\n', &mut line) {
            Ok(n) if n > 0 => Read::Text(line),
            _ => Read::End,
        }
    }
}

/// A terminal's input, through rustyline's line editor (see the module
/// docs).
pub struct Terminal {
    editor: rustyline::Editor<EntryHelper, FileHistory>,
    /// Where the history is kept; `None` without a home directory.
    history: Option<PathBuf>,
}

impl Terminal {
    /// An editor on standard input, with the history saved before (if
    /// any).
    pub fn new() -> rustyline::Result<Self> {
        let mut editor = rustyline::Editor::new()?;
        editor.set_helper(Some(EntryHelper));
        let history =
            std::env::var_os("HOME").map(|home| PathBuf::from(home).join(".brisk_history"));
        if let Some(path) = &history {
            // No history yet is not an error.
            let _ = editor.load_history(path);
        }
        Ok(Terminal { editor, history })
    }
}

impl Input for Terminal {
    fn read(&mut self, continued: bool) -> Read {
        match self.editor.readline(if continued { "... " } else { "> " }) {
            Ok(mut entry) => {
                if !entry.trim().is_empty() {
                    let _ = self.editor.add_history_entry(entry.as_str());
                    // Saved at every entry, so a session that a signal
                    // ends keeps what was typed.
                    if let Some(path) = &self.history {
                        let _ = self.editor.save_history(path);
                    }
                }
                entry.push('\n');
                Read::Text(entry.into_bytes())
            }
            Err(ReadlineError::Interrupted) => Read::Cleared,
            Err(_) => Read::End,
        }
    }
}

/// What the editor needs to know of the language: when Enter ends an
/// entry, which is when it opens no list or string that it does not close.
struct EntryHelper;

impl Validator for EntryHelper {
    fn validate(&self, context: &mut ValidationContext) -> rustyline::Result<ValidationResult> {
        let mut open = Openness::default();
        open.scan(context.input());
        Ok(if open.is_open() {
            ValidationResult::Incomplete
        } else {
            ValidationResult::Valid(None)
        })
    }
}

impl Completer for EntryHelper {
    type Candidate = String;
}

impl Hinter for EntryHelper {
    type Hint = String;
}

impl Highlighter for EntryHelper {}

impl Helper for EntryHelper {}

/// Runs the loop over `input` under policy `P` until the input ends.
/// Values go to `output`, diagnostics to `errors` (with ANSI colours if
/// `styled`). Returns how many entries failed.
pub fn repl<P: RuntimePolicy>(
    input: &mut dyn Input,
    output: Output,
    errors: &mut dyn Write,
    styled: bool,
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
        let mut report = |diagnostic: &Diagnostic| {
            let _ = errors.write_all(diagnostic.render(styled).as_bytes());
        };
        if let Err(error) = vm.run_main(session.prelude()) {
            report(&error);
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
            let read = input.read(!entry.is_empty());
            let at_end = matches!(read, Read::End);
            match read {
                Read::Text(text) => {
                    let first_line = lines_read + 1;
                    lines_read += line_count(&text);
                    match String::from_utf8(text) {
                        Ok(text) => {
                            if entry.is_empty() {
                                entry_line = first_line;
                            }
                            open.scan(&text);
                            entry.push_str(&text);
                        }
                        Err(error) => {
                            failures += 1;
                            report(&not_utf8(lines_read, &error));
                            entry.clear();
                            open = Openness::default();
                            continue;
                        }
                    }
                }
                Read::Cleared => {
                    entry.clear();
                    open = Openness::default();
                    continue;
                }
                Read::End => {}
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
                    report(&error);
                }
            }
            if at_end {
                break;
            }
        }
        if let Err(error) = vm.join_children() {
            failures += 1;
            report(&error);
        }
    }
    drop(interpreter);
    drop(runtime);
    failures
}

/// How many lines `text` holds: its newlines, and one more if it does not
/// end with one.
fn line_count(text: &[u8]) -> usize {
    let newlines = text.iter().filter(|&&b| b == b'\n').count();
    newlines + usize::from(!text.ends_with(b"\n"))
}

/// What an entry leaves open so far: lists, and a string. Updated as the
/// entry's text comes in, so that an entry is parsed once its lists and
/// strings are closed, not again at every line it spans. It follows the
/// lexer's rules for what opens and closes (brackets; strings, with
/// backslash escapes; `;` comments to the end of the line, outside
/// strings) only to tell when the entry may be complete: the parser
/// decides.
#[derive(Default)]
struct Openness {
    /// Lists opened minus lists closed.
    depth: i64,
    /// Whether the text so far ends inside a string.
    in_string: bool,
}

impl Openness {
    /// Takes in the next text of the entry.
    fn scan(&mut self, text: &str) {
        let mut chars = text.chars();
        while let Some(c) = chars.next() {
            match (self.in_string, c) {
                (true, '\\') => {
                    chars.next();
                }
                (true, '"') => self.in_string = false,
                (true, _) => {}
                (false, '"') => self.in_string = true,
                (false, ';') => {
                    chars.by_ref().find(|&c| c == '\n');
                }
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
    input: &mut dyn Input,
    output: Output,
    errors: &mut dyn Write,
    styled: bool,
) -> usize {
    match policy {
        Policy::Biased => repl::<Biased>(input, output, errors, styled),
        Policy::Deferred => repl::<Deferred>(input, output, errors, styled),
        Policy::Atomic => repl::<Atomic>(input, output, errors, styled),
        Policy::Gil => repl::<Gil>(input, output, errors, styled),
    }
}
