//! Interpreters and channels: `spawn-interpreter`, `join`, `channel`,
//! `send`, `recv`, `freeze`.
//!
//! # What a spawned interpreter sees
//!
//! `(spawn-interpreter f)` starts a new runtime interpreter on its own
//! thread and calls `f` there. Interpreters share no mutable state, so the
//! child starts the way a CPython subinterpreter starts by re-importing its
//! modules: with a *snapshot of the parent's globals* taken at the spawn.
//! Each global crosses as a channel message would —
//!
//! * a frozen value (and `nil`, booleans, small integers) is **shared**;
//! * anything else is **copied**; a function without captured variables
//!   copies as a new function object over the same immutable code;
//! * a value the runtime cannot copy (a closure with captured variables, an
//!   interpreter handle) is left out, and using it in the child is an error
//!   that says why.
//!
//! Builtins are not copied: each interpreter makes its own. `f` itself
//! crosses with its captured variables: a frozen `f` is shared as it is;
//! otherwise the value of each captured variable is shared or copied as
//! above and the child gets a new closure over the same code (so a `set!`
//! in the child does not reach the parent's variable). A captured value
//! that cannot cross is an error at the spawn.
//!
//! The globals and captured values travel through a private runtime channel,
//! so copies are made by the runtime's `copy` and re-biased to the child
//! thread when it receives them.
//!
//! # Results
//!
//! `(join h)` waits for the interpreter (detached from the runtime while it
//! waits, so a stop-the-world or the GIL is never held up) and returns the
//! value `f` returned, shared if frozen, else copied. An error in the child
//! becomes an error at the `join`, with the child's diagnostic as its cause.
//! An interpreter nobody joins is joined when its parent finishes. An
//! interpreter that joins its own handle gets an error.
//!
//! # Channels
//!
//! `(channel)` makes one handle for both ends of a runtime channel. The
//! handle holds no objects, so it freezes, shares and copies freely (a copy
//! is another handle to the same channel). `(send ch v 'share|'move|'copy)`
//! maps to [`SendMode`]; a refused send is a language error carrying the
//! runtime's message. `(recv ch)` blocks, detached, until a value arrives,
//! or fails once no value can come: no other interpreter is running, or one
//! has failed (see [`running`](crate::running)).

use std::sync::Arc;

use brisk_runtime::{
    NativeObject, Object, Receiver, Ref, RuntimePolicy, SendErrorKind, SendMode, Sender,
};
use parking_lot::Mutex;

use crate::builtins::take;
use crate::bytecode::Proto;
use crate::call::{BuiltinResult, Ctx, Failure};
use crate::error::Diagnostic;
use crate::host::{ChildThread, Host};
use crate::running::Running;
use crate::value::{type_name, Builtin, Cell, Channel, Closure};
use crate::vm::Vm;

/// A handle to a spawned interpreter: its thread and where its result
/// arrives.
pub struct InterpreterHandle<P: RuntimePolicy> {
    /// The thread, until joined.
    child: Arc<ChildThread>,
    /// The child sends its function's result here before it finishes.
    result: Receiver<P>,
}

impl<P: RuntimePolicy> NativeObject<P> for InterpreterHandle<P> {
    fn type_name(&self) -> &'static str {
        "interpreter"
    }

    fn trace(&self, _visit: &mut dyn FnMut(&Object<P>)) {}
}

/// How one of the parent's globals reaches the child.
enum GlobalTransfer {
    /// Its value is the next message on the bootstrap channel.
    Sent(u32),
    /// It could not cross, for this reason.
    Left(u32, String),
}

/// How the spawned function reaches the child.
enum FunctionTransfer {
    /// The frozen function is the next message.
    Shared,
    /// One message per captured variable; the child rebuilds the closure.
    Rebuilt(Arc<Proto>),
}

/// Sends `value` across: shared if frozen, copied otherwise.
fn send_across<P: RuntimePolicy>(
    m: &brisk_runtime::Mutator<P>,
    sender: &Sender<P>,
    value: &Ref<P>,
) -> Result<(), String> {
    let mode = if value.is_frozen() {
        SendMode::Share
    } else {
        SendMode::Copy
    };
    sender
        .send(m, value.clone(), mode)
        .map_err(|error| match error.kind {
            SendErrorKind::NotCopyable { .. } => {
                format!("{} (freeze it to share it instead)", error.kind)
            }
            kind => kind.to_string(),
        })
}

fn channel_arg<P: RuntimePolicy>(value: &Object<P>) -> Result<&Channel<P>, Failure> {
    value
        .downcast_native::<Channel<P>>()
        .ok_or_else(|| Failure::Message(format!("expected a channel, found {}", type_name(value))))
}

/// `(freeze v)`: makes `v` deep-immutable and returns it.
pub fn freeze<P: RuntimePolicy>(ctx: &mut Ctx<'_, '_, P>, args: &mut [Ref<P>]) -> BuiltinResult<P> {
    ctx.m.freeze(&args[0]).map_err(|e| e.to_string())?;
    Ok(args[0].clone())
}

/// `(frozen? v)`
pub fn is_frozen<P: RuntimePolicy>(
    ctx: &mut Ctx<'_, '_, P>,
    args: &mut [Ref<P>],
) -> BuiltinResult<P> {
    Ok(ctx.m.bool(args[0].is_frozen()))
}

/// `(channel)`
pub fn channel<P: RuntimePolicy>(
    ctx: &mut Ctx<'_, '_, P>,
    _args: &mut [Ref<P>],
) -> BuiltinResult<P> {
    let (sender, receiver) = brisk_runtime::channel();
    Ok(ctx.m.native(Box::new(Channel { sender, receiver })))
}

/// `(send ch v mode)`
pub fn send<P: RuntimePolicy>(ctx: &mut Ctx<'_, '_, P>, args: &mut [Ref<P>]) -> BuiltinResult<P> {
    let mode = match args[2].as_str() {
        Some("share") => SendMode::Share,
        Some("move") => SendMode::Move,
        Some("copy") => SendMode::Copy,
        _ => {
            return Err(Failure::Message(format!(
                "the mode must be 'share, 'move or 'copy, found {}",
                crate::value::repr(&args[2])
            )))
        }
    };
    let (channel, rest) = args.split_at_mut(1);
    let channel = channel_arg(&channel[0])?;
    let value = take(ctx.m, &mut rest[0]);
    channel
        .sender
        .send(ctx.m, value, mode)
        .map_err(|error| Failure::Message(error.kind.to_string()))?;
    Ok(ctx.m.none())
}

/// `(recv ch)`
pub fn recv<P: RuntimePolicy>(ctx: &mut Ctx<'_, '_, P>, args: &mut [Ref<P>]) -> BuiltinResult<P> {
    let channel = channel_arg(&args[0])?;
    if !ctx.host.limits.allow_spawn {
        // One interpreter only: nobody else can ever send, so waiting on an
        // empty channel would hang forever.
        return channel.receiver.try_recv(ctx.m).ok_or_else(|| {
            "the channel is empty and no other interpreter can send to it (spawning is disabled)".into()
        });
    }
    loop {
        let wake = match ctx.host.running.watch(ctx.host.interpreter_id) {
            Ok(wake) => wake,
            // Nobody may ever send: take what has already arrived, else
            // fail rather than wait forever.
            Err(stop) => {
                return channel
                    .receiver
                    .try_recv(ctx.m)
                    .ok_or_else(|| Failure::from(stop))
            }
        };
        // Woken when an interpreter finishes: check again.
        if let Some(value) = channel
            .receiver
            .recv_or_wake(ctx.m, &wake)
            .map_err(|e| e.to_string())?
        {
            return Ok(value);
        }
    }
}

/// `(spawn-interpreter f)`
pub fn spawn_interpreter<P: RuntimePolicy>(
    ctx: &mut Ctx<'_, '_, P>,
    args: &mut [Ref<P>],
) -> BuiltinResult<P> {
    if !ctx.host.limits.allow_spawn {
        return Err("spawning interpreters is disabled in this run".into());
    }
    let m = ctx.m;
    let function = &args[0];
    let closure = function.downcast_native::<Closure<P>>().ok_or_else(|| {
        Failure::Message(format!(
            "expected a function, found {}",
            type_name(function)
        ))
    })?;
    if closure.proto.arity != 0 {
        return Err(Failure::Message(format!(
            "the function must take no arguments, but '{}' takes {}",
            closure.proto.name, closure.proto.arity
        )));
    }
    let (sender, receiver) = brisk_runtime::channel::<P>();
    let mut globals = Vec::new();
    for (symbol, value) in ctx.globals.iter().enumerate() {
        let Some(value) = value else { continue };
        if value.downcast_native::<Builtin<P>>().is_some() {
            continue;
        }
        let symbol = symbol as u32;
        globals.push(match send_across(m, &sender, value) {
            Ok(()) => GlobalTransfer::Sent(symbol),
            Err(reason) => GlobalTransfer::Left(symbol, reason),
        });
    }
    let function_transfer = if function.is_frozen() {
        send_across(m, &sender, function)?;
        FunctionTransfer::Shared
    } else {
        for (held, capture) in closure.captures.iter().zip(&closure.proto.captures) {
            let value = if capture.is_value {
                held.clone()
            } else {
                held.downcast_native::<Cell<P>>()
                    .map(Cell::get)
                    .unwrap_or_else(|| m.none())
            };
            send_across(m, &sender, &value).map_err(|reason| {
                let name = &capture.name;
                format!("cannot pass captured variable '{name}' to a new interpreter: {reason}")
            })?;
        }
        FunctionTransfer::Rebuilt(Arc::clone(&closure.proto))
    };
    let (result_sender, result_receiver) = brisk_runtime::channel::<P>();
    let interpreter = ctx.host.runtime.new_interpreter("spawned");
    let id = interpreter.id();
    let host = ctx.host.child(id);
    tracing::debug!(target: "brisk::interp", parent = ctx.host.interpreter_id, child = id, globals = globals.len(), "spawn-interpreter");
    // Recorded as running before the thread starts, and as finished however
    // the thread ends (a panic included), so a `recv` elsewhere never waits
    // on an interpreter that is gone (see `running`).
    let running = Arc::clone(&ctx.host.running);
    running.start(id);
    let thread = interpreter.spawn(move |m| {
        let mut finished = Finished {
            running,
            id,
            failure: Some(Diagnostic::without_location(
                "<brisk>",
                format!("interpreter {id} panicked"),
            )),
        };
        let result = child_main(m, host, receiver, globals, function_transfer, result_sender);
        finished.failure = result.as_ref().err().cloned();
        result
    });
    let child = Arc::new(ChildThread {
        id,
        thread: Mutex::new(Some(thread)),
    });
    ctx.host.children.push(Arc::clone(&child));
    Ok(m.native(Box::new(InterpreterHandle {
        child,
        result: result_receiver,
    })))
}

/// Records the end of a spawned interpreter's thread when dropped, with
/// `failure` as its outcome.
struct Finished<P: RuntimePolicy> {
    running: Arc<Running<P>>,
    id: u32,
    /// The failure to record: a panic until the thread sets its result.
    failure: Option<Diagnostic>,
}

impl<P: RuntimePolicy> Drop for Finished<P> {
    fn drop(&mut self) {
        self.running.finish(self.id, self.failure.as_ref());
    }
}

/// The body of a spawned interpreter's thread.
fn child_main<P: RuntimePolicy>(
    m: &brisk_runtime::Mutator<P>,
    host: Host<P>,
    bootstrap: Receiver<P>,
    globals: Vec<GlobalTransfer>,
    function: FunctionTransfer,
    result: Sender<P>,
) -> Result<(), Diagnostic> {
    let id = host.interpreter_id;
    let lost = || {
        Diagnostic::without_location(
            "<brisk>",
            format!("interpreter {id} lost its start-up values"),
        )
    };
    let mut vm = Vm::new(m, host);
    for global in globals {
        match global {
            GlobalTransfer::Sent(symbol) => {
                let value = bootstrap.recv(m).map_err(|_| lost())?;
                vm.define_global(symbol, value);
            }
            GlobalTransfer::Left(symbol, reason) => {
                vm.host.not_copied.insert(symbol, reason);
            }
        }
    }
    let (function, proto) = match function {
        FunctionTransfer::Shared => {
            let function = bootstrap.recv(m).map_err(|_| lost())?;
            let proto = function
                .downcast_native::<Closure<P>>()
                .map(|c| Arc::clone(&c.proto));
            (function, proto)
        }
        FunctionTransfer::Rebuilt(proto) => {
            let captures = proto
                .captures
                .iter()
                .map(|capture| {
                    let value = bootstrap.recv(m).map_err(|_| lost())?;
                    Ok(if capture.is_value {
                        value
                    } else {
                        m.native(Box::new(Cell::new(value)))
                    })
                })
                .collect::<Result<Vec<_>, Diagnostic>>()?;
            let function = m.native(Box::new(Closure {
                proto: Arc::clone(&proto),
                captures: captures.into_boxed_slice(),
            }));
            (function, Some(proto))
        }
    };
    drop(bootstrap);
    let outcome = vm.call(function);
    let joined = vm.join_children();
    let value = outcome?;
    joined?;
    send_across(m, &result, &value).map_err(|reason| {
        let message = format!("interpreter {id} cannot return its result: {reason}");
        match proto {
            Some(proto) => Diagnostic::new(&proto.source, proto.span, message),
            None => Diagnostic::without_location("<brisk>", message),
        }
    })
}

/// `(join h)`
pub fn join<P: RuntimePolicy>(ctx: &mut Ctx<'_, '_, P>, args: &mut [Ref<P>]) -> BuiltinResult<P> {
    let handle = args[0]
        .downcast_native::<InterpreterHandle<P>>()
        .ok_or_else(|| {
            Failure::Message(format!(
                "expected an interpreter, found {}",
                type_name(&args[0])
            ))
        })?;
    let id = handle.child.id;
    // A handle can reach its own interpreter (moved to it over a channel).
    // Joining it would wait for the calling thread to finish, which never
    // happens (std's join panics on it). Checked before the thread is taken,
    // so the handle keeps it and the parent's end-of-run join still waits
    // for this interpreter and reports its failure.
    if id == ctx.host.interpreter_id {
        return Err(format!(
            "interpreter {id} cannot join itself (it would wait for itself forever)"
        )
        .into());
    }
    let thread = handle
        .child
        .thread
        .lock()
        .take()
        .ok_or_else(|| format!("interpreter {id} was already joined"))?;
    let outcome = ctx.m.blocking(|| thread.join());
    tracing::debug!(target: "brisk::interp", child = id, ok = matches!(outcome, Ok(Ok(()))), "join");
    match outcome {
        Ok(Ok(())) => handle
            .result
            .try_recv(ctx.m)
            .ok_or_else(|| format!("interpreter {id} finished without a result").into()),
        Ok(Err(cause)) => {
            ctx.host.running.reported(id);
            Err(Failure::Nested {
                message: format!("interpreter {id} failed: {}", cause.message),
                cause: Box::new(cause),
            })
        }
        Err(_) => {
            ctx.host.running.reported(id);
            Err(format!("interpreter {id} panicked").into())
        }
    }
}
