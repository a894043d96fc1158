//! Per-thread operation counters (the `stats` feature).
//!
//! The BRC paper's Tables 2 and 3 (Choi, Shull, Torrellas, PACT 2018) report,
//! per workload, the share of reference-count operations made by the owner,
//! the share made on the shared counter, and how many objects were queued.
//! With the `stats` feature on, every thread counts exactly those events in
//! plain thread-local cells (no atomics), so any workload can reproduce the
//! tables. The epoch-deferred policy in `brisk-gc` adds its buffer counts
//! (buffered, coalesced away, applied) to the same snapshot. With the
//! feature off every recording function is an empty inline
//! function and the fast path is unchanged.
//!
//! A thread's counters are added to a process-wide total when the thread
//! exits; [`thread_snapshot`] reads the calling thread's, [`global_snapshot`]
//! the total of exited threads plus the caller's.

/// Counts of reference-count events.
///
/// With the `serde` feature it serializes as one object whose keys are the
/// field names; `brisk run --stats=json` writes that form and brisk-lab's
/// `where_ops_go` reads it back into this type.
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct Stats {
    /// Increments and decrements made by the owner on `local`.
    pub owner_ops: u64,
    /// Increments and decrements made by other threads on `shared`.
    pub shared_ops: u64,
    /// Objects a non-owner handed to their owner's merge queue.
    pub queued: u64,
    /// Queued objects merged (by their owner, or by a non-owner after the
    /// owner exited).
    pub merged: u64,
    /// Objects freed.
    pub frees: u64,
    /// Non-owner operations recorded in a coalescing buffer instead of
    /// touching the object (epoch-deferred policy).
    pub buffered_ops: u64,
    /// Buffered operations that needed no atomic of their own:
    /// `buffered_ops − applied_atomics` (derived when the snapshot is taken).
    pub coalesced_ops: u64,
    /// Atomic operations a buffer flush applied (one per object with a
    /// non-zero net delta).
    pub applied_atomics: u64,
}

impl Stats {
    /// Sum of two snapshots.
    pub fn add(&self, other: &Stats) -> Stats {
        Stats {
            owner_ops: self.owner_ops + other.owner_ops,
            shared_ops: self.shared_ops + other.shared_ops,
            queued: self.queued + other.queued,
            merged: self.merged + other.merged,
            frees: self.frees + other.frees,
            buffered_ops: self.buffered_ops + other.buffered_ops,
            coalesced_ops: self.coalesced_ops + other.coalesced_ops,
            applied_atomics: self.applied_atomics + other.applied_atomics,
        }
    }

    /// Fills in the derived `coalesced_ops`.
    #[cfg(feature = "stats")]
    fn with_coalesced(mut self) -> Stats {
        self.coalesced_ops = self.buffered_ops.saturating_sub(self.applied_atomics);
        self
    }

    /// Share of all counting operations that took the owner path, in
    /// `[0, 1]` (0 when nothing was counted).
    pub fn owner_share(&self) -> f64 {
        let total = self.owner_ops + self.shared_ops;
        if total == 0 {
            0.0
        } else {
            self.owner_ops as f64 / total as f64
        }
    }
}

#[cfg(feature = "stats")]
mod enabled {
    use super::Stats;
    use core::cell::Cell;

    pub(super) struct Counters {
        pub(super) stats: Cell<Stats>,
    }

    impl Drop for Counters {
        fn drop(&mut self) {
            let mut total = super::lock(exited_total());
            *total = total.add(&self.stats.take());
        }
    }

    crate::sync::lazy_global!(pub(super) fn exited_total() -> crate::sync::Mutex<Stats> =
        crate::sync::Mutex::new(Stats::default()));

    crate::sync::thread_local! {
        /// This thread's counters; added to the global total at thread exit.
        pub(super) static COUNTERS: Counters = const { Counters { stats: Cell::new(Stats {
            owner_ops: 0, shared_ops: 0, queued: 0, merged: 0, frees: 0,
            buffered_ops: 0, coalesced_ops: 0, applied_atomics: 0,
        }) } };
    }

    #[inline(always)]
    pub(super) fn bump(update: impl FnOnce(&mut Stats)) {
        let _ = COUNTERS.try_with(|c| {
            let mut s = c.stats.get();
            update(&mut s);
            c.stats.set(s);
        });
    }
}

#[cfg(feature = "stats")]
use crate::sync::lock;

#[cfg(feature = "stats")]
macro_rules! bump {
    ($field:ident += $n:expr) => {
        enabled::bump(|s| s.$field += $n)
    };
}

#[cfg(not(feature = "stats"))]
macro_rules! bump {
    ($field:ident += $n:expr) => {{
        let _ = $n;
    }};
}

#[inline(always)]
pub(crate) fn record_owner_op() {
    bump!(owner_ops += 1);
}

#[inline(always)]
pub(crate) fn record_shared_op() {
    bump!(shared_ops += 1);
}

#[inline(always)]
pub(crate) fn record_queued() {
    bump!(queued += 1);
}

#[inline(always)]
pub(crate) fn record_merged(n: usize) {
    bump!(merged += n as u64);
}

#[inline(always)]
pub(crate) fn record_free() {
    bump!(frees += 1);
}

/// Counts one operation recorded in a coalescing buffer (for policies
/// outside this crate).
#[inline(always)]
pub fn record_buffered() {
    bump!(buffered_ops += 1);
}

/// Counts one atomic applied by a buffer flush.
#[inline(always)]
pub fn record_applied() {
    bump!(applied_atomics += 1);
}

/// Whether counters are compiled in (the `stats` feature).
pub const ENABLED: bool = cfg!(feature = "stats");

/// The calling thread's counters. All zero without the `stats` feature.
pub fn thread_snapshot() -> Stats {
    #[cfg(feature = "stats")]
    {
        enabled::COUNTERS
            .try_with(|c| c.stats.get())
            .unwrap_or_default()
            .with_coalesced()
    }
    #[cfg(not(feature = "stats"))]
    {
        Stats::default()
    }
}

/// Resets the calling thread's counters to zero.
pub fn reset_thread() {
    #[cfg(feature = "stats")]
    {
        let _ = enabled::COUNTERS.try_with(|c| c.stats.set(Stats::default()));
    }
}

/// The counters of every thread that has exited, plus the calling thread's.
/// All zero without the `stats` feature.
pub fn global_snapshot() -> Stats {
    #[cfg(feature = "stats")]
    {
        let exited = *lock(enabled::exited_total());
        exited.add(&thread_snapshot()).with_coalesced()
    }
    #[cfg(not(feature = "stats"))]
    {
        Stats::default()
    }
}
