//! The loom shim: the only module in this crate that names `std::sync` or
//! `loom`.
//!
//! Every atomic, lock, shared pointer and thread-local that takes part in the
//! biased protocol comes from here. Under `RUSTFLAGS="--cfg loom"` they are
//! loom's model-checked doubles, so the same protocol code is explored under
//! every interleaving loom can reach; otherwise they are the plain `std` types.
//! This is the pattern of tokio's `src/loom/` and crossbeam's `primitive`
//! module.
//!
//! Two differences between the worlds are papered over here:
//!
//! * statics that own a loom object must be created lazily, once per loom
//!   execution ([`lazy_global!`](lazy_global));
//! * loom tears down every thread-local of a finished thread at once, so code
//!   that may run inside a thread-local destructor reaches other thread-locals
//!   with `try_with`, never `with`.

#[cfg(loom)]
pub(crate) use loom::{
    sync::atomic::{fence, AtomicBool, AtomicI32, AtomicI64, AtomicU32, AtomicUsize},
    sync::{Arc, Mutex, MutexGuard},
};

/// `thread_local!` for code that runs under loom and natively: with loom,
/// the declaration goes to `loom::thread_local!`, whose initialiser is a
/// plain expression, so the `const { … }` block is unwrapped; natively it is
/// `std::thread_local!` unchanged. One declaration per invocation. Exported
/// (hidden) so every brisk crate's shim uses this one definition.
#[macro_export]
#[doc(hidden)]
macro_rules! __brisk_thread_local {
    ($(#[$attr:meta])* $vis:vis static $name:ident: $t:ty = const { $init:expr };) => {
        #[cfg(loom)]
        ::loom::thread_local! { $(#[$attr])* $vis static $name: $t = $init; }
        #[cfg(not(loom))]
        ::std::thread_local! { $(#[$attr])* $vis static $name: $t = const { $init }; }
    };
}

pub(crate) use crate::__brisk_event as event;
pub(crate) use crate::__brisk_thread_local as thread_local;

// The fence is only named by `acquire!`, which does without it under TSan.
#[cfg(not(loom))]
#[cfg_attr(brisk_tsan, allow(unused_imports))]
pub(crate) use std::{
    sync::atomic::{fence, AtomicBool, AtomicI32, AtomicI64, AtomicU32, AtomicUsize},
    sync::{Arc, Mutex, MutexGuard},
};

pub(crate) use std::sync::atomic::Ordering;

/// The Acquire edge that a thread needs before it frees an object, after it
/// read the last Release on `$atomic` (std's `Arc` uses the same device, its
/// `acquire!` macro): an Acquire fence normally, and under
/// `--cfg brisk_tsan` an Acquire load of that same atomic instead, because
/// ThreadSanitizer does not model fences and would report the free as a race
/// with every earlier use. Both give the thread the happens-before edge from
/// every Release write in `$atomic`'s modification order up to the value
/// read.
macro_rules! acquire {
    ($atomic:expr) => {{
        #[cfg(not(brisk_tsan))]
        $crate::sync::fence($crate::sync::Ordering::Acquire);
        #[cfg(brisk_tsan)]
        let _ = $atomic.load($crate::sync::Ordering::Acquire);
    }};
}

pub(crate) use acquire;

/// Declares `fn $name() -> &'static $ty`, a process-wide value created on
/// first use (once per execution under loom, where statics holding loom
/// objects must not outlive the model). Exported (hidden) for the other
/// brisk crates' shims.
#[macro_export]
#[doc(hidden)]
macro_rules! __brisk_lazy_global {
    ($vis:vis fn $name:ident() -> $ty:ty = $init:expr) => {
        $vis fn $name() -> &'static $ty {
            #[cfg(loom)]
            {
                ::loom::lazy_static! {
                    static ref GLOBAL: $ty = $init;
                }
                &GLOBAL
            }
            #[cfg(not(loom))]
            {
                static GLOBAL: ::std::sync::LazyLock<$ty> = ::std::sync::LazyLock::new(|| $init);
                &GLOBAL
            }
        }
    };
}

pub(crate) use crate::__brisk_lazy_global as lazy_global;

/// Locks `mutex`, ignoring poisoning.
///
/// A panic while one of this crate's locks is held can only come from an
/// allocation failure inside a `Vec` push; the protected data stays
/// consistent, so a poisoned lock is still safe to use.
pub(crate) fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    match mutex.lock() {
        Ok(guard) => guard,
        Err(poisoned) => poisoned.into_inner(),
    }
}
