//! brisk's runtime: interpreters without a global interpreter lock, built
//! on biased and deferred reference counting.
//!
//! The 2017 python-dev discussion on subinterpreters asked two questions
//! this crate answers with working code:
//!
//! * *How could interpreter A use an object defined in interpreter B
//!   without the GIL?* — Objects are biased to the thread that made them
//!   ([`brisk_refcount`]); any other thread counts on the shared half of the
//!   header, and hot shared objects can be counted through per-thread
//!   coalescing buffers ([`brisk_gc`]). A deep-immutable ([frozen](Mutator::freeze))
//!   graph can be shared in O(1); a mutable one crosses by
//!   [move or copy](SendMode).
//! * *How do you refcount objects shared between interpreters without
//!   majorly impacting single-thread performance?* — The owner path is a
//!   plain load and store; the benchmarks in `brisk-bench` measure the rest.
//!
//! # Pieces
//!
//! | item | concept |
//! |---|---|
//! | [`Runtime`] | owns interpreters; one counting policy ([`policy`]) |
//! | [`Interpreter`] | an isolation domain with its own globals |
//! | [`Mutator`] | a thread attached to an interpreter: safepoints, blocking, stop-the-world |
//! | [`stw`] | the stop-the-world handshake |
//! | [`object`] | the 24-byte header, built-in types, [`NativeObject`] |
//! | [`freeze`] | deep immutability, with frozen cycles counted as one |
//! | [`collect`] | the cycle collector, across interpreters |
//! | [`send`] | channels with share / move / copy |
//! | [`live_objects`] | the live-object counter tests use |
//!
//! Inside the crate, modules import one another in one direction: the
//! [`Runtime`] handle above the interpreters, the interpreters above the
//! state they share with their runtime and mutators (the stop-the-world
//! handshake, the global lock, the singletons, the collector's state), the
//! collector above the object model. Only the object model's native
//! callables look up, to the [`Mutator`] that calls them.
//!
//! ```
//! use brisk_runtime::{channel, Biased, Runtime, SendMode};
//!
//! let runtime = Runtime::<Biased>::new();
//! let a = runtime.new_interpreter("a");
//! let b = runtime.new_interpreter("b");
//! let (tx, rx) = channel();
//! a.spawn(move |m| {
//!     let config = m.tuple(vec![m.str("threads"), m.int(4)]);
//!     m.freeze(&config).unwrap();
//!     tx.send(m, config, SendMode::Share).unwrap();
//! })
//! .join()
//! .unwrap();
//! let threads = b.spawn(move |m| rx.recv(m).unwrap().get_item(1).unwrap().as_int());
//! assert_eq!(threads.join().unwrap(), Some(4));
//! ```

#![deny(unsafe_op_in_unsafe_fn)]
#![warn(missing_docs)]

mod sync;

mod attached;
pub mod collect;
mod constructors;
pub mod freeze;
mod gil;
mod graph;
mod interpreter;
mod live;
mod mutator;
pub mod object;
pub mod policy;
mod runtime;
pub mod send;
mod shared;
mod singletons;
pub mod statics;
pub mod stw;

pub use collect::{CollectionReport, GcStats};
pub use freeze::FreezeError;
pub use interpreter::Interpreter;
pub use live::live_objects;
pub use mutator::{Mutator, SAFEPOINT_PERIOD};
pub use object::{
    DictEntry, Kind, NativeFn, NativeObject, Object, ObjectError, Ref, HEADER_BYTES,
    TRACKED_LINK_BYTES,
};
pub use policy::{Atomic, Biased, Deferred, Gil, RuntimePolicy};
pub use runtime::Runtime;
pub use send::{channel, Receiver, RecvError, SendError, SendErrorKind, SendMode, Sender};
