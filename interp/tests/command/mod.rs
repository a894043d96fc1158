//! The `brisk` command as the CLI tests run it.

use std::path::PathBuf;
use std::process::{Command, Output};

/// `brisk` with `args`, in the examples' directory.
pub fn brisk(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_brisk"))
        .current_dir(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("examples"))
        .args(args)
        .output()
        .expect("the binary runs")
}
