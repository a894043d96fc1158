//! Questions about any value: its type, identity and truth.

use brisk_runtime::{Kind, Ref, RuntimePolicy};

use super::{BuiltinResult, Ctx};
use crate::value::{is_truthy, type_name, Builtin, Closure, Escape};

pub(super) fn type_of<P: RuntimePolicy>(
    ctx: &mut Ctx<'_, '_, P>,
    args: &mut [Ref<P>],
) -> BuiltinResult<P> {
    Ok(ctx.m.str(type_name(&args[0])))
}

macro_rules! kind_predicate {
    ($name:ident, $($kind:pat_param)|+) => {
        pub(super) fn $name<P: RuntimePolicy>(ctx: &mut Ctx<'_, '_, P>, args: &mut [Ref<P>]) -> BuiltinResult<P> {
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

pub(super) fn is_function<P: RuntimePolicy>(
    ctx: &mut Ctx<'_, '_, P>,
    args: &mut [Ref<P>],
) -> BuiltinResult<P> {
    let callable = args[0].downcast_native::<Closure<P>>().is_some()
        || args[0].downcast_native::<Builtin<P>>().is_some()
        || args[0].downcast_native::<Escape>().is_some();
    Ok(ctx.m.bool(callable))
}

pub(super) fn is_same<P: RuntimePolicy>(
    ctx: &mut Ctx<'_, '_, P>,
    args: &mut [Ref<P>],
) -> BuiltinResult<P> {
    Ok(ctx.m.bool(Ref::ptr_eq(&args[0], &args[1])))
}

pub(super) fn not<P: RuntimePolicy>(
    ctx: &mut Ctx<'_, '_, P>,
    args: &mut [Ref<P>],
) -> BuiltinResult<P> {
    Ok(ctx.m.bool(!is_truthy(&args[0])))
}
