//! `Brc<T>`: a drop-in alternative to `Arc<T>` on the biased protocol.
//!
//! A `Brc` is one pointer to a heap block holding an [`RcHeader`] and the
//! value. Cloning and dropping it on the thread that created it costs a
//! Relaxed load and store, as `Rc` does; on any other thread it costs what
//! `Arc` costs, plus a merge-queue hand-off when that thread drops the last
//! reference it can see (see [`crate::biased`]).
//!
//! The policy is a type parameter (default [`Biased`]) so that benchmarks can
//! put the same handle over [`Atomic`](crate::Atomic) or
//! [`NonAtomic`](crate::NonAtomic) counts.
//!
//! # Differences from `Arc`
//!
//! * No weak references, and `T` must be `Sized`.
//! * The policy is a type, where `Arc`'s allocator is a value. `Brc::new`,
//!   [`Brc::pin`], [`Brc::from_raw`], [`Brc::increment_strong_count`] and
//!   [`Brc::decrement_strong_count`] work on `Brc<T>` (policy [`Biased`]),
//!   as `Arc`'s work on `Arc<T>`, so code ports by renaming. Their `_in`
//!   forms serve every policy and take no allocator argument: the policy is
//!   named in the type, `Brc::<T, Atomic>::from_raw_in(ptr)`.
//! * Uniqueness ([`Brc::get_mut`], [`Brc::try_unwrap`], [`Brc::make_mut`]) is
//!   exact on the owner thread and for merged objects; elsewhere an unmerged
//!   object is reported shared, because its owner's count cannot be read
//!   reliably from another thread. [`Brc::make_mut`] and
//!   [`Brc::unwrap_or_clone`] then clone, which is always correct.
//! * [`Brc::strong_count`] on a non-owner thread is a snapshot that may say
//!   1 while [`Brc::get_mut`] and [`Brc::try_unwrap`] refuse there: the
//!   owner's half of the count was read without synchronisation with the
//!   owner, so it proves nothing.
//! * [`Brc::into_inner`] decides by the count, as `Arc`'s does (exactly one
//!   of the threads releasing the last references gets the value), on the
//!   owner thread and for merged objects. A non-owner's release of the last
//!   reference of an unmerged object goes through the owner's merge queue:
//!   it returns `None`, and the owner drops the value at its next
//!   [`safepoint`](crate::safepoint).

use core::borrow::Borrow;
use core::cmp::Ordering;
use core::fmt;
use core::hash::{Hash, Hasher};
use core::marker::PhantomData;
use core::mem::{offset_of, ManuallyDrop};
use core::ops::Deref;
use core::pin::Pin;
use core::ptr::NonNull;

use crate::header::RcHeader;
use crate::policy::{Biased, RcPolicy};

/// The heap block: header first, so a header pointer is a block pointer.
#[repr(C)]
struct BrcInner<T> {
    header: RcHeader,
    value: T,
}

/// A thread-safe reference-counted pointer with biased counting.
///
/// ```
/// use brisk_refcount::Brc;
///
/// let a = Brc::new(String::from("hello"));
/// let b = Brc::clone(&a); // owner thread: no atomic instruction
/// assert_eq!(*b, "hello");
/// std::thread::spawn(move || assert_eq!(b.len(), 5)).join().unwrap();
/// ```
pub struct Brc<T, P: RcPolicy = Biased> {
    ptr: NonNull<BrcInner<T>>,
    _owns: PhantomData<BrcInner<T>>,
    _policy: PhantomData<P>,
}

// SAFETY: as for `Arc`: the value is shared between threads (`Sync`) and may
// be dropped on any thread (`Send`); the policy must itself be thread-safe,
// which `NonAtomic` is not.
unsafe impl<T: Send + Sync, P: RcPolicy + Send + Sync> Send for Brc<T, P> {}
// SAFETY: as above.
unsafe impl<T: Send + Sync, P: RcPolicy + Send + Sync> Sync for Brc<T, P> {}

/// Frees a `BrcInner<T>` given its header: the [`Dealloc`](crate::Dealloc)
/// carried by `Brc<T>`'s queue entries.
///
/// # Safety
///
/// `header` is the header of a `BrcInner<T>` made by `Brc::new`, with no
/// references left.
unsafe fn dealloc_inner<T>(header: NonNull<RcHeader>) {
    // SAFETY: the header is the first field of a `#[repr(C)] BrcInner<T>`
    // allocated by `Box`, and nobody can reach it any more.
    drop(unsafe { Box::from_raw(header.cast::<BrcInner<T>>().as_ptr()) });
}

impl<T> Brc<T> {
    /// Allocates `value` with one reference, owned by this thread.
    ///
    /// This is a safepoint: objects other threads queued back to this thread
    /// are merged first, so a thread that keeps allocating never lets its
    /// queue grow without bound.
    ///
    /// ```
    /// let five = brisk_refcount::Brc::new(5);
    /// assert_eq!(*five, 5);
    /// ```
    #[inline]
    pub fn new(value: T) -> Self {
        Self::new_in(value)
    }

    /// Allocates `value` and pins it: the value never moves again, as with
    /// `Arc::pin`. [`Brc::pin_in`] does the same under any policy.
    ///
    /// ```
    /// use std::marker::PhantomPinned;
    /// use std::pin::Pin;
    /// use brisk_refcount::Brc;
    ///
    /// let a: Pin<Brc<(u8, PhantomPinned)>> = Brc::pin((1, PhantomPinned));
    /// let b = Pin::clone(&a);
    /// assert_eq!(a.0, 1);
    /// assert!(std::ptr::eq(&*a, &*b));
    /// ```
    #[inline]
    pub fn pin(value: T) -> Pin<Self> {
        Self::pin_in(value)
    }

    /// Rebuilds a handle from a pointer returned by [`Brc::into_raw`],
    /// taking over the reference it gave up. [`Brc::from_raw_in`] does the
    /// same under any policy.
    ///
    /// ```
    /// use brisk_refcount::Brc;
    /// let ptr = Brc::into_raw(Brc::new(String::from("raw")));
    /// // SAFETY: `ptr` came from `into_raw` of a `Brc<String>`, whose
    /// // reference we take back exactly once.
    /// let back = unsafe { Brc::from_raw(ptr) };
    /// assert_eq!(*back, "raw");
    /// ```
    ///
    /// # Safety
    ///
    /// As [`Brc::from_raw_in`] with the default policy, [`Biased`].
    #[inline]
    pub unsafe fn from_raw(ptr: *const T) -> Self {
        // SAFETY: forwarded from the caller.
        unsafe { Self::from_raw_in(ptr) }
    }

    /// Adds a reference to the object behind a pointer returned by
    /// [`Brc::into_raw`], without making a handle: a later
    /// [`Brc::from_raw`] or [`Brc::decrement_strong_count`] gives it back.
    ///
    /// ```
    /// use brisk_refcount::Brc;
    /// let ptr = Brc::into_raw(Brc::new(5));
    /// // SAFETY: `ptr` came from `into_raw` of a `Brc<i32>` and its
    /// // reference is still held; each call below adds or gives back one.
    /// unsafe {
    ///     Brc::increment_strong_count(ptr);
    ///     let a = Brc::from_raw(ptr);
    ///     assert_eq!(Brc::strong_count(&a), 2);
    ///     Brc::decrement_strong_count(ptr);
    ///     assert_eq!(Brc::strong_count(&a), 1);
    /// }
    /// ```
    ///
    /// # Safety
    ///
    /// As [`Brc::increment_strong_count_in`] with the default policy,
    /// [`Biased`].
    #[inline]
    pub unsafe fn increment_strong_count(ptr: *const T) {
        // SAFETY: forwarded from the caller.
        unsafe { Self::increment_strong_count_in(ptr) }
    }

    /// Gives back a reference to the object behind a pointer returned by
    /// [`Brc::into_raw`], as dropping the handle [`Brc::from_raw`] would
    /// make: the value is dropped if it was the last reference.
    ///
    /// ```
    /// use brisk_refcount::Brc;
    /// let a = Brc::new(5);
    /// let ptr = Brc::into_raw(Brc::clone(&a));
    /// assert_eq!(Brc::strong_count(&a), 2);
    /// // SAFETY: `ptr` came from `into_raw` of a `Brc<i32>`, and we give
    /// // its reference back exactly once.
    /// unsafe { Brc::decrement_strong_count(ptr) };
    /// assert_eq!(Brc::strong_count(&a), 1);
    /// ```
    ///
    /// # Safety
    ///
    /// As [`Brc::decrement_strong_count_in`] with the default policy,
    /// [`Biased`].
    #[inline]
    pub unsafe fn decrement_strong_count(ptr: *const T) {
        // SAFETY: forwarded from the caller.
        unsafe { Self::decrement_strong_count_in(ptr) }
    }
}

impl<T, P: RcPolicy> Brc<T, P> {
    /// Allocates `value` with one reference under policy `P`.
    ///
    /// ```
    /// use brisk_refcount::{Atomic, Brc};
    /// let x: Brc<u32, Atomic> = Brc::new_in(7);
    /// assert_eq!(Brc::strong_count(&x), 1);
    /// ```
    #[inline]
    pub fn new_in(value: T) -> Self {
        let inner = Box::new(BrcInner {
            header: P::new_header(),
            value,
        });
        Brc {
            ptr: NonNull::from(Box::leak(inner)),
            _owns: PhantomData,
            _policy: PhantomData,
        }
    }

    /// [`Brc::pin`] under policy `P`.
    ///
    /// ```
    /// use brisk_refcount::{Atomic, Brc};
    /// let a = Brc::<_, Atomic>::pin_in(3);
    /// assert_eq!(*a, 3);
    /// ```
    #[inline]
    pub fn pin_in(value: T) -> Pin<Self> {
        // SAFETY: the value lives in a heap block that stays where it is
        // until the value is dropped in place by the last reference. Every
        // API that moves the value out (`try_unwrap`, `into_inner`,
        // `unwrap_or_clone`) or borrows it mutably (`get_mut`, `make_mut`)
        // needs the `Brc` itself, which `Pin` hands out only for `T: Unpin`.
        unsafe { Pin::new_unchecked(Self::new_in(value)) }
    }

    /// Gives up the handle without dropping its reference, returning a
    /// pointer to the value. [`Brc::from_raw`] (or [`Brc::from_raw_in`] for
    /// another policy) takes the reference back; until then the value
    /// stays alive.
    ///
    /// ```
    /// use brisk_refcount::Brc;
    /// let ptr = Brc::into_raw(Brc::new(7));
    /// assert_eq!(unsafe { *ptr }, 7);
    /// // SAFETY: `ptr` came from `into_raw` of a `Brc<i32>`; taken back once.
    /// drop(unsafe { Brc::from_raw(ptr) });
    /// ```
    #[inline]
    #[must_use = "losing the pointer leaks the value"]
    pub fn into_raw(this: Self) -> *const T {
        Self::as_ptr(&ManuallyDrop::new(this))
    }

    /// Rebuilds a `Brc<T, P>` from a pointer returned by [`Brc::into_raw`],
    /// taking over one counted reference.
    ///
    /// ```
    /// use brisk_refcount::{Atomic, Brc};
    /// let a: Brc<u64, Atomic> = Brc::new_in(11);
    /// let ptr = Brc::into_raw(a);
    /// // SAFETY: `ptr` came from `into_raw` of a `Brc<u64, Atomic>`.
    /// let a = unsafe { Brc::<u64, Atomic>::from_raw_in(ptr) };
    /// assert_eq!(Brc::try_unwrap(a), Ok(11));
    /// ```
    ///
    /// # Safety
    ///
    /// * `ptr` was returned by [`Brc::into_raw`] of a `Brc<T, P>` with the
    ///   same `T` and `P` (`Arc::from_raw` also takes the pointer of an
    ///   `Arc<U>` with `U` of the same size and alignment; this does not).
    /// * The caller owns the counted reference it takes over: the one
    ///   `into_raw` gave up, or one added by
    ///   [`Brc::increment_strong_count_in`]. Each is taken back once.
    /// * The new handle is used only where a `Brc<T, P>` could be sent:
    ///   a pointer does not carry the handle's `!Send` (a
    ///   `Brc<T, NonAtomic>` must stay on its thread).
    #[inline]
    pub unsafe fn from_raw_in(ptr: *const T) -> Self {
        // The value is a field of `#[repr(C)] BrcInner<T>`, so the block
        // starts a fixed number of bytes before it, whatever `P` is.
        let offset = offset_of!(BrcInner<T>, value);
        // SAFETY: `ptr` points at the `value` field of a live `BrcInner<T>`
        // (it came from `into_raw`, whose pointer keeps the provenance of
        // the whole block), so stepping back by the field's offset stays
        // in that allocation and lands on its start.
        let block = unsafe { ptr.byte_sub(offset) }.cast::<BrcInner<T>>();
        Brc {
            // SAFETY: the start of a live allocation is not null.
            ptr: unsafe { NonNull::new_unchecked(block.cast_mut()) },
            _owns: PhantomData,
            _policy: PhantomData,
        }
    }

    /// [`Brc::increment_strong_count`] under policy `P`: adds a reference
    /// through `P::incref`.
    ///
    /// ```
    /// use brisk_refcount::{Brc, NonAtomic};
    /// let ptr = Brc::into_raw(Brc::<_, NonAtomic>::new_in('x'));
    /// // SAFETY: `ptr` came from `into_raw` of a `Brc<char, NonAtomic>` on
    /// // this thread; the two references are taken back once each.
    /// unsafe {
    ///     Brc::<char, NonAtomic>::increment_strong_count_in(ptr);
    ///     assert_eq!(Brc::strong_count(&Brc::<char, NonAtomic>::from_raw_in(ptr)), 2);
    ///     Brc::<char, NonAtomic>::decrement_strong_count_in(ptr);
    /// }
    /// ```
    ///
    /// # Safety
    ///
    /// `ptr` was returned by [`Brc::into_raw`] of a `Brc<T, P>` with the
    /// same `T` and `P`; the caller holds a counted reference to it for the
    /// whole call, and uses it only where a `Brc<T, P>` could be sent (see
    /// [`Brc::from_raw_in`]).
    #[inline]
    pub unsafe fn increment_strong_count_in(ptr: *const T) {
        // SAFETY: forwarded from the caller. `ManuallyDrop` keeps the
        // caller's reference where it is: this handle only borrows it.
        let this = ManuallyDrop::new(unsafe { Self::from_raw_in(ptr) });
        // The clone's reference is the one added; it is left counted.
        let _added: ManuallyDrop<Self> = ManuallyDrop::clone(&this);
    }

    /// [`Brc::decrement_strong_count`] under policy `P`: gives a reference
    /// back through `P::decref`, and may drop the value. Under [`Biased`],
    /// a non-owner's last release of an object the owner has not merged
    /// drops it at the owner's next [`safepoint`](crate::safepoint), as
    /// dropping a handle there does.
    ///
    /// ```
    /// use brisk_refcount::{Atomic, Brc};
    /// let a: Brc<i32, Atomic> = Brc::new_in(1);
    /// let ptr = Brc::into_raw(Brc::clone(&a));
    /// // SAFETY: `ptr` came from `into_raw` of a `Brc<i32, Atomic>`; its
    /// // reference is given back once.
    /// unsafe { Brc::<i32, Atomic>::decrement_strong_count_in(ptr) };
    /// assert_eq!(Brc::strong_count(&a), 1);
    /// ```
    ///
    /// # Safety
    ///
    /// `ptr` was returned by [`Brc::into_raw`] of a `Brc<T, P>` with the
    /// same `T` and `P`; the caller gives up a counted reference it owns
    /// (so `ptr` may dangle afterwards), and calls this only where a
    /// `Brc<T, P>` could be sent (see [`Brc::from_raw_in`]).
    #[inline]
    pub unsafe fn decrement_strong_count_in(ptr: *const T) {
        // SAFETY: forwarded from the caller; dropping the handle gives the
        // reference back.
        drop(unsafe { Self::from_raw_in(ptr) });
    }

    #[inline(always)]
    fn inner(&self) -> &BrcInner<T> {
        // SAFETY: our reference keeps the block alive while `self` is borrowed.
        unsafe { self.ptr.as_ref() }
    }

    #[inline(always)]
    pub(crate) fn header_ptr(&self) -> NonNull<RcHeader> {
        self.ptr.cast()
    }

    /// Whether two handles point to the same allocation.
    ///
    /// ```
    /// use brisk_refcount::Brc;
    /// let a = Brc::new(1);
    /// let b = Brc::clone(&a);
    /// assert!(Brc::ptr_eq(&a, &b));
    /// assert!(!Brc::ptr_eq(&a, &Brc::new(1)));
    /// ```
    #[inline]
    pub fn ptr_eq(this: &Self, other: &Self) -> bool {
        this.ptr == other.ptr
    }

    /// A pointer to the value, valid while any reference lives.
    ///
    /// ```
    /// use brisk_refcount::Brc;
    /// let a = Brc::new(3);
    /// assert_eq!(unsafe { *Brc::as_ptr(&a) }, 3);
    /// ```
    #[inline]
    pub fn as_ptr(this: &Self) -> *const T {
        // SAFETY: in bounds of the live block; no reference is created.
        unsafe { &raw const (*this.ptr.as_ptr()).value }
    }

    /// Gives up the handle without dropping its reference, returning the
    /// object's header. [`Brc::from_header`] takes it back.
    ///
    /// ```
    /// use brisk_refcount::Brc;
    /// let a = Brc::new(8);
    /// let header = Brc::into_header(a);
    /// // SAFETY: the header came from `into_header` of the same `Brc<i32>`.
    /// let a: Brc<i32> = unsafe { Brc::from_header(header) };
    /// assert_eq!(*a, 8);
    /// ```
    pub fn into_header(this: Self) -> NonNull<RcHeader> {
        ManuallyDrop::new(this).header_ptr()
    }

    /// Rebuilds a handle from a header, taking over one counted reference.
    ///
    /// # Safety
    ///
    /// `header` heads an object allocated by `Brc<T, P>::new_in` with the same
    /// `T` and `P`, and the caller owns one counted reference to it (from
    /// [`Brc::into_header`], or one it added with `P::incref`).
    pub unsafe fn from_header(header: NonNull<RcHeader>) -> Self {
        Brc {
            ptr: header.cast(),
            _owns: PhantomData,
            _policy: PhantomData,
        }
    }

    /// The `Dealloc` that frees this handle type's allocations, for code
    /// that drops references through the raw policy API (deferred
    /// decrements, retired slot values).
    pub fn dealloc_fn() -> crate::Dealloc {
        dealloc_inner::<T>
    }

    /// The header, for diagnostics and for code that reads the protocol
    /// state.
    ///
    /// ```
    /// use brisk_refcount::Brc;
    /// let a = Brc::new(());
    /// assert_eq!(Brc::header(&a).local_count(), 1);
    /// ```
    #[inline]
    pub fn header(this: &Self) -> &RcHeader {
        &this.inner().header
    }

    /// A **snapshot** of the number of references.
    ///
    /// Other threads may change it at any moment, and until the owner's next
    /// [`safepoint`](crate::safepoint) it may include a reference held by the
    /// owner's merge queue.
    ///
    /// ```
    /// use brisk_refcount::Brc;
    /// let a = Brc::new(0);
    /// let b = Brc::clone(&a);
    /// assert_eq!(Brc::strong_count(&a), 2);
    /// drop(b);
    /// assert_eq!(Brc::strong_count(&a), 1);
    /// ```
    #[inline]
    pub fn strong_count(this: &Self) -> usize {
        P::strong_count(Self::header(this))
    }

    /// A mutable reference to the value if this is the only reference.
    ///
    /// ```
    /// use brisk_refcount::Brc;
    /// let mut a = Brc::new(1);
    /// *Brc::get_mut(&mut a).unwrap() += 1;
    /// let b = Brc::clone(&a);
    /// assert!(Brc::get_mut(&mut a).is_none());
    /// drop(b);
    /// assert_eq!(*a, 2);
    /// ```
    #[inline]
    pub fn get_mut(this: &mut Self) -> Option<&mut T> {
        if P::is_unique(Self::header(this)) {
            // SAFETY: unique: no other reference exists or can be made, and
            // `this` is borrowed mutably.
            Some(unsafe { &mut (*this.ptr.as_ptr()).value })
        } else {
            None
        }
    }

    /// Moves the value out if this is the only reference; otherwise gives
    /// the handle back.
    ///
    /// ```
    /// use brisk_refcount::Brc;
    /// let a = Brc::new(String::from("x"));
    /// assert_eq!(Brc::try_unwrap(a).unwrap(), "x");
    /// let b = Brc::new(4);
    /// let c = Brc::clone(&b);
    /// let b = Brc::try_unwrap(b).unwrap_err();
    /// assert!(Brc::ptr_eq(&b, &c));
    /// ```
    pub fn try_unwrap(this: Self) -> Result<T, Self> {
        if !P::is_unique(Self::header(&this)) {
            return Err(this);
        }
        let this = ManuallyDrop::new(this);
        // SAFETY: unique, so we may take the block; `ManuallyDrop` stops the
        // handle's decrement. The header has no destructor.
        let inner = unsafe { Box::from_raw(this.ptr.as_ptr()) };
        Ok(inner.value)
    }

    /// Drops this reference and returns the value if it was the last one.
    ///
    /// The decrement itself decides, as in `Arc::into_inner`: when threads
    /// call it on the last handles, exactly one gets `Some` — on the owner
    /// thread, for a merged object on any thread, and always under
    /// [`Atomic`](crate::Atomic). A non-owner's call on the last reference
    /// of an unmerged object cannot know the owner's count: it returns
    /// `None` and the owner drops the value at its next
    /// [`safepoint`](crate::safepoint) (see the module's "Differences from
    /// `Arc`").
    ///
    /// ```
    /// use brisk_refcount::Brc;
    /// let a = Brc::new(1);
    /// let b = Brc::clone(&a);
    /// assert_eq!(Brc::into_inner(a), None);
    /// assert_eq!(Brc::into_inner(b), Some(1));
    /// ```
    pub fn into_inner(this: Self) -> Option<T> {
        let this = ManuallyDrop::new(this);
        // SAFETY: we give up our counted reference; `dealloc_inner::<T>`
        // frees exactly this block if another thread releases it last.
        if unsafe { P::release(this.header_ptr(), dealloc_inner::<T>) } {
            // SAFETY: `release` returned true: ours was the last reference
            // and nobody else frees the block. The header has no destructor.
            let inner = unsafe { Box::from_raw(this.ptr.as_ptr()) };
            Some(inner.value)
        } else {
            None
        }
    }
}

impl<T: Clone, P: RcPolicy> Brc<T, P> {
    /// A mutable reference to the value, cloning it into a new allocation
    /// first unless this is the only reference (clone-on-write).
    ///
    /// ```
    /// use brisk_refcount::Brc;
    /// let mut a = Brc::new(vec![1]);
    /// let b = Brc::clone(&a);
    /// Brc::make_mut(&mut a).push(2);
    /// assert_eq!(*a, [1, 2]);
    /// assert_eq!(*b, [1]);
    /// ```
    pub fn make_mut(this: &mut Self) -> &mut T {
        if !P::is_unique(Self::header(this)) {
            *this = Brc::new_in(T::clone(this));
        }
        // SAFETY: unique now: either it was, or `this` is a fresh allocation.
        unsafe { &mut (*this.ptr.as_ptr()).value }
    }

    /// The value: moved out if this thread can prove the handle is the only
    /// reference (as [`Brc::try_unwrap`]), cloned otherwise.
    ///
    /// Where [`Brc::try_unwrap`] cannot know (a non-owner holding the last
    /// reference of an unmerged object) the value is cloned, and the
    /// original is dropped by its owner; `Arc` would have moved it.
    ///
    /// ```
    /// use brisk_refcount::Brc;
    /// let a = Brc::new(vec![1, 2]);
    /// let b = Brc::clone(&a);
    /// assert_eq!(Brc::unwrap_or_clone(a), [1, 2]); // cloned: `b` still holds it
    /// assert_eq!(Brc::unwrap_or_clone(b), [1, 2]); // moved: the last reference
    /// ```
    #[inline]
    pub fn unwrap_or_clone(this: Self) -> T {
        Self::try_unwrap(this).unwrap_or_else(|this| T::clone(&this))
    }
}

impl<T, P: RcPolicy> Clone for Brc<T, P> {
    /// Adds a reference: a load and a store on the owner thread, one
    /// `fetch_add` elsewhere.
    #[inline]
    fn clone(&self) -> Self {
        // SAFETY: `self` is a counted reference.
        unsafe { P::incref(Self::header(self)) };
        Brc {
            ptr: self.ptr,
            _owns: PhantomData,
            _policy: PhantomData,
        }
    }
}

impl<T, P: RcPolicy> Drop for Brc<T, P> {
    #[inline]
    fn drop(&mut self) {
        // SAFETY: we give up our counted reference; `dealloc_inner::<T>` frees
        // exactly this block.
        unsafe { P::decref(self.header_ptr(), dealloc_inner::<T>) }
    }
}

impl<T, P: RcPolicy> Deref for Brc<T, P> {
    type Target = T;

    #[inline(always)]
    fn deref(&self) -> &T {
        &self.inner().value
    }
}

/// A `Brc` is `Unpin` whatever `T` is, as `Arc` is: moving the handle never
/// moves the value, which stays in its heap block. To pin the value, use
/// [`Brc::pin`].
///
/// ```
/// use std::marker::PhantomPinned;
/// use brisk_refcount::Brc;
///
/// fn is_unpin<U: Unpin>(_: &U) {}
/// is_unpin(&Brc::new(PhantomPinned));
/// ```
impl<T, P: RcPolicy> Unpin for Brc<T, P> {}

/// An error in a `Brc` is an error, reporting its source as the value does.
///
/// ```
/// use std::error::Error;
/// use std::fmt;
/// use brisk_refcount::Brc;
///
/// #[derive(Debug)]
/// struct Outer(std::num::ParseIntError);
/// impl fmt::Display for Outer {
///     fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
///         f.write_str("outer")
///     }
/// }
/// impl Error for Outer {
///     fn source(&self) -> Option<&(dyn Error + 'static)> {
///         Some(&self.0)
///     }
/// }
///
/// let err = Brc::new(Outer("x".parse::<i32>().unwrap_err()));
/// let boxed: Box<dyn Error> = Box::new(err);
/// assert_eq!(boxed.to_string(), "outer");
/// assert_eq!(boxed.source().unwrap().to_string(), "invalid digit found in string");
/// ```
impl<T: core::error::Error, P: RcPolicy> core::error::Error for Brc<T, P> {
    #[allow(deprecated)] // forwarded, as `Arc` does, for callers that still use it
    fn description(&self) -> &str {
        core::error::Error::description(&**self)
    }

    #[allow(deprecated)] // as `description`
    fn cause(&self) -> Option<&dyn core::error::Error> {
        core::error::Error::cause(&**self)
    }

    fn source(&self) -> Option<&(dyn core::error::Error + 'static)> {
        core::error::Error::source(&**self)
    }
}

impl<T, P: RcPolicy> AsRef<T> for Brc<T, P> {
    /// ```
    /// let a = brisk_refcount::Brc::new(1u8);
    /// let r: &u8 = a.as_ref();
    /// assert_eq!(*r, 1);
    /// ```
    fn as_ref(&self) -> &T {
        self
    }
}

impl<T, P: RcPolicy> Borrow<T> for Brc<T, P> {
    /// ```
    /// use std::collections::HashSet;
    /// let mut set = HashSet::new();
    /// set.insert(brisk_refcount::Brc::new(String::from("k")));
    /// assert!(set.contains(&String::from("k")));
    /// ```
    fn borrow(&self) -> &T {
        self
    }
}

impl<T: Default> Default for Brc<T> {
    /// ```
    /// let a: brisk_refcount::Brc<Vec<u8>> = Default::default();
    /// assert!(a.is_empty());
    /// ```
    fn default() -> Self {
        Brc::new(T::default())
    }
}

impl<T> From<T> for Brc<T> {
    /// ```
    /// let a = brisk_refcount::Brc::from(9);
    /// assert_eq!(*a, 9);
    /// ```
    fn from(value: T) -> Self {
        Brc::new(value)
    }
}

impl<T: fmt::Debug, P: RcPolicy> fmt::Debug for Brc<T, P> {
    /// ```
    /// assert_eq!(format!("{:?}", brisk_refcount::Brc::new(Some(1))), "Some(1)");
    /// ```
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&**self, f)
    }
}

impl<T: fmt::Display, P: RcPolicy> fmt::Display for Brc<T, P> {
    /// ```
    /// assert_eq!(brisk_refcount::Brc::new(1.5).to_string(), "1.5");
    /// ```
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&**self, f)
    }
}

impl<T, P: RcPolicy> fmt::Pointer for Brc<T, P> {
    /// ```
    /// let a = brisk_refcount::Brc::new(0);
    /// assert_eq!(format!("{a:p}"), format!("{:p}", brisk_refcount::Brc::as_ptr(&a)));
    /// ```
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Pointer::fmt(&Self::as_ptr(self), f)
    }
}

impl<T: PartialEq, P: RcPolicy> PartialEq for Brc<T, P> {
    /// By value, like `Arc`.
    ///
    /// ```
    /// use brisk_refcount::Brc;
    /// assert_eq!(Brc::new(2), Brc::new(2));
    /// ```
    fn eq(&self, other: &Self) -> bool {
        **self == **other
    }
}

impl<T: Eq, P: RcPolicy> Eq for Brc<T, P> {}

impl<T: PartialOrd, P: RcPolicy> PartialOrd for Brc<T, P> {
    /// ```
    /// use brisk_refcount::Brc;
    /// assert!(Brc::new(1) < Brc::new(2));
    /// ```
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        (**self).partial_cmp(&**other)
    }
}

impl<T: Ord, P: RcPolicy> Ord for Brc<T, P> {
    /// ```
    /// use brisk_refcount::Brc;
    /// assert_eq!(Brc::new(3).cmp(&Brc::new(1)), std::cmp::Ordering::Greater);
    /// ```
    fn cmp(&self, other: &Self) -> Ordering {
        (**self).cmp(&**other)
    }
}

impl<T: Hash, P: RcPolicy> Hash for Brc<T, P> {
    /// Hashes the value, like `Arc`.
    ///
    /// ```
    /// use std::collections::HashSet;
    /// let set: HashSet<_> = [brisk_refcount::Brc::new(1), brisk_refcount::Brc::new(1)].into();
    /// assert_eq!(set.len(), 1);
    /// ```
    fn hash<H: Hasher>(&self, state: &mut H) {
        (**self).hash(state)
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;
    use crate::test_support::{tracked, Tracked};
    use crate::{Atomic, NonAtomic};
    use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
    use std::sync::Arc;

    /// A raw pointer a test hands to another thread, as the caller of
    /// `from_raw` would.
    struct SendPtr<T>(*const T);
    // SAFETY: the tests below only use the pointer as a `Brc<T>` (which is
    // `Send` for the `T`s used) would be used.
    unsafe impl<T> Send for SendPtr<T> {}

    /// Every raw operation, under policy `P`, on a value that counts drops.
    fn raw_round_trip<P: RcPolicy>() {
        let drops = Arc::new(AtomicUsize::new(0));
        let a: Brc<Tracked, P> = Brc::new_in(Tracked(Arc::clone(&drops)));
        let value = Brc::as_ptr(&a);
        let ptr = Brc::into_raw(Brc::clone(&a));
        assert_eq!(ptr, value, "into_raw points at the value");
        // SAFETY: `ptr` came from `into_raw` of a `Brc<Tracked, P>` on this
        // thread; every reference added is given back once.
        unsafe {
            Brc::<Tracked, P>::increment_strong_count_in(ptr);
            assert_eq!(Brc::strong_count(&a), 3);
            let b = Brc::<Tracked, P>::from_raw_in(ptr);
            assert!(Brc::ptr_eq(&a, &b));
            assert_eq!(Brc::strong_count(&a), 3);
            drop(b);
            Brc::<Tracked, P>::decrement_strong_count_in(ptr);
        }
        assert_eq!(Brc::strong_count(&a), 1);
        assert_eq!(drops.load(SeqCst), 0);
        let last = Brc::into_raw(a);
        // SAFETY: the last reference, given back once.
        unsafe { Brc::<Tracked, P>::decrement_strong_count_in(last) };
        assert_eq!(drops.load(SeqCst), 1);
    }

    #[test]
    fn raw_pointers_round_trip_under_every_policy() {
        raw_round_trip::<NonAtomic>();
        raw_round_trip::<Atomic>();
        raw_round_trip::<Biased>();
    }

    #[test]
    fn from_raw_finds_the_block_of_over_aligned_and_zero_sized_values() {
        #[repr(align(64))]
        struct Wide(u8);
        let a = Brc::new(Wide(9));
        let ptr = Brc::into_raw(Brc::clone(&a));
        assert_eq!(ptr as usize % 64, 0);
        // SAFETY: from `into_raw` of a `Brc<Wide>`; taken back once.
        let b = unsafe { Brc::from_raw(ptr) };
        assert!(Brc::ptr_eq(&a, &b));
        assert_eq!(b.0, 9);

        let unit = Brc::new(());
        let ptr = Brc::into_raw(Brc::clone(&unit));
        // SAFETY: from `into_raw` of a `Brc<()>`; taken back once.
        let back = unsafe { Brc::from_raw(ptr) };
        assert!(Brc::ptr_eq(&unit, &back));
        assert_eq!(Brc::strong_count(&unit), 2);
    }

    /// A non-owner counts through the raw pointer on the shared half; the
    /// last release there queues the object, and the owner frees it.
    #[test]
    fn a_non_owner_counts_through_the_raw_pointer() {
        let (a, drops) = tracked();
        let ptr = SendPtr(Brc::into_raw(a));
        std::thread::spawn(move || {
            let ptr = ptr;
            // SAFETY: from `into_raw` of a `Brc<Tracked>`; the added
            // reference and the original are each given back once.
            unsafe {
                Brc::increment_strong_count(ptr.0);
                Brc::decrement_strong_count(ptr.0);
                Brc::decrement_strong_count(ptr.0);
            }
        })
        .join()
        .unwrap();
        // The owner's half still counted the original reference: only its
        // merge can see the total reach zero.
        assert_eq!(drops.load(SeqCst), 0);
        crate::safepoint();
        assert_eq!(drops.load(SeqCst), 1);
    }

    #[test]
    fn unwrap_or_clone_moves_only_what_it_can_prove_unique() {
        // The owner's only reference: moved (the string keeps its buffer).
        let a = Brc::new(String::from("moved"));
        let buffer = a.as_ptr();
        let out = Brc::unwrap_or_clone(a);
        assert_eq!(out.as_ptr(), buffer);

        // Shared: cloned, and the other handle still sees the value.
        let a = Brc::new(String::from("shared"));
        let b = Brc::clone(&a);
        let out = Brc::unwrap_or_clone(a);
        assert_ne!(out.as_ptr(), b.as_ptr());
        assert_eq!(out, *b);

        // A non-owner holding the last reference of an unmerged object
        // cannot prove it unique: cloned, and the owner drops the original
        // at its next safepoint.
        #[derive(Clone)]
        struct Counted(String, Arc<AtomicUsize>);
        impl Drop for Counted {
            fn drop(&mut self) {
                self.1.fetch_add(1, SeqCst);
            }
        }
        let drops = Arc::new(AtomicUsize::new(0));
        let b = Brc::new(Counted(String::from("elsewhere"), Arc::clone(&drops)));
        let buffer = SendPtr(b.0.as_ptr());
        let cloned = std::thread::spawn(move || {
            let buffer = buffer;
            let out = Brc::unwrap_or_clone(b);
            out.0.as_ptr() != buffer.0
        })
        .join()
        .unwrap();
        assert!(cloned);
        assert_eq!(drops.load(SeqCst), 1, "only the clone is dropped yet");
        crate::safepoint();
        assert_eq!(drops.load(SeqCst), 2);

        // Under `Atomic` every thread reads the exact count: moved.
        let b: Brc<String, Atomic> = Brc::new_in(String::from("atomic"));
        let buffer = SendPtr(b.as_ptr());
        let moved = std::thread::spawn(move || {
            let buffer = buffer;
            let out = Brc::unwrap_or_clone(b);
            out.as_ptr() == buffer.0
        })
        .join()
        .unwrap();
        assert!(moved);
    }
}
