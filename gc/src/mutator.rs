//! Mutator threads: attach, safepoint, detach.
//!
//! A thread that runs interpreter code under [`Deferred`](crate::Deferred)
//! *attaches* to the epoch domain. An attached thread stays **pinned**
//! between safepoints, and while pinned it records its non-owner increments
//! and decrements in its [coalescing buffer](crate::buffer) instead of
//! touching the objects.
//!
//! * [`safepoint`] — merge the refcount queue, flush the buffer (increments
//!   applied now, decrements deferred one epoch), flush crossbeam's bag (a
//!   collection step), and repin. Interpreters call it where CPython checks
//!   its eval breaker.
//! * [`detach`] / [`blocking`] — flush and unpin, so a thread waiting on a
//!   channel or I/O never holds the epoch back.
//! * Thread exit flushes and unpins like [`detach`].
//!
//! A thread that is not attached still works: its non-owner increments are
//! applied at once and each decrement is deferred on its own through a brief
//! pin. That is correct but pays an atomic per operation; attach to coalesce.
//!
//! The invariant the buffer relies on — every buffered increment is applied
//! before its thread unpins — holds because every path that unpins
//! ([`safepoint`], [`detach`], exit) flushes first.

use core::cell::{Cell, OnceCell, RefCell};
use core::ptr::NonNull;

use brisk_refcount::{biased, stats, Dealloc, RcHeader};
use crossbeam_epoch::{Guard, LocalHandle};

use crate::buffer::{CoalescingBuffer, Recorded};
use crate::domain::{domain, DecrementBatch};
use crate::sync::thread_local;

/// One thread's mutator state.
struct Mutator {
    /// This thread's registration with the domain's collector, made on first
    /// use. Owner thread only.
    handle: OnceCell<LocalHandle>,
    /// The pin held between safepoints; `Some` exactly while attached,
    /// except while a safepoint or a deferral has taken it out.
    guard: Cell<Option<Guard>>,
    /// Nesting depth of [`attach`] calls; attached while non-zero.
    depth: Cell<usize>,
    /// Pending non-owner deltas; allocated on first attach.
    buffer: RefCell<Option<CoalescingBuffer>>,
}

thread_local! {
    static MUTATOR: Mutator = const {
        Mutator {
            handle: OnceCell::new(),
            guard: Cell::new(None),
            depth: Cell::new(0),
            buffer: RefCell::new(None),
        }
    };
}

impl Mutator {
    fn handle(&self) -> &LocalHandle {
        self.handle.get_or_init(|| domain().collector.register())
    }

    /// Applies every buffered delta: increments now, decrements one epoch
    /// later as one batch.
    fn flush(&self) {
        let mut batch = DecrementBatch::new();
        {
            let Ok(mut buffer) = self.buffer.try_borrow_mut() else {
                return;
            };
            let Some(buffer) = buffer.as_mut() else {
                return;
            };
            if buffer.is_empty() {
                return;
            }
            tracing::trace!(target: "brisk::gc", objects = buffer.len(), "flush coalescing buffer");
            buffer.drain(|pending| {
                let applied = u64::from(pending.delta != 0);
                stats::record_coalesced(pending.ops - applied);
                match pending.delta {
                    0 => {}
                    delta if delta > 0 => {
                        stats::record_applied();
                        // SAFETY: this thread holds the `delta` references it
                        // recorded, so the object is alive.
                        unsafe { biased::shared_incref_by(pending.header.as_ref(), delta as u32) };
                    }
                    delta => {
                        stats::record_applied();
                        let Some(dealloc) = pending.dealloc else {
                            unreachable!("a negative delta always records its Dealloc")
                        };
                        batch.push(pending.header, delta.unsigned_abs() as u32, dealloc);
                    }
                }
            });
        }
        if !batch.is_empty() {
            // SAFETY: the batch's references were given up by this thread's
            // drops, recorded with their objects' `Dealloc`s.
            with_guard(|guard| unsafe { batch.defer(guard) });
        }
    }

    fn is_attached(&self) -> bool {
        self.depth.get() > 0
    }

    fn unpin(&self) {
        self.flush();
        drop(self.guard.take());
    }
}

impl Drop for Mutator {
    fn drop(&mut self) {
        if self.is_attached() {
            tracing::debug!(target: "brisk::gc", "mutator exit: flush and unpin");
            self.depth.set(0);
            self.unpin();
        }
    }
}

/// Records a non-owner delta in this thread's buffer. Returns `false` when
/// the thread is not attached (the caller then applies it directly).
#[inline]
pub(crate) fn record(header: NonNull<RcHeader>, delta: i64, dealloc: Option<Dealloc>) -> bool {
    MUTATOR
        .try_with(|m| {
            if !m.is_attached() {
                return false;
            }
            let must_flush = {
                let Ok(mut buffer) = m.buffer.try_borrow_mut() else {
                    return false;
                };
                let Some(buffer) = buffer.as_mut() else {
                    return false;
                };
                buffer.record(header, delta, dealloc) == Recorded::MustFlush
            };
            stats::record_buffered();
            if must_flush {
                m.flush();
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
                m.guard.set(Some(guard));
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
/// (if it was the outermost one).
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
/// allowed; the outermost token detaches.
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
        let depth = m.depth.get();
        m.depth.set(depth + 1);
        if depth == 0 {
            m.buffer
                .borrow_mut()
                .get_or_insert_with(CoalescingBuffer::new);
            m.guard.set(Some(m.handle().pin()));
            tracing::debug!(target: "brisk::gc", "mutator attached");
        }
    });
    Attached {
        _not_send: core::marker::PhantomData,
    }
}

fn detach_one() {
    let _ = MUTATOR.try_with(|m| {
        let depth = m.depth.get();
        if depth == 0 {
            return;
        }
        m.depth.set(depth - 1);
        if depth == 1 {
            m.unpin();
            tracing::debug!(target: "brisk::gc", "mutator detached");
        }
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
pub fn safepoint() -> usize {
    let merged = brisk_refcount::safepoint();
    let _ = MUTATOR.try_with(|m| {
        m.flush();
        match m.guard.take() {
            Some(mut guard) => {
                // `flush` runs a collection step; `repin` lets the epoch move.
                guard.flush();
                guard.repin();
                m.guard.set(Some(guard));
            }
            None => m.handle().pin().flush(),
        }
    });
    merged
}

/// Runs `f` detached: the buffer is flushed and the thread unpinned for the
/// duration, so a blocking call (a channel receive, I/O, a lock) never holds
/// the epoch back; the thread re-attaches afterwards if it was attached.
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
    let saved = MUTATOR
        .try_with(|m| {
            let depth = m.depth.replace(0);
            if depth > 0 {
                m.unpin();
            }
            depth
        })
        .unwrap_or(0);
    let result = f();
    if saved > 0 {
        let _ = MUTATOR.try_with(|m| {
            m.depth.set(saved);
            m.guard.set(Some(m.handle().pin()));
        });
    }
    result
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
        if crate::garbage().is_empty() {
            break;
        }
        safepoint();
    }
    crate::garbage()
}
