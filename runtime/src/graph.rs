//! Walking an object graph: the shared step of freeze, move and copy.
//!
//! The walk collects the objects reachable from a root that satisfy a
//! filter (for instance "not frozen yet"), numbers them, and records the
//! edges between them. Edges to objects outside the filter are not followed.
//! It is iterative, so deep graphs do not overflow the stack.
//!
//! The graph holds a counted reference to every node, so a node cannot be
//! freed under the walk even if another thread mutates a container it came
//! from; callers that reason about counts subtract that one reference.

use rustc_hash::FxHashMap;

use crate::object::{Object, Ref};
use crate::policy::RuntimePolicy;

/// The objects reachable from a root through objects that pass a filter.
pub(crate) struct Graph<P: RuntimePolicy> {
    /// Node `i`'s object, counted. Node 0 is the root (if it passed the
    /// filter).
    pub(crate) nodes: Vec<Ref<P>>,
    /// Node `i`'s edges to other nodes, one entry per reference (so a list
    /// holding the same object twice has two edges).
    pub(crate) edges: Vec<Vec<usize>>,
    /// Node index by object address.
    index: FxHashMap<usize, usize>,
}

impl<P: RuntimePolicy> Graph<P> {
    /// Walks from `root` through objects for which `include` is true.
    pub(crate) fn walk(root: &Object<P>, include: impl Fn(&Object<P>) -> bool) -> Self {
        let mut graph = Graph {
            nodes: Vec::new(),
            edges: Vec::new(),
            index: FxHashMap::default(),
        };
        if !include(root) {
            return graph;
        }
        graph.add(root);
        let mut next = 0;
        while next < graph.nodes.len() {
            let object = graph.nodes[next].clone();
            let mut children = Vec::new();
            object.for_each_child(|child| {
                if include(child) {
                    children.push(graph.add(child));
                }
            });
            graph.edges[next] = children;
            next += 1;
        }
        graph
    }

    fn add(&mut self, object: &Object<P>) -> usize {
        let address = object as *const Object<P> as usize;
        if let Some(&i) = self.index.get(&address) {
            return i;
        }
        let i = self.nodes.len();
        self.nodes.push(object.to_ref());
        self.edges.push(Vec::new());
        self.index.insert(address, i);
        i
    }

    /// The node index of `object`, if it is in the graph.
    pub(crate) fn index_of(&self, object: &Object<P>) -> Option<usize> {
        self.index
            .get(&(object as *const Object<P> as usize))
            .copied()
    }

    /// Strongly connected components (Tarjan's algorithm, iterative), as
    /// lists of node indices.
    pub(crate) fn strongly_connected_components(&self) -> Vec<Vec<usize>> {
        const UNVISITED: usize = usize::MAX;
        let n = self.nodes.len();
        let mut index = vec![UNVISITED; n];
        let mut low = vec![0; n];
        let mut on_stack = vec![false; n];
        let mut stack = Vec::new();
        let mut components = Vec::new();
        let mut counter = 0;
        for start in 0..n {
            if index[start] != UNVISITED {
                continue;
            }
            // (node, next edge to look at)
            let mut call_stack = vec![(start, 0)];
            index[start] = counter;
            low[start] = counter;
            counter += 1;
            stack.push(start);
            on_stack[start] = true;
            while let Some(&mut (v, ref mut edge)) = call_stack.last_mut() {
                if let Some(&w) = self.edges[v].get(*edge) {
                    *edge += 1;
                    if index[w] == UNVISITED {
                        index[w] = counter;
                        low[w] = counter;
                        counter += 1;
                        stack.push(w);
                        on_stack[w] = true;
                        call_stack.push((w, 0));
                    } else if on_stack[w] {
                        low[v] = low[v].min(index[w]);
                    }
                    continue;
                }
                call_stack.pop();
                if let Some(&(parent, _)) = call_stack.last() {
                    low[parent] = low[parent].min(low[v]);
                }
                if low[v] == index[v] {
                    let mut component = Vec::new();
                    while let Some(w) = stack.pop() {
                        on_stack[w] = false;
                        component.push(w);
                        if w == v {
                            break;
                        }
                    }
                    components.push(component);
                }
            }
        }
        components
    }
}
