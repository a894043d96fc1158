//! What the unit tests share: a value that counts its drops, in a `Brc`.

use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::sync::Arc;

use crate::Brc;

/// Counts how many times values tagged with it were dropped.
pub(crate) struct Tracked(pub(crate) Arc<AtomicUsize>);

impl Drop for Tracked {
    fn drop(&mut self) {
        self.0.fetch_add(1, SeqCst);
    }
}

/// A new `Brc<Tracked>` owned by this thread, and its drop counter.
pub(crate) fn tracked() -> (Brc<Tracked>, Arc<AtomicUsize>) {
    let drops = Arc::new(AtomicUsize::new(0));
    (Brc::new(Tracked(Arc::clone(&drops))), drops)
}

/// Runs the test `name` of this test binary again in a child process, with
/// `BRISK_CHILD` set, and asserts that the child was killed by `SIGABRT`:
/// how a test checks a path that must abort the process. The test body
/// does the aborting work when [`in_child`] is true.
pub(crate) fn assert_child_aborts(name: &str) {
    use std::os::unix::process::ExitStatusExt;
    let output = std::process::Command::new(std::env::current_exe().unwrap())
        .args(["--exact", name, "--nocapture", "--test-threads=1"])
        .env("BRISK_CHILD", "1")
        .output()
        .unwrap();
    const SIGABRT: i32 = 6;
    assert_eq!(
        output.status.signal(),
        Some(SIGABRT),
        "the child did not abort: {:?}\n{}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
}

/// Whether this process is the child of [`assert_child_aborts`].
pub(crate) fn in_child() -> bool {
    std::env::var_os("BRISK_CHILD").is_some()
}
