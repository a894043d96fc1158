//! A channel carries objects between the interpreters of one runtime.
//!
//! [`channel()`] is not made by a runtime, and every mutator of a policy
//! can call `send` and `recv`, so nothing in the types stops a mutator of
//! one runtime from receiving what a mutator of another sent. That breaks
//! the collector's contract (objects are touched only by threads attached
//! to their runtime): a runtime stops only its own mutators to collect, so
//! a mutator of the other runtime could drop the last reference to a
//! container that the collection is reading, and the collection would read
//! freed memory.
//!
//! These tests check that a channel belongs to the runtime of the first
//! mutator that uses it, and that a send or receive by a mutator of any
//! other runtime is refused with an error, leaving the message where it
//! was.

#[macro_use]
mod common;

use brisk_runtime::{
    channel, Interpreter, Mutator, RecvError, Runtime, RuntimePolicy, SendErrorKind, SendMode,
};
use common::on;

/// What a refused send or receive says, in part.
const FOREIGN: &str = "another runtime";

/// A list of one string, and a check that a value is that list.
fn payload<P: RuntimePolicy>(m: &Mutator<P>) -> brisk_runtime::Ref<P> {
    m.list(vec![m.str("payload")])
}

fn is_payload<P: RuntimePolicy>(value: &brisk_runtime::Ref<P>) -> bool {
    value.len() == Some(1)
        && value
            .get_item(0)
            .is_ok_and(|item| item.as_str() == Some("payload"))
}

/// A mutator of runtime 2 cannot receive what runtime 1 sent: `recv`,
/// `recv_or_wake` and `try_recv` all leave the message queued, and a
/// mutator of runtime 1 receives it afterwards, intact.
fn receive_on_another_runtime_is_refused<P: RuntimePolicy + 'static>(
    one: &Interpreter<P>,
    two: &Interpreter<P>,
) {
    let (tx, rx) = channel::<P>();
    let rx2 = rx.clone();
    on(one, move |m| {
        tx.send(m, payload(m), SendMode::Move).unwrap();
    });
    let (recv, recv_or_wake, try_recv) = on(two, move |m| {
        // A closed `wake`: `recv_or_wake` returns at once whatever it does.
        let (wake_tx, wake_rx) = channel::<P>();
        drop(wake_tx);
        // Only whether each call took the message crosses back: the
        // objects themselves must not be touched on this runtime.
        let recv = rx2.recv(m).map(drop);
        let recv_or_wake = rx2.recv_or_wake(m, &wake_rx).map(|got| got.is_some());
        let try_recv = rx2.try_recv(m).is_some();
        (recv, recv_or_wake, try_recv)
    });
    let recv = recv.expect_err("a mutator of another runtime received the message");
    assert_eq!(recv, RecvError::ForeignRuntime);
    assert!(
        recv.to_string().contains(FOREIGN),
        "unexpected error: {recv}"
    );
    let recv_or_wake =
        recv_or_wake.expect_err("recv_or_wake on another runtime did not report an error");
    assert_eq!(recv_or_wake, RecvError::ForeignRuntime);
    assert!(!try_recv, "try_recv on another runtime took the message");
    assert!(on(one, move |m| is_payload(&rx.recv(m).unwrap())));
}

/// A channel first used by a mutator of runtime 2 refuses a send from
/// runtime 1, and hands the value back unchanged.
fn send_into_a_channel_of_another_runtime_is_refused<P: RuntimePolicy + 'static>(
    one: &Interpreter<P>,
    two: &Interpreter<P>,
) {
    let (tx, rx) = channel::<P>();
    let rx2 = rx.clone();
    assert!(on(two, move |m| rx2.try_recv(m).is_none()));
    let refused = on(one, move |m| {
        tx.send(m, payload(m), SendMode::Copy)
            .map_err(|e| (e.kind.clone(), e.to_string(), is_payload(&e.value)))
    });
    let (kind, message, intact) = refused.expect_err("runtime 1 sent into runtime 2's channel");
    assert_eq!(kind, SendErrorKind::ForeignRuntime);
    assert!(message.contains(FOREIGN), "unexpected error: {message}");
    assert!(intact, "the refused value did not come back unchanged");
    assert!(on(two, move |m| rx.try_recv(m).is_none()));
}

/// Runs one test body on an interpreter of each of two runtimes of
/// policy `P`.
fn run<P: RuntimePolicy>(test: fn(&Interpreter<P>, &Interpreter<P>)) {
    let (one, two) = (Runtime::<P>::new(), Runtime::<P>::new());
    test(&one.new_interpreter("one"), &two.new_interpreter("two"));
}

all_policies! {
    /// A receive on another runtime is refused.
    receive_on_another_runtime_is_refused,
    /// A send into a channel another runtime uses is refused.
    send_into_a_channel_of_another_runtime_is_refused,
}
