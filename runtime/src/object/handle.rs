//! `Ref<P>`: a counted reference to a runtime object.

use core::marker::PhantomData;
use core::ops::Deref;
use core::ptr::NonNull;

use brisk_gc::SlotOps;
use brisk_refcount::RcHeader;

use super::tracked::TrackedSet;
use super::{dealloc_object, Kind, NativeObject, Number, Object, Payload};
use crate::live;
use crate::policy::RuntimePolicy;
use crate::sync::Ordering::Release;

/// A counted reference to a runtime object. Cloning adds a reference
/// through the policy `P`; dropping gives it back, and the last drop frees
/// the object (on whichever thread the policy decides).
///
/// Under [`Gil`](crate::Gil), handles may only be cloned or dropped by a
/// thread that holds the global lock (an attached
/// [`Mutator`](crate::Mutator)).
#[repr(transparent)]
pub struct Ref<P: RuntimePolicy> {
    ptr: NonNull<Object<P>>,
    _policy: PhantomData<P>,
}

// SAFETY: objects are thread-safe: immutable payloads, per-object locks on
// mutable ones, and counting through a thread-safe policy (or, for `Gil`,
// under the global lock every mutator holds).
unsafe impl<P: RuntimePolicy> Send for Ref<P> {}
// SAFETY: as above.
unsafe impl<P: RuntimePolicy> Sync for Ref<P> {}

/// A new object holding `payload`, not yet placed in memory: one reference,
/// owned by the calling thread, no flags. Making it is not a safepoint
/// (`RcPolicy::new_header_unpolled`).
#[inline(always)]
fn fresh<P: RuntimePolicy>(payload: Payload<P>) -> Object<P> {
    Object {
        header: super::ObjHeader {
            rc: P::new_header_unpolled(),
            flags: crate::sync::AtomicU32::new(0),
            kind: payload.kind(),
        },
        payload,
    }
}

impl<P: RuntimePolicy> Ref<P> {
    /// How runtime slots count their values.
    pub(crate) const SLOT_OPS: SlotOps = SlotOps {
        incref: P::incref,
        drop_ref: drop_header::<P>,
    };

    /// Allocates an object with one reference, owned by this thread.
    ///
    /// Not a safepoint: the thread's merge queue is taken in at the
    /// mutator's own safepoints ([`crate::Mutator::safepoint`]), as CPython
    /// merges it from the eval breaker, not at every allocation.
    #[inline(always)]
    pub(crate) fn alloc(payload: Payload<P>) -> Self {
        let kind = payload.kind();
        // SAFETY: the payload written is of kind `kind`.
        unsafe { Self::alloc_in_place(kind, |place| place.write(payload)) }
    }

    /// [`alloc`](Self::alloc) of an integer or a float, written into the
    /// object as a tag and a word. A number's payload built first, on the
    /// stack, is written a byte and a word at a time and then copied in
    /// 16-byte blocks, which stalls store-to-load forwarding: in float
    /// arithmetic that cost more than the allocation itself.
    #[inline(always)]
    pub(crate) fn alloc_number(number: Number) -> Self {
        let kind = match number {
            Number::Int(_) => Kind::Int,
            Number::Float(_) => Kind::Float,
        };
        // SAFETY: `write_number` writes a payload of kind `kind` into the
        // fresh object's payload field.
        unsafe { Self::alloc_in_place(kind, |place| Payload::write_number(place, number)) }
    }

    /// Allocates an object whose payload `write` writes in place.
    ///
    /// # Safety
    ///
    /// `write` initialises the payload it is given, with a payload of kind
    /// `kind` that is not a container.
    #[inline(always)]
    unsafe fn alloc_in_place(kind: Kind, write: impl FnOnce(*mut Payload<P>)) -> Self {
        debug_assert!(!kind.is_tracked(), "containers go through `alloc_tracked`");
        let mut object = Box::<Object<P>>::new_uninit();
        let place = object.as_mut_ptr();
        // SAFETY: `place` is the box's own, aligned and unaliased memory;
        // the header is written here and the payload by `write` (the
        // caller's promise) before `assume_init`.
        let object = unsafe {
            (&raw mut (*place).header).write(super::ObjHeader {
                rc: P::new_header_unpolled(),
                flags: crate::sync::AtomicU32::new(0),
                kind,
            });
            write(&raw mut (*place).payload);
            object.assume_init()
        };
        live::allocated();
        let ptr = NonNull::from(Box::leak(object));
        // A pointer to the object may later come from a reference (a
        // `&Object` handed to `to_ref`, a `&RcHeader` kept by a queue),
        // whose provenance cannot free the box; `free_memory` recovers the
        // box's provenance, exposed here, from the address.
        let _ = ptr.as_ptr().expose_provenance();
        Ref {
            ptr,
            _policy: PhantomData,
        }
    }

    /// Allocates a container with one reference, owned by this thread, and
    /// links it into the tracked set of the allocating interpreter.
    pub(crate) fn alloc_tracked(set: &TrackedSet, payload: Payload<P>) -> Self {
        let object = set.alloc(fresh(payload));
        live::allocated();
        Ref {
            ptr: object,
            _policy: PhantomData,
        }
    }

    /// A native object that is never freed and never counted: immortal and
    /// frozen, so every policy's increment and decrement on it does nothing
    /// and every interpreter of every runtime may hold it, as CPython treats
    /// its static builtin functions (PEP 683). Each call leaks one object:
    /// it is meant for a fixed set made once per process, such as an
    /// embedder's builtin functions (made once with
    /// [`leaked_once`](crate::statics::leaked_once)).
    ///
    /// The object is handed back if it holds references (its
    /// [`trace`](NativeObject::trace) visits something) or refuses to
    /// [`freeze`](NativeObject::freeze): an object that is never freed
    /// could never release what it holds.
    ///
    /// ```
    /// use brisk_runtime::{Biased, NativeObject, Object, Ref};
    ///
    /// struct Answer;
    /// impl NativeObject<Biased> for Answer {
    ///     fn type_name(&self) -> &'static str { "answer" }
    ///     fn trace(&self, _visit: &mut dyn FnMut(&Object<Biased>)) {}
    ///     fn freeze(&self) -> bool { true }
    /// }
    ///
    /// let answer = Ref::<Biased>::immortal_native(Box::new(Answer)).ok().unwrap();
    /// assert!(answer.rc_header().is_immortal());
    /// assert!(answer.is_frozen());
    /// ```
    pub fn immortal_native(
        object: Box<dyn NativeObject<P>>,
    ) -> Result<Self, Box<dyn NativeObject<P>>> {
        let mut holds_references = false;
        object.trace(&mut |_| holds_references = true);
        if holds_references || !object.freeze() {
            return Err(object);
        }
        Ok(Self::leak_immortal(Payload::Native(object)))
    }

    /// Makes a new number, string or bytes object immortal and frozen:
    /// never freed and never counted again, shareable by every interpreter
    /// of every runtime. CPython's free-threaded build does this to the
    /// constants its compiler makes (gh-118527), so that loading one counts
    /// nothing; an embedder's compiler can do the same. The object leaves
    /// the [`live_objects`](crate::live_objects) count, and its memory is
    /// never given back.
    ///
    /// The reference is handed back unchanged if the object is not such a
    /// leaf (a container or a native could never release what it holds) or
    /// if it is not provably the only reference (another thread could be
    /// counting it).
    ///
    /// ```
    /// use brisk_runtime::{Biased, Ref, Runtime};
    ///
    /// let runtime = Runtime::<Biased>::new();
    /// let m = runtime.new_interpreter("main").attach();
    /// let pi = Ref::into_immortal(m.float(3.14)).ok().unwrap();
    /// assert!(pi.rc_header().is_immortal() && pi.is_frozen());
    /// let list = m.list(vec![]);
    /// assert!(Ref::into_immortal(list).is_err());
    /// ```
    pub fn into_immortal(this: Self) -> Result<Self, Self> {
        // Only the plain marker: a forwarded header (a frozen cycle's
        // member) is counted on its component, and is no leaf anyway.
        if this.rc_header().is_plain_immortal() {
            return Ok(this);
        }
        let leaf = matches!(
            this.payload,
            Payload::Int(_) | Payload::Float(_) | Payload::Str(_) | Payload::Bytes(_)
        );
        if !leaf || P::exact_count(this.rc_header()) != Some(1) {
            return Err(this);
        }
        // Release, as `freeze` sets the flag: nobody else holds the object
        // yet, and it reaches another thread only through a channel or a
        // lock, which orders this store before that thread's reads.
        this.header.flags.fetch_or(super::FROZEN, Release);
        // SAFETY: `this` is the only reference (its exact count is 1) and
        // is kept, uncounted, forever: the object is leaked on purpose.
        unsafe { this.rc_header().make_immortal() };
        live::freed();
        Ok(this)
    }

    /// Another reference, as [`Clone::clone`] makes, but testing first
    /// whether the object is immortal, in which case nothing is counted
    /// and the policy is not asked at all.
    ///
    /// For places where the object is nearly always immortal, such as an
    /// interpreter loading one of its constants. `Deferred` tests its hot
    /// entry before anything else on every count (so that a thread counting
    /// a hot shared object never reads that object's header); this skips
    /// that test. The price is one read of the header's count word first,
    /// which for a mortal object another thread owns may be on a line that
    /// thread is writing: use plain `clone` where that is common.
    #[inline]
    pub fn clone_immortal_first(&self) -> Self {
        // A forwarded header (a frozen component's member) is counted on
        // its target, so only the plain immortal marker skips the count.
        if self.rc_header().is_plain_immortal() {
            return self.singleton_copy();
        }
        self.clone()
    }

    /// The payload's address, with the provenance of the allocation, for
    /// a write the caller has proven nobody else can see. This reference
    /// may have been made from a `&Object` (`to_ref`), whose provenance
    /// cannot write; the allocation's own, exposed when it was made, can
    /// (as `free_memory` recovers it to free the box).
    pub(crate) fn payload_ptr(&self) -> *mut Payload<P> {
        let object = core::ptr::with_exposed_provenance_mut::<Object<P>>(self.ptr.as_ptr().addr());
        // SAFETY: the address of the live object this reference counts.
        unsafe { &raw mut (*object).payload }
    }

    /// Whether this is the only reference to its object, as far as this
    /// thread can prove (never for an immortal object).
    #[inline]
    pub fn is_unique(&self) -> bool {
        P::is_unique(self.rc_header())
    }

    /// Gives up this reference, as dropping it does, but testing first
    /// whether the object is immortal; see [`Ref::clone_immortal_first`]
    /// for where that pays.
    #[inline]
    pub fn drop_immortal_first(this: Self) {
        if this.rc_header().is_plain_immortal() {
            core::mem::forget(this);
        }
    }

    /// An immortal object: never freed, never counted.
    pub(crate) fn leak_immortal(payload: Payload<P>) -> Self {
        let kind = payload.kind();
        let object = Box::new(Object {
            header: super::ObjHeader {
                rc: RcHeader::new_immortal(),
                flags: crate::sync::AtomicU32::new(super::FROZEN),
                kind,
            },
            payload,
        });
        Ref {
            ptr: NonNull::from(Box::leak(object)),
            _policy: PhantomData,
        }
    }

    /// Another reference to one of the runtime's singletons (`None`, the
    /// booleans, the small integers), without counting it: their headers
    /// are immortal and never forward, so every policy's increment and
    /// decrement on them does nothing, and the increment can be skipped as
    /// CPython skips it in `Py_RETURN_NONE` since PEP 683.
    #[inline]
    pub(crate) fn singleton_copy(&self) -> Self {
        debug_assert!(
            self.rc_header().is_immortal() && self.rc_header().forward_target().is_none(),
            "only a plain immortal object may be copied without a count"
        );
        Ref {
            ptr: self.ptr,
            _policy: PhantomData,
        }
    }

    /// Counts a new reference to a borrowed object.
    ///
    /// # Safety
    ///
    /// `object` is alive (borrowed from a counted reference).
    #[inline]
    pub(crate) unsafe fn from_borrowed(object: &Object<P>) -> Self {
        // SAFETY: alive, per the caller.
        unsafe { P::incref(&object.header.rc) };
        Ref {
            ptr: NonNull::from(object),
            _policy: PhantomData,
        }
    }

    /// Takes over a counted reference by header.
    ///
    /// # Safety
    ///
    /// `header` heads an `Object<P>` and the caller owns one counted reference.
    #[inline]
    pub(crate) unsafe fn from_header(header: NonNull<RcHeader>) -> Self {
        Ref {
            ptr: header.cast(),
            _policy: PhantomData,
        }
    }

    /// Gives up the handle without dropping its reference.
    #[inline]
    pub(crate) fn into_header(self) -> NonNull<RcHeader> {
        core::mem::ManuallyDrop::new(self).ptr.cast()
    }

    /// The object's address, for identity.
    #[inline]
    pub fn as_ptr(this: &Self) -> *const Object<P> {
        this.ptr.as_ptr()
    }

    /// Whether two handles name the same object.
    #[inline]
    pub fn ptr_eq(a: &Self, b: &Self) -> bool {
        a.ptr == b.ptr
    }

    /// A snapshot of the reference count (see `RcPolicy::strong_count`).
    pub fn strong_count(this: &Self) -> usize {
        P::strong_count(&this.header.rc)
    }
}

/// Drops one `Ref<P>` given its header: the slot's release function.
///
/// # Safety
///
/// `header` heads an `Object<P>` and the caller owns one counted reference.
unsafe fn drop_header<P: RuntimePolicy>(header: NonNull<RcHeader>) {
    // SAFETY: forwarded from the caller.
    drop(unsafe { Ref::<P>::from_header(header) });
}

impl<P: RuntimePolicy> Clone for Ref<P> {
    #[inline]
    fn clone(&self) -> Self {
        // SAFETY: `self` is a counted reference.
        unsafe { Ref::from_borrowed(self) }
    }
}

impl<P: RuntimePolicy> Drop for Ref<P> {
    #[inline]
    fn drop(&mut self) {
        // SAFETY: we give up our counted reference; `dealloc_object::<P>`
        // frees any runtime object of policy `P`.
        unsafe { P::decref(self.ptr.cast(), dealloc_object::<P>) }
    }
}

impl<P: RuntimePolicy> Deref for Ref<P> {
    type Target = Object<P>;

    #[inline(always)]
    fn deref(&self) -> &Object<P> {
        // SAFETY: our counted reference keeps the object alive.
        unsafe { self.ptr.as_ref() }
    }
}

impl<P: RuntimePolicy> core::fmt::Debug for Ref<P> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        core::fmt::Debug::fmt(&**self, f)
    }
}
