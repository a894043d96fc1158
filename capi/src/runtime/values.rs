//! Values: the runtime's objects, named by handles of the thread that
//! holds them.
//!
//! A runtime object is counted per thread (biased to its owner), and only
//! a mutator thread may count it. So a [`BriskValue`] names one counted
//! reference in a table of the calling thread: every value call looks it
//! up there, and a handle from another thread is simply not found
//! (`BRISK_STATUS_INVALID_HANDLE`). Ids come from one process-wide
//! counter and are never reused, so a freed or foreign id cannot name a
//! live entry by accident.
//!
//! Each handle is one reference: [`brisk_value_clone`] makes another
//! handle to the same object, [`brisk_value_free`] gives one back, and a
//! successful send consumes one. Calls that read a value count a
//! reference of their own for the duration of the call, outside the
//! table, so nothing runs while the table is borrowed (freeing an object
//! can free a whole graph). What is left in the table when the main
//! function returns is released then.

use core::ffi::c_char;
use core::ptr::NonNull;
use std::cell::RefCell;
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};

use brisk_runtime::{Mutator, ObjectError, Ref};

use super::dispatch::{dispatch, ByPolicy, CPolicy, Family};
use super::threads::{with_mutator, with_mutator_out, BriskMutator, Mutators};
use super::Out;
use crate::error::{BriskStatus, Error, Result};

/// A runtime object, held by the thread that made or received it.
#[repr(C)]
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct BriskValue {
    /// The handle's id; 0 is never issued.
    pub id: u64,
}

/// What a [`BriskValue`] names.
pub(crate) struct Values;

impl Family for Values {
    type Of<P: CPolicy> = Ref<P>;
    const WHAT: &'static str = "value";
}

/// The next value id; 0 is never issued.
static NEXT_ID: AtomicU64 = AtomicU64::new(1);

std::thread_local! {
    /// This thread's values.
    static VALUES: RefCell<HashMap<u64, ByPolicy<Values>>> = RefCell::new(HashMap::new());
}

fn not_found(function: &str, value: BriskValue) -> Error {
    Error::new(
        BriskStatus::InvalidHandle,
        format!(
            "{function}: value handle {:#x} is not live on this thread (never issued, freed, \
             consumed by a send, or held by another thread)",
            value.id
        ),
    )
}

/// Stores `value` and returns its new handle.
pub(crate) fn insert<P: CPolicy>(value: Ref<P>) -> BriskValue {
    // Relaxed: ids only need to be unique.
    let handle = BriskValue {
        id: NEXT_ID.fetch_add(1, Relaxed),
    };
    put(handle, value);
    handle
}

/// Stores `value` under `handle` (a new one, or one taken out by [`take`]).
pub(crate) fn put<P: CPolicy>(handle: BriskValue, value: Ref<P>) {
    restore(handle, P::wrap(value));
}

/// Stores `value` under `handle`, of whichever policy.
fn restore(handle: BriskValue, value: ByPolicy<Values>) {
    VALUES.with(|values| values.borrow_mut().insert(handle.id, value));
}

/// The entry `handle` names, taken out of the table.
fn remove(handle: BriskValue, function: &str) -> Result<ByPolicy<Values>> {
    VALUES
        .with(|values| values.borrow_mut().remove(&handle.id))
        .ok_or_else(|| not_found(function, handle))
}

/// A counted reference to the object `handle` names; the handle stays.
pub(crate) fn get<P: CPolicy>(handle: BriskValue, function: &str) -> Result<Ref<P>> {
    VALUES.with(|values| match values.borrow().get(&handle.id) {
        Some(value) => value.get::<P>(function).cloned(),
        None => Err(not_found(function, handle)),
    })
}

/// The reference `handle` names, taken out: the handle is dead until it
/// is [`put`] back.
pub(crate) fn take<P: CPolicy>(handle: BriskValue, function: &str) -> Result<Ref<P>> {
    remove(handle, function)?
        .take::<P>(function)
        .map_err(|(value, error)| {
            restore(handle, value);
            error
        })
}

/// Releases every value of the calling thread.
pub(crate) fn release_all() {
    // Taken out first, then dropped: freeing objects never runs while the
    // table is borrowed. A table already destroyed (at thread exit) holds
    // nothing.
    let values = VALUES.try_with(|values| values.take()).unwrap_or_default();
    drop(values);
}

/// An object call's refusal as a status: a wrong type or a frozen
/// container is `WrongType`, an index past the end `IndexOutOfRange`.
fn object_error(function: &str, error: ObjectError) -> Error {
    let status = match error {
        ObjectError::IndexOutOfRange { .. } => BriskStatus::IndexOutOfRange,
        ObjectError::Frozen { .. }
        | ObjectError::WrongType { .. }
        | ObjectError::Unhashable { .. } => BriskStatus::WrongType,
    };
    Error::new(status, format!("{function}: {error}"))
}

/// A new integer; writes its handle to `out`.
///
/// Errors: `m` or `out` null; `m` another thread's.
///
/// # Safety
///
/// `m` is null or the pointer a running main function was given; `out`
/// is null or writable. So for every value call.
#[no_mangle]
pub unsafe extern "C" fn brisk_value_int(
    m: *mut BriskMutator,
    value: i64,
    out: *mut BriskValue,
) -> BriskStatus {
    // SAFETY: forwarded contract.
    unsafe {
        with_mutator_out(m, out, "brisk_value_int", |m| {
            Ok(dispatch!(m, m => insert(m.int(value))))
        })
    }
}

/// A new string of the `len` bytes at `utf8` (copied; no terminator
/// needed); writes its handle to `out`.
///
/// Errors: `m`, `out` null, or `utf8` null while `len` is not 0; the
/// bytes are not UTF-8 (`BRISK_STATUS_INVALID_ARGUMENT`).
///
/// # Safety
///
/// As `brisk_value_int`; `utf8` is readable for `len` bytes (or `len` is
/// 0).
#[no_mangle]
pub unsafe extern "C" fn brisk_value_str(
    m: *mut BriskMutator,
    utf8: *const c_char,
    len: usize,
    out: *mut BriskValue,
) -> BriskStatus {
    const FUNCTION: &str = "brisk_value_str";
    let body = |m: &ByPolicy<Mutators>| {
        // SAFETY: readable for `len` bytes, by the contract.
        let bytes = unsafe { c_slice(utf8.cast::<u8>(), len, FUNCTION, "utf8") }?;
        let text = core::str::from_utf8(bytes).map_err(|e| {
            Error::new(
                BriskStatus::InvalidArgument,
                format!("{FUNCTION}: `utf8` is not UTF-8: {e}"),
            )
        })?;
        Ok(dispatch!(m, m => insert(m.str(text))))
    };
    // SAFETY: forwarded contract.
    unsafe { with_mutator_out(m, out, FUNCTION, body) }
}

/// A new empty list; writes its handle to `out`.
///
/// Errors: `m` or `out` null; `m` another thread's.
///
/// # Safety
///
/// As `brisk_value_int`.
#[no_mangle]
pub unsafe extern "C" fn brisk_value_list(
    m: *mut BriskMutator,
    out: *mut BriskValue,
) -> BriskStatus {
    // SAFETY: forwarded contract.
    unsafe {
        with_mutator_out(m, out, "brisk_value_list", |m| {
            Ok(dispatch!(m, m => insert(m.list(Vec::new()))))
        })
    }
}

/// Appends `item` to `list`. `item` is not consumed: the list holds a
/// new reference, and the handle stays the caller's.
///
/// Errors: `m` null; a handle that is not live on this thread;
/// `BRISK_STATUS_WRONG_TYPE` if `list` is not a list or is frozen.
///
/// # Safety
///
/// As `brisk_value_int`.
#[no_mangle]
pub unsafe extern "C" fn brisk_value_list_push(
    m: *mut BriskMutator,
    list: BriskValue,
    item: BriskValue,
) -> BriskStatus {
    const FUNCTION: &str = "brisk_value_list_push";
    // SAFETY: forwarded contract.
    unsafe { with_mutator(m, FUNCTION, |m| dispatch!(m, m => push(m, list, item))) }
}

fn push<P: CPolicy>(_m: &Mutator<P>, list: BriskValue, item: BriskValue) -> Result {
    const FUNCTION: &str = "brisk_value_list_push";
    let list = get::<P>(list, FUNCTION)?;
    let item = get::<P>(item, FUNCTION)?;
    list.push(item).map_err(|e| object_error(FUNCTION, e))
}

/// A new tuple of the `n` values at `items` (each a new reference; the
/// handles stay the caller's); writes its handle to `out`. `items` may be
/// null when `n` is 0.
///
/// Errors: `m` or `out` null, or `items` null while `n` is not 0; a
/// handle that is not live on this thread.
///
/// # Safety
///
/// As `brisk_value_int`; `items` is readable for `n` values (or `n` is 0).
#[no_mangle]
pub unsafe extern "C" fn brisk_value_tuple(
    m: *mut BriskMutator,
    items: *const BriskValue,
    n: usize,
    out: *mut BriskValue,
) -> BriskStatus {
    const FUNCTION: &str = "brisk_value_tuple";
    let body = |m: &ByPolicy<Mutators>| {
        // SAFETY: readable for `n` values, by the contract.
        let items = unsafe { c_slice(items, n, FUNCTION, "items") }?;
        dispatch!(m, m => tuple(m, items))
    };
    // SAFETY: forwarded contract.
    unsafe { with_mutator_out(m, out, FUNCTION, body) }
}

fn tuple<P: CPolicy>(m: &Mutator<P>, items: &[BriskValue]) -> Result<BriskValue> {
    let items = items
        .iter()
        .map(|&item| get::<P>(item, "brisk_value_tuple"))
        .collect::<Result<Vec<_>>>()?;
    Ok(insert(m.tuple(items)))
}

/// Writes the integer `value` holds to `out`.
///
/// Errors: `m` or `out` null; `value` not live on this thread;
/// `BRISK_STATUS_WRONG_TYPE` if it is not an integer.
///
/// # Safety
///
/// As `brisk_value_int`.
#[no_mangle]
pub unsafe extern "C" fn brisk_value_as_int(
    m: *mut BriskMutator,
    value: BriskValue,
    out: *mut i64,
) -> BriskStatus {
    const FUNCTION: &str = "brisk_value_as_int";
    // SAFETY: forwarded contract.
    unsafe {
        with_mutator_out(
            m,
            out,
            FUNCTION,
            |m| dispatch!(m, m => read(m, value, FUNCTION, |v| v.as_int().ok_or("int"))),
        )
    }
}

/// Writes where the bytes of the string `value` holds start to `data`
/// (not NUL-terminated) and how many there are to `len`. The bytes stay
/// valid while `value`, or another reference to the string, is live.
///
/// Errors: `m`, `data` or `len` null; `value` not live on this thread;
/// `BRISK_STATUS_WRONG_TYPE` if it is not a string.
///
/// # Safety
///
/// As `brisk_value_int`, for both `data` and `len`.
#[no_mangle]
pub unsafe extern "C" fn brisk_value_as_str(
    m: *mut BriskMutator,
    value: BriskValue,
    data: *mut *const c_char,
    len: *mut usize,
) -> BriskStatus {
    const FUNCTION: &str = "brisk_value_as_str";
    let body = |m: &ByPolicy<Mutators>| {
        // SAFETY: null or writable, by the contract.
        let data = unsafe { Out::new(data, FUNCTION, "data") }?;
        // SAFETY: null or writable, by the contract.
        let len = unsafe { Out::new(len, FUNCTION, "len") }?;
        let (start, bytes) = dispatch!(m, m => read(m, value, FUNCTION, |v| {
            v.as_str().map(|s| (s.as_ptr().cast::<c_char>(), s.len())).ok_or("str")
        }))?;
        data.write(start);
        len.write(bytes);
        Ok(())
    };
    // SAFETY: forwarded contract.
    unsafe { with_mutator(m, FUNCTION, body) }
}

/// Writes the length of `value` to `out`: bytes of a string or byte
/// string, items of a tuple, list or dict.
///
/// Errors: `m` or `out` null; `value` not live on this thread;
/// `BRISK_STATUS_WRONG_TYPE` for a value without a length.
///
/// # Safety
///
/// As `brisk_value_int`.
#[no_mangle]
pub unsafe extern "C" fn brisk_value_len(
    m: *mut BriskMutator,
    value: BriskValue,
    out: *mut usize,
) -> BriskStatus {
    const FUNCTION: &str = "brisk_value_len";
    // SAFETY: forwarded contract.
    unsafe {
        with_mutator_out(
            m,
            out,
            FUNCTION,
            |m| dispatch!(m, m => read(m, value, FUNCTION, |v| v.len().ok_or("a sized value"))),
        )
    }
}

/// What `read` of a value returns, or the type the call expected.
type Read<T> = core::result::Result<T, &'static str>;

/// Looks `value` up and runs `f` on its object; `f`'s `Err` names the
/// type it expected.
fn read<P: CPolicy, T>(
    _m: &Mutator<P>,
    value: BriskValue,
    function: &str,
    f: impl FnOnce(&Ref<P>) -> Read<T>,
) -> Result<T> {
    let value = get::<P>(value, function)?;
    f(&value).map_err(|expected| {
        Error::new(
            BriskStatus::WrongType,
            format!(
                "{function}: expected {expected}, found {}",
                value.kind().name()
            ),
        )
    })
}

/// Writes a new handle to item `index` of the tuple or list `value` to
/// `out`.
///
/// Errors: `m` or `out` null; `value` not live on this thread;
/// `BRISK_STATUS_WRONG_TYPE` if it is neither a tuple nor a list;
/// `BRISK_STATUS_INDEX_OUT_OF_RANGE`.
///
/// # Safety
///
/// As `brisk_value_int`.
#[no_mangle]
pub unsafe extern "C" fn brisk_value_get(
    m: *mut BriskMutator,
    value: BriskValue,
    index: usize,
    out: *mut BriskValue,
) -> BriskStatus {
    // SAFETY: forwarded contract.
    unsafe {
        with_mutator_out(
            m,
            out,
            "brisk_value_get",
            |m| dispatch!(m, m => item(m, value, index)),
        )
    }
}

fn item<P: CPolicy>(_m: &Mutator<P>, value: BriskValue, index: usize) -> Result<BriskValue> {
    const FUNCTION: &str = "brisk_value_get";
    let item = get::<P>(value, FUNCTION)?
        .get_item(index)
        .map_err(|e| object_error(FUNCTION, e))?;
    Ok(insert(item))
}

/// Writes a second handle to the object `value` names to `out` (one more
/// reference, freed on its own).
///
/// Errors: `m` or `out` null; `value` not live on this thread.
///
/// # Safety
///
/// As `brisk_value_int`.
#[no_mangle]
pub unsafe extern "C" fn brisk_value_clone(
    m: *mut BriskMutator,
    value: BriskValue,
    out: *mut BriskValue,
) -> BriskStatus {
    // SAFETY: forwarded contract.
    unsafe {
        with_mutator_out(
            m,
            out,
            "brisk_value_clone",
            |m| dispatch!(m, m => read(m, value, "brisk_value_clone", |v| Ok(v.clone())).map(insert)),
        )
    }
}

/// Frees the handle `value`: gives its reference back (freeing the object
/// if it was the last). The handle is dead afterwards.
///
/// Errors: `m` null; `value` not live on this thread.
///
/// # Safety
///
/// As `brisk_value_int`.
#[no_mangle]
pub unsafe extern "C" fn brisk_value_free(m: *mut BriskMutator, value: BriskValue) -> BriskStatus {
    // SAFETY: forwarded contract.
    unsafe {
        with_mutator(m, "brisk_value_free", |_| {
            // Dropped here, outside the table.
            drop(remove(value, "brisk_value_free")?);
            Ok(())
        })
    }
}

/// Freezes the graph `value` reaches: makes it deep-immutable, so that it
/// can be sent with `BRISK_SEND_SHARE`. Stops the world for the duration.
/// Freezing a frozen value does nothing.
///
/// Errors: `m` null; `value` not live on this thread;
/// `BRISK_STATUS_FREEZE_REFUSED` if the graph holds an object that cannot
/// be frozen (then nothing was changed).
///
/// # Safety
///
/// As `brisk_value_int`.
#[no_mangle]
pub unsafe extern "C" fn brisk_freeze(m: *mut BriskMutator, value: BriskValue) -> BriskStatus {
    // SAFETY: forwarded contract.
    unsafe { with_mutator(m, "brisk_freeze", |m| dispatch!(m, m => freeze(m, value))) }
}

fn freeze<P: CPolicy>(m: &Mutator<P>, value: BriskValue) -> Result {
    let value = get::<P>(value, "brisk_freeze")?;
    m.freeze(&value)
        .map_err(|e| Error::new(BriskStatus::FreezeRefused, format!("brisk_freeze: {e}")))
}

/// The `n` items at `ptr`, argument `argument` of `function`: null is
/// refused unless `n` is 0.
///
/// # Safety
///
/// `ptr` is null or readable for `n` items that stay unchanged during the
/// call.
unsafe fn c_slice<'a, T>(
    ptr: *const T,
    n: usize,
    function: &str,
    argument: &str,
) -> Result<&'a [T]> {
    if n == 0 {
        return Ok(&[]);
    }
    let ptr = NonNull::new(ptr.cast_mut()).ok_or_else(|| Error::null(function, argument))?;
    // SAFETY: non-null, and readable for `n` items by the contract.
    Ok(unsafe { core::slice::from_raw_parts(ptr.as_ptr(), n) })
}
