//! A destructor that panics while its owner merges the objects other
//! threads queued to it: the panic reaches the caller of the safepoint, and
//! every other object of the same batch is still merged and freed, as a
//! `Vec` still drops its other items after one item's destructor panics.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::thread;

use brisk_refcount::{safepoint, Brc};

/// Drops of [`Counted`] values, for the one test of this file.
static DROPS: AtomicUsize = AtomicUsize::new(0);

struct Panics;

impl Drop for Panics {
    fn drop(&mut self) {
        panic!("a user destructor panics");
    }
}

struct Counted;

impl Drop for Counted {
    fn drop(&mut self) {
        DROPS.fetch_add(1, SeqCst);
    }
}

#[test]
fn a_destructor_that_panics_in_a_merge_loses_no_other_object() {
    thread::spawn(|| {
        let first = Brc::new(Panics);
        let second = Brc::new(Counted);
        let third = Brc::new(Counted);
        // The owner's references go; the other thread's are the last, and
        // each of its drops finds the shared count at zero and queues the
        // object back here, in this order.
        let theirs = (first.clone(), second.clone(), third.clone());
        drop((first, second, third));
        thread::spawn(move || drop(theirs)).join().unwrap();
        let merge = catch_unwind(AssertUnwindSafe(safepoint));
        assert!(
            merge.is_err(),
            "the first destructor's panic reaches the safepoint's caller"
        );
        assert_eq!(
            DROPS.load(SeqCst),
            2,
            "the rest of the batch was freed all the same"
        );
        assert_eq!(safepoint(), 0, "nothing is left queued");
    })
    .join()
    .unwrap();
}
