//! Golden-output runs shared by `examples.rs` and `benchmarks.rs`: a
//! program run in-process under every counting policy must print exactly
//! its `.out` file and leave no object behind.
//!
//! The runtime's live-object counter is process-wide, so every run in a
//! test binary holds [`SERIAL`].

use std::path::Path;
use std::sync::{Arc, Mutex};

use brisk_interp::{run_with_policy, Limits, Policy, RunOptions, Source};

use crate::common::{programs_in, settled_live_objects};

/// Serialises the golden runs of one test binary.
static SERIAL: Mutex<()> = Mutex::new(());

/// Runs `<dir>/<name>.brisk` in-process under `policy` with `args` and
/// returns what it printed.
fn run_program(dir: &Path, name: &str, args: &[&str], policy: Policy) -> String {
    let path = dir.join(format!("{name}.brisk"));
    let text = std::fs::read_to_string(&path).expect("the program exists");
    let source = Source::new(format!("{name}.brisk"), text);
    let output = Arc::new(Mutex::new(Vec::<u8>::new()));
    let options = RunOptions {
        args: args.iter().map(|arg| (*arg).to_owned()).collect(),
        output: output.clone(),
        limits: Limits::default(),
    };
    if let Err(diagnostic) = run_with_policy(policy, &source, options) {
        panic!("{name} failed under {}:\n{diagnostic}", policy.name());
    }
    let bytes = output.lock().unwrap().clone();
    String::from_utf8(bytes).expect("output is UTF-8")
}

/// `<dir>/<name>.brisk`, run with `args`, prints `<dir>/<name>.out` under
/// every policy, and the live-object counter is back to zero after each
/// run.
pub fn check(dir: &Path, name: &str, args: &[&str]) {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let expected =
        std::fs::read_to_string(dir.join(format!("{name}.out"))).expect("the golden output exists");
    for policy in Policy::ALL {
        assert_eq!(
            brisk_runtime::live_objects(),
            0,
            "objects alive before {name} under {}",
            policy.name()
        );
        let printed = run_program(dir, name, args, policy);
        assert_eq!(printed, expected, "{name} under {}", policy.name());
        assert_eq!(
            settled_live_objects(0),
            0,
            "{name} leaked objects under {}",
            policy.name()
        );
    }
}

/// The `.brisk` programs in `dir` are exactly `names` (so each has a test
/// that calls [`check`]), and each has a file of every extension in
/// `companions` beside it (its `.out`, say).
pub fn check_folder(dir: &Path, names: &[&str], companions: &[&str]) {
    let found = programs_in(dir);
    let mut expected: Vec<String> = names.iter().map(|s| s.to_string()).collect();
    expected.sort();
    assert_eq!(found, expected);
    for name in names {
        for ext in companions {
            let file = dir.join(format!("{name}.{ext}"));
            assert!(file.exists(), "{}", file.display());
        }
    }
}
