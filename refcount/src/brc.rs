//! `Brc<T>`: a drop-in alternative to `Arc<T>` on the biased protocol.
//!
//! A `Brc` is one pointer to a heap block holding an [`RcHeader`] and the
//! value (a wide pointer when `T` is unsized, as with `Arc`). Cloning and dropping it on the thread that created it costs a
//! Relaxed load and store, as `Rc` does; on any other thread it costs what
//! `Arc` costs, plus a merge-queue hand-off when that thread drops the last
//! reference it can see (see [`crate::policy_kit`]).
//!
//! The policy is a type parameter (default [`Biased`]) so that benchmarks can
//! put the same handle over [`Atomic`](crate::Atomic) or
//! [`NonAtomic`](crate::NonAtomic) counts.
//!
//! # Weak references
//!
//! [`Weak`] is `std::sync::Weak`'s API. The weak count lives in the block,
//! after the header, as `Arc`'s does (so a sized block is 8 bytes larger
//! than the header and value alone; the header stays 16 bytes): the number
//! of `Weak`s plus one held by all strong references together. The strong
//! free drops the value and then gives up that one; the last weak reference
//! frees the memory. [`Brc::downgrade`] publishes the object first, so that
//! the owner's last local reference never frees it on the spot but goes
//! through the CAS on the shared word that [`Weak::upgrade`] also makes;
//! the upgrade ([`RcPolicy::try_incref`], [`embed::try_incref`](crate::embed::try_incref)) counts up
//! on the owner thread while the owner holds a local reference, and
//! otherwise CASes the shared word up unless it reads `Merged` with a count
//! of zero. The argument for each state is at
//! [`embed::try_incref`](crate::embed::try_incref); `papers/design.md`, "Weak references", has the
//! whole of it and `refcount/tests/loom_weak.rs` the models.
//!
//! # Differences from `Arc`
//!
//! * Under the epoch-deferred policy (`brisk_gc::Deferred`),
//!   [`Weak::upgrade`] may return `None` for a live object: when its applied
//!   count is zero while increments still sit in other threads' buffers,
//!   which only waiting could tell from dead. It never returns `Some` for a
//!   dead one. Under [`Biased`] and [`Atomic`](crate::Atomic) a `None`
//!   means dead, as with `Arc`.
//! * [`Weak::upgrade`] may succeed after the last user handle was dropped
//!   but before that drop has reached the count: while the last reference
//!   sits on the owner's merge queue (`Biased`), or in a deferred
//!   decrement (`Deferred`). The object was not freed, and the upgraded
//!   handle keeps it alive; `Arc` never upgrades once its strong count has
//!   reached zero.
//! * A `Weak<T>` cannot be unsized into a `Weak<dyn Trait>` (that is the
//!   unstable `CoerceUnsized`); downgrade an unsized `Brc` instead.
//! * The policy is a type, where `Arc`'s allocator is a value. `Brc::new`,
//!   [`Brc::pin`], [`Brc::from_raw`], [`Brc::increment_strong_count`] and
//!   [`Brc::decrement_strong_count`] work on `Brc<T>` (policy [`Biased`]),
//!   as `Arc`'s work on `Arc<T>`, so code ports by renaming. Their
//!   `_with_policy` forms serve every policy, with the policy named in the
//!   type: `Brc::<T, Atomic>::from_raw_with_policy(ptr)`. They are not
//!   called `_in`, since `Arc`'s `_in` forms take an allocator. The
//!   conversions into unsized handles (`From<Vec<T>>`, `FromIterator`, ...)
//!   serve every policy.
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
//! * An unsized handle is made by a conversion (`From<Box<dyn Trait>>`,
//!   `From<Vec<T>>`, ...), not by unsizing coercion. No opt-in nightly
//!   `CoerceUnsized` is offered, because it does not fit the layout: a
//!   sized block has no prefix, so a `Brc<U>` coerced into a
//!   `Brc<dyn Trait>` could not be freed through its `Dealloc` (a merge
//!   queue or a deferred decrement on another thread has only the thin
//!   header pointer, and would read a prefix that is not there).
//! * Turning an unsized handle into a sized one ([`Brc::downcast`],
//!   `TryFrom<Brc<[T]>>` for `Brc<[T; N]>`) moves the value into a sized
//!   block, so it needs the only reference, as [`Brc::try_unwrap`] does;
//!   a shared handle is given back as the `Err`. `Arc` converts in place
//!   and succeeds while shared. Why, in "Layout" below.
//!
//! # Layout
//!
//! A sized `T` lives in a `#[repr(C)] BrcInner<T> { header, weak, value }`
//! allocated as a `Box`, and the handle is a thin pointer to it: exactly
//! the block and the code of a `Brc` that knew nothing of unsized values.
//! Whether `T` is sized is a compile-time constant (a pointer to `T` is one
//! word), so every branch below folds away for it: a sized `Brc` pays no
//! byte and no instruction for unsized support.
//!
//! An unsized value (`[T]`, `str`, `dyn Trait`) needs its pointer metadata
//! (the length, or the vtable) to be dropped and freed, and the handle
//! holds it in a wide pointer, as `Arc` does. But the object may be freed
//! by a [`Dealloc`](crate::Dealloc) that receives only the thin header
//! pointer: a merge-queue entry, or a deferred decrement, carries
//! `dealloc_inner::<T>` and the header, and a plain function pointer
//! cannot carry the metadata along. So the block keeps it itself, in a
//! prefix just before the header:
//!
//! ```text
//!  block start                   header (the handle points here)
//!  |                             |
//!  [ padding | *const BrcInner<T> ][ RcHeader | weak | padding | value: T ]
//!             the wide pointer     16 bytes, 8-aligned
//! ```
//!
//! `dealloc_inner::<T>` reads the wide pointer from the word pair before
//! the header and drops the value in place; the last weak reference frees
//! the block from its start (a [`Weak`] holds the wide pointer itself).
//! The prefix cannot follow the value instead: the value's size is what is
//! unknown. It is the one stored wide pointer (16 bytes on 64-bit
//! targets), and it is written once, when the block is made, and only
//! read after.
//!
//! Alignment: the block is aligned to `max(8, align_of_val(value))`, the
//! alignment of `BrcInner<T>`, and the header starts at the size of the
//! prefix rounded up to it. So the header stays 8-aligned, the value keeps
//! its own alignment (an over-aligned element may put padding before the
//! prefix), and the prefix itself, one wide pointer before an address
//! aligned to at least 8, is aligned for a wide pointer.
//!
//! A sized type has no prefix, and its `dealloc_inner` frees the block as a
//! `Box` at the header, so a prefixed block can never be handed to a sized
//! handle: [`Brc::downcast`] and `TryFrom` for arrays move the value into a
//! new sized block instead, which needs the only reference. (Telling the
//! two kinds of block apart at the free would cost the sized path a load
//! and a branch, or a byte.)

use core::any::Any;
use core::borrow::Borrow;
use core::cmp::Ordering;
use core::ffi::CStr;
use core::fmt;
use core::hash::{Hash, Hasher};
use core::marker::PhantomData;
use core::mem::{self, ManuallyDrop};
use core::ops::Deref;
use core::pin::Pin;
use core::ptr::{self, NonNull};
use std::alloc::{self, Layout};
use std::borrow::Cow;
use std::ffi::CString;

use crate::biased;
use crate::header::{RcHeader, SharedState, SharedWord, DISOWNED, UNOWNED};
use crate::policy::{Biased, RcPolicy};
use crate::sync::{
    acquire, AtomicI32, AtomicI64, AtomicU32, AtomicUsize,
    Ordering::{Acquire, Relaxed, Release},
};

/// The object: header first, so a header pointer is a pointer to it. For a
/// sized `T` it is the whole heap block; an unsized one is preceded by the
/// prefix (see "Layout" in the module docs).
#[repr(C)]
struct BrcInner<T: ?Sized> {
    header: RcHeader,
    /// The [`Weak`] handles, plus one held by all strong references
    /// together, as in `Arc`; [`WEAK_LOCKED`] while a uniqueness check
    /// holds it. Any thread: increments Relaxed (or Acquire past the lock),
    /// decrements Release, and whoever takes it to zero frees the block
    /// after an Acquire fence.
    weak: AtomicUsize,
    value: T,
}

/// `weak` while [`Brc`]'s uniqueness check holds it (`Arc`'s lock): no
/// [`Brc::downgrade`] can add a `Weak` meanwhile.
const WEAK_LOCKED: usize = usize::MAX;

/// The most `Weak` handles: an increment that finds more aborts, as
/// `Arc`'s does past `isize::MAX`.
const MAX_WEAK: usize = isize::MAX as usize;

/// The prefix of an unsized object's block: the wide pointer to its
/// `BrcInner`, stored just before the header.
type Prefix<T> = *const BrcInner<T>;

/// Whether `T` is sized: a pointer to it is one word. A constant for each
/// `T`, so the branches on it fold away.
const fn is_sized<T: ?Sized>() -> bool {
    mem::size_of::<*const BrcInner<T>>() == mem::size_of::<*const u8>()
}

/// Offset of `value` in a `BrcInner` whose value has alignment `align`:
/// the 16-byte header and the 8-byte weak count, rounded up to it, as
/// `#[repr(C)]` places the fields.
const fn value_offset(align: usize) -> usize {
    let weak = mem::size_of::<RcHeader>().next_multiple_of(mem::align_of::<AtomicUsize>());
    (weak + mem::size_of::<AtomicUsize>()).next_multiple_of(align)
}

/// The layout of the heap block for a value of `value` layout, and the
/// offset of the header (the `BrcInner`) in it: the `BrcInner` alone for a
/// sized `T` (the layout `Box<BrcInner<T>>` uses), the prefix and then the
/// `BrcInner` for an unsized one.
fn block_layout<T: ?Sized>(value: Layout) -> (Layout, usize) {
    // `#[repr(C)]`'s placement: each field at the next multiple of its
    // alignment, then the whole padded to the largest.
    let inner = Layout::new::<RcHeader>()
        .extend(Layout::new::<AtomicUsize>())
        .and_then(|(head, _)| head.extend(value))
        .map(|(inner, _)| inner.pad_to_align());
    let block = if is_sized::<T>() {
        inner.map(|inner| (inner, 0))
    } else {
        inner.and_then(|inner| Layout::new::<Prefix<T>>().extend(inner))
    };
    block.unwrap_or_else(|_| panic!("Brc: the value is too large to allocate"))
}

/// Where the prefix of the unsized object whose header is at `header`
/// lives: the wide pointer just before it.
///
/// # Safety
///
/// `header` heads a block laid out by [`block_layout`] for an unsized `T`
/// (so the prefix is in the same allocation), with that block's provenance.
unsafe fn prefix_of<T: ?Sized>(header: *mut u8) -> *mut Prefix<T> {
    debug_assert!(!is_sized::<T>());
    // SAFETY: the block holds the prefix just before the header (see
    // `block_layout`: the header's offset is at least the prefix's size).
    unsafe { header.sub(mem::size_of::<Prefix<T>>()) }.cast()
}

/// The (wide, for an unsized `T`) pointer to the object headed by `header`.
///
/// # Safety
///
/// `header` heads a live object made by `Brc<T, _>`, and carries its
/// block's provenance.
unsafe fn inner_from_header<T: ?Sized>(header: NonNull<RcHeader>) -> NonNull<BrcInner<T>> {
    if is_sized::<T>() {
        // SAFETY: `T` is sized, so `NonNull<BrcInner<T>>` is a thin pointer,
        // the same size as `header`, and the header starts the object.
        unsafe { mem::transmute_copy::<NonNull<RcHeader>, NonNull<BrcInner<T>>>(&header) }
    } else {
        // SAFETY: an unsized object's block stores the wide pointer to it,
        // written when the block was made, in the prefix before the header.
        unsafe { NonNull::new_unchecked(prefix_of::<T>(header.as_ptr().cast()).read().cast_mut()) }
    }
}

/// `ptr` with its address (and provenance) replaced by `addr`, keeping its
/// metadata: std's unstable `with_metadata_of`, on stable. For a sized `T`,
/// simply `addr`.
///
/// rustc lays out every wide pointer as the data address followed by the
/// metadata (std's own `set_ptr_value` relied on it before
/// `with_metadata_of` existed), so this overwrites the first word. The
/// assertion checks that the word was the address.
fn with_addr_of<T: ?Sized>(mut ptr: *mut T, addr: *mut u8) -> *mut T {
    // SAFETY: `ptr` is a local at least one word long, aligned for a
    // pointer; writing a pointer over its first word keeps it initialised.
    unsafe { (&raw mut ptr).cast::<*mut u8>().write(addr) };
    assert_eq!(
        ptr.cast::<u8>(),
        addr,
        "wide pointers start with the address"
    );
    ptr
}

/// Frees the block when dropped: keeps an unsized object's block from
/// leaking when its value's destructor panics.
struct FreeBlock {
    block: *mut u8,
    layout: Layout,
}

impl Drop for FreeBlock {
    fn drop(&mut self) {
        // SAFETY: whoever made the guard owns the block, allocated with
        // `layout`, and nothing uses it after the guard drops.
        unsafe { alloc::dealloc(self.block, self.layout) }
    }
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
///
/// `T` may be unsized, made by a conversion as with `Arc`:
///
/// ```
/// use std::fmt::Display;
/// use brisk_refcount::Brc;
///
/// let s: Brc<str> = Brc::from("hello");
/// let v: Brc<[u32]> = (1..4).collect();
/// let d: Brc<dyn Display + Send + Sync> = Brc::from(Box::new(5) as Box<dyn Display + Send + Sync>);
/// std::thread::spawn(move || assert_eq!(format!("{s} {v:?} {d}"), "hello [1, 2, 3] 5"))
///     .join()
///     .unwrap();
/// ```
pub struct Brc<T: ?Sized, P: RcPolicy = Biased> {
    ptr: NonNull<BrcInner<T>>,
    _owns: PhantomData<BrcInner<T>>,
    _policy: PhantomData<P>,
}

// SAFETY: as for `Arc`: the value is shared between threads (`Sync`) and may
// be dropped on any thread (`Send`); the policy must itself be thread-safe,
// which `NonAtomic` is not.
unsafe impl<T: ?Sized + Send + Sync, P: RcPolicy + Send + Sync> Send for Brc<T, P> {}
// SAFETY: as above.
unsafe impl<T: ?Sized + Send + Sync, P: RcPolicy + Send + Sync> Sync for Brc<T, P> {}

/// The strong free of a `BrcInner<T>` given its header: the
/// [`Dealloc`](crate::Dealloc) carried by `Brc<T>`'s queue entries, called
/// on whichever thread the count reached zero.
///
/// Drops the value in place, then gives up the weak reference all strong
/// references held together; the memory goes with the last weak reference
/// (here, or in the last [`Weak`]'s drop). An unsized object finds its wide
/// pointer in the prefix (see "Layout" in the module docs), which stays
/// readable until the memory is freed.
///
/// # Safety
///
/// `header` is the header of an object made by `Brc<T, _>`, with no
/// references left.
unsafe fn dealloc_inner<T: ?Sized>(header: NonNull<RcHeader>) {
    // SAFETY: `header` heads a live object made by `Brc<T, _>`.
    let inner = unsafe { inner_from_header::<T>(header) };
    // Gives up the implicit weak reference after the value's drop, even if
    // its destructor panics.
    let _weak = ImplicitWeak(inner);
    // SAFETY: nobody can reach the value any more (an upgrade fails on a
    // count of zero); it is dropped once. The header has no destructor.
    unsafe { ptr::drop_in_place(&raw mut (*inner.as_ptr()).value) };
}

/// The weak reference every strong reference holds together, given up when
/// dropped: by the strong free, and by [`Brc::into_inner`] after it moved
/// the value out.
struct ImplicitWeak<T: ?Sized>(NonNull<BrcInner<T>>);

impl<T: ?Sized> Drop for ImplicitWeak<T> {
    fn drop(&mut self) {
        // SAFETY: the block is alive: this weak reference holds it.
        let weak = unsafe { &(*self.0.as_ptr()).weak };
        // Acquire: with no `Weak` left (the count reads 1), none can be made
        // any more (that needs a strong reference), so the block is ours to
        // free without a read-modify-write; the Acquire pairs with the
        // Release decrement of each `Weak` dropped earlier, so their reads
        // of the block happen-before the free. Otherwise the decrement of
        // `release_weak`.
        if weak.load(Acquire) == 1 {
            // SAFETY: no reference of either kind is left, the value is
            // dropped or moved out.
            unsafe { free_block(self.0) };
        } else {
            // SAFETY: this weak reference is given up once.
            unsafe { release_weak(self.0) };
        }
    }
}

/// Gives up one weak reference, and frees the block if it was the last.
///
/// # Safety
///
/// The caller owns one weak reference to the block (a `Weak`, or the
/// implicit one after the value was dropped or moved out) and does not
/// use the block afterwards.
unsafe fn release_weak<T: ?Sized>(inner: NonNull<BrcInner<T>>) {
    // SAFETY: our weak reference keeps the block allocated.
    let weak = unsafe { &(*inner.as_ptr()).weak };
    // Release: pairs with the Acquire fence below on whichever thread takes
    // the count to zero, so this thread's uses of the block (a failed
    // upgrade's reads of the header, the strong free's drop of the value)
    // happen-before the memory is freed.
    if weak.fetch_sub(1, Release) == 1 {
        acquire!(weak);
        // SAFETY: the last weak reference: the value is gone (the strong
        // references' implicit weak is only given up after that) and
        // nothing else reaches the block.
        unsafe { free_block(inner) };
    }
}

/// Frees the memory of a block whose value is dropped or moved out, with
/// the layout of the whole block (the prefix included for an unsized `T`).
///
/// # Safety
///
/// No reference of either kind is left; `inner` carries the metadata the
/// object was made with.
unsafe fn free_block<T: ?Sized>(inner: NonNull<BrcInner<T>>) {
    let inner = inner.as_ptr();
    // The value's layout from its metadata alone (a length, a vtable), as
    // `Arc`'s `Weak` did before `Layout::for_value_raw`: the bytes behind
    // the reference are not read.
    // SAFETY: the block is allocated; the reference is only measured.
    let value_layout = Layout::for_value(unsafe { &(*inner).value });
    let (layout, offset) = block_layout::<T>(value_layout);
    #[cfg(loom)]
    blocks_freed().fetch_add(1, crate::sync::Ordering::SeqCst);
    // SAFETY: the object starts `offset` bytes into its block, allocated
    // with `layout` (`Box` uses the same layout for a sized `BrcInner<T>`).
    unsafe { alloc::dealloc(inner.cast::<u8>().sub(offset), layout) };
}

#[cfg(loom)]
crate::sync::lazy_global!(fn blocks_freed() -> AtomicUsize = AtomicUsize::new(0));

/// Under loom only: how many blocks this execution's [`Weak`]s and strong
/// frees have given back to the allocator, so that a model can check that
/// each block is freed exactly once (a leak or a double free of plain
/// memory is otherwise invisible to loom).
#[cfg(loom)]
#[doc(hidden)]
pub fn loom_blocks_freed() -> usize {
    blocks_freed().load(crate::sync::Ordering::SeqCst)
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
        Self::new_with_policy(value)
    }

    /// Makes a value that holds a [`Weak`] to itself: `data_fn` gets the
    /// `Weak` before the value exists, as in `Arc::new_cyclic`. Upgrading
    /// it inside `data_fn` gives `None`; once this returns, it upgrades.
    /// [`Brc::new_cyclic_with_policy`] does the same under any policy, and
    /// says how the header is made live.
    ///
    /// ```
    /// use brisk_refcount::{Brc, Weak};
    /// struct Node {
    ///     me: Weak<Node>,
    /// }
    /// let node = Brc::new_cyclic(|me| {
    ///     assert!(me.upgrade().is_none());
    ///     Node { me: me.clone() }
    /// });
    /// assert!(Brc::ptr_eq(&node.me.upgrade().unwrap(), &node));
    /// ```
    #[inline]
    pub fn new_cyclic<F>(data_fn: F) -> Self
    where
        F: FnOnce(&Weak<T>) -> T,
    {
        Self::new_cyclic_with_policy(data_fn)
    }

    /// Allocates `value` and pins it: the value never moves again, as with
    /// `Arc::pin`. [`Brc::pin_with_policy`] does the same under any policy.
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
        Self::pin_with_policy(value)
    }
}

impl<T: ?Sized> Brc<T> {
    /// Rebuilds a handle from a pointer returned by [`Brc::into_raw`],
    /// taking over the reference it gave up. [`Brc::from_raw_with_policy`] does the
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
    /// As [`Brc::from_raw_with_policy`] with the default policy, [`Biased`].
    #[inline]
    pub unsafe fn from_raw(ptr: *const T) -> Self {
        // SAFETY: forwarded from the caller.
        unsafe { Self::from_raw_with_policy(ptr) }
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
    /// As [`Brc::increment_strong_count_with_policy`] with the default policy,
    /// [`Biased`].
    #[inline]
    pub unsafe fn increment_strong_count(ptr: *const T) {
        // SAFETY: forwarded from the caller.
        unsafe { Self::increment_strong_count_with_policy(ptr) }
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
    /// As [`Brc::decrement_strong_count_with_policy`] with the default policy,
    /// [`Biased`].
    #[inline]
    pub unsafe fn decrement_strong_count(ptr: *const T) {
        // SAFETY: forwarded from the caller.
        unsafe { Self::decrement_strong_count_with_policy(ptr) }
    }
}

impl<T, P: RcPolicy> Brc<T, P> {
    /// Allocates `value` with one reference under policy `P`.
    ///
    /// ```
    /// use brisk_refcount::{Atomic, Brc};
    /// let x: Brc<u32, Atomic> = Brc::new_with_policy(7);
    /// assert_eq!(Brc::strong_count(&x), 1);
    /// ```
    #[inline]
    pub fn new_with_policy(value: T) -> Self {
        let inner = Box::new(BrcInner {
            header: P::new_header(),
            weak: AtomicUsize::new(1),
            value,
        });
        Brc {
            ptr: NonNull::from(Box::leak(inner)),
            _owns: PhantomData,
            _policy: PhantomData,
        }
    }

    /// [`Brc::new_cyclic`] under policy `P`.
    ///
    /// The block is made with its header *dead* (merged, count zero) and
    /// one weak reference, the one `data_fn` borrows. After the value is
    /// written the header is made live, with one reference owned by the
    /// calling thread, published (a `Weak` exists): `tid` and `local`
    /// first, the shared word last, with a Release store. An upgrade
    /// before that store reads the dead word and fails; one after it reads
    /// the live word with its Acquire CAS and sees the value written. If
    /// `data_fn` panics, the `Weak` is dropped and frees the block, unless
    /// `data_fn` kept a clone, which then holds the memory of a value that
    /// never lived.
    ///
    /// ```
    /// use brisk_refcount::{Brc, Weak};
    /// struct Node {
    ///     me: Weak<Node>,
    /// }
    /// let node = Brc::new_cyclic_with_policy(|me| Node { me: me.clone() });
    /// assert!(Brc::ptr_eq(&node.me.upgrade().unwrap(), &node));
    /// ```
    pub fn new_cyclic_with_policy<F>(data_fn: F) -> Self
    where
        F: FnOnce(&Weak<T, P>) -> T,
    {
        // First: under `Biased` it is a safepoint, which may run destructors.
        let live = P::new_header();
        let dead = RcHeader {
            tid: AtomicU32::new(UNOWNED),
            local: AtomicI32::new(DISOWNED),
            shared: AtomicI64::new(SharedWord::new(0, SharedState::Merged).raw()),
        };
        let block = Box::new(BrcInner {
            header: dead,
            weak: AtomicUsize::new(1),
            value: mem::MaybeUninit::<T>::uninit(),
        });
        // `MaybeUninit<T>` has `T`'s layout, so this is a `BrcInner<T>`
        // block whose value is not written yet.
        let ptr = NonNull::from(Box::leak(block)).cast::<BrcInner<T>>();
        let weak = Weak::<T, P> {
            ptr,
            _policy: PhantomData,
        };
        // On a panic `weak` is dropped during unwinding: the last weak
        // reference frees the block, and the unwritten value is not dropped.
        let data = data_fn(&weak);
        // SAFETY: our weak reference keeps the block; nobody reads the value
        // while the header is dead.
        unsafe { (&raw mut (*ptr.as_ptr()).value).write(data) };
        // The weak reference becomes the one the strong references hold.
        mem::forget(weak);
        // SAFETY: the block is alive (its weak count is at least 1).
        let header = unsafe { &(*ptr.as_ptr()).header };
        // Relaxed: a thread-local value not yet shared.
        let word = SharedWord::from_raw(live.shared.load(Relaxed));
        let word = if word.state() == SharedState::Private {
            word.with_state(SharedState::Published)
        } else {
            word
        };
        // Relaxed: published by the Release store of `shared` below. Another
        // thread's upgrade reads `tid` only to compare it with its own id;
        // this thread's reads are its own writes.
        header.tid.store(live.tid.load(Relaxed), Relaxed);
        header.local.store(live.local.load(Relaxed), Relaxed);
        // Release: pairs with the Acquire CAS of an upgrade that reads this
        // word, so the value written above is visible to the upgraded
        // handle, and so are `tid` and `local`.
        header.shared.store(word.raw(), Release);
        // SAFETY: the value is written and the header holds one reference,
        // the new handle's.
        unsafe { Self::from_inner(ptr) }
    }

    /// [`Brc::pin`] under policy `P`.
    ///
    /// ```
    /// use brisk_refcount::{Atomic, Brc};
    /// let a = Brc::<_, Atomic>::pin_with_policy(3);
    /// assert_eq!(*a, 3);
    /// ```
    #[inline]
    pub fn pin_with_policy(value: T) -> Pin<Self> {
        // SAFETY: the value lives in a heap block that stays where it is
        // until the value is dropped in place by the last reference. Every
        // API that moves the value out (`try_unwrap`, `into_inner`,
        // `unwrap_or_clone`) or borrows it mutably (`get_mut`, `make_mut`)
        // needs the `Brc` itself, which `Pin` hands out only for `T: Unpin`.
        unsafe { Pin::new_unchecked(Self::new_with_policy(value)) }
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
        let header = Self::header(&this);
        let Some(word) = P::unique_word(header) else {
            return Err(this);
        };
        // The only strong reference; a `Weak` may still upgrade. As `Arc`
        // takes its count from 1 to 0 with a CAS, take the header from the
        // very word that showed it unique to dead (merged, count zero), so
        // that an upgrade either came first (the CAS fails: the handle is
        // given back) or fails.
        // Acquire: with the Acquire load in `unique_word`, every other
        // thread's release of its reference happens-before our move of the
        // value. Relaxed on failure: nothing is read.
        if header
            .shared
            .compare_exchange(
                word.raw(),
                SharedWord::new(0, SharedState::Merged).raw(),
                Acquire,
                Relaxed,
            )
            .is_err()
        {
            return Err(this);
        }
        // Relaxed: dead, so nobody counts on `local` any more; only this
        // thread's own upgrades would read it (as the owner), and they now
        // find `DISOWNED` and the dead shared word.
        header.local.store(DISOWNED, Relaxed);
        header.tid.store(UNOWNED, Relaxed);
        let this = ManuallyDrop::new(this);
        // Gives up the strong references' weak reference after the value is
        // moved out: frees the block, unless a `Weak` still holds it.
        let _weak = ImplicitWeak(this.ptr);
        // SAFETY: the count is dead and was ours alone; the value is moved
        // out once, and `ManuallyDrop` stops the handle's decrement.
        Ok(unsafe { ptr::read(&raw const (*this.ptr.as_ptr()).value) })
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
            // Gives up the strong references' weak reference after the
            // value is moved out; a `Weak` may still hold the memory.
            let _weak = ImplicitWeak(this.ptr);
            // SAFETY: `release` returned true: ours was the last reference,
            // the count stays at zero (an upgrade fails on it), and nobody
            // else drops the value. It is moved out once.
            Some(unsafe { ptr::read(&raw const (*this.ptr.as_ptr()).value) })
        } else {
            None
        }
    }
}

impl<T: ?Sized, P: RcPolicy> Brc<T, P> {
    /// Makes a handle for a fresh object holding one reference.
    ///
    /// # Safety
    ///
    /// `inner` is an object made by [`Brc::allocate`] with its value
    /// written, and the caller gives its reference to the handle.
    #[inline(always)]
    unsafe fn from_inner(inner: NonNull<BrcInner<T>>) -> Self {
        Brc {
            ptr: inner,
            _owns: PhantomData,
            _policy: PhantomData,
        }
    }

    /// Allocates a block for a value of layout `value` (see "Layout" in the
    /// module docs) and writes the header, holding one reference, and for
    /// an unsized `T` the prefix. The value is left for the caller to write.
    ///
    /// `to_inner` turns the address of the object into the pointer to it:
    /// for an unsized `T`, a wide pointer whose metadata describes a value
    /// of layout `value`.
    ///
    /// # Safety
    ///
    /// `to_inner` returns its argument, with that metadata.
    unsafe fn allocate(
        value: Layout,
        to_inner: impl FnOnce(*mut u8) -> *mut BrcInner<T>,
    ) -> NonNull<BrcInner<T>> {
        // First: under `Biased` it is a safepoint, which may run destructors.
        let header = P::new_header();
        let (layout, offset) = block_layout::<T>(value);
        // SAFETY: the layout has a non-zero size: it holds the header.
        let block = unsafe { alloc::alloc(layout) };
        if block.is_null() {
            alloc::handle_alloc_error(layout);
        }
        // SAFETY: the object starts `offset` bytes into the block.
        let inner = to_inner(unsafe { block.add(offset) });
        // SAFETY: `inner` points into the new block, aligned for a
        // `BrcInner` (the block is, and `offset` is a multiple of its
        // alignment); no reference to the uninitialised value is made.
        unsafe { (&raw mut (*inner).header).write(header) };
        if !is_sized::<T>() {
            // SAFETY: the block was laid out with the prefix before the
            // header, aligned (see "Layout").
            unsafe { prefix_of::<T>(inner.cast()).write(inner) };
        }
        // SAFETY: as for the header.
        unsafe { (&raw mut (*inner).weak).write(AtomicUsize::new(1)) };
        // SAFETY: inside a successful allocation, so not null.
        unsafe { NonNull::new_unchecked(inner) }
    }

    /// Moves the value, a `U`, into a new sized block and frees this one
    /// without dropping the value: how an unsized handle becomes a sized
    /// one (see "Layout" in the module docs for why it cannot stay).
    ///
    /// # Safety
    ///
    /// `this` is the only reference and no `Weak` exists
    /// ([`Brc::is_unique`]), and its value is a `U`.
    unsafe fn rehome<U>(this: Self) -> Brc<U, P> {
        let this = ManuallyDrop::new(this);
        let inner = this.ptr.as_ptr();
        // SAFETY: our reference keeps the value alive.
        let value_layout = Layout::for_value(unsafe { &(*inner).value });
        let (layout, offset) = block_layout::<T>(value_layout);
        // SAFETY: the value is a `U` (the caller's promise), moved out once;
        // `ManuallyDrop` keeps the handle from dropping it again.
        let value = unsafe { (&raw const (*inner).value).cast::<U>().read() };
        // SAFETY: unique, so nobody else frees or reads the block; it was
        // allocated with `layout`, `offset` bytes before the header.
        unsafe { alloc::dealloc(inner.cast::<u8>().sub(offset), layout) };
        Brc::new_with_policy(value)
    }

    /// Gives up the handle without dropping its reference, returning a
    /// pointer to the value. [`Brc::from_raw`] (or [`Brc::from_raw_with_policy`] for
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
    /// let a: Brc<u64, Atomic> = Brc::new_with_policy(11);
    /// let ptr = Brc::into_raw(a);
    /// // SAFETY: `ptr` came from `into_raw` of a `Brc<u64, Atomic>`.
    /// let a = unsafe { Brc::<u64, Atomic>::from_raw_with_policy(ptr) };
    /// assert_eq!(Brc::try_unwrap(a), Ok(11));
    /// ```
    ///
    /// # Safety
    ///
    /// * `ptr` was returned by [`Brc::into_raw`] of a `Brc<T, P>` with the
    ///   same `T` and `P` (`Arc::from_raw` also takes the pointer of an
    ///   `Arc<U>` with `U` of the same size and alignment; this does not).
    ///   For an unsized `T` the metadata may change only where the value's
    ///   size and alignment stay the same (the length of a slice of
    ///   zero-sized elements): the object is freed with the metadata it was
    ///   made with, which its prefix keeps.
    /// * The caller owns the counted reference it takes over: the one
    ///   `into_raw` gave up, or one added by
    ///   [`Brc::increment_strong_count_with_policy`]. Each is taken back once.
    /// * The new handle is used only where a `Brc<T, P>` could be sent:
    ///   a pointer does not carry the handle's `!Send` (a
    ///   `Brc<T, NonAtomic>` must stay on its thread).
    #[inline]
    pub unsafe fn from_raw_with_policy(ptr: *const T) -> Self {
        // The value is a field of `#[repr(C)] BrcInner<T>`, at an offset set
        // by its alignment alone, whatever `P` is: a constant for a sized
        // `T`, read from the metadata (the vtable) for a trait object.
        // SAFETY: the caller's reference keeps the value alive.
        let offset = value_offset(mem::align_of_val(unsafe { &*ptr }));
        // SAFETY: `ptr` points at the `value` field of a live `BrcInner<T>`
        // (it came from `into_raw`, whose pointer keeps the provenance of
        // the whole block), so stepping back by the field's offset stays
        // in that allocation and lands on the header. The cast keeps the
        // metadata, which describes the same value.
        let inner = unsafe { ptr.byte_sub(offset) } as *mut BrcInner<T>;
        // SAFETY: a live object is not at null; the caller gives us its
        // counted reference.
        unsafe { Self::from_inner(NonNull::new_unchecked(inner)) }
    }

    /// [`Brc::increment_strong_count`] under policy `P`: adds a reference
    /// through `P::incref`.
    ///
    /// ```
    /// use brisk_refcount::{Brc, NonAtomic};
    /// let ptr = Brc::into_raw(Brc::<_, NonAtomic>::new_with_policy('x'));
    /// // SAFETY: `ptr` came from `into_raw` of a `Brc<char, NonAtomic>` on
    /// // this thread; the two references are taken back once each.
    /// unsafe {
    ///     Brc::<char, NonAtomic>::increment_strong_count_with_policy(ptr);
    ///     assert_eq!(Brc::strong_count(&Brc::<char, NonAtomic>::from_raw_with_policy(ptr)), 2);
    ///     Brc::<char, NonAtomic>::decrement_strong_count_with_policy(ptr);
    /// }
    /// ```
    ///
    /// # Safety
    ///
    /// `ptr` was returned by [`Brc::into_raw`] of a `Brc<T, P>` with the
    /// same `T` and `P`; the caller holds a counted reference to it for the
    /// whole call, and uses it only where a `Brc<T, P>` could be sent (see
    /// [`Brc::from_raw_with_policy`]).
    #[inline]
    pub unsafe fn increment_strong_count_with_policy(ptr: *const T) {
        // SAFETY: forwarded from the caller. `ManuallyDrop` keeps the
        // caller's reference where it is: this handle only borrows it.
        let this = ManuallyDrop::new(unsafe { Self::from_raw_with_policy(ptr) });
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
    /// let a: Brc<i32, Atomic> = Brc::new_with_policy(1);
    /// let ptr = Brc::into_raw(Brc::clone(&a));
    /// // SAFETY: `ptr` came from `into_raw` of a `Brc<i32, Atomic>`; its
    /// // reference is given back once.
    /// unsafe { Brc::<i32, Atomic>::decrement_strong_count_with_policy(ptr) };
    /// assert_eq!(Brc::strong_count(&a), 1);
    /// ```
    ///
    /// # Safety
    ///
    /// `ptr` was returned by [`Brc::into_raw`] of a `Brc<T, P>` with the
    /// same `T` and `P`; the caller gives up a counted reference it owns
    /// (so `ptr` may dangle afterwards), and calls this only where a
    /// `Brc<T, P>` could be sent (see [`Brc::from_raw_with_policy`]).
    #[inline]
    pub unsafe fn decrement_strong_count_with_policy(ptr: *const T) {
        // SAFETY: forwarded from the caller; dropping the handle gives the
        // reference back.
        drop(unsafe { Self::from_raw_with_policy(ptr) });
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
        // The addresses alone, as `Arc::ptr_eq`: two vtables for one type
        // need not be the same pointer.
        ptr::addr_eq(this.ptr.as_ptr(), other.ptr.as_ptr())
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
    /// `header` heads an object made by a `Brc<T, P>` with the same `T`
    /// and `P`, and the caller owns one counted reference to it (from
    /// [`Brc::into_header`], or one it added with `P::incref`). For an
    /// unsized `T` the metadata comes from the block's prefix (see
    /// "Layout" in the module docs).
    pub unsafe fn from_header(header: NonNull<RcHeader>) -> Self {
        // SAFETY: forwarded from the caller: a live object of this type,
        // whose reference we take over.
        unsafe { Self::from_inner(inner_from_header::<T>(header)) }
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
        if Self::is_unique(this) {
            // SAFETY: unique: no other reference exists or can be made, and
            // `this` is borrowed mutably.
            Some(unsafe { &mut (*this.ptr.as_ptr()).value })
        } else {
            None
        }
    }

    /// Whether `this` is the only reference and no [`Weak`] exists, so the
    /// value may be borrowed mutably or moved out: `Arc`'s `is_unique`.
    ///
    /// The weak count is locked first (1 → [`WEAK_LOCKED`]), so that no
    /// downgrade can add a `Weak` while the policy checks the strong count,
    /// then put back. Without the lock, another holder could downgrade
    /// and drop its strong reference between the two reads, and its `Weak`
    /// would upgrade into a value we believe is ours.
    fn is_unique(this: &Self) -> bool {
        let weak = &this.inner().weak;
        // Acquire: pairs with the Release decrement of the last `Weak`
        // dropped, so its uses of the block happen-before ours of the value.
        // Relaxed on failure: a `Weak` exists, nothing is read.
        if weak
            .compare_exchange(1, WEAK_LOCKED, Acquire, Relaxed)
            .is_err()
        {
            return false;
        }
        let unique = P::is_unique(Self::header(this));
        // Release: pairs with the Acquire CAS of a `downgrade` that waited
        // on the lock, as in `Arc`.
        weak.store(1, Release);
        unique
    }

    /// Makes a [`Weak`] reference to the object: it keeps the memory, not
    /// the value, and [`Weak::upgrade`] gives a `Brc` back while a strong
    /// reference lives.
    ///
    /// The object is published first ([`policy_kit::mark_published`](crate::policy_kit::mark_published)): from
    /// then on the owner's last local reference never frees it on the spot,
    /// but goes through the CAS on the shared word that an upgrader also
    /// makes, so the two are ordered.
    ///
    /// ```
    /// use brisk_refcount::Brc;
    /// let five = Brc::new(5);
    /// let weak = Brc::downgrade(&five);
    /// assert_eq!(weak.upgrade().as_deref(), Some(&5));
    /// drop(five);
    /// assert!(weak.upgrade().is_none());
    /// ```
    pub fn downgrade(this: &Self) -> Weak<T, P> {
        // SAFETY: `this` is a counted reference.
        unsafe { biased::mark_published(Self::header(this)) };
        let weak = &this.inner().weak;
        // Relaxed: the strong reference we hold keeps the block alive, as in
        // `Arc::downgrade`; the CAS only waits out a uniqueness check.
        let mut current = weak.load(Relaxed);
        loop {
            if current == WEAK_LOCKED {
                core::hint::spin_loop();
                current = weak.load(Relaxed);
                continue;
            }
            if current > MAX_WEAK {
                weak_count_overflow();
            }
            // Acquire: pairs with the Release store that unlocked the count
            // in `is_unique`, so that check happens-before this `Weak`.
            match weak.compare_exchange_weak(current, current + 1, Acquire, Relaxed) {
                Ok(_) => {
                    return Weak {
                        ptr: this.ptr,
                        _policy: PhantomData,
                    }
                }
                Err(actual) => current = actual,
            }
        }
    }

    /// The number of [`Weak`] handles to the object. A snapshot.
    ///
    /// ```
    /// use brisk_refcount::Brc;
    /// let a = Brc::new(0);
    /// let w = Brc::downgrade(&a);
    /// assert_eq!(Brc::weak_count(&a), 1);
    /// drop(w);
    /// assert_eq!(Brc::weak_count(&a), 0);
    /// ```
    #[inline]
    pub fn weak_count(this: &Self) -> usize {
        // Relaxed: a snapshot, as `Arc::weak_count`.
        let count = this.inner().weak.load(Relaxed);
        // Locked means a uniqueness check found no `Weak`.
        if count == WEAK_LOCKED {
            0
        } else {
            count - 1
        }
    }
}

/// A weak count past [`MAX_WEAK`]: the program leaked `Weak`s in a loop.
#[cold]
#[inline(never)] // never taken
fn weak_count_overflow() -> ! {
    eprintln!("brisk: a weak reference count passed isize::MAX; aborting");
    std::process::abort()
}

/// The values [`Brc::make_mut`] can clone into a new object: sized
/// `Clone` types, slices of them, and `str`.
///
/// It stands in for std's unstable `CloneToUninit`, the bound of
/// `Arc::make_mut`, so that one `make_mut` serves all three and
/// `Brc::make_mut(&mut x)` resolves as `Arc::make_mut(&mut x)` does.
/// Sealed: implemented here only.
pub trait CloneIntoBrc: sealed::Sealed {
    /// A new object, under policy `P`, holding a clone of `self`.
    #[doc(hidden)]
    fn clone_into_brc<P: RcPolicy>(&self) -> Brc<Self, P>;
}

mod sealed {
    /// Keeps [`CloneIntoBrc`](super::CloneIntoBrc) to the types it is
    /// implemented for here.
    pub trait Sealed {}
    impl<T: Clone> Sealed for T {}
    impl<T: Clone> Sealed for [T] {}
    impl Sealed for str {}
}

impl<T: Clone> CloneIntoBrc for T {
    fn clone_into_brc<P: RcPolicy>(&self) -> Brc<T, P> {
        Brc::new_with_policy(self.clone())
    }
}

impl<T: Clone> CloneIntoBrc for [T] {
    fn clone_into_brc<P: RcPolicy>(&self) -> Brc<[T], P> {
        Brc::from(self)
    }
}

impl CloneIntoBrc for str {
    fn clone_into_brc<P: RcPolicy>(&self) -> Brc<str, P> {
        Brc::from(self)
    }
}

impl<T: ?Sized + CloneIntoBrc, P: RcPolicy> Brc<T, P> {
    /// A mutable reference to the value, cloning it into a new allocation
    /// first unless this is the only reference (clone-on-write). For a
    /// sized `T: Clone`, a slice of them, or `str` (see [`CloneIntoBrc`]).
    ///
    /// ```
    /// use brisk_refcount::Brc;
    /// let mut a = Brc::new(vec![1]);
    /// let b = Brc::clone(&a);
    /// Brc::make_mut(&mut a).push(2);
    /// assert_eq!(*a, [1, 2]);
    /// assert_eq!(*b, [1]);
    ///
    /// let mut s: Brc<[i32]> = Brc::from(vec![1, 2]);
    /// let t = Brc::clone(&s);
    /// Brc::make_mut(&mut s)[0] = 7;
    /// assert_eq!((&*s, &*t), (&[7, 2][..], &[1, 2][..]));
    ///
    /// let mut u: Brc<str> = Brc::from("abc");
    /// Brc::make_mut(&mut u).make_ascii_uppercase();
    /// assert_eq!(&*u, "ABC");
    /// ```
    pub fn make_mut(this: &mut Self) -> &mut T {
        if !Self::is_unique(this) {
            *this = T::clone_into_brc(this);
        }
        // SAFETY: unique now: either it was, or `this` is a fresh allocation.
        unsafe { &mut (*this.ptr.as_ptr()).value }
    }
}

impl<T: Clone, P: RcPolicy> Brc<T, P> {
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

impl<T, P: RcPolicy> Brc<[T], P> {
    /// A block for `len` elements, with its header and prefix written and
    /// its elements not, and a pointer to the first element.
    fn allocate_slice(len: usize) -> (NonNull<BrcInner<[T]>>, *mut T) {
        let value = Layout::array::<T>(len)
            .unwrap_or_else(|_| panic!("Brc: the slice is too large to allocate"));
        // SAFETY: the wide pointer built is the address given, with the
        // length that `value` describes.
        let inner = unsafe {
            Self::allocate(value, |mem| {
                ptr::slice_from_raw_parts_mut(mem.cast::<T>(), len) as *mut BrcInner<[T]>
            })
        };
        // SAFETY: in bounds of the new block; no reference is made.
        let elems = unsafe { &raw mut (*inner.as_ptr()).value }.cast::<T>();
        (inner, elems)
    }
}

impl<P: RcPolicy> Brc<[u8], P> {
    /// The same object, as the string it holds, with the prefix rewritten
    /// for the new type.
    ///
    /// # Safety
    ///
    /// The bytes are UTF-8, and this is the only reference (the prefix is
    /// written).
    unsafe fn into_str_unchecked(this: Self) -> Brc<str, P> {
        // SAFETY: forwarded from the caller; `str` is `[u8]`'s layout.
        unsafe { Self::retype(this, |inner| inner as *mut BrcInner<str>) }
    }

    /// The same object, as the C string it holds (see
    /// [`Brc::into_str_unchecked`]).
    ///
    /// # Safety
    ///
    /// The bytes end with the only NUL, and this is the only reference.
    unsafe fn into_c_str_unchecked(this: Self) -> Brc<CStr, P> {
        // SAFETY: forwarded from the caller; `CStr` is `[u8]`'s layout
        // (`[c_char]` with a length), which is what the cast keeps.
        unsafe { Self::retype(this, |inner| inner as *mut BrcInner<CStr>) }
    }

    /// The same block, as a `U` whose layout and wide-pointer metadata are
    /// `[u8]`'s (`cast` is that pointer cast), with the prefix rewritten so
    /// that the free reads a `U` pointer.
    ///
    /// # Safety
    ///
    /// The bytes are a valid `U`, and this is the only reference.
    unsafe fn retype<U: ?Sized>(
        this: Self,
        cast: fn(*mut BrcInner<[u8]>) -> *mut BrcInner<U>,
    ) -> Brc<U, P> {
        let inner = cast(ManuallyDrop::new(this).ptr.as_ptr());
        // SAFETY: the block of an unsized object has its prefix; nobody
        // else reads it while we hold the only reference.
        unsafe { prefix_of::<U>(inner.cast()).write(inner) };
        // SAFETY: the same object and reference, a valid `U`.
        unsafe { Brc::from_inner(NonNull::new_unchecked(inner)) }
    }
}

impl<T: ?Sized, P: RcPolicy> Clone for Brc<T, P> {
    /// Adds a reference: a load and a store on the owner thread, one
    /// `fetch_add` elsewhere.
    #[inline]
    fn clone(&self) -> Self {
        // SAFETY: `self` is a counted reference.
        unsafe { P::incref(Self::header(self)) };
        // SAFETY: the reference just added is the new handle's.
        unsafe { Self::from_inner(self.ptr) }
    }
}

impl<T: ?Sized, P: RcPolicy> Drop for Brc<T, P> {
    #[inline]
    fn drop(&mut self) {
        // SAFETY: we give up our counted reference; `dealloc_inner::<T>` frees
        // exactly this block.
        unsafe { P::decref(self.header_ptr(), dealloc_inner::<T>) }
    }
}

impl<T: ?Sized, P: RcPolicy> Deref for Brc<T, P> {
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
impl<T: ?Sized, P: RcPolicy> Unpin for Brc<T, P> {}

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
impl<T: ?Sized + core::error::Error, P: RcPolicy> core::error::Error for Brc<T, P> {
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

impl<T: ?Sized, P: RcPolicy> AsRef<T> for Brc<T, P> {
    /// ```
    /// let a = brisk_refcount::Brc::new(1u8);
    /// let r: &u8 = a.as_ref();
    /// assert_eq!(*r, 1);
    /// ```
    fn as_ref(&self) -> &T {
        self
    }
}

impl<T: ?Sized, P: RcPolicy> Borrow<T> for Brc<T, P> {
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

impl<T: Default, P: RcPolicy> Default for Brc<T, P> {
    /// ```
    /// let a: brisk_refcount::Brc<Vec<u8>> = Default::default();
    /// assert!(a.is_empty());
    /// ```
    fn default() -> Self {
        Brc::new_with_policy(T::default())
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

impl<P: RcPolicy> Default for Brc<str, P> {
    /// ```
    /// let a: brisk_refcount::Brc<str> = Default::default();
    /// assert_eq!(&*a, "");
    /// ```
    fn default() -> Self {
        Brc::from("")
    }
}

impl<T, P: RcPolicy> Default for Brc<[T], P> {
    /// ```
    /// let a: brisk_refcount::Brc<[u8]> = Default::default();
    /// assert!(a.is_empty());
    /// ```
    fn default() -> Self {
        Brc::from(Vec::new())
    }
}

impl<T, P: RcPolicy> From<Vec<T>> for Brc<[T], P> {
    /// Moves the elements into a new block and frees the vector's buffer.
    ///
    /// ```
    /// use brisk_refcount::Brc;
    /// let a: Brc<[i32]> = Brc::from(vec![1, 2, 3]);
    /// assert_eq!(*a, [1, 2, 3]);
    /// ```
    fn from(mut v: Vec<T>) -> Self {
        let len = v.len();
        let (inner, elems) = Self::allocate_slice(len);
        // SAFETY: the block has room for `len` elements; the vector's are
        // moved (its length set to 0 below, so it drops none of them).
        unsafe {
            ptr::copy_nonoverlapping(v.as_ptr(), elems, len);
            v.set_len(0);
        }
        // SAFETY: every element is written; the new reference is ours.
        unsafe { Self::from_inner(inner) }
    }
}

impl<T, P: RcPolicy, const N: usize> From<[T; N]> for Brc<[T], P> {
    /// ```
    /// use brisk_refcount::Brc;
    /// let a: Brc<[u8]> = Brc::from([1, 2]);
    /// assert_eq!(*a, [1, 2]);
    /// ```
    fn from(array: [T; N]) -> Self {
        let (inner, elems) = Self::allocate_slice(N);
        // SAFETY: the block has room for the `N` elements, as an array.
        unsafe { elems.cast::<[T; N]>().write(array) };
        // SAFETY: every element is written; the new reference is ours.
        unsafe { Self::from_inner(inner) }
    }
}

/// The elements of a slice being cloned into a new block: if a clone
/// panics, drops those written so far and frees the block.
struct PartialSlice<T> {
    /// Dropped after the elements: frees the memory.
    _block: FreeBlock,
    elems: *mut T,
    written: usize,
}

impl<T> Drop for PartialSlice<T> {
    fn drop(&mut self) {
        // SAFETY: the first `written` elements were written and nothing
        // else owns them; `_block` frees the memory after.
        unsafe { ptr::drop_in_place(ptr::slice_from_raw_parts_mut(self.elems, self.written)) }
    }
}

impl<T: Clone, P: RcPolicy> From<&[T]> for Brc<[T], P> {
    /// Clones the elements into a new block.
    ///
    /// ```
    /// use brisk_refcount::Brc;
    /// let a: Brc<[String]> = Brc::from(&[String::from("s")][..]);
    /// assert_eq!(a[0], "s");
    /// ```
    fn from(v: &[T]) -> Self {
        let (inner, elems) = Self::allocate_slice(v.len());
        let (layout, offset) = block_layout::<[T]>(Layout::for_value(v));
        let mut guard = PartialSlice {
            _block: FreeBlock {
                // SAFETY: the object starts `offset` bytes into its block.
                block: unsafe { inner.as_ptr().cast::<u8>().sub(offset) },
                layout,
            },
            elems,
            written: 0,
        };
        for item in v {
            // SAFETY: `written < v.len()`: in bounds of the block's elements.
            unsafe { elems.add(guard.written).write(item.clone()) };
            guard.written += 1;
        }
        mem::forget(guard);
        // SAFETY: every element is written; the new reference is ours.
        unsafe { Self::from_inner(inner) }
    }
}

impl<T: Clone, P: RcPolicy> From<&mut [T]> for Brc<[T], P> {
    /// As `From<&[T]>`.
    fn from(v: &mut [T]) -> Self {
        Brc::from(&*v)
    }
}

impl<P: RcPolicy> From<&str> for Brc<str, P> {
    /// ```
    /// use brisk_refcount::Brc;
    /// let a: Brc<str> = Brc::from("eggplant");
    /// assert_eq!(&*a, "eggplant");
    /// ```
    fn from(s: &str) -> Self {
        let bytes = Brc::<[u8], P>::from(s.as_bytes());
        // SAFETY: copied from a `str`, and the only reference.
        unsafe { Brc::into_str_unchecked(bytes) }
    }
}

impl<P: RcPolicy> From<&mut str> for Brc<str, P> {
    /// As `From<&str>`.
    fn from(s: &mut str) -> Self {
        Brc::from(&*s)
    }
}

impl<P: RcPolicy> From<String> for Brc<str, P> {
    /// ```
    /// use brisk_refcount::Brc;
    /// let a: Brc<str> = Brc::from(String::from("x"));
    /// assert_eq!(&*a, "x");
    /// ```
    fn from(s: String) -> Self {
        Brc::from(&s[..])
    }
}

impl<P: RcPolicy> From<&CStr> for Brc<CStr, P> {
    /// ```
    /// use brisk_refcount::Brc;
    /// use std::ffi::CStr;
    /// let a: Brc<CStr> = Brc::from(c"eggplant");
    /// assert_eq!(&*a, c"eggplant");
    /// ```
    fn from(s: &CStr) -> Self {
        let bytes = Brc::<[u8], P>::from(s.to_bytes_with_nul());
        // SAFETY: copied from a `CStr`, and the only reference.
        unsafe { Brc::into_c_str_unchecked(bytes) }
    }
}

impl<P: RcPolicy> From<CString> for Brc<CStr, P> {
    /// ```
    /// use brisk_refcount::Brc;
    /// use std::ffi::{CStr, CString};
    /// let a: Brc<CStr> = Brc::from(CString::new("x").unwrap());
    /// assert_eq!(&*a, c"x");
    /// ```
    fn from(s: CString) -> Self {
        Brc::from(s.as_c_str())
    }
}

impl<T: ?Sized, P: RcPolicy> From<Box<T>> for Brc<T, P> {
    /// Moves the value out of the box into a new block, and frees the box.
    /// Works for sized and unsized `T`: a `Box<dyn Trait>` gives a
    /// `Brc<dyn Trait>`.
    ///
    /// ```
    /// use std::fmt::Display;
    /// use brisk_refcount::Brc;
    /// let a: Brc<dyn Display> = Brc::from(Box::new(5) as Box<dyn Display>);
    /// assert_eq!(a.to_string(), "5");
    /// ```
    fn from(b: Box<T>) -> Self {
        let value = Layout::for_value(&*b);
        let raw = Box::into_raw(b);
        // SAFETY: the pointer built is the address given, with the box's
        // metadata, which describes a value of layout `value`.
        let inner =
            unsafe { Self::allocate(value, |mem| with_addr_of(raw as *mut BrcInner<T>, mem)) };
        // SAFETY: the box's value is moved bytewise into the block, which
        // has room for it; the box's memory is then freed without dropping
        // it (`ManuallyDrop<T>` has `T`'s layout).
        unsafe {
            ptr::copy_nonoverlapping(
                raw.cast::<u8>(),
                (&raw mut (*inner.as_ptr()).value).cast::<u8>(),
                value.size(),
            );
            drop(Box::from_raw(raw as *mut ManuallyDrop<T>));
        }
        // SAFETY: the value is written; the new reference is ours.
        unsafe { Self::from_inner(inner) }
    }
}

impl<'a, B, P: RcPolicy> From<Cow<'a, B>> for Brc<B, P>
where
    B: ToOwned + ?Sized,
    Brc<B, P>: From<&'a B> + From<B::Owned>,
{
    /// Copies a borrowed value, moves an owned one.
    ///
    /// ```
    /// use std::borrow::Cow;
    /// use brisk_refcount::Brc;
    /// let a: Brc<str> = Brc::from(Cow::Borrowed("b"));
    /// let b: Brc<str> = Brc::from(Cow::<str>::Owned(String::from("o")));
    /// assert_eq!((&*a, &*b), ("b", "o"));
    /// ```
    fn from(cow: Cow<'a, B>) -> Self {
        match cow {
            Cow::Borrowed(b) => Brc::from(b),
            Cow::Owned(o) => Brc::from(o),
        }
    }
}

impl<T, P: RcPolicy> FromIterator<T> for Brc<[T], P> {
    /// Collects into a `Vec` first, then moves the elements, as `Arc` does
    /// for an iterator whose length is not known in advance.
    ///
    /// ```
    /// use brisk_refcount::Brc;
    /// let a: Brc<[u32]> = (1..4).collect();
    /// assert_eq!(*a, [1, 2, 3]);
    /// ```
    fn from_iter<I: IntoIterator<Item = T>>(iter: I) -> Self {
        Brc::from(iter.into_iter().collect::<Vec<T>>())
    }
}

impl<T, P: RcPolicy, const N: usize> TryFrom<Brc<[T], P>> for Brc<[T; N], P> {
    type Error = Brc<[T], P>;

    /// The slice as an array, if it has `N` elements and this is the only
    /// reference: the elements move into a new, sized block (see the
    /// module docs, "Differences from `Arc`"). Otherwise the handle is
    /// given back.
    ///
    /// ```
    /// use brisk_refcount::Brc;
    /// let a: Brc<[u8]> = Brc::from(vec![1, 2]);
    /// let a: Brc<[u8]> = Brc::<[u8; 3]>::try_from(a).unwrap_err();
    /// let a: Brc<[u8; 2]> = a.try_into().unwrap();
    /// assert_eq!(*a, [1, 2]);
    /// ```
    fn try_from(slice: Brc<[T], P>) -> Result<Self, Self::Error> {
        if slice.len() != N || !Brc::is_unique(&slice) {
            return Err(slice);
        }
        // SAFETY: the only reference, to `N` elements: an array.
        Ok(unsafe { Brc::rehome::<[T; N]>(slice) })
    }
}

impl<P: RcPolicy> Brc<dyn Any + Send + Sync, P> {
    /// The value as a `T`, if it is one and this is the only reference: it
    /// moves into a new, sized block (see the module docs, "Differences
    /// from `Arc`"). Otherwise the handle is given back. A shared value is
    /// read through `downcast_ref`, on the `dyn Any` the handle derefs to.
    ///
    /// ```
    /// use std::any::Any;
    /// use brisk_refcount::Brc;
    ///
    /// let a: Brc<dyn Any + Send + Sync> = Brc::from(Box::new(7_i32) as Box<dyn Any + Send + Sync>);
    /// let a = a.downcast::<u8>().unwrap_err();
    /// let shared = Brc::clone(&a);
    /// assert_eq!(shared.downcast_ref::<i32>(), Some(&7));
    /// drop(shared);
    /// assert_eq!(*a.downcast::<i32>().unwrap(), 7);
    /// ```
    pub fn downcast<T: Any + Send + Sync>(self) -> Result<Brc<T, P>, Self> {
        if !<dyn Any + Send + Sync>::is::<T>(&*self) || !Brc::is_unique(&self) {
            return Err(self);
        }
        // SAFETY: the only reference, to a `T`.
        Ok(unsafe { Brc::rehome::<T>(self) })
    }
}

impl<T: ?Sized + fmt::Debug, P: RcPolicy> fmt::Debug for Brc<T, P> {
    /// ```
    /// assert_eq!(format!("{:?}", brisk_refcount::Brc::new(Some(1))), "Some(1)");
    /// ```
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&**self, f)
    }
}

impl<T: ?Sized + fmt::Display, P: RcPolicy> fmt::Display for Brc<T, P> {
    /// ```
    /// assert_eq!(brisk_refcount::Brc::new(1.5).to_string(), "1.5");
    /// ```
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&**self, f)
    }
}

impl<T: ?Sized, P: RcPolicy> fmt::Pointer for Brc<T, P> {
    /// ```
    /// let a = brisk_refcount::Brc::new(0);
    /// assert_eq!(format!("{a:p}"), format!("{:p}", brisk_refcount::Brc::as_ptr(&a)));
    /// ```
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Pointer::fmt(&Self::as_ptr(self), f)
    }
}

impl<T: ?Sized + PartialEq, P: RcPolicy> PartialEq for Brc<T, P> {
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

impl<T: ?Sized + Eq, P: RcPolicy> Eq for Brc<T, P> {}

impl<T: ?Sized + PartialOrd, P: RcPolicy> PartialOrd for Brc<T, P> {
    /// ```
    /// use brisk_refcount::Brc;
    /// assert!(Brc::new(1) < Brc::new(2));
    /// ```
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        (**self).partial_cmp(&**other)
    }
}

impl<T: ?Sized + Ord, P: RcPolicy> Ord for Brc<T, P> {
    /// ```
    /// use brisk_refcount::Brc;
    /// assert_eq!(Brc::new(3).cmp(&Brc::new(1)), std::cmp::Ordering::Greater);
    /// ```
    fn cmp(&self, other: &Self) -> Ordering {
        (**self).cmp(&**other)
    }
}

impl<T: ?Sized + Hash, P: RcPolicy> Hash for Brc<T, P> {
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

/// A weak reference to a [`Brc`]'s object: it keeps the memory, not the
/// value, and [`Weak::upgrade`] gives a `Brc` back while a strong reference
/// lives. `std::sync::Weak`'s API; made by [`Brc::downgrade`],
/// [`Brc::new_cyclic`] or [`Weak::new`] (which points nowhere).
///
/// The upgrade goes through the policy ([`RcPolicy::try_incref`]): under
/// [`Biased`], an owner increment on the owner thread while the owner holds
/// a local reference, and otherwise a CAS on the shared word that fails
/// once the object is merged with a count of zero (see
/// [`embed::try_incref`](crate::embed::try_incref) for why each state is safe).
///
/// ```
/// use brisk_refcount::{Brc, Weak};
/// let strong = Brc::new(String::from("held"));
/// let weak: Weak<String> = Brc::downgrade(&strong);
/// let back = std::thread::spawn(move || weak.upgrade().map(|s| s.len()))
///     .join()
///     .unwrap();
/// assert_eq!(back, Some(4));
/// ```
pub struct Weak<T: ?Sized, P: RcPolicy = Biased> {
    /// The object, or an address of `usize::MAX` for [`Weak::new`]'s
    /// handle, which points nowhere (as std's).
    ptr: NonNull<BrcInner<T>>,
    _policy: PhantomData<P>,
}

// SAFETY: as for `Brc`: a `Weak` upgrades into a `Brc` on any thread.
unsafe impl<T: ?Sized + Send + Sync, P: RcPolicy + Send + Sync> Send for Weak<T, P> {}
// SAFETY: as above.
unsafe impl<T: ?Sized + Send + Sync, P: RcPolicy + Send + Sync> Sync for Weak<T, P> {}

/// Whether `ptr` is [`Weak::new`]'s address, which no block has.
fn is_dangling<T: ?Sized>(ptr: *const T) -> bool {
    ptr.cast::<()>().addr() == usize::MAX
}

impl<T> Weak<T> {
    /// A `Weak` that points nowhere: it never upgrades, and its counts are
    /// zero. [`Weak::new_with_policy`] does the same under any policy.
    ///
    /// ```
    /// let w: brisk_refcount::Weak<u8> = brisk_refcount::Weak::new();
    /// assert!(w.upgrade().is_none());
    /// ```
    #[inline]
    pub const fn new() -> Self {
        Self::new_with_policy()
    }
}

impl<T, P: RcPolicy> Weak<T, P> {
    /// [`Weak::new`] under policy `P`.
    #[inline]
    pub const fn new_with_policy() -> Self {
        Weak {
            // SAFETY: `usize::MAX` is not null.
            ptr: unsafe { NonNull::new_unchecked(ptr::without_provenance_mut(usize::MAX)) },
            _policy: PhantomData,
        }
    }
}

impl<T: ?Sized> Weak<T> {
    /// Rebuilds a `Weak` from a pointer returned by [`Weak::into_raw`],
    /// taking over its weak reference. [`Weak::from_raw_with_policy`] does
    /// the same under any policy.
    ///
    /// ```
    /// use brisk_refcount::{Brc, Weak};
    /// let a = Brc::new(3);
    /// let raw = Weak::into_raw(Brc::downgrade(&a));
    /// // SAFETY: from `into_raw` of a `Weak<i32>`, taken back once.
    /// let w = unsafe { Weak::from_raw(raw) };
    /// assert_eq!(*w.upgrade().unwrap(), 3);
    /// ```
    ///
    /// # Safety
    ///
    /// As [`Weak::from_raw_with_policy`] with the default policy, [`Biased`].
    #[inline]
    pub unsafe fn from_raw(ptr: *const T) -> Self {
        // SAFETY: forwarded from the caller.
        unsafe { Self::from_raw_with_policy(ptr) }
    }
}

impl<T: ?Sized, P: RcPolicy> Weak<T, P> {
    /// The object's block, unless this `Weak` points nowhere.
    #[inline]
    fn inner(&self) -> Option<&BrcInner<T>> {
        if is_dangling(self.ptr.as_ptr()) {
            None
        } else {
            // SAFETY: our weak reference keeps the block allocated. Only the
            // header and the weak count are read through it while the value
            // may be dropped.
            Some(unsafe { self.ptr.as_ref() })
        }
    }

    /// A `Brc` to the object if a strong reference still lives, `None` once
    /// the value was dropped (or is being dropped).
    ///
    /// Under [`Biased`] and [`Atomic`](crate::Atomic) a `None` means the
    /// strong count had reached zero. Under the epoch-deferred policy a
    /// `None` may also come while the applied count is zero and increments
    /// still sit in other threads' buffers (`Brc`'s module docs,
    /// "Differences from `Arc`"); a `Some` is never wrong.
    ///
    /// ```
    /// use brisk_refcount::Brc;
    /// let a = Brc::new(1);
    /// let w = Brc::downgrade(&a);
    /// let b = w.upgrade().unwrap();
    /// assert_eq!(Brc::strong_count(&a), 2);
    /// drop((a, b));
    /// assert!(w.upgrade().is_none());
    /// ```
    pub fn upgrade(&self) -> Option<Brc<T, P>> {
        let inner = self.inner()?;
        // SAFETY: our weak reference keeps the header allocated; the object
        // was published by `downgrade` (or made live published by
        // `new_cyclic`) before this `Weak` existed.
        if unsafe { P::try_incref(&inner.header) } {
            // SAFETY: the reference just added is the new handle's.
            Some(unsafe { Brc::from_inner(self.ptr) })
        } else {
            None
        }
    }

    /// The number of strong references: 0 once the value is dropped, or for
    /// [`Weak::new`]'s handle. A snapshot, as [`Brc::strong_count`].
    ///
    /// ```
    /// use brisk_refcount::Brc;
    /// let a = Brc::new(());
    /// let w = Brc::downgrade(&a);
    /// assert_eq!(w.strong_count(), 1);
    /// drop(a);
    /// assert_eq!(w.strong_count(), 0);
    /// ```
    pub fn strong_count(&self) -> usize {
        self.inner()
            .map_or(0, |inner| P::strong_count(&inner.header))
    }

    /// The number of `Weak` handles, this one included; 0 once no strong
    /// reference lives (as std's), or for [`Weak::new`]'s handle. A
    /// snapshot.
    ///
    /// ```
    /// use brisk_refcount::Brc;
    /// let a = Brc::new(());
    /// let w = Brc::downgrade(&a);
    /// let v = w.clone();
    /// assert_eq!(w.weak_count(), 2);
    /// drop(a);
    /// assert_eq!(v.weak_count(), 0);
    /// ```
    pub fn weak_count(&self) -> usize {
        let Some(inner) = self.inner() else {
            return 0;
        };
        // Acquire, Relaxed: a snapshot, as std's `Weak::weak_count`.
        let weak = inner.weak.load(Acquire);
        if P::strong_count(&inner.header) == 0 {
            0
        } else {
            // The strong references hold one weak reference together. The
            // count cannot be locked: that needs it at 1, with no `Weak`.
            weak - 1
        }
    }

    /// Whether two `Weak`s point to the same allocation (or both nowhere),
    /// as `std::sync::Weak::ptr_eq`.
    ///
    /// ```
    /// use brisk_refcount::{Brc, Weak};
    /// let a = Brc::new(1);
    /// assert!(Brc::downgrade(&a).ptr_eq(&Brc::downgrade(&a)));
    /// assert!(!Brc::downgrade(&a).ptr_eq(&Weak::new()));
    /// ```
    #[inline]
    pub fn ptr_eq(&self, other: &Self) -> bool {
        ptr::addr_eq(self.ptr.as_ptr(), other.ptr.as_ptr())
    }

    /// A pointer to the value; it may dangle once the value is dropped,
    /// and points nowhere for [`Weak::new`]'s handle.
    ///
    /// ```
    /// use brisk_refcount::Brc;
    /// let a = Brc::new(4);
    /// let w = Brc::downgrade(&a);
    /// assert_eq!(w.as_ptr(), Brc::as_ptr(&a));
    /// ```
    #[inline]
    pub fn as_ptr(&self) -> *const T {
        let ptr = self.ptr.as_ptr();
        if is_dangling(ptr) {
            // Nowhere: the same address, as std's.
            ptr as *const T
        } else {
            // SAFETY: in bounds of the allocated block; no reference is made.
            unsafe { &raw const (*ptr).value }
        }
    }

    /// Gives up the handle without dropping its weak reference, returning
    /// [`Weak::as_ptr`]. [`Weak::from_raw`] takes it back.
    #[inline]
    #[must_use = "losing the pointer leaks the memory"]
    pub fn into_raw(self) -> *const T {
        ManuallyDrop::new(self).as_ptr()
    }

    /// Rebuilds a `Weak<T, P>` from a pointer returned by
    /// [`Weak::into_raw`], taking over its weak reference.
    ///
    /// # Safety
    ///
    /// `ptr` was returned by [`Weak::into_raw`] of a `Weak<T, P>` with the
    /// same `T` and `P` (for an unsized `T`, the same metadata), and each
    /// such pointer is taken back once.
    pub unsafe fn from_raw_with_policy(ptr: *const T) -> Self {
        let inner = if is_dangling(ptr) {
            ptr as *mut BrcInner<T>
        } else {
            // The value's offset from its alignment, read from the metadata
            // (a vtable) for a trait object; the bytes are not read, and may
            // be a dropped value.
            // SAFETY: our weak reference keeps the block allocated.
            let offset = value_offset(mem::align_of_val(unsafe { &*ptr }));
            // SAFETY: as in `Brc::from_raw_with_policy`: `ptr` points at the
            // `value` field of a block, with the block's provenance.
            (unsafe { ptr.byte_sub(offset) }) as *mut BrcInner<T>
        };
        Weak {
            // SAFETY: a block, or `usize::MAX`: not null.
            ptr: unsafe { NonNull::new_unchecked(inner) },
            _policy: PhantomData,
        }
    }
}

impl<T: ?Sized, P: RcPolicy> Clone for Weak<T, P> {
    /// Adds a weak reference.
    fn clone(&self) -> Self {
        if let Some(inner) = self.inner() {
            // Relaxed: our weak reference keeps the block, as in
            // `Weak::clone` of `Arc`. The count is not locked while a
            // `Weak` exists.
            let old = inner.weak.fetch_add(1, Relaxed);
            if old > MAX_WEAK {
                weak_count_overflow();
            }
        }
        Weak {
            ptr: self.ptr,
            _policy: PhantomData,
        }
    }
}

impl<T: ?Sized, P: RcPolicy> Drop for Weak<T, P> {
    /// Gives up the weak reference; the last one frees the memory (the
    /// value was dropped by the last strong reference, which gave up the
    /// weak reference they held together only after it).
    fn drop(&mut self) {
        if is_dangling(self.ptr.as_ptr()) {
            return;
        }
        // SAFETY: our weak reference, given up once.
        unsafe { release_weak(self.ptr) }
    }
}

impl<T, P: RcPolicy> Default for Weak<T, P> {
    /// [`Weak::new_with_policy`].
    fn default() -> Self {
        Self::new_with_policy()
    }
}

impl<T: ?Sized, P: RcPolicy> fmt::Debug for Weak<T, P> {
    /// `(Weak)`, as std's: the value may be gone.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "(Weak)")
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;
    use crate::test_support::{tracked, Tracked};
    use crate::{Atomic, NonAtomic, Weak};
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
        let a: Brc<Tracked, P> = Brc::new_with_policy(Tracked(Arc::clone(&drops)));
        let value = Brc::as_ptr(&a);
        let ptr = Brc::into_raw(Brc::clone(&a));
        assert_eq!(ptr, value, "into_raw points at the value");
        // SAFETY: `ptr` came from `into_raw` of a `Brc<Tracked, P>` on this
        // thread; every reference added is given back once.
        unsafe {
            Brc::<Tracked, P>::increment_strong_count_with_policy(ptr);
            assert_eq!(Brc::strong_count(&a), 3);
            let b = Brc::<Tracked, P>::from_raw_with_policy(ptr);
            assert!(Brc::ptr_eq(&a, &b));
            assert_eq!(Brc::strong_count(&a), 3);
            drop(b);
            Brc::<Tracked, P>::decrement_strong_count_with_policy(ptr);
        }
        assert_eq!(Brc::strong_count(&a), 1);
        assert_eq!(drops.load(SeqCst), 0);
        let last = Brc::into_raw(a);
        // SAFETY: the last reference, given back once.
        unsafe { Brc::<Tracked, P>::decrement_strong_count_with_policy(last) };
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

    /// A sized `T`'s block is exactly `BrcInner<T>`, the block `Box` makes,
    /// with the value where `#[repr(C)]` puts it: unsized support costs it
    /// nothing.
    #[test]
    fn sized_blocks_are_plain_boxes() {
        fn check<T>() {
            assert!(is_sized::<T>());
            assert_eq!(
                block_layout::<T>(Layout::new::<T>()),
                (Layout::new::<BrcInner<T>>(), 0)
            );
            assert_eq!(
                value_offset(mem::align_of::<T>()),
                mem::offset_of!(BrcInner<T>, value)
            );
            assert_eq!(mem::size_of::<Brc<T>>(), mem::size_of::<usize>());
        }
        #[repr(align(64))]
        struct Wide(#[allow(dead_code)] u8);
        check::<()>();
        check::<u8>();
        check::<u64>();
        check::<u128>();
        check::<String>();
        check::<Wide>();
        check::<[u16; 3]>();
    }

    /// An unsized object's block puts the prefix just before the header,
    /// the header 8-aligned and the value at its own alignment.
    #[test]
    fn unsized_blocks_keep_the_prefix_before_an_aligned_header() {
        #[repr(align(64))]
        struct Wide(#[allow(dead_code)] u8);
        assert!(!is_sized::<[u8]>() && !is_sized::<str>() && !is_sized::<dyn fmt::Debug>());
        for value in [
            Layout::new::<[u8; 0]>(),
            Layout::new::<[u8; 5]>(),
            Layout::new::<[u64; 3]>(),
            Layout::new::<[Wide; 2]>(),
        ] {
            let (block, offset) = block_layout::<[u8]>(value);
            assert!(offset >= mem::size_of::<Prefix<[u8]>>());
            assert_eq!(offset % 8, 0);
            assert_eq!(offset % value.align(), 0);
            assert_eq!((offset - mem::size_of::<Prefix<[u8]>>()) % 8, 0);
            let value_at = offset + value_offset(value.align());
            assert!(value_at + value.size() <= block.size());
            assert_eq!(block.align(), value.align().max(8));
        }
        let a: Brc<[u64]> = Brc::from(vec![1, 2, 3]);
        let header = Brc::header_ptr(&a).as_ptr() as usize;
        assert_eq!(header % 8, 0);
        assert_eq!(
            Brc::as_ptr(&a).cast::<u8>() as usize - header,
            value_offset(8)
        );
    }

    /// Every `Weak` method under policy `P`, on the thread that made the
    /// objects.
    fn weak_suite<P: RcPolicy>() {
        let drops = Arc::new(AtomicUsize::new(0));
        let a: Brc<Tracked, P> = Brc::new_with_policy(Tracked(Arc::clone(&drops)));
        assert_eq!(Brc::weak_count(&a), 0);

        // downgrade, clone, counts, ptr_eq, as_ptr.
        let w = Brc::downgrade(&a);
        assert_eq!((w.strong_count(), w.weak_count()), (1, 1));
        assert_eq!(Brc::weak_count(&a), 1);
        let w2 = w.clone();
        assert_eq!((w.weak_count(), Brc::weak_count(&a)), (2, 2));
        assert!(w.ptr_eq(&w2));
        assert!(!w.ptr_eq(&Weak::new_with_policy()));
        assert_eq!(w.as_ptr(), Brc::as_ptr(&a));
        assert_eq!(format!("{w:?}"), "(Weak)");

        // upgrade while alive.
        let b = w.upgrade().expect("alive");
        assert!(Brc::ptr_eq(&a, &b));
        assert_eq!((Brc::strong_count(&a), w.strong_count()), (2, 2));
        drop(b);
        assert_eq!(Brc::strong_count(&a), 1);

        // into_raw and from_raw keep the weak reference.
        let raw = Weak::into_raw(w2);
        assert_eq!(raw, Brc::as_ptr(&a));
        // SAFETY: from `into_raw` of a `Weak<Tracked, P>`, taken back once.
        let w2 = unsafe { Weak::<Tracked, P>::from_raw_with_policy(raw) };
        assert_eq!(w2.weak_count(), 2);

        // The uniqueness checks refuse while a `Weak` exists.
        let mut a = a;
        assert!(Brc::get_mut(&mut a).is_none(), "a Weak could upgrade");
        drop(w2);

        // The last strong reference drops the value; the memory stays for
        // the `Weak`, which no longer upgrades.
        drop(a);
        assert_eq!(drops.load(SeqCst), 1);
        assert!(w.upgrade().is_none());
        assert_eq!((w.strong_count(), w.weak_count()), (0, 0));
        drop(w); // frees the memory (Miri checks it is freed once)
        assert_eq!(drops.load(SeqCst), 1);

        // A `Weak` that points nowhere.
        let nowhere: Weak<Tracked, P> = Weak::default();
        assert!(nowhere.upgrade().is_none());
        assert_eq!((nowhere.strong_count(), nowhere.weak_count()), (0, 0));
        let again = nowhere.clone();
        assert!(again.ptr_eq(&nowhere));
        // SAFETY: from `into_raw` of a `Weak<Tracked, P>`, taken back once.
        let again = unsafe { Weak::<Tracked, P>::from_raw_with_policy(Weak::into_raw(again)) };
        assert!(again.ptr_eq(&nowhere));

        // get_mut works again once every `Weak` is gone.
        let mut c: Brc<u32, P> = Brc::new_with_policy(1);
        drop(Brc::downgrade(&c));
        *Brc::get_mut(&mut c).expect("no Weak left") += 1;

        // try_unwrap and into_inner take the value with a `Weak` alive, and
        // the `Weak` then finds the object dead.
        let w = Brc::downgrade(&c);
        assert_eq!(Brc::try_unwrap(c), Ok(2));
        assert!(w.upgrade().is_none());
        let d: Brc<String, P> = Brc::new_with_policy(String::from("in"));
        let w = Brc::downgrade(&d);
        assert_eq!(Brc::into_inner(d).as_deref(), Some("in"));
        assert!(w.upgrade().is_none());
        let e: Brc<u8, P> = Brc::new_with_policy(7);
        let _upgraded = Brc::downgrade(&e).upgrade().unwrap();
        let e = Brc::try_unwrap(e).expect_err("an upgraded Weak holds it");
        assert_eq!(*e, 7);

        // Unsized values: the Weak frees the whole block, prefix included.
        let s: Brc<str, P> = Brc::from("text");
        let ws = Brc::downgrade(&s);
        // SAFETY: from `into_raw` of a `Weak<str, P>`, taken back once.
        let ws = unsafe { Weak::<str, P>::from_raw_with_policy(Weak::into_raw(ws)) };
        assert_eq!(&*ws.upgrade().unwrap(), "text");
        drop(s);
        assert!(ws.upgrade().is_none());
        let t: Brc<dyn fmt::Debug, P> =
            Brc::from(Box::new(Shown(Tracked(Arc::clone(&drops)))) as Box<dyn fmt::Debug>);
        let wt = Brc::downgrade(&t);
        drop(t);
        assert_eq!(drops.load(SeqCst), 2);
        assert!(wt.upgrade().is_none());

        // new_cyclic: the Weak does not upgrade inside, and does after.
        struct Node<P: RcPolicy> {
            me: Weak<Node<P>, P>,
        }
        let node: Brc<Node<P>, P> = Brc::new_cyclic_with_policy(|me| {
            assert!(me.upgrade().is_none());
            assert_eq!(me.strong_count(), 0);
            Node { me: me.clone() }
        });
        assert_eq!((Brc::strong_count(&node), Brc::weak_count(&node)), (1, 1));
        assert!(Brc::ptr_eq(&node.me.upgrade().unwrap(), &node));
    }

    /// A `Tracked` that is `Debug`, to be made a trait object.
    struct Shown(#[allow(dead_code)] Tracked);

    impl fmt::Debug for Shown {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("Shown")
        }
    }

    #[test]
    fn weak_methods_under_biased() {
        weak_suite::<Biased>();
    }

    #[test]
    fn weak_methods_under_atomic() {
        weak_suite::<Atomic>();
    }

    #[test]
    fn weak_methods_under_nonatomic() {
        weak_suite::<NonAtomic>();
    }

    /// A `Weak` sent to another thread upgrades there (a shared increment)
    /// while the owner holds the object, and fails there once the last
    /// strong reference is gone, on either thread.
    #[test]
    fn a_weak_upgrades_on_another_thread() {
        let (a, drops) = tracked();
        let w = Brc::downgrade(&a);
        let (w, kept) = std::thread::spawn(move || {
            let up = w.upgrade().expect("the owner holds it");
            assert_eq!(
                Brc::header(&up).shared_word(),
                crate::header::SharedWord::new(1, SharedState::Published)
            );
            (w, up)
        })
        .join()
        .unwrap();
        // The owner's last local reference: merged, the upgraded handle
        // holds the object.
        drop(a);
        assert_eq!(drops.load(SeqCst), 0);
        assert!(w.upgrade().is_some(), "merged with a count of one");
        let w = std::thread::spawn(move || {
            drop(kept); // the last strong reference, on a non-owner
            assert!(w.upgrade().is_none());
            w
        })
        .join()
        .unwrap();
        assert_eq!(drops.load(SeqCst), 1);
        assert!(w.upgrade().is_none());
    }

    /// On the owner thread an upgrade is an owner increment of `local`.
    #[test]
    fn an_upgrade_on_the_owner_counts_locally() {
        let (a, _drops) = tracked();
        let w = Brc::downgrade(&a);
        let b = w.upgrade().unwrap();
        assert_eq!(Brc::header(&b).local_count(), 2);
        assert_eq!(Brc::header(&b).shared_word().count(), 0);
        drop((a, b));
        assert!(w.upgrade().is_none());
    }

    /// A panic in `new_cyclic`'s closure frees the block; a clone of the
    /// `Weak` kept by the closure keeps the memory, and never upgrades.
    #[test]
    fn new_cyclic_frees_the_block_when_the_closure_panics() {
        let kept: std::sync::Mutex<Option<Weak<u32>>> = std::sync::Mutex::new(None);
        let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            Brc::<u32>::new_cyclic(|_| panic!("no value"))
        }));
        assert!(result.is_err());
        let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            Brc::<u32>::new_cyclic(|me| {
                *kept.lock().unwrap() = Some(me.clone());
                panic!("no value")
            })
        }));
        assert!(result.is_err());
        let kept = kept.lock().unwrap().take().unwrap();
        assert!(kept.upgrade().is_none());
        assert_eq!((kept.strong_count(), kept.weak_count()), (0, 0));
    }

    /// The block is the header, the weak count, then the value: 8 bytes
    /// more than the header alone, as `Arc`'s two counts.
    #[test]
    fn the_weak_count_follows_the_header() {
        assert_eq!(mem::offset_of!(BrcInner<u8>, weak), 16);
        assert_eq!(mem::offset_of!(BrcInner<u8>, value), 24);
        assert_eq!(mem::size_of::<BrcInner<u64>>(), 32);
        assert_eq!(value_offset(1), 24);
        assert_eq!(value_offset(16), 32);
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
        let b: Brc<String, Atomic> = Brc::new_with_policy(String::from("atomic"));
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
