//! Objects counted through the raw embedding API ([`brisk_refcount::biased`]),
//! for the models whose race involves the owner id in the header.
//!
//! `Brc`'s clone and drop read the header's `tid` before anything else (the
//! owner check). Loom's partial-order reduction compares a store only with
//! the *last* access to the same atomic, so a non-owner's read of `tid` that
//! is followed by the owner's own owner-check read is hidden from the owner's
//! later store, and the schedule where that store lands between the
//! non-owner's `Queued` CAS and its read of the owner id is never tried.
//! Calling `owner_incref`, `owner_decref`, `shared_incref` and
//! `shared_decref` directly takes those owner-check reads out, so the two
//! accesses are adjacent and loom explores both orders.
//!
//! Included with `#[path]` by the models that use it.

use core::ptr::NonNull;

use brisk_refcount::{biased, RcHeader};

use crate::loom_support::Payload;

/// The object: header first, so a header pointer is an object pointer.
#[repr(C)]
struct Object {
    header: RcHeader,
    payload: Payload,
}

/// One counted reference to a raw object. `Copy` only so a model can hand
/// it to another thread; each copy stands for the reference the model says.
#[derive(Clone, Copy)]
pub struct Raw(NonNull<RcHeader>);

// SAFETY: the header is only accessed through atomics, the payload only by
// `free` (exactly once, on whichever thread releases the last reference),
// and `Payload` is `Send + Sync`.
unsafe impl Send for Raw {}

/// The [`Dealloc`](brisk_refcount::Dealloc) of raw objects.
///
/// # Safety
///
/// `header` heads a boxed `Object` with no references left.
unsafe fn free(header: NonNull<RcHeader>) {
    // SAFETY: the header is the first field of a `#[repr(C)]` boxed `Object`
    // (see `Raw::new`), and no reference to it is left.
    drop(unsafe { Box::from_raw(header.cast::<Object>().as_ptr()) });
}

impl Raw {
    /// A new object owned by the calling thread, holding `payload`.
    pub fn new(payload: Payload) -> Raw {
        let object = Box::new(Object {
            header: biased::new_header(),
            payload,
        });
        Raw(NonNull::from(Box::leak(object)).cast())
    }

    /// Reads the payload, as a user of the object would.
    ///
    /// # Safety
    ///
    /// Holding a reference.
    pub unsafe fn touch(self) {
        // SAFETY: the reference keeps the object alive; `Raw::new` made it
        // an `Object`.
        unsafe { self.0.cast::<Object>().as_ref() }.payload.touch();
    }

    /// Owner increment.
    ///
    /// # Safety
    ///
    /// On the owner thread, holding a reference.
    pub unsafe fn owner_clone(self) -> Raw {
        // SAFETY: forwarded from the caller.
        unsafe { biased::owner_incref(self.0.as_ref()) };
        self
    }

    /// Owner decrement.
    ///
    /// # Safety
    ///
    /// On the owner thread (which has not merged the object), giving up this
    /// reference.
    pub unsafe fn owner_drop(self) {
        // SAFETY: forwarded from the caller; `free` frees exactly this object.
        unsafe { biased::owner_decref(self.0, free) }
    }

    /// Non-owner increment.
    ///
    /// # Safety
    ///
    /// Off the owner thread, holding a reference.
    pub unsafe fn shared_clone(self) -> Raw {
        // SAFETY: forwarded from the caller.
        unsafe { biased::shared_incref(self.0.as_ref()) };
        self
    }

    /// Non-owner decrement (queues the object when the shared count is 0).
    ///
    /// # Safety
    ///
    /// Off the owner thread, giving up this reference.
    pub unsafe fn shared_drop(self) {
        // SAFETY: forwarded from the caller; `free` frees exactly this
        // object, and `merge_queued` is the biased merge.
        unsafe { biased::shared_decref(self.0, free, biased::merge_queued) }
    }
}
