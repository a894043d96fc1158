//! triomphe's `Arc` tests, run against `Brc`.
//!
//! triomphe is the `Arc` without weak references that Servo and rust-analyzer
//! use; its tests check a second implementation's reading of `Arc`'s
//! contract. They are ported from triomphe 0.1.17, `src/arc.rs`
//! (`mod tests`) and one test of `src/header.rs`, by renaming `Arc` to
//! `Brc`, with the upstream test names, under the default policy,
//! [`Biased`](brisk_refcount::Biased). triomphe's `Arc::count` is its
//! strong count, so it becomes [`Brc::strong_count`].
//!
//! # Ported with changes
//!
//! * `from_iterator_exact_size`, `from_iterator_unknown_size`: the result's
//!   type is written out (`Brc<[String]>`), since `Brc`'s policy parameter
//!   leaves `Brc::from_iter` ambiguous without it.
//! * `roundtrip_slice`: `Brc::from_raw` in place of triomphe's
//!   `from_raw_slice`, since `Brc::from_raw` takes unsized pointers.
//! * `arc_eq_and_cmp`, `arc_eq_and_partial_cmp`: a `Brc` of the tuple
//!   `(header, slice)` in place of triomphe's `HeaderSlice` (made by
//!   `from_header_and_slice`), which compares the same way: the header
//!   first, then the slice.
//!
//! # Not ported
//!
//! | test | needs |
//! |---|---|
//! | `try_new`, `try_new_uninit`, `try_new_uninit_slice` | fallible allocation (`try_new*`) |
//! | `maybeuninit`, `maybeuninit_ub_to_proceed`, `maybeuninit_slice_ub_to_proceed`, `maybeuninit_array`, `test_as_mut_ptr_sound` | `new_uninit`, `new_uninit_slice`, `assume_init`, `as_mut_ptr`, `as_mut_slice`, `is_unique` |
//! | `coerce_to_slice`, `coerce_to_dyn` | the `unsize` crate's coercion (feature `unsize`) |
//! | `into_unique`, `into_unique_data_race_no_sleep`, `into_unique_data_race_sleep` | `UniqueArc` |
//! | `test_partial_eq_bug` | triomphe's `==` that answers `true` on pointer identity, so a NaN equals itself (upstream marks it a bug); `Brc` compares the values, as std does (`arc_std.rs`, `float_nan_ne`) |
//! | `test_into_raw_from_raw_dst` | rebuilding an `Arc<dyn Trait>` from the pointer of an `Arc<u32>`: `Brc::from_raw` requires the pointer of a `Brc` of the same `T`, since an unsized block keeps its metadata in a prefix that a sized block lacks (`Brc`'s docs, "Layout") |
//! | `src/header.rs`, all but `from_box_and_vec` | `HeaderSlice`, `from_header_and_*`, `ThinArc` |
//! | `src/arc_borrow.rs` | `ArcBorrow` |
//! | `src/arc_union.rs`, `src/offset_arc.rs`, `src/thin_arc.rs`, `src/unique_arc.rs` | `ArcUnion`, `OffsetArc`, `ThinArc`, `UniqueArc` |

use brisk_refcount::Brc;

// Ported from `src/arc.rs`.

#[test]
fn try_unwrap() {
    let x = Brc::new(100usize);
    let y = x.clone();

    // The count should be two so `try_unwrap()` should fail
    assert_eq!(Brc::strong_count(&x), 2);
    assert!(Brc::try_unwrap(x).is_err());

    // Since `x` has now been dropped, the count should be 1
    // and `try_unwrap()` should succeed
    assert_eq!(Brc::strong_count(&y), 1);
    assert_eq!(Brc::try_unwrap(y), Ok(100));
}

#[test]
fn roundtrip() {
    let arc: Brc<usize> = Brc::new(0usize);
    let ptr = Brc::into_raw(arc);
    // SAFETY: from `into_raw` of a `Brc<usize>`; taken back once.
    unsafe {
        let _arc = Brc::from_raw(ptr);
    }
}

#[test]
fn from_iterator_exact_size() {
    let arc: Brc<[String]> =
        Brc::from_iter(Vec::from_iter(["ololo".to_owned(), "trololo".to_owned()]));
    assert_eq!(1, Brc::strong_count(&arc));
    assert_eq!(["ololo".to_owned(), "trololo".to_owned()], *arc);
}

#[test]
fn from_iterator_unknown_size() {
    let arc: Brc<[String]> = Brc::from_iter(
        Vec::from_iter(["ololo".to_owned(), "trololo".to_owned()])
            .into_iter()
            // Filter is opaque to iterators, so the resulting iterator
            // will report lower bound of 0.
            .filter(|_| true),
    );
    assert_eq!(1, Brc::strong_count(&arc));
    assert_eq!(["ololo".to_owned(), "trololo".to_owned()], *arc);
}

#[test]
fn roundtrip_slice() {
    let arc: Brc<[i32]> = Brc::from(Vec::from_iter([17, 19]));
    let ptr = Brc::into_raw(arc);
    // SAFETY: from `into_raw` of a `Brc<[i32]>`; taken back once.
    let arc = unsafe { Brc::from_raw(ptr) };
    assert_eq!([17, 19], *arc);
    assert_eq!(1, Brc::strong_count(&arc));
}

/// Upstream's `from_header_and_slice`: a `Brc` of the header and the slice.
fn from_header_and_slice<H, T: ?Sized>(header: H, slice: &T) -> Brc<(H, &T)> {
    Brc::new((header, slice))
}

/// The body both comparison tests share: a handle of each tuple compares
/// as the tuple does, with itself and with the other.
#[allow(clippy::eq_op)] // comparing a handle with itself is the point
fn compares_as_its_tuple<H, S>(lt: &(H, &[S]), rt: &(H, &[S]))
where
    H: PartialOrd + Copy + std::fmt::Debug,
    S: PartialOrd + std::fmt::Debug,
{
    let (lh, ls) = *lt;
    let (rh, rs) = *rt;
    let l = from_header_and_slice(lh, ls);
    let r = from_header_and_slice(rh, rs);

    assert_eq!(l, l);
    assert_eq!(r, r);

    assert_ne!(l, r);
    assert_ne!(r, l);

    assert_eq!(l <= l, lt <= lt, "{lt:?} <= {lt:?}");
    assert_eq!(l >= l, lt >= lt, "{lt:?} >= {lt:?}");

    assert_eq!(l < l, lt < lt, "{lt:?} < {lt:?}");
    assert_eq!(l > l, lt > lt, "{lt:?} > {lt:?}");

    assert_eq!(r <= r, rt <= rt, "{rt:?} <= {rt:?}");
    assert_eq!(r >= r, rt >= rt, "{rt:?} >= {rt:?}");

    assert_eq!(r < r, rt < rt, "{rt:?} < {rt:?}");
    assert_eq!(r > r, rt > rt, "{rt:?} > {rt:?}");

    assert_eq!(l < r, lt < rt, "{lt:?} < {rt:?}");
    assert_eq!(r > l, rt > lt, "{rt:?} > {lt:?}");
}

#[test]
fn arc_eq_and_cmp() {
    [
        [("*", &b"AB"[..]), ("*", &b"ab"[..])],
        [("*", &b"AB"[..]), ("*", &b"a"[..])],
        [("*", &b"A"[..]), ("*", &b"ab"[..])],
        [("A", &b"*"[..]), ("a", &b"*"[..])],
        [("a", &b"*"[..]), ("A", &b"*"[..])],
        [("AB", &b"*"[..]), ("a", &b"*"[..])],
        [("A", &b"*"[..]), ("ab", &b"*"[..])],
    ]
    .iter()
    .for_each(|[lt, rt]| compares_as_its_tuple(lt, rt))
}

#[test]
fn arc_eq_and_partial_cmp() {
    [
        [(0.0, &[0.0, 0.0][..]), (1.0, &[0.0, 0.0][..])],
        [(1.0, &[0.0, 0.0][..]), (0.0, &[0.0, 0.0][..])],
        [(0.0, &[0.0][..]), (0.0, &[0.0, 0.0][..])],
        [(0.0, &[0.0, 0.0][..]), (0.0, &[0.0][..])],
        [(0.0, &[1.0, 2.0][..]), (0.0, &[10.0, 20.0][..])],
    ]
    .iter()
    .for_each(|[lt, rt]| compares_as_its_tuple(lt, rt))
}

#[test]
fn test_strong_count() {
    let arc = Brc::new(17);
    assert_eq!(1, Brc::strong_count(&arc));
    let arc2 = arc.clone();
    assert_eq!(2, Brc::strong_count(&arc));
    drop(arc);
    assert_eq!(1, Brc::strong_count(&arc2));
}

#[allow(dead_code)]
const fn is_partial_ord<T: ?Sized + PartialOrd>() {}

#[allow(dead_code)]
const fn is_ord<T: ?Sized + Ord>() {}

// compile-time check that PartialOrd/Ord is correctly derived
const _: () = is_partial_ord::<Brc<f64>>();
const _: () = is_ord::<Brc<u64>>();

// Ported from `src/header.rs`.

#[test]
fn from_box_and_vec() {
    let b = Box::new(String::from("xxx"));
    let b = Brc::<String>::from(b);
    assert_eq!(&*b, "xxx");

    let v = vec![String::from("1"), String::from("2"), String::from("3")];
    let v = Brc::<[_]>::from(v);
    assert_eq!(
        &*v,
        [String::from("1"), String::from("2"), String::from("3")]
    );

    let mut v = vec![String::from("1"), String::from("2"), String::from("3")];
    v.reserve(10);
    let v = Brc::<[_]>::from(v);
    assert_eq!(
        &*v,
        [String::from("1"), String::from("2"), String::from("3")]
    );
}
