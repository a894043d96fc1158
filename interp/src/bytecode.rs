//! Bytecode: the instruction set of the stack VM, function prototypes, and
//! the table of global names.
//!
//! # The machine
//!
//! Like CPython's eval loop, the VM keeps one value stack of *counted*
//! references (`Ref<P>`). A call frame is a window on that stack:
//!
//! ```text
//!   … | callee | arg0 … argN-1 | other locals … | temporaries …
//!              ^ base
//! ```
//!
//! The callee stays in the slot below `base` while the frame runs, which is
//! what keeps the function (and so its code) alive. Every push clones a
//! reference and every pop drops one, so the reference-count traffic of a
//! program is the traffic of CPython's `LOAD_FAST` / `BINARY_OP` / `CALL`.
//!
//! # Variables
//!
//! * **Locals** live in frame slots (`LoadLocal`/`StoreLocal`).
//! * A local that an inner `lambda` captures and that is assigned after
//!   it is bound is a **cell**: its slot holds a cell object (`DeclareCell`
//!   makes a fresh one), read and written with `LoadCell`/`StoreCell`. The
//!   closure holds the same cells (`LoadCaptured`/`StoreCaptured`). This
//!   is CPython's `MAKE_CELL` / `LOAD_DEREF` scheme.
//! * A captured local that is never assigned after it is bound stays a
//!   plain local; the closure holds a copy of its value
//!   (`LoadCapturedValue`), so a read takes no cell. A function reads its
//!   own name with `LoadOwn`, from the stack slot below its frame.
//! * A binary operation whose operand is a plain local reads it **in
//!   place** (`BinaryLocalRight`, `BinaryLocalLeft`, `BinaryLocals`; and
//!   `StoreIndexLocal` for the list of `set-nth!`): nothing is pushed, so
//!   nothing is counted, as CPython 3.14 borrows the operands of
//!   `LOAD_FAST_BORROW`. The compiler chooses these only where nothing
//!   that runs between the push it saves and the operation can write the
//!   local, so the value read is the one `LoadLocal` would have pushed.
//! * **Globals** are numbered by name in a [`SymbolTable`]; each VM keeps a
//!   table indexed by that number, so `LoadGlobal` is an index, not a hash.
//!
//! # Constants
//!
//! A prototype keeps its constants as plain Rust values. Each VM turns them
//! into runtime objects once, on the first call, and `Const` clones those:
//! the objects are then owned by the interpreter's thread, so a function
//! shared by two interpreters never makes them count each other's objects.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use crate::error::{Source, Span};

/// One instruction. Operands are slot numbers, constant or symbol indices,
/// argument counts, or jump targets (absolute instruction indices).
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Op {
    /// Push constant `k` of this function.
    Const(u32),
    /// Push `nil`.
    Nil,
    /// Push `#t`.
    True,
    /// Push `#f`.
    False,
    /// Push local slot `n`.
    LoadLocal(u32),
    /// Pop into local slot `n`.
    StoreLocal(u32),
    /// Put `nil` in local slot `n` (a scope ended).
    ClearLocal(u32),
    /// Pop a value and put a fresh cell holding it in slot `n`.
    DeclareCell(u32),
    /// Push the value of the cell in slot `n`.
    LoadCell(u32),
    /// Pop into the cell in slot `n`.
    StoreCell(u32),
    /// Push the value of captured cell `n` of the running closure.
    LoadCaptured(u32),
    /// Push captured value `n` of the running closure (a variable never
    /// assigned, copied into the closure when it was made).
    LoadCapturedValue(u32),
    /// Push the running function itself.
    LoadOwn,
    /// Pop into captured cell `n`.
    StoreCaptured(u32),
    /// Push global `n`; an error if it is undefined.
    LoadGlobal(u32),
    /// Pop into global `n`, which must be defined (`set!`).
    StoreGlobal(u32),
    /// Pop into global `n` (`define`).
    DefineGlobal(u32),
    /// Push local slot `n` and leave `nil` there (a move out of a variable).
    TakeLocal(u32),
    /// Push the value of the cell in slot `n` and leave `nil` in the cell.
    TakeCell(u32),
    /// Push captured cell `n`'s value and leave `nil` in it.
    TakeCaptured(u32),
    /// Push global `n` and leave `nil` in it.
    TakeGlobal(u32),
    /// Drop the top of the stack.
    Pop,
    /// Jump to `target`.
    Jump(u32),
    /// Pop; jump to `target` if the value is false (`#f` or `nil`).
    JumpIfFalse(u32),
    /// If the top is false jump to `target` keeping it, else pop it (`and`).
    JumpIfFalseOrPop(u32),
    /// If the top is true jump to `target` keeping it, else pop it (`or`).
    JumpIfTrueOrPop(u32),
    /// A loop's back-edge to `target`: a safepoint, then a jump.
    Loop(u32),
    /// Push a closure over child prototype `n`.
    MakeClosure(u32),
    /// Call the callee below `n` arguments.
    Call(u32),
    /// Call in tail position: the callee's frame replaces this one.
    TailCall(u32),
    /// `apply`: pop a list (or tuple, or pair chain) and push its items,
    /// then call the callee below them and the `n` values under the list.
    Apply(u32),
    /// `apply` in tail position.
    TailApply(u32),
    /// `call/ec`: call the function on top of the stack with an escape
    /// continuation for this point.
    CallEscape,
    /// The `call/ec` before returned: its continuation no longer escapes.
    EndEscape,
    /// Return the top of the stack.
    Return,
    /// Pop `n` values and push a chain of fresh pairs of them, ending in
    /// `nil` (a quoted list).
    BuildChain(u32),
    /// Binary operation `op` on the two values it pops: `a op b`, with `b`
    /// on top.
    Binary(Binary),
    /// `(- a)`
    Neg,
    /// `(not a)`
    Not,
    /// Unary operation `op` on the popped value.
    Unary(Unary),
    /// Unary operation `op` on local `slot`, read in place.
    UnaryLocal(Unary, u32),
    /// `(cons a d)`: pops `d` and `a` and pushes a pair of them (the
    /// references move into the pair, uncounted).
    Cons,
    /// `(set-nth! list i v)` or `(vector-set! v i x)`, pushes `nil`.
    StoreIndex(Store),
    /// Binary operation `op` on the popped value and local `slot`, read in
    /// place: `a op local`.
    BinaryLocalRight(Binary, u32),
    /// Binary operation `op` on local `slot`, read in place, and the popped
    /// value: `local op b`.
    BinaryLocalLeft(Binary, u32),
    /// Binary operation `op` on two locals, both read in place.
    BinaryLocals(Binary, u16, u16),
    /// [`Op::StoreIndex`] on the list in local `slot`, read in place: pops
    /// `v` and `i`, pushes `nil`.
    StoreIndexLocal(Store, u32),
}

/// Which builtin an indexed store is.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Store {
    /// `set-nth!`
    Nth,
    /// `vector-set!`: the sequence must be a vector (a list value).
    Vector,
}

// Eight bytes, as before the operations with local operands: the code of a
// loop stays as dense.
const _: () = assert!(core::mem::size_of::<Op>() == 8);

/// The binary operations: arithmetic, comparison and indexing. Each can
/// also take an operand from a local in place.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Binary {
    /// `(+ a b)`
    Add,
    /// `(- a b)`
    Sub,
    /// `(* a b)`
    Mul,
    /// `(/ a b)`, always a float.
    Div,
    /// `(quotient a b)`, integer division truncating toward zero.
    Quotient,
    /// `(remainder a b)`, with the sign of `a`.
    Remainder,
    /// `(modulo a b)`, with the sign of `b`.
    Modulo,
    /// `(= a b)`: structural equality.
    Equal,
    /// `(< a b)`
    Lt,
    /// `(<= a b)`
    Le,
    /// `(> a b)`
    Gt,
    /// `(>= a b)`
    Ge,
    /// `(nth seq i)`
    Index,
    /// `(vector-ref v i)`: `nth` of a vector (a list value).
    VectorRef,
}

/// The one-operand operations that calls compile inline.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Unary {
    /// `(car p)`
    Car,
    /// `(cdr p)`
    Cdr,
    /// `(null? x)`
    IsNull,
    /// `(pair? x)`
    IsPair,
}

impl Unary {
    /// The builtin of the same name, for messages.
    pub fn name(self) -> &'static str {
        match self {
            Unary::Car => "car",
            Unary::Cdr => "cdr",
            Unary::IsNull => "null?",
            Unary::IsPair => "pair?",
        }
    }
}

/// A literal in a prototype's constant table.
#[derive(Clone, Debug, PartialEq)]
pub enum Constant {
    /// An integer.
    Int(i64),
    /// A float.
    Float(f64),
    /// A string.
    Str(Box<str>),
}

/// A variable a closure captures.
#[derive(Clone, Debug)]
pub struct Capture {
    /// Its name (for messages).
    pub name: Arc<str>,
    /// Where `MakeClosure` takes it from.
    pub from: CaptureFrom,
    /// Whether the closure holds its value (`LoadCapturedValue`) rather
    /// than a cell (`LoadCaptured`).
    pub is_value: bool,
}

/// Where a closure's captured cell or value comes from when `MakeClosure`
/// runs.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum CaptureFrom {
    /// The cell in local slot `n` of the enclosing frame.
    Local(u32),
    /// The enclosing closure's captured cell or value `n`.
    Captured(u32),
    /// The enclosing function itself (its own name, see
    /// [`Var::Own`](crate::syntax::Var::Own)).
    Own,
}

/// A compiled function: code, constants, nested functions, and what it
/// captures. Immutable once built and shared (`Arc`) by every closure over
/// it, in every interpreter.
#[derive(Debug)]
pub struct Proto {
    /// Unique within the compile session; indexes each VM's constant cache.
    pub id: u32,
    /// The name it was defined under (`lambda` if none, `<main>` for a file).
    pub name: Arc<str>,
    /// Number of parameters, the rest parameter excluded.
    pub arity: u32,
    /// Whether the arguments past `arity` arrive as a list in local slot
    /// `arity` (a rest parameter).
    pub rest: bool,
    /// Number of local slots, parameters included.
    pub frame_size: u32,
    /// The instructions.
    pub code: Vec<Op>,
    /// The source span of each instruction, for errors.
    pub spans: Vec<Span>,
    /// Literals.
    pub constants: Vec<Constant>,
    /// Prototypes of the lambdas written inside this one.
    pub children: Vec<Arc<Proto>>,
    /// Captured variables, in `LoadCaptured` order.
    pub captures: Vec<Capture>,
    /// The source it was compiled from.
    pub source: Arc<Source>,
    /// The span of the whole function.
    pub span: Span,
}

/// Global names and their numbers, shared by a compile session and every VM
/// that runs its code (the VMs read it only to name a variable in an error).
#[derive(Debug, Default)]
pub struct SymbolTable {
    inner: RwLock<Symbols>,
}

#[derive(Debug, Default)]
struct Symbols {
    names: Vec<Arc<str>>,
    numbers: HashMap<Arc<str>, u32>,
}

impl SymbolTable {
    /// The number of `name`, assigning the next one if it is new.
    pub fn intern(&self, name: &str) -> u32 {
        if let Some(&n) = self.read().numbers.get(name) {
            return n;
        }
        let mut symbols = self.inner.write().unwrap_or_else(|e| e.into_inner());
        if let Some(&n) = symbols.numbers.get(name) {
            return n;
        }
        let n = symbols.names.len() as u32;
        let name: Arc<str> = name.into();
        symbols.names.push(Arc::clone(&name));
        symbols.numbers.insert(name, n);
        n
    }

    /// The name of symbol `n`.
    pub fn name(&self, n: u32) -> Arc<str> {
        self.read()
            .names
            .get(n as usize)
            .cloned()
            .unwrap_or_else(|| "?".into())
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, Symbols> {
        self.inner.read().unwrap_or_else(|e| e.into_inner())
    }
}
