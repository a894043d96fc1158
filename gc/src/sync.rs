//! The loom shim: the only module in this crate that names `std::sync` or
//! `loom` (the pattern of `brisk-refcount`'s shim, whose `thread_local!` and
//! lazy-global macros it reuses). Under `--cfg loom --cfg crossbeam_loom`,
//! crossbeam-epoch itself runs on loom's atomics too, so the epoch protocol
//! is part of every model.

#[cfg(loom)]
pub(crate) use loom::sync::atomic::{AtomicPtr, AtomicUsize};

#[cfg(not(loom))]
pub(crate) use std::sync::atomic::{AtomicPtr, AtomicUsize};

pub(crate) use std::sync::atomic::Ordering;

pub(crate) use brisk_refcount::__brisk_event as event;
pub(crate) use brisk_refcount::__brisk_lazy_global as lazy_global;
pub(crate) use brisk_refcount::__brisk_thread_local as thread_local;
