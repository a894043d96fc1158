//! The program itself: raising errors, assertions, its arguments.

use brisk_runtime::{Ref, RuntimePolicy};

use super::output::joined_display;
use super::{BuiltinResult, Ctx, Failure};
use crate::value::{display, is_truthy};

pub(super) fn error<P: RuntimePolicy>(
    _ctx: &mut Ctx<'_, '_, P>,
    args: &mut [Ref<P>],
) -> BuiltinResult<P> {
    Err(Failure::Raised(joined_display(args, " ")))
}

pub(super) fn assert<P: RuntimePolicy>(
    ctx: &mut Ctx<'_, '_, P>,
    args: &mut [Ref<P>],
) -> BuiltinResult<P> {
    if is_truthy(&args[0]) {
        return Ok(ctx.m.none());
    }
    Err(Failure::Raised(match args.get(1) {
        Some(message) => format!("assertion failed: {}", display(message)),
        None => "assertion failed".into(),
    }))
}

pub(super) fn argv<P: RuntimePolicy>(
    ctx: &mut Ctx<'_, '_, P>,
    _args: &mut [Ref<P>],
) -> BuiltinResult<P> {
    let m = ctx.m;
    Ok(m.list(ctx.host.argv.iter().map(|arg| m.str(arg)).collect()))
}
