//! How `brisk run` ends on Ctrl-C (SIGINT) or SIGTERM: with what the
//! program printed so far, a message, and the exit status a shell gives a
//! process that signal ended (128 + its number: 130 for Ctrl-C, 143 for
//! SIGTERM). This module belongs to the `brisk` binary, not the library:
//! an embedding program decides for itself what its signals mean.
//!
//! # Waiting instead of handling
//!
//! Ending cleanly means flushing the program's buffered output, which
//! takes a lock: nothing a signal handler may do. So no handler is
//! installed. [`on_signal`] blocks both signals in the calling thread
//! before any other thread starts, so every thread started later (the
//! runtime's, the interpreters') inherits the mask, and starts one thread
//! that takes them with `sigwait`. That thread is ordinary code: it may
//! lock, flush and exit.
//!
//! # A second signal
//!
//! The output may be stuck (a full pipe nobody reads), and then so is the
//! clean exit. Once the waiting thread has a signal it unblocks both for
//! itself, the one thread left that does not block them: a second signal
//! is delivered there, with its default action, and ends the process at
//! once.

use std::io;

/// The signals that end a run.
const SIGNALS: [libc::c_int; 2] = [libc::SIGINT, libc::SIGTERM];

/// Blocks SIGINT and SIGTERM in this thread and every thread it starts
/// afterwards, and calls `end` with the first one that arrives, on a thread
/// of its own. Call it before any other thread is started.
pub fn on_signal(end: impl FnOnce(libc::c_int) + Send + 'static) -> io::Result<()> {
    let set = signal_set()?;
    mask(libc::SIG_BLOCK, &set)?;
    let waiter = std::thread::Builder::new()
        .name("brisk-signals".into())
        .spawn(move || {
            let mut signal = 0;
            // SAFETY: `set` is an initialized signal set and `signal` a
            // live integer for the result.
            let waited = unsafe { libc::sigwait(&set, &mut signal) };
            // From here on a signal is delivered to this thread, with its
            // default action. Should unblocking fail, a second signal stays
            // pending, and the first is still handled.
            let _ = mask(libc::SIG_UNBLOCK, &set);
            if waited == 0 {
                end(signal);
            }
        });
    if let Err(error) = waiter {
        // Nobody would take the signals: leave them their default action.
        let _ = mask(libc::SIG_UNBLOCK, &set);
        return Err(error);
    }
    Ok(())
}

/// The set of [`SIGNALS`].
fn signal_set() -> io::Result<libc::sigset_t> {
    let mut set = core::mem::MaybeUninit::<libc::sigset_t>::uninit();
    // SAFETY: `sigemptyset` initializes the set it is given.
    if unsafe { libc::sigemptyset(set.as_mut_ptr()) } != 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: initialized by `sigemptyset` just above.
    let mut set = unsafe { set.assume_init() };
    for signal in SIGNALS {
        // SAFETY: `set` is an initialized signal set; `signal` is a valid
        // signal number.
        if unsafe { libc::sigaddset(&mut set, signal) } != 0 {
            return Err(io::Error::last_os_error());
        }
    }
    Ok(set)
}

/// Blocks (`SIG_BLOCK`) or unblocks (`SIG_UNBLOCK`) `set` in this thread.
fn mask(how: libc::c_int, set: &libc::sigset_t) -> io::Result<()> {
    // SAFETY: `set` is an initialized signal set; the old mask is not
    // asked for.
    match unsafe { libc::pthread_sigmask(how, set, core::ptr::null_mut()) } {
        0 => Ok(()),
        error => Err(io::Error::from_raw_os_error(error)),
    }
}
