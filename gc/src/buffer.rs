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
//! header address. Nothing allocates on the recording path.
//!
//! # Capacity
//!
//! [`CAPACITY`] is 256 slots of 24 bytes: 6 KiB, well inside a 32 KiB L1
//! data cache next to the interpreter's own working set. The hot shared set
//! of an interpreter thread between two safepoints (types, builtins,
//! module globals, the current call's shared arguments) is tens of objects,
//! so a flush caused by a full table is rare, and when it happens it costs
//! at most [`FLUSH_AT`] atomics — the same order as the work since the last
//! safepoint. The table is flushed at 75% occupancy so probe sequences stay
//! short.

use core::ptr::NonNull;

use brisk_refcount::{Dealloc, RcHeader};

/// Slots in the table (a power of two).
pub(crate) const CAPACITY: usize = 256;

/// Occupied slots at which the owner of the buffer must flush.
pub(crate) const FLUSH_AT: usize = CAPACITY / 4 * 3;

/// Largest magnitude a delta may reach before the buffer asks for a flush;
/// keeps deltas within the `u32` the apply functions take.
const DELTA_LIMIT: i64 = 1 << 30;

/// One object's pending change.
#[derive(Copy, Clone)]
pub(crate) struct Pending {
    /// The object.
    pub(crate) header: NonNull<RcHeader>,
    /// Net increments minus decrements since the last flush.
    pub(crate) delta: i64,
    /// How to free the object; known once a decrement was recorded.
    pub(crate) dealloc: Option<Dealloc>,
    /// Operations recorded for this object (to count what coalescing saved).
    pub(crate) ops: u64,
}

/// The table. Owned by one thread.
pub(crate) struct CoalescingBuffer {
    /// `None` marks an empty slot.
    slots: Box<[Option<Pending>; CAPACITY]>,
    /// Occupied slots.
    len: usize,
}

/// What [`CoalescingBuffer::record`] asks the caller to do next.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub(crate) enum Recorded {
    /// Nothing: the buffer has room.
    Ok,
    /// The buffer is full (or a delta is at its limit): flush now.
    MustFlush,
}

impl Default for CoalescingBuffer {
    fn default() -> Self {
        Self::new()
    }
}

impl CoalescingBuffer {
    /// An empty buffer. Allocates the table once.
    pub(crate) fn new() -> Self {
        CoalescingBuffer {
            slots: Box::new([None; CAPACITY]),
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

    /// Adds `delta` (+1 or −1) for `header`. A decrement passes the
    /// object's `Dealloc`. Never allocates.
    ///
    /// The caller must flush before recording again when this returns
    /// [`Recorded::MustFlush`]; if the table is completely full the record
    /// still succeeds because a flush is requested at 75% occupancy.
    #[inline]
    pub(crate) fn record(
        &mut self,
        header: NonNull<RcHeader>,
        delta: i64,
        dealloc: Option<Dealloc>,
    ) -> Recorded {
        let mask = CAPACITY - 1;
        let mut index = Self::home(header);
        loop {
            match &mut self.slots[index] {
                Some(pending) if pending.header == header => {
                    pending.delta += delta;
                    pending.ops += 1;
                    if dealloc.is_some() {
                        pending.dealloc = dealloc;
                    }
                    return if pending.delta.abs() >= DELTA_LIMIT {
                        Recorded::MustFlush
                    } else {
                        Recorded::Ok
                    };
                }
                Some(_) => index = (index + 1) & mask,
                empty @ None => {
                    *empty = Some(Pending {
                        header,
                        delta,
                        dealloc,
                        ops: 1,
                    });
                    self.len += 1;
                    return if self.len >= FLUSH_AT {
                        Recorded::MustFlush
                    } else {
                        Recorded::Ok
                    };
                }
            }
        }
    }

    /// Empties the table, handing every pending entry to `apply`.
    pub(crate) fn drain(&mut self, mut apply: impl FnMut(Pending)) {
        if self.len == 0 {
            return;
        }
        for slot in self.slots.iter_mut() {
            if let Some(pending) = slot.take() {
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
        let mut buffer = CoalescingBuffer::new();
        let h = fake_header(1);
        for _ in 0..1000 {
            assert_eq!(buffer.record(h, 1, None), Recorded::Ok);
            assert_eq!(buffer.record(h, -1, Some(no_dealloc)), Recorded::Ok);
        }
        assert_eq!(buffer.record(h, -1, Some(no_dealloc)), Recorded::Ok);
        assert_eq!(buffer.len(), 1);
        let mut seen = Vec::new();
        buffer.drain(|p| seen.push((p.header, p.delta, p.ops, p.dealloc.is_some())));
        assert_eq!(seen, vec![(h, -1, 2001, true)]);
        assert!(buffer.is_empty());
    }

    #[test]
    fn distinct_objects_get_distinct_slots_and_a_flush_is_requested_at_75_percent() {
        let mut buffer = CoalescingBuffer::new();
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
    }

    #[test]
    fn a_full_table_still_records_every_object() {
        let mut buffer = CoalescingBuffer::new();
        for i in 0..CAPACITY - 1 {
            buffer.record(fake_header(i), 1, None);
        }
        assert_eq!(buffer.len(), CAPACITY - 1);
        let mut sum = 0;
        buffer.drain(|p| sum += p.delta);
        assert_eq!(sum, (CAPACITY - 1) as i64);
    }

    #[test]
    fn a_huge_delta_asks_for_a_flush() {
        let mut buffer = CoalescingBuffer::new();
        let h = fake_header(3);
        assert_eq!(buffer.record(h, DELTA_LIMIT - 1, None), Recorded::Ok);
        assert_eq!(buffer.record(h, 1, None), Recorded::MustFlush);
    }
}
