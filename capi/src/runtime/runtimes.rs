//! Runtimes and interpreters.
//!
//! A [`BriskRuntime`] owns its interpreters' globals and the runtime-wide
//! machinery (stop-the-world, the cycle collector); freeing it tears them
//! down, as dropping a Rust `Runtime` does. A [`BriskInterp`] is an
//! isolation domain, the place [`brisk_interp_spawn`](super::brisk_interp_spawn)
//! runs main functions; it stays usable after its runtime is freed, with
//! empty globals.

use core::ffi::{c_char, CStr};
use std::sync::Arc;

use brisk_runtime::{Interpreter, Runtime};

use super::dispatch::{dispatch, ByPolicy, CPolicy, Family};
use super::Out;
use crate::error::{guard, BriskStatus, Error};
use crate::handles::Table;
use crate::policy::{BriskPolicy, Policy};

/// A runtime: interpreters under one counting policy.
#[repr(C)]
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct BriskRuntime {
    /// The handle's id; 0 is never issued.
    pub id: u64,
}

/// An interpreter of a runtime.
#[repr(C)]
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct BriskInterp {
    /// The handle's id; 0 is never issued.
    pub id: u64,
}

/// What a [`BriskRuntime`] names. In an `Arc`, so that a call clones it
/// out of the table and runs without the table's lock.
pub(crate) struct Runtimes;

impl Family for Runtimes {
    type Of<P: CPolicy> = Arc<Runtime<P>>;
    const WHAT: &'static str = "runtime";
}

/// What a [`BriskInterp`] names.
pub(crate) struct Interps;

impl Family for Interps {
    type Of<P: CPolicy> = Interpreter<P>;
    const WHAT: &'static str = "interpreter";
}

pub(crate) static RUNTIMES: Table<ByPolicy<Runtimes>> = Table::new("runtime");
pub(crate) static INTERPS: Table<ByPolicy<Interps>> = Table::new("interpreter");

/// A new runtime of a `policy`, one of `BRISK_POLICY_BIASED` or
/// `BRISK_POLICY_DEFERRED`; writes its handle to `out`.
///
/// Errors: `out` null; an unknown policy (`BRISK_STATUS_INVALID_ARGUMENT`).
///
/// # Safety
///
/// `out` is null or writable.
#[no_mangle]
pub unsafe extern "C" fn brisk_runtime_new(
    policy: BriskPolicy,
    out: *mut BriskRuntime,
) -> BriskStatus {
    guard(|| {
        // SAFETY: null or writable, by the contract.
        let out = unsafe { Out::new(out, "brisk_runtime_new", "out") }?;
        let runtime = match Policy::from_c(policy)? {
            Policy::Biased => ByPolicy::Biased(Arc::new(Runtime::new())),
            Policy::Deferred => ByPolicy::Deferred(Arc::new(Runtime::new())),
        };
        out.write(BriskRuntime {
            id: RUNTIMES.insert(runtime),
        });
        Ok(())
    })
}

/// Frees a runtime: releases every interpreter's globals, then collects
/// what that left unreachable. Interpreters, channels and threads made
/// from it stay valid (an interpreter with empty globals).
///
/// It stops the world to collect, so it waits until every running main
/// function of the runtime reaches a safepoint: a long loop in a main
/// function should call `brisk_mutator_safepoint`. It may be called from
/// a main function.
///
/// Errors: the handle is not live.
#[no_mangle]
pub extern "C" fn brisk_runtime_free(runtime: BriskRuntime) -> BriskStatus {
    guard(|| {
        // Dropped here, after the table's lock is released.
        drop(RUNTIMES.remove(runtime.id)?);
        Ok(())
    })
}

/// Runs a cycle collection over every interpreter of the runtime now,
/// and writes how many objects it found unreachable to `unreachable`.
/// Waits for running main functions as `brisk_runtime_free` does; `0` if
/// another collection was running.
///
/// Errors: `unreachable` null; the handle is not live.
///
/// # Safety
///
/// `unreachable` is null or writable.
#[no_mangle]
pub unsafe extern "C" fn brisk_runtime_collect(
    runtime: BriskRuntime,
    unreachable: *mut usize,
) -> BriskStatus {
    guard(|| {
        // SAFETY: null or writable, by the contract.
        let out = unsafe { Out::new(unreachable, "brisk_runtime_collect", "unreachable") }?;
        let runtime = RUNTIMES.get(runtime.id)?;
        out.write(dispatch!(&runtime, runtime => runtime.collect().unreachable));
        Ok(())
    })
}

/// A new interpreter of `runtime`, named `name` (a NUL-terminated UTF-8
/// string, copied; it names the interpreter's threads); writes its handle
/// to `out`.
///
/// Errors: `name` or `out` null; `name` not UTF-8
/// (`BRISK_STATUS_INVALID_ARGUMENT`); the runtime handle is not live.
///
/// # Safety
///
/// `name` is null or a NUL-terminated string; `out` is null or writable.
#[no_mangle]
pub unsafe extern "C" fn brisk_interp_new(
    runtime: BriskRuntime,
    name: *const c_char,
    out: *mut BriskInterp,
) -> BriskStatus {
    const FUNCTION: &str = "brisk_interp_new";
    guard(|| {
        // SAFETY: null or writable, by the contract.
        let out = unsafe { Out::new(out, FUNCTION, "out") }?;
        if name.is_null() {
            return Err(Error::null(FUNCTION, "name"));
        }
        // SAFETY: non-null, and NUL-terminated by the contract.
        let name = unsafe { CStr::from_ptr(name) }.to_str().map_err(|e| {
            Error::new(
                BriskStatus::InvalidArgument,
                format!("{FUNCTION}: `name` is not UTF-8: {e}"),
            )
        })?;
        let runtime = RUNTIMES.get(runtime.id)?;
        let interp = dispatch!(&runtime, runtime => new_interp(runtime, name));
        out.write(BriskInterp {
            id: INTERPS.insert(interp),
        });
        Ok(())
    })
}

fn new_interp<P: CPolicy>(runtime: &Runtime<P>, name: &str) -> ByPolicy<Interps> {
    P::wrap(runtime.new_interpreter(name))
}

/// Frees an interpreter handle. The interpreter itself lives on while a
/// thread runs it.
///
/// Errors: the handle is not live.
#[no_mangle]
pub extern "C" fn brisk_interp_free(interp: BriskInterp) -> BriskStatus {
    guard(|| {
        drop(INTERPS.remove(interp.id)?);
        Ok(())
    })
}
