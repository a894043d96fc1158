//! Unsized payloads: `Brc<[T]>`, `Brc<str>` and `Brc<dyn Trait>`.
//!
//! An unsized object's block carries a prefix with its wide pointer, so
//! that a `Dealloc` given only the header can free it (see "Layout" in
//! `Brc`'s docs). These tests make such blocks by every conversion, free
//! them on every path (the owner's drop, a non-owner's drop through the
//! owner's merge queue, the raw policy API), and count drops so that each
//! element is dropped exactly once. They run under Miri too:
//! `cargo +nightly miri test -p brisk-refcount --test unsized`.

use std::any::Any;
use std::borrow::Cow;
use std::fmt::{self, Display};
use std::ptr::NonNull;
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::sync::Arc;
use std::thread;

use brisk_refcount::{Atomic, Biased, Brc, RcHeader, RcPolicy};

/// Counts how many times values tagged with it were dropped.
#[derive(Clone, Debug)]
struct Tracked(Arc<AtomicUsize>);

impl Drop for Tracked {
    fn drop(&mut self) {
        self.0.fetch_add(1, SeqCst);
    }
}

/// `n` tracked values sharing one counter, and the counter.
fn tracked(n: usize) -> (Vec<Tracked>, Arc<AtomicUsize>) {
    let drops = Arc::new(AtomicUsize::new(0));
    ((0..n).map(|_| Tracked(Arc::clone(&drops))).collect(), drops)
}

/// Aligned to 64 bytes, more than the header's 8.
#[derive(Clone, Debug, PartialEq)]
#[repr(align(64))]
struct Wide(u8);

/// A trait object type for the tests, with a value that counts drops.
trait Named: Send + Sync {
    fn name(&self) -> String;
}

impl Named for Tracked {
    fn name(&self) -> String {
        String::from("tracked")
    }
}

impl Named for Wide {
    fn name(&self) -> String {
        format!("wide {}", self.0)
    }
}

#[test]
fn from_vec_moves_the_elements_and_drops_each_once() {
    let (v, drops) = tracked(3);
    let a: Brc<[Tracked]> = Brc::from(v);
    assert_eq!(a.len(), 3);
    assert_eq!(drops.load(SeqCst), 0, "moved, not cloned");
    let b = Brc::clone(&a);
    assert_eq!(Brc::strong_count(&a), 2);
    drop(a);
    assert_eq!(drops.load(SeqCst), 0);
    drop(b);
    assert_eq!(drops.load(SeqCst), 3);
}

#[test]
fn from_slice_clones_the_elements() {
    let (v, drops) = tracked(2);
    let a: Brc<[Tracked]> = Brc::from(&v[..]);
    drop(v);
    assert_eq!(drops.load(SeqCst), 2, "the originals");
    drop(a);
    assert_eq!(drops.load(SeqCst), 4, "and the clones, once each");

    let mut words = [String::from("a"), String::from("b")];
    let b: Brc<[String]> = Brc::from(&mut words[..]);
    assert_eq!(*b, words);
}

#[test]
fn from_str_and_string() {
    let a: Brc<str> = Brc::from("hello");
    let b: Brc<str> = Brc::from(String::from("hello"));
    assert_eq!(a, b);
    assert_eq!(&*a, "hello");
    assert_eq!(a.len(), 5);
    let mut owned = String::from("mut");
    let c: Brc<str> = Brc::from(owned.as_mut_str());
    assert_eq!(&*c, "mut");
}

#[test]
fn from_array() {
    let a: Brc<[String]> = Brc::from([String::from("x"), String::from("y")]);
    assert_eq!(*a, ["x", "y"]);
}

#[test]
fn from_box_keeps_sized_values_sized() {
    // A sized box makes an ordinary block: `try_unwrap` frees it as a `Box`.
    let a: Brc<String> = Brc::from(Box::new(String::from("boxed")));
    assert_eq!(Brc::try_unwrap(a).unwrap(), "boxed");
    let (mut v, drops) = tracked(1);
    let b: Brc<Tracked> = Brc::from(Box::new(v.pop().unwrap()));
    drop(b);
    assert_eq!(drops.load(SeqCst), 1);
}

#[test]
fn from_box_of_slice_str_and_trait_object() {
    let (v, drops) = tracked(2);
    let a: Brc<[Tracked]> = Brc::from(v.into_boxed_slice());
    assert_eq!(drops.load(SeqCst), 0, "moved out of the box");
    drop(a);
    assert_eq!(drops.load(SeqCst), 2);

    let s: Brc<str> = Brc::from(String::from("boxed str").into_boxed_str());
    assert_eq!(&*s, "boxed str");

    let (mut v, drops) = tracked(1);
    let d: Brc<dyn Named> = Brc::from(Box::new(v.pop().unwrap()) as Box<dyn Named>);
    assert_eq!(d.name(), "tracked");
    let e = Brc::clone(&d);
    drop(d);
    assert_eq!(drops.load(SeqCst), 0);
    drop(e);
    assert_eq!(drops.load(SeqCst), 1);

    let shown: Brc<dyn Display> = Brc::from(Box::new(42) as Box<dyn Display>);
    assert_eq!(shown.to_string(), "42");
    assert_eq!(format!("{shown}"), "42");
}

#[test]
fn from_cow_borrowed_and_owned() {
    let a: Brc<str> = Brc::from(Cow::Borrowed("b"));
    let b: Brc<str> = Brc::from(Cow::<str>::Owned(String::from("o")));
    assert_eq!((&*a, &*b), ("b", "o"));
    let c: Brc<[u8]> = Brc::from(Cow::Borrowed(&[1u8, 2][..]));
    let d: Brc<[u8]> = Brc::from(Cow::<[u8]>::Owned(vec![3]));
    assert_eq!((&*c, &*d), (&[1u8, 2][..], &[3u8][..]));
}

#[test]
fn from_iterator() {
    let a: Brc<[usize]> = (0..5).map(|i| i * i).collect();
    assert_eq!(*a, [0, 1, 4, 9, 16]);
    let empty: Brc<[String]> = std::iter::empty().collect();
    assert!(empty.is_empty());
    // An iterator that lies about its length.
    let filtered: Brc<[i32]> = (0..10).filter(|i| i % 3 == 0).collect();
    assert_eq!(*filtered, [0, 3, 6, 9]);
}

#[test]
fn try_from_slice_to_array() {
    let (v, drops) = tracked(2);
    let a: Brc<[Tracked]> = Brc::from(v);
    let a = Brc::<[Tracked; 3]>::try_from(a).expect_err("wrong length");
    let shared = Brc::clone(&a);
    let a = Brc::<[Tracked; 2]>::try_from(a).expect_err("shared: cannot move");
    drop(shared);
    let array: Brc<[Tracked; 2]> = a.try_into().expect("the only reference, two elements");
    assert_eq!(drops.load(SeqCst), 0, "moved, not dropped");
    drop(array);
    assert_eq!(drops.load(SeqCst), 2);

    let empty: Brc<[u8]> = Brc::from(Vec::new());
    let empty: Brc<[u8; 0]> = empty.try_into().unwrap();
    assert_eq!(*empty, []);
}

#[test]
fn downcast_hit_miss_and_shared() {
    let (mut v, drops) = tracked(1);
    let any: Brc<dyn Any + Send + Sync> =
        Brc::from(Box::new(v.pop().unwrap()) as Box<dyn Any + Send + Sync>);
    let any = any.downcast::<String>().expect_err("not a String");
    let shared = Brc::clone(&any);
    assert!(shared.downcast_ref::<Tracked>().is_some());
    let any = any.downcast::<Tracked>().expect_err("shared: cannot move");
    drop(shared);
    let t: Brc<Tracked> = any.downcast::<Tracked>().expect("the only reference");
    assert_eq!(drops.load(SeqCst), 0, "moved, not dropped");
    drop(t);
    assert_eq!(drops.load(SeqCst), 1);
}

#[test]
fn make_mut_clones_a_shared_slice_and_writes_a_unique_one_in_place() {
    let (v, drops) = tracked(2);
    let mut a: Brc<[Tracked]> = Brc::from(v);
    let b = Brc::clone(&a);
    let before = Brc::as_ptr(&a);
    let _unique: &mut [Tracked] = Brc::make_mut(&mut a);
    assert!(!Brc::ptr_eq(&a, &b), "shared: cloned");
    assert_ne!(Brc::as_ptr(&a), before);
    assert_eq!(drops.load(SeqCst), 0);
    drop(b);
    assert_eq!(drops.load(SeqCst), 2, "the old block's elements");
    let here = Brc::as_ptr(&a);
    let _unique: &mut [Tracked] = Brc::make_mut(&mut a);
    assert_eq!(Brc::as_ptr(&a), here, "unique: in place");
    drop(a);
    assert_eq!(drops.load(SeqCst), 4);

    let mut n: Brc<[i32]> = Brc::from(vec![1, 2, 3]);
    let m = Brc::clone(&n);
    Brc::make_mut(&mut n)[1] = 20;
    assert_eq!((&*n, &*m), (&[1, 20, 3][..], &[1, 2, 3][..]));

    let mut s: Brc<str> = Brc::from("abc");
    let t = Brc::clone(&s);
    Brc::make_mut(&mut s).make_ascii_uppercase();
    assert_eq!((&*s, &*t), ("ABC", "abc"));
}

#[test]
fn get_mut_on_a_slice() {
    let mut a: Brc<[i32]> = Brc::from(vec![1, 2]);
    Brc::get_mut(&mut a).unwrap()[0] = 5;
    let b = Brc::clone(&a);
    assert!(Brc::get_mut(&mut a).is_none());
    drop(b);
    assert_eq!(*a, [5, 2]);
}

#[test]
fn zero_length_slices_and_strings() {
    let a: Brc<[String]> = Brc::from(Vec::new());
    assert!(a.is_empty());
    let b = Brc::clone(&a);
    assert!(Brc::ptr_eq(&a, &b));
    let c: Brc<str> = Brc::from("");
    assert_eq!(&*c, "");
    let d: Brc<[u64]> = Brc::default();
    let e: Brc<str> = Brc::default();
    assert_eq!((d.len(), e.len()), (0, 0));
    let ptr = Brc::into_raw(a);
    // SAFETY: from `into_raw` of a `Brc<[String]>`; taken back once.
    let a = unsafe { Brc::from_raw(ptr) };
    assert!(Brc::ptr_eq(&a, &b));
}

/// Zero-sized elements that count their drops in a counter of their own.
#[derive(Clone)]
struct Ghost;

static GHOST_DROPS: AtomicUsize = AtomicUsize::new(0);

impl Drop for Ghost {
    fn drop(&mut self) {
        GHOST_DROPS.fetch_add(1, SeqCst);
    }
}

#[test]
fn zero_sized_elements() {
    let a: Brc<[()]> = Brc::from(vec![(); 7]);
    assert_eq!(a.len(), 7);
    let ghosts: Brc<[Ghost]> = Brc::from(vec![Ghost, Ghost, Ghost]);
    let more: Brc<[Ghost]> = Brc::from(&ghosts[..]);
    drop(ghosts);
    drop(more);
    assert_eq!(GHOST_DROPS.load(SeqCst), 6);
    let boxed: Brc<dyn Any + Send + Sync> = Brc::from(Box::new(()) as Box<dyn Any + Send + Sync>);
    assert!(boxed.is::<()>());
}

#[test]
fn over_aligned_elements() {
    let a: Brc<[Wide]> = Brc::from(vec![Wide(1), Wide(2)]);
    assert_eq!(Brc::as_ptr(&a).cast::<u8>() as usize % 64, 0);
    assert_eq!(*a, [Wide(1), Wide(2)]);
    let b: Brc<[Wide]> = Brc::from(&a[..]);
    assert_eq!(Brc::as_ptr(&b).cast::<u8>() as usize % 64, 0);
    let ptr = Brc::into_raw(Brc::clone(&a));
    // SAFETY: from `into_raw` of a `Brc<[Wide]>`; taken back once.
    let back = unsafe { Brc::from_raw(ptr) };
    assert!(Brc::ptr_eq(&a, &back));

    let d: Brc<dyn Named> = Brc::from(Box::new(Wide(3)) as Box<dyn Named>);
    assert_eq!(d.name(), "wide 3");
    assert_eq!(Brc::as_ptr(&d).cast::<u8>() as usize % 64, 0);
    let ptr = Brc::into_raw(Brc::clone(&d));
    // SAFETY: from `into_raw` of a `Brc<dyn Named>`, metadata unchanged.
    let back = unsafe { Brc::from_raw(ptr) };
    assert!(Brc::ptr_eq(&d, &back));
}

#[test]
fn raw_pointers_of_unsized_values() {
    let a: Brc<str> = Brc::from("raw");
    let ptr = Brc::into_raw(Brc::clone(&a));
    // SAFETY: from `into_raw` of a `Brc<str>`; each reference added is
    // given back once.
    unsafe {
        assert_eq!(&*ptr, "raw");
        Brc::increment_strong_count(ptr);
        assert_eq!(Brc::strong_count(&a), 3);
        Brc::decrement_strong_count(ptr);
        Brc::decrement_strong_count(ptr);
    }
    assert_eq!(Brc::strong_count(&a), 1);
}

/// The raw policy API frees an unsized object from its header alone: the
/// `Dealloc` reads the prefix. `from_header` reads it too.
#[test]
fn headers_of_unsized_objects() {
    let (v, drops) = tracked(3);
    let a: Brc<[Tracked]> = Brc::from(v);
    let header = Brc::into_header(Brc::clone(&a));
    // SAFETY: from `into_header` of a `Brc<[Tracked]>`.
    let back: Brc<[Tracked]> = unsafe { Brc::from_header(header) };
    assert!(Brc::ptr_eq(&a, &back));
    assert_eq!(back.len(), 3);
    drop(back);
    let dealloc = Brc::<[Tracked]>::dealloc_fn();
    let header: NonNull<RcHeader> = Brc::into_header(a);
    // SAFETY: the last reference, given back once, with this type's
    // `Dealloc`.
    unsafe { Biased::decref(header, dealloc) };
    assert_eq!(drops.load(SeqCst), 3);
}

/// The owner makes the object and hands its only handle to another thread,
/// which drops it: the shared count reaches zero there, so the object is
/// queued to the owner, whose safepoint frees it through the `Dealloc`
/// carried by the queue entry, with only the header to go on.
#[test]
fn a_slice_dropped_last_elsewhere_is_freed_by_the_owners_safepoint() {
    let (v, drops) = tracked(4);
    let a: Brc<[Tracked]> = Brc::from(v);
    let b = Brc::clone(&a);
    thread::spawn(move || drop(b)).join().unwrap();
    drop(a);
    assert_eq!(
        drops.load(SeqCst),
        0,
        "the owner's own release is not the last"
    );

    let (v, drops) = tracked(4);
    let a: Brc<[Tracked]> = Brc::from(v);
    thread::spawn(move || {
        assert_eq!(a.len(), 4);
        drop(a);
    })
    .join()
    .unwrap();
    assert_eq!(drops.load(SeqCst), 0, "queued to the owner");
    brisk_refcount::safepoint();
    assert_eq!(drops.load(SeqCst), 4, "each element once");
}

#[test]
fn a_trait_object_dropped_last_elsewhere_is_freed_by_the_owners_safepoint() {
    for value in [Box::new(Wide(9)) as Box<dyn Named>, {
        let (mut v, _) = tracked(1);
        Box::new(v.pop().unwrap())
    }] {
        let d: Brc<dyn Named> = Brc::from(value);
        let e = Brc::clone(&d);
        thread::spawn(move || {
            assert!(e.name().starts_with(['w', 't']));
            drop(e);
        })
        .join()
        .unwrap();
        thread::spawn(move || drop(d)).join().unwrap();
        brisk_refcount::safepoint();
    }

    let (mut v, drops) = tracked(1);
    let d: Brc<dyn Named> = Brc::from(Box::new(v.pop().unwrap()) as Box<dyn Named>);
    thread::spawn(move || drop(d)).join().unwrap();
    assert_eq!(drops.load(SeqCst), 0, "queued to the owner");
    brisk_refcount::safepoint();
    assert_eq!(drops.load(SeqCst), 1);

    let s: Brc<str> = Brc::from("queued str");
    thread::spawn(move || assert_eq!(&*s, "queued str"))
        .join()
        .unwrap();
    brisk_refcount::safepoint();
}

/// Under `Atomic` every release counts on the shared word: the other
/// thread's drop frees the object itself, through the same prefix.
#[test]
fn under_atomic_the_last_release_elsewhere_frees_at_once() {
    let (v, drops) = tracked(3);
    let a: Brc<[Tracked], Atomic> = Brc::from(v);
    let b = Brc::clone(&a);
    drop(a);
    thread::spawn(move || drop(b)).join().unwrap();
    assert_eq!(drops.load(SeqCst), 3);

    let (mut v, drops) = tracked(1);
    let d: Brc<dyn Named, Atomic> = Brc::from(Box::new(v.pop().unwrap()) as Box<dyn Named>);
    thread::spawn(move || drop(d)).join().unwrap();
    assert_eq!(drops.load(SeqCst), 1);

    let mut s: Brc<str, Atomic> = Brc::from("atomic");
    let t = Brc::clone(&s);
    Brc::make_mut(&mut s).make_ascii_uppercase();
    thread::spawn(move || assert_eq!(&*t, "atomic"))
        .join()
        .unwrap();
    assert_eq!(&*s, "ATOMIC");

    let any: Brc<dyn Any + Send + Sync, Atomic> =
        Brc::from(Box::new(5u8) as Box<dyn Any + Send + Sync>);
    let n: Brc<u8, Atomic> = thread::spawn(move || any.downcast::<u8>().unwrap())
        .join()
        .unwrap();
    assert_eq!(*n, 5);
    let arr: Brc<[u8; 2], Atomic> = (1..3).collect::<Brc<[u8], Atomic>>().try_into().unwrap();
    assert_eq!(*arr, [1, 2]);
}

/// Formatting, comparing, hashing and borrowing reach the unsized value.
#[test]
fn traits_reach_the_value() {
    use std::collections::HashSet;
    let a: Brc<str> = Brc::from("b");
    let b: Brc<str> = Brc::from("a");
    assert!(b < a);
    assert_eq!(format!("{a:?} {a}"), "\"b\" b");
    let set: HashSet<Brc<str>> = [Brc::clone(&a), Brc::from("b")].into_iter().collect();
    assert_eq!(set.len(), 1);
    assert!(set.contains("b"));
    let r: &str = a.as_ref();
    assert_eq!(r, "b");
    assert_eq!(format!("{a:p}"), format!("{:p}", Brc::as_ptr(&a)));

    struct Loud;
    impl fmt::Debug for Loud {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("loud")
        }
    }
    let v: Brc<[Loud]> = Brc::from(vec![Loud]);
    assert_eq!(format!("{v:?}"), "[loud]");
}

/// A clone that panics midway leaves no element dropped twice and none
/// leaked, and frees the half-made block.
#[test]
fn a_panicking_clone_drops_what_was_cloned() {
    struct Fuse(Arc<AtomicUsize>, bool);
    impl Clone for Fuse {
        fn clone(&self) -> Self {
            assert!(!self.1, "this one does not clone");
            Fuse(Arc::clone(&self.0), false)
        }
    }
    impl Drop for Fuse {
        fn drop(&mut self) {
            self.0.fetch_add(1, SeqCst);
        }
    }
    let drops = Arc::new(AtomicUsize::new(0));
    let v = vec![
        Fuse(Arc::clone(&drops), false),
        Fuse(Arc::clone(&drops), false),
        Fuse(Arc::clone(&drops), true),
    ];
    let caught = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        let _: Brc<[Fuse]> = Brc::from(&v[..]);
    }));
    assert!(caught.is_err());
    assert_eq!(drops.load(SeqCst), 2, "the two clones made");
    drop(v);
    assert_eq!(drops.load(SeqCst), 5);
}

/// A `Brc<CStr>` copies the string with its NUL, and the owner's merge frees
/// it after another thread dropped the last reference (through the prefix
/// that `CStr`'s block shares with `[u8]`'s layout).
#[test]
fn c_strings_convert_and_are_freed_through_the_queue() {
    use std::ffi::{CStr, CString};
    let a: Brc<CStr> = Brc::from(c"queue");
    assert_eq!(a.to_bytes_with_nul(), b"queue\0");
    let b: Brc<CStr> = Brc::from(CString::new("owned").unwrap());
    assert_eq!(&*b, c"owned");
    let c = Brc::clone(&a);
    drop(a);
    std::thread::spawn(move || drop(c)).join().unwrap();
    brisk_refcount::safepoint();
    let atomic: Brc<CStr, brisk_refcount::Atomic> = Brc::from(c"atomic");
    std::thread::spawn(move || drop(atomic)).join().unwrap();
    let _: &CStr = &b;
}

/// A sized `Brc<T>` is one word, an unsized one two, as `Arc`'s.
#[test]
fn handle_sizes() {
    use std::mem::size_of;
    assert_eq!(size_of::<Brc<u64>>(), size_of::<usize>());
    assert_eq!(size_of::<Option<Brc<u64>>>(), size_of::<usize>());
    assert_eq!(size_of::<Brc<[u64]>>(), 2 * size_of::<usize>());
    assert_eq!(size_of::<Brc<dyn Named>>(), 2 * size_of::<usize>());
    let _: fn() -> Brc<dyn Named, Biased> = || Brc::from(Box::new(Wide(0)) as Box<dyn Named>);
}

/// The policy is a type parameter of every conversion.
fn _conversions_serve_every_policy<P: RcPolicy>() -> Brc<[u8], P> {
    Brc::from(vec![1])
}
