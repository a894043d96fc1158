//! `brisk-lab`: runs brisk's experiments and writes `papers/results/`.
//!
//! ```text
//! cargo run --release -p brisk-bench --bin brisk-lab                 # quick suite
//! cargo run --release -p brisk-bench --bin brisk-lab -- --full       # long suite
//! cargo run --release -p brisk-bench --bin brisk-lab -- --only per_op
//! cargo run --release -p brisk-bench --bin brisk-lab -- --smoke      # CI: seconds, no claims
//! cargo run --release -p brisk-bench --bin brisk-lab -- --list
//! cargo run --release -p brisk-bench --bin brisk-lab -- --headline   # re-render, run nothing
//! cargo run --release -p brisk-bench --bin brisk-lab -- --check      # are the figures current?
//! ```
//!
//! It needs no cargo at run time for the experiments that do not build a
//! second `brisk` or brisk-lab (all but `where_ops_go`, `counting_density`,
//! `placement` and `per_op_placement`): run it from the workspace root
//! with `--brisk target/release/brisk` (see `benches/device-scaling.sh`).
//! The workspace is the current folder or one above it, so a prebuilt
//! binary also works in a checkout at another path.
//!
//! The experiments are in `brisk_bench::lab`. Hidden subcommands serve the
//! lab's own child processes: `send-child` (the subprocess end of
//! `send_cost`), `measure` (a program's wall time and peak memory),
//! `pairs-child` (clone+drop pairs for `instructions` to count),
//! `per-op-child` (`per_op` timed in a placed build, for
//! `per_op_placement`), `memory-child` (one policy's run of `memory`),
//! `cycles-child` (one configuration of `cycle_pause`'s interpreters
//! making garbage cycles), and `map-parent` and `map-worker` (the
//! multi-process `parallel-map` of `parallel_processes`).

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Duration, Instant};

use brisk_bench::lab::check::{self, Git};
use brisk_bench::lab::env::Host;
use brisk_bench::lab::results::Results;
use brisk_bench::lab::{headline, results, Ctx, Outcome, Suite, EXPERIMENTS};
use clap::{Parser, Subcommand};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

#[derive(Parser)]
#[command(
    name = "brisk-lab",
    about = "Run brisk's experiments and write tables, plots and results.json"
)]
struct Cli {
    /// The long suite: longer samples, more rounds, larger programs.
    #[arg(long, conflicts_with = "smoke")]
    full: bool,
    /// Seconds-long run of every code path (CI); no timing claims. Writes to
    /// `target/brisk-lab-smoke` unless `--out` is given.
    #[arg(long)]
    smoke: bool,
    /// Run only this experiment (repeatable); see `--list`.
    #[arg(long, value_name = "NAME")]
    only: Vec<String>,
    /// Where to write results [default: papers/results, or
    /// target/brisk-lab-smoke with --smoke].
    #[arg(long, value_name = "DIR")]
    out: Option<PathBuf>,
    /// A label for this machine, recorded with each result [default: the
    /// CPU model and the cores, as "amd-epyc-2core"].
    #[arg(long, value_name = "LABEL")]
    machine: Option<String>,
    /// Time this prebuilt `brisk` binary instead of building one with cargo
    /// (for a machine without a Rust toolchain; `where_ops_go`,
    /// `counting_density` and `placement` still build their own).
    #[arg(long, value_name = "PATH")]
    brisk: Option<PathBuf>,
    /// List the experiments and exit.
    #[arg(long)]
    list: bool,
    /// Run nothing: write headline.md again from the results.json already
    /// in the output folder (and, for `papers/results`, README's table and
    /// the marked figures of README.md and papers/answers.md), after a
    /// change to the headline's rows.
    #[arg(long, conflicts_with_all = ["only", "smoke", "full", "check"])]
    headline: bool,
    /// Run nothing: exit 1, listing why, if any experiment in the output
    /// folder's results.json is older than the last commit that changed
    /// refcount/, gc/, runtime/ or interp/, or if README.md's headline or
    /// a marked figure of README.md or papers/answers.md differs from it.
    #[arg(long, conflicts_with_all = ["only", "smoke", "full"])]
    check: bool,
    #[command(subcommand)]
    helper: Option<Helper>,
}

/// The lab's own child processes.
#[derive(Subcommand)]
enum Helper {
    /// The subprocess end of `send_cost`: decode frames from stdin, ack on stdout.
    #[command(hide = true)]
    SendChild,
    /// Runs a program, then writes its wall time and peak RSS to a file.
    #[command(hide = true)]
    Measure {
        #[arg(long)]
        report: PathBuf,
        #[arg(required = true, last = true)]
        command: Vec<PathBuf>,
    },
    /// Clone+drop pairs of one variant, for `instructions` to count.
    #[command(hide = true)]
    PairsChild {
        #[arg(long)]
        variant: String,
        #[arg(long)]
        batches: u64,
    },
    /// `per_op`'s measurement in this (placed) build, for
    /// `per_op_placement`; prints a JSON array.
    #[command(hide = true)]
    PerOpChild {
        #[arg(long, default_value = "quick")]
        suite: String,
    },
    /// One run of the `memory` workload; prints a JSON object.
    #[command(hide = true)]
    MemoryChild {
        #[arg(long)]
        kind: String,
        #[arg(long)]
        live: u64,
        #[arg(long)]
        churn: u64,
    },
    /// `parallel-map` with worker processes, for `parallel_processes`:
    /// prints what `parallel-map.brisk` prints.
    #[command(hide = true)]
    MapParent {
        #[arg(long)]
        workers: usize,
        #[arg(long)]
        items: usize,
        #[arg(long)]
        span: i64,
        #[arg(long)]
        policy: String,
    },
    /// One worker process of `map-parent`: tasks on stdin, answers on stdout.
    #[command(hide = true)]
    MapWorker {
        #[arg(long)]
        policy: String,
    },
    /// Interpreters making garbage cycles under one policy, for
    /// `cycle_pause`; prints a JSON object.
    #[command(hide = true)]
    CyclesChild {
        #[arg(long)]
        policy: String,
        #[arg(long)]
        interpreters: usize,
        #[arg(long)]
        cycles: u64,
    },
}

/// The workspace root: the current folder or the nearest one above it that
/// holds `interp/examples/` and `benches/`, else the folder this crate was
/// built in (whose path a binary copied to another machine may not have).
fn workspace() -> PathBuf {
    let is_workspace =
        |dir: &Path| dir.join("interp/examples").is_dir() && dir.join("benches").is_dir();
    std::env::current_dir()
        .ok()
        .and_then(|cwd| {
            cwd.ancestors()
                .find(|d| is_workspace(d))
                .map(Path::to_path_buf)
        })
        .unwrap_or_else(|| {
            Path::new(env!("CARGO_MANIFEST_DIR"))
                .parent()
                .expect("benches/ has a parent")
                .to_path_buf()
        })
}

/// The cargo target folder this executable lives in
/// (`<target>/release/brisk-lab`), or `<workspace>/target`.
fn target_dir(exe: &Path, workspace: &Path) -> PathBuf {
    exe.parent()
        .filter(|p| {
            p.file_name()
                .is_some_and(|n| n == "release" || n == "debug")
        })
        .and_then(Path::parent)
        .map(Path::to_path_buf)
        .unwrap_or_else(|| workspace.join("target"))
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.helper {
        Some(Helper::SendChild) => {
            let served =
                brisk_bench::wire::serve_child(std::io::stdin().lock(), std::io::stdout().lock());
            return match served {
                Ok(()) => ExitCode::SUCCESS,
                Err(e) => {
                    eprintln!("brisk-lab send-child: {e}");
                    ExitCode::FAILURE
                }
            };
        }
        Some(Helper::Measure { report, command }) => {
            let args: Vec<String> = command[1..]
                .iter()
                .map(|a| a.to_string_lossy().into_owned())
                .collect();
            return match brisk_bench::lab::programs::measure_main(&report, &command[0], &args) {
                Ok(code) => ExitCode::from(u8::try_from(code).unwrap_or(1)),
                Err(e) => {
                    eprintln!("brisk-lab measure: {e}");
                    ExitCode::FAILURE
                }
            };
        }
        Some(Helper::PairsChild { variant, batches }) => {
            return match brisk_bench::workloads::clone_drop::pairs_in_this_process(
                &variant, batches,
            ) {
                Ok(()) => ExitCode::SUCCESS,
                Err(e) => {
                    eprintln!("brisk-lab pairs-child: {e}");
                    ExitCode::FAILURE
                }
            };
        }
        Some(Helper::PerOpChild { suite }) => {
            let Some(suite) = Suite::from_name(&suite) else {
                eprintln!("brisk-lab per-op-child: no suite {suite:?} (smoke, quick or full)");
                return ExitCode::from(2);
            };
            let exe = std::env::current_exe().unwrap_or_default();
            let workspace = workspace();
            let target = target_dir(&exe, &workspace);
            let ctx = Ctx::new(
                suite,
                workspace.clone(),
                workspace.join("target/brisk-lab-child"),
                exe,
                target,
                None,
                ProgressBar::hidden(),
            );
            println!("{}", brisk_bench::lab::per_op_placement::child_output(&ctx));
            return ExitCode::SUCCESS;
        }
        Some(Helper::MemoryChild { kind, live, churn }) => {
            return match brisk_bench::lab::memory::child_main(&kind, live, churn) {
                Ok(v) => {
                    println!("{v}");
                    ExitCode::SUCCESS
                }
                Err(e) => {
                    eprintln!("brisk-lab memory-child: {e}");
                    ExitCode::FAILURE
                }
            };
        }
        Some(Helper::MapParent {
            workers,
            items,
            span,
            policy,
        }) => {
            use brisk_bench::lab::process_map::{parent_main, Map};
            let map = Map {
                workers,
                items,
                span,
            };
            let exe = std::env::current_exe().unwrap_or_default();
            return match parent_main(&exe, map, &policy) {
                Ok(printed) => {
                    print!("{printed}");
                    ExitCode::SUCCESS
                }
                Err(e) => {
                    eprintln!("brisk-lab map-parent: {e}");
                    ExitCode::FAILURE
                }
            };
        }
        Some(Helper::MapWorker { policy }) => {
            return match brisk_bench::lab::process_map::worker_main(&policy) {
                Ok(()) => ExitCode::SUCCESS,
                Err(e) => {
                    eprintln!("brisk-lab map-worker: {e}");
                    ExitCode::FAILURE
                }
            };
        }
        Some(Helper::CyclesChild {
            policy,
            interpreters,
            cycles,
        }) => {
            let run = brisk_bench::lab::cycle_pause::child_main(&policy, interpreters, cycles)
                .and_then(|run| serde_json::to_string(&run).map_err(|e| e.to_string()));
            return match run {
                Ok(json) => {
                    println!("{json}");
                    ExitCode::SUCCESS
                }
                Err(e) => {
                    eprintln!("brisk-lab cycles-child: {e}");
                    ExitCode::FAILURE
                }
            };
        }
        None => {}
    }

    if cli.list {
        for e in &EXPERIMENTS {
            println!("{:<18} {}", e.name, e.title);
        }
        return ExitCode::SUCCESS;
    }
    for name in &cli.only {
        if !EXPERIMENTS.iter().any(|e| e.name == name) {
            eprintln!("brisk-lab: no experiment {name:?}; --list shows them");
            return ExitCode::from(2);
        }
    }
    let suite = if cli.smoke {
        Suite::Smoke
    } else if cli.full {
        Suite::Full
    } else {
        Suite::Quick
    };
    let workspace = workspace();
    let default_out = workspace.join("papers/results");
    let out = match (&cli.out, suite) {
        (Some(dir), _) => dir.clone(),
        (None, Suite::Smoke) => workspace.join("target/brisk-lab-smoke"),
        (None, _) => default_out.clone(),
    };
    if let Err(e) = std::fs::create_dir_all(&out) {
        eprintln!("brisk-lab: cannot create {}: {e}", out.display());
        return ExitCode::FAILURE;
    }
    if cli.check {
        return run_check(&workspace, &out);
    }
    if cli.headline {
        let path = out.join(results::FILE);
        let doc = match Results::read(&path) {
            Ok(Some(doc)) => doc,
            Ok(None) => {
                eprintln!("brisk-lab: no {}", path.display());
                return ExitCode::FAILURE;
            }
            Err(e) => {
                eprintln!("brisk-lab: {} {e}", path.display());
                return ExitCode::FAILURE;
            }
        };
        let documents = cli.out.is_none().then_some(workspace.as_path());
        return if write_headline(&out, &doc, documents) {
            ExitCode::SUCCESS
        } else {
            ExitCode::FAILURE
        };
    }
    let exe = match std::env::current_exe() {
        Ok(exe) => exe,
        Err(e) => {
            eprintln!("brisk-lab: cannot find its own executable: {e}");
            return ExitCode::FAILURE;
        }
    };
    let selected: Vec<_> = EXPERIMENTS
        .iter()
        .filter(|e| cli.only.is_empty() || cli.only.iter().any(|n| n == e.name))
        .collect();
    let host = Host::capture(&workspace, suite, cli.machine.clone());

    let bar = ProgressBar::with_draw_target(
        Some(selected.len() as u64),
        if std::io::stderr().is_terminal() {
            ProgressDrawTarget::stderr()
        } else {
            ProgressDrawTarget::hidden()
        },
    );
    bar.set_style(
        ProgressStyle::with_template("{elapsed_precise} [{bar:24}] {pos}/{len} {wide_msg}")
            .expect("a valid template")
            .progress_chars("=> "),
    );
    bar.enable_steady_tick(Duration::from_millis(200));
    let mut ctx = Ctx::new(
        suite,
        workspace.clone(),
        out.clone(),
        exe.clone(),
        target_dir(&exe, &workspace),
        cli.brisk.clone(),
        bar,
    );
    ctx.say(format!(
        "brisk-lab: {} experiment(s), {} suite, writing {}",
        selected.len(),
        suite.name(),
        out.display()
    ));
    ctx.say(format!("machine: {}", host.summary()));

    let started = Instant::now();
    let mut entries = Vec::new();
    let mut failed = false;
    for experiment in selected {
        ctx.name = experiment.name;
        ctx.step("starting");
        let mut env = host.environment();
        let t0 = Instant::now();
        let outcome = (experiment.run)(&ctx);
        let seconds = t0.elapsed().as_secs_f64();
        let timed = ctx.take_timed(experiment);
        if let Outcome::Ran(_) = &outcome {
            env.allocators = timed;
        }
        match &outcome {
            Outcome::Ran(report) => ctx.say(format!(
                "{:<18} ran in {seconds:.1} s, {} metrics",
                experiment.name,
                report.metrics.len()
            )),
            Outcome::Skipped(why) => ctx.say(format!("{:<18} skipped: {why}", experiment.name)),
        }
        if let Err(e) = results::write_markdown(&out, experiment, &outcome, &env, seconds) {
            eprintln!("brisk-lab: cannot write {}.md: {e}", experiment.name);
            failed = true;
        }
        entries.push((
            experiment.name.to_owned(),
            results::entry(experiment, &outcome, &env, seconds),
        ));
        ctx.bar().inc(1);
    }
    ctx.bar().finish_and_clear();

    let doc = match results::write_json(&out, entries) {
        Ok(doc) => doc,
        Err(e) => {
            eprintln!("brisk-lab: cannot write results.json: {e}");
            return ExitCode::FAILURE;
        }
    };
    let documents = (suite != Suite::Smoke && cli.out.is_none()).then_some(workspace.as_path());
    if !write_headline(&out, &doc, documents) {
        failed = true;
    }
    eprintln!(
        "brisk-lab: done in {:.0} s; results in {}",
        started.elapsed().as_secs_f64(),
        out.display()
    );
    if failed {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}

/// Writes `<out>/headline.md` from the results document `doc` and, given
/// the workspace, splices the same table into its README.md and rewrites
/// the marked figures of README.md and papers/answers.md
/// ([`check::fill_figures`]). Returns whether headline.md was written.
fn write_headline(out: &Path, doc: &Results, workspace: Option<&Path>) -> bool {
    let table = headline::render(doc);
    let written = std::fs::write(out.join("headline.md"), format!("# Headline\n\n{table}"));
    if let Err(e) = &written {
        eprintln!("brisk-lab: cannot write headline.md: {e}");
    }
    let Some(workspace) = workspace else {
        return written.is_ok();
    };
    match headline::splice_readme(&workspace.join("README.md"), &table) {
        Ok(true) => eprintln!("brisk-lab: README.md headline updated"),
        Ok(false) => eprintln!("brisk-lab: README.md has no headline markers; left as is"),
        Err(e) => eprintln!("brisk-lab: cannot update README.md: {e}"),
    }
    for name in check::DOCUMENTS {
        let path = workspace.join(name);
        let Ok(text) = std::fs::read_to_string(&path) else {
            continue;
        };
        match check::fill_figures(&text, doc) {
            Ok(filled) if filled == text => {}
            Ok(filled) => match std::fs::write(&path, filled) {
                Ok(()) => eprintln!("brisk-lab: {name}: marked figures updated"),
                Err(e) => eprintln!("brisk-lab: cannot update {name}: {e}"),
            },
            Err(e) => eprintln!("brisk-lab: {name}: {e}; its figures are left as they are"),
        }
    }
    written.is_ok()
}

/// `--check`: prints every reason the figures in `out` and the documents
/// are not current, and fails if there is one. Runs no experiment.
fn run_check(workspace: &Path, out: &Path) -> ExitCode {
    let names: Vec<&str> = EXPERIMENTS.iter().map(|e| e.name).collect();
    let problems = check::check(workspace, out, &names, &Git(workspace.to_path_buf()));
    let shown = out.strip_prefix(workspace).unwrap_or(out).display();
    if problems.is_empty() {
        println!(
            "brisk-lab --check: {shown} is current, and README.md and papers/answers.md \
             match it"
        );
        return ExitCode::SUCCESS;
    }
    println!(
        "brisk-lab --check: {} problem(s) with {shown}:",
        problems.len()
    );
    for problem in &problems {
        println!("  - {problem}");
    }
    ExitCode::FAILURE
}
