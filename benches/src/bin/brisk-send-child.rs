//! The child process of the `send` bench's subprocess baseline.
//!
//! Reads frames (see `brisk_bench::wire`) from standard input until it
//! closes, decodes each into a `Value`, drops it, and answers each with one
//! [`ACK`] byte on standard output. Exits non-zero on a frame it cannot
//! decode, so the bench's read of the acks fails.

use std::hint::black_box;
use std::io::{self, Read, Write};
use std::process::ExitCode;

use brisk_bench::wire::{Value, ACK, PREFIX_BYTES};

fn main() -> ExitCode {
    match serve() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("brisk-send-child: {e}");
            ExitCode::FAILURE
        }
    }
}

fn serve() -> Result<(), Box<dyn std::error::Error>> {
    let mut input = io::stdin().lock();
    let mut output = io::stdout().lock();
    let mut frame = Vec::new();
    loop {
        let mut prefix = [0; PREFIX_BYTES];
        match input.read_exact(&mut prefix) {
            Ok(()) => {}
            Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => return Ok(()),
            Err(e) => return Err(e.into()),
        }
        frame.resize(u32::from_le_bytes(prefix) as usize, 0);
        input.read_exact(&mut frame)?;
        let value: Value = bincode::deserialize(&frame)?;
        drop(black_box(value));
        output.write_all(&[ACK])?;
        output.flush()?;
    }
}
