//! The 16-byte reference-count header.
//!
//! # Layout
//!
//! ```text
//! #[repr(C)]
//! RcHeader {
//!     tid:    AtomicU32  // owning thread; 0 = unowned (merged). Never reused.
//!                        // Two ids at the top mark forwarded and immortal headers.
//!     local:  AtomicI32  // the owner's references minus one; negative = off the owner path
//!     shared: AtomicI64  // (count << 2) | state; the count may be negative
//! }
//! ```
//!
//! CPython's free-threaded build spends 24 bytes on the same information
//! (`ob_tid`, `ob_flags`/`ob_mutex`/`ob_gc_bits`, `ob_ref_local`,
//! `ob_ref_shared`); the BRC paper (Choi, Shull, Torrellas, PACT 2018) packs
//! it into one 64-bit word and pays for it with a 14-bit owner id. Here the
//! owner id gets a full 32 bits, so ids are never reused, and the header stays
//! a quarter of a cache line.
//!
//! # The owner's word: a sign-tested count
//!
//! `local` holds the owner's reference count *minus one*, as a signed
//! 32-bit value. The owner changes it with a Relaxed load, an add and a
//! Relaxed store (a plain `mov`, `inc`, `mov` on x86-64), and the sign flag
//! of that add is the whole test for leaving the straight line:
//!
//! * an increment that makes it negative overflowed: half the count spills
//!   into `shared`;
//! * a decrement that makes it negative gave up the owner's last local
//!   reference: the object is freed or merged;
//! * a header nobody counts on locally (unowned, immortal, forwarded) holds
//!   [`DISOWNED`], a quarter of the range below zero, so that a handle that
//!   adds or subtracts one before it looks ([`LocalBrc`](crate::LocalBrc))
//!   lands on a negative value either way and takes the slow path, which
//!   puts the value back.
//!
//! `Rc`'s own test is a compare of the stored count with zero; this is the
//! same test, bought by storing the count one lower (`papers/design.md`,
//! section 6, "The owner's count is sign-tested").
//!
//! The markers for immortal and forwarded headers live in `tid`, which only
//! changes when ownership does, so a non-owner tells them from a mortal
//! header by the same `tid` load that its owner check already made, and
//! never reads `local` to decide anything.
//!
//! # The shared word
//!
//! The two low bits of `shared` are a [`SharedState`]; the remaining 62 bits
//! are a signed count of references *not* accounted for in `local`. The count
//! may go negative: a reference created by the owner (counted in `local`) and
//! dropped by another thread (subtracted from `shared`) leaves `local` one too
//! high and `shared` one too low until the two are merged. States only move
//! upward (`Private` → `Published` → `Queued` → `Merged`); the object is freed
//! from whichever state it is in.
//!
//! Who writes `local`:
//!
//! * the owner thread while it owns the object (the owner path, spills, its
//!   merges), and, for the handles described above, the former owner while
//!   the value is [`DISOWNED`];
//! * a non-owner merging an object whose owner has exited (the dead-owner
//!   path), when a lock ordered the owner's last write before its own;
//! * `adopt`, on the thread that takes the object over, when no other
//!   thread can reach it;
//! * `forward_to` and `make_immortal`, while no other thread counts on the
//!   header.
//!
//! Other threads read it only in those merges and for diagnostic
//! snapshots.
//!
//! # The stable contract
//!
//! The layout is a contract with code outside this crate, C included: an
//! embedder may read `tid` and `local` itself, and write `local`, to inline
//! the owner's path, as `brisk-capi`'s header does. It holds for every
//! release of this major version:
//!
//! | offset | field | type | meaning |
//! |---|---|---|---|
//! | 0 | `tid` | `u32` | owner id (1 ..= 2³² − 4); [`UNOWNED`] = 0; [`FORWARDED`] = 2³² − 3; [`IMMORTAL`] = 2³² − 2; 2³² − 1 is never stored |
//! | 4 | `local` | `i32` | owner's references − 1 while `tid` is a thread id; [`DISOWNED`] (−2³⁰) otherwise |
//! | 8 | `shared` | `i64` | bits 2..63: signed count ([`SHARED_ONE`] per reference); bits 0..1: [`SharedState`] (0 private, 1 published, 2 queued, 3 merged) |
//!
//! Size 16, alignment 8, native byte order. All three words are accessed
//! atomically; the owner's accesses to `local` are Relaxed loads and stores.
//! What an outside owner path may do, and nothing else:
//!
//! * read `tid` (Relaxed) and compare it with the calling thread's id
//!   ([`crate::thread::attach`] returns it);
//! * if equal, read `local`, add or subtract one, and if the result is not
//!   negative, store it (Relaxed). A negative result is not stored: the
//!   caller calls the library's increment or decrement instead, which
//!   handles the overflow or the last local reference;
//! * otherwise call the library.
//!
//! `shared` is written only by the library.

use core::ptr::NonNull;

use crate::sync::{AtomicI32, AtomicI64, AtomicU32};

/// `tid` of an object that no thread owns: merged, or made by a thread
/// that was already exiting. Every operation on it is atomic.
pub const UNOWNED: u32 = 0;

/// `tid` of a header that forwards its counting to another
/// ([`RcHeader::forward_to`]). Thread ids stop below it.
pub const FORWARDED: u32 = u32::MAX - 2;

/// `tid` of an immortal header: increments and decrements of it change
/// nothing. One above [`FORWARDED`], so that the counting paths tell every
/// uncounted header from a counted one with a single compare
/// (`tid >= FORWARDED`), and a plain immortal from a forwarded one with the
/// flags of that same compare.
pub const IMMORTAL: u32 = u32::MAX - 1;

/// `local` of a header no thread counts on locally: unowned, immortal or
/// forwarded. Far enough below zero that one more or one less stays
/// negative (see the module docs).
pub const DISOWNED: i32 = i32::MIN / 2;

/// Largest value the owner path leaves in `local` (the owner's references
/// minus one). An increment past it leaves the straight line and spills
/// half of the count into `shared`, so the count never wraps into the
/// negative values that mean "not on the owner path". `i32::MAX`, where the
/// increment's sign flag is the test; tiny under loom so the model can
/// reach the spill.
pub(crate) const LOCAL_MAX: i32 = if cfg!(loom) { 2 } else { i32::MAX };

/// Whether a value the owner path has just stored in `local` sends it off
/// the straight line: negative (an overflow, the last local reference, or a
/// header not counted locally), or above [`LOCAL_MAX`] (only possible under
/// loom). One `js` after the add on x86-64.
#[cfg(not(loom))]
#[inline(always)]
pub(crate) const fn leaves_owner_path(stored: i32) -> bool {
    // Nothing is above `LOCAL_MAX == i32::MAX`: the increment wrapped.
    stored < 0
}

/// [`leaves_owner_path`] under loom, where [`LOCAL_MAX`] is small.
#[cfg(loom)]
#[inline(always)]
pub(crate) const fn leaves_owner_path(stored: i32) -> bool {
    stored < 0 || stored > LOCAL_MAX
}

/// Number of low bits of `shared` that hold the [`SharedState`].
pub const STATE_BITS: u32 = 2;
const STATE_MASK: i64 = (1 << STATE_BITS) - 1;

/// One reference in the shared word: `1 << STATE_BITS`.
pub const SHARED_ONE: i64 = 1 << STATE_BITS;

/// The most references the shared half may count: 2⁶⁰, a quarter of what
/// its 62 bits hold. An increment that finds the count at or above it aborts
/// the process, as `Arc`'s does above `isize::MAX`: a program that holds 2⁶⁰
/// references leaked them in a loop, and wrapping would free a live object.
/// The check comes after the `fetch_add`, so threads racing past it add at
/// most `u32::MAX` each before one of them aborts; the 2⁶¹ references of
/// headroom above the bound absorb 2²⁹ such threads.
pub const MAX_SHARED_COUNT: i64 = 1 << 60;

/// The two low bits of the shared word.
///
/// | state | meaning |
/// |---|---|
/// | `Private` | every reference is visible in `local + shared`; the owner may free at zero |
/// | `Published` | another thread may hold a reference not yet applied (deferred policy) |
/// | `Queued` | a non-owner found the count at zero and handed its reference to the owner's merge queue |
/// | `Merged` | `tid == 0`; `local` was folded into `shared`; every operation is atomic |
#[derive(Copy, Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[repr(u8)]
pub enum SharedState {
    /// Never published, never queued.
    Private = 0,
    /// Another thread may hold an uncounted or not-yet-applied reference.
    Published = 1,
    /// On its owner's merge queue; the queue holds one reference.
    Queued = 2,
    /// Unowned; the count in `shared` is the whole count.
    Merged = 3,
}

/// A decoded value of the shared word: `(count << STATE_BITS) | state`.
#[derive(Copy, Clone, PartialEq, Eq, Hash)]
pub struct SharedWord(i64);

impl SharedWord {
    /// Packs `count` and `state`.
    #[inline]
    pub const fn new(count: i64, state: SharedState) -> Self {
        SharedWord((count << STATE_BITS) | state as i64)
    }

    /// Wraps a raw value of the shared word.
    #[inline]
    pub const fn from_raw(raw: i64) -> Self {
        SharedWord(raw)
    }

    /// The raw value.
    #[inline]
    pub const fn raw(self) -> i64 {
        self.0
    }

    /// The signed count of references not accounted for in `local`.
    #[inline]
    pub const fn count(self) -> i64 {
        // Arithmetic shift: a negative count stays negative.
        self.0 >> STATE_BITS
    }

    /// The state bits.
    #[inline]
    pub const fn state(self) -> SharedState {
        match self.0 & STATE_MASK {
            0 => SharedState::Private,
            1 => SharedState::Published,
            2 => SharedState::Queued,
            _ => SharedState::Merged,
        }
    }

    /// The same count with another state.
    #[inline]
    pub const fn with_state(self, state: SharedState) -> Self {
        SharedWord((self.0 & !STATE_MASK) | state as i64)
    }
}

impl core::fmt::Debug for SharedWord {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("SharedWord")
            .field("count", &self.count())
            .field("state", &self.state())
            .finish()
    }
}

/// The reference-count header every counted object starts with.
///
/// Embed it as the **first field** of a `#[repr(C)]` object so that a pointer
/// to the object and a pointer to its header are the same address; the
/// type-erased [`Dealloc`](crate::Dealloc) callbacks rely on that to get back
/// to the object. See the [crate documentation](crate) for the protocol and
/// [`crate::embed`] for the operations.
#[repr(C)]
pub struct RcHeader {
    /// Owning thread id, [`UNOWNED`], or a marker ([`FORWARDED`],
    /// [`IMMORTAL`]). Written at creation; set to [`UNOWNED`] by the owner
    /// when it merges (or by a non-owner merging on behalf of an owner that
    /// has exited); set to a marker only while no other thread counts on
    /// the header.
    pub(crate) tid: AtomicU32,
    /// The owner's references minus one, or [`DISOWNED`]. Written by the
    /// owner while it owns the object, and otherwise only where no other
    /// thread counts on it (module docs, "Who writes `local`").
    pub(crate) local: AtomicI32,
    /// `(count << 2) | state`, see [`SharedWord`]. Any thread.
    pub(crate) shared: AtomicI64,
}

// The stable contract (module docs). Loom's atomics are larger.
#[cfg(not(loom))]
const _: () = {
    assert!(core::mem::size_of::<RcHeader>() == 16);
    assert!(core::mem::align_of::<RcHeader>() == 8);
    assert!(core::mem::offset_of!(RcHeader, tid) == 0);
    assert!(core::mem::offset_of!(RcHeader, local) == 4);
    assert!(core::mem::offset_of!(RcHeader, shared) == 8);
    assert!(DISOWNED == -(1 << 30));
    assert!(SharedState::Private as i64 == 0 && SharedState::Merged as i64 == 3);
};

impl RcHeader {
    /// A header with one reference, owned by thread `tid` (counted in
    /// `local`), in state `Private`.
    pub(crate) fn with_owner(tid: u32) -> Self {
        RcHeader {
            tid: AtomicU32::new(tid),
            local: AtomicI32::new(stored_local(1)),
            shared: AtomicI64::new(SharedWord::new(0, SharedState::Private).raw()),
        }
    }

    /// A header with one reference that no thread owns: every operation on it
    /// is atomic (the [`Atomic`](crate::Atomic) policy's headers).
    pub fn new_unowned() -> Self {
        RcHeader {
            tid: AtomicU32::new(UNOWNED),
            local: AtomicI32::new(DISOWNED),
            shared: AtomicI64::new(SharedWord::new(1, SharedState::Merged).raw()),
        }
    }

    /// A header for an immortal object: never freed, and increments and
    /// decrements from any thread are no-ops (`tid == IMMORTAL`). Used for
    /// statics such as `None` or small integers.
    pub fn new_immortal() -> Self {
        RcHeader {
            tid: AtomicU32::new(IMMORTAL),
            local: AtomicI32::new(DISOWNED),
            shared: AtomicI64::new(SharedWord::new(0, SharedState::Merged).raw()),
        }
    }

    /// Whether the object is immortal: counting on this header changes
    /// nothing here. True for a forwarded header too, whose references are
    /// counted on its target.
    #[inline]
    pub fn is_immortal(&self) -> bool {
        // Relaxed: a marker is set before the object is shared (or while no
        // other thread counts on it) and never cleared, so any value read is
        // the final one.
        self.tid.load(crate::sync::Ordering::Relaxed) >= FORWARDED
    }

    /// Whether the object is immortal and forwards nowhere: a reference to
    /// it needs no counting at all, here or on a target.
    #[inline]
    pub fn is_plain_immortal(&self) -> bool {
        // Relaxed: as in `is_immortal`.
        self.tid.load(crate::sync::Ordering::Relaxed) == IMMORTAL
    }

    /// Makes this header *forward* to `target`: from now on every counting
    /// operation on it is applied to `target` instead, and this header is
    /// never freed by counting. This is how a strongly connected component
    /// of frozen objects is counted as one (Parkinson, Clebsch, Wrigstad,
    /// *Reference Counting Deeply Immutable Data Structures with Cycles*,
    /// ISMM 2024): every member forwards to a representative that holds the
    /// component's count.
    ///
    /// A forwarded header is immortal to [`RcHeader::is_immortal`]; its
    /// `tid` holds [`FORWARDED`] and its `shared` word the target's
    /// address. A decrement forwarded to the target passes on the member's
    /// `Dealloc`, so the object model's `Dealloc` must be able to free the
    /// representative.
    ///
    /// # Safety
    ///
    /// No other thread counts on this header while it is rewritten (the
    /// caller has stopped the world or owns the whole graph); `target` is
    /// not itself forwarded, and it outlives every reference to this header;
    /// the references this header counted have been added to `target`.
    pub unsafe fn forward_to(&self, target: NonNull<RcHeader>) {
        use crate::sync::Ordering::{Relaxed, Release};
        // Relaxed: published by the Release store of `tid` below.
        self.local.store(DISOWNED, Relaxed);
        self.shared.store(target.as_ptr() as usize as i64, Relaxed);
        // Release: a thread that later reads the marker (through the
        // Acquire fence in `forwarded_target`) sees the target's address and
        // the target's count already adjusted.
        self.tid.store(FORWARDED, Release);
    }

    /// Makes this header immortal: counting on it becomes a no-op and no
    /// forward is followed any more. Used when a frozen component is freed
    /// as a unit, so the references its members hold to one another are
    /// dropped as no-ops.
    ///
    /// # Safety
    ///
    /// No reference to the object is counted any more (its count, or its
    /// component's, reached zero), or the caller wants it leaked forever.
    pub unsafe fn make_immortal(&self) {
        use crate::sync::Ordering::{Relaxed, Release};
        // Relaxed: published by the Release store of `tid` below.
        self.local.store(DISOWNED, Relaxed);
        self.shared
            .store(SharedWord::new(0, SharedState::Merged).raw(), Relaxed);
        // Release: as in `forward_to`.
        self.tid.store(IMMORTAL, Release);
    }

    /// The header this one forwards to, if any (see [`RcHeader::forward_to`]).
    #[inline]
    pub fn forward_target(&self) -> Option<NonNull<RcHeader>> {
        // Relaxed: `forwarded_target`'s fence orders the rest.
        if self.tid.load(crate::sync::Ordering::Relaxed) != FORWARDED {
            return None;
        }
        self.forwarded_target()
    }

    /// [`RcHeader::forward_target`] for a caller that has just read `tid`
    /// as [`FORWARDED`] (Relaxed is enough): the counting paths, which would
    /// otherwise load and test `tid` a second time.
    #[inline]
    pub fn forwarded_target(&self) -> Option<NonNull<RcHeader>> {
        use crate::sync::{acquire, Ordering::Relaxed};
        // Acquire fence: the caller's read of FORWARDED took the value of
        // the Release store in `forward_to`, which this fence makes
        // synchronise, so the pointer read below is the one stored before
        // it. A compiler barrier only, on x86-64.
        acquire!(self.tid);
        // Relaxed: ordered by the fence above.
        NonNull::new(self.shared.load(Relaxed) as usize as *mut RcHeader)
    }

    /// The owning thread's id, [`UNOWNED`], or a marker. A snapshot.
    #[inline]
    pub fn owner(&self) -> u32 {
        // Relaxed: a diagnostic snapshot; the protocol never acts on it alone.
        self.tid.load(crate::sync::Ordering::Relaxed)
    }

    /// The shared word. A snapshot.
    #[inline]
    pub fn shared_word(&self) -> SharedWord {
        // Acquire: callers that act on a zero count (uniqueness checks) need
        // every other thread's release of its reference to happen-before.
        SharedWord(self.shared.load(crate::sync::Ordering::Acquire))
    }

    /// The owner path's step on `local`: a Relaxed load, `by` added
    /// (wrapping), a Relaxed store, and the stored value returned for the
    /// sign test (module docs). A plain load and store, not a
    /// read-modify-write. Called only by a thread that may count on
    /// `local`: the owner, or an owner-proven handle on its thread.
    #[inline(always)]
    pub(crate) fn step_local(&self, by: i32) -> i32 {
        use crate::sync::Ordering::Relaxed;
        // Relaxed: only the calling thread writes `local` while it may
        // count on it, so this is its own latest store.
        let stored = self.local.load(Relaxed).wrapping_add(by);
        // Relaxed: a reader elsewhere only needs some recent value (a
        // snapshot, or the merge of an exited owner's object, which a lock
        // orders after this).
        self.local.store(stored, Relaxed);
        stored
    }

    /// The references the owner counts in `local`: 0 for a header no thread
    /// counts on locally. A snapshot; exact only on the owner thread.
    #[inline]
    pub fn local_count(&self) -> u32 {
        // Relaxed: exact on the owner thread (its own writes), a snapshot
        // elsewhere.
        local_refs(self.local.load(crate::sync::Ordering::Relaxed))
    }
}

/// The value `local` holds for `refs ≥ 1` references: one less.
#[inline(always)]
pub(crate) const fn stored_local(refs: u32) -> i32 {
    debug_assert!(refs >= 1 && refs - 1 <= LOCAL_MAX as u32);
    (refs - 1) as i32
}

/// The references a value of `local` stands for: 0 for a negative value
/// (the owner's count just reached zero, or [`DISOWNED`]).
#[inline(always)]
pub(crate) const fn local_refs(stored: i32) -> u32 {
    if stored < 0 {
        0
    } else {
        stored as u32 + 1
    }
}

impl core::fmt::Debug for RcHeader {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("RcHeader")
            .field("tid", &self.owner())
            .field("local", &self.local_count())
            .field("shared", &self.shared_word())
            .finish()
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    #[test]
    fn header_is_sixteen_bytes_and_state_is_in_the_low_bits() {
        assert_eq!(core::mem::size_of::<RcHeader>(), 16);
        assert_eq!(core::mem::offset_of!(RcHeader, tid), 0);
        assert_eq!(core::mem::offset_of!(RcHeader, local), 4);
        assert_eq!(core::mem::offset_of!(RcHeader, shared), 8);
        assert_eq!(SHARED_ONE, 4);
    }

    #[test]
    fn shared_word_round_trips_every_state_and_negative_counts() {
        for state in [
            SharedState::Private,
            SharedState::Published,
            SharedState::Queued,
            SharedState::Merged,
        ] {
            for count in [
                -5,
                -1,
                0,
                1,
                7,
                i64::MAX >> STATE_BITS,
                i64::MIN >> STATE_BITS,
            ] {
                let word = SharedWord::new(count, state);
                assert_eq!(word.count(), count);
                assert_eq!(word.state(), state);
                assert_eq!(SharedWord::from_raw(word.raw()), word);
            }
        }
    }

    #[test]
    fn with_state_keeps_the_count() {
        let word = SharedWord::new(-3, SharedState::Private).with_state(SharedState::Queued);
        assert_eq!(word.count(), -3);
        assert_eq!(word.state(), SharedState::Queued);
        assert_eq!(word.with_state(SharedState::Merged).count(), -3);
    }

    #[test]
    fn states_are_ordered_upward() {
        assert!(SharedState::Private < SharedState::Published);
        assert!(SharedState::Published < SharedState::Queued);
        assert!(SharedState::Queued < SharedState::Merged);
    }

    #[test]
    fn local_holds_references_minus_one_and_its_sign_is_the_test() {
        assert_eq!(stored_local(1), 0);
        assert_eq!(local_refs(0), 1);
        assert_eq!(local_refs(-1), 0, "the owner's last reference just went");
        assert_eq!(local_refs(DISOWNED), 0);
        assert_eq!(local_refs(LOCAL_MAX), LOCAL_MAX as u32 + 1);
        assert!(!leaves_owner_path(0) && !leaves_owner_path(LOCAL_MAX));
        assert!(leaves_owner_path(-1));
        assert!(leaves_owner_path(LOCAL_MAX.wrapping_add(1)), "overflow");
        // A handle's one blind step either way from DISOWNED stays negative.
        assert!(leaves_owner_path(DISOWNED + 1) && leaves_owner_path(DISOWNED - 1));
    }

    #[test]
    fn markers_live_in_tid_above_every_thread_id() {
        let immortal = RcHeader::new_immortal();
        assert_eq!(immortal.owner(), IMMORTAL);
        assert!(immortal.is_immortal() && immortal.is_plain_immortal());
        assert_eq!(immortal.local_count(), 0);
        let unowned = RcHeader::new_unowned();
        assert!(!unowned.is_immortal() && !unowned.is_plain_immortal());
        assert_eq!(unowned.local_count(), 0);
    }

    #[test]
    fn constructors_set_the_documented_fields() {
        let owned = RcHeader::with_owner(7);
        assert_eq!(owned.owner(), 7);
        assert_eq!(owned.local_count(), 1);
        assert_eq!(owned.shared_word().raw(), 0);

        let unowned = RcHeader::new_unowned();
        assert_eq!(unowned.owner(), UNOWNED);
        assert_eq!(
            unowned.shared_word(),
            SharedWord::new(1, SharedState::Merged)
        );

        let immortal = RcHeader::new_immortal();
        assert!(immortal.is_immortal());
        assert!(!owned.is_immortal());
        assert!(format!("{immortal:?}").contains("Merged"));
    }
}
