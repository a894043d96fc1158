//! Opaque handles: what C holds instead of a pointer to a Rust value.
//!
//! A handle is a generational key into a table (`slotmap`), passed to C as
//! a 64-bit id inside a one-field struct, so that the compiler keeps a
//! runtime handle from being passed where a channel's is expected. A key
//! whose value was freed stays invalid forever: its slot's generation has
//! moved on. So a handle used after it was freed, or one that was never
//! issued, is reported as [`BriskStatus::InvalidHandle`] instead of
//! reading freed memory. Id 0 is never issued; C may use it as "none".

use std::sync::{Mutex, MutexGuard, PoisonError};

use slotmap::{DefaultKey, Key, KeyData, SlotMap};

use crate::error::{BriskStatus, Error, Result};

/// One kind of handle's table. Shared by every thread.
pub(crate) struct Table<T> {
    /// What the handles name, for messages ("runtime", "channel sender").
    kind: &'static str,
    map: Mutex<Option<SlotMap<DefaultKey, T>>>,
}

impl<T> Table<T> {
    pub(crate) const fn new(kind: &'static str) -> Self {
        Table {
            kind,
            map: Mutex::new(None),
        }
    }

    /// The map, made on first use. A panic while the lock was held (caught
    /// at the boundary) leaves the map consistent: every operation below
    /// is one slotmap call.
    fn lock(&self) -> MutexGuard<'_, Option<SlotMap<DefaultKey, T>>> {
        let mut map = self.map.lock().unwrap_or_else(PoisonError::into_inner);
        map.get_or_insert_with(SlotMap::new);
        map
    }

    fn error(&self, id: u64) -> Error {
        Error::new(
            BriskStatus::InvalidHandle,
            format!(
                "{} handle {id:#x} is not live (never issued, or freed)",
                self.kind
            ),
        )
    }

    /// Stores `value` and returns its handle's id.
    pub(crate) fn insert(&self, value: T) -> u64 {
        let mut map = self.lock();
        let Some(map) = map.as_mut() else {
            unreachable!("made by `lock`")
        };
        map.insert(value).data().as_ffi()
    }

    /// Runs `f` on the value of handle `id`, under the table's lock: keep
    /// it short, and never call back into C from it.
    pub(crate) fn with<R>(&self, id: u64, f: impl FnOnce(&mut T) -> R) -> Result<R> {
        let mut map = self.lock();
        let value = map
            .as_mut()
            .and_then(|map| map.get_mut(KeyData::from_ffi(id).into()));
        match value {
            Some(value) => Ok(f(value)),
            None => Err(self.error(id)),
        }
    }

    /// Takes the value of handle `id` out; the handle is dead afterwards.
    pub(crate) fn remove(&self, id: u64) -> Result<T> {
        let mut map = self.lock();
        map.as_mut()
            .and_then(|map| map.remove(KeyData::from_ffi(id).into()))
            .ok_or_else(|| self.error(id))
    }
}

impl<T: Clone> Table<T> {
    /// A copy of the value of handle `id`, so that the lock is released
    /// before the caller uses it.
    pub(crate) fn get(&self, id: u64) -> Result<T> {
        self.with(id, |value| value.clone())
    }
}
