//! Owner-proven handles: [`LocalBrc`], the owner path without the owner
//! check.
//!
//! # Why
//!
//! Every [`Brc`] clone and drop must first ask whether the calling thread
//! owns the object: one load of the header's owner id, one load of the
//! thread's id, a compare and a branch, which `Rc` does not make. On a loop
//! that clones and drops one handle that is a third more than `Rc`'s time
//! under `Biased`, and more under the epoch-deferred policy, which also
//! tests its hot entry (`papers/results/per_op_placement.md`), although the
//! count itself is the same load, add, store and sign test in both.
//!
//! The question has the same answer on every operation of a loop that runs
//! on the owner, so it can be asked once. This is the shape of
//! `hybrid_rc`'s thread-local `Rc` handle beside its shared `Arc`, and of
//! `trc`'s split between a local and a shared count; here the local handle
//! counts on the same `local` half as the owner's `Brc`, so converting
//! between the two costs nothing.
//!
//! # The proof, and what keeps it true
//!
//! [`owner_scope`] runs a closure with an [`OwnerScope`] borrowed for the
//! call. [`OwnerScope::claim`] makes the owner check once and returns a
//! [`LocalBrc`] that borrows the scope: it cannot leave the closure, and it
//! is neither `Send` nor `Sync`, so every operation on it runs on the thread
//! that made the check, while that thread is alive and registered. (A
//! handle that could outlive the call could sit in a thread-local whose
//! destructor runs after the thread has closed its merge queue, when other
//! threads merge its objects themselves; the borrow rules this out.) The
//! thread's own [`detach`](crate::thread::detach), which closes the queue
//! too, waits while a scope is open and runs when the outermost closes.
//!
//! Ownership can still be lost while a `LocalBrc` is held, and the handle
//! must notice. `local` holds the owner's references minus one, so while
//! the object is owned it is never negative; and every transition that
//! takes an object away from its owner while a reference is held leaves
//! it at [`DISOWNED`](crate::header::DISOWNED), a quarter of the range below zero:
//!
//! * the owner merging the object from its queue (`explicit_merge`);
//! * freezing (`RcHeader::forward_to`) and `RcHeader::make_immortal`;
//! * the owner's own last local reference (`merge_zero_local`): a held
//!   `LocalBrc` does not prevent it, since the owner may drop a reference
//!   whose count went to the shared half (one another thread cloned), and
//!   `local` then reaches zero under the handle; the merge's `DISOWNED` is
//!   what sends the handle's next clone or drop to the full path
//!   (`refcount/tests/loom_local_slow_paths.rs`);
//! * re-biasing to another thread (`policy_kit::adopt`) requires that no other
//!   thread holds a reference, which the handle is.
//!
//! No other thread writes `local` while a handle's thread may be using it:
//! the owner's queue merge runs on the handle's own thread, freezing with
//! the world stopped, and an exited owner has no handles left. So a handle
//! may add or subtract one *before* it looks, and test the sign of what it
//! stored, exactly as the owner's `Brc` does after its owner check:
//!
//! * clone: store `local + 1`; negative means an overflow or a header no
//!   longer owned;
//! * drop: store `local - 1`; negative means the last local reference, or a
//!   header no longer owned.
//!
//! On x86-64 each is a load, an `inc` or `dec`, a store and a `js`, with no
//! compare: `Rc`'s own clone and drop, less its overflow compare. A negative
//! result takes the slow path, which first puts `local` back and then runs
//! the policy's full operation through the handle's inner `Brc`, deciding
//! again from scratch.

use core::fmt;
use core::marker::PhantomData;
use core::mem::ManuallyDrop;
use core::ops::Deref;

use crate::biased;
use crate::brc::Brc;
use crate::header::leaves_owner_path;
use crate::policy::{Biased, RcPolicy};
use crate::stats;
use crate::sync::Ordering::Relaxed;

/// A policy whose owner counts in `local` exactly as [`Biased`] does, so
/// that a [`LocalBrc`] may take its owner path unchecked.
///
/// # Safety
///
/// The owner thread may count a reference it holds by storing `local + 1`,
/// and give one back by storing `local - 1`, with no other step whenever
/// the stored value is not negative (as [`Biased`]'s owner path does).
/// Every change that ends the calling thread's ownership while it holds a
/// reference leaves `local` at [`DISOWNED`](crate::header::DISOWNED), and no other thread stores to
/// `local` while the calling thread may hold a reference and be counting.
pub unsafe trait OwnerBiased: RcPolicy {}

// SAFETY: `biased::owner_incref` and `owner_decref` are the stores above;
// the transitions are listed in the module docs.
unsafe impl OwnerBiased for Biased {}

/// Proof that the calling thread is registered and stays so for the
/// lifetime of the borrow: see [`owner_scope`].
pub struct OwnerScope {
    // Not `Send` or `Sync`: the proof is about this thread.
    _this_thread: PhantomData<*const ()>,
}

/// Runs `f` with an [`OwnerScope`] for the calling thread; [`LocalBrc`]s
/// claimed through it live at most until `f` returns.
///
/// Registers the thread on first use, as [`Brc::new`] does. On a thread
/// that is exiting (inside a thread-local destructor that runs after the
/// thread's merge queue closed) every claim fails.
///
/// ```
/// use brisk_refcount::{local::owner_scope, Brc};
///
/// let list = Brc::new(vec![1, 2, 3]);
/// let sum: i32 = owner_scope(|scope| {
///     let local = scope.claim(&list).expect("this thread made `list`");
///     (0..100).map(|_| local.clone().iter().sum::<i32>()).sum()
/// });
/// assert_eq!(sum, 600);
/// ```
pub fn owner_scope<R>(f: impl FnOnce(&OwnerScope) -> R) -> R {
    let _ = crate::thread::current_tid_registered();
    // A detach asked for inside `f` waits for the scope to close
    // (`thread::detach`), so the thread stays the owner of every
    // `LocalBrc` made here for as long as it can be used.
    let _open = crate::thread::OwnerScopeOpen::enter();
    f(&OwnerScope {
        _this_thread: PhantomData,
    })
}

impl OwnerScope {
    /// A new reference to `brc`'s object as a [`LocalBrc`], if this thread
    /// owns it: an owner check, then a clone on the owner path. Nothing is
    /// counted when it does not.
    ///
    /// ```
    /// use brisk_refcount::{local::owner_scope, Brc};
    ///
    /// let mine = Brc::new(1);
    /// let theirs = std::thread::spawn(|| Brc::new(2)).join().unwrap();
    /// owner_scope(|scope| {
    ///     assert!(scope.claim(&mine).is_some());
    ///     assert!(scope.claim(&theirs).is_none()); // its owner has exited
    /// });
    /// ```
    pub fn claim<T, P: OwnerBiased>(&self, brc: &Brc<T, P>) -> Option<LocalBrc<'_, T, P>> {
        owned_here(brc).then(|| LocalBrc::proven(Brc::clone(brc)))
    }

    /// Turns `brc` into a [`LocalBrc`] without counting, if this thread
    /// owns its object; gives it back otherwise.
    ///
    /// ```
    /// use brisk_refcount::{local::owner_scope, Brc, LocalBrc};
    ///
    /// owner_scope(|scope| {
    ///     let local = scope.localize(Brc::new("s")).expect("made here");
    ///     assert_eq!(Brc::strong_count(&LocalBrc::into_brc(local)), 1);
    /// });
    /// ```
    pub fn localize<T, P: OwnerBiased>(
        &self,
        brc: Brc<T, P>,
    ) -> Result<LocalBrc<'_, T, P>, Brc<T, P>> {
        if owned_here(&brc) {
            Ok(LocalBrc::proven(brc))
        } else {
            Err(brc)
        }
    }
}

/// Whether the calling thread owns `brc`'s object.
fn owned_here<T, P: RcPolicy>(brc: &Brc<T, P>) -> bool {
    biased::is_owned_by_current_thread(Brc::header(brc))
}

/// A [`Brc`] proven to be on its owner thread: clone and drop cost a load,
/// an add, a store and a sign test. See the [module docs](self).
///
/// Made by [`OwnerScope::claim`] or [`OwnerScope::localize`]; turned back
/// into a `Brc` for free by [`LocalBrc::into_brc`].
///
/// It cannot outlive its scope:
///
/// ```compile_fail
/// use brisk_refcount::{owner_scope, Brc};
/// let a = Brc::new(1);
/// let escaped = owner_scope(|scope| scope.claim(&a).unwrap());
/// ```
///
/// nor leave its thread:
///
/// ```compile_fail
/// use brisk_refcount::{owner_scope, Brc};
/// let a = Brc::new(1);
/// owner_scope(|scope| {
///     let local = scope.claim(&a).unwrap();
///     std::thread::scope(|s| {
///         s.spawn(move || drop(local));
///     });
/// });
/// ```
pub struct LocalBrc<'scope, T, P: OwnerBiased = Biased> {
    /// The reference, counted as any `Brc`'s; dropped through `Brc` only on
    /// the slow path.
    brc: ManuallyDrop<Brc<T, P>>,
    /// Ties the handle to its scope, and so to this thread (the scope is
    /// neither `Send` nor `Sync`).
    _scope: PhantomData<&'scope OwnerScope>,
}

impl<'scope, T, P: OwnerBiased> LocalBrc<'scope, T, P> {
    /// Wraps a `Brc` whose object the calling thread owns (checked by the
    /// caller: [`owned_here`], or a clone's sign test).
    #[inline(always)]
    fn proven(brc: Brc<T, P>) -> Self {
        LocalBrc {
            brc: ManuallyDrop::new(brc),
            _scope: PhantomData,
        }
    }

    /// The handle as a plain [`Brc`], which may leave the scope and the
    /// thread. No count changes.
    pub fn into_brc(this: Self) -> Brc<T, P> {
        let mut this = ManuallyDrop::new(this);
        // SAFETY: `this` is never used or dropped again.
        unsafe { ManuallyDrop::take(&mut this.brc) }
    }

    /// The `Brc` this handle wraps, for the `Brc` API (`strong_count`,
    /// `ptr_eq`, `header`).
    pub fn as_brc(this: &Self) -> &Brc<T, P> {
        &this.brc
    }
}

/// A `Brc` from a header this thread counted: the clone's result.
#[inline(always)]
fn same_object<T, P: RcPolicy>(brc: &Brc<T, P>) -> Brc<T, P> {
    // SAFETY: the caller has just counted one more reference to the object
    // `brc` heads, which the new handle takes over.
    unsafe { Brc::from_header(Brc::header_ptr(brc)) }
}

impl<T, P: OwnerBiased> Clone for LocalBrc<'_, T, P> {
    #[inline]
    fn clone(&self) -> Self {
        // Only this thread stores `local` while it may count on it (module
        // docs), so the handle may step before it looks.
        let stored = Brc::header(&self.brc).step_local(1);
        if leaves_owner_path(stored) {
            clone_slow(&self.brc, stored);
        } else {
            stats::record_owner_op();
        }
        // Either way one more reference is counted now.
        LocalBrc::proven(same_object(&self.brc))
    }
}

/// [`LocalBrc`]'s clone off its fast path: puts back the `local` its
/// increment stored, then counts the reference with the policy's full
/// increment. The caller makes the handle, on both paths alike, so the
/// fast path carries no result from here.
#[cold]
#[inline(never)] // a merged, frozen or overflowing object; rare on a hot loop
fn clone_slow<T, P: RcPolicy>(brc: &Brc<T, P>, stored: i32) {
    // Relaxed: this thread's own store is undone; no other thread writes
    // `local` meanwhile (module docs).
    Brc::header(brc)
        .local
        .store(stored.wrapping_sub(1), Relaxed);
    // SAFETY: `brc` is a counted reference; the caller takes over the one
    // counted here.
    unsafe { P::incref(Brc::header(brc)) }
}

impl<T, P: OwnerBiased> Drop for LocalBrc<'_, T, P> {
    #[inline]
    fn drop(&mut self) {
        // As in `clone`.
        let stored = Brc::header(&self.brc).step_local(-1);
        if stored < 0 {
            // SAFETY: `self.brc` is not used again.
            unsafe { drop_slow(&mut self.brc, stored) }
        } else {
            stats::record_owner_op();
        }
    }
}

/// [`LocalBrc`]'s drop off its fast path: puts back the `local` its
/// decrement stored, then runs the policy's full decrement, which frees or
/// merges at the last local reference.
///
/// # Safety
///
/// `brc` is not used again.
#[cold]
#[inline(never)] // the last local reference, or a merged or frozen object
unsafe fn drop_slow<T, P: RcPolicy>(brc: &mut ManuallyDrop<Brc<T, P>>, stored: i32) {
    // Relaxed: as in `clone_slow`.
    Brc::header(brc)
        .local
        .store(stored.wrapping_add(1), Relaxed);
    // SAFETY: forwarded from the caller.
    unsafe { ManuallyDrop::drop(brc) }
}

impl<T, P: OwnerBiased> Deref for LocalBrc<'_, T, P> {
    type Target = T;

    #[inline(always)]
    fn deref(&self) -> &T {
        &self.brc
    }
}

impl<T: fmt::Debug, P: OwnerBiased> fmt::Debug for LocalBrc<'_, T, P> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&**self, f)
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    //! The fast paths against the header, and each way off them: a merge
    //! under a held handle, the last local reference, an overflowing count.

    use super::*;
    use crate::header::{SharedState, DISOWNED};
    use crate::safepoint;
    use std::sync::atomic::Ordering::SeqCst;

    use crate::test_support::tracked;

    #[test]
    fn clone_and_drop_count_on_local_and_the_last_frees() {
        let (a, drops) = tracked();
        owner_scope(|scope| {
            let local = scope.localize(a).ok().expect("made here");
            let copies: Vec<_> = (0..5).map(|_| local.clone()).collect();
            let header = Brc::header(LocalBrc::as_brc(&local));
            assert_eq!(header.local_count(), 6);
            assert_eq!(
                header.shared_word().raw(),
                0,
                "the shared half is untouched"
            );
            drop(copies);
            assert_eq!(header.local_count(), 1);
            assert_eq!(drops.load(SeqCst), 0);
            drop(local);
            assert_eq!(drops.load(SeqCst), 1);
        });
    }

    #[test]
    fn claim_counts_and_into_brc_keeps_the_count() {
        let (a, drops) = tracked();
        let back = owner_scope(|scope| {
            let local = scope.claim(&a).expect("made here");
            assert_eq!(Brc::strong_count(&a), 2);
            LocalBrc::into_brc(local)
        });
        assert_eq!(Brc::strong_count(&a), 2);
        drop(back);
        drop(a);
        assert_eq!(drops.load(SeqCst), 1);
    }

    #[test]
    fn an_object_owned_elsewhere_is_refused() {
        let (release, wait) = std::sync::mpsc::channel::<()>();
        let (send, receive) = std::sync::mpsc::channel();
        let maker = std::thread::spawn(move || {
            let own = Brc::new(7u32);
            send.send(own.clone()).unwrap();
            wait.recv().unwrap();
            drop(own);
        });
        let theirs = receive.recv().unwrap();
        owner_scope(|scope| {
            assert!(scope.claim(&theirs).is_none());
            let theirs = scope.localize(theirs).expect_err("refused");
            assert_eq!(*theirs, 7);
        });
        release.send(()).unwrap();
        maker.join().unwrap();
        safepoint();
    }

    #[test]
    fn a_handle_held_across_a_queue_merge_counts_on_the_shared_half() {
        let (a, drops) = tracked();
        owner_scope(|scope| {
            let local = scope.localize(a).ok().expect("made here");
            let other = LocalBrc::into_brc(local.clone());
            // The other thread's drop finds the shared count at zero and
            // queues the object back here; the merge moves `local` (2:
            // `local` and `other`) into the shared half, less the queue's
            // reference, and gives the object up.
            std::thread::spawn(move || drop(other)).join().unwrap();
            assert_eq!(safepoint(), 1);
            let header = Brc::header(LocalBrc::as_brc(&local));
            assert_eq!(header.local_count(), 0);
            assert_eq!(header.shared_word().state(), SharedState::Merged);
            assert_eq!(header.shared_word().count(), 1);
            // Off the fast path both ways: `local` is disowned, and each
            // slow path puts it back.
            let copy = local.clone();
            assert_eq!(header.shared_word().count(), 2);
            assert_eq!(header.local.load(Relaxed), DISOWNED);
            drop(copy);
            assert_eq!(header.shared_word().count(), 1);
            assert_eq!(header.local.load(Relaxed), DISOWNED);
            assert_eq!(drops.load(SeqCst), 0);
            drop(local);
        });
        assert_eq!(drops.load(SeqCst), 1);
    }

    #[test]
    fn the_last_local_reference_of_a_shared_object_merges_it() {
        let (a, drops) = tracked();
        let lent = a.clone();
        let (give_back, given_back) = std::sync::mpsc::channel();
        let (go, wait) = std::sync::mpsc::channel::<()>();
        // Another thread keeps a reference counted on the shared half and
        // returns the one it was lent (counted on `local`).
        let holder = std::thread::spawn(move || {
            let mine = lent.clone();
            give_back.send(lent).unwrap();
            wait.recv().unwrap();
            drop(mine);
        });
        let lent = given_back.recv().unwrap();
        owner_scope(|scope| {
            let local = scope.localize(a).ok().expect("made here");
            drop(lent);
            let header = Brc::header(LocalBrc::as_brc(&local));
            assert_eq!(header.local_count(), 1);
            assert_eq!(header.shared_word().count(), 1);
            // The last local reference: off the fast path, to the merge.
            drop(local);
        });
        assert_eq!(drops.load(SeqCst), 0, "the holder's reference is live");
        go.send(()).unwrap();
        holder.join().unwrap();
        assert_eq!(drops.load(SeqCst), 1);
    }

    #[test]
    fn an_overflowing_local_count_spills_to_the_shared_half() {
        use crate::header::LOCAL_MAX;
        let (a, drops) = tracked();
        owner_scope(|scope| {
            let local = scope.localize(a).ok().expect("made here");
            let header = Brc::header(LocalBrc::as_brc(&local));
            // Pretend all but one of the most references `local` counts
            // are held, as `biased::tests` does, and take the count over.
            header.local.store(LOCAL_MAX - 1, Relaxed);
            let near = local.clone();
            assert_eq!(header.local.load(Relaxed), LOCAL_MAX);
            let over = local.clone();
            assert!((0..LOCAL_MAX).contains(&header.local.load(Relaxed)));
            assert!(header.shared_word().count() > 0);
            drop((near, over));
            // Give back the pretended references as the spill left them.
            let spilled = header.shared_word().count();
            header.shared.store(
                crate::header::SharedWord::new(0, SharedState::Private).raw(),
                Relaxed,
            );
            header.local.store(0, Relaxed);
            assert!(spilled > 0);
            drop(local);
        });
        assert_eq!(drops.load(SeqCst), 1);
    }
}
