//! The deep copy of [`SendMode::Copy`](super::SendMode::Copy): a new graph
//! made by the sending mutator, which the receiver re-biases; frozen and
//! immortal objects are shared, not copied.

use core::ptr::NonNull;

use super::members::{stays_shared, Members};
use super::mode::SendErrorKind;
use crate::graph::Graph;
use crate::mutator::Mutator;
use crate::object::{Kind, Payload, Ref};
use crate::policy::RuntimePolicy;

/// Copies the graph reachable from `root` (sharing frozen and immortal
/// objects). Returns the copy's root and every new object.
pub(super) fn deep_copy<P: RuntimePolicy>(
    m: &Mutator<P>,
    root: &Ref<P>,
) -> Result<(Ref<P>, Members<P>), SendErrorKind> {
    let graph = Graph::walk(root, |o| !stays_shared(o));
    if graph.nodes.is_empty() {
        return Ok((root.clone(), Members(Vec::new())));
    }
    // Pass 1: leaves and empty containers; refuse what cannot be copied.
    let mut copies: Vec<Option<Ref<P>>> = Vec::with_capacity(graph.nodes.len());
    for node in &graph.nodes {
        let copy = match &node.payload {
            Payload::Int(i) => Some(m.int(*i)),
            Payload::Float(x) => Some(m.float(*x)),
            Payload::Str(s) => Some(m.str(s)),
            Payload::Bytes(b) => Some(m.bytes(b)),
            Payload::NativeFn(f) => Some(m.native_fn(f.clone())),
            Payload::List(_) => Some(m.list(Vec::new())),
            Payload::Dict(_) => Some(m.dict()),
            Payload::Tuple(_) => None, // pass 2
            Payload::Native(native) => match native.copy() {
                Some(copy) => Some(m.native(copy)),
                None => {
                    return Err(SendErrorKind::NotCopyable {
                        kind: Kind::Native,
                        type_name: native.type_name(),
                    })
                }
            },
            Payload::Slot(_) => {
                return Err(SendErrorKind::NotCopyable {
                    kind: Kind::Slot,
                    type_name: "slot",
                })
            }
            Payload::None | Payload::Bool(_) => Some(node.clone()),
        };
        copies.push(copy);
    }
    let map = |copies: &[Option<Ref<P>>], child: &Ref<P>| match graph.index_of(child) {
        Some(i) => copies[i].clone().expect("copied before use"),
        None => child.clone(), // frozen or immortal: shared
    };
    // Pass 2: tuples, children first. A cycle always passes through a list
    // or a dict (a tuple's items are fixed at birth), which exist already.
    for start in 0..graph.nodes.len() {
        let mut stack = vec![(start, false)];
        while let Some((v, children_done)) = stack.pop() {
            let Payload::Tuple(items) = &graph.nodes[v].payload else {
                continue;
            };
            if copies[v].is_some() {
                continue;
            }
            if children_done {
                let new_items = items.iter().map(|item| map(&copies, item)).collect();
                copies[v] = Some(m.tuple(new_items));
            } else {
                stack.push((v, true));
                for item in items.iter() {
                    if let Some(w) = graph.index_of(item) {
                        if copies[w].is_none() {
                            stack.push((w, false));
                        }
                    }
                }
            }
        }
    }
    // Pass 3: fill the containers.
    for (v, node) in graph.nodes.iter().enumerate() {
        let copy = copies[v].as_ref().expect("every node copied");
        match &node.payload {
            Payload::List(_) => {
                for item in node.items().expect("a list") {
                    copy.push(map(&copies, &item))
                        .expect("a fresh list is mutable");
                }
            }
            Payload::Dict(_) => {
                for (key, value) in node.dict_items().expect("a dict") {
                    copy.dict_set(map(&copies, &key), map(&copies, &value))
                        .expect("keys were hashable in the original");
                }
            }
            _ => {}
        }
    }
    let copies: Vec<Ref<P>> = copies
        .into_iter()
        .map(|copy| copy.expect("every node copied"))
        .collect();
    let members = copies.iter().map(|copy| NonNull::from(&**copy)).collect();
    // The walk starts at the root, so its copy comes first; the root's edges
    // keep every other copy alive once `copies` is dropped.
    Ok((copies[0].clone(), Members(members)))
}
