//! What a builtin is called with and what it gives back: [`Ctx`],
//! [`Failure`], [`BuiltinResult`].
//!
//! These types sit below the VM, the builtins and `spawn`, all of which
//! use them; this module imports only the host, `running` (whose
//! [`Stop`] becomes `recv`'s failure) and the diagnostic type, none of
//! which imports anything above them.

use brisk_runtime::{Mutator, Ref, RuntimePolicy};

use crate::error::Diagnostic;
use crate::host::Host;
use crate::running::Stop;

/// What a builtin gets besides its arguments.
pub struct Ctx<'a, 'm, P: RuntimePolicy> {
    /// The calling thread's mutator.
    pub m: &'m Mutator<P>,
    /// The interpreter's environment.
    pub host: &'a mut Host<P>,
    /// The interpreter's globals (read by `spawn-interpreter`).
    pub globals: &'a [Option<Ref<P>>],
}

/// Why a builtin failed.
#[derive(Debug)]
pub enum Failure {
    /// A message the VM prefixes with the builtin's name.
    Message(String),
    /// A message shown as it is (`error`, and the VM's own errors).
    Raised(String),
    /// A failure caused by an error in another interpreter.
    Nested {
        /// What failed here.
        message: String,
        /// The other interpreter's error.
        cause: Box<Diagnostic>,
    },
}

impl From<String> for Failure {
    fn from(message: String) -> Self {
        Failure::Message(message)
    }
}

impl From<&str> for Failure {
    fn from(message: &str) -> Self {
        Failure::Message(message.to_owned())
    }
}

/// What a builtin returns.
pub type BuiltinResult<P> = Result<Ref<P>, Failure>;

impl From<Stop> for Failure {
    /// The error `recv` reports when it stops waiting.
    fn from(stop: Stop) -> Self {
        match stop {
            Stop::Failed(id, cause) => Failure::Nested {
                message: format!("recv: interpreter {id} failed: {}", cause.message),
                cause: Box::new(cause),
            },
            Stop::Alone => Failure::Message(
                "the channel is empty and no other interpreter is running to send to it".into(),
            ),
        }
    }
}
