//! Benches and experiments that compare brisk with its peers.
//!
//! Two front ends share one set of workloads ([`workloads`]):
//!
//! * the criterion benches in `benches/` (`cargo bench -p brisk-bench
//!   --bench refcount`, `--bench gc`, `--bench send`, `--bench cycles`),
//!   one group per question, one line per implementation;
//! * `brisk-lab` (`cargo run --release -p brisk-bench --bin brisk-lab`),
//!   which runs every experiment of [`lab`] with the variants interleaved
//!   and writes the tables, plots and `results.json` in `papers/results/`.
//!
//! [`wire`] is the format of the subprocess baseline, which the
//! `brisk-send-child` binary (and `brisk-lab send-child`) reads.
//!
//! Every binary that links this crate allocates through mimalloc unless it
//! is built with `--no-default-features`; see [`allocator`].

pub mod allocator;
pub mod lab;
pub mod wire;
pub mod workloads;
