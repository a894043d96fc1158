//! The stack VM: one loop that runs bytecode over counted references.
//!
//! # Shape
//!
//! CPython's eval loop, cut down: a value stack of `Ref<P>` (every slot a
//! counted reference, so pushes and pops are increments and decrements
//! under the runtime's policy), a stack of frames, and a `match` on the next
//! [`Op`]. The loop does not recurse on the Rust stack for a language call:
//! a call pushes a `Frame` and the loop carries on in the callee, so
//! recursion depth is bounded by
//! [`Limits::max_depth`](crate::host::Limits::max_depth) (a clean
//! "recursion limit" error), not by the thread's stack — the same on the main thread
//! and on a spawned interpreter's.
//!
//! # Safepoints
//!
//! Loop back-edges (`Loop`) and calls call [`Mutator::safepoint`], the
//! eval-breaker check: cheap unless the runtime wants this thread (to merge
//! its queue, flush its buffer, hand over the GIL, or stop the world).
//!
//! # Escapes
//!
//! `call/ec` pushes a mark (the frame count and the stack height where its
//! value goes) before it calls its function with a continuation naming
//! the mark; `EndEscape` pops the mark when the function returns. Calling
//! the continuation while its mark is on the mark stack cuts the frames
//! and the stack back to the mark and leaves the argument as the value of
//! the `call/ec`: an escape costs the slots it drops, whatever the depth.
//! A continuation whose mark is gone is an error, never a jump into
//! frames that have been reused.
//!
//! # The running function
//!
//! A frame's function object sits in the stack slot just below the frame's
//! base for as long as the frame runs. The loop keeps a plain reference to
//! the function's [`Closure`] (its code and captured cells) derived from
//! that slot, instead of cloning an `Arc` per call; the `SAFETY` comments
//! argue why the slot keeps it alive.

use core::ptr::NonNull;
use core::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use brisk_runtime::statics::leaked_once;
use brisk_runtime::{Kind, Mutator, Ref, RuntimePolicy};

use crate::builtins;
use crate::bytecode::{CaptureFrom, Op, Proto, Unary};
use crate::call::{Ctx, Failure};
use crate::constants;
use crate::error::{Diagnostic, Span};
use crate::host::Host;
use crate::ops;
use crate::value::{is_truthy, pair_chain, type_name, Builtin, Cell, Closure, Escape, Pair};

/// [`ops::unary`], its message naming the operation as a builtin's does.
#[inline(always)]
fn unary<P: RuntimePolicy>(m: &Mutator<P>, op: Unary, value: &Ref<P>) -> Result<Ref<P>, String> {
    ops::unary(m, op, value).map_err(|message| format!("{}: {message}", op.name()))
}

/// The float `x` in `operand`'s object if nobody else holds it
/// ([`Mutator::float_in`]), else in a new one; `operand` is spent either
/// way. An arithmetic result reuses a temporary this way.
#[inline(always)]
fn float_reusing<P: RuntimePolicy>(m: &Mutator<P>, operand: Ref<P>, x: f64) -> Ref<P> {
    m.float_in(operand, x).unwrap_or_else(|operand| {
        Ref::drop_immortal_first(operand);
        m.float(x)
    })
}

/// Frames named in an error's traceback.
const TRACEBACK_FRAMES: usize = 8;

/// A running call.
struct Frame<P: RuntimePolicy> {
    /// The function's closure, inside the object at `stack[base - 1]`.
    closure: NonNull<Closure<P>>,
    /// The next instruction (saved when the frame calls out or fails).
    ip: usize,
    /// The stack index of local slot 0.
    base: usize,
}

impl<P: RuntimePolicy> Clone for Frame<P> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<P: RuntimePolicy> Copy for Frame<P> {}

/// A function about to be called: its stack index, and its closure if it
/// is a language function.
type Callee<P> = (usize, Option<NonNull<Closure<P>>>);

/// A VM: one interpreter thread's machine.
pub struct Vm<'m, P: RuntimePolicy> {
    /// The attached mutator of this thread.
    m: &'m Mutator<P>,
    /// The embedding environment.
    pub(crate) host: Host<P>,
    /// Global values by symbol number (`None`: undefined).
    pub(crate) globals: Vec<Option<Ref<P>>>,
    /// The value stack.
    stack: Vec<Ref<P>>,
    /// The call stack.
    frames: Vec<Frame<P>>,
    /// Each prototype's constants (the process-wide immortal objects of
    /// [`constants`](crate::constants)), by prototype id: a pool per
    /// prototype, so that `Const` indexes without a table lookup.
    constants: Vec<Box<[Ref<P>]>>,
    /// Steps left before the step limit (`u64::MAX` when unlimited).
    steps_left: u64,
    /// The `call/ec`s running, innermost last.
    escapes: Vec<EscapeMark>,
}

/// A running `call/ec`: where its escape continuation unwinds to.
#[derive(Copy, Clone)]
struct EscapeMark {
    /// The continuation's token (see [`Escape`]).
    token: u64,
    /// The frame count while the `call/ec` runs (its own frame is the
    /// last).
    frames: usize,
    /// The stack index of the function `call/ec` called, where its value
    /// goes.
    stack: usize,
}

/// Tokens of escape continuations, never reused in the process, so a
/// continuation moved to another interpreter names no `call/ec` there.
static NEXT_ESCAPE: AtomicU64 = AtomicU64::new(0);

/// The builtins of policy `P` as immortal natives, made once for the whole
/// process: every interpreter's globals start out with the same objects,
/// and loading or calling one counts nothing under any policy, as CPython's
/// static builtin functions are immortal (PEP 683).
struct BuiltinObjects<P: RuntimePolicy>(Box<[Ref<P>]>);

fn builtin_objects<P: RuntimePolicy>() -> &'static [Ref<P>] {
    &leaked_once(|| {
        BuiltinObjects(
            builtins::table::<P>()
                .into_iter()
                .map(|builtin| {
                    Ref::immortal_native(Box::new(builtin))
                        .ok()
                        .expect("a builtin holds no references and freezes")
                })
                .collect(),
        )
    })
    .0
}

impl<'m, P: RuntimePolicy> Vm<'m, P> {
    /// A VM with the builtins defined, on the calling thread's mutator.
    pub fn new(m: &'m Mutator<P>, host: Host<P>) -> Self {
        let globals = builtin_objects::<P>()
            .iter()
            .map(|builtin| Some(builtin.clone()))
            .collect();
        let steps_left = host.limits.steps.unwrap_or(u64::MAX);
        Vm {
            m,
            host,
            globals,
            stack: Vec::with_capacity(256),
            frames: Vec::with_capacity(64),
            constants: Vec::new(),
            steps_left,
            escapes: Vec::new(),
        }
    }

    /// Runs a compiled top-level function and returns its value.
    pub fn run_main(&mut self, proto: &Arc<Proto>) -> Result<Ref<P>, Diagnostic> {
        let main = self.m.native(Box::new(Closure::<P> {
            proto: Arc::clone(proto),
            captures: Box::new([]),
        }));
        self.call(main)
    }

    /// Calls a function of no arguments and runs it to completion.
    pub fn call(&mut self, function: Ref<P>) -> Result<Ref<P>, Diagnostic> {
        let Some(closure) = function.downcast_native::<Closure<P>>().map(NonNull::from) else {
            return Err(Diagnostic::without_location(
                "<brisk>",
                format!("cannot call a value of type {}", type_name(&function)),
            ));
        };
        let stack_len = self.stack.len();
        let depth = self.frames.len();
        self.stack.push(function);
        // SAFETY: `function`, now in the stack slot below the new frame's
        // base, holds a counted reference to the object owning the closure.
        let entered = self.push_frame(unsafe { closure.as_ref() }, stack_len, 0);
        let result = match entered {
            Ok(()) => self.run(depth),
            Err(failure) => Err(failure),
        };
        result.map_err(|failure| {
            let diagnostic = self.diagnostic(failure);
            self.frames.truncate(depth);
            self.escapes.retain(|mark| mark.frames <= depth);
            self.stack.truncate(stack_len);
            diagnostic
        })
    }

    /// Defines global `symbol`.
    pub fn define_global(&mut self, symbol: u32, value: Ref<P>) {
        let index = symbol as usize;
        if index >= self.globals.len() {
            self.globals.resize(index + 1, None);
        }
        self.globals[index] = Some(value);
        self.host.not_copied.remove(&symbol);
    }

    /// Joins every interpreter spawned from this one that nobody joined,
    /// and reports the first that failed.
    pub fn join_children(&mut self) -> Result<(), Diagnostic> {
        let children = std::mem::take(&mut self.host.children);
        let mut first_failure = None;
        for child in children {
            let Some(thread) = child.thread.lock().take() else {
                continue;
            };
            let failure = match self.m.blocking(|| thread.join()) {
                Ok(Ok(())) => continue,
                Ok(Err(diagnostic)) => {
                    self.host.running.reported(child.id);
                    diagnostic
                }
                Err(_) => {
                    self.host.running.reported(child.id);
                    Diagnostic::without_location(
                        "<brisk>",
                        format!("interpreter {} panicked", child.id),
                    )
                }
            };
            first_failure.get_or_insert(failure);
        }
        first_failure.map_or(Ok(()), Err)
    }

    /// Whether this thread has objects for `proto`'s constants.
    fn has_constants(&self, proto: &Proto) -> bool {
        proto.constants.is_empty()
            || self
                .constants
                .get(proto.id as usize)
                .is_some_and(|made| made.len() == proto.constants.len())
    }

    /// Makes sure this thread's constant pools hold the constants of `proto`
    /// and of every function nested in it: the process-wide immortal
    /// objects of [`constants`](crate::constants), so that loading one
    /// counts nothing, and a graph that holds one shares it rather than
    /// moving or copying it.
    fn ensure_constants(&mut self, proto: &Proto) {
        if self.has_constants(proto) {
            return;
        }
        let m = self.m;
        let mut pending = vec![proto];
        while let Some(next) = pending.pop() {
            pending.extend(next.children.iter().map(|child| &**child));
            if self.has_constants(next) {
                continue;
            }
            let objects: Box<[Ref<P>]> = next
                .constants
                .iter()
                .map(|constant| constants::immortal(m, constant))
                .collect();
            let id = next.id as usize;
            if id >= self.constants.len() {
                self.constants.resize_with(id + 1, || Box::new([]));
            }
            self.constants[id] = objects;
        }
    }

    /// Starts a frame for `closure`, whose function object is at
    /// `stack[callee_index]` with `argc` arguments above it.
    fn push_frame(
        &mut self,
        closure: &Closure<P>,
        callee_index: usize,
        argc: usize,
    ) -> Result<(), Failure> {
        let proto = &*closure.proto;
        check_arity(proto, argc)?;
        let max_depth = self.host.limits.max_depth;
        if self.frames.len() >= max_depth {
            return Err(Failure::Raised(format!(
                "recursion limit exceeded ({max_depth} frames)"
            )));
        }
        self.ensure_constants(proto);
        let base = callee_index + 1;
        if proto.rest {
            let rest = self.stack.split_off(base + proto.arity as usize);
            self.stack.push(self.m.list(rest));
        }
        self.fill_frame(base + proto.frame_size as usize);
        self.frames.push(Frame {
            closure: NonNull::from(closure),
            ip: 0,
            base,
        });
        Ok(())
    }

    /// Pops the running frame and puts its result where its function was.
    /// Returns the result instead if the frame was the outermost of the run.
    fn return_from_frame(&mut self, stop_depth: usize) -> Option<Ref<P>> {
        let result = self.pop();
        let frame = self.frames.pop().expect("a frame is running");
        self.truncate_stack(frame.base - 1);
        if self.frames.len() == stop_depth {
            return Some(result);
        }
        self.stack.push(result);
        None
    }

    /// Grows the stack to `len` slots with `None`, the locals of a frame
    /// just pushed (its arguments are already in place). One `push` at a
    /// time, inlined here: `Vec::resize` is an out-of-line call that also
    /// carries the shrinking path and its drop glue.
    #[inline]
    fn fill_frame(&mut self, len: usize) {
        debug_assert!(self.stack.len() <= len, "a frame holds its arguments");
        self.stack.reserve(len.saturating_sub(self.stack.len()));
        while self.stack.len() < len {
            self.stack.push(self.m.none());
        }
    }

    /// Drops the slots above `len`, one `pop` at a time, immortal values
    /// first (most of a frame's slots and a builtin's arguments are small
    /// ints, booleans and `nil`), so that each drop is inlined here. `Vec::truncate` calls the slice's drop glue, which
    /// the compiler keeps out of line once dropping a reference has more
    /// than one path (`Biased`, `Deferred`): a call per frame, and a loop
    /// that cannot see the slots' policy fast paths.
    #[inline]
    fn truncate_stack(&mut self, len: usize) {
        while self.stack.len() > len {
            if let Some(value) = self.stack.pop() {
                Ref::drop_immortal_first(value);
            }
        }
    }

    #[inline]
    fn pop(&mut self) -> Ref<P> {
        self.stack.pop().expect("the compiler balances the stack")
    }

    #[inline]
    fn step(&mut self) -> Result<(), Failure> {
        if self.steps_left == 0 {
            return Err(Failure::Raised("step limit exceeded".into()));
        }
        self.steps_left -= 1;
        Ok(())
    }

    /// Calls the builtin at `stack[callee_index]` with the `argc` values
    /// above it, replacing them all with the result. An escape
    /// continuation there escapes instead: the result is then `true`, for
    /// the running frame has changed.
    fn call_builtin(&mut self, callee_index: usize, argc: usize) -> Result<bool, Failure> {
        let callee = &self.stack[callee_index];
        let Some(builtin) = callee.downcast_native::<Builtin<P>>() else {
            if let Some(escape) = callee.downcast_native::<Escape>() {
                let token = escape.token;
                self.escape(token, callee_index, argc)?;
                return Ok(true);
            }
            return Err(Failure::Raised(format!(
                "cannot call a value of type {}",
                type_name(callee)
            )));
        };
        let (name, arity, func) = (builtin.name, builtin.arity, builtin.func);
        if !arity.accepts(argc) {
            return Err(Failure::Raised(format!(
                "{name} expects {}, got {argc}",
                arity.describe()
            )));
        }
        let mut ctx = Ctx {
            m: self.m,
            host: &mut self.host,
            globals: &self.globals,
        };
        match func(&mut ctx, &mut self.stack[callee_index + 1..]) {
            Ok(value) => {
                self.truncate_stack(callee_index);
                self.stack.push(value);
                Ok(false)
            }
            Err(Failure::Message(message)) => Err(Failure::Raised(format!("{name}: {message}"))),
            Err(other) => Err(other),
        }
    }

    fn undefined(&self, symbol: u32) -> Failure {
        let name = self.host.symbols.name(symbol);
        Failure::Raised(match self.host.not_copied.get(&symbol) {
            Some(reason) => {
                format!("global '{name}' was not copied into this interpreter: {reason}")
            }
            None => format!("undefined variable '{name}'"),
        })
    }

    /// Global `symbol`'s value (a new reference).
    #[inline(always)]
    fn load_global(&self, symbol: u32) -> Result<Ref<P>, Failure> {
        match self.globals.get(symbol as usize) {
            Some(Some(value)) => Ok(value.clone_immortal_first()),
            _ => Err(self.undefined(symbol)),
        }
    }

    /// `set!` of global `symbol`, which must be defined.
    #[inline(always)]
    fn store_global(&mut self, symbol: u32, value: Ref<P>) -> Result<(), Failure> {
        match self.globals.get_mut(symbol as usize) {
            Some(slot @ Some(_)) => {
                *slot = Some(value);
                Ok(())
            }
            _ => {
                let name = self.host.symbols.name(symbol);
                Err(Failure::Raised(format!(
                    "cannot set! undefined variable '{name}' (define it first)"
                )))
            }
        }
    }

    /// Global `symbol`'s value, leaving `nil` in its place (a move).
    #[inline(always)]
    fn take_global(&mut self, symbol: u32) -> Result<Ref<P>, Failure> {
        let none = self.m.none();
        match self.globals.get_mut(symbol as usize) {
            Some(Some(value)) => Ok(core::mem::replace(value, none)),
            _ => Err(self.undefined(symbol)),
        }
    }

    /// A closure over child prototype `index` of the running function
    /// (`closure`, whose frame starts at `base`), capturing its cells.
    #[inline]
    fn make_closure(&self, closure: &Closure<P>, base: usize, index: u32) -> Ref<P> {
        let child = &closure.proto.children[index as usize];
        let captures = child
            .captures
            .iter()
            .map(|capture| match capture.from {
                CaptureFrom::Local(slot) => self.stack[base + slot as usize].clone(),
                CaptureFrom::Captured(i) => closure.captures[i as usize].clone(),
                CaptureFrom::Own => self.stack[base - 1].clone(),
            })
            .collect();
        self.m.native(Box::new(Closure {
            proto: Arc::clone(child),
            captures,
        }))
    }

    /// The eval-breaker check of loop back-edges and calls: a safepoint,
    /// then one step off the step limit.
    #[inline(always)]
    fn eval_breaker(&mut self) -> Result<(), Failure> {
        self.m.safepoint();
        self.step()
    }

    /// What `Call` and `TailCall` share: the eval-breaker check, then the
    /// callee below the `argc` arguments on top of the stack: its index,
    /// and its closure if it is a language function (`None`: a builtin or
    /// a value that cannot be called, which `call_builtin` tells apart).
    #[inline(always)]
    fn call_prologue(&mut self, argc: usize) -> Result<Callee<P>, Failure> {
        self.eval_breaker()?;
        let callee_index = self.stack.len() - argc - 1;
        let callee = self.stack[callee_index]
            .downcast_native::<Closure<P>>()
            .map(NonNull::from);
        Ok((callee_index, callee))
    }

    /// A call of the callee below the `argc` values on top of the stack,
    /// made by the instruction before `ip`. Returns whether the running
    /// frame changed (a language function's frame was pushed, or an escape
    /// continuation unwound to its `call/ec`); a builtin has already left
    /// its result in the callee's place.
    #[inline(always)]
    fn call_value(&mut self, argc: usize, ip: usize) -> Result<bool, Failure> {
        let (callee_index, callee) = self.call_prologue(argc)?;
        let Some(callee) = callee else {
            return self.call_builtin(callee_index, argc);
        };
        if let Some(top) = self.frames.last_mut() {
            top.ip = ip;
        }
        // SAFETY: `stack[callee_index]` holds a counted reference to the
        // callee's object.
        self.push_frame(unsafe { callee.as_ref() }, callee_index, argc)?;
        Ok(true)
    }

    /// [`call_value`](Self::call_value) in tail position: a language
    /// function's frame replaces the running one; a builtin's result is
    /// returned from it. `Some` is the run's result, when the frame
    /// returned from was the run's outermost.
    #[inline(always)]
    fn tail_call_value(
        &mut self,
        argc: usize,
        stop_depth: usize,
    ) -> Result<Option<Ref<P>>, Failure> {
        let (callee_index, callee) = self.call_prologue(argc)?;
        match callee {
            Some(callee) => {
                self.replace_frame(callee, callee_index, argc)?;
                Ok(None)
            }
            None if self.call_builtin(callee_index, argc)? => Ok(None),
            None => Ok(self.return_from_frame(stop_depth)),
        }
    }

    /// `(call/ec f)`, with `f` on top of the stack: marks this point, then
    /// calls `f` with an escape continuation for it.
    fn call_with_escape(&mut self, ip: usize) -> Result<bool, Failure> {
        let token = NEXT_ESCAPE.fetch_add(1, Ordering::Relaxed);
        self.escapes.push(EscapeMark {
            token,
            frames: self.frames.len(),
            stack: self.stack.len() - 1,
        });
        self.stack.push(self.m.native(Box::new(Escape { token })));
        self.call_value(1, ip)
    }

    /// Calls escape continuation `token` (at `stack[callee_index]`, with
    /// `argc` arguments): unwinds the frames and stack to its `call/ec`,
    /// whose value becomes the argument. The frame of the `call/ec` then
    /// carries on at its `EndEscape`.
    fn escape(&mut self, token: u64, callee_index: usize, argc: usize) -> Result<(), Failure> {
        let Some(at) = self.escapes.iter().rposition(|mark| mark.token == token) else {
            return Err(Failure::Raised(
                "the continuation's call/ec has already returned (call/ec gives escapes only)"
                    .into(),
            ));
        };
        if argc != 1 {
            return Err(Failure::Raised(format!(
                "a continuation expects 1 argument, got {argc}"
            )));
        }
        let value = self.stack[callee_index + 1].clone();
        let mark = self.escapes[at];
        self.escapes.truncate(at + 1);
        self.frames.truncate(mark.frames);
        self.truncate_stack(mark.stack);
        self.stack.push(value);
        Ok(())
    }

    /// `apply`'s spreading: pops the list on top of the stack and pushes its
    /// items, returning the call's argument count (`fixed` arguments were
    /// under the list).
    fn spread(&mut self, fixed: usize) -> Result<usize, Failure> {
        let list = self.pop();
        let items = match list.kind() {
            Kind::List | Kind::Tuple => list.items().unwrap_or_default(),
            _ => pair_chain(&list).ok_or_else(|| {
                Failure::Raised(format!(
                    "apply expects a list as its last argument, found {}",
                    type_name(&list)
                ))
            })?,
        };
        let count = items.len();
        self.stack.extend(items);
        Ok(fixed + count)
    }

    /// A tail call of `callee`, at `stack[callee_index]` with `argc`
    /// arguments above it: the callee and its arguments move down into the
    /// running frame's place, from its function slot up.
    #[inline(always)]
    fn replace_frame(
        &mut self,
        callee: NonNull<Closure<P>>,
        callee_index: usize,
        argc: usize,
    ) -> Result<(), Failure> {
        // SAFETY: `stack[callee_index]` holds a counted reference to the
        // callee's object; the drain below moves that reference down the
        // stack, it does not drop it.
        let callee = unsafe { callee.as_ref() };
        // Checked while the caller's frame still runs, so that the error
        // points at the call.
        check_arity(&callee.proto, argc)?;
        let frame = self.frames.pop().expect("a frame is running");
        self.stack.drain(frame.base - 1..callee_index);
        self.push_frame(callee, frame.base - 1, argc)
    }

    /// Runs until the frame at depth `stop_depth` returns.
    ///
    /// One `match` on each instruction. Arms longer than a push or a pop
    /// call the helpers above, which are inlined into this loop (the hot
    /// ones with `#[inline(always)]`, so that splitting them out costs
    /// nothing per instruction).
    fn run(&mut self, stop_depth: usize) -> Result<Ref<P>, Failure> {
        let m = self.m;
        'frames: loop {
            let frame = *self.frames.last().expect("a frame is running");
            // SAFETY: `stack[frame.base - 1]` holds a counted reference to
            // the object that owns this closure for as long as the frame is
            // on the frame stack. This reference is re-derived whenever the
            // running frame changes (`continue 'frames`), and not used after
            // an instruction that may drop that slot (`Return`, `TailCall`,
            // `TailApply`, and any call, which may escape to a `call/ec`
            // below this frame): each of those re-derives it or returns.
            let closure: &Closure<P> = unsafe { frame.closure.as_ref() };
            let proto: &Proto = &closure.proto;
            let code = &proto.code[..];
            let base = frame.base;
            let constants_id = proto.id as usize;
            let mut ip = frame.ip;

            // Saves the instruction pointer and fails the run.
            macro_rules! fail {
                ($failure:expr) => {{
                    let failure: Failure = $failure;
                    if let Some(top) = self.frames.last_mut() {
                        top.ip = ip;
                    }
                    return Err(failure);
                }};
            }
            macro_rules! tri {
                ($result:expr) => {
                    match $result {
                        Ok(value) => value,
                        Err(e) => fail!(Failure::from(e)),
                    }
                };
            }

            loop {
                let op = code[ip];
                ip += 1;
                match op {
                    // Constants and conditions are nearly always immortal
                    // (see `constants`; comparisons give the boolean
                    // singletons): tested for it before the policy is asked.
                    Op::Const(k) => {
                        let value = self.constants[constants_id][k as usize].clone_immortal_first();
                        self.stack.push(value);
                    }
                    Op::Nil => self.stack.push(m.none()),
                    Op::True => self.stack.push(m.bool(true)),
                    Op::False => self.stack.push(m.bool(false)),
                    Op::LoadLocal(slot) => {
                        let value = self.stack[base + slot as usize].clone_immortal_first();
                        self.stack.push(value);
                    }
                    Op::StoreLocal(slot) => {
                        let value = self.pop();
                        self.stack[base + slot as usize] = value;
                    }
                    Op::ClearLocal(slot) => self.stack[base + slot as usize] = m.none(),
                    Op::DeclareCell(slot) => {
                        let value = self.pop();
                        self.stack[base + slot as usize] = m.native(Box::new(Cell::new(value)));
                    }
                    Op::LoadCell(slot) => {
                        let value = tri!(cell(&self.stack[base + slot as usize])).get();
                        self.stack.push(value);
                    }
                    Op::StoreCell(slot) => {
                        let value = self.pop();
                        let old = tri!(store_cell(&self.stack[base + slot as usize], value));
                        drop(old);
                    }
                    Op::LoadCaptured(i) => {
                        let value = tri!(cell(&closure.captures[i as usize])).get();
                        self.stack.push(value);
                    }
                    Op::LoadCapturedValue(i) => {
                        let value = closure.captures[i as usize].clone();
                        self.stack.push(value);
                    }
                    Op::LoadOwn => {
                        let function = self.stack[base - 1].clone();
                        self.stack.push(function);
                    }
                    Op::StoreCaptured(i) => {
                        let value = self.pop();
                        let old = tri!(store_cell(&closure.captures[i as usize], value));
                        drop(old);
                    }
                    Op::LoadGlobal(symbol) => {
                        let value = tri!(self.load_global(symbol));
                        self.stack.push(value);
                    }
                    Op::StoreGlobal(symbol) => {
                        let value = self.pop();
                        tri!(self.store_global(symbol, value));
                    }
                    Op::DefineGlobal(symbol) => {
                        let value = self.pop();
                        self.define_global(symbol, value);
                    }
                    Op::TakeLocal(slot) => {
                        let value =
                            core::mem::replace(&mut self.stack[base + slot as usize], m.none());
                        self.stack.push(value);
                    }
                    Op::TakeCell(slot) => {
                        let value = tri!(store_cell(&self.stack[base + slot as usize], m.none()));
                        self.stack.push(value);
                    }
                    Op::TakeCaptured(i) => {
                        let value = tri!(store_cell(&closure.captures[i as usize], m.none()));
                        self.stack.push(value);
                    }
                    Op::TakeGlobal(symbol) => {
                        let value = tri!(self.take_global(symbol));
                        self.stack.push(value);
                    }
                    Op::Pop => Ref::drop_immortal_first(self.pop()),
                    Op::Jump(target) => ip = target as usize,
                    Op::JumpIfFalse(target) => {
                        let value = self.pop();
                        if !is_truthy(&value) {
                            ip = target as usize;
                        }
                        Ref::drop_immortal_first(value);
                    }
                    Op::JumpIfFalseOrPop(target) => {
                        if is_truthy(self.stack.last().expect("a value to test")) {
                            Ref::drop_immortal_first(self.pop());
                        } else {
                            ip = target as usize;
                        }
                    }
                    Op::JumpIfTrueOrPop(target) => {
                        if is_truthy(self.stack.last().expect("a value to test")) {
                            ip = target as usize;
                        } else {
                            Ref::drop_immortal_first(self.pop());
                        }
                    }
                    Op::Loop(target) => {
                        tri!(self.eval_breaker());
                        ip = target as usize;
                    }
                    Op::MakeClosure(index) => {
                        let function = self.make_closure(closure, base, index);
                        self.stack.push(function);
                    }
                    Op::Call(argc) => {
                        if tri!(self.call_value(argc as usize, ip)) {
                            continue 'frames;
                        }
                    }
                    Op::TailCall(argc) => {
                        if let Some(result) = tri!(self.tail_call_value(argc as usize, stop_depth))
                        {
                            return Ok(result);
                        }
                        continue 'frames;
                    }
                    Op::Apply(fixed) => {
                        let argc = tri!(self.spread(fixed as usize));
                        if tri!(self.call_value(argc, ip)) {
                            continue 'frames;
                        }
                    }
                    Op::CallEscape => {
                        if tri!(self.call_with_escape(ip)) {
                            continue 'frames;
                        }
                    }
                    Op::EndEscape => drop(self.escapes.pop()),
                    Op::TailApply(fixed) => {
                        let argc = tri!(self.spread(fixed as usize));
                        if let Some(result) = tri!(self.tail_call_value(argc, stop_depth)) {
                            return Ok(result);
                        }
                        continue 'frames;
                    }
                    Op::Return => {
                        if let Some(result) = self.return_from_frame(stop_depth) {
                            return Ok(result);
                        }
                        continue 'frames;
                    }
                    Op::BuildChain(count) => {
                        let mut chain = m.none();
                        for _ in 0..count {
                            let car = self.pop();
                            chain = m.native(Box::new(Pair::new(car, chain)));
                        }
                        self.stack.push(chain);
                    }
                    Op::Binary(op) => {
                        let b = self.pop();
                        let a = self.pop();
                        if let Some(x) = ops::float_result(op, &a, &b) {
                            // In the object of an operand nobody else
                            // holds, if there is one: a temporary.
                            let result = match m.float_in(a, x) {
                                Ok(result) => {
                                    Ref::drop_immortal_first(b);
                                    result
                                }
                                Err(a) => {
                                    Ref::drop_immortal_first(a);
                                    float_reusing(m, b, x)
                                }
                            };
                            self.stack.push(result);
                            continue;
                        }
                        let result = tri!(ops::binary(m, op, &a, &b));
                        self.stack.push(result);
                        Ref::drop_immortal_first(a);
                        Ref::drop_immortal_first(b);
                    }
                    Op::Neg => {
                        let a = self.pop();
                        let result = tri!(ops::neg(m, &a));
                        self.stack.push(result);
                    }
                    Op::Not => {
                        let value = self.pop();
                        self.stack.push(m.bool(!is_truthy(&value)));
                        Ref::drop_immortal_first(value);
                    }
                    Op::Unary(op) => {
                        let value = self.pop();
                        let result = tri!(unary(m, op, &value));
                        self.stack.push(result);
                    }
                    Op::Cons => {
                        let cdr = self.pop();
                        let car = self.pop();
                        self.stack.push(m.native(Box::new(Pair::new(car, cdr))));
                    }
                    // The local operands are read in place: no push, no
                    // count (see `bytecode`).
                    Op::UnaryLocal(op, slot) => {
                        let result = tri!(unary(m, op, &self.stack[base + slot as usize]));
                        self.stack.push(result);
                    }
                    Op::BinaryLocalRight(op, slot) => {
                        let a = self.pop();
                        let b = &self.stack[base + slot as usize];
                        if let Some(x) = ops::float_result(op, &a, b) {
                            self.stack.push(float_reusing(m, a, x));
                            continue;
                        }
                        let result = tri!(ops::binary(m, op, &a, b));
                        self.stack.push(result);
                        Ref::drop_immortal_first(a);
                    }
                    Op::BinaryLocalLeft(op, slot) => {
                        let b = self.pop();
                        let a = &self.stack[base + slot as usize];
                        if let Some(x) = ops::float_result(op, a, &b) {
                            self.stack.push(float_reusing(m, b, x));
                            continue;
                        }
                        let result = tri!(ops::binary(m, op, a, &b));
                        self.stack.push(result);
                        Ref::drop_immortal_first(b);
                    }
                    Op::BinaryLocals(op, left, right) => {
                        let a = &self.stack[base + usize::from(left)];
                        let b = &self.stack[base + usize::from(right)];
                        let result = tri!(ops::binary(m, op, a, b));
                        self.stack.push(result);
                    }
                    Op::StoreIndex(store) => {
                        let value = self.pop();
                        let index = self.pop();
                        let seq = self.pop();
                        tri!(ops::store_index(store, &seq, &index, value));
                        self.stack.push(m.none());
                    }
                    Op::StoreIndexLocal(store, slot) => {
                        let value = self.pop();
                        let index = self.pop();
                        let seq = &self.stack[base + slot as usize];
                        tri!(ops::store_index(store, seq, &index, value));
                        self.stack.push(m.none());
                    }
                }
            }
        }
    }

    /// Turns a failure into a diagnostic at the running instruction, with
    /// the call stack as notes.
    fn diagnostic(&self, failure: Failure) -> Diagnostic {
        let (message, cause) = match failure {
            Failure::Message(message) | Failure::Raised(message) => (message, None),
            Failure::Nested { message, cause } => (message, Some(cause)),
        };
        let Some(top) = self.frames.last() else {
            return Diagnostic::without_location("<brisk>", message);
        };
        let (proto, span) = locate(top);
        let mut diagnostic = Diagnostic::new(&proto.source, span, message);
        if self.frames.len() > 1 {
            diagnostic.notes = self.traceback();
        }
        if let Some(cause) = cause {
            diagnostic.notes.push("caused by:".into());
            diagnostic
                .notes
                .extend(cause.to_string().lines().map(|line| format!("  {line}")));
        }
        diagnostic
    }
}

impl<P: RuntimePolicy> Vm<'_, P> {
    /// The call stack, innermost first, one line per frame; a run of
    /// frames at the same spot (deep recursion) is shown once with its
    /// count. Only the lines shown are formatted, so a failure a million
    /// frames deep costs one pass over the frames.
    fn traceback(&self) -> Vec<String> {
        let mut runs: Vec<(&Proto, Span, usize)> = Vec::new();
        for frame in self.frames.iter().rev() {
            let (proto, span) = locate(frame);
            match runs.last_mut() {
                Some((last, at, count)) if core::ptr::eq(*last, proto) && *at == span => {
                    *count += 1
                }
                _ => runs.push((proto, span, 1)),
            }
        }
        let shown = runs.len().min(TRACEBACK_FRAMES);
        let mut notes: Vec<String> = runs[..shown]
            .iter()
            .map(|&(proto, span, count)| {
                let (line, col) = proto.source.line_col(span.start);
                let text = format!("  in {} at {}:{line}:{col}", proto.name, proto.source.name);
                match count {
                    1 => text,
                    n => format!("{text} ({n} times)"),
                }
            })
            .collect();
        if runs.len() > shown {
            notes.push(format!("  ... and {} more", runs.len() - shown));
        }
        notes
    }
}

/// The prototype a frame runs and the span of its current instruction.
///
/// Only for frames still on the frame stack: the stack is unwound only
/// after a diagnostic is made.
fn locate<P: RuntimePolicy>(frame: &Frame<P>) -> (&Proto, Span) {
    // SAFETY: the frame is on the frame stack, so its function slot holds a
    // counted reference to the closure's object; the returned borrow is tied
    // to the borrow of the frame, which the caller holds inside `&Vm`.
    let proto = &*unsafe { frame.closure.as_ref() }.proto;
    let last = proto.spans.len().saturating_sub(1);
    let span = proto
        .spans
        .get(frame.ip.saturating_sub(1).min(last))
        .copied()
        .unwrap_or_default();
    (proto, span)
}

/// Fails unless `proto` takes `argc` arguments.
fn check_arity(proto: &Proto, argc: usize) -> Result<(), Failure> {
    let arity = proto.arity as usize;
    if argc == arity || (proto.rest && argc > arity) {
        return Ok(());
    }
    let plural = if arity == 1 { "" } else { "s" };
    let at_least = if proto.rest { "at least " } else { "" };
    Err(Failure::Raised(format!(
        "function '{}' expects {at_least}{arity} argument{plural}, got {argc}",
        proto.name
    )))
}

/// The cell inside a cell object.
fn cell<P: RuntimePolicy>(object: &Ref<P>) -> Result<&Cell<P>, Failure> {
    object
        .downcast_native::<Cell<P>>()
        .ok_or_else(|| Failure::Raised("internal error: a captured variable has no cell".into()))
}

/// Stores into a cell object, returning the old value.
fn store_cell<P: RuntimePolicy>(object: &Ref<P>, value: Ref<P>) -> Result<Ref<P>, Failure> {
    if object.is_frozen() {
        return Err(Failure::Raised(
            "cannot change a variable captured by a frozen function".into(),
        ));
    }
    Ok(cell(object)?.replace(value))
}
