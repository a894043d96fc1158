//! brisk-lab's own child processes.
//!
//! Some figures belong to one configuration alone and to nothing else the
//! process did: a peak resident set above all, which Linux keeps per
//! process and never lowers. Such a configuration runs in a fresh
//! brisk-lab process: the parent runs `brisk-lab SUBCOMMAND ARGS…` (a
//! hidden subcommand of `src/bin/brisk-lab.rs`), the child runs the
//! configuration and prints one JSON object on stdout, and [`run_json`]
//! reads it back into the type the child wrote.

use std::process::{Command, Stdio};

use serde::de::DeserializeOwned;

use super::Ctx;

/// Runs `brisk-lab ARGS…` (this executable) and reads what it printed on
/// stdout as a `T`. Fails if the child cannot start, exits unsuccessfully
/// (with its stderr in the message) or prints something else.
pub fn run_json<T: DeserializeOwned>(ctx: &Ctx, args: &[String]) -> Result<T, String> {
    let what = format!("brisk-lab {}", args.join(" "));
    let output = Command::new(&ctx.exe)
        .args(args)
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("could not start {what}: {e}"))?;
    if !output.status.success() {
        return Err(format!(
            "{what} failed ({}): {}",
            output.status,
            String::from_utf8_lossy(&output.stderr).trim()
        ));
    }
    serde_json::from_slice(&output.stdout).map_err(|e| format!("{what} printed no report: {e}"))
}
