//! The builtin functions.
//!
//! Builtins are [`Builtin`] objects in every interpreter's globals, one
//! global per name, numbered first in the symbol table in the order of
//! [`names`]. A builtin gets the call context ([`Ctx`]) and its arguments
//! as a mutable slice of the VM's stack, so it can take an argument (leave
//! `nil` in its slot) instead of counting a new reference: `send` with
//! `'move` relies on that to hold the only reference to what it moves.
//!
//! Sizes that a program asks for (`make-list`, `make-vector`, `range`) are
//! capped at [`MAX_LENGTH`], so a typo is an error rather than an abort on
//! allocation. Strings that builtins compute (`string-append`,
//! `string-join`, `str`, `repr`, case changes) or read (`read-line`,
//! `read-file`) are capped at [`MAX_STRING_BYTES`], so a loop that keeps
//! doubling a string fails with an error instead of being killed.
//!
//! # Layout
//!
//! One file per group; this module holds what they share: the registry
//! (the `builtins!` list below, which fixes names, arities and
//! symbol-table order), the size bounds, and the argument helpers
//! (`int_arg`, `str_arg`, `items_arg`, …) that turn a wrong argument into
//! "expected … as argument n, found …". The types a builtin is called
//! with, [`Ctx`] and [`Failure`], live in a module of their own below the
//! VM, the builtins and `spawn`, which all use them.
//!
//! | group (file) | builtins |
//! |---|---|
//! | output | `print` `display` `write` `str` `repr` `format-float` |
//! | input | `read-line` `read-file` |
//! | strings | `string-length` `substring` `string-append` `string-split` `string-join` `string-upcase` `string-downcase` `string->number` `number->string` `string-ref` `string->symbol` `symbol->string` `char->integer` `integer->char` |
//! | sequences | `list` `tuple` `length` `nth` `set-nth!` `push!` `pop!` `first` `last` `rest` `empty?` `make-list` `range` `reverse` `append` `list-copy` `list->tuple` `tuple->list` `sort` `contains?` |
//! | pairs | `cons` `car` `cdr` `caar` `cadr` `cdar` `cddr` `caddr` `cdddr` `set-car!` `set-cdr!` `pair?` `null?` `member` `assoc` `assq` |
//! | vectors | `vector` `make-vector` `vector-ref` `vector-set!` `vector-length` `vector?` `vector->list` `list->vector` |
//! | dicts | `dict` `dict-get` `dict-set!` `dict-has?` `dict-remove!` `dict-keys` `dict-values` `dict-items` |
//! | numbers | `+ - * / quotient remainder modulo < <= > >= =` `int` `float` `sqrt` `abs` `min` `max` `floor` `ceiling` `round` `truncate` `exact` `inexact` `zero?` `expt` `bit-and` `bit-or` `bit-xor` `shift-left` `shift-right` |
//! | values | `type-of` `nil?` `int?` `float?` `number?` `string?` `list?` `tuple?` `dict?` `function?` `equal?` `eq?` `not` |
//! | program | `error` `assert` `argv` `current-time` `exit` `apply` `call/ec` |
//! | interpreters | `freeze` `frozen?` `channel` `send` `recv` `spawn-interpreter` `join` (see `spawn`) |

mod dicts;
mod input;
mod numbers;
mod output;
mod pairs;
mod program;
mod sequences;
mod strings;
mod values;
mod vectors;

use brisk_runtime::{Kind, Mutator, Object, Ref, RuntimePolicy};

pub use crate::call::{BuiltinResult, Ctx, Failure};
use crate::spawn;
use crate::value::{as_number, check_key_depth, wrong_type_message, Arity, Builtin};

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
    "print" => output::print, AtLeast(0);
    "display" => output::display_, AtLeast(0);
    "newline" => output::newline, Exact(0);
    "write" => output::write, AtLeast(0);
    "str" => output::str_, AtLeast(0);
    "repr" => output::repr_, Exact(1);
    "format-float" => output::format_float_, Exact(2);
    "string-length" => strings::string_length, Exact(1);
    "substring" => strings::substring, Between(2, 3);
    "string-append" => strings::string_append, AtLeast(0);
    "string-split" => strings::string_split, Exact(2);
    "string-join" => strings::string_join, Exact(2);
    "string-upcase" => strings::string_upcase, Exact(1);
    "string-downcase" => strings::string_downcase, Exact(1);
    "string->number" => strings::string_to_number, Exact(1);
    "number->string" => strings::number_to_string, Exact(1);
    "string-ref" => strings::string_ref, Exact(2);
    "string->symbol" => strings::symbol_string, Exact(1);
    "symbol->string" => strings::symbol_string, Exact(1);
    "char->integer" => strings::char_to_integer, Exact(1);
    "integer->char" => strings::integer_to_char, Exact(1);
    "list" => sequences::list, AtLeast(0);
    "tuple" => sequences::tuple, AtLeast(0);
    "length" => sequences::length, Exact(1);
    "nth" => sequences::nth, Exact(2);
    "set-nth!" => sequences::set_nth, Exact(3);
    "push!" => sequences::push, Exact(2);
    "pop!" => sequences::pop, Exact(1);
    "first" => sequences::first, Exact(1);
    "last" => sequences::last, Exact(1);
    "rest" => sequences::rest, Exact(1);
    "empty?" => sequences::is_empty, Exact(1);
    "make-list" => sequences::make_list, Exact(2);
    "range" => sequences::range, Between(1, 3);
    "reverse" => sequences::reverse, Exact(1);
    "append" => sequences::append, AtLeast(0);
    "list-copy" => sequences::list_copy, Exact(1);
    "list->tuple" => sequences::list_to_tuple, Exact(1);
    "tuple->list" => sequences::list_copy, Exact(1);
    "sort" => sequences::sort, Exact(1);
    "contains?" => sequences::contains, Exact(2);
    "cons" => pairs::cons, Exact(2);
    "car" => pairs::car, Exact(1);
    "cdr" => pairs::cdr, Exact(1);
    "caar" => pairs::caar, Exact(1);
    "cadr" => pairs::cadr, Exact(1);
    "cdar" => pairs::cdar, Exact(1);
    "cddr" => pairs::cddr, Exact(1);
    "caddr" => pairs::caddr, Exact(1);
    "cdddr" => pairs::cdddr, Exact(1);
    "set-car!" => pairs::set_car, Exact(2);
    "set-cdr!" => pairs::set_cdr, Exact(2);
    "pair?" => pairs::is_pair, Exact(1);
    "null?" => pairs::is_null, Exact(1);
    "member" => pairs::member, Exact(2);
    "assoc" => pairs::assoc, Exact(2);
    "assq" => pairs::assq, Exact(2);
    "vector" => vectors::vector, AtLeast(0);
    "make-vector" => vectors::make_vector, Between(1, 2);
    "vector-ref" => vectors::vector_ref, Exact(2);
    "vector-set!" => vectors::vector_set, Exact(3);
    "vector-length" => vectors::vector_length, Exact(1);
    "vector?" => values::is_list, Exact(1);
    "vector->list" => vectors::vector_to_list, Exact(1);
    "list->vector" => vectors::list_to_vector, Exact(1);
    "dict" => dicts::dict, AtLeast(0);
    "dict-get" => dicts::dict_get, Between(2, 3);
    "dict-set!" => dicts::dict_set, Exact(3);
    "dict-has?" => dicts::dict_has, Exact(2);
    "dict-remove!" => dicts::dict_remove, Exact(2);
    "dict-keys" => dicts::dict_keys, Exact(1);
    "dict-values" => dicts::dict_values, Exact(1);
    "dict-items" => dicts::dict_items, Exact(1);
    "+" => numbers::add, AtLeast(0);
    "-" => numbers::sub, AtLeast(1);
    "*" => numbers::mul, AtLeast(0);
    "/" => numbers::div, Exact(2);
    "quotient" => numbers::quotient, Exact(2);
    "remainder" => numbers::remainder, Exact(2);
    "modulo" => numbers::modulo, Exact(2);
    "<" => numbers::less, AtLeast(2);
    "<=" => numbers::less_equal, AtLeast(2);
    ">" => numbers::greater, AtLeast(2);
    ">=" => numbers::greater_equal, AtLeast(2);
    "=" => numbers::equal_, AtLeast(2);
    "int" => numbers::int, Exact(1);
    "float" => numbers::float, Exact(1);
    "sqrt" => numbers::sqrt, Exact(1);
    "abs" => numbers::abs, Exact(1);
    "min" => numbers::min, AtLeast(1);
    "max" => numbers::max, AtLeast(1);
    "floor" => numbers::floor, Exact(1);
    "ceiling" => numbers::ceiling, Exact(1);
    "round" => numbers::round, Exact(1);
    "truncate" => numbers::truncate, Exact(1);
    "exact" => numbers::exact, Exact(1);
    "inexact" => numbers::inexact, Exact(1);
    "zero?" => numbers::is_zero, Exact(1);
    "expt" => numbers::expt, Exact(2);
    "bit-and" => numbers::bit_and, Exact(2);
    "bit-or" => numbers::bit_or, Exact(2);
    "bit-xor" => numbers::bit_xor, Exact(2);
    "shift-left" => numbers::shift_left, Exact(2);
    "shift-right" => numbers::shift_right, Exact(2);
    "type-of" => values::type_of, Exact(1);
    "nil?" => values::is_nil, Exact(1);
    "int?" => values::is_int, Exact(1);
    "float?" => values::is_float, Exact(1);
    "number?" => values::is_number, Exact(1);
    "string?" => values::is_string, Exact(1);
    "list?" => values::is_list, Exact(1);
    "tuple?" => values::is_tuple, Exact(1);
    "dict?" => values::is_dict, Exact(1);
    "function?" => values::is_function, Exact(1);
    "equal?" => numbers::equal_, Exact(2);
    "eq?" => values::is_same, Exact(2);
    "not" => values::not, Exact(1);
    "error" => program::error, AtLeast(1);
    "assert" => program::assert, Between(1, 2);
    "argv" => program::argv, Exact(0);
    "current-time" => program::current_time, Exact(0);
    "exit" => program::exit, Between(0, 1);
    "read-line" => input::read_line, Exact(0);
    "read-file" => input::read_file, Exact(1);
    "apply" => program::by_name_only, AtLeast(2);
    "call/ec" => program::by_name_only, Exact(1);
    "freeze" => spawn::freeze, Exact(1);
    "frozen?" => spawn::is_frozen, Exact(1);
    "channel" => spawn::channel, Exact(0);
    "send" => spawn::send, Exact(3);
    "recv" => spawn::recv, Exact(1);
    "spawn-interpreter" => spawn::spawn_interpreter, Exact(1);
    "join" => spawn::join, Exact(1);
}

fn wrong_type<P: RuntimePolicy>(expected: &str, position: usize, found: &Object<P>) -> Failure {
    Failure::Message(wrong_type_message(expected, position, found))
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
