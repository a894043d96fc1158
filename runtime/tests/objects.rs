//! The object model, type by type, and `freeze`, under every counting
//! policy.
//!
//! Every test body is generic over the policy and runs once per policy on
//! an attached mutator of a fresh runtime; afterwards the runtime is dropped
//! and the live-object counter must be back at its value from before the
//! test (so every test is also a leak check). The tests of this binary hold
//! one lock, because that counter is process-wide.

#[macro_use]
mod common;

use brisk_runtime::{
    live_objects, FreezeError, Kind, Mutator, NativeFn, Object, ObjectError, Ref, Runtime,
    RuntimePolicy,
};
use common::{render, settle, tracked_counts, Answer, Holder, Tracked};
use std::sync::atomic::Ordering::SeqCst;

/// Runs `body` on an attached mutator of a fresh runtime, then checks that
/// dropping the runtime brought the live-object counter and the `Tracked`
/// drop counter back to their values from before.
fn run<P: RuntimePolicy + 'static>(body: fn(&Mutator<P>)) {
    let _serial = common::serial();
    let baseline = live_objects();
    let (created_before, dropped_before) = tracked_counts();
    {
        let runtime = Runtime::<P>::new();
        let interpreter = runtime.new_interpreter("objects");
        let m = interpreter.attach();
        body(&m);
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
        "tracked natives leaked or were dropped twice"
    );
}

all_policies! {
    /// None, booleans and small ints are immortal, frozen, uncounted singletons.
    singletons_are_immortal_and_identical,
    /// An immortal native is frozen, uncounted and outside the live count; one that holds references or will not freeze is handed back.
    immortal_natives,
    /// A number, string or bytes held once becomes immortal; containers and shared leaves are handed back.
    immortal_leaves,
    /// Counting that tests immortality first skips only plain immortal objects, not mortal or forwarded ones.
    immortal_first_counting,
    /// Ints outside the small range and floats are fresh counted objects.
    big_ints_and_floats,
    /// Strings and byte strings: contents, byte lengths, wrong-type errors.
    strings_and_bytes,
    /// Tuples: `get_item`, `len`, `items`, out-of-range and immutability.
    tuples,
    /// Tuples of every length around the inline limit keep and release their items.
    tuples_inline_and_on_the_heap,
    /// Lists: push, pop, set_item, get_item, items, and their errors.
    lists,
    /// Replacing or popping a list item releases it.
    list_releases_replaced_items,
    /// Dicts: set, get, remove, insertion order and key equality by value.
    dicts,
    /// Mutable containers, slots and natives are refused as dict keys.
    unhashable_keys,
    /// Slots: load, store, clear, and wrong-type errors.
    slots,
    /// Native callables can be called through their descriptor.
    native_fn_call,
    /// A native type's `trace` exposes its references to the runtime.
    native_object_with_trace,
    /// Frozen lists and dicts refuse every mutation but still read.
    frozen_objects_refuse_mutation,
    /// Freezing twice, or freezing an immortal, is a no-op that succeeds.
    freeze_is_idempotent,
    /// A slot anywhere in the graph fails the freeze and nothing is frozen.
    freeze_with_slot_changes_nothing,
    /// A native that refuses to freeze fails the freeze; nothing is frozen.
    freeze_with_refusing_native_changes_nothing,
    /// Freezing walks through a native's traced references.
    freeze_through_native_trace,
    /// A frozen list that contains itself is freed with its last reference.
    frozen_self_cycle_is_freed,
    /// A frozen ring of 100 lists stays alive while any member is held and is freed after.
    frozen_ring_is_freed_with_last_member,
    /// A frozen cycle through a dict and a list is freed, with its acyclic parts.
    frozen_cycle_through_dict_is_freed,
    /// Two frozen cycles, one pointing into the other, frozen at different times.
    frozen_cycles_frozen_in_two_steps,
    /// Freeing a 100 000-deep chain of lists does not overflow the stack.
    deep_chain_is_freed_iteratively,
    /// Error values display readable messages.
    error_messages,
}

fn singletons_are_immortal_and_identical<P: RuntimePolicy>(m: &Mutator<P>) {
    let before = live_objects();
    let singletons = [
        (m.none(), m.none()),
        (m.bool(true), m.bool(true)),
        (m.bool(false), m.bool(false)),
        (m.int(-5), m.int(-5)),
        (m.int(0), m.int(0)),
        (m.int(256), m.int(256)),
    ];
    for (a, b) in &singletons {
        assert!(Ref::ptr_eq(a, b), "{a:?} is not a singleton");
        assert!(a.rc_header().is_immortal());
        assert!(a.is_frozen(), "immortals count as frozen");
        assert_eq!(Ref::strong_count(a), usize::MAX);
    }
    assert!(!Ref::ptr_eq(&m.bool(true), &m.bool(false)));
    assert_eq!(m.none().kind(), Kind::None);
    assert_eq!(m.bool(true).as_bool(), Some(true));
    assert_eq!(m.bool(false).as_bool(), Some(false));
    assert_eq!(m.int(256).as_int(), Some(256));
    // Clones and drops of immortals are no-ops.
    let clones: Vec<_> = (0..1000).map(|_| m.none()).collect();
    drop(clones);
    assert!(m.none().rc_header().is_immortal());
    assert_eq!(live_objects(), before, "singletons are not counted as live");
    // Just outside the cached range: ordinary objects.
    let (a, b) = (m.int(257), m.int(257));
    let (c, d) = (m.int(-6), m.int(-6));
    assert!(!Ref::ptr_eq(&a, &b));
    assert!(!Ref::ptr_eq(&c, &d));
    assert!(!a.rc_header().is_immortal());
    assert_eq!(live_objects(), before + 4);
    assert_eq!(Ref::strong_count(&a), 1);
    drop((a, b, c, d));
    assert_eq!(live_objects(), before);
}

fn immortal_natives<P: RuntimePolicy + 'static>(m: &Mutator<P>) {
    // Refused and handed back: a native that holds a reference (it could
    // never release it), and one that will not freeze.
    let child = m.list(vec![m.int(1)]);
    let holder = Holder {
        children: vec![child.clone()],
    };
    let Err(holder) = Ref::<P>::immortal_native(Box::new(holder)) else {
        panic!("a native holding a reference was made immortal");
    };
    assert_eq!(holder.type_name(), "holder");
    drop(holder);
    assert_eq!(Ref::strong_count(&child), 1);
    let stubborn = Tracked::with(7, false, true);
    let Err(stubborn) = Ref::<P>::immortal_native(Box::new(stubborn)) else {
        panic!("a native that will not freeze was made immortal");
    };
    let stubborn: Box<dyn std::any::Any> = stubborn;
    assert_eq!(stubborn.downcast_ref::<Tracked>().unwrap().id, 7);
    drop(stubborn);
    // Accepted: immortal and frozen, outside the live count, and counting
    // it changes nothing.
    let before = live_objects();
    let Ok(answer) = Ref::<P>::immortal_native(Box::new(Answer(42))) else {
        panic!("an immutable native holding nothing was refused");
    };
    assert_eq!(live_objects(), before);
    assert!(answer.rc_header().is_immortal());
    assert!(answer.is_frozen());
    let copies: Vec<Ref<P>> = (0..10).map(|_| answer.clone()).collect();
    drop(copies);
    assert!(answer.rc_header().is_immortal());
    let value = answer.downcast_native::<Answer>();
    assert_eq!(value.map(|a| a.0), Some(42));
    // Freezing it again, or a list that holds it, is fine.
    m.freeze(&answer).unwrap();
    let list = m.list(vec![answer.clone()]);
    m.freeze(&list).unwrap();
    drop((answer, list));
    assert_eq!(live_objects(), before);
}

fn immortal_leaves<P: RuntimePolicy + 'static>(m: &Mutator<P>) {
    let before = live_objects();
    let leaves = [
        m.int(1 << 40),
        m.float(0.5),
        m.str("constant"),
        m.bytes(b"raw"),
    ];
    assert_eq!(live_objects(), before + 4);
    for leaf in leaves {
        let rendered = render(&leaf);
        let Ok(leaf) = Ref::into_immortal(leaf) else {
            panic!("a leaf held once was refused");
        };
        assert!(leaf.rc_header().is_immortal());
        assert!(leaf.is_frozen());
        assert_eq!(render(&leaf), rendered);
        drop((leaf.clone(), leaf.clone()));
        assert!(leaf.rc_header().is_immortal());
    }
    assert_eq!(
        live_objects(),
        before,
        "immortal leaves leave the live count"
    );
    // Already immortal: handed straight back as immortal.
    assert!(Ref::into_immortal(m.int(7)).is_ok());
    // Refused, unchanged: a container, and a leaf with a second reference.
    let list = m.list(vec![m.str("x")]);
    let Err(list) = Ref::into_immortal(list) else {
        panic!("a list was made immortal");
    };
    assert!(!list.rc_header().is_immortal() && !list.is_frozen());
    let text = m.str("held twice");
    let other = text.clone();
    let Err(text) = Ref::into_immortal(text) else {
        panic!("a string with two references was made immortal");
    };
    assert_eq!(Ref::strong_count(&text), 2);
    assert!(!text.rc_header().is_immortal());
    // A frozen cycle's members: one of them forwards its counts, and
    // neither becomes immortal.
    let (a, b) = (m.list(vec![]), m.list(vec![]));
    a.push(b.clone()).unwrap();
    b.push(a.clone()).unwrap();
    m.freeze(&a).unwrap();
    let Err(a) = Ref::into_immortal(a) else {
        panic!("a frozen cycle's member was made immortal");
    };
    let Err(b) = Ref::into_immortal(b) else {
        panic!("a frozen cycle's member was made immortal");
    };
    drop((a, b));
    assert_eq!(
        settle(before + 3),
        before + 3,
        "the frozen cycle was not freed"
    );
    drop((list, text, other));
    assert_eq!(live_objects(), before);
}

fn immortal_first_counting<P: RuntimePolicy + 'static>(m: &Mutator<P>) {
    let before = live_objects();
    // Immortal: the same object, and nothing counted either way.
    let none = m.none();
    let copy = none.clone_immortal_first();
    assert!(Ref::ptr_eq(&copy, &none));
    Ref::drop_immortal_first(copy);
    // Mortal: counted as `clone` and `drop` count.
    let list = m.list(vec![m.str("item")]);
    let copy = list.clone_immortal_first();
    assert_eq!(Ref::strong_count(&list), 2);
    Ref::drop_immortal_first(copy);
    assert_eq!(Ref::strong_count(&list), 1);
    // Forwarded (two lists frozen into one component): counted on the
    // component, which stays alive while a copy made this way is held and
    // is freed once after the last one goes.
    let other = m.list(vec![list.clone()]);
    list.push(other.clone()).unwrap();
    m.freeze(&list).unwrap();
    // One of the two is the component's representative, the other
    // forwards to it: copies of both.
    let copies: Vec<Ref<P>> = (0..3)
        .flat_map(|_| [list.clone_immortal_first(), other.clone_immortal_first()])
        .collect();
    assert!(
        list.rc_header().forward_target().is_some() || other.rc_header().forward_target().is_some()
    );
    drop((list, other));
    assert_eq!(live_objects(), before + 3, "the component is still held");
    for copy in copies {
        assert!(copy.is_frozen());
        Ref::drop_immortal_first(copy);
    }
    assert_eq!(settle(before), before, "the component was not freed");
}

fn big_ints_and_floats<P: RuntimePolicy>(m: &Mutator<P>) {
    let big = m.int(1 << 40);
    assert_eq!(big.kind(), Kind::Int);
    assert_eq!(big.as_int(), Some(1 << 40));
    assert_eq!(big.as_float(), None);
    assert_eq!(big.len(), None);
    assert_eq!(big.is_empty(), None);
    assert!(!big.is_frozen());
    let min = m.int(i64::MIN);
    assert_eq!(min.as_int(), Some(i64::MIN));
    let clone = big.clone();
    assert!(Ref::ptr_eq(&big, &clone));
    assert_eq!(Ref::strong_count(&big), 2);
    drop(clone);
    assert_eq!(Ref::strong_count(&big), 1);

    let x = m.float(2.5);
    assert_eq!(x.kind(), Kind::Float);
    assert_eq!(x.as_float(), Some(2.5));
    assert_eq!(x.as_int(), None);
    assert!(m.float(f64::NAN).as_float().unwrap().is_nan());
    assert_eq!(format!("{x:?}"), "2.5");
    assert_eq!(Kind::Float.name(), "float");
    assert_eq!(Kind::Int.name(), "int");
}

fn strings_and_bytes<P: RuntimePolicy>(m: &Mutator<P>) {
    let s = m.str("héllo");
    assert_eq!(s.kind(), Kind::Str);
    assert_eq!(s.as_str(), Some("héllo"));
    assert_eq!(s.len(), Some(6), "length in bytes");
    assert_eq!(s.is_empty(), Some(false));
    assert_eq!(m.str("").is_empty(), Some(true));
    assert_eq!(s.as_bytes(), None);
    assert_eq!(
        s.get_item(0).unwrap_err(),
        ObjectError::WrongType {
            expected: Kind::List,
            found: Kind::Str
        }
    );
    assert_eq!(format!("{s:?}"), "\"héllo\"");

    let b = m.bytes(&[0, 1, 255]);
    assert_eq!(b.kind(), Kind::Bytes);
    assert_eq!(b.as_bytes(), Some(&[0u8, 1, 255][..]));
    assert_eq!(b.len(), Some(3));
    assert_eq!(b.as_str(), None);
    assert_eq!(
        b.push(m.none()).unwrap_err(),
        ObjectError::WrongType {
            expected: Kind::List,
            found: Kind::Bytes
        }
    );
}

fn tuples<P: RuntimePolicy>(m: &Mutator<P>) {
    let t = m.tuple(vec![m.int(1), m.str("two"), m.float(3.0)]);
    assert_eq!(t.kind(), Kind::Tuple);
    assert_eq!(t.len(), Some(3));
    assert_eq!(t.get_item(0).unwrap().as_int(), Some(1));
    assert_eq!(t.get_item(1).unwrap().as_str(), Some("two"));
    assert_eq!(t.get_item(2).unwrap().as_float(), Some(3.0));
    assert_eq!(
        t.get_item(3).unwrap_err(),
        ObjectError::IndexOutOfRange { index: 3, len: 3 }
    );
    assert_eq!(t.as_tuple().unwrap().len(), 3);
    assert_eq!(t.items().unwrap().len(), 3);
    // Tuples are immutable by type, not by freezing.
    let wrong = ObjectError::WrongType {
        expected: Kind::List,
        found: Kind::Tuple,
    };
    assert_eq!(t.set_item(0, m.none()).unwrap_err(), wrong);
    assert_eq!(t.push(m.none()).unwrap_err(), wrong);
    assert_eq!(t.pop().unwrap_err(), wrong);
    assert!(!t.is_frozen());
    let empty = m.tuple(Vec::new());
    assert_eq!(empty.is_empty(), Some(true));
    assert_eq!(
        empty.get_item(0).unwrap_err(),
        ObjectError::IndexOutOfRange { index: 0, len: 0 }
    );
    let mut children = Vec::new();
    t.for_each_child(|c| children.push(c.kind()));
    assert_eq!(children, [Kind::Int, Kind::Str, Kind::Float]);
}

fn tuples_inline_and_on_the_heap<P: RuntimePolicy>(m: &Mutator<P>) {
    // Short tuples keep their items in the object, longer ones on the heap;
    // every length must behave alike. Big ints are counted objects, so a
    // lost or doubled release would show in the live count.
    let before = live_objects();
    for len in 0..8_i64 {
        let items: Vec<_> = (0..len).map(|i| m.int(1_000_000 + i)).collect();
        let mut spare = Vec::with_capacity(16);
        spare.extend(items.iter().cloned());
        // One made from an exact vector, one from a vector with spare room,
        // one straight from an iterator.
        let streamed = m.tuple_from_iter(items.iter().cloned());
        for t in [m.tuple(items.clone()), m.tuple(spare), streamed] {
            assert_eq!(t.len(), Some(len as usize));
            for i in 0..len {
                assert_eq!(
                    t.get_item(i as usize).unwrap().as_int(),
                    Some(1_000_000 + i)
                );
            }
            let mut seen = Vec::new();
            t.for_each_child(|c| seen.push(c.as_int().unwrap()));
            assert_eq!(seen, (0..len).map(|i| 1_000_000 + i).collect::<Vec<_>>());
            // Equal tuples are equal dict keys, whatever their storage.
            let d = m.dict();
            d.dict_set(t.clone(), m.int(len)).unwrap();
            let key = m.tuple(items.clone());
            assert_eq!(d.dict_get(&key).unwrap().unwrap().as_int(), Some(len));
        }
        drop(items);
    }
    assert_eq!(live_objects(), before, "every item released once");
}

fn lists<P: RuntimePolicy>(m: &Mutator<P>) {
    let l = m.list(vec![m.int(1)]);
    assert_eq!(l.kind(), Kind::List);
    assert_eq!(l.len(), Some(1));
    l.push(m.str("b")).unwrap();
    l.push(m.int(1000)).unwrap();
    assert_eq!(l.len(), Some(3));
    assert_eq!(l.get_item(1).unwrap().as_str(), Some("b"));
    l.set_item(1, m.float(0.5)).unwrap();
    assert_eq!(l.get_item(1).unwrap().as_float(), Some(0.5));
    assert_eq!(
        l.get_item(3).unwrap_err(),
        ObjectError::IndexOutOfRange { index: 3, len: 3 }
    );
    assert_eq!(
        l.set_item(7, m.none()).unwrap_err(),
        ObjectError::IndexOutOfRange { index: 7, len: 3 }
    );
    let items: Vec<_> = l.items().unwrap();
    assert_eq!(items[0].as_int(), Some(1));
    assert_eq!(items[2].as_int(), Some(1000));
    // `items` is a snapshot.
    l.push(m.none()).unwrap();
    assert_eq!(items.len(), 3);
    assert_eq!(l.len(), Some(4));
    assert_eq!(l.pop().unwrap().unwrap().kind(), Kind::None);
    assert_eq!(l.pop().unwrap().unwrap().as_int(), Some(1000));
    assert_eq!(l.pop().unwrap().unwrap().as_float(), Some(0.5));
    assert_eq!(l.pop().unwrap().unwrap().as_int(), Some(1));
    assert!(l.pop().unwrap().is_none(), "pop on empty is None");
    assert_eq!(l.is_empty(), Some(true));
    // Dict and slot operations on a list.
    let wrong_dict = ObjectError::WrongType {
        expected: Kind::Dict,
        found: Kind::List,
    };
    assert_eq!(l.dict_get(&m.int(1)).unwrap_err(), wrong_dict);
    assert_eq!(l.dict_set(m.int(1), m.int(2)).unwrap_err(), wrong_dict);
    assert_eq!(l.dict_remove(&m.int(1)).unwrap_err(), wrong_dict);
    assert_eq!(l.dict_items().unwrap_err(), wrong_dict);
    assert_eq!(
        l.slot_load().unwrap_err(),
        ObjectError::WrongType {
            expected: Kind::Slot,
            found: Kind::List
        }
    );
    // A list may hold itself (a cycle; broken again before the end).
    l.push(l.clone()).unwrap();
    assert!(Ref::ptr_eq(&l.get_item(0).unwrap(), &l));
    assert_eq!(Ref::strong_count(&l), 2);
    l.pop().unwrap();
    assert_eq!(Ref::strong_count(&l), 1);
}

fn list_releases_replaced_items<P: RuntimePolicy>(m: &Mutator<P>) {
    let l = m.list(vec![m.int(5000), m.int(6000)]);
    let before = live_objects();
    l.set_item(0, m.int(1)).unwrap();
    assert_eq!(live_objects(), before - 1, "the replaced int was freed");
    drop(l.pop().unwrap());
    assert_eq!(live_objects(), before - 2, "the popped int was freed");
    let kept = m.str("kept");
    l.push(kept.clone()).unwrap();
    assert_eq!(Ref::strong_count(&kept), 2);
    l.set_item(1, m.none()).unwrap();
    assert_eq!(Ref::strong_count(&kept), 1);
}

fn dicts<P: RuntimePolicy>(m: &Mutator<P>) {
    let d = m.dict();
    assert_eq!(d.kind(), Kind::Dict);
    assert_eq!(d.len(), Some(0));
    d.dict_set(m.str("b"), m.int(2)).unwrap();
    d.dict_set(m.str("a"), m.int(1)).unwrap();
    d.dict_set(m.int(3), m.str("three")).unwrap();
    d.dict_set(m.float(3.0), m.str("float three")).unwrap();
    d.dict_set(m.tuple(vec![m.int(1), m.str("x")]), m.none())
        .unwrap();
    assert_eq!(d.len(), Some(5));
    // Lookups by value, with other objects than the stored keys.
    assert_eq!(d.dict_get(&m.str("a")).unwrap().unwrap().as_int(), Some(1));
    assert_eq!(
        d.dict_get(&m.int(3)).unwrap().unwrap().as_str(),
        Some("three")
    );
    assert_eq!(
        d.dict_get(&m.float(3.0)).unwrap().unwrap().as_str(),
        Some("float three"),
        "int and float keys differ"
    );
    assert!(d
        .dict_get(&m.tuple(vec![m.int(1), m.str("x")]))
        .unwrap()
        .is_some());
    assert!(d.dict_get(&m.str("zzz")).unwrap().is_none());
    // Replacing keeps the position; removing shifts the rest.
    d.dict_set(m.str("b"), m.int(20)).unwrap();
    let keys = |d: &Ref<P>| -> Vec<String> {
        d.dict_items()
            .unwrap()
            .iter()
            .map(|(k, _)| format!("{k:?}"))
            .collect()
    };
    assert_eq!(
        keys(&d),
        ["\"b\"", "\"a\"", "3", "3.0", "([1, \"x\"],)"],
        "insertion order"
    );
    assert_eq!(
        d.dict_remove(&m.str("b")).unwrap().unwrap().as_int(),
        Some(20)
    );
    assert!(d.dict_remove(&m.str("b")).unwrap().is_none());
    assert_eq!(keys(&d), ["\"a\"", "3", "3.0", "([1, \"x\"],)"]);
    // Float keys: -0.0 and 0.0 are the same key.
    d.dict_set(m.float(-0.0), m.int(0)).unwrap();
    assert!(d.dict_get(&m.float(0.0)).unwrap().is_some());
    // Bytes, None and bool keys.
    d.dict_set(m.bytes(b"k"), m.int(1)).unwrap();
    d.dict_set(m.none(), m.int(2)).unwrap();
    d.dict_set(m.bool(true), m.int(3)).unwrap();
    assert_eq!(
        d.dict_get(&m.bytes(b"k")).unwrap().unwrap().as_int(),
        Some(1)
    );
    assert_eq!(d.dict_get(&m.none()).unwrap().unwrap().as_int(), Some(2));
    assert_eq!(
        d.dict_get(&m.bool(true)).unwrap().unwrap().as_int(),
        Some(3)
    );
    assert!(
        d.dict_get(&m.int(1)).unwrap().is_none(),
        "bool and int keys differ"
    );
    assert_eq!(d.len(), Some(8));
    // Values are counted references.
    let value = m.list(Vec::new());
    d.dict_set(m.str("v"), value.clone()).unwrap();
    assert_eq!(Ref::strong_count(&value), 2);
    d.dict_remove(&m.str("v")).unwrap();
    assert_eq!(Ref::strong_count(&value), 1);
    // List operations on a dict.
    assert_eq!(
        d.push(m.none()).unwrap_err(),
        ObjectError::WrongType {
            expected: Kind::List,
            found: Kind::Dict
        }
    );
    // A string keeps its hash after its first lookup: the same object keys
    // a second dict, a fresh string with the same text finds both, and
    // bytes with the same content are another key.
    let key = m.str("kept hash");
    let (first, second) = (m.dict(), m.dict());
    first.dict_set(key.clone(), m.int(1)).unwrap();
    second.dict_set(key.clone(), m.int(2)).unwrap();
    assert_eq!(first.dict_get(&key).unwrap().unwrap().as_int(), Some(1));
    let same_text = m.str("kept hash");
    assert_eq!(
        second.dict_get(&same_text).unwrap().unwrap().as_int(),
        Some(2)
    );
    assert_eq!(
        first.dict_get(&same_text).unwrap().unwrap().as_int(),
        Some(1)
    );
    assert!(first.dict_get(&m.bytes(b"kept hash")).unwrap().is_none());
    second.dict_set(m.bytes(b"kept hash"), m.int(3)).unwrap();
    assert_eq!(second.len(), Some(2));
    assert_eq!(
        second
            .dict_get(&m.bytes(b"kept hash"))
            .unwrap()
            .unwrap()
            .as_int(),
        Some(3)
    );
}

fn unhashable_keys<P: RuntimePolicy>(m: &Mutator<P>) {
    let d = m.dict();
    let bad_keys: Vec<(Ref<P>, Kind)> = vec![
        (m.list(Vec::new()), Kind::List),
        (m.dict(), Kind::Dict),
        (m.slot(None), Kind::Slot),
        (m.native(Box::new(Tracked::new(1))), Kind::Native),
        (
            m.native_fn(NativeFn {
                name: "f",
                func: |m, _| Ok(m.none()),
            }),
            Kind::NativeFn,
        ),
        // A tuple is hashable only if its items are.
        (m.tuple(vec![m.int(1), m.list(Vec::new())]), Kind::List),
    ];
    for (key, kind) in bad_keys {
        let err = ObjectError::Unhashable { kind };
        assert_eq!(d.dict_set(key.clone(), m.none()).unwrap_err(), err);
        assert_eq!(d.dict_get(&key).unwrap_err(), err);
        assert_eq!(d.dict_remove(&key).unwrap_err(), err);
        assert_eq!(Ref::strong_count(&key), 1, "a refused key is not kept");
    }
    assert_eq!(d.len(), Some(0));
}

fn slots<P: RuntimePolicy>(m: &Mutator<P>) {
    let slot = m.slot(None);
    assert_eq!(slot.kind(), Kind::Slot);
    assert!(slot.slot_load().unwrap().is_none());
    let value = m.str("v");
    slot.slot_store(Some(value.clone())).unwrap();
    let loaded = slot.slot_load().unwrap().unwrap();
    assert!(Ref::ptr_eq(&loaded, &value));
    drop(loaded);
    slot.slot_store(Some(m.int(7))).unwrap();
    assert_eq!(slot.slot_load().unwrap().unwrap().as_int(), Some(7));
    slot.slot_store(None).unwrap();
    assert!(slot.slot_load().unwrap().is_none());
    let full = m.slot(Some(m.float(1.5)));
    assert_eq!(full.slot_load().unwrap().unwrap().as_float(), Some(1.5));
    let mut children = Vec::new();
    full.for_each_child(|c| children.push(c.kind()));
    assert_eq!(children, [Kind::Float]);
    // Slot operations on other types.
    let wrong = ObjectError::WrongType {
        expected: Kind::Slot,
        found: Kind::Int,
    };
    assert_eq!(m.int(1).slot_load().unwrap_err(), wrong);
    assert_eq!(m.int(1).slot_store(None).unwrap_err(), wrong);
    assert_eq!(slot.len(), None);
}

fn add<P: RuntimePolicy>(m: &Mutator<P>, args: &[Ref<P>]) -> Result<Ref<P>, String> {
    let mut sum = 0;
    for arg in args {
        sum += arg
            .as_int()
            .ok_or_else(|| format!("expected int, found {}", arg.kind().name()))?;
    }
    Ok(m.int(sum))
}

fn native_fn_call<P: RuntimePolicy>(m: &Mutator<P>) {
    let f = m.native_fn(NativeFn {
        name: "add",
        func: add::<P>,
    });
    assert_eq!(f.kind(), Kind::NativeFn);
    assert_eq!(format!("{f:?}"), "<native-fn add>");
    let descriptor = f.as_native_fn().unwrap();
    assert_eq!(descriptor.name, "add");
    let sum = (descriptor.func)(m, &[m.int(40), m.int(2), m.int(1000)]).unwrap();
    assert_eq!(sum.as_int(), Some(1042));
    assert_eq!(
        (descriptor.func)(m, &[m.str("x")]).unwrap_err(),
        "expected int, found str"
    );
    assert!(m.int(1).as_native_fn().is_none());
}

fn native_object_with_trace<P: RuntimePolicy + 'static>(m: &Mutator<P>) {
    let (created, dropped) = tracked_counts();
    let child = m.str("child");
    let tracked = m.native(Box::new(Tracked::new(9)));
    let holder = m.native(Box::new(Holder {
        children: vec![child.clone(), tracked.clone(), m.int(3)],
    }));
    assert_eq!(holder.kind(), Kind::Native);
    assert_eq!(holder.as_native().unwrap().type_name(), "holder");
    assert_eq!(format!("{holder:?}"), "<holder>");
    let mut seen = Vec::new();
    holder.for_each_child(|c| seen.push(Object::to_ref(c)));
    assert_eq!(seen.len(), 3);
    assert!(Ref::ptr_eq(&seen[0], &child));
    assert!(Ref::ptr_eq(&seen[1], &tracked));
    drop(seen);
    let inner = holder.downcast_native::<Holder<P>>().unwrap();
    assert_eq!(inner.children.len(), 3);
    assert_eq!(Tracked::of(&tracked).unwrap().id, 9);
    assert_eq!(Ref::strong_count(&child), 2);
    drop(holder);
    assert_eq!(
        Ref::strong_count(&child),
        1,
        "freeing the holder released it"
    );
    assert_eq!(tracked_counts(), (created + 1, dropped));
    drop(tracked);
    assert_eq!(
        tracked_counts(),
        (created + 1, dropped + 1),
        "dropped exactly once"
    );
}

fn frozen_objects_refuse_mutation<P: RuntimePolicy>(m: &Mutator<P>) {
    let inner = m.list(vec![m.int(1)]);
    let d = m.dict();
    d.dict_set(m.str("k"), m.str("v")).unwrap();
    let outer = m.list(vec![inner.clone(), d.clone(), m.tuple(vec![m.int(2000)])]);
    m.freeze(&outer).unwrap();
    for object in [&outer, &inner, &d] {
        assert!(object.is_frozen());
    }
    assert!(outer.get_item(2).unwrap().is_frozen());
    assert!(outer.get_item(2).unwrap().get_item(0).unwrap().is_frozen());
    let list_frozen = ObjectError::Frozen { kind: Kind::List };
    assert_eq!(inner.push(m.int(2)).unwrap_err(), list_frozen);
    assert_eq!(inner.pop().unwrap_err(), list_frozen);
    assert_eq!(inner.set_item(0, m.int(2)).unwrap_err(), list_frozen);
    assert_eq!(
        inner.set_item(9, m.int(2)).unwrap_err(),
        list_frozen,
        "frozen is checked before the index"
    );
    assert_eq!(outer.push(m.none()).unwrap_err(), list_frozen);
    let dict_frozen = ObjectError::Frozen { kind: Kind::Dict };
    assert_eq!(d.dict_set(m.str("k"), m.none()).unwrap_err(), dict_frozen);
    assert_eq!(d.dict_set(m.str("new"), m.none()).unwrap_err(), dict_frozen);
    assert_eq!(d.dict_remove(&m.str("k")).unwrap_err(), dict_frozen);
    // Reads still work and nothing changed.
    assert_eq!(inner.len(), Some(1));
    assert_eq!(inner.get_item(0).unwrap().as_int(), Some(1));
    assert_eq!(
        d.dict_get(&m.str("k")).unwrap().unwrap().as_str(),
        Some("v")
    );
    assert_eq!(d.len(), Some(1));
    assert_eq!(render(&outer), "[[1,],{\"k\":\"v\",},(2000,),]");
    // Frozen objects still count references normally.
    let extra = inner.clone();
    assert!(Ref::strong_count(&inner) >= 2);
    drop(extra);
    // A new, unfrozen list may hold frozen objects and stays mutable.
    let fresh = m.list(vec![inner.clone()]);
    fresh.push(d.clone()).unwrap();
    assert!(!fresh.is_frozen());
}

fn freeze_is_idempotent<P: RuntimePolicy>(m: &Mutator<P>) {
    let l = m.list(vec![m.str("a")]);
    m.freeze(&l).unwrap();
    m.freeze(&l).unwrap();
    assert!(l.is_frozen());
    m.freeze(&m.none()).unwrap();
    m.freeze(&m.int(3)).unwrap();
    // A graph whose root is new but whose child is already frozen.
    let outer = m.list(vec![l.clone()]);
    m.freeze(&outer).unwrap();
    assert!(outer.is_frozen());
    assert_eq!(Ref::strong_count(&outer), 1);
    assert_eq!(Ref::strong_count(&l), 2);
}

/// Every object reachable from `root`, and whether each is frozen.
fn frozen_flags<P: RuntimePolicy>(root: &Ref<P>) -> Vec<bool> {
    common::reachable(root)
        .iter()
        .map(|o| o.is_frozen())
        .collect()
}

fn freeze_with_slot_changes_nothing<P: RuntimePolicy>(m: &Mutator<P>) {
    let inner = m.list(vec![m.int(1000)]);
    let d = m.dict();
    d.dict_set(m.str("slot"), m.slot(Some(m.str("in slot"))))
        .unwrap();
    // A freezable native, visited before the slot: it must not be asked.
    let native = m.native(Box::new(Tracked::new(3)));
    let root = m.list(vec![
        native.clone(),
        inner.clone(),
        d.clone(),
        m.tuple(vec![m.str("t")]),
    ]);
    let (rendered, counts) = (render(&root), common::count_snapshot(&root));
    assert_eq!(
        m.freeze(&root).unwrap_err(),
        FreezeError::NotFreezable {
            kind: Kind::Slot,
            type_name: "slot"
        }
    );
    assert!(
        frozen_flags(&root).iter().all(|frozen| !frozen),
        "nothing may be left frozen"
    );
    assert_eq!(render(&root), rendered);
    assert_eq!(common::count_snapshot(&root), counts, "counts unchanged");
    assert!(
        !Tracked::of(&native).unwrap().frozen.load(SeqCst),
        "a native was asked to freeze before the slot failed the freeze"
    );
    // Still mutable everywhere.
    inner.push(m.int(2)).unwrap();
    d.dict_set(m.str("x"), m.none()).unwrap();
    root.push(m.none()).unwrap();
    // Without the slot the same graph freezes.
    d.dict_remove(&m.str("slot")).unwrap();
    m.freeze(&root).unwrap();
    assert!(frozen_flags(&root).iter().all(|frozen| *frozen));
    assert!(Tracked::of(&native).unwrap().frozen.load(SeqCst));
}

fn freeze_with_refusing_native_changes_nothing<P: RuntimePolicy>(m: &Mutator<P>) {
    let agreeing = m.native(Box::new(Tracked::with(1, true, true)));
    let refusing = m.native(Box::new(Tracked::with(2, false, true)));
    let root = m.list(vec![m.list(vec![m.str("x")]), agreeing, refusing.clone()]);
    let counts = common::count_snapshot(&root);
    assert_eq!(
        m.freeze(&root).unwrap_err(),
        FreezeError::NotFreezable {
            kind: Kind::Native,
            type_name: "tracked"
        }
    );
    assert!(frozen_flags(&root).iter().all(|frozen| !frozen));
    assert_eq!(common::count_snapshot(&root), counts);
    root.pop().unwrap();
    drop(refusing);
    m.freeze(&root).unwrap();
    assert!(frozen_flags(&root).iter().all(|frozen| *frozen));
}

fn freeze_through_native_trace<P: RuntimePolicy + 'static>(m: &Mutator<P>) {
    let child = m.list(vec![m.str("deep")]);
    let holder = m.native(Box::new(Holder {
        children: vec![child.clone()],
    }));
    let root = m.list(vec![holder.clone()]);
    m.freeze(&root).unwrap();
    assert!(holder.is_frozen());
    assert!(child.is_frozen());
    assert!(child.get_item(0).unwrap().is_frozen());
    assert_eq!(
        child.push(m.none()).unwrap_err(),
        ObjectError::Frozen { kind: Kind::List }
    );
    // A holder that holds a slot cannot be frozen.
    let bad = m.native(Box::new(Holder {
        children: vec![m.slot(None)],
    }));
    assert_eq!(
        m.freeze(&bad).unwrap_err(),
        FreezeError::NotFreezable {
            kind: Kind::Slot,
            type_name: "slot"
        }
    );
    assert!(!bad.is_frozen());
}

fn frozen_self_cycle_is_freed<P: RuntimePolicy>(m: &Mutator<P>) {
    let before = live_objects();
    let l = m.list(vec![m.str("payload")]);
    l.push(l.clone()).unwrap();
    m.freeze(&l).unwrap();
    assert!(l.is_frozen());
    assert!(Ref::ptr_eq(&l.get_item(1).unwrap(), &l));
    assert_eq!(live_objects(), before + 2);
    let more = l.clone();
    drop(l);
    assert_eq!(live_objects(), before + 2, "still referenced");
    assert_eq!(more.get_item(0).unwrap().as_str(), Some("payload"));
    drop(more);
    assert_eq!(
        settle(before),
        before,
        "the frozen self-cycle was not freed"
    );
}

fn frozen_ring_is_freed_with_last_member<P: RuntimePolicy>(m: &Mutator<P>) {
    const N: usize = 100;
    let before = live_objects();
    let lists: Vec<Ref<P>> = (0..N).map(|i| m.list(vec![m.int(i as i64)])).collect();
    for i in 0..N {
        lists[i].push(lists[(i + 1) % N].clone()).unwrap();
    }
    m.freeze(&lists[0]).unwrap();
    assert!(lists.iter().all(|l| l.is_frozen()));
    let mut lists = lists;
    let middle = lists.swap_remove(N / 2);
    drop(lists);
    assert_eq!(live_objects(), before + N, "a held member keeps the ring");
    // Walk the whole ring from the held member.
    let mut at = middle.clone();
    for step in 0..N {
        assert_eq!(
            at.get_item(0).unwrap().as_int(),
            Some(((N / 2 + step) % N) as i64)
        );
        let next = at.get_item(1).unwrap();
        at = next;
    }
    assert!(Ref::ptr_eq(&at, &middle));
    drop(at);
    drop(middle);
    assert_eq!(settle(before), before, "the frozen ring was not freed");
}

fn frozen_cycle_through_dict_is_freed<P: RuntimePolicy>(m: &Mutator<P>) {
    let before = live_objects();
    let d = m.dict();
    let l = m.list(vec![d.clone(), m.str("acyclic child")]);
    d.dict_set(m.str("list"), l.clone()).unwrap();
    d.dict_set(m.str("data"), m.tuple(vec![m.float(1.0), m.bytes(b"xy")]))
        .unwrap();
    let created = live_objects() - before;
    assert_eq!(created, 8);
    m.freeze(&d).unwrap();
    drop(l);
    assert_eq!(live_objects(), before + created);
    let l = d.dict_get(&m.str("list")).unwrap().unwrap();
    assert!(Ref::ptr_eq(&l.get_item(0).unwrap(), &d));
    drop(d);
    assert_eq!(live_objects(), before + created, "the list holds the cycle");
    drop(l);
    assert_eq!(
        settle(before),
        before,
        "the frozen dict cycle was not freed"
    );
}

fn frozen_cycles_frozen_in_two_steps<P: RuntimePolicy>(m: &Mutator<P>) {
    let before = live_objects();
    // Cycle B: b1 <-> b2, frozen first.
    let b1 = m.list(vec![m.str("b1")]);
    let b2 = m.list(vec![m.str("b2"), b1.clone()]);
    b1.push(b2.clone()).unwrap();
    m.freeze(&b1).unwrap();
    // Cycle A: a1 <-> a2, pointing into B, frozen second.
    let a1 = m.list(vec![b2.clone()]);
    let a2 = m.list(vec![a1.clone(), b1.clone()]);
    a1.push(a2.clone()).unwrap();
    drop((b1, b2));
    m.freeze(&a2).unwrap();
    drop(a2);
    // A still holds B.
    let b2 = a1.get_item(0).unwrap();
    assert_eq!(b2.get_item(0).unwrap().as_str(), Some("b2"));
    drop(b2);
    drop(a1);
    assert_eq!(settle(before), before, "frozen cycles were not freed");
}

fn deep_chain_is_freed_iteratively<P: RuntimePolicy>(m: &Mutator<P>) {
    // Deeper than the postponing depth either way; shorter under miri.
    const DEPTH: usize = if cfg!(miri) { 3_000 } else { 100_000 };
    let before = live_objects();
    let mut head = m.list(Vec::new());
    for _ in 0..DEPTH {
        head = m.list(vec![head]);
    }
    assert_eq!(live_objects(), before + DEPTH + 1);
    drop(head);
    assert_eq!(settle(before), before);
    // Frozen, through the iterative walk and component search.
    let mut head = m.tuple(Vec::new());
    for _ in 0..DEPTH {
        head = m.list(vec![head]);
    }
    m.freeze(&head).unwrap();
    drop(head);
    assert_eq!(settle(before), before);
}

fn error_messages<P: RuntimePolicy>(_m: &Mutator<P>) {
    assert_eq!(
        ObjectError::Frozen { kind: Kind::List }.to_string(),
        "cannot mutate a frozen list"
    );
    assert_eq!(
        ObjectError::Unhashable { kind: Kind::Dict }.to_string(),
        "unhashable type: dict"
    );
    assert_eq!(
        ObjectError::WrongType {
            expected: Kind::List,
            found: Kind::Str
        }
        .to_string(),
        "expected list, found str"
    );
    assert_eq!(
        ObjectError::IndexOutOfRange { index: 4, len: 2 }.to_string(),
        "index 4 out of range for length 2"
    );
    assert_eq!(
        FreezeError::NotFreezable {
            kind: Kind::Slot,
            type_name: "slot"
        }
        .to_string(),
        "cannot freeze an object of type slot"
    );
}
