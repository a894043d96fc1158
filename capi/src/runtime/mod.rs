//! The runtime's interpreters, threads, channels and values, for C.
//!
//! Everything the runtime crate hands out is a Rust value with a lifetime
//! C cannot see, so C holds handles instead: a 64-bit id in a one-field
//! struct per kind ([`BriskRuntime`], [`BriskInterp`], [`BriskSender`],
//! [`BriskReceiver`], [`BriskThread`], [`BriskValue`]). A handle that was
//! freed, consumed, or never issued is reported as
//! `BRISK_STATUS_INVALID_HANDLE`, never read.
//!
//! # The shape of a program
//!
//! ```c
//! BriskRuntime rt;   brisk_runtime_new(BRISK_POLICY_BIASED, &rt);
//! BriskInterp a;     brisk_interp_new(rt, "a", &a);
//! BriskSender tx;    BriskReceiver rx;  brisk_channel_new(rt, &tx, &rx);
//! BriskThread t;     brisk_interp_spawn(a, main_a, &tx, &t);
//! int32_t result;    brisk_thread_join(t, &result);
//! ```
//!
//! Objects are made and used only inside a main function
//! ([`BriskMainFn`]) that [`brisk_interp_spawn`] runs on a new thread
//! attached to the interpreter. Its [`BriskMutator`] is that attachment:
//! every value call takes it first, and it is valid only on that thread,
//! until the main function returns.
//!
//! # Policies
//!
//! A runtime counts under one policy, chosen by `brisk_runtime_new`, and
//! every interpreter, channel end and value made from it carries the same
//! one (in Rust, the policy is a type parameter). A handle used with a
//! mutator of the other policy is an invalid handle. Inside, each kind of
//! handle names a [`dispatch::ByPolicy`] of the Rust value, and each
//! operation is one generic function that the `dispatch!` macro calls
//! with the policy of the handle in hand.
//!
//! # Values
//!
//! Values are thread-bound: a [`BriskValue`] names a counted reference in
//! a table of the thread that made or received it, so another thread does
//! not find it (see [`values`]). What a main function leaves in its table
//! is released when it returns.
//!
//! | module | concept |
//! |---|---|
//! | `dispatch` | one enum over the policies, and the macro that picks the arm |
//! | `runtimes` | runtimes and interpreters |
//! | `threads` | main functions on interpreter threads, the mutator, joining |
//! | `values` | the thread's value table and the object calls |
//! | `channels` | channels, send modes, send and receive |

mod channels;
mod dispatch;
mod runtimes;
mod threads;
mod values;

use core::ptr::NonNull;

use crate::error::{Error, Result};

pub use channels::{
    brisk_channel_new, brisk_receiver_free, brisk_recv, brisk_send, brisk_sender_free,
    BriskReceiver, BriskSendMode, BriskSender, BRISK_SEND_COPY, BRISK_SEND_MOVE, BRISK_SEND_SHARE,
};
pub use runtimes::{
    brisk_interp_free, brisk_interp_new, brisk_runtime_collect, brisk_runtime_free,
    brisk_runtime_new, BriskInterp, BriskRuntime,
};
pub use threads::{
    brisk_interp_spawn, brisk_mutator_safepoint, brisk_thread_join, BriskMainFn, BriskMutator,
    BriskThread,
};
pub use values::{
    brisk_freeze, brisk_value_as_int, brisk_value_as_str, brisk_value_clone, brisk_value_free,
    brisk_value_get, brisk_value_int, brisk_value_len, brisk_value_list, brisk_value_list_push,
    brisk_value_str, brisk_value_tuple, BriskValue,
};

/// An out-parameter: checked for null when the call starts, written only
/// once it has succeeded.
pub(crate) struct Out<T>(NonNull<T>);

impl<T> Out<T> {
    /// Checks `ptr`, argument `argument` of `function`.
    ///
    /// # Safety
    ///
    /// `ptr` is null or valid for a write of a `T` until the call returns
    /// (every out-parameter's contract in the header).
    pub(crate) unsafe fn new(ptr: *mut T, function: &str, argument: &str) -> Result<Self> {
        NonNull::new(ptr)
            .map(Out)
            .ok_or_else(|| Error::null(function, argument))
    }

    /// Writes the result.
    pub(crate) fn write(self, value: T) {
        // SAFETY: non-null, and valid for a write by `new`'s contract.
        unsafe { self.0.as_ptr().write(value) }
    }
}
