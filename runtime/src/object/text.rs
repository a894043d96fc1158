//! A string's text, and its hash once a dictionary has asked for it.
//!
//! A dictionary lookup hashes its key. Hashing a string with a keyed hash
//! (SipHash-1-3, std's `RandomState`, which resists collision attacks)
//! costs some fifty instructions plus a few per byte, and an interpreter
//! looks the same few strings up over and over: attribute names, record
//! fields, symbols. CPython keeps a string's hash in the object
//! (`ob_hash`, computed on first use) for that reason; so does `Text`.
//!
//! The hash is keyed once per process, as CPython draws its hash secret
//! once per process, so that one string's hash is the same in every
//! dictionary and every interpreter that shares it (a frozen string is read
//! by many). It is computed on first use and kept in a [`OnceLock`]: a
//! string that is never a key never pays for it, and threads that race to
//! compute it compute the same value, which std's `OnceLock` stores once.
//! The dictionaries then need only a cheap hash of that word
//! (`rustc_hash::FxBuildHasher` in [`DictTable`](super::DictTable)).

use core::hash::BuildHasher;
use core::ops::Deref;
use std::hash::RandomState;
use std::sync::OnceLock;

/// The text of a `Str` object, with its hash kept after first use.
pub(crate) struct Text {
    /// Immutable.
    text: Box<str>,
    /// [`keyed_hash`] of `text`, set by the first thread to ask.
    hash: OnceLock<u64>,
}

impl Text {
    pub(crate) fn new(text: Box<str>) -> Self {
        Text {
            text,
            hash: OnceLock::new(),
        }
    }

    /// The keyed hash of the text, computed once.
    #[inline]
    pub(crate) fn hash(&self) -> u64 {
        *self.hash.get_or_init(|| keyed_hash(self.text.as_bytes()))
    }
}

impl Deref for Text {
    type Target = str;

    #[inline]
    fn deref(&self) -> &str {
        &self.text
    }
}

/// SipHash-1-3 of `bytes` under this process's key.
pub(crate) fn keyed_hash(bytes: &[u8]) -> u64 {
    static KEY: OnceLock<RandomState> = OnceLock::new();
    KEY.get_or_init(RandomState::new).hash_one(bytes)
}
