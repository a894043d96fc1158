//! Dicts: building, lookup, update, and listing keys, values and items.

use brisk_runtime::{DictEntry, Ref, RuntimePolicy};

use super::{dict_arg, key_arg, object_error, take, BuiltinResult, Ctx};
use crate::value::check_key_depth;

pub(super) fn dict<P: RuntimePolicy>(
    ctx: &mut Ctx<'_, '_, P>,
    args: &mut [Ref<P>],
) -> BuiltinResult<P> {
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

pub(super) fn dict_get<P: RuntimePolicy>(
    ctx: &mut Ctx<'_, '_, P>,
    args: &mut [Ref<P>],
) -> BuiltinResult<P> {
    let found = dict_arg(args, 0)?
        .dict_get(key_arg(args, 1)?)
        .map_err(object_error)?;
    Ok(match (found, args.get(2)) {
        (Some(value), _) => value,
        (None, Some(default)) => default.clone(),
        (None, None) => ctx.m.none(),
    })
}

pub(super) fn dict_set<P: RuntimePolicy>(
    ctx: &mut Ctx<'_, '_, P>,
    args: &mut [Ref<P>],
) -> BuiltinResult<P> {
    dict_arg(args, 0)?;
    check_key_depth(&args[1])?;
    let key = take(ctx.m, &mut args[1]);
    let value = take(ctx.m, &mut args[2]);
    args[0].dict_set(key, value).map_err(object_error)?;
    Ok(ctx.m.none())
}

pub(super) fn dict_has<P: RuntimePolicy>(
    ctx: &mut Ctx<'_, '_, P>,
    args: &mut [Ref<P>],
) -> BuiltinResult<P> {
    let found = dict_arg(args, 0)?
        .dict_get(key_arg(args, 1)?)
        .map_err(object_error)?;
    Ok(ctx.m.bool(found.is_some()))
}

pub(super) fn dict_remove<P: RuntimePolicy>(
    ctx: &mut Ctx<'_, '_, P>,
    args: &mut [Ref<P>],
) -> BuiltinResult<P> {
    let removed = dict_arg(args, 0)?
        .dict_remove(key_arg(args, 1)?)
        .map_err(object_error)?;
    Ok(removed.unwrap_or_else(|| ctx.m.none()))
}

/// A list of one thing per entry of the dict `args[0]`, in order.
fn per_entry<P: RuntimePolicy>(
    ctx: &mut Ctx<'_, '_, P>,
    args: &mut [Ref<P>],
    pick: impl FnMut(DictEntry<P>) -> Ref<P>,
) -> BuiltinResult<P> {
    let entries = dict_arg(args, 0)?.dict_items().map_err(object_error)?;
    Ok(ctx.m.list(entries.into_iter().map(pick).collect()))
}

pub(super) fn dict_keys<P: RuntimePolicy>(
    ctx: &mut Ctx<'_, '_, P>,
    args: &mut [Ref<P>],
) -> BuiltinResult<P> {
    per_entry(ctx, args, |(key, _)| key)
}

pub(super) fn dict_values<P: RuntimePolicy>(
    ctx: &mut Ctx<'_, '_, P>,
    args: &mut [Ref<P>],
) -> BuiltinResult<P> {
    per_entry(ctx, args, |(_, value)| value)
}

pub(super) fn dict_items<P: RuntimePolicy>(
    ctx: &mut Ctx<'_, '_, P>,
    args: &mut [Ref<P>],
) -> BuiltinResult<P> {
    let m = ctx.m;
    per_entry(ctx, args, |(key, value)| m.tuple_from_iter([key, value]))
}
