//! The embedder's API: what an object model needs to count its objects
//! with biased reference counting, and nothing more.
//!
//! An *object model* is the layer of an interpreter that lays out its
//! objects and frees them: CPython's `PyObject`, a Scheme's cons cells. To
//! count them with brisk it needs five things, and this module is exactly
//! those five:
//!
//! 1. **A header.** Put an [`RcHeader`] as the first field of every
//!    `#[repr(C)]` object, so that a pointer to the object is a pointer to
//!    its header. Its layout is a stable contract ([`crate::header`]), so
//!    code outside Rust can inline the owner's path.
//! 2. **A free function.** A [`Dealloc`] gets the header of an object with
//!    no references left and frees that object. It may run on any thread:
//!    the owner's, or whichever thread gave up the last reference.
//! 3. **Counting.** [`new_header`] makes a header with one reference, owned
//!    by the calling thread. [`incref`] and [`decref`] count from any
//!    thread; on the owner they are a plain load, add and store. [`try_incref`]
//!    adds a reference without holding one, for weak references (CPython's
//!    `_Py_TryIncref`); it needs the object published first.
//! 4. **Safepoints.** Other threads cannot free an object the owner may
//!    still count on: they queue it to the owner, which merges it at its
//!    next [`safepoint`] (and at each [`new_header`]). A thread that counts
//!    other threads' objects but never reaches a safepoint delays those
//!    frees, never makes them early.
//! 5. **Threads.** A thread registers the first time it makes an object and
//!    unregisters when it exits; [`attach`] and [`detach`] do either at a
//!    point of the embedder's choosing. An object whose owner has gone is
//!    merged by whichever thread next gives it up.
//!
//! Immortal objects (`None`, small integers, interned names) take
//! [`RcHeader::new_immortal`]: counting them changes nothing, from any
//! thread.
//!
//! The same object model can count under another policy through
//! [`RcPolicy`]: [`Biased`] is what this module's functions do, [`Atomic`]
//! counts every reference with an atomic (as `Arc` does), [`NonAtomic`] is
//! for one thread at a time, and `brisk_gc::Deferred` buffers other
//! threads' counts until their safepoints. Writing a new policy is another
//! job, with another API: [`crate::policy_kit`].
//!
//! ```
//! use core::ptr::NonNull;
//! use brisk_refcount::embed::{decref, incref, new_header, RcHeader};
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
//!     header: new_header(),
//!     payload: 42,
//! })));
//! let header = obj.cast::<RcHeader>();
//! unsafe {
//!     incref(header.as_ref()); // two references
//!     decref(header, free_object);
//!     assert_eq!(obj.as_ref().payload, 42);
//!     decref(header, free_object); // freed here
//! }
//! ```
//!
//! `runtime/examples/embed.rs` is a complete object model on this API, with
//! two threads and a channel.

pub use crate::biased::{
    decref, exact_count, incref, is_owned_by_current_thread, new_header, safepoint, try_incref,
};
pub use crate::header::RcHeader;
pub use crate::policy::{Atomic, Biased, NonAtomic, RcPolicy};
pub use crate::queue::Dealloc;
pub use crate::stats;
pub use crate::thread::{at_detach, attach, detach};
