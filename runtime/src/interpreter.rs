//! `Interpreter`: an isolation domain without a GIL.
//!
//! An interpreter has its own globals and one or more mutator threads. No
//! lock is shared between interpreters on any hot path: objects are biased
//! to the thread that made them, and crossing to another interpreter goes
//! through a channel in an explicit [send mode](crate::SendMode).

use std::sync::{Arc, Weak};

use crate::object::tracked::TrackedSet;
use crate::object::Ref;
use crate::policy::RuntimePolicy;
use crate::shared::RuntimeInner;
use crate::sync::{event, lock, Mutex};

/// Shared state of an interpreter.
pub(crate) struct InterpInner<P: RuntimePolicy> {
    /// Unique within its runtime.
    id: u32,
    /// For messages and tracing.
    name: String,
    /// The runtime it belongs to.
    pub(crate) runtime: Arc<RuntimeInner<P>>,
    /// The globals dictionary, made by the first mutator that asks for it.
    /// The lock is held only to read or set the handle.
    globals: Mutex<Option<Ref<P>>>,
    /// The containers this interpreter allocated (the cycle collector's
    /// tracked set). Also held by the runtime, which outlives it.
    pub(crate) tracked: Arc<TrackedSet>,
}

impl<P: RuntimePolicy> InterpInner<P> {
    /// Releases the globals (with the global lock held if the policy needs
    /// one).
    pub(crate) fn clear_globals(&self) {
        let globals = lock(&self.globals).take();
        if globals.is_some() {
            self.runtime.with_gil(|| drop(globals));
        }
    }
}

impl<P: RuntimePolicy> Drop for InterpInner<P> {
    fn drop(&mut self) {
        self.clear_globals();
        event!(
            tracing::info!(target: "brisk::runtime", id = self.id, name = %self.name, "interpreter stop")
        );
    }
}

/// A handle to an interpreter. Cheap to clone; the interpreter lives while
/// any handle or mutator does, and its globals until its runtime is dropped.
pub struct Interpreter<P: RuntimePolicy> {
    inner: Arc<InterpInner<P>>,
}

impl<P: RuntimePolicy> Clone for Interpreter<P> {
    fn clone(&self) -> Self {
        Interpreter {
            inner: Arc::clone(&self.inner),
        }
    }
}

impl<P: RuntimePolicy> Interpreter<P> {
    pub(crate) fn new(runtime: Arc<RuntimeInner<P>>, id: u32, name: &str) -> Self {
        Interpreter {
            inner: Arc::new(InterpInner {
                id,
                name: name.to_owned(),
                tracked: runtime.gc.new_set(),
                runtime,
                globals: Mutex::new(None),
            }),
        }
    }

    pub(crate) fn downgrade(&self) -> Weak<InterpInner<P>> {
        Arc::downgrade(&self.inner)
    }

    pub(crate) fn runtime(&self) -> &Arc<RuntimeInner<P>> {
        &self.inner.runtime
    }

    pub(crate) fn tracked(&self) -> &TrackedSet {
        &self.inner.tracked
    }

    /// The interpreter's id, unique within its runtime.
    pub fn id(&self) -> u32 {
        self.inner.id
    }

    /// The interpreter's name.
    pub fn name(&self) -> &str {
        &self.inner.name
    }

    /// The globals dictionary, or the one `make` returns if there is none
    /// yet, which becomes the globals. `make` runs outside the lock.
    pub(crate) fn globals_or_make(&self, make: impl FnOnce() -> Ref<P>) -> Ref<P> {
        if let Some(globals) = lock(&self.inner.globals).as_ref() {
            return globals.clone();
        }
        let fresh = make();
        lock(&self.inner.globals).get_or_insert(fresh).clone()
    }
}

impl<P: RuntimePolicy> core::fmt::Debug for Interpreter<P> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Interpreter")
            .field("id", &self.id())
            .field("name", &self.name())
            .field("policy", &P::NAME)
            .finish()
    }
}
