//! Biased reference counting: a 16-byte header, an owner fast path made of
//! `Rc`'s own instructions (through [`LocalBrc`]; [`Brc<T>`] adds an owner
//! check to each operation), merge queues for everyone else, and
//! [`Brc<T>`], an `Arc<T>`-like handle built on them. Which of std's own
//! `Arc` tests `Brc` passes, and which it cannot run yet, is listed in
//! `refcount/tests/suites/arc_std.rs`.
//!
//! # The problem
//!
//! An interpreter without a global lock must count references atomically,
//! and an atomic read-modify-write costs several times a plain add even
//! uncontended. Yet most objects are only ever touched by the thread that
//! made them (the BRC paper measures over 90% of counting operations on
//! thread-private objects across SPEC and PARSEC-style workloads).
//!
//! # The mechanism
//!
//! Biased reference counting (Choi, Shull, Torrellas, *Biased Reference
//! Counting: Minimizing Atomic Operations in Garbage Collection*, PACT 2018;
//! productionised in CPython's free-threaded build, PEP 703) splits the
//! count in two ([`RcHeader`]):
//!
//! * `local`, changed only by the owning thread with plain loads and stores;
//! * `shared`, changed atomically by every other thread, with two state bits.
//!
//! The owner frees an object the moment its count reaches zero if no other
//! thread ever counted it. Otherwise the two halves must be *merged*: when
//! the owner's half reaches zero the owner folds it into the shared half and
//! gives the object up; when another thread finds the shared half at zero it
//! cannot tell whether the owner's half is zero too, so it queues the object
//! to the owner, which merges it at its next [`safepoint`]. See
//! [`biased`] for every step and the ordering argument, and
//! [`thread`] for thread identity and exit.
//!
//! # Crate map
//!
//! | module | concept |
//! |---|---|
//! | [`header`] | the 16-byte header and the shared word's states |
//! | [`biased`] | the protocol, and the raw embedding API |
//! | `queue` | per-thread merge queues |
//! | [`thread`] | never-reused thread ids, registration, thread exit |
//! | [`policy`] | [`RcPolicy`]: [`NonAtomic`], [`Atomic`], [`Biased`] |
//! | `brc` | [`Brc<T>`] |
//! | [`local`] | [`LocalBrc`]: the owner path with the owner check made once |
//! | [`stats`] | per-thread counters behind the `stats` feature |
//!
//! # Embedding
//!
//! An object model embeds [`RcHeader`] as the first field of its
//! `#[repr(C)]` objects and counts through an [`RcPolicy`] or the functions
//! in [`biased`], passing a [`Dealloc`] that frees one object:
//!
//! ```
//! use core::ptr::NonNull;
//! use brisk_refcount::{Biased, RcHeader, RcPolicy};
//!
//! #[repr(C)]
//! struct Object {
//!     header: RcHeader,
//!     payload: u64,
//! }
//!
//! /// # Safety
//! /// `header` heads a boxed `Object` with no references left.
//! unsafe fn free_object(header: NonNull<RcHeader>) {
//!     drop(unsafe { Box::from_raw(header.cast::<Object>().as_ptr()) });
//! }
//!
//! let obj = NonNull::from(Box::leak(Box::new(Object {
//!     header: Biased::new_header(),
//!     payload: 42,
//! })));
//! let header = obj.cast::<RcHeader>();
//! unsafe {
//!     Biased::incref(header.as_ref()); // two references
//!     Biased::decref(header, free_object);
//!     assert_eq!(obj.as_ref().payload, 42);
//!     Biased::decref(header, free_object); // freed here
//! }
//! ```

#![deny(unsafe_op_in_unsafe_fn)]
#![warn(missing_docs)]

mod sync;

pub mod biased;
mod brc;
pub mod header;
pub mod local;
pub mod policy;
mod queue;
pub mod stats;
#[cfg(all(test, not(loom)))]
mod test_support;
pub mod thread;

pub use biased::safepoint;
#[cfg(loom)]
#[doc(hidden)]
pub use brc::loom_blocks_freed;
pub use brc::{Brc, CloneIntoBrc, Weak};
pub use header::{RcHeader, SharedState, SharedWord};
pub use local::{owner_scope, LocalBrc, OwnerBiased, OwnerScope};
pub use policy::{Atomic, Biased, NonAtomic, RcPolicy};
pub use queue::{Dealloc, MergeFn};
