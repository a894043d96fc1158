//! Deferred decrements travel in batches, not one closure per object.
//!
//! The epoch collector runs a bounded number of deferred closures per
//! collection step (crossbeam-epoch's bags), so work deferred one closure
//! per object drains no faster than that bound however often threads reach
//! safepoints: under a burst (a cycle collection releasing a large garbage
//! graph, a consumer dropping many objects) the backlog, and the memory
//! behind it, grows. The owner's last references to published objects and
//! the merges of queued objects must therefore join a per-thread batch.

use std::sync::mpsc;

use brisk_gc::Deferred;
use brisk_refcount::Brc;

const OBJECTS: usize = 1000;

#[test]
fn the_owners_last_references_are_deferred_in_batches() {
    let _attached = brisk_gc::attach();
    let objects: Vec<Brc<u64, Deferred>> = (0..OBJECTS as u64).map(Brc::new_with_policy).collect();
    // Another attached thread counts on every object once (net zero), so
    // each is published and its owner's last reference must be deferred.
    let (done_tx, done_rx) = mpsc::channel();
    std::thread::scope(|s| {
        s.spawn(|| {
            let _attached = brisk_gc::attach();
            for object in &objects {
                drop(Brc::clone(object));
            }
            brisk_gc::safepoint();
            done_tx.send(()).unwrap();
        });
        done_rx.recv().unwrap();
    });
    let before = brisk_gc::garbage().deferred_batches;
    drop(objects);
    let batches = brisk_gc::garbage().deferred_batches - before;
    assert!(
        batches <= OBJECTS / 64,
        "{OBJECTS} last references made {batches} deferred batches"
    );
    drop(_attached);
    let left = brisk_gc::collect(64);
    assert!(left.is_empty(), "{left:?}");
}
