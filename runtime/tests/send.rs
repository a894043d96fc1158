//! Cross-interpreter channels: every send mode, every error, under every
//! counting policy.
//!
//! Every failed send must give the sender its value back unchanged (same
//! object, same contents, same counts) and still usable. Every test runs in
//! a fresh runtime and checks afterwards that dropping it freed every object
//! and every `Tracked` native exactly once. Object handles never reach the
//! test's main thread (it holds no mutator, which the `Gil` policy needs
//! for counting), only plain values do.

#[macro_use]
mod common;

use std::sync::mpsc;

use brisk_runtime::{
    channel, live_objects, Kind, Mutator, Ref, Runtime, RuntimePolicy, SendErrorKind, SendMode,
};
use common::{count_snapshot, on, render, settle, tracked_counts, Answer, Holder, Tracked};

/// Runs `body` on a fresh runtime, then checks that dropping the runtime
/// brought the live-object counter back and dropped every `Tracked` once.
fn run<P: RuntimePolicy + 'static>(body: fn(&Runtime<P>)) {
    let _serial = common::serial();
    let baseline = live_objects();
    let (created_before, dropped_before) = tracked_counts();
    {
        let runtime = Runtime::<P>::new();
        body(&runtime);
    }
    assert_eq!(
        settle(baseline),
        baseline,
        "objects leaked under {}",
        P::NAME
    );
    let (created, dropped) = tracked_counts();
    assert_eq!(
        created - created_before,
        dropped - dropped_before,
        "tracked natives leaked or were dropped twice under {}",
        P::NAME
    );
}

/// Whether the policy biases objects to a thread (so a thread can only
/// vouch for counts of objects it owns and no other thread has counted).
fn biased<P: RuntimePolicy>() -> bool {
    matches!(P::NAME, "biased" | "deferred")
}

/// The owner id of an object the calling thread allocates now.
fn my_owner_id<P: RuntimePolicy>(m: &Mutator<P>) -> u32 {
    m.float(0.0).rc_header().owner()
}

/// The error of a move that found `external_refs` references from outside
/// and no object it could not vouch for.
fn external(external_refs: usize) -> SendErrorKind {
    SendErrorKind::NotIsolated {
        external_refs,
        unverifiable: 0,
    }
}

/// A graph of every mutable and immutable built-in type plus a native:
/// `[1000, "s", (2.5, b"b"), {"k": [7]}, [], tracked#id]`.
fn sample<P: RuntimePolicy>(m: &Mutator<P>, id: u64) -> Ref<P> {
    let d = m.dict();
    d.dict_set(m.str("k"), m.list(vec![m.int(7)])).unwrap();
    m.list(vec![
        m.int(1000),
        m.str("s"),
        m.tuple(vec![m.float(2.5), m.bytes(b"b")]),
        d,
        m.list(Vec::new()),
        m.native(Box::new(Tracked::new(id))),
    ])
}

const SAMPLE: &str = "[1000,\"s\",(2.5,b\"b\",),{\"k\":[7,],},[],tracked#7,]";

/// Asserts that `value` is `original`, unchanged, and still usable.
fn assert_unchanged<P: RuntimePolicy>(
    m: &Mutator<P>,
    value: &Ref<P>,
    original: *const brisk_runtime::Object<P>,
    rendered: &str,
    counts: &[(usize, usize)],
) {
    assert_eq!(Ref::as_ptr(value), original, "not the same object");
    assert_eq!(render(value), rendered, "contents changed");
    assert_eq!(count_snapshot(value), counts, "counts changed");
    if value.kind() == Kind::List && !value.is_frozen() {
        value.push(m.int(1)).unwrap();
        value.pop().unwrap();
    }
}

all_policies! {
    /// Share of an unfrozen graph fails with NotShareable and changes nothing.
    share_of_unfrozen_is_refused,
    /// Move with references from outside the graph reports how many.
    move_with_external_references_is_refused,
    /// Move of a graph another thread of the interpreter also references.
    move_of_graph_referenced_by_another_thread,
    /// Move of a graph another thread has counted: unverifiable where counts are biased.
    move_of_graph_counted_by_another_thread,
    /// Move of objects another thread made: unverifiable where counts are biased.
    move_of_objects_made_by_another_thread,
    /// Copy of a graph that holds a slot fails with NotCopyable and frees the partial copy.
    copy_with_slot_is_refused,
    /// Copy of natives without `copy` fails with NotCopyable.
    copy_with_uncopyable_native_is_refused,
    /// A send to a dropped receiver fails with Disconnected in every mode.
    send_to_dropped_receiver_returns_the_value,
    /// Share across interpreters passes the same frozen object.
    share_across_interpreters,
    /// Move across interpreters hands the same objects over, re-biased to the receiver.
    move_across_interpreters,
    /// Copy across interpreters gives the receiver its own equal graph.
    copy_across_interpreters,
    /// Copy keeps shared children shared and cycles cyclic, and shares frozen parts.
    copy_preserves_sharing_and_cycles,
    /// Move of cyclic graphs, and of graphs with frozen parts held elsewhere.
    move_of_cycles_and_frozen_parts,
    /// Move of tuples nested past the walk's in-place expansion, one reached twice.
    move_of_deeply_nested_tuples,
    /// An immortal native crosses in every mode as the same object, inside a graph or alone.
    immortal_native_crosses_in_every_mode,
    /// Move refused, and nothing freed under the walk, while another mutator rewrites a part it holds.
    move_while_another_mutator_rewrites_a_part,
    /// Receive ends with RecvError once every sender is gone and the channel is empty.
    recv_after_senders_are_gone,
    /// Send errors display readable messages.
    send_error_messages,
}

fn share_of_unfrozen_is_refused<P: RuntimePolicy + 'static>(runtime: &Runtime<P>) {
    let a = runtime.new_interpreter("a");
    on(&a, |m| {
        let (tx, rx) = channel::<P>();
        let value = sample(m, 7);
        let (ptr, rendered, counts) = (Ref::as_ptr(&value), render(&value), count_snapshot(&value));
        let err = tx.send(m, value, SendMode::Share).unwrap_err();
        assert_eq!(err.kind, SendErrorKind::NotShareable { kind: Kind::List });
        assert_unchanged(m, &err.value, ptr, &rendered, &counts);
        assert!(!err.value.is_frozen());
        // Partly frozen is not enough: the root must be frozen.
        let child = m.tuple(vec![m.str("frozen")]);
        m.freeze(&child).unwrap();
        let err = tx
            .send(m, m.list(vec![child]), SendMode::Share)
            .unwrap_err();
        assert_eq!(err.kind, SendErrorKind::NotShareable { kind: Kind::List });
        // Once frozen it is shareable; immortals always are.
        let value = err.value;
        m.freeze(&value).unwrap();
        tx.send(m, value, SendMode::Share).unwrap();
        tx.send(m, m.none(), SendMode::Share).unwrap();
        assert!(rx.recv(m).unwrap().is_frozen());
        assert_eq!(rx.recv(m).unwrap().kind(), Kind::None);
    });
}

fn move_with_external_references_is_refused<P: RuntimePolicy + 'static>(runtime: &Runtime<P>) {
    let a = runtime.new_interpreter("a");
    on(&a, |m| {
        let (tx, _rx) = channel::<P>();
        // One extra reference to the root.
        let value = sample(m, 7);
        let extra_root = value.clone();
        let (ptr, rendered, counts) = (Ref::as_ptr(&value), render(&value), count_snapshot(&value));
        let err = tx.send(m, value, SendMode::Move).unwrap_err();
        assert_eq!(err.kind, external(1));
        assert_unchanged(m, &err.value, ptr, &rendered, &counts);
        // Plus two to inner objects, and one from an unrelated container.
        // The int held outside is not counted: an immutable value held
        // elsewhere is shared by a move, not refused.
        let value = err.value;
        let extra_dict = value.get_item(3).unwrap();
        let extra_leaf = value.get_item(0).unwrap();
        let outside = m.list(vec![value.get_item(4).unwrap()]);
        let counts = count_snapshot(&value);
        let err = tx.send(m, value, SendMode::Move).unwrap_err();
        assert_eq!(err.kind, external(3));
        assert_unchanged(m, &err.value, ptr, &rendered, &counts);
        // Give them up one by one.
        let value = err.value;
        drop((extra_root, extra_dict, extra_leaf));
        let err = tx.send(m, value, SendMode::Move).unwrap_err();
        assert_eq!(err.kind, external(1));
        drop(outside);
        let value = err.value;
        // An object referenced twice from inside the graph is isolated.
        let twice = m.list(vec![m.str("x")]);
        value.push(twice.clone()).unwrap();
        value.push(twice).unwrap();
        tx.send(m, value, SendMode::Move).unwrap();
    });
}

fn move_of_graph_referenced_by_another_thread<P: RuntimePolicy + 'static>(runtime: &Runtime<P>) {
    let a = runtime.new_interpreter("a");
    let a2 = a.clone();
    on(&a, move |m| {
        let (tx, _rx) = channel::<P>();
        let x = m.list(vec![m.int(5000)]);
        let value = m.list(vec![x.clone()]);
        // Another mutator of this interpreter holds a reference to `x`
        // (cloned here by its owner, so the count stays exact).
        let (hold_tx, hold_rx) = mpsc::channel::<()>();
        let (held_tx, held_rx) = mpsc::channel::<()>();
        let other = a2.spawn(move |m2| {
            let held = x;
            held_tx.send(()).unwrap();
            m2.blocking(|| hold_rx.recv().unwrap());
            assert_eq!(held.get_item(0).unwrap().as_int(), Some(5000));
        });
        m.blocking(|| held_rx.recv().unwrap());
        let (ptr, rendered) = (Ref::as_ptr(&value), render(&value));
        let err = tx.send(m, value, SendMode::Move).unwrap_err();
        assert_eq!(err.kind, external(1));
        assert_eq!(Ref::as_ptr(&err.value), ptr);
        assert_eq!(render(&err.value), rendered);
        err.value.push(m.none()).unwrap();
        hold_tx.send(()).unwrap();
        m.blocking(|| other.join().unwrap());
    });
}

fn move_of_graph_counted_by_another_thread<P: RuntimePolicy + 'static>(runtime: &Runtime<P>) {
    let a = runtime.new_interpreter("a");
    let a2 = a.clone();
    on(&a, move |m| {
        let (tx, _rx) = channel::<P>();
        let x = m.list(vec![m.int(5000)]);
        let value = m.list(vec![x.clone()]);
        // Another mutator clones `x` itself: a non-owner count.
        let (hold_tx, hold_rx) = mpsc::channel::<()>();
        let (held_tx, held_rx) = mpsc::channel::<()>();
        let other = a2.spawn(move |m2| {
            let again = x.clone();
            m2.full_safepoint(); // flush a buffered count
            held_tx.send(()).unwrap();
            m2.blocking(|| hold_rx.recv().unwrap());
            drop((x, again));
        });
        m.blocking(|| held_rx.recv().unwrap());
        let (ptr, rendered) = (Ref::as_ptr(&value), render(&value));
        let err = tx.send(m, value, SendMode::Move).unwrap_err();
        let expected = if biased::<P>() {
            // The owner cannot know how many references the other thread
            // holds, so it treats `x` as shared.
            SendErrorKind::NotIsolated {
                external_refs: 0,
                unverifiable: 1,
            }
        } else {
            external(2)
        };
        assert_eq!(err.kind, expected);
        assert_eq!(Ref::as_ptr(&err.value), ptr);
        assert_eq!(render(&err.value), rendered);
        err.value.push(m.none()).unwrap();
        hold_tx.send(()).unwrap();
        m.blocking(|| other.join().unwrap());
    });
}

fn move_of_objects_made_by_another_thread<P: RuntimePolicy + 'static>(runtime: &Runtime<P>) {
    let a = runtime.new_interpreter("a");
    let b = runtime.new_interpreter("b");
    let a2 = a.clone();
    let (tx, rx) = channel::<P>();
    let receiver = b.spawn(move |m| rx.recv(m).map(|v| render(&v)).ok());
    on(&a, move |m| {
        // Another mutator makes `y` and gives it away entirely.
        let y = m.blocking(|| {
            a2.spawn(|m2| m2.list(vec![m2.str("made elsewhere")]))
                .join()
                .unwrap()
        });
        let value = m.list(vec![y]);
        let rendered = render(&value);
        let result = tx.send(m, value, SendMode::Move);
        if biased::<P>() {
            // `y` is isolated, but only its owner could prove it. Its
            // string is immutable, so it would be shared whoever held it.
            let err = result.unwrap_err();
            assert_eq!(
                err.kind,
                SendErrorKind::NotIsolated {
                    external_refs: 0,
                    unverifiable: 1
                }
            );
            assert_eq!(render(&err.value), rendered);
            err.value.push(m.none()).unwrap();
            // A copy always works.
            tx.send(m, err.value, SendMode::Copy).unwrap();
        } else {
            result.unwrap();
        }
    });
    assert_eq!(
        receiver.join().unwrap().as_deref(),
        Some(if biased::<P>() {
            "[[\"made elsewhere\",],None,]"
        } else {
            "[[\"made elsewhere\",],]"
        })
    );
}

fn copy_with_slot_is_refused<P: RuntimePolicy + 'static>(runtime: &Runtime<P>) {
    let a = runtime.new_interpreter("a");
    on(&a, |m| {
        let (tx, _rx) = channel::<P>();
        let value = sample(m, 7);
        let d = value.get_item(3).unwrap();
        d.dict_set(m.str("slot"), m.slot(Some(m.str("in slot"))))
            .unwrap();
        drop(d);
        let (ptr, rendered, counts) = (Ref::as_ptr(&value), render(&value), count_snapshot(&value));
        let live = live_objects();
        let err = tx.send(m, value, SendMode::Copy).unwrap_err();
        assert_eq!(
            err.kind,
            SendErrorKind::NotCopyable {
                kind: Kind::Slot,
                type_name: "slot"
            }
        );
        assert_eq!(live_objects(), live, "the partial copy was not freed");
        assert_unchanged(m, &err.value, ptr, &rendered, &counts);
        // A slot directly at the root.
        let err = tx.send(m, m.slot(None), SendMode::Copy).unwrap_err();
        assert!(matches!(
            err.kind,
            SendErrorKind::NotCopyable {
                kind: Kind::Slot,
                ..
            }
        ));
    });
}

fn copy_with_uncopyable_native_is_refused<P: RuntimePolicy + 'static>(runtime: &Runtime<P>) {
    let a = runtime.new_interpreter("a");
    on(&a, |m| {
        let (tx, _rx) = channel::<P>();
        let value = sample(m, 7);
        value
            .push(m.native(Box::new(Tracked::with(8, true, false))))
            .unwrap();
        let (ptr, rendered, counts) = (Ref::as_ptr(&value), render(&value), count_snapshot(&value));
        let tracked_live = |(created, dropped): (usize, usize)| created - dropped;
        let tracked_before = tracked_live(tracked_counts());
        let live = live_objects();
        let err = tx.send(m, value, SendMode::Copy).unwrap_err();
        assert_eq!(
            err.kind,
            SendErrorKind::NotCopyable {
                kind: Kind::Native,
                type_name: "tracked"
            }
        );
        assert_eq!(live_objects(), live, "the partial copy was not freed");
        assert_eq!(
            tracked_live(tracked_counts()),
            tracked_before,
            "a partial copy of a native was left behind"
        );
        assert_unchanged(m, &err.value, ptr, &rendered, &counts);
        // A native with references but no `copy` (the trait's default).
        let holder = m.native(Box::new(Holder {
            children: vec![m.str("child")],
        }));
        let err = tx
            .send(m, m.list(vec![holder]), SendMode::Copy)
            .unwrap_err();
        assert_eq!(
            err.kind,
            SendErrorKind::NotCopyable {
                kind: Kind::Native,
                type_name: "holder"
            }
        );
        assert_eq!(render(&err.value), "[native<\"child\",>,]");
    });
}

fn send_to_dropped_receiver_returns_the_value<P: RuntimePolicy + 'static>(runtime: &Runtime<P>) {
    let a = runtime.new_interpreter("a");
    on(&a, |m| {
        let (tx, rx) = channel::<P>();
        drop(rx);
        for mode in [SendMode::Share, SendMode::Move, SendMode::Copy] {
            let value = sample(m, 7);
            if mode == SendMode::Share {
                m.freeze(&value).unwrap();
            }
            let (ptr, rendered, counts) =
                (Ref::as_ptr(&value), render(&value), count_snapshot(&value));
            let live = live_objects();
            let err = tx.send(m, value, mode).unwrap_err();
            assert_eq!(err.kind, SendErrorKind::Disconnected, "{mode:?}");
            assert_eq!(live_objects(), live, "{mode:?}: a copy was left behind");
            assert_unchanged(m, &err.value, ptr, &rendered, &counts);
        }
    });
}

fn share_across_interpreters<P: RuntimePolicy + 'static>(runtime: &Runtime<P>) {
    let a = runtime.new_interpreter("a");
    let b = runtime.new_interpreter("b");
    let (tx, rx) = channel::<P>();
    let (done_tx, done_rx) = mpsc::channel::<()>();
    let sender = a.spawn(move |m| {
        let value = sample(m, 7);
        value.push(value.clone()).unwrap(); // a frozen cycle
        m.freeze(&value).unwrap();
        let kept = value.clone();
        let info = (
            Ref::as_ptr(&value) as usize,
            value.rc_header().owner(),
            render(&value),
        );
        tx.send(m, value, SendMode::Share).unwrap();
        // Keep using it while the receiver does.
        m.blocking(|| done_rx.recv().unwrap());
        assert_eq!(kept.get_item(1).unwrap().as_str(), Some("s"));
        info
    });
    let receiver = b.spawn(move |m| {
        let value = rx.recv(m).unwrap();
        let seen = (
            Ref::as_ptr(&value) as usize,
            value.rc_header().owner(),
            render(&value),
        );
        assert!(value.is_frozen());
        assert!(value.push(m.none()).is_err());
        assert_eq!(Tracked::of(&value.get_item(5).unwrap()).unwrap().id, 7);
        let clones: Vec<_> = (0..100).map(|_| value.clone()).collect();
        drop(clones);
        done_tx.send(()).unwrap();
        (seen, my_owner_id(m))
    });
    let (seen, receiver_id) = receiver.join().unwrap();
    let sent = sender.join().unwrap();
    assert_eq!(
        seen, sent,
        "the receiver sees the same object, not re-biased"
    );
    assert!(sent.2.starts_with(&SAMPLE[..SAMPLE.len() - 1]));
    if biased::<P>() {
        assert_ne!(seen.1, receiver_id);
    }
}

fn move_across_interpreters<P: RuntimePolicy + 'static>(runtime: &Runtime<P>) {
    let a = runtime.new_interpreter("a");
    let b = runtime.new_interpreter("b");
    let c = runtime.new_interpreter("c");
    let (ab_tx, ab_rx) = channel::<P>();
    let (bc_tx, bc_rx) = channel::<P>();
    let sender = a.spawn(move |m| {
        let value = sample(m, 7);
        let addresses: Vec<usize> = common::reachable(&value)
            .iter()
            .map(|o| Ref::as_ptr(o) as usize)
            .collect();
        assert_eq!(render(&value), SAMPLE);
        ab_tx.send(m, value, SendMode::Move).unwrap();
        (addresses, my_owner_id(m))
    });
    let middle = b.spawn(move |m| {
        let value = bc_check(m, &ab_rx.recv(m).unwrap(), SAMPLE);
        // The receiver owns the graph now: it can move it on.
        value.push(m.str("via b")).unwrap();
        bc_tx.send(m, value, SendMode::Move).unwrap();
    });
    let last = c.spawn(move |m| {
        let value = bc_rx.recv(m).unwrap();
        let expected = format!("{}\"via b\",]", &SAMPLE[..SAMPLE.len() - 1]);
        bc_check(m, &value, &expected);
        let addresses: Vec<usize> = common::reachable(&value)
            .iter()
            .map(|o| Ref::as_ptr(o) as usize)
            .collect();
        (addresses, my_owner_id(m))
    });
    let (sent, sender_id) = sender.join().unwrap();
    middle.join().unwrap();
    let (mut received, receiver_id) = last.join().unwrap();
    // The same objects arrived (plus the string b added).
    let mut sent = sent;
    sent.sort_unstable();
    received.sort_unstable();
    assert_eq!(received.len(), sent.len() + 1);
    assert!(sent.iter().all(|a| received.binary_search(a).is_ok()));
    if biased::<P>() {
        assert_ne!(sender_id, receiver_id);
    }
}

/// Checks a received, moved graph: contents, counts of one (nothing else
/// references it), and ownership by the receiving thread.
fn bc_check<P: RuntimePolicy>(m: &Mutator<P>, value: &Ref<P>, expected: &str) -> Ref<P> {
    assert_eq!(render(value), expected);
    assert!(!value.is_frozen());
    let me = my_owner_id(m);
    for object in common::reachable(value) {
        if object.rc_header().is_immortal() {
            continue;
        }
        assert_eq!(
            object.rc_header().owner(),
            me,
            "{object:?} is not owned by the receiver"
        );
        // One reference from the graph (or the receiver's handle for the
        // root), one from `reachable`.
        assert_eq!(Ref::strong_count(&object), 2, "{object:?}");
    }
    value.clone()
}

fn copy_across_interpreters<P: RuntimePolicy + 'static>(runtime: &Runtime<P>) {
    let a = runtime.new_interpreter("a");
    let b = runtime.new_interpreter("b");
    let (tx, rx) = channel::<P>();
    let (go_tx, go_rx) = mpsc::channel::<()>();
    let (created, _) = tracked_counts();
    let sender = a.spawn(move |m| {
        let value = sample(m, 7);
        let (rendered, counts) = (render(&value), count_snapshot(&value));
        let addresses: Vec<usize> = common::reachable(&value)
            .iter()
            .map(|o| Ref::as_ptr(o) as usize)
            .collect();
        tx.send(m, value.clone(), SendMode::Copy).unwrap();
        // The original is untouched and still ours to change.
        assert_eq!(render(&value), rendered);
        assert_eq!(count_snapshot(&value), counts);
        m.blocking(|| go_rx.recv().unwrap());
        value.push(m.str("after")).unwrap();
        value
            .get_item(3)
            .unwrap()
            .dict_set(m.str("k2"), m.none())
            .unwrap();
        addresses
    });
    let receiver = b.spawn(move |m| {
        let copy = rx.recv(m).unwrap();
        go_tx.send(()).unwrap();
        let me = my_owner_id(m);
        // Give the sender time to mutate its original.
        m.blocking(|| std::thread::sleep(std::time::Duration::from_millis(20)));
        let mut addresses = Vec::new();
        for object in common::reachable(&copy) {
            addresses.push(Ref::as_ptr(&object) as usize);
            if !object.rc_header().is_immortal() {
                assert_eq!(object.rc_header().owner(), me, "{object:?}");
                assert_eq!(Ref::strong_count(&object), 2, "{object:?}");
            }
        }
        copy.push(m.str("mine")).unwrap();
        (render(&copy), addresses)
    });
    let originals = sender.join().unwrap();
    let (rendered, copies) = receiver.join().unwrap();
    assert_eq!(
        rendered,
        format!("{}\"mine\",]", &SAMPLE[..SAMPLE.len() - 1])
    );
    let shared: Vec<_> = copies.iter().filter(|a| originals.contains(a)).collect();
    // Only immortals (the small int 7) are shared between original and copy.
    assert_eq!(shared.len(), 1, "the copy shares mutable objects");
    assert_eq!(
        tracked_counts().0,
        created + 2,
        "the native was copied once"
    );
}

fn copy_preserves_sharing_and_cycles<P: RuntimePolicy + 'static>(runtime: &Runtime<P>) {
    let a = runtime.new_interpreter("a");
    let b = runtime.new_interpreter("b");
    let (tx, rx) = channel::<P>();
    let sender = a.spawn(move |m| {
        // [x, x, root, (x,), frozen, d, l2] with d["me"] = d and
        // l2 = [(l2,)]: a cycle through a tuple.
        let x = m.list(vec![m.str("x")]);
        let frozen = m.tuple(vec![m.str("frozen"), m.list(Vec::new())]);
        m.freeze(&frozen).unwrap();
        let root = m.list(vec![x.clone(), x.clone()]);
        root.push(root.clone()).unwrap();
        root.push(m.tuple(vec![x.clone()])).unwrap();
        root.push(frozen.clone()).unwrap();
        let d = m.dict();
        d.dict_set(m.str("me"), d.clone()).unwrap();
        root.push(d.clone()).unwrap();
        let l2 = m.list(Vec::new());
        l2.push(m.tuple(vec![l2.clone()])).unwrap();
        root.push(l2.clone()).unwrap();
        tx.send(m, root.clone(), SendMode::Copy).unwrap();
        let frozen_address = Ref::as_ptr(&frozen) as usize;
        // Break the original's cycles (a non-frozen cycle is not reclaimed
        // by counting).
        root.set_item(2, m.none()).unwrap();
        d.dict_remove(&m.str("me")).unwrap();
        l2.pop().unwrap();
        frozen_address
    });
    let receiver = b.spawn(move |m| {
        let copy = rx.recv(m).unwrap();
        let item = |i| copy.get_item(i).unwrap();
        assert!(Ref::ptr_eq(&item(0), &item(1)), "x is shared");
        assert!(Ref::ptr_eq(&item(2), &copy), "the root contains itself");
        assert!(Ref::ptr_eq(&item(3).get_item(0).unwrap(), &item(0)));
        let d = item(5);
        assert!(Ref::ptr_eq(&d.dict_get(&m.str("me")).unwrap().unwrap(), &d));
        let l2 = item(6);
        assert!(Ref::ptr_eq(
            &l2.get_item(0).unwrap().get_item(0).unwrap(),
            &l2
        ));
        let frozen_address = Ref::as_ptr(&item(4)) as usize;
        // Break the copy's cycles.
        copy.set_item(2, m.none()).unwrap();
        d.dict_remove(&m.str("me")).unwrap();
        l2.pop().unwrap();
        frozen_address
    });
    let original_frozen = sender.join().unwrap();
    let copied_frozen = receiver.join().unwrap();
    assert_eq!(
        original_frozen, copied_frozen,
        "frozen parts are shared, not copied"
    );
}

fn move_of_cycles_and_frozen_parts<P: RuntimePolicy + 'static>(runtime: &Runtime<P>) {
    let a = runtime.new_interpreter("a");
    let b = runtime.new_interpreter("b");
    let (tx, rx) = channel::<P>();
    let sender = a.spawn(move |m| {
        let frozen = m.list(vec![m.str("frozen")]);
        m.freeze(&frozen).unwrap();
        // Held here too: frozen parts are not part of the moved graph.
        let kept = frozen.clone();
        let root = m.list(vec![frozen]);
        root.push(root.clone()).unwrap();
        let ring: Vec<_> = (0..10).map(|i| m.list(vec![m.int(i)])).collect();
        for i in 0..10 {
            ring[i].push(ring[(i + 1) % 10].clone()).unwrap();
        }
        root.push(ring[0].clone()).unwrap();
        drop(ring);
        tx.send(m, root, SendMode::Move).unwrap();
        m.blocking(|| std::thread::sleep(std::time::Duration::from_millis(10)));
        (Ref::as_ptr(&kept) as usize, kept.rc_header().owner())
    });
    let receiver = b.spawn(move |m| {
        let root = rx.recv(m).unwrap();
        let me = my_owner_id(m);
        assert!(Ref::ptr_eq(&root.get_item(1).unwrap(), &root));
        assert_eq!(Ref::strong_count(&root), 2, "the receiver's and its own");
        let frozen = root.get_item(0).unwrap();
        assert!(frozen.is_frozen());
        let frozen_info = (Ref::as_ptr(&frozen) as usize, frozen.rc_header().owner());
        let mut at = root.get_item(2).unwrap();
        for i in 0..10 {
            assert_eq!(at.get_item(0).unwrap().as_int(), Some(i));
            if biased::<P>() {
                assert_eq!(at.rc_header().owner(), me);
            }
            let next = at.get_item(1).unwrap();
            at = next;
        }
        // Break the cycles.
        at.pop().unwrap();
        drop(at);
        root.set_item(1, m.none()).unwrap();
        (frozen_info, me)
    });
    let kept = sender.join().unwrap();
    let (frozen_info, receiver_id) = receiver.join().unwrap();
    assert_eq!(
        kept, frozen_info,
        "the frozen part was shared, not re-biased"
    );
    if biased::<P>() {
        assert_ne!(frozen_info.1, receiver_id);
    }
}

fn move_of_deeply_nested_tuples<P: RuntimePolicy + 'static>(runtime: &Runtime<P>) {
    let a = runtime.new_interpreter("a");
    let b = runtime.new_interpreter("b");
    let (tx, rx) = channel::<P>();
    let rendered = on(&a, move |m| {
        // Forty tuples deep, far past the depth the walk expands in place;
        // the innermost tuple is reached twice, through both items of its
        // parent.
        let twice = m.tuple(vec![m.str("leaf"), m.list(vec![m.int(1000)])]);
        let mut value = m.tuple(vec![twice.clone(), twice]);
        for depth in 0..40 {
            value = m.tuple(vec![m.int(depth), value]);
        }
        // A reference from outside, thirty levels down, is found.
        let mut inner = value.clone();
        for _ in 0..30 {
            inner = inner.get_item(1).unwrap();
        }
        let rendered = render(&value);
        let err = tx.send(m, value, SendMode::Move).unwrap_err();
        assert_eq!(err.kind, external(1));
        assert_eq!(render(&err.value), rendered);
        drop(inner);
        tx.send(m, err.value, SendMode::Move).unwrap();
        rendered
    });
    on(&b, move |m| {
        let value = rx.recv(m).unwrap();
        assert_eq!(render(&value), rendered);
        let me = my_owner_id(m);
        let objects = common::reachable(&value);
        // 41 tuples, the one reached twice, and its string, list and 1000.
        assert_eq!(
            objects
                .iter()
                .filter(|o| !o.rc_header().is_immortal())
                .count(),
            45
        );
        for object in objects.iter().filter(|o| !o.rc_header().is_immortal()) {
            assert_eq!(object.rc_header().owner(), me, "{object:?}");
        }
    });
}

fn immortal_native_crosses_in_every_mode<P: RuntimePolicy + 'static>(runtime: &Runtime<P>) {
    let Ok(answer) = Ref::<P>::immortal_native(Box::new(Answer(42))) else {
        panic!("an immutable native holding nothing was refused");
    };
    let address = Ref::as_ptr(&answer) as usize;
    let a = runtime.new_interpreter("a");
    let b = runtime.new_interpreter("b");
    let (tx, rx) = channel::<P>();
    on(&a, move |m| {
        // Alone, in every mode: no freeze needed to share it, nothing to
        // adopt when moving it, and a copy is the object itself.
        for mode in [SendMode::Share, SendMode::Move, SendMode::Copy] {
            tx.send(m, answer.clone(), mode).unwrap();
        }
        // Inside a graph, which moves or is copied around it.
        let list = m.list(vec![answer.clone(), m.str("beside")]);
        tx.send(m, list.clone(), SendMode::Copy).unwrap();
        tx.send(m, list, SendMode::Move).unwrap();
    });
    on(&b, move |m| {
        for _ in 0..3 {
            assert_eq!(Ref::as_ptr(&rx.recv(m).unwrap()) as usize, address);
        }
        for _ in 0..2 {
            let list = rx.recv(m).unwrap();
            let item = list.get_item(0).unwrap();
            assert_eq!(Ref::as_ptr(&item) as usize, address);
            assert_eq!(list.get_item(1).unwrap().as_str(), Some("beside"));
        }
    });
}

fn move_while_another_mutator_rewrites_a_part<P: RuntimePolicy + 'static>(runtime: &Runtime<P>) {
    // Fewer under miri, which runs each round thousands of times slower.
    const ROUNDS: usize = if cfg!(miri) { 4 } else { 300 };
    let a = runtime.new_interpreter("a");
    let a2 = a.clone();
    on(&a, move |m| {
        let (tx, _rx) = channel::<P>();
        // `part` is held by the root and by the other mutator, so the walk
        // may not take its children for granted: the other mutator pops
        // them and drops them while the walk runs.
        let part = m.list(
            (0..64)
                .map(|i| m.list(vec![m.tuple(vec![m.int(i), m.str("x")])]))
                .collect(),
        );
        let mut value = m.list(vec![m.tuple(vec![part.clone()])]);
        let (done_tx, done_rx) = mpsc::channel::<()>();
        let other = a2.spawn(move |m2| {
            let mut i = 0_i64;
            while done_rx.try_recv().is_err() {
                drop(part.pop());
                part.push(m2.list(vec![m2.tuple(vec![m2.int(i), m2.str("y")])]))
                    .unwrap();
                i += 1;
                m2.safepoint();
            }
        });
        for _ in 0..ROUNDS {
            let err = tx.send(m, value, SendMode::Move).unwrap_err();
            let SendErrorKind::NotIsolated {
                external_refs,
                unverifiable,
            } = err.kind
            else {
                panic!("expected NotIsolated, got {:?}", err.kind);
            };
            assert!(external_refs + unverifiable >= 1);
            value = err.value;
            assert_eq!(value.len(), Some(1));
            m.safepoint();
        }
        done_tx.send(()).unwrap();
        m.blocking(|| other.join().unwrap());
    });
}

fn recv_after_senders_are_gone<P: RuntimePolicy + 'static>(runtime: &Runtime<P>) {
    let a = runtime.new_interpreter("a");
    on(&a, |m| {
        let (tx, rx) = channel::<P>();
        assert!(rx.try_recv(m).is_none());
        let tx2 = tx.clone();
        tx.send(m, m.int(1), SendMode::Share).unwrap();
        tx2.send(m, m.int(2), SendMode::Move).unwrap();
        drop((tx, tx2));
        assert_eq!(rx.try_recv(m).unwrap().as_int(), Some(1));
        assert_eq!(rx.recv(m).unwrap().as_int(), Some(2));
        assert_eq!(
            rx.recv(m).unwrap_err(),
            brisk_runtime::RecvError::Disconnected
        );
        assert!(rx.try_recv(m).is_none());
    });
}

fn send_error_messages<P: RuntimePolicy + 'static>(runtime: &Runtime<P>) {
    let a = runtime.new_interpreter("a");
    on(&a, |m| {
        let (tx, _rx) = channel::<P>();
        let err = tx.send(m, m.list(Vec::new()), SendMode::Share).unwrap_err();
        assert_eq!(
            err.to_string(),
            "cannot share a list that is not frozen (freeze it, or send it by move or copy)"
        );
        assert!(format!("{err:?}").contains("NotShareable"));
    });
    assert_eq!(
        SendErrorKind::NotIsolated {
            external_refs: 2,
            unverifiable: 1
        }
        .to_string(),
        "cannot move a graph that is referenced from outside: 2 external reference(s), 1 object(s) shared with other threads"
    );
    assert_eq!(
        SendErrorKind::NotCopyable {
            kind: Kind::Slot,
            type_name: "slot"
        }
        .to_string(),
        "cannot copy an object of type slot"
    );
    assert_eq!(
        SendErrorKind::Disconnected.to_string(),
        "the receiving end of the channel is closed"
    );
    assert_eq!(
        brisk_runtime::RecvError::Disconnected.to_string(),
        "the channel is closed and empty"
    );
    let foreign = "the channel belongs to another runtime \
         (a channel carries objects only between the interpreters of one runtime)";
    assert_eq!(SendErrorKind::ForeignRuntime.to_string(), foreign);
    assert_eq!(
        brisk_runtime::RecvError::ForeignRuntime.to_string(),
        foreign
    );
}
