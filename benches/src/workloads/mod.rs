//! The workloads that the criterion benches and brisk-lab both run.
//!
//! Each module is one workload, written once: the benches in
//! `benches/benches/` wrap them in criterion groups, and the experiments in
//! [`crate::lab`] interleave them and write `papers/results/`.
//!
//! | module | workload |
//! |---|---|
//! | [`clone_drop`] | one thread clones and drops a handle (per-operation cost) |
//! | [`contended`] | N threads clone and drop one hot object |
//! | [`producer_consumer`] | objects made on one thread, dropped on another |
//! | [`reclamation`] | objects a non-owner drops under `Deferred`: drop-to-free delay |
//! | [`send`] | a graph sent between interpreters, or to a subprocess |
//! | [`garbage`] | the peak of pending deferred garbage, sampled at safepoints |
//! | [`cycles`] | dumpster's random graph of cycles, and collection pauses |

pub mod clone_drop;
pub mod contended;
pub mod cycles;
pub mod garbage;
pub mod producer_consumer;
pub mod reclamation;
pub mod send;
