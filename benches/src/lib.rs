//! Benches that compare brisk with its peers.
//!
//! The benches live in `benches/` and run with
//! `cargo bench -p brisk-bench --bench refcount`. Each criterion group asks
//! one question from `DESIGN.md` (what a clone costs on the owner thread, on
//! another thread, under contention, and when objects flow from a producer to
//! a consumer) and each line in it is one implementation.
//!
//! This library holds what more than one bench or the `brisk-lab` harness
//! will share; for now that is nothing.
