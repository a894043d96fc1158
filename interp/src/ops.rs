//! The primitive operations — arithmetic, comparison, indexing — shared by
//! the VM's inline instructions and the builtin functions of the same names.
//!
//! Integers are 64-bit and never wrap: an overflow is an error, not a
//! surprise. Mixing an integer and a float gives a float. `/` always gives
//! a float (as Python 3's does); `quotient`, `remainder` and `modulo` are
//! the integer divisions. Dividing by zero is an error for floats too.
//!
//! Each operation borrows its operands and returns a new counted reference;
//! the VM drops the operands afterwards, which is the `Py_DECREF` pair of
//! CPython's `BINARY_OP`.

use core::cmp::Ordering;

use brisk_runtime::{Kind, Mutator, Object, Ref, RuntimePolicy};

use crate::bytecode::{Binary, Store, Unary};
use crate::value::{as_number, equal, type_name, wrong_type_message, Pair};

/// The result of an operation: a value, or a message to raise.
pub type OpResult<P> = Result<Ref<P>, String>;

/// A binary operation, as the variadic builtins fold it.
pub type BinaryOp<P> = fn(&Mutator<P>, &Object<P>, &Object<P>) -> OpResult<P>;

/// Applies the binary operation `op` to `a` and `b`: the one function
/// behind the VM's binary instructions, whichever way their operands
/// arrive.
#[inline(always)]
pub fn binary<P: RuntimePolicy>(
    m: &Mutator<P>,
    op: Binary,
    a: &Object<P>,
    b: &Object<P>,
) -> OpResult<P> {
    let ordered =
        |test: fn(Ordering) -> bool| compare(a, b).map(|order| m.bool(order.is_some_and(test)));
    match op {
        Binary::Add => add(m, a, b),
        Binary::Sub => sub(m, a, b),
        Binary::Mul => mul(m, a, b),
        Binary::Div => div(m, a, b),
        Binary::Quotient => quotient(m, a, b),
        Binary::Remainder => remainder(m, a, b),
        Binary::Modulo => modulo(m, a, b),
        Binary::Equal => equals(m, a, b),
        Binary::Lt => ordered(Ordering::is_lt),
        Binary::Le => ordered(Ordering::is_le),
        Binary::Gt => ordered(Ordering::is_gt),
        Binary::Ge => ordered(Ordering::is_ge),
        Binary::Index => index(m, a, b),
        Binary::VectorRef => vector_index(m, a, b).map_err(|e| format!("vector-ref: {e}")),
    }
}

/// Applies the unary operation `op` to `value`: the one function behind
/// the VM's unary instructions and the builtins of the same names.
#[inline(always)]
pub fn unary<P: RuntimePolicy>(m: &Mutator<P>, op: Unary, value: &Object<P>) -> OpResult<P> {
    match op {
        Unary::Car => half(m, value, Half::Car),
        Unary::Cdr => half(m, value, Half::Cdr),
        Unary::IsNull => Ok(m.bool(match value.kind() {
            Kind::None => true,
            Kind::List => value.is_empty() == Some(true),
            _ => false,
        })),
        Unary::IsPair => Ok(m.bool(value.downcast_native::<Pair<P>>().is_some())),
    }
}

/// Which half of a pair.
#[derive(Copy, Clone)]
pub enum Half {
    /// The first field.
    Car,
    /// The second field.
    Cdr,
}

/// The `car` or `cdr` of `value`; a list or tuple value gives its first
/// item or the rest of its items.
pub fn half<P: RuntimePolicy>(m: &Mutator<P>, value: &Object<P>, which: Half) -> OpResult<P> {
    if let Some(pair) = value.downcast_native::<Pair<P>>() {
        return Ok(match which {
            Half::Car => pair.car(),
            Half::Cdr => pair.cdr(),
        });
    }
    match (value.kind(), value.items().ok()) {
        (Kind::List | Kind::Tuple, Some(items)) if !items.is_empty() => Ok(match which {
            Half::Car => items[0].clone(),
            Half::Cdr if value.kind() == Kind::Tuple => m.tuple(items[1..].to_vec()),
            Half::Cdr => m.list(items[1..].to_vec()),
        }),
        _ => Err(wrong_type_message("a pair", 0, value)),
    }
}

/// The value of `a op b` when it is a float computed without failing:
/// `+`, `-`, `*` or `/` of two numbers that are not both ints (`/` by a
/// non-zero divisor). The VM then makes the result in the object of an
/// operand nobody else holds ([`Mutator::float_in`]); every other
/// case goes through [`binary`].
///
/// The operation is tested first: a comparison, whatever its operands,
/// costs one test here and converts nothing.
#[inline(always)]
pub fn float_result<P: RuntimePolicy>(op: Binary, a: &Object<P>, b: &Object<P>) -> Option<f64> {
    let arithmetic = matches!(op, Binary::Add | Binary::Sub | Binary::Mul | Binary::Div);
    if !arithmetic || (a.kind() == Kind::Int && b.kind() == Kind::Int) {
        return None;
    }
    let (x, y) = floats(a, b)?;
    match op {
        Binary::Add => Some(x + y),
        Binary::Sub => Some(x - y),
        Binary::Mul => Some(x * y),
        Binary::Div if y != 0.0 => Some(x / y),
        _ => None,
    }
}

fn overflow() -> String {
    "integer overflow".to_owned()
}

fn mismatch<P: RuntimePolicy>(verb: &str, a: &Object<P>, b: &Object<P>) -> String {
    format!("cannot {verb} {} and {}", type_name(a), type_name(b))
}

/// Both operands as integers, if they are.
#[inline]
fn ints<P: RuntimePolicy>(a: &Object<P>, b: &Object<P>) -> Option<(i64, i64)> {
    Some((a.as_int()?, b.as_int()?))
}

/// Both operands as floats, if both are numbers.
#[inline]
fn floats<P: RuntimePolicy>(a: &Object<P>, b: &Object<P>) -> Option<(f64, f64)> {
    Some((as_number(a)?, as_number(b)?))
}

/// `(+ a b)`
#[inline]
pub fn add<P: RuntimePolicy>(m: &Mutator<P>, a: &Object<P>, b: &Object<P>) -> OpResult<P> {
    if let Some((x, y)) = ints(a, b) {
        return x.checked_add(y).map(|r| m.int(r)).ok_or_else(overflow);
    }
    float_result(Binary::Add, a, b)
        .map(|x| m.float(x))
        .ok_or_else(|| mismatch("add", a, b))
}

/// `(- a b)`
#[inline]
pub fn sub<P: RuntimePolicy>(m: &Mutator<P>, a: &Object<P>, b: &Object<P>) -> OpResult<P> {
    if let Some((x, y)) = ints(a, b) {
        return x.checked_sub(y).map(|r| m.int(r)).ok_or_else(overflow);
    }
    float_result(Binary::Sub, a, b)
        .map(|x| m.float(x))
        .ok_or_else(|| mismatch("subtract", a, b))
}

/// `(* a b)`
#[inline]
pub fn mul<P: RuntimePolicy>(m: &Mutator<P>, a: &Object<P>, b: &Object<P>) -> OpResult<P> {
    if let Some((x, y)) = ints(a, b) {
        return x.checked_mul(y).map(|r| m.int(r)).ok_or_else(overflow);
    }
    float_result(Binary::Mul, a, b)
        .map(|x| m.float(x))
        .ok_or_else(|| mismatch("multiply", a, b))
}

/// `(/ a b)`: an int when both are ints and `b` divides `a` exactly
/// (`(/ 6 3)` is `2`), else a float (`(/ 7 2)` is `3.5`; there are no
/// rationals).
pub fn div<P: RuntimePolicy>(m: &Mutator<P>, a: &Object<P>, b: &Object<P>) -> OpResult<P> {
    if let Some((x, y)) = ints(a, b) {
        if y != 0 {
            match x.checked_rem(y) {
                Some(0) => return x.checked_div(y).map(|r| m.int(r)).ok_or_else(overflow),
                None => return Err(overflow()),
                Some(_) => {}
            }
        }
    }
    let (x, y) = floats(a, b).ok_or_else(|| mismatch("divide", a, b))?;
    if y == 0.0 {
        return Err("division by zero".into());
    }
    Ok(m.float(x / y))
}

fn int_operands<P: RuntimePolicy>(
    name: &str,
    a: &Object<P>,
    b: &Object<P>,
) -> Result<(i64, i64), String> {
    let (x, y) = ints(a, b).ok_or_else(|| {
        format!(
            "{name} expects integers, found {} and {}",
            type_name(a),
            type_name(b)
        )
    })?;
    if y == 0 {
        return Err("division by zero".into());
    }
    Ok((x, y))
}

/// `(quotient a b)`: integer division, truncating toward zero.
pub fn quotient<P: RuntimePolicy>(m: &Mutator<P>, a: &Object<P>, b: &Object<P>) -> OpResult<P> {
    let (x, y) = int_operands("quotient", a, b)?;
    x.checked_div(y).map(|r| m.int(r)).ok_or_else(overflow)
}

/// `(remainder a b)`: the remainder of `quotient`, with the sign of `a`.
pub fn remainder<P: RuntimePolicy>(m: &Mutator<P>, a: &Object<P>, b: &Object<P>) -> OpResult<P> {
    let (x, y) = int_operands("remainder", a, b)?;
    x.checked_rem(y).map(|r| m.int(r)).ok_or_else(overflow)
}

/// `(modulo a b)`: the remainder with the sign of `b`.
pub fn modulo<P: RuntimePolicy>(m: &Mutator<P>, a: &Object<P>, b: &Object<P>) -> OpResult<P> {
    let (x, y) = int_operands("modulo", a, b)?;
    let r = x.checked_rem(y).ok_or_else(overflow)?;
    Ok(m.int(if r != 0 && (r < 0) != (y < 0) {
        r + y
    } else {
        r
    }))
}

/// `(- a)`
pub fn neg<P: RuntimePolicy>(m: &Mutator<P>, a: &Object<P>) -> OpResult<P> {
    match a.kind() {
        Kind::Int => a
            .as_int()
            .and_then(i64::checked_neg)
            .map(|r| m.int(r))
            .ok_or_else(overflow),
        Kind::Float => Ok(m.float(-a.as_float().unwrap_or_default())),
        _ => Err(format!("cannot negate {}", type_name(a))),
    }
}

/// Orders two numbers or two strings; `None` when a NaN makes them
/// unordered (every comparison with NaN is false, as in IEEE 754).
#[inline]
pub fn compare<P: RuntimePolicy>(a: &Object<P>, b: &Object<P>) -> Result<Option<Ordering>, String> {
    if let Some((x, y)) = ints(a, b) {
        return Ok(Some(x.cmp(&y)));
    }
    if let Some((x, y)) = floats(a, b) {
        return Ok(x.partial_cmp(&y));
    }
    if let (Some(x), Some(y)) = (a.as_str(), b.as_str()) {
        return Ok(Some(x.cmp(y)));
    }
    Err(mismatch("compare", a, b))
}

/// `(= a b)`
pub fn equals<P: RuntimePolicy>(m: &Mutator<P>, a: &Object<P>, b: &Object<P>) -> OpResult<P> {
    if let Some((x, y)) = ints(a, b) {
        return Ok(m.bool(x == y));
    }
    equal(a, b).map(|eq| m.bool(eq))
}

/// A non-negative index.
pub fn to_index<P: RuntimePolicy>(index: &Object<P>) -> Result<usize, String> {
    match index.as_int() {
        Some(i) if i >= 0 => Ok(i as usize),
        Some(i) => Err(format!("index {i} is negative")),
        None => Err(format!(
            "an index must be an int, found {}",
            type_name(index)
        )),
    }
}

/// `(vector-ref v i)`: [`index`] of a vector (a list value).
pub fn vector_index<P: RuntimePolicy>(
    m: &Mutator<P>,
    seq: &Object<P>,
    i: &Object<P>,
) -> OpResult<P> {
    index(m, vector_arg(seq, 0)?, i)
}

/// `(vector-set! v i x)`: item `i` of the vector `seq` becomes `value`.
pub fn vector_store<P: RuntimePolicy>(
    seq: &Object<P>,
    i: &Object<P>,
    value: Ref<P>,
) -> Result<(), String> {
    let i = to_index(i)?;
    vector_arg(seq, 0)?
        .set_item(i, value)
        .map_err(|e| e.to_string())
}

/// `seq`, argument `position` (from 0), if it is a vector (a list value).
pub fn vector_arg<P: RuntimePolicy>(
    seq: &Object<P>,
    position: usize,
) -> Result<&Object<P>, String> {
    match seq.kind() {
        Kind::List => Ok(seq),
        _ => Err(wrong_type_message("a vector", position, seq)),
    }
}

/// `(nth seq i)`: an item of a list or tuple, or a one-character string.
#[inline]
pub fn index<P: RuntimePolicy>(m: &Mutator<P>, seq: &Object<P>, i: &Object<P>) -> OpResult<P> {
    let i = to_index(i)?;
    match seq.kind() {
        Kind::List | Kind::Tuple => seq.get_item(i).map_err(|e| e.to_string()),
        Kind::Str => {
            let out_of_range = || {
                format!(
                    "index {i} out of range for a string of length {}",
                    char_count(seq)
                )
            };
            if let Some(text) = seq.ascii_str() {
                return Ok(m.str(text.get(i..=i).ok_or_else(out_of_range)?));
            }
            let text = seq.as_str().unwrap_or_default();
            let c = text.chars().nth(i).ok_or_else(out_of_range)?;
            Ok(m.str(c.encode_utf8(&mut [0; 4])))
        }
        _ => Err(format!("cannot index {}", type_name(seq))),
    }
}

/// The number of characters in the string `s` (0 for any other value): its
/// length in bytes where the runtime recorded it as ASCII, so O(1) for
/// most strings, and a count otherwise.
pub fn char_count<P: RuntimePolicy>(s: &Object<P>) -> usize {
    match s.ascii_str() {
        Some(text) => text.len(),
        None => s.as_str().map_or(0, |text| text.chars().count()),
    }
}

/// `(set-nth! list i value)`
pub fn store_index<P: RuntimePolicy>(
    store: Store,
    seq: &Object<P>,
    i: &Object<P>,
    value: Ref<P>,
) -> Result<(), String> {
    if store == Store::Vector {
        return vector_store(seq, i, value).map_err(|e| format!("vector-set!: {e}"));
    }
    let i = to_index(i)?;
    if seq.kind() != Kind::List {
        return Err(format!(
            "cannot assign into {} (only lists are mutable sequences)",
            type_name(seq)
        ));
    }
    seq.set_item(i, value).map_err(|e| e.to_string())
}
