//! The counting policies a C object model can choose, as plain integers:
//! C may pass any value, and an unknown one is an error, not undefined
//! behaviour.

use crate::error::{BriskStatus, Error, Result};

/// A counting policy, one of the `BRISK_POLICY_*` values.
pub type BriskPolicy = u32;

/// Biased reference counting: the owner counts with plain loads and
/// stores, other threads atomically; objects another thread drops last
/// are queued to their owner and freed at its next safepoint.
pub const BRISK_POLICY_BIASED: BriskPolicy = 0;

/// Biased on the owner; other threads buffer their counts per thread and
/// apply them at safepoints, decrements one epoch later. The thread must
/// be attached and reach safepoints.
pub const BRISK_POLICY_DEFERRED: BriskPolicy = 1;

/// A checked [`BriskPolicy`].
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub(crate) enum Policy {
    Biased,
    Deferred,
}

impl Policy {
    pub(crate) fn from_c(policy: BriskPolicy) -> Result<Policy> {
        match policy {
            BRISK_POLICY_BIASED => Ok(Policy::Biased),
            BRISK_POLICY_DEFERRED => Ok(Policy::Deferred),
            other => Err(Error::new(
                BriskStatus::InvalidArgument,
                format!("unknown policy {other}: use BRISK_POLICY_BIASED or BRISK_POLICY_DEFERRED"),
            )),
        }
    }
}
