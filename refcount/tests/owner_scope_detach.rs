//! `thread::detach` inside an owner scope. A `LocalBrc` steps its object's
//! `local` count with a plain load and store, on the proof that its thread
//! stays the owner for the whole scope. A detach there would end that: a
//! thread giving up its last reference would find the owner gone and merge
//! the count itself, writing `local` under the handle's plain steps. So the
//! detach waits until the outermost scope closes.

use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::sync::Arc;
use std::thread;

use brisk_refcount::thread::detach;
use brisk_refcount::{owner_scope, Brc, LocalBrc};

/// Counts its drops.
struct Counted(Arc<AtomicUsize>);

impl Drop for Counted {
    fn drop(&mut self) {
        self.0.fetch_add(1, SeqCst);
    }
}

#[test]
fn a_detach_inside_an_owner_scope_waits_for_the_scope_to_close() {
    thread::spawn(|| {
        let drops = Arc::new(AtomicUsize::new(0));
        owner_scope(|scope| {
            let local = scope
                .localize(Brc::new(Counted(Arc::clone(&drops))))
                .ok()
                .expect("this thread made it");
            let theirs = LocalBrc::into_brc(local.clone());
            detach();
            // The other thread's drop is the first to take the shared count
            // below zero: it must queue the object to this thread, still its
            // owner, rather than merge it as a dead owner's.
            thread::spawn(move || drop(theirs)).join().unwrap();
            drop(local.clone());
            drop(local);
            assert_eq!(
                drops.load(SeqCst),
                0,
                "the detach ran inside the scope: another thread merged the count \
                 while a LocalBrc stepped it"
            );
        });
        // The scope closed, the detach ran and merged the queue.
        assert_eq!(
            drops.load(SeqCst),
            1,
            "freed exactly once when the detach ran"
        );
    })
    .join()
    .unwrap();
}

#[test]
fn a_detach_outside_any_scope_runs_at_once() {
    thread::spawn(|| {
        let drops = Arc::new(AtomicUsize::new(0));
        let mine = Brc::new(Counted(Arc::clone(&drops)));
        owner_scope(|_| {});
        let theirs = mine.clone();
        drop(mine);
        detach();
        // This thread is nobody's owner any more: the other thread's drop
        // merges the count and frees the object there.
        thread::spawn(move || drop(theirs)).join().unwrap();
        assert_eq!(drops.load(SeqCst), 1);
    })
    .join()
    .unwrap();
}
