//! Output: `print`, `display`, `write`, `str`, `repr`, `format-float`.
//!
//! `display` and `print` show strings as their text; `write` shows every
//! value as `repr` does: strings quoted and escaped, pairs and pair chains
//! as S-expressions (`(1 "a")`, `(1 . 2)`), list values as `[1, "a"]`.

use brisk_runtime::{Ref, RuntimePolicy};

use super::{bounded_str, check_string_len, int_arg, number_arg, BuiltinResult, Ctx, Failure};
use crate::value::{display, repr};

pub(super) fn joined_display<P: RuntimePolicy>(args: &[Ref<P>], separator: &str) -> String {
    args.iter()
        .map(|arg| display(arg))
        .collect::<Vec<_>>()
        .join(separator)
}

/// [`joined_display`] for a string value: stops as soon as the text
/// passes [`MAX_STRING_BYTES`](super::MAX_STRING_BYTES), so joining many
/// large strings never builds more than one string past the limit.
pub(super) fn bounded_joined_display<P: RuntimePolicy>(
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

pub(super) fn print<P: RuntimePolicy>(
    ctx: &mut Ctx<'_, '_, P>,
    args: &mut [Ref<P>],
) -> BuiltinResult<P> {
    let mut line = joined_display(args, " ");
    line.push('\n');
    ctx.host.write(&line)?;
    Ok(ctx.m.none())
}

pub(super) fn display_<P: RuntimePolicy>(
    ctx: &mut Ctx<'_, '_, P>,
    args: &mut [Ref<P>],
) -> BuiltinResult<P> {
    ctx.host.write(&joined_display(args, " "))?;
    Ok(ctx.m.none())
}

/// `(newline)`: ends the line, as `(display "\n")` does.
pub(super) fn newline<P: RuntimePolicy>(
    ctx: &mut Ctx<'_, '_, P>,
    _args: &mut [Ref<P>],
) -> BuiltinResult<P> {
    ctx.host.write("\n")?;
    Ok(ctx.m.none())
}

/// `(write v …)`: the values as `repr` shows them, separated by spaces,
/// without a newline.
pub(super) fn write<P: RuntimePolicy>(
    ctx: &mut Ctx<'_, '_, P>,
    args: &mut [Ref<P>],
) -> BuiltinResult<P> {
    let text = args
        .iter()
        .map(|arg| repr(arg))
        .collect::<Vec<_>>()
        .join(" ");
    ctx.host.write(&text)?;
    Ok(ctx.m.none())
}

pub(super) fn str_<P: RuntimePolicy>(
    ctx: &mut Ctx<'_, '_, P>,
    args: &mut [Ref<P>],
) -> BuiltinResult<P> {
    bounded_str(ctx.m, &bounded_joined_display(args, "")?)
}

pub(super) fn repr_<P: RuntimePolicy>(
    ctx: &mut Ctx<'_, '_, P>,
    args: &mut [Ref<P>],
) -> BuiltinResult<P> {
    bounded_str(ctx.m, &repr(&args[0]))
}

pub(super) fn format_float_<P: RuntimePolicy>(
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
