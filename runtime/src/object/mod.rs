//! The object model: a 24-byte header, a small set of built-in types, and a
//! trait for embedders' native types.
//!
//! # The header
//!
//! ```text
//! #[repr(C)]
//! ObjHeader {              // 24 bytes (compile-time assertion)
//!     rc:    RcHeader      // 16: tid, local, shared (brisk-refcount)
//!     flags: AtomicU32     //  4: FROZEN, SCC_REP
//!     kind:  Kind          //  1: the type tag
//! }                        //  3 bytes of padding
//! ```
//!
//! CPython's free-threaded `PyObject` header is 32 bytes (`ob_tid`,
//! `ob_flags`, `ob_mutex`, `ob_gc_bits`, `ob_ref_local`, `ob_ref_shared`,
//! `ob_type`); brisk's is 24 because the type is a one-byte tag and the
//! owner id is 32 bits. Containers (the kinds for which
//! [`Kind::is_tracked`] holds) also carry the cycle collector's 32-byte
//! link in front of the header, as CPython's default build puts
//! `PyGC_Head` in front of `PyObject` (see [`collect`](crate::collect)).
//! The link, and the per-interpreter set it threads the containers into,
//! are part of how a container is allocated and freed, so they live here,
//! in `object/tracked.rs`; the collector walks them.
//!
//! # Types
//!
//! `None`, `Bool` and small `Int`s (−5 to 256, as in CPython) are immortal
//! singletons. `Str`, `Bytes`, `Tuple`, `Float` and large `Int`s are
//! immutable. `List` and `Dict` are mutable and safe to use from every
//! mutator thread of their interpreter: each has its own lock, held only for
//! the duration of one operation, in the spirit of CPython's per-object
//! critical sections (PEP 703); no lock is ever held while another object's
//! lock is taken, so there is no lock-order problem. `Slot` is the
//! cross-interpreter atomic reference cell of `brisk-gc`. `NativeFn` is a
//! native callable, and [`NativeObject`] lets embedders add their own types.
//!
//! # Handles
//!
//! A [`Ref`] is a counted reference; dropping it gives the count back. A
//! borrowed view is a plain `&Object<P>`: it counts nothing and lives as long
//! as the `Ref` it was borrowed from.

mod dealloc;
mod dict;
mod handle;
mod native;
mod text;
pub(crate) mod tracked;

use core::any::Any;
use core::fmt;

use crate::sync::ObjectLock as Mutex;
use brisk_gc::RawSlot;
use brisk_refcount::RcHeader;
use indexmap::IndexMap;
use rustc_hash::FxBuildHasher;
use smallvec::SmallVec;

use crate::policy::RuntimePolicy;
use crate::sync::{AtomicU32, Ordering::Relaxed};

pub(crate) use dealloc::{dealloc_object, register_component};
pub use dict::Key;
pub use handle::Ref;
pub use native::{NativeFn, NativeObject};
pub(crate) use text::{keyed_hash, Text};

/// The type tag in every header.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum Kind {
    /// The `None` singleton.
    None,
    /// `True` or `False`.
    Bool,
    /// A 64-bit integer.
    Int,
    /// A 64-bit float.
    Float,
    /// An immutable UTF-8 string.
    Str,
    /// An immutable byte string.
    Bytes,
    /// An immutable sequence.
    Tuple,
    /// A mutable sequence.
    List,
    /// A mutable insertion-ordered map.
    Dict,
    /// A native callable.
    NativeFn,
    /// An atomic reference slot shared across interpreters.
    Slot,
    /// An embedder's native object.
    Native,
}

impl Kind {
    /// The type's name as the language sees it.
    pub fn name(self) -> &'static str {
        match self {
            Kind::None => "none",
            Kind::Bool => "bool",
            Kind::Int => "int",
            Kind::Float => "float",
            Kind::Str => "str",
            Kind::Bytes => "bytes",
            Kind::Tuple => "tuple",
            Kind::List => "list",
            Kind::Dict => "dict",
            Kind::NativeFn => "native-fn",
            Kind::Slot => "slot",
            Kind::Native => "native",
        }
    }
}

/// Header flag: the object is deep-immutable and may be shared across
/// interpreters.
pub(crate) const FROZEN: u32 = 1;
/// Header flag: the object represents a frozen strongly connected component
/// with internal edges; freeing it frees the component.
pub(crate) const SCC_REP: u32 = 2;

/// The header every runtime object starts with.
#[repr(C)]
pub struct ObjHeader {
    /// The reference count (brisk-refcount).
    pub(crate) rc: RcHeader,
    /// `FROZEN`, `SCC_REP`. Set by `freeze` (under stop-the-world); read by
    /// mutators under the object's lock or with Acquire.
    pub(crate) flags: AtomicU32,
    /// The type tag. Immutable.
    pub(crate) kind: Kind,
}

const _: () = assert!(core::mem::size_of::<ObjHeader>() <= 24 || cfg!(loom));

/// The size of the object header in bytes.
pub const HEADER_BYTES: usize = core::mem::size_of::<ObjHeader>();

/// The size in bytes of the collector's link in front of the header of a
/// container the cycle collector tracks ([`Kind::is_tracked`]: lists,
/// dicts, slots, native objects): such an object spends this plus
/// [`HEADER_BYTES`] before its payload.
pub const TRACKED_LINK_BYTES: usize = core::mem::size_of::<tracked::GcLink>();

/// A runtime object: header, then payload.
#[repr(C)]
pub struct Object<P: RuntimePolicy> {
    pub(crate) header: ObjHeader,
    pub(crate) payload: Payload<P>,
}

// One cache line per object: the largest inline payload is a list's locked
// vector; the dict table is boxed to keep it so.
const _: () = assert!(core::mem::size_of::<Object<crate::Biased>>() <= 64 || cfg!(loom));

/// How many items a tuple keeps inline: as many as fit beside the largest
/// other payload (a list's locked vector).
pub(crate) const TUPLE_INLINE: usize = 3;

/// A tuple's items: inline up to [`TUPLE_INLINE`], on the heap beyond.
pub(crate) type TupleItems<P> = SmallVec<[Ref<P>; TUPLE_INLINE]>;

/// A dictionary's table: insertion-ordered, behind the object's lock.
/// Keys feed the table's hasher a word that is already well mixed (a
/// string's kept keyed hash, see [`Text`]), so the table hashes with Fx.
pub(crate) type DictTable<P> = Mutex<IndexMap<Key<P>, Ref<P>, FxBuildHasher>>;

/// A key and its value, counted.
pub type DictEntry<P> = (Ref<P>, Ref<P>);

/// The payload of each built-in type.
///
/// `repr(C, u8)`: a one-byte tag, then the variant's fields as a `repr(C)`
/// struct, so that a number can be written into a fresh object as a tag
/// and a word ([`Payload::write_number`]) rather than as a whole payload
/// built on the stack and copied.
#[repr(C, u8)]
pub(crate) enum Payload<P: RuntimePolicy> {
    None = 0,
    Bool(bool) = 1,
    Int(i64) = INT_TAG,
    #[allow(dead_code, reason = "constructed in place by `Payload::write_number`")]
    Float(f64) = FLOAT_TAG,
    Str(Text),
    Bytes(Box<[u8]>),
    /// Up to [`TUPLE_INLINE`] items in the object itself, as CPython keeps
    /// a tuple's items: a pair or a triple is one allocation and one cache
    /// line.
    Tuple(TupleItems<P>),
    List(Mutex<Vec<Ref<P>>>),
    /// Boxed: the table is three times the size of any other payload, and
    /// every object would pay for it inline.
    Dict(Box<DictTable<P>>),
    NativeFn(NativeFn<P>),
    Slot(RawSlot),
    Native(Box<dyn NativeObject<P>>),
}

impl<P: RuntimePolicy> Drop for Payload<P> {
    /// Releases a slot's value: a `RawSlot` holds a counted reference but
    /// cannot drop it itself (it does not know how it was counted).
    fn drop(&mut self) {
        if let Payload::Slot(slot) = self {
            if let Some(value) = slot.peek() {
                // SAFETY: the slot holds one counted `Ref<P>` to its value
                // (see `Object::slot_store`), which we give up here. The
                // slot object is being freed, so no thread holds a reference
                // through which it could be loading from the slot: dropping
                // now, rather than an epoch later, is as safe as a list
                // dropping its items.
                drop(unsafe { Ref::<P>::from_header(value) });
            }
        }
    }
}

/// `Payload::Int`'s tag.
const INT_TAG: u8 = 2;
/// `Payload::Float`'s tag.
const FLOAT_TAG: u8 = 3;

/// The layout of `Payload::Int` and `Payload::Float` under `repr(C, u8)`.
#[repr(C)]
struct Tagged<T> {
    tag: u8,
    value: T,
}

/// A number to write into a fresh object.
#[derive(Copy, Clone)]
pub(crate) enum Number {
    Int(i64),
    Float(f64),
}

impl<P: RuntimePolicy> Payload<P> {
    /// Writes `Payload::Int` or `Payload::Float` of `number` at `place`:
    /// a tag byte and a word.
    ///
    /// # Safety
    ///
    /// `place` is valid for writes of a `Payload<P>` and holds nothing that
    /// needs dropping.
    #[inline(always)]
    pub(crate) unsafe fn write_number(place: *mut Self, number: Number) {
        // SAFETY: under `repr(C, u8)` each variant is laid out as a
        // `repr(C)` struct of the tag and its fields (the Rust reference,
        // "Primitive representation of enums with fields"), which
        // `Tagged` repeats; the caller's `place` takes the write.
        unsafe {
            match number {
                Number::Int(value) => place.cast::<Tagged<i64>>().write(Tagged {
                    tag: INT_TAG,
                    value,
                }),
                Number::Float(value) => place.cast::<Tagged<f64>>().write(Tagged {
                    tag: FLOAT_TAG,
                    value,
                }),
            }
        }
    }

    pub(crate) fn kind(&self) -> Kind {
        match self {
            Payload::None => Kind::None,
            Payload::Bool(_) => Kind::Bool,
            Payload::Int(_) => Kind::Int,
            Payload::Float(_) => Kind::Float,
            Payload::Str(_) => Kind::Str,
            Payload::Bytes(_) => Kind::Bytes,
            Payload::Tuple(_) => Kind::Tuple,
            Payload::List(_) => Kind::List,
            Payload::Dict(_) => Kind::Dict,
            Payload::NativeFn(_) => Kind::NativeFn,
            Payload::Slot(_) => Kind::Slot,
            Payload::Native(_) => Kind::Native,
        }
    }
}

/// What an object operation can refuse.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ObjectError {
    /// The object is frozen (deep-immutable).
    Frozen {
        /// Its type.
        kind: Kind,
    },
    /// The key cannot be hashed (a mutable container, a native object).
    Unhashable {
        /// Its type.
        kind: Kind,
    },
    /// The operation needs another type.
    WrongType {
        /// What the operation needs.
        expected: Kind,
        /// What it got.
        found: Kind,
    },
    /// A sequence index past the end.
    IndexOutOfRange {
        /// The index.
        index: usize,
        /// The length.
        len: usize,
    },
}

impl fmt::Display for ObjectError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ObjectError::Frozen { kind } => write!(f, "cannot mutate a frozen {}", kind.name()),
            ObjectError::Unhashable { kind } => write!(f, "unhashable type: {}", kind.name()),
            ObjectError::WrongType { expected, found } => {
                write!(f, "expected {}, found {}", expected.name(), found.name())
            }
            ObjectError::IndexOutOfRange { index, len } => {
                write!(f, "index {index} out of range for length {len}")
            }
        }
    }
}

impl std::error::Error for ObjectError {}

impl<P: RuntimePolicy> Object<P> {
    /// The type tag.
    #[inline]
    pub fn kind(&self) -> Kind {
        self.header.kind
    }

    /// The reference-count header.
    pub fn rc_header(&self) -> &RcHeader {
        &self.header.rc
    }

    /// Whether the object is frozen (deep-immutable, shareable across
    /// interpreters).
    #[inline]
    pub fn is_frozen(&self) -> bool {
        // Relaxed: `freeze` sets the flag under stop-the-world, which orders
        // it before every mutator's next step.
        self.header.flags.load(Relaxed) & FROZEN != 0
    }

    pub(crate) fn flags(&self) -> u32 {
        // Relaxed: see `is_frozen`.
        self.header.flags.load(Relaxed)
    }

    /// A new counted reference to this object.
    #[inline]
    pub fn to_ref(&self) -> Ref<P> {
        // SAFETY: `self` is borrowed from a live counted reference.
        unsafe { Ref::from_borrowed(self) }
    }

    fn wrong_type(&self, expected: Kind) -> ObjectError {
        ObjectError::WrongType {
            expected,
            found: self.kind(),
        }
    }

    fn check_mutable(&self) -> Result<(), ObjectError> {
        if self.is_frozen() {
            Err(ObjectError::Frozen { kind: self.kind() })
        } else {
            Ok(())
        }
    }

    /// The value of a `Bool`.
    pub fn as_bool(&self) -> Option<bool> {
        match self.payload {
            Payload::Bool(b) => Some(b),
            _ => None,
        }
    }

    /// The value of an `Int`.
    pub fn as_int(&self) -> Option<i64> {
        match self.payload {
            Payload::Int(i) => Some(i),
            _ => None,
        }
    }

    /// The value of a `Float`.
    pub fn as_float(&self) -> Option<f64> {
        match self.payload {
            Payload::Float(x) => Some(x),
            _ => None,
        }
    }

    /// The text of a `Str`.
    pub fn as_str(&self) -> Option<&str> {
        match &self.payload {
            Payload::Str(s) => Some(s),
            _ => None,
        }
    }

    /// The text of a `Str` whose every character is one ASCII byte, so that
    /// character `i` is byte `i`: indexing and slicing by character are
    /// O(1). `None` for other strings and other types. Whether a string is
    /// ASCII is recorded when it is made, so this reads one flag.
    ///
    /// ```
    /// use brisk_runtime::{Biased, Runtime};
    ///
    /// let runtime = Runtime::<Biased>::new();
    /// let m = runtime.new_interpreter("main").attach();
    /// assert_eq!(m.str("brisk").ascii_str(), Some("brisk"));
    /// assert_eq!(m.str("naïve").ascii_str(), None);
    /// assert_eq!(m.int(1).ascii_str(), None);
    /// ```
    pub fn ascii_str(&self) -> Option<&str> {
        match &self.payload {
            Payload::Str(s) if s.is_ascii() => Some(s),
            _ => None,
        }
    }

    /// The bytes of a `Bytes`.
    pub fn as_bytes(&self) -> Option<&[u8]> {
        match &self.payload {
            Payload::Bytes(b) => Some(b),
            _ => None,
        }
    }

    /// The items of a `Tuple`.
    pub fn as_tuple(&self) -> Option<&[Ref<P>]> {
        match &self.payload {
            Payload::Tuple(items) => Some(items),
            _ => None,
        }
    }

    /// A native callable's descriptor.
    pub fn as_native_fn(&self) -> Option<&NativeFn<P>> {
        match &self.payload {
            Payload::NativeFn(f) => Some(f),
            _ => None,
        }
    }

    /// An embedder's native object.
    pub fn as_native(&self) -> Option<&dyn NativeObject<P>> {
        match &self.payload {
            Payload::Native(n) => Some(&**n),
            _ => None,
        }
    }

    /// The embedder's native object of type `T`, if this object holds one:
    /// one virtual call (the type's id), where a downcast through a
    /// method returning `&dyn Any` takes two.
    ///
    /// ```
    /// use brisk_runtime::{Biased, NativeObject, Object, Runtime};
    ///
    /// struct Answer(i64);
    /// impl NativeObject<Biased> for Answer {
    ///     fn type_name(&self) -> &'static str { "answer" }
    ///     fn trace(&self, _visit: &mut dyn FnMut(&Object<Biased>)) {}
    /// }
    ///
    /// let runtime = Runtime::<Biased>::new();
    /// let interpreter = runtime.new_interpreter("main");
    /// let m = interpreter.attach();
    /// let answer = m.native(Box::new(Answer(42)));
    /// assert_eq!(answer.downcast_native::<Answer>().map(|a| a.0), Some(42));
    /// assert!(m.int(42).downcast_native::<Answer>().is_none());
    /// ```
    #[inline]
    pub fn downcast_native<T: NativeObject<P>>(&self) -> Option<&T> {
        let native: &dyn Any = self.as_native()?;
        native.downcast_ref()
    }

    fn list(&self) -> Result<&Mutex<Vec<Ref<P>>>, ObjectError> {
        match &self.payload {
            Payload::List(items) => Ok(items),
            _ => Err(self.wrong_type(Kind::List)),
        }
    }

    fn dict(&self) -> Result<&DictTable<P>, ObjectError> {
        match &self.payload {
            Payload::Dict(map) => Ok(map),
            _ => Err(self.wrong_type(Kind::Dict)),
        }
    }

    /// Length of a `Str` (in bytes), `Bytes`, `Tuple`, `List` or `Dict`.
    pub fn len(&self) -> Option<usize> {
        Some(match &self.payload {
            Payload::Str(s) => s.len(),
            Payload::Bytes(b) => b.len(),
            Payload::Tuple(items) => items.len(),
            Payload::List(items) => items.lock().len(),
            Payload::Dict(map) => map.lock().len(),
            _ => return None,
        })
    }

    /// Whether a sized object is empty (`None` for unsized types).
    pub fn is_empty(&self) -> Option<bool> {
        self.len().map(|n| n == 0)
    }

    /// Item `index` of a `Tuple` or `List`.
    pub fn get_item(&self, index: usize) -> Result<Ref<P>, ObjectError> {
        let out_of_range = |len| ObjectError::IndexOutOfRange { index, len };
        match &self.payload {
            Payload::Tuple(items) => items.get(index).cloned().ok_or(out_of_range(items.len())),
            Payload::List(items) => {
                let items = items.lock();
                items.get(index).cloned().ok_or(out_of_range(items.len()))
            }
            _ => Err(self.wrong_type(Kind::List)),
        }
    }

    /// Replaces item `index` of a `List`.
    pub fn set_item(&self, index: usize, value: Ref<P>) -> Result<(), ObjectError> {
        let list = self.list()?;
        let old = {
            let mut items = list.lock();
            self.check_mutable()?;
            let len = items.len();
            let slot = items
                .get_mut(index)
                .ok_or(ObjectError::IndexOutOfRange { index, len })?;
            core::mem::replace(slot, value)
        };
        // Dropped after unlocking: a destructor may take other locks.
        drop(old);
        Ok(())
    }

    /// Appends to a `List`.
    pub fn push(&self, value: Ref<P>) -> Result<(), ObjectError> {
        let list = self.list()?;
        let mut items = list.lock();
        self.check_mutable()?;
        items.push(value);
        Ok(())
    }

    /// Removes and returns the last item of a `List`.
    pub fn pop(&self) -> Result<Option<Ref<P>>, ObjectError> {
        let list = self.list()?;
        let mut items = list.lock();
        self.check_mutable()?;
        Ok(items.pop())
    }

    /// A snapshot of the items of a `Tuple` or `List` (each counted).
    pub fn items(&self) -> Result<Vec<Ref<P>>, ObjectError> {
        match &self.payload {
            Payload::Tuple(items) => Ok(items.to_vec()),
            Payload::List(items) => Ok(items.lock().clone()),
            _ => Err(self.wrong_type(Kind::List)),
        }
    }

    /// Looks `key` up in a `Dict`.
    pub fn dict_get(&self, key: &Object<P>) -> Result<Option<Ref<P>>, ObjectError> {
        let map = self.dict()?;
        dict::check_hashable(key)?;
        Ok(map.lock().get(dict::KeyView::new(key)).cloned())
    }

    /// Inserts or replaces `key` in a `Dict`.
    pub fn dict_set(&self, key: Ref<P>, value: Ref<P>) -> Result<(), ObjectError> {
        let map = self.dict()?;
        dict::check_hashable(&key)?;
        let old = {
            let mut map = map.lock();
            self.check_mutable()?;
            map.insert(Key(key), value)
        };
        drop(old);
        Ok(())
    }

    /// Removes `key` from a `Dict`, returning its value.
    pub fn dict_remove(&self, key: &Object<P>) -> Result<Option<Ref<P>>, ObjectError> {
        let map = self.dict()?;
        dict::check_hashable(key)?;
        let mut map = map.lock();
        self.check_mutable()?;
        Ok(map.shift_remove(dict::KeyView::new(key)))
    }

    /// A snapshot of a `Dict`'s entries in insertion order (each counted).
    pub fn dict_items(&self) -> Result<Vec<DictEntry<P>>, ObjectError> {
        let map = self.dict()?;
        Ok(map
            .lock()
            .iter()
            .map(|(k, v)| (k.0.clone(), v.clone()))
            .collect())
    }

    /// Reads a `Slot`: a counted reference to its current value.
    pub fn slot_load(&self) -> Result<Option<Ref<P>>, ObjectError> {
        match &self.payload {
            // SAFETY: every value stored in a runtime slot is a `Ref<P>`
            // counted with `Ref::<P>::SLOT_OPS`.
            Payload::Slot(slot) => Ok(unsafe { slot.load(Ref::<P>::SLOT_OPS) }
                // SAFETY: `load` counted the reference we take over.
                .map(|h| unsafe { Ref::from_header(h) })),
            _ => Err(self.wrong_type(Kind::Slot)),
        }
    }

    /// Replaces a `Slot`'s value; the old value is released an epoch later,
    /// so readers on other threads never see it freed under them. Under
    /// [`Gil`](crate::Gil) every reader holds the global lock, so it is
    /// released at once, by this thread, under the lock.
    pub fn slot_store(&self, value: Option<Ref<P>>) -> Result<(), ObjectError> {
        let Payload::Slot(slot) = &self.payload else {
            return Err(self.wrong_type(Kind::Slot));
        };
        let new = value.map(Ref::into_header);
        if P::USES_GIL {
            // SAFETY: the slot holds `Ref<P>`s; under the GIL no reader is
            // between loading a pointer and counting it.
            let old = unsafe { slot.replace_now(new) };
            // SAFETY: we took over the slot's reference to the old value.
            drop(old.map(|h| unsafe { Ref::<P>::from_header(h) }));
        } else {
            // SAFETY: as in `slot_load`; the slot takes over `value`'s count.
            unsafe { slot.store(new, Ref::<P>::SLOT_OPS) };
        }
        Ok(())
    }

    /// Empties a garbage container for the cycle collector, moving the
    /// references it held into `released` (dropped by the caller once every
    /// garbage object is emptied). Tuples, leaves and natives without a
    /// `clear` keep theirs.
    pub(crate) fn clear_for_collector(&self, none: &Ref<P>, released: &mut Vec<Ref<P>>) {
        match &self.payload {
            Payload::List(items) => released.append(&mut items.lock()),
            Payload::Dict(map) => {
                for (key, value) in core::mem::take(&mut *map.lock()) {
                    released.push(key.0);
                    released.push(value);
                }
            }
            Payload::Slot(slot) => {
                // SAFETY: the slot holds `Ref<P>`s; it is garbage, so no
                // thread can be loading from it.
                let old = unsafe { slot.replace_now(None) };
                // SAFETY: we took over the slot's reference.
                released.extend(old.map(|h| unsafe { Ref::<P>::from_header(h) }));
            }
            Payload::Native(native) => native.clear(none, released),
            _ => {}
        }
    }

    /// Calls `visit` on every object this one references directly. Locks
    /// a container for the duration of the walk over it.
    pub fn for_each_child(&self, mut visit: impl FnMut(&Object<P>)) {
        match &self.payload {
            Payload::Tuple(items) => items.iter().for_each(|r| visit(r)),
            Payload::List(items) => items.lock().iter().for_each(|r| visit(r)),
            Payload::Dict(map) => {
                for (k, v) in map.lock().iter() {
                    visit(&k.0);
                    visit(v);
                }
            }
            Payload::Native(native) => native.trace(&mut visit),
            Payload::Slot(slot) => {
                if let Some(header) = slot.peek() {
                    // SAFETY: the slot holds a counted reference to its value;
                    // callers walk graphs of objects nobody else is mutating.
                    visit(unsafe { header.cast::<Object<P>>().as_ref() });
                }
            }
            _ => {}
        }
    }
}

impl<P: RuntimePolicy> fmt::Debug for Object<P> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.payload {
            Payload::None => f.write_str("None"),
            Payload::Bool(b) => write!(f, "{b}"),
            Payload::Int(i) => write!(f, "{i}"),
            Payload::Float(x) => write!(f, "{x:?}"),
            Payload::Str(s) => write!(f, "{:?}", &**s),
            Payload::Bytes(b) => write!(f, "b{:?}", String::from_utf8_lossy(b)),
            Payload::Tuple(items) => f.debug_tuple("").field(&DebugItems(items)).finish(),
            Payload::List(_) | Payload::Dict(_) | Payload::Slot(_) => {
                write!(f, "<{} at {:p}>", self.kind().name(), self)
            }
            Payload::NativeFn(func) => write!(f, "<native-fn {}>", func.name),
            Payload::Native(n) => write!(f, "<{}>", n.type_name()),
        }
    }
}

struct DebugItems<'a, P: RuntimePolicy>(&'a [Ref<P>]);

impl<P: RuntimePolicy> fmt::Debug for DebugItems<'_, P> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.0.iter().map(|r| &**r)).finish()
    }
}

#[cfg(test)]
mod tests {
    use core::mem::MaybeUninit;

    use super::{Number, Payload};
    use crate::Biased;

    #[test]
    fn numbers_written_in_place_read_back_as_their_variants() {
        for number in [Number::Int(-7), Number::Float(1.5)] {
            let mut place = MaybeUninit::<Payload<Biased>>::uninit();
            // SAFETY: `place` is valid for a write and holds nothing.
            unsafe { Payload::write_number(place.as_mut_ptr(), number) };
            // SAFETY: `write_number` initialised it.
            let payload = unsafe { place.assume_init() };
            match (number, payload) {
                (Number::Int(a), Payload::Int(b)) => assert_eq!(a, b),
                (Number::Float(a), Payload::Float(b)) => assert_eq!(a, b),
                _ => panic!("the wrong variant"),
            }
        }
    }
}
