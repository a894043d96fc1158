//! Values made once per process and never freed, one per type.
//!
//! Rust has no generic statics: a `static` inside a generic function is one
//! variable shared by every instantiation. The immortal objects of a policy
//! (the runtime's `None`, booleans and small integers; an embedder's
//! builtin functions) are generic over the policy, so they live in one
//! process-wide map keyed by their table's type, made on first use and
//! leaked, as CPython never frees its static objects.

use core::any::{Any, TypeId};
use std::collections::HashMap;

use crate::sync::{lazy_global, lock, Mutex};

/// Every table made so far, by its type. Locked only to look one up or to
/// add one; never while a table is being made.
type Tables = HashMap<TypeId, &'static (dyn Any + Send + Sync)>;

lazy_global!(fn tables() -> Mutex<Tables> = Mutex::new(HashMap::new()));

/// The process's one value of type `T`, made by `make` on first use and
/// never freed.
///
/// Threads that race on the first use may each run `make`; one result is
/// kept and returned to all of them, and the others are leaked unused (so
/// `make` should build something small, once). `make` may itself call
/// `leaked_once` for other types.
///
/// ```
/// use brisk_runtime::statics::leaked_once;
///
/// struct Greeting(String);
/// let first = leaked_once(|| Greeting("hello".into()));
/// let again = leaked_once(|| Greeting("ignored".into()));
/// assert!(std::ptr::eq(first, again));
/// assert_eq!(again.0, "hello");
/// ```
pub fn leaked_once<T: Any + Send + Sync>(make: impl FnOnce() -> T) -> &'static T {
    let key = TypeId::of::<T>();
    let found = lock(tables()).get(&key).copied();
    let table = match found {
        Some(table) => table,
        None => {
            let made: &'static T = Box::leak(Box::new(make()));
            *lock(tables()).entry(key).or_insert(made)
        }
    };
    table
        .downcast_ref::<T>()
        .expect("tables are keyed by their own type")
}
