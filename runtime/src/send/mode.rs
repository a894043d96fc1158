//! The send modes, and why a send can fail.

use core::fmt;

use crate::object::Kind;

/// Why a channel refuses a mutator of a runtime it does not belong to.
pub(super) const FOREIGN_RUNTIME: &str = "the channel belongs to another runtime \
     (a channel carries objects only between the interpreters of one runtime)";

/// How a value crosses to another interpreter.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub enum SendMode {
    /// Pass the reference of a frozen graph. O(1).
    Share,
    /// Give up an isolated graph; the receiver owns it afterwards.
    Move,
    /// Send a deep copy owned by the receiver.
    Copy,
}

/// Why a send failed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SendErrorKind {
    /// `Share` of an object that is not frozen.
    NotShareable {
        /// The root's type.
        kind: Kind,
    },
    /// `Move` of a graph that other references reach.
    NotIsolated {
        /// References from outside the graph (including extra references
        /// to the root beyond the one being sent).
        external_refs: usize,
        /// Objects whose count this thread cannot read exactly (another
        /// thread has counted them and not merged yet); treated as shared.
        unverifiable: usize,
    },
    /// `Copy` of a graph containing an object that cannot be copied.
    NotCopyable {
        /// Its type.
        kind: Kind,
        /// Its type's name.
        type_name: &'static str,
    },
    /// The receiving end is gone.
    Disconnected,
    /// The channel belongs to another runtime: the first mutator that used
    /// it was attached to an interpreter of another runtime, and a channel
    /// carries objects only between the interpreters of one runtime.
    ForeignRuntime,
}

impl fmt::Display for SendErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SendErrorKind::NotShareable { kind } => {
                write!(
                    f,
                    "cannot share a {} that is not frozen (freeze it, or send it by move or copy)",
                    kind.name()
                )
            }
            SendErrorKind::NotIsolated {
                external_refs,
                unverifiable,
            } => {
                write!(f, "cannot move a graph that is referenced from outside: {external_refs} external reference(s)")?;
                if *unverifiable > 0 {
                    write!(f, ", {unverifiable} object(s) shared with other threads")?;
                }
                Ok(())
            }
            SendErrorKind::NotCopyable { type_name, .. } => {
                write!(f, "cannot copy an object of type {type_name}")
            }
            SendErrorKind::Disconnected => {
                f.write_str("the receiving end of the channel is closed")
            }
            SendErrorKind::ForeignRuntime => f.write_str(FOREIGN_RUNTIME),
        }
    }
}
