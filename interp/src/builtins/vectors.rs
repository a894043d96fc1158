//! Vectors: fixed-position, indexable sequences. A vector *is* a list
//! value (the runtime's `List`, as `(list …)` makes): `vector-ref` is
//! `nth` restricted to lists, and a vector prints as `[1, 2]`. The list
//! value already is a growable array with O(1) indexing, so a second type
//! would only add conversions. `vector->list` and `list->vector` convert
//! to and from pair chains.

use brisk_runtime::{Ref, RuntimePolicy};

use super::pairs::{chain_of, list_items};
use super::{length_arg, take, take_all, BuiltinResult, Ctx};
use crate::ops;

pub(super) fn vector<P: RuntimePolicy>(
    ctx: &mut Ctx<'_, '_, P>,
    args: &mut [Ref<P>],
) -> BuiltinResult<P> {
    Ok(ctx.m.list(take_all(ctx.m, args)))
}

/// `(make-vector n [fill])`: `n` items, each `fill` (0 if not given).
pub(super) fn make_vector<P: RuntimePolicy>(
    ctx: &mut Ctx<'_, '_, P>,
    args: &mut [Ref<P>],
) -> BuiltinResult<P> {
    let n = length_arg(args, 0)?;
    let fill = args.get(1).cloned().unwrap_or_else(|| ctx.m.int(0));
    Ok(ctx.m.list(vec![fill; n]))
}

pub(super) fn vector_ref<P: RuntimePolicy>(
    ctx: &mut Ctx<'_, '_, P>,
    args: &mut [Ref<P>],
) -> BuiltinResult<P> {
    Ok(ops::vector_index(ctx.m, &args[0], &args[1])?)
}

pub(super) fn vector_set<P: RuntimePolicy>(
    ctx: &mut Ctx<'_, '_, P>,
    args: &mut [Ref<P>],
) -> BuiltinResult<P> {
    let value = take(ctx.m, &mut args[2]);
    ops::vector_store(&args[0], &args[1], value)?;
    Ok(ctx.m.none())
}

pub(super) fn vector_length<P: RuntimePolicy>(
    ctx: &mut Ctx<'_, '_, P>,
    args: &mut [Ref<P>],
) -> BuiltinResult<P> {
    let n = ops::vector_arg(&args[0], 0)?.len().unwrap_or_default();
    Ok(ctx.m.int(n as i64))
}

pub(super) fn vector_to_list<P: RuntimePolicy>(
    ctx: &mut Ctx<'_, '_, P>,
    args: &mut [Ref<P>],
) -> BuiltinResult<P> {
    let items = ops::vector_arg(&args[0], 0)?.items().unwrap_or_default();
    Ok(chain_of(ctx.m, items))
}

pub(super) fn list_to_vector<P: RuntimePolicy>(
    ctx: &mut Ctx<'_, '_, P>,
    args: &mut [Ref<P>],
) -> BuiltinResult<P> {
    Ok(ctx.m.list(list_items(args, 0)?))
}
