//! The biased protocol: owner fast path, shared slow path, queue, merge.
//!
//! Its functions reach users through two modules: [`crate::embed`] for an
//! object model, [`crate::policy_kit`] for a counting policy.
//!
//! # Owner path
//!
//! Every object is *biased* to the thread that made it. That thread changes
//! `local` with a Relaxed load and a Relaxed store — no read-modify-write, no
//! fence, the same instructions as `Rc` — and tests the sign of what it
//! stored, as `Rc` tests its count against zero (`local` holds the owner's
//! references minus one; see [`crate::header`]). The owner check that picks
//! this path is one header load, one TLS load and a compare. When the
//! owner's last local reference goes (`local` turns negative) the owner
//! calls [`merge_zero_local`]: if `shared` is exactly zero the
//! object is private and dead, and the owner frees it on the spot; otherwise
//! other threads hold or held references, so the owner gives the object up —
//! `tid = 0`, state `Merged` — and it is freed when the shared count reaches
//! zero (CPython: `_Py_MergeZeroLocalRefcount`). Either way `local` is left
//! at [`DISOWNED`], as on every header no thread counts on locally.
//!
//! # Shared path
//!
//! Any other thread increments `shared` with a Relaxed `fetch_add`. It
//! decrements with a CAS loop (CPython: `_Py_DecRefShared`), because one
//! case must not subtract: when the shared count is zero in state `Private`
//! or `Published`, the remaining references may all be counted in the owner's
//! `local`, and subtracting would leave a total the owner cannot see reach
//! zero. The non-owner instead sets `Queued` and pushes the object onto the
//! owner's merge queue; the queue holds the reference the non-owner gave up.
//! In state `Merged` the count is exact, and the thread that takes it to zero
//! frees.
//!
//! # Explicit merge
//!
//! At a safepoint the owner merges each queued object ([`merge_queued`]):
//! store [`DISOWNED`] in `local` and zero in `tid`, and CAS `shared` to
//! `(count + local − 1) << 2 | Merged`. The −1 is the queue's reference.
//! Whoever makes the count zero frees.
//!
//! # Dead owner
//!
//! Ids are never reused. A non-owner whose push finds the owner gone merges
//! the object itself: the owner's `local` can no longer change, and the
//! queue lock (or the registry lock) made its final value visible.
//!
//! # Local overflow
//!
//! An owner increment that takes `local` past `i32::MAX` (it reads negative)
//! moves half of the count into `shared` (`spill_local`), so the count never
//! stays in the negative values that mean "not counted locally".
//!
//! # Weak references
//!
//! [`try_incref`] adds a reference without holding one (a `Weak`'s
//! upgrade): an owner increment while the owner holds a local reference,
//! otherwise a CAS on `shared` that fails on a merged count of zero. It
//! needs the object published first ([`mark_published`]), so that every
//! free goes through a CAS on `shared` it races; its doc argues each state.
//!
//! # Why an object on a queue is never freed early
//!
//! From the `Queued` transition until its merge, the queue's reference is
//! counted in `local + shared`. Decrements by other threads may take the
//! shared count negative, but never below what the owner's `local` still
//! covers, so the total stays ≥ 1 until the merge subtracts the queue's
//! reference. `refcount/tests/loom_queue.rs` checks it under loom.

use core::ptr::NonNull;

use crate::header::{
    leaves_owner_path, local_refs, stored_local, RcHeader, SharedState, SharedWord, DISOWNED,
    FORWARDED, LOCAL_MAX, MAX_SHARED_COUNT, SHARED_ONE, UNOWNED,
};
use crate::queue::{Dealloc, MergeFn, Queued};
use crate::stats;
use crate::sync::{
    acquire, event,
    Ordering::{AcqRel, Acquire, Relaxed, Release},
};
use crate::thread;

/// Whether the calling thread owns the object. One header load, one TLS load.
#[inline(always)]
pub fn is_owned_by_current_thread(header: &RcHeader) -> bool {
    // Relaxed: only the owner ever stores its own id, and only the owner
    // overwrites it (with 0) while alive, so a thread reads its own id here
    // exactly when it is the owner.
    header.tid.load(Relaxed) == thread::current_tid()
}

/// A new header with one reference, owned by the calling thread.
///
/// Registers the thread on first use, and is a safepoint: if other threads
/// have queued objects to this thread, they are merged (and possibly freed)
/// first. On a thread that is already exiting the header starts out merged.
#[inline]
pub fn new_header() -> RcHeader {
    let _ = thread::poll_merge_queue();
    new_header_unpolled()
}

/// [`new_header`] without the safepoint: registers the thread on first use
/// but leaves the merge queue alone. For an embedding runtime whose
/// mutators reach safepoints of their own (an interpreter's eval breaker),
/// where polling the queue at every allocation would only repeat them.
#[inline]
pub fn new_header_unpolled() -> RcHeader {
    let tid = thread::current_tid_registered();
    if tid == UNOWNED {
        RcHeader::new_unowned()
    } else {
        RcHeader::with_owner(tid)
    }
}

/// Adds a reference.
///
/// # Safety
///
/// `header` belongs to a live object on which the caller holds a counted
/// reference (the new reference is copied from it).
#[inline]
pub unsafe fn incref(header: &RcHeader) {
    // SAFETY: forwarded from the caller; both functions count a reference
    // the caller holds, from any thread.
    unsafe { incref_with(header, forwarded_incref, non_owner_incref) }
}

/// The increment every owner-biased policy shares, with the policy's own
/// paths for a forwarded header (`forwarded`) and for a header this thread
/// does not own (`off_owner`): the shared count here, a coalescing buffer
/// under the epoch-deferred policy.
///
/// The owner's increment is the one straight line: on a header this thread
/// owns, `local` is loaded, stored plus one, and the sign of the result is
/// the only test (an overflow, out of line). Every other case branches away
/// to one inlined, cold-laid-out branch that tells the markers in `tid`
/// (immortal, forwarded) from another thread's object, with no second load.
/// An earlier layout tested the markers first and left them the
/// fall-through, which cost the owner's clone and drop a taken branch each;
/// the next one tested a range of `local` before the owner
/// (`papers/design.md`, section 6).
///
/// # Safety
///
/// As [`incref`]; `forwarded` and `off_owner` count a reference that their
/// caller holds, from any thread.
#[inline(always)]
pub unsafe fn incref_with(
    header: &RcHeader,
    forwarded: unsafe fn(&RcHeader),
    off_owner: unsafe fn(&RcHeader),
) {
    // Relaxed: as in `is_owned_by_current_thread`; elsewhere a marker is
    // final once set, so a marker read here is the header's last word.
    let tid = header.tid.load(Relaxed);
    if tid == thread::current_tid() {
        // SAFETY: owner thread; the caller holds a reference.
        unsafe { owner_incref(header) }
    } else {
        // Keep the owner path the fall-through.
        core::hint::cold_path();
        // SAFETY: forwarded from the caller; `tid` was just loaded here.
        unsafe { incref_other(header, tid, forwarded, off_owner) }
    }
}

/// Every increment but the owner's: a marker, or another thread's object.
/// Inlined, so that an immortal object still costs no call; laid out away
/// from the owner's line by the caller's `cold_path`.
///
/// # Safety
///
/// As [`incref_with`]; `tid` is the value the caller just loaded, and it
/// is not this thread's id.
#[inline(always)]
unsafe fn incref_other(
    header: &RcHeader,
    tid: u32,
    forwarded: unsafe fn(&RcHeader),
    off_owner: unsafe fn(&RcHeader),
) {
    if tid >= FORWARDED {
        // Nothing to count, unless the header forwards.
        if tid == FORWARDED {
            // SAFETY: the caller holds a reference.
            unsafe { forwarded(header) }
        }
    } else {
        // SAFETY: the caller holds a reference.
        unsafe { off_owner(header) }
    }
}

/// [`incref`] off the owner thread.
///
/// # Safety
///
/// The caller holds a reference.
#[cold]
#[inline(never)] // an atomic anyway; out of line, the owner path inlines small
unsafe fn non_owner_incref(header: &RcHeader) {
    // SAFETY: forwarded from the caller.
    unsafe { shared_incref(header) }
}

/// The increment of a header whose `tid` the caller just read as
/// [`FORWARDED`] (a frozen component's member): counted on its target, with
/// an atomic, from any thread.
///
/// # Safety
///
/// The caller holds a reference.
#[inline(never)] // frozen members only; keeps the immortal test small where it is inlined
pub(crate) unsafe fn forwarded_incref(header: &RcHeader) {
    if let Some(target) = header.forwarded_target() {
        // SAFETY: a forwarded header's target outlives its references.
        unsafe { shared_incref_by(target.as_ref(), 1) };
    }
}

/// The decrement of a header whose `tid` the caller just read as
/// [`FORWARDED`]: see [`forwarded_incref`]. A queued target is merged with
/// [`merge_queued`].
///
/// # Safety
///
/// The caller gives up a reference; `dealloc` frees the object model's
/// objects.
#[inline(never)] // as `forwarded_incref`
pub(crate) unsafe fn forwarded_decref(header: NonNull<RcHeader>, dealloc: Dealloc) {
    // SAFETY: the caller's reference keeps the header alive.
    if let Some(target) = unsafe { header.as_ref() }.forwarded_target() {
        // SAFETY: the reference was counted on the target.
        unsafe { shared_decref_by(target, 1, dealloc, merge_queued) };
    }
}

/// Drops a reference, freeing the object with `dealloc` if it was the last.
///
/// # Safety
///
/// The caller gives up one counted reference to a live object whose header is
/// `header`, and `dealloc` frees exactly that object. The object may be freed
/// before this returns (on this thread), or later on its owner's thread.
#[inline]
pub unsafe fn decref(header: NonNull<RcHeader>, dealloc: Dealloc) {
    // SAFETY: forwarded from the caller; the biased paths.
    unsafe {
        decref_with(
            header,
            dealloc,
            forwarded_decref,
            merge_zero_local,
            non_owner_decref,
        )
    }
}

/// The decrement every owner-biased policy shares; see [`incref_with`].
/// `at_zero` reconciles the owner's last local reference
/// ([`merge_zero_local`], or the policy's own).
///
/// As in [`incref_with`], the owner's decrement is the straight line (on a
/// header this thread owns, `local` is stored minus one, and `at_zero` is
/// called out of line when the result is negative: that was the last), and
/// markers and other threads branch away.
///
/// # Safety
///
/// As [`decref`]; `forwarded` and `off_owner` give up a reference from any
/// thread, and `at_zero` upholds [`merge_zero_local`]'s contract.
#[inline(always)]
pub unsafe fn decref_with(
    header: NonNull<RcHeader>,
    dealloc: Dealloc,
    forwarded: unsafe fn(NonNull<RcHeader>, Dealloc),
    at_zero: unsafe fn(NonNull<RcHeader>, Dealloc),
    off_owner: unsafe fn(NonNull<RcHeader>, Dealloc),
) {
    // SAFETY: the caller's reference keeps the header alive for these loads.
    let h = unsafe { header.as_ref() };
    // Relaxed: as in `incref_with`.
    let tid = h.tid.load(Relaxed);
    if tid == thread::current_tid() {
        // SAFETY: owner thread; the caller gives up a reference; `at_zero`
        // as the caller's.
        unsafe { owner_decref_with(header, dealloc, at_zero) }
    } else {
        // Keep the owner path the fall-through.
        core::hint::cold_path();
        if tid == FORWARDED {
            // SAFETY: the caller gives up a reference.
            unsafe { forwarded(header, dealloc) }
        } else if tid < FORWARDED {
            // SAFETY: the caller gives up a reference.
            unsafe { off_owner(header, dealloc) }
        }
        // Otherwise immortal: nothing to count.
    }
}

/// [`decref`] off the owner thread.
///
/// # Safety
///
/// As [`decref`].
#[cold]
#[inline(never)] // as `non_owner_incref`
unsafe fn non_owner_decref(header: NonNull<RcHeader>, dealloc: Dealloc) {
    // SAFETY: forwarded from the caller; queued objects are merged with the
    // biased merge.
    unsafe { shared_decref(header, dealloc, merge_queued) }
}

/// Owner increment: a Relaxed load and store of `local`, and a test of the
/// stored value's sign (an overflow spills, out of line).
///
/// # Safety
///
/// Called on the owner thread, with a counted reference held.
#[inline(always)]
pub unsafe fn owner_incref(header: &RcHeader) {
    stats::record_owner_op();
    let stored = header.step_local(1);
    if leaves_owner_path(stored) {
        spill_local(header, stored);
    }
}

/// Owner decrement: a Relaxed load and store of `local`, then
/// [`merge_zero_local`] if that was the last local reference.
///
/// # Safety
///
/// Called on the owner thread, giving up a counted reference; `dealloc` frees
/// this object.
#[inline(always)]
pub unsafe fn owner_decref(header: NonNull<RcHeader>, dealloc: Dealloc) {
    // SAFETY: forwarded from the caller.
    unsafe { owner_decref_with(header, dealloc, merge_zero_local) }
}

/// [`owner_decref`], calling `at_zero` when the owner's last local
/// reference goes: [`merge_zero_local`], or, for a policy that must
/// reconcile that last reference differently (the epoch-deferred policy
/// defers it), its own.
///
/// # Safety
///
/// As [`owner_decref`]; `at_zero` upholds [`merge_zero_local`]'s contract.
#[inline(always)]
unsafe fn owner_decref_with(
    header: NonNull<RcHeader>,
    dealloc: Dealloc,
    at_zero: unsafe fn(NonNull<RcHeader>, Dealloc),
) {
    stats::record_owner_op();
    // SAFETY: the caller's reference keeps the header alive.
    let h = unsafe { header.as_ref() };
    // An owned `local` is never below zero before this step, so a negative
    // value here is -1: the owner's last local reference is gone.
    if h.step_local(-1) < 0 {
        // SAFETY: owner thread, local count now zero.
        unsafe { at_zero(header, dealloc) }
    }
}

/// The owner's local count reached zero: free the object if nobody else ever
/// counted a reference, otherwise give it up to the shared count.
///
/// # Safety
///
/// Called on the owner thread right after its last local reference went
/// (`local` was stored as -1).
#[cold]
#[inline(never)] // last owner reference: frees or merges, never on a hot loop
pub unsafe fn merge_zero_local(header: NonNull<RcHeader>, dealloc: Dealloc) {
    // SAFETY: forwarded from the caller; the object is alive until freed.
    if unsafe { zero_local_is_last(header.as_ref()) } {
        // SAFETY: no reference is left anywhere.
        unsafe { free(header, dealloc) };
    }
}

/// [`merge_zero_local`] without the free: returns whether no reference is
/// left (the caller frees, or takes the value out), after giving the object
/// up to the shared count if other threads counted it.
///
/// # Safety
///
/// As [`merge_zero_local`].
#[inline(always)]
unsafe fn zero_local_is_last(h: &RcHeader) -> bool {
    // Acquire: pairs with the Release of every non-owner decrement, so their
    // uses of the object happen-before the free below.
    let shared = h.shared.load(Acquire);
    if shared == 0 {
        // Private, shared count zero: `local` was the whole count, and no
        // other thread holds or can make a reference.
        return true;
    }
    // Relaxed: from here on the object has no owner; the CAS below publishes
    // that along with the state. A handle on this thread that still counts
    // on `local` (a `LocalBrc` whose references the owner's count no longer
    // covers) finds `DISOWNED` there and takes the shared path.
    h.local.store(DISOWNED, Relaxed);
    h.tid.store(UNOWNED, Relaxed);
    let mut current = shared;
    let merged = loop {
        let new = SharedWord::from_raw(current).with_state(SharedState::Merged);
        // AcqRel: Release publishes this thread's uses of the object to the
        // thread that later frees it; Acquire pairs with earlier non-owner
        // decrements for the free below.
        match h
            .shared
            .compare_exchange_weak(current, new.raw(), AcqRel, Relaxed)
        {
            Ok(_) => break new,
            Err(actual) => current = actual,
        }
    };
    debug_assert!(merged.count() >= 0, "merged count negative: {merged:?}");
    merged.count() == 0
}

/// Gives up a reference like [`decref`], except that when it was the last
/// one *and this thread can tell*, nothing is freed and `true` is returned:
/// the caller owns the object now and frees it itself, typically after
/// moving its value out (`Brc::into_inner`).
///
/// The count decides, so of several threads releasing the last references
/// exactly one gets `true` — on the owner thread, and from any thread once
/// the object is merged. A non-owner's last release of an unmerged object
/// cannot know the owner's count: it queues the object to the owner, whose
/// merge frees it with `dealloc`, and returns `false`.
///
/// # Safety
///
/// As [`decref`].
#[inline]
pub unsafe fn release(header: NonNull<RcHeader>, dealloc: Dealloc) -> bool {
    // SAFETY: forwarded from the caller; the biased paths.
    unsafe {
        release_with(
            header,
            dealloc,
            forwarded_decref,
            zero_local_release,
            non_owner_release,
        )
    }
}

/// The [`release`] every owner-biased policy shares, with the policy's own
/// paths, as [`decref_with`]: `at_zero` after the owner's last local
/// reference and `off_owner` on another thread's object, each returning
/// whether the caller now owns the object.
///
/// # Safety
///
/// As [`decref_with`]; `at_zero` and `off_owner` free nothing when they
/// return `true`.
#[inline]
pub unsafe fn release_with(
    header: NonNull<RcHeader>,
    dealloc: Dealloc,
    forwarded: unsafe fn(NonNull<RcHeader>, Dealloc),
    at_zero: unsafe fn(NonNull<RcHeader>, Dealloc) -> bool,
    off_owner: unsafe fn(NonNull<RcHeader>, Dealloc) -> bool,
) -> bool {
    // SAFETY: the caller's reference keeps the header alive for these loads.
    let h = unsafe { header.as_ref() };
    // Relaxed: as in `incref_with`.
    let tid = h.tid.load(Relaxed);
    if tid == thread::current_tid() {
        stats::record_owner_op();
        // SAFETY: owner thread, giving up a reference; as the caller's.
        h.step_local(-1) < 0 && unsafe { at_zero(header, dealloc) }
    } else if tid == FORWARDED {
        // SAFETY: the caller gives up a reference; a forwarded member is
        // never freed by counting.
        unsafe { forwarded(header, dealloc) };
        false
    } else {
        // SAFETY: the caller gives up a reference. An immortal header
        // counts nothing.
        tid < FORWARDED && unsafe { off_owner(header, dealloc) }
    }
}

/// The biased `at_zero` of [`release`]: [`merge_zero_local`] without the
/// free.
///
/// # Safety
///
/// As [`merge_zero_local`].
unsafe fn zero_local_release(header: NonNull<RcHeader>, _dealloc: Dealloc) -> bool {
    // SAFETY: forwarded from the caller.
    unsafe { zero_local_is_last(header.as_ref()) }
}

/// The biased `off_owner` of [`release`]: a shared decrement that reports
/// the last reference instead of freeing.
///
/// # Safety
///
/// As [`decref`], off the owner thread, on a mortal header.
unsafe fn non_owner_release(header: NonNull<RcHeader>, dealloc: Dealloc) -> bool {
    // SAFETY: forwarded from the caller.
    unsafe { shared_release_by(header, 1, dealloc, merge_queued) }
}

/// Spills half of the owner's count into `shared` (owner thread), after
/// an increment stored `stored`, one past [`LOCAL_MAX`] (wrapped negative
/// outside loom).
#[cold]
#[inline(never)] // 2 billion increments apart
fn spill_local(header: &RcHeader, stored: i32) {
    // The references now held: the count before the increment, plus one.
    let refs = i64::from(local_refs(stored.wrapping_sub(1))) + 1;
    let moved = refs / 2;
    // Relaxed: the owner holds a reference, so the object stays alive; the
    // total `local + shared` is unchanged once the store below lands, and only
    // the owner reads both halves together.
    let old = header.shared.fetch_add(moved * SHARED_ONE, Relaxed);
    check_shared_bound(old);
    // Relaxed: as in `owner_incref`.
    header
        .local
        .store(stored_local((refs - moved) as u32), Relaxed);
    event!(
        tracing::trace!(target: "brisk::refcount", moved, "local count overflow: spilled into shared")
    );
}

/// Non-owner increment: one Relaxed `fetch_add` on `shared`.
///
/// # Safety
///
/// The caller holds a counted reference.
#[inline]
pub unsafe fn shared_incref(header: &RcHeader) {
    // SAFETY: forwarded from the caller.
    unsafe { shared_incref_by(header, 1) }
}

/// Adds `n` references to the shared count with one `fetch_add` (a flushed
/// batch of coalesced increments).
///
/// # Safety
///
/// The caller holds (or has been handed) a counted reference that keeps the
/// object alive during the call.
#[inline]
pub unsafe fn shared_incref_by(header: &RcHeader, n: u32) {
    if header.is_immortal() {
        if let Some(target) = header.forward_target() {
            // SAFETY: a forwarded header's target outlives its references.
            unsafe { shared_incref_by(target.as_ref(), n) };
        }
        return;
    }
    stats::record_shared_op();
    // Relaxed: the caller already holds a reference, so no thread can free the
    // object while we add (the argument of `Arc::clone`).
    let old = header.shared.fetch_add(i64::from(n) * SHARED_ONE, Relaxed);
    check_shared_bound(old);
}

/// Aborts if the shared word `old`, read by an increment, already counted
/// [`MAX_SHARED_COUNT`] references or more: the process leaked that many, and
/// counting on would wrap into a free of a live object. One compare and a
/// branch never taken, after the increment, as in `Arc::clone`.
#[inline(always)]
pub(crate) fn check_shared_bound(old: i64) {
    if old >= MAX_SHARED_COUNT * SHARED_ONE {
        shared_count_overflow();
    }
}

#[cold]
#[inline(never)] // never taken
fn shared_count_overflow() -> ! {
    eprintln!("brisk: a shared reference count passed 2^60; aborting");
    std::process::abort()
}

/// Sets `Published` on a `Private` object (the first non-owner touch under
/// the epoch-deferred policy); does nothing in any other state. At most one
/// successful RMW per object for its whole life.
///
/// # Safety
///
/// The caller holds a counted reference.
#[inline]
pub unsafe fn mark_published(header: &RcHeader) {
    // Relaxed: a fast check; states only move upward, so once this reads
    // anything but Private nothing is left to do.
    let mut current = header.shared.load(Relaxed);
    while SharedWord::from_raw(current).state() == SharedState::Private {
        let new = SharedWord::from_raw(current).with_state(SharedState::Published);
        // Release: the owner's Acquire load in its zero-local check must see
        // this bit before it could free; the reference the caller holds
        // reached the owner only through synchronisation that follows this.
        match header
            .shared
            .compare_exchange_weak(current, new.raw(), Release, Relaxed)
        {
            Ok(_) => return,
            Err(actual) => current = actual,
        }
    }
}

/// Adds a reference to an object the caller holds **no** counted reference
/// to, if it is still alive: how a weak reference is upgraded. Returns
/// whether it added one. CPython's `_Py_TryIncref` and
/// `_Py_TryIncRefShared` (`Objects/object.c`), whose `MAYBE_WEAKREF` state
/// is this crate's `Published`.
///
/// * On the owner thread with `local >= 0`, the owner itself holds a local
///   reference, so the object is alive: an owner increment of `local`.
/// * Otherwise a CAS loop on `shared` that gives up on a `Merged` word whose
///   count is zero or less: the object is dead (or, under the epoch-deferred
///   policy only, its applied count is not positive while increments sit in
///   other threads' buffers, which only waiting could tell from dead; the
///   upgrade then fails although the object lives, never the reverse).
///
/// Why each state of the shared word is safe to count up:
///
/// * `Private` does not occur: the caller's precondition has the object
///   published. (On a `Private` object the owner's last decrement frees on
///   the spot when `shared` is exactly zero, without a CAS an upgrader
///   could race.)
/// * `Published`, `Queued`: the owner's `local` (or the queue's reference,
///   counted there) keeps the object alive, and every path that could free
///   it, the owner's [`merge_zero_local`], the queue's merge and the
///   dead-owner merge, goes through a CAS on `shared` that reads our
///   increment, or that we read as `Merged`.
/// * `Merged` with a count of one or more: alive, and the decrement that
///   frees needs the count to be exactly what it subtracts, which our
///   increment changes.
///
/// An immortal header needs no count (`true`); a forwarded one is tried on
/// its target.
///
/// # Safety
///
/// `header` stays allocated for the call (a weak count keeps the memory,
/// not the value), and the object was published ([`mark_published`]) before
/// any thread without a counted reference could reach it.
pub unsafe fn try_incref(header: &RcHeader) -> bool {
    // Relaxed: as in `is_owned_by_current_thread`: a thread reads its own id
    // only if it is the owner.
    let tid = header.tid.load(Relaxed);
    if tid == thread::current_tid() {
        // Relaxed: only this thread writes `local` while it owns the object.
        // A negative value is the owner's last reference gone (or a
        // disowned header read by an unregistered thread, whose id reads
        // as `UNOWNED`): leave it to the shared word.
        if header.local.load(Relaxed) >= 0 {
            // SAFETY: owner thread; the owner's local reference keeps the
            // object alive while we add ours (the same thread, so it cannot
            // go meanwhile).
            unsafe { owner_incref(header) };
            return true;
        }
    } else if tid >= FORWARDED {
        return match header.forward_target() {
            // SAFETY: a forwarded header's target outlives its references,
            // and was published when the component was frozen.
            Some(target) => unsafe { try_incref(target.as_ref()) },
            None => true,
        };
    }
    try_incref_shared(header)
}

/// The shared half of [`try_incref`]: counts one up on `shared` unless it
/// reads `Merged` with a count of zero or less. The whole of an upgrade
/// under the [`Atomic`](crate::Atomic) policy, whose headers are always
/// `Merged`.
pub fn try_incref_shared(header: &RcHeader) -> bool {
    stats::record_shared_op();
    // Relaxed: the CAS below validates the value.
    let mut current = header.shared.load(Relaxed);
    loop {
        let word = SharedWord::from_raw(current);
        if word.state() == SharedState::Merged && word.count() <= 0 {
            return false;
        }
        // Acquire on success: pairs with the Release store that made the
        // header live in `Brc::new_cyclic` (and with the Release RMWs of
        // every earlier count change), so the value's initialisation is
        // visible to the upgraded handle. No Release is needed: the
        // increment only keeps the object alive, and this thread's uses of
        // it are published by the decrement that later gives the reference
        // back. The free cannot come before that decrement: it needs a CAS
        // or RMW on `shared` that reads our increment (see `try_incref`).
        // Relaxed on failure: the loop retries with the value read.
        match header
            .shared
            .compare_exchange_weak(current, current + SHARED_ONE, Acquire, Relaxed)
        {
            Ok(_) => {
                check_shared_bound(current);
                return true;
            }
            Err(actual) => current = actual,
        }
    }
}

/// What a non-owner decrement must do after its CAS.
enum SharedDecrement {
    Done,
    Free,
    Queue,
}

/// Non-owner decrement: a CAS loop on `shared`. Queues the object to its
/// owner when the shared count is zero and the object is not merged; queued
/// objects are later merged with `merge`.
///
/// # Safety
///
/// The caller gives up a counted reference; `dealloc` frees this object;
/// `merge` upholds [`MergeFn`]'s contract.
#[inline]
pub unsafe fn shared_decref(header: NonNull<RcHeader>, dealloc: Dealloc, merge: MergeFn) {
    // SAFETY: forwarded from the caller.
    unsafe { shared_decref_by(header, 1, dealloc, merge) }
}

/// Gives up `n ≥ 1` references with one CAS, exactly as `n` successive
/// [`shared_decref`] calls would: subtract while the shared count is
/// positive; if it would pass zero on an object that is neither queued nor
/// merged, keep one reference for the queue and hand the object to its
/// owner; free a merged object whose count reaches zero.
///
/// # Safety
///
/// The caller gives up `n` counted references; `dealloc` frees this object;
/// `merge` upholds [`MergeFn`]'s contract.
pub unsafe fn shared_decref_by(
    header: NonNull<RcHeader>,
    n: u32,
    dealloc: Dealloc,
    merge: MergeFn,
) {
    debug_assert!(n >= 1);
    // SAFETY: the caller's references keep the header alive until the CAS
    // below gives them up; the reference is not used after that.
    let h = unsafe { header.as_ref() };
    if h.is_immortal() {
        if let Some(target) = h.forward_target() {
            // SAFETY: the references were counted on the target.
            unsafe { shared_decref_by(target, n, dealloc, merge) };
        }
        return;
    }
    // SAFETY: forwarded from the caller; a mortal header.
    if unsafe { shared_release_by(header, n, dealloc, merge) } {
        // SAFETY: merged and we took the count to zero.
        unsafe { free(header, dealloc) }
    }
}

/// [`shared_decref_by`] on a header the caller knows is mortal, without the
/// free: returns whether the count reached zero, in which case the caller
/// frees (or takes the value out).
///
/// # Safety
///
/// As [`shared_decref_by`], and the header is neither immortal nor
/// forwarded.
#[inline(always)]
unsafe fn shared_release_by(
    header: NonNull<RcHeader>,
    n: u32,
    dealloc: Dealloc,
    merge: MergeFn,
) -> bool {
    // SAFETY: the caller's references keep the header alive until the CAS
    // gives them up.
    let h = unsafe { header.as_ref() };
    match shared_step(h, n) {
        SharedDecrement::Done => false,
        SharedDecrement::Free => {
            // Acquire: pairs with the Release decrements of every other
            // thread, as in `Arc::drop`.
            acquire!(h.shared);
            true
        }
        SharedDecrement::Queue => {
            // SAFETY: we just set `Queued`; one reference now belongs to the
            // queue, whose merge frees the object if it is the last.
            unsafe { queue_to_owner(header, dealloc, merge) };
            false
        }
    }
}

/// The CAS of a non-owner decrement of `n` references on a mortal header,
/// and what the caller must do after it (see [`shared_decref_by`]).
#[inline(always)]
fn shared_step(h: &RcHeader, n: u32) -> SharedDecrement {
    let n = i64::from(n);
    stats::record_shared_op();
    // Relaxed: the CAS below validates the value.
    let mut current = h.shared.load(Relaxed);
    loop {
        let word = SharedWord::from_raw(current);
        let (new, action) = match word.state() {
            SharedState::Private | SharedState::Published if (0..n).contains(&word.count()) => {
                // The decrement that finds zero queues instead of subtracting.
                let queued = SharedWord::new(word.count() - n + 1, SharedState::Queued);
                (queued.raw(), SharedDecrement::Queue)
            }
            SharedState::Merged if word.count() == n => {
                (current - n * SHARED_ONE, SharedDecrement::Free)
            }
            _ => (current - n * SHARED_ONE, SharedDecrement::Done),
        };
        // Release: pairs with the Acquire of whichever thread frees (the
        // caller's `acquire!` after a `Free`, `merge_zero_local`, or the
        // merge CAS), so our uses of the object happen-before the free.
        match h
            .shared
            .compare_exchange_weak(current, new, Release, Relaxed)
        {
            Ok(_) => break action,
            Err(actual) => current = actual,
        }
    }
}

/// Hands a just-queued object to its owner, or merges it here if the owner
/// has exited, or drops the reference as an ordinary shared decrement if the
/// owner gave the object up in the meantime.
///
/// # Safety
///
/// The caller just moved the object to `Queued` and gives its reference to
/// the queue.
#[cold]
#[inline(never)] // the queue path: a lock, and maybe a registry lookup
unsafe fn queue_to_owner(header: NonNull<RcHeader>, dealloc: Dealloc, merge: MergeFn) {
    // SAFETY: the queue's reference keeps the object alive.
    // Relaxed: the id was written before the object was shared with us; a
    // 0 read here is acted on only through the CAS loop below.
    let owner = unsafe { header.as_ref() }.tid.load(Relaxed);
    if owner == UNOWNED {
        // Between our `Queued` CAS and this load, other threads added shared
        // references, the owner's local count reached zero and `merge_zero_local`
        // gave the object up (CPython's `_Py_brc_queue_object` checks for the
        // same). Its `local` counts nothing any more (disowned), so the
        // shared count is the whole count: give our reference back as an ordinary shared
        // decrement. The state is `Queued` or `Merged`, so it subtracts (the
        // owner's merge CAS then frees at zero) or frees at zero itself; it
        // never queues again. Merging here instead could free the object
        // under the owner's still-running merge CAS.
        // SAFETY: we give up the reference the queue would have held.
        unsafe { shared_decref(header, dealloc, merge) };
        return;
    }
    stats::record_queued();
    let entry = Queued {
        header,
        dealloc,
        merge,
    };
    // No tracing event on this path: it runs wherever a reference is
    // dropped, thread-local destructors included (`crate::trace`); the
    // `stats` counters count it instead.
    if let Err(entry) = thread::push_to_owner(owner, entry) {
        stats::record_merged(1);
        // SAFETY: the owner has exited (its queue is closed or it left the
        // registry, both under a lock that ordered its last write to
        // `local` before our read).
        unsafe { entry.merge() }
    }
}

/// Folds `local` into `shared` with `extra` added, leaves the object
/// `Merged` and unowned, and returns the merged count.
///
/// # Safety
///
/// Called on the owner thread, or after the owner has exited, on a live
/// object whose count covers `-extra`.
pub unsafe fn explicit_merge(header: &RcHeader, extra: i64) -> i64 {
    // Relaxed: owner thread (its own writes), or the owner has exited and a
    // lock ordered its last write before this read.
    let local = local_refs(header.local.load(Relaxed));
    debug_assert!(!header.is_immortal(), "merging an immortal object");
    // Relaxed: the CAS below publishes the merged state. Non-owners never
    // act on `local`; a handle on the owner thread that still holds a
    // reference finds it negative and takes the shared path.
    header.local.store(DISOWNED, Relaxed);
    header.tid.store(UNOWNED, Relaxed);
    // Relaxed: validated by the CAS.
    let mut current = header.shared.load(Relaxed);
    loop {
        let count = SharedWord::from_raw(current).count() + i64::from(local) + extra;
        let new = SharedWord::new(count, SharedState::Merged);
        // AcqRel: Acquire so that, if the count is now zero, every other
        // thread's uses happen-before the free; Release so that ours do
        // for whoever frees later.
        match header
            .shared
            .compare_exchange_weak(current, new.raw(), AcqRel, Relaxed)
        {
            Ok(_) => return count,
            Err(actual) => current = actual,
        }
    }
}

/// The exact count of an object, if this thread can know it: on the owner
/// thread of an object no other thread has counted (shared word 0), or for a
/// merged object (whose whole count is in `shared`). `None` otherwise.
#[inline]
pub fn exact_count(header: &RcHeader) -> Option<usize> {
    let word = header.shared_word();
    // The owner's case first: an owned header is never immortal, and a
    // graph walk asks about little else.
    if word.raw() == 0 && is_owned_by_current_thread(header) {
        return Some(header.local_count() as usize);
    }
    // An immortal header's shared word reads as merged with count 0.
    if header.is_immortal() {
        return None;
    }
    if word.state() == SharedState::Merged {
        return usize::try_from(word.count()).ok();
    }
    None
}

/// Re-biases an object to the calling thread: folds its whole count into
/// `local`, clears `shared` to `Private` and stamps this thread's id.
///
/// Changes nothing for an immortal object, for one this thread already
/// owns, and on a thread that is exiting (the object keeps its old owner and
/// is counted through the non-owner paths, as any object of a thread that is
/// gone).
///
/// # Safety
///
/// No other thread holds or can obtain a reference to the object (a
/// `Weak` on another thread could, by upgrading: adopting resets the
/// shared word to `Private`, on which [`try_incref`] is not safe), its
/// count is exact ([`exact_count`] was `Some` on the thread that gave it
/// up), and that thread's writes happen-before this call.
#[inline]
pub unsafe fn adopt(header: &RcHeader) {
    if header.is_immortal() {
        return;
    }
    // Not a safepoint, unlike `new_header`: a graph is adopted one object
    // at a time, so the queue is not polled for each.
    let tid = thread::current_tid_registered();
    // Relaxed: nobody else can reach the object; the hand-over that brought
    // it here ordered the previous owner's writes before ours, and a `tid`
    // equal to ours was stored by this thread.
    if tid == UNOWNED || header.tid.load(Relaxed) == tid {
        return;
    }
    // Relaxed: as above.
    let word = SharedWord::from_raw(header.shared.load(Relaxed));
    let total = i64::from(header.local_count()) + word.count();
    debug_assert!(total >= 1, "adopting count {total}");
    // Whatever `local` cannot count stays in `shared`, as after a spill.
    let in_local = total.clamp(1, i64::from(LOCAL_MAX) + 1);
    header.local.store(stored_local(in_local as u32), Relaxed);
    header.shared.store(
        SharedWord::new(total - in_local, SharedState::Private).raw(),
        Relaxed,
    );
    header.tid.store(tid, Relaxed);
}

/// The biased [`MergeFn`]: merges a queued object and drops the queue's
/// reference at once, freeing the object if that was the last.
///
/// # Safety
///
/// See [`MergeFn`].
pub unsafe fn merge_queued(header: NonNull<RcHeader>, dealloc: Dealloc) {
    // SAFETY: the queue's reference keeps the header alive.
    if let Some(target) = unsafe { header.as_ref() }.forward_target() {
        // Forwarded while queued (frozen into a component): the queue's
        // reference is counted on the representative.
        // SAFETY: as above.
        unsafe { shared_decref_by(target, 1, dealloc, merge_queued) };
        return;
    }
    // SAFETY: the queue's reference keeps the object alive; the caller is the
    // owner or the owner has exited.
    let count = unsafe { explicit_merge(header.as_ref(), -1) };
    debug_assert!(count >= 0, "queue merge made the count negative");
    if count == 0 {
        // SAFETY: merged, count zero: no references left.
        unsafe { free(header, dealloc) }
    }
}

/// Frees an object whose count reached zero (and counts the free).
///
/// # Safety
///
/// No reference to the object remains.
#[inline]
pub unsafe fn free(header: NonNull<RcHeader>, dealloc: Dealloc) {
    stats::record_free();
    // SAFETY: the caller guarantees the count is zero; `dealloc` frees this
    // object.
    unsafe { dealloc(header) }
}

/// Makes the calling thread merge every object other threads queued to it.
///
/// Call it where an interpreter would poll its eval breaker: loop
/// back-edges, calls, before blocking. [`Brc::new`](crate::Brc::new) and
/// thread exit do it too. Returns how many objects were merged (some may
/// have been freed). May run destructors.
///
/// ```
/// use brisk_refcount::{safepoint, Brc};
///
/// let value = Brc::new(vec![1, 2, 3]);
/// let clone = Brc::clone(&value);
/// std::thread::spawn(move || drop(clone)).join().unwrap();
/// // The other thread's drop found the shared count at zero and queued the
/// // object back to us; the merge drops the queue's reference.
/// safepoint();
/// assert_eq!(Brc::strong_count(&value), 1);
/// ```
pub fn safepoint() -> usize {
    thread::poll_merge_queue()
}

#[cfg(all(test, not(loom)))]
mod tests {
    //! One test per transition of the shared word, driven through `Brc`
    //! (the test thread is the owner; spawned threads are non-owners).

    use super::*;
    use crate::header::SharedWord;
    use crate::Brc;
    use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
    use std::sync::Arc;

    use crate::test_support::{assert_child_aborts, in_child, tracked, Tracked};

    fn word<T>(b: &Brc<T>) -> SharedWord {
        Brc::header(b).shared_word()
    }

    fn drop_on_other_thread<T: Send + Sync + 'static>(b: Brc<T>) {
        std::thread::spawn(move || drop(b)).join().unwrap();
    }

    #[test]
    fn private_object_is_freed_by_owner_at_zero() {
        let (a, drops) = tracked();
        let b = a.clone();
        assert_eq!(Brc::header(&a).local_count(), 2);
        drop(a);
        assert_eq!(drops.load(SeqCst), 0);
        drop(b);
        assert_eq!(drops.load(SeqCst), 1);
    }

    #[test]
    fn non_owner_increment_and_decrement_touch_only_shared() {
        let (a, drops) = tracked();
        let a2 = a.clone();
        std::thread::scope(|s| {
            s.spawn(|| {
                let c = a2.clone();
                assert_eq!(word(&a2), SharedWord::new(1, SharedState::Private));
                drop(c);
                assert_eq!(word(&a2), SharedWord::new(0, SharedState::Private));
            });
        });
        assert_eq!(Brc::header(&a).local_count(), 2);
        drop((a, a2));
        assert_eq!(drops.load(SeqCst), 1);
    }

    #[test]
    fn private_zero_goes_to_queued_then_merge_frees() {
        let (a, drops) = tracked();
        let b = a.clone();
        drop_on_other_thread(b);
        // The non-owner found shared == 0 and queued instead of subtracting.
        assert_eq!(word(&a), SharedWord::new(0, SharedState::Queued));
        assert_eq!(
            Brc::strong_count(&a),
            2,
            "the queue still holds a reference"
        );
        assert_eq!(safepoint(), 1);
        // Merge: local (2) + shared (0) - queue's reference = 1, unowned.
        assert_eq!(word(&a), SharedWord::new(1, SharedState::Merged));
        assert_eq!(Brc::header(&a).owner(), UNOWNED);
        assert_eq!(Brc::header(&a).local_count(), 0);
        drop(a); // now a shared-path decrement to zero
        assert_eq!(drops.load(SeqCst), 1);
    }

    #[test]
    fn published_zero_goes_to_queued() {
        let (a, drops) = tracked();
        let b = a.clone();
        Brc::header(&a)
            .shared
            .store(SharedWord::new(0, SharedState::Published).raw(), SeqCst);
        drop_on_other_thread(b);
        assert_eq!(word(&a), SharedWord::new(0, SharedState::Queued));
        safepoint();
        drop(a);
        assert_eq!(drops.load(SeqCst), 1);
    }

    #[test]
    fn queued_count_goes_negative_and_merge_sums_it() {
        let (a, drops) = tracked();
        let (b, c) = (a.clone(), a.clone());
        drop_on_other_thread(b); // queues: shared 0 -> Queued
        drop_on_other_thread(c); // subtracts: Queued, count -1
        assert_eq!(word(&a), SharedWord::new(-1, SharedState::Queued));
        assert_eq!(Brc::header(&a).local_count(), 3);
        safepoint(); // 3 + (-1) - 1 = 1
        assert_eq!(word(&a), SharedWord::new(1, SharedState::Merged));
        drop(a);
        assert_eq!(drops.load(SeqCst), 1);
    }

    #[test]
    fn owner_zero_with_shared_references_merges_and_last_non_owner_frees() {
        let (a, drops) = tracked();
        let a2 = a.clone();
        let handle = std::thread::spawn(move || {
            let mine = a2.clone(); // shared +1
            drop(a2); // shared 1 -> 0: plain subtract, no queue
            mine
        });
        let theirs = handle.join().unwrap();
        assert_eq!(word(&a), SharedWord::new(0, SharedState::Private));
        // local is still 2 (a, and the moved a2), shared 0: give `theirs`
        // back to ourselves to see the owner reach local zero with shared
        // references outstanding.
        let extra = theirs.clone(); // owner path: local 3
        drop_on_other_thread(theirs); // shared 0 -> Queued
        drop(extra);
        drop(a); // local 1
        assert_eq!(drops.load(SeqCst), 0);
        safepoint(); // 1 + 0 - 1 = 0: freed by the merge
        assert_eq!(drops.load(SeqCst), 1);
    }

    #[test]
    fn owner_local_zero_on_shared_object_sets_merged_without_freeing() {
        let (a, drops) = tracked();
        let a2 = a.clone();
        let kept = std::thread::spawn(move || {
            let c = a2.clone(); // shared 1
            drop(a2); // shared 0 (subtract), local still 2
            c
        })
        .join()
        .unwrap();
        // kept is counted in shared? No: shared is 0, local 2 covers a and
        // the reference `kept` stands for. Drop a: local 1.
        drop(a);
        assert_eq!(Brc::header(&kept).local_count(), 1);
        // Give the last reference back through a non-owner clone so the
        // owner's local can reach zero with shared > 0.
        let kept2 = std::thread::scope(|s| s.spawn(|| kept.clone()).join().unwrap());
        assert_eq!(word(&kept), SharedWord::new(1, SharedState::Private));
        drop(kept); // owner: local 1 -> 0, shared 1 -> Merged(1)
        assert_eq!(word(&kept2), SharedWord::new(1, SharedState::Merged));
        assert_eq!(Brc::header(&kept2).owner(), UNOWNED);
        assert_eq!(drops.load(SeqCst), 0);
        drop(kept2); // merged 1 -> 0: freed here
        assert_eq!(drops.load(SeqCst), 1);
    }

    #[test]
    fn queued_object_whose_owner_reaches_zero_is_freed_by_the_queue_merge() {
        let (a, drops) = tracked();
        let b = a.clone();
        let c = std::thread::scope(|s| s.spawn(|| b.clone()).join().unwrap()); // shared 1
        drop_on_other_thread(c); // shared 1 -> 0
        drop_on_other_thread(b); // shared 0 -> Queued
        assert_eq!(word(&a), SharedWord::new(0, SharedState::Queued));
        drop(a); // local 2 -> 1
        assert_eq!(drops.load(SeqCst), 0);
        safepoint();
        assert_eq!(drops.load(SeqCst), 1);
    }

    #[test]
    fn dead_owner_objects_are_merged_by_the_last_non_owner() {
        let drops = Arc::new(AtomicUsize::new(0));
        let d = Arc::clone(&drops);
        let (x, y) = std::thread::spawn(move || {
            let a = Brc::new(Tracked(d));
            (a.clone(), a)
        })
        .join()
        .unwrap();
        // The owner has exited with local = 2 (both references moved here).
        assert_eq!(word(&x), SharedWord::new(0, SharedState::Private));
        drop(x); // Queued, owner dead: merged here, 2 + 0 - 1 = 1
        assert_eq!(word(&y), SharedWord::new(1, SharedState::Merged));
        assert_eq!(drops.load(SeqCst), 0);
        drop(y);
        assert_eq!(drops.load(SeqCst), 1);
    }

    #[test]
    fn owner_exit_merges_its_queue() {
        let drops = Arc::new(AtomicUsize::new(0));
        let d = Arc::clone(&drops);
        let (to_owner, from_test) = std::sync::mpsc::channel::<Brc<Tracked>>();
        let (to_test, from_owner) = std::sync::mpsc::channel::<Brc<Tracked>>();
        let owner = std::thread::spawn(move || {
            let a = Brc::new(Tracked(d));
            to_test.send(a.clone()).unwrap();
            // Wait until the test thread has queued the object back.
            from_test.recv().unwrap();
            drop(a); // local 2 -> 1: still held by the queue
        });
        let b = from_owner.recv().unwrap();
        drop(b); // queued to the live owner
        to_owner
            .send(Brc::new(Tracked(Arc::new(AtomicUsize::new(0)))))
            .unwrap();
        owner.join().unwrap(); // exit merges: 1 + 0 - 1 = 0
        assert_eq!(drops.load(SeqCst), 1);
    }

    #[test]
    fn local_overflow_spills_half_into_shared() {
        let (a, drops) = tracked();
        let h = Brc::header(&a);
        // Pretend the owner holds the most references `local` counts, and
        // take one more.
        h.local.store(LOCAL_MAX, SeqCst);
        let b = a.clone();
        let refs = i64::from(LOCAL_MAX) + 2;
        let moved = refs / 2;
        assert_eq!(i64::from(h.local_count()), refs - moved);
        assert_eq!(h.shared_word().count(), moved);
        assert!(!h.is_immortal());
        assert_eq!(Brc::strong_count(&a) as i64, refs);
        // Restore the real count (2) without leaking: drain the spill.
        h.local.store(1, SeqCst);
        h.shared.store(0, SeqCst);
        drop((a, b));
        assert_eq!(drops.load(SeqCst), 1);
    }

    #[test]
    fn immortal_headers_ignore_counting_from_any_thread() {
        let header = RcHeader::new_immortal();
        let ptr = NonNull::from(&header);
        unsafe fn never(_: NonNull<RcHeader>) {
            panic!("immortal object freed");
        }
        // SAFETY: immortal: counting is a no-op and `never` is never called.
        unsafe {
            incref(&header);
            decref(ptr, never);
            decref(ptr, never);
        }
        std::thread::scope(|s| {
            s.spawn(|| {
                let ptr = NonNull::from(&header);
                // SAFETY: as above; the scope keeps the header alive.
                unsafe {
                    incref(ptr.as_ref());
                    decref(ptr, never);
                    decref(ptr, never);
                }
            });
        });
        assert!(header.is_immortal());
        assert_eq!(
            header.shared_word(),
            SharedWord::new(0, SharedState::Merged)
        );
    }

    #[test]
    fn objects_made_while_the_thread_exits_start_out_merged() {
        struct MakesOnDrop(Arc<AtomicUsize>);
        impl Drop for MakesOnDrop {
            fn drop(&mut self) {
                let late = Brc::new(Tracked(Arc::clone(&self.0)));
                assert_eq!(Brc::header(&late).owner(), UNOWNED);
            }
        }
        thread_local! {
            static LATE: core::cell::RefCell<Option<MakesOnDrop>> =
                const { core::cell::RefCell::new(None) };
        }
        let drops = Arc::new(AtomicUsize::new(0));
        let d = Arc::clone(&drops);
        std::thread::spawn(move || {
            // Thread-locals are destroyed in reverse order of first use:
            // touch LATE before registering so the handle's destructor (the
            // exit path) runs first.
            LATE.with(|late| *late.borrow_mut() = Some(MakesOnDrop(d)));
            drop(Brc::new(0));
        })
        .join()
        .unwrap();
        assert_eq!(drops.load(SeqCst), 1);
    }

    #[test]
    fn adopt_keeps_what_local_cannot_count_in_shared() {
        let (moved, drops) = std::thread::spawn(tracked).join().unwrap();
        let header = Brc::header(&moved);
        // Pretend the exited owner counted the most references `local`
        // can, and five more on the shared half.
        header.local.store(LOCAL_MAX, SeqCst);
        header
            .shared
            .store(SharedWord::new(5, SharedState::Private).raw(), SeqCst);
        // SAFETY: the only reference is ours and its thread has been
        // joined; the pretended ones are put back below.
        unsafe { adopt(header) };
        assert_eq!(header.owner(), thread::current_tid());
        assert_eq!(header.local.load(SeqCst), LOCAL_MAX);
        assert_eq!(
            header.shared_word(),
            SharedWord::new(5, SharedState::Private)
        );
        // Back to the one real reference, counted in `local`.
        header.local.store(0, SeqCst);
        header.shared.store(0, SeqCst);
        drop(moved);
        assert_eq!(drops.load(SeqCst), 1);
    }

    #[test]
    fn adopt_rebiases_to_the_calling_thread() {
        // Made on a thread that keeps it private and then gives it up.
        let (moved, drops) = std::thread::spawn(tracked).join().unwrap();
        let header = Brc::header(&moved);
        assert_ne!(header.owner(), thread::current_tid());
        assert_eq!(exact_count(header), None, "another thread's object");
        // SAFETY: the only reference is ours, and the thread that counted
        // it has been joined.
        unsafe { adopt(header) };
        assert_eq!(header.owner(), thread::current_tid());
        assert_eq!(exact_count(header), Some(1));
        // Adopting again (this thread's own object) changes nothing.
        // SAFETY: as above.
        unsafe { adopt(header) };
        assert_eq!(exact_count(header), Some(1));
        let immortal = RcHeader::new_immortal();
        // SAFETY: a header nobody else sees.
        unsafe { adopt(&immortal) };
        assert!(immortal.is_immortal(), "immortal objects stay put");
        // Back on the owner path: the drop frees it here.
        drop(moved);
        assert_eq!(drops.load(SeqCst), 1);
    }

    #[test]
    #[cfg_attr(miri, ignore = "spawns a process")]
    fn a_shared_count_past_its_bound_aborts() {
        if !in_child() {
            return assert_child_aborts("biased::tests::a_shared_count_past_its_bound_aborts");
        }
        let (a, _drops) = tracked();
        // Pretend the shared half already counts the most references it may.
        Brc::header(&a).shared.store(
            SharedWord::new(MAX_SHARED_COUNT, SharedState::Private).raw(),
            SeqCst,
        );
        // A non-owner's increment: must abort rather than count on.
        std::thread::scope(|s| {
            s.spawn(|| core::mem::forget(a.clone()));
        });
        unreachable!("the increment past the bound returned");
    }

    #[test]
    #[cfg_attr(miri, ignore = "spawns a process")]
    fn an_atomic_count_past_its_bound_aborts() {
        if !in_child() {
            return assert_child_aborts("biased::tests::an_atomic_count_past_its_bound_aborts");
        }
        let a: Brc<u8, crate::Atomic> = Brc::new_with_policy(0);
        Brc::header(&a).shared.store(
            SharedWord::new(MAX_SHARED_COUNT, SharedState::Merged).raw(),
            SeqCst,
        );
        core::mem::forget(a.clone());
        unreachable!("the increment past the bound returned");
    }

    #[test]
    fn a_lone_handle_on_a_non_owner_counts_one_yet_cannot_prove_it() {
        let (a, drops) = tracked();
        let (a, refused) = std::thread::spawn(move || {
            let mut a = a;
            // The documented gap: the snapshot says one reference, but the
            // owner's half cannot be read reliably from here.
            assert_eq!(Brc::strong_count(&a), 1);
            let refused = Brc::get_mut(&mut a).is_none();
            let Err(a) = Brc::try_unwrap(a) else {
                panic!("try_unwrap on a non-owner must refuse");
            };
            (a, refused)
        })
        .join()
        .unwrap();
        assert!(refused, "get_mut on a non-owner must refuse");
        // On another thread, into_inner hands the last reference to the
        // owner's queue instead.
        let value = std::thread::spawn(move || Brc::into_inner(a).is_some())
            .join()
            .unwrap();
        assert!(!value, "a non-owner cannot know it held the last reference");
        assert_eq!(drops.load(SeqCst), 0);
        safepoint(); // the owner's merge drops the value
        assert_eq!(drops.load(SeqCst), 1);
        // On the owner, into_inner decides by the count.
        let (b, _) = tracked();
        let c = b.clone();
        assert!(Brc::into_inner(b).is_none());
        assert!(Brc::into_inner(c).is_some());
    }
}
