//! Which interpreters of a run are still running, and which have failed:
//! what `recv` consults so that it never waits for a message nobody can
//! send any more.
//!
//! # The problem
//!
//! A channel handle holds both ends of its runtime channel, so the
//! interpreter waiting in `recv` holds a sender itself, and the runtime
//! channel never reports that its senders are gone. A worker that fails
//! before it sends would leave its parent waiting forever.
//!
//! # The rule
//!
//! A `recv` that finds its channel empty waits only while another
//! interpreter of the run is running and none has failed (with a failure
//! nobody has been told of yet):
//!
//! * A failure dooms the run: the language cannot catch an error, so a
//!   failed interpreter fails whoever joins it, up to the main program. The
//!   waiting `recv` fails at once with that failure as its cause, rather
//!   than waiting for a message the failed interpreter may have been the
//!   one to send. A failure stops counting once a `join` has reported it
//!   (the joiner fails with it, or, in the REPL, the user has seen it).
//! * When no other interpreter is running, nothing can ever arrive: only a
//!   running interpreter sends, or spawns one that could.
//!
//! The rule is per run, not per channel: a `recv` on a channel that the
//! running interpreters will never send to still waits, as they might.
//!
//! # Waking
//!
//! A waiting `recv` also waits on a runtime channel that only this
//! registry can send to ([`Receiver::recv_or_wake`]). Every change replaces
//! that channel and drops the old sender, which wakes every waiter at once;
//! each checks the rule again. A waiter takes its wake receiver under the
//! same lock as its check, so a change between the check and the wait
//! still wakes it.

use brisk_runtime::{Receiver, RuntimePolicy, Sender};
use parking_lot::Mutex;

use crate::error::Diagnostic;

/// The interpreters of one run. Shared by every [`Host`](crate::host::Host)
/// of the run.
pub struct Running<P: RuntimePolicy> {
    /// Everything, under one lock held only for bookkeeping.
    state: Mutex<State<P>>,
}

struct State<P: RuntimePolicy> {
    /// Interpreters started and not finished, the main one included.
    running: Vec<u32>,
    /// Interpreters that failed, with their diagnostics, until a `join`
    /// reports the failure.
    failed: Vec<(u32, Diagnostic)>,
    /// Never sent on: dropped (and replaced) at every change, which wakes
    /// every holder of a clone of `woken`.
    wake: Sender<P>,
    /// Cloned for each waiter.
    woken: Receiver<P>,
}

/// Why a `recv` should stop waiting.
pub enum Stop {
    /// This interpreter failed (the first one to fail that no `join` has
    /// reported).
    Failed(u32, Diagnostic),
    /// No other interpreter is running.
    Alone,
}

impl<P: RuntimePolicy> Running<P> {
    /// A run whose main interpreter, `main`, is running.
    pub fn new(main: u32) -> Self {
        let (wake, woken) = brisk_runtime::channel();
        Running {
            state: Mutex::new(State {
                running: vec![main],
                failed: Vec::new(),
                wake,
                woken,
            }),
        }
    }

    /// Records that interpreter `id` runs. Called by its parent before the
    /// thread starts, so that a `recv` never sees a gap between the spawn
    /// and the child's start.
    pub fn start(&self, id: u32) {
        self.state.lock().running.push(id);
    }

    /// Records that interpreter `id` finished, and its failure if it
    /// failed, and wakes every waiting `recv`.
    pub fn finish(&self, id: u32, failure: Option<&Diagnostic>) {
        let mut state = self.state.lock();
        state.running.retain(|&running| running != id);
        if let Some(failure) = failure {
            state.failed.push((id, failure.clone()));
        }
        state.wake_all();
    }

    /// Forgets the failure of interpreter `id`: a `join` has reported it.
    pub fn reported(&self, id: u32) {
        self.state.lock().failed.retain(|(failed, _)| *failed != id);
    }

    /// For interpreter `me`, about to wait in `recv`: the receiver that
    /// wakes it at the next change, or why it must not wait.
    pub fn watch(&self, me: u32) -> Result<Receiver<P>, Stop> {
        let state = self.state.lock();
        if let Some((id, failure)) = state.failed.first() {
            return Err(Stop::Failed(*id, failure.clone()));
        }
        if state.running.iter().all(|&running| running == me) {
            return Err(Stop::Alone);
        }
        Ok(state.woken.clone())
    }
}

impl<P: RuntimePolicy> State<P> {
    /// Disconnects every waiter's wake receiver, and makes a fresh pair for
    /// the waiters to come.
    fn wake_all(&mut self) {
        let (wake, woken) = brisk_runtime::channel();
        self.wake = wake;
        self.woken = woken;
    }
}
