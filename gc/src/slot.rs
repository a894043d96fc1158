//! `AtomicSlot`: a shared, atomically replaceable reference.
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
//!   under [`Deferred`](crate::Deferred)), return a counted handle;
//! * **store / swap**: exchange the pointer (AcqRel) and *retire* the slot's
//!   reference to the old value: it is dropped only after every thread
//!   pinned now has unpinned, so no reader can still be between its load and
//!   its count.

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

/// An atomic `Option<Brc<T, P>>` that any number of threads may load and
/// replace concurrently.
///
/// ```
/// use brisk_gc::{AtomicSlot, Deferred};
/// use brisk_refcount::Brc;
///
/// let slot: AtomicSlot<String> = AtomicSlot::new(Some(Brc::new_in("a".into())));
/// let seen = slot.load().unwrap();
/// slot.store(Some(Brc::new_in("b".into())));
/// assert_eq!(*seen, "a"); // still counted: the old value lives on
/// assert_eq!(*slot.load().unwrap(), "b");
/// ```
pub struct AtomicSlot<T, P: RcPolicy = Deferred> {
    /// Header of the current value (holding one counted reference), or null.
    ptr: AtomicPtr<RcHeader>,
    _holds: PhantomData<Option<Brc<T, P>>>,
}

// SAFETY: the slot holds a `Brc<T, P>`; sharing the slot shares that handle
// across threads, which is sound exactly when the handle is `Send + Sync`.
unsafe impl<T, P: RcPolicy> Send for AtomicSlot<T, P> where Brc<T, P>: Send + Sync {}
// SAFETY: as above.
unsafe impl<T, P: RcPolicy> Sync for AtomicSlot<T, P> where Brc<T, P>: Send + Sync {}

fn into_raw<T, P: RcPolicy>(value: Option<Brc<T, P>>) -> *mut RcHeader {
    value.map_or(ptr::null_mut(), |b| Brc::into_header(b).as_ptr())
}

/// Drops one reference of a `Brc<T, P>` through its header.
///
/// # Safety
///
/// `header` heads a `Brc<T, P>` allocation and the caller owns one reference.
unsafe fn drop_ref<T, P: RcPolicy>(header: NonNull<RcHeader>) {
    // SAFETY: forwarded from the caller.
    drop(unsafe { Brc::<T, P>::from_header(header) });
}

impl<T, P: RcPolicy> AtomicSlot<T, P> {
    /// A slot holding `value`.
    pub fn new(value: Option<Brc<T, P>>) -> Self {
        AtomicSlot {
            ptr: AtomicPtr::new(into_raw(value)),
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
        with_guard(|_pinned| {
            // Acquire: pairs with the AcqRel exchange that stored the pointer,
            // so the object's initialisation is visible.
            let header = NonNull::new(self.ptr.load(Acquire))?;
            // SAFETY: we are pinned, so the slot's reference to this value,
            // even if a writer replaces it right now, is retired and cannot be
            // dropped before we unpin; the object is alive while we count.
            unsafe { P::incref(header.as_ref()) };
            // SAFETY: we just counted the reference this handle owns.
            Some(unsafe { Brc::from_header(header) })
        })
    }

    /// Replaces the value; the slot's reference to the old one is retired.
    pub fn store(&self, value: Option<Brc<T, P>>) {
        // AcqRel: Release publishes the new value's initialisation to loaders;
        // Acquire orders our retirement of the old value after its store.
        let old = self.ptr.swap(into_raw(value), AcqRel);
        if let Some(old) = NonNull::new(old) {
            // SAFETY: we took over the slot's reference to `old`; readers may
            // still be about to count it, so it is dropped an epoch later.
            unsafe { retire(old, drop_ref::<T, P>) };
        }
    }

    /// Replaces the value and returns a counted reference to the old one.
    ///
    /// ```
    /// use brisk_refcount::Brc;
    /// let slot = brisk_gc::AtomicSlot::<u8>::new(Some(Brc::new_in(1)));
    /// let old = slot.swap(Some(Brc::new_in(2)));
    /// assert_eq!(old.as_deref(), Some(&1));
    /// ```
    pub fn swap(&self, value: Option<Brc<T, P>>) -> Option<Brc<T, P>> {
        with_guard(|_pinned| {
            // AcqRel: as in `store`.
            let old = NonNull::new(self.ptr.swap(into_raw(value), AcqRel))?;
            // SAFETY: the slot's reference keeps `old` alive until retired.
            unsafe { P::incref(old.as_ref()) };
            // SAFETY: as in `store`.
            unsafe { retire(old, drop_ref::<T, P>) };
            // SAFETY: we counted the reference this handle owns.
            Some(unsafe { Brc::from_header(old) })
        })
    }

    /// Empties the slot (retiring the old value).
    pub fn clear(&self) {
        self.store(None);
    }
}

impl<T, P: RcPolicy> Drop for AtomicSlot<T, P> {
    fn drop(&mut self) {
        // A slot being dropped may still have been read by a pinned thread a
        // moment ago (through a shared reference that just ended), so its
        // value is retired like any replaced one.
        self.clear();
    }
}

impl<T, P: RcPolicy> Default for AtomicSlot<T, P> {
    fn default() -> Self {
        Self::new(None)
    }
}

impl<T, P: RcPolicy> core::fmt::Debug for AtomicSlot<T, P> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        // Acquire: a diagnostic read of the current pointer.
        f.debug_struct("AtomicSlot")
            .field("ptr", &self.ptr.load(Acquire))
            .finish()
    }
}
