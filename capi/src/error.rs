//! Errors across the boundary: a status code from every call, a message
//! for the last failure on the calling thread, and no panic ever crossing
//! into C.
//!
//! Every exported function runs its body through [`guard`]. The body
//! returns `Result<(), Error>`; an `Err` becomes its [`BriskStatus`] and
//! leaves its message for [`brisk_last_error`]. A Rust panic inside the
//! body (a bug in brisk, or a destructor that panicked) is caught there
//! too and reported as [`BriskStatus::Panic`], since unwinding into C is
//! undefined behaviour.

use core::ffi::c_char;
use std::cell::RefCell;
use std::ffi::CString;
use std::panic::{catch_unwind, AssertUnwindSafe};

/// What a call did. Zero is success; every other value names one failure,
/// whose message [`brisk_last_error`] returns.
#[repr(C)]
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum BriskStatus {
    /// The call did what it says.
    Ok = 0,
    /// A pointer argument that must not be null was null.
    NullPointer = 1,
    /// The calling thread must be attached (`brisk_thread_attach`, or a
    /// thread the runtime spawned) and is not.
    NotAttached = 2,
    /// `brisk_thread_attach` on a thread that is attached already.
    AlreadyAttached = 3,
    /// A handle that was never issued, was freed already, or belongs to
    /// another thread (values), another policy, or another runtime (a
    /// channel belongs to the runtime of the first thread that sends or
    /// receives on it).
    InvalidHandle = 4,
    /// An argument out of its documented range: an unknown policy or send
    /// mode, a string that is not UTF-8.
    InvalidArgument = 5,
    /// A value of the wrong type for the call (an integer expected, a list
    /// given).
    WrongType = 6,
    /// An index past the end of a container.
    IndexOutOfRange = 7,
    /// A send refused: the value is not frozen (share), not isolated
    /// (move) or not copyable (copy). The value stays the caller's.
    SendRefused = 8,
    /// A receive or send on a channel whose other side is gone.
    Disconnected = 9,
    /// A freeze refused: the graph holds something that cannot be frozen.
    FreezeRefused = 10,
    /// An interpreter thread's main function panicked, or its thread could
    /// not be started.
    ThreadFailed = 11,
    /// A bug inside brisk: a Rust panic, caught at the boundary.
    Panic = 12,
}

/// A failure: its code and what to tell the caller.
#[derive(Debug)]
pub(crate) struct Error {
    pub(crate) status: BriskStatus,
    pub(crate) message: String,
}

impl Error {
    pub(crate) fn new(status: BriskStatus, message: impl Into<String>) -> Self {
        Error {
            status,
            message: message.into(),
        }
    }

    /// A null pointer passed as `argument` to `function`.
    pub(crate) fn null(function: &str, argument: &str) -> Self {
        Error::new(
            BriskStatus::NullPointer,
            format!("{function}: `{argument}` is null"),
        )
    }
}

/// What exported functions return inside.
pub(crate) type Result<T = ()> = core::result::Result<T, Error>;

std::thread_local! {
    /// The message of this thread's last failure.
    static LAST_ERROR: RefCell<CString> = RefCell::new(CString::default());
}

/// Runs an exported function's body: returns its status, records a
/// failure's message, and stops any panic at the boundary.
pub(crate) fn guard(body: impl FnOnce() -> Result) -> BriskStatus {
    let error = match catch_unwind(AssertUnwindSafe(body)) {
        Ok(Ok(())) => return BriskStatus::Ok,
        Ok(Err(error)) => error,
        Err(panic) => {
            let what = panic
                .downcast_ref::<&str>()
                .map(|s| (*s).to_owned())
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "a panic without a message".to_owned());
            Error::new(BriskStatus::Panic, format!("brisk: internal error: {what}"))
        }
    };
    // An interior NUL cannot come from brisk's messages, but user strings
    // are quoted in some: cut there rather than fail.
    let bytes: Vec<u8> = error.message.bytes().take_while(|&b| b != 0).collect();
    let message = CString::new(bytes).unwrap_or_default();
    let _ = LAST_ERROR.try_with(|last| *last.borrow_mut() = message);
    error.status
}

/// The message of the calling thread's last failed call, as a
/// NUL-terminated UTF-8 string, or an empty string if none failed yet.
///
/// The pointer stays valid until the next failing call on this thread.
#[no_mangle]
pub extern "C" fn brisk_last_error() -> *const c_char {
    LAST_ERROR
        .try_with(|last| last.borrow().as_ptr())
        .unwrap_or(c"brisk: the thread is exiting".as_ptr())
}

/// A short, static name for a status code (`"BRISK_STATUS_OK"`, ...), for
/// logs; `"BRISK_STATUS_UNKNOWN"` for a value that is none. Never null.
/// Takes the code as an integer, so any value a C caller holds is valid.
#[no_mangle]
pub extern "C" fn brisk_status_name(status: i32) -> *const c_char {
    const NAMES: [&core::ffi::CStr; 13] = [
        c"BRISK_STATUS_OK",
        c"BRISK_STATUS_NULL_POINTER",
        c"BRISK_STATUS_NOT_ATTACHED",
        c"BRISK_STATUS_ALREADY_ATTACHED",
        c"BRISK_STATUS_INVALID_HANDLE",
        c"BRISK_STATUS_INVALID_ARGUMENT",
        c"BRISK_STATUS_WRONG_TYPE",
        c"BRISK_STATUS_INDEX_OUT_OF_RANGE",
        c"BRISK_STATUS_SEND_REFUSED",
        c"BRISK_STATUS_DISCONNECTED",
        c"BRISK_STATUS_FREEZE_REFUSED",
        c"BRISK_STATUS_THREAD_FAILED",
        c"BRISK_STATUS_PANIC",
    ];
    usize::try_from(status)
        .ok()
        .and_then(|i| NAMES.get(i))
        .map_or(c"BRISK_STATUS_UNKNOWN".as_ptr(), |name| name.as_ptr())
}

/// For examples and prototypes: returns if `status` is `BRISK_STATUS_OK`;
/// otherwise prints `what`, the status's name and the calling thread's
/// last error message to standard error, and exits the process with
/// status 1. `what` may be null.
///
/// # Safety
///
/// `what` is null or a NUL-terminated string.
#[no_mangle]
pub unsafe extern "C" fn brisk_check(status: i32, what: *const c_char) {
    if status == BriskStatus::Ok as i32 {
        return;
    }
    let what = if what.is_null() {
        "a brisk call".into()
    } else {
        // SAFETY: NUL-terminated by the contract.
        unsafe { core::ffi::CStr::from_ptr(what) }.to_string_lossy()
    };
    // SAFETY: both return NUL-terminated strings that outlive this call.
    let (name, message) = unsafe {
        (
            core::ffi::CStr::from_ptr(brisk_status_name(status)).to_string_lossy(),
            core::ffi::CStr::from_ptr(brisk_last_error()).to_string_lossy(),
        )
    };
    eprintln!("{what}: {name}: {message}");
    std::process::exit(1);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn last_error() -> String {
        // SAFETY: `brisk_last_error` returns a NUL-terminated string that
        // stays valid until the next failing call on this thread.
        unsafe { core::ffi::CStr::from_ptr(brisk_last_error()) }
            .to_string_lossy()
            .into_owned()
    }

    #[test]
    fn a_panic_stops_at_the_boundary_as_a_status_with_its_message() {
        let status = guard(|| panic!("boom"));
        assert_eq!(status, BriskStatus::Panic);
        assert_eq!(last_error(), "brisk: internal error: boom");
    }

    #[test]
    fn an_error_leaves_its_message_and_success_leaves_it_alone() {
        let status = guard(|| Err(Error::null("brisk_example", "object")));
        assert_eq!(status, BriskStatus::NullPointer);
        assert_eq!(guard(|| Ok(())), BriskStatus::Ok);
        assert_eq!(last_error(), "brisk_example: `object` is null");
    }

    #[test]
    fn a_message_with_a_nul_is_cut_there() {
        let _ = guard(|| Err(Error::new(BriskStatus::WrongType, "before\0after")));
        assert_eq!(last_error(), "before");
    }

    #[test]
    fn every_status_has_a_name_and_unknown_values_are_named_so() {
        let name = |status: i32| {
            // SAFETY: a static NUL-terminated string.
            unsafe { core::ffi::CStr::from_ptr(brisk_status_name(status)) }
                .to_str()
                .expect("ASCII")
        };
        assert_eq!(name(BriskStatus::Ok as i32), "BRISK_STATUS_OK");
        assert_eq!(name(BriskStatus::Panic as i32), "BRISK_STATUS_PANIC");
        assert_eq!(name(-1), "BRISK_STATUS_UNKNOWN");
        assert_eq!(name(13), "BRISK_STATUS_UNKNOWN");
    }
}
