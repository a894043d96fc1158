//! `brisk`: run programs of brisk's prototype language.
//!
//! ```text
//! brisk run FILE [ARGS]... [--policy biased|deferred|atomic|gil] [--stats[=json]]
//!           [--trace] [--max-depth N]
//! brisk repl [--policy …] [--trace]
//! brisk --version, brisk run --version, brisk repl --version
//! ```
//!
//! `FILE` is the program's file, or `-` for standard input (its errors
//! are reported under the name `<stdin>`). `ARGS` are the program's
//! `(argv)` (after `--` if one starts with `-`); options may come before or
//! after them. `--stats` prints the runtime's reference-count counters to
//! standard error after the run, as a table; `--stats=json` prints them as
//! one JSON object on one line, the last line of standard error when the
//! run succeeds, with the field names of
//! `brisk_refcount::embed::stats::Stats` (which reads it back with serde).
//! The counters are compiled in only with the `stats` feature; without it
//! both forms print a note instead. `--trace` prints the runtime's `tracing` events to
//! standard error (filter with `RUST_LOG`, default `brisk=debug`);
//! `--max-depth` bounds the call depth (a million frames by default).
//!
//! What a program prints shows line by line on a terminal; piped or
//! redirected, it is buffered, and flushed however the run ends. Ctrl-C
//! (SIGINT) or SIGTERM ends `brisk run` with what was printed so far and
//! a message (see `interrupt`).
//!
//! `brisk repl` on a terminal edits its input with a line editor, with a
//! history in `~/.brisk_history`; piped, it reads lines and prints only
//! values (see `repl`).
//!
//! Diagnostics are coloured when standard error is a terminal, unless the
//! `NO_COLOR` environment variable is set to anything but the empty
//! string; elsewhere they are plain text.
//!
//! Exit status: 0 on success, 1 if the program failed (a diagnostic was
//! printed), 2 if the file could not be read or the command line was wrong,
//! 130 after Ctrl-C and 143 after SIGTERM. The REPL exits 0 at the end of
//! its input (Ctrl-D on a terminal), or 1 if piped input had an entry
//! that failed.
//!
//! The command allocates on mimalloc (the default `mimalloc` feature), as
//! CPython's free-threaded build allocates its objects: every value is a
//! heap block, and glibc's malloc costs most programs a fifth of their
//! time. Build with `--no-default-features` for the system allocator.

mod interrupt;

#[cfg(feature = "mimalloc")]
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

use std::io::{BufWriter, IsTerminal, Read, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::{Arc, Mutex};

use brisk_interp::host::DEFAULT_MAX_DEPTH;
use brisk_interp::{repl, run_with_policy, Diagnostic, Limits, Output, Policy, RunOptions, Source};
use clap::{Parser, Subcommand, ValueEnum};

#[derive(Parser)]
#[command(
    name = "brisk",
    version,
    propagate_version = true,
    about = "Run programs on the brisk runtime"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run a program.
    Run {
        /// The program's file, or `-` to read it from standard input.
        file: PathBuf,
        /// Arguments the program reads with (argv); put `--` before any
        /// that start with `-`.
        args: Vec<String>,
        /// The reference-counting policy.
        #[arg(long, value_enum, default_value_t = PolicyArg::Biased)]
        policy: PolicyArg,
        /// Print reference-count counters to standard error after the run:
        /// `--stats` as a table, `--stats=json` as one JSON object (needs the
        /// `stats` feature).
        #[arg(
            long,
            value_enum,
            value_name = "FORMAT",
            num_args = 0..=1,
            require_equals = true,
            default_missing_value = "text"
        )]
        stats: Option<StatsFormat>,
        /// Print the runtime's tracing events to standard error.
        #[arg(long)]
        trace: bool,
        /// Deepest call nesting before the run fails with "recursion limit
        /// exceeded".
        #[arg(long, value_name = "N", default_value_t = DEFAULT_MAX_DEPTH)]
        max_depth: usize,
    },
    /// Read, evaluate and print, line by line, from standard input.
    Repl {
        /// The reference-counting policy.
        #[arg(long, value_enum, default_value_t = PolicyArg::Biased)]
        policy: PolicyArg,
        /// Print the runtime's tracing events to standard error.
        #[arg(long)]
        trace: bool,
    },
}

/// `--stats` values. The value must follow an `=`, so that `--stats` may
/// stand before the program's arguments.
#[derive(Copy, Clone, ValueEnum)]
enum StatsFormat {
    /// A table for people.
    Text,
    /// One JSON object, `brisk_refcount::embed::stats::Stats` serialized.
    Json,
}

/// `--policy` values.
#[derive(Copy, Clone, ValueEnum)]
enum PolicyArg {
    Biased,
    Deferred,
    Atomic,
    Gil,
}

impl From<PolicyArg> for Policy {
    fn from(policy: PolicyArg) -> Policy {
        match policy {
            PolicyArg::Biased => Policy::Biased,
            PolicyArg::Deferred => Policy::Deferred,
            PolicyArg::Atomic => Policy::Atomic,
            PolicyArg::Gil => Policy::Gil,
        }
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Run {
            file,
            args,
            policy,
            stats,
            trace,
            max_depth,
        } => {
            if trace {
                install_tracing();
            }
            let limits = Limits {
                max_depth,
                ..Limits::default()
            };
            run_file(&file, args, policy.into(), stats, limits)
        }
        Command::Repl { policy, trace } => {
            if trace {
                install_tracing();
            }
            let stdin = std::io::stdin();
            let terminal = stdin.is_terminal();
            let output: Output = Arc::new(Mutex::new(std::io::stdout()));
            let run = |input: &mut dyn repl::Input| {
                repl::repl_with_policy(
                    policy.into(),
                    input,
                    output,
                    &mut std::io::stderr(),
                    styled_errors(),
                )
            };
            let failures = if terminal {
                match repl::Terminal::new() {
                    Ok(mut editor) => run(&mut editor),
                    Err(error) => {
                        eprintln!("brisk: error: cannot start the line editor: {error}");
                        return ExitCode::from(1);
                    }
                }
            } else {
                run(&mut stdin.lock())
            };
            if failures > 0 && !terminal {
                ExitCode::from(1)
            } else {
                ExitCode::SUCCESS
            }
        }
    }
}

/// Runs one program file (or standard input, for `-`); prints its
/// diagnostic if it fails.
fn run_file(
    file: &Path,
    args: Vec<String>,
    policy: Policy,
    stats: Option<StatsFormat>,
    limits: Limits,
) -> ExitCode {
    let (name, text) = match read_program(file) {
        Ok(program) => program,
        Err(diagnostic) => {
            report(&diagnostic);
            return ExitCode::from(2);
        }
    };
    let stdout = Arc::new(Mutex::new(program_output()));
    let ended = interrupt::on_signal({
        let stdout = Arc::clone(&stdout);
        let name = name.clone();
        move |signal| {
            // Held until the process exits: nothing is printed after the
            // flush.
            let mut stdout = stdout.lock().unwrap_or_else(|e| e.into_inner());
            let _ = stdout.flush();
            let what = if signal == libc::SIGINT {
                "interrupted"
            } else {
                "terminated"
            };
            report(&Diagnostic::without_location(name, what));
            std::process::exit(128 + signal);
        }
    });
    if let Err(error) = ended {
        eprintln!("note: signals will end the run without flushing its output: {error}");
    }
    let options = RunOptions {
        args,
        output: Arc::clone(&stdout) as Output,
        limits,
    };
    let result = run_with_policy(policy, &Source::new(name, text), options);
    let _ = stdout.lock().unwrap_or_else(|e| e.into_inner()).flush();
    if let Some(format) = stats {
        print_stats(policy, format);
    }
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(diagnostic) => {
            report(&diagnostic);
            ExitCode::from(1)
        }
    }
}

/// The name a program is reported under, and its text: from `file`, or
/// from standard input for `-`.
fn read_program(file: &Path) -> Result<(String, String), Diagnostic> {
    let (name, what, bytes) = if file.as_os_str() == "-" {
        let mut bytes = Vec::new();
        let read = std::io::stdin().read_to_end(&mut bytes).map(|_| bytes);
        ("<stdin>".to_owned(), "standard input", read)
    } else {
        (file.display().to_string(), "the file", std::fs::read(file))
    };
    let bytes = bytes.map_err(|error| {
        Diagnostic::without_location(&name, format!("cannot read {what}: {error}"))
    })?;
    match String::from_utf8(bytes) {
        Ok(text) => Ok((name, text)),
        Err(_) => Err(Diagnostic::without_location(
            name,
            format!("{what} is not valid UTF-8"),
        )),
    }
}

/// Whether diagnostics get ANSI colours: on a terminal, unless `NO_COLOR`
/// is set to a non-empty value.
fn styled_errors() -> bool {
    std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
}

/// Prints a diagnostic to standard error.
fn report(diagnostic: &Diagnostic) {
    eprint!("{}", diagnostic.render(styled_errors()));
}

/// Where `print` writes: on a terminal, standard output, which std buffers
/// by line, so each line shows as it is printed; otherwise (a pipe, a file)
/// an 8 KiB buffer in front of it, so a program that prints a lot makes
/// few writes.
fn program_output() -> Box<dyn Write + Send> {
    let stdout = std::io::stdout();
    if stdout.is_terminal() {
        Box::new(stdout)
    } else {
        Box::new(BufWriter::new(stdout))
    }
}

/// `--stats`: the process's reference-count counters, in `format`.
fn print_stats(policy: Policy, format: StatsFormat) {
    if !brisk_refcount::embed::stats::ENABLED {
        eprintln!(
            "note: --stats needs counters compiled in; this binary was built without the `stats` feature.\n\
             note: build with: cargo build --release -p brisk-interp --features stats"
        );
        return;
    }
    let stats = brisk_refcount::embed::stats::global_snapshot();
    if let StatsFormat::Json = format {
        match serde_json::to_string(&stats) {
            Ok(json) => eprintln!("{json}"),
            Err(error) => eprintln!("brisk: error: cannot write the counters as JSON: {error}"),
        }
        return;
    }
    let operations = stats.owner_ops + stats.shared_ops + stats.buffered_ops;
    let share = |n: u64| {
        if operations == 0 {
            0.0
        } else {
            100.0 * n as f64 / operations as f64
        }
    };
    eprintln!("refcount stats ({} policy):", policy.name());
    eprintln!(
        "  owner-path operations   {:>14} ({:5.1}%)",
        stats.owner_ops,
        share(stats.owner_ops)
    );
    eprintln!(
        "  shared-path operations  {:>14} ({:5.1}%)",
        stats.shared_ops,
        share(stats.shared_ops)
    );
    eprintln!(
        "  buffered operations     {:>14} ({:5.1}%)",
        stats.buffered_ops,
        share(stats.buffered_ops)
    );
    eprintln!("  queued objects          {:>14}", stats.queued);
    eprintln!("  merged objects          {:>14}", stats.merged);
    eprintln!("  coalesced operations    {:>14}", stats.coalesced_ops);
    eprintln!("  applied atomics         {:>14}", stats.applied_atomics);
    eprintln!("  frees                   {:>14}", stats.frees);
}

/// `--trace`: a `tracing` subscriber on standard error.
fn install_tracing() {
    use tracing_subscriber::prelude::*;
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("brisk=debug"));
    let _ = tracing_subscriber::registry()
        .with(filter)
        .with(tracing_subscriber::fmt::layer().with_writer(std::io::stderr))
        .try_init();
}
