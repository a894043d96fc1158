//! The standard library's `Arc` tests under the default policy,
//! [`Biased`]: the shared body (`suites/arc_std.rs`, which lists what was
//! ported and how), the tests that need `Biased`'s own API, and those that
//! hold under `Atomic` but not under `Biased`.
//!
//! `gc/tests/arc_std_deferred.rs` runs the same body under
//! `brisk_gc::Deferred`.

use brisk_refcount::Biased;

/// The policy the shared body runs under.
type P = Biased;
/// `Brc` under [`P`], the name the shared body uses.
type Brc<T> = brisk_refcount::Brc<T, P>;
/// `Weak` under [`P`], the name the shared body uses.
type Weak<T> = brisk_refcount::Weak<T, P>;

/// Nothing to wait for: under `Biased` the owner's drop of the last
/// reference frees on the spot, and these tests drop on the owner.
fn settle() {}

/// The owner tells a unique object from a shared one exactly, `Weak`s or
/// not.
const UNIQUE_AFTER_DOWNGRADE: bool = true;

#[path = "suites/arc_std.rs"]
mod suite;

/// The tests that need `Brc<T>`'s own `From<T>` and `Default`, which only
/// the default policy has (see the suite's docs, "Under `Biased` only").
mod biased_api {
    use super::Brc;

    /// Every derivable trait can be derived through a `Brc<T>` field.
    #[derive(Eq, Ord, PartialEq, PartialOrd, Clone, Debug, Default)]
    struct _Foo {
        inner: Brc<i32>,
    }

    #[test]
    fn test_from_owned() {
        let foo = 123;
        let foo_arc = Brc::from(foo);
        assert!(123 == *foo_arc);
    }
}

/// The tests that hold under `Atomic` but not under `Biased`.
mod under_atomic {
    use brisk_refcount::{Atomic, Brc};

    /// Upstream `into_inner`'s racing loop: with every count on the shared
    /// word, exactly one of the two threads gets the value.
    #[test]
    fn into_inner() {
        // Repeated to give a race more chances to show.
        for _ in 0..100 {
            let x: Brc<i32, Atomic> = Brc::new_with_policy(3);
            let y = Brc::clone(&x);
            let r_thread = std::thread::spawn(|| Brc::into_inner(x));
            let s_thread = std::thread::spawn(|| Brc::into_inner(y));
            let r = r_thread.join().expect("r_thread panicked");
            let s = s_thread.join().expect("s_thread panicked");
            assert!(
                matches!((r, s), (None, Some(3)) | (Some(3), None)),
                "expected exactly one of the threads to get 3, got {:?}",
                (r, s),
            );
        }
    }
}
