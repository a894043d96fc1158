//! brisk's C ABI: biased and deferred reference counting for object models
//! written in C, and the runtime's interpreters and channels behind opaque
//! handles.
//!
//! C code includes `capi/include/brisk.h` and links this crate's static
//! (`libbrisk_capi.a`) or shared (`libbrisk_capi.so`) library. The header
//! is generated from this crate and checked in; `tests/header.rs` fails
//! when it is stale (`BRISK_BLESS=1 cargo test -p brisk-capi --test header`
//! rewrites it).
//!
//! # Counting C objects
//!
//! A C object starts with a [`BriskObject`]: the 16-byte reference-count
//! header, whose layout is `brisk_refcount`'s stable contract, and the
//! function that frees the object. The header's `static inline`
//! `brisk_incref` and `brisk_decref` are the owner's path, as CPython's
//! `Py_INCREF` is: a compare of the header's owner with the thread's id,
//! then a plain add and store. Everything else (another thread's object,
//! the owner's last reference, an overflow, a frozen or immortal header)
//! calls [`brisk_incref_slow`] or [`brisk_decref_slow`].
//!
//! # The thread's id, cheaply
//!
//! CPython's `_Py_ThreadId` reads the thread pointer register, because its
//! owner ids are thread addresses. brisk's ids are small integers that are
//! never reused, held in a Rust thread-local a C compiler cannot inline.
//! So the header keeps a copy in a `static _Thread_local` of its own (one
//! per translation unit; a local-exec TLS load in an executable, as cheap
//! as `_Py_ThreadId`). [`brisk_thread_attach_cache`], through the header's
//! `brisk_thread_attach`, fills it; detaching and thread exit reset every
//! copy the thread filled to a value no header holds, so a stale id can
//! never pass the owner check. A copy not filled yet only sends the calls
//! to the library, which is correct, and slower.
//!
//! # Modules
//!
//! | module | concept |
//! |---|---|
//! | `error` | status codes, the last error's message, panics stopped at the boundary |
//! | `policy` | the counting policies C can choose |
//! | `thread` | attach, detach, safepoint, the cached thread id |
//! | `object` | the header, init, immortal objects, the slow paths |
//! | `slot` | epoch-protected slots: protect on load, retire on store |
//! | `handles` | generational handle tables |
//! | `runtime` | runtimes, interpreters, spawned threads, channels, values |

#![deny(unsafe_op_in_unsafe_fn)]
#![warn(missing_docs)]
// Every exported function checks its pointers itself (null is an error
// code) and documents what it cannot check in the header.
#![allow(clippy::missing_safety_doc)]

mod error;
mod handles;
mod object;
mod policy;
mod runtime;
mod slot;
mod thread;

pub use error::{brisk_check, brisk_last_error, brisk_status_name, BriskStatus};
pub use object::{
    brisk_decref_slow, brisk_incref_slow, brisk_object_init, brisk_object_init_immortal,
    brisk_object_refcount, BriskDeallocFn, BriskHeader, BriskObject,
};
pub use policy::{BriskPolicy, BRISK_POLICY_BIASED, BRISK_POLICY_DEFERRED};
pub use runtime::*;
pub use slot::{brisk_slot_free, brisk_slot_load, brisk_slot_new, brisk_slot_store, BriskSlot};
pub use thread::{
    brisk_safepoint, brisk_thread_attach_cache, brisk_thread_bind_cache, brisk_thread_detach,
    brisk_thread_id, BRISK_UNREGISTERED,
};
