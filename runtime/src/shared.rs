//! The state a runtime shares with its interpreters and mutators: the
//! stop-the-world handshake, the global lock, the immortal singletons and
//! the cycle collector's state. The [`Runtime`](crate::Runtime) handle
//! makes it, and every interpreter holds it, so it lives as long as the
//! runtime or any of its interpreters does.

use crate::collect::{CollectionReport, GcState};
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
        self.gil.with::<P, R>(self.key(), f)
    }

    /// Runs one collection (see [`GcState::collect`]); `stop` stops the
    /// world.
    pub(crate) fn collect<W>(&self, stop: impl FnOnce() -> W) -> CollectionReport {
        self.gc
            .collect(stop, &self.gil, self.key(), &self.singletons.none)
    }

    /// An identity for this runtime (its address).
    pub(crate) fn key(&self) -> usize {
        self as *const Self as usize
    }
}
