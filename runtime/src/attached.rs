//! Which runtimes the calling thread is attached to, by runtime key (the
//! address of the runtime's shared state): those whose global lock it holds,
//! and those it runs a mutator of.
//!
//! A mutator records itself here as it attaches, detaches and enters or
//! leaves [`Mutator::blocking`](crate::Mutator::blocking); the runtime reads
//! the lists so that a collection started on a mutator's thread does not
//! wait for that mutator to park, and so that code run under the global
//! lock on a thread that holds it already does not take the non-reentrant
//! lock a second time.

use core::cell::RefCell;

std::thread_local! {
    /// Runtimes (by key) whose global lock this thread holds.
    static GIL_HELD: RefCell<Vec<usize>> = const { RefCell::new(Vec::new()) };
    /// Runtimes (by key) this thread runs a mutator of, once per mutator
    /// that is attached and not inside `blocking`: the mutators a stop of
    /// the world requested from this thread must not wait for.
    static RUNNING: RefCell<Vec<usize>> = const { RefCell::new(Vec::new()) };
}

/// One of this thread's lists of runtime keys (`GIL_HELD`, `RUNNING`).
type KeyList = std::thread::LocalKey<RefCell<Vec<usize>>>;

/// Whether `list` holds `key` (false once the thread-local is gone).
fn lists(list: &'static KeyList, key: usize) -> bool {
    list.try_with(|keys| keys.borrow().contains(&key))
        .unwrap_or(false)
}

/// Adds `key` to `list`, or removes one entry of it.
fn set_listed(list: &'static KeyList, key: usize, listed: bool) {
    let _ = list.try_with(|keys| {
        let mut keys = keys.borrow_mut();
        if listed {
            keys.push(key);
        } else if let Some(i) = keys.iter().position(|&k| k == key) {
            keys.swap_remove(i);
        }
    });
}

/// Whether the calling thread runs a mutator of runtime `key` (attached,
/// not inside `blocking`).
pub(crate) fn runs_mutator_of(key: usize) -> bool {
    lists(&RUNNING, key)
}

/// Records that the calling thread starts or stops running a mutator of
/// runtime `key`.
pub(crate) fn set_running(key: usize, running: bool) {
    set_listed(&RUNNING, key, running);
}

/// Whether the calling thread holds the global lock of runtime `key`.
pub(crate) fn holds_gil(key: usize) -> bool {
    lists(&GIL_HELD, key)
}

/// Records whether the calling thread holds the global lock of runtime `key`.
pub(crate) fn set_gil_held(key: usize, held: bool) {
    set_listed(&GIL_HELD, key, held);
}
