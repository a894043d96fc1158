//! brisk's prototype language: a small S-expression language embedded on
//! the brisk runtime, and the `brisk` command that runs it.
//!
//! People embed brisk in prototype interpreters; this crate is that
//! embedding done end to end, and the place where whole-program overheads
//! of the counting policies are measured the way CPython measures its
//! free-threaded build: the same programs, one policy against another.
//!
//! # The language
//!
//! ```text
//! (define (fib n) (if (< n 2) n (+ (fib (- n 1)) (fib (- n 2)))))
//! (print "fib(20) =" (fib 20))
//! ```
//!
//! * **Values**: integers (64-bit, overflow is an error), floats, strings,
//!   `#t`/`#f`, `nil`, pairs `(1 . 2)`, lists `[1, 2]`, tuples `(1, 2)`,
//!   dicts `{"a": 1}`, functions, channels and interpreter handles.
//! * **Truth**: `#f` and `nil` are false, everything else is true. Scheme
//!   has only `#f` false; here `nil` stays false because it is also the
//!   empty list and "no value" (`dict-get` of a missing key, a `when`
//!   whose test failed), and existing programs test for it with `if`.
//! * **Quoting**: `'sym` is the string `"sym"` (symbols are strings, so
//!   `string->symbol` and `symbol->string` return their argument);
//!   `'(1 2)` is a fresh chain of pairs, as in Scheme; `'()` is `nil`.
//! * **Two kinds of list.** A *list value* (`(list 1 2)`) is a
//!   growable array: `nth` and `set-nth!` in O(1), `push!`. It is also the
//!   language's **vector**: `vector`, `make-vector`, `vector-ref`,
//!   `vector-set!`, `vector-length` work on list values, since a second
//!   array type would only add conversions. A *pair chain*
//!   (`(cons 1 (cons 2 '()))` or `'(1 2)`, printed `(1 2)`) is Scheme's
//!   linked list:
//!   `car`, `cdr`, `cadr` and friends, `set-car!`/`set-cdr!`, `null?`,
//!   `pair?`; the empty chain is `nil`. `car`/`cdr`/`null?` also accept a
//!   list value (its first item, a copy of the rest, emptiness), `length`,
//!   `member`, `assoc`, `assq` and `apply` take either kind, and
//!   `vector->list`/`list->vector` convert.
//! * **Characters** are one-character strings (`(string-ref "abc" 1)` is
//!   `"b"`; `char->integer`, `integer->char`): a string already holds them,
//!   and a separate type would need its own printing, equality and hashing
//!   for no new capability.
//! * **Numbers**: `(/ 6 3)` is the int `2`, since both operands are ints and
//!   the division is exact; `(/ 7 2)` is the float `3.5`, as there are no
//!   rationals. `quotient`, `remainder`, `modulo` stay integral; `floor`,
//!   `ceiling`, `round` (half to even) and `truncate` keep an int as it is
//!   and give a float for a float, as in Scheme; `exact` makes an int of an
//!   integral float (`(exact 2.5)` is an error), `inexact` a float.
//! * **Forms**: `define` (globals at top level, locals in bodies; internal
//!   defines may call each other, but reading one before its definition
//!   is an error), `set!`, `lambda` (closures; `(lambda args …)` and
//!   `(lambda (a . rest) …)` take the remaining arguments as a list, as
//!   does `(define (f a . rest) …)`), `let` (also named:
//!   `(let loop ((i 0)) …)`), `let*`, `letrec`, `if`, `cond` (with
//!   `else`), `case`, `when`, `unless`, `while`, `for`
//!   (`(for (i 0 n) …)`, with a fresh `i` each iteration, so closures made
//!   in the body keep their own), `do`, `begin`, `and`, `or`, `quote`.
//!   Calls in tail position are proper tail calls; so is
//!   `(apply f a … list)`. `(call/ec (lambda (k) …))` gives an escape
//!   continuation: `(k v)` returns `v` from the `call/ec` at once, from any
//!   depth, while the `call/ec` runs (afterwards calling `k` is an error).
//! * **Builtins**: arithmetic and comparison, strings, lists, pairs,
//!   tuples, dicts, `write` (values as `repr` shows them: strings quoted)
//!   next to `print`/`display` (strings bare, in a chain of pairs too,
//!   where `nil` shows as `()`, as Scheme's `display` does; a list value
//!   shows its items as `repr` does) and `newline`, input (`read-line` from standard input,
//!   `nil` at its end; `read-file`), `(argv)`, `(current-time)` (seconds on
//!   a monotonic clock, as a float), `(exit code)` (see [`builtins`]); and
//!   in the prelude `map`, `filter`, `for-each`, `reduce` and
//!   `(sort xs less?)`, written in the language. `map`, `filter`,
//!   `for-each`, `reduce` and `append` take chains of pairs as well as
//!   list values, and give a chain for a chain.
//! * **Interpreters**: `(spawn-interpreter (lambda () …))`, `(join h)`,
//!   `(channel)`, `(send ch v 'share|'move|'copy)`, `(recv ch)`,
//!   `(freeze v)` (see [`spawn`] for what crosses and how). Pairs cross
//!   frozen or moved, not copied.
//!
//! ## Left out
//!
//! * **Bignums and rationals**: an integer result past 64 bits is an
//!   "integer overflow" error rather than a silently wrong or
//!   arbitrary-precision number, and inexact division gives a float.
//! * **Full continuations**: `call/cc` would have to copy or keep frames
//!   alive after their call returned; `call/ec` covers the common use
//!   (early exit) by cutting the frame vector back.
//! * **Builtins calling functions**: a builtin cannot call a language
//!   function. So `apply` and `call/ec` work only called by their names
//!   (each compiles to instructions of its own), and `sort` with a
//!   comparator lives in the prelude (an error in it points there).
//! * **`exit`** ends the whole process at once, after flushing the output:
//!   spawned interpreters are not waited for.
//!
//! # Pipeline
//!
//! | stage | module | output |
//! |---|---|---|
//! | read | [`lexer`], [`parser`] | S-expressions with spans |
//! | lower | [`syntax`] | expressions with every variable resolved |
//! | compile | [`compiler`], [`bytecode`] | prototypes (code, constants, captures) |
//! | run | [`vm`], [`ops`], [`builtins`], [`value`], [`spawn`], [`host`] | output, or a [`Diagnostic`] |
//!
//! # Crate map
//!
//! | module | concept |
//! |---|---|
//! | [`error`] | diagnostics: `file:line:col: error:` with an excerpt |
//! | [`lexer`], [`parser`] | text to S-expressions |
//! | [`syntax`] | special forms, scopes, variable resolution |
//! | [`bytecode`], [`compiler`] | the instruction set, code generation, the prelude |
//! | `constants` | literals as process-wide immortal objects |
//! | [`value`] | the language's values and the native types it adds |
//! | [`ops`] | arithmetic, comparison, indexing (shared by VM and builtins) |
//! | `call` | what a builtin is called with and returns |
//! | [`builtins`] | the builtin functions, one file per group |
//! | [`vm`] | the eval loop, frames, tracebacks |
//! | [`spawn`], [`running`], [`host`] | interpreters, channels, the embedding |
//! | [`repl`] | the interactive loop |
//!
//! Modules import downwards in this order: `error` imports nothing of the
//! crate; `running` only `error`; `host` only `bytecode`, `error` and
//! `running`; `call` only `error`, `host` and `running`; the builtins,
//! `spawn` and `vm` import those below them. The one circle left is the
//! language's own: the VM installs the builtins, and `spawn-interpreter`,
//! a builtin, starts a VM.
//!
//! # Design decisions
//!
//! * **Counted stack slots.** Every VM stack slot is a `Ref<P>`, so pushes,
//!   pops, local loads and stores are the increments and decrements CPython's
//!   eval loop makes, under whichever policy the run chose. The VM is
//!   generic over [`RuntimePolicy`]; [`run_with_policy`] monomorphises it
//!   for the policy named at run time.
//! * **No Rust recursion per call.** A call pushes a frame and the loop
//!   continues in the callee; recursion depth is capped at
//!   [`Limits::max_depth`] (a million frames unless `--max-depth` says
//!   otherwise) with a clean "recursion limit exceeded" error, the same on
//!   any thread. Tail calls reuse the frame.
//! * **Safepoints** at loop back-edges and calls, CPython's eval-breaker
//!   positions.
//! * **Globals by number.** Global names are numbered at compile time; each
//!   interpreter keeps a table by number (not the runtime's globals dict),
//!   so a global read is an index and a clone.
//! * **Immortal constants and builtins.** Each distinct literal is one
//!   immortal, frozen object for the whole process (`constants`), and each
//!   builtin function one immortal native, as CPython's free-threaded build
//!   immortalizes its compiler's constants and its static builtins: loading
//!   one counts nothing under any policy, and no two interpreters ever
//!   count the same object through them.
//! * **A spawned interpreter** starts from a snapshot of its parent's
//!   globals (frozen values shared, everything else copied, functions
//!   copied over shared immutable code), like a subinterpreter re-importing
//!   its modules. `join` returns the function's result, shared if frozen,
//!   else copied.
//! * **Moves empty the variable.** `(send ch x 'move)` takes the value out
//!   of `x` (it is `nil` afterwards), because a move needs the only
//!   reference. `let` and `for` clear their slots when they end, so a value
//!   a finished loop looked at does not pin a graph.
//! * **Errors never panic.** Lexing, parsing and running report
//!   `file:line:col: error: message` with the source line and a caret; sizes
//!   and nesting a program asks for are bounded (lists and ranges by
//!   [`builtins::MAX_LENGTH`] items, computed strings by
//!   [`builtins::MAX_STRING_BYTES`] bytes); the parser/compiler/VM are
//!   fuzzed (`tests/fuzz.rs`).
//! * **Constants are shared, never moved or copied.** Being immortal and
//!   frozen, a literal inside a list stays where it is when the list is
//!   moved or copied to another interpreter: the list there points at the
//!   same constant.
//!
//! # Known limits
//!
//! * A failed `(send ch x 'move)` has already emptied `x`; the error stops
//!   the program (in the REPL, `x` is `nil` afterwards).
//! * `(recv ch)` on an empty channel waits while another interpreter is
//!   running, even one that will never send to it, as a blocking queue
//!   does. It fails once no other interpreter is running, or once one has
//!   failed (see [`running`]); runs with spawning disabled ([`Limits`])
//!   fail at once.

#![deny(unsafe_op_in_unsafe_fn)]
#![warn(missing_docs)]

pub mod builtins;
pub mod bytecode;
mod call;
pub mod compiler;
mod constants;
pub mod error;
pub mod host;
pub mod lexer;
pub mod ops;
pub mod parser;
pub mod repl;
pub mod running;
pub mod spawn;
pub mod syntax;
pub mod value;
pub mod vm;

use std::sync::Arc;

use brisk_runtime::{Atomic, Biased, Deferred, Gil, Runtime, RuntimePolicy};

pub use compiler::Session;
pub use error::{Diagnostic, Source, Span};
pub use host::{Limits, Output};
pub use vm::Vm;

/// A counting policy, chosen at run time.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub enum Policy {
    /// Biased reference counting (owner: plain; others: atomic + queue).
    Biased,
    /// Biased counting with coalesced, epoch-deferred non-owner counts.
    Deferred,
    /// Every count an atomic read-modify-write.
    Atomic,
    /// Plain counts under one global interpreter lock.
    Gil,
}

impl Policy {
    /// Every policy.
    pub const ALL: [Policy; 4] = [
        Policy::Biased,
        Policy::Deferred,
        Policy::Atomic,
        Policy::Gil,
    ];

    /// The policy's name, as `--policy` spells it.
    pub fn name(self) -> &'static str {
        match self {
            Policy::Biased => "biased",
            Policy::Deferred => "deferred",
            Policy::Atomic => "atomic",
            Policy::Gil => "gil",
        }
    }
}

/// What a run needs besides the program.
pub struct RunOptions {
    /// `(argv)`.
    pub args: Vec<String>,
    /// Where `print` writes.
    pub output: Output,
    /// Limits (none by default).
    pub limits: Limits,
}

/// Compiles and runs `source` under policy `P` on a fresh runtime, then
/// joins the interpreters it spawned and tears the runtime down.
///
/// If the program fails, the interpreters it spawned are not waited for
/// (they may be blocked on the program that failed); they keep the runtime
/// alive until they finish.
pub fn run<P: RuntimePolicy>(source: &Arc<Source>, options: RunOptions) -> Result<(), Diagnostic> {
    let mut session = Session::new();
    let main = session.compile(source)?;
    let runtime = Arc::new(Runtime::<P>::new());
    let interpreter = runtime.new_interpreter("main");
    let result = {
        let m = interpreter.attach();
        let host = host::Host::new(
            Arc::clone(&runtime),
            Arc::clone(session.symbols()),
            options.output,
            options.args,
            options.limits,
        );
        let mut vm = Vm::new(&m, host);
        match vm
            .run_main(session.prelude())
            .and_then(|_| vm.run_main(&main))
        {
            Ok(_) => vm.join_children(),
            Err(error) => {
                // A child waiting in `recv` for the main program stops
                // waiting (see `running`).
                vm.host
                    .running
                    .finish(host::MAIN_INTERPRETER_ID, Some(&error));
                Err(error)
            }
        }
    };
    drop(interpreter);
    drop(runtime);
    result
}

/// [`run`] under the policy named at run time.
pub fn run_with_policy(
    policy: Policy,
    source: &Arc<Source>,
    options: RunOptions,
) -> Result<(), Diagnostic> {
    match policy {
        Policy::Biased => run::<Biased>(source, options),
        Policy::Deferred => run::<Deferred>(source, options),
        Policy::Atomic => run::<Atomic>(source, options),
        Policy::Gil => run::<Gil>(source, options),
    }
}
