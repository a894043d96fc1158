//! The loom shim: the only module in this crate that names `std::sync`'s
//! atomics and locks or `loom` (the pattern of `brisk-refcount`'s shim).
//! Only the stop-the-world handshake is model-checked. The object locks
//! ([`ObjectLock`]) are `spin` spin locks, which loom does not model; they
//! are atomics only, so miri runs them as they are.

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

/// The lock of a list's items, of a dict's table and of an interpreter's
/// ring of tracked objects: a spin lock, whose release is a plain store
/// where a parking mutex's is a second atomic read-modify-write. An
/// uncontended `vector-ref` or `vector-set!` then costs one locked
/// instruction, not two, and so does linking a new container into its
/// ring and unlinking it when it is freed.
///
/// A spin lock suits a lock held briefly and seldom waited on, and these
/// are both. Each is held for a bounded piece of work that runs no
/// destructor (replaced items are dropped after unlocking) and never
/// blocks: a link or an unlink, an item read or written, and at longest a
/// snapshot of a list's items, an
/// [`Object::for_each_child`](crate::Object::for_each_child) walk, or a
/// collection's walk over a ring with the world stopped. Each is seldom
/// waited on: a channel carries a mutable object to another interpreter
/// moved or copied, never shared, so two threads meet at one list only
/// where an embedder hands its `Ref` across itself, and at one ring only
/// where a thread frees an object another interpreter made. A waiter
/// yields its time slice between attempts, so a holder that lost its
/// processor gets it back.
pub(crate) type ObjectLock<T> = spin::mutex::SpinMutex<T, spin::relax::Yield>;

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
