//! Input: `read-line` from standard input and `read-file`.
//!
//! Both read text (UTF-8) and are bounded like computed strings: a line or
//! file longer than [`MAX_STRING_BYTES`] is an error, found before more
//! than that is read. `read-line` waits detached from the runtime, as
//! `recv` does, so a stop-the-world is never held up by a program waiting
//! for its input.

use std::io::{BufRead, Read};

use brisk_runtime::{Ref, RuntimePolicy};

use super::{check_string_len, str_arg, BuiltinResult, Ctx, MAX_STRING_BYTES};

/// Most bytes read before a text is known to be too long.
const READ_LIMIT: u64 = MAX_STRING_BYTES as u64 + 1;

/// `(read-line)`: the next line of standard input without its line ending,
/// or `nil` at the end of the input.
pub(super) fn read_line<P: RuntimePolicy>(
    ctx: &mut Ctx<'_, '_, P>,
    _args: &mut [Ref<P>],
) -> BuiltinResult<P> {
    let mut line = String::new();
    let read = ctx
        .m
        .blocking(|| {
            std::io::stdin()
                .lock()
                .take(READ_LIMIT)
                .read_line(&mut line)
        })
        .map_err(|e| format!("cannot read standard input: {e}"))?;
    if read == 0 {
        return Ok(ctx.m.none());
    }
    check_string_len(line.len())?;
    if line.ends_with('\n') {
        line.pop();
        if line.ends_with('\r') {
            line.pop();
        }
    }
    Ok(ctx.m.str(&line))
}

/// `(read-file path)`: the whole file as a string.
pub(super) fn read_file<P: RuntimePolicy>(
    ctx: &mut Ctx<'_, '_, P>,
    args: &mut [Ref<P>],
) -> BuiltinResult<P> {
    let path = str_arg(args, 0)?;
    let cannot = |e: std::io::Error| format!("cannot read {path:?}: {e}");
    let mut bytes = Vec::new();
    std::fs::File::open(path)
        .and_then(|file| file.take(READ_LIMIT).read_to_end(&mut bytes))
        .map_err(cannot)?;
    check_string_len(bytes.len())?;
    let text = String::from_utf8(bytes).map_err(|_| format!("{path:?} is not UTF-8 text"))?;
    Ok(ctx.m.str(&text))
}
