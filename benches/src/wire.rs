//! The subprocess baseline of the send workload: "implement the
//! subinterpreter API with subprocesses" (python-dev, 2017), where a
//! value crosses by being serialized, written to a pipe, and
//! deserialized by the other process, as `multiprocessing` does with
//! pickle.
//!
//! A frame is a 4-byte little-endian length, then that many bytes of
//! [`postcard`] encoding one [`Value`] (varint integers and lengths, as
//! pickle's opcodes are compact). The child
//! answers each frame with the one byte [`ACK`]. The child's side is
//! [`serve_child`], run by the `brisk-send-child` binary (for the criterion
//! bench) and by `brisk-lab send-child` (for the lab). The multi-process
//! `parallel-map` (`lab::process_map`) sends its tasks and answers in the
//! same frames ([`write_frame`], [`read_frame`]).

use std::hint::black_box;
use std::io::{self, Read, Write};

use serde::{Deserialize, Serialize};

/// What the child writes back for each frame it decoded.
pub const ACK: u8 = 0x06;

/// Bytes of a frame's length prefix.
pub const PREFIX_BYTES: usize = 4;

/// A serde mirror of brisk's data types: what a pickle stream describes.
/// Shared sub-objects are written once per reference (pickle's memo
/// would write them once) and cycles cannot be written; the bench's
/// graphs are trees.
///
/// The variant order is the wire format (postcard tags variants by
/// index).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum Value {
    /// `None`.
    None,
    /// A boolean.
    Bool(bool),
    /// An integer.
    Int(i64),
    /// A float.
    Float(f64),
    /// A string.
    Str(String),
    /// A byte string.
    Bytes(Vec<u8>),
    /// A tuple.
    Tuple(Vec<Value>),
    /// A list.
    List(Vec<Value>),
    /// A dictionary's entries in order.
    Dict(Vec<(Value, Value)>),
}

impl Value {
    /// Variant indices, for serializers that write the same format
    /// without building a `Value`.
    pub const NONE: u32 = 0;
    /// See [`Value::NONE`].
    pub const BOOL: u32 = 1;
    /// See [`Value::NONE`].
    pub const INT: u32 = 2;
    /// See [`Value::NONE`].
    pub const FLOAT: u32 = 3;
    /// See [`Value::NONE`].
    pub const STR: u32 = 4;
    /// See [`Value::NONE`].
    pub const BYTES: u32 = 5;
    /// See [`Value::NONE`].
    pub const TUPLE: u32 = 6;
    /// See [`Value::NONE`].
    pub const LIST: u32 = 7;
    /// See [`Value::NONE`].
    pub const DICT: u32 = 8;

    /// How many values this one is made of, itself included.
    pub fn nodes(&self) -> usize {
        1 + match self {
            Value::Tuple(items) | Value::List(items) => items.iter().map(Value::nodes).sum(),
            Value::Dict(entries) => entries.iter().map(|(k, v)| k.nodes() + v.nodes()).sum(),
            _ => 0,
        }
    }
}

/// Appends one frame holding `value`, serialized by `serialize` (for
/// example `|w| postcard::to_io(&value, w).map(drop)`), to `buf`.
pub fn write_frame<E>(
    buf: &mut Vec<u8>,
    serialize: impl FnOnce(&mut Vec<u8>) -> Result<(), E>,
) -> Result<(), E> {
    let start = buf.len();
    buf.extend_from_slice(&[0; PREFIX_BYTES]);
    serialize(buf)?;
    let len = u32::try_from(buf.len() - start - PREFIX_BYTES).expect("a frame under 4 GiB");
    buf[start..start + PREFIX_BYTES].copy_from_slice(&len.to_le_bytes());
    Ok(())
}

/// Reads one frame from `input` into `frame` (its bytes, without the
/// prefix). Returns `false`, with `frame` untouched, if `input` was at its
/// end before the frame began; a frame cut short is an error.
pub fn read_frame(input: &mut impl Read, frame: &mut Vec<u8>) -> io::Result<bool> {
    let mut prefix = [0; PREFIX_BYTES];
    match input.read_exact(&mut prefix) {
        Ok(()) => {}
        Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => return Ok(false),
        Err(e) => return Err(e),
    }
    frame.resize(u32::from_le_bytes(prefix) as usize, 0);
    input.read_exact(frame)?;
    Ok(true)
}

/// The child's side of the pipe: reads frames from `input` until it closes,
/// decodes each into a [`Value`], drops it, and answers each with one
/// [`ACK`] byte on `output`. Returns an error on a frame it cannot decode,
/// so the caller exits non-zero and the parent's read of the acks fails.
pub fn serve_child(
    mut input: impl Read,
    mut output: impl Write,
) -> Result<(), Box<dyn std::error::Error>> {
    let mut frame = Vec::new();
    while read_frame(&mut input, &mut frame)? {
        let value: Value = postcard::from_bytes(&frame)?;
        drop(black_box(value));
        output.write_all(&[ACK])?;
        output.flush()?;
    }
    Ok(())
}
