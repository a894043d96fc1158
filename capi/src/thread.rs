//! C threads: attach, detach, safepoints, and the cached thread id the
//! header's inline owner check reads.
//!
//! # Attached
//!
//! A C thread that makes or counts brisk objects attaches first. Attaching
//! registers it with the biased layer (it gets its never-reused id) and
//! with the epoch domain as a mutator, so that under `BRISK_POLICY_DEFERRED`
//! its counts on other threads' objects are buffered. An attached thread is
//! pinned between safepoints: it must call `brisk_safepoint` regularly, or
//! other threads' deferred frees wait for it. It detaches with
//! `brisk_thread_detach`, or by exiting.
//!
//! # The cached id
//!
//! The header declares `static _Thread_local uint32_t brisk__thread_id`,
//! one per translation unit, starting at [`BRISK_UNREGISTERED`], which no
//! header holds. `brisk_thread_attach()` (inline) passes its address to
//! [`brisk_thread_attach_cache`], which writes the id there and remembers
//! the address; `brisk_thread_bind()` does the same for another unit on an
//! attached thread. Detaching writes [`BRISK_UNREGISTERED`] back into every
//! remembered copy, and so does thread exit, through a hook the biased
//! layer runs at the start of its exit path, before it gives up the
//! thread's ownership (`brisk_refcount::thread::at_detach`). No inline
//! owner check can pass with an id the library no longer considers this
//! thread's.

use core::cell::RefCell;
use core::ptr::NonNull;

use brisk_gc::Attached;

use crate::error::{guard, BriskStatus, Error, Result};

/// The cached id of a thread that is not attached: no header holds it, so
/// the inline owner check fails and the library decides.
pub const BRISK_UNREGISTERED: u32 = 0xFFFF_FFFF;

const _: () = assert!(BRISK_UNREGISTERED == brisk_refcount::thread::UNREGISTERED);

/// What an attached C thread holds.
struct Attachment {
    /// The epoch-domain attachment; dropping it detaches.
    _mutator: Attached,
    /// Every cached copy of the id this thread filled.
    caches: Vec<NonNull<u32>>,
}

impl Attachment {
    /// Writes [`BRISK_UNREGISTERED`] into every cached copy.
    fn reset_caches(&mut self) {
        for cache in self.caches.drain(..) {
            // SAFETY: each is a `_Thread_local` of this thread (the
            // header's contract for `brisk_thread_attach_cache`), which
            // lives as long as the thread.
            unsafe { cache.as_ptr().write(BRISK_UNREGISTERED) };
        }
    }
}

impl Drop for Attachment {
    fn drop(&mut self) {
        self.reset_caches();
    }
}

/// The biased layer's exit hook: the caches go before the ownership.
fn reset_caches() {
    let _ = ATTACHMENT.try_with(|a| {
        if let Some(attachment) = a.borrow_mut().as_mut() {
            attachment.reset_caches();
        }
    });
}

std::thread_local! {
    /// This thread's attachment, if it is attached.
    static ATTACHMENT: RefCell<Option<Attachment>> = const { RefCell::new(None) };
}

/// Whether the calling thread is attached.
fn is_attached() -> bool {
    ATTACHMENT
        .try_with(|a| a.borrow().is_some())
        .unwrap_or(false)
}

/// An error unless the calling thread is attached.
pub(crate) fn require_attached(function: &str) -> Result {
    if is_attached() {
        Ok(())
    } else {
        Err(Error::new(
            BriskStatus::NotAttached,
            format!("{function}: the calling thread is not attached (call brisk_thread_attach)"),
        ))
    }
}

/// Attaches the calling thread and writes its id into `cache`, the calling
/// translation unit's cached copy. The header's inline
/// `brisk_thread_attach()` calls it; C calls that instead.
///
/// Errors: `cache` null, the thread attached already
/// (`BRISK_STATUS_ALREADY_ATTACHED`; detach first), or exiting.
///
/// # Safety
///
/// `cache` is null or points to a `_Thread_local` `uint32_t` of the
/// calling thread.
#[no_mangle]
pub unsafe extern "C" fn brisk_thread_attach_cache(cache: *mut u32) -> BriskStatus {
    guard(|| {
        let cache =
            NonNull::new(cache).ok_or_else(|| Error::null("brisk_thread_attach", "cache"))?;
        if is_attached() {
            return Err(Error::new(
                BriskStatus::AlreadyAttached,
                "brisk_thread_attach: the calling thread is attached already",
            ));
        }
        let id = brisk_refcount::thread::attach();
        if id == brisk_refcount::thread::UNOWNED {
            return Err(Error::new(
                BriskStatus::NotAttached,
                "brisk_thread_attach: the calling thread is exiting",
            ));
        }
        let attachment = Attachment {
            _mutator: brisk_gc::attach(),
            caches: vec![cache],
        };
        ATTACHMENT
            .try_with(|a| *a.borrow_mut() = Some(attachment))
            .map_err(|_| {
                Error::new(
                    BriskStatus::NotAttached,
                    "brisk_thread_attach: the calling thread is exiting",
                )
            })?;
        brisk_refcount::thread::at_detach(reset_caches);
        // SAFETY: a thread-local of this thread, by the contract.
        unsafe { cache.as_ptr().write(id) };
        Ok(())
    })
}

/// Writes the calling thread's id into `cache`, another translation unit's
/// cached copy, on a thread that is attached already. The header's inline
/// `brisk_thread_bind()` calls it.
///
/// # Safety
///
/// As [`brisk_thread_attach_cache`].
#[no_mangle]
pub unsafe extern "C" fn brisk_thread_bind_cache(cache: *mut u32) -> BriskStatus {
    guard(|| {
        let cache = NonNull::new(cache).ok_or_else(|| Error::null("brisk_thread_bind", "cache"))?;
        require_attached("brisk_thread_bind")?;
        let id = brisk_refcount::thread::attach();
        ATTACHMENT
            .try_with(|a| {
                if let Some(attachment) = a.borrow_mut().as_mut() {
                    if !attachment.caches.contains(&cache) {
                        attachment.caches.push(cache);
                    }
                }
            })
            .map_err(|_| Error::new(BriskStatus::NotAttached, "brisk_thread_bind: exiting"))?;
        // SAFETY: a thread-local of this thread, by the contract.
        unsafe { cache.as_ptr().write(id) };
        Ok(())
    })
}

/// Detaches the calling thread: resets its cached ids, leaves the epoch
/// domain (its buffered counts are applied), and runs the biased exit path
/// (objects other threads queued to it are merged; the objects it made
/// lose their owner and are merged by whichever thread drops them). The
/// thread's references stay valid. Attaching again gives a new id.
///
/// Errors: `BRISK_STATUS_NOT_ATTACHED`.
#[no_mangle]
pub extern "C" fn brisk_thread_detach() -> BriskStatus {
    guard(|| {
        require_attached("brisk_thread_detach")?;
        let attachment = ATTACHMENT
            .try_with(|a| a.borrow_mut().take())
            .ok()
            .flatten();
        // The caches first, then the epoch domain, then ownership.
        drop(attachment);
        brisk_gc::safepoint();
        brisk_refcount::thread::detach();
        Ok(())
    })
}

/// A safepoint: merges the objects other threads queued to this thread
/// (freeing those whose count is zero), applies this thread's buffered
/// counts, lets the epoch advance (other threads' deferred frees may run
/// here), and writes how many queued objects were merged to `merged`
/// unless it is null.
///
/// Errors: `BRISK_STATUS_NOT_ATTACHED`.
///
/// # Safety
///
/// `merged` is null or writable.
#[no_mangle]
pub unsafe extern "C" fn brisk_safepoint(merged: *mut usize) -> BriskStatus {
    guard(|| {
        require_attached("brisk_safepoint")?;
        let count = brisk_gc::safepoint();
        if let Some(out) = NonNull::new(merged) {
            // SAFETY: non-null and writable by the contract.
            unsafe { out.write(count) };
        }
        Ok(())
    })
}

/// The calling thread's id, as the owner check compares it:
/// [`BRISK_UNREGISTERED`] if the thread is not attached.
#[no_mangle]
pub extern "C" fn brisk_thread_id() -> u32 {
    if is_attached() {
        brisk_refcount::thread::attach()
    } else {
        BRISK_UNREGISTERED
    }
}
