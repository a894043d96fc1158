//! Stress tests: many objects crossing between interpreters in every send
//! mode under every counting policy, shutdowns in both orders, and one list
//! mutated from two threads at once.
//!
//! Each test checks, after its runtime is dropped and its threads have
//! exited, that the live-object counter is back at its value from before
//! the test and that every `Tracked` native (made, moved, shared or copied)
//! was dropped exactly once: no leak and no double free.
//!
//! The ring test passes 100 000 messages in release builds and 20 000 in
//! debug builds (`cfg!(debug_assertions)`), to keep the file well under
//! half a minute on two cores unoptimised.

#[macro_use]
mod common;

use std::collections::HashSet;
use std::sync::mpsc;

use brisk_runtime::{
    channel, live_objects, Kind, Mutator, Receiver, Ref, Runtime, RuntimePolicy, SendMode, Sender,
};
use common::{settle, tracked_counts, Tracked};

/// Messages the ring test passes around.
const MESSAGES: u64 = if cfg!(debug_assertions) {
    20_000
} else {
    100_000
};

/// Interpreters in the ring.
const RING: usize = 4;

/// Messages in flight at once.
const WINDOW: u64 = 64;

/// Offset that keeps message ints out of the immortal small-int range.
const BASE: i64 = 1_000_000;

/// Runs `body` on a fresh runtime (which it drops), then checks that the
/// live-object counter is back and every `Tracked` was dropped once.
fn run<P: RuntimePolicy + 'static>(body: fn(Runtime<P>)) {
    let _serial = common::serial();
    let baseline = live_objects();
    let (created_before, dropped_before) = tracked_counts();
    body(Runtime::<P>::new());
    let live = settle(baseline);
    let (created, dropped) = tracked_counts();
    assert_eq!(live, baseline, "objects leaked under {}", P::NAME);
    assert_eq!(
        created - created_before,
        dropped - dropped_before,
        "tracked natives leaked or were dropped twice under {}",
        P::NAME
    );
}

all_policies! {
    /// Four interpreters pass messages around a ring in all three modes; all are freed once.
    ring_of_four_interpreters,
    /// The sender's interpreter is gone (threads exited, handle dropped) before the receiver uses what it sent.
    sender_exits_before_receiver_uses_objects,
    /// The receiver's interpreter is gone, leaving messages unreceived, before the sender uses what it kept.
    receiver_exits_before_sender_uses_objects,
    /// The runtime is dropped while its interpreters, with globals, live on; no deadlock.
    runtime_dropped_before_its_interpreters,
    /// Two mutators of one interpreter push to one list at once; nothing is lost.
    two_mutators_push_to_one_list,
}

/// The send mode of message `id`.
fn mode_of(id: u64) -> SendMode {
    [SendMode::Share, SendMode::Move, SendMode::Copy][(id % 3) as usize]
}

/// Whether message `id` contains itself: one in seven, and with
/// `mutable_cycles` false only those that are frozen (a mutable cycle left
/// in a dropped channel could never be freed by counting).
fn has_cycle(id: u64, mutable_cycles: bool) -> bool {
    id.is_multiple_of(7) && (mutable_cycles || mode_of(id) == SendMode::Share)
}

/// Message `id`: `[BASE+id, "m<id>", (id, b"<id>"), tracked#id, self-or-None]`,
/// frozen if it travels by `Share`.
fn make_message<P: RuntimePolicy>(m: &Mutator<P>, id: u64, mutable_cycles: bool) -> Ref<P> {
    let root = m.list(vec![
        m.int(BASE + id as i64),
        m.str(&format!("m{id}")),
        m.tuple(vec![m.float(id as f64), m.bytes(&id.to_le_bytes())]),
        m.native(Box::new(Tracked::new(id))),
    ]);
    if has_cycle(id, mutable_cycles) {
        root.push(root.clone()).unwrap();
    } else {
        root.push(m.none()).unwrap();
    }
    if mode_of(id) == SendMode::Share {
        m.freeze(&root).unwrap();
    }
    root
}

/// Checks a message after `hops` hops and returns its id.
fn check_message<P: RuntimePolicy>(message: &Ref<P>, hops: usize, mutable_cycles: bool) -> u64 {
    let id = (message.get_item(0).unwrap().as_int().unwrap() - BASE) as u64;
    assert_eq!(
        message.get_item(1).unwrap().as_str(),
        Some(&*format!("m{id}"))
    );
    let pair = message.get_item(2).unwrap();
    assert_eq!(pair.get_item(0).unwrap().as_float(), Some(id as f64));
    assert_eq!(
        pair.get_item(1).unwrap().as_bytes(),
        Some(&id.to_le_bytes()[..])
    );
    assert_eq!(Tracked::of(&message.get_item(3).unwrap()).unwrap().id, id);
    let fourth = message.get_item(4).unwrap();
    if has_cycle(id, mutable_cycles) {
        assert!(Ref::ptr_eq(&fourth, message), "message {id} lost its cycle");
    } else {
        assert_eq!(fourth.kind(), Kind::None);
    }
    let frozen = mode_of(id) == SendMode::Share;
    assert_eq!(message.is_frozen(), frozen);
    if frozen {
        assert_eq!(message.len(), Some(5));
    } else {
        // Each hop appended its interpreter's number.
        assert_eq!(message.len(), Some(5 + hops), "message {id}");
        for hop in 0..hops {
            assert_eq!(
                message.get_item(5 + hop).unwrap().as_int(),
                Some(BASE + hop as i64 + 1)
            );
        }
    }
    id
}

/// Sends `message` on in its mode. A message sent by copy keeps its
/// original here, whose cycle (if any) is broken after the copy left:
/// counting alone never frees a mutable cycle.
fn forward<P: RuntimePolicy>(m: &Mutator<P>, tx: &Sender<P>, message: Ref<P>, id: u64) {
    let mode = mode_of(id);
    if mode == SendMode::Copy {
        tx.send(m, message.clone(), mode).unwrap();
        if !message.is_frozen() {
            // No-op unless it held a cycle.
            message.set_item(4, m.none()).unwrap();
        }
    } else {
        tx.send(m, message, mode).unwrap();
    }
}

/// Interpreter `k` of the ring (1 to 3): receive, check, append `k`, forward,
/// until the `None` sentinel comes by.
fn hop<P: RuntimePolicy>(m: &Mutator<P>, k: usize, rx: Receiver<P>, tx: Sender<P>) -> u64 {
    let mut seen = 0;
    loop {
        let message = rx.recv(m).expect("the ring broke");
        if message.kind() == Kind::None {
            tx.send(m, message, SendMode::Share).unwrap();
            return seen;
        }
        let id = check_message(&message, k - 1, true);
        if !message.is_frozen() {
            message.push(m.int(BASE + k as i64)).unwrap();
        }
        forward(m, &tx, message, id);
        seen += 1;
        m.safepoint();
    }
}

fn ring_of_four_interpreters<P: RuntimePolicy + 'static>(runtime: Runtime<P>) {
    let interpreters: Vec<_> = (0..RING)
        .map(|i| runtime.new_interpreter(&format!("ring{i}")))
        .collect();
    let (senders, receivers): (Vec<_>, Vec<_>) = (0..RING).map(|_| channel::<P>()).unzip();
    let mut receivers: Vec<Option<Receiver<P>>> = receivers.into_iter().map(Some).collect();
    // Interpreter k receives on channel k and sends on channel k+1.
    let mut hops = Vec::new();
    for k in 1..RING {
        let rx = receivers[k].take().unwrap();
        let tx = senders[(k + 1) % RING].clone();
        hops.push(interpreters[k].spawn(move |m| hop(m, k, rx, tx)));
    }
    let rx = receivers[0].take().unwrap();
    let tx = senders[1].clone();
    drop(senders);
    let origin = interpreters[0].spawn(move |m| {
        let mut next = 0;
        let mut returned = HashSet::new();
        while next < WINDOW.min(MESSAGES) {
            let message = make_message(m, next, true);
            forward(m, &tx, message, next);
            next += 1;
        }
        while (returned.len() as u64) < MESSAGES {
            let message = rx.recv(m).expect("the ring broke");
            let id = check_message(&message, RING - 1, true);
            assert!(returned.insert(id), "message {id} came back twice");
            if !message.is_frozen() {
                message.set_item(4, m.none()).unwrap();
            }
            drop(message);
            if next < MESSAGES {
                let message = make_message(m, next, true);
                forward(m, &tx, message, next);
                next += 1;
            }
            m.safepoint();
        }
        tx.send(m, m.none(), SendMode::Share).unwrap();
        assert_eq!(rx.recv(m).unwrap().kind(), Kind::None);
        returned.len() as u64
    });
    assert_eq!(origin.join().unwrap(), MESSAGES);
    for hop in hops {
        assert_eq!(hop.join().unwrap(), MESSAGES);
    }
}

/// Objects per shutdown-order test.
const SHUTDOWN_OBJECTS: u64 = 1_000;

fn sender_exits_before_receiver_uses_objects<P: RuntimePolicy + 'static>(runtime: Runtime<P>) {
    let a = runtime.new_interpreter("sender");
    let b = runtime.new_interpreter("receiver");
    let (tx, rx) = channel::<P>();
    a.spawn(move |m| {
        // Also keep every shared message in the sender's globals.
        let globals = m.interpreter().globals(m);
        for id in 0..SHUTDOWN_OBJECTS {
            let message = make_message(m, id, true);
            if message.is_frozen() {
                globals
                    .dict_set(m.int(BASE + id as i64), message.clone())
                    .unwrap();
            }
            forward(m, &tx, message, id);
        }
    })
    .join()
    .unwrap();
    drop(a); // the sender's last handle: its globals go now
    let used = b
        .spawn(move |m| {
            let mut used = 0;
            while let Ok(message) = rx.recv(m) {
                check_message(&message, 0, true);
                if message.is_frozen() {
                    let clones: Vec<_> = (0..10).map(|_| message.clone()).collect();
                    drop(clones);
                } else {
                    message.push(m.str("used")).unwrap();
                    message.set_item(4, m.none()).unwrap();
                }
                used += 1;
                m.safepoint();
            }
            used
        })
        .join()
        .unwrap();
    assert_eq!(used, SHUTDOWN_OBJECTS);
}

fn receiver_exits_before_sender_uses_objects<P: RuntimePolicy + 'static>(runtime: Runtime<P>) {
    let a = runtime.new_interpreter("sender");
    let b = runtime.new_interpreter("receiver");
    let (tx, rx) = channel::<P>();
    let (sent_tx, sent_rx) = mpsc::channel::<()>();
    let (gone_tx, gone_rx) = mpsc::channel::<()>();
    let sender = a.spawn(move |m| {
        // The sender keeps every shared message and every copy's original.
        let mut kept = Vec::new();
        for id in 0..SHUTDOWN_OBJECTS {
            let message = make_message(m, id, false);
            match mode_of(id) {
                SendMode::Share | SendMode::Copy => {
                    kept.push(message.clone());
                    tx.send(m, message, mode_of(id)).unwrap();
                }
                SendMode::Move => tx.send(m, message, SendMode::Move).unwrap(),
            }
        }
        sent_tx.send(()).unwrap();
        m.blocking(|| gone_rx.recv().unwrap());
        // The receiver is gone; its channel end too.
        let err = tx.send(m, m.str("late"), SendMode::Copy).unwrap_err();
        assert_eq!(err.kind, brisk_runtime::SendErrorKind::Disconnected);
        for message in &kept {
            check_message(message, 0, false);
            if !message.is_frozen() {
                message.push(m.int(1)).unwrap();
            }
            m.safepoint();
        }
        kept.len()
    });
    // The receiver takes half, keeps some in its globals, and exits with the
    // rest still in the channel (dropped with its receiving end, on its
    // thread).
    sent_rx.recv().unwrap();
    b.spawn(move |m| {
        let globals = m.interpreter().globals(m);
        for i in 0..SHUTDOWN_OBJECTS / 2 {
            let message = rx.recv(m).unwrap();
            check_message(&message, 0, false);
            if i % 2 == 0 {
                globals.dict_set(m.int(BASE + i as i64), message).unwrap();
            }
        }
    })
    .join()
    .unwrap();
    drop(b); // the receiver's last handle: its globals go now
    gone_tx.send(()).unwrap();
    let kept = sender.join().unwrap();
    let expected = (0..SHUTDOWN_OBJECTS)
        .filter(|&id| mode_of(id) != SendMode::Move)
        .count();
    assert_eq!(kept, expected);
}

fn runtime_dropped_before_its_interpreters<P: RuntimePolicy + 'static>(runtime: Runtime<P>) {
    let a = runtime.new_interpreter("a");
    let b = runtime.new_interpreter("b");
    let (tx, rx) = channel::<P>();
    a.spawn(move |m| {
        let globals = m.interpreter().globals(m);
        let shared = make_message(m, 0, true); // frozen, with a cycle
        globals.dict_set(m.str("shared"), shared.clone()).unwrap();
        globals
            .dict_set(m.str("own"), m.list(vec![m.str("a")]))
            .unwrap();
        tx.send(m, shared, SendMode::Share).unwrap();
    })
    .join()
    .unwrap();
    b.spawn(move |m| {
        let shared = rx.recv(m).unwrap();
        let globals = m.interpreter().globals(m);
        globals.dict_set(m.str("from a"), shared).unwrap();
    })
    .join()
    .unwrap();
    // Drop the runtime first, on a thread we can give up on if it hangs.
    let (done_tx, done_rx) = mpsc::channel();
    std::thread::spawn(move || {
        drop(runtime);
        done_tx.send(()).unwrap();
    });
    done_rx
        .recv_timeout(std::time::Duration::from_secs(10))
        .expect("dropping the runtime deadlocked");
    // The interpreter handles still work, with fresh, empty globals.
    for interpreter in [&a, &b] {
        let len = interpreter
            .spawn(|m| {
                let globals = m.interpreter().globals(m);
                let len = globals.len();
                globals.dict_set(m.str("new"), m.str("value")).unwrap();
                len
            })
            .join()
            .unwrap();
        assert_eq!(len, Some(0));
    }
}

/// Items each of the two mutators pushes.
const PUSHES: i64 = 10_000;

fn two_mutators_push_to_one_list<P: RuntimePolicy + 'static>(runtime: Runtime<P>) {
    let interpreter = runtime.new_interpreter("shared-list");
    let m = interpreter.attach();
    let list = m.list(Vec::new());
    let pushers: Vec<_> = (0..2)
        .map(|t| {
            let list = list.clone();
            interpreter.spawn(move |m| {
                for i in 0..PUSHES {
                    list.push(m.int(BASE + t * PUSHES + i)).unwrap();
                    if i % 64 == 0 {
                        // Read while the other thread writes.
                        let len = list.len().unwrap();
                        assert!(len > 0);
                        assert!(list.get_item(len - 1).is_ok());
                    }
                    m.safepoint();
                }
            })
        })
        .collect();
    // Joining may block: detach meanwhile (under `Gil` this lets the
    // pushers run).
    m.blocking(|| {
        for pusher in pushers {
            pusher.join().unwrap();
        }
    });
    assert_eq!(list.len(), Some(2 * PUSHES as usize));
    let mut values: Vec<i64> = list
        .items()
        .unwrap()
        .iter()
        .map(|item| item.as_int().unwrap())
        .collect();
    // Each thread's items are in its own order.
    for t in 0..2 {
        let mine: Vec<i64> = values
            .iter()
            .copied()
            .filter(|v| (v - BASE) / PUSHES == t)
            .collect();
        assert!(mine.windows(2).all(|w| w[0] < w[1]), "thread {t}'s order");
    }
    values.sort_unstable();
    let expected: Vec<i64> = (0..2 * PUSHES).map(|i| BASE + i).collect();
    assert_eq!(values, expected, "an item is missing or duplicated");
}
