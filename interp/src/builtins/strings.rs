//! Strings: length, slicing, joining and splitting, case, characters, and
//! conversion to and from numbers and symbols. Lengths and positions count
//! characters, not bytes.
//!
//! There is no character type: a character is a string of one character,
//! as `(string-ref s i)` and `(nth s i)` return it, and `char->integer`
//! and `integer->char` convert between those and code points. Symbols are
//! strings too (`'abc` is `"abc"`), so `string->symbol` and
//! `symbol->string` only check that they were given a string.

use brisk_runtime::{Object, Ref, RuntimePolicy};

use super::output::bounded_joined_display;
use super::{
    bounded_str, check_string_len, int_arg, items_arg, number_arg, str_arg, BuiltinResult, Ctx,
};
use crate::ops;
use crate::value::display;

/// Characters `start..end` of the string `text`, or `None` if it has
/// fewer than `end`.
///
/// A string the runtime recorded as ASCII is sliced directly: its
/// characters are its bytes, so this is O(1) before the copy. In other
/// text, finding character `start` takes a walk over the bytes before it,
/// kept cheap: where the text is ASCII up to `end`, one check of those
/// bytes (a word at a time) lets the range be sliced out; otherwise
/// `Chars::nth` skips characters without decoding each one.
fn char_range<P: RuntimePolicy>(text: &Object<P>, start: usize, end: usize) -> Option<&str> {
    if start > end {
        return None;
    }
    if let Some(ascii) = text.ascii_str() {
        return ascii.get(start..end);
    }
    let text = text.as_str()?;
    if text.as_bytes().get(..end).is_some_and(<[u8]>::is_ascii) {
        return text.get(start..end);
    }
    let from_start = skip_chars(text, start)?;
    let after_end = skip_chars(from_start, end - start)?;
    Some(&from_start[..from_start.len() - after_end.len()])
}

/// `text` without its first `n` characters, or `None` if it has fewer.
fn skip_chars(text: &str, n: usize) -> Option<&str> {
    let mut chars = text.chars();
    if n > 0 {
        chars.nth(n - 1)?;
    }
    Some(chars.as_str())
}

pub(super) fn string_length<P: RuntimePolicy>(
    ctx: &mut Ctx<'_, '_, P>,
    args: &mut [Ref<P>],
) -> BuiltinResult<P> {
    str_arg(args, 0)?;
    Ok(ctx.m.int(ops::char_count(&args[0]) as i64))
}

pub(super) fn substring<P: RuntimePolicy>(
    ctx: &mut Ctx<'_, '_, P>,
    args: &mut [Ref<P>],
) -> BuiltinResult<P> {
    str_arg(args, 0)?;
    let text = &args[0];
    let start = ops::to_index(&args[1])?;
    let end = match args.get(2) {
        Some(end) => ops::to_index(end)?,
        None => ops::char_count(text),
    };
    let part = char_range(text, start, end).ok_or_else(|| {
        format!(
            "range {start}..{end} is out of bounds for a string of length {}",
            ops::char_count(text)
        )
    })?;
    Ok(ctx.m.str(part))
}

pub(super) fn string_append<P: RuntimePolicy>(
    ctx: &mut Ctx<'_, '_, P>,
    args: &mut [Ref<P>],
) -> BuiltinResult<P> {
    let mut len = 0usize;
    for i in 0..args.len() {
        len = len.saturating_add(str_arg(args, i)?.len());
    }
    check_string_len(len)?;
    let mut out = String::with_capacity(len);
    for i in 0..args.len() {
        out.push_str(str_arg(args, i)?);
    }
    Ok(ctx.m.str(&out))
}

pub(super) fn string_split<P: RuntimePolicy>(
    ctx: &mut Ctx<'_, '_, P>,
    args: &mut [Ref<P>],
) -> BuiltinResult<P> {
    let text = str_arg(args, 0)?;
    let separator = str_arg(args, 1)?;
    if separator.is_empty() {
        return Err("the separator must not be empty".into());
    }
    let m = ctx.m;
    Ok(m.list(text.split(separator).map(|part| m.str(part)).collect()))
}

pub(super) fn string_join<P: RuntimePolicy>(
    ctx: &mut Ctx<'_, '_, P>,
    args: &mut [Ref<P>],
) -> BuiltinResult<P> {
    let items = items_arg(args, 0)?;
    let separator = str_arg(args, 1)?;
    bounded_str(ctx.m, &bounded_joined_display(&items, separator)?)
}

pub(super) fn string_upcase<P: RuntimePolicy>(
    ctx: &mut Ctx<'_, '_, P>,
    args: &mut [Ref<P>],
) -> BuiltinResult<P> {
    bounded_str(ctx.m, &str_arg(args, 0)?.to_uppercase())
}

pub(super) fn string_downcase<P: RuntimePolicy>(
    ctx: &mut Ctx<'_, '_, P>,
    args: &mut [Ref<P>],
) -> BuiltinResult<P> {
    bounded_str(ctx.m, &str_arg(args, 0)?.to_lowercase())
}

/// `(string-ref s i)`: character `i` of `s`, as a one-character string.
pub(super) fn string_ref<P: RuntimePolicy>(
    ctx: &mut Ctx<'_, '_, P>,
    args: &mut [Ref<P>],
) -> BuiltinResult<P> {
    str_arg(args, 0)?;
    Ok(ops::index(ctx.m, &args[0], &args[1])?)
}

/// `string->symbol` and `symbol->string`: a symbol is its name's string.
pub(super) fn symbol_string<P: RuntimePolicy>(
    _ctx: &mut Ctx<'_, '_, P>,
    args: &mut [Ref<P>],
) -> BuiltinResult<P> {
    str_arg(args, 0)?;
    Ok(args[0].clone())
}

/// `(char->integer c)`: the code point of a one-character string.
pub(super) fn char_to_integer<P: RuntimePolicy>(
    ctx: &mut Ctx<'_, '_, P>,
    args: &mut [Ref<P>],
) -> BuiltinResult<P> {
    let text = str_arg(args, 0)?;
    let mut chars = text.chars();
    match (chars.next(), chars.next()) {
        (Some(c), None) => Ok(ctx.m.int(i64::from(u32::from(c)))),
        _ => Err(format!("expected a one-character string, found {text:?}").into()),
    }
}

/// `(integer->char n)`: the one-character string of code point `n`.
pub(super) fn integer_to_char<P: RuntimePolicy>(
    ctx: &mut Ctx<'_, '_, P>,
    args: &mut [Ref<P>],
) -> BuiltinResult<P> {
    let n = int_arg(args, 0)?;
    let c = u32::try_from(n)
        .ok()
        .and_then(char::from_u32)
        .ok_or_else(|| format!("{n} is not a Unicode scalar value"))?;
    Ok(ctx.m.str(c.encode_utf8(&mut [0; 4])))
}

pub(super) fn string_to_number<P: RuntimePolicy>(
    ctx: &mut Ctx<'_, '_, P>,
    args: &mut [Ref<P>],
) -> BuiltinResult<P> {
    let text = str_arg(args, 0)?.trim();
    let m = ctx.m;
    Ok(match (text.parse::<i64>(), text.parse::<f64>()) {
        (Ok(i), _) => m.int(i),
        (_, Ok(x)) => m.float(x),
        _ => m.none(),
    })
}

pub(super) fn number_to_string<P: RuntimePolicy>(
    ctx: &mut Ctx<'_, '_, P>,
    args: &mut [Ref<P>],
) -> BuiltinResult<P> {
    number_arg(args, 0)?;
    Ok(ctx.m.str(&display(&args[0])))
}

#[cfg(test)]
mod tests {
    use brisk_runtime::{Biased, Runtime};

    use super::char_range;

    #[test]
    fn char_ranges_count_characters_in_ascii_and_other_text() {
        let runtime = Runtime::<Biased>::new();
        let m = runtime.new_interpreter("test").attach();
        let (accented, ascii) = (m.str("héllo"), m.str("abc"));
        assert_eq!(char_range(&accented, 1, 3), Some("él"));
        assert_eq!(char_range(&accented, 4, 5), Some("o"));
        assert_eq!(char_range(&accented, 0, 6), None);
        assert_eq!(char_range(&ascii, 3, 3), Some(""));
        assert_eq!(char_range(&ascii, 0, 4), None);
        assert_eq!(char_range(&ascii, 2, 1), None);
        assert_eq!(char_range(&m.int(1), 0, 0), None);
    }
}
