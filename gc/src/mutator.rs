//! Mutator threads: attach, safepoint, detach.
//!
//! A thread that runs interpreter code under [`Deferred`](crate::Deferred)
//! *attaches* to the epoch domain. An attached thread stays **pinned**
//! between safepoints, and while pinned it records its non-owner increments
//! and decrements in its coalescing buffer (`buffer.rs`) instead of
//! touching the objects.
//!
//! * [`safepoint`] — merge the refcount queue, flush the buffer (increments
//!   applied now, decrements deferred one epoch), flush crossbeam's bag (a
//!   collection step), and repin. Interpreters call it where CPython checks
//!   its eval breaker.
//! * detaching (dropping the [`Attached`] token) / [`blocking`] — flush and unpin, so a thread waiting on a
//!   channel or I/O never holds the epoch back.
//! * Thread exit flushes and unpins like detaching.
//!
//! A thread that is not attached still works: its non-owner increments are
//! applied at once and each decrement is deferred on its own through a brief
//! pin. That is correct but pays an atomic per operation; attach to coalesce.
//!
//! The invariant the buffer relies on — every buffered increment is applied
//! before its thread unpins — holds because every path that unpins
//! ([`safepoint`], detaching, exit) flushes first.
//!
//! # Deferred decrements
//!
//! Every decrement the [`Deferred`](crate::Deferred) policy defers goes
//! through this thread's pin: a flushed buffer's negative deltas as one
//! batch, and single ones (the owner's last local reference, a merge
//! queue's reference, a detached thread's drop) through `defer_decrement`.
//! A deferred decrement that finds a count of zero queues the object to its
//! owner, whose merge (`deferred_merge_queued`) defers the queue's
//! reference in turn. The batches themselves, and the collector they wait
//! in, are [`crate::domain`]'s.
//!
//! # The hot entry
//!
//! In front of the buffer sits one *hot entry*: the last object this thread
//! counted as a non-owner, with its pending delta, in plain thread-local
//! cells. The policy checks it **before** the owner check, so a loop that
//! clones and drops one shared object never reads the object's header —
//! not even its owner id, which shares a cache line with the owner's
//! constantly written `local` count. That is what removes the cache-line
//! traffic under contention, not just the atomics.
//!
//! Matching by address alone is sound: an entry exists only while this
//! thread is pinned, in the pin period in which it counted the object as a
//! non-owner. The object was published then, so its last decrement must be
//! deferred, and a decrement issued in this pin period cannot be applied
//! before this thread unpins (and so flushes and clears the entry); the
//! address cannot be freed and reused under the entry. Nor can this thread
//! become the object's owner meanwhile: adoption needs a count nobody else
//! buffers. The same argument lets the buffer keep raw header pointers.

use core::cell::{Cell, OnceCell, RefCell};
use core::ptr::{self, NonNull};

use brisk_refcount::policy_kit::{self, MergeFn};
use brisk_refcount::{stats, Dealloc, RcHeader};
use crossbeam_epoch::{Guard, LocalHandle};

use crate::buffer::{CoalescingBuffer, Recorded};
use crate::domain::{domain, DecrementBatch};
use crate::sync::{event, thread_local};

/// The per-thread state the counting paths touch: the attached flag, the
/// hot entry and the buffer. No destructor, so reaching it is a plain
/// thread-local access; the exit path lives in [`Mutator`]'s destructor.
/// Owner thread only.
struct Local {
    /// Whether the thread is attached (pinned, buffering).
    attached: Cell<bool>,
    /// The hot entry's object, or null.
    hot_header: Cell<*const RcHeader>,
    /// The hot entry's net delta.
    hot_delta: Cell<i64>,
    /// The hot entry's `Dealloc`, once a decrement was recorded.
    hot_dealloc: Cell<Option<Dealloc>>,
    /// The table behind the hot entry. Borrowed mutably only inside this
    /// module's functions, none of which runs foreign code while the borrow
    /// lives; a borrow that fails anyway (counting re-entered from code the
    /// flush calls, such as a `tracing` subscriber) counts the way a
    /// detached thread does instead of aliasing the table.
    buffer: RefCell<CoalescingBuffer>,
}

impl Local {
    const fn new() -> Self {
        Local {
            attached: Cell::new(false),
            hot_header: Cell::new(ptr::null()),
            hot_delta: Cell::new(0),
            hot_dealloc: Cell::new(None),
            buffer: RefCell::new(CoalescingBuffer::new()),
        }
    }

    /// Moves the hot entry into the buffer. Returns whether the buffer asks
    /// for a flush.
    fn evict_hot(&self, buffer: &mut CoalescingBuffer) -> bool {
        let Some(header) = NonNull::new(self.hot_header.replace(ptr::null()).cast_mut()) else {
            return false;
        };
        buffer.record(header, self.hot_delta.get(), self.hot_dealloc.take()) == Recorded::MustFlush
    }

    /// Applies every pending delta: increments now, decrements one epoch
    /// later as one batch. Returns with the hot entry and the buffer empty,
    /// even if code it calls (a `tracing` subscriber) counted again: it
    /// drains until nothing is left. A flush re-entered while an outer one
    /// drains does nothing; the outer one finishes the work.
    fn flush(&self) {
        loop {
            let Ok(mut buffer) = self.buffer.try_borrow_mut() else {
                return;
            };
            self.evict_hot(&mut buffer);
            if buffer.is_empty() {
                return;
            }
            let objects = buffer.len();
            let mut batch = DecrementBatch::new();
            buffer.drain(|pending| {
                if pending.delta == 0 {
                    return;
                }
                stats::record_applied();
                if pending.delta > 0 {
                    // SAFETY: this thread holds the `delta` references it
                    // recorded, so the object is alive.
                    unsafe { apply_increments(pending.header, pending.delta) };
                } else {
                    let Some(dealloc) = pending.dealloc else {
                        unreachable!("a negative delta always records its Dealloc")
                    };
                    let mut left = pending.delta.unsigned_abs();
                    while left > 0 {
                        let step = left.min(u64::from(u32::MAX));
                        batch.push(pending.header, step as u32, dealloc);
                        left -= step;
                    }
                }
            });
            // Foreign code only once the table is released.
            drop(buffer);
            event!(tracing::trace!(target: "brisk::gc", objects, "flushed coalescing buffer"));
            if !batch.is_empty() {
                // SAFETY: the batch's references were given up by this
                // thread's drops, recorded with their objects' `Dealloc`s.
                with_guard(|guard| unsafe { batch.defer(guard, QUEUE_MERGE) });
            }
        }
    }

    /// Whether nothing is pending: no hot entry, an empty table.
    fn is_flushed(&self) -> bool {
        self.hot_header.get().is_null()
            && self
                .buffer
                .try_borrow()
                .is_ok_and(|buffer| buffer.is_empty())
    }
}

/// How a queued object is merged when one of this crate's deferred
/// decrements queues it to its owner.
const QUEUE_MERGE: MergeFn = deferred_merge_queued;

/// How many decrements an attached thread collects in its pending batch
/// ([`defer_decrement`]) before it defers them without waiting for its
/// next safepoint.
const PENDING_BATCH: usize = if cfg!(loom) { 2 } else { 256 };

/// Defers `n` decrements of one object (the owner's last local reference,
/// or a merge queue's reference): applied at least one epoch later.
///
/// An attached thread adds them to its pending batch, which its next
/// flush (a safepoint, or detaching) defers whole, or which is deferred as
/// soon as it holds [`PENDING_BATCH`] objects: the epoch collector runs a
/// bounded number of closures per collection step, so one closure per
/// object would drain a burst no faster than that. Deferring later than
/// the decrement was issued only waits longer, which the invariant of
/// [`crate::deferred`] allows. A thread that is not attached may not
/// reach a flush soon, so its decrement is deferred at once.
///
/// # Safety
///
/// The caller gives up `n` counted references; `dealloc` frees the object.
pub(crate) unsafe fn defer_decrement(header: NonNull<RcHeader>, n: u32, dealloc: Dealloc) {
    let pending = MUTATOR
        .try_with(|m| {
            if !m.is_attached() {
                return None;
            }
            let mut batch = m.pending.take();
            batch.push(header, n, dealloc);
            if batch.len() < PENDING_BATCH {
                m.pending.set(batch);
                return Some(None);
            }
            Some(Some(batch))
        })
        .ok()
        .flatten();
    let batch = match pending {
        Some(None) => return,
        Some(Some(full)) => full,
        None => {
            let mut batch = DecrementBatch::new();
            batch.push(header, n, dealloc);
            batch
        }
    };
    // SAFETY: forwarded from the caller, for every entry of the batch.
    with_guard(|guard| unsafe { batch.defer(guard, QUEUE_MERGE) });
}

/// The deferred policy's [`MergeFn`](brisk_refcount::MergeFn): merge a
/// queued object now, drop the queue's reference one epoch later.
///
/// # Safety
///
/// See [`MergeFn`](brisk_refcount::MergeFn).
unsafe fn deferred_merge_queued(header: NonNull<RcHeader>, dealloc: Dealloc) {
    // SAFETY: the queue's reference keeps the header alive.
    if unsafe { header.as_ref() }.forward_target().is_some() {
        // Forwarded while queued: drop the queue's reference through the
        // forward, one epoch later like any other.
        // SAFETY: the queue's reference, given up one epoch later.
        unsafe { defer_decrement(header, 1, dealloc) };
        return;
    }
    // The merged count may be zero or negative, for the reason given in
    // `crate::deferred`'s `deferred_zero_local`: increments still buffered elsewhere are part of
    // the count. The queue's reference keeps the object alive, and it is
    // given up one epoch later.
    // SAFETY: owner thread (or the owner exited); the queue's reference keeps
    // the object alive.
    unsafe { policy_kit::explicit_merge(header.as_ref(), 0) };
    // SAFETY: the queue's reference, given up one epoch later.
    unsafe { defer_decrement(header, 1, dealloc) };
}

/// Adds `delta` increments to the shared count, in `u32` steps.
///
/// # Safety
///
/// The caller holds `delta` references.
unsafe fn apply_increments(header: NonNull<RcHeader>, mut delta: i64) {
    while delta > 0 {
        let step = delta.min(i64::from(u32::MAX));
        // SAFETY: forwarded from the caller.
        unsafe { policy_kit::shared_incref_by(header.as_ref(), step as u32) };
        delta -= step;
    }
}

/// The rest of a thread's mutator state, whose destructor is the exit path.
struct Mutator {
    /// This thread's registration with the domain's collector, made on first
    /// use. Owner thread only.
    handle: OnceCell<LocalHandle>,
    /// The pin held between safepoints; `Some` exactly while attached,
    /// except while a safepoint or a deferral has taken it out.
    guard: Cell<Option<Guard>>,
    /// Live [`Attached`] tokens of this thread.
    depth: Cell<usize>,
    /// How many of those tokens the enclosing [`blocking`] calls suspend.
    /// The thread is attached while `depth > suspended`: a token made
    /// inside `blocking` attaches, and a token dropped there (one of the
    /// suspended ones) lowers both counts, so leaving `blocking` never
    /// re-pins for a token that is gone.
    suspended: Cell<usize>,
    /// Decrements [`defer_decrement`] collected while attached, deferred
    /// whole at the next flush. Owner thread only; taken out to be used.
    pending: Cell<DecrementBatch>,
    /// Under loom, thread-locals are torn down all at once, so the counting
    /// state lives here, where the exit path can still reach it.
    #[cfg(loom)]
    local: Local,
}

thread_local! {
    static MUTATOR: Mutator = const {
        Mutator {
            handle: OnceCell::new(),
            guard: Cell::new(None),
            depth: Cell::new(0),
            suspended: Cell::new(0),
            pending: Cell::new(DecrementBatch::new()),
            #[cfg(loom)]
            local: Local::new(),
        }
    };
}

#[cfg(not(loom))]
thread_local! {
    static LOCAL: Local = const { Local::new() };
}

/// Runs `f` on this thread's counting state, if it still exists.
#[inline(always)]
fn with_local<R>(f: impl FnOnce(&Local) -> R) -> Option<R> {
    #[cfg(not(loom))]
    {
        LOCAL.try_with(f).ok()
    }
    #[cfg(loom)]
    {
        MUTATOR.try_with(|m| f(&m.local)).ok()
    }
}

impl Mutator {
    fn handle(&self) -> &LocalHandle {
        self.handle.get_or_init(|| domain().collector.register())
    }

    /// Runs `f` on this mutator's counting state (also from its destructor).
    fn with_own_local<R>(&self, f: impl FnOnce(&Local) -> R) -> Option<R> {
        #[cfg(not(loom))]
        {
            with_local(f)
        }
        #[cfg(loom)]
        {
            Some(f(&self.local))
        }
    }

    fn is_attached(&self) -> bool {
        self.depth.get() > self.suspended.get()
    }

    /// Returns the pin held between safepoints after a caller took it out
    /// to use it. Code that ran meanwhile may have detached (the pin is then
    /// released here) or attached anew (its own pin is kept instead).
    fn put_back(&self, guard: Guard) {
        let attached = self.with_own_local(|l| l.attached.get()).unwrap_or(false);
        match self.guard.take() {
            Some(newer) => self.guard.set(Some(newer)),
            None if attached => self.guard.set(Some(guard)),
            None => {}
        }
    }

    /// Pins or unpins so that the pin matches [`Mutator::is_attached`].
    fn settle(&self) {
        let pinned = self.with_own_local(|l| l.attached.get()).unwrap_or(false);
        match (self.is_attached(), pinned) {
            (true, false) => {
                self.pin();
                event!(tracing::debug!(target: "brisk::gc", "mutator attached"));
            }
            (false, true) => {
                self.unpin();
                event!(tracing::debug!(target: "brisk::gc", "mutator detached"));
            }
            _ => {}
        }
    }

    /// Flushes the buffer and defers the pending batch.
    fn flush(&self) {
        self.with_own_local(Local::flush);
        self.defer_pending();
    }

    /// Defers the decrements [`defer_decrement`] collected, as one batch.
    fn defer_pending(&self) {
        let batch = self.pending.take();
        if !batch.is_empty() {
            // SAFETY: each entry's references were given up to
            // `defer_decrement`, with its object's `Dealloc`.
            with_guard(|guard| unsafe { batch.defer(guard, QUEUE_MERGE) });
        }
    }

    fn pin(&self) {
        self.guard.set(Some(self.handle().pin()));
        self.with_own_local(|l| l.attached.set(true));
    }

    fn unpin(&self) {
        self.with_own_local(|l| {
            l.attached.set(false);
            l.flush();
        });
        self.defer_pending();
        drop(self.guard.take());
    }
}

impl Drop for Mutator {
    fn drop(&mut self) {
        if self.is_attached() {
            // No tracing here (so not `settle`): a subscriber's own
            // thread-locals may already be gone while thread-locals are
            // torn down.
            self.depth.set(0);
            self.suspended.set(0);
            self.unpin();
        }
    }
}

/// The fast path for an increment: if `header` is the hot entry, count it
/// there. One thread-local load and compare; the object is not touched.
#[inline(always)]
pub(crate) fn hot_incref(header: &RcHeader) -> bool {
    with_local(|l| {
        if !core::ptr::eq(l.hot_header.get(), header) {
            return false;
        }
        // A hit is laid out off the caller's fall-through line, which is
        // the owner's increment: a jump here costs a hot non-owner less
        // than one over this block would cost every owner operation.
        core::hint::cold_path();
        l.hot_delta.set(l.hot_delta.get() + 1);
        stats::record_buffered();
        true
    })
    .unwrap_or(false)
}

/// The fast path for a decrement; see [`hot_incref`].
#[inline(always)]
pub(crate) fn hot_decref(header: NonNull<RcHeader>, dealloc: Dealloc) -> bool {
    with_local(|l| {
        if l.hot_header.get() != header.as_ptr().cast_const() {
            return false;
        }
        // As in `hot_incref`.
        core::hint::cold_path();
        l.hot_delta.set(l.hot_delta.get() - 1);
        l.hot_dealloc.set(Some(dealloc));
        stats::record_buffered();
        true
    })
    .unwrap_or(false)
}

/// Records a non-owner delta that missed the hot entry: the object becomes
/// the hot entry, the previous one moves to the buffer, and an object seen
/// for the first time in this pin period is published first. Returns
/// `false` when the thread is not attached (the caller then applies the
/// delta directly).
pub(crate) fn record(header: NonNull<RcHeader>, delta: i64, dealloc: Option<Dealloc>) -> bool {
    with_local(|l| {
        if !l.attached.get() {
            return false;
        }
        let must_flush = {
            let Ok(mut buffer) = l.buffer.try_borrow_mut() else {
                // Re-entered from code that runs while the table is
                // borrowed: count as a detached thread does.
                return false;
            };
            let must_flush = l.evict_hot(&mut buffer);
            if !buffer.contains(header) {
                // First touch in this pin period (so also the first touch
                // ever): publish before the first buffered operation.
                // SAFETY: the caller holds a reference.
                unsafe { policy_kit::mark_published(header.as_ref()) };
            }
            must_flush
        };
        l.hot_header.set(header.as_ptr());
        l.hot_delta.set(delta);
        l.hot_dealloc.set(dealloc);
        stats::record_buffered();
        if must_flush {
            l.flush();
        }
        true
    })
    .unwrap_or(false)
}

/// Runs `f` with a pinned guard: the one held between safepoints if this
/// thread is attached, otherwise a brief pin (from a temporary registration
/// if the thread is already tearing down its thread-locals).
pub(crate) fn with_guard<R>(f: impl FnOnce(&Guard) -> R) -> R {
    let mut f = Some(f);
    let result = MUTATOR.try_with(|m| {
        let f = f.take().expect("called once");
        match m.guard.take() {
            Some(guard) => {
                let result = f(&guard);
                m.put_back(guard);
                result
            }
            None => f(&m.handle().pin()),
        }
    });
    match result {
        Ok(result) => result,
        Err(_) => {
            let f = f.take().expect("not called: the thread-local was gone");
            let handle = domain().collector.register();
            let guard = handle.pin();
            f(&guard)
        }
    }
}

/// A token for an attachment made by [`attach`]; dropping it detaches
/// (if it was the last one alive).
#[must_use = "the thread detaches when the token is dropped"]
pub struct Attached {
    /// Not `Send`: the attachment belongs to this thread.
    _not_send: core::marker::PhantomData<*const ()>,
}

impl Drop for Attached {
    fn drop(&mut self) {
        detach_one();
    }
}

/// Attaches this thread to the epoch domain as a mutator: it is pinned from
/// now until the token drops, except inside [`blocking`], and buffers its
/// non-owner counting under [`Deferred`](crate::Deferred). Nested calls are
/// allowed; the thread detaches when its last token drops. Inside
/// [`blocking`] a new token attaches until it drops or `blocking` returns.
///
/// Call [`safepoint`] regularly while attached: a pinned thread that never
/// reaches one holds back every other thread's deferred decrements.
///
/// ```
/// let attached = brisk_gc::attach();
/// assert!(brisk_gc::is_attached());
/// brisk_gc::safepoint();
/// drop(attached);
/// assert!(!brisk_gc::is_attached());
/// ```
pub fn attach() -> Attached {
    let _ = MUTATOR.try_with(|m| {
        m.depth.set(m.depth.get() + 1);
        m.settle();
    });
    Attached {
        _not_send: core::marker::PhantomData,
    }
}

fn detach_one() {
    let _ = MUTATOR.try_with(|m| {
        let Some(depth) = m.depth.get().checked_sub(1) else {
            return;
        };
        m.depth.set(depth);
        // A suspended token dropped inside `blocking` is no longer there to
        // resume.
        m.suspended.set(m.suspended.get().min(depth));
        m.settle();
    });
}

/// Whether this thread is attached.
pub fn is_attached() -> bool {
    MUTATOR.try_with(Mutator::is_attached).unwrap_or(false)
}

/// A safepoint: merges this thread's refcount queue, flushes its coalescing
/// buffer, lets the epoch advance (a collection step that may run other
/// threads' deferred decrements and destructors) and repins.
///
/// On a thread that is not attached it still merges the queue and runs a
/// collection step. Returns how many queued objects were merged.
///
/// # Destructors that count
///
/// The collection step runs destructors on this thread while it is still
/// pinned, and a destructor may clone an object this thread does not own:
/// that increment is buffered in the epoch it is issued in. The buffer is
/// therefore flushed again after the step and before the repin, so the
/// invariant of [`crate::deferred`] holds for it too: every increment is
/// applied before its thread leaves the epoch it was issued in. Leaving it
/// buffered would let a decrement deferred meanwhile reach zero under the
/// clone, two epochs on.
pub fn safepoint() -> usize {
    let merged = brisk_refcount::safepoint();
    let _ = MUTATOR.try_with(|m| {
        m.flush();
        match m.guard.take() {
            Some(mut guard) => {
                // A collection step: may run destructors on this thread.
                guard.flush();
                m.flush();
                debug_assert!(
                    m.with_own_local(Local::is_flushed).unwrap_or(true),
                    "repinning with buffered counts"
                );
                guard.repin();
                m.put_back(guard);
            }
            None => m.handle().pin().flush(),
        }
    });
    merged
}

/// Runs `f` detached: the buffer is flushed and the thread unpinned for the
/// duration, so a blocking call (a channel receive, I/O, a lock) never holds
/// the epoch back; the thread re-attaches afterwards if one of its tokens
/// is still alive.
///
/// Tokens keep their meaning inside `f`: one dropped there detaches for
/// good when it was the last, and one made there attaches until it drops.
///
/// ```
/// let _attached = brisk_gc::attach();
/// let answer = brisk_gc::blocking(|| {
///     assert!(!brisk_gc::is_attached());
///     42
/// });
/// assert_eq!(answer, 42);
/// assert!(brisk_gc::is_attached());
/// ```
pub fn blocking<R>(f: impl FnOnce() -> R) -> R {
    /// Resumes the suspended tokens that are still alive, also when `f`
    /// unwinds.
    struct Resume(Option<usize>);
    impl Drop for Resume {
        fn drop(&mut self) {
            if let Some(outer) = self.0 {
                let _ = MUTATOR.try_with(|m| {
                    m.suspended.set(outer.min(m.depth.get()));
                    m.settle();
                });
            }
        }
    }
    let _resume = Resume(
        MUTATOR
            .try_with(|m| {
                let outer = m.suspended.replace(m.depth.get());
                m.settle();
                outer
            })
            .ok(),
    );
    f()
}

/// Applies every deferred decrement and retired reference that can be
/// applied now, repeating collection steps until the domain's garbage is
/// empty or `max_steps` steps have run. Returns what is left.
///
/// Useful at shutdown and in tests; a running program relies on
/// safepoints instead. Garbage that another *attached* thread's pin still
/// protects stays.
pub fn collect(max_steps: usize) -> crate::Garbage {
    for _ in 0..max_steps {
        // A step's collection can queue objects back to this thread (a
        // deferred decrement finding a count of zero) after the step's own
        // merge, and merging those defers more: stop only when neither
        // merge found anything and nothing is pending.
        let merged = safepoint() + brisk_refcount::safepoint();
        if merged == 0 && crate::garbage().is_empty() {
            break;
        }
    }
    crate::garbage()
}
