//! The child process of the `send` bench's subprocess baseline.
//!
//! Serves frames on standard input and output with
//! [`brisk_bench::wire::serve_child`]; exits non-zero on a frame it cannot
//! decode, so the bench's read of the acks fails.

use std::io;
use std::process::ExitCode;

fn main() -> ExitCode {
    match brisk_bench::wire::serve_child(io::stdin().lock(), io::stdout().lock()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("brisk-send-child: {e}");
            ExitCode::FAILURE
        }
    }
}
