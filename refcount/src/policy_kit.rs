//! The policy kit: the biased protocol's parts, for writing a counting
//! policy rather than an object model.
//!
//! An object model needs [`crate::embed`] only. A *policy* decides where
//! each increment and decrement goes, and an owner-biased policy keeps the
//! owner's straight line and replaces one or more of the other paths. Both
//! of brisk's own policies outside this crate are written with this kit:
//! `brisk_gc::Deferred` buffers non-owner counts and defers decrements by
//! an epoch; the runtime's `Gil` counts under a global lock.
//!
//! # The hooks
//!
//! [`incref_with`] and [`decref_with`] are the shared skeleton: the owner
//! check, the owner's load–add–store, and the marker tests, with the
//! policy's functions for each other case:
//!
//! | case | biased default | hook |
//! |---|---|---|
//! | header forwards to a frozen component's representative | [`forwarded_incref`] / [`forwarded_decref`] through the policy | `forwarded` |
//! | the owner's last local reference goes | [`merge_zero_local`] | `at_zero` |
//! | another thread's object | [`shared_incref`] / [`shared_decref`] | `off_owner` |
//!
//! # The shared half
//!
//! The shared word is a count and a [`SharedState`] that only moves up:
//! `Private` (no other thread counted yet), `Published` (the object may be
//! reachable from another thread without a count: set by
//! [`mark_published`] before a weak reference or a slot exposes it),
//! `Queued` (a non-owner found the shared count at zero and handed the
//! object to its owner's queue), `Merged` (no owner; the count is exact).
//! [`shared_incref_by`] and [`shared_decref_by`] count `n` at once, for a
//! policy that coalesces; a decrement that finds the shared count at zero
//! queues the object with the policy's [`MergeFn`], [`merge_queued`] for
//! the biased one.
//!
//! # Ownership changes
//!
//! * [`explicit_merge`] folds the owner's count into the shared word and
//!   gives the object up (a freeze does this before sharing a graph);
//! * [`adopt`] re-biases an object no other thread can reach to the calling
//!   thread (a channel's receiver does this for a moved graph);
//! * [`release`] and [`release_with`] drop a reference and say whether it
//!   was the last, without freeing (`Brc::into_inner`);
//! * [`free`] frees an object whose count the caller proved zero.
//!
//! Every function states its contract under `# Safety`; the orderings are
//! argued where they are implemented (`refcount/src/biased.rs`) and checked
//! by the loom models in `refcount/tests/loom_*.rs`.

pub use crate::biased::{
    adopt, decref_with, explicit_merge, free, incref_with, mark_published, merge_queued,
    merge_zero_local, new_header_unpolled, owner_decref, owner_incref, release, release_with,
    shared_decref, shared_decref_by, shared_incref, shared_incref_by, try_incref_shared,
};
pub use crate::header::{SharedState, SharedWord};
pub use crate::policy::{forwarded_decref, forwarded_incref};
pub use crate::queue::MergeFn;
