//! Compiled constants as immortal objects, one per value for the whole
//! process.
//!
//! A literal in a loop (`'state`, `0.01`, `"total"`) is loaded every time
//! the loop runs. CPython's free-threaded build interns the constants its
//! compiler makes and makes them immortal (gh-118527), so that loading one
//! counts nothing, under any policy, and no interpreter's counts touch
//! another's. brisk's compiler does the same: each distinct constant is
//! made once per policy, made immortal (`Ref::into_immortal`, which also
//! freezes it) and kept in a process-wide table, from which every
//! interpreter fills its constant pools. The table only grows, by the
//! distinct literals of the code compiled in the process, as CPython's
//! table of immortal constants does.

use std::collections::HashMap;

use brisk_runtime::statics::leaked_once;
use brisk_runtime::{Mutator, Ref, RuntimePolicy};
use parking_lot::Mutex;

use crate::bytecode::Constant;

/// A constant's value as a table key: floats by their bits, so `0.0` and
/// `-0.0` (and NaNs of different bits) stay distinct constants. The
/// compiler keys each function's constant pool the same way.
#[derive(PartialEq, Eq, Hash)]
pub(crate) enum Key {
    Int(i64),
    Float(u64),
    Str(Box<str>),
}

impl From<&Constant> for Key {
    fn from(constant: &Constant) -> Key {
        match constant {
            Constant::Int(i) => Key::Int(*i),
            Constant::Float(x) => Key::Float(x.to_bits()),
            Constant::Str(s) => Key::Str(s.clone()),
        }
    }
}

/// Every constant made so far under policy `P`.
struct Table<P: RuntimePolicy>(Mutex<HashMap<Key, Ref<P>>>);

/// The immortal object for `constant`, made on first use.
///
/// Should the new object not become immortal (`Ref::into_immortal` needs
/// proof that it is the only reference, which a policy may not have on a
/// thread whose objects start out unowned), it is frozen and returned for
/// this interpreter alone, not kept: frozen, a list built around it can
/// still be moved or copied, as with an immortal constant.
pub(crate) fn immortal<P: RuntimePolicy>(m: &Mutator<P>, constant: &Constant) -> Ref<P> {
    let table = leaked_once(|| Table::<P>(Mutex::new(HashMap::new())));
    let key = Key::from(constant);
    let mut objects = table.0.lock();
    if let Some(object) = objects.get(&key) {
        return object.clone();
    }
    let fresh = match constant {
        Constant::Int(i) => m.int(*i),
        Constant::Float(x) => m.float(*x),
        Constant::Str(s) => m.str(s),
    };
    match Ref::into_immortal(fresh) {
        Ok(object) => {
            objects.insert(key, object.clone());
            object
        }
        Err(object) => {
            drop(objects);
            // Numbers and strings always freeze.
            let _ = m.freeze(&object);
            object
        }
    }
}
