//! The C programs: every example in `capi/examples/` and the benchmark in
//! `capi/bench/`, built with the system C compiler against this crate's
//! static library and `include/brisk.h`, and run.
//!
//! Examples must exit with status 0. `BRISK_CAPI_SANITIZE=address` builds
//! them with AddressSanitizer, and `BRISK_CAPI_SANITIZE=valgrind` runs them
//! under valgrind's memcheck instead; CI runs both once. The C compiler is
//! `$CC`, or `cc`.
//!
//! The benchmark runs three rounds here, as a smoke test that makes no
//! claim. `BRISK_CAPI_BENCH_OUT=<file>` runs it in full (41 rounds) and
//! writes its report to the file; run it with `--release`, so that the
//! library's slow paths are optimised too.
//!
//! `cargo test` builds this crate as an rlib only, so the static library
//! the C programs link is built here, by `cargo build` into a target
//! folder of its own (`<target>/capi-staticlib`), so as not to wait on the
//! lock of the one this test runs from.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

/// The directory cargo builds this crate's libraries into: the parent of
/// the `deps/` folder holding this test binary.
fn profile_dir() -> PathBuf {
    let exe = std::env::current_exe().expect("the test binary's path");
    exe.parent()
        .and_then(Path::parent)
        .expect("test binaries live in <target>/<profile>/deps")
        .to_path_buf()
}

/// The static library, built once per test run (module docs).
fn static_library() -> &'static Path {
    static LIBRARY: OnceLock<PathBuf> = OnceLock::new();
    LIBRARY.get_or_init(|| {
        let profile_dir = profile_dir();
        let target = profile_dir
            .parent()
            .expect("<target>/<profile>")
            .join("capi-staticlib");
        let release = profile_dir
            .file_name()
            .is_some_and(|name| name == "release");
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
        let mut build = Command::new(cargo);
        build
            .args(["build", "-p", "brisk-capi", "--lib"])
            .env("CARGO_TARGET_DIR", &target)
            .current_dir(env!("CARGO_MANIFEST_DIR"));
        if release {
            build.arg("--release");
        }
        let output = build.output().expect("cargo starts");
        assert!(
            output.status.success(),
            "building libbrisk_capi.a failed:\n{}",
            String::from_utf8_lossy(&output.stderr)
        );
        target
            .join(if release { "release" } else { "debug" })
            .join("libbrisk_capi.a")
    })
}

/// How the examples are checked, from `BRISK_CAPI_SANITIZE`.
#[derive(Copy, Clone, PartialEq, Eq, Debug)]
enum Check {
    Plain,
    Address,
    Valgrind,
}

fn check() -> Check {
    match std::env::var("BRISK_CAPI_SANITIZE").as_deref() {
        Err(_) | Ok("") => Check::Plain,
        Ok("address") => Check::Address,
        Ok("valgrind") => Check::Valgrind,
        Ok(other) => panic!("BRISK_CAPI_SANITIZE={other}: use `address` or `valgrind`"),
    }
}

/// Compiles `source` into `out` with the optimisation flags `opt`,
/// returning the compiler's diagnostics on failure.
fn compile(source: &Path, out: &Path, check: Check, opt: &[&str]) -> Result<(), String> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    let compiler = std::env::var("CC").unwrap_or_else(|_| "cc".to_owned());
    let mut cc = Command::new(compiler);
    cc.args(["-std=c11", "-Wall", "-Wextra", "-Werror", "-g"])
        .args(opt)
        .arg("-I")
        .arg(dir.join("include"))
        .arg(source)
        .arg(static_library())
        .args(["-lpthread", "-ldl", "-lm"])
        .arg("-o")
        .arg(out);
    if check == Check::Address {
        cc.args(["-fsanitize=address", "-fno-omit-frame-pointer"]);
    }
    let output = cc
        .output()
        .map_err(|e| format!("cannot run the C compiler: {e}"))?;
    if output.status.success() {
        Ok(())
    } else {
        Err(String::from_utf8_lossy(&output.stderr).into_owned())
    }
}

#[test]
fn every_c_example_builds_and_runs() {
    let check = check();
    let examples = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples");
    let mut sources: Vec<PathBuf> = std::fs::read_dir(&examples)
        .expect("capi/examples exists")
        .map(|entry| entry.expect("a directory entry").path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "c"))
        .collect();
    sources.sort();
    assert!(
        !sources.is_empty(),
        "no C examples in {}",
        examples.display()
    );
    let out_dir = profile_dir().join("capi-examples");
    std::fs::create_dir_all(&out_dir).expect("the output folder");
    let mut failures = Vec::new();
    for source in &sources {
        let name = source.file_stem().expect("a file name").to_string_lossy();
        let binary = out_dir.join(format!("{name}-{check:?}"));
        if let Err(diagnostics) = compile(source, &binary, check, &["-O1"]) {
            failures.push(format!("{name}: does not build:\n{diagnostics}"));
            continue;
        }
        let mut run = if check == Check::Valgrind {
            let mut valgrind = Command::new("valgrind");
            valgrind
                .args(["--error-exitcode=99", "--leak-check=no", "-q"])
                .arg(&binary);
            valgrind
        } else {
            Command::new(&binary)
        };
        let output = run.output().expect("the example starts");
        if !output.status.success() {
            failures.push(format!(
                "{name}: {}\nstdout:\n{}\nstderr:\n{}",
                output.status,
                String::from_utf8_lossy(&output.stdout),
                String::from_utf8_lossy(&output.stderr)
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

/// Builds the benchmark with the optimisation flags `opt` and runs it with
/// `args`, returning its standard output.
fn run_benchmark(name: &str, opt: &[&str], args: &[&str]) -> String {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    let binary = profile_dir().join(name);
    compile(&dir.join("bench/owner_path.c"), &binary, Check::Plain, opt)
        .unwrap_or_else(|diagnostics| panic!("owner_path.c does not build:\n{diagnostics}"));
    let output = Command::new(&binary)
        .args(args)
        .output()
        .expect("the benchmark starts");
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    assert!(
        output.status.success(),
        "{}\n{stdout}\n{}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    stdout
}

/// The benchmark's build. Where a tight loop happens to start moves the
/// owner/plain ratio by a fifth or more, so the report gives it under two
/// other code layouts beside it.
const BUILD: [&str; 1] = ["-O2"];

#[test]
fn the_owner_path_benchmark_runs() {
    let Some(out) = std::env::var_os("BRISK_CAPI_BENCH_OUT") else {
        let report = run_benchmark("capi-owner-path", &BUILD, &["3"]);
        assert!(report.contains("| owner / plain |"), "{report}");
        return;
    };
    let report = run_benchmark("capi-owner-path", &BUILD, &["41"]);
    let other_layouts: Vec<String> = [
        &["-O2", "-falign-loops=32"][..],
        &["-O2", "-funroll-loops"][..],
    ]
    .iter()
    .map(|opt| {
        let median = run_benchmark("capi-owner-path-layout", opt, &["21", "median"]);
        format!("| `cc {}` | {}× |", opt.join(" "), median.trim())
    })
    .collect();
    let commit = Command::new("git")
        .args(["describe", "--always", "--dirty", "--abbrev=10"])
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map_or_else(
            || "unknown commit".to_owned(),
            |o| String::from_utf8_lossy(&o.stdout).trim().to_owned(),
        );
    let document = format!(
        "# The C owner path against plain and atomic counting\n\n\
         > Is the inline owner path of `brisk.h` as cheap as a plain C counter, \
         and how much cheaper than an atomic one?\n\n\
         Measured at commit {commit}. Reproduce with \
         `BRISK_CAPI_BENCH_OUT=papers/results/capi_owner_path.md \
         cargo test --release -p brisk-capi --test c_programs -- owner_path` \
         (`capi/bench/owner_path.c`, built with `cc {}`). Goals: \
         owner ≤ 1.3× plain, atomic ≥ 5× owner.\n\n{report}\n\
         The ratio of the owner path to a plain counter depends on code layout. \
         The same program built two other ways, in the same run \
         (median owner/plain of 21 rounds):\n\n\
         | build | owner / plain |\n|---|---|\n{}\n\n\
         Unrolling turns the plain loop into bare memory adds. The owner path is a \
         compare of the header's owner with a thread-local, a load, an add, a sign \
         test and a store; a plain counter is one read-modify-write of memory.\n",
        BUILD.join(" "),
        other_layouts.join("\n"),
    );
    std::fs::write(out, document).expect("BRISK_CAPI_BENCH_OUT is writable");
}
