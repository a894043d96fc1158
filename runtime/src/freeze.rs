//! `freeze`: make a graph deep-immutable, so any interpreter may share it.
//!
//! A frozen object never changes again, so every interpreter can read it
//! without a lock and [`SendMode::Share`](crate::SendMode::Share) can pass
//! it in O(1). What remains is counting: a frozen graph may contain cycles,
//! and reference counting alone never frees a cycle.
//!
//! # Components
//!
//! Following Parkinson, Clebsch and Wrigstad (*Reference Counting Deeply
//! Immutable Data Structures with Cycles*, ISMM 2024), `freeze` computes the
//! strongly connected components of the newly frozen objects (Tarjan). A
//! frozen component can never gain or lose an internal edge, so it can be
//! counted as one object: one member, the representative, holds the count
//! of references from *outside* the component,
//!
//! ```text
//! count(rep) = Σ count(member) − internal edges
//! ```
//!
//! and every other member's header *forwards* to it
//! ([`RcHeader::forward_to`](brisk_refcount::RcHeader::forward_to)), so a
//! clone or drop of any member counts on the representative. When that
//! count reaches zero the whole component is unreachable and is freed as a
//! unit: the members are made immortal first, so the references they hold
//! to one another are dropped as no-ops, then their payloads are dropped
//! (releasing references leaving the component), then their memory.
//! Acyclic graphs are all single-member components and cost nothing extra.
//!
//! # Exact counts
//!
//! The component count needs each member's exact count, so `freeze` stops
//! the world: every other mutator has merged its queue and flushed its
//! buffer and is parked, and its last writes to `local` happen-before the
//! stop. Decrements still deferred by the epoch domain are applied later to
//! a member's header and follow the forward. Threads that are not mutators
//! of this runtime must not count on the graph while it is frozen.

use core::ptr::NonNull;

use crate::graph::Graph;
use crate::mutator::Mutator;
use crate::object::{
    dealloc_object, register_component, Kind, Object, Payload, Ref, FROZEN, SCC_REP,
};
use crate::policy::RuntimePolicy;
use crate::sync::{event, Ordering::Release};

/// Why a graph could not be frozen. Nothing was changed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FreezeError {
    /// The graph contains an object that cannot be made immutable (a slot,
    /// or a native object that refused).
    NotFreezable {
        /// Its type.
        kind: Kind,
        /// Its type's name (a native type's own name).
        type_name: &'static str,
    },
}

impl core::fmt::Display for FreezeError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            FreezeError::NotFreezable { type_name, .. } => {
                write!(f, "cannot freeze an object of type {type_name}")
            }
        }
    }
}

impl std::error::Error for FreezeError {}

fn address<P: RuntimePolicy>(object: &Object<P>) -> usize {
    object as *const Object<P> as usize
}

/// Whether `object` may join a frozen graph (asking native objects to
/// freeze themselves).
fn check_freezable<P: RuntimePolicy>(object: &Object<P>) -> Result<(), FreezeError> {
    let refuse = |type_name| {
        Err(FreezeError::NotFreezable {
            kind: object.kind(),
            type_name,
        })
    };
    match &object.payload {
        Payload::Slot(_) => refuse("slot"),
        Payload::Native(native) if !native.freeze() => refuse(native.type_name()),
        _ => Ok(()),
    }
}

impl<P: RuntimePolicy> Mutator<P> {
    /// Makes everything reachable from `root` deep-immutable. Afterwards
    /// the graph may be shared with any interpreter
    /// ([`SendMode::Share`](crate::SendMode::Share)), and its cycles are
    /// still reclaimed (see the [module docs](crate::freeze)).
    ///
    /// Stops the world for the duration.
    ///
    /// ```
    /// let runtime = brisk_runtime::Runtime::<brisk_runtime::Biased>::new();
    /// let m = runtime.new_interpreter("main").attach();
    /// let list = m.list(vec![m.int(1)]);
    /// m.freeze(&list).unwrap();
    /// assert!(list.is_frozen());
    /// assert!(list.push(m.int(2)).is_err());
    /// ```
    pub fn freeze(&self, root: &Ref<P>) -> Result<(), FreezeError> {
        if root.is_frozen() {
            return Ok(());
        }
        let _span =
            brisk_refcount::trace::span(|| tracing::info_span!(target: "brisk::runtime", "freeze"))
                .entered();
        let stopped = self.stop_the_world();
        let graph = Graph::walk(root, |o| !o.is_frozen() && !o.rc_header().is_immortal());
        // Slots first: a graph that cannot be frozen because of a slot must
        // not have asked any native object to freeze itself (which has
        // effects of its own) before failing.
        let (natives, others): (Vec<&Ref<P>>, Vec<&Ref<P>>) = graph
            .nodes
            .iter()
            .partition(|node| node.kind() == Kind::Native);
        others
            .into_iter()
            .chain(natives)
            .try_for_each(|node| check_freezable(node))?;
        // Counts include the graph's own reference to each node; those are
        // given back through the forwards when the graph is dropped.
        let counts: Vec<usize> = graph
            .nodes
            .iter()
            .map(|node| P::strong_count(node.rc_header()))
            .collect();
        for component in graph.strongly_connected_components() {
            let members: Vec<usize> = component;
            let internal_edges: usize = members
                .iter()
                .map(|&v| {
                    graph.edges[v]
                        .iter()
                        .filter(|w| members.contains(w))
                        .count()
                })
                .sum();
            if internal_edges == 0 {
                continue;
            }
            collapse_component(&graph, &counts, &members, internal_edges);
        }
        for node in &graph.nodes {
            // Release: publishes the flag with everything frozen before it;
            // mutators observe it after the world resumes.
            node.header.flags.fetch_or(FROZEN, Release);
        }
        event!(tracing::debug!(target: "brisk::runtime", objects = graph.nodes.len(), "frozen"));
        drop(stopped);
        Ok(())
    }
}

/// Makes `members` (node indices of one strongly connected component with
/// `internal_edges` edges among them) count as one object.
fn collapse_component<P: RuntimePolicy>(
    graph: &Graph<P>,
    counts: &[usize],
    members: &[usize],
    internal_edges: usize,
) {
    let rep = &graph.nodes[members[0]];
    let total: usize = members.iter().map(|&v| counts[v]).sum();
    let target = total - internal_edges;
    let current = counts[members[0]];
    // Increments first, so the representative's count never touches zero.
    for _ in current..target {
        // SAFETY: the graph holds a reference to `rep`.
        unsafe { P::incref(rep.rc_header()) };
    }
    for _ in target..current {
        // SAFETY: as above; `target` ≥ 1 (the graph's own reference), so
        // these decrements never free.
        unsafe { P::decref(NonNull::from(rep.rc_header()), dealloc_object::<P>) };
    }
    let rep_header = NonNull::from(rep.rc_header());
    for &v in &members[1..] {
        // SAFETY: the world is stopped; `rep` is not forwarded and outlives
        // the component; the member's references were added to `rep` above.
        unsafe { graph.nodes[v].rc_header().forward_to(rep_header) };
    }
    // Release: as for FROZEN.
    rep.header.flags.fetch_or(SCC_REP, Release);
    let addresses = members.iter().map(|&v| address(&*graph.nodes[v])).collect();
    register_component(address(&**rep), addresses);
    event!(
        tracing::trace!(target: "brisk::runtime", members = members.len(), "collapsed a frozen component")
    );
}
