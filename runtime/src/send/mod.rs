//! Channels between interpreters, with three explicit send modes.
//!
//! The 2017 thread asked how interpreter A could use an object from
//! interpreter B without a GIL, and listed the options: share immutable
//! objects, move ownership ("like Rust… require that the root object has
//! refcount 1, and then do like a little mini-mark-and-sweep"), or copy.
//! brisk implements all three and makes the choice explicit:
//!
//! | mode | what crosses | cost | precondition |
//! |---|---|---|---|
//! | [`SendMode::Share`] | the reference | O(1) | the graph is frozen |
//! | [`SendMode::Move`] | ownership of an isolated graph | O(n) check, O(n) re-bias | root count 1, every other count of a mutable object explained by edges inside the graph |
//! | [`SendMode::Copy`] | a deep copy | O(n) | no slot and no native object without `copy` |
//!
//! A failed send returns the value, untouched, inside the [`SendError`].
//! A moved or copied graph is *re-biased* by the receiver
//! ([`RcPolicy::adopt`](brisk_refcount::RcPolicy::adopt)): its objects become
//! the receiving thread's, so they run on the owner fast path there. Frozen
//! and immortal objects inside a moved or copied graph are shared, not
//! moved or copied.
//!
//! # Immutable values in a move
//!
//! Isolation is a question about mutable state: a move must not leave the
//! sender a way to reach what the receiver will mutate. An immutable value
//! (an int, float, string or bytes, or a tuple of nothing but such values
//! and frozen ones) can be read by both sides at once, as a frozen one can,
//! so a move does not ask who else holds it. One that only the graph holds
//! is moved and re-biased like the rest; one held elsewhere too (by a
//! variable, another container, another thread) is shared: it stays biased
//! to its owner and the receiver counts it on the non-owner path, as it
//! counts a frozen object it was sent. Otherwise whether a move worked
//! would depend on, say, whether an integer was small enough to be one of
//! the immortal cached ones.
//!
//! The transport is a `crossbeam-channel` channel; receiving blocks through
//! [`Mutator::blocking`], so a waiting receiver never holds up
//! stop-the-world or the epoch.

use core::fmt;
use core::ptr::NonNull;

use rustc_hash::FxHashMap;

use crate::graph::Graph;
use crate::mutator::Mutator;
use crate::object::{Kind, Object, Payload, Ref};
use crate::policy::RuntimePolicy;

/// How a value crosses to another interpreter.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub enum SendMode {
    /// Pass the reference of a frozen graph. O(1).
    Share,
    /// Give up an isolated graph; the receiver owns it afterwards.
    Move,
    /// Send a deep copy owned by the receiver.
    Copy,
}

/// Why a send failed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SendErrorKind {
    /// `Share` of an object that is not frozen.
    NotShareable {
        /// The root's type.
        kind: Kind,
    },
    /// `Move` of a graph that other references reach.
    NotIsolated {
        /// References from outside the graph (including extra references
        /// to the root beyond the one being sent).
        external_refs: usize,
        /// Objects whose count this thread cannot read exactly (another
        /// thread has counted them and not merged yet); treated as shared.
        unverifiable: usize,
    },
    /// `Copy` of a graph containing an object that cannot be copied.
    NotCopyable {
        /// Its type.
        kind: Kind,
        /// Its type's name.
        type_name: &'static str,
    },
    /// The receiving end is gone.
    Disconnected,
}

impl fmt::Display for SendErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SendErrorKind::NotShareable { kind } => {
                write!(
                    f,
                    "cannot share a {} that is not frozen (freeze it, or send it by move or copy)",
                    kind.name()
                )
            }
            SendErrorKind::NotIsolated {
                external_refs,
                unverifiable,
            } => {
                write!(f, "cannot move a graph that is referenced from outside: {external_refs} external reference(s)")?;
                if *unverifiable > 0 {
                    write!(f, ", {unverifiable} object(s) shared with other threads")?;
                }
                Ok(())
            }
            SendErrorKind::NotCopyable { type_name, .. } => {
                write!(f, "cannot copy an object of type {type_name}")
            }
            SendErrorKind::Disconnected => {
                f.write_str("the receiving end of the channel is closed")
            }
        }
    }
}

/// A failed send: why, and the value, returned intact.
pub struct SendError<P: RuntimePolicy> {
    /// Why.
    pub kind: SendErrorKind,
    /// The value the sender passed in, unchanged and usable.
    pub value: Ref<P>,
}

impl<P: RuntimePolicy> fmt::Debug for SendError<P> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SendError")
            .field("kind", &self.kind)
            .field("value", &self.value)
            .finish()
    }
}

impl<P: RuntimePolicy> fmt::Display for SendError<P> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.kind, f)
    }
}

impl<P: RuntimePolicy> std::error::Error for SendError<P> {}

/// A failed receive: every sender is gone and the channel is empty.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct RecvError;

impl fmt::Display for RecvError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("the channel is closed and empty")
    }
}

impl std::error::Error for RecvError {}

/// What travels in the channel.
enum Message<P: RuntimePolicy> {
    /// A frozen (or immortal) object.
    Shared(Ref<P>),
    /// An isolated graph: its root, and every object the receiver adopts.
    Owned { root: Ref<P>, members: Members<P> },
}

/// The objects of an isolated graph (frozen and immortal ones aside), each
/// once, as plain pointers: the graph's root travels with them and keeps
/// them alive.
struct Members<P: RuntimePolicy>(Vec<NonNull<Object<P>>>);

// SAFETY: the pointers name objects of one isolated graph whose root travels
// in the same message: the sender gave up every reference into the graph, so
// the receiver is the only thread that can reach them, as it would be
// through the root alone.
unsafe impl<P: RuntimePolicy> Send for Members<P> {}

/// The sending end of a channel. Clone it to send from several mutators.
pub struct Sender<P: RuntimePolicy> {
    tx: crossbeam_channel::Sender<Message<P>>,
}

/// The receiving end of a channel. Clone it to receive on several mutators.
pub struct Receiver<P: RuntimePolicy> {
    rx: crossbeam_channel::Receiver<Message<P>>,
}

impl<P: RuntimePolicy> Clone for Sender<P> {
    fn clone(&self) -> Self {
        Sender {
            tx: self.tx.clone(),
        }
    }
}

impl<P: RuntimePolicy> Clone for Receiver<P> {
    fn clone(&self) -> Self {
        Receiver {
            rx: self.rx.clone(),
        }
    }
}

/// A new unbounded channel.
///
/// ```
/// use brisk_runtime::{channel, Deferred, Runtime, SendMode};
///
/// let runtime = Runtime::<Deferred>::new();
/// let (tx, rx) = channel();
/// let producer = runtime.new_interpreter("producer");
/// let consumer = runtime.new_interpreter("consumer");
/// let got = consumer.spawn(move |m| rx.recv(m).unwrap().items().unwrap().len());
/// producer
///     .spawn(move |m| {
///         let list = m.list(vec![m.int(1), m.int(2)]);
///         tx.send(m, list, SendMode::Move).unwrap();
///     })
///     .join()
///     .unwrap();
/// assert_eq!(got.join().unwrap(), 2);
/// ```
pub fn channel<P: RuntimePolicy>() -> (Sender<P>, Receiver<P>) {
    let (tx, rx) = crossbeam_channel::unbounded();
    (Sender { tx }, Receiver { rx })
}

impl<P: RuntimePolicy> Sender<P> {
    /// Sends `value` in `mode`. On error the value comes back in the
    /// [`SendError`], unchanged.
    pub fn send(&self, m: &Mutator<P>, value: Ref<P>, mode: SendMode) -> Result<(), SendError<P>> {
        let _span = brisk_refcount::trace::span(
            || tracing::debug_span!(target: "brisk::runtime", "send", ?mode),
        )
        .entered();
        // For a copy the original stays with the sender (and is returned if
        // the channel turns out to be closed).
        let (message, original) = match mode {
            SendMode::Share => {
                if !value.is_frozen() {
                    let kind = SendErrorKind::NotShareable { kind: value.kind() };
                    return Err(SendError { kind, value });
                }
                (Message::Shared(value), None)
            }
            SendMode::Move => match isolated_members(&value) {
                Ok(members) => (
                    Message::Owned {
                        root: value,
                        members,
                    },
                    None,
                ),
                Err(kind) => return Err(SendError { kind, value }),
            },
            SendMode::Copy => match deep_copy(m, &value) {
                Ok((root, members)) => (Message::Owned { root, members }, Some(value)),
                Err(kind) => return Err(SendError { kind, value }),
            },
        };
        self.tx.send(message).map_err(|returned| {
            let value = match (returned.0, original) {
                (_, Some(original)) => original,
                (Message::Shared(value), None) => value,
                (Message::Owned { root, .. }, None) => root,
            };
            SendError {
                kind: SendErrorKind::Disconnected,
                value,
            }
        })
    }
}

impl<P: RuntimePolicy> Receiver<P> {
    /// Waits for a value (detached from the world while it waits).
    pub fn recv(&self, m: &Mutator<P>) -> Result<Ref<P>, RecvError> {
        // A message already waiting needs no detach: take it directly.
        let message = match self.rx.try_recv() {
            Ok(message) => message,
            Err(_) => m.blocking(|| self.rx.recv()).map_err(|_| RecvError)?,
        };
        Ok(accept(message))
    }

    /// Waits for a value on this channel or for `wake` to be ready, whichever
    /// comes first (detached from the world while it waits). `wake` is ready
    /// when a message waits on it (which is left there) or when every sender
    /// of it is gone; `None` means `wake` was ready. This lets an embedder stop
    /// a receive for a reason of its own, such as the end of every
    /// interpreter that could send: it drops the senders of `wake`.
    ///
    /// ```
    /// use brisk_runtime::{channel, Biased, Runtime};
    ///
    /// let runtime = Runtime::<Biased>::new();
    /// let main = runtime.new_interpreter("main");
    /// let (_tx, rx) = channel::<Biased>();
    /// let (wake_tx, wake_rx) = channel::<Biased>();
    /// drop(wake_tx);
    /// let woken = main.spawn(move |m| rx.recv_or_wake(m, &wake_rx).unwrap().is_none());
    /// assert!(woken.join().unwrap());
    /// ```
    pub fn recv_or_wake(
        &self,
        m: &Mutator<P>,
        wake: &Receiver<P>,
    ) -> Result<Option<Ref<P>>, RecvError> {
        loop {
            match self.rx.try_recv() {
                Ok(message) => return Ok(Some(accept(message))),
                Err(crossbeam_channel::TryRecvError::Disconnected) => return Err(RecvError),
                Err(crossbeam_channel::TryRecvError::Empty) => {}
            }
            // `ready` only reports (a disconnected channel counts as ready):
            // this channel's message is taken by `try_recv` on the next turn,
            // where another receiver may have taken it first, and a message
            // on `wake` is never taken.
            let ready = m.blocking(|| {
                let mut select = crossbeam_channel::Select::new();
                select.recv(&self.rx);
                select.recv(&wake.rx);
                select.ready()
            });
            if ready == 1 {
                return Ok(None);
            }
        }
    }

    /// A value if one is waiting.
    pub fn try_recv(&self, _m: &Mutator<P>) -> Option<Ref<P>> {
        self.rx.try_recv().ok().map(accept)
    }
}

/// Takes a message over on the receiving thread: re-biases moved and copied
/// graphs to it.
///
/// One flat pass over the member list: the addresses are independent, so
/// the misses on headers the sender's core last wrote overlap, where a walk
/// from the root would wait for each object before finding the next.
fn accept<P: RuntimePolicy>(message: Message<P>) -> Ref<P> {
    match message {
        Message::Shared(value) => value,
        Message::Owned { root, members } => {
            for member in members.0 {
                // SAFETY: `root` keeps every member alive (see `Members`);
                // the graph was proven isolated (or freshly copied) by the
                // sender, which gave up every reference into it; the channel
                // orders the sender's writes before ours.
                unsafe { P::adopt(member.as_ref().rc_header()) };
            }
            root
        }
    }
}

/// Whether a graph walk leaves `object` where it is: frozen objects are
/// shared by every interpreter, never moved, copied or adopted. Immortal
/// objects are among them: every way an object becomes immortal (the
/// singletons, `Ref::immortal_native`, `Ref::into_immortal`, a frozen
/// component's members) freezes it too, so one flag answers for both.
#[inline]
fn stays_shared<P: RuntimePolicy>(object: &Object<P>) -> bool {
    let frozen = object.is_frozen();
    debug_assert!(
        frozen || !object.rc_header().is_immortal(),
        "an immortal object that is not frozen"
    );
    frozen
}

/// The "mini mark-and-sweep" of the 2017 thread: checks that every
/// reference to the objects reachable from `root` (frozen and immortal ones
/// aside) comes from inside the graph, except the one being sent. Returns
/// every object of the graph, for the receiver to adopt.
///
/// One depth-first pass, no edge lists. An object whose exact count is 1 is
/// reachable only through the edge just followed, so it cannot be met twice
/// and needs no entry in the visited map; only objects with more references
/// are looked up, and for those the edges met are tallied against the count
/// read when they were first met.
///
/// The walk takes no counts where nobody else can reach what it walks. An
/// object is *exclusive* when it is the root or reached from an exclusive
/// object, and its count is 1: nobody else holds it, so nobody else can
/// unlink its children, and a plain pointer to a child stays valid for the
/// whole walk. The children of any other object (one with several
/// references, which another mutator of this interpreter may hold and
/// mutate meanwhile) are held by a counted reference until the walk ends.
/// A tree, the common case, is walked without touching a single count.
fn isolated_members<P: RuntimePolicy>(root: &Ref<P>) -> Result<Members<P>, SendErrorKind> {
    if stays_shared(root) {
        return Ok(Members(Vec::new()));
    }
    let mut walk = IsolationWalk {
        multi: FxHashMap::default(),
        tuples: FxHashMap::default(),
        unverifiable: 0,
        pending: Vec::new(),
        held: Vec::new(),
        // Room for a small graph, so that it costs one allocation rather
        // than a series of doublings.
        members: Vec::with_capacity(16),
    };
    // The reference being sent is the edge to the root, from the caller,
    // who holds it: as from an exclusive parent.
    walk.meet(root, true, 0);
    while let Some((object, exclusive)) = walk.pending.pop() {
        // SAFETY: see `IsolationWalk::pending`.
        walk.expand(unsafe { object.as_ref() }, exclusive, 0);
    }
    let IsolationWalk {
        multi,
        unverifiable,
        held,
        members,
        ..
    } = walk;
    drop(held);
    let external_refs = multi
        .values()
        .filter(|(count, _)| *count != usize::MAX)
        .map(|&(count, met)| count.saturating_sub(met))
        .sum();
    if external_refs > 0 || unverifiable > 0 {
        return Err(SendErrorKind::NotIsolated {
            external_refs,
            unverifiable,
        });
    }
    Ok(Members(members))
}

/// How deep [`IsolationWalk::meet`] expands tuples in place before it
/// leaves them on the pending stack.
const INLINE_TUPLE_DEPTH: u32 = 8;

/// How many items ahead of the one being met [`IsolationWalk::expand`]
/// asks for a list item's object.
const PREFETCH_DISTANCE: usize = 8;

/// Asks the core to start loading `object`'s first two cache lines (its
/// header and, for an object that straddles a line, the rest), without
/// waiting for them. Only a hint: nothing is read, and an address that is
/// not mapped any more costs nothing.
#[inline(always)]
fn prefetch<P: RuntimePolicy>(object: &Object<P>) {
    #[cfg(all(target_arch = "x86_64", not(miri)))]
    {
        use core::arch::x86_64::{_mm_prefetch, _MM_HINT_T0};
        let first = (object as *const Object<P>).cast::<i8>();
        // SAFETY: a prefetch reads nothing and faults on no address; SSE is
        // part of the x86-64 baseline.
        unsafe {
            _mm_prefetch::<_MM_HINT_T0>(first);
            _mm_prefetch::<_MM_HINT_T0>(first.wrapping_add(63));
        }
    }
    #[cfg(not(all(target_arch = "x86_64", not(miri))))]
    let _ = object;
}

/// The state of [`isolated_members`]' walk.
struct IsolationWalk<P: RuntimePolicy> {
    /// For objects with several references: (count when first met, edges
    /// met); `usize::MAX` for a count this thread cannot read.
    multi: FxHashMap<usize, (usize, usize)>,
    /// Whether a tuple met in a shared position holds only immutable
    /// values (see [`IsolationWalk::is_immutable`]), by address. Each tuple
    /// in it is also in `held`, so the address names one tuple.
    tuples: FxHashMap<usize, bool>,
    /// Objects counted by another thread, which this thread cannot vouch
    /// for.
    unverifiable: usize,
    /// Objects met but not yet expanded, and whether each is exclusive.
    /// Each stays alive until the walk ends: the caller holds the root, an
    /// exclusive object's children are kept by its edges (which nobody else
    /// can remove), and every other child is in `held`.
    pending: Vec<(NonNull<Object<P>>, bool)>,
    /// Counted references to the children of non-exclusive objects, kept
    /// until the walk ends so that an address in `multi` names one object.
    held: Vec<Ref<P>>,
    /// Every object met, once, root first.
    members: Vec<NonNull<Object<P>>>,
}

impl<P: RuntimePolicy> IsolationWalk<P> {
    /// Meets each child of `object` that is part of the graph; `exclusive`
    /// says whether `object` is.
    fn expand(&mut self, object: &Object<P>, exclusive: bool, depth: u32) {
        match &object.payload {
            // The two sequences are read as slices, so the loop over their
            // items has no callback in it.
            Payload::Tuple(items) => self.follow_all(items, exclusive, depth),
            Payload::List(items) => {
                let items = items.lock();
                // Most items of a list worth moving are members: room for
                // them all at once, rather than a series of doublings that
                // copy the list so far each time.
                self.members.reserve(items.len());
                for (index, child) in items.iter().enumerate() {
                    // A long list's items are met one after another, but
                    // each meeting is long enough that the core cannot run
                    // ahead to the next item's header by itself: ask for it
                    // a few items early, so that the misses overlap.
                    if let Some(ahead) = items.get(index + PREFETCH_DISTANCE) {
                        prefetch(ahead);
                    }
                    self.follow(child, exclusive, depth);
                }
            }
            _ => object.for_each_child(|child| self.follow(child, exclusive, depth)),
        }
    }

    /// Follows each edge of `children`.
    #[inline(always)]
    fn follow_all(&mut self, children: &[Ref<P>], parent_exclusive: bool, depth: u32) {
        for child in children {
            self.follow(child, parent_exclusive, depth);
        }
    }

    /// Follows one edge, unless it leads to a shared object (tested here,
    /// inline: most children of a small tuple are immortal ints or other
    /// shared leaves).
    #[inline(always)]
    fn follow(&mut self, child: &Object<P>, parent_exclusive: bool, depth: u32) {
        if !stays_shared(child) {
            self.meet(child, parent_exclusive, depth);
        }
    }

    /// [`IsolationWalk::meet`] out of line: the recursion into a nested
    /// tuple, so that meeting a list's items runs without a call.
    #[inline(never)] // recursive; the common leaf tuple never gets here
    fn meet_nested(&mut self, child: &Object<P>, parent_exclusive: bool, depth: u32) {
        self.meet(child, parent_exclusive, depth);
    }

    /// Follows one edge to `child`, which is not shared, from a parent that
    /// is `exclusive` or not.
    #[inline(always)]
    fn meet(&mut self, child: &Object<P>, parent_exclusive: bool, depth: u32) {
        let count = P::exact_count(child.rc_header());
        // Held by more than the edge just followed (or counted by another
        // thread): an immutable value is shared rather than moved (see the
        // module doc, "Immutable values in a move"), so it is neither
        // tallied nor adopted, and nothing below it is walked. With a count
        // of 1 it is reached only through this edge and moves with its
        // parent, as any other object does.
        if count != Some(1) && self.is_immutable(child) {
            return;
        }
        if count != Some(1) && self.met_before(child, count) {
            return;
        }
        if !parent_exclusive {
            self.held.push(child.to_ref());
        }
        let exclusive = parent_exclusive && count == Some(1);
        self.members.push(NonNull::from(child));
        match &child.payload {
            // A tuple's items are fixed at birth and read without a lock:
            // expand it now, while its header is in cache, instead of coming
            // back to it once the rest of its parent has been met.
            Payload::Tuple(items) if depth < INLINE_TUPLE_DEPTH => {
                for item in items.iter() {
                    if !stays_shared(item) {
                        self.meet_nested(item, exclusive, depth + 1);
                    }
                }
            }
            // Only tuples and the tracked containers point at other
            // objects; nothing lies below any other kind, so there is no
            // need to come back to it.
            Payload::Tuple(_) => self.pending.push((NonNull::from(child), exclusive)),
            _ if child.kind().is_tracked() => {
                self.pending.push((NonNull::from(child), exclusive));
            }
            _ => {}
        }
    }

    /// Whether nobody can mutate `object` or anything it reaches: it is
    /// frozen, an immutable leaf, or a tuple (whose items are fixed at
    /// birth) of such values. The answer for a tuple is remembered, so a
    /// tuple met through many edges is looked through once.
    #[inline]
    fn is_immutable(&mut self, object: &Object<P>) -> bool {
        match &object.payload {
            Payload::Int(_) | Payload::Float(_) | Payload::Str(_) | Payload::Bytes(_) => true,
            Payload::Tuple(_) => self.is_immutable_tuple(object),
            _ => stays_shared(object),
        }
    }

    /// [`IsolationWalk::is_immutable`] for a tuple: a walk of the tuples it
    /// reaches (with a stack, not recursion, for deep nesting) that stops at
    /// the first item that is neither immutable nor a tuple still to look
    /// through.
    #[inline(never)] // only for tuples held elsewhere
    fn is_immutable_tuple(&mut self, tuple: &Object<P>) -> bool {
        let address = tuple as *const Object<P> as usize;
        if let Some(&verdict) = self.tuples.get(&address) {
            return verdict;
        }
        let mut verdict = true;
        let mut stack = vec![tuple];
        // Tuples already pushed: tuples nested as a diamond share their
        // items, and would otherwise be looked through once per path.
        let mut seen = rustc_hash::FxHashSet::default();
        'walk: while let Some(next) = stack.pop() {
            let Payload::Tuple(items) = &next.payload else {
                continue;
            };
            for item in items.iter() {
                let immutable = match &item.payload {
                    _ if stays_shared(item) => true,
                    Payload::Int(_) | Payload::Float(_) | Payload::Str(_) | Payload::Bytes(_) => {
                        true
                    }
                    Payload::Tuple(_) => {
                        let item_address = &**item as *const Object<P> as usize;
                        let known = self.tuples.get(&item_address).copied();
                        if known.is_none() && seen.insert(item_address) {
                            stack.push(item);
                        }
                        known.unwrap_or(true)
                    }
                    _ => false,
                };
                if !immutable {
                    verdict = false;
                    break 'walk;
                }
            }
        }
        // Held until the walk ends, so that no other tuple can take this
        // address while its verdict is remembered. The tuples below it are
        // not remembered: this one keeps them alive only while it lives.
        self.held.push(tuple.to_ref());
        self.tuples.insert(address, verdict);
        verdict
    }

    /// Tallies an edge to `child`, which has `count` references other than
    /// exactly one (`None`: counted by another thread). Returns whether
    /// `child` was met before, in which case it is not walked again.
    #[inline(never)] // objects with several references are the rare case in a graph worth moving
    fn met_before(&mut self, child: &Object<P>, count: Option<usize>) -> bool {
        let address = child as *const Object<P> as usize;
        if let Some((_, met)) = self.multi.get_mut(&address) {
            *met += 1;
            return true;
        }
        // Counted by another thread (`None`): treated as shared, reported
        // once, and walked to report what lies below.
        self.multi.insert(address, (count.unwrap_or(usize::MAX), 1));
        self.unverifiable += usize::from(count.is_none());
        false
    }
}

/// Copies the graph reachable from `root` (sharing frozen and immortal
/// objects). Returns the copy's root and every new object.
fn deep_copy<P: RuntimePolicy>(
    m: &Mutator<P>,
    root: &Ref<P>,
) -> Result<(Ref<P>, Members<P>), SendErrorKind> {
    let graph = Graph::walk(root, |o| !stays_shared(o));
    if graph.nodes.is_empty() {
        return Ok((root.clone(), Members(Vec::new())));
    }
    // Pass 1: leaves and empty containers; refuse what cannot be copied.
    let mut copies: Vec<Option<Ref<P>>> = Vec::with_capacity(graph.nodes.len());
    for node in &graph.nodes {
        let copy = match &node.payload {
            Payload::Int(i) => Some(m.int(*i)),
            Payload::Float(x) => Some(m.float(*x)),
            Payload::Str(s) => Some(m.str(s)),
            Payload::Bytes(b) => Some(m.bytes(b)),
            Payload::NativeFn(f) => Some(m.native_fn(f.clone())),
            Payload::List(_) => Some(m.list(Vec::new())),
            Payload::Dict(_) => Some(m.dict()),
            Payload::Tuple(_) => None, // pass 2
            Payload::Native(native) => match native.copy() {
                Some(copy) => Some(m.native(copy)),
                None => {
                    return Err(SendErrorKind::NotCopyable {
                        kind: Kind::Native,
                        type_name: native.type_name(),
                    })
                }
            },
            Payload::Slot(_) => {
                return Err(SendErrorKind::NotCopyable {
                    kind: Kind::Slot,
                    type_name: "slot",
                })
            }
            Payload::None | Payload::Bool(_) => Some(node.clone()),
        };
        copies.push(copy);
    }
    let map = |copies: &[Option<Ref<P>>], child: &Ref<P>| match graph.index_of(child) {
        Some(i) => copies[i].clone().expect("copied before use"),
        None => child.clone(), // frozen or immortal: shared
    };
    // Pass 2: tuples, children first. A cycle always passes through a list
    // or a dict (a tuple's items are fixed at birth), which exist already.
    for start in 0..graph.nodes.len() {
        let mut stack = vec![(start, false)];
        while let Some((v, children_done)) = stack.pop() {
            let Payload::Tuple(items) = &graph.nodes[v].payload else {
                continue;
            };
            if copies[v].is_some() {
                continue;
            }
            if children_done {
                let new_items = items.iter().map(|item| map(&copies, item)).collect();
                copies[v] = Some(m.tuple(new_items));
            } else {
                stack.push((v, true));
                for item in items.iter() {
                    if let Some(w) = graph.index_of(item) {
                        if copies[w].is_none() {
                            stack.push((w, false));
                        }
                    }
                }
            }
        }
    }
    // Pass 3: fill the containers.
    for (v, node) in graph.nodes.iter().enumerate() {
        let copy = copies[v].as_ref().expect("every node copied");
        match &node.payload {
            Payload::List(_) => {
                for item in node.items().expect("a list") {
                    copy.push(map(&copies, &item))
                        .expect("a fresh list is mutable");
                }
            }
            Payload::Dict(_) => {
                for (key, value) in node.dict_items().expect("a dict") {
                    copy.dict_set(map(&copies, &key), map(&copies, &value))
                        .expect("keys were hashable in the original");
                }
            }
            _ => {}
        }
    }
    let copies: Vec<Ref<P>> = copies
        .into_iter()
        .map(|copy| copy.expect("every node copied"))
        .collect();
    let members = copies.iter().map(|copy| NonNull::from(&**copy)).collect();
    // The walk starts at the root, so its copy comes first; the root's edges
    // keep every other copy alive once `copies` is dropped.
    Ok((copies[0].clone(), Members(members)))
}
