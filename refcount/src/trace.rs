//! Tracing events that never fire into a subscriber torn down at thread
//! exit.
//!
//! brisk's libraries count and free from wherever a reference is dropped,
//! thread-local destructors included: a user's thread-local that holds
//! another thread's object queues it to its owner when the thread exits,
//! and that raises an event. A formatting subscriber writes each event
//! through thread-locals of its own, which may be destroyed by then;
//! touching one panics inside a destructor, and Rust aborts the process.
//!
//! Every event the libraries raise goes through the `__brisk_event!`
//! macro, and every span through [`span`]; both ask [`events_allowed`]
//! first. A thread's state moves once, in one direction:
//!
//! | state | meaning | events |
//! |---|---|---|
//! | `FRESH` | no event raised on this thread yet | raised |
//! | `LIVE` | the first event was raised, then a marker thread-local was made | raised |
//! | `EXITING` | the marker's destructor ran | dropped |
//!
//! The marker is made right *after* the first event, so after whatever
//! thread-locals the subscriber made to handle it. Thread-local
//! destructors run in the reverse order of registration, so the marker's
//! runs before those: from then on, nothing the libraries do during the
//! thread's teardown reaches the subscriber.
//!
//! That covers a thread whose first event is the libraries' own. A thread
//! whose first event is its user's, made after a thread-local that drops
//! counted objects, tears the subscriber down before that thread-local
//! while still `FRESH`. No check can see that from outside the
//! subscriber, so the event is raised inside `catch_unwind`: the
//! subscriber's panic is reported by the panic hook and goes no further,
//! instead of unwinding out of a destructor, which aborts. (Under
//! `panic = "abort"` nothing can catch it; such a program should not
//! install a subscriber that panics in teardown.)

use core::cell::Cell;

const FRESH: u8 = 0;
const LIVE: u8 = 1;
const EXITING: u8 = 2;

std::thread_local! {
    /// This thread's state (module docs). No destructor, so it stays
    /// readable for the whole teardown.
    static STATE: Cell<u8> = const { Cell::new(FRESH) };
    /// Made after the first event; its destructor marks the thread
    /// `EXITING`.
    static MARKER: Marker = const { Marker };
}

/// The marker thread-local's type; dropping it starts `EXITING`.
struct Marker;

impl Drop for Marker {
    fn drop(&mut self) {
        let _ = STATE.try_with(|state| state.set(EXITING));
    }
}

/// Whether an event may be raised on this thread now.
#[doc(hidden)]
#[inline]
pub fn events_allowed() -> bool {
    STATE.try_with(Cell::get).unwrap_or(EXITING) != EXITING
}

/// Raises the event `raise` raises, catching a subscriber's panic (module
/// docs), and makes the marker after the thread's first event.
#[doc(hidden)]
#[inline(never)] // events are off every hot path
pub fn raise(raise: impl FnOnce()) {
    let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(raise));
    event_raised();
}

/// Called after an event was raised: makes the marker on the first one.
fn event_raised() {
    let _ = STATE.try_with(|state| {
        if state.get() == FRESH {
            state.set(LIVE);
            let _ = MARKER.try_with(|_| ());
        }
    });
}

/// The span `make` builds, or a disabled one while this thread tears down
/// its thread-locals (module docs).
#[doc(hidden)]
#[inline]
pub fn span(make: impl FnOnce() -> tracing::Span) -> tracing::Span {
    let mut span = tracing::Span::none();
    if events_allowed() {
        raise(|| span = make());
    }
    span
}

/// Raises a `tracing` event, or enters a span, unless this thread is
/// tearing down its thread-locals (module docs). Takes the whole
/// `tracing` macro call: `__brisk_event!(tracing::trace!(...))`. Each
/// crate of the workspace imports it as `event` through its `sync` shim.
#[doc(hidden)]
#[macro_export]
macro_rules! __brisk_event {
    ($event:expr) => {
        if $crate::trace::events_allowed() {
            $crate::trace::raise(|| $event);
        }
    };
}
