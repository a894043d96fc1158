//! A string's text, whether it is ASCII, and its hash once a dictionary
//! has asked for it.
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
//!
//! A language indexes strings by character, and in UTF-8 the n-th
//! character is found by walking from the start. Most strings a program
//! makes are ASCII, where character n is byte n; `Text` records that when
//! the string is made (one pass over bytes the copy touches anyway), so
//! [`Object::ascii_str`](super::Object::ascii_str) lets an embedder index
//! and slice those in O(1), as CPython's compact ASCII strings do.

use core::hash::BuildHasher;
use core::ops::Deref;
use std::hash::RandomState;
use std::sync::OnceLock;

use crate::sync::{AtomicU64, Ordering::Relaxed};

/// The text of a `Str` object, with its hash kept after first use.
pub(crate) struct Text {
    /// Immutable.
    text: Box<str>,
    /// [`Text::hash`] of `text`, or 0 before the first thread asks. Threads
    /// that race compute and store the same value.
    hash: AtomicU64,
    /// Whether every byte of `text` is ASCII. Immutable.
    ascii: bool,
}

impl Text {
    pub(crate) fn new(text: Box<str>) -> Self {
        let ascii = text.is_ascii();
        Text {
            text,
            hash: AtomicU64::new(0),
            ascii,
        }
    }

    /// The keyed hash of the text, computed once; never 0, which marks
    /// "not computed yet" (a keyed hash of 0 is taken as 1).
    #[inline]
    pub(crate) fn hash(&self) -> u64 {
        // Relaxed: the value depends only on the immutable text.
        match self.hash.load(Relaxed) {
            0 => {
                let hash = keyed_hash(self.text.as_bytes()).max(1);
                self.hash.store(hash, Relaxed);
                hash
            }
            hash => hash,
        }
    }

    /// Whether the text is ASCII: character `i` is byte `i`.
    #[inline]
    pub(crate) fn is_ascii(&self) -> bool {
        self.ascii
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
