//! The coalescing buffer: a per-thread map from object to net count delta.
//!
//! A thread that clones and drops a hot shared object — a type, a function,
//! a module dictionary — a million times between two safepoints should not
//! touch that object's cache line a million times. Like LXR's coalescing
//! reference counting (Zhao, Blackburn, McKinley, PLDI 2022) and
//! Levanoni–Petrank's on-the-fly RC, it records only the *net* change per
//! object and applies it at the next flush: one atomic for the whole batch,
//! or none if the changes cancel.
//!
//! # Layout
//!
//! A fixed-capacity open-addressing table with linear probing, keyed by the
//! header address, plus the list of occupied slots so that a flush visits
//! only those. It lives inline in the thread's state: nothing allocates,
//! ever. In front of it the mutator keeps one *hot entry* (see
//! [`crate::mutator`]), so the common case of one object cloned and dropped
//! in a loop never probes the table at all.
//!
//! # Capacity
//!
//! [`CAPACITY`] is 256 slots of 24 bytes: 6 KiB, well inside a 32 KiB L1
//! data cache next to the interpreter's own working set. The hot shared set
//! of an interpreter thread between two safepoints (types, builtins,
//! module globals, the current call's shared arguments) is tens of objects,
//! so a flush caused by a full table is rare, and when it happens it costs
//! at most [`FLUSH_AT`] atomics — the same order as the work since the last
//! safepoint. The table asks for a flush at 75% occupancy so probe
//! sequences stay short.

use core::ptr::NonNull;

use brisk_refcount::{Dealloc, RcHeader};

/// Slots in the table (a power of two, at most 256: slot indices are `u8`).
///
/// Under loom the table is 4 slots, so that a model reaches the flush a
/// full table forces in the middle of a pin period with four objects
/// (`gc/tests/loom_forced_flush.rs`); a 6 KiB table would also overflow the
/// small coroutine stack a loom thread-local is built on.
pub(crate) const CAPACITY: usize = if cfg!(loom) { 4 } else { 256 };

/// Occupied slots at which the owner of the buffer must flush.
pub(crate) const FLUSH_AT: usize = CAPACITY / 4 * 3;

/// Largest magnitude a delta may reach before the buffer asks for a flush;
/// keeps deltas within the `u32` the apply functions take.
pub(crate) const DELTA_LIMIT: i64 = 1 << 30;

/// One object's pending change.
#[derive(Copy, Clone)]
pub(crate) struct Pending {
    /// The object.
    pub(crate) header: NonNull<RcHeader>,
    /// Net increments minus decrements since the last flush.
    pub(crate) delta: i64,
    /// How to free the object; known once a decrement was recorded.
    pub(crate) dealloc: Option<Dealloc>,
}

/// The table. Owned by one thread.
pub(crate) struct CoalescingBuffer {
    /// `None` marks an empty slot.
    slots: [Option<Pending>; CAPACITY],
    /// Indices of the occupied slots, in insertion order; the first `len`.
    occupied: [u8; CAPACITY],
    /// Occupied slots.
    len: usize,
}

/// What [`CoalescingBuffer::record`] asks the caller to do next.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub(crate) enum Recorded {
    /// Nothing: the buffer has room.
    Ok,
    /// The buffer is 75% full (or a delta is at its limit): flush now.
    MustFlush,
}

impl CoalescingBuffer {
    /// An empty buffer.
    pub(crate) const fn new() -> Self {
        CoalescingBuffer {
            slots: [None; CAPACITY],
            occupied: [0; CAPACITY],
            len: 0,
        }
    }

    /// Occupied slots.
    pub(crate) fn len(&self) -> usize {
        self.len
    }

    /// Whether nothing is pending.
    pub(crate) fn is_empty(&self) -> bool {
        self.len == 0
    }

    #[inline]
    fn home(header: NonNull<RcHeader>) -> usize {
        // Fibonacci hashing of the address; headers are 8-aligned, so the
        // low bits carry no information and the high bits of the product are
        // taken.
        let addr = header.as_ptr() as usize as u64;
        (addr.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> (64 - CAPACITY.trailing_zeros())) as usize
    }

    /// The slot holding `header`, or the empty slot where it would go.
    #[inline]
    fn find(&self, header: NonNull<RcHeader>) -> usize {
        let mask = CAPACITY - 1;
        let mut index = Self::home(header);
        loop {
            match &self.slots[index] {
                Some(pending) if pending.header != header => index = (index + 1) & mask,
                _ => return index,
            }
        }
    }

    /// Whether `header` has an entry.
    pub(crate) fn contains(&self, header: NonNull<RcHeader>) -> bool {
        self.slots[self.find(header)].is_some()
    }

    /// Adds `delta` for `header`; `dealloc` is passed when a decrement is
    /// part of it. Never allocates.
    ///
    /// The caller flushes when this returns [`Recorded::MustFlush`], so the
    /// table never fills beyond [`FLUSH_AT`] and probing always ends.
    pub(crate) fn record(
        &mut self,
        header: NonNull<RcHeader>,
        delta: i64,
        dealloc: Option<Dealloc>,
    ) -> Recorded {
        debug_assert!(self.len < CAPACITY, "a MustFlush was ignored");
        let index = self.find(header);
        let pending = match &mut self.slots[index] {
            Some(pending) => {
                pending.delta += delta;
                if dealloc.is_some() {
                    pending.dealloc = dealloc;
                }
                pending.delta
            }
            empty @ None => {
                *empty = Some(Pending {
                    header,
                    delta,
                    dealloc,
                });
                self.occupied[self.len] = index as u8;
                self.len += 1;
                delta
            }
        };
        if self.len >= FLUSH_AT || pending.abs() >= DELTA_LIMIT {
            Recorded::MustFlush
        } else {
            Recorded::Ok
        }
    }

    /// Empties the table, handing every pending entry to `apply`. Visits
    /// only the occupied slots.
    pub(crate) fn drain(&mut self, mut apply: impl FnMut(Pending)) {
        for &index in &self.occupied[..self.len] {
            if let Some(pending) = self.slots[usize::from(index)].take() {
                apply(pending);
            }
        }
        self.len = 0;
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    fn fake_header(i: usize) -> NonNull<RcHeader> {
        // Distinct, aligned, never dereferenced addresses.
        NonNull::new(core::ptr::without_provenance_mut::<RcHeader>(
            0x1000 + 16 * i,
        ))
        .unwrap()
    }

    unsafe fn no_dealloc(_: NonNull<RcHeader>) {}

    #[test]
    fn deltas_for_one_object_coalesce() {
        let mut buffer = Box::new(CoalescingBuffer::new());
        let h = fake_header(1);
        for _ in 0..1000 {
            assert_eq!(buffer.record(h, 1, None), Recorded::Ok);
            assert_eq!(buffer.record(h, -1, Some(no_dealloc)), Recorded::Ok);
        }
        assert_eq!(buffer.record(h, -1, Some(no_dealloc)), Recorded::Ok);
        assert_eq!(buffer.len(), 1);
        assert!(buffer.contains(h));
        assert!(!buffer.contains(fake_header(2)));
        let mut seen = Vec::new();
        buffer.drain(|p| seen.push((p.header, p.delta, p.dealloc.is_some())));
        assert_eq!(seen, vec![(h, -1, true)]);
        assert!(buffer.is_empty());
        assert!(!buffer.contains(h));
    }

    #[test]
    fn distinct_objects_get_distinct_slots_and_a_flush_is_requested_at_75_percent() {
        let mut buffer = Box::new(CoalescingBuffer::new());
        for i in 0..FLUSH_AT - 1 {
            assert_eq!(buffer.record(fake_header(i), 1, None), Recorded::Ok);
        }
        assert_eq!(
            buffer.record(fake_header(FLUSH_AT - 1), 1, None),
            Recorded::MustFlush
        );
        let mut total = 0;
        buffer.drain(|p| {
            assert_eq!(p.delta, 1);
            total += 1;
        });
        assert_eq!(total, FLUSH_AT);
        // Reusable after a drain.
        assert_eq!(buffer.record(fake_header(0), 2, None), Recorded::Ok);
        assert_eq!(buffer.len(), 1);
    }

    #[test]
    fn a_huge_delta_asks_for_a_flush() {
        let mut buffer = Box::new(CoalescingBuffer::new());
        let h = fake_header(3);
        assert_eq!(buffer.record(h, DELTA_LIMIT - 1, None), Recorded::Ok);
        assert_eq!(buffer.record(h, 1, None), Recorded::MustFlush);
    }
}
