//! Lists and tuples: building, indexing, growing, slicing, ordering.

use core::cmp::Ordering;

use brisk_runtime::{Kind, Ref, RuntimePolicy};

use super::pairs::{chain_onto, list_items};
use super::{
    int_arg, items_arg, key_arg, length_arg, object_error, str_arg, take, take_all, wrong_type,
    BuiltinResult, Ctx, MAX_LENGTH,
};
use crate::bytecode::Store;
use crate::ops;
use crate::value::{equal, walk_chain, Pair};

pub(super) fn list<P: RuntimePolicy>(
    ctx: &mut Ctx<'_, '_, P>,
    args: &mut [Ref<P>],
) -> BuiltinResult<P> {
    Ok(ctx.m.list(take_all(ctx.m, args)))
}

pub(super) fn tuple<P: RuntimePolicy>(
    ctx: &mut Ctx<'_, '_, P>,
    args: &mut [Ref<P>],
) -> BuiltinResult<P> {
    let m = ctx.m;
    Ok(m.tuple_from_iter(args.iter_mut().map(|arg| take(m, arg))))
}

pub(super) fn length<P: RuntimePolicy>(
    ctx: &mut Ctx<'_, '_, P>,
    args: &mut [Ref<P>],
) -> BuiltinResult<P> {
    let value = &args[0];
    let n = match value.kind() {
        Kind::Str => ops::char_count(value),
        Kind::List | Kind::Tuple | Kind::Dict | Kind::Bytes => value.len().unwrap_or_default(),
        // Counted without taking a reference to any item.
        _ => match walk_chain(value, |_| {}) {
            Some(n) => n,
            None => {
                return Err(wrong_type(
                    "a string, list, tuple, dict or proper list of pairs",
                    0,
                    value,
                ))
            }
        },
    };
    Ok(ctx.m.int(n as i64))
}

pub(super) fn nth<P: RuntimePolicy>(
    ctx: &mut Ctx<'_, '_, P>,
    args: &mut [Ref<P>],
) -> BuiltinResult<P> {
    Ok(ops::index(ctx.m, &args[0], &args[1])?)
}

pub(super) fn set_nth<P: RuntimePolicy>(
    ctx: &mut Ctx<'_, '_, P>,
    args: &mut [Ref<P>],
) -> BuiltinResult<P> {
    let value = take(ctx.m, &mut args[2]);
    ops::store_index(Store::Nth, &args[0], &args[1], value)?;
    Ok(ctx.m.none())
}

pub(super) fn push<P: RuntimePolicy>(
    ctx: &mut Ctx<'_, '_, P>,
    args: &mut [Ref<P>],
) -> BuiltinResult<P> {
    if args[0].kind() != Kind::List {
        return Err(wrong_type("a list", 0, &args[0]));
    }
    let value = take(ctx.m, &mut args[1]);
    args[0].push(value).map_err(object_error)?;
    Ok(ctx.m.none())
}

pub(super) fn pop<P: RuntimePolicy>(
    _ctx: &mut Ctx<'_, '_, P>,
    args: &mut [Ref<P>],
) -> BuiltinResult<P> {
    if args[0].kind() != Kind::List {
        return Err(wrong_type("a list", 0, &args[0]));
    }
    args[0]
        .pop()
        .map_err(object_error)?
        .ok_or_else(|| "cannot pop from an empty list".into())
}

/// The first (or, with `last`, the final) item of the list or tuple
/// `args[0]`, read in place rather than through a copy of every item.
fn end_item<P: RuntimePolicy>(args: &[Ref<P>], last: bool) -> BuiltinResult<P> {
    let seq = &args[0];
    if !matches!(seq.kind(), Kind::List | Kind::Tuple) {
        return Err(wrong_type("a list or tuple", 0, seq));
    }
    match seq.len().unwrap_or_default() {
        0 => Err("the sequence is empty".into()),
        n => seq
            .get_item(if last { n - 1 } else { 0 })
            .map_err(object_error),
    }
}

pub(super) fn first<P: RuntimePolicy>(
    _ctx: &mut Ctx<'_, '_, P>,
    args: &mut [Ref<P>],
) -> BuiltinResult<P> {
    end_item(args, false)
}

pub(super) fn last<P: RuntimePolicy>(
    _ctx: &mut Ctx<'_, '_, P>,
    args: &mut [Ref<P>],
) -> BuiltinResult<P> {
    end_item(args, true)
}

pub(super) fn rest<P: RuntimePolicy>(
    ctx: &mut Ctx<'_, '_, P>,
    args: &mut [Ref<P>],
) -> BuiltinResult<P> {
    let items = items_arg(args, 0)?;
    let tail = items.get(1..).unwrap_or_default().to_vec();
    Ok(if args[0].kind() == Kind::Tuple {
        ctx.m.tuple(tail)
    } else {
        ctx.m.list(tail)
    })
}

pub(super) fn is_empty<P: RuntimePolicy>(
    ctx: &mut Ctx<'_, '_, P>,
    args: &mut [Ref<P>],
) -> BuiltinResult<P> {
    match args[0].is_empty() {
        Some(empty) => Ok(ctx.m.bool(empty)),
        None => Err(wrong_type("a string, list, tuple or dict", 0, &args[0])),
    }
}

pub(super) fn make_list<P: RuntimePolicy>(
    ctx: &mut Ctx<'_, '_, P>,
    args: &mut [Ref<P>],
) -> BuiltinResult<P> {
    let n = length_arg(args, 0)?;
    Ok(ctx.m.list(vec![args[1].clone(); n]))
}

pub(super) fn range<P: RuntimePolicy>(
    ctx: &mut Ctx<'_, '_, P>,
    args: &mut [Ref<P>],
) -> BuiltinResult<P> {
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

pub(super) fn reverse<P: RuntimePolicy>(
    ctx: &mut Ctx<'_, '_, P>,
    args: &mut [Ref<P>],
) -> BuiltinResult<P> {
    if let Some(text) = args[0].as_str() {
        return Ok(ctx.m.str(&text.chars().rev().collect::<String>()));
    }
    let mut items = items_arg(args, 0)?;
    items.reverse();
    Ok(ctx.m.list(items))
}

/// `(append a b …)`: one list of every item. When any argument is a chain
/// of pairs or `nil` (the empty chain) the result is a chain of pairs that
/// copies every argument but the last and ends in the last itself, shared,
/// as Scheme's `append` does; when all are list values or tuples, a new
/// list value.
pub(super) fn append<P: RuntimePolicy>(
    ctx: &mut Ctx<'_, '_, P>,
    args: &mut [Ref<P>],
) -> BuiltinResult<P> {
    let chains = args
        .iter()
        .any(|arg| arg.kind() == Kind::None || arg.downcast_native::<Pair<P>>().is_some());
    let copied = if chains {
        args.len().saturating_sub(1)
    } else {
        args.len()
    };
    let mut all = Vec::new();
    for i in 0..copied {
        all.extend(if chains {
            list_items(args, i)?
        } else {
            items_arg(args, i)?
        });
        if all.len() > MAX_LENGTH {
            return Err(format!("the result would be longer than {MAX_LENGTH} items").into());
        }
    }
    Ok(match args.last() {
        Some(last) if chains => chain_onto(ctx.m, all, last.clone()),
        _ => ctx.m.list(all),
    })
}

pub(super) fn list_copy<P: RuntimePolicy>(
    ctx: &mut Ctx<'_, '_, P>,
    args: &mut [Ref<P>],
) -> BuiltinResult<P> {
    Ok(ctx.m.list(items_arg(args, 0)?))
}

pub(super) fn list_to_tuple<P: RuntimePolicy>(
    ctx: &mut Ctx<'_, '_, P>,
    args: &mut [Ref<P>],
) -> BuiltinResult<P> {
    Ok(ctx.m.tuple(items_arg(args, 0)?))
}

pub(super) fn sort<P: RuntimePolicy>(
    ctx: &mut Ctx<'_, '_, P>,
    args: &mut [Ref<P>],
) -> BuiltinResult<P> {
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

pub(super) fn contains<P: RuntimePolicy>(
    ctx: &mut Ctx<'_, '_, P>,
    args: &mut [Ref<P>],
) -> BuiltinResult<P> {
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
