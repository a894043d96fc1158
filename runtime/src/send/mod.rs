//! Channels between interpreters, with three explicit send modes.
//!
//! The 2017 thread asked how interpreter A could use an object from
//! interpreter B without a GIL, and listed the options: share immutable
//! objects, move ownership ("like Rust… require that the root object has
//! refcount 1, and then do like a little mini-mark-and-sweep"), or copy.
//! brisk implements all three and makes the choice explicit:
//!
//! | mode | what crosses | cost | precondition |
//! |---|---|---|---|
//! | [`SendMode::Share`] | the reference | O(1) | the graph is frozen |
//! | [`SendMode::Move`] | ownership of an isolated graph | O(n) check (with the world stopped where an object has several references), O(n) re-bias | root count 1, every other count of a mutable object explained by edges inside the graph |
//! | [`SendMode::Copy`] | a deep copy | O(n) | no slot and no native object without `copy` |
//!
//! A failed send returns the value, untouched, inside the [`SendError`].
//! A moved or copied graph is *re-biased* by the receiver
//! ([`RcPolicy::adopt`](brisk_refcount::RcPolicy::adopt)): its objects become
//! the receiving thread's, so they run on the owner fast path there. Frozen
//! and immortal objects inside a moved or copied graph are shared, not
//! moved or copied.
//!
//! # Immutable values in a move
//!
//! Isolation is a question about mutable state: a move must not leave the
//! sender a way to reach what the receiver will mutate. An immutable value
//! (an int, float, string or bytes, or a tuple of nothing but such values
//! and frozen ones) can be read by both sides at once, as a frozen one can,
//! so a move does not ask who else holds it. One that only the graph holds
//! is moved and re-biased like the rest; one held elsewhere too (by a
//! variable, another container, another thread) is shared: it stays biased
//! to its owner and the receiver counts it on the non-owner path, as it
//! counts a frozen object it was sent. Otherwise whether a move worked
//! would depend on, say, whether an integer was small enough to be one of
//! the immortal cached ones.
//!
//! The transport is a `crossbeam-channel` channel; receiving blocks through
//! [`Mutator::blocking`](crate::Mutator::blocking), so a waiting receiver
//! never holds up stop-the-world or the epoch.
//!
//! # Pieces
//!
//! * `mode.rs`: [`SendMode`], and [`SendErrorKind`], why a send fails.
//! * `channel.rs`: [`channel()`], its [`Sender`] and [`Receiver`], and their
//!   errors. A send prepares the message its mode asks for; a receive
//!   re-biases what a moved or copied message brings.
//! * `binding.rs`: the runtime a channel belongs to, which is the runtime
//!   of the first mutator that uses it; mutators of other runtimes are
//!   refused.
//! * `isolation.rs`: the `Move` precondition, one walk that checks that a
//!   graph is isolated and lists its members, again with the sender's
//!   runtime stopped where another mutator could change the graph under it.
//! * `copy.rs`: the deep copy of `Copy`.
//! * `members.rs`: the members a moved or copied graph hands the receiver
//!   to re-bias, and which objects every walk leaves shared.

mod binding;
mod channel;
mod copy;
mod isolation;
mod members;
mod mode;

pub use channel::{channel, Receiver, RecvError, SendError, Sender};
pub use mode::{SendErrorKind, SendMode};
