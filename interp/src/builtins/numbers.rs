//! Numbers: arithmetic, comparison chains, conversion, and bit operations.

use core::cmp::Ordering;

use brisk_runtime::{Kind, Mutator, Ref, RuntimePolicy};

use super::{int_arg, number_arg, wrong_type, BuiltinResult, Ctx, Failure};
use crate::ops;
use crate::value::{equal, format_float};

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

pub(super) fn add<P: RuntimePolicy>(
    ctx: &mut Ctx<'_, '_, P>,
    args: &mut [Ref<P>],
) -> BuiltinResult<P> {
    fold(ctx.m, args, Some(ctx.m.int(0)), ops::add)
}

pub(super) fn sub<P: RuntimePolicy>(
    ctx: &mut Ctx<'_, '_, P>,
    args: &mut [Ref<P>],
) -> BuiltinResult<P> {
    if args.len() == 1 {
        return Ok(ops::neg(ctx.m, &args[0])?);
    }
    fold(ctx.m, args, None, ops::sub)
}

pub(super) fn mul<P: RuntimePolicy>(
    ctx: &mut Ctx<'_, '_, P>,
    args: &mut [Ref<P>],
) -> BuiltinResult<P> {
    fold(ctx.m, args, Some(ctx.m.int(1)), ops::mul)
}

pub(super) fn div<P: RuntimePolicy>(
    ctx: &mut Ctx<'_, '_, P>,
    args: &mut [Ref<P>],
) -> BuiltinResult<P> {
    Ok(ops::div(ctx.m, &args[0], &args[1])?)
}

pub(super) fn quotient<P: RuntimePolicy>(
    ctx: &mut Ctx<'_, '_, P>,
    args: &mut [Ref<P>],
) -> BuiltinResult<P> {
    Ok(ops::quotient(ctx.m, &args[0], &args[1])?)
}

pub(super) fn remainder<P: RuntimePolicy>(
    ctx: &mut Ctx<'_, '_, P>,
    args: &mut [Ref<P>],
) -> BuiltinResult<P> {
    Ok(ops::remainder(ctx.m, &args[0], &args[1])?)
}

pub(super) fn modulo<P: RuntimePolicy>(
    ctx: &mut Ctx<'_, '_, P>,
    args: &mut [Ref<P>],
) -> BuiltinResult<P> {
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

pub(super) fn less<P: RuntimePolicy>(
    ctx: &mut Ctx<'_, '_, P>,
    args: &mut [Ref<P>],
) -> BuiltinResult<P> {
    chain(ctx.m, args, Ordering::is_lt)
}

pub(super) fn less_equal<P: RuntimePolicy>(
    ctx: &mut Ctx<'_, '_, P>,
    args: &mut [Ref<P>],
) -> BuiltinResult<P> {
    chain(ctx.m, args, Ordering::is_le)
}

pub(super) fn greater<P: RuntimePolicy>(
    ctx: &mut Ctx<'_, '_, P>,
    args: &mut [Ref<P>],
) -> BuiltinResult<P> {
    chain(ctx.m, args, Ordering::is_gt)
}

pub(super) fn greater_equal<P: RuntimePolicy>(
    ctx: &mut Ctx<'_, '_, P>,
    args: &mut [Ref<P>],
) -> BuiltinResult<P> {
    chain(ctx.m, args, Ordering::is_ge)
}

pub(super) fn equal_<P: RuntimePolicy>(
    ctx: &mut Ctx<'_, '_, P>,
    args: &mut [Ref<P>],
) -> BuiltinResult<P> {
    for pair in args.windows(2) {
        if !equal(&pair[0], &pair[1])? {
            return Ok(ctx.m.bool(false));
        }
    }
    Ok(ctx.m.bool(true))
}

pub(super) fn int<P: RuntimePolicy>(
    ctx: &mut Ctx<'_, '_, P>,
    args: &mut [Ref<P>],
) -> BuiltinResult<P> {
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

pub(super) fn float<P: RuntimePolicy>(
    ctx: &mut Ctx<'_, '_, P>,
    args: &mut [Ref<P>],
) -> BuiltinResult<P> {
    if let Some(text) = args[0].as_str() {
        return text
            .trim()
            .parse::<f64>()
            .map(|x| ctx.m.float(x))
            .map_err(|_| format!("{text:?} is not a number").into());
    }
    Ok(ctx.m.float(number_arg(args, 0)?))
}

pub(super) fn sqrt<P: RuntimePolicy>(
    ctx: &mut Ctx<'_, '_, P>,
    args: &mut [Ref<P>],
) -> BuiltinResult<P> {
    Ok(ctx.m.float(number_arg(args, 0)?.sqrt()))
}

pub(super) fn abs<P: RuntimePolicy>(
    ctx: &mut Ctx<'_, '_, P>,
    args: &mut [Ref<P>],
) -> BuiltinResult<P> {
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

pub(super) fn min<P: RuntimePolicy>(
    _ctx: &mut Ctx<'_, '_, P>,
    args: &mut [Ref<P>],
) -> BuiltinResult<P> {
    extreme(args, Ordering::Less)
}

pub(super) fn max<P: RuntimePolicy>(
    _ctx: &mut Ctx<'_, '_, P>,
    args: &mut [Ref<P>],
) -> BuiltinResult<P> {
    extreme(args, Ordering::Greater)
}

/// `floor`, `ceiling`, `round` and `truncate`: an int stays itself, a
/// float becomes the float `to_integer` gives (as in Scheme, `(round 2.5)`
/// is `2.0`: use `exact` for an int).
fn to_integer<P: RuntimePolicy>(
    m: &Mutator<P>,
    args: &[Ref<P>],
    to_integer: fn(f64) -> f64,
) -> BuiltinResult<P> {
    if args[0].kind() == Kind::Int {
        return Ok(args[0].clone());
    }
    Ok(m.float(to_integer(number_arg(args, 0)?)))
}

pub(super) fn floor<P: RuntimePolicy>(
    ctx: &mut Ctx<'_, '_, P>,
    args: &mut [Ref<P>],
) -> BuiltinResult<P> {
    to_integer(ctx.m, args, f64::floor)
}

pub(super) fn ceiling<P: RuntimePolicy>(
    ctx: &mut Ctx<'_, '_, P>,
    args: &mut [Ref<P>],
) -> BuiltinResult<P> {
    to_integer(ctx.m, args, f64::ceil)
}

/// Rounds half-way cases to even, as Scheme does (`(round 0.5)` is `0.0`).
pub(super) fn round<P: RuntimePolicy>(
    ctx: &mut Ctx<'_, '_, P>,
    args: &mut [Ref<P>],
) -> BuiltinResult<P> {
    to_integer(ctx.m, args, f64::round_ties_even)
}

pub(super) fn truncate<P: RuntimePolicy>(
    ctx: &mut Ctx<'_, '_, P>,
    args: &mut [Ref<P>],
) -> BuiltinResult<P> {
    to_integer(ctx.m, args, f64::trunc)
}

/// `(exact x)`: `x` as an int. A float must hold an integer that fits:
/// with no rationals, `(exact 2.5)` has no exact value and is an error.
pub(super) fn exact<P: RuntimePolicy>(
    ctx: &mut Ctx<'_, '_, P>,
    args: &mut [Ref<P>],
) -> BuiltinResult<P> {
    if args[0].kind() == Kind::Int {
        return Ok(args[0].clone());
    }
    let x = number_arg(args, 0)?;
    if x.fract() != 0.0 || !x.is_finite() {
        return Err(format!(
            "{} has no exact integer value (round, floor or truncate it first)",
            format_float(x)
        )
        .into());
    }
    int(ctx, args)
}

/// `(inexact x)`: `x` as a float.
pub(super) fn inexact<P: RuntimePolicy>(
    ctx: &mut Ctx<'_, '_, P>,
    args: &mut [Ref<P>],
) -> BuiltinResult<P> {
    Ok(ctx.m.float(number_arg(args, 0)?))
}

pub(super) fn is_zero<P: RuntimePolicy>(
    ctx: &mut Ctx<'_, '_, P>,
    args: &mut [Ref<P>],
) -> BuiltinResult<P> {
    Ok(ctx.m.bool(number_arg(args, 0)? == 0.0))
}

pub(super) fn expt<P: RuntimePolicy>(
    ctx: &mut Ctx<'_, '_, P>,
    args: &mut [Ref<P>],
) -> BuiltinResult<P> {
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

pub(super) fn bit_and<P: RuntimePolicy>(
    ctx: &mut Ctx<'_, '_, P>,
    args: &mut [Ref<P>],
) -> BuiltinResult<P> {
    Ok(ctx.m.int(int_arg(args, 0)? & int_arg(args, 1)?))
}

pub(super) fn bit_or<P: RuntimePolicy>(
    ctx: &mut Ctx<'_, '_, P>,
    args: &mut [Ref<P>],
) -> BuiltinResult<P> {
    Ok(ctx.m.int(int_arg(args, 0)? | int_arg(args, 1)?))
}

pub(super) fn bit_xor<P: RuntimePolicy>(
    ctx: &mut Ctx<'_, '_, P>,
    args: &mut [Ref<P>],
) -> BuiltinResult<P> {
    Ok(ctx.m.int(int_arg(args, 0)? ^ int_arg(args, 1)?))
}

fn shift_amount<P: RuntimePolicy>(args: &[Ref<P>]) -> Result<u32, Failure> {
    match int_arg(args, 1)? {
        n @ 0..=63 => Ok(n as u32),
        n => Err(format!("shift amount {n} is out of range (0 to 63)").into()),
    }
}

pub(super) fn shift_left<P: RuntimePolicy>(
    ctx: &mut Ctx<'_, '_, P>,
    args: &mut [Ref<P>],
) -> BuiltinResult<P> {
    let (value, amount) = (int_arg(args, 0)?, shift_amount(args)?);
    let shifted = value << amount;
    if shifted >> amount != value {
        return Err("integer overflow".into());
    }
    Ok(ctx.m.int(shifted))
}

pub(super) fn shift_right<P: RuntimePolicy>(
    ctx: &mut Ctx<'_, '_, P>,
    args: &mut [Ref<P>],
) -> BuiltinResult<P> {
    Ok(ctx.m.int(int_arg(args, 0)? >> shift_amount(args)?))
}
