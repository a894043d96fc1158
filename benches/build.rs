//! Records the compiler that builds brisk-lab (`rustc -V`), for the
//! environment brisk-lab writes next to its results.

use std::process::Command;

fn main() {
    let rustc = std::env::var("RUSTC").unwrap_or_else(|_| "rustc".to_owned());
    let version = Command::new(&rustc)
        .arg("-V")
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
        .unwrap_or_else(|| "unknown rustc".to_owned());
    println!("cargo:rustc-env=BRISK_LAB_RUSTC={version}");
    println!("cargo:rerun-if-env-changed=RUSTC");
}
