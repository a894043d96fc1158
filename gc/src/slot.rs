//! Atomic reference slots: a shared, atomically replaceable reference.
//!
//! How does interpreter A use an object that lives in interpreter B's heap
//! without a lock? It reads it from a slot both can see. The reader must
//! never count a reference to an object whose last count is being dropped at
//! that moment by a writer replacing the slot — the classic race that
//! `Arc`-in-`AtomicPtr` cannot handle on its own (see the `arc-swap` crate
//! and Correia et al., *OrcGC*, PPoPP 2021).
//!
//! The epoch domain closes the race:
//!
//! * **load**: pinned, read the pointer (Acquire), count a reference (buffered
//!   under [`Deferred`]), return a counted handle;
//! * **store / swap**: exchange the pointer (AcqRel) and *retire* the slot's
//!   reference to the old value: it is dropped only after every thread
//!   pinned now has unpinned, so no reader can still be between its load and
//!   its count.
//!
//! [`RawSlot`] does this on bare headers for object models that count
//! through their own handles (the runtime's slot objects); [`AtomicSlot`] is
//! the typed version for [`Brc`].

use core::marker::PhantomData;
use core::ptr::{self, NonNull};

use brisk_refcount::{Brc, RcHeader, RcPolicy};

use crate::deferred::Deferred;
use crate::domain::retire;
use crate::mutator::with_guard;
use crate::sync::{
    AtomicPtr,
    Ordering::{AcqRel, Acquire},
};

/// How a [`RawSlot`] counts the values it holds.
#[derive(Copy, Clone)]
pub struct SlotOps {
    /// Adds a reference (the caller holds one or is pinned with the slot's).
    pub incref: unsafe fn(&RcHeader),
    /// Gives up one reference; may run on any thread.
    pub drop_ref: unsafe fn(NonNull<RcHeader>),
}

/// A slot holding one counted reference (or none), by header.
pub struct RawSlot {
    /// Header of the current value (holding one counted reference), or null.
    ptr: AtomicPtr<RcHeader>,
}

impl RawSlot {
    /// A slot that takes over one counted reference to `value`, if any.
    pub fn new(value: Option<NonNull<RcHeader>>) -> Self {
        RawSlot {
            ptr: AtomicPtr::new(value.map_or(ptr::null_mut(), NonNull::as_ptr)),
        }
    }

    /// Counts and returns a reference to the current value.
    ///
    /// # Safety
    ///
    /// Every value ever stored was counted with the same `ops`.
    pub unsafe fn load(&self, ops: SlotOps) -> Option<NonNull<RcHeader>> {
        with_guard(|_pinned| {
            // Acquire: pairs with the AcqRel exchange that stored the pointer,
            // so the object's initialisation is visible.
            let header = NonNull::new(self.ptr.load(Acquire))?;
            // SAFETY: we are pinned, so the slot's reference to this value,
            // even if a writer replaces it right now, is retired and cannot
            // be dropped before we unpin; the object is alive while we count.
            unsafe { (ops.incref)(header.as_ref()) };
            Some(header)
        })
    }

    /// Stores `value` (taking over its reference) and retires the slot's
    /// reference to the old value.
    ///
    /// # Safety
    ///
    /// As [`RawSlot::load`]; the caller owns one reference to `value`.
    pub unsafe fn store(&self, value: Option<NonNull<RcHeader>>, ops: SlotOps) {
        let new = value.map_or(ptr::null_mut(), NonNull::as_ptr);
        // AcqRel: Release publishes the new value's initialisation to loaders;
        // Acquire orders our retirement of the old value after its store.
        let old = self.ptr.swap(new, AcqRel);
        if let Some(old) = NonNull::new(old) {
            // SAFETY: we took over the slot's reference to `old`; readers may
            // still be about to count it, so it is dropped an epoch later.
            with_guard(|guard| unsafe { retire(guard, old, ops.drop_ref) });
        }
    }

    /// Stores `value` and returns a counted reference to the old value.
    ///
    /// # Safety
    ///
    /// As [`RawSlot::store`].
    pub unsafe fn swap(
        &self,
        value: Option<NonNull<RcHeader>>,
        ops: SlotOps,
    ) -> Option<NonNull<RcHeader>> {
        let new = value.map_or(ptr::null_mut(), NonNull::as_ptr);
        with_guard(|guard| {
            // AcqRel: as in `store`.
            let old = NonNull::new(self.ptr.swap(new, AcqRel))?;
            // SAFETY: the slot's reference keeps `old` alive until retired.
            unsafe { (ops.incref)(old.as_ref()) };
            // SAFETY: as in `store`.
            unsafe { retire(guard, old, ops.drop_ref) };
            Some(old)
        })
    }

    /// Stores `value` and hands the slot's reference to the old value
    /// straight back, without waiting for an epoch.
    ///
    /// # Safety
    ///
    /// As [`RawSlot::store`], and no thread can be between loading the old
    /// pointer and counting it: every reader and writer runs under one lock
    /// (a global interpreter lock), so a reader's count is complete before a
    /// writer runs.
    pub unsafe fn replace_now(
        &self,
        value: Option<NonNull<RcHeader>>,
    ) -> Option<NonNull<RcHeader>> {
        let new = value.map_or(ptr::null_mut(), NonNull::as_ptr);
        // AcqRel: as in `store`.
        NonNull::new(self.ptr.swap(new, AcqRel))
    }

    /// The current pointer, uncounted: only for identity checks and graph
    /// walks made while the world is stopped.
    pub fn peek(&self) -> Option<NonNull<RcHeader>> {
        // Acquire: as in `load`.
        NonNull::new(self.ptr.load(Acquire))
    }
}

impl core::fmt::Debug for RawSlot {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("RawSlot")
            .field("ptr", &self.peek())
            .finish()
    }
}

/// An atomic `Option<Brc<T, P>>` that any number of threads may load and
/// replace concurrently.
///
/// The value a slot gives up is released an epoch later by whichever thread
/// runs that collection step, so a slot only holds handles that may move to
/// and be shared with another thread: `Brc<T, P>: Send + Sync`, which asks
/// for `T: Send + Sync` and a thread-safe policy (not
/// [`NonAtomic`](brisk_refcount::NonAtomic)). A GIL-based object model that
/// replaces values under its own lock uses [`RawSlot::replace_now`].
///
/// ```
/// use brisk_gc::{AtomicSlot, Deferred};
/// use brisk_refcount::Brc;
///
/// let slot: AtomicSlot<String> = AtomicSlot::new(Some(Brc::new_with_policy("a".into())));
/// let seen = slot.load().unwrap();
/// slot.store(Some(Brc::new_with_policy("b".into())));
/// assert_eq!(*seen, "a"); // still counted: the old value lives on
/// assert_eq!(*slot.load().unwrap(), "b");
/// ```
pub struct AtomicSlot<T, P: RcPolicy = Deferred>
where
    Brc<T, P>: Send + Sync,
{
    raw: RawSlot,
    _holds: PhantomData<Option<Brc<T, P>>>,
}

// `Send` and `Sync` are the fields': `RawSlot` is an atomic pointer, and
// the marker stands for the `Send + Sync` handles the slot holds.

/// Drops one reference of a `Brc<T, P>` through its header.
///
/// # Safety
///
/// `header` heads a `Brc<T, P>` allocation and the caller owns one reference.
unsafe fn drop_brc<T, P: RcPolicy>(header: NonNull<RcHeader>) {
    // SAFETY: forwarded from the caller.
    drop(unsafe { Brc::<T, P>::from_header(header) });
}

impl<T, P: RcPolicy> AtomicSlot<T, P>
where
    Brc<T, P>: Send + Sync,
{
    const OPS: SlotOps = SlotOps {
        incref: P::incref,
        drop_ref: drop_brc::<T, P>,
    };

    /// A slot holding `value`.
    pub fn new(value: Option<Brc<T, P>>) -> Self {
        AtomicSlot {
            raw: RawSlot::new(value.map(Brc::into_header)),
            _holds: PhantomData,
        }
    }

    /// A counted reference to the current value.
    ///
    /// ```
    /// let slot = brisk_gc::AtomicSlot::<u32>::new(None);
    /// assert!(slot.load().is_none());
    /// ```
    pub fn load(&self) -> Option<Brc<T, P>> {
        // SAFETY: every value stored was a `Brc<T, P>`; we own the reference
        // `load` counted.
        unsafe {
            self.raw
                .load(Self::OPS)
                .map(|header| Brc::from_header(header))
        }
    }

    /// Replaces the value; the slot's reference to the old one is retired.
    pub fn store(&self, value: Option<Brc<T, P>>) {
        // SAFETY: as in `load`; the slot takes over `value`'s reference.
        unsafe { self.raw.store(value.map(Brc::into_header), Self::OPS) }
    }

    /// Replaces the value and returns a counted reference to the old one.
    ///
    /// ```
    /// use brisk_refcount::Brc;
    /// let slot = brisk_gc::AtomicSlot::<u8>::new(Some(Brc::new_with_policy(1)));
    /// let old = slot.swap(Some(Brc::new_with_policy(2)));
    /// assert_eq!(old.as_deref(), Some(&1));
    /// ```
    pub fn swap(&self, value: Option<Brc<T, P>>) -> Option<Brc<T, P>> {
        // SAFETY: as in `store`; we own the reference `swap` counted.
        unsafe {
            self.raw
                .swap(value.map(Brc::into_header), Self::OPS)
                .map(|header| Brc::from_header(header))
        }
    }

    /// Empties the slot (retiring the old value).
    pub fn clear(&self) {
        self.store(None);
    }
}

impl<T, P: RcPolicy> Drop for AtomicSlot<T, P>
where
    Brc<T, P>: Send + Sync,
{
    fn drop(&mut self) {
        // A slot being dropped may still have been read by a pinned thread a
        // moment ago (through a shared reference that just ended), so its
        // value is retired like any replaced one.
        self.clear();
    }
}

impl<T, P: RcPolicy> Default for AtomicSlot<T, P>
where
    Brc<T, P>: Send + Sync,
{
    fn default() -> Self {
        Self::new(None)
    }
}

impl<T, P: RcPolicy> core::fmt::Debug for AtomicSlot<T, P>
where
    Brc<T, P>: Send + Sync,
{
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("AtomicSlot")
            .field("raw", &self.raw)
            .finish()
    }
}
