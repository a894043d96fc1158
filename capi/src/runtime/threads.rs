//! Main functions on interpreter threads.
//!
//! [`brisk_interp_spawn`] starts a thread, attaches it to the interpreter
//! (a Rust `Mutator`), and calls the C main function with a pointer to a
//! [`BriskMutator`] that holds the attachment. Every value call takes that
//! pointer first: it proves the call runs on a thread attached to a
//! runtime, and it says which policy the call's handles must have. When
//! the main function returns, the values left in the thread's table are
//! released, with the thread still attached, and then it detaches.
//! [`brisk_thread_join`] waits for the thread and returns what the main
//! function returned.

use core::ffi::c_void;
use std::thread::{JoinHandle, ThreadId};

use brisk_runtime::{Interpreter, Mutator};

use super::dispatch::{dispatch, ByPolicy, CPolicy, Family};
use super::runtimes::{BriskInterp, INTERPS};
use super::{values, Out};
use crate::error::{guard, BriskStatus, Error, Result};
use crate::handles::Table;

/// A thread started by `brisk_interp_spawn`, until it is joined.
#[repr(C)]
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct BriskThread {
    /// The handle's id; 0 is never issued.
    pub id: u64,
}

/// The calling thread's attachment to an interpreter, passed to a main
/// function. Opaque; valid only on the thread the main function runs on,
/// until it returns.
pub struct BriskMutator {
    mutator: ByPolicy<Mutators>,
    thread: ThreadId,
}

/// What a [`BriskMutator`] holds.
pub(crate) struct Mutators;

impl Family for Mutators {
    type Of<P: CPolicy> = Mutator<P>;
    const WHAT: &'static str = "mutator";
}

/// A main function: runs on an interpreter thread with `m`, that thread's
/// mutator, and the `arg` given to `brisk_interp_spawn`. What it returns
/// is what `brisk_thread_join` reports. Null is refused where one is
/// passed.
pub type BriskMainFn = Option<unsafe extern "C" fn(m: *mut BriskMutator, arg: *mut c_void) -> i32>;

static THREADS: Table<JoinHandle<i32>> = Table::new("thread");

/// The mutator `m` points to, checked: not null, and the calling thread's.
///
/// # Safety
///
/// `m` is null or the pointer a running main function was given.
unsafe fn mutator<'a>(m: *mut BriskMutator, function: &str) -> Result<&'a ByPolicy<Mutators>> {
    // SAFETY: null or valid while its main function runs, by the contract;
    // only `thread`, which never changes, is read before the check below.
    let m = unsafe { m.as_ref() }.ok_or_else(|| Error::null(function, "m"))?;
    if m.thread != std::thread::current().id() {
        return Err(Error::new(
            BriskStatus::NotAttached,
            format!("{function}: `m` is the mutator of another thread"),
        ));
    }
    Ok(&m.mutator)
}

/// Runs the body of `function`, a call that takes a mutator: checks `m`,
/// then runs `body` with the mutator (whose arm `body` dispatches on).
///
/// # Safety
///
/// As [`mutator`].
pub(crate) unsafe fn with_mutator(
    m: *mut BriskMutator,
    function: &str,
    body: impl FnOnce(&ByPolicy<Mutators>) -> Result,
) -> BriskStatus {
    guard(|| {
        // SAFETY: forwarded contract.
        let m = unsafe { mutator(m, function) }?;
        body(m)
    })
}

/// As [`with_mutator`], for a call with one out-parameter, `out`: checks
/// it, and writes what `body` returns to it.
///
/// # Safety
///
/// As [`mutator`]; `out` is null or writable.
pub(crate) unsafe fn with_mutator_out<T>(
    m: *mut BriskMutator,
    out: *mut T,
    function: &str,
    body: impl FnOnce(&ByPolicy<Mutators>) -> Result<T>,
) -> BriskStatus {
    let write_out = |m: &ByPolicy<Mutators>| {
        // SAFETY: null or writable, by the contract.
        let out = unsafe { Out::new(out, function, "out") }?;
        out.write(body(m)?);
        Ok(())
    };
    // SAFETY: forwarded contract.
    unsafe { with_mutator(m, function, write_out) }
}

/// The `arg` of a main function, carried to its thread. brisk never reads
/// it: what it points to is the caller's to synchronise.
struct Arg(*mut c_void);

// SAFETY: only handed to the main function, on the new thread; the caller
// of `brisk_interp_spawn` promises that is fine (the header's contract).
unsafe impl Send for Arg {}

impl Arg {
    /// The pointer. A method, so that the thread's closure captures the
    /// whole `Arg` (which is `Send`), not its field.
    fn get(self) -> *mut c_void {
        self.0
    }
}

/// Releases the thread's values when a main function returns, before the
/// mutator detaches (a local declared after it, so dropped first).
struct ReleaseValues;

impl Drop for ReleaseValues {
    fn drop(&mut self) {
        values::release_all();
    }
}

/// Runs `main(m, arg)` on a new thread attached to the interpreter
/// `interp`, and writes the thread's handle to `out`. The thread is named
/// `brisk:<interpreter name>`.
///
/// `arg` is passed through untouched; what it points to must stay valid,
/// and be safe to use from the new thread, until `main` is done with it.
///
/// Errors: `main` or `out` null; the interpreter handle is not live; the
/// thread could not be started (`BRISK_STATUS_THREAD_FAILED`).
///
/// # Safety
///
/// `out` is null or writable; `main` is null or a function that may be
/// called on another thread with `arg`.
#[no_mangle]
pub unsafe extern "C" fn brisk_interp_spawn(
    interp: BriskInterp,
    main: BriskMainFn,
    arg: *mut c_void,
    out: *mut BriskThread,
) -> BriskStatus {
    guard(|| {
        // SAFETY: null or writable, by the contract.
        let out = unsafe { Out::new(out, "brisk_interp_spawn", "out") }?;
        let main = main.ok_or_else(|| Error::null("brisk_interp_spawn", "main"))?;
        let interp = INTERPS.get(interp.id)?;
        let thread = dispatch!(interp, interp => spawn(interp, main, Arg(arg)))?;
        out.write(BriskThread {
            id: THREADS.insert(thread),
        });
        Ok(())
    })
}

fn spawn<P: CPolicy>(
    interp: Interpreter<P>,
    main: unsafe extern "C" fn(*mut BriskMutator, *mut c_void) -> i32,
    arg: Arg,
) -> Result<JoinHandle<i32>> {
    std::thread::Builder::new()
        .name(format!("brisk:{}", interp.name()))
        .spawn(move || {
            let mut m = BriskMutator {
                mutator: P::wrap(interp.attach()),
                thread: std::thread::current().id(),
            };
            let _release = ReleaseValues;
            // SAFETY: the caller of `brisk_interp_spawn` gave `main` and
            // `arg` for exactly this call; `m` outlives it.
            unsafe { main(&mut m, arg.get()) }
        })
        .map_err(|e| {
            Error::new(
                BriskStatus::ThreadFailed,
                format!("brisk_interp_spawn: the thread could not be started: {e}"),
            )
        })
}

/// Waits for a thread started by `brisk_interp_spawn` to end and writes
/// its main function's result to `result`. The handle is dead afterwards
/// (also when the thread failed).
///
/// Joining from a main function blocks that thread without a safepoint:
/// a stop of the world (a freeze, a collection) waits until the joined
/// thread ends, and never ends if the joined thread waits for it.
///
/// Errors: `result` null; the handle is not live; the thread panicked
/// (`BRISK_STATUS_THREAD_FAILED`).
///
/// # Safety
///
/// `result` is null or writable.
#[no_mangle]
pub unsafe extern "C" fn brisk_thread_join(thread: BriskThread, result: *mut i32) -> BriskStatus {
    guard(|| {
        // SAFETY: null or writable, by the contract.
        let out = unsafe { Out::new(result, "brisk_thread_join", "result") }?;
        let value = THREADS.remove(thread.id)?.join().map_err(|_| {
            Error::new(
                BriskStatus::ThreadFailed,
                "brisk_thread_join: the thread panicked",
            )
        })?;
        out.write(value);
        Ok(())
    })
}

/// A safepoint of the calling main function's mutator: cheap, except
/// every so often or when another thread asked, when it merges what other
/// threads queued to this one, flushes deferred counts, and parks while
/// another thread stops the world. Call it in long loops.
///
/// Errors: `m` null (`BRISK_STATUS_NULL_POINTER`) or another thread's
/// (`BRISK_STATUS_NOT_ATTACHED`).
///
/// # Safety
///
/// `m` is null or the pointer a running main function was given.
#[no_mangle]
pub unsafe extern "C" fn brisk_mutator_safepoint(m: *mut BriskMutator) -> BriskStatus {
    // SAFETY: forwarded contract.
    unsafe {
        with_mutator(m, "brisk_mutator_safepoint", |m| {
            dispatch!(m, m => m.safepoint());
            Ok(())
        })
    }
}
