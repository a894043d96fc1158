//! `Mutator`: a thread attached to an interpreter.
//!
//! # Safepoints
//!
//! A mutator calls [`Mutator::safepoint`] where CPython's eval loop checks
//! its eval breaker: at loop back-edges and calls. The common case costs a
//! counter increment and a flag test. Every [`SAFEPOINT_PERIOD`] calls, or
//! at once when another thread asked for something, it does the real work:
//!
//! * merges the objects other threads queued back to it (biased counting);
//! * under [`Deferred`](crate::Deferred), flushes its coalescing buffer and
//!   repins, letting the epoch advance;
//! * under [`Gil`](crate::Gil), hands the global lock over if a waiter asked;
//! * parks if a stop-the-world is requested.
//!
//! # Blocking
//!
//! [`Mutator::blocking`] detaches around a call that may block — a channel
//! receive, I/O, a lock: the mutator stops counting as running for
//! stop-the-world, releases the global lock, and unpins; it re-attaches
//! afterwards.

use core::cell::Cell;
use core::marker::PhantomData;
use std::thread::JoinHandle;

use crate::attached::{set_gil_held, set_running};
use crate::interpreter::Interpreter;
use crate::object::{Payload, Ref};
use crate::policy::RuntimePolicy;
use crate::shared::RuntimeInner;
use crate::stw::WorldStopped;

/// Cheap safepoints between two full ones.
pub const SAFEPOINT_PERIOD: u32 = 1024;

/// A thread attached to an interpreter. Not `Send`: it is this thread's
/// attachment. Object constructors are its methods (in `constructors.rs`)
/// because allocation makes the calling thread the object's owner.
pub struct Mutator<P: RuntimePolicy> {
    /// The interpreter this thread runs.
    interpreter: Interpreter<P>,
    /// Epoch attachment under `Deferred`.
    epoch: Option<brisk_gc::Attached>,
    /// Safepoint calls since the last full one.
    ticks: Cell<u32>,
    /// Inside [`Mutator::blocking`]: not counted as running, without the
    /// global lock. A nested `blocking` must not detach a second time.
    detached: Cell<bool>,
    /// Container allocations not yet added to the runtime's total (see
    /// [`collect`](crate::collect)).
    allocations: Cell<u32>,
    /// Not `Send`.
    _thread: PhantomData<*const ()>,
}

impl<P: RuntimePolicy> Mutator<P> {
    pub(crate) fn attach(interpreter: Interpreter<P>) -> Self {
        let runtime = interpreter.runtime();
        if P::USES_GIL {
            runtime.gil.acquire();
            set_gil_held(runtime.key(), true);
        }
        runtime.stw.attach();
        set_running(runtime.key(), true);
        let epoch = P::COALESCES.then(brisk_gc::attach);
        Mutator {
            interpreter,
            epoch,
            ticks: Cell::new(0),
            detached: Cell::new(false),
            allocations: Cell::new(0),
            _thread: PhantomData,
        }
    }

    pub(crate) fn runtime(&self) -> &RuntimeInner<P> {
        self.interpreter.runtime()
    }

    /// The interpreter this mutator runs.
    pub fn interpreter(&self) -> &Interpreter<P> {
        &self.interpreter
    }

    /// A safepoint, where CPython's eval loop checks its eval breaker (loop
    /// back-edges, calls): a counter increment and a flag test, and every
    /// [`SAFEPOINT_PERIOD`] calls, or at once when another thread asked,
    /// the [full duties](Mutator::full_safepoint).
    #[inline]
    pub fn safepoint(&self) {
        let ticks = self.ticks.get().wrapping_add(1);
        self.ticks.set(ticks);
        if ticks.is_multiple_of(SAFEPOINT_PERIOD) || self.runtime().stw.is_requested() {
            self.full_safepoint();
        }
    }

    /// Does every safepoint duty now: merges this thread's queue, flushes
    /// its coalescing buffer and repins (under `Deferred`), hands the global
    /// lock over if a waiter asked (under `Gil`), and parks if a
    /// stop-the-world is requested.
    #[cold]
    #[inline(never)] // merges, flushes, may park: never on the fast path
    pub fn full_safepoint(&self) {
        if P::COALESCES {
            brisk_gc::safepoint();
        } else {
            brisk_refcount::safepoint();
        }
        let runtime = self.runtime();
        if P::USES_GIL && runtime.gil.take_drop_request() {
            self.blocking(std::thread::yield_now);
        }
        // A detached mutator (a safepoint inside `blocking`) is not counted
        // as running, so it must not park.
        if runtime.stw.is_requested() && !self.detached.get() {
            if P::COALESCES {
                // Unpinned while parked, so the requester can collect.
                brisk_gc::blocking(|| runtime.stw.park());
            } else {
                runtime.stw.park();
            }
        }
    }

    /// Runs `f` detached: not counted as running for stop-the-world, without
    /// the global lock, unpinned. For calls that may block. Nested calls
    /// (a channel receive inside `blocking`, say) just run `f`. The mutator
    /// re-attaches afterwards, also when `f` panics.
    pub fn blocking<R>(&self, f: impl FnOnce() -> R) -> R {
        if self.detached.get() {
            return f();
        }
        let runtime = self.runtime();
        brisk_refcount::safepoint();
        runtime.stw.detach();
        set_running(runtime.key(), false);
        if P::USES_GIL {
            set_gil_held(runtime.key(), false);
            // SAFETY: an attached mutator of a `Gil` runtime holds the lock
            // (`detached` is false, so this is not a nested call).
            unsafe { runtime.gil.release() };
        }
        self.detached.set(true);
        let _reattach = Reattach(self);
        if P::COALESCES {
            brisk_gc::blocking(f)
        } else {
            f()
        }
    }

    /// Stops the world: every other mutator of this runtime parks at its
    /// next safepoint (after merging and flushing); detached ones are not
    /// waited for. The world resumes when the returned guard is dropped.
    pub fn stop_the_world(&self) -> WorldStopped<'_> {
        let _span = brisk_refcount::trace::span(
            || tracing::info_span!(target: "brisk::runtime", "stop_the_world"),
        )
        .entered();
        if P::COALESCES {
            brisk_gc::safepoint();
        } else {
            brisk_refcount::safepoint();
        }
        self.runtime().stw.stop(!self.detached.get())
    }

    /// Runs a cycle collection now: stops the world, frees the garbage
    /// cycles of every interpreter of the runtime, and reports what it did
    /// (see [`collect`](crate::collect)). Returns an empty report if
    /// another collection is running, or if called inside
    /// [`blocking`](Mutator::blocking).
    ///
    /// ```
    /// use brisk_runtime::{Deferred, Runtime};
    ///
    /// let runtime = Runtime::<Deferred>::new();
    /// let m = runtime.new_interpreter("main").attach();
    /// let (a, b) = (m.list(vec![]), m.list(vec![]));
    /// a.push(b.clone()).unwrap();
    /// b.push(a.clone()).unwrap();
    /// drop((a, b)); // a two-list cycle, unreachable
    /// assert_eq!(m.collect().unreachable, 2);
    /// ```
    pub fn collect(&self) -> crate::CollectionReport {
        if self.detached.get() {
            return crate::CollectionReport::default();
        }
        self.runtime().collect(|| self.stop_the_world())
    }

    /// Allocates a container, counting it towards the next automatic
    /// collection.
    #[inline]
    pub(crate) fn alloc_tracked(&self, payload: Payload<P>) -> Ref<P> {
        let allocations = self.allocations.get() + 1;
        if allocations == crate::collect::ALLOCATION_BATCH {
            self.report_allocations();
        } else {
            self.allocations.set(allocations);
        }
        Ref::alloc_tracked(self.interpreter.tracked(), payload)
    }

    /// Adds a batch of container allocations to the runtime's total, and
    /// collects if that made a collection due. If another thread's
    /// collection is running, this one first waits for it to end (see
    /// "Back-pressure" in [`collect`](crate::collect)), then collects only
    /// if a collection is still due.
    #[cold]
    #[inline(never)] // once per `ALLOCATION_BATCH` container allocations
    fn report_allocations(&self) {
        self.allocations.set(0);
        let gc = &self.runtime().gc;
        if !gc.note_allocations(crate::collect::ALLOCATION_BATCH) {
            return;
        }
        if gc.collecting_elsewhere() && !self.detached.get() {
            // Detached while waiting, so that a collection that starts
            // meanwhile does not wait for this mutator to park.
            self.blocking(|| gc.wait_for_collection());
            // Merged and flushed now: the collection's garbage that this
            // thread owns was queued to it while it was detached, and waits
            // for its merge to be freed.
            self.full_safepoint();
            if !gc.is_due() {
                return;
            }
        }
        self.collect();
    }
}

/// What an interpreter does through a mutator: attach one, run one on a new
/// thread, make its globals with one.
impl<P: RuntimePolicy> Interpreter<P> {
    /// Attaches the calling thread as a mutator of this interpreter.
    ///
    /// Under [`Gil`](crate::Gil) this takes the global lock; under
    /// [`Deferred`](crate::Deferred) it pins the thread to the epoch domain.
    /// Dropping the mutator detaches.
    pub fn attach(&self) -> Mutator<P> {
        Mutator::attach(self.clone())
    }

    /// Runs `f` on a new thread attached to this interpreter.
    ///
    /// ```
    /// let runtime = brisk_runtime::Runtime::<brisk_runtime::Deferred>::new();
    /// let worker = runtime.new_interpreter("worker");
    /// let len = worker.spawn(|m| m.str("hello").len()).join().unwrap();
    /// assert_eq!(len, Some(5));
    /// ```
    pub fn spawn<R, F>(&self, f: F) -> JoinHandle<R>
    where
        F: FnOnce(&Mutator<P>) -> R + Send + 'static,
        R: Send + 'static,
    {
        let interpreter = self.clone();
        std::thread::Builder::new()
            .name(format!("brisk:{}", self.name()))
            .spawn(move || {
                let mutator = interpreter.attach();
                f(&mutator)
            })
            .expect("failed to spawn an interpreter thread")
    }

    /// The globals dictionary, made on first use (by the calling mutator,
    /// which then owns it).
    pub fn globals(&self, m: &Mutator<P>) -> Ref<P> {
        // Made outside the interpreter's lock: an allocation can start a
        // collection, which waits for every other mutator, and one of them
        // may be waiting for that lock.
        self.globals_or_make(|| m.dict())
    }
}

/// Re-attaches a mutator at the end of [`Mutator::blocking`], whether the
/// blocking call returned or panicked.
struct Reattach<'a, P: RuntimePolicy>(&'a Mutator<P>);

impl<P: RuntimePolicy> Drop for Reattach<'_, P> {
    fn drop(&mut self) {
        let runtime = self.0.runtime();
        if P::USES_GIL {
            runtime.gil.acquire();
            set_gil_held(runtime.key(), true);
        }
        runtime.stw.attach();
        set_running(runtime.key(), true);
        self.0.detached.set(false);
    }
}

impl<P: RuntimePolicy> Drop for Mutator<P> {
    fn drop(&mut self) {
        brisk_refcount::safepoint();
        drop(self.epoch.take());
        let runtime = self.interpreter.runtime();
        runtime.stw.detach();
        set_running(runtime.key(), false);
        if P::USES_GIL {
            set_gil_held(runtime.key(), false);
            // SAFETY: an attached mutator of a `Gil` runtime holds the lock.
            unsafe { runtime.gil.release() };
        }
    }
}
