//! Freeing objects, without deep recursion.
//!
//! Freeing an object drops its payload, which drops its children's
//! references, which may free them, and so on: a long linked list freed
//! naively recurses once per node and overflows the stack. Like CPython's
//! "trashcan" (`Py_TRASHCAN_BEGIN`), frees nested deeper than
//! [`MAX_DEPTH`] are put on a per-thread list and run by the outermost free
//! in a loop.
//!
//! A frozen strongly connected component is counted as one object (see
//! [`freeze`](crate::freeze)) and freed as a unit when its representative's
//! count reaches zero. Freezing records each component's members here, by
//! the address of its representative, for that free to find.

use core::cell::{Cell, RefCell};
use core::mem::MaybeUninit;
use core::ptr::{self, NonNull};
use std::collections::HashMap;

use brisk_refcount::RcHeader;

use super::tracked;
use super::{Kind, Object, SCC_REP};
use crate::live;
use crate::policy::RuntimePolicy;
use crate::sync::{lazy_global, lock, Mutex};

/// Nesting depth after which frees are queued instead of recursing.
const MAX_DEPTH: usize = 64;

/// A postponed free: the header and the function that frees it.
type Postponed = (NonNull<RcHeader>, unsafe fn(NonNull<RcHeader>));

// Members of every frozen component with internal edges, by the address of
// its representative.
lazy_global!(fn components() -> Mutex<HashMap<usize, Vec<usize>>> = Mutex::new(HashMap::new()));

/// Records the members of a frozen component with internal edges (addresses
/// of its objects), for [`free_component`] to free them together once the
/// representative at address `rep` reaches count zero.
pub(crate) fn register_component(rep: usize, members: Vec<usize>) {
    lock(components()).insert(rep, members);
}

std::thread_local! {
    /// Frees in progress on this thread.
    static DEPTH: Cell<usize> = const { Cell::new(0) };
    /// Frees postponed by the depth limit: the header and its free function.
    static POSTPONED: RefCell<Vec<Postponed>> =
        const { RefCell::new(Vec::new()) };
}

/// The `Dealloc` of every runtime object of policy `P`.
///
/// # Safety
///
/// `header` heads an `Object<P>` allocated by `Ref::alloc` whose count
/// reached zero.
pub(crate) unsafe fn dealloc_object<P: RuntimePolicy>(header: NonNull<RcHeader>) {
    let object = header.cast::<Object<P>>();
    // SAFETY: the object is alive until freed below.
    let (kind, flags) = unsafe { (object.as_ref().header.kind, object.as_ref().flags()) };
    if matches!(kind, Kind::Int | Kind::Float) && flags & SCC_REP == 0 {
        // A number holds no references, so freeing it frees nothing else:
        // it needs no depth count, and its payload nothing dropped. Most
        // frees in arithmetic code are these.
        // SAFETY: count zero, nobody touches the object again; an int or
        // float payload owns nothing.
        unsafe { free_memory(object, false) };
        return;
    }
    let depth = DEPTH.try_with(Cell::get).unwrap_or(0);
    if depth >= MAX_DEPTH {
        let postponed = POSTPONED.try_with(|p| p.borrow_mut().push((header, free_now::<P>)));
        if postponed.is_ok() {
            return;
        }
    }
    let _ = DEPTH.try_with(|d| d.set(depth + 1));
    // SAFETY: forwarded from the caller.
    unsafe { free_now::<P>(header) };
    if depth == 0 {
        // The outermost free drains what deeper ones postponed.
        while let Some((next, free)) = POSTPONED.try_with(|p| p.borrow_mut().pop()).ok().flatten() {
            // SAFETY: postponed frees satisfy `dealloc_object`'s contract.
            unsafe { free(next) };
        }
    }
    let _ = DEPTH.try_with(|d| d.set(depth));
}

/// Frees one object (or, for a frozen component's representative, the
/// whole component).
///
/// # Safety
///
/// As [`dealloc_object`].
unsafe fn free_now<P: RuntimePolicy>(header: NonNull<RcHeader>) {
    let object = header.cast::<Object<P>>();
    // SAFETY: the object is alive until freed below.
    if unsafe { object.as_ref() }.flags() & SCC_REP != 0 {
        // SAFETY: count zero; the component is freed as a unit.
        unsafe { free_component::<P>(object) };
        return;
    }
    // SAFETY: count zero; nobody touches the object again.
    unsafe { free_memory(object, true) };
}

/// Frees an object's memory, unlinking a tracked container from its
/// interpreter's set first, and drops its payload unless `drop_payload` is
/// false (a frozen component's members, whose payloads were dropped in
/// place).
///
/// # Safety
///
/// `object` was allocated by `Ref::alloc` or `Ref::alloc_tracked`, its
/// count reached zero and no thread touches it again; if `drop_payload` is
/// false its payload was already dropped.
unsafe fn free_memory<P: RuntimePolicy>(object: NonNull<Object<P>>, drop_payload: bool) {
    // The caller's pointer may derive from a reference to the object or to
    // its header, which may not write the payload or free the box: take the
    // allocation's own provenance, exposed when it was made (`Ref::alloc`,
    // `TrackedSet::alloc`).
    let object = ptr::with_exposed_provenance_mut::<Object<P>>(object.as_ptr() as usize);
    // SAFETY: the address of a live object, so not null.
    let object = unsafe { NonNull::new_unchecked(object) };
    // SAFETY: the header outlives the payload; `kind` is immutable.
    let tracked = unsafe { (*object.as_ptr()).header.kind }.is_tracked();
    if tracked {
        // SAFETY: containers are allocated with a link (`Ref::alloc_tracked`);
        // unlinked before the payload goes, so no scan meets it half freed.
        unsafe { tracked::unlink(object) };
    }
    if drop_payload {
        // SAFETY: count zero, nobody touches the object again; dropped once.
        unsafe { core::ptr::drop_in_place(&raw mut (*object.as_ptr()).payload) };
    }
    if tracked {
        // SAFETY: unlinked above, payload dropped.
        unsafe { tracked::free_box(object) };
    } else {
        // SAFETY: allocated by `Ref::alloc` as a `Box<Object<P>>`; only the
        // memory is left (the header has no destructor).
        drop(unsafe { Box::from_raw(object.as_ptr().cast::<MaybeUninit<Object<P>>>()) });
    }
    live::freed();
}

/// Frees a frozen component whose representative's count reached zero.
///
/// # Safety
///
/// `rep` is a component representative (`SCC_REP`) with count zero.
unsafe fn free_component<P: RuntimePolicy>(rep: NonNull<Object<P>>) {
    let members = lock(components())
        .remove(&(rep.as_ptr() as usize))
        .unwrap_or_else(|| vec![rep.as_ptr() as usize]);
    let members: Vec<NonNull<Object<P>>> = members
        .into_iter()
        .filter_map(|a| NonNull::new(a as *mut Object<P>))
        .collect();
    for member in &members {
        // SAFETY: the component is unreachable; making every member
        // immortal turns their references to one another into no-ops.
        unsafe { member.as_ref().rc_header().make_immortal() };
    }
    for member in &members {
        // SAFETY: each member is dropped once; memory stays until the loop
        // below, so internal references still point at live headers.
        unsafe { core::ptr::drop_in_place(&raw mut (*member.as_ptr()).payload) };
    }
    for member in members {
        // SAFETY: the component is unreachable and its payload was dropped
        // above, so only the memory is released.
        unsafe { free_memory(member, false) };
    }
}
