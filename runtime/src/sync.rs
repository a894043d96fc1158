//! The loom shim: the only module in this crate that names `std::sync`'s
//! atomics and locks or `loom` (the pattern of `brisk-refcount`'s shim).
//! Only the stop-the-world handshake is model-checked. The object locks
//! come from crates loom does not model: a list's or dict's own lock
//! ([`ItemsLock`]) is a `spin` spin lock, and the tracked-object rings'
//! ([`ObjectMutex`]) a `parking_lot` mutex.
//!
//! Under miri the rings' lock is a `std` mutex behind the same API.
//! Miri checks the argument types of the variadic calls it emulates
//! (rust-lang/rust#161734), and `parking_lot_core` 0.9.12 passes its futex
//! word to `syscall(SYS_futex, …)` as `&AtomicI32` where a `*mut u32` is
//! due, so a contended ring lock fails a miri run with an error that is
//! that crate's, not ours. `std`'s own futex calls were corrected in the
//! same change. The spin lock is atomics only, the same under miri.

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

/// The lock of a list's items and a dict's table, taken for every
/// operation on one: a spin lock, whose release is a plain store where a
/// parking mutex's is a second atomic read-modify-write, so an uncontended
/// `vector-ref` or `vector-set!` costs one locked instruction, not two.
///
/// A spin lock suits a lock held briefly and seldom waited on, and this
/// one is both. It is held for a bounded piece of work that runs no
/// destructor (replaced items are dropped after unlocking) and never
/// blocks; the longest holds are a snapshot of the items and a
/// [`Object::for_each_child`](crate::Object::for_each_child) walk. It is
/// seldom waited on: a channel carries a mutable object to another
/// interpreter moved or copied, never shared, and the cycle collector
/// traces with the world stopped, so two threads meet at one list only
/// where an embedder hands its `Ref` across itself. A waiter yields its
/// time slice between attempts, so a holder that lost its processor gets
/// it back.
pub(crate) type ItemsLock<T> = spin::mutex::SpinMutex<T, spin::relax::Yield>;

/// The lock of the tracked-object rings.
#[cfg(not(miri))]
pub(crate) use parking_lot::Mutex as ObjectMutex;

/// The lock of the tracked-object rings under miri: a `std` mutex with
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
