//! The counting policies a [`Runtime`](crate::Runtime) can run under, all
//! selectable in one binary so experiments compare them in one run.
//!
//! | policy | counts | lock |
//! |---|---|---|
//! | [`Biased`] | owner: plain; others: atomic + merge queue | none |
//! | [`Deferred`] | owner: plain; others: coalesced, epoch-deferred | none |
//! | [`Atomic`] | every operation an atomic RMW | none |
//! | [`Gil`] | every operation plain | one global interpreter lock |
//!
//! `Gil` is the status quo the 2017 discussion started from: CPython with a
//! GIL. Its counts are [`brisk_refcount::NonAtomic`], which is
//! only sound because every mutator holds the lock while it runs.

use core::ptr::NonNull;

use brisk_refcount::policy_kit::SharedWord;
use brisk_refcount::{Dealloc, NonAtomic, RcHeader, RcPolicy};

pub use brisk_gc::Deferred;
pub use brisk_refcount::{Atomic, Biased};

/// A counting policy the runtime can use: an [`RcPolicy`] that says whether
/// mutators must hold the global lock and whether they buffer counts.
pub trait RuntimePolicy: RcPolicy + Send + Sync + Sized {
    /// Mutators hold one global lock while running ([`Gil`]).
    const USES_GIL: bool;
    /// Mutators attach to the epoch domain and coalesce non-owner counts
    /// ([`Deferred`]).
    const COALESCES: bool;
}

impl RuntimePolicy for Biased {
    const USES_GIL: bool = false;
    const COALESCES: bool = false;
}

impl RuntimePolicy for Deferred {
    const USES_GIL: bool = false;
    const COALESCES: bool = true;
}

impl RuntimePolicy for Atomic {
    const USES_GIL: bool = false;
    const COALESCES: bool = false;
}

/// Plain counts under one global interpreter lock.
pub enum Gil {}

// SAFETY: `NonAtomic` counting is exact when one thread counts at a time;
// the runtime makes every mutator hold the global lock while it touches
// objects (`Mutator` acquires it on attach and releases it only at
// safepoints and around blocking calls), which serialises all counting.
unsafe impl RcPolicy for Gil {
    const NAME: &'static str = "gil";

    fn new_header() -> RcHeader {
        NonAtomic::new_header()
    }

    #[inline(always)]
    unsafe fn incref(header: &RcHeader) {
        // SAFETY: forwarded; the GIL serialises counting.
        unsafe { NonAtomic::incref(header) }
    }

    #[inline(always)]
    unsafe fn decref(header: NonNull<RcHeader>, dealloc: Dealloc) {
        // SAFETY: forwarded; the GIL serialises counting.
        unsafe { NonAtomic::decref(header, dealloc) }
    }

    #[inline]
    unsafe fn release(header: NonNull<RcHeader>, dealloc: Dealloc) -> bool {
        // SAFETY: forwarded; the GIL serialises counting.
        unsafe { NonAtomic::release(header, dealloc) }
    }

    #[inline]
    unsafe fn try_incref(header: &RcHeader) -> bool {
        // SAFETY: forwarded; the GIL serialises counting.
        unsafe { NonAtomic::try_incref(header) }
    }

    #[inline]
    fn unique_word(header: &RcHeader) -> Option<SharedWord> {
        NonAtomic::unique_word(header)
    }

    fn strong_count(header: &RcHeader) -> usize {
        NonAtomic::strong_count(header)
    }

    #[inline]
    fn exact_count(header: &RcHeader) -> Option<usize> {
        NonAtomic::exact_count(header)
    }

    #[inline]
    unsafe fn adopt(_header: &RcHeader) {}
}

impl RuntimePolicy for Gil {
    const USES_GIL: bool = true;
    const COALESCES: bool = false;
}
