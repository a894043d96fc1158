//! The channel: [`channel()`] makes a [`Sender`] and a [`Receiver`]. A send
//! prepares the message its [mode](SendMode) asks for — the reference, an
//! isolated graph, or a deep copy — and a receive re-biases the objects of
//! a moved or copied graph to the receiving thread. A failed send returns
//! the value in a [`SendError`].
//!
//! A channel belongs to the runtime of the first mutator that uses it
//! (`binding.rs`): a send or receive by a mutator of another runtime is
//! refused, and the message stays where it was.

use core::fmt;

use std::sync::Arc;

use super::binding::Binding;
use super::copy::deep_copy;
use super::isolation::isolated_members;
use super::members::Members;
use super::mode::{SendErrorKind, SendMode, FOREIGN_RUNTIME};
use crate::mutator::Mutator;
use crate::object::Ref;
use crate::policy::RuntimePolicy;

/// A failed send: why, and the value, returned intact.
pub struct SendError<P: RuntimePolicy> {
    /// Why.
    pub kind: SendErrorKind,
    /// The value the sender passed in, unchanged and usable.
    pub value: Ref<P>,
}

impl<P: RuntimePolicy> fmt::Debug for SendError<P> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SendError")
            .field("kind", &self.kind)
            .field("value", &self.value)
            .finish()
    }
}

impl<P: RuntimePolicy> fmt::Display for SendError<P> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.kind, f)
    }
}

impl<P: RuntimePolicy> std::error::Error for SendError<P> {}

/// Why a receive failed.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum RecvError {
    /// Every sender is gone and the channel is empty.
    Disconnected,
    /// The channel belongs to another runtime (see
    /// [`SendErrorKind::ForeignRuntime`]); its messages stay queued.
    ForeignRuntime,
}

impl fmt::Display for RecvError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RecvError::Disconnected => f.write_str("the channel is closed and empty"),
            RecvError::ForeignRuntime => f.write_str(FOREIGN_RUNTIME),
        }
    }
}

impl std::error::Error for RecvError {}

/// What travels in the channel.
enum Message<P: RuntimePolicy> {
    /// A frozen (or immortal) object.
    Shared(Ref<P>),
    /// An isolated graph: its root, and every object the receiver adopts.
    Owned { root: Ref<P>, members: Members<P> },
}

/// The sending end of a channel. Clone it to send from several mutators.
pub struct Sender<P: RuntimePolicy> {
    tx: crossbeam_channel::Sender<Message<P>>,
    /// The runtime the channel belongs to.
    binding: Arc<Binding<P>>,
}

/// The receiving end of a channel. Clone it to receive on several mutators.
pub struct Receiver<P: RuntimePolicy> {
    rx: crossbeam_channel::Receiver<Message<P>>,
    /// The runtime the channel belongs to.
    binding: Arc<Binding<P>>,
}

impl<P: RuntimePolicy> Clone for Sender<P> {
    fn clone(&self) -> Self {
        Sender {
            tx: self.tx.clone(),
            binding: Arc::clone(&self.binding),
        }
    }
}

impl<P: RuntimePolicy> Clone for Receiver<P> {
    fn clone(&self) -> Self {
        Receiver {
            rx: self.rx.clone(),
            binding: Arc::clone(&self.binding),
        }
    }
}

/// A new unbounded channel. It belongs to the runtime of the first mutator
/// that sends or receives on it; mutators of any other runtime are refused
/// ([`SendErrorKind::ForeignRuntime`], [`RecvError::ForeignRuntime`]).
///
/// ```
/// use brisk_runtime::{channel, Deferred, Runtime, SendMode};
///
/// let runtime = Runtime::<Deferred>::new();
/// let (tx, rx) = channel();
/// let producer = runtime.new_interpreter("producer");
/// let consumer = runtime.new_interpreter("consumer");
/// let got = consumer.spawn(move |m| rx.recv(m).unwrap().items().unwrap().len());
/// producer
///     .spawn(move |m| {
///         let list = m.list(vec![m.int(1), m.int(2)]);
///         tx.send(m, list, SendMode::Move).unwrap();
///     })
///     .join()
///     .unwrap();
/// assert_eq!(got.join().unwrap(), 2);
/// ```
pub fn channel<P: RuntimePolicy>() -> (Sender<P>, Receiver<P>) {
    let (tx, rx) = crossbeam_channel::unbounded();
    let binding = Arc::new(Binding::new());
    (
        Sender {
            tx,
            binding: Arc::clone(&binding),
        },
        Receiver { rx, binding },
    )
}

impl<P: RuntimePolicy> Sender<P> {
    /// Sends `value` in `mode`. On error the value comes back in the
    /// [`SendError`], unchanged. A move of a graph in which some mutable
    /// object has several references stops the world of `m`'s runtime
    /// while it checks that the graph is isolated. Refused with
    /// [`SendErrorKind::ForeignRuntime`] if the channel belongs to another
    /// runtime than `m`'s.
    pub fn send(&self, m: &Mutator<P>, value: Ref<P>, mode: SendMode) -> Result<(), SendError<P>> {
        let _span = brisk_refcount::trace::span(
            || tracing::debug_span!(target: "brisk::runtime", "send", ?mode),
        )
        .entered();
        if !self.binding.admits(m) {
            let kind = SendErrorKind::ForeignRuntime;
            return Err(SendError { kind, value });
        }
        // For a copy the original stays with the sender (and is returned if
        // the channel turns out to be closed).
        let (message, original) = match mode {
            SendMode::Share => {
                if !value.is_frozen() {
                    let kind = SendErrorKind::NotShareable { kind: value.kind() };
                    return Err(SendError { kind, value });
                }
                (Message::Shared(value), None)
            }
            SendMode::Move => match isolated_members(m, &value) {
                Ok(members) => (
                    Message::Owned {
                        root: value,
                        members,
                    },
                    None,
                ),
                Err(kind) => return Err(SendError { kind, value }),
            },
            SendMode::Copy => match deep_copy(m, &value) {
                Ok((root, members)) => (Message::Owned { root, members }, Some(value)),
                Err(kind) => return Err(SendError { kind, value }),
            },
        };
        self.tx.send(message).map_err(|returned| {
            let value = match (returned.0, original) {
                (_, Some(original)) => original,
                (Message::Shared(value), None) => value,
                (Message::Owned { root, .. }, None) => root,
            };
            SendError {
                kind: SendErrorKind::Disconnected,
                value,
            }
        })
    }
}

impl<P: RuntimePolicy> Receiver<P> {
    /// Waits for a value (detached from the world while it waits). Fails
    /// with [`RecvError::Disconnected`] once every sender is gone and the
    /// channel is empty, and with [`RecvError::ForeignRuntime`] if the
    /// channel belongs to another runtime than `m`'s.
    pub fn recv(&self, m: &Mutator<P>) -> Result<Ref<P>, RecvError> {
        if !self.binding.admits(m) {
            return Err(RecvError::ForeignRuntime);
        }
        // A message already waiting needs no detach: take it directly.
        let message = match self.rx.try_recv() {
            Ok(message) => message,
            Err(_) => m
                .blocking(|| self.rx.recv())
                .map_err(|_| RecvError::Disconnected)?,
        };
        Ok(accept(message))
    }

    /// Waits for a value on this channel or for `wake` to be ready, whichever
    /// comes first (detached from the world while it waits). `wake` is ready
    /// when a message waits on it (which is left there) or when every sender
    /// of it is gone; `None` means `wake` was ready. This lets an embedder stop
    /// a receive for a reason of its own, such as the end of every
    /// interpreter that could send: it drops the senders of `wake`. Fails as
    /// [`recv`](Receiver::recv) does; `wake` only wakes, and is never bound
    /// to a runtime by this call.
    ///
    /// ```
    /// use brisk_runtime::{channel, Biased, Runtime};
    ///
    /// let runtime = Runtime::<Biased>::new();
    /// let main = runtime.new_interpreter("main");
    /// let (_tx, rx) = channel::<Biased>();
    /// let (wake_tx, wake_rx) = channel::<Biased>();
    /// drop(wake_tx);
    /// let woken = main.spawn(move |m| rx.recv_or_wake(m, &wake_rx).unwrap().is_none());
    /// assert!(woken.join().unwrap());
    /// ```
    pub fn recv_or_wake(
        &self,
        m: &Mutator<P>,
        wake: &Receiver<P>,
    ) -> Result<Option<Ref<P>>, RecvError> {
        if !self.binding.admits(m) {
            return Err(RecvError::ForeignRuntime);
        }
        loop {
            match self.rx.try_recv() {
                Ok(message) => return Ok(Some(accept(message))),
                Err(crossbeam_channel::TryRecvError::Disconnected) => {
                    return Err(RecvError::Disconnected)
                }
                Err(crossbeam_channel::TryRecvError::Empty) => {}
            }
            // `ready` only reports (a disconnected channel counts as ready):
            // this channel's message is taken by `try_recv` on the next turn,
            // where another receiver may have taken it first, and a message
            // on `wake` is never taken.
            let ready = m.blocking(|| {
                let mut select = crossbeam_channel::Select::new();
                select.recv(&self.rx);
                select.recv(&wake.rx);
                select.ready()
            });
            if ready == 1 {
                return Ok(None);
            }
        }
    }

    /// A value if one is waiting. `None` also if the channel belongs to
    /// another runtime than `m`'s (its messages stay queued; [`recv`]
    /// says why).
    ///
    /// [`recv`]: Receiver::recv
    pub fn try_recv(&self, m: &Mutator<P>) -> Option<Ref<P>> {
        if !self.binding.admits(m) {
            return None;
        }
        self.rx.try_recv().ok().map(accept)
    }
}

/// Takes a message over on the receiving thread: re-biases moved and copied
/// graphs to it.
///
/// One flat pass over the member list: the addresses are independent, so
/// the misses on headers the sender's core last wrote overlap, where a walk
/// from the root would wait for each object before finding the next.
fn accept<P: RuntimePolicy>(message: Message<P>) -> Ref<P> {
    match message {
        Message::Shared(value) => value,
        Message::Owned { root, members } => {
            for member in members.0 {
                // SAFETY: `root` keeps every member alive (see `Members`);
                // the graph was proven isolated (or freshly copied) by the
                // sender, which gave up every reference into it; the channel
                // orders the sender's writes before ours; the sender and
                // this thread are mutators of one runtime (`Binding`).
                unsafe { P::adopt(member.as_ref().rc_header()) };
            }
            root
        }
    }
}
