//! Loom models of the stop-the-world handshake (`brisk_runtime::stw`).
//!
//! Run with
//!
//! ```text
//! RUSTFLAGS="--cfg loom" LOOM_MAX_PREEMPTIONS=2 CARGO_TARGET_DIR=/work/target-loomrt \
//!     cargo test -p brisk-runtime --release --test loom_stw
//! ```
//!
//! Each model checks two things in every explored interleaving:
//!
//! * **Safety:** while a requester holds the `WorldStopped` guard, no
//!   attached mutator is between two steps. Mutators bracket every step with
//!   a Relaxed counter (`in_step`) that the requester reads while stopped;
//!   the only synchronisation that can make it read zero is the handshake's
//!   own lock. As a second oracle, a loom mutex holds "the world is stopped",
//!   and every step asserts it is false at its start and end.
//! * **Liveness:** the model returns (loom reports a deadlock if every
//!   thread blocks).

#![cfg(loom)]

use loom::sync::atomic::AtomicUsize;
use loom::sync::atomic::Ordering::Relaxed;
use loom::sync::{Arc, Mutex};
use loom::thread;

use brisk_runtime::stw::StopTheWorld;

/// State shared by the mutators and requesters of one model run.
struct World {
    stw: StopTheWorld,
    /// Mutators currently inside a step.
    in_step: AtomicUsize,
    /// Whether some requester currently holds a `WorldStopped` guard.
    stopped: Mutex<bool>,
}

impl World {
    fn new() -> Arc<Self> {
        Arc::new(World {
            stw: StopTheWorld::new(),
            in_step: AtomicUsize::new(0),
            stopped: Mutex::new(false),
        })
    }

    /// A safepoint: park if a stop is requested.
    fn safepoint(&self) {
        if self.stw.is_requested() {
            self.stw.park();
        }
    }

    /// One mutator step: must never overlap a stopped world.
    fn step(&self) {
        assert!(!*self.stopped.lock().unwrap(), "step began while stopped");
        self.in_step.fetch_add(1, Relaxed);
        self.in_step.fetch_sub(1, Relaxed);
        assert!(!*self.stopped.lock().unwrap(), "step ended while stopped");
    }

    /// Runs `stop`, checks the world while the guard is held, and resumes.
    fn stop_and_check(&self, caller_attached: bool) {
        let guard = self.stw.stop(caller_attached);
        *self.stopped.lock().unwrap() = true;
        // Relaxed: only the handshake's lock can order the mutators'
        // decrements before this load.
        assert_eq!(self.in_step.load(Relaxed), 0, "a mutator is mid-step");
        let (running, _parked) = self.stw.counts();
        assert_eq!(
            running,
            usize::from(caller_attached),
            "a mutator is running"
        );
        *self.stopped.lock().unwrap() = false;
        drop(guard);
    }
}

/// Two mutators (one detaching around a blocking section) and an external
/// requester: the world is quiescent while stopped, and all terminate.
#[test]
fn stop_from_outside_waits_for_every_running_mutator() {
    loom::model(|| {
        let world = World::new();

        // Both mutators are counted as attached before the requester runs
        // (`attach` only counts), so the interesting interleavings need
        // fewer preemptions.
        world.stw.attach();
        world.stw.attach();

        let w = Arc::clone(&world);
        let plain = thread::spawn(move || {
            for _ in 0..2 {
                w.safepoint();
                w.step();
            }
            w.stw.detach();
        });

        let w = Arc::clone(&world);
        let blocking = thread::spawn(move || {
            w.step();
            w.safepoint();
            // A blocking call: detached, so the world need not wait for it;
            // re-attaching waits out a stop in force.
            w.stw.detach();
            w.stw.attach();
            w.step();
            w.stw.detach();
        });

        world.stop_and_check(false);

        plain.join().unwrap();
        blocking.join().unwrap();
        assert_eq!(world.stw.counts(), (0, 0));
    });
}

/// A mutator that itself stops the world (`stop(true)`) races an external
/// requester: the two stops are serialised, neither waits for the other's
/// caller, and both see a quiescent world.
#[test]
fn two_requesters_one_of_them_a_mutator() {
    loom::model(|| {
        let world = World::new();

        world.stw.attach();
        world.stw.attach();

        let w = Arc::clone(&world);
        let requesting_mutator = thread::spawn(move || {
            w.safepoint();
            w.stop_and_check(true);
            w.safepoint();
            w.step();
            w.stw.detach();
        });

        let w = Arc::clone(&world);
        let plain = thread::spawn(move || {
            w.step();
            w.safepoint();
            w.step();
            w.stw.detach();
        });

        world.stop_and_check(false);

        requesting_mutator.join().unwrap();
        plain.join().unwrap();
        assert_eq!(world.stw.counts(), (0, 0));
    });
}
