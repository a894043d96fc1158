//! Channels between interpreters, and the three send modes.
//!
//! A channel is made for a runtime (its policy) and its ends are handles
//! any thread may use: [`brisk_send`] and [`brisk_recv`] run inside a main
//! function, with its mutator, on whichever interpreter of the runtime.
//! A send names how the value crosses:
//!
//! | mode | precondition | the sender afterwards |
//! |---|---|---|
//! | `BRISK_SEND_SHARE` | the graph is frozen (`brisk_freeze`) | its handle is consumed; other handles to the graph stay valid |
//! | `BRISK_SEND_MOVE` | the graph is isolated: this handle is its only way in | the graph is the receiver's |
//! | `BRISK_SEND_COPY` | the graph can be copied | its handle is consumed; the receiver gets a copy |
//!
//! A refused send leaves the value where it was: the same handle stays
//! live and names the same object. Each end is one Rust `Sender` or
//! `Receiver`; when every sender handle of a channel is freed (and every
//! send in progress has returned), a receive on the empty channel reports
//! `BRISK_STATUS_DISCONNECTED`, and a send once every receiver handle is
//! freed does too.
//!
//! A channel carries values between the interpreters of one runtime: it
//! belongs to the runtime of the first main function that sends or
//! receives on it, and a send or receive from an interpreter of another
//! runtime reports `BRISK_STATUS_INVALID_HANDLE`, leaving the value (or
//! the waiting message) where it was.

use std::sync::Arc;

use brisk_runtime::{
    channel, Mutator, Receiver, RecvError, Runtime, SendErrorKind, SendMode, Sender,
};

use super::dispatch::{dispatch, ByPolicy, CPolicy, Family};
use super::runtimes::{BriskRuntime, RUNTIMES};
use super::threads::{with_mutator, with_mutator_out, BriskMutator};
use super::values::{self, BriskValue};
use super::Out;
use crate::error::{guard, BriskStatus, Error, Result};
use crate::handles::Table;

/// The sending end of a channel.
#[repr(C)]
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct BriskSender {
    /// The handle's id; 0 is never issued.
    pub id: u64,
}

/// The receiving end of a channel.
#[repr(C)]
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct BriskReceiver {
    /// The handle's id; 0 is never issued.
    pub id: u64,
}

/// How a value crosses a channel, one of the `BRISK_SEND_*` values.
pub type BriskSendMode = u32;

/// Pass a reference to a frozen graph. O(1).
pub const BRISK_SEND_SHARE: BriskSendMode = 0;

/// Give up an isolated graph: the receiver owns it afterwards. O(n).
pub const BRISK_SEND_MOVE: BriskSendMode = 1;

/// Send a deep copy; the original stays the sender's (its handle is
/// consumed all the same). O(n).
pub const BRISK_SEND_COPY: BriskSendMode = 2;

/// What a [`BriskSender`] names.
pub(crate) struct Senders;

impl Family for Senders {
    type Of<P: CPolicy> = Sender<P>;
    const WHAT: &'static str = "channel sender";
}

/// What a [`BriskReceiver`] names.
pub(crate) struct Receivers;

impl Family for Receivers {
    type Of<P: CPolicy> = Receiver<P>;
    const WHAT: &'static str = "channel receiver";
}

static SENDERS: Table<ByPolicy<Senders>> = Table::new("channel sender");
static RECEIVERS: Table<ByPolicy<Receivers>> = Table::new("channel receiver");

/// A new unbounded channel for values of `runtime`'s policy; writes its
/// ends to `tx` and `rx`.
///
/// Errors: `tx` or `rx` null; the runtime handle is not live.
///
/// # Safety
///
/// `tx` and `rx` are null or writable.
#[no_mangle]
pub unsafe extern "C" fn brisk_channel_new(
    runtime: BriskRuntime,
    tx: *mut BriskSender,
    rx: *mut BriskReceiver,
) -> BriskStatus {
    guard(|| {
        // SAFETY: null or writable, by the contract.
        let tx = unsafe { Out::new(tx, "brisk_channel_new", "tx") }?;
        // SAFETY: null or writable, by the contract.
        let rx = unsafe { Out::new(rx, "brisk_channel_new", "rx") }?;
        let runtime = RUNTIMES.get(runtime.id)?;
        let (sender, receiver) = dispatch!(&runtime, runtime => new_channel(runtime));
        tx.write(BriskSender {
            id: SENDERS.insert(sender),
        });
        rx.write(BriskReceiver {
            id: RECEIVERS.insert(receiver),
        });
        Ok(())
    })
}

fn new_channel<P: CPolicy>(_runtime: &Arc<Runtime<P>>) -> (ByPolicy<Senders>, ByPolicy<Receivers>) {
    let (sender, receiver) = channel::<P>();
    (P::wrap(sender), P::wrap(receiver))
}

/// Frees a sending end. Once every sender of a channel is freed, its
/// receivers see `BRISK_STATUS_DISCONNECTED` when it is empty.
///
/// Errors: the handle is not live.
#[no_mangle]
pub extern "C" fn brisk_sender_free(tx: BriskSender) -> BriskStatus {
    guard(|| {
        drop(SENDERS.remove(tx.id)?);
        Ok(())
    })
}

/// Frees a receiving end. Values still in the channel are released once
/// every receiver is freed; sends then report
/// `BRISK_STATUS_DISCONNECTED`.
///
/// Errors: the handle is not live.
#[no_mangle]
pub extern "C" fn brisk_receiver_free(rx: BriskReceiver) -> BriskStatus {
    guard(|| {
        drop(RECEIVERS.remove(rx.id)?);
        Ok(())
    })
}

/// The checked [`SendMode`] of a C value.
fn send_mode(mode: BriskSendMode) -> Result<SendMode> {
    match mode {
        BRISK_SEND_SHARE => Ok(SendMode::Share),
        BRISK_SEND_MOVE => Ok(SendMode::Move),
        BRISK_SEND_COPY => Ok(SendMode::Copy),
        other => Err(Error::new(
            BriskStatus::InvalidArgument,
            format!(
                "brisk_send: unknown send mode {other}: use BRISK_SEND_SHARE, BRISK_SEND_MOVE \
                 or BRISK_SEND_COPY"
            ),
        )),
    }
}

/// Sends `value` on `tx` in `mode` (a `BRISK_SEND_*`). On success the
/// handle `value` is consumed. On failure it stays live and names the
/// same, unchanged object.
///
/// Errors: `m` null or another thread's; `tx` or `value` not live (or of
/// the other policy), or the channel belongs to another runtime than
/// `m`'s (`BRISK_STATUS_INVALID_HANDLE`); an unknown mode (`BRISK_STATUS_INVALID_ARGUMENT`);
/// the value does not meet the mode's precondition
/// (`BRISK_STATUS_SEND_REFUSED`: not frozen for a share, reachable from
/// elsewhere for a move, not copyable for a copy); every receiver is
/// freed (`BRISK_STATUS_DISCONNECTED`).
///
/// # Safety
///
/// `m` is null or the pointer a running main function was given.
#[no_mangle]
pub unsafe extern "C" fn brisk_send(
    m: *mut BriskMutator,
    tx: BriskSender,
    value: BriskValue,
    mode: BriskSendMode,
) -> BriskStatus {
    // SAFETY: forwarded contract.
    unsafe {
        with_mutator(m, "brisk_send", |m| {
            let mode = send_mode(mode)?;
            let tx = SENDERS.get(tx.id)?;
            dispatch!(m, m => send(m, &tx, value, mode))
        })
    }
}

/// The value is taken out of the table for the send (a reference left
/// there would make a moved graph look shared) and put back under its
/// handle if the send fails.
fn send<P: CPolicy>(
    m: &Mutator<P>,
    tx: &ByPolicy<Senders>,
    value: BriskValue,
    mode: SendMode,
) -> Result {
    const FUNCTION: &str = "brisk_send";
    let tx = tx.get::<P>(FUNCTION)?;
    let object = values::take::<P>(value, FUNCTION)?;
    tx.send(m, object, mode).map_err(|refused| {
        values::put(value, refused.value);
        let status = match refused.kind {
            SendErrorKind::Disconnected => BriskStatus::Disconnected,
            SendErrorKind::ForeignRuntime => BriskStatus::InvalidHandle,
            _ => BriskStatus::SendRefused,
        };
        Error::new(status, format!("{FUNCTION}: {}", refused.kind))
    })
}

/// Waits for a value on `rx` and writes its new handle to `out`. While it
/// waits the thread is detached: it does not hold up another thread's
/// stop of the world.
///
/// Errors: `m` or `out` null, or `m` another thread's; `rx` not live (or
/// of the other policy), or the channel belongs to another runtime than
/// `m`'s (`BRISK_STATUS_INVALID_HANDLE`); every sender is freed and the channel is empty
/// (`BRISK_STATUS_DISCONNECTED`).
///
/// # Safety
///
/// `m` is null or the pointer a running main function was given; `out` is
/// null or writable.
#[no_mangle]
pub unsafe extern "C" fn brisk_recv(
    m: *mut BriskMutator,
    rx: BriskReceiver,
    out: *mut BriskValue,
) -> BriskStatus {
    // SAFETY: forwarded contract.
    unsafe {
        with_mutator_out(m, out, "brisk_recv", |m| {
            let rx = RECEIVERS.get(rx.id)?;
            dispatch!(m, m => recv(m, &rx))
        })
    }
}

fn recv<P: CPolicy>(m: &Mutator<P>, rx: &ByPolicy<Receivers>) -> Result<BriskValue> {
    let rx = rx.get::<P>("brisk_recv")?;
    let value = rx.recv(m).map_err(|e| {
        let status = match e {
            RecvError::Disconnected => BriskStatus::Disconnected,
            RecvError::ForeignRuntime => BriskStatus::InvalidHandle,
        };
        Error::new(status, format!("brisk_recv: {e}"))
    })?;
    Ok(values::insert(value))
}
