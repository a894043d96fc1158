//! Instructions per policy for the single-interpreter programs: the
//! whole-program overhead measured without the clock.
//!
//! `whole_program` times each program under each policy, but on a shared
//! machine the spread between rounds is often wider than the overheads the
//! 2017 question is about (a few percent). A count of executed
//! instructions does not depend on what else the machine runs, so it can
//! tell a 3% difference apart where a wall clock cannot. This experiment
//! runs each single-interpreter example once per policy under callgrind
//! (`valgrind --tool=callgrind`, which counts every instruction the process
//! executes, its own and the libraries') and reports each policy's count
//! as a ratio to `gil`.
//!
//! Instructions are not time. An owner check is a load, a compare and a
//! branch that the core predicts and overlaps with other work, so it costs
//! less time than its share of instructions suggests; a cache miss costs
//! much more time than its one instruction. The ratio is a repeatable
//! bound on the work the counting adds, to be read beside the wall-time
//! table, not instead of it.
//!
//! The programs run with smaller arguments than in `whole_program`
//! (callgrind runs them about fifty times slower). The start-up of the
//! process (argument parsing, the runtime, the interpreter: about a million
//! instructions) is counted once per policy on a one-line program and taken
//! off every count, so that the ratios are those of the programs' own
//! work. Every policy must print the same output as `gil`. Without valgrind
//! the experiment is skipped.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use super::env::Binary;
use super::measure::geomean;
use super::metrics::instructions as m;
use super::programs::{self, Program, POLICIES};
use super::report::{fine_ratio, int, Table};
use super::{Ctx, Experiment, Outcome, Report, Suite};
use crate::workloads::clone_drop::{BATCH, PAIR_VARIANTS};

/// The experiment.
pub const EXPERIMENT: Experiment = Experiment {
    name: "instructions",
    title: "Instructions per policy, relative to a GIL (callgrind)",
    question: "\"Do we know yet how much single-thread overhead this adds?\" Counted in \
               instructions, which the machine's other load cannot disturb.",
    timed: &[Binary::BriskLab, Binary::Brisk],
    run,
};

/// Arguments under callgrind, by program name: (quick, full). A few
/// seconds per run in the quick suite.
const ARGS: [(&str, &[&str], &[&str]); 5] = [
    ("binary-trees", &["8"], &["10"]),
    ("fib", &["20"], &["24"]),
    ("nbody", &["500"], &["2000"]),
    ("richards", &["1"], &["3"]),
    ("spectral-norm", &["30"], &["60"]),
];

/// The arguments of `program` under callgrind in `suite`.
pub(super) fn args_for(program: &Program, suite: Suite) -> Vec<String> {
    let (_, quick, full) = ARGS
        .iter()
        .find(|(name, _, _)| *name == program.name)
        .copied()
        .unwrap_or((program.name, program.quick, program.full));
    suite
        .pick(program.smoke, quick, full)
        .iter()
        .map(|s| s.to_string())
        .collect()
}

/// What one callgrind run reported.
pub(super) struct Counted {
    /// Instructions executed, every thread of the process.
    pub(super) instructions: u64,
    /// The program's standard output.
    pub(super) stdout: String,
}

/// Reads the total callgrind prints on stderr (`==123== Collected : 456`).
fn parse_collected(stderr: &str) -> Option<u64> {
    stderr.lines().find_map(|line| {
        let (_, rest) = line.split_once("Collected :")?;
        rest.trim().parse().ok()
    })
}

/// Runs `program args` in `dir` under callgrind; `what` names the run in
/// errors.
pub(super) fn callgrind(
    program: &Path,
    args: &[String],
    dir: &Path,
    what: &str,
) -> Result<Counted, String> {
    callgrind_with_env(program, args, dir, &[], what)
}

/// [`callgrind`] with the variables `env` set for the program.
pub(super) fn callgrind_with_env(
    program: &Path,
    args: &[String],
    dir: &Path,
    env: &[(&str, &str)],
    what: &str,
) -> Result<Counted, String> {
    let output = Command::new("valgrind")
        .args(["--tool=callgrind", "--callgrind-out-file=/dev/null"])
        .arg(program)
        .args(args)
        .envs(env.iter().copied())
        .current_dir(dir)
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("could not start valgrind: {e}"))?;
    let stderr = String::from_utf8_lossy(&output.stderr);
    if !output.status.success() {
        return Err(format!(
            "{what} exited with {}: {}",
            output.status,
            stderr.trim()
        ));
    }
    let instructions = parse_collected(&stderr).ok_or_else(|| {
        format!(
            "no instruction total in callgrind's output: {}",
            stderr.trim()
        )
    })?;
    Ok(Counted {
        instructions,
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
    })
}

/// Runs `brisk run FILE ARGS --policy POLICY` under callgrind.
fn count(
    bin: &Path,
    dir: &Path,
    file: &str,
    args: &[String],
    policy: &str,
) -> Result<Counted, String> {
    let mut all = vec!["run".to_owned(), file.to_owned()];
    all.extend_from_slice(args);
    all.extend(["--policy".to_owned(), policy.to_owned()]);
    callgrind(bin, &all, dir, &format!("`{file}` under {policy}"))
}

/// Instructions per clone+drop pair of each of [`PAIR_VARIANTS`]: this
/// executable's `pairs-child` counted with `batches` batches and with none,
/// the difference over the pairs. Adds the table and the metrics
/// `pair/<variant>/instructions` and `pair/<variant>/ratio_to_rc`.
fn per_pair(ctx: &Ctx, report: &mut Report, batches: u64) -> Result<(), String> {
    let pairs = batches * BATCH;
    let mut per_pair = Vec::new();
    for variant in PAIR_VARIANTS {
        ctx.step(format!("{pairs} pairs of {variant}"));
        let mut counts = [0u64; 2];
        for (n, batches) in counts.iter_mut().zip([0, batches]) {
            let args = [
                "pairs-child".to_owned(),
                "--variant".to_owned(),
                variant.to_owned(),
                "--batches".to_owned(),
                batches.to_string(),
            ];
            *n = callgrind(&ctx.exe, &args, &ctx.workspace, variant)?.instructions;
        }
        per_pair.push(counts[1].saturating_sub(counts[0]) as f64 / pairs as f64);
    }
    let mut table = Table::new(&["variant", "instructions per pair", "ratio to `Rc`"]).left(0);
    for (variant, n) in PAIR_VARIANTS.iter().zip(&per_pair) {
        let ratio = n / per_pair[0];
        report.metric(m::pair_instructions(variant), *n);
        report.metric(m::pair_ratio_to_rc(variant), ratio);
        table.row(vec![
            format!("`{variant}`"),
            format!("{n:.2}"),
            fine_ratio(ratio),
        ]);
    }
    report.heading("Per clone+drop pair");
    report.para(format!(
        "The pairs of `per_op`, counted instead of timed: `brisk-lab pairs-child` runs \
         {} clone+drop pairs of one variant (set up as `per_op` sets it up) under \
         callgrind, and again with none; the difference over the pairs is the count per \
         pair, the loop that repeats them included (the same for every variant). Counts \
         are of this build of brisk-lab, whose inlining decides them.",
        int(pairs)
    ));
    report.table(&table);
    report.para(
        "A count prices work, not waiting: `Arc`'s locked add is one instruction, as \
         `Rc`'s plain add is, and costs several times more in `per_op.md`; the owner \
         paths' extra loads, compares and branches cost less time than their share of \
         instructions.",
    );
    Ok(())
}

/// The program whose count is the process's start-up: one line, one print.
const START_UP_PROGRAM: &str = "(print \"start-up\")\n";

/// [`START_UP_PROGRAM`] in a file of its own under the temporary folder,
/// removed when this is dropped.
pub(super) struct StartUp {
    path: PathBuf,
}

impl StartUp {
    /// Writes the file.
    pub(super) fn write() -> Result<StartUp, String> {
        let path =
            std::env::temp_dir().join(format!("brisk-lab-start-up-{}.brisk", std::process::id()));
        std::fs::write(&path, START_UP_PROGRAM)
            .map_err(|e| format!("could not write {}: {e}", path.display()))?;
        Ok(StartUp { path })
    }

    /// Its folder and file name, as [`programs::run_file_in`] takes them.
    pub(super) fn dir_and_file(&self) -> (&Path, String) {
        let dir = self.path.parent().expect("a file in the temporary folder");
        let file = self.path.file_name().expect("a file name");
        (dir, file.to_string_lossy().into_owned())
    }
}

impl Drop for StartUp {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

/// Whether valgrind can be started.
pub(super) fn have_valgrind() -> bool {
    Command::new("valgrind")
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// One single-interpreter example counted under callgrind.
pub(super) struct ExampleCount {
    /// The example.
    pub(super) program: Program,
    /// Its arguments under callgrind ([`args_for`]).
    pub(super) args: Vec<String>,
    /// Instructions of the whole process, by policy (in the order asked for).
    pub(super) instructions: Vec<u64>,
}

/// The single-interpreter examples counted under callgrind by
/// [`count_examples`], with the process's start-up.
pub(super) struct ExampleCounts {
    /// Instructions of [`START_UP_PROGRAM`], by policy.
    pub(super) start_up: Vec<u64>,
    /// One per example of [`programs::SINGLE`], in that order.
    pub(super) examples: Vec<ExampleCount>,
}

impl ExampleCounts {
    /// Example `i`'s own instructions under policy `k` (by index in the
    /// policies counted): the process's less its start-up, at least 1.
    pub(super) fn own(&self, i: usize, k: usize) -> f64 {
        (self.examples[i].instructions[k] as f64 - self.start_up[k] as f64).max(1.0)
    }
}

/// Runs [`START_UP_PROGRAM`] and every single-interpreter example once
/// under callgrind with `bin` (a plain `brisk`) under each of `policies`,
/// with the suite's callgrind arguments ([`args_for`]). Fails if a run
/// fails, or if an example prints something else under a later policy
/// than under the first.
pub(super) fn count_examples(
    ctx: &Ctx,
    bin: &Path,
    policies: &[&str],
) -> Result<ExampleCounts, String> {
    let dir = ctx.workspace.join("interp/examples");
    let start_up_file = StartUp::write()?;
    let start_up_path = start_up_file.path.to_string_lossy().into_owned();
    let mut start_up = Vec::new();
    for policy in policies {
        ctx.step(format!("start-up under {policy}"));
        let counted = count(bin, &dir, &start_up_path, &[], policy)
            .map_err(|e| format!("the start-up program failed: {e}"))?;
        start_up.push(counted.instructions);
    }
    let mut examples = Vec::new();
    for program in &programs::SINGLE {
        let args = args_for(program, ctx.suite);
        let mut instructions = Vec::new();
        let mut first_output = None;
        for policy in policies {
            ctx.step(format!("{} under {policy}", program.name));
            let counted = count(bin, &dir, program.file, &args, policy)
                .map_err(|e| format!("a program failed: {e}"))?;
            match &first_output {
                None => first_output = Some(counted.stdout),
                Some(expected) if *expected != counted.stdout => {
                    return Err(format!(
                        "`{}` printed something else under {policy} than under {}",
                        program.name, policies[0]
                    ))
                }
                Some(_) => {}
            }
            instructions.push(counted.instructions);
        }
        examples.push(ExampleCount {
            program: *program,
            args,
            instructions,
        });
    }
    Ok(ExampleCounts { start_up, examples })
}

fn run(ctx: &Ctx) -> Outcome {
    if ctx.suite == Suite::Smoke {
        return Outcome::Skipped(
            "not in the smoke suite: twenty programs under callgrind take minutes".to_owned(),
        );
    }
    if !have_valgrind() {
        return Outcome::Skipped(
            "valgrind was not found (Debian: `apt-get install valgrind`)".to_owned(),
        );
    }
    let bin = match programs::build(ctx, programs::Build::Plain) {
        Ok(bin) => bin,
        Err(why) => return Outcome::Skipped(why),
    };
    let counts = match count_examples(ctx, &bin, &POLICIES) {
        Ok(counts) => counts,
        Err(why) => return Outcome::Skipped(why),
    };
    let start_up = &counts.start_up;
    let mut report = Report::new();
    for (policy, n) in POLICIES.iter().zip(start_up) {
        report.metric(m::start_up(policy), *n as f64);
    }
    let mut table = Table::new(&[
        "program",
        "`gil` instructions (start-up off)",
        "`biased` ÷ `gil`",
        "`deferred` ÷ `gil`",
        "`atomic` ÷ `gil`",
    ]);
    // Per policy (after `gil`), the ratios of every program.
    let mut ratios: Vec<Vec<f64>> = vec![Vec::new(); POLICIES.len() - 1];
    let mut lines = Vec::new();
    for (i, example) in counts.examples.iter().enumerate() {
        let name = example.program.name;
        lines.push(format!(
            "`{} {}`",
            example.program.file,
            example.args.join(" ")
        ));
        for (policy, n) in POLICIES.iter().zip(&example.instructions) {
            report.metric(m::program(name, policy), *n as f64);
        }
        // The programs' own work: start-up taken off, policy by policy.
        let gil = counts.own(i, 0);
        let mut row = vec![format!("`{name}`"), int(gil as u64)];
        for (k, policy) in POLICIES.iter().enumerate().skip(1) {
            let r = counts.own(i, k) / gil;
            report.metric(m::program_over_gil(name, policy), r);
            ratios[k - 1].push(r);
            row.push(fine_ratio(r));
        }
        table.row(row);
    }
    let mut row = vec!["geometric mean".to_owned(), String::new()];
    for (k, policy) in POLICIES.iter().enumerate().skip(1) {
        let g = geomean(&ratios[k - 1]);
        report.metric(m::geomean_over_gil(policy), g);
        row.push(fine_ratio(g));
    }
    table.row(row);
    report.para(format!(
        "`valgrind --tool=callgrind brisk run FILE ARGS --policy P` (the release build), \
         one run per program and policy: instructions executed by the whole process, \
         less its start-up ({} under `gil`, {} under `biased`: a one-line program under \
         each policy). The count repeats exactly for the same binary and input. \
         Programs: {}.",
        int(start_up[0]),
        int(start_up[1]),
        lines.join(", ")
    ));
    report.table(&table);
    report.para(
        "Instructions are not time: an owner check is a load, a compare and a branch that \
         the core predicts and overlaps with other work, and a cache miss is one \
         instruction. Read this table beside `whole_program.md`, whose wall times include \
         both.",
    );
    report.para(
        "The count repeats for one binary, not across builds: a change elsewhere in the code \
         can move the compiler's inlining and the split into codegen units, and with them \
         the count of a policy whose own code did not change, by up to about 2% here. \
         Compare two builds by their ratios, each measured within its own build.",
    );
    report.note("Every policy printed the same output as `gil` for every program.");
    // 2^18 pairs in the quick suite, against a set-up of a few million
    // instructions that the count without pairs takes off.
    let batches = ctx.suite.pick(1, 1 << 12, 1 << 14);
    if let Err(e) = per_pair(ctx, &mut report, batches) {
        report.note(format!("Per clone+drop pair: not counted ({e})."));
    }
    Outcome::Ran(report)
}

#[cfg(test)]
mod tests {
    use super::parse_collected;

    #[test]
    fn reads_callgrinds_total() {
        let stderr = "==4242== Callgrind, a call-graph generating cache profiler\n\
                      ==4242== Events    : Ir\n\
                      ==4242== Collected : 19129215\n\
                      ==4242== I   refs:      19,129,215\n";
        assert_eq!(parse_collected(stderr), Some(19_129_215));
        assert_eq!(parse_collected("valgrind: no such tool"), None);
    }
}
