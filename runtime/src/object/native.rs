//! Native callables and embedders' native types.

use core::any::Any;

use super::{Object, Ref};
use crate::mutator::Mutator;
use crate::policy::RuntimePolicy;

/// The signature of a native callable: the calling mutator (to allocate
/// results) and the arguments; an error is a message for the caller's
/// language to raise.
pub type NativeFnPtr<P> = fn(&Mutator<P>, &[Ref<P>]) -> Result<Ref<P>, String>;

/// A native callable: a name and a function pointer. Stateless, so it can be
/// frozen, shared and copied.
pub struct NativeFn<P: RuntimePolicy> {
    /// The name it is called by.
    pub name: &'static str,
    /// The function.
    pub func: NativeFnPtr<P>,
}

impl<P: RuntimePolicy> Clone for NativeFn<P> {
    fn clone(&self) -> Self {
        NativeFn {
            name: self.name,
            func: self.func,
        }
    }
}

/// A type an embedder adds to the object model (a function object, a
/// class instance, a handle to a file…).
///
/// Objects of such a type live in a `Native` object; the runtime calls
/// these methods to walk, freeze, move and copy graphs that contain them.
/// [`Object::downcast_native`] gives the embedder its own type back (every
/// `NativeObject` is [`Any`], and a `&dyn NativeObject` coerces to a
/// `&dyn Any`).
pub trait NativeObject<P: RuntimePolicy>: Any + Send + Sync {
    /// The type's name, for messages.
    fn type_name(&self) -> &'static str;

    /// Calls `visit` on every object this one holds a counted reference to.
    /// Freezing, move checks and (later) cycle collection rely on it seeing
    /// every such reference.
    fn trace(&self, visit: &mut dyn FnMut(&Object<P>));

    /// Makes the object immutable if it can be, and says whether it now is.
    /// A frozen graph may only contain objects that return `true`. The
    /// default refuses. It is asked only once the rest of the graph is known
    /// to be freezable, but if another native object of the same graph
    /// refuses, the freeze fails after this one has answered `true`.
    fn freeze(&self) -> bool {
        false
    }

    /// A copy for another interpreter, for objects that hold no references
    /// (`trace` visits nothing). `None` (the default) makes
    /// `SendMode::Copy` fail with `NotCopyable`.
    fn copy(&self) -> Option<Box<dyn NativeObject<P>>> {
        None
    }

    /// Gives up the references this object holds, moving them into
    /// `released`, so the cycle collector can break a garbage cycle through
    /// it (CPython's `tp_clear`). Types that must always hold a value can put
    /// `none` in its place. Called only on garbage: no other thread can reach
    /// the object. The default keeps everything, so a cycle made only of
    /// objects that do not clear is never freed.
    fn clear(&self, none: &Ref<P>, released: &mut Vec<Ref<P>>) {
        let _ = (none, released);
    }
}
