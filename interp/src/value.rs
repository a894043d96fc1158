//! The language's values: the runtime's built-in objects, plus the native
//! types this crate adds through [`NativeObject`].
//!
//! | language | runtime object |
//! |---|---|
//! | `nil`, `#t`/`#f`, small integers | immortal singletons |
//! | integers, floats, strings | `Int`, `Float`, `Str` |
//! | lists, tuples, dicts | `List`, `Tuple`, `Dict` |
//! | pairs (`cons`) | [`Pair`] |
//! | functions | [`Closure`]: shared code, captured [`Cell`]s |
//! | builtins | [`Builtin`] |
//! | escape continuations (`call/ec`) | [`Escape`] |
//! | channels | [`Channel`] |
//! | interpreter handles | `InterpreterHandle` (in `spawn`) |
//!
//! # Freezing, moving and copying natives
//!
//! The runtime walks object graphs through [`NativeObject::trace`] to freeze,
//! move and copy them, so each type says what it holds and what it allows:
//!
//! * a closure traces its cells and a cell traces its value, so freezing a
//!   function freezes everything it captured (a later `set!` of a captured
//!   variable is an error), and moving one moves its captured state;
//! * a closure without captured variables is copyable (its code is shared
//!   immutable data, like a CPython code object); one with captures is not,
//!   because the runtime's copy only copies natives that hold no references;
//! * builtins and channel handles hold no references: they freeze, and copy
//!   as another handle to the same builtin or channel;
//! * a pair traces its `car` and `cdr`: freezing one freezes the chain it
//!   heads (`set-car!`/`set-cdr!` on it are errors afterwards) and moving
//!   one moves the chain. Pairs do not copy (the runtime copies only
//!   natives that hold no references): a pair crosses to another
//!   interpreter frozen (shared) or moved.
//!
//! Freezing checks the object's header flag, not state in the native: the
//! runtime asks every native in a graph to freeze before it knows whether
//! the whole graph can be frozen, so a native must not change on that call.

use std::collections::HashSet;
use std::fmt::Write as _;
use std::sync::Arc;

use brisk_runtime::{Kind, NativeObject, Object, Ref, RuntimePolicy};

use crate::bytecode::Proto;

/// Deepest nesting that printing follows and a dictionary key may have.
pub const MAX_DEPTH: usize = 64;

/// Longest text `repr` writes before it cuts the rest to `...`.
pub const MAX_REPR_BYTES: usize = 1 << 20;

/// A function value: a prototype and the cells it captured.
pub struct Closure<P: RuntimePolicy> {
    /// The code, shared by every closure over it in every interpreter.
    pub proto: Arc<Proto>,
    /// One [`Cell`] object per captured variable, in `proto.captures` order.
    pub captures: Box<[Ref<P>]>,
}

impl<P: RuntimePolicy> NativeObject<P> for Closure<P> {
    fn type_name(&self) -> &'static str {
        "function"
    }

    fn trace(&self, visit: &mut dyn FnMut(&Object<P>)) {
        self.captures.iter().for_each(|cell| visit(cell));
    }

    fn freeze(&self) -> bool {
        true
    }

    fn copy(&self) -> Option<Box<dyn NativeObject<P>>> {
        self.captures.is_empty().then(|| {
            Box::new(Closure::<P> {
                proto: Arc::clone(&self.proto),
                captures: Box::new([]),
            }) as Box<dyn NativeObject<P>>
        })
    }
}

/// The lock of one field of a cell or a pair, held only to clone or swap
/// the reference in it: a spin lock, whose release is a plain store where
/// a parking mutex's is a second atomic read-modify-write. A field is read
/// on every `car`, `cdr` and captured-variable load, and within one
/// interpreter nobody else takes its lock (mutable data crosses
/// interpreters moved, never shared, and the cycle collector traces with
/// the world stopped), so the lock is never waited on in practice and the
/// release is the cost that matters.
type FieldLock<T> = spin::mutex::SpinMutex<T>;

/// A captured variable: a box that the defining frame and the closures over
/// it share.
pub struct Cell<P: RuntimePolicy> {
    /// The variable's value. The lock is held only to read or swap it.
    value: FieldLock<Ref<P>>,
}

impl<P: RuntimePolicy> Cell<P> {
    /// A cell holding `value`.
    pub fn new(value: Ref<P>) -> Self {
        Cell {
            value: FieldLock::new(value),
        }
    }

    /// The value (a new reference).
    pub fn get(&self) -> Ref<P> {
        self.value.lock().clone()
    }

    /// Replaces the value, returning the old one (drop it after unlocking).
    pub fn replace(&self, value: Ref<P>) -> Ref<P> {
        core::mem::replace(&mut *self.value.lock(), value)
    }
}

impl<P: RuntimePolicy> NativeObject<P> for Cell<P> {
    fn type_name(&self) -> &'static str {
        "cell"
    }

    fn trace(&self, visit: &mut dyn FnMut(&Object<P>)) {
        visit(&self.value.lock());
    }

    fn clear(&self, none: &Ref<P>, released: &mut Vec<Ref<P>>) {
        // A recursive local function is a cycle closure → cell → closure;
        // emptying the cell breaks it.
        released.push(self.replace(none.clone()));
    }

    fn freeze(&self) -> bool {
        true
    }
}

/// A pair, the cell of Scheme's linked lists: `(cons 1 nil)` is the
/// one-item list `(1)`. Both fields can be replaced (`set-car!`,
/// `set-cdr!`) unless the pair is frozen; each lock is held only to read or
/// swap its field, as in [`Cell`].
pub struct Pair<P: RuntimePolicy> {
    car: FieldLock<Ref<P>>,
    cdr: FieldLock<Ref<P>>,
}

impl<P: RuntimePolicy> Pair<P> {
    /// A pair of `car` and `cdr`.
    pub fn new(car: Ref<P>, cdr: Ref<P>) -> Self {
        Pair {
            car: FieldLock::new(car),
            cdr: FieldLock::new(cdr),
        }
    }

    /// The first field (a new reference).
    pub fn car(&self) -> Ref<P> {
        self.car.lock().clone()
    }

    /// The second field (a new reference).
    pub fn cdr(&self) -> Ref<P> {
        self.cdr.lock().clone()
    }

    /// Replaces the first field, returning the old value (drop it after
    /// unlocking).
    pub fn replace_car(&self, value: Ref<P>) -> Ref<P> {
        core::mem::replace(&mut *self.car.lock(), value)
    }

    /// Replaces the second field, returning the old value.
    pub fn replace_cdr(&self, value: Ref<P>) -> Ref<P> {
        core::mem::replace(&mut *self.cdr.lock(), value)
    }
}

impl<P: RuntimePolicy> NativeObject<P> for Pair<P> {
    fn type_name(&self) -> &'static str {
        "pair"
    }

    fn trace(&self, visit: &mut dyn FnMut(&Object<P>)) {
        visit(&self.car.lock());
        visit(&self.cdr.lock());
    }

    fn clear(&self, none: &Ref<P>, released: &mut Vec<Ref<P>>) {
        // `set-cdr!` can close a chain into a ring; emptying both fields
        // breaks it.
        released.push(self.replace_car(none.clone()));
        released.push(self.replace_cdr(none.clone()));
    }

    fn freeze(&self) -> bool {
        true
    }
}

/// Walks the pair chain that starts at `object` (`nil` is the empty
/// chain), calling `visit` on each pair in order, and returns how many
/// pairs it has; `None` if it is not a chain ending in `nil`.
///
/// A chain that comes back on itself (made with `set-cdr!`) is not a
/// list either. The walk tells it apart as Brent's cycle finding does,
/// with one remembered pair and no second walk: it remembers the pair it
/// reaches after 1, 2, 4, 8, … steps, and a chain that loops reaches the
/// remembered pair again once the remembered pair is on the loop and the
/// loop is shorter than the next power of two, so within about twice the
/// steps to the loop plus twice its length.
pub fn walk_chain<P: RuntimePolicy>(
    object: &Ref<P>,
    mut visit: impl FnMut(&Pair<P>),
) -> Option<usize> {
    let mut count = 0;
    let mut at = object.clone();
    let mut remembered: Option<Ref<P>> = None;
    let mut next_power = 1;
    loop {
        if at.kind() == Kind::None {
            return Some(count);
        }
        let pair = at.downcast_native::<Pair<P>>()?;
        visit(pair);
        count += 1;
        let next = pair.cdr();
        if remembered
            .as_ref()
            .is_some_and(|seen| Ref::ptr_eq(seen, &next))
        {
            return None;
        }
        if count == next_power {
            remembered = Some(next.clone());
            next_power *= 2;
        }
        at = next;
    }
}

/// The items of the pair chain that starts at `object`, or `None` if it is
/// not a chain ending in `nil` ([`walk_chain`]).
pub fn pair_chain<P: RuntimePolicy>(object: &Ref<P>) -> Option<Vec<Ref<P>>> {
    let mut items = Vec::new();
    walk_chain(object, |pair| items.push(pair.car()))?;
    Some(items)
}

/// An escape continuation, the `k` that `(call/ec (lambda (k) …))` passes:
/// calling it returns its argument from that `call/ec`, while the
/// `call/ec` is still running (see `vm`).
pub struct Escape {
    /// Names the `call/ec` it escapes to.
    pub token: u64,
}

impl<P: RuntimePolicy> NativeObject<P> for Escape {
    fn type_name(&self) -> &'static str {
        "continuation"
    }

    fn trace(&self, _visit: &mut dyn FnMut(&Object<P>)) {}
}

/// The signature of a builtin: the call context and the arguments, which
/// it may take (`std::mem::replace`) to own them.
pub type BuiltinFn<P> =
    fn(&mut crate::call::Ctx<'_, '_, P>, &mut [Ref<P>]) -> Result<Ref<P>, crate::call::Failure>;

/// How many arguments a builtin takes.
#[derive(Copy, Clone, Debug)]
pub enum Arity {
    /// Exactly this many.
    Exact(usize),
    /// Between these, inclusive.
    Between(usize, usize),
    /// At least this many.
    AtLeast(usize),
}

impl Arity {
    /// Whether `n` arguments are accepted.
    pub fn accepts(self, n: usize) -> bool {
        match self {
            Arity::Exact(k) => n == k,
            Arity::Between(lo, hi) => (lo..=hi).contains(&n),
            Arity::AtLeast(k) => n >= k,
        }
    }

    /// "2 arguments", "1 to 3 arguments", "at least 1 argument".
    pub fn describe(self) -> String {
        let plural = |n: usize| if n == 1 { "argument" } else { "arguments" };
        match self {
            Arity::Exact(k) => format!("{k} {}", plural(k)),
            Arity::Between(lo, hi) => format!("{lo} to {hi} arguments"),
            Arity::AtLeast(k) => format!("at least {k} {}", plural(k)),
        }
    }
}

/// A function implemented in Rust. The VM makes each one an immortal
/// native, once per process and policy, shared by every interpreter; so it
/// is never copied, moved or freed.
pub struct Builtin<P: RuntimePolicy> {
    /// Its global name.
    pub name: &'static str,
    /// Accepted argument counts.
    pub arity: Arity,
    /// The implementation.
    pub func: BuiltinFn<P>,
}

impl<P: RuntimePolicy> NativeObject<P> for Builtin<P> {
    fn type_name(&self) -> &'static str {
        "builtin"
    }

    fn trace(&self, _visit: &mut dyn FnMut(&Object<P>)) {}

    fn freeze(&self) -> bool {
        true
    }
}

/// A channel between interpreters: both ends in one handle.
pub struct Channel<P: RuntimePolicy> {
    /// The sending end.
    pub sender: brisk_runtime::Sender<P>,
    /// The receiving end.
    pub receiver: brisk_runtime::Receiver<P>,
}

impl<P: RuntimePolicy> NativeObject<P> for Channel<P> {
    fn type_name(&self) -> &'static str {
        "channel"
    }

    fn trace(&self, _visit: &mut dyn FnMut(&Object<P>)) {}

    fn freeze(&self) -> bool {
        true
    }

    fn copy(&self) -> Option<Box<dyn NativeObject<P>>> {
        Some(Box::new(Channel {
            sender: self.sender.clone(),
            receiver: self.receiver.clone(),
        }))
    }
}

/// The language's name for a value's type.
pub fn type_name<P: RuntimePolicy>(object: &Object<P>) -> &'static str {
    match object.kind() {
        Kind::None => "nil",
        Kind::Str => "string",
        Kind::Native => object.as_native().map_or("native", |n| n.type_name()),
        kind => kind.name(),
    }
}

/// The message for argument `position` (counted from 0) of the wrong
/// type, as every builtin and inline operation words it: "expected a
/// vector as argument 1, found int".
pub fn wrong_type_message<P: RuntimePolicy>(
    expected: &str,
    position: usize,
    found: &Object<P>,
) -> String {
    format!(
        "expected {expected} as argument {}, found {}",
        position + 1,
        type_name(found)
    )
}

/// Truthiness: `#f` and `nil` are false; everything else is true.
#[inline]
pub fn is_truthy<P: RuntimePolicy>(object: &Object<P>) -> bool {
    match object.kind() {
        Kind::None => false,
        Kind::Bool => object.as_bool() == Some(true),
        _ => true,
    }
}

/// An integer or a float, as a float.
pub fn as_number<P: RuntimePolicy>(object: &Object<P>) -> Option<f64> {
    match object.kind() {
        Kind::Int => object.as_int().map(|i| i as f64),
        Kind::Float => object.as_float(),
        _ => None,
    }
}

/// How `print` and `display` show a value: strings without quotes, in a
/// chain of pairs too (where `nil` shows as `()`), as Scheme's `display`
/// shows a list; the items of a list value, tuple or dict as `repr`
/// shows them.
pub fn display<P: RuntimePolicy>(object: &Object<P>) -> String {
    match object.as_str() {
        Some(s) => s.to_owned(),
        None => {
            let mut out = String::new();
            write_repr(object, Style::Display, &mut out, &mut Vec::new());
            out
        }
    }
}

/// How a value is written inside a container or by `repr`: strings quoted.
pub fn repr<P: RuntimePolicy>(object: &Object<P>) -> String {
    let mut out = String::new();
    write_repr(object, Style::Write, &mut out, &mut Vec::new());
    out
}

/// How strings inside a chain of pairs are written.
#[derive(Copy, Clone, PartialEq, Eq)]
enum Style {
    /// Bare (`display`).
    Display,
    /// Quoted (`write`, `repr`).
    Write,
}

/// Formats a float: shortest round-trip digits, always with a `.` or an
/// exponent so it reads back as a float.
pub fn format_float(x: f64) -> String {
    format!("{x:?}")
}

fn write_repr<P: RuntimePolicy>(
    object: &Object<P>,
    style: Style,
    out: &mut String,
    open: &mut Vec<*const Object<P>>,
) {
    let address = object as *const Object<P>;
    let is_container = matches!(object.kind(), Kind::List | Kind::Tuple | Kind::Dict)
        || object.downcast_native::<Pair<P>>().is_some();
    if is_container && open.contains(&address) {
        out.push_str("...");
        return;
    }
    if (is_container && open.len() >= MAX_DEPTH) || out.len() > MAX_REPR_BYTES {
        out.push_str("...");
        return;
    }
    match object.kind() {
        Kind::None => out.push_str("nil"),
        Kind::Bool => out.push_str(if object.as_bool() == Some(true) {
            "#t"
        } else {
            "#f"
        }),
        Kind::Int => {
            let _ = write!(out, "{}", object.as_int().unwrap_or_default());
        }
        Kind::Float => out.push_str(&format_float(object.as_float().unwrap_or_default())),
        Kind::Str => {
            let _ = write!(out, "{:?}", object.as_str().unwrap_or_default());
        }
        Kind::Bytes => {
            let _ = write!(out, "{object:?}");
        }
        Kind::List | Kind::Tuple => {
            let (left, right) = if object.kind() == Kind::List {
                ("[", "]")
            } else {
                ("(", ")")
            };
            out.push_str(left);
            open.push(address);
            let items = object.items().unwrap_or_default();
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                write_repr(item, Style::Write, out, open);
            }
            if object.kind() == Kind::Tuple && items.len() == 1 {
                out.push(',');
            }
            open.pop();
            out.push_str(right);
        }
        Kind::Dict => {
            out.push('{');
            open.push(address);
            for (i, (key, value)) in object.dict_items().unwrap_or_default().iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                write_repr(key, Style::Write, out, open);
                out.push_str(": ");
                write_repr(value, Style::Write, out, open);
            }
            open.pop();
            out.push('}');
        }
        Kind::Native => {
            if let Some(pair) = object.downcast_native::<Pair<P>>() {
                write_pair(pair, style, address, out, open);
            } else if let Some(closure) = object.downcast_native::<Closure<P>>() {
                let _ = write!(out, "<function {}>", closure.proto.name);
            } else if let Some(builtin) = object.downcast_native::<Builtin<P>>() {
                let _ = write!(out, "<builtin {}>", builtin.name);
            } else {
                let _ = write!(out, "<{}>", type_name(object));
            }
        }
        _ => {
            let _ = write!(out, "<{}>", type_name(object));
        }
    }
}

/// Writes a pair chain as `(a b c)`, or `(a b . c)` when it does not end
/// in `nil`. The chain is followed in a loop, so a long one costs no Rust
/// stack; a pair met again along it (a ring made with `set-cdr!`) is
/// written `...`, as is a chain that passes [`MAX_REPR_BYTES`].
fn write_pair<P: RuntimePolicy>(
    first: &Pair<P>,
    style: Style,
    address: *const Object<P>,
    out: &mut String,
    open: &mut Vec<*const Object<P>>,
) {
    out.push('(');
    open.push(address);
    let mut seen = HashSet::from([address]);
    write_item(&first.car(), style, out, open);
    let mut rest = first.cdr();
    loop {
        if rest.kind() == Kind::None {
            break;
        }
        let at = &*rest as *const Object<P>;
        let Some(pair) = rest.downcast_native::<Pair<P>>() else {
            out.push_str(" . ");
            write_item(&rest, style, out, open);
            break;
        };
        if !seen.insert(at) || out.len() > MAX_REPR_BYTES {
            out.push_str(" ...");
            break;
        }
        out.push(' ');
        write_item(&pair.car(), style, out, open);
        let next = pair.cdr();
        rest = next;
    }
    open.pop();
    out.push(')');
}

/// Writes an item of a chain of pairs: `nil` as `()`, the empty list, and
/// a string bare or quoted by `style`.
fn write_item<P: RuntimePolicy>(
    item: &Object<P>,
    style: Style,
    out: &mut String,
    open: &mut Vec<*const Object<P>>,
) {
    match (item.kind(), item.as_str()) {
        (Kind::None, _) => out.push_str("()"),
        (_, Some(text)) if style == Style::Display => out.push_str(text),
        _ => write_repr(item, style, out, open),
    }
}

/// Structural equality (`=`, `equal?`): numbers by value across int and
/// float, strings by text, lists, tuples, dicts and pairs item by item,
/// anything else by identity.
///
/// The walk keeps the item pairs still to compare on a heap stack, not the
/// Rust stack, so data of any depth compares (a linked list a million
/// cells long is a million levels deep). Each pair of containers is looked
/// inside once: met again (through sharing or a cycle), it is taken as
/// equal, since any difference inside it is found on its first visit. So
/// cyclic data compares too, and shared data costs its size, not the
/// number of paths through it. A budget of item pairs (`MAX_COMPARED`)
/// bounds the work.
pub fn equal<P: RuntimePolicy>(a: &Object<P>, b: &Object<P>) -> Result<bool, String> {
    let mut walk = EqualWalk {
        pending: Vec::new(),
        visited: HashSet::new(),
        budget: MAX_COMPARED,
    };
    if !walk.compare(a, b)? {
        return Ok(false);
    }
    while let Some((x, y)) = walk.pending.pop() {
        if !walk.compare(&x, &y)? {
            return Ok(false);
        }
    }
    Ok(true)
}

/// Most item pairs one comparison takes on.
const MAX_COMPARED: usize = 10_000_000;

/// The state of one [`equal`].
struct EqualWalk<P: RuntimePolicy> {
    /// Item pairs still to compare.
    pending: Vec<(Ref<P>, Ref<P>)>,
    /// Container pairs already looked inside, by address. Every object
    /// compared stays reachable from the two values for the whole walk
    /// (nothing else runs on this thread, and what other threads can reach
    /// is frozen), so no address is reused while it is in the set.
    visited: HashSet<(*const Object<P>, *const Object<P>)>,
    /// Item pairs that may still be taken on.
    budget: usize,
}

impl<P: RuntimePolicy> EqualWalk<P> {
    /// Compares `a` and `b` without looking inside their items: `false` if
    /// they differ here, else `true` with their item pairs pushed onto
    /// `pending`.
    fn compare(&mut self, a: &Object<P>, b: &Object<P>) -> Result<bool, String> {
        if core::ptr::eq(a, b) {
            return Ok(true);
        }
        Ok(match (a.kind(), b.kind()) {
            (Kind::Int, Kind::Int) => a.as_int() == b.as_int(),
            (Kind::Int | Kind::Float, Kind::Int | Kind::Float) => as_number(a) == as_number(b),
            (Kind::Str, Kind::Str) => a.as_str() == b.as_str(),
            (Kind::Bytes, Kind::Bytes) => a.as_bytes() == b.as_bytes(),
            (Kind::None, Kind::None) => true,
            (Kind::Bool, Kind::Bool) => a.as_bool() == b.as_bool(),
            (Kind::List, Kind::List) | (Kind::Tuple, Kind::Tuple) => {
                let (xs, ys) = (a.items().unwrap_or_default(), b.items().unwrap_or_default());
                if xs.len() != ys.len() {
                    return Ok(false);
                }
                if self.first_visit(a, b, xs.len())? {
                    // Reversed, so that the first items are compared first.
                    self.pending.extend(xs.into_iter().zip(ys).rev());
                }
                true
            }
            (Kind::Native, Kind::Native) => {
                let (Some(x), Some(y)) = (
                    a.downcast_native::<Pair<P>>(),
                    b.downcast_native::<Pair<P>>(),
                ) else {
                    return Ok(false);
                };
                if self.first_visit(a, b, 2)? {
                    self.pending.push((x.cdr(), y.cdr()));
                    self.pending.push((x.car(), y.car()));
                }
                true
            }
            (Kind::Dict, Kind::Dict) => {
                let xs = a.dict_items().unwrap_or_default();
                if Some(xs.len()) != b.len() {
                    return Ok(false);
                }
                if self.first_visit(a, b, xs.len())? {
                    for (key, x) in xs.into_iter().rev() {
                        let Ok(Some(y)) = b.dict_get(&key) else {
                            return Ok(false);
                        };
                        self.pending.push((x, y));
                    }
                }
                true
            }
            _ => false,
        })
    }

    /// Whether the containers `a` and `b` are met for the first time; if
    /// so, their `items` pairs are taken out of the budget.
    fn first_visit(&mut self, a: &Object<P>, b: &Object<P>, items: usize) -> Result<bool, String> {
        if !self.visited.insert((a, b)) {
            return Ok(false);
        }
        self.budget = self
            .budget
            .checked_sub(items)
            .ok_or("values too large to compare")?;
        Ok(true)
    }
}

/// Largest dictionary key, counted as the runtime hashes it: a tuple
/// that holds the same tuple twice counts it twice.
pub const MAX_KEY_NODES: usize = 100_000;

/// Rejects dictionary keys the runtime could not hash safely: it hashes and
/// compares keys recursively, visiting a shared sub-tuple once per path to
/// it, so a key must be both shallow ([`MAX_DEPTH`]) and small
/// ([`MAX_KEY_NODES`] counted per path).
pub fn check_key_depth<P: RuntimePolicy>(key: &Object<P>) -> Result<(), String> {
    if key.as_tuple().is_none() {
        return Ok(());
    }
    let mut pending: Vec<(&Object<P>, usize)> = vec![(key, 0)];
    let mut visited = 0usize;
    while let Some((object, depth)) = pending.pop() {
        visited += 1;
        if visited > MAX_KEY_NODES {
            return Err(format!(
                "dict keys larger than {MAX_KEY_NODES} items are not supported"
            ));
        }
        if depth > MAX_DEPTH {
            return Err(format!(
                "dict keys nested more than {MAX_DEPTH} levels deep are not supported"
            ));
        }
        if let Some(items) = object.as_tuple() {
            pending.extend(items.iter().map(|item| (&**item, depth + 1)));
        }
    }
    Ok(())
}
