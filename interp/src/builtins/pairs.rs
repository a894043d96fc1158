//! Pairs and the lists made of them: `cons`, `car`, `cdr` and their
//! compositions, `set-car!`/`set-cdr!`, and the searches `member`, `assoc`
//! and `assq`.
//!
//! `nil` (also written `'()`) is the empty list, and `(cons x rest)` the
//! list `x` followed by `rest`. For convenience `car` and `cdr` also take a
//! list value (the kind `(list …)` and `'(…)` make): its first item, and a
//! new list of the others, so that code written for pairs walks those too
//! (each `cdr` of such a list copies it).

use brisk_runtime::{Kind, Mutator, Ref, RuntimePolicy};

use super::{take, wrong_type, BuiltinResult, Ctx, Failure};
use crate::bytecode::Unary;
use crate::ops::{half, unary, Half};
use crate::value::{equal, pair_chain, type_name, Pair};

/// A new pair.
pub(super) fn new_pair<P: RuntimePolicy>(m: &Mutator<P>, car: Ref<P>, cdr: Ref<P>) -> Ref<P> {
    m.native(Box::new(Pair::new(car, cdr)))
}

/// A pair chain (a proper list) of `items`.
pub(super) fn chain_of<P: RuntimePolicy>(m: &Mutator<P>, items: Vec<Ref<P>>) -> Ref<P> {
    chain_onto(m, items, m.none())
}

/// A pair chain of `items` whose last pair's `cdr` is `tail`.
pub(super) fn chain_onto<P: RuntimePolicy>(
    m: &Mutator<P>,
    items: Vec<Ref<P>>,
    tail: Ref<P>,
) -> Ref<P> {
    items
        .into_iter()
        .rev()
        .fold(tail, |rest, item| new_pair(m, item, rest))
}

/// The items of argument `i`, a proper list of pairs, `nil`, or a list or
/// tuple value.
pub(super) fn list_items<P: RuntimePolicy>(
    args: &[Ref<P>],
    i: usize,
) -> Result<Vec<Ref<P>>, Failure> {
    match args[i].kind() {
        Kind::List | Kind::Tuple => Ok(args[i].items().unwrap_or_default()),
        _ => pair_chain(&args[i]).ok_or_else(|| wrong_type("a proper list", i, &args[i])),
    }
}

/// `car`, `cdr`, `cadr`, …: the halves named from right to left, as in
/// Scheme (`cadr` is the `car` of the `cdr`).
macro_rules! accessor {
    ($name:ident, $($half:ident)+) => {
        pub(super) fn $name<P: RuntimePolicy>(
            ctx: &mut Ctx<'_, '_, P>,
            args: &mut [Ref<P>],
        ) -> BuiltinResult<P> {
            let mut value = args[0].clone();
            for which in [$(Half::$half),+].into_iter().rev() {
                value = half(ctx.m, &value, which)?;
            }
            Ok(value)
        }
    };
}

accessor!(car, Car);
accessor!(cdr, Cdr);
accessor!(caar, Car Car);
accessor!(cadr, Car Cdr);
accessor!(cdar, Cdr Car);
accessor!(cddr, Cdr Cdr);
accessor!(caddr, Car Cdr Cdr);
accessor!(cdddr, Cdr Cdr Cdr);

pub(super) fn cons<P: RuntimePolicy>(
    ctx: &mut Ctx<'_, '_, P>,
    args: &mut [Ref<P>],
) -> BuiltinResult<P> {
    let car = take(ctx.m, &mut args[0]);
    let cdr = take(ctx.m, &mut args[1]);
    Ok(new_pair(ctx.m, car, cdr))
}

/// The pair argument 0 of `set-car!` or `set-cdr!`, if it may change.
fn mutable_pair<P: RuntimePolicy>(args: &[Ref<P>]) -> Result<&Pair<P>, Failure> {
    let pair = args[0]
        .downcast_native::<Pair<P>>()
        .ok_or_else(|| wrong_type("a pair", 0, &args[0]))?;
    if args[0].is_frozen() {
        return Err("cannot change a frozen pair".into());
    }
    Ok(pair)
}

pub(super) fn set_car<P: RuntimePolicy>(
    ctx: &mut Ctx<'_, '_, P>,
    args: &mut [Ref<P>],
) -> BuiltinResult<P> {
    let value = take(ctx.m, &mut args[1]);
    drop(mutable_pair(args)?.replace_car(value));
    Ok(ctx.m.none())
}

pub(super) fn set_cdr<P: RuntimePolicy>(
    ctx: &mut Ctx<'_, '_, P>,
    args: &mut [Ref<P>],
) -> BuiltinResult<P> {
    let value = take(ctx.m, &mut args[1]);
    drop(mutable_pair(args)?.replace_cdr(value));
    Ok(ctx.m.none())
}

pub(super) fn is_pair<P: RuntimePolicy>(
    ctx: &mut Ctx<'_, '_, P>,
    args: &mut [Ref<P>],
) -> BuiltinResult<P> {
    Ok(unary(ctx.m, Unary::IsPair, &args[0])?)
}

/// `(null? x)`: whether `x` is the empty list: `nil`, or an empty list
/// value.
pub(super) fn is_null<P: RuntimePolicy>(
    ctx: &mut Ctx<'_, '_, P>,
    args: &mut [Ref<P>],
) -> BuiltinResult<P> {
    Ok(unary(ctx.m, Unary::IsNull, &args[0])?)
}

/// `eqv?`-style sameness for `assq`: the same object, or equal numbers,
/// strings (which stand for symbols), booleans or `nil`.
fn same_atom<P: RuntimePolicy>(a: &Ref<P>, b: &Ref<P>) -> Result<bool, Failure> {
    if Ref::ptr_eq(a, b) {
        return Ok(true);
    }
    let atom = |x: &Ref<P>| {
        matches!(
            x.kind(),
            Kind::Int | Kind::Float | Kind::Str | Kind::Bool | Kind::None
        )
    };
    Ok(atom(a) && atom(b) && equal(a, b)?)
}

/// `(member x list)`: the first tail of `list` whose first item is
/// `equal?` to `x`, or `#f`. The tail of a pair chain is the chain itself
/// from that pair on; that of a list value, a new list.
pub(super) fn member<P: RuntimePolicy>(
    ctx: &mut Ctx<'_, '_, P>,
    args: &mut [Ref<P>],
) -> BuiltinResult<P> {
    if matches!(args[1].kind(), Kind::List | Kind::Tuple) {
        let items = args[1].items().unwrap_or_default();
        for (i, item) in items.iter().enumerate() {
            if equal(item, &args[0])? {
                return Ok(ctx.m.list(items[i..].to_vec()));
            }
        }
        return Ok(ctx.m.bool(false));
    }
    list_items(args, 1)?;
    let mut at = args[1].clone();
    while let Some(pair) = at.downcast_native::<Pair<P>>() {
        if equal(&pair.car(), &args[0])? {
            return Ok(at);
        }
        let next = pair.cdr();
        at = next;
    }
    Ok(ctx.m.bool(false))
}

/// The first entry of the association list `args[1]` whose key matches
/// `args[0]`, or `#f`. An entry is a pair (its `car` is the key) or a list
/// or tuple (its first item is).
fn find_entry<P: RuntimePolicy>(
    m: &Mutator<P>,
    args: &[Ref<P>],
    matches: fn(&Ref<P>, &Ref<P>) -> Result<bool, Failure>,
) -> BuiltinResult<P> {
    for entry in list_items(args, 1)? {
        let key = match entry.downcast_native::<Pair<P>>() {
            Some(pair) => Some(pair.car()),
            None => entry
                .items()
                .ok()
                .and_then(|items| items.into_iter().next()),
        };
        let Some(key) = key else {
            return Err(format!(
                "expected entries that are pairs or non-empty lists, found {}",
                type_name(&entry)
            )
            .into());
        };
        if matches(&key, &args[0])? {
            return Ok(entry);
        }
    }
    Ok(m.bool(false))
}

/// `(assoc key alist)`: keys compared with `equal?`.
pub(super) fn assoc<P: RuntimePolicy>(
    ctx: &mut Ctx<'_, '_, P>,
    args: &mut [Ref<P>],
) -> BuiltinResult<P> {
    find_entry(ctx.m, args, |a, b| Ok(equal(a, b)?))
}

/// `(assq key alist)`: keys compared as `eq?` would compare symbols:
/// identity, or equal atoms (numbers, strings, booleans, `nil`).
pub(super) fn assq<P: RuntimePolicy>(
    ctx: &mut Ctx<'_, '_, P>,
    args: &mut [Ref<P>],
) -> BuiltinResult<P> {
    find_entry(ctx.m, args, same_atom)
}
