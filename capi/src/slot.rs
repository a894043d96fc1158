//! Epoch-protected slots: a shared, atomically replaceable reference to a
//! C object, which any thread may read while others replace it.
//!
//! A reader must never count a reference to an object whose last
//! reference a writer is dropping at that moment. The epoch domain closes
//! that race, as hazard pointers or RCU would: a load *protects* (the
//! reader is pinned while it reads the pointer and counts it), and a store
//! *retires* the old value (the slot's reference to it is dropped only
//! after every thread pinned at that moment has unpinned). The slot is
//! `brisk_gc`'s `RawSlot`, counting with the policy chosen at creation.

use core::ptr::NonNull;

use brisk_gc::{Deferred, RawSlot, SlotOps};
use brisk_refcount::{Biased, RcHeader, RcPolicy};

use crate::error::{guard, BriskStatus, Error};
use crate::object::{free_c_object, BriskObject};
use crate::policy::{BriskPolicy, Policy};

/// A slot holding one counted reference to a C object, or none. Opaque;
/// made by `brisk_slot_new`, freed by `brisk_slot_free`.
pub struct BriskSlot {
    slot: RawSlot,
    ops: SlotOps,
}

/// A slot's way of giving up a reference to a C object under `P`.
///
/// # Safety
///
/// `header` heads a C object; the caller gives up one counted reference.
unsafe fn drop_c_ref<P: RcPolicy>(header: NonNull<RcHeader>) {
    // SAFETY: forwarded from the caller; `free_c_object` frees C objects.
    unsafe { P::decref(header, free_c_object) }
}

/// What a slot counts with, under `P`.
fn ops<P: RcPolicy>() -> SlotOps {
    SlotOps {
        incref: P::incref,
        drop_ref: drop_c_ref::<P>,
    }
}

/// A C object pointer as a header, or `None` for null.
fn header_of(object: *mut BriskObject) -> Option<NonNull<RcHeader>> {
    NonNull::new(object).map(NonNull::cast)
}

/// A slot holding `initial` (taking over the caller's reference to it) or
/// nothing (null), counting under `policy`.
///
/// Errors: `out` null, an unknown policy.
///
/// # Safety
///
/// `initial` is null or an initialised object the caller holds a reference
/// to, counted under `policy`; `out` is writable.
#[no_mangle]
pub unsafe extern "C" fn brisk_slot_new(
    initial: *mut BriskObject,
    policy: BriskPolicy,
    out: *mut *mut BriskSlot,
) -> BriskStatus {
    guard(|| {
        let out = NonNull::new(out).ok_or_else(|| Error::null("brisk_slot_new", "out"))?;
        let ops = match Policy::from_c(policy)? {
            Policy::Biased => ops::<Biased>(),
            Policy::Deferred => ops::<Deferred>(),
        };
        let slot = Box::new(BriskSlot {
            slot: RawSlot::new(header_of(initial)),
            ops,
        });
        // SAFETY: non-null and writable by the contract.
        unsafe { out.write(Box::into_raw(slot)) };
        Ok(())
    })
}

/// The slot behind a C pointer.
///
/// # Safety
///
/// `slot` is null or was made by `brisk_slot_new` and not freed.
unsafe fn slot_ref<'a>(
    slot: *mut BriskSlot,
    function: &str,
) -> crate::error::Result<&'a BriskSlot> {
    // SAFETY: live by the contract.
    NonNull::new(slot)
        .map(|slot| unsafe { slot.as_ref() })
        .ok_or_else(|| Error::null(function, "slot"))
}

/// Protects and counts the slot's current value: writes a new counted
/// reference to it (or null for an empty slot) to `out`. The caller gives
/// that reference up with `brisk_decref` as usual. Any thread.
///
/// # Safety
///
/// `slot` is null or live; `out` is null or writable.
#[no_mangle]
pub unsafe extern "C" fn brisk_slot_load(
    slot: *mut BriskSlot,
    out: *mut *mut BriskObject,
) -> BriskStatus {
    guard(|| {
        // SAFETY: forwarded from the caller.
        let slot = unsafe { slot_ref(slot, "brisk_slot_load")? };
        let out = NonNull::new(out).ok_or_else(|| Error::null("brisk_slot_load", "out"))?;
        // SAFETY: every value stored was counted with `slot.ops`.
        let value = unsafe { slot.slot.load(slot.ops) };
        let object = value.map_or(core::ptr::null_mut(), |h| h.cast::<BriskObject>().as_ptr());
        // SAFETY: non-null and writable by the contract.
        unsafe { out.write(object) };
        Ok(())
    })
}

/// Stores `value` (taking over the caller's reference; null empties the
/// slot) and retires the slot's reference to the old value: it is given up
/// once every thread that might be reading it has moved on. Any thread.
///
/// # Safety
///
/// `slot` is null or live; `value` is null or an initialised object the
/// caller holds a reference to, counted under the slot's policy.
#[no_mangle]
pub unsafe extern "C" fn brisk_slot_store(
    slot: *mut BriskSlot,
    value: *mut BriskObject,
) -> BriskStatus {
    guard(|| {
        // SAFETY: forwarded from the caller.
        let slot = unsafe { slot_ref(slot, "brisk_slot_store")? };
        // SAFETY: the caller's reference is the slot's now; counted with
        // the slot's policy by the contract.
        unsafe { slot.slot.store(header_of(value), slot.ops) };
        Ok(())
    })
}

/// Frees the slot, retiring its reference to its value like a store of
/// null. A null `slot` is an error, not a no-op.
///
/// # Safety
///
/// `slot` is null or live, and no other thread uses it any more.
#[no_mangle]
pub unsafe extern "C" fn brisk_slot_free(slot: *mut BriskSlot) -> BriskStatus {
    guard(|| {
        let slot = NonNull::new(slot).ok_or_else(|| Error::null("brisk_slot_free", "slot"))?;
        // SAFETY: made by `Box::into_raw` in `brisk_slot_new`; the caller
        // gives it up.
        let slot = unsafe { Box::from_raw(slot.as_ptr()) };
        // SAFETY: as in `brisk_slot_store`.
        unsafe { slot.slot.store(None, slot.ops) };
        Ok(())
    })
}
