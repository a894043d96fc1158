//! Stop-the-world: park every running mutator at its next safepoint.
//!
//! The cycle collector and `freeze` need a moment when no mutator is
//! touching objects and every mutator has flushed its buffer and merged its
//! queue. The handshake is the classic one of JVM safepoints and CPython's
//! free-threaded `_PyEval_StopTheWorld`:
//!
//! 1. the requester raises `requested` (a hint mutators poll at every
//!    safepoint with one Relaxed load) and, under the lock, marks a stop in
//!    progress;
//! 2. each running mutator that reaches a safepoint — after it has merged
//!    and flushed — moves itself from `running` to `parked` under the lock and
//!    waits;
//! 3. the requester waits until no mutator but itself is running.
//!    *Detached* mutators (blocked in a channel receive or another blocking
//!    call) are not counted as running, so they never hold the world up;
//!    one that tries to re-attach during a stop waits for the resume;
//! 4. resuming is explicit ([`WorldStopped::resume`], or dropping it).
//!
//! All decisions are taken under one mutex; the atomic flag is only a hint,
//! so a mutator that reads it stale simply parks at its next safepoint.
//! `runtime/tests/loom_stw.rs` model-checks the handshake.

use crate::sync::{event, lock, AtomicBool, Condvar, Mutex, MutexGuard, Ordering::Relaxed};

/// The handshake state shared by a runtime's mutators.
pub struct StopTheWorld {
    /// Set while a stop is requested or in force. A hint for safepoints.
    requested: AtomicBool,
    /// The authoritative state.
    state: Mutex<State>,
    /// Signalled on every change of `state`.
    changed: Condvar,
}

/// Counts of mutators, and whether a stop is in force. Under `state`'s lock.
#[derive(Default)]
struct State {
    /// Attached mutators that are not parked.
    running: usize,
    /// Mutators parked at a safepoint.
    parked: usize,
    /// A requester holds, or is bringing about, a stop.
    stopping: bool,
}

impl Default for StopTheWorld {
    fn default() -> Self {
        Self::new()
    }
}

impl StopTheWorld {
    /// No mutators, no stop.
    pub fn new() -> Self {
        StopTheWorld {
            requested: AtomicBool::new(false),
            state: Mutex::new(State::default()),
            changed: Condvar::new(),
        }
    }

    fn wait<'a>(&self, guard: MutexGuard<'a, State>) -> MutexGuard<'a, State> {
        self.changed
            .wait(guard)
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Counts the calling thread as a running mutator, waiting out a stop in
    /// force.
    pub fn attach(&self) {
        let mut state = lock(&self.state);
        while state.stopping {
            state = self.wait(state);
        }
        state.running += 1;
    }

    /// Stops counting the calling thread as running (it is blocking, or
    /// leaving).
    pub fn detach(&self) {
        let mut state = lock(&self.state);
        state.running -= 1;
        // Every wait on `changed` happens while a stop is in force (and
        // `resume` notifies when it ends), so with no stop nobody is waiting
        // and the wake-up system call is skipped.
        let someone_waits = state.stopping;
        drop(state);
        if someone_waits {
            self.changed.notify_all();
        }
    }

    /// Whether a stop is requested. One Relaxed load; mutators call
    /// [`StopTheWorld::park`] when it says yes.
    #[inline]
    pub fn is_requested(&self) -> bool {
        // Relaxed: a hint; `park` re-checks under the lock.
        self.requested.load(Relaxed)
    }

    /// Parks the calling (running) mutator until the stop in force ends.
    /// Returns at once if none is. Call it only after merging and flushing.
    pub fn park(&self) {
        let mut state = lock(&self.state);
        if !state.stopping {
            return;
        }
        state.running -= 1;
        state.parked += 1;
        self.changed.notify_all();
        while state.stopping {
            state = self.wait(state);
        }
        state.parked -= 1;
        state.running += 1;
    }

    /// Stops the world: returns once every other attached mutator is
    /// parked or detached. `caller_attached` says whether the caller is
    /// itself a running mutator (it is not waited for). One stop at a time;
    /// a second requester waits for the first to resume.
    pub fn stop(&self, caller_attached: bool) -> WorldStopped<'_> {
        let mut state = lock(&self.state);
        while state.stopping {
            // Another stop is in force: let it finish, counting ourselves as
            // parked so that it does not wait for us.
            if caller_attached {
                state.running -= 1;
                state.parked += 1;
                self.changed.notify_all();
            }
            state = self.wait(state);
            if caller_attached {
                state.parked -= 1;
                state.running += 1;
            }
        }
        state.stopping = true;
        // Relaxed: a hint; the decision is `stopping`, under the lock.
        self.requested.store(true, Relaxed);
        let me = usize::from(caller_attached);
        while state.running > me {
            state = self.wait(state);
        }
        event!(tracing::debug!(target: "brisk::runtime", parked = state.parked, "world stopped"));
        WorldStopped { stw: self }
    }

    fn resume(&self) {
        let mut state = lock(&self.state);
        state.stopping = false;
        // Relaxed: as in `stop`.
        self.requested.store(false, Relaxed);
        drop(state);
        self.changed.notify_all();
        event!(tracing::debug!(target: "brisk::runtime", "world resumed"));
    }

    /// `(running, parked)`: a snapshot, for tests and diagnostics.
    pub fn counts(&self) -> (usize, usize) {
        let state = lock(&self.state);
        (state.running, state.parked)
    }
}

/// Proof that the world is stopped; resumes it when dropped.
#[must_use = "the world resumes when this is dropped"]
pub struct WorldStopped<'a> {
    stw: &'a StopTheWorld,
}

impl WorldStopped<'_> {
    /// Resumes the world.
    pub fn resume(self) {}
}

impl Drop for WorldStopped<'_> {
    fn drop(&mut self) {
        self.stw.resume();
    }
}
