//! Finding garbage cycles by trial deletion, while the world is stopped.
//!
//! # The computation
//!
//! This is the synchronous cycle collection of CPython's `gcmodule.c`
//! (Schemenauer; the "trial deletion" of Bacon and Rajan, *Concurrent Cycle
//! Collection in Reference Counted Systems*, ECOOP 2001, done in one pass
//! over a snapshot instead of concurrently):
//!
//! 1. **Gather.** Every tracked object that is not frozen becomes a node
//!    with `gc_refs = count`.
//! 2. **Subtract internal references.** For each node, each child that is a
//!    node loses one: afterwards `gc_refs` is the number of references from
//!    *outside* the scanned set — a Rust local, a VM stack slot, a channel
//!    in flight, an object of another runtime, a pending deferred decrement.
//!    Tuples are not tracked; a tuple met as a child becomes a node here,
//!    so cycles through tuples are scanned like any other.
//! 3. **Mark.** Nodes with `gc_refs > 0` are roots; everything reachable
//!    from a root is alive.
//! 4. Whatever is left is referenced only by other leftovers: garbage. Each
//!    gets a counted reference (taken while the world is still stopped), so
//!    releasing it later goes through the counting protocol like any drop.
//!
//! # Why a stopped world makes the counts safe to use
//!
//! Every mutator parks only after merging its queue and flushing its
//! coalescing buffer, and a detached one flushed when it detached, so no
//! increment is hidden from the headers: a count can only be *over*
//! (a decrement still waiting an epoch under [`Deferred`](crate::Deferred),
//! or a merge not yet done). Over-counting makes an object look externally
//! referenced — it survives this round and is found by a later one — but
//! never makes a live object look like garbage. Objects whose count is
//! already zero are being freed by someone else (waiting in a detached
//! owner's merge queue) and are left alone.
//!
//! Frozen objects are skipped altogether: a frozen object only points at
//! frozen objects, so no reference from one can explain a count here, and
//! frozen cycles are freed by their component count
//! ([`freeze`](crate::freeze)), not by scanning.
//!
//! # Survivors
//!
//! The scan also counts the live data the next threshold follows (see
//! "Keeping up with several mutators" in the [collector's docs](super)):
//! tracked containers found alive by this scan that an earlier scan also
//! found alive, plus the frozen ones. Each container's mark remembers the
//! last scan: a container allocated since then has no mark (it may be
//! garbage whose decrements have not landed yet), and one a scan found to
//! be garbage keeps the node number [`CONDEMNED`] for good, however many
//! scans see it again before the counting protocol frees it.

use core::ptr::NonNull;

use rustc_hash::FxHashMap;

use crate::object::tracked::{self, ScanMark, TrackedSet};
use crate::object::{Kind, Object, Ref};
use crate::policy::RuntimePolicy;
use crate::sync::{lazy_global, AtomicU32, Ordering::Relaxed};

/// The node number in the mark of a container that a collection found to
/// be garbage: it is being freed (its last decrements wait in its owner's
/// queue or for an epoch), so later scans do not count it as live data.
/// Nothing can reach garbage again, so the mark never needs clearing.
pub(crate) const CONDEMNED: u32 = u32::MAX;

/// One scanned object.
struct Node<P: RuntimePolicy> {
    object: NonNull<Object<P>>,
    /// References from outside the scanned set (after step 2).
    gc_refs: isize,
    /// Reachable from a node with `gc_refs > 0` (step 3).
    alive: bool,
    /// An earlier collection scanned it and found it alive: a container
    /// that has outlived a collection, as opposed to one allocated since the
    /// last (which may be garbage whose decrements are still on their way).
    long_lived: bool,
    /// An earlier collection found it to be garbage (see [`CONDEMNED`]).
    condemned: bool,
}

/// The scanned objects. A container's node number is in its link's
/// [`ScanMark`]; tuples, which have no link, are found by address.
struct Scan<P: RuntimePolicy> {
    nodes: Vec<Node<P>>,
    /// This collection's stamp: a mark with another stamp is stale (from an
    /// earlier collection, or another runtime's).
    stamp: u32,
    tuples: FxHashMap<usize, u32>,
}

lazy_global!(fn collections() -> AtomicU32 = AtomicU32::new(0));

/// A stamp no earlier collection of any runtime in the process used (0
/// means "never scanned"; wrapping after 2^32 collections could at worst
/// take a stale mark for a live one, which needs the marked object to be
/// another runtime's and unscanned for 2^32 collections).
fn next_stamp() -> u32 {
    // Relaxed: only uniqueness matters, which the RMW gives.
    let stamp = collections().fetch_add(1, Relaxed).wrapping_add(1);
    if stamp == 0 {
        collections().fetch_add(1, Relaxed).wrapping_add(1)
    } else {
        stamp
    }
}

/// What a scan found.
pub(crate) struct Found<P: RuntimePolicy> {
    /// Objects scanned (tracked ones and the tuples met on the way).
    pub(crate) scanned: usize,
    /// The garbage, each with a counted reference taken by the scan.
    pub(crate) garbage: Vec<Ref<P>>,
    /// Tracked containers that are live data: frozen, or found alive by this
    /// scan and an earlier one (CPython's `long_lived_total`). What the next
    /// threshold is proportional to.
    pub(crate) survivors: usize,
}

/// Whether `object` can be a node: a container or tuple that is not frozen.
#[inline]
fn scannable<P: RuntimePolicy>(object: &Object<P>) -> bool {
    (object.kind().is_tracked() || object.kind() == Kind::Tuple) && !object.is_frozen()
}

/// The count of a scannable object, or `None` if it is being freed
/// (zero) or immortal.
fn count_of<P: RuntimePolicy>(object: &Object<P>) -> Option<isize> {
    match P::strong_count(object.rc_header()) {
        0 | usize::MAX => None,
        n => Some(isize::try_from(n).unwrap_or(isize::MAX)),
    }
}

impl<P: RuntimePolicy> Scan<P> {
    fn add(&mut self, object: NonNull<Object<P>>, gc_refs: isize) {
        let node = u32::try_from(self.nodes.len())
            .ok()
            .filter(|&node| node != CONDEMNED)
            .expect("fewer than 2^32 - 1 tracked objects");
        // SAFETY: `object` is alive (its count is not zero) and the world is
        // stopped.
        let object_ref = unsafe { object.as_ref() };
        let (mut long_lived, mut condemned) = (false, false);
        if object_ref.kind().is_tracked() {
            // SAFETY: a tracked container, world stopped.
            let mark = unsafe { &mut *tracked::mark_of(object_ref) };
            // Only this runtime's collections mark its containers, so a
            // mark of any earlier stamp is one of this runtime's scans.
            condemned = mark.node == CONDEMNED;
            long_lived = *mark != ScanMark::NONE && !condemned;
            *mark = ScanMark {
                stamp: self.stamp,
                node,
            };
        } else {
            self.tuples.insert(object.as_ptr() as usize, node);
        }
        self.nodes.push(Node {
            object,
            gc_refs,
            alive: false,
            long_lived,
            condemned,
        });
    }

    /// The node made of `object` in this collection, if any.
    #[inline]
    fn node_of(&self, object: &Object<P>) -> Option<u32> {
        if object.kind().is_tracked() {
            // SAFETY: a tracked container, world stopped.
            let mark = unsafe { *tracked::mark_of(object) };
            (mark.stamp == self.stamp).then_some(mark.node)
        } else if object.kind() == Kind::Tuple {
            self.tuples
                .get(&(object as *const Object<P> as usize))
                .copied()
        } else {
            None
        }
    }

    /// Step 2: subtracts internal references, adding tuples as they are met.
    fn subtract_internal(&mut self) {
        let mut next = 0;
        while next < self.nodes.len() {
            // SAFETY: nodes are live while the world is stopped (their
            // counts are not zero and nobody is dropping references).
            let object = unsafe { self.nodes[next].object.as_ref() };
            object.for_each_child(|child| {
                if !scannable(child) {
                    return;
                }
                match self.node_of(child) {
                    Some(node) => self.nodes[node as usize].gc_refs -= 1,
                    None if child.kind() == Kind::Tuple => {
                        if let Some(count) = count_of(child) {
                            self.add(NonNull::from(child), count - 1);
                        }
                    }
                    // A container of another runtime: its references are
                    // external to this scan, which is the safe reading.
                    None => {}
                }
            });
            next += 1;
        }
    }

    /// Step 3: marks everything reachable from a node with external
    /// references.
    fn mark_alive(&mut self) {
        let mut stack: Vec<u32> = Vec::new();
        for (i, node) in self.nodes.iter_mut().enumerate() {
            if node.gc_refs > 0 {
                node.alive = true;
                stack.push(i as u32);
            }
        }
        while let Some(i) = stack.pop() {
            // SAFETY: as in `subtract_internal`.
            let object = unsafe { self.nodes[i as usize].object.as_ref() };
            object.for_each_child(|child| {
                if let Some(j) = self.node_of(child) {
                    let node = &mut self.nodes[j as usize];
                    if !node.alive {
                        node.alive = true;
                        stack.push(j);
                    }
                }
            });
        }
    }
}

/// Finds the garbage among the members of `sets`.
///
/// # Safety
///
/// The world is stopped: no mutator of the runtime that owns `sets` runs,
/// and every one has merged its queue and flushed its buffer (detached ones
/// when they detached); no other thread touches the runtime's objects.
pub(crate) unsafe fn find_garbage<P: RuntimePolicy>(
    sets: &[std::sync::Arc<TrackedSet>],
) -> Found<P> {
    let mut frozen = 0;
    let mut scan = Scan {
        nodes: Vec::with_capacity(super::members(sets)),
        stamp: next_stamp(),
        tuples: FxHashMap::default(),
    };
    for set in sets {
        set.for_each::<P>(|object| {
            // SAFETY: a member of a set is allocated until it is unlinked,
            // and unlinking waits for the set's lock, which we hold.
            let member = unsafe { object.as_ref() };
            if member.is_frozen() {
                frozen += 1;
                return;
            }
            if let Some(count) = count_of(member) {
                scan.add(object, count);
            }
        });
    }
    scan.subtract_internal();
    scan.mark_alive();
    let mut survivors = frozen;
    let mut garbage = Vec::new();
    for node in &scan.nodes {
        // SAFETY: garbage is referenced only by other garbage, which nobody
        // can reach, and live nodes are alive: either stays allocated while
        // the world is stopped.
        let object = unsafe { node.object.as_ref() };
        let tracked = object.kind().is_tracked();
        if tracked && (node.condemned || !node.alive) {
            // Condemned now, or still (this scan overwrote the mark).
            // SAFETY: a tracked container, world stopped.
            unsafe { (*tracked::mark_of(object)).node = CONDEMNED };
        }
        if node.alive {
            survivors += usize::from(tracked && node.long_lived);
        } else {
            garbage.push(object.to_ref());
        }
    }
    Found {
        scanned: scan.nodes.len(),
        garbage,
        survivors,
    }
}
