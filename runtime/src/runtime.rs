//! `Runtime`: the owner of the interpreters, the stop-the-world handshake,
//! the global lock of the `Gil` policy, and the immortal singletons.
//!
//! brisk's thread registry and epoch domain are process-wide (the counting
//! policies are types, so their state cannot live in a value); a `Runtime`
//! is the unit that starts interpreters over them and, when dropped, tears
//! its interpreters down and drains the deferred work they left.

use std::sync::{Arc, Weak};

use crate::attached::runs_mutator_of;
use crate::collect::{CollectionReport, GcState, GcStats};
use crate::gil::GlobalLock;
use crate::interpreter::{InterpInner, Interpreter};
use crate::policy::{Biased, RuntimePolicy};
use crate::shared::RuntimeInner;
use crate::singletons::singletons;
use crate::stw::StopTheWorld;
use crate::sync::{event, lock, AtomicU32, Mutex, Ordering::Relaxed};

/// A brisk runtime under counting policy `P`. It is the owner: dropping it
/// releases every interpreter's globals.
///
/// ```
/// use brisk_runtime::{Biased, Runtime};
///
/// let runtime = Runtime::<Biased>::new();
/// let main = runtime.new_interpreter("main");
/// let answer = main.spawn(|m| m.int(6).as_int().unwrap() * 7).join().unwrap();
/// assert_eq!(answer, 42);
/// ```
pub struct Runtime<P: RuntimePolicy = Biased> {
    /// The state its interpreters and mutators share.
    inner: Arc<RuntimeInner<P>>,
    /// Interpreters started by this runtime. Locked to start one and at drop.
    interpreters: Mutex<Vec<Weak<InterpInner<P>>>>,
    /// The next interpreter id.
    next_interp_id: AtomicU32,
}

impl<P: RuntimePolicy> Default for Runtime<P> {
    fn default() -> Self {
        Self::new()
    }
}

impl<P: RuntimePolicy> Runtime<P> {
    /// A runtime with no interpreters.
    pub fn new() -> Self {
        Runtime {
            inner: Arc::new(RuntimeInner {
                stw: StopTheWorld::new(),
                gil: GlobalLock::new(),
                singletons: singletons::<P>(),
                gc: GcState::new(),
            }),
            interpreters: Mutex::new(Vec::new()),
            next_interp_id: AtomicU32::new(1),
        }
    }

    /// The counting policy's name (`biased`, `deferred`, `atomic`, `gil`).
    pub fn policy_name(&self) -> &'static str {
        P::NAME
    }

    /// Starts an interpreter: an isolation domain with its own globals.
    pub fn new_interpreter(&self, name: &str) -> Interpreter<P> {
        // Relaxed: ids only need to be unique.
        let id = self.next_interp_id.fetch_add(1, Relaxed);
        let interpreter = Interpreter::new(Arc::clone(&self.inner), id, name);
        lock(&self.interpreters).push(interpreter.downgrade());
        event!(
            tracing::info!(target: "brisk::runtime", id, name, policy = P::NAME, "interpreter start")
        );
        interpreter
    }

    /// The stop-the-world handshake, for embedders that stop the world from
    /// a thread that is not a mutator.
    pub fn stop_the_world(&self) -> crate::stw::WorldStopped<'_> {
        self.inner.stw.stop(false)
    }

    /// Runs a cycle collection now (see [`collect`](crate::collect)). Meant
    /// for a thread that is not attached to this runtime (a mutator calls
    /// [`Mutator::collect`](crate::Mutator::collect)), but safe from one
    /// that is: the runtime's teardown collects, and the last handle to a
    /// runtime may be dropped on one of its interpreters' threads. Returns
    /// an empty report if another collection is running.
    ///
    /// ```
    /// use brisk_runtime::{live_objects, Biased, Runtime};
    ///
    /// let runtime = Runtime::<Biased>::new();
    /// let main = runtime.new_interpreter("main");
    /// main.spawn(|m| {
    ///     let ring = m.list(vec![]);
    ///     ring.push(ring.clone()).unwrap(); // a cycle: counting alone leaks it
    /// })
    /// .join()
    /// .unwrap();
    /// let report = runtime.collect();
    /// assert_eq!(report.unreachable, 1);
    /// ```
    pub fn collect(&self) -> CollectionReport {
        // A mutator of this runtime running on this thread would never park
        // while this thread waits for the world to stop: the stop must not
        // wait for it, as `Mutator::stop_the_world` does not wait for its
        // own. Its counts are flushed first, as that one flushes them, so
        // that the collection reads them exactly.
        let caller_attached = runs_mutator_of(self.inner.key());
        if caller_attached {
            if P::COALESCES {
                brisk_gc::safepoint();
            } else {
                brisk_refcount::safepoint();
            }
        }
        self.inner.collect(|| self.inner.stw.stop(caller_attached))
    }

    /// Sets how many container allocations trigger an automatic collection
    /// (at least; see [`collect`](crate::collect)); `None` turns automatic
    /// collection off. The default is
    /// [`DEFAULT_THRESHOLD`](crate::collect::DEFAULT_THRESHOLD).
    pub fn set_gc_threshold(&self, threshold: Option<usize>) {
        self.inner.gc.set_threshold(threshold);
    }

    /// Totals over this runtime's collections.
    pub fn gc_stats(&self) -> GcStats {
        self.inner.gc.stats()
    }

    /// Containers tracked now, in every interpreter of this runtime.
    pub fn tracked_objects(&self) -> usize {
        self.inner.gc.tracked()
    }
}

impl<P: RuntimePolicy> Drop for Runtime<P> {
    /// Tears the runtime down: every interpreter's globals are released
    /// (interpreter handles that outlive the runtime keep working, with
    /// empty globals), then the queued and deferred work this left is
    /// drained. Objects still referenced elsewhere stay alive. It may run
    /// on a thread attached to one of the runtime's interpreters (see
    /// [`Runtime::collect`]).
    fn drop(&mut self) {
        let interpreters: Vec<_> = lock(&self.interpreters)
            .drain(..)
            .filter_map(|weak| weak.upgrade())
            .collect();
        self.inner.with_gil(|| {
            for interpreter in &interpreters {
                interpreter.clear_globals();
            }
        });
        // Drain what the teardown queued or deferred (under the global lock:
        // the deferred work counts on objects).
        let drain = || {
            brisk_refcount::safepoint();
            brisk_gc::collect(64);
        };
        self.inner.with_gil(|| {
            drop(interpreters);
            drain();
        });
        // Then the cycles the teardown left unreachable, and what freeing
        // them queued or deferred.
        self.collect();
        self.inner.with_gil(drain);
    }
}
