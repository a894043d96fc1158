//! The loom shim: the only module in this crate that names `std::sync`'s
//! atomics and locks or `loom` (the pattern of `brisk-refcount`'s shim).
//! Only the stop-the-world handshake is model-checked; object locks
//! ([`ObjectMutex`]) are `parking_lot` mutexes, which loom does not model.
//!
//! Under miri the object locks are `std` mutexes behind the same API.
//! Miri checks the argument types of the variadic calls it emulates
//! (rust-lang/rust#161734), and `parking_lot_core` 0.9.12 passes its futex
//! word to `syscall(SYS_futex, …)` as `&AtomicI32` where a `*mut u32` is
//! due, so a contended object lock fails a miri run with an error that is
//! that crate's, not ours. `std`'s own futex calls were corrected in the
//! same change.

#[cfg(loom)]
pub(crate) use loom::sync::{
    atomic::{AtomicBool, AtomicU32, AtomicU64, AtomicUsize},
    Condvar, Mutex, MutexGuard,
};

#[cfg(not(loom))]
pub(crate) use std::sync::{
    atomic::{AtomicBool, AtomicU32, AtomicU64, AtomicUsize},
    Condvar, Mutex, MutexGuard,
};

pub(crate) use std::sync::atomic::Ordering;

pub(crate) use brisk_refcount::__brisk_event as event;
pub(crate) use brisk_refcount::__brisk_lazy_global as lazy_global;

/// The lock inside list and dict objects and the tracked-object rings.
#[cfg(not(miri))]
pub(crate) use parking_lot::Mutex as ObjectMutex;

/// The lock inside list and dict objects under miri: a `std` mutex with
/// the part of `parking_lot`'s API this crate uses (see the module docs).
#[cfg(miri)]
#[derive(Default)]
pub(crate) struct ObjectMutex<T>(std::sync::Mutex<T>);

#[cfg(miri)]
impl<T> ObjectMutex<T> {
    pub(crate) const fn new(value: T) -> Self {
        ObjectMutex(std::sync::Mutex::new(value))
    }

    pub(crate) fn lock(&self) -> MutexGuard<'_, T> {
        lock(&self.0)
    }

    pub(crate) fn get_mut(&mut self) -> &mut T {
        unpoisoned(self.0.get_mut())
    }
}

/// What a lock gives, whether or not a panic poisoned it: the state behind
/// this crate's locks is updated in single assignments that a panic cannot
/// leave half done, and a statistic's lock guards no invariant at all.
fn unpoisoned<G>(result: std::sync::LockResult<G>) -> G {
    result.unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// Locks `mutex`, ignoring poisoning ([`unpoisoned`]).
pub(crate) fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    unpoisoned(mutex.lock())
}

/// Atomics and a lock for statistics that no loom model covers (the
/// live-object counter): `std`'s, under loom too, so that counting an
/// allocation adds no step to a model.
pub(crate) mod stat {
    pub(crate) use std::sync::atomic::{AtomicIsize, Ordering};
    pub(crate) use std::sync::Mutex;

    /// Locks `mutex`, ignoring poisoning ([`unpoisoned`](super::unpoisoned)).
    pub(crate) fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
        super::unpoisoned(mutex.lock())
    }
}
