//! Loom model of the owner-proven handle under `Deferred`: a
//! `LocalBrc<Deferred>` held across the queue merge that a non-owner's
//! deferred decrement causes. The handle trusts `local` alone, so the
//! merge (which stores `DISOWNED` there) must send its next clone and drop
//! to the policy's full paths, and the merge's own `-1` is deferred as
//! usual.
#![cfg(loom)]

mod loom_support;

use std::sync::atomic::{AtomicUsize, Ordering::Relaxed};

use brisk_refcount::{owner_scope, LocalBrc};
use loom::sync::mpsc;
use loom_support::{check, finish, spawn_deferring_non_owner, spawn_gated, Drops, Obj};

/// Executions in which the owner merged the object while holding the
/// handle.
static MERGED_UNDER_HANDLE: AtomicUsize = AtomicUsize::new(0);

/// Interleaving: owner `O` makes `x`, holds it as a `LocalBrc` and lends
/// a clone (counted on `local`) to the attached non-owner `T`. `T` reads
/// and drops it (a buffered `-1`) and runs three safepoints, which defer,
/// then apply the `-1`: `Published` count 0, so the object is queued to
/// `O`. Meanwhile `O` runs a safepoint inside the scope, then clones and
/// drops the handle: before the merge on the fast paths, after
/// it (`local` disowned) on `Deferred`'s non-owner paths (applied at once: `O`
/// is not attached, so it never holds the epoch back).
/// `O` drops the handle last.
///
/// Property: every read happens-before the free, and the object is freed
/// exactly once. The model also asserts that some explored execution
/// really merged while the handle was held.
#[test]
fn deferred_local_handle_survives_a_queue_merge() {
    MERGED_UNDER_HANDLE.store(0, Relaxed);
    check(|| {
        let drops = Drops::default();
        let d = drops.clone();
        let (to_t, from_o) = mpsc::channel::<Obj>();
        let owner = spawn_gated(move || {
            owner_scope(|scope| {
                let x = scope.localize(d.object()).ok().unwrap();
                to_t.send(LocalBrc::into_brc(x.clone())).unwrap();
                let merged = brisk_gc::safepoint();
                let copy = x.clone();
                copy.check();
                drop(copy);
                if merged > 0 {
                    MERGED_UNDER_HANDLE.fetch_add(1, Relaxed);
                }
                x.check();
                drop(x);
            });
            brisk_gc::safepoint();
        });
        let non_owner = spawn_deferring_non_owner(from_o);
        finish(vec![owner, non_owner], vec![], &[drops]);
    });
    let merged = MERGED_UNDER_HANDLE.load(Relaxed);
    eprintln!("executions with a merge under the handle: {merged}");
    assert!(merged > 0, "no explored execution merged under the handle");
}
