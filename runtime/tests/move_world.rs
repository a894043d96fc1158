//! A move's isolation walk runs while no other mutator of the sender's
//! runtime does.
//!
//! The walk reads each object's count once, when it first meets it, and
//! tallies the edges it meets later against that reading. If another
//! mutator of the same interpreter could add an edge inside the graph after
//! a count was read, the new edge would be tallied and the reference that
//! mutator already held would not, and the move would succeed while that
//! mutator still reaches the graph. (Under biased counting the receiver
//! then adopts objects another thread holds, and frees them early.)
//!
//! The graph is R → [A, N] and A → [B]; mutator T, of the sender's
//! interpreter, holds A. The walk meets A (count 2: R's edge and T's
//! reference), then expands N, a native object whose `trace` is the pause
//! point: it lets T go, and T adds the edge B → A. If T can run there, the
//! walk waits for T's edit, then meets A again through B, and A's tally
//! (2) matches the count it read; a walk whose verdict rested on that
//! would let the move pass. The walk that runs with nobody stopped only
//! decides graphs in which every object has one reference; A has two, so
//! the graph is walked again with the world stopped, and that walk reads
//! A's count with T's edit in it. If the first walk already runs with the
//! world stopped, T cannot run until the walk is over, so `trace` must not
//! wait for it (it would wait forever): it lets T go and returns, and T's
//! edit lands after the walk, which has found T's reference. Either way
//! the move must be refused.
//!
//! Whether the world is stopped is read from the runtime's own tracing
//! events ("world stopped", "world resumed"), raised on the thread that
//! stops it: the sending thread, the one that runs `trace`. T waits
//! detached ([`Mutator::blocking`]), so a stop does not wait for it.
//!
//! `Atomic` only: under `Gil`, T would need the global lock the sender
//! holds, and under the biased policies the early free this guards against
//! would crash the test rather than fail it.

use std::cell::Cell;
use std::sync::mpsc;
use std::sync::Mutex;

use brisk_runtime::{channel, Atomic, NativeObject, Object, Runtime, SendErrorKind, SendMode};
use tracing_subscriber::layer::{Context, SubscriberExt};
use tracing_subscriber::Layer;

thread_local! {
    /// Whether this thread has stopped the world and not resumed it, as
    /// its tracing events say.
    static WORLD_STOPPED: Cell<bool> = const { Cell::new(false) };
}

/// Follows the runtime's stop and resume events on the thread they are
/// raised on.
struct WorldWatch;

/// Finds an event's message.
struct Message(String);

impl tracing::field::Visit for Message {
    fn record_debug(&mut self, field: &tracing::field::Field, value: &dyn std::fmt::Debug) {
        if field.name() == "message" {
            self.0 = format!("{value:?}");
        }
    }
}

impl<S: tracing::Subscriber> Layer<S> for WorldWatch {
    fn on_event(&self, event: &tracing::Event<'_>, _: Context<'_, S>) {
        let mut message = Message(String::new());
        event.record(&mut message);
        match message.0.as_str() {
            "world stopped" => WORLD_STOPPED.set(true),
            "world resumed" => WORLD_STOPPED.set(false),
            _ => {}
        }
    }
}

/// The pause point inside the walk.
struct Pause {
    /// Armed for one trace: tells T to go, and T's edit is reported on
    /// the receiver.
    hook: Mutex<Option<(mpsc::Sender<()>, mpsc::Receiver<()>)>>,
}

impl NativeObject<Atomic> for Pause {
    fn type_name(&self) -> &'static str {
        "pause"
    }
    fn trace(&self, _visit: &mut dyn FnMut(&Object<Atomic>)) {
        if let Some((go, edited)) = self.hook.lock().unwrap().take() {
            go.send(()).unwrap();
            // T can run only if the world is not stopped: only then can
            // (and must) the walk wait for its edit.
            if !WORLD_STOPPED.get() {
                edited.recv().unwrap();
            }
        }
    }
}

#[test]
fn no_other_mutator_edits_the_graph_while_a_move_walks_it() {
    let _watch = tracing::subscriber::set_default(tracing_subscriber::registry().with(WorldWatch));
    let runtime = Runtime::<Atomic>::new();
    runtime.set_gc_threshold(None);
    let interp = runtime.new_interpreter("sender");
    let m = interp.attach();
    // The watch sees this thread's stops, or `trace` below would wait for
    // T while T waits for the world.
    let stopped = m.stop_the_world();
    assert!(WORLD_STOPPED.get(), "the world-stopped event was not seen");
    drop(stopped);
    assert!(!WORLD_STOPPED.get(), "the world-resumed event was not seen");

    let (go_tx, go_rx) = mpsc::channel();
    let (edited_tx, edited_rx) = mpsc::channel();
    let (finished_tx, finished_rx) = mpsc::channel::<()>();

    let b = m.list(vec![]);
    let a = m.list(vec![b]); // A = [B]; B's only reference is A's edge
    let a_for_t = a.clone();
    // T: another mutator of the same interpreter, holding A.
    let t = interp.spawn(move |tm| {
        let a = a_for_t;
        // Detached while it waits, so that a stop of the world does not
        // wait for it.
        tm.blocking(|| go_rx.recv().unwrap());
        // Attached again: add a second edge to A from inside the graph.
        let b = a.get_item(0).unwrap();
        b.push(a.clone()).unwrap();
        drop(b);
        // `trace` has stopped listening if it did not wait (the world was
        // stopped): then nobody needs to hear of the edit.
        let _ = edited_tx.send(());
        // Keep A until the sender has looked at the outcome, detached: a
        // walk run again with the world stopped must not wait for T.
        tm.blocking(|| finished_rx.recv().unwrap());
        drop(a);
    });

    let pause = m.native(Box::new(Pause {
        hook: Mutex::new(Some((go_tx, edited_rx))),
    }));
    // R = [A, N]: the walk meets A, then N, and expands N (the pause)
    // before A.
    let root = m.list(vec![a, pause]);

    let (tx, _rx) = channel::<Atomic>();
    let sent = tx.send(&m, root, SendMode::Move);
    let refused = sent.err().map(|error| error.kind);
    // T's edit, after the walk or during it, is done before T is told to
    // finish; it only ever waits for `finished` after it.
    finished_tx.send(()).unwrap();
    m.blocking(|| t.join().unwrap());
    assert_eq!(
        refused,
        Some(SendErrorKind::NotIsolated {
            external_refs: 1,
            unverifiable: 0
        }),
        "the move succeeded although mutator T of the sending interpreter still holds A"
    );
}
