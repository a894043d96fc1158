//! Lowering: S-expressions to a small expression tree with every variable
//! resolved.
//!
//! This pass gives the special forms their meaning and decides, for every
//! name, where it lives:
//!
//! * a **local** of the function being compiled (parameters, `let`, `for`
//!   and internal `define`s — one slot each, never reused, so a slot number
//!   names one variable);
//! * a **captured** variable: a local of an enclosing function that this
//!   function (or one nested in it) uses. The enclosing local is marked
//!   `captured`, and every function in between records where to take it
//!   from (CPython's free and cell variables, with Lua's upvalue chain).
//!   A captured local that is written after it is bound (`set!`, a move
//!   out of it, an internal `define`) lives in a cell that the closures
//!   share; one that never is ([`Local::assigned`]) is copied into each
//!   closure when the closure is made, as flat closures capture immutable
//!   variables, so reading it takes no cell and no lock;
//! * the function's **own** name: inside `(define (f …) …)` or a named
//!   `let`, local to an enclosing body, `f` is the running function itself
//!   ([`Var::Own`]), read from the frame rather than from a cell, unless
//!   the body may rebind `f` (`rebound_names`). A named `let` loop then needs
//!   no cell, and makes no cycle of closure and cell;
//! * a **global** otherwise, numbered in the session's symbol table.
//!
//! # Special forms
//!
//! `define`, `set!`, `lambda`, `let`, `let*`, `letrec`, `if`, `cond`,
//! `case`, `when`, `unless`, `while`, `for`, `do`, `begin`, `and`, `or`,
//! `quote`. Their names are keywords: they cannot be bound or used as
//! values.
//!
//! Some forms are rewritten into others before they are lowered, as
//! Scheme's derived expressions are:
//!
//! | form | rewritten as |
//! |---|---|
//! | `(letrec ((f v) …) body…)` | `(let () (define f v) … body…)`: the bindings may refer to each other |
//! | `(let name ((v init) …) body…)` | a loop, where every use of `name` in the body is a call in tail position with one argument per variable; else `((letrec ((name (lambda (v …) body…))) name) init …)` |
//! | `(do ((v init step) …) (test result…) body…)` | a named `let` that runs `body`, then calls itself with the steps, until `test` holds |
//! | `(case key ((d …) body…) … (else body…))` | a `let` of the key, then a `cond` of `(or (= key 'd) …)` tests |
//!
//! The names the rewrites introduce (the `do` loop, the `case` key) contain a
//! space, so no program can write them or be shadowed by them.
//!
//! A named `let` whose body only calls it back in tail position (as a
//! `do` does) is a loop in the running function, as Scheme compilers
//! turn such a `let` into a jump: its variables become locals of that
//! function, and each call back evaluates the new values, binds them all
//! at once, and starts the body over ([`Expr::Loop`], [`Expr::Again`]).
//! Nothing observable changes: each pass binds the variables afresh, as a
//! call would, so a closure made in the body keeps its pass's values.
//! What goes is the closure made each time the `let` is entered and a
//! call per pass. Whether the body qualifies is read from its forms
//! before it is lowered (`calls_back_only`), and checked again on the
//! lowered body. A body that mentions an internal define of the running
//! function not made yet stays a function, which may read it later.
//!
//! A parameter list may end in `. rest` (`(lambda (a . rest) …)`), or be a
//! single name (`(lambda args …)`): the arguments past the named ones
//! arrive as a fresh list in `rest`.
//!
//! Calls whose head is one of the [inline operators](INLINE_OPERATORS) and
//! not a local variable compile to an instruction instead of a call (CPython
//! does the same with `BINARY_OP`), so those names cannot be redefined as
//! globals. `(send ch x 'move)` where `x` is a variable moves the value out
//! of the variable (it is `nil` afterwards): a move must hold the only
//! reference, as Rust's moves do.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use crate::bytecode::{Binary, CaptureFrom, Constant, Op, Store, SymbolTable, Unary};
use crate::error::{Diagnostic, Source, Span};
use crate::parser::{Sexp, SexpKind};

/// Names with a meaning of their own.
pub const KEYWORDS: &[&str] = &[
    "define", "set!", "lambda", "let", "let*", "letrec", "if", "cond", "case", "else", "when",
    "unless", "while", "for", "do", "begin", "and", "or", "quote",
];

/// Builtins that calls compile inline (when the name is not a local), with
/// the instruction and the argument counts that are inlined. Other counts
/// call the builtin function of the same name.
pub const INLINE_OPERATORS: &[&str] = &[
    "+",
    "-",
    "*",
    "/",
    "quotient",
    "remainder",
    "modulo",
    "<",
    "<=",
    ">",
    ">=",
    "=",
    "not",
    "car",
    "cdr",
    "null?",
    "pair?",
    "cons",
    "nth",
    "set-nth!",
    "vector-ref",
    "vector-set!",
    "send",
    "apply",
    "call/ec",
];

/// A resolved variable.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Var {
    /// Local slot `n`.
    Local(u32),
    /// Captured cell `n` of the running closure.
    Captured(u32),
    /// Global symbol `n`.
    Global(u32),
    /// The running function itself (see the module docs).
    Own,
}

/// A lowered expression. Every expression leaves exactly one value.
#[derive(Debug)]
pub enum Expr {
    /// `nil`
    Nil(Span),
    /// `#t` / `#f`
    Bool(bool, Span),
    /// A number or string literal.
    Const(Constant, Span),
    /// Read a variable.
    Get(Var, Span),
    /// Write a variable that exists (`set!`, or `define` of a local).
    Set(Var, Box<Expr>, Span),
    /// Define a global.
    DefineGlobal(u32, Box<Expr>, Span),
    /// Bind a new local (`let`): a fresh cell if the local is captured.
    Declare(u32, Box<Expr>, Span),
    /// Give captured locals their cells before the body that defines them.
    Predeclare(Vec<u32>, Span),
    /// Read a variable and leave `nil` in it (a move).
    Take(Var, Span),
    /// `if`
    If(Box<Expr>, Box<Expr>, Box<Expr>, Span),
    /// `cond`: tests and bodies (a clause without a body yields its
    /// test's value), then the `else` body.
    Cond(Vec<(Expr, Option<Expr>)>, Box<Expr>, Span),
    /// `while`
    While(Box<Expr>, Vec<Expr>, Span),
    /// `and`
    And(Vec<Expr>, Span),
    /// `or`
    Or(Vec<Expr>, Span),
    /// A sequence; its value is the last one's.
    Begin(Vec<Expr>, Span),
    /// A `let`/`for` scope: the body, then its locals are cleared (unless
    /// the body ends in a tail call, which ends the frame anyway).
    Scope(Vec<Expr>, Vec<u32>, Span),
    /// A `lambda`.
    Lambda(Box<Function>),
    /// A call.
    Call(Box<Expr>, Vec<Expr>, Span),
    /// `(apply f a … list)`: a call with the list's items as the last
    /// arguments.
    Apply(Box<Expr>, Vec<Expr>, Span),
    /// `(call/ec f)`: `f` called with an escape continuation.
    CallEscape(Box<Expr>, Span),
    /// An inline operator with its operands. `Add`, `Sub` and `Mul` take
    /// two or more and fold left.
    Prim(Op, Vec<Expr>, Span),
    /// A chain of fresh pairs (from a quoted list).
    Chain(Vec<Expr>, Span),
    /// A named `let` run as a loop: the body, which [`Expr::Again`] starts
    /// over. The `u32` names the loop: the slot its name was declared in,
    /// which nothing reads.
    Loop(u32, Box<Expr>, Span),
    /// A call of loop `n` in tail position of its body: each value is
    /// computed, then bound to its slot, all at once (a fresh cell for a
    /// slot that lives in one), and the loop starts over.
    Again(u32, Vec<(u32, Expr)>, Span),
}

impl Expr {
    /// Where the expression was written.
    pub fn span(&self) -> Span {
        match self {
            Expr::Nil(s)
            | Expr::Bool(_, s)
            | Expr::Const(_, s)
            | Expr::Get(_, s)
            | Expr::Set(_, _, s)
            | Expr::DefineGlobal(_, _, s)
            | Expr::Declare(_, _, s)
            | Expr::Predeclare(_, s)
            | Expr::Take(_, s)
            | Expr::If(_, _, _, s)
            | Expr::Cond(_, _, s)
            | Expr::While(_, _, s)
            | Expr::And(_, s)
            | Expr::Or(_, s)
            | Expr::Begin(_, s)
            | Expr::Scope(_, _, s)
            | Expr::Call(_, _, s)
            | Expr::Apply(_, _, s)
            | Expr::CallEscape(_, s)
            | Expr::Prim(_, _, s)
            | Expr::Chain(_, s)
            | Expr::Loop(_, _, s)
            | Expr::Again(_, _, s) => *s,
            Expr::Lambda(f) => f.span,
        }
    }

    /// Whether evaluating the expression may write local `slot` of the
    /// running frame: assign it, bind it, move out of it or clear it. A
    /// call cannot: only this frame's code writes a local that is not a
    /// cell, and a `lambda` runs in frames of its own.
    pub fn may_write_local(&self, slot: u32) -> bool {
        let mut writes = false;
        self.for_each_write(&mut |write| {
            writes |= match write {
                Write::Assign(var) => var == Var::Local(slot),
                Write::Bind(bound) | Write::Clear(bound) => bound == slot,
            }
        });
        writes
    }

    /// Whether evaluating the expression may read local `slot` of the
    /// running frame: a read or a move of it, or a `lambda` that captures
    /// it (which copies its value or cell when it is made).
    pub fn may_read_local(&self, slot: u32) -> bool {
        match self {
            Expr::Get(var, _) | Expr::Take(var, _) => *var == Var::Local(slot),
            Expr::Lambda(function) => function
                .captures
                .iter()
                .any(|(_, from)| *from == CaptureFrom::Local(slot)),
            _ => {
                let mut reads = false;
                self.for_each_child(&mut |child| reads |= child.may_read_local(slot));
                reads
            }
        }
    }

    /// Turns each call of loop `label` in tail position of this
    /// expression, the loop's body, with one argument for each of the
    /// loop's variables `slots`, into [`Expr::Again`]. Tail position is
    /// where the compiler emits a tail call: the branches of `if` and
    /// `cond`, the last expression of `begin`, a scope, `and` and `or`.
    fn loop_back(&mut self, label: u32, slots: &[u32]) {
        match self {
            Expr::If(_, yes, no, _) => {
                yes.loop_back(label, slots);
                no.loop_back(label, slots);
            }
            Expr::Cond(clauses, otherwise, _) => {
                for body in clauses.iter_mut().filter_map(|(_, body)| body.as_mut()) {
                    body.loop_back(label, slots);
                }
                otherwise.loop_back(label, slots);
            }
            Expr::Begin(items, _)
            | Expr::Scope(items, _, _)
            | Expr::And(items, _)
            | Expr::Or(items, _) => {
                if let Some(last) = items.last_mut() {
                    last.loop_back(label, slots);
                }
            }
            Expr::Call(callee, args, span)
                if matches!(**callee, Expr::Get(Var::Local(l), _) if l == label)
                    && args.len() == slots.len() =>
            {
                let values = slots.iter().copied().zip(core::mem::take(args)).collect();
                *self = Expr::Again(label, values, *span);
            }
            _ => {}
        }
    }

    /// Calls `visit` with every write to a variable that evaluating the
    /// expression may make in the running frame (not in the frames of the
    /// `lambda`s it makes).
    fn for_each_write(&self, visit: &mut impl FnMut(Write)) {
        match self {
            Expr::Set(var, ..) | Expr::Take(var, _) => visit(Write::Assign(*var)),
            Expr::Declare(slot, ..) => visit(Write::Bind(*slot)),
            Expr::Predeclare(slots, _) => slots.iter().for_each(|&slot| visit(Write::Bind(slot))),
            Expr::Scope(_, cleared, _) => {
                cleared.iter().for_each(|&slot| visit(Write::Clear(slot)))
            }
            Expr::Again(_, values, _) => values
                .iter()
                .for_each(|&(slot, _)| visit(Write::Bind(slot))),
            _ => {}
        }
        self.for_each_child(&mut |child| child.for_each_write(visit));
    }

    /// Calls `visit` with each expression directly inside this one that
    /// runs in the same frame (a `lambda`'s body does not).
    fn for_each_child(&self, visit: &mut impl FnMut(&Expr)) {
        match self {
            Expr::Nil(_)
            | Expr::Bool(..)
            | Expr::Const(..)
            | Expr::Get(..)
            | Expr::Take(..)
            | Expr::Predeclare(..)
            | Expr::Lambda(_) => {}
            Expr::Set(_, value, _)
            | Expr::Declare(_, value, _)
            | Expr::DefineGlobal(_, value, _) => visit(value),
            Expr::CallEscape(function, _) => visit(function),
            Expr::Loop(_, body, _) => visit(body),
            Expr::Again(_, values, _) => values.iter().for_each(|(_, value)| visit(value)),
            Expr::If(test, yes, no, _) => {
                visit(test);
                visit(yes);
                visit(no);
            }
            Expr::Cond(clauses, otherwise, _) => {
                for (test, body) in clauses {
                    visit(test);
                    body.iter().for_each(&mut *visit);
                }
                visit(otherwise);
            }
            Expr::While(test, body, _) => {
                visit(test);
                body.iter().for_each(visit);
            }
            Expr::Call(callee, args, _) | Expr::Apply(callee, args, _) => {
                visit(callee);
                args.iter().for_each(visit);
            }
            Expr::And(items, _)
            | Expr::Or(items, _)
            | Expr::Begin(items, _)
            | Expr::Scope(items, _, _)
            | Expr::Prim(_, items, _)
            | Expr::Chain(items, _) => items.iter().for_each(visit),
        }
    }
}

/// A write to a variable (see [`Expr::for_each_write`]).
#[derive(Copy, Clone)]
enum Write {
    /// `set!`, a `define` of a declared local, or a move out of it.
    Assign(Var),
    /// A `let` binding or an internal define's fresh cell.
    Bind(u32),
    /// The end of the local's scope.
    Clear(u32),
}

/// A local variable of a function.
#[derive(Debug)]
pub struct Local {
    /// Its name (for messages).
    pub name: String,
    /// Whether an inner function captures it.
    pub captured: bool,
    /// Whether it is written after it is bound (`set!`, a move out of it,
    /// or an internal `define`'s store), so that a captured one must live
    /// in a cell. Known once the function's body is lowered.
    pub assigned: bool,
}

impl Local {
    /// Whether it lives in a cell: captured and written after binding.
    pub fn is_cell(&self) -> bool {
        self.captured && self.assigned
    }
}

/// A lowered function.
#[derive(Debug)]
pub struct Function {
    /// Its name.
    pub name: Arc<str>,
    /// Parameter count, the rest parameter excluded; parameters are locals
    /// `0..arity`, and the rest parameter, if any, local `arity`.
    pub arity: u32,
    /// Whether the last parameter takes the remaining arguments as a list.
    pub rest: bool,
    /// Every local, by slot.
    pub locals: Vec<Local>,
    /// Captured cells and where to take them from.
    pub captures: Vec<(Arc<str>, CaptureFrom)>,
    /// The body.
    pub body: Expr,
    /// Whether the body's value is returned from a call (not the top level).
    pub is_call_body: bool,
    /// Where it was written.
    pub span: Span,
}

/// Lowers a whole source file to its top-level function.
pub fn lower_program(
    source: &Source,
    symbols: &SymbolTable,
    forms: &[Sexp],
) -> Result<Function, Diagnostic> {
    let mut lowerer = Lowerer {
        source,
        symbols,
        functions: vec![FunctionState::default()],
    };
    let span = match (forms.first(), forms.last()) {
        (Some(first), Some(last)) => first.span.to(last.span),
        _ => Span::default(),
    };
    let body = forms
        .iter()
        .map(|form| lowerer.expr(form))
        .collect::<Result<Vec<_>, _>>()?;
    let body = Expr::Begin(body, span);
    lowerer.note_writes(&body);
    let state = lowerer.functions.pop().unwrap_or_default();
    Ok(Function {
        name: "<main>".into(),
        arity: 0,
        rest: false,
        locals: state.locals,
        captures: Vec::new(),
        body,
        is_call_body: false,
        span,
    })
}

/// The lowering state of one function being lowered.
#[derive(Default)]
struct FunctionState {
    locals: Vec<Local>,
    /// Block scopes, innermost last.
    scopes: Vec<Scope>,
    captures: Vec<(Arc<str>, CaptureFrom)>,
    /// Each captured name's index in `captures`.
    capture_index: HashMap<Arc<str>, u32>,
    /// Internal defines declared ahead of their bodies' forms whose
    /// `define` has not been lowered yet: this function reading one is an
    /// error, as it would read `nil`. (A nested function may: it can only
    /// run once made, which may be after the definition.)
    undefined: HashSet<u32>,
    /// Internal defines of a function whose body never rebinds them: the
    /// function they are bound to reads its name as [`Var::Own`].
    own_slots: HashSet<u32>,
    /// This function's own name and the enclosing function's slot bound
    /// to it, if it is one of the enclosing function's `own_slots`.
    own: Option<(String, u32)>,
}

/// A block scope: the locals it declared, and its names for lookup.
#[derive(Default)]
struct Scope {
    /// Every slot declared here, in order (a name declared twice, as
    /// `let*` may, has two).
    slots: Vec<u32>,
    /// Each name's latest slot.
    names: HashMap<String, u32>,
}

impl Scope {
    fn get(&self, name: &str) -> Option<u32> {
        self.names.get(name).copied()
    }
}

struct Lowerer<'a> {
    source: &'a Source,
    symbols: &'a SymbolTable,
    /// Functions being lowered, outermost (the file) first.
    functions: Vec<FunctionState>,
}

type Lowered = Result<Expr, Diagnostic>;

impl Lowerer<'_> {
    fn error(&self, span: Span, message: impl Into<String>) -> Diagnostic {
        Diagnostic::new(self.source, span, message)
    }

    fn current(&mut self) -> &mut FunctionState {
        self.functions
            .last_mut()
            .expect("a function is being lowered")
    }

    /// Whether a `define` here makes a global.
    fn at_top_level(&self) -> bool {
        self.functions.len() == 1 && self.functions[0].scopes.is_empty()
    }

    fn push_scope(&mut self) {
        self.current().scopes.push(Scope::default());
    }

    /// Pops the innermost scope, returning its slots.
    fn pop_scope(&mut self) -> Vec<u32> {
        self.current().scopes.pop().unwrap_or_default().slots
    }

    /// Declares a local in the innermost scope.
    fn declare(&mut self, name: &str) -> u32 {
        let state = self.current();
        let slot = state.locals.len() as u32;
        state.locals.push(Local {
            name: name.to_owned(),
            captured: false,
            assigned: false,
        });
        if state.scopes.is_empty() {
            state.scopes.push(Scope::default());
        }
        let scope = state.scopes.last_mut().expect("a scope was just ensured");
        scope.slots.push(slot);
        scope.names.insert(name.to_owned(), slot);
        slot
    }

    /// Finds `name`, from the innermost function outwards.
    fn resolve(&mut self, name: &str) -> Var {
        let depth = self.functions.len() - 1;
        self.resolve_in(depth, name)
            .unwrap_or_else(|| Var::Global(self.symbols.intern(name)))
    }

    /// [`resolve`](Self::resolve) for a read of `name` at `span`, which
    /// fails if it reads an internal define before its definition.
    fn resolve_read(&mut self, name: &str, span: Span) -> Result<Var, Diagnostic> {
        let var = self.resolve(name);
        match var {
            Var::Local(slot) if self.current().undefined.contains(&slot) => {
                Err(self.error(span, format!("'{name}' is used before its definition")))
            }
            _ => Ok(var),
        }
    }

    fn resolve_in(&mut self, depth: usize, name: &str) -> Option<Var> {
        let state = &self.functions[depth];
        for scope in state.scopes.iter().rev() {
            if let Some(slot) = scope.get(name) {
                return Some(Var::Local(slot));
            }
        }
        if let Some(&i) = state.capture_index.get(name) {
            return Some(Var::Captured(i));
        }
        if depth == 0 {
            return None;
        }
        if let Some((own, slot)) = &state.own {
            let enclosing = self.functions[depth - 1]
                .scopes
                .iter()
                .rev()
                .find_map(|scope| scope.get(name));
            if own == name && enclosing == Some(*slot) {
                return Some(Var::Own);
            }
        }
        let from = match self.resolve_in(depth - 1, name)? {
            Var::Local(slot) => {
                self.functions[depth - 1].locals[slot as usize].captured = true;
                CaptureFrom::Local(slot)
            }
            Var::Captured(i) => CaptureFrom::Captured(i),
            Var::Own => CaptureFrom::Own,
            Var::Global(_) => return None,
        };
        let state = &mut self.functions[depth];
        let index = state.captures.len() as u32;
        let name: Arc<str> = name.into();
        state.capture_index.insert(Arc::clone(&name), index);
        state.captures.push((name, from));
        Some(Var::Captured(index))
    }

    /// Marks every variable that `body`, the body of the innermost function
    /// being lowered, assigns (see [`Local::assigned`]): a local of its
    /// own, or one of an enclosing function's that it reaches through its
    /// captures.
    fn note_writes(&mut self, body: &Expr) {
        let mut assigned = Vec::new();
        body.for_each_write(&mut |write| {
            if let Write::Assign(var) = write {
                assigned.push(var);
            }
        });
        for var in assigned {
            let mut depth = self.functions.len() - 1;
            let mut var = var;
            loop {
                let state = &mut self.functions[depth];
                match var {
                    Var::Local(slot) => {
                        state.locals[slot as usize].assigned = true;
                        break;
                    }
                    Var::Captured(i) => {
                        var = match state.captures[i as usize].1 {
                            CaptureFrom::Local(slot) => Var::Local(slot),
                            CaptureFrom::Captured(j) => Var::Captured(j),
                            CaptureFrom::Own => break,
                        };
                        depth -= 1;
                    }
                    Var::Global(_) | Var::Own => break,
                }
            }
        }
    }

    /// A name that may be bound: a symbol, not a keyword.
    fn binding_name<'s>(&self, form: &'s Sexp, what: &str) -> Result<&'s str, Diagnostic> {
        match form.as_symbol() {
            Some(name) if KEYWORDS.contains(&name) => Err(self.error(
                form.span,
                format!("'{name}' is a keyword and cannot be bound"),
            )),
            Some(name) => Ok(name),
            None => Err(self.error(
                form.span,
                format!("{what} expects a name, found {}", form.describe()),
            )),
        }
    }

    fn expr(&mut self, form: &Sexp) -> Lowered {
        let span = form.span;
        Ok(match &form.kind {
            SexpKind::Int(i) => Expr::Const(Constant::Int(*i), span),
            SexpKind::Float(x) => Expr::Const(Constant::Float(*x), span),
            SexpKind::Str(s) => Expr::Const(Constant::Str(s.as_str().into()), span),
            SexpKind::Bool(b) => Expr::Bool(*b, span),
            SexpKind::Nil => Expr::Nil(span),
            SexpKind::Symbol(name) => {
                if KEYWORDS.contains(&name.as_str()) {
                    return Err(self.error(
                        span,
                        format!("'{name}' is a keyword and cannot be used as a value"),
                    ));
                }
                Expr::Get(self.resolve_read(name, span)?, span)
            }
            SexpKind::List(items) => {
                let Some(head) = items.first() else {
                    return Err(self.error(
                        span,
                        "empty combination '()' (write nil, or (list) for an empty list)",
                    ));
                };
                let args = &items[1..];
                match head.as_symbol() {
                    Some(keyword) if KEYWORDS.contains(&keyword) => {
                        self.special_form(keyword, head, args, span)?
                    }
                    Some(name) => self.call_by_name(name, head, args, span)?,
                    None => {
                        let callee = self.expr(head)?;
                        Expr::Call(Box::new(callee), self.exprs(args)?, span)
                    }
                }
            }
        })
    }

    fn exprs(&mut self, forms: &[Sexp]) -> Result<Vec<Expr>, Diagnostic> {
        forms.iter().map(|form| self.expr(form)).collect()
    }

    fn call_by_name(&mut self, name: &str, head: &Sexp, args: &[Sexp], span: Span) -> Lowered {
        let callee = self.resolve_read(name, head.span)?;
        if matches!(callee, Var::Global(_)) {
            if let Some(inline) = self.inline_call(name, args, span)? {
                return Ok(inline);
            }
        }
        Ok(Expr::Call(
            Box::new(Expr::Get(callee, head.span)),
            self.exprs(args)?,
            span,
        ))
    }

    /// Calls to inline operators with an inlined argument count.
    fn inline_call(
        &mut self,
        name: &str,
        args: &[Sexp],
        span: Span,
    ) -> Result<Option<Expr>, Diagnostic> {
        let op = match (name, args.len()) {
            ("+", n) if n >= 2 => Op::Binary(Binary::Add),
            ("*", n) if n >= 2 => Op::Binary(Binary::Mul),
            ("-", 1) => Op::Neg,
            ("-", n) if n >= 2 => Op::Binary(Binary::Sub),
            ("/", 2) => Op::Binary(Binary::Div),
            ("quotient", 2) => Op::Binary(Binary::Quotient),
            ("remainder", 2) => Op::Binary(Binary::Remainder),
            ("modulo", 2) => Op::Binary(Binary::Modulo),
            ("<", 2) => Op::Binary(Binary::Lt),
            ("<=", 2) => Op::Binary(Binary::Le),
            (">", 2) => Op::Binary(Binary::Gt),
            (">=", 2) => Op::Binary(Binary::Ge),
            ("=", 2) => Op::Binary(Binary::Equal),
            ("not", 1) => Op::Not,
            ("car", 1) => Op::Unary(Unary::Car),
            ("cdr", 1) => Op::Unary(Unary::Cdr),
            ("null?", 1) => Op::Unary(Unary::IsNull),
            ("pair?", 1) => Op::Unary(Unary::IsPair),
            ("cons", 2) => Op::Cons,
            ("nth", 2) => Op::Binary(Binary::Index),
            ("set-nth!", 3) => Op::StoreIndex(Store::Nth),
            ("vector-ref", 2) => Op::Binary(Binary::VectorRef),
            ("vector-set!", 3) => Op::StoreIndex(Store::Vector),
            ("send", 3) => return self.send_call(args, span).map(Some),
            ("apply", n) if n >= 2 => {
                let callee = self.expr(&args[0])?;
                let args = self.exprs(&args[1..])?;
                return Ok(Some(Expr::Apply(Box::new(callee), args, span)));
            }
            ("call/ec", 1) => {
                let function = self.expr(&args[0])?;
                return Ok(Some(Expr::CallEscape(Box::new(function), span)));
            }
            _ => return Ok(None),
        };
        Ok(Some(Expr::Prim(op, self.exprs(args)?, span)))
    }

    /// `(send ch value mode)`: a plain call, except that a variable sent
    /// with `'move` is moved out of.
    fn send_call(&mut self, args: &[Sexp], span: Span) -> Lowered {
        let send = Expr::Get(Var::Global(self.symbols.intern("send")), span);
        let moves = args[2]
            .as_list()
            .is_some_and(|quote| matches!(quote, [q, mode] if q.as_symbol() == Some("quote") && mode.as_symbol() == Some("move")));
        let channel = self.expr(&args[0])?;
        let value = match args[1].as_symbol() {
            Some(name) if moves && !KEYWORDS.contains(&name) => {
                Expr::Take(self.resolve_read(name, args[1].span)?, args[1].span)
            }
            _ => self.expr(&args[1])?,
        };
        let mode = self.expr(&args[2])?;
        Ok(Expr::Call(Box::new(send), vec![channel, value, mode], span))
    }

    fn special_form(&mut self, keyword: &str, head: &Sexp, args: &[Sexp], span: Span) -> Lowered {
        match keyword {
            "define" => self.define(args, span),
            "set!" => self.set(args, span),
            "lambda" => {
                let Some((params, body)) = args.split_first() else {
                    return Err(self.error(span, "lambda expects a parameter list and a body"));
                };
                self.lambda("lambda", params, body, span)
            }
            "let" => match args.first().and_then(Sexp::as_symbol) {
                Some(_) => self.named_let(args, span),
                None => self.let_form(args, span, false),
            },
            "let*" => self.let_form(args, span, true),
            "letrec" => self.letrec(args, span),
            "do" => self.do_form(args, span),
            "case" => self.case(args, span),
            "if" => {
                if !(2..=3).contains(&args.len()) {
                    return Err(self.error(
                        span,
                        format!("if expects a condition, a consequent and an optional alternative, found {} argument(s)", args.len()),
                    ));
                }
                let condition = self.expr(&args[0])?;
                let consequent = self.expr(&args[1])?;
                let alternative = match args.get(2) {
                    Some(form) => self.expr(form)?,
                    None => Expr::Nil(span),
                };
                Ok(Expr::If(
                    Box::new(condition),
                    Box::new(consequent),
                    Box::new(alternative),
                    span,
                ))
            }
            "cond" => self.cond(args, span),
            "when" | "unless" => {
                let Some((test, body)) = args.split_first() else {
                    return Err(self.error(span, format!("{keyword} expects a condition")));
                };
                let test = self.expr(test)?;
                let body = Expr::Begin(self.exprs(body)?, span);
                let (yes, no) = if keyword == "when" {
                    (body, Expr::Nil(span))
                } else {
                    (Expr::Nil(span), body)
                };
                Ok(Expr::If(Box::new(test), Box::new(yes), Box::new(no), span))
            }
            "while" => {
                let Some((test, body)) = args.split_first() else {
                    return Err(self.error(span, "while expects a condition and a body"));
                };
                let test = self.expr(test)?;
                Ok(Expr::While(Box::new(test), self.exprs(body)?, span))
            }
            "for" => self.for_form(args, span),
            "begin" => Ok(Expr::Begin(self.exprs(args)?, span)),
            "and" => Ok(Expr::And(self.exprs(args)?, span)),
            "or" => Ok(Expr::Or(self.exprs(args)?, span)),
            "quote" => match args {
                [datum] => Ok(self.quote(datum)),
                _ => Err(self.error(span, "quote expects exactly one datum")),
            },
            _ => Err(self.error(
                head.span,
                format!("'{keyword}' is only allowed inside cond"),
            )),
        }
    }

    fn define(&mut self, args: &[Sexp], span: Span) -> Lowered {
        let Some((target, rest)) = args.split_first() else {
            return Err(self.error(span, "define expects a name and a value"));
        };
        // (define (name params…) body…)
        if let Some(signature) = target.as_list() {
            let Some((name_form, params)) = signature.split_first() else {
                return Err(self.error(target.span, "define expects (name params...)"));
            };
            let name = self.binding_name(name_form, "define")?;
            let var = self.define_target(name, name_form.span)?;
            let params = Sexp {
                kind: SexpKind::List(params.to_vec()),
                span: target.span,
            };
            let own = self.own_slot(&var);
            let function = self.lambda_owning(name, &params, rest, span, own)?;
            return Ok(self.define_store(var, function, span));
        }
        let name = self.binding_name(target, "define")?;
        let [value] = rest else {
            return Err(self.error(
                span,
                format!(
                    "define expects a name and one value, found {} value(s)",
                    rest.len()
                ),
            ));
        };
        let var = self.define_target(name, target.span)?;
        let own = self.own_slot(&var);
        let value = self.named_value(name, value, own)?;
        Ok(self.define_store(var, value, span))
    }

    /// The slot a `define` stores to, if the function it binds may read
    /// its name as [`Var::Own`].
    fn own_slot(&mut self, target: &DefineTarget) -> Option<u32> {
        match *target {
            DefineTarget::Local(slot, _) if self.current().own_slots.contains(&slot) => Some(slot),
            _ => None,
        }
    }

    /// Where a `define` of `name` goes: a global at the top level, else a
    /// local of the current body (declared here unless it was already).
    fn define_target(&mut self, name: &str, span: Span) -> Result<DefineTarget, Diagnostic> {
        if self.at_top_level() {
            if INLINE_OPERATORS.contains(&name) {
                return Err(self.error(
                    span,
                    format!("cannot redefine '{name}': calls to it are compiled inline"),
                ));
            }
            return Ok(DefineTarget::Global(self.symbols.intern(name)));
        }
        let existing = self
            .current()
            .scopes
            .last()
            .and_then(|scope| scope.get(name));
        match existing {
            Some(slot) => Ok(DefineTarget::Local(slot, false)),
            None => Ok(DefineTarget::Local(self.declare(name), true)),
        }
    }

    /// The store of a `define` whose value is lowered: from here on, the
    /// variable is defined.
    fn define_store(&mut self, target: DefineTarget, value: Expr, span: Span) -> Expr {
        if let DefineTarget::Local(slot, _) = target {
            self.current().undefined.remove(&slot);
        }
        match target {
            DefineTarget::Global(symbol) => Expr::DefineGlobal(symbol, Box::new(value), span),
            DefineTarget::Local(slot, false) => Expr::Set(Var::Local(slot), Box::new(value), span),
            DefineTarget::Local(slot, true) => Expr::Begin(
                vec![
                    Expr::Predeclare(vec![slot], span),
                    Expr::Set(Var::Local(slot), Box::new(value), span),
                ],
                span,
            ),
        }
    }

    /// Lowers a bound value; a lambda takes the name it is bound to, and
    /// reads it as [`Var::Own`] if `own` names the slot it is bound to.
    fn named_value(&mut self, name: &str, value: &Sexp, own: Option<u32>) -> Lowered {
        if let Some([head, params, body @ ..]) = value.as_list() {
            if head.as_symbol() == Some("lambda") {
                return self.lambda_owning(name, params, body, value.span, own);
            }
        }
        self.expr(value)
    }

    fn set(&mut self, args: &[Sexp], span: Span) -> Lowered {
        let [target, value] = args else {
            return Err(self.error(span, "set! expects a name and a value"));
        };
        let name = self.binding_name(target, "set!")?;
        let var = self.resolve(name);
        if var == Var::Own {
            return Err(self.error(
                target.span,
                format!("internal error: '{name}' was taken to be never assigned"),
            ));
        }
        if matches!(var, Var::Global(_)) && INLINE_OPERATORS.contains(&name) {
            return Err(self.error(
                target.span,
                format!("cannot redefine '{name}': calls to it are compiled inline"),
            ));
        }
        let value = self.expr(value)?;
        Ok(Expr::Set(var, Box::new(value), span))
    }

    /// A parameter list: the named parameters, and the rest parameter if
    /// the list ends in `. rest` or is a single name.
    fn parameters<'s>(
        &self,
        params: &'s Sexp,
    ) -> Result<(&'s [Sexp], Option<&'s Sexp>), Diagnostic> {
        if params.as_symbol().is_some() {
            return Ok((&[], Some(params)));
        }
        let Some(list) = params.as_list() else {
            return Err(self.error(
                params.span,
                format!(
                    "lambda expects a parameter list, found {}",
                    params.describe()
                ),
            ));
        };
        match list.iter().position(|param| param.as_symbol() == Some(".")) {
            None => Ok((list, None)),
            Some(dot) if dot + 2 == list.len() => Ok((&list[..dot], Some(&list[dot + 1]))),
            Some(dot) => Err(self.error(
                list[dot].span,
                "'.' in a parameter list must come just before the last parameter",
            )),
        }
    }

    fn lambda(&mut self, name: &str, params: &Sexp, body: &[Sexp], span: Span) -> Lowered {
        self.lambda_owning(name, params, body, span, None)
    }

    /// [`lambda`](Self::lambda) for a function bound to slot `own` of the
    /// enclosing function, if it may read its name as [`Var::Own`].
    fn lambda_owning(
        &mut self,
        name: &str,
        params: &Sexp,
        body: &[Sexp],
        span: Span,
        own: Option<u32>,
    ) -> Lowered {
        let (params, rest) = self.parameters(params)?;
        self.functions.push(FunctionState {
            own: own.map(|slot| (name.to_owned(), slot)),
            ..FunctionState::default()
        });
        self.push_scope();
        for param in params.iter().chain(rest) {
            let param_name = match self.binding_name(param, "a parameter") {
                Ok(name) => name,
                Err(e) => {
                    self.functions.pop();
                    return Err(e);
                }
            };
            if self.current().scopes[0].get(param_name).is_some() {
                self.functions.pop();
                return Err(self.error(param.span, format!("duplicate parameter '{param_name}'")));
            }
            self.declare(param_name);
        }
        let body = self.body(body, span);
        if let Ok(body) = &body {
            self.note_writes(body);
        }
        let state = self.functions.pop().unwrap_or_default();
        Ok(Expr::Lambda(Box::new(Function {
            name: name.into(),
            arity: params.len() as u32,
            rest: rest.is_some(),
            locals: state.locals,
            captures: state.captures,
            body: body?,
            is_call_body: true,
            span,
        })))
    }

    /// A body: internal `define`s are declared first (so they may call each
    /// other), then the forms in order; the body itself reading one before
    /// its `define` is an error (see `FunctionState::undefined`). The
    /// caller pushed the scope.
    fn body(&mut self, forms: &[Sexp], span: Span) -> Lowered {
        let mut predeclared = Vec::new();
        let rebound = rebound_names(forms);
        for form in forms {
            if let Some([head, target, ..]) = form.as_list() {
                if head.as_symbol() == Some("define") {
                    let name_form = match target.as_list() {
                        Some([name, ..]) => name,
                        _ => target,
                    };
                    if let Some(name) = name_form.as_symbol() {
                        let declared = self
                            .current()
                            .scopes
                            .last()
                            .is_some_and(|scope| scope.get(name).is_some());
                        if !declared && !KEYWORDS.contains(&name) {
                            let slot = self.declare(name);
                            self.current().undefined.insert(slot);
                            if !rebound.contains(name) {
                                self.current().own_slots.insert(slot);
                            }
                            predeclared.push(slot);
                        }
                    }
                }
            }
        }
        let mut exprs = Vec::with_capacity(forms.len() + 1);
        if !predeclared.is_empty() {
            exprs.push(Expr::Predeclare(predeclared, span));
        }
        for form in forms {
            exprs.push(self.expr(form)?);
        }
        Ok(Expr::Begin(exprs, span))
    }

    fn let_form(&mut self, args: &[Sexp], span: Span, sequential: bool) -> Lowered {
        let keyword = if sequential { "let*" } else { "let" };
        let Some((bindings_form, body)) = args.split_first() else {
            return Err(self.error(span, format!("{keyword} expects bindings and a body")));
        };
        let pairs = self
            .bindings(bindings_form, keyword)?
            .into_iter()
            .map(|(name, value)| Ok((self.binding_name(name, keyword)?, value)))
            .collect::<Result<Vec<_>, Diagnostic>>()?;
        let mut exprs = Vec::with_capacity(pairs.len() + 1);
        if sequential {
            self.push_scope();
            for (name, value) in pairs {
                let value = match self.named_value(name, value, None) {
                    Ok(value) => value,
                    Err(e) => {
                        self.pop_scope();
                        return Err(e);
                    }
                };
                let slot = self.declare(name);
                exprs.push(Expr::Declare(slot, Box::new(value), span));
            }
        } else {
            let values = pairs
                .iter()
                .map(|(name, value)| self.named_value(name, value, None))
                .collect::<Result<Vec<_>, _>>()?;
            self.push_scope();
            for ((name, _), value) in pairs.iter().zip(values) {
                let slot = self.declare(name);
                exprs.push(Expr::Declare(slot, Box::new(value), span));
            }
        }
        let body = self.body(body, span);
        let slots = self.pop_scope();
        exprs.push(body?);
        Ok(Expr::Scope(exprs, slots, span))
    }

    /// `(for (i start end [step]) body…)`: `i` counts from `start` by
    /// `step` (default 1) up to, not including, `end` (down to, for a
    /// negative step).
    ///
    /// Each iteration has its own `i`. When no closure captures `i`, that
    /// is one slot counted in place. When one does, `i` lives in a cell,
    /// and the count is kept in a hidden slot instead: each iteration
    /// declares `i` afresh (a new cell) from the count, and its end copies
    /// `i` back before stepping, so a closure keeps its iteration's value
    /// and a `set!` of `i` in the body still steers the loop.
    fn for_form(&mut self, args: &[Sexp], span: Span) -> Lowered {
        let header = args.first().and_then(Sexp::as_list);
        let Some(header @ [var, start, end, ..]) = header else {
            return Err(self.error(span, "for expects (name start end [step]) and a body"));
        };
        if header.len() > 4 {
            return Err(self.error(span, "for expects (name start end [step]) and a body"));
        }
        let name = self.binding_name(var, "for")?;
        let start = self.expr(start)?;
        let end = self.expr(end)?;
        let step = match header.get(3) {
            Some(step) => self.expr(step)?,
            None => Expr::Const(Constant::Int(1), span),
        };
        self.push_scope();
        let variable = self.declare(name);
        let limit = self.declare(" for-end");
        let increment = self.declare(" for-step");
        let body = self.exprs(&args[1..]);
        let counter = if self.current().locals[variable as usize].captured {
            self.declare(" for-count")
        } else {
            variable
        };
        let slots = self.pop_scope();
        let mut body = body?;
        let get = |slot| Expr::Get(Var::Local(slot), span);
        if counter != variable {
            body.insert(0, Expr::Declare(variable, Box::new(get(counter)), span));
        }
        body.push(Expr::Set(
            Var::Local(counter),
            Box::new(Expr::Prim(
                Op::Binary(Binary::Add),
                vec![get(variable), get(increment)],
                span,
            )),
            span,
        ));
        // Counting up tests `<`, down `>`; a step that is not a literal
        // decides each time round.
        let below = Expr::Prim(Op::Binary(Binary::Lt), vec![get(counter), get(limit)], span);
        let above = Expr::Prim(Op::Binary(Binary::Gt), vec![get(counter), get(limit)], span);
        let test = match header.get(3).map(|step| &step.kind) {
            None => below,
            Some(SexpKind::Int(step)) if *step > 0 => below,
            Some(SexpKind::Int(_)) => above,
            Some(_) => Expr::If(
                Box::new(Expr::Prim(
                    Op::Binary(Binary::Gt),
                    vec![get(increment), Expr::Const(Constant::Int(0), span)],
                    span,
                )),
                Box::new(below),
                Box::new(above),
                span,
            ),
        };
        Ok(Expr::Scope(
            vec![
                Expr::Declare(counter, Box::new(start), span),
                Expr::Declare(limit, Box::new(end), span),
                Expr::Declare(increment, Box::new(step), span),
                Expr::While(Box::new(test), body, span),
            ],
            slots,
            span,
        ))
    }

    /// `(letrec ((name value) …) body…)`: the bindings become internal
    /// `define`s of a new scope, so each value may refer to every name.
    fn letrec(&mut self, args: &[Sexp], span: Span) -> Lowered {
        let Some((bindings, body)) = args.split_first() else {
            return Err(self.error(span, "letrec expects bindings and a body"));
        };
        let mut forms = Vec::with_capacity(args.len());
        for (name, value) in self.bindings(bindings, "letrec")? {
            forms.push(list(
                vec![symbol("define", span), name.clone(), value.clone()],
                span,
            ));
        }
        forms.extend(body.iter().cloned());
        self.push_scope();
        let body = self.body(&forms, span);
        let slots = self.pop_scope();
        Ok(Expr::Scope(vec![body?], slots, span))
    }

    /// The `(name value)` pairs of a binding list.
    fn bindings<'s>(
        &self,
        form: &'s Sexp,
        keyword: &str,
    ) -> Result<Vec<(&'s Sexp, &'s Sexp)>, Diagnostic> {
        let Some(bindings) = form.as_list() else {
            return Err(self.error(
                form.span,
                format!(
                    "{keyword} expects a list of (name value) bindings, found {}",
                    form.describe()
                ),
            ));
        };
        bindings
            .iter()
            .map(|binding| match binding.as_list() {
                Some([name, value]) => {
                    self.binding_name(name, keyword)?;
                    Ok((name, value))
                }
                _ => Err(self.error(
                    binding.span,
                    format!("{keyword} binding expects (name value)"),
                )),
            })
            .collect()
    }

    /// `(let name ((var init) …) body…)`: a local function `name` of the
    /// variables, called at once with the inits (evaluated outside it);
    /// or, where the body only calls `name` in tail position, a loop
    /// ([`named_loop`](Self::named_loop)).
    fn named_let(&mut self, args: &[Sexp], span: Span) -> Lowered {
        let [name, bindings, body @ ..] = args else {
            return Err(self.error(span, "named let expects a name, bindings and a body"));
        };
        let label = self.binding_name(name, "let")?;
        let pairs = self.bindings(bindings, "let")?;
        if calls_back_only(label, &pairs, body) && !self.mentions_undefined(body) {
            return self.named_loop(label, &pairs, body, span);
        }
        self.named_let_function(name, &pairs, body, span)
    }

    /// Whether `forms` mention the name of an internal define of the
    /// running function that is not made yet. Reading one is an error in
    /// the function's own body but not in a function nested in it (see
    /// `FunctionState::undefined`), so a named `let` whose body mentions
    /// one stays a function, which it may read later.
    fn mentions_undefined(&self, forms: &[Sexp]) -> bool {
        let Some(state) = self.functions.last() else {
            return false;
        };
        state.undefined.iter().any(|&slot| {
            let name = &state.locals[slot as usize].name;
            forms.iter().any(|form| mentions(form, name))
        })
    }

    /// A named `let` as a loop in the running function: its variables are
    /// locals of it, bound to the inits, and each call of `name` in tail
    /// position of the body binds them again and starts the body over, as
    /// a `do` or `for` loop would run, with no closure made and no call.
    /// The caller has checked the forms ([`calls_back_only`]), so every
    /// use of `name` in the lowered body is such a call; one left over is
    /// an internal error.
    fn named_loop(
        &mut self,
        name: &str,
        pairs: &[(&Sexp, &Sexp)],
        body: &[Sexp],
        span: Span,
    ) -> Lowered {
        let inits = pairs
            .iter()
            .map(|(_, init)| self.expr(init))
            .collect::<Result<Vec<_>, _>>()?;
        self.push_scope();
        let slots: Vec<u32> = pairs
            .iter()
            .map(|(var, _)| self.declare(var.as_symbol().unwrap_or_default()))
            .collect();
        let label = self.declare(name);
        let body = self.body(body, span);
        let mut cleared = self.pop_scope();
        let mut body = body?;
        body.loop_back(label, &slots);
        if body.may_read_local(label) || body.may_write_local(label) {
            return Err(self.error(
                span,
                format!("internal error: the named let '{name}' was taken to be a loop"),
            ));
        }
        cleared.retain(|&slot| slot != label);
        let mut exprs: Vec<Expr> = slots
            .iter()
            .zip(inits)
            .map(|(&slot, init)| Expr::Declare(slot, Box::new(init), span))
            .collect();
        exprs.push(Expr::Loop(label, Box::new(body), span));
        Ok(Expr::Scope(exprs, cleared, span))
    }

    /// A named `let` as a function: `((letrec ((name (lambda (var …)
    /// body…))) name) init …)`.
    fn named_let_function(
        &mut self,
        name: &Sexp,
        pairs: &[(&Sexp, &Sexp)],
        body: &[Sexp],
        span: Span,
    ) -> Lowered {
        let vars = pairs.iter().map(|(var, _)| (*var).clone()).collect();
        let inits = pairs.iter().map(|(_, init)| (*init).clone());
        let mut function = vec![symbol("lambda", span), list(vars, span)];
        function.extend(body.iter().cloned());
        let letrec = list(
            vec![
                symbol("letrec", span),
                list(
                    vec![list(vec![name.clone(), list(function, span)], span)],
                    span,
                ),
                name.clone(),
            ],
            span,
        );
        self.expr(&list(std::iter::once(letrec).chain(inits).collect(), span))
    }

    /// `(do ((var init [step]) …) (test result…) body…)`: while `test` is
    /// false, runs the body and steps every variable at once; then the
    /// results, the last one's value (`nil` if none) being the loop's.
    fn do_form(&mut self, args: &[Sexp], span: Span) -> Lowered {
        const USAGE: &str = "do expects ((var init [step]) ...), (test result...) and a body";
        let [specs, exit, body @ ..] = args else {
            return Err(self.error(span, USAGE));
        };
        let (Some(specs), Some([test, results @ ..])) = (specs.as_list(), exit.as_list()) else {
            return Err(self.error(span, USAGE));
        };
        let mut bindings = Vec::with_capacity(specs.len());
        let mut steps = Vec::with_capacity(specs.len());
        for spec in specs {
            let (var, init, step) = match spec.as_list() {
                Some([var, init]) => (var, init, var),
                Some([var, init, step]) => (var, init, step),
                _ => return Err(self.error(spec.span, "do expects (var init [step])")),
            };
            self.binding_name(var, "do")?;
            bindings.push(list(vec![var.clone(), init.clone()], spec.span));
            steps.push(step.clone());
        }
        let name = symbol(" do", span);
        let mut finish = vec![symbol("begin", span), nil(span)];
        finish.extend(results.iter().cloned());
        let mut again = vec![symbol("begin", span)];
        again.extend(body.iter().cloned());
        again.push(list(
            std::iter::once(name.clone()).chain(steps).collect(),
            span,
        ));
        let step = list(
            vec![
                symbol("if", span),
                test.clone(),
                list(finish, span),
                list(again, span),
            ],
            span,
        );
        self.named_let(&[name, list(bindings, span), step], span)
    }

    /// `(case key ((datum …) body…) … [(else body…)])`: the body of the
    /// first clause with a datum `=` to the key.
    fn case(&mut self, args: &[Sexp], span: Span) -> Lowered {
        let Some((key, clauses)) = args.split_first() else {
            return Err(self.error(span, "case expects a key and clauses"));
        };
        let key_name = symbol(" case", span);
        let mut cond = vec![symbol("cond", span)];
        for clause in clauses {
            let Some([data, body @ ..]) = clause.as_list() else {
                return Err(self.error(
                    clause.span,
                    "case expects clauses of the form ((datum...) body...)",
                ));
            };
            let test = if data.as_symbol() == Some("else") {
                data.clone()
            } else {
                let Some(data) = data.as_list() else {
                    return Err(self.error(
                        data.span,
                        format!("case expects a list of data, found {}", data.describe()),
                    ));
                };
                let mut any = vec![symbol("or", clause.span)];
                any.extend(data.iter().map(|datum| {
                    let quoted = list(vec![symbol("quote", datum.span), datum.clone()], datum.span);
                    list(
                        vec![symbol("=", datum.span), key_name.clone(), quoted],
                        datum.span,
                    )
                }));
                list(any, clause.span)
            };
            let mut lowered = vec![test, nil(clause.span)];
            lowered.extend(body.iter().cloned());
            cond.push(list(lowered, clause.span));
        }
        let binding = list(vec![list(vec![key_name, key.clone()], span)], span);
        self.let_form(&[binding, list(cond, span)], span, false)
    }

    /// `cond`: a flat list of clauses (not nested `if`s, so a long `cond`
    /// costs no recursion when it is compiled).
    fn cond(&mut self, clauses: &[Sexp], span: Span) -> Lowered {
        let mut lowered = Vec::with_capacity(clauses.len());
        let mut otherwise = Expr::Nil(span);
        for (i, clause) in clauses.iter().enumerate() {
            let Some([test, body @ ..]) = clause.as_list() else {
                return Err(self.error(
                    clause.span,
                    "cond expects clauses of the form (test body...)",
                ));
            };
            if test.as_symbol() == Some("else") {
                if i + 1 != clauses.len() {
                    return Err(self.error(clause.span, "the else clause must be the last in cond"));
                }
                otherwise = Expr::Begin(self.exprs(body)?, clause.span);
                break;
            }
            let test = self.expr(test)?;
            let body = if body.is_empty() {
                None
            } else {
                Some(Expr::Begin(self.exprs(body)?, clause.span))
            };
            lowered.push((test, body));
        }
        Ok(Expr::Cond(lowered, Box::new(otherwise), span))
    }

    /// A quoted datum: symbols become strings, lists become fresh lists,
    /// and `'()` is `nil`, the empty list of pairs.
    fn quote(&self, datum: &Sexp) -> Expr {
        let span = datum.span;
        match &datum.kind {
            SexpKind::Int(i) => Expr::Const(Constant::Int(*i), span),
            SexpKind::Float(x) => Expr::Const(Constant::Float(*x), span),
            SexpKind::Str(s) | SexpKind::Symbol(s) => {
                Expr::Const(Constant::Str(s.as_str().into()), span)
            }
            SexpKind::Bool(b) => Expr::Bool(*b, span),
            SexpKind::Nil => Expr::Nil(span),
            SexpKind::List(items) if items.is_empty() => Expr::Nil(span),
            SexpKind::List(items) => {
                Expr::Chain(items.iter().map(|d| self.quote(d)).collect(), span)
            }
        }
    }
}

/// The names that `forms`, at any depth, may bind again after a first
/// `define`: each name that is `set!`, moved out of (`send` with it as the
/// value), or defined twice. One walk over the forms, whatever the number
/// of names. Shadowing is ignored, so a name may be listed where an inner
/// binding of it is meant, never left out where it is not.
fn rebound_names(forms: &[Sexp]) -> HashSet<&str> {
    let mut rebound = HashSet::new();
    let mut defined = HashSet::new();
    let mut stack: Vec<&Sexp> = forms.iter().collect();
    while let Some(form) = stack.pop() {
        let Some(items) = form.as_list() else {
            continue;
        };
        let name = |i: usize| items.get(i).and_then(Sexp::as_symbol);
        match items.first().and_then(Sexp::as_symbol) {
            Some("set!") => rebound.extend(name(1)),
            Some("send") => rebound.extend(name(2)),
            Some("define") => {
                let target = items
                    .get(1)
                    .map(|t| t.as_list().and_then(<[Sexp]>::first).unwrap_or(t));
                if let Some(target) = target.and_then(Sexp::as_symbol) {
                    if !defined.insert(target) {
                        rebound.insert(target);
                    }
                }
            }
            _ => {}
        }
        stack.extend(items);
    }
    rebound
}

/// Whether the named `let` of `name` over `vars` can run as a loop, read
/// from its forms before they are lowered: its variables are distinct and
/// none is `name`, and every mention of `name` in `body` is a call with
/// one argument per variable, in tail position, reached through `if`,
/// `cond`, `when`, `unless`, `begin`, `and`, `or` and plain `let`s. Any
/// other mention (a call elsewhere, `name` passed as a value, bound
/// again, captured by a `lambda`, or inside a form not listed) says no.
/// A no is always safe: the named `let` becomes a function, as written.
fn calls_back_only(name: &str, vars: &[(&Sexp, &Sexp)], body: &[Sexp]) -> bool {
    let mut seen = HashSet::new();
    vars.iter()
        .all(|(var, _)| var.as_symbol().is_some_and(|v| v != name && seen.insert(v)))
        && tail_sequence(name, vars.len(), body)
}

/// [`calls_back_only`] for a sequence whose last form is in tail position.
fn tail_sequence(name: &str, arity: usize, forms: &[Sexp]) -> bool {
    let Some((last, rest)) = forms.split_last() else {
        return true;
    };
    rest.iter().all(|form| !mentions(form, name)) && tail_calls_only(name, arity, last)
}

/// [`calls_back_only`] for one form in tail position.
fn tail_calls_only(name: &str, arity: usize, form: &Sexp) -> bool {
    if !mentions(form, name) {
        return true;
    }
    let Some((head, args)) = form.as_list().and_then(<[Sexp]>::split_first) else {
        return false;
    };
    let clear = |forms: &[Sexp]| forms.iter().all(|form| !mentions(form, name));
    let tail = |form: &Sexp| tail_calls_only(name, arity, form);
    match head.as_symbol() {
        Some(callee) if callee == name => args.len() == arity && clear(args),
        Some("if") if (2..=3).contains(&args.len()) => {
            clear(&args[..1]) && args[1..].iter().all(tail)
        }
        Some("when" | "unless") if !args.is_empty() => {
            clear(&args[..1]) && tail_sequence(name, arity, &args[1..])
        }
        Some("begin") => tail_sequence(name, arity, args),
        Some("and" | "or") => match args.split_last() {
            Some((last, rest)) => clear(rest) && tail(last),
            None => true,
        },
        Some("cond") => args.iter().all(|clause| match clause.as_list() {
            Some([test, body @ ..]) if !body.is_empty() => {
                !mentions(test, name) && tail_sequence(name, arity, body)
            }
            _ => !mentions(clause, name),
        }),
        // A plain `let` or `let*` whose bindings neither mention nor bind
        // `name`.
        Some("let" | "let*") => match args.split_first() {
            Some((bindings, body)) => {
                bindings.as_list().is_some()
                    && !mentions(bindings, name)
                    && tail_sequence(name, arity, body)
            }
            None => false,
        },
        _ => false,
    }
}

/// Whether the symbol `name` occurs anywhere in `form`, quoted or not.
fn mentions(form: &Sexp, name: &str) -> bool {
    let mut stack = vec![form];
    while let Some(form) = stack.pop() {
        match &form.kind {
            SexpKind::Symbol(symbol) if symbol == name => return true,
            SexpKind::List(items) => stack.extend(items),
            _ => {}
        }
    }
    false
}

/// A symbol written by a rewrite.
fn symbol(name: &str, span: Span) -> Sexp {
    Sexp {
        kind: SexpKind::Symbol(name.to_owned()),
        span,
    }
}

/// A list written by a rewrite.
fn list(items: Vec<Sexp>, span: Span) -> Sexp {
    Sexp {
        kind: SexpKind::List(items),
        span,
    }
}

/// `nil`, written by a rewrite.
fn nil(span: Span) -> Sexp {
    Sexp {
        kind: SexpKind::Nil,
        span,
    }
}

/// Where a `define` stores.
enum DefineTarget {
    Global(u32),
    /// A local slot; true if it was declared by this `define`.
    Local(u32, bool),
}
