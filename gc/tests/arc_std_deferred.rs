//! The standard library's `Arc` tests under [`Deferred`]: the body that
//! `refcount/tests/arc_std.rs` runs under `Biased` (it lists what was
//! ported and how), included here with this crate's policy.
//!
//! The epoch domain is process-wide, and `settle` collects through it, so
//! a test's `settle` may also run other tests' deferred frees; that is
//! harmless, since every test checks only its own values.

use brisk_gc::Deferred;

/// The policy the shared body runs under.
type P = Deferred;
/// `Brc` under [`P`], the name the shared body uses.
type Brc<T> = brisk_refcount::Brc<T, P>;
/// `Weak` under [`P`], the name the shared body uses.
type Weak<T> = brisk_refcount::Weak<T, P>;

/// Runs this thread's deferred decrements and frees: under `Deferred` the
/// owner's drop of the last reference to a published object (one that was
/// downgraded, or counted by another thread) defers its decrement by an
/// epoch, so the value lives until a collection applies it.
///
/// The domain is shared with the other tests, which run on threads of
/// their own and pin it while they count, holding the epoch back; so this
/// steps until the domain holds no garbage at all, yielding between
/// tries. Bounded, so that a decrement that never applies fails the
/// caller's check instead of hanging the run.
fn settle() {
    for _ in 0..100_000 {
        if brisk_gc::collect(8).is_empty() {
            return;
        }
        std::thread::yield_now();
    }
}

/// Under `Deferred` the owner claims uniqueness only for an object nobody
/// else has seen; a downgrade publishes it.
const UNIQUE_AFTER_DOWNGRADE: bool = false;

#[path = "../../refcount/tests/suites/arc_std.rs"]
mod suite;
