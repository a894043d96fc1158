//! The precondition of [`SendMode::Move`](super::SendMode::Move): one walk
//! from the root checks that every reference to a mutable object of the
//! graph comes from inside the graph, except the one being sent, and lists
//! the graph's members for the receiver to re-bias (see
//! [`isolated_members`]).
//!
//! # The stopped world
//!
//! The walk reads each object's count once, when it first meets it, and
//! tallies the edges it meets afterwards against that reading. For an
//! object with several references, the answer is right only if no count
//! and no edge of the graph changes meanwhile: were another mutator that
//! holds such an object to add an edge inside the graph after its count
//! was read, the new edge would be tallied and the reference that mutator
//! holds would not, and the move would pass while that mutator still
//! reaches what the receiver adopts (under biased counting, adopting an
//! object another thread holds frees it early).
//!
//! An object with exactly one reference, reached from the root through
//! objects that also have exactly one, is different: its one reference is
//! the edge the walk followed, and only the sender reaches that edge, so
//! no other mutator holds the object or can come to. A graph made only of
//! such objects (a tree, the common case) needs nobody stopped. So the walk
//! runs first without stopping anyone, and its answer stands if every
//! mutable object it met had exactly one reference. Otherwise it runs
//! again with the sender's runtime stopped: every other mutator of every
//! interpreter of the runtime parked, having merged its queue and flushed
//! its buffer, or detached, and none of them attaching again until the
//! walk is over; a stop waits for each running mutator to reach a
//! safepoint. Threads of other runtimes never hold this runtime's objects
//! (the contract in [`collect`](crate::collect); a channel refuses them).

use core::ptr::NonNull;

use rustc_hash::FxHashMap;

use super::members::{stays_shared, Members};
use super::mode::SendErrorKind;
use crate::mutator::Mutator;
use crate::object::{Object, Payload, Ref};
use crate::policy::RuntimePolicy;

/// The "mini mark-and-sweep" of the 2017 thread: checks that every
/// reference to the objects reachable from `root` (frozen and immortal ones
/// aside) comes from inside the graph, except the one being sent. Returns
/// every object of the graph, for the receiver to adopt.
///
/// One depth-first pass, no edge lists. An object whose exact count is 1 is
/// reachable only through the edge just followed, so it cannot be met twice
/// and needs no entry in the visited map; only objects with more references
/// are looked up, and for those the edges met are tallied against the count
/// read when they were first met.
///
/// A graph with an object of several references is walked again with the
/// world stopped (module docs, "The stopped world"), so that no other
/// mutator changes a count or an edge of it under the verdict; what the
/// walk reads on this thread can still change, though: a native object's
/// `trace` runs code of its own. So the walk takes no counts only where
/// nobody can reach what it walks. An object is
/// *exclusive* when it is the root or reached from an exclusive object,
/// and its count is 1: nobody else holds it, so nobody can unlink its
/// children, and a plain pointer to a child stays valid for the whole walk.
/// The children of any other object (one with several references) are
/// held by a counted reference until the walk ends, so that no pointer of
/// the walk dangles and an address in the visited map names one object. A
/// tree, the common case, is walked without touching a single count.
pub(super) fn isolated_members<P: RuntimePolicy>(
    m: &Mutator<P>,
    root: &Ref<P>,
) -> Result<Members<P>, SendErrorKind> {
    if stays_shared(root) {
        return Ok(Members(Vec::new()));
    }
    // First without stopping anyone (module docs, "The stopped world"): a
    // graph in which every mutable object has exactly one reference is
    // reached by nobody else, and the walk's answer stands.
    let walk = IsolationWalk::run(root);
    if walk.multi.is_empty() && walk.unverifiable == 0 {
        return Ok(Members(walk.members));
    }
    drop(walk);
    // An object with several references may be held by another mutator,
    // which could change the graph under the walk: again, with every other
    // mutator of the runtime parked until the verdict is in.
    let stopped = m.stop_the_world();
    let IsolationWalk {
        multi,
        unverifiable,
        held,
        members,
        ..
    } = IsolationWalk::run(root);
    drop(held);
    drop(stopped);
    let external_refs = multi
        .values()
        .filter(|(count, _)| *count != usize::MAX)
        .map(|&(count, met)| count.saturating_sub(met))
        .sum();
    if external_refs > 0 || unverifiable > 0 {
        return Err(SendErrorKind::NotIsolated {
            external_refs,
            unverifiable,
        });
    }
    Ok(Members(members))
}

/// How deep [`IsolationWalk::meet`] expands tuples in place before it
/// leaves them on the pending stack.
const INLINE_TUPLE_DEPTH: u32 = 8;

/// How many items ahead of the one being met [`IsolationWalk::expand`]
/// asks for a list item's object.
const PREFETCH_DISTANCE: usize = 8;

/// Asks the core to start loading `object`'s first two cache lines (its
/// header and, for an object that straddles a line, the rest), without
/// waiting for them. Only a hint: nothing is read, and an address that is
/// not mapped any more costs nothing.
#[inline(always)]
fn prefetch<P: RuntimePolicy>(object: &Object<P>) {
    #[cfg(all(target_arch = "x86_64", not(miri)))]
    {
        use core::arch::x86_64::{_mm_prefetch, _MM_HINT_T0};
        let first = (object as *const Object<P>).cast::<i8>();
        // SAFETY: a prefetch reads nothing and faults on no address; SSE is
        // part of the x86-64 baseline.
        unsafe {
            _mm_prefetch::<_MM_HINT_T0>(first);
            _mm_prefetch::<_MM_HINT_T0>(first.wrapping_add(63));
        }
    }
    #[cfg(not(all(target_arch = "x86_64", not(miri))))]
    let _ = object;
}

/// The state of [`isolated_members`]' walk.
struct IsolationWalk<P: RuntimePolicy> {
    /// For objects with several references: (count when first met, edges
    /// met); `usize::MAX` for a count this thread cannot read.
    multi: FxHashMap<usize, (usize, usize)>,
    /// Whether a tuple met in a shared position holds only immutable
    /// values (see [`IsolationWalk::is_immutable`]), by address. Each tuple
    /// in it is also in `held`, so the address names one tuple.
    tuples: FxHashMap<usize, bool>,
    /// Objects counted by another thread, which this thread cannot vouch
    /// for.
    unverifiable: usize,
    /// Objects met but not yet expanded, and whether each is exclusive.
    /// Each stays alive until the walk ends: the caller holds the root, an
    /// exclusive object's children are kept by its edges (which nobody else
    /// can remove), and every other child is in `held`.
    pending: Vec<(NonNull<Object<P>>, bool)>,
    /// Counted references to the children of non-exclusive objects, kept
    /// until the walk ends so that an address in `multi` names one object.
    held: Vec<Ref<P>>,
    /// Every object met, once, root first.
    members: Vec<NonNull<Object<P>>>,
}

impl<P: RuntimePolicy> IsolationWalk<P> {
    /// Walks the graph below `root`, which the caller holds and is not
    /// shared.
    fn run(root: &Ref<P>) -> Self {
        let mut walk = IsolationWalk {
            multi: FxHashMap::default(),
            tuples: FxHashMap::default(),
            unverifiable: 0,
            pending: Vec::new(),
            held: Vec::new(),
            // Room for a small graph, so that it costs one allocation rather
            // than a series of doublings.
            members: Vec::with_capacity(16),
        };
        // The reference being sent is the edge to the root, from the caller,
        // who holds it: as from an exclusive parent.
        walk.meet(root, true, 0);
        while let Some((object, exclusive)) = walk.pending.pop() {
            // SAFETY: see `IsolationWalk::pending`.
            walk.expand(unsafe { object.as_ref() }, exclusive, 0);
        }
        walk
    }

    /// Meets each child of `object` that is part of the graph; `exclusive`
    /// says whether `object` is.
    fn expand(&mut self, object: &Object<P>, exclusive: bool, depth: u32) {
        match &object.payload {
            // The two sequences are read as slices, so the loop over their
            // items has no callback in it.
            Payload::Tuple(items) => self.follow_all(items, exclusive, depth),
            Payload::List(items) => {
                let items = items.lock();
                // Most items of a list worth moving are members: room for
                // them all at once, rather than a series of doublings that
                // copy the list so far each time.
                self.members.reserve(items.len());
                for (index, child) in items.iter().enumerate() {
                    // A long list's items are met one after another, but
                    // each meeting is long enough that the core cannot run
                    // ahead to the next item's header by itself: ask for it
                    // a few items early, so that the misses overlap.
                    if let Some(ahead) = items.get(index + PREFETCH_DISTANCE) {
                        prefetch(ahead);
                    }
                    self.follow(child, exclusive, depth);
                }
            }
            _ => object.for_each_child(|child| self.follow(child, exclusive, depth)),
        }
    }

    /// Follows each edge of `children`.
    #[inline(always)]
    fn follow_all(&mut self, children: &[Ref<P>], parent_exclusive: bool, depth: u32) {
        for child in children {
            self.follow(child, parent_exclusive, depth);
        }
    }

    /// Follows one edge, unless it leads to a shared object (tested here,
    /// inline: most children of a small tuple are immortal ints or other
    /// shared leaves).
    #[inline(always)]
    fn follow(&mut self, child: &Object<P>, parent_exclusive: bool, depth: u32) {
        if !stays_shared(child) {
            self.meet(child, parent_exclusive, depth);
        }
    }

    /// [`IsolationWalk::meet`] out of line: the recursion into a nested
    /// tuple, so that meeting a list's items runs without a call.
    #[inline(never)] // recursive; the common leaf tuple never gets here
    fn meet_nested(&mut self, child: &Object<P>, parent_exclusive: bool, depth: u32) {
        self.meet(child, parent_exclusive, depth);
    }

    /// Follows one edge to `child`, which is not shared, from a parent that
    /// is `exclusive` or not.
    #[inline(always)]
    fn meet(&mut self, child: &Object<P>, parent_exclusive: bool, depth: u32) {
        let count = P::exact_count(child.rc_header());
        // Held by more than the edge just followed (or counted by another
        // thread): an immutable value is shared rather than moved (see the
        // module doc, "Immutable values in a move"), so it is neither
        // tallied nor adopted, and nothing below it is walked. With a count
        // of 1 it is reached only through this edge and moves with its
        // parent, as any other object does.
        if count != Some(1) && self.is_immutable(child) {
            return;
        }
        if count != Some(1) && self.met_before(child, count) {
            return;
        }
        if !parent_exclusive {
            self.held.push(child.to_ref());
        }
        let exclusive = parent_exclusive && count == Some(1);
        self.members.push(NonNull::from(child));
        match &child.payload {
            // A tuple's items are fixed at birth and read without a lock:
            // expand it now, while its header is in cache, instead of coming
            // back to it once the rest of its parent has been met.
            Payload::Tuple(items) if depth < INLINE_TUPLE_DEPTH => {
                for item in items.iter() {
                    if !stays_shared(item) {
                        self.meet_nested(item, exclusive, depth + 1);
                    }
                }
            }
            // Only tuples and the tracked containers point at other
            // objects; nothing lies below any other kind, so there is no
            // need to come back to it.
            Payload::Tuple(_) => self.pending.push((NonNull::from(child), exclusive)),
            _ if child.kind().is_tracked() => {
                self.pending.push((NonNull::from(child), exclusive));
            }
            _ => {}
        }
    }

    /// Whether nobody can mutate `object` or anything it reaches: it is
    /// frozen, an immutable leaf, or a tuple (whose items are fixed at
    /// birth) of such values. The answer for a tuple is remembered, so a
    /// tuple met through many edges is looked through once.
    #[inline]
    fn is_immutable(&mut self, object: &Object<P>) -> bool {
        match &object.payload {
            Payload::Int(_) | Payload::Float(_) | Payload::Str(_) | Payload::Bytes(_) => true,
            Payload::Tuple(_) => self.is_immutable_tuple(object),
            _ => stays_shared(object),
        }
    }

    /// [`IsolationWalk::is_immutable`] for a tuple: a walk of the tuples it
    /// reaches (with a stack, not recursion, for deep nesting) that stops at
    /// the first item that is neither immutable nor a tuple still to look
    /// through.
    #[inline(never)] // only for tuples held elsewhere
    fn is_immutable_tuple(&mut self, tuple: &Object<P>) -> bool {
        let address = tuple as *const Object<P> as usize;
        if let Some(&verdict) = self.tuples.get(&address) {
            return verdict;
        }
        let mut verdict = true;
        let mut stack = vec![tuple];
        // Tuples already pushed: tuples nested as a diamond share their
        // items, and would otherwise be looked through once per path.
        let mut seen = rustc_hash::FxHashSet::default();
        'walk: while let Some(next) = stack.pop() {
            let Payload::Tuple(items) = &next.payload else {
                continue;
            };
            for item in items.iter() {
                let immutable = match &item.payload {
                    _ if stays_shared(item) => true,
                    Payload::Int(_) | Payload::Float(_) | Payload::Str(_) | Payload::Bytes(_) => {
                        true
                    }
                    Payload::Tuple(_) => {
                        let item_address = &**item as *const Object<P> as usize;
                        let known = self.tuples.get(&item_address).copied();
                        if known.is_none() && seen.insert(item_address) {
                            stack.push(item);
                        }
                        known.unwrap_or(true)
                    }
                    _ => false,
                };
                if !immutable {
                    verdict = false;
                    break 'walk;
                }
            }
        }
        // Held until the walk ends, so that no other tuple can take this
        // address while its verdict is remembered. The tuples below it are
        // not remembered: this one keeps them alive only while it lives.
        self.held.push(tuple.to_ref());
        self.tuples.insert(address, verdict);
        verdict
    }

    /// Tallies an edge to `child`, which has `count` references other than
    /// exactly one (`None`: counted by another thread). Returns whether
    /// `child` was met before, in which case it is not walked again.
    #[inline(never)] // objects with several references are the rare case in a graph worth moving
    fn met_before(&mut self, child: &Object<P>, count: Option<usize>) -> bool {
        let address = child as *const Object<P> as usize;
        if let Some((_, met)) = self.multi.get_mut(&address) {
            *met += 1;
            return true;
        }
        // Counted by another thread (`None`): treated as shared, reported
        // once, and walked to report what lies below.
        self.multi.insert(address, (count.unwrap_or(usize::MAX), 1));
        self.unverifiable += usize::from(count.is_none());
        false
    }
}
