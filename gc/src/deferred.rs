//! The `Deferred` policy: biased counting for the owner, coalesced and
//! epoch-deferred counting for everyone else.
//!
//! # The problem it solves
//!
//! Under [`Biased`](brisk_refcount::Biased), an object that many threads use
//! — a type, a builtin function, a module's dictionary — takes an atomic
//! read-modify-write on its shared count for every non-owner clone and drop,
//! and those RMWs bounce its cache line between cores. The contention, not
//! the atomics themselves, is what makes GIL-free reference counting slow on
//! shared objects.
//!
//! # The mechanism
//!
//! * **Owner:** unchanged — a load and a store of `local`, and through a
//!   [`LocalBrc`](brisk_refcount::LocalBrc) without the owner check (the
//!   policy is [`OwnerBiased`](brisk_refcount::OwnerBiased)).
//! * **Non-owner:** the first touch of a `Private` object sets `Published`
//!   (one RMW per object for its whole life). Then increments and decrements
//!   go into the thread's coalescing buffer (`buffer.rs`); the object is
//!   not touched. The last object counted this way is the thread's *hot
//!   entry*, checked before the owner check, so repeated counting of one
//!   shared object reads nothing from it (see [`crate::mutator`]).
//! * **Flush** (every safepoint, and when the buffer fills): a positive net
//!   delta is applied at once with one `fetch_add`; a negative one joins a
//!   batch that is applied **one epoch later** ([`crate::domain`]); a zero
//!   delta costs nothing.
//! * **Owner's last local reference** on a non-`Private` object: the owner
//!   merges without subtracting that reference and defers its −1 one epoch.
//!   A `Private` object is still freed on the spot: nobody else ever saw it.
//! * **Queue merge:** the queue's −1 is deferred the same way.
//!
//! # The invariant
//!
//! *A count reaches zero only through a decrement applied at least one epoch
//! after it was issued, and every increment is applied before its issuing
//! thread leaves the epoch it was issued in.* A thread can only issue an
//! increment while it holds a reference, so any decrement that could cancel
//! the reference it copied was issued while it was pinned, and cannot be
//! applied until it has unpinned — after flushing. Hence no premature free
//! and no resurrection. `papers/design.md` gives the full argument and names
//! the loom model for each step.
//!
//! Counts read from the header under this policy lag the truth by whatever
//! sits in buffers and deferred batches: [`RcPolicy::strong_count`] is a
//! snapshot of *applied* references, and uniqueness is only claimed on the
//! owner thread of a never-published object.

use core::ptr::NonNull;

use brisk_refcount::policy_kit::{self, forwarded_decref, forwarded_incref, SharedWord};
use brisk_refcount::{embed, Dealloc, RcHeader, RcPolicy};

use crate::mutator::{self, defer_decrement};

/// The epoch-deferred, coalescing policy. See the [module docs](self).
pub enum Deferred {}

// SAFETY: frees happen only through `policy_kit::free` on a count that reached
// zero, either on the owner thread for a never-published object, or through a
// decrement applied an epoch after issue (see the module docs and
// `papers/design.md`); loom models in `gc/tests/loom_*.rs`.
unsafe impl RcPolicy for Deferred {
    const NAME: &'static str = "deferred";

    #[inline]
    fn new_header() -> RcHeader {
        embed::new_header()
    }

    #[inline]
    fn new_header_unpolled() -> RcHeader {
        policy_kit::new_header_unpolled()
    }

    #[inline(always)]
    unsafe fn incref(header: &RcHeader) {
        // This thread's hot entry first: a non-owner counting a hot shared
        // object must not even read its header, or the owner's writes to
        // the line would bounce it between cores. Then the owner-biased
        // increment, with this policy's own paths off the owner.
        if mutator::hot_incref(header) {
            return;
        }
        // SAFETY: forwarded from the caller; both functions count a
        // reference the caller holds, from any thread (a forwarded header
        // on its target, through this policy).
        unsafe { policy_kit::incref_with(header, forwarded_incref::<Deferred>, non_owner_incref) }
    }

    #[inline(always)]
    unsafe fn decref(header: NonNull<RcHeader>, dealloc: Dealloc) {
        // As in `incref`: the hot entry first.
        if mutator::hot_decref(header, dealloc) {
            return;
        }
        // SAFETY: forwarded from the caller; `forwarded_decref` and
        // `non_owner_decref` give up a reference from any thread, and
        // `deferred_zero_local` upholds `merge_zero_local`'s contract (it
        // defers what that would apply).
        unsafe {
            policy_kit::decref_with(
                header,
                dealloc,
                forwarded_decref::<Deferred>,
                deferred_zero_local,
                non_owner_decref,
            )
        }
    }

    /// Exactly one caller gets `true` only where no buffer can hold an
    /// unapplied count: the owner's release of a never-published object.
    /// Every other last release is deferred an epoch (or buffered), and the
    /// thread that applies it frees the object: `false`.
    #[inline]
    unsafe fn release(header: NonNull<RcHeader>, dealloc: Dealloc) -> bool {
        if mutator::hot_decref(header, dealloc) {
            return false;
        }
        // SAFETY: forwarded from the caller; as in `decref`, with the
        // releasing variants of the zero-local and non-owner paths.
        unsafe {
            policy_kit::release_with(
                header,
                dealloc,
                forwarded_decref::<Deferred>,
                deferred_zero_local_release,
                non_owner_release,
            )
        }
    }

    /// Applied at once on the header, never through the hot entry or a
    /// buffer: the upgrade must decide now whether the object lives. A
    /// merged count of zero or less fails even where increments still sit
    /// in other threads' buffers (a false `None`, never a false `Some`);
    /// the object was published by the downgrade, so its owner's last
    /// decrement goes through the CAS this one races.
    #[inline]
    unsafe fn try_incref(header: &RcHeader) -> bool {
        // SAFETY: forwarded from the caller.
        unsafe { embed::try_incref(header) }
    }

    #[inline]
    fn unique_word(header: &RcHeader) -> Option<SharedWord> {
        // Only a never-published object's count is exact: once published,
        // other threads' buffers may hold references not yet applied.
        let word = header.shared_word();
        (embed::is_owned_by_current_thread(header) && header.local_count() == 1 && word.raw() == 0)
            .then_some(word)
    }

    fn strong_count(header: &RcHeader) -> usize {
        <brisk_refcount::Biased as RcPolicy>::strong_count(header)
    }

    #[inline]
    fn exact_count(header: &RcHeader) -> Option<usize> {
        // Exact only where no buffer can hold an unapplied count: an object
        // its owner never let another thread touch.
        (embed::is_owned_by_current_thread(header) && header.shared_word().raw() == 0)
            .then(|| header.local_count() as usize)
    }

    #[inline]
    unsafe fn adopt(header: &RcHeader) {
        // SAFETY: forwarded from the caller.
        unsafe { policy_kit::adopt(header) }
    }
}

// SAFETY: the owner path is `Biased`'s (`policy_kit::incref_with` and
// `decref_with` with the owner branch unchanged), so a reference the owner
// holds may be counted on `local`; the transitions away from the owner are
// `Biased`'s, and the zero-local and queue merges here end at `local`
// `DISOWNED` (`policy_kit::explicit_merge`).
unsafe impl brisk_refcount::OwnerBiased for Deferred {}

/// Non-owner increment of a mortal object: buffer (or publish and apply,
/// if detached).
///
/// # Safety
///
/// The caller holds a counted reference.
#[inline(never)] // the buffer insert; kept out so owner-path callers inline `incref`
unsafe fn non_owner_incref(header: &RcHeader) {
    if !mutator::record(NonNull::from(header), 1, None) {
        // Detached: publish, then apply at once (an increment may always be
        // applied early).
        // SAFETY: reference held.
        unsafe { policy_kit::mark_published(header) };
        // SAFETY: reference held.
        unsafe { policy_kit::shared_incref_by(header, 1) };
    }
}

/// Non-owner decrement of a mortal object: buffer (or publish and defer
/// alone, if detached).
///
/// # Safety
///
/// The caller gives up a counted reference; `dealloc` frees the object.
#[inline(never)] // as `non_owner_incref`
unsafe fn non_owner_decref(header: NonNull<RcHeader>, dealloc: Dealloc) {
    // SAFETY: the caller's reference keeps the header alive.
    let h = unsafe { header.as_ref() };
    if !mutator::record(header, -1, Some(dealloc)) {
        // Detached: publish, then give the reference up one epoch later.
        // SAFETY: reference held.
        unsafe { policy_kit::mark_published(h) };
        // SAFETY: the caller's reference is given up one epoch later.
        unsafe { defer_decrement(header, 1, dealloc) };
    }
}

/// The owner's local count reached zero. A never-published object is freed now;
/// otherwise the owner's last reference is folded into the shared count and
/// its −1 deferred one epoch.
///
/// # Safety
///
/// Owner thread, right after its local count reached zero (`local` stored as -1).
#[cold]
#[inline(never)] // last owner reference of an object: frees or defers
unsafe fn deferred_zero_local(header: NonNull<RcHeader>, dealloc: Dealloc) {
    // SAFETY: forwarded from the caller.
    if unsafe { deferred_zero_local_release(header, dealloc) } {
        // SAFETY: private, count zero.
        unsafe { policy_kit::free(header, dealloc) };
    }
}

/// [`deferred_zero_local`] without the free: returns whether the object was
/// never published, so that the owner's reference was the last and the
/// caller frees it; otherwise merges and defers the owner's `-1`.
///
/// # Safety
///
/// As [`deferred_zero_local`].
unsafe fn deferred_zero_local_release(header: NonNull<RcHeader>, dealloc: Dealloc) -> bool {
    // SAFETY: the owner's (not yet applied) last reference keeps it alive.
    let h = unsafe { header.as_ref() };
    // Acquire: a non-owner sets `Published` before its first buffered
    // operation, and the reference it used reached this thread through
    // synchronisation after that, so a zero here means no other thread
    // ever counted this object.
    if h.shared_word().raw() == 0 {
        return true;
    }
    // `local` was already stored as -1 (no local references): add the
    // owner's reference back (+1) and give it up one epoch later.
    //
    // The merged count this leaves may be zero or negative: other attached
    // threads may still buffer increments for references they hold (an
    // increment is applied only at their next flush), while decrements of
    // the references those were copied from may already be applied. The
    // whole count is never below one here; it is spread over the header
    // and those buffers. Nothing is freed on this count: our reference is
    // given up one epoch later, after every increment buffered now
    // (module docs, "The invariant").
    // SAFETY: owner thread.
    unsafe { policy_kit::explicit_merge(h, 1) };
    // SAFETY: the owner's last reference, given up one epoch later.
    unsafe { defer_decrement(header, 1, dealloc) };
    false
}

/// The non-owner path of [`Deferred`]'s release: buffered or deferred, so
/// never known to be the last here.
///
/// # Safety
///
/// As [`non_owner_decref`].
unsafe fn non_owner_release(header: NonNull<RcHeader>, dealloc: Dealloc) -> bool {
    // SAFETY: forwarded from the caller.
    unsafe { non_owner_decref(header, dealloc) };
    false
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;
    use brisk_refcount::policy_kit::{SharedState, SharedWord};
    use brisk_refcount::Brc;
    use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
    use std::sync::Arc;

    struct Tracked(Arc<AtomicUsize>);

    impl Drop for Tracked {
        fn drop(&mut self) {
            self.0.fetch_add(1, SeqCst);
        }
    }

    fn tracked() -> (Brc<Tracked, Deferred>, Arc<AtomicUsize>) {
        let drops = Arc::new(AtomicUsize::new(0));
        (Brc::new_with_policy(Tracked(Arc::clone(&drops))), drops)
    }

    /// Runs safepoints (merge, flush, collection step) until `drops`
    /// reaches one, then keeps collecting until this thread's view of the
    /// domain is empty and checks that no second drop came. Other tests
    /// share the domain, so their pinned threads may delay the free a
    /// little, never forever.
    fn settle(drops: &AtomicUsize) {
        let mut steps = 0;
        while drops.load(SeqCst) == 0 {
            assert!(steps < 100_000, "object was not freed");
            crate::safepoint();
            std::thread::yield_now();
            steps += 1;
        }
        // Whatever is still deferred for the object (a double free would be
        // a second decrement reaching zero) runs within these steps unless
        // another test holds the epoch.
        crate::collect(1_000);
        assert_eq!(drops.load(SeqCst), 1, "object dropped more than once");
    }

    #[test]
    fn private_objects_are_freed_by_the_owner_at_once() {
        let (a, drops) = tracked();
        let b = a.clone();
        drop(a);
        drop(b);
        assert_eq!(drops.load(SeqCst), 1);
    }

    #[test]
    fn attached_non_owner_clones_do_not_touch_the_object() {
        let (a, drops) = tracked();
        let before = Brc::header(&a).shared_word();
        std::thread::scope(|s| {
            s.spawn(|| {
                let _m = crate::attach();
                for _ in 0..10_000 {
                    drop(a.clone());
                }
                // Only the first touch wrote the header: Published, count 0.
                assert_eq!(
                    Brc::header(&a).shared_word(),
                    SharedWord::new(0, SharedState::Published)
                );
                crate::safepoint();
            });
        });
        assert_eq!(before, SharedWord::new(0, SharedState::Private));
        assert_eq!(
            Brc::header(&a).shared_word(),
            SharedWord::new(0, SharedState::Published)
        );
        drop(a); // owner's last reference on a published object: deferred
        settle(&drops);
    }

    #[test]
    fn net_positive_deltas_are_applied_at_flush() {
        let (a, drops) = tracked();
        let kept = std::thread::scope(|s| {
            s.spawn(|| {
                let _m = crate::attach();
                let kept: Vec<_> = (0..3).map(|_| a.clone()).collect();
                assert_eq!(Brc::header(&a).shared_word().count(), 0);
                crate::safepoint();
                assert_eq!(Brc::header(&a).shared_word().count(), 3);
                kept
            })
            .join()
            .unwrap()
        });
        // The owner drops references counted in `shared`: the first takes
        // `local` to zero and merges, the rest go the non-owner way.
        drop(kept);
        assert_eq!(drops.load(SeqCst), 0);
        drop(a);
        settle(&drops);
    }

    #[test]
    fn object_dropped_last_by_a_non_owner_is_freed_after_an_epoch() {
        let (a, drops) = tracked();
        let b = a.clone();
        drop(a); // local 1 (b)
        std::thread::spawn(move || {
            let _m = crate::attach();
            drop(b); // buffered -1
            crate::safepoint(); // deferred, then queued to the owner
        })
        .join()
        .unwrap();
        // Applying the -1 finds Published count 0 and queues the object to
        // this thread; the merge defers the queue's -1 once more.
        settle(&drops);
    }

    #[test]
    fn detached_threads_still_count_correctly() {
        let (a, drops) = tracked();
        std::thread::scope(|s| {
            for _ in 0..2 {
                s.spawn(|| {
                    for _ in 0..100 {
                        drop(a.clone());
                    }
                });
            }
        });
        drop(a);
        settle(&drops);
    }

    #[test]
    fn blocking_flushes_and_reattaches() {
        let _m = crate::attach();
        let (a, drops) = tracked();
        let b = a.clone();
        let handle = std::thread::spawn(move || {
            let _m = crate::attach();
            let c = b.clone();
            crate::blocking(|| {
                // Flushed before unpinning: the +1 is applied.
                assert!(Brc::header(&c).shared_word().count() >= 1);
            });
            assert!(crate::is_attached());
            drop((b, c));
        });
        handle.join().unwrap();
        drop(a);
        drop(_m);
        settle(&drops);
    }
}
