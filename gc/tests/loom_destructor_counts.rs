//! Loom model of a destructor that counts, run by a safepoint's collection
//! step: `guard.flush()` drops a retired slot value on the attached thread
//! that collects, and the value's `Drop` clones a `Brc<_, Deferred>` it
//! holds but that thread does not own — a non-owner increment, buffered in
//! the pin period that is about to end. The safepoint must apply it before
//! it repins: a decrement deferred meanwhile by another thread may be
//! applied one epoch after the repin, and without the `+1` it would free
//! the object under the clone.
#![cfg(loom)]

mod loom_support;

use brisk_gc::AtomicSlot;
use brisk_refcount::Brc;
use loom::sync::{mpsc, Mutex};
use loom::thread::{self, ThreadId};
use loom_support::{check, finish, spawn_gated, Deferred, Drops, Obj, Payload};

/// A value whose destructor hands the object it holds over to another
/// thread together with a clone of it (one clone, no drop: a net `+1` on
/// the dropping thread), and, when it runs on the thread that made it,
/// waits for that thread to say it has given the handed-over reference up.
struct Holder {
    payload: Payload,
    y: Option<Obj>,
    hand_over: Mutex<mpsc::Sender<(Obj, Obj, bool)>>,
    given_up: Mutex<mpsc::Receiver<()>>,
    maker: ThreadId,
}

impl Drop for Holder {
    fn drop(&mut self) {
        self.payload.check();
        let y = self.y.take().expect("dropped once");
        let kept = y.clone(); // non-owner: +1, buffered if attached
        let waits = thread::current().id() == self.maker;
        self.hand_over
            .lock()
            .unwrap()
            .send((y, kept, waits))
            .unwrap();
        if waits {
            // The collecting thread stays inside its collection step here
            // while the other thread drops `y` and moves the epoch on.
            self.given_up.lock().unwrap().recv().unwrap();
        }
    }
}

/// Interleaving: `E` makes `y0` and lends a clone to `D`, which clones `y`
/// from it (detached: `Published`, `+1` applied) and sends the clone back;
/// `E` drops both of its references (`local` 0 on a published object:
/// merged at 2, its `-1` deferred). `D` makes the holder `X` (holding `y`),
/// stores it in a slot and clears the slot (`X` retired), and pushes the
/// retirement to the domain with a safepoint. `E` attaches, tells `D` to
/// attach, and runs safepoint `A`, whose collection step advances the epoch
/// to where `X`'s retirement expires; `D` attaches and runs safepoints until
/// `X` was dropped in one of them. `X`'s destructor runs on whichever
/// thread collects it. When `E` is preempted between its epoch advance and
/// its collection, `D` — pinned in that same epoch, with `E` lagging one
/// behind — collects `X`: the destructor buffers `+1` on `D` and hands `y`
/// and the clone `kept` to `E`, then waits. `E` drops `y` (buffered `-1`),
/// runs safepoint `B` (the `-1` deferred in the current epoch; the epoch
/// advances, since `D` is pinned in it) and lets the destructor return. `D`
/// finishes its safepoint and repins, one epoch on. `E` runs safepoint `C`,
/// which advances the epoch again and applies its `-1`, then reads `kept`.
///
/// Property: the safepoint that ran the destructor applied its `+1` before
/// repinning, so `E`'s `-1` leaves the count at 1 and `kept`'s read
/// happens-before the single free of `y0`'s object. (A safepoint that
/// repins with the `+1` still buffered lets `C` free the object under
/// `kept`: "payload used after it was dropped".) `X` is dropped exactly
/// once.
#[test]
fn destructor_clone_in_collection_step_is_applied_before_repin() {
    check(|| {
        let y_drops = Drops::default();
        let x_drops = Drops::default();
        let (yd, xd) = (y_drops.clone(), x_drops.clone());
        let (lend, lent) = mpsc::channel::<Obj>();
        let (give_back, given_back) = mpsc::channel::<Obj>();
        let (merged_tx, merged) = mpsc::channel::<()>();
        let (pushed_tx, pushed) = mpsc::channel::<()>();
        let (go_tx, go) = mpsc::channel::<()>();
        let (hand_over, handed_over) = mpsc::channel::<(Obj, Obj, bool)>();
        let (given_up_tx, given_up) = mpsc::channel::<()>();
        let (repinned_tx, repinned) = mpsc::channel::<()>();
        let (done_tx, done) = mpsc::channel::<()>();
        let d = spawn_gated(move || {
            let y1 = lent.recv().unwrap();
            let y = y1.clone(); // detached: Published, +1 applied
            give_back.send(y1).unwrap();
            merged.recv().unwrap();
            let x: Brc<Holder, Deferred> = Brc::new_with_policy(Holder {
                payload: xd.payload(),
                y: Some(y),
                hand_over: Mutex::new(hand_over),
                given_up: Mutex::new(given_up),
                maker: thread::current().id(),
            });
            let slot = AtomicSlot::new(Some(x));
            slot.clear(); // `X` retired
            drop(slot);
            brisk_gc::safepoint(); // the retirement reaches the domain
            pushed_tx.send(()).unwrap();
            go.recv().unwrap();
            let attached = brisk_gc::attach();
            while xd.count() == 0 {
                brisk_gc::safepoint(); // may run `X`'s destructor
                thread::yield_now();
            }
            repinned_tx.send(()).unwrap();
            done.recv().unwrap();
            drop(attached);
        });
        let e = spawn_gated(move || {
            let y0: Obj = yd.object();
            lend.send(y0.clone()).unwrap();
            let y1 = given_back.recv().unwrap();
            drop((y0, y1)); // local 0, Published: merged at 2, -1 deferred
            merged_tx.send(()).unwrap();
            pushed.recv().unwrap();
            let attached = brisk_gc::attach();
            go_tx.send(()).unwrap();
            brisk_gc::safepoint(); // A: may collect `X` itself
                                   // Wait for the destructor, wherever it runs; if this thread
                                   // collected the retirement, `X`'s last reference went the
                                   // non-owner way and needs more collection steps.
            let (y, kept, waits) = loop {
                if let Ok(handed) = handed_over.try_recv() {
                    break handed;
                }
                brisk_gc::safepoint();
                thread::yield_now();
            };
            drop(y); // -1 buffered
            brisk_gc::safepoint(); // B: -1 deferred, epoch advanced
            if waits {
                given_up_tx.send(()).unwrap();
            }
            repinned.recv().unwrap();
            brisk_gc::safepoint(); // C: the -1 applied
            kept.check();
            done_tx.send(()).unwrap();
            drop(kept);
            drop(attached);
        });
        finish(vec![d, e], vec![], &[y_drops, x_drops]);
    });
}
