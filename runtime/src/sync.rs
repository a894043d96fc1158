//! The loom shim: the only module in this crate that names `std::sync`'s
//! atomics and locks or `loom` (the pattern of `brisk-refcount`'s shim).
//! Only the stop-the-world handshake is model-checked; object locks are
//! `parking_lot` mutexes, which loom does not model.

#[cfg(loom)]
pub(crate) use loom::sync::{
    atomic::{AtomicBool, AtomicIsize, AtomicU32, AtomicUsize},
    Condvar, Mutex, MutexGuard,
};

#[cfg(not(loom))]
pub(crate) use std::sync::{
    atomic::{AtomicBool, AtomicIsize, AtomicU32, AtomicUsize},
    Condvar, Mutex, MutexGuard,
};

pub(crate) use std::sync::atomic::Ordering;

pub(crate) use brisk_refcount::__brisk_lazy_global as lazy_global;

/// Locks `mutex`, ignoring poisoning: the state behind this crate's locks
/// is updated in single assignments that a panic cannot leave half done.
pub(crate) fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}
