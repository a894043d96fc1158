//! Helpers shared by the interpreter's integration tests.

/// Waits (briefly) for reclamation that the `Deferred` policy postpones by
/// an epoch to finish, then returns the live-object count. A teardown can
/// leave the last epoch's frees pending (see the crate docs); collecting
/// again applies them.
#[allow(
    dead_code,
    reason = "each test binary that includes this module uses some of its helpers"
)]
pub fn settled_live_objects(expected: usize) -> usize {
    for _ in 0..100 {
        brisk_refcount::safepoint();
        brisk_gc::collect(64);
        if brisk_runtime::live_objects() == expected {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(1));
    }
    brisk_runtime::live_objects()
}

/// The names of the `.brisk` programs in `dir`, without the extension,
/// sorted.
#[allow(
    dead_code,
    reason = "each test binary that includes this module uses some of its helpers"
)]
pub fn programs_in(dir: &std::path::Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .filter_map(|entry| {
            let name = entry.ok()?.file_name().into_string().ok()?;
            name.strip_suffix(".brisk").map(str::to_owned)
        })
        .collect();
    names.sort();
    names
}
