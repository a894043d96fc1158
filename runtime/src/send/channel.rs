//! The channel: [`channel()`] makes a [`Sender`] and a [`Receiver`]. A send
//! prepares the message its [mode](SendMode) asks for — the reference, an
//! isolated graph, or a deep copy — and a receive re-biases the objects of
//! a moved or copied graph to the receiving thread. A failed send returns
//! the value in a [`SendError`].

use core::fmt;

use super::copy::deep_copy;
use super::isolation::isolated_members;
use super::members::Members;
use super::mode::{SendErrorKind, SendMode};
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

/// A failed receive: every sender is gone and the channel is empty.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct RecvError;

impl fmt::Display for RecvError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("the channel is closed and empty")
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
}

/// The receiving end of a channel. Clone it to receive on several mutators.
pub struct Receiver<P: RuntimePolicy> {
    rx: crossbeam_channel::Receiver<Message<P>>,
}

impl<P: RuntimePolicy> Clone for Sender<P> {
    fn clone(&self) -> Self {
        Sender {
            tx: self.tx.clone(),
        }
    }
}

impl<P: RuntimePolicy> Clone for Receiver<P> {
    fn clone(&self) -> Self {
        Receiver {
            rx: self.rx.clone(),
        }
    }
}

/// A new unbounded channel.
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
    (Sender { tx }, Receiver { rx })
}

impl<P: RuntimePolicy> Sender<P> {
    /// Sends `value` in `mode`. On error the value comes back in the
    /// [`SendError`], unchanged.
    pub fn send(&self, m: &Mutator<P>, value: Ref<P>, mode: SendMode) -> Result<(), SendError<P>> {
        let _span = brisk_refcount::trace::span(
            || tracing::debug_span!(target: "brisk::runtime", "send", ?mode),
        )
        .entered();
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
            SendMode::Move => match isolated_members(&value) {
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
    /// Waits for a value (detached from the world while it waits).
    pub fn recv(&self, m: &Mutator<P>) -> Result<Ref<P>, RecvError> {
        // A message already waiting needs no detach: take it directly.
        let message = match self.rx.try_recv() {
            Ok(message) => message,
            Err(_) => m.blocking(|| self.rx.recv()).map_err(|_| RecvError)?,
        };
        Ok(accept(message))
    }

    /// Waits for a value on this channel or for `wake` to be ready, whichever
    /// comes first (detached from the world while it waits). `wake` is ready
    /// when a message waits on it (which is left there) or when every sender
    /// of it is gone; `None` means `wake` was ready. This lets an embedder stop
    /// a receive for a reason of its own, such as the end of every
    /// interpreter that could send: it drops the senders of `wake`.
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
        loop {
            match self.rx.try_recv() {
                Ok(message) => return Ok(Some(accept(message))),
                Err(crossbeam_channel::TryRecvError::Disconnected) => return Err(RecvError),
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

    /// A value if one is waiting.
    pub fn try_recv(&self, _m: &Mutator<P>) -> Option<Ref<P>> {
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
                // orders the sender's writes before ours.
                unsafe { P::adopt(member.as_ref().rc_header()) };
            }
            root
        }
    }
}
