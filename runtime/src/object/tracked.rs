//! The tracked set: every container object an interpreter allocated, so the
//! cycle collector can find them.
//!
//! # Layout
//!
//! Reference counting never frees a cycle, and only objects that can point
//! at other objects can be on one. Such *container* objects (`List`, `Dict`,
//! `Slot` and embedders' `Native` objects; see [`Kind::is_tracked`]) are
//! allocated with a [`GcLink`] in front of their header, as CPython puts
//! its `PyGC_Head` in front of `PyObject`:
//!
//! ```text
//! TrackedBox { link: GcLink { prev, next, set, mark }, object: Object { header, payload } }
//!              ^ 32 bytes, before the header            ^ what a Ref points at
//! ```
//!
//! `mark` is the collector's scratch space: the node number a collection
//! gave the object, stamped with that collection's number, so the scan
//! finds a child's node by reading next to the child's header instead of
//! looking its address up in a hash map (CPython keeps `gc_refs` in
//! `PyGC_Head` for the same reason).
//!
//! Leaves (strings, numbers) carry no link and cost nothing. Tuples carry
//! none either: a tuple's items exist before it, so a cycle always passes
//! through a mutable container, and the collector finds tuples by walking
//! out from the tracked objects (see [`scan`](crate::collect::scan)).
//!
//! # The set
//!
//! Each interpreter has one [`TrackedSet`]: a circular doubly-linked list
//! threaded through the links, behind the set's own lock. Allocation links
//! the new object at the tail and freeing unlinks it, each in O(1) under a
//! lock that only the threads of that interpreter (and whoever frees one of
//! its objects) ever take: no lock is shared between interpreters on any
//! allocation path. An object stays in the set of the interpreter that made
//! it even after a move to another interpreter; the collector scans every
//! interpreter's set, so which set holds an object does not matter to it.
//!
//! # Lifetime
//!
//! Objects can outlive their interpreter and their runtime (a handle kept by
//! the embedder), and each link points at its set. The runtime owns every
//! set; when the runtime goes away a set that still has members is
//! *orphaned* instead of freed, and the unlink that empties it frees it.

use core::ptr::{self, NonNull};
use std::sync::Arc;

use crate::sync::ObjectLock as Mutex;

use super::{Kind, Object};
use crate::policy::RuntimePolicy;

/// The link in front of a tracked object's header.
///
/// `prev` and `next` are read and written only under the lock of the set
/// named by `set`; `set` is written once, before the object is published.
#[repr(C)]
pub(crate) struct GcLink {
    /// The previous link in the set's ring (the sentinel for the first).
    prev: *mut GcLink,
    /// The next link in the set's ring (the sentinel for the last).
    next: *mut GcLink,
    /// The set this object is linked into.
    set: *const TrackedSet,
    /// Written and read only by a collection, while the world is stopped.
    mark: ScanMark,
}

/// Which node a collection made of an object; a node number of
/// `scan::CONDEMNED` says that the collection found it to be garbage.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub(crate) struct ScanMark {
    /// The collection's stamp (never 0; see `scan`).
    pub(crate) stamp: u32,
    /// The node's number in that collection.
    pub(crate) node: u32,
}

impl ScanMark {
    pub(crate) const NONE: ScanMark = ScanMark { stamp: 0, node: 0 };
}

/// A tracked object in memory: its link, then the object a `Ref` points at.
#[repr(C)]
pub(crate) struct TrackedBox<P: RuntimePolicy> {
    link: GcLink,
    object: Object<P>,
}

/// The ring's state, behind the set's lock.
struct Ring {
    /// The sentinel link: `sentinel.next` is the first member. Heap-allocated
    /// so its address is stable; freed with the set.
    sentinel: NonNull<GcLink>,
    /// Members linked in.
    len: usize,
    /// The runtime let go of the set while it had members; the unlink that
    /// empties it frees it.
    orphaned: bool,
}

/// The container objects of one interpreter.
pub(crate) struct TrackedSet {
    ring: Mutex<Ring>,
}

// SAFETY: the raw links in `Ring` are only followed under `ring`'s lock (or
// by the collector while the world is stopped, also under the lock).
unsafe impl Send for TrackedSet {}
// SAFETY: as above.
unsafe impl Sync for TrackedSet {}

impl TrackedSet {
    /// An empty set.
    pub(crate) fn new() -> Arc<Self> {
        let sentinel = Box::into_raw(Box::new(GcLink {
            prev: ptr::null_mut(),
            next: ptr::null_mut(),
            set: ptr::null(),
            mark: ScanMark::NONE,
        }));
        // SAFETY: just allocated; an empty ring points at itself.
        unsafe {
            (*sentinel).prev = sentinel;
            (*sentinel).next = sentinel;
        }
        Arc::new(TrackedSet {
            ring: Mutex::new(Ring {
                // SAFETY: `Box::into_raw` never returns null.
                sentinel: unsafe { NonNull::new_unchecked(sentinel) },
                len: 0,
                orphaned: false,
            }),
        })
    }

    /// Members linked in now.
    pub(crate) fn len(&self) -> usize {
        self.ring.lock().len
    }

    /// Allocates `object` with a link and links it at the tail of this set.
    pub(crate) fn alloc<P: RuntimePolicy>(&self, object: Object<P>) -> NonNull<Object<P>> {
        debug_assert!(object.kind().is_tracked());
        let boxed = NonNull::from(Box::leak(Box::new(TrackedBox {
            link: GcLink {
                prev: ptr::null_mut(),
                next: ptr::null_mut(),
                set: self,
                mark: ScanMark::NONE,
            },
            object,
        })));
        // Exposed so that `mark_of` can reach the link from a plain
        // reference to the object (whose own provenance covers only the
        // object).
        let _ = boxed.as_ptr().expose_provenance();
        let link = boxed.as_ptr().cast::<GcLink>();
        let mut ring = self.ring.lock();
        let sentinel = ring.sentinel.as_ptr();
        // SAFETY: under the lock; the sentinel and its `prev` are live links
        // of this ring, and `link` is ours until published.
        unsafe {
            let last = (*sentinel).prev;
            (*link).prev = last;
            (*link).next = sentinel;
            (*last).next = link;
            (*sentinel).prev = link;
        }
        ring.len += 1;
        drop(ring);
        // SAFETY: `object` is a field of the box, which stays allocated until
        // `free`; deriving from `boxed` keeps the whole box's provenance.
        unsafe { boxed.byte_add(core::mem::offset_of!(TrackedBox<P>, object)) }.cast()
    }

    /// Calls `visit` on every member, holding the lock throughout.
    pub(crate) fn for_each<P: RuntimePolicy>(&self, mut visit: impl FnMut(NonNull<Object<P>>)) {
        let ring = self.ring.lock();
        let sentinel = ring.sentinel.as_ptr();
        // SAFETY: under the lock every link in the ring is live.
        let mut link = unsafe { (*sentinel).next };
        while link != sentinel {
            // SAFETY: `link` heads a `TrackedBox<P>` (members of a runtime's
            // sets are all objects of its policy).
            visit(unsafe { object_of::<P>(link) });
            // SAFETY: as above.
            link = unsafe { (*link).next };
        }
    }

    /// The runtime lets go of the set: it is freed now if empty, else by the
    /// unlink that empties it.
    pub(crate) fn release(this: Arc<Self>) {
        let mut ring = this.ring.lock();
        if ring.len == 0 {
            drop(ring);
            return;
        }
        ring.orphaned = true;
        drop(ring);
        // Kept alive for the members; `free` takes this count back.
        let _ = Arc::into_raw(this);
    }
}

impl Drop for TrackedSet {
    fn drop(&mut self) {
        let ring = self.ring.get_mut();
        debug_assert_eq!(ring.len, 0, "a tracked set freed with members");
        // SAFETY: allocated by `Box::into_raw` in `new`, freed only here.
        drop(unsafe { Box::from_raw(ring.sentinel.as_ptr()) });
    }
}

/// The object behind a link.
///
/// # Safety
///
/// `link` is the link of a live `TrackedBox<P>`.
unsafe fn object_of<P: RuntimePolicy>(link: *mut GcLink) -> NonNull<Object<P>> {
    // SAFETY: the object sits right after the link in the same allocation.
    unsafe { NonNull::new_unchecked(link.byte_add(core::mem::offset_of!(TrackedBox<P>, object))) }
        .cast()
}

/// The scan mark of a tracked object.
///
/// # Safety
///
/// `object` is a tracked container (allocated by [`TrackedSet::alloc`]),
/// and the world is stopped (only a collection touches marks).
pub(crate) unsafe fn mark_of<P: RuntimePolicy>(object: &Object<P>) -> *mut ScanMark {
    debug_assert!(object.kind().is_tracked());
    // SAFETY: forwarded from the caller.
    let link = unsafe { box_of(NonNull::from(object)) }
        .as_ptr()
        .cast::<GcLink>();
    // SAFETY: the link sits before the object in its live box.
    unsafe { &raw mut (*link).mark }
}

/// The box a tracked object sits in.
///
/// # Safety
///
/// `object` was returned by [`TrackedSet::alloc`] and is not yet freed.
unsafe fn box_of<P: RuntimePolicy>(object: NonNull<Object<P>>) -> NonNull<TrackedBox<P>> {
    // Not `object.byte_sub(..)`: a pointer to the object may come from a
    // reference, whose provenance covers the object alone, not the link
    // before it. The box's provenance was exposed in `TrackedSet::alloc`.
    let address = object.as_ptr() as usize - core::mem::offset_of!(TrackedBox<P>, object);
    let boxed = ptr::with_exposed_provenance_mut::<TrackedBox<P>>(address);
    // SAFETY: the address of a live box, so not null.
    unsafe { NonNull::new_unchecked(boxed) }
}

/// Unlinks a tracked object from its set (and frees the set if it was
/// orphaned and this was its last member).
///
/// # Safety
///
/// `object` was returned by [`TrackedSet::alloc`], its count reached zero,
/// and no thread will touch it again; it is unlinked once.
pub(crate) unsafe fn unlink<P: RuntimePolicy>(object: NonNull<Object<P>>) {
    // SAFETY: forwarded from the caller.
    let link = unsafe { box_of(object) }.as_ptr().cast::<GcLink>();
    // SAFETY: `set` was written before the object was published and the set
    // outlives its members (see `TrackedSet::release`).
    let set = unsafe { &*(*link).set };
    let mut ring = set.ring.lock();
    // SAFETY: under the set's lock; the link and its neighbours are live.
    unsafe {
        let (prev, next) = ((*link).prev, (*link).next);
        (*prev).next = next;
        (*next).prev = prev;
    }
    ring.len -= 1;
    let free_set = ring.orphaned && ring.len == 0;
    drop(ring);
    if free_set {
        // SAFETY: the count `TrackedSet::release` leaked for the members.
        drop(unsafe { Arc::from_raw(set) });
    }
}

/// Frees the memory of an unlinked tracked object whose payload was dropped.
///
/// # Safety
///
/// `object` was returned by [`TrackedSet::alloc`], then [`unlink`]ed, and
/// its payload dropped in place.
pub(crate) unsafe fn free_box<P: RuntimePolicy>(object: NonNull<Object<P>>) {
    // SAFETY: allocated as a `Box<TrackedBox<P>>`; nothing in it is left to
    // drop (the link and header have no destructors, the payload is gone).
    drop(unsafe {
        Box::from_raw(
            box_of(object)
                .as_ptr()
                .cast::<core::mem::MaybeUninit<TrackedBox<P>>>(),
        )
    });
}

impl Kind {
    /// Whether objects of this kind are containers the cycle collector
    /// tracks (they carry the collector's link in front of the header):
    /// `List`, `Dict`, `Slot`, `Native`.
    pub const fn is_tracked(self) -> bool {
        matches!(self, Kind::List | Kind::Dict | Kind::Slot | Kind::Native)
    }
}

#[cfg(test)]
mod tests {
    use super::TrackedBox;
    use crate::object::TRACKED_LINK_BYTES;
    use crate::{Atomic, Biased, Deferred, Gil};

    /// The published size of the link is where the object starts in a
    /// tracked allocation, under every policy.
    #[test]
    fn the_object_starts_one_link_into_the_allocation() {
        let offsets = [
            core::mem::offset_of!(TrackedBox<Biased>, object),
            core::mem::offset_of!(TrackedBox<Deferred>, object),
            core::mem::offset_of!(TrackedBox<Atomic>, object),
            core::mem::offset_of!(TrackedBox<Gil>, object),
        ];
        assert_eq!(offsets, [TRACKED_LINK_BYTES; 4]);
    }
}
