//! Counting policies behind one trait, for static dispatch.
//!
//! Benchmarks and the runtime are generic over [`RcPolicy`], so one binary
//! can compare policies side by side and each instantiation compiles to the
//! policy's own instructions, with no indirect call:
//!
//! | policy | increment | decrement | threads |
//! |---|---|---|---|
//! | [`NonAtomic`] | load + store of `local` | load + store, free at 0 | one at a time (an outside lock, e.g. a GIL) |
//! | [`Atomic`] | `fetch_add` on `shared` | `fetch_sub`, Acquire fence and free at 0 | any |
//! | [`Biased`] | owner: load + store; others: `fetch_add` | owner: load + store; others: CAS loop, queue at 0 | any |
//!
//! All three use the same [`RcHeader`] and honour immortal objects. The
//! epoch-deferred policy lives in `brisk-gc` and implements the same trait.

use core::marker::PhantomData;
use core::ptr::NonNull;

use crate::biased;
use crate::header::{
    local_refs, stored_local, RcHeader, SharedState, SharedWord, FORWARDED, LOCAL_MAX, SHARED_ONE,
};
use crate::queue::Dealloc;
use crate::stats;
use crate::sync::{
    acquire,
    Ordering::{Relaxed, Release},
};

/// A reference-counting policy: how a header is initialised, incremented and
/// decremented.
///
/// # Safety
///
/// Implementations must free an object (call its [`Dealloc`]) exactly once,
/// only after every reference counted by [`RcPolicy::new_header`] and
/// [`RcPolicy::incref`] has been given back through [`RcPolicy::decref`],
/// with every use of the object on other threads happening-before the free.
/// [`RcPolicy::is_unique`] must return `true` only when the caller's
/// reference is the only one and no other thread can make another.
pub unsafe trait RcPolicy: 'static {
    /// Short name used in benchmark ids and reports.
    const NAME: &'static str;

    /// A header for a new object holding one reference, held by the caller.
    /// May be a safepoint (`Biased` merges the thread's queue here, so a
    /// thread that only allocates still takes back what others queued).
    fn new_header() -> RcHeader;

    /// [`RcPolicy::new_header`] without the safepoint, for an embedding
    /// runtime whose mutators reach safepoints of their own (an
    /// interpreter's eval breaker) and would only repeat them at every
    /// allocation. The same header otherwise.
    #[inline]
    fn new_header_unpolled() -> RcHeader {
        Self::new_header()
    }

    /// Adds a reference.
    ///
    /// # Safety
    ///
    /// The caller holds a counted reference to the live object.
    unsafe fn incref(header: &RcHeader);

    /// Drops a reference; frees the object with `dealloc` after the last.
    ///
    /// # Safety
    ///
    /// The caller gives up a counted reference to the live object; `dealloc`
    /// frees exactly that object.
    unsafe fn decref(header: NonNull<RcHeader>, dealloc: Dealloc);

    /// Drops a reference like [`RcPolicy::decref`], except that when it was
    /// the last one and the calling thread can tell, nothing is freed and
    /// `true` is returned: the caller owns the object now and frees it
    /// itself (after moving its value out, as
    /// [`Brc::into_inner`](crate::Brc::into_inner) does). When several
    /// threads release the last references, the count decides which one
    /// gets `true`; a policy may answer `false` to every one of them only
    /// where it hands the last reference to another thread that frees the
    /// object with `dealloc` (a merge queue, a deferred decrement), and
    /// says so.
    ///
    /// # Safety
    ///
    /// As [`RcPolicy::decref`].
    unsafe fn release(header: NonNull<RcHeader>, dealloc: Dealloc) -> bool;

    /// Adds a reference to an object the caller holds no counted reference
    /// to, if the object is still alive, and returns whether it did: the
    /// upgrade of a [`Weak`](crate::Weak). A `true` is never wrong (the
    /// object was alive and the new reference keeps it so); a policy may
    /// answer `false` for a live object only where it cannot tell it from a
    /// dead one without waiting, and says so.
    ///
    /// # Safety
    ///
    /// The header's memory stays allocated for the call (a weak count holds
    /// it), and the object was published to the policy's satisfaction
    /// ([`mark_published`](crate::policy_kit::mark_published) for the owner-biased ones) before any
    /// thread holding no counted reference could reach it.
    unsafe fn try_incref(header: &RcHeader) -> bool;

    /// If the caller's reference is the only one (so the payload may be
    /// mutated or moved out), the shared word read to decide it; `None`
    /// when it is not, or when unsure.
    ///
    /// The answer rests on this one read of `shared`, so a caller that then
    /// writes the header must compare-and-swap from the word returned: an
    /// upgrade of a `Weak` after the read changes the word and makes the
    /// swap fail. Reading the word again for the swap would let an upgrade
    /// between the two reads through, and a count that went up and back
    /// down between them look unchanged.
    fn unique_word(header: &RcHeader) -> Option<SharedWord>;

    /// Whether the caller's reference is the only one: [`RcPolicy::unique_word`]
    /// without the word.
    #[inline]
    fn is_unique(header: &RcHeader) -> bool {
        Self::unique_word(header).is_some()
    }

    /// A snapshot of the number of references. It can be out of date by the
    /// time it is returned, and may count a reference held by a merge queue.
    fn strong_count(header: &RcHeader) -> usize;

    /// The exact number of references, if the calling thread can know it:
    /// no other thread may be holding a count that is not yet visible in
    /// the header. `None` when unsure. Used to prove a graph isolated
    /// before moving it to another thread.
    fn exact_count(header: &RcHeader) -> Option<usize>;

    /// Makes the calling thread the owner of an object that no other thread
    /// can reach (a graph just moved here), so it runs on the owner fast
    /// path again. Policies without owners do nothing.
    ///
    /// # Safety
    ///
    /// No other thread holds, or can obtain, a reference to the object, and
    /// [`RcPolicy::exact_count`] was `Some` for it on the thread that gave
    /// it up (whose writes happen-before this call).
    unsafe fn adopt(header: &RcHeader);
}

/// Plain counts, no atomic read-modify-write: the cheapest policy, and the
/// model of CPython with a GIL.
///
/// **Only for single-threaded use, or under an outside lock** that every
/// thread holds while touching objects (a global interpreter lock): two
/// threads counting at once lose updates. [`Brc`](crate::Brc) with this
/// policy is neither `Send` nor `Sync`; code that puts the lock around it
/// uses the raw trait methods and upholds their contract itself.
pub struct NonAtomic(PhantomData<*const ()>);

// SAFETY: the count is exact under the documented single-threaded contract:
// `local` (with overflow spilled to `shared`) is the whole count, and the
// object is freed when both reach zero.
unsafe impl RcPolicy for NonAtomic {
    const NAME: &'static str = "nonatomic";

    fn new_header() -> RcHeader {
        // Owner id is irrelevant: no owner check is made.
        RcHeader::with_owner(crate::header::UNOWNED)
    }

    #[inline(always)]
    unsafe fn incref(header: &RcHeader) {
        stats::record_owner_op();
        // Relaxed: single-threaded by contract; load + store, no RMW.
        let local = header.local.load(Relaxed);
        // One unsigned compare keeps the ordinary increment on the
        // fall-through line: `0 <= local < LOCAL_MAX`. A negative `local`
        // is a header not counted here (the markers are in `tid`), and
        // `LOCAL_MAX` overflows. Tested before the store, unlike the
        // owner-biased paths, because an immortal object is counted from
        // every thread that holds its outside lock, and must not be written.
        if (local as u32) < LOCAL_MAX as u32 {
            header.local.store(local + 1, Relaxed);
        } else {
            core::hint::cold_path();
            if local == LOCAL_MAX {
                nonatomic_spill(header);
            } else if header.owner() == FORWARDED {
                // SAFETY: forwarded from the caller.
                unsafe { biased::forwarded_incref(header) };
            }
            // Otherwise immortal (inline: immortal objects are counted
            // constantly): nothing to count.
        }
    }

    #[inline(always)]
    unsafe fn decref(header: NonNull<RcHeader>, dealloc: Dealloc) {
        stats::record_owner_op();
        // SAFETY: the caller's reference keeps the header alive.
        let h = unsafe { header.as_ref() };
        // Relaxed: single-threaded by contract.
        let local = h.local.load(Relaxed);
        if local >= 0 {
            h.local.store(local - 1, Relaxed);
            if local == 0 {
                // SAFETY: forwarded from the caller.
                unsafe { nonatomic_refill_or_free(header, dealloc) }
            }
        } else {
            core::hint::cold_path();
            if h.owner() == FORWARDED {
                // SAFETY: forwarded from the caller.
                unsafe { forwarded_decref::<NonAtomic>(header, dealloc) };
            }
        }
    }

    unsafe fn release(header: NonNull<RcHeader>, dealloc: Dealloc) -> bool {
        // SAFETY: the caller's reference keeps the header alive.
        let h = unsafe { header.as_ref() };
        if Self::is_unique(h) {
            // Single-threaded by contract: the last reference is ours. The
            // count is taken to zero all the same, so that a `Weak` finds
            // the object dead.
            // Relaxed: single-threaded by contract.
            h.local.store(-1, Relaxed);
            return true;
        }
        // SAFETY: forwarded from the caller; not the last reference.
        unsafe { Self::decref(header, dealloc) };
        false
    }

    unsafe fn try_incref(header: &RcHeader) -> bool {
        // Single-threaded by contract: the count read is the count. A dead
        // object's `local` is negative and its shared count zero.
        if Self::strong_count(header) == 0 {
            return false;
        }
        // SAFETY: alive with a positive count; the new reference is the
        // caller's.
        unsafe { Self::incref(header) };
        true
    }

    #[inline]
    fn unique_word(header: &RcHeader) -> Option<SharedWord> {
        let word = header.shared_word();
        (header.local_count() == 1 && word.count() == 0).then_some(word)
    }

    fn strong_count(header: &RcHeader) -> usize {
        if header.is_immortal() {
            return usize::MAX;
        }
        count_to_usize(i64::from(header.local_count()) + header.shared_word().count())
    }

    #[inline]
    fn exact_count(header: &RcHeader) -> Option<usize> {
        // Single-threaded by contract: the header is the whole truth.
        (!header.is_immortal()).then(|| Self::strong_count(header))
    }

    #[inline]
    unsafe fn adopt(_header: &RcHeader) {}
}

/// `local` is about to overflow: half of the count moves into `shared`.
#[cold]
#[inline(never)] // 2 billion increments apart
fn nonatomic_spill(header: &RcHeader) {
    // Relaxed: single-threaded by contract. The references after this
    // increment: the most `local` counts, plus one.
    let refs = i64::from(local_refs(header.local.load(Relaxed))) + 1;
    let moved = refs / 2;
    let old = header.shared.load(Relaxed);
    biased::check_shared_bound(old);
    header.shared.store(old + moved * SHARED_ONE, Relaxed);
    header
        .local
        .store(stored_local((refs - moved) as u32), Relaxed);
}

/// The increment of a header whose `tid` the caller just read as
/// [`FORWARDED`] (a frozen component's member): counted on its target,
/// through policy `P`. For a policy whose own increment of the target is
/// what a forwarded count must do (the epoch-deferred policy's buffers it).
///
/// # Safety
///
/// As [`RcPolicy::incref`].
#[inline(never)] // frozen members only; keeps the immortal test small where it is inlined
pub unsafe fn forwarded_incref<P: RcPolicy>(header: &RcHeader) {
    if let Some(target) = header.forwarded_target() {
        // SAFETY: a forwarded header's target outlives its references.
        unsafe { P::incref(target.as_ref()) };
    }
}

/// The decrement of a header whose `tid` the caller just read as
/// [`FORWARDED`]: counted on its target, through policy `P`.
///
/// # Safety
///
/// As [`RcPolicy::decref`].
#[inline(never)] // as `forwarded_incref`
pub unsafe fn forwarded_decref<P: RcPolicy>(header: NonNull<RcHeader>, dealloc: Dealloc) {
    // SAFETY: the caller's reference keeps the header alive.
    if let Some(target) = unsafe { header.as_ref() }.forwarded_target() {
        // SAFETY: the reference was counted on the target.
        unsafe { P::decref(target, dealloc) };
    }
}

/// The local count reached zero: free, or move spilled references back into `local`.
///
/// # Safety
///
/// As [`RcPolicy::decref`].
#[cold]
#[inline(never)] // last reference: frees
unsafe fn nonatomic_refill_or_free(header: NonNull<RcHeader>, dealloc: Dealloc) {
    // SAFETY: alive until freed below.
    let h = unsafe { header.as_ref() };
    // Relaxed: single-threaded by contract.
    let spilled = SharedWord::from_raw(h.shared.load(Relaxed)).count();
    if spilled == 0 {
        // SAFETY: `local` and `shared` are both zero: no reference is left.
        unsafe { biased::free(header, dealloc) };
        return;
    }
    let back = spilled.min(i64::from(LOCAL_MAX / 2) + 1);
    h.shared.store(
        SharedWord::new(spilled - back, SharedState::Private).raw(),
        Relaxed,
    );
    h.local.store(stored_local(back as u32), Relaxed);
}

/// Every operation is an atomic read-modify-write on `shared`: the model of
/// `Arc`, and of a GIL-free CPython without biasing.
pub enum Atomic {}

// SAFETY: the argument of `Arc`: increments are Relaxed RMWs made while a
// reference is held; the decrement to zero is Release and is followed by an
// Acquire fence before the free.
unsafe impl RcPolicy for Atomic {
    const NAME: &'static str = "atomic";

    fn new_header() -> RcHeader {
        RcHeader::new_unowned()
    }

    #[inline(always)]
    unsafe fn incref(header: &RcHeader) {
        let tid = header.owner();
        if tid >= FORWARDED {
            // As in `NonAtomic::incref`: immortal objects inline, a
            // forwarded header out of line.
            if tid == FORWARDED {
                // SAFETY: forwarded from the caller.
                unsafe { biased::forwarded_incref(header) };
            }
            return;
        }
        stats::record_shared_op();
        // Relaxed: the caller holds a reference (`Arc::clone`'s argument).
        let old = header.shared.fetch_add(SHARED_ONE, Relaxed);
        biased::check_shared_bound(old);
    }

    #[inline(always)]
    unsafe fn decref(header: NonNull<RcHeader>, dealloc: Dealloc) {
        // SAFETY: forwarded from the caller.
        if unsafe { Self::release(header, dealloc) } {
            // SAFETY: count reached zero.
            unsafe { biased::free(header, dealloc) }
        }
    }

    #[inline(always)]
    unsafe fn release(header: NonNull<RcHeader>, dealloc: Dealloc) -> bool {
        // SAFETY: the caller's reference keeps the header alive until the
        // `fetch_sub` gives it up; it is not used afterwards unless it was
        // the last.
        let h = unsafe { header.as_ref() };
        let tid = h.owner();
        if tid >= FORWARDED {
            if tid == FORWARDED {
                // SAFETY: forwarded from the caller.
                unsafe { forwarded_decref::<Atomic>(header, dealloc) };
            }
            return false;
        }
        stats::record_shared_op();
        // Release: pairs with the Acquire of the thread that frees.
        let old = h.shared.fetch_sub(SHARED_ONE, Release);
        if old == SharedWord::new(1, SharedState::Merged).raw() {
            // Acquire: every other thread's uses happen-before the free.
            acquire!(h.shared);
            return true;
        }
        false
    }

    #[inline]
    unsafe fn try_incref(header: &RcHeader) -> bool {
        if header.is_immortal() {
            // SAFETY: forwarded from the caller; immortal needs no count, a
            // forwarded header is tried on its target.
            return unsafe { biased::try_incref(header) };
        }
        // Every header of this policy is `Merged`: fails at count zero,
        // counts up otherwise (the ordering argument is at the CAS).
        biased::try_incref_shared(header)
    }

    #[inline]
    fn unique_word(header: &RcHeader) -> Option<SharedWord> {
        let word = header.shared_word();
        (word == SharedWord::new(1, SharedState::Merged)).then_some(word)
    }

    fn strong_count(header: &RcHeader) -> usize {
        if header.is_immortal() {
            return usize::MAX;
        }
        count_to_usize(header.shared_word().count())
    }

    #[inline]
    fn exact_count(header: &RcHeader) -> Option<usize> {
        // Every count is applied to `shared` at once.
        (!header.is_immortal()).then(|| Self::strong_count(header))
    }

    #[inline]
    unsafe fn adopt(_header: &RcHeader) {}
}

/// Biased reference counting (Choi, Shull, Torrellas, PACT 2018; CPython's
/// free-threaded build): the owner thread counts without atomics, other
/// threads count atomically on `shared` and hand objects back through merge
/// queues. See [`crate::policy_kit`].
pub enum Biased {}

// SAFETY: see the module documentation of `crate::biased` and the loom models
// in `refcount/tests/loom_*.rs`.
unsafe impl RcPolicy for Biased {
    const NAME: &'static str = "biased";

    #[inline]
    fn new_header() -> RcHeader {
        biased::new_header()
    }

    #[inline]
    fn new_header_unpolled() -> RcHeader {
        biased::new_header_unpolled()
    }

    #[inline(always)]
    unsafe fn incref(header: &RcHeader) {
        // SAFETY: forwarded from the caller.
        unsafe { biased::incref(header) }
    }

    #[inline(always)]
    unsafe fn decref(header: NonNull<RcHeader>, dealloc: Dealloc) {
        // SAFETY: forwarded from the caller.
        unsafe { biased::decref(header, dealloc) }
    }

    #[inline]
    unsafe fn release(header: NonNull<RcHeader>, dealloc: Dealloc) -> bool {
        // SAFETY: forwarded from the caller.
        unsafe { biased::release(header, dealloc) }
    }

    #[inline]
    unsafe fn try_incref(header: &RcHeader) -> bool {
        // SAFETY: forwarded from the caller.
        unsafe { biased::try_incref(header) }
    }

    #[inline]
    fn unique_word(header: &RcHeader) -> Option<SharedWord> {
        let word = header.shared_word();
        let unique = if biased::is_owned_by_current_thread(header) {
            // Exact on the owner: it alone writes `local`, and a shared count
            // of zero, Private or Published (a `Weak` was made), means no
            // other thread counts a reference: this policy applies every
            // non-owner count at once, and a decrement that would take a
            // count below zero queues instead.
            header.local_count() == 1 && word.count() == 0 && word.state() <= SharedState::Published
        } else {
            // Another thread's `local` cannot be read reliably; only a merged
            // object has an exact count here.
            word == SharedWord::new(1, SharedState::Merged)
        };
        unique.then_some(word)
    }

    fn strong_count(header: &RcHeader) -> usize {
        if header.is_immortal() {
            return usize::MAX;
        }
        count_to_usize(i64::from(header.local_count()) + header.shared_word().count())
    }

    #[inline]
    fn exact_count(header: &RcHeader) -> Option<usize> {
        biased::exact_count(header)
    }

    #[inline]
    unsafe fn adopt(header: &RcHeader) {
        // SAFETY: forwarded from the caller.
        unsafe { biased::adopt(header) }
    }
}

/// Clamps a possibly transiently negative snapshot to `usize`.
fn count_to_usize(count: i64) -> usize {
    usize::try_from(count).unwrap_or(0)
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;
    use crate::Brc;
    use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};

    static NONATOMIC_DROPS: AtomicUsize = AtomicUsize::new(0);
    static ATOMIC_DROPS: AtomicUsize = AtomicUsize::new(0);

    struct CountsDrop(&'static AtomicUsize);

    impl Drop for CountsDrop {
        fn drop(&mut self) {
            self.0.fetch_add(1, SeqCst);
        }
    }

    #[test]
    fn nonatomic_counts_in_local_and_frees_at_zero() {
        let a: Brc<_, NonAtomic> = Brc::new_with_policy(CountsDrop(&NONATOMIC_DROPS));
        let b = a.clone();
        assert_eq!(Brc::header(&a).local_count(), 2);
        assert_eq!(Brc::strong_count(&a), 2);
        assert!(!NonAtomic::is_unique(Brc::header(&a)));
        drop(b);
        assert!(NonAtomic::is_unique(Brc::header(&a)));
        drop(a);
        assert_eq!(NONATOMIC_DROPS.load(SeqCst), 1);
    }

    #[test]
    fn nonatomic_spills_on_overflow_and_refills_before_freeing() {
        static SPILL_DROPS: AtomicUsize = AtomicUsize::new(0);
        let a: Brc<_, NonAtomic> = Brc::new_with_policy(CountsDrop(&SPILL_DROPS));
        let h = Brc::header(&a);
        // Pretend the most references `local` counts are held, and take
        // one more.
        h.local.store(LOCAL_MAX, Relaxed);
        let b = a.clone();
        let refs = i64::from(LOCAL_MAX) + 2;
        let moved = refs / 2;
        assert_eq!(i64::from(h.local_count()), refs - moved);
        assert_eq!(h.shared_word().count(), moved);
        // Pretend all but two references went away, keeping the split:
        // one counted in `local` and one spilled into shared.
        h.local.store(0, Relaxed);
        h.shared
            .store(SharedWord::new(1, SharedState::Private).raw(), Relaxed);
        drop(b); // local 1 -> 0: refill from shared
        assert_eq!(h.local_count(), 1);
        assert_eq!(h.shared_word().count(), 0);
        assert_eq!(SPILL_DROPS.load(SeqCst), 0, "freed with a reference left");
        drop(a); // the last reference: freed here
        assert_eq!(SPILL_DROPS.load(SeqCst), 1);
    }

    #[test]
    fn atomic_counts_in_shared_and_frees_at_zero() {
        let a: Brc<_, Atomic> = Brc::new_with_policy(CountsDrop(&ATOMIC_DROPS));
        assert_eq!(Brc::header(&a).owner(), crate::header::UNOWNED);
        let b = a.clone();
        assert_eq!(
            Brc::header(&a).shared_word(),
            SharedWord::new(2, SharedState::Merged)
        );
        std::thread::spawn(move || drop(b)).join().unwrap();
        assert!(Atomic::is_unique(Brc::header(&a)));
        drop(a);
        assert_eq!(ATOMIC_DROPS.load(SeqCst), 1);
    }

    #[test]
    fn immortal_headers_are_never_freed_under_any_policy() {
        unsafe fn never(_: NonNull<RcHeader>) {
            panic!("immortal object freed");
        }
        fn exercise<P: RcPolicy>() {
            let header = RcHeader::new_immortal();
            let ptr = NonNull::from(&header);
            // SAFETY: immortal: counting is a no-op, `never` is never called.
            unsafe {
                P::incref(&header);
                P::decref(ptr, never);
                P::decref(ptr, never);
            }
            assert_eq!(P::strong_count(&header), usize::MAX);
        }
        exercise::<NonAtomic>();
        exercise::<Atomic>();
        exercise::<Biased>();
    }

    #[test]
    fn forwarded_headers_count_on_their_target_under_every_policy() {
        static FREED: AtomicUsize = AtomicUsize::new(0);
        unsafe fn count_free(_: NonNull<RcHeader>) {
            FREED.fetch_add(1, SeqCst);
        }
        fn exercise<P: RcPolicy>() {
            let before = FREED.load(SeqCst);
            let target = P::new_header();
            // Give the target the member's reference as well.
            // SAFETY: `target` holds one reference; we add the member's.
            unsafe { P::incref(&target) };
            let member = RcHeader::new_unowned();
            let t_ptr = NonNull::from(&target);
            // SAFETY: single-threaded; `target` outlives `member`'s uses.
            unsafe { member.forward_to(t_ptr) };
            assert_eq!(member.forward_target(), Some(t_ptr));
            assert_eq!(member.owner(), crate::header::FORWARDED);
            assert_eq!(member.local_count(), 0);
            assert!(
                member.is_immortal(),
                "a forwarded header is never freed by counting"
            );
            assert!(RcHeader::new_immortal().forward_target().is_none());
            let m_ptr = NonNull::from(&member);
            // SAFETY: counting through the member lands on the target, which
            // holds two references (its own and the member's).
            unsafe {
                P::incref(&member);
                assert_eq!(P::strong_count(&target), 3);
                P::decref(m_ptr, count_free);
                P::decref(m_ptr, count_free);
                assert_eq!(FREED.load(SeqCst), before);
                P::decref(t_ptr, count_free);
            }
            // Under `Biased` the forwarded decrements took the shared path and
            // queued the target to this thread: the merge frees it.
            crate::safepoint();
            assert_eq!(FREED.load(SeqCst), before + 1);
        }
        exercise::<NonAtomic>();
        exercise::<Atomic>();
        exercise::<Biased>();
    }

    #[test]
    fn biased_uniqueness_is_exact_on_the_owner_and_conservative_elsewhere() {
        let mut a = Brc::new(5);
        assert!(Brc::get_mut(&mut a).is_some());
        let b = a.clone();
        assert!(Brc::get_mut(&mut a).is_none());
        // A non-owner holding the only reference of an unmerged object
        // cannot prove uniqueness.
        drop(a);
        let mut b = std::thread::spawn(move || {
            let mut b = b;
            assert!(Brc::get_mut(&mut b).is_none());
            *Brc::make_mut(&mut b) += 1; // clones into a new object it owns
            assert!(Brc::get_mut(&mut b).is_some());
            b
        })
        .join()
        .unwrap();
        assert_eq!(*b, 6);
        // The clone is owned by the exited thread and was never merged
        // (local 1), so from here it is still reported shared.
        assert!(Brc::get_mut(&mut b).is_none());
    }
}
