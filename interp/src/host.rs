//! What a VM gets from the program that embeds it: the runtime, where
//! output goes, the command-line arguments, limits, and the interpreters it
//! has spawned.
//!
//! Each interpreter thread has its own [`Host`]; a spawned interpreter's is
//! made from its parent's ([`Host::child`]), sharing the runtime, the
//! output and the symbol table.

use std::collections::HashMap;
use std::io::Write;
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;

use brisk_runtime::{Runtime, RuntimePolicy};

use crate::bytecode::SymbolTable;
use crate::error::Diagnostic;
use crate::running::Running;

/// Where `print` writes. Shared by every interpreter of a run; one `print`
/// call writes its whole line under the lock.
pub type Output = Arc<Mutex<dyn Write + Send>>;

/// Limits a run imposes (the fuzz tests bound every program they run).
#[derive(Copy, Clone, Debug)]
pub struct Limits {
    /// Back-edges and calls an interpreter may execute before it stops
    /// with "step limit exceeded"; `None` for no limit.
    pub steps: Option<u64>,
    /// Whether `spawn-interpreter` is allowed. Without it the program is
    /// the only interpreter, so `recv` on an empty channel is an error
    /// instead of a wait that could never end.
    pub allow_spawn: bool,
    /// Deepest call nesting before "recursion limit exceeded" (`brisk run
    /// --max-depth`); [`DEFAULT_MAX_DEPTH`] by default.
    pub max_depth: usize,
}

/// The default [`Limits::max_depth`]: a million frames.
///
/// A language call costs no Rust stack (the VM keeps its frames in vectors,
/// see [`vm`](crate::vm)), so the bound is about memory, not the thread's
/// stack: a frame is a few words of bookkeeping plus its slots, and the
/// vectors grow by doubling, so a runaway recursion of a one-argument
/// function stops at about 120 MB (peak resident size, release build).
/// Deep but finite recursions (Ackermann's `(ack 3 12)` nests some 32,000
/// calls; a recursive walk of a 100,000-item list, 100,000) fit.
pub const DEFAULT_MAX_DEPTH: usize = 1_000_000;

impl Default for Limits {
    fn default() -> Self {
        Limits {
            steps: None,
            allow_spawn: true,
            max_depth: DEFAULT_MAX_DEPTH,
        }
    }
}

/// A spawned interpreter's thread, until someone joins it.
pub struct ChildThread {
    /// The interpreter's id (for messages).
    pub id: u32,
    /// Taken by the first `join`; the parent joins what is left when it
    /// finishes.
    pub thread: parking_lot::Mutex<Option<JoinHandle<Result<(), Diagnostic>>>>,
}

/// The id of a run's main interpreter: the first its runtime starts.
pub const MAIN_INTERPRETER_ID: u32 = 1;

/// One interpreter thread's environment.
pub struct Host<P: RuntimePolicy> {
    /// The runtime, for starting interpreters.
    pub runtime: Arc<Runtime<P>>,
    /// Global names (for messages).
    pub symbols: Arc<SymbolTable>,
    /// Where `print` writes.
    pub output: Output,
    /// `(argv)`.
    pub argv: Arc<[String]>,
    /// Limits of this run.
    pub limits: Limits,
    /// This interpreter's id.
    pub interpreter_id: u32,
    /// Globals of the parent that could not be copied into this
    /// interpreter, and why (used to explain an undefined variable).
    pub not_copied: HashMap<u32, String>,
    /// Interpreters spawned here.
    pub children: Vec<Arc<ChildThread>>,
    /// Which interpreters of the run are running or have failed (shared by
    /// the whole run; `recv` consults it).
    pub running: Arc<Running<P>>,
}

impl<P: RuntimePolicy> Host<P> {
    /// The environment of a main interpreter.
    pub fn new(
        runtime: Arc<Runtime<P>>,
        symbols: Arc<SymbolTable>,
        output: Output,
        argv: Vec<String>,
        limits: Limits,
    ) -> Self {
        Host {
            runtime,
            symbols,
            output,
            argv: argv.into(),
            limits,
            interpreter_id: MAIN_INTERPRETER_ID,
            not_copied: HashMap::new(),
            children: Vec::new(),
            running: Arc::new(Running::new(MAIN_INTERPRETER_ID)),
        }
    }

    /// The environment of an interpreter spawned from this one.
    pub fn child(&self, interpreter_id: u32) -> Self {
        Host {
            runtime: Arc::clone(&self.runtime),
            symbols: Arc::clone(&self.symbols),
            output: Arc::clone(&self.output),
            argv: Arc::clone(&self.argv),
            limits: self.limits,
            interpreter_id,
            not_copied: HashMap::new(),
            children: Vec::new(),
            running: Arc::clone(&self.running),
        }
    }

    /// Writes out what the output has buffered.
    pub fn flush(&self) -> Result<(), String> {
        let mut output = self.output.lock().unwrap_or_else(|e| e.into_inner());
        output
            .flush()
            .map_err(|e| format!("cannot write output: {e}"))
    }

    /// Writes `text` to the output.
    pub fn write(&self, text: &str) -> Result<(), String> {
        let mut output = self.output.lock().unwrap_or_else(|e| e.into_inner());
        output
            .write_all(text.as_bytes())
            .map_err(|e| format!("cannot write output: {e}"))
    }
}
