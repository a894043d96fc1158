//! Dictionary keys: hashing and equality by value.
//!
//! Keys must be immutable all the way down: `None`, `Bool`, `Int`, `Float`,
//! `Str`, `Bytes`, and `Tuple`s of those. A key's hash can then never change
//! while it sits in a map. `Int` and `Float` are different keys even when
//! numerically equal; `Float` keys compare by bit pattern with `-0.0`
//! folded into `0.0`.

use core::hash::{Hash, Hasher};

use indexmap::Equivalent;

use super::{keyed_hash, Object, ObjectError, Payload, Ref};
use crate::policy::RuntimePolicy;

/// A dictionary key: a counted reference compared by value.
pub struct Key<P: RuntimePolicy>(pub(crate) Ref<P>);

/// A borrowed key, for lookups without counting.
#[repr(transparent)]
pub(crate) struct KeyView<P: RuntimePolicy>(Object<P>);

impl<P: RuntimePolicy> KeyView<P> {
    pub(crate) fn new(object: &Object<P>) -> &Self {
        // SAFETY: `KeyView` is a transparent wrapper around `Object<P>`.
        unsafe { &*(object as *const Object<P> as *const KeyView<P>) }
    }
}

/// Rejects keys that are not immutable all the way down.
pub(crate) fn check_hashable<P: RuntimePolicy>(key: &Object<P>) -> Result<(), ObjectError> {
    match &key.payload {
        Payload::None
        | Payload::Bool(_)
        | Payload::Int(_)
        | Payload::Float(_)
        | Payload::Str(_)
        | Payload::Bytes(_) => Ok(()),
        Payload::Tuple(items) => items.iter().try_for_each(|item| check_hashable(item)),
        _ => Err(ObjectError::Unhashable { kind: key.kind() }),
    }
}

fn hash_value<P: RuntimePolicy, H: Hasher>(object: &Object<P>, state: &mut H) {
    object.kind().hash(state);
    match &object.payload {
        Payload::Bool(b) => b.hash(state),
        Payload::Int(i) => i.hash(state),
        Payload::Float(x) => canonical_bits(*x).hash(state),
        Payload::Str(text) => state.write_u64(text.hash()),
        Payload::Bytes(b) => state.write_u64(keyed_hash(b)),
        Payload::Tuple(items) => {
            items.len().hash(state);
            items.iter().for_each(|item| hash_value(item, state));
        }
        _ => {}
    }
}

fn canonical_bits(x: f64) -> u64 {
    if x == 0.0 {
        0
    } else {
        x.to_bits()
    }
}

/// Value equality of two hashable objects.
pub(crate) fn equal_values<P: RuntimePolicy>(a: &Object<P>, b: &Object<P>) -> bool {
    if core::ptr::eq(a, b) {
        return true;
    }
    match (&a.payload, &b.payload) {
        (Payload::None, Payload::None) => true,
        (Payload::Bool(x), Payload::Bool(y)) => x == y,
        (Payload::Int(x), Payload::Int(y)) => x == y,
        (Payload::Float(x), Payload::Float(y)) => canonical_bits(*x) == canonical_bits(*y),
        (Payload::Str(x), Payload::Str(y)) => **x == **y,
        (Payload::Bytes(x), Payload::Bytes(y)) => x == y,
        (Payload::Tuple(x), Payload::Tuple(y)) => {
            x.len() == y.len() && x.iter().zip(y.iter()).all(|(p, q)| equal_values(p, q))
        }
        _ => false,
    }
}

impl<P: RuntimePolicy> Hash for Key<P> {
    fn hash<H: Hasher>(&self, state: &mut H) {
        hash_value(&self.0, state);
    }
}

impl<P: RuntimePolicy> PartialEq for Key<P> {
    fn eq(&self, other: &Self) -> bool {
        equal_values(&self.0, &other.0)
    }
}

impl<P: RuntimePolicy> Eq for Key<P> {}

impl<P: RuntimePolicy> Hash for KeyView<P> {
    fn hash<H: Hasher>(&self, state: &mut H) {
        hash_value(&self.0, state);
    }
}

impl<P: RuntimePolicy> Equivalent<Key<P>> for KeyView<P> {
    fn equivalent(&self, key: &Key<P>) -> bool {
        equal_values(&self.0, &key.0)
    }
}

impl<P: RuntimePolicy> Key<P> {
    /// The key object.
    pub fn object(&self) -> &Ref<P> {
        &self.0
    }
}

impl<P: RuntimePolicy> core::fmt::Debug for Key<P> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        core::fmt::Debug::fmt(&*self.0, f)
    }
}
