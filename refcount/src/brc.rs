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
//! * Uniqueness ([`Brc::get_mut`], [`Brc::try_unwrap`], [`Brc::make_mut`]) is
//!   exact on the owner thread and for merged objects; elsewhere an unmerged
//!   object is reported shared, because its owner's count cannot be read
//!   reliably from another thread. [`Brc::make_mut`] then clones, which is
//!   always correct.
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
use core::mem::ManuallyDrop;
use core::ops::Deref;
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
