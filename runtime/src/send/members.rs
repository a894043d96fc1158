//! What a moved or copied graph hands to the receiver besides its root:
//! the graph's objects, for the receiver to re-bias; and the rule every
//! walk over a graph to send shares, that frozen (and immortal) objects stay
//! where they are.

use core::ptr::NonNull;

use crate::object::Object;
use crate::policy::RuntimePolicy;

/// The objects of an isolated graph (frozen and immortal ones aside), each
/// once, as plain pointers: the graph's root travels with them and keeps
/// them alive.
pub(super) struct Members<P: RuntimePolicy>(pub(super) Vec<NonNull<Object<P>>>);

// SAFETY: the pointers name objects of one isolated graph whose root travels
// in the same message: the sender gave up every reference into the graph, so
// the receiver is the only thread that can reach them, as it would be
// through the root alone.
unsafe impl<P: RuntimePolicy> Send for Members<P> {}

/// Whether a graph walk leaves `object` where it is: frozen objects are
/// shared by every interpreter, never moved, copied or adopted. Immortal
/// objects are among them: every way an object becomes immortal (the
/// singletons, `Ref::immortal_native`, `Ref::into_immortal`, a frozen
/// component's members) freezes it too, so one flag answers for both.
#[inline]
pub(super) fn stays_shared<P: RuntimePolicy>(object: &Object<P>) -> bool {
    let frozen = object.is_frozen();
    debug_assert!(
        frozen || !object.rc_header().is_immortal(),
        "an immortal object that is not frozen"
    );
    frozen
}
