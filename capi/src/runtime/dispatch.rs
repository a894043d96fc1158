//! One enum over the counting policies, so that a handle table holds a
//! runtime of either policy, and one macro that picks the arm.
//!
//! In Rust a policy is a type parameter: a `Runtime<Biased>` and a
//! `Runtime<Deferred>` are different types, and so are their interpreters,
//! channel ends, mutators and references. C chooses the policy at run time,
//! so each kind of handle names a [`ByPolicy`] of its Rust type. A
//! [`Family`] says what that type is for each policy (`Of<P>`), which lets
//! one generic enum serve every kind of handle.
//!
//! An operation is written once, as a generic function over `P:`
//! [`CPolicy`]. [`dispatch!`](dispatch) matches the handle it is driven by
//! (the runtime, or the calling thread's mutator) and calls that function
//! in either arm, where the policy is a known type again; the function
//! takes its other handles out with [`ByPolicy::get`], which refuses one
//! of the other policy.

use brisk_refcount::RcPolicy;
use brisk_runtime::{Biased, Deferred, RuntimePolicy};

use crate::error::{BriskStatus, Error, Result};

/// What a kind of handle names, per policy.
pub(crate) trait Family {
    /// The Rust value under policy `P`.
    type Of<P: CPolicy>;
    /// The kind's name, for messages ("channel sender").
    const WHAT: &'static str;
}

/// A `F::Of<P>` of one of the policies C can choose.
pub(crate) enum ByPolicy<F: Family> {
    Biased(F::Of<Biased>),
    Deferred(F::Of<Deferred>),
}

/// The policies C can choose: moves a value into and out of its arm of
/// [`ByPolicy`].
pub(crate) trait CPolicy: RuntimePolicy {
    /// `value` in this policy's arm.
    fn wrap<F: Family>(value: F::Of<Self>) -> ByPolicy<F>;
    /// The value in this policy's arm, or `None` for the other arm.
    fn peek<F: Family>(any: &ByPolicy<F>) -> Option<&F::Of<Self>>;
    /// The value in this policy's arm, or `any` back for the other arm.
    fn unwrap<F: Family>(any: ByPolicy<F>) -> core::result::Result<F::Of<Self>, ByPolicy<F>>;
}

impl CPolicy for Biased {
    fn wrap<F: Family>(value: F::Of<Self>) -> ByPolicy<F> {
        ByPolicy::Biased(value)
    }

    fn peek<F: Family>(any: &ByPolicy<F>) -> Option<&F::Of<Self>> {
        match any {
            ByPolicy::Biased(value) => Some(value),
            ByPolicy::Deferred(_) => None,
        }
    }

    fn unwrap<F: Family>(any: ByPolicy<F>) -> core::result::Result<F::Of<Self>, ByPolicy<F>> {
        match any {
            ByPolicy::Biased(value) => Ok(value),
            other => Err(other),
        }
    }
}

impl CPolicy for Deferred {
    fn wrap<F: Family>(value: F::Of<Self>) -> ByPolicy<F> {
        ByPolicy::Deferred(value)
    }

    fn peek<F: Family>(any: &ByPolicy<F>) -> Option<&F::Of<Self>> {
        match any {
            ByPolicy::Deferred(value) => Some(value),
            ByPolicy::Biased(_) => None,
        }
    }

    fn unwrap<F: Family>(any: ByPolicy<F>) -> core::result::Result<F::Of<Self>, ByPolicy<F>> {
        match any {
            ByPolicy::Deferred(value) => Ok(value),
            other => Err(other),
        }
    }
}

impl<F: Family> ByPolicy<F> {
    /// The policy's name (`biased`, `deferred`).
    pub(crate) fn policy_name(&self) -> &'static str {
        match self {
            ByPolicy::Biased(_) => Biased::NAME,
            ByPolicy::Deferred(_) => Deferred::NAME,
        }
    }

    /// The value, if it is of policy `P`; `function` names the call for
    /// the error.
    pub(crate) fn get<P: CPolicy>(&self, function: &str) -> Result<&F::Of<P>> {
        P::peek(self).ok_or_else(|| self.mismatch::<P>(function))
    }

    /// The value, taken out, if it is of policy `P`; else `self` back and
    /// the error.
    pub(crate) fn take<P: CPolicy>(
        self,
        function: &str,
    ) -> core::result::Result<F::Of<P>, (Self, Error)> {
        P::unwrap(self).map_err(|this| {
            let error = this.mismatch::<P>(function);
            (this, error)
        })
    }

    fn mismatch<P: CPolicy>(&self, function: &str) -> Error {
        Error::new(
            BriskStatus::InvalidHandle,
            format!(
                "{function}: the policies differ: a {} {} used with a {} mutator or runtime",
                self.policy_name(),
                F::WHAT,
                P::NAME
            ),
        )
    }
}

impl<F: Family> Clone for ByPolicy<F>
where
    F::Of<Biased>: Clone,
    F::Of<Deferred>: Clone,
{
    fn clone(&self) -> Self {
        match self {
            ByPolicy::Biased(value) => ByPolicy::Biased(value.clone()),
            ByPolicy::Deferred(value) => ByPolicy::Deferred(value.clone()),
        }
    }
}

/// Evaluates `$body` with `$x` bound to the value inside `$any` (a
/// [`ByPolicy`] or a reference to one), in each policy's arm: the body is
/// compiled once per policy, so it calls a generic function and the
/// policy is inferred from `$x`.
macro_rules! dispatch {
    ($any:expr, $x:ident => $body:expr) => {
        match $any {
            $crate::runtime::dispatch::ByPolicy::Biased($x) => $body,
            $crate::runtime::dispatch::ByPolicy::Deferred($x) => $body,
        }
    };
}

pub(crate) use dispatch;
