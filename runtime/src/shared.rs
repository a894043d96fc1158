//! The state a runtime shares with its interpreters and mutators: the
//! stop-the-world handshake, the global lock, the immortal singletons and
//! the cycle collector's state. The [`Runtime`](crate::Runtime) handle
//! makes it, and every interpreter holds it, so it lives as long as the
//! runtime or any of its interpreters does.

use crate::attached::{holds_gil, set_gil_held};
use crate::collect::GcState;
use crate::gil::GlobalLock;
use crate::policy::RuntimePolicy;
use crate::singletons::Singletons;
use crate::stw::StopTheWorld;

/// The state a runtime shares with its interpreters and mutators.
pub(crate) struct RuntimeInner<P: RuntimePolicy> {
    /// The stop-the-world handshake of all this runtime's mutators.
    pub(crate) stw: StopTheWorld,
    /// The global lock, used only when `P::USES_GIL`.
    pub(crate) gil: GlobalLock,
    /// The policy's immortal objects.
    pub(crate) singletons: &'static Singletons<P>,
    /// The cycle collector's tracked sets, threshold and totals.
    pub(crate) gc: GcState,
}

impl<P: RuntimePolicy> RuntimeInner<P> {
    /// Runs `f` holding the global lock if the policy uses one (and this
    /// thread does not hold it already).
    pub(crate) fn with_gil<R>(&self, f: impl FnOnce() -> R) -> R {
        if !P::USES_GIL || holds_gil(self.key()) {
            return f();
        }
        self.gil.acquire();
        // Recorded, so that a nested `with_gil` (as `Runtime::drop` makes
        // through `InterpInner::clear_globals`) does not take the
        // non-reentrant lock a second time and deadlock.
        set_gil_held(self.key(), true);
        let result = f();
        set_gil_held(self.key(), false);
        // SAFETY: acquired just above on this thread.
        unsafe { self.gil.release() };
        result
    }

    /// An identity for this runtime (its address).
    pub(crate) fn key(&self) -> usize {
        self as *const Self as usize
    }
}
