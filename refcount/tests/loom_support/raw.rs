//! Objects counted through the raw API ([`brisk_refcount::embed`] and
//! [`brisk_refcount::policy_kit`]), for the models whose race involves the owner id in the header.
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
//! The same objects also serve the models of the other counting entry
//! points (`adopt`, `forward_to`, `shared_decref_by`, the unbiased
//! policies), which `Brc` does not reach or does not expose.
//!
//! Included with `#[path]` by the models that use it; each uses a subset.
#![allow(dead_code)]

use core::ptr::NonNull;

use brisk_refcount::{embed, policy_kit, RcHeader, RcPolicy};

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
        Raw::with_header(embed::new_header(), payload)
    }

    /// A new object with policy `P`'s header (owned by the calling thread
    /// under `Biased`, unowned under `Atomic` and `NonAtomic`).
    pub fn new_with_policy<P: RcPolicy>(payload: Payload) -> Raw {
        Raw::with_header(P::new_header(), payload)
    }

    fn with_header(header: RcHeader, payload: Payload) -> Raw {
        let object = Box::new(Object { header, payload });
        Raw(NonNull::from(Box::leak(object)).cast())
    }

    /// The object's header.
    ///
    /// # Safety
    ///
    /// Holding a reference for as long as the header is used.
    pub unsafe fn header<'a>(self) -> &'a RcHeader {
        // SAFETY: the caller's reference keeps the object alive.
        unsafe { self.0.as_ref() }
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
        unsafe { policy_kit::owner_incref(self.0.as_ref()) };
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
        unsafe { policy_kit::owner_decref(self.0, free) }
    }

    /// Non-owner increment.
    ///
    /// # Safety
    ///
    /// Off the owner thread, holding a reference.
    pub unsafe fn shared_clone(self) -> Raw {
        // SAFETY: forwarded from the caller.
        unsafe { policy_kit::shared_incref(self.0.as_ref()) };
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
        unsafe { policy_kit::shared_decref(self.0, free, policy_kit::merge_queued) }
    }

    /// Non-owner decrement of `n` references at once
    /// ([`policy_kit::shared_decref_by`]): queues the object when the shared
    /// count would pass zero.
    ///
    /// # Safety
    ///
    /// Off the owner thread, giving up the `n` references this copy stands
    /// for.
    pub unsafe fn shared_drop_by(self, n: u32) {
        // SAFETY: forwarded from the caller; as in `shared_drop`.
        unsafe { policy_kit::shared_decref_by(self.0, n, free, policy_kit::merge_queued) }
    }

    /// Increment through policy `P`, from any thread (under `Biased`, the
    /// full path: owner check, markers, shared count).
    ///
    /// # Safety
    ///
    /// Holding a reference, and whatever `P` asks of its callers (an outside
    /// lock for `NonAtomic`).
    pub unsafe fn clone_in<P: RcPolicy>(self) -> Raw {
        // SAFETY: forwarded from the caller.
        unsafe { P::incref(self.0.as_ref()) };
        self
    }

    /// Decrement through policy `P`, from any thread.
    ///
    /// # Safety
    ///
    /// Giving up this reference, and whatever `P` asks of its callers.
    pub unsafe fn drop_in<P: RcPolicy>(self) {
        // SAFETY: forwarded from the caller; `free` frees exactly this
        // object (or, for a forwarded header, its target, also an `Object`).
        unsafe { P::decref(self.0, free) }
    }

    /// [`embed::exact_count`] of the object.
    ///
    /// # Safety
    ///
    /// Holding a reference.
    pub unsafe fn exact_count(self) -> Option<usize> {
        // SAFETY: forwarded from the caller.
        embed::exact_count(unsafe { self.header() })
    }

    /// [`policy_kit::adopt`]: re-biases the object to the calling thread.
    ///
    /// # Safety
    ///
    /// As [`policy_kit::adopt`]: nobody else holds or can obtain a reference,
    /// the count is exact, and the giving thread's writes happen-before.
    pub unsafe fn adopt(self) {
        // SAFETY: forwarded from the caller.
        unsafe { policy_kit::adopt(self.header()) }
    }

    /// [`RcHeader::forward_to`]: counting on this object lands on `target`.
    ///
    /// # Safety
    ///
    /// As [`RcHeader::forward_to`]; in particular `target` is an `Object`
    /// too (decrements forwarded to it carry this object's `free`).
    pub unsafe fn forward_to(self, target: Raw) {
        // SAFETY: forwarded from the caller.
        unsafe { self.header().forward_to(target.0) }
    }

    /// [`RcHeader::make_immortal`].
    ///
    /// # Safety
    ///
    /// As [`RcHeader::make_immortal`].
    pub unsafe fn make_immortal(self) {
        // SAFETY: forwarded from the caller.
        unsafe { self.header().make_immortal() }
    }

    /// Frees an object that counting never frees (a forwarded or immortal
    /// member of a frozen component), as the component's own free would.
    ///
    /// # Safety
    ///
    /// No reference to the object is used afterwards.
    pub unsafe fn dispose(self) {
        // SAFETY: forwarded from the caller.
        unsafe { free(self.0) }
    }
}
