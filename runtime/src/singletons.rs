//! The immortal objects of each counting policy: `None`, the booleans and
//! the small integers (CPython's cached range). They are made once per
//! policy type, on first use, and never freed, so every runtime of that
//! policy hands out the same ones and a handle to one can outlive any
//! runtime.

use crate::object::{Payload, Ref};
use crate::policy::RuntimePolicy;
use crate::statics::leaked_once;

/// Smallest and largest cached immortal integer (CPython's range).
pub(crate) const SMALL_INT_MIN: i64 = -5;
pub(crate) const SMALL_INT_MAX: i64 = 256;

/// The immortal objects of one policy: `None`, the booleans and the small
/// integers. Created once per policy type and never freed, so handles to
/// them can outlive any runtime.
pub(crate) struct Singletons<P: RuntimePolicy> {
    pub(crate) none: Ref<P>,
    pub(crate) true_: Ref<P>,
    pub(crate) false_: Ref<P>,
    pub(crate) small_ints: Box<[Ref<P>]>,
}

pub(crate) fn singletons<P: RuntimePolicy>() -> &'static Singletons<P> {
    leaked_once(|| Singletons {
        none: Ref::leak_immortal(Payload::None),
        true_: Ref::leak_immortal(Payload::Bool(true)),
        false_: Ref::leak_immortal(Payload::Bool(false)),
        small_ints: (SMALL_INT_MIN..=SMALL_INT_MAX)
            .map(|i| Ref::leak_immortal(Payload::Int(i)))
            .collect(),
    })
}
