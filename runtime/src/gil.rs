//! The global interpreter lock of the [`Gil`](crate::Gil) policy.
//!
//! The status quo the 2017 discussion started from, modelled on CPython's
//! `Python/ceval_gil.c`: one lock that a mutator holds while it runs. A
//! thread that waits for it longer than the switch interval sets a drop
//! request; the holder sees the request at its next safepoint (one Relaxed
//! load), hands the lock over fairly and queues to take it back.

use std::time::Duration;

use parking_lot::lock_api::{RawMutex as _, RawMutexFair as _, RawMutexTimed as _};
use parking_lot::RawMutex;

use crate::attached::{holds_gil, set_gil_held};
use crate::policy::RuntimePolicy;
use crate::sync::{AtomicBool, Ordering::Relaxed};

/// CPython's default switch interval.
const SWITCH_INTERVAL: Duration = Duration::from_millis(5);

/// The lock and its drop request.
pub(crate) struct GlobalLock {
    /// Held by the running mutator.
    raw: RawMutex,
    /// Set by a waiter that timed out; cleared by the holder as it yields.
    drop_request: AtomicBool,
}

impl GlobalLock {
    pub(crate) fn new() -> Self {
        GlobalLock {
            raw: RawMutex::INIT,
            drop_request: AtomicBool::new(false),
        }
    }

    /// Takes the lock, asking the holder to yield after each switch
    /// interval spent waiting.
    pub(crate) fn acquire(&self) {
        if self.raw.try_lock() {
            return;
        }
        while !self.raw.try_lock_for(SWITCH_INTERVAL) {
            // Relaxed: a request; the lock hand-over itself synchronises.
            self.drop_request.store(true, Relaxed);
        }
    }

    /// Releases the lock, handing it to a waiter if there is one.
    ///
    /// # Safety
    ///
    /// The calling thread holds the lock.
    pub(crate) unsafe fn release(&self) {
        // SAFETY: the caller holds the lock.
        unsafe { self.raw.unlock_fair() }
    }

    /// Whether a waiter asked the holder to yield (and clears the request).
    #[inline]
    pub(crate) fn take_drop_request(&self) -> bool {
        // Relaxed: a hint; see `acquire`.
        self.drop_request.load(Relaxed) && self.drop_request.swap(false, Relaxed)
    }

    /// Runs `f` holding this lock if policy `P` uses one and the calling
    /// thread does not hold it already. `runtime` is the key (see
    /// `attached`) of the runtime this lock belongs to.
    pub(crate) fn with<P: RuntimePolicy, R>(&self, runtime: usize, f: impl FnOnce() -> R) -> R {
        if !P::USES_GIL || holds_gil(runtime) {
            return f();
        }
        self.acquire();
        // Recorded, so that a nested `with` (as `Runtime::drop` makes
        // through `InterpInner::clear_globals`) does not take the
        // non-reentrant lock a second time and deadlock.
        set_gil_held(runtime, true);
        let result = f();
        set_gil_held(runtime, false);
        // SAFETY: acquired just above on this thread.
        unsafe { self.release() };
        result
    }
}
