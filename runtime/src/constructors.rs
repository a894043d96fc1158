//! The object constructors, methods of [`Mutator`]: allocation makes the
//! calling thread the new object's owner, so objects are made through the
//! mutator attached on that thread. `None`, the booleans and the small
//! integers are the policy's immortal [singletons](crate::singletons);
//! containers count towards the next automatic collection.

use brisk_gc::RawSlot;

use crate::mutator::Mutator;
use crate::object::{Kind, NativeFn, NativeObject, Number, Payload, Ref, Text, TupleItems, FROZEN};
use crate::policy::RuntimePolicy;
use crate::singletons::{SMALL_INT_MAX, SMALL_INT_MIN};

impl<P: RuntimePolicy> Mutator<P> {
    /// `None`.
    pub fn none(&self) -> Ref<P> {
        self.runtime().singletons.none.singleton_copy()
    }

    /// `True` or `False`.
    pub fn bool(&self, value: bool) -> Ref<P> {
        let singletons = self.runtime().singletons;
        if value {
            singletons.true_.singleton_copy()
        } else {
            singletons.false_.singleton_copy()
        }
    }

    /// An integer; −5 to 256 are immortal singletons.
    pub fn int(&self, value: i64) -> Ref<P> {
        if (SMALL_INT_MIN..=SMALL_INT_MAX).contains(&value) {
            return self.runtime().singletons.small_ints[(value - SMALL_INT_MIN) as usize]
                .singleton_copy();
        }
        Ref::alloc_number(Number::Int(value))
    }

    /// A float.
    pub fn float(&self, value: f64) -> Ref<P> {
        Ref::alloc_number(Number::Float(value))
    }

    /// The float `value`, made in `old`'s object if `old` is a float that
    /// nobody else holds (its count proves it the only reference, as
    /// `Brc::get_mut` would); otherwise `old` comes back untouched. An
    /// interpreter's arithmetic on a temporary result then neither frees
    /// nor allocates, as CPython's float operations reuse an operand whose
    /// count is one.
    ///
    /// ```
    /// use brisk_runtime::{Biased, Runtime};
    ///
    /// let runtime = Runtime::<Biased>::new();
    /// let interpreter = runtime.new_interpreter("main");
    /// let m = interpreter.attach();
    /// let sum = m.float(1.5);
    /// let at = &*sum as *const _;
    /// let sum = m.float_in(sum, 2.5).ok().unwrap();
    /// assert_eq!(sum.as_float(), Some(2.5));
    /// assert_eq!(&*sum as *const _, at); // the same object
    /// let shared = sum.clone();
    /// let sum = m.float_in(sum, 3.5).unwrap_err(); // `shared` holds it too
    /// assert_eq!((shared.as_float(), sum.as_float()), (Some(2.5), Some(2.5)));
    /// assert!(m.float_in(m.int(7), 1.0).is_err()); // not a float
    /// ```
    #[inline]
    pub fn float_in(&self, old: Ref<P>, value: f64) -> Result<Ref<P>, Ref<P>> {
        if old.kind() != Kind::Float || old.flags() & FROZEN != 0 || !old.is_unique() {
            return Err(old);
        }
        // SAFETY: `old` is the only reference to its object (its count is
        // one and no other thread counts it), so nothing else reads the
        // payload; the object is an unfrozen float, whose payload owns
        // nothing, and it stays one.
        unsafe { Payload::write_number(old.payload_ptr(), Number::Float(value)) };
        Ok(old)
    }

    /// A string.
    pub fn str(&self, value: &str) -> Ref<P> {
        Ref::alloc(Payload::Str(Text::new(value.into())))
    }

    /// A byte string.
    pub fn bytes(&self, value: &[u8]) -> Ref<P> {
        Ref::alloc(Payload::Bytes(value.into()))
    }

    /// A tuple.
    pub fn tuple(&self, items: Vec<Ref<P>>) -> Ref<P> {
        let mut items = TupleItems::from_vec(items);
        // Inline if it fits, else no spare capacity.
        items.shrink_to_fit();
        Ref::alloc(Payload::Tuple(items))
    }

    /// A tuple of what `items` yields, without the `Vec` that
    /// [`Mutator::tuple`] takes: a small tuple's items go straight into
    /// the object, so making a pair allocates once.
    ///
    /// ```
    /// use brisk_runtime::{Biased, Runtime};
    ///
    /// let runtime = Runtime::<Biased>::new();
    /// let interpreter = runtime.new_interpreter("main");
    /// let m = interpreter.attach();
    /// let pair = m.tuple_from_iter([m.int(1), m.str("one")]);
    /// assert_eq!(pair.len().unwrap(), 2);
    /// ```
    pub fn tuple_from_iter(&self, items: impl IntoIterator<Item = Ref<P>>) -> Ref<P> {
        let mut items: TupleItems<P> = items.into_iter().collect();
        // As in `tuple`.
        items.shrink_to_fit();
        Ref::alloc(Payload::Tuple(items))
    }

    /// A list.
    pub fn list(&self, items: Vec<Ref<P>>) -> Ref<P> {
        self.alloc_tracked(Payload::List(crate::sync::ObjectLock::new(items)))
    }

    /// An empty dictionary.
    pub fn dict(&self) -> Ref<P> {
        self.alloc_tracked(Payload::Dict(Box::default()))
    }

    /// A native callable.
    pub fn native_fn(&self, function: NativeFn<P>) -> Ref<P> {
        Ref::alloc(Payload::NativeFn(function))
    }

    /// An atomic reference slot, shareable across interpreters once frozen
    /// objects are stored in it (see [`Object::slot_load`](crate::Object::slot_load)).
    pub fn slot(&self, value: Option<Ref<P>>) -> Ref<P> {
        self.alloc_tracked(Payload::Slot(RawSlot::new(value.map(Ref::into_header))))
    }

    /// An embedder's native object.
    pub fn native(&self, object: Box<dyn NativeObject<P>>) -> Ref<P> {
        self.alloc_tracked(Payload::Native(object))
    }
}
