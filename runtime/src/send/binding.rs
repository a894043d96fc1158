//! Which runtime a channel belongs to.
//!
//! A channel carries objects between the interpreters of one runtime,
//! never between runtimes: the cycle collector of a runtime stops only
//! that runtime's mutators, so an object must never reach a thread of
//! another runtime, where it could be dropped in the middle of a
//! collection that reads it (the contract in
//! [`collect`](crate::collect)). [`channel()`](super::channel) takes no
//! runtime, so a channel is bound to the runtime of the first mutator that
//! sends or receives on it, and refuses every mutator of another runtime
//! from then on. Every message in a channel was therefore sent by a
//! mutator of its runtime, and is taken only by one.
//!
//! The binding holds a weak reference to the runtime's shared state. The
//! weak reference keeps that state's memory from being reused, so its
//! address names one runtime for as long as the channel lives, even after
//! the runtime has been dropped.

use std::sync::{Arc, OnceLock, Weak};

use crate::mutator::Mutator;
use crate::policy::RuntimePolicy;
use crate::shared::RuntimeInner;

/// The runtime a channel belongs to, set by the first mutator that uses
/// it. Shared by every sender and receiver of the channel.
pub(super) struct Binding<P: RuntimePolicy> {
    runtime: OnceLock<Weak<RuntimeInner<P>>>,
}

impl<P: RuntimePolicy> Binding<P> {
    /// Not bound yet.
    pub(super) fn new() -> Self {
        Binding {
            runtime: OnceLock::new(),
        }
    }

    /// Whether `m` may use the channel: it belongs to `m`'s runtime, or to
    /// nobody yet, in which case it now belongs to `m`'s runtime.
    pub(super) fn admits(&self, m: &Mutator<P>) -> bool {
        let runtime = m.interpreter().runtime();
        let bound = self.runtime.get_or_init(|| Arc::downgrade(runtime));
        core::ptr::eq(bound.as_ptr(), Arc::as_ptr(runtime))
    }
}
