//! The builtin functions.
//!
//! Builtins are [`Builtin`] objects in every interpreter's globals, one
//! global per name, numbered first in the symbol table in the order of
//! [`names`]. A builtin gets the call context ([`Ctx`]) and its arguments
//! as a mutable slice of the VM's stack, so it can take an argument (leave
//! `nil` in its slot) instead of counting a new reference: `send` with
//! `'move` relies on that to hold the only reference to what it moves.
//!
//! Sizes that a program asks for (`make-list`, `range`) are capped at
//! [`MAX_LENGTH`], so a typo is an error rather than an abort on allocation.
//! Strings that builtins compute (`string-append`, `string-join`, `str`,
//! `repr`, case changes) are capped at [`MAX_STRING_BYTES`], so a loop that
//! keeps doubling a string fails with an error instead of being killed.
//!
//! | group | builtins |
//! |---|---|
//! | output | `print` `display` `str` `repr` `format-float` |
//! | strings | `string-length` `substring` `string-append` `string-split` `string-join` `string-upcase` `string-downcase` `string->number` `number->string` |
//! | sequences | `list` `tuple` `length` `nth` `set-nth!` `push!` `pop!` `first` `last` `rest` `empty?` `make-list` `range` `reverse` `append` `list-copy` `list->tuple` `tuple->list` `sort` `contains?` |
//! | dicts | `dict` `dict-get` `dict-set!` `dict-has?` `dict-remove!` `dict-keys` `dict-values` `dict-items` |
//! | numbers | `+ - * / quotient remainder modulo < <= > >= =` `int` `float` `sqrt` `abs` `min` `max` `floor` `expt` `bit-and` `bit-or` `bit-xor` `shift-left` `shift-right` |
//! | values | `type-of` `nil?` `int?` `float?` `number?` `string?` `list?` `tuple?` `dict?` `function?` `equal?` `eq?` `not` |
//! | program | `error` `assert` `argv` |
//! | interpreters | `freeze` `frozen?` `channel` `send` `recv` `spawn-interpreter` `join` (see `spawn`) |

use core::cmp::Ordering;

use brisk_runtime::{Kind, Mutator, Object, Ref, RuntimePolicy};

use crate::error::Diagnostic;
use crate::host::Host;
use crate::ops;
use crate::spawn;
use crate::value::{
    as_number, check_key_depth, display, downcast, equal, format_float, repr, type_name, Arity,
    Builtin, Closure,
};

/// Longest list or range a builtin will make.
pub const MAX_LENGTH: usize = 1 << 24;

/// Longest string, in bytes (UTF-8), a builtin will make: 16 MiB. A string
/// doubled in a loop reaches it in 24 steps and fails there; without a bound
/// it would double until the allocator or the OOM killer stopped the
/// process. The check is made on the length the result would have, before
/// any of it is built.
pub const MAX_STRING_BYTES: usize = 1 << 24;

/// Fails unless a string of `len` bytes is within [`MAX_STRING_BYTES`].
fn check_string_len(len: usize) -> Result<(), Failure> {
    if len > MAX_STRING_BYTES {
        return Err(Failure::Message(format!(
            "the string would be {len} bytes long (at most {MAX_STRING_BYTES})"
        )));
    }
    Ok(())
}

/// A new string object for `text`, a builtin's computed result, if it is
/// within [`MAX_STRING_BYTES`].
fn bounded_str<P: RuntimePolicy>(m: &Mutator<P>, text: &str) -> BuiltinResult<P> {
    check_string_len(text.len())?;
    Ok(m.str(text))
}

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

macro_rules! builtins {
    ($($name:literal => $($func:ident)::+, $arity:expr;)*) => {
        /// Every builtin's name, in symbol-table order.
        pub fn names() -> impl Iterator<Item = &'static str> {
            [$($name),*].into_iter()
        }

        /// Every builtin, in the order of [`names`].
        pub fn table<P: RuntimePolicy>() -> Vec<Builtin<P>> {
            vec![$(Builtin { name: $name, arity: $arity, func: $($func)::+::<P> }),*]
        }
    };
}

use Arity::{AtLeast, Between, Exact};

builtins! {
    "print" => print, AtLeast(0);
    "display" => display_, AtLeast(0);
    "str" => str_, AtLeast(0);
    "repr" => repr_, Exact(1);
    "format-float" => format_float_, Exact(2);
    "string-length" => string_length, Exact(1);
    "substring" => substring, Between(2, 3);
    "string-append" => string_append, AtLeast(0);
    "string-split" => string_split, Exact(2);
    "string-join" => string_join, Exact(2);
    "string-upcase" => string_upcase, Exact(1);
    "string-downcase" => string_downcase, Exact(1);
    "string->number" => string_to_number, Exact(1);
    "number->string" => number_to_string, Exact(1);
    "list" => list, AtLeast(0);
    "tuple" => tuple, AtLeast(0);
    "length" => length, Exact(1);
    "nth" => nth, Exact(2);
    "set-nth!" => set_nth, Exact(3);
    "push!" => push, Exact(2);
    "pop!" => pop, Exact(1);
    "first" => first, Exact(1);
    "last" => last, Exact(1);
    "rest" => rest, Exact(1);
    "empty?" => is_empty, Exact(1);
    "make-list" => make_list, Exact(2);
    "range" => range, Between(1, 3);
    "reverse" => reverse, Exact(1);
    "append" => append, AtLeast(0);
    "list-copy" => list_copy, Exact(1);
    "list->tuple" => list_to_tuple, Exact(1);
    "tuple->list" => list_copy, Exact(1);
    "sort" => sort, Exact(1);
    "contains?" => contains, Exact(2);
    "dict" => dict, AtLeast(0);
    "dict-get" => dict_get, Between(2, 3);
    "dict-set!" => dict_set, Exact(3);
    "dict-has?" => dict_has, Exact(2);
    "dict-remove!" => dict_remove, Exact(2);
    "dict-keys" => dict_keys, Exact(1);
    "dict-values" => dict_values, Exact(1);
    "dict-items" => dict_items, Exact(1);
    "+" => add, AtLeast(0);
    "-" => sub, AtLeast(1);
    "*" => mul, AtLeast(0);
    "/" => div, Exact(2);
    "quotient" => quotient, Exact(2);
    "remainder" => remainder, Exact(2);
    "modulo" => modulo, Exact(2);
    "<" => less, AtLeast(2);
    "<=" => less_equal, AtLeast(2);
    ">" => greater, AtLeast(2);
    ">=" => greater_equal, AtLeast(2);
    "=" => equal_, AtLeast(2);
    "int" => int, Exact(1);
    "float" => float, Exact(1);
    "sqrt" => sqrt, Exact(1);
    "abs" => abs, Exact(1);
    "min" => min, AtLeast(1);
    "max" => max, AtLeast(1);
    "floor" => floor, Exact(1);
    "expt" => expt, Exact(2);
    "bit-and" => bit_and, Exact(2);
    "bit-or" => bit_or, Exact(2);
    "bit-xor" => bit_xor, Exact(2);
    "shift-left" => shift_left, Exact(2);
    "shift-right" => shift_right, Exact(2);
    "type-of" => type_of, Exact(1);
    "nil?" => is_nil, Exact(1);
    "int?" => is_int, Exact(1);
    "float?" => is_float, Exact(1);
    "number?" => is_number, Exact(1);
    "string?" => is_string, Exact(1);
    "list?" => is_list, Exact(1);
    "tuple?" => is_tuple, Exact(1);
    "dict?" => is_dict, Exact(1);
    "function?" => is_function, Exact(1);
    "equal?" => equal_, Exact(2);
    "eq?" => is_same, Exact(2);
    "not" => not, Exact(1);
    "error" => error, AtLeast(1);
    "assert" => assert, Between(1, 2);
    "argv" => argv, Exact(0);
    "freeze" => spawn::freeze, Exact(1);
    "frozen?" => spawn::is_frozen, Exact(1);
    "channel" => spawn::channel, Exact(0);
    "send" => spawn::send, Exact(3);
    "recv" => spawn::recv, Exact(1);
    "spawn-interpreter" => spawn::spawn_interpreter, Exact(1);
    "join" => spawn::join, Exact(1);
}

// ---------------------------------------------------------------- helpers

fn wrong_type<P: RuntimePolicy>(expected: &str, position: usize, found: &Object<P>) -> Failure {
    Failure::Message(format!(
        "expected {expected} as argument {}, found {}",
        position + 1,
        type_name(found)
    ))
}

fn int_arg<P: RuntimePolicy>(args: &[Ref<P>], i: usize) -> Result<i64, Failure> {
    args[i]
        .as_int()
        .ok_or_else(|| wrong_type("an int", i, &args[i]))
}

fn number_arg<P: RuntimePolicy>(args: &[Ref<P>], i: usize) -> Result<f64, Failure> {
    as_number(&args[i]).ok_or_else(|| wrong_type("a number", i, &args[i]))
}

fn str_arg<P: RuntimePolicy>(args: &[Ref<P>], i: usize) -> Result<&str, Failure> {
    args[i]
        .as_str()
        .ok_or_else(|| wrong_type("a string", i, &args[i]))
}

fn length_arg<P: RuntimePolicy>(args: &[Ref<P>], i: usize) -> Result<usize, Failure> {
    let n = int_arg(args, i)?;
    if n < 0 || n as u64 > MAX_LENGTH as u64 {
        return Err(Failure::Message(format!(
            "length {n} is out of range (0 to {MAX_LENGTH})"
        )));
    }
    Ok(n as usize)
}

/// The items of a list or tuple argument.
fn items_arg<P: RuntimePolicy>(args: &[Ref<P>], i: usize) -> Result<Vec<Ref<P>>, Failure> {
    match args[i].kind() {
        Kind::List | Kind::Tuple => Ok(args[i].items().unwrap_or_default()),
        _ => Err(wrong_type("a list or tuple", i, &args[i])),
    }
}

fn dict_arg<P: RuntimePolicy>(args: &[Ref<P>], i: usize) -> Result<&Object<P>, Failure> {
    match args[i].kind() {
        Kind::Dict => Ok(&args[i]),
        _ => Err(wrong_type("a dict", i, &args[i])),
    }
}

fn key_arg<P: RuntimePolicy>(args: &[Ref<P>], i: usize) -> Result<&Object<P>, Failure> {
    check_key_depth(&args[i])?;
    Ok(&args[i])
}

/// Moves every argument out of the stack.
fn take_all<P: RuntimePolicy>(m: &Mutator<P>, args: &mut [Ref<P>]) -> Vec<Ref<P>> {
    args.iter_mut().map(|arg| take(m, arg)).collect()
}

/// Moves one argument out of the stack, leaving `nil`.
pub(crate) fn take<P: RuntimePolicy>(m: &Mutator<P>, arg: &mut Ref<P>) -> Ref<P> {
    core::mem::replace(arg, m.none())
}

fn object_error(error: brisk_runtime::ObjectError) -> Failure {
    Failure::Message(error.to_string())
}

/// Characters `start..end` of `text`, or `None` if it has fewer than `end`.
///
/// A string does not record whether it is ASCII or where its characters
/// start, so finding character `start` takes a walk over the bytes before
/// it. The walk is kept cheap: where the text is ASCII up to `end`,
/// characters are bytes, and one check of those bytes (a word at a time)
/// lets the range be sliced out directly; otherwise `Chars::nth` skips
/// characters without decoding each one, where decoding them one by one
/// (as `char_indices` does) costs several times more.
fn char_range(text: &str, start: usize, end: usize) -> Option<&str> {
    if start > end {
        return None;
    }
    if text.as_bytes().get(..end).is_some_and(<[u8]>::is_ascii) {
        return text.get(start..end);
    }
    let from_start = skip_chars(text, start)?;
    let after_end = skip_chars(from_start, end - start)?;
    Some(&from_start[..from_start.len() - after_end.len()])
}

/// `text` without its first `n` characters, or `None` if it has fewer.
fn skip_chars(text: &str, n: usize) -> Option<&str> {
    let mut chars = text.chars();
    if n > 0 {
        chars.nth(n - 1)?;
    }
    Some(chars.as_str())
}

// ----------------------------------------------------------------- output

fn joined_display<P: RuntimePolicy>(args: &[Ref<P>], separator: &str) -> String {
    args.iter()
        .map(|arg| display(arg))
        .collect::<Vec<_>>()
        .join(separator)
}

/// [`joined_display`] for a string value: stops as soon as the text passes
/// [`MAX_STRING_BYTES`], so joining many large strings never builds more
/// than one string past the limit.
fn bounded_joined_display<P: RuntimePolicy>(
    args: &[Ref<P>],
    separator: &str,
) -> Result<String, Failure> {
    let mut out = String::new();
    for (i, arg) in args.iter().enumerate() {
        if i > 0 {
            out.push_str(separator);
        }
        out.push_str(&display(arg));
        check_string_len(out.len())?;
    }
    Ok(out)
}

fn print<P: RuntimePolicy>(ctx: &mut Ctx<'_, '_, P>, args: &mut [Ref<P>]) -> BuiltinResult<P> {
    let mut line = joined_display(args, " ");
    line.push('\n');
    ctx.host.write(&line)?;
    Ok(ctx.m.none())
}

fn display_<P: RuntimePolicy>(ctx: &mut Ctx<'_, '_, P>, args: &mut [Ref<P>]) -> BuiltinResult<P> {
    ctx.host.write(&joined_display(args, " "))?;
    Ok(ctx.m.none())
}

fn str_<P: RuntimePolicy>(ctx: &mut Ctx<'_, '_, P>, args: &mut [Ref<P>]) -> BuiltinResult<P> {
    bounded_str(ctx.m, &bounded_joined_display(args, "")?)
}

fn repr_<P: RuntimePolicy>(ctx: &mut Ctx<'_, '_, P>, args: &mut [Ref<P>]) -> BuiltinResult<P> {
    bounded_str(ctx.m, &repr(&args[0]))
}

fn format_float_<P: RuntimePolicy>(
    ctx: &mut Ctx<'_, '_, P>,
    args: &mut [Ref<P>],
) -> BuiltinResult<P> {
    let x = number_arg(args, 0)?;
    let digits = int_arg(args, 1)?;
    if !(0..=30).contains(&digits) {
        return Err("digits must be between 0 and 30".into());
    }
    Ok(ctx.m.str(&format!("{x:.*}", digits as usize)))
}

// ---------------------------------------------------------------- strings

fn string_length<P: RuntimePolicy>(
    ctx: &mut Ctx<'_, '_, P>,
    args: &mut [Ref<P>],
) -> BuiltinResult<P> {
    Ok(ctx.m.int(str_arg(args, 0)?.chars().count() as i64))
}

fn substring<P: RuntimePolicy>(ctx: &mut Ctx<'_, '_, P>, args: &mut [Ref<P>]) -> BuiltinResult<P> {
    let text = str_arg(args, 0)?;
    let start = ops::to_index(&args[1])?;
    let end = match args.get(2) {
        Some(end) => ops::to_index(end)?,
        None => text.chars().count(),
    };
    let part = char_range(text, start, end).ok_or_else(|| {
        format!(
            "range {start}..{end} is out of bounds for a string of length {}",
            text.chars().count()
        )
    })?;
    Ok(ctx.m.str(part))
}

fn string_append<P: RuntimePolicy>(
    ctx: &mut Ctx<'_, '_, P>,
    args: &mut [Ref<P>],
) -> BuiltinResult<P> {
    let mut len = 0usize;
    for i in 0..args.len() {
        len = len.saturating_add(str_arg(args, i)?.len());
    }
    check_string_len(len)?;
    let mut out = String::with_capacity(len);
    for i in 0..args.len() {
        out.push_str(str_arg(args, i)?);
    }
    Ok(ctx.m.str(&out))
}

fn string_split<P: RuntimePolicy>(
    ctx: &mut Ctx<'_, '_, P>,
    args: &mut [Ref<P>],
) -> BuiltinResult<P> {
    let text = str_arg(args, 0)?;
    let separator = str_arg(args, 1)?;
    if separator.is_empty() {
        return Err("the separator must not be empty".into());
    }
    let m = ctx.m;
    Ok(m.list(text.split(separator).map(|part| m.str(part)).collect()))
}

fn string_join<P: RuntimePolicy>(
    ctx: &mut Ctx<'_, '_, P>,
    args: &mut [Ref<P>],
) -> BuiltinResult<P> {
    let items = items_arg(args, 0)?;
    let separator = str_arg(args, 1)?;
    bounded_str(ctx.m, &bounded_joined_display(&items, separator)?)
}

fn string_upcase<P: RuntimePolicy>(
    ctx: &mut Ctx<'_, '_, P>,
    args: &mut [Ref<P>],
) -> BuiltinResult<P> {
    bounded_str(ctx.m, &str_arg(args, 0)?.to_uppercase())
}

fn string_downcase<P: RuntimePolicy>(
    ctx: &mut Ctx<'_, '_, P>,
    args: &mut [Ref<P>],
) -> BuiltinResult<P> {
    bounded_str(ctx.m, &str_arg(args, 0)?.to_lowercase())
}

fn string_to_number<P: RuntimePolicy>(
    ctx: &mut Ctx<'_, '_, P>,
    args: &mut [Ref<P>],
) -> BuiltinResult<P> {
    let text = str_arg(args, 0)?.trim();
    let m = ctx.m;
    Ok(match (text.parse::<i64>(), text.parse::<f64>()) {
        (Ok(i), _) => m.int(i),
        (_, Ok(x)) => m.float(x),
        _ => m.none(),
    })
}

fn number_to_string<P: RuntimePolicy>(
    ctx: &mut Ctx<'_, '_, P>,
    args: &mut [Ref<P>],
) -> BuiltinResult<P> {
    number_arg(args, 0)?;
    Ok(ctx.m.str(&display(&args[0])))
}

// -------------------------------------------------------------- sequences

fn list<P: RuntimePolicy>(ctx: &mut Ctx<'_, '_, P>, args: &mut [Ref<P>]) -> BuiltinResult<P> {
    Ok(ctx.m.list(take_all(ctx.m, args)))
}

fn tuple<P: RuntimePolicy>(ctx: &mut Ctx<'_, '_, P>, args: &mut [Ref<P>]) -> BuiltinResult<P> {
    let m = ctx.m;
    Ok(m.tuple_from_iter(args.iter_mut().map(|arg| take(m, arg))))
}

fn length<P: RuntimePolicy>(ctx: &mut Ctx<'_, '_, P>, args: &mut [Ref<P>]) -> BuiltinResult<P> {
    let value = &args[0];
    let n = match value.kind() {
        Kind::Str => value.as_str().unwrap_or_default().chars().count(),
        Kind::List | Kind::Tuple | Kind::Dict | Kind::Bytes => value.len().unwrap_or_default(),
        _ => return Err(wrong_type("a string, list, tuple or dict", 0, value)),
    };
    Ok(ctx.m.int(n as i64))
}

fn nth<P: RuntimePolicy>(ctx: &mut Ctx<'_, '_, P>, args: &mut [Ref<P>]) -> BuiltinResult<P> {
    Ok(ops::index(ctx.m, &args[0], &args[1])?)
}

fn set_nth<P: RuntimePolicy>(ctx: &mut Ctx<'_, '_, P>, args: &mut [Ref<P>]) -> BuiltinResult<P> {
    let value = take(ctx.m, &mut args[2]);
    ops::store_index(&args[0], &args[1], value)?;
    Ok(ctx.m.none())
}

fn push<P: RuntimePolicy>(ctx: &mut Ctx<'_, '_, P>, args: &mut [Ref<P>]) -> BuiltinResult<P> {
    if args[0].kind() != Kind::List {
        return Err(wrong_type("a list", 0, &args[0]));
    }
    let value = take(ctx.m, &mut args[1]);
    args[0].push(value).map_err(object_error)?;
    Ok(ctx.m.none())
}

fn pop<P: RuntimePolicy>(_ctx: &mut Ctx<'_, '_, P>, args: &mut [Ref<P>]) -> BuiltinResult<P> {
    if args[0].kind() != Kind::List {
        return Err(wrong_type("a list", 0, &args[0]));
    }
    args[0]
        .pop()
        .map_err(object_error)?
        .ok_or_else(|| "cannot pop from an empty list".into())
}

fn first<P: RuntimePolicy>(_ctx: &mut Ctx<'_, '_, P>, args: &mut [Ref<P>]) -> BuiltinResult<P> {
    let items = items_arg(args, 0)?;
    items
        .into_iter()
        .next()
        .ok_or_else(|| "the sequence is empty".into())
}

fn last<P: RuntimePolicy>(_ctx: &mut Ctx<'_, '_, P>, args: &mut [Ref<P>]) -> BuiltinResult<P> {
    let items = items_arg(args, 0)?;
    items
        .into_iter()
        .next_back()
        .ok_or_else(|| "the sequence is empty".into())
}

fn rest<P: RuntimePolicy>(ctx: &mut Ctx<'_, '_, P>, args: &mut [Ref<P>]) -> BuiltinResult<P> {
    let items = items_arg(args, 0)?;
    let tail = items.get(1..).unwrap_or_default().to_vec();
    Ok(if args[0].kind() == Kind::Tuple {
        ctx.m.tuple(tail)
    } else {
        ctx.m.list(tail)
    })
}

fn is_empty<P: RuntimePolicy>(ctx: &mut Ctx<'_, '_, P>, args: &mut [Ref<P>]) -> BuiltinResult<P> {
    match args[0].is_empty() {
        Some(empty) => Ok(ctx.m.bool(empty)),
        None => Err(wrong_type("a string, list, tuple or dict", 0, &args[0])),
    }
}

fn make_list<P: RuntimePolicy>(ctx: &mut Ctx<'_, '_, P>, args: &mut [Ref<P>]) -> BuiltinResult<P> {
    let n = length_arg(args, 0)?;
    Ok(ctx.m.list(vec![args[1].clone(); n]))
}

fn range<P: RuntimePolicy>(ctx: &mut Ctx<'_, '_, P>, args: &mut [Ref<P>]) -> BuiltinResult<P> {
    let (start, end) = match args.len() {
        1 => (0, int_arg(args, 0)?),
        _ => (int_arg(args, 0)?, int_arg(args, 1)?),
    };
    let step = if args.len() == 3 {
        int_arg(args, 2)?
    } else {
        1
    };
    if step == 0 {
        return Err("the step must not be zero".into());
    }
    let span = (end as i128 - start as i128).max(0) as u128;
    let backwards = (start as i128 - end as i128).max(0) as u128;
    let count = if step > 0 {
        span.div_ceil(step as u128)
    } else {
        backwards.div_ceil(step.unsigned_abs() as u128)
    };
    if count > MAX_LENGTH as u128 {
        return Err(format!("a range of {count} items is too long (at most {MAX_LENGTH})").into());
    }
    let m = ctx.m;
    Ok(m.list((0..count as i64).map(|k| m.int(start + k * step)).collect()))
}

fn reverse<P: RuntimePolicy>(ctx: &mut Ctx<'_, '_, P>, args: &mut [Ref<P>]) -> BuiltinResult<P> {
    if let Some(text) = args[0].as_str() {
        return Ok(ctx.m.str(&text.chars().rev().collect::<String>()));
    }
    let mut items = items_arg(args, 0)?;
    items.reverse();
    Ok(ctx.m.list(items))
}

fn append<P: RuntimePolicy>(ctx: &mut Ctx<'_, '_, P>, args: &mut [Ref<P>]) -> BuiltinResult<P> {
    let mut all = Vec::new();
    for i in 0..args.len() {
        all.extend(items_arg(args, i)?);
        if all.len() > MAX_LENGTH {
            return Err(format!("the result would be longer than {MAX_LENGTH} items").into());
        }
    }
    Ok(ctx.m.list(all))
}

fn list_copy<P: RuntimePolicy>(ctx: &mut Ctx<'_, '_, P>, args: &mut [Ref<P>]) -> BuiltinResult<P> {
    Ok(ctx.m.list(items_arg(args, 0)?))
}

fn list_to_tuple<P: RuntimePolicy>(
    ctx: &mut Ctx<'_, '_, P>,
    args: &mut [Ref<P>],
) -> BuiltinResult<P> {
    Ok(ctx.m.tuple(items_arg(args, 0)?))
}

fn sort<P: RuntimePolicy>(ctx: &mut Ctx<'_, '_, P>, args: &mut [Ref<P>]) -> BuiltinResult<P> {
    let mut items = items_arg(args, 0)?;
    let mut failure = None;
    items.sort_by(|a, b| match ops::compare(a, b) {
        Ok(order) => order.unwrap_or(Ordering::Equal),
        Err(message) => {
            failure.get_or_insert(message);
            Ordering::Equal
        }
    });
    match failure {
        Some(message) => Err(message.into()),
        None => Ok(ctx.m.list(items)),
    }
}

fn contains<P: RuntimePolicy>(ctx: &mut Ctx<'_, '_, P>, args: &mut [Ref<P>]) -> BuiltinResult<P> {
    let found = match args[0].kind() {
        Kind::Str => args[0]
            .as_str()
            .unwrap_or_default()
            .contains(str_arg(args, 1)?),
        Kind::Dict => args[0]
            .dict_get(key_arg(args, 1)?)
            .map_err(object_error)?
            .is_some(),
        _ => {
            let mut found = false;
            for item in items_arg(args, 0)? {
                if equal(&item, &args[1])? {
                    found = true;
                    break;
                }
            }
            found
        }
    };
    Ok(ctx.m.bool(found))
}

// ------------------------------------------------------------------ dicts

fn dict<P: RuntimePolicy>(ctx: &mut Ctx<'_, '_, P>, args: &mut [Ref<P>]) -> BuiltinResult<P> {
    if args.len() % 2 == 1 {
        return Err("expects keys and values in pairs".into());
    }
    let map = ctx.m.dict();
    for pair in args.chunks_exact_mut(2) {
        check_key_depth(&pair[0])?;
        let key = take(ctx.m, &mut pair[0]);
        let value = take(ctx.m, &mut pair[1]);
        map.dict_set(key, value).map_err(object_error)?;
    }
    Ok(map)
}

fn dict_get<P: RuntimePolicy>(ctx: &mut Ctx<'_, '_, P>, args: &mut [Ref<P>]) -> BuiltinResult<P> {
    let found = dict_arg(args, 0)?
        .dict_get(key_arg(args, 1)?)
        .map_err(object_error)?;
    Ok(match (found, args.get(2)) {
        (Some(value), _) => value,
        (None, Some(default)) => default.clone(),
        (None, None) => ctx.m.none(),
    })
}

fn dict_set<P: RuntimePolicy>(ctx: &mut Ctx<'_, '_, P>, args: &mut [Ref<P>]) -> BuiltinResult<P> {
    dict_arg(args, 0)?;
    check_key_depth(&args[1])?;
    let key = take(ctx.m, &mut args[1]);
    let value = take(ctx.m, &mut args[2]);
    args[0].dict_set(key, value).map_err(object_error)?;
    Ok(ctx.m.none())
}

fn dict_has<P: RuntimePolicy>(ctx: &mut Ctx<'_, '_, P>, args: &mut [Ref<P>]) -> BuiltinResult<P> {
    let found = dict_arg(args, 0)?
        .dict_get(key_arg(args, 1)?)
        .map_err(object_error)?;
    Ok(ctx.m.bool(found.is_some()))
}

fn dict_remove<P: RuntimePolicy>(
    ctx: &mut Ctx<'_, '_, P>,
    args: &mut [Ref<P>],
) -> BuiltinResult<P> {
    let removed = dict_arg(args, 0)?
        .dict_remove(key_arg(args, 1)?)
        .map_err(object_error)?;
    Ok(removed.unwrap_or_else(|| ctx.m.none()))
}

fn dict_keys<P: RuntimePolicy>(ctx: &mut Ctx<'_, '_, P>, args: &mut [Ref<P>]) -> BuiltinResult<P> {
    let entries = dict_arg(args, 0)?.dict_items().map_err(object_error)?;
    Ok(ctx
        .m
        .list(entries.into_iter().map(|(key, _)| key).collect()))
}

fn dict_values<P: RuntimePolicy>(
    ctx: &mut Ctx<'_, '_, P>,
    args: &mut [Ref<P>],
) -> BuiltinResult<P> {
    let entries = dict_arg(args, 0)?.dict_items().map_err(object_error)?;
    Ok(ctx
        .m
        .list(entries.into_iter().map(|(_, value)| value).collect()))
}

fn dict_items<P: RuntimePolicy>(ctx: &mut Ctx<'_, '_, P>, args: &mut [Ref<P>]) -> BuiltinResult<P> {
    let entries = dict_arg(args, 0)?.dict_items().map_err(object_error)?;
    let m = ctx.m;
    Ok(m.list(
        entries
            .into_iter()
            .map(|(key, value)| m.tuple_from_iter([key, value]))
            .collect(),
    ))
}

// ---------------------------------------------------------------- numbers

/// Folds a binary operation over the arguments, from `start` if given.
fn fold<P: RuntimePolicy>(
    m: &Mutator<P>,
    args: &[Ref<P>],
    start: Option<Ref<P>>,
    op: ops::BinaryOp<P>,
) -> BuiltinResult<P> {
    let mut items = args.iter();
    let mut acc = match start {
        Some(start) => start,
        None => items.next().cloned().unwrap_or_else(|| m.none()),
    };
    for item in items {
        acc = op(m, &acc, item)?;
    }
    Ok(acc)
}

fn add<P: RuntimePolicy>(ctx: &mut Ctx<'_, '_, P>, args: &mut [Ref<P>]) -> BuiltinResult<P> {
    fold(ctx.m, args, Some(ctx.m.int(0)), ops::add)
}

fn sub<P: RuntimePolicy>(ctx: &mut Ctx<'_, '_, P>, args: &mut [Ref<P>]) -> BuiltinResult<P> {
    if args.len() == 1 {
        return Ok(ops::neg(ctx.m, &args[0])?);
    }
    fold(ctx.m, args, None, ops::sub)
}

fn mul<P: RuntimePolicy>(ctx: &mut Ctx<'_, '_, P>, args: &mut [Ref<P>]) -> BuiltinResult<P> {
    fold(ctx.m, args, Some(ctx.m.int(1)), ops::mul)
}

fn div<P: RuntimePolicy>(ctx: &mut Ctx<'_, '_, P>, args: &mut [Ref<P>]) -> BuiltinResult<P> {
    Ok(ops::div(ctx.m, &args[0], &args[1])?)
}

fn quotient<P: RuntimePolicy>(ctx: &mut Ctx<'_, '_, P>, args: &mut [Ref<P>]) -> BuiltinResult<P> {
    Ok(ops::quotient(ctx.m, &args[0], &args[1])?)
}

fn remainder<P: RuntimePolicy>(ctx: &mut Ctx<'_, '_, P>, args: &mut [Ref<P>]) -> BuiltinResult<P> {
    Ok(ops::remainder(ctx.m, &args[0], &args[1])?)
}

fn modulo<P: RuntimePolicy>(ctx: &mut Ctx<'_, '_, P>, args: &mut [Ref<P>]) -> BuiltinResult<P> {
    Ok(ops::modulo(ctx.m, &args[0], &args[1])?)
}

/// Whether every adjacent pair of arguments is ordered as `accept` says.
fn chain<P: RuntimePolicy>(
    m: &Mutator<P>,
    args: &[Ref<P>],
    accept: fn(Ordering) -> bool,
) -> BuiltinResult<P> {
    for pair in args.windows(2) {
        if !ops::compare(&pair[0], &pair[1])?.is_some_and(accept) {
            return Ok(m.bool(false));
        }
    }
    Ok(m.bool(true))
}

fn less<P: RuntimePolicy>(ctx: &mut Ctx<'_, '_, P>, args: &mut [Ref<P>]) -> BuiltinResult<P> {
    chain(ctx.m, args, Ordering::is_lt)
}

fn less_equal<P: RuntimePolicy>(ctx: &mut Ctx<'_, '_, P>, args: &mut [Ref<P>]) -> BuiltinResult<P> {
    chain(ctx.m, args, Ordering::is_le)
}

fn greater<P: RuntimePolicy>(ctx: &mut Ctx<'_, '_, P>, args: &mut [Ref<P>]) -> BuiltinResult<P> {
    chain(ctx.m, args, Ordering::is_gt)
}

fn greater_equal<P: RuntimePolicy>(
    ctx: &mut Ctx<'_, '_, P>,
    args: &mut [Ref<P>],
) -> BuiltinResult<P> {
    chain(ctx.m, args, Ordering::is_ge)
}

fn equal_<P: RuntimePolicy>(ctx: &mut Ctx<'_, '_, P>, args: &mut [Ref<P>]) -> BuiltinResult<P> {
    for pair in args.windows(2) {
        if !equal(&pair[0], &pair[1])? {
            return Ok(ctx.m.bool(false));
        }
    }
    Ok(ctx.m.bool(true))
}

fn int<P: RuntimePolicy>(ctx: &mut Ctx<'_, '_, P>, args: &mut [Ref<P>]) -> BuiltinResult<P> {
    let value = &args[0];
    let m = ctx.m;
    match value.kind() {
        Kind::Int => Ok(value.clone()),
        Kind::Float => {
            let x = value.as_float().unwrap_or_default().trunc();
            if x.is_finite() && x >= i64::MIN as f64 && x < i64::MAX as f64 {
                Ok(m.int(x as i64))
            } else {
                Err(format!("{} does not fit in an int", format_float(x)).into())
            }
        }
        Kind::Str => {
            let text = value.as_str().unwrap_or_default();
            text.trim()
                .parse::<i64>()
                .map(|i| m.int(i))
                .map_err(|_| format!("{text:?} is not an integer").into())
        }
        _ => Err(wrong_type("a number or string", 0, value)),
    }
}

fn float<P: RuntimePolicy>(ctx: &mut Ctx<'_, '_, P>, args: &mut [Ref<P>]) -> BuiltinResult<P> {
    if let Some(text) = args[0].as_str() {
        return text
            .trim()
            .parse::<f64>()
            .map(|x| ctx.m.float(x))
            .map_err(|_| format!("{text:?} is not a number").into());
    }
    Ok(ctx.m.float(number_arg(args, 0)?))
}

fn sqrt<P: RuntimePolicy>(ctx: &mut Ctx<'_, '_, P>, args: &mut [Ref<P>]) -> BuiltinResult<P> {
    Ok(ctx.m.float(number_arg(args, 0)?.sqrt()))
}

fn abs<P: RuntimePolicy>(ctx: &mut Ctx<'_, '_, P>, args: &mut [Ref<P>]) -> BuiltinResult<P> {
    if let Some(i) = args[0].as_int() {
        return i
            .checked_abs()
            .map(|r| ctx.m.int(r))
            .ok_or_else(|| "integer overflow".into());
    }
    Ok(ctx.m.float(number_arg(args, 0)?.abs()))
}

fn extreme<P: RuntimePolicy>(args: &[Ref<P>], keep: Ordering) -> BuiltinResult<P> {
    let mut best = args[0].clone();
    for item in &args[1..] {
        if ops::compare(item, &best)? == Some(keep) {
            best = item.clone();
        }
    }
    Ok(best)
}

fn min<P: RuntimePolicy>(_ctx: &mut Ctx<'_, '_, P>, args: &mut [Ref<P>]) -> BuiltinResult<P> {
    extreme(args, Ordering::Less)
}

fn max<P: RuntimePolicy>(_ctx: &mut Ctx<'_, '_, P>, args: &mut [Ref<P>]) -> BuiltinResult<P> {
    extreme(args, Ordering::Greater)
}

fn floor<P: RuntimePolicy>(ctx: &mut Ctx<'_, '_, P>, args: &mut [Ref<P>]) -> BuiltinResult<P> {
    if args[0].kind() == Kind::Int {
        return Ok(args[0].clone());
    }
    Ok(ctx.m.float(number_arg(args, 0)?.floor()))
}

fn expt<P: RuntimePolicy>(ctx: &mut Ctx<'_, '_, P>, args: &mut [Ref<P>]) -> BuiltinResult<P> {
    if let (Some(base), Some(exponent)) = (args[0].as_int(), args[1].as_int()) {
        if exponent >= 0 {
            let exponent = u32::try_from(exponent).map_err(|_| "integer overflow")?;
            return base
                .checked_pow(exponent)
                .map(|r| ctx.m.int(r))
                .ok_or_else(|| "integer overflow".into());
        }
    }
    Ok(ctx.m.float(number_arg(args, 0)?.powf(number_arg(args, 1)?)))
}

fn bit_and<P: RuntimePolicy>(ctx: &mut Ctx<'_, '_, P>, args: &mut [Ref<P>]) -> BuiltinResult<P> {
    Ok(ctx.m.int(int_arg(args, 0)? & int_arg(args, 1)?))
}

fn bit_or<P: RuntimePolicy>(ctx: &mut Ctx<'_, '_, P>, args: &mut [Ref<P>]) -> BuiltinResult<P> {
    Ok(ctx.m.int(int_arg(args, 0)? | int_arg(args, 1)?))
}

fn bit_xor<P: RuntimePolicy>(ctx: &mut Ctx<'_, '_, P>, args: &mut [Ref<P>]) -> BuiltinResult<P> {
    Ok(ctx.m.int(int_arg(args, 0)? ^ int_arg(args, 1)?))
}

fn shift_amount<P: RuntimePolicy>(args: &[Ref<P>]) -> Result<u32, Failure> {
    match int_arg(args, 1)? {
        n @ 0..=63 => Ok(n as u32),
        n => Err(format!("shift amount {n} is out of range (0 to 63)").into()),
    }
}

fn shift_left<P: RuntimePolicy>(ctx: &mut Ctx<'_, '_, P>, args: &mut [Ref<P>]) -> BuiltinResult<P> {
    let (value, amount) = (int_arg(args, 0)?, shift_amount(args)?);
    let shifted = value << amount;
    if shifted >> amount != value {
        return Err("integer overflow".into());
    }
    Ok(ctx.m.int(shifted))
}

fn shift_right<P: RuntimePolicy>(
    ctx: &mut Ctx<'_, '_, P>,
    args: &mut [Ref<P>],
) -> BuiltinResult<P> {
    Ok(ctx.m.int(int_arg(args, 0)? >> shift_amount(args)?))
}

// ----------------------------------------------------------------- values

fn type_of<P: RuntimePolicy>(ctx: &mut Ctx<'_, '_, P>, args: &mut [Ref<P>]) -> BuiltinResult<P> {
    Ok(ctx.m.str(type_name(&args[0])))
}

macro_rules! kind_predicate {
    ($name:ident, $($kind:pat_param)|+) => {
        fn $name<P: RuntimePolicy>(ctx: &mut Ctx<'_, '_, P>, args: &mut [Ref<P>]) -> BuiltinResult<P> {
            Ok(ctx.m.bool(matches!(args[0].kind(), $($kind)|+)))
        }
    };
}

kind_predicate!(is_nil, Kind::None);
kind_predicate!(is_int, Kind::Int);
kind_predicate!(is_float, Kind::Float);
kind_predicate!(is_number, Kind::Int | Kind::Float);
kind_predicate!(is_string, Kind::Str);
kind_predicate!(is_list, Kind::List);
kind_predicate!(is_tuple, Kind::Tuple);
kind_predicate!(is_dict, Kind::Dict);

fn is_function<P: RuntimePolicy>(
    ctx: &mut Ctx<'_, '_, P>,
    args: &mut [Ref<P>],
) -> BuiltinResult<P> {
    let callable = downcast::<P, Closure<P>>(&args[0]).is_some()
        || downcast::<P, Builtin<P>>(&args[0]).is_some();
    Ok(ctx.m.bool(callable))
}

fn is_same<P: RuntimePolicy>(ctx: &mut Ctx<'_, '_, P>, args: &mut [Ref<P>]) -> BuiltinResult<P> {
    Ok(ctx.m.bool(Ref::ptr_eq(&args[0], &args[1])))
}

fn not<P: RuntimePolicy>(ctx: &mut Ctx<'_, '_, P>, args: &mut [Ref<P>]) -> BuiltinResult<P> {
    Ok(ctx.m.bool(!crate::value::is_truthy(&args[0])))
}

// ---------------------------------------------------------------- program

fn error<P: RuntimePolicy>(_ctx: &mut Ctx<'_, '_, P>, args: &mut [Ref<P>]) -> BuiltinResult<P> {
    Err(Failure::Raised(joined_display(args, " ")))
}

fn assert<P: RuntimePolicy>(ctx: &mut Ctx<'_, '_, P>, args: &mut [Ref<P>]) -> BuiltinResult<P> {
    if crate::value::is_truthy(&args[0]) {
        return Ok(ctx.m.none());
    }
    Err(Failure::Raised(match args.get(1) {
        Some(message) => format!("assertion failed: {}", display(message)),
        None => "assertion failed".into(),
    }))
}

fn argv<P: RuntimePolicy>(ctx: &mut Ctx<'_, '_, P>, _args: &mut [Ref<P>]) -> BuiltinResult<P> {
    let m = ctx.m;
    Ok(m.list(ctx.host.argv.iter().map(|arg| m.str(arg)).collect()))
}

#[cfg(test)]
mod tests {
    use super::char_range;

    #[test]
    fn char_ranges_count_characters() {
        assert_eq!(char_range("héllo", 1, 3), Some("él"));
        assert_eq!(char_range("abc", 3, 3), Some(""));
        assert_eq!(char_range("abc", 0, 4), None);
        assert_eq!(char_range("abc", 2, 1), None);
    }
}
