//! The `brisk` interpreter as a subprocess: building it, its example
//! programs, and running one with its peak memory.
//!
//! Whole programs run in their own process, so that a policy's cost is the
//! process's cost and nothing in brisk-lab (its allocator state, its
//! threads, the `stats` feature) leaks into it. Two builds are used:
//!
//! * the build of brisk-lab's own profile (release, when brisk-lab is
//!   run with `--release` as it should be for timings; debug for a debug
//!   brisk-lab, so that a debug `--smoke` reuses the test build), in
//!   brisk-lab's own target folder;
//! * a build with `--features stats`, in `target/lab-stats`, for the
//!   counters of `where_ops_go`. The counters must never be compiled into
//!   a binary that is timed, and a separate target folder keeps the two
//!   builds from overwriting each other;
//! * builds whose functions the linker lays out in a seeded random order
//!   ([`Build::Placed`]), in `target/lab-placement`, for the `placement`
//!   experiment. Only the final link differs between them, so each costs a
//!   relink of the `brisk` binary. `per_op_placement` links brisk-lab
//!   itself the same way ([`build_placed_lab`]).
//!
//! On a machine without cargo (a lent machine that gets prebuilt binaries
//! and the working tree), `brisk-lab --brisk PATH` times that binary
//! instead of building one; if cargo is simply not found, the `brisk` that
//! an earlier build left next to brisk-lab is used, with a message. The
//! `stats` build has no such fallback beyond an earlier `target/lab-stats`
//! build. The examples are read from `interp/examples/` of the workspace
//! at run time.

use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::time::{Duration, Instant};

use super::env::Binary;
use super::{Ctx, Suite};

/// One example program of `interp/examples/` and its arguments per suite.
#[derive(Copy, Clone, Debug)]
pub struct Program {
    /// Name in tables (the file name without `.brisk`, plus a variant).
    pub name: &'static str,
    /// File in `interp/examples/`.
    pub file: &'static str,
    /// Interpreters doing work at once (the main one only waits in the
    /// multi-interpreter examples).
    pub interpreters: usize,
    /// Arguments in the smoke suite (the program's defaults, tiny).
    pub smoke: &'static [&'static str],
    /// Arguments in the quick suite (about 0.2 s under `biased` on the
    /// 2-core dev box).
    pub quick: &'static [&'static str],
    /// Arguments in the full suite (about 1 s).
    pub full: &'static [&'static str],
}

impl Program {
    /// The arguments for `suite`.
    pub fn args(&self, suite: Suite) -> &'static [&'static str] {
        suite.pick(self.smoke, self.quick, self.full)
    }

    /// Whether it is one of the single-interpreter examples ([`SINGLE`]).
    pub fn is_single(&self) -> bool {
        SINGLE.iter().any(|p| p.name == self.name)
    }

    /// `file args…`, as a reader would type it after `brisk run`.
    pub fn command_line(&self, suite: Suite) -> String {
        let mut s = self.file.to_owned();
        for a in self.args(suite) {
            s.push(' ');
            s.push_str(a);
        }
        s
    }
}

/// The single-interpreter examples.
pub const SINGLE: [Program; 5] = [
    Program {
        name: "binary-trees",
        file: "binary-trees.brisk",
        interpreters: 1,
        smoke: &[],
        quick: &["11"],
        full: &["13"],
    },
    Program {
        name: "fib",
        file: "fib.brisk",
        interpreters: 1,
        smoke: &[],
        quick: &["29"],
        full: &["31"],
    },
    Program {
        name: "nbody",
        file: "nbody.brisk",
        interpreters: 1,
        smoke: &[],
        quick: &["5000"],
        full: &["25000"],
    },
    Program {
        name: "richards",
        file: "richards.brisk",
        interpreters: 1,
        smoke: &[],
        quick: &["5"],
        full: &["25"],
    },
    Program {
        name: "spectral-norm",
        file: "spectral-norm.brisk",
        interpreters: 1,
        smoke: &[],
        quick: &["80"],
        full: &["160"],
    },
];

/// The examples with several interpreters.
pub const MULTI: [Program; 4] = [
    Program {
        name: "pipeline",
        file: "pipeline.brisk",
        interpreters: 3,
        smoke: &[],
        quick: &["400", "500"],
        // 10^6 items: the program's check sums their squares in 64 bits.
        full: &["1000", "1000"],
    },
    // Records that stay in use in the interpreters they were shared with:
    // most counting is a non-owner's ([`CROSSING`]).
    Program {
        name: CROSSING,
        file: "window.brisk",
        interpreters: 3,
        smoke: &[],
        quick: &["100", "50", "32"],
        full: &["200", "50", "64"],
    },
    Program {
        name: "parallel-map/1",
        file: "parallel-map.brisk",
        interpreters: 1,
        smoke: &["1"],
        quick: &["1", "48", "400"],
        full: &["1", "48", "1200"],
    },
    Program {
        name: "parallel-map/2",
        file: "parallel-map.brisk",
        interpreters: 2,
        smoke: &["2"],
        quick: &["2", "48", "400"],
        full: &["2", "48", "1200"],
    },
];

/// The example whose objects really cross: `window.brisk`, whose later
/// stages keep the records another interpreter made and read them over and
/// over, so that most of its counting operations are a non-owner's (the
/// other examples take the shared path for a tiny share of theirs).
pub const CROSSING: &str = "window";

/// Every example, single-interpreter first.
pub fn all() -> Vec<Program> {
    SINGLE.iter().chain(MULTI.iter()).copied().collect()
}

/// The `brisk` policies, in table order (`gil` first: the baseline).
pub const POLICIES: [&str; 4] = ["gil", "biased", "deferred", "atomic"];

/// The single-thread targets brisk sets itself on whole programs, as
/// ratios to `gil`: `biased` within 2%, `deferred` within 3%, in
/// instructions and in time over code placements. CPython 3.14's
/// free-threaded build reports 5–10% on x86-64 Linux.
pub const TARGETS: [(&str, f64); 2] = [("biased", 1.02), ("deferred", 1.03)];

/// Why the interpreter cannot be used, or `None` if its crate is here.
pub fn missing(ctx: &Ctx) -> Option<String> {
    let manifest = ctx.workspace.join("interp/Cargo.toml");
    if !manifest.exists() {
        return Some(
            "the `interp` crate (the `brisk` binary) is not in this workspace yet".to_owned(),
        );
    }
    None
}

/// Which `brisk` binary to build.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Build {
    /// As a user builds it: brisk-lab's own profile and flags, in its own
    /// target folder. Timed.
    Plain,
    /// With `--features stats`, in `target/lab-stats`. Counted, never timed.
    Stats,
    /// As [`Build::Plain`], linked with its functions in an order drawn
    /// from this seed (LLD's `--shuffle-sections`), in
    /// `target/lab-placement`. The code is the same; only where each
    /// function lands differs. Needs the LLD linker, Rust's default on
    /// x86-64 Linux since 1.90.
    Placed(u64),
}

/// Builds the `brisk` binary in this executable's profile, as `build`
/// says, and returns its path. Cargo's output is captured; on failure its
/// last lines are the error. For [`Build::Plain`], a `--brisk` binary is
/// returned as it is; if cargo cannot be found, the binary an earlier
/// build left is used, except for a [`Build::Placed`] one.
pub fn build(ctx: &Ctx, build: Build) -> Result<PathBuf, String> {
    if let Some(why) = missing(ctx) {
        return Err(why);
    }
    let bin = match (&ctx.brisk, build) {
        // Absolute: the program runs in `interp/examples/`.
        (Some(bin), Build::Plain) => bin
            .canonicalize()
            .map_err(|e| format!("--brisk {}: {e}", bin.display()))?,
        _ => cargo_build(ctx, ("brisk-interp", "brisk"), build)?,
    };
    ctx.timed_binary(Binary::Brisk, &bin);
    Ok(bin)
}

/// Links brisk-lab itself again with its functions placed by `seed`
/// ([`Build::Placed`]) and returns the new executable's path, for the
/// experiments that time brisk-lab's own code over placements
/// (`per_op_placement`). Needs cargo: a placement is a fresh link.
pub fn build_placed_lab(ctx: &Ctx, seed: u64) -> Result<PathBuf, String> {
    let bin = cargo_build(ctx, ("brisk-bench", "brisk-lab"), Build::Placed(seed))?;
    ctx.timed_binary(Binary::BriskLab, &bin);
    Ok(bin)
}

/// Builds binary `bin` of `package` in this executable's profile, as
/// `build` says (see [`build`]).
fn cargo_build(
    ctx: &Ctx,
    (package, bin_name): (&str, &str),
    build: Build,
) -> Result<PathBuf, String> {
    let target = match build {
        Build::Plain => ctx.target_dir.clone(),
        Build::Stats => ctx.workspace.join("target/lab-stats"),
        Build::Placed(_) => ctx.workspace.join("target/lab-placement"),
    };
    // The same profile as this executable.
    let (profile_flag, profile_dir) = if cfg!(debug_assertions) {
        (None, "debug")
    } else {
        (Some("--release"), "release")
    };
    let bin = target.join(profile_dir).join(bin_name);
    let subcommand = match build {
        // `cargo rustc` passes flags to the final crate only, so the
        // dependencies are built once for every seed.
        Build::Placed(_) => "rustc",
        Build::Plain | Build::Stats => "build",
    };
    ctx.step(format!(
        "building {bin_name}{} (cargo {subcommand}{} -p {package}{})",
        match build {
            Build::Plain => String::new(),
            Build::Stats => " with stats".to_owned(),
            Build::Placed(seed) => format!(", functions placed by seed {seed}"),
        },
        profile_flag.map_or(String::new(), |f| format!(" {f}")),
        if build == Build::Stats {
            " --features stats"
        } else {
            ""
        },
    ));
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut cmd = Command::new(cargo);
    cmd.current_dir(&ctx.workspace)
        .arg(subcommand)
        .args(profile_flag)
        .args(["-p", package, "--bin", bin_name])
        .arg("--target-dir")
        .arg(&target)
        .env_remove("CARGO_TARGET_DIR")
        .stdin(Stdio::null());
    match build {
        Build::Plain => {}
        Build::Stats => {
            cmd.args(["--features", "stats"]);
        }
        Build::Placed(seed) => {
            // `*` shuffles every input section; text sections are one
            // function each (rustc's default), so functions move and each
            // keeps its own alignment.
            cmd.arg("--")
                .arg("-C")
                .arg(format!("link-arg=-Wl,--shuffle-sections=*={seed}"));
        }
    }
    let output = match cmd.output() {
        Ok(output) => output,
        // A placed build is only the link of its own seed: an earlier one
        // would be another placement under this seed's name.
        Err(e)
            if e.kind() == std::io::ErrorKind::NotFound
                && bin.is_file()
                && !matches!(build, Build::Placed(_)) =>
        {
            ctx.say(format!(
                "{}: cargo not found; using the {bin_name} already built at {}",
                ctx.name,
                bin.display()
            ));
            return Ok(bin);
        }
        Err(e) => {
            let hint = match (build, package) {
                (Build::Plain, "brisk-interp") => " (without cargo, pass --brisk PATH)",
                _ => "",
            };
            return Err(format!("could not run cargo: {e}{hint}"));
        }
    };
    if !output.status.success() {
        let stderr = String::from_utf8_lossy(&output.stderr);
        let tail: Vec<&str> = stderr.lines().rev().take(12).collect();
        let tail: Vec<&str> = tail.into_iter().rev().collect();
        return Err(format!("building {package} failed: {}", tail.join(" / ")));
    }
    if bin.exists() {
        Ok(bin)
    } else {
        Err(format!(
            "cargo built {package} but {} is missing",
            bin.display()
        ))
    }
}

/// What one run of a program printed and cost.
pub struct Run {
    /// Wall time from spawn to exit, measured by the `measure` helper.
    pub wall: Duration,
    /// Peak resident set of the program, bytes (see [`measure_main`]).
    pub max_rss: u64,
    /// Standard output.
    pub stdout: String,
    /// Standard error.
    pub stderr: String,
}

/// Runs `bin args` in `dir` through `brisk-lab measure` (`exe`) and
/// returns what it printed and cost. Fails if it cannot start or exits
/// unsuccessfully.
pub fn run(exe: &Path, bin: &Path, args: &[String], dir: &Path) -> Result<Run, String> {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let report = std::env::temp_dir().join(format!(
        "brisk-lab-{}-{}.json",
        std::process::id(),
        NEXT.fetch_add(1, Relaxed)
    ));
    let output = Command::new(exe)
        .arg("measure")
        .arg("--report")
        .arg(&report)
        .arg("--")
        .arg(bin)
        .args(args)
        .current_dir(dir)
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("could not start {}: {e}", exe.display()))?;
    let measured = std::fs::read_to_string(&report);
    let _ = std::fs::remove_file(&report);
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    if !output.status.success() {
        return Err(format!(
            "`{} {}` failed ({}): {}",
            bin.display(),
            args.join(" "),
            output.status,
            stderr.trim()
        ));
    }
    let measured: serde_json::Value = measured
        .map_err(|e| format!("the measure helper wrote no report: {e}"))
        .and_then(|t| serde_json::from_str(&t).map_err(|e| e.to_string()))?;
    let get = |k: &str| {
        measured
            .get(k)
            .and_then(serde_json::Value::as_u64)
            .unwrap_or(0)
    };
    Ok(Run {
        wall: Duration::from_nanos(get("wall_ns")),
        max_rss: get("max_rss"),
        stdout,
        stderr,
    })
}

/// The `measure` subcommand: runs `program args` with this process's
/// standard streams, waits for it with `wait4`, writes its wall time and
/// peak RSS as JSON to `report`, and returns its exit code.
///
/// Why a helper process: Linux carries the peak RSS of the address space a
/// program was `exec`ed from into its `ru_maxrss`, so a program spawned by
/// brisk-lab itself (tens of MiB after the micro-benchmarks) would report
/// at least brisk-lab's peak. The helper is a fresh, small brisk-lab
/// process, so the figure is the program's own peak or the helper's few MiB
/// at start, whichever is larger.
pub fn measure_main(report: &Path, program: &Path, args: &[String]) -> Result<i32, String> {
    let start = Instant::now();
    let child = Command::new(program)
        .args(args)
        .spawn()
        .map_err(|e| format!("could not start {}: {e}", program.display()))?;
    let (status, max_rss) = wait4(child.id())?;
    let wall = start.elapsed();
    // `child` was reaped by `wait4`; dropping it neither waits nor kills.
    drop(child);
    let json = serde_json::json!({
        "wall_ns": u64::try_from(wall.as_nanos()).unwrap_or(u64::MAX),
        "max_rss": max_rss,
        "code": status.code(),
    });
    std::fs::write(report, json.to_string()).map_err(|e| e.to_string())?;
    Ok(status.code().unwrap_or(1))
}

/// Waits for child `pid` and returns its status and peak RSS in bytes.
fn wait4(pid: u32) -> Result<(ExitStatus, u64), String> {
    let pid = libc::pid_t::try_from(pid).map_err(|e| e.to_string())?;
    let mut status: libc::c_int = 0;
    // SAFETY: `rusage` is plain data that `wait4` fills in; all-zero bytes
    // are a valid value of it.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    loop {
        // SAFETY: `status` and `usage` are valid for writes for the whole
        // call; `pid` is our own unreaped child.
        let r = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
        if r == pid {
            break;
        }
        let e = std::io::Error::last_os_error();
        if e.kind() != std::io::ErrorKind::Interrupted {
            return Err(format!("wait4: {e}"));
        }
    }
    // Linux reports ru_maxrss in KiB.
    let max_rss = u64::try_from(usage.ru_maxrss).unwrap_or(0) * 1024;
    Ok((ExitStatus::from_raw(status), max_rss))
}

/// Runs example `program` under `policy` with `bin`, with the suite's
/// arguments; `extra` goes after `--policy` (for example `--stats`).
pub fn run_example(
    ctx: &Ctx,
    bin: &Path,
    program: &Program,
    policy: &str,
    extra: &[&str],
) -> Result<Run, String> {
    let args: Vec<String> = program
        .args(ctx.suite)
        .iter()
        .map(|s| s.to_string())
        .collect();
    run_file(ctx, bin, program.file, &args, policy, extra)
}

/// Runs `brisk run FILE ARGS --policy POLICY EXTRA` with `bin`, `file`
/// being in `interp/examples/`.
pub fn run_file(
    ctx: &Ctx,
    bin: &Path,
    file: &str,
    args: &[String],
    policy: &str,
    extra: &[&str],
) -> Result<Run, String> {
    let dir = ctx.workspace.join("interp/examples");
    run_file_in(ctx, bin, (&dir, file), args, policy, extra)
}

/// Runs `brisk run FILE ARGS --policy POLICY EXTRA` with `bin` in folder
/// `dir`, where `file` is.
pub fn run_file_in(
    ctx: &Ctx,
    bin: &Path,
    (dir, file): (&Path, &str),
    args: &[String],
    policy: &str,
    extra: &[&str],
) -> Result<Run, String> {
    let mut all: Vec<String> = vec!["run".into(), file.into()];
    all.extend_from_slice(args);
    all.push("--policy".into());
    all.push(policy.into());
    all.extend(extra.iter().map(|s| s.to_string()));
    run(&ctx.exe, bin, &all, dir)
}
