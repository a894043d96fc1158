//! C objects: the header, the free function, and the library's half of
//! incref and decref.
//!
//! A C object model lays its objects out as
//!
//! ```c
//! struct MyInt { BriskObject base; int64_t value; };
//! ```
//!
//! [`BriskObject`] is `brisk_refcount`'s `RcHeader`, byte for byte (its
//! stable contract; checked at compile time below), followed by the
//! object's free function. The header's inline `brisk_incref` and
//! `brisk_decref` do the owner's straight line; every other case comes
//! here, and goes through the same `RcPolicy` code Rust objects count
//! with. The free function plays the part of CPython's `tp_dealloc`: one
//! trampoline, [`free_c_object`], is the `Dealloc` of every C object, and
//! calls it.

use core::ptr::NonNull;

use brisk_gc::Deferred;
use brisk_refcount::{Biased, RcHeader, RcPolicy};

use crate::error::{guard, BriskStatus, Error, Result};
use crate::policy::{BriskPolicy, Policy};

/// The reference-count header, as C sees it: `brisk_refcount`'s
/// `RcHeader`, whose layout is a stable contract.
///
/// * `tid`: the owning thread's id, 0 for no owner, `0xFFFFFFFD` for a
///   forwarded (frozen) header, `0xFFFFFFFE` for an immortal one;
/// * `local`: the owner's references minus one while `tid` is a thread id;
/// * `shared`: every other thread's count, shifted left by two, with a
///   two-bit state below.
///
/// C reads `tid` and `local` and writes `local` only as the header's inline
/// functions do (relaxed atomic loads and stores, on the owning thread);
/// `shared` belongs to the library. Anything else is undefined.
#[repr(C)]
pub struct BriskHeader {
    /// Owning thread id, or a marker.
    pub tid: u32,
    /// The owner's references minus one.
    pub local: i32,
    /// Other threads' count and state.
    pub shared: i64,
}

/// Frees one object whose last reference is gone. Called exactly once per
/// object, on whichever thread gave up the last reference or merged it
/// (under `BRISK_POLICY_DEFERRED`, possibly another thread's safepoint). It
/// may call `brisk_decref` on the object's fields. Null only for immortal
/// objects.
pub type BriskDeallocFn = Option<unsafe extern "C" fn(object: *mut BriskObject)>;

/// The start of every counted C object: the header and the object's free
/// function. Initialise it with `brisk_object_init` (or
/// `brisk_object_init_immortal`) before any other call sees it.
#[repr(C)]
pub struct BriskObject {
    /// The reference-count header.
    pub header: BriskHeader,
    /// Frees the object; never null for a mortal object.
    pub dealloc: BriskDeallocFn,
}

const _: () = {
    assert!(size_of::<BriskHeader>() == size_of::<RcHeader>());
    assert!(align_of::<BriskHeader>() == align_of::<RcHeader>());
    assert!(core::mem::offset_of!(BriskObject, header) == 0);
};

/// The `Dealloc` of every C object: calls its own free function.
///
/// # Safety
///
/// `header` heads a [`BriskObject`] with no references left.
pub(crate) unsafe fn free_c_object(header: NonNull<RcHeader>) {
    let object = header.cast::<BriskObject>().as_ptr();
    // SAFETY: the object is alive until its free function runs; its
    // `dealloc` was checked non-null by `brisk_object_init`.
    if let Some(dealloc) = unsafe { (*object).dealloc } {
        // SAFETY: the contract of `BriskDeallocFn`: called once, with no
        // references left.
        unsafe { dealloc(object) };
    }
}

/// The header of a C object, checked for null. (Nothing else about a C
/// pointer can be checked: an uninitialised or freed object is undefined.)
///
/// # Safety
///
/// `object` is null, or points to a live, initialised [`BriskObject`].
unsafe fn header<'a>(object: *mut BriskObject, function: &str) -> Result<&'a RcHeader> {
    let object = NonNull::new(object).ok_or_else(|| Error::null(function, "object"))?;
    // SAFETY: layout-compatible (checked above), live by the contract.
    Ok(unsafe { object.cast::<RcHeader>().as_ref() })
}

/// Initialises `object`'s header with one reference, owned by the calling
/// thread, and records its free function.
///
/// Errors: `object` or `dealloc` null (`BRISK_STATUS_NULL_POINTER`), the
/// thread not attached (`BRISK_STATUS_NOT_ATTACHED`).
///
/// # Safety
///
/// `object` points to writable memory for a `BriskObject` that no other
/// thread can see yet.
#[no_mangle]
pub unsafe extern "C" fn brisk_object_init(
    object: *mut BriskObject,
    dealloc: BriskDeallocFn,
) -> BriskStatus {
    guard(|| {
        let object =
            NonNull::new(object).ok_or_else(|| Error::null("brisk_object_init", "object"))?;
        let dealloc = dealloc.ok_or_else(|| Error::null("brisk_object_init", "dealloc"))?;
        crate::thread::require_attached("brisk_object_init")?;
        // SAFETY: writable and private to this thread, by the contract.
        unsafe {
            object.cast::<RcHeader>().write(Biased::new_header());
            (&raw mut (*object.as_ptr()).dealloc).write(Some(dealloc));
        }
        Ok(())
    })
}

/// Initialises `object`'s header as immortal: counting it from any thread
/// changes nothing, and it is never freed. For statics such as `nil` or
/// small integers. Any thread, attached or not.
///
/// # Safety
///
/// `object` points to writable memory for a `BriskObject` that no other
/// thread can see yet.
#[no_mangle]
pub unsafe extern "C" fn brisk_object_init_immortal(object: *mut BriskObject) -> BriskStatus {
    guard(|| {
        let object = NonNull::new(object)
            .ok_or_else(|| Error::null("brisk_object_init_immortal", "object"))?;
        // SAFETY: writable and private to this thread, by the contract.
        unsafe {
            object.cast::<RcHeader>().write(RcHeader::new_immortal());
            (&raw mut (*object.as_ptr()).dealloc).write(None);
        }
        Ok(())
    })
}

/// The library's increment: every case the inline `brisk_incref` does not
/// take (another thread's object, a frozen or immortal header, the
/// owner's count at its limit, a translation unit whose thread id is not
/// cached yet). Call `brisk_incref` instead; it calls this.
///
/// # Safety
///
/// `object` is null, or an initialised object on which the caller holds a
/// reference.
#[no_mangle]
pub unsafe extern "C" fn brisk_incref_slow(
    object: *mut BriskObject,
    policy: BriskPolicy,
) -> BriskStatus {
    guard(|| {
        let policy = Policy::from_c(policy)?;
        // SAFETY: forwarded from the caller.
        let header = unsafe { header(object, "brisk_incref")? };
        // SAFETY: the caller holds a reference.
        unsafe {
            match policy {
                Policy::Biased => Biased::incref(header),
                Policy::Deferred => Deferred::incref(header),
            }
        }
        Ok(())
    })
}

/// The library's decrement, for every case the inline `brisk_decref` does
/// not take: another thread's object, the owner's last local reference
/// (the object is freed here, or given up to the shared count), a frozen
/// or immortal header. Call `brisk_decref` instead; it calls this.
///
/// # Safety
///
/// `object` is null, or an initialised object whose reference the caller
/// gives up, counted under `policy` since it was made.
#[no_mangle]
pub unsafe extern "C" fn brisk_decref_slow(
    object: *mut BriskObject,
    policy: BriskPolicy,
) -> BriskStatus {
    guard(|| {
        let policy = Policy::from_c(policy)?;
        // SAFETY: forwarded from the caller.
        let header = NonNull::from(unsafe { header(object, "brisk_decref")? });
        // SAFETY: the caller gives up a reference; `free_c_object` frees
        // C objects.
        unsafe {
            match policy {
                Policy::Biased => Biased::decref(header, free_c_object),
                Policy::Deferred => Deferred::decref(header, free_c_object),
            }
        }
        Ok(())
    })
}

/// The object's exact reference count, where this thread can know it: on
/// the owner thread, or once no thread owns the object. Otherwise writes
/// nothing and returns `BRISK_STATUS_INVALID_ARGUMENT` (counts in flight
/// on other threads make any other answer a guess). For tests and
/// debugging.
///
/// # Safety
///
/// `object` is null, or an initialised object on which the caller holds a
/// reference.
#[no_mangle]
pub unsafe extern "C" fn brisk_object_refcount(
    object: *mut BriskObject,
    count: *mut usize,
) -> BriskStatus {
    guard(|| {
        // SAFETY: forwarded from the caller.
        let header = unsafe { header(object, "brisk_object_refcount")? };
        let out =
            NonNull::new(count).ok_or_else(|| Error::null("brisk_object_refcount", "count"))?;
        let exact = brisk_refcount::embed::exact_count(header).ok_or_else(|| {
            Error::new(
                BriskStatus::InvalidArgument,
                "brisk_object_refcount: the count is not exact on this thread \
                 (another thread owns the object)",
            )
        })?;
        // SAFETY: non-null, and writable by the caller's contract.
        unsafe { out.write(exact) };
        Ok(())
    })
}
