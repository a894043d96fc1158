//! The cycle collector under every policy: what it must free (self-cycles,
//! long rings, cycles through dicts, tuples and native objects, cycles
//! across two interpreters through slots) and what it must keep (cycles
//! reachable from a live object, members whose only outside reference is a
//! mutator's not-yet-flushed increment, frozen cycles, which their
//! component count frees instead), plus a random-graph stress test against
//! a model.
//!
//! Every test checks at the end, after its runtime is dropped, that the
//! live-object counter is back where it started.

#[macro_use]
mod common;

use std::collections::HashSet;
use std::sync::mpsc;
use std::sync::{Barrier, Mutex, PoisonError};
use std::time::Duration;

use brisk_runtime::{live_objects, Mutator, NativeObject, Object, Ref, Runtime, RuntimePolicy};
use common::{settle, settle_within, Holder};

use common::run_leak_checked as run;

/// Collects until the live-object counter is back at `expect_live`, letting
/// the frees each collection queued happen; returns how many objects the
/// collections found unreachable. Under `Deferred` a decrement can still be
/// waiting an epoch when a collection runs; the object then survives that
/// round and is found by the next.
fn collect_and_settle<P: RuntimePolicy>(m: &Mutator<P>, expect_live: usize) -> usize {
    let mut unreachable = 0;
    for _ in 0..100 {
        let report = m.collect();
        assert!(report.scanned >= report.unreachable);
        unreachable += report.unreachable;
        if settle_briefly(expect_live) {
            return unreachable;
        }
    }
    panic!(
        "{}: {} objects never freed",
        P::NAME,
        live_objects() - expect_live
    );
}

/// Drives queued and deferred work for a moment; whether the live-object
/// counter reached `expect_live`.
fn settle_briefly(expect_live: usize) -> bool {
    settle_within(expect_live, Duration::from_millis(20)) == expect_live
}

all_policies! {
    /// A list that contains itself is freed.
    self_cycle,
    /// A ring of 10 000 lists is freed; a dict that holds itself is freed.
    long_ring_and_dict_cycle,
    /// Cycles through a tuple and through a native object without `clear` are freed.
    cycles_through_tuples_and_natives,
    /// A cycle reachable from a live object survives; once unreachable it is freed.
    reachable_cycle_survives,
    /// A cycle through two interpreters' lists and slots is freed from a third thread.
    cycle_across_interpreters_through_slots,
    /// A member whose only outside reference is another mutator's unflushed increment survives.
    buffered_increment_keeps_cycle_alive,
    /// Frozen cycles are not scanned; their component count frees them.
    frozen_cycle_is_not_scanned,
    /// Allocation triggers collections, which keep garbage cycles bounded.
    allocation_triggers_collection,
    /// Random create / link / unlink / drop, checked against a model after every collection.
    random_graph_against_model,
    /// Three interpreters make garbage cycles and keep live chains while each triggers collections.
    concurrent_mutators_collect,
    /// Four interpreters making only garbage cycles keep the tracked set within a few thresholds.
    concurrent_garbage_stays_bounded,
    /// The threshold grows with live data, so garbage made beside a large live heap is collected rarely.
    threshold_grows_with_live_data,
    /// A container outlives its interpreter and runtime; its orphaned tracked set goes with it.
    container_outlives_its_runtime,
}

fn self_cycle<P: RuntimePolicy>(runtime: Runtime<P>) {
    let m = runtime.new_interpreter("main").attach();
    let before = live_objects();
    let list = m.list(vec![m.str("payload")]);
    list.push(list.clone()).unwrap();
    drop(list);
    assert_eq!(live_objects(), before + 2, "counting alone leaks the cycle");
    assert_eq!(collect_and_settle(&m, before), 1);
    let stats = runtime.gc_stats();
    assert_eq!(stats.collections, 1);
    assert_eq!((stats.last.unreachable, stats.unreachable), (1, 1));
    assert_eq!(stats.max_pause, stats.last.pause);
}

fn long_ring_and_dict_cycle<P: RuntimePolicy>(runtime: Runtime<P>) {
    const RING: usize = 10_000;
    let m = runtime.new_interpreter("main").attach();
    runtime.set_gc_threshold(None);
    let before = live_objects();
    let first = m.list(vec![]);
    let mut last = first.clone();
    for _ in 1..RING {
        let next = m.list(vec![]);
        last.push(next.clone()).unwrap();
        last = next;
    }
    last.push(first.clone()).unwrap();
    drop((first, last));
    let dict = m.dict();
    dict.dict_set(m.str("me"), dict.clone()).unwrap();
    drop(dict);
    assert_eq!(collect_and_settle(&m, before), RING + 1);
}

fn cycles_through_tuples_and_natives<P: RuntimePolicy>(runtime: Runtime<P>) {
    let m = runtime.new_interpreter("main").attach();
    let before = live_objects();
    // list → tuple → list: a tuple is not tracked, the scan finds it.
    let list = m.list(vec![]);
    let tuple = m.tuple(vec![list.clone(), m.int(1_000_000)]);
    list.push(tuple).unwrap();
    drop(list);
    // holder → list → holder: the native cannot clear, the list can.
    let list = m.list(vec![]);
    let holder = m.native(Box::new(Holder {
        children: vec![list.clone()],
    }));
    list.push(holder).unwrap();
    drop(list);
    // A tuple of the cycle, referenced from outside, keeps it: the
    // collector must count the tuple's outside reference.
    let list = m.list(vec![]);
    let kept = m.tuple(vec![list.clone()]);
    list.push(kept.clone()).unwrap();
    drop(list);
    let unreachable = m.collect().unreachable;
    assert_eq!(
        unreachable,
        4,
        "{}: two lists, a tuple and a holder",
        P::NAME
    );
    assert_eq!(kept.get_item(0).unwrap().len(), Some(1));
    drop(kept);
    assert_eq!(collect_and_settle(&m, before), 2);
}

fn reachable_cycle_survives<P: RuntimePolicy>(runtime: Runtime<P>) {
    let m = runtime.new_interpreter("main").attach();
    let before = live_objects();
    let root = m.dict();
    let a = m.list(vec![m.str("a")]);
    let b = m.list(vec![m.str("b"), a.clone()]);
    a.push(b.clone()).unwrap();
    root.dict_set(m.str("cycle"), a.clone()).unwrap();
    drop((a, b));
    let report = m.collect();
    assert_eq!(report.unreachable, 0);
    assert!(report.scanned >= 3);
    let a = root.dict_get(&m.str("cycle")).unwrap().unwrap();
    let b = a.get_item(1).unwrap();
    assert_eq!(b.get_item(0).unwrap().as_str(), Some("b"));
    assert!(Ref::ptr_eq(&b.get_item(1).unwrap(), &a));
    drop((a, b));
    drop(root);
    assert_eq!(collect_and_settle(&m, before), 2);
}

fn cycle_across_interpreters_through_slots<P: RuntimePolicy + 'static>(runtime: Runtime<P>) {
    let (a, b) = (runtime.new_interpreter("a"), runtime.new_interpreter("b"));
    let before = live_objects();
    let (to_b, from_a) = mpsc::channel::<Ref<P>>();
    let (to_a, from_b) = mpsc::channel::<Ref<P>>();
    let barrier = std::sync::Arc::new(Barrier::new(2));
    let barrier_b = barrier.clone();
    // a: list_a → slot_a; b: list_b → slot_b; each slot then gets the other
    // interpreter's list: list_a → slot_a → list_b → slot_b → list_a.
    let thread_a = a.spawn(move |m| {
        let slot_a = m.slot(None);
        let list_a = m.list(vec![slot_a.clone()]);
        to_b.send(slot_a).unwrap();
        to_b.send(list_a).unwrap();
        let slot_b = m.blocking(|| from_b.recv().unwrap());
        let list_b = m.blocking(|| from_b.recv().unwrap());
        slot_b.slot_store(Some(list_b.clone())).unwrap();
        drop((slot_b, list_b));
        m.blocking(|| barrier.wait());
    });
    let thread_b = b.spawn(move |m| {
        let slot_b = m.slot(None);
        let list_b = m.list(vec![slot_b.clone()]);
        let slot_a = m.blocking(|| from_a.recv().unwrap());
        let list_a = m.blocking(|| from_a.recv().unwrap());
        to_a.send(slot_b).unwrap();
        to_a.send(list_b).unwrap();
        slot_a.slot_store(Some(list_a.clone())).unwrap();
        drop((slot_a, list_a));
        m.blocking(|| barrier_b.wait());
    });
    thread_a.join().unwrap();
    thread_b.join().unwrap();
    brisk_gc::collect(16);
    assert_eq!(live_objects(), before + 4, "the cycle is still there");
    let report = runtime.collect();
    assert_eq!(report.unreachable, 4, "{}", P::NAME);
    assert_eq!(settle(before), before);
}

fn buffered_increment_keeps_cycle_alive<P: RuntimePolicy + 'static>(runtime: Runtime<P>) {
    let interpreter = runtime.new_interpreter("main");
    let m = interpreter.attach();
    let before = live_objects();
    let a = m.list(vec![m.str("member")]);
    let b = m.list(vec![a.clone()]);
    a.push(b.clone()).unwrap();
    let (to_other, from_main) = mpsc::channel::<Ref<P>>();
    let (cloned_tx, cloned) = mpsc::channel::<()>();
    let (collected_tx, collected) = mpsc::channel::<()>();
    let other = interpreter.spawn(move |m| {
        let shared = m.blocking(|| from_main.recv().unwrap());
        // A non-owner increment: under `Deferred` it sits in this thread's
        // buffer until a flush.
        let mine = shared.clone();
        drop(shared);
        cloned_tx.send(()).unwrap();
        // Blocking flushes on the way out; the collection runs meanwhile.
        m.blocking(|| collected.recv().unwrap());
        assert_eq!(mine.get_item(0).unwrap().as_str(), Some("member"));
        assert_eq!(mine.get_item(1).unwrap().len(), Some(1));
    });
    to_other.send(a.clone()).unwrap();
    m.blocking(|| cloned.recv().unwrap());
    drop((a, b));
    assert_eq!(m.collect().unreachable, 0, "{}", P::NAME);
    collected_tx.send(()).unwrap();
    m.blocking(|| other.join().unwrap());
    assert_eq!(collect_and_settle(&m, before), 2);
}

fn frozen_cycle_is_not_scanned<P: RuntimePolicy>(runtime: Runtime<P>) {
    let m = runtime.new_interpreter("main").attach();
    let before = live_objects();
    let a = m.list(vec![m.str("frozen")]);
    let b = m.list(vec![a.clone()]);
    a.push(b.clone()).unwrap();
    drop(b);
    m.freeze(&a).unwrap();
    let report = m.collect();
    assert_eq!((report.scanned, report.unreachable), (0, 0));
    drop(a);
    assert_eq!(
        settle(before),
        before,
        "the component count frees the frozen cycle"
    );
}

fn allocation_triggers_collection<P: RuntimePolicy>(runtime: Runtime<P>) {
    const THRESHOLD: usize = 1_000;
    let m = runtime.new_interpreter("main").attach();
    runtime.set_gc_threshold(Some(THRESHOLD));
    for _ in 0..20 * THRESHOLD {
        let list = m.list(vec![]);
        list.push(list.clone()).unwrap();
        m.safepoint();
    }
    let stats = runtime.gc_stats();
    assert!(stats.collections >= 10, "{}: {stats:?}", P::NAME);
    assert!(stats.unreachable >= 10 * THRESHOLD as u64);
    assert!(
        runtime.tracked_objects() <= 3 * THRESHOLD,
        "{}: garbage bounded, found {}",
        P::NAME,
        runtime.tracked_objects()
    );
}

/// Ids of `Marker`s dropped so far (the test binary is serial).
static DROPPED: Mutex<Option<HashSet<u64>>> = Mutex::new(None);

fn dropped() -> std::sync::MutexGuard<'static, Option<HashSet<u64>>> {
    DROPPED.lock().unwrap_or_else(PoisonError::into_inner)
}

/// A native object that records its drop, to check that no node the model
/// says is reachable was freed.
struct Marker(u64);

impl Drop for Marker {
    fn drop(&mut self) {
        let first_drop = dropped().get_or_insert_with(HashSet::new).insert(self.0);
        assert!(first_drop, "marker {} dropped twice", self.0);
    }
}

impl<P: RuntimePolicy> NativeObject<P> for Marker {
    fn type_name(&self) -> &'static str {
        "marker"
    }

    fn trace(&self, _visit: &mut dyn FnMut(&Object<P>)) {}
}

/// SplitMix64: a fixed-seed generator for the stress test.
struct SplitMix(u64);

impl SplitMix {
    fn below(&mut self, n: usize) -> usize {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        ((z ^ (z >> 31)) % n as u64) as usize
    }
}

/// Node `id` of the real graph is a list `[Marker(id), edges…]`; the model
/// keeps the same edges by id. Roots are what the test holds.
fn random_graph_against_model<P: RuntimePolicy>(runtime: Runtime<P>) {
    let steps = if cfg!(debug_assertions) {
        4_000
    } else {
        40_000
    };
    let m = runtime.new_interpreter("main").attach();
    runtime.set_gc_threshold(Some(500));
    *dropped() = Some(HashSet::new());
    let before = live_objects();
    let mut rng = SplitMix(0x5eed);
    let mut nodes: Vec<Option<Ref<P>>> = Vec::new(); // by id, while rooted
    let mut edges: Vec<Vec<u64>> = Vec::new(); // the model, by id
    let mut roots: Vec<u64> = Vec::new();
    for step in 0..steps {
        match rng.below(10) {
            // Create a rooted node.
            0..=2 => {
                let id = edges.len() as u64;
                let node = m.list(vec![m.native(Box::new(Marker(id)))]);
                nodes.push(Some(node));
                edges.push(Vec::new());
                roots.push(id);
            }
            // Link two rooted nodes.
            3..=5 if !roots.is_empty() => {
                let from = roots[rng.below(roots.len())];
                let to = roots[rng.below(roots.len())];
                let target = nodes[to as usize].clone().unwrap();
                nodes[from as usize].as_ref().unwrap().push(target).unwrap();
                edges[from as usize].push(to);
            }
            // Unlink a rooted node's last edge.
            6 if !roots.is_empty() => {
                let from = roots[rng.below(roots.len())];
                if edges[from as usize].pop().is_some() {
                    nodes[from as usize].as_ref().unwrap().pop().unwrap();
                }
            }
            // Drop a root.
            7..=9 if !roots.is_empty() => {
                let id = roots.swap_remove(rng.below(roots.len()));
                nodes[id as usize] = None;
            }
            _ => {}
        }
        m.safepoint();
        if step % 500 == 499 {
            m.collect();
            brisk_refcount::safepoint();
            check_model(&edges, &roots);
        }
    }
    drop(nodes);
    m.collect();
    assert_eq!(settle(before), before, "{}: every node freed", P::NAME);
    let dropped = dropped().take().unwrap();
    assert_eq!(
        dropped.len(),
        edges.len(),
        "{}: every marker dropped once",
        P::NAME
    );
}

/// No node reachable in the model was dropped.
fn check_model(edges: &[Vec<u64>], roots: &[u64]) {
    let mut reachable = HashSet::new();
    let mut stack: Vec<u64> = roots.to_vec();
    while let Some(id) = stack.pop() {
        if reachable.insert(id) {
            stack.extend(&edges[id as usize]);
        }
    }
    let dropped = dropped();
    let dropped = dropped.as_ref().unwrap();
    let freed_but_reachable: Vec<_> = reachable.intersection(dropped).collect();
    assert!(
        freed_but_reachable.is_empty(),
        "reachable nodes freed: {freed_but_reachable:?}"
    );
}

fn concurrent_mutators_collect<P: RuntimePolicy + 'static>(runtime: Runtime<P>) {
    const ROUNDS: i64 = if cfg!(debug_assertions) {
        3_000
    } else {
        20_000
    };
    runtime.set_gc_threshold(Some(200));
    let threads: Vec<_> = (0..3)
        .map(|t| {
            runtime
                .new_interpreter(&format!("worker-{t}"))
                .spawn(move |m| {
                    // A live chain: each link is [value, previous link], and
                    // every tenth link is also on a cycle through a dict.
                    let mut chain = m.list(vec![m.int(0)]);
                    for i in 1..=ROUNDS {
                        let link = m.list(vec![m.int(1_000 + i), chain]);
                        if i % 10 == 0 {
                            let dict = m.dict();
                            dict.dict_set(m.str("link"), link.clone()).unwrap();
                            link.push(dict).unwrap();
                        }
                        chain = link;
                        // Garbage: a two-list cycle.
                        let (a, b) = (m.list(vec![]), m.list(vec![m.int(i)]));
                        a.push(b.clone()).unwrap();
                        b.push(a).unwrap();
                        m.safepoint();
                    }
                    let mut sum = 0;
                    let mut link = chain;
                    while link.len() != Some(1) {
                        sum += link.get_item(0).unwrap().as_int().unwrap() - 1_000;
                        link = link.get_item(1).unwrap();
                    }
                    sum
                })
        })
        .collect();
    for thread in threads {
        assert_eq!(
            thread.join().unwrap(),
            ROUNDS * (ROUNDS + 1) / 2,
            "{}",
            P::NAME
        );
    }
    let stats = runtime.gc_stats();
    assert!(stats.collections > 0 && stats.unreachable > 0, "{stats:?}");
}

/// The collector must keep up with several interpreters that make garbage at
/// once: whatever the policy, no collection may find more containers tracked
/// than the live ones plus a few collection intervals' worth of allocations
/// (an interval is the threshold plus what each worker allocates before it
/// reports a batch or waits for a running collection): those since the last
/// collection, and the garbage of the last few still waiting for its
/// owners' merge or its epoch. A threshold that grew with the garbage would
/// let each collection find more than the last.
fn concurrent_garbage_stays_bounded<P: RuntimePolicy + 'static>(runtime: Runtime<P>) {
    const WORKERS: usize = 4;
    const LIVE: usize = 250;
    const THRESHOLD: usize = 1_000;
    const CYCLES: i64 = if cfg!(debug_assertions) {
        25_000
    } else {
        200_000
    };
    runtime.set_gc_threshold(Some(THRESHOLD));
    let start = std::sync::Arc::new(Barrier::new(WORKERS));
    let threads: Vec<_> = (0..WORKERS)
        .map(|t| {
            let start = start.clone();
            runtime
                .new_interpreter(&format!("worker-{t}"))
                .spawn(move |m| {
                    let live: Vec<_> = (0..LIVE).map(|_| m.list(vec![])).collect();
                    m.blocking(|| start.wait());
                    for i in 0..CYCLES {
                        let (a, b) = (m.list(vec![m.int(i)]), m.list(vec![m.int(i)]));
                        a.push(b.clone()).unwrap();
                        b.push(a).unwrap();
                        m.safepoint();
                    }
                    live.len()
                })
        })
        .collect();
    for thread in threads {
        assert_eq!(thread.join().unwrap(), LIVE);
    }
    let stats = runtime.gc_stats();
    let interval = THRESHOLD + 2 * WORKERS * brisk_runtime::collect::ALLOCATION_BATCH as usize;
    let bound = WORKERS * LIVE + 4 * interval;
    assert!(
        stats.max_tracked <= bound,
        "{}: a collection found {} containers tracked, over {bound}: {stats:?}",
        P::NAME,
        stats.max_tracked
    );
    assert!(stats.collections >= 10, "{}: {stats:?}", P::NAME);
}

/// Collection work stays proportional to allocation: once a live heap many
/// times the threshold has survived a collection, making twice that much
/// garbage takes one or two collections, not one per threshold.
fn threshold_grows_with_live_data<P: RuntimePolicy>(runtime: Runtime<P>) {
    const THRESHOLD: usize = 500;
    const LIVE: usize = 40 * THRESHOLD;
    let m = runtime.new_interpreter("main").attach();
    runtime.set_gc_threshold(Some(THRESHOLD));
    let live: Vec<_> = (0..LIVE).map(|_| m.list(vec![])).collect();
    // Twice, so that the live heap is found alive by two scans in a row.
    m.collect();
    m.collect();
    let before = runtime.gc_stats().collections;
    for _ in 0..2 * LIVE {
        let list = m.list(vec![]);
        list.push(list.clone()).unwrap();
        m.safepoint();
    }
    let collections = runtime.gc_stats().collections - before;
    assert!(
        (1..=2).contains(&collections),
        "{}: {collections} collections for {} garbage beside {LIVE} live",
        P::NAME,
        2 * LIVE
    );
    drop(live);
}

fn container_outlives_its_runtime<P: RuntimePolicy + 'static>(runtime: Runtime<P>) {
    let interpreter = runtime.new_interpreter("short-lived");
    let kept = interpreter
        .spawn(|m| m.list(vec![m.str("kept"), m.dict()]))
        .join()
        .unwrap();
    assert!(runtime.tracked_objects() >= 2);
    drop(interpreter);
    drop(runtime);
    // The list and the dict are still linked into the dropped interpreter's
    // set, which the runtime orphaned; unlinking the last frees the set.
    assert_eq!(kept.get_item(0).unwrap().as_str(), Some("kept"));
    assert_eq!(kept.get_item(1).unwrap().len(), Some(0));
    drop(kept);
}
