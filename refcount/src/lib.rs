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
//! to the owner, which merges it at its next [`safepoint`]. The
//! [`policy_kit`] lists every step, `src/biased.rs` argues each ordering,
//! and [`thread`] covers thread identity and exit.
//!
//! # Two APIs
//!
//! * [`embed`]: for an object model (an interpreter's objects): the header,
//!   counting, safepoints, thread attach and detach. This is all an
//!   embedder needs; `runtime/examples/embed.rs` is a complete one, and the
//!   `brisk-capi` crate offers the same to C.
//! * [`policy_kit`]: for writing a counting policy: the hooks of the owner
//!   path, the shared word's states, merges and ownership changes.
//!   `brisk-gc`'s `Deferred` and the runtime's `Gil` are written with it.
//!
//! [`Brc`], [`Weak`] and [`LocalBrc`] are handles built on the same
//! protocol, for Rust code that wants `Arc`'s API.
//!
//! # Crate map
//!
//! | module | concept |
//! |---|---|
//! | [`header`] | the 16-byte header, a stable `#[repr(C)]` contract |
//! | `biased` | the protocol, every ordering argued |
//! | `queue` | per-thread merge queues |
//! | [`thread`] | never-reused thread ids, attach, detach and exit |
//! | `policy` | [`RcPolicy`]: [`NonAtomic`], [`Atomic`], [`Biased`] |
//! | [`embed`] | the object model's API |
//! | [`policy_kit`] | the policy writer's API |
//! | `brc` | [`Brc<T>`], [`Weak`] |
//! | [`local`] | [`LocalBrc`]: the owner path with the owner check made once |
//! | [`stats`] | per-thread counters behind the `stats` feature |

#![deny(unsafe_op_in_unsafe_fn)]
#![warn(missing_docs)]

mod sync;

mod biased;
mod brc;
pub mod embed;
pub mod header;
pub mod local;
mod policy;
pub mod policy_kit;
mod queue;
pub mod stats;
#[cfg(all(test, not(loom)))]
mod test_support;
pub mod thread;
#[doc(hidden)]
pub mod trace;

pub use biased::safepoint;
#[cfg(loom)]
#[doc(hidden)]
pub use brc::loom_blocks_freed;
pub use brc::{Brc, CloneIntoBrc, Weak};
pub use header::RcHeader;
pub use local::{owner_scope, LocalBrc, OwnerBiased, OwnerScope};
pub use policy::{Atomic, Biased, NonAtomic, RcPolicy};
pub use queue::Dealloc;
