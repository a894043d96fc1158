//! Garbage cycles: the dumpster benchmark's random graph, and collection
//! pauses against the size of the tracked heap.
//!
//! # The dumpster workload
//!
//! [dumpster](https://github.com/claytonwramsey/dumpster) is "a concurrent
//! cycle-tracking garbage collector" for Rust (its README). Its repository's
//! benchmark (`dumpster_bench/src/main.rs`, `single_threaded`) compares it
//! with `Rc`, `Arc`, `gc`, `bacon_rajan_cc`, `rust-cc`, `shredder` and
//! `tracing-rc` on one workload, which [`run`] reproduces (rewritten, not
//! copied):
//!
//! * a graph of nodes, each holding a vector of counted references to other
//!   nodes (its out-edges), and a vector of *roots* held by the benchmark;
//! * [`Workload::DUMPSTER`]: 50 roots to start with, then 1,000,000
//!   operations drawn from `fastrand` seeded with 12345 (the same generator
//!   and seed, so the same sequence of operations). If there are no roots a
//!   new root node is made (and nothing is drawn); otherwise one of four
//!   operations, equally likely:
//!   0. make a node and push it on the roots;
//!   1. if there are at least two roots, draw `from` then `to` among them
//!      and push an edge `from → to`;
//!   2. draw a root and remove it (`swap_remove`), dropping that reference;
//!   3. draw a root and, if it has edges, draw one and remove it
//!      (`swap_remove`);
//! * then the roots are dropped and the backend collects once. The time
//!   covers the operations, that drop and the final collection, not the 50
//!   starting nodes.
//!
//! Unlinking and dropping make unreachable cycles all along, so a backend
//! that counts references without collecting (`Arc`, `Rc`) leaks them: that
//! is the baseline's point, the cost of counting alone. The backends
//! ([`Graph`]) are brisk's runtime lists under a policy ([`BriskLists`]:
//! one `List` object per node, automatic collection at the default
//! threshold, a safepoint per operation as an interpreter's eval loop
//! reaches them, a final [`Mutator::collect`]) and the peers [`ArcGraph`],
//! [`RcGraph`], [`DumpsterSyncGraph`], [`DumpsterUnsyncGraph`] and
//! [`BaconRajanGraph`]. As in dumpster's benchmark, the thread-safe
//! backends keep a node's edges behind a `Mutex`; the single-thread ones
//! use a `RefCell` (dumpster's uses a `Mutex` for those too). brisk's
//! lists have a lock of their own, and the public list API removes an edge
//! in three locked steps (length, pop, store), where the peers lock once.
//!
//! # Pauses
//!
//! [`PauseProbe`] times [`Mutator::collect`] on a runtime of its own, on a
//! thread of its own, with a tracked heap of [`rings`]: lists linked in
//! rings of [`RING`]. A [`Heap::Live`] heap stays reachable, so a
//! collection scans it and frees nothing; a [`Heap::Garbage`] heap is
//! rebuilt and dropped before each collection, which then finds and frees
//! every ring.
//!
//! # Several interpreters making garbage
//!
//! [`concurrent_garbage`] is the pattern of the runtime's test
//! `concurrent_garbage_stays_bounded` (`runtime/tests/cycles.rs`), sized by
//! its caller: `N` interpreters of one runtime, each keeping a few live
//! lists and then making garbage cycles of two lists (each list holds the
//! other and an integer), with a safepoint per cycle as an interpreter's
//! eval loop reaches them. Automatic collection runs at the default
//! threshold, so the collector must keep up with `N` allocating threads;
//! the runtime's [`GcStats`] say how long it stopped the world and how
//! large the tracked set grew.

use std::cell::RefCell;
use std::marker::PhantomData;
use std::rc::Rc;
use std::sync::mpsc;
use std::sync::{Arc, Barrier, Mutex};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use bacon_rajan_cc::Cc;
use brisk_runtime::{
    live_objects, CollectionReport, GcStats, Mutator, Ref, Runtime, RuntimePolicy,
};
use dumpster::sync::Gc as SyncGc;
use dumpster::unsync::Gc as UnsyncGc;
use fastrand::Rng;

/// The size and seed of a run of the dumpster workload.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct Workload {
    /// Root nodes made before the clock starts.
    pub roots: usize,
    /// Operations timed.
    pub ops: usize,
    /// The generator's seed.
    pub seed: u64,
}

impl Workload {
    /// dumpster's `single_threaded` benchmark: 50 roots, 1,000,000
    /// operations, seed 12345.
    pub const DUMPSTER: Workload = Workload {
        roots: 50,
        ops: 1_000_000,
        seed: 12345,
    };

    /// The same roots and seed with `ops` operations (for short runs).
    pub const fn with_ops(self, ops: usize) -> Workload {
        Workload { ops, ..self }
    }
}

/// A graph of nodes with counted out-edges: what the workload runs on.
pub trait Graph {
    /// A counted reference to a node.
    type Node: Clone;

    /// A new node without edges.
    fn node(&mut self) -> Self::Node;

    /// Adds the edge `from → to`.
    fn link(&mut self, from: &Self::Node, to: Self::Node);

    /// If `from` has edges, draws one with `rng.usize(0..edges)` and
    /// removes it as `Vec::swap_remove` would; draws nothing otherwise.
    fn unlink(&mut self, from: &Self::Node, rng: &mut Rng);

    /// Called before each operation: an interpreter's safepoint.
    fn tick(&mut self) {}

    /// Collects cycles, once the roots are gone.
    fn collect(&mut self);

    /// What the backend knows of what it left: `None` for the peers.
    fn tally(&self) -> Option<Tally> {
        None
    }
}

/// What a brisk run left behind and how often it collected.
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq)]
pub struct Tally {
    /// Runtime objects alive after the final collection that the run
    /// allocated (0: every cycle was reclaimed).
    pub left_alive: usize,
    /// Collections during the run, the final one included.
    pub collections: u64,
}

/// Runs the workload on `graph`; returns the time of the operations, the
/// drop of the roots and the final collection.
pub fn run<G: Graph>(graph: &mut G, workload: Workload) -> Duration {
    let mut rng = Rng::with_seed(workload.seed);
    let mut roots: Vec<G::Node> = (0..workload.roots).map(|_| graph.node()).collect();
    let t0 = Instant::now();
    for _ in 0..workload.ops {
        graph.tick();
        if roots.is_empty() {
            roots.push(graph.node());
            continue;
        }
        match rng.u8(0..4) {
            0 => roots.push(graph.node()),
            1 => {
                if roots.len() > 1 {
                    let from = rng.usize(0..roots.len());
                    let to = rng.usize(0..roots.len());
                    let edge = roots[to].clone();
                    graph.link(&roots[from], edge);
                }
            }
            2 => {
                roots.swap_remove(rng.usize(0..roots.len()));
            }
            _ => {
                let from = rng.usize(0..roots.len());
                graph.unlink(&roots[from], &mut rng);
            }
        }
    }
    drop(roots);
    graph.collect();
    t0.elapsed()
}

/// Runs the workload `runs` times, each on a new graph from `make`; returns
/// the total time and the last run's [`Tally`].
pub fn timed_runs<G: Graph>(
    make: impl Fn() -> G,
    workload: Workload,
    runs: u64,
) -> (Duration, Option<Tally>) {
    let mut total = Duration::ZERO;
    let mut tally = None;
    for _ in 0..runs {
        let mut graph = make();
        total += run(&mut graph, workload);
        tally = graph.tally();
    }
    (total, tally)
}

/// Removes a drawn element of `edges` as the workload's unlink does, and
/// hands it back to be dropped outside the caller's lock.
fn swap_remove_drawn<T>(edges: &mut Vec<T>, rng: &mut Rng) -> Option<T> {
    if edges.is_empty() {
        None
    } else {
        Some(edges.swap_remove(rng.usize(0..edges.len())))
    }
}

/// brisk's runtime: one `List` object per node, holding its out-edges.
///
/// Each graph is a runtime of its own with one interpreter and the calling
/// thread attached; collection is automatic at the default threshold.
pub struct BriskLists<P: RuntimePolicy> {
    // Dropped before the runtime.
    m: Mutator<P>,
    runtime: Runtime<P>,
    live_before: usize,
}

impl<P: RuntimePolicy> BriskLists<P> {
    /// A new runtime, with this thread attached to its one interpreter.
    pub fn new() -> Self {
        let runtime = Runtime::<P>::new();
        let m = runtime.new_interpreter("cycles").attach();
        BriskLists {
            m,
            runtime,
            live_before: live_objects(),
        }
    }
}

impl<P: RuntimePolicy> Default for BriskLists<P> {
    fn default() -> Self {
        Self::new()
    }
}

impl<P: RuntimePolicy> Graph for BriskLists<P> {
    type Node = Ref<P>;

    fn node(&mut self) -> Ref<P> {
        self.m.list(Vec::new())
    }

    fn link(&mut self, from: &Ref<P>, to: Ref<P>) {
        from.push(to).expect("a node is a list");
    }

    fn unlink(&mut self, from: &Ref<P>, rng: &mut Rng) {
        let edges = from.len().expect("a node is a list");
        if edges == 0 {
            return;
        }
        let i = rng.usize(0..edges);
        let last = from.pop().expect("a node is a list").expect("not empty");
        if i < edges - 1 {
            // Drops the removed edge, as `swap_remove` does.
            from.set_item(i, last).expect("in range");
        }
    }

    fn tick(&mut self) {
        self.m.safepoint();
    }

    fn collect(&mut self) {
        self.m.collect();
    }

    fn tally(&self) -> Option<Tally> {
        Some(Tally {
            left_alive: live_objects().saturating_sub(self.live_before),
            collections: self.runtime.gc_stats().collections,
        })
    }
}

/// A peer's counted pointer to a node that keeps its out-edges in a cell.
pub trait Pointer: Clone {
    /// A new node without edges.
    fn new_node() -> Self;

    /// Runs `f` on the node's edges, under its lock or borrow.
    fn edges<R>(&self, f: impl FnOnce(&mut Vec<Self>) -> R) -> R;

    /// Collects cycles (nothing, for plain reference counting).
    fn collect();
}

/// A peer backend: nodes are [`Pointer`]s `H`.
pub struct Peer<H>(PhantomData<H>);

impl<H> Default for Peer<H> {
    fn default() -> Self {
        Peer(PhantomData)
    }
}

impl<H: Pointer> Graph for Peer<H> {
    type Node = H;

    fn node(&mut self) -> H {
        H::new_node()
    }

    fn link(&mut self, from: &H, to: H) {
        from.edges(|edges| edges.push(to));
    }

    fn unlink(&mut self, from: &H, rng: &mut Rng) {
        // Dropped after the lock: a collector may trace `from` meanwhile.
        drop(from.edges(|edges| swap_remove_drawn(edges, rng)));
    }

    fn collect(&mut self) {
        H::collect();
    }
}

/// A cell that holds a node's edges: a `Mutex` for the thread-safe peers,
/// a `RefCell` for the single-thread ones.
trait EdgeCell<T>: Default {
    fn with<R>(&self, f: impl FnOnce(&mut Vec<T>) -> R) -> R;
}

impl<T> EdgeCell<T> for Mutex<Vec<T>> {
    fn with<R>(&self, f: impl FnOnce(&mut Vec<T>) -> R) -> R {
        f(&mut self.lock().expect("no panics under the lock"))
    }
}

impl<T> EdgeCell<T> for RefCell<Vec<T>> {
    fn with<R>(&self, f: impl FnOnce(&mut Vec<T>) -> R) -> R {
        f(&mut self.borrow_mut())
    }
}

/// A peer's node type `$node` behind pointer `$ptr`, its edges in a
/// `$cell`, collected by `$collect`; and the [`Peer`] alias `$graph`.
macro_rules! peer {
    ($(#[$attr:meta])* $graph:ident = $ptr:ident<$node:ident>, $cell:ident, $collect:expr) => {
        $(#[$attr])*
        pub struct $node($cell<Vec<$ptr<$node>>>);

        impl Pointer for $ptr<$node> {
            fn new_node() -> Self {
                $ptr::new($node(Default::default()))
            }

            fn edges<R>(&self, f: impl FnOnce(&mut Vec<Self>) -> R) -> R {
                self.0.with(f)
            }

            fn collect() {
                $collect
            }
        }

        #[doc = concat!("The workload on `", stringify!($ptr), "<", stringify!($node), ">`.")]
        pub type $graph = Peer<$ptr<$node>>;
    };
}

peer!(
    /// A node of `std::sync::Arc`: counting only, cycles leak.
    ArcGraph = Arc<ArcNode>, Mutex, ()
);
peer!(
    /// A node of `std::rc::Rc`: counting only, cycles leak.
    RcGraph = Rc<RcNode>, RefCell, ()
);
peer!(
    /// A node of `dumpster::sync::Gc`, collected concurrently.
    #[derive(dumpster::Trace)]
    DumpsterSyncGraph = SyncGc<DumpsterSyncNode>, Mutex, dumpster::sync::collect()
);
peer!(
    /// A node of `dumpster::unsync::Gc`, collected on this thread.
    #[derive(dumpster::Trace)]
    DumpsterUnsyncGraph = UnsyncGc<DumpsterUnsyncNode>, RefCell, dumpster::unsync::collect()
);
peer!(
    /// A node of `bacon_rajan_cc::Cc`: synchronous trial deletion
    /// (Bacon and Rajan, ECOOP 2001), collected when asked.
    BaconRajanGraph = Cc<BaconRajanNode>, RefCell, bacon_rajan_cc::collect_cycles()
);

impl bacon_rajan_cc::Trace for BaconRajanNode {
    fn trace(&self, tracer: &mut bacon_rajan_cc::Tracer) {
        self.0.borrow().trace(tracer);
    }
}

/// Lists per ring in [`rings`].
pub const RING: usize = 10;

/// Makes `objects` lists linked in rings of [`RING`] (each list holds the
/// next; the last ring may be shorter) and returns a list holding the
/// first list of each ring: `objects + 1` tracked objects in all.
pub fn rings<P: RuntimePolicy>(m: &Mutator<P>, objects: usize) -> Ref<P> {
    let root = m.list(Vec::new());
    let mut left = objects;
    while left > 0 {
        let len = left.min(RING);
        left -= len;
        let first = m.list(Vec::new());
        let mut last = first.clone();
        for _ in 1..len {
            let next = m.list(Vec::new());
            last.push(next.clone()).expect("a list");
            last = next;
        }
        last.push(first.clone()).expect("a list");
        root.push(first).expect("a list");
    }
    root
}

/// What a [`PauseProbe`]'s heap is.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Heap {
    /// Rings that stay reachable: each collection scans them, frees nothing.
    Live,
    /// Rings built and dropped before each collection, which frees them.
    Garbage,
}

impl Heap {
    /// Its name in tables and metrics.
    pub fn name(self) -> &'static str {
        match self {
            Heap::Live => "live",
            Heap::Garbage => "garbage",
        }
    }
}

/// One collection a [`PauseProbe`] ran.
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq)]
pub struct Collected {
    /// The collector's report: its `pause` is how long the world was
    /// stopped.
    pub report: CollectionReport,
    /// The whole [`Mutator::collect`] call, which also releases the garbage
    /// after the world resumes.
    pub call: Duration,
}

/// A runtime on a thread of its own with a tracked heap of [`rings`],
/// collected by [`Mutator::collect`] on request. Automatic collection is
/// off, so only the requested collections run.
pub struct PauseProbe {
    requests: Option<mpsc::Sender<()>>,
    reports: mpsc::Receiver<Collected>,
    thread: JoinHandle<()>,
}

impl PauseProbe {
    /// Starts the thread and, for [`Heap::Live`], builds the heap of
    /// `objects` lists; returns once it is built.
    pub fn spawn<P: RuntimePolicy + 'static>(objects: usize, heap: Heap) -> Self {
        let (requests, requested) = mpsc::channel::<()>();
        let (reply, reports) = mpsc::channel();
        let thread = thread::spawn(move || {
            let runtime = Runtime::<P>::new();
            runtime.set_gc_threshold(None);
            let m = runtime.new_interpreter("pause").attach();
            let live = (heap == Heap::Live).then(|| rings(&m, objects));
            reply
                .send(Collected::default())
                .expect("the probe waits until the heap is built");
            while m.blocking(|| requested.recv()).is_ok() {
                if heap == Heap::Garbage {
                    drop(rings(&m, objects));
                }
                let t0 = Instant::now();
                let report = m.collect();
                let call = t0.elapsed();
                if reply.send(Collected { report, call }).is_err() {
                    break;
                }
            }
            drop(live);
        });
        reports.recv().expect("the probe thread builds its heap");
        PauseProbe {
            requests: Some(requests),
            reports,
            thread,
        }
    }

    /// One collection (after rebuilding and dropping the rings, for
    /// [`Heap::Garbage`]).
    pub fn collect(&self) -> Collected {
        let requests = self.requests.as_ref().expect("open until finish");
        requests.send(()).expect("the probe thread is alive");
        self.reports.recv().expect("the probe thread answers")
    }

    /// Drops the heap and the runtime and joins the thread.
    pub fn finish(mut self) {
        drop(self.requests.take());
        self.thread.join().expect("the probe thread panicked");
    }
}

/// Live lists each interpreter of [`concurrent_garbage`] keeps (as the
/// runtime test does), so that every collection also scans a live heap.
pub const LIVE_PER_INTERPRETER: usize = 250;

/// Runs `interpreters` interpreters of a fresh runtime under `P`, each
/// keeping [`LIVE_PER_INTERPRETER`] lists and making `cycles` garbage
/// cycles of two lists, all starting together; automatic collection at
/// the default threshold. Returns the runtime's collection totals once all
/// have finished.
pub fn concurrent_garbage<P: RuntimePolicy + 'static>(interpreters: usize, cycles: u64) -> GcStats {
    let runtime = Runtime::<P>::new();
    let start = Arc::new(Barrier::new(interpreters));
    let threads: Vec<_> = (0..interpreters)
        .map(|t| {
            let start = start.clone();
            runtime
                .new_interpreter(&format!("garbage-{t}"))
                .spawn(move |m| {
                    let live: Vec<_> = (0..LIVE_PER_INTERPRETER)
                        .map(|_| m.list(Vec::new()))
                        .collect();
                    m.blocking(|| start.wait());
                    for i in 0..cycles {
                        let i = i64::try_from(i).unwrap_or(i64::MAX);
                        let (a, b) = (m.list(vec![m.int(i)]), m.list(vec![m.int(i)]));
                        a.push(b.clone()).expect("a list");
                        b.push(a).expect("a list");
                        m.safepoint();
                    }
                    drop(live);
                })
        })
        .collect();
    for thread in threads {
        thread
            .join()
            .expect("a garbage-making interpreter panicked");
    }
    runtime.gc_stats()
}

#[cfg(test)]
mod tests {
    use brisk_runtime::{Biased, Deferred};

    use super::*;

    const SHORT: Workload = Workload::DUMPSTER.with_ops(20_000);

    #[test]
    fn peers_run_the_workload() {
        timed_runs(ArcGraph::default, SHORT, 1);
        timed_runs(RcGraph::default, SHORT, 1);
        timed_runs(DumpsterSyncGraph::default, SHORT, 1);
        timed_runs(DumpsterUnsyncGraph::default, SHORT, 1);
        timed_runs(BaconRajanGraph::default, SHORT, 1);
        assert_eq!(bacon_rajan_cc::number_of_roots_buffered(), 0);
    }

    /// One test for every brisk check: the live-object count is
    /// process-wide, so no other test here may allocate runtime objects
    /// beside it.
    #[test]
    fn brisk_reclaims_every_cycle() {
        for tally in [
            timed_runs(BriskLists::<Biased>::new, SHORT, 1).1,
            timed_runs(BriskLists::<Deferred>::new, SHORT, 1).1,
        ] {
            let tally = tally.expect("brisk tallies");
            assert_eq!(tally.left_alive, 0, "{tally:?}");
            assert!(tally.collections >= 1, "{tally:?}");
        }

        let objects = 95;
        let live = PauseProbe::spawn::<Biased>(objects, Heap::Live);
        let garbage = PauseProbe::spawn::<Deferred>(objects, Heap::Garbage);
        for _ in 0..2 {
            let kept = live.collect().report;
            assert_eq!(kept.unreachable, 0, "{kept:?}");
            assert!(kept.scanned > objects, "{kept:?}");
            // The rings; the list that held them was freed by its count.
            assert_eq!(garbage.collect().report.unreachable, objects);
        }
        live.finish();
        garbage.finish();

        // Several interpreters: enough cycles to pass the default threshold
        // twice, every one of them reclaimed once the runtime is gone.
        let before = live_objects();
        let cycles = (brisk_runtime::collect::DEFAULT_THRESHOLD as u64).div_ceil(2) * 2;
        let stats = concurrent_garbage::<Deferred>(2, cycles);
        assert!(stats.collections >= 2, "{stats:?}");
        assert!(stats.unreachable > 0, "{stats:?}");
        assert!(settled(before), "{} objects left", live_objects() - before);
    }

    /// Whether the live-object count comes back to `before` within a
    /// second of safepoints and epoch collections (deferred work a runtime's
    /// teardown left).
    fn settled(before: usize) -> bool {
        let _attached = brisk_gc::attach();
        for _ in 0..1000 {
            brisk_gc::safepoint();
            brisk_gc::collect(64);
            if live_objects() <= before {
                return true;
            }
            std::thread::sleep(Duration::from_millis(1));
        }
        false
    }
}
