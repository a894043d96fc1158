//! The program and its surroundings: raising errors, assertions, its
//! arguments, the clock, and ending the process.

use std::sync::OnceLock;
use std::time::Instant;

use brisk_runtime::{Kind, Ref, RuntimePolicy};

use super::output::joined_display;
use super::{wrong_type, BuiltinResult, Ctx, Failure};
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

/// `(current-time)`: seconds, as a float, on a monotonic clock whose zero
/// is its first use in the process; differences between two readings are
/// elapsed times, unaffected by changes to the wall clock.
pub(super) fn current_time<P: RuntimePolicy>(
    ctx: &mut Ctx<'_, '_, P>,
    _args: &mut [Ref<P>],
) -> BuiltinResult<P> {
    static ZERO: OnceLock<Instant> = OnceLock::new();
    let zero = *ZERO.get_or_init(Instant::now);
    Ok(ctx.m.float(zero.elapsed().as_secs_f64()))
}

/// `(exit [code])`: ends the process with `code` (0 to 255; `#t` is 0 and
/// `#f` 1, as in Scheme; 0 if not given), after flushing the output.
/// Nothing else runs after it: interpreters still running are not waited
/// for.
pub(super) fn exit<P: RuntimePolicy>(
    ctx: &mut Ctx<'_, '_, P>,
    args: &mut [Ref<P>],
) -> BuiltinResult<P> {
    let code = match args.first().map(|code| (code.kind(), code)) {
        None => 0,
        Some((Kind::Bool, code)) => i32::from(code.as_bool() != Some(true)),
        Some((Kind::Int, code)) => match code.as_int().unwrap_or_default() {
            code @ 0..=255 => code as i32,
            code => return Err(format!("exit code {code} is out of range (0 to 255)").into()),
        },
        Some((_, code)) => return Err(wrong_type("an int or a boolean", 0, code)),
    };
    ctx.host.flush()?;
    std::process::exit(code)
}

/// `apply` and `call/ec` reached through a variable rather than called
/// by name: called by name, each compiles to instructions of its own (see
/// `syntax`), since a builtin cannot call a language function.
pub(super) fn by_name_only<P: RuntimePolicy>(
    _ctx: &mut Ctx<'_, '_, P>,
    _args: &mut [Ref<P>],
) -> BuiltinResult<P> {
    Err("can only be called by its name, not through a variable".into())
}
