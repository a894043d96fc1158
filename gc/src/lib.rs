//! The asynchronous half of brisk: an epoch domain, coalesced and
//! epoch-deferred reconciliation of shared counts (the [`Deferred`] policy),
//! delayed reclamation, and atomic reference slots.
//!
//! # Why
//!
//! Biased reference counting ([`brisk_refcount`]) makes thread-private
//! objects as cheap as `Rc`. It does nothing for objects that *many* threads
//! use at once — types, builtins, shared dictionaries — whose shared counter
//! becomes a contended cache line. [`Deferred`] keeps the owner fast path and
//! replaces the non-owner RMWs with per-thread [coalescing
//! buffers (`buffer.rs`), flushed at safepoints: increments applied at once,
//! decrements one epoch later. The idea combines deferred reference counting
//! (Deutsch–Bobrow 1976), coalescing (Levanoni–Petrank, OOPSLA 2001; LXR,
//! PLDI 2022) and epoch-based reclamation (Fraser 2004; crossbeam-epoch).
//!
//! # Using it
//!
//! ```
//! use brisk_gc::Deferred;
//! use brisk_refcount::Brc;
//!
//! let shared: Brc<Vec<u8>, Deferred> = Brc::new_with_policy(vec![1, 2, 3]);
//! std::thread::scope(|s| {
//!     s.spawn(|| {
//!         let _mutator = brisk_gc::attach();
//!         for _ in 0..1000 {
//!             let c = shared.clone(); // buffered: no atomic, no shared write
//!             drop(c);
//!         }
//!         brisk_gc::safepoint(); // net zero: nothing to apply
//!     });
//! });
//! assert_eq!(shared.len(), 3);
//! ```
//!
//! # Crate map
//!
//! | module | concept |
//! |---|---|
//! | [`domain`] | the epoch domain, deferred batches, retirement, [`garbage`] |
//! | [`mutator`] | attach / safepoint / detach / [`blocking`] |
//! | `buffer` | the coalescing buffer |
//! | [`deferred`] | the [`Deferred`] policy |
//! | [`slot`] | [`AtomicSlot`] |

#![deny(unsafe_op_in_unsafe_fn)]
#![warn(missing_docs)]

mod sync;

mod buffer;
pub mod deferred;
pub mod domain;
pub mod mutator;
pub mod slot;

pub use deferred::Deferred;
pub use domain::{garbage, Garbage};
pub use mutator::{attach, blocking, collect, is_attached, safepoint, Attached};
pub use slot::{AtomicSlot, RawSlot, SlotOps};
