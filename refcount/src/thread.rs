//! Thread identity: small, never-reused ids and the per-thread state behind
//! them.
//!
//! # Ids
//!
//! The owner check on the fast path is "does the header's `tid` equal this
//! thread's id?". The id is cached in a `const`-initialised thread-local
//! `Cell<u32>` with no destructor, so reading it is a single TLS load with no
//! lazy-initialisation branch. The cache starts at [`UNREGISTERED`]
//! (`u32::MAX`), a value no header holds, so a thread that never made an
//! object fails the owner check without a registration test. Making an object
//! registers the thread.
//!
//! Ids come from a global counter and are never reused: a stale `tid` in a
//! header can never name a newer thread. Ids stop below the two header
//! markers ([`FORWARDED`](crate::header::FORWARDED) and
//! [`IMMORTAL`](crate::header::IMMORTAL)) and [`UNREGISTERED`]; running out
//! of the 2³² − 4 ids is a panic with a clear message.
//!
//! # Per-thread state
//!
//! A registered thread owns a `ThreadState` (its merge queue), shared with
//! the global registry so that non-owners can find the queue by id. A second
//! thread-local holds the thread's handle on it; that handle's destructor is
//! the thread-exit path.
//!
//! # Attaching and detaching
//!
//! A thread registers lazily, the first time it makes an object, and
//! unregisters when its thread-locals are destroyed. An embedder that wants
//! the id earlier (to mirror it in its own thread-local, as a C embedding
//! does for an inline owner check) calls [`attach`]; one that wants the
//! exit path to run at a point of its choosing (before a pthread's own
//! destructors, or to hand a long-lived thread's objects over) calls
//! [`detach`]. A thread that attaches again after detaching gets a new id:
//! objects stamped with the old one behave as those of an exited owner.
//!
//! A [`LocalBrc`](crate::LocalBrc) counts with plain steps on the proof that
//! its thread stays the owner for the whole [`owner_scope`](crate::owner_scope),
//! so a detach asked for inside an open scope waits: it runs when the
//! outermost scope closes.
//!
//! # Thread exit
//!
//! The same steps run from [`detach`] and from the thread-local destructor:
//!
//! 1. Reset the cached id to [`UNREGISTERED`]. Whatever this thread still
//!    does (later thread-local destructors dropping handles) goes through the
//!    non-owner path, so no owner-path write can race a non-owner merging
//!    one of its objects.
//! 2. Close the queue under its lock and merge what was in it.
//! 3. Remove the state from the registry. A non-owner that then looks the id
//!    up, or that pushes to a stale handle and finds the queue closed, merges
//!    the object itself.

use core::cell::Cell;
use core::marker::PhantomData;
use std::collections::HashMap;

use crate::queue::{self, MergeQueue, Queued};
use crate::sync::{
    event, lazy_global, lock, thread_local, Arc, AtomicU32, Mutex, Ordering::Relaxed,
};

/// The id cache's initial value: no header ever holds it, so an unregistered
/// thread fails every owner check.
pub const UNREGISTERED: u32 = u32::MAX;

// Thread ids stop below the header markers, which sit below the sentinel,
// so no owner check can match a marker or an unregistered thread.
const _: () = assert!(
    crate::header::FORWARDED < crate::header::IMMORTAL && crate::header::IMMORTAL < UNREGISTERED
);

pub use crate::header::UNOWNED;

/// A registered thread's shared state.
pub(crate) struct ThreadState {
    /// This thread's id. Immutable.
    pub(crate) tid: u32,
    /// Objects other threads handed back to this thread. See [`MergeQueue`].
    pub(crate) queue: MergeQueue,
}

/// The global registry: the id counter and every live thread's state.
struct Registry {
    /// The next id to hand out. `fetch_update` so it never wraps.
    next_tid: AtomicU32,
    /// Live registered threads by id. Locked to register, to exit, and by a
    /// non-owner on a miss in its owner cache.
    threads: Mutex<HashMap<u32, Arc<ThreadState>>>,
}

lazy_global!(fn registry() -> Registry = Registry {
    next_tid: AtomicU32::new(1),
    threads: Mutex::new(HashMap::new()),
});

thread_local! {
    /// This thread's id, or [`UNREGISTERED`]. No destructor, so it stays
    /// readable while other thread-locals are destroyed.
    static CURRENT_TID: Cell<u32> = const { Cell::new(UNREGISTERED) };
}

thread_local! {
    /// This thread's registration, or null: a borrowed copy of the `Arc` in
    /// `HANDLE`, set at registration and cleared first thing in the exit
    /// path. No destructor of its own, so the allocation-time queue
    /// poll costs one TLS load and one flag load, without the lazy
    /// registration check of a thread-local with a destructor.
    static OWN_STATE: Cell<*const ThreadState> = const { Cell::new(core::ptr::null()) };
}

thread_local! {
    /// The registered thread's handle; its destructor is the exit path.
    static HANDLE: ThreadHandle = const {
        ThreadHandle {
            state: Cell::new(None),
            spare: Cell::new(Vec::new()),
            hooks: Cell::new(Vec::new()),
        }
    };
}

thread_local! {
    /// How many owner scopes are open on this thread, and whether a
    /// [`detach`] waits for the outermost to close.
    static OWNER_SCOPES: Cell<(u32, bool)> = const { Cell::new((0, false)) };
}

thread_local! {
    /// The last owner this thread queued to, so a consumer that keeps
    /// handing objects back to one producer skips the registry lock.
    static OWNER_CACHE: Cell<Option<Arc<ThreadState>>> = const { Cell::new(None) };
}

/// The owning half of a thread's registration, held in `HANDLE`.
struct ThreadHandle {
    /// Set at registration, taken by the exit path. Owner thread only; read
    /// by taking it out and putting it back, so a merge re-entered from a
    /// destructor finds it wherever the outer call is.
    state: Cell<Option<Arc<ThreadState>>>,
    /// A drained batch vector kept for its capacity. Owner thread only;
    /// taken out while merging, so a merge re-entered from a destructor
    /// simply starts with a fresh vector.
    spare: Cell<Vec<Queued>>,
    /// Run at the start of the exit path ([`at_detach`]). Owner thread only.
    hooks: Cell<Vec<fn()>>,
}

impl ThreadHandle {
    /// A clone of the registration, if the thread is registered.
    fn state(&self) -> Option<Arc<ThreadState>> {
        let state = self.state.take();
        let copy = state.clone();
        self.state.set(state);
        copy
    }

    /// The exit path (module docs): runs at most once per registration.
    fn exit(&self) {
        let Some(state) = self.state.take() else {
            return;
        };
        // Hooks first, while this thread is still the owner of its objects.
        for hook in self.hooks.take() {
            hook();
        }
        // Step 1: from here on this thread is nobody's owner.
        let _ = CURRENT_TID.try_with(|tid| tid.set(UNREGISTERED));
        let _ = OWN_STATE.try_with(|own| own.set(core::ptr::null()));
        // Step 2: close the queue; later pushers merge by themselves.
        let left = state.queue.close();
        // No tracing here: a subscriber's own thread-locals may already be
        // gone while thread-locals are torn down.
        crate::stats::record_merged(left.len());
        // SAFETY: this is the owner thread, merging its own queue.
        unsafe { queue::merge_each(left.into_iter()) };
        // Step 3: unpublish.
        lock(&registry().threads).remove(&state.tid);
    }
}

impl Drop for ThreadHandle {
    fn drop(&mut self) {
        self.exit();
    }
}

/// Registers the calling thread if it is not registered yet, and returns
/// its id: the value the owner check compares with a header's `tid`.
/// Returns [`UNOWNED`] on a thread that is already exiting; objects it
/// makes start out merged.
///
/// Not needed in Rust, where the first object a thread makes registers it;
/// an embedder that mirrors the id in a thread-local of its own calls it
/// before reading the id.
///
/// ```
/// let id = brisk_refcount::thread::attach();
/// assert_eq!(brisk_refcount::thread::attach(), id); // already registered
/// brisk_refcount::thread::detach();
/// assert_ne!(brisk_refcount::thread::attach(), id); // ids are never reused
/// ```
pub fn attach() -> u32 {
    current_tid_registered()
}

/// Registers `hook` to run at the start of the calling thread's exit path
/// ([`detach`], or thread exit), while the thread still owns its objects:
/// for an embedder that mirrors the id (see [`attach`]) and must stop
/// using its copy before the id stops being this thread's. Registers the
/// thread first if needed; runs once, for this registration only.
///
/// ```
/// use std::sync::atomic::{AtomicUsize, Ordering::Relaxed};
/// use brisk_refcount::thread::{at_detach, detach};
///
/// static RAN: AtomicUsize = AtomicUsize::new(0);
/// std::thread::spawn(|| {
///     at_detach(|| {
///         RAN.fetch_add(1, Relaxed);
///     });
///     detach(); // runs the hook
///     detach(); // not registered any more: nothing to run
/// })
/// .join()
/// .unwrap(); // exit: the hook ran with the first detach
/// assert_eq!(RAN.load(Relaxed), 1);
/// ```
pub fn at_detach(hook: fn()) {
    if current_tid_registered() == UNOWNED {
        return;
    }
    let _ = HANDLE.try_with(|handle| {
        let mut hooks = handle.hooks.take();
        hooks.push(hook);
        handle.hooks.set(hooks);
    });
}

/// Runs the calling thread's exit path now, if it is registered: merges
/// what other threads queued to it, and stops being an owner. Objects this
/// thread made are merged by whichever thread next gives one up, as those
/// of an exited thread are. A later [`attach`] (or a new object) registers
/// the thread again, under a new id.
///
/// Nothing this thread holds is freed early: detaching changes who counts
/// where, not how many references there are.
///
/// Inside an [`owner_scope`](crate::owner_scope) the detach waits, and runs
/// when the outermost open scope closes: the scope's
/// [`LocalBrc`](crate::LocalBrc)s count on this thread staying the owner
/// until then.
pub fn detach() {
    let waits = OWNER_SCOPES
        .try_with(|scopes| {
            let (open, _) = scopes.get();
            if open > 0 {
                scopes.set((open, true));
            }
            open > 0
        })
        .unwrap_or(false);
    if !waits {
        let _ = HANDLE.try_with(ThreadHandle::exit);
    }
}

/// An open owner scope, from [`OwnerScopeOpen::enter`] to its drop (a
/// panic out of the scope closes it too). Not `Send`: it closes the scope
/// of the thread that opened it.
pub(crate) struct OwnerScopeOpen(PhantomData<*const ()>);

impl OwnerScopeOpen {
    /// Opens a scope on this thread.
    pub(crate) fn enter() -> OwnerScopeOpen {
        let _ = OWNER_SCOPES.try_with(|scopes| {
            let (open, waiting) = scopes.get();
            scopes.set((open + 1, waiting));
        });
        OwnerScopeOpen(PhantomData)
    }
}

impl Drop for OwnerScopeOpen {
    /// Closes the scope, and runs a detach that waited for it if it was the
    /// outermost.
    fn drop(&mut self) {
        let detach_now = OWNER_SCOPES
            .try_with(|scopes| {
                let (open, waiting) = scopes.get();
                let open = open - 1;
                scopes.set((open, waiting && open > 0));
                waiting && open == 0
            })
            .unwrap_or(false);
        if detach_now {
            detach();
        }
    }
}

/// How many threads are registered: they made an object and have not yet
/// finished their exit path. A snapshot, for diagnostics and tests.
///
/// A joined thread may still be running its thread-local destructors, the
/// exit path among them (loom runs them after `join` returns); waiting for
/// this to drop is how a test knows every exit path has finished.
pub fn registered_count() -> usize {
    lock(&registry().threads).len()
}

/// This thread's id, or [`UNREGISTERED`]. One TLS load.
#[inline(always)]
pub(crate) fn current_tid() -> u32 {
    CURRENT_TID.try_with(Cell::get).unwrap_or(UNREGISTERED)
}

/// This thread's id, registering the thread first if it has none. Returns
/// [`UNOWNED`] on a thread that is already exiting (see
/// [`register_current`]). Not a safepoint.
#[inline]
pub(crate) fn current_tid_registered() -> u32 {
    let tid = current_tid();
    if tid == UNREGISTERED {
        register_current()
    } else {
        tid
    }
}

/// Registers this thread and returns its new id (or its id, if it is
/// registered already). Returns [`UNOWNED`] on a thread that is already
/// exiting: objects it makes start out merged.
#[cold]
#[inline(never)] // once per thread; keeps allocation and locking out of `Brc::new`
fn register_current() -> u32 {
    HANDLE
        .try_with(|handle| {
            if let Some(state) = handle.state() {
                return state.tid;
            }
            let registry = registry();
            let tid = registry
                .next_tid
                // Relaxed: ids only need to be unique, which the RMW gives.
                .fetch_update(Relaxed, Relaxed, |next| {
                    (next < crate::header::FORWARDED).then(|| next + 1)
                })
                .unwrap_or_else(|_| {
                    panic!("brisk: thread ids exhausted: 2^32 - 4 threads have registered")
                });
            let state = Arc::new(ThreadState {
                tid,
                queue: MergeQueue::new(),
            });
            lock(&registry.threads).insert(tid, Arc::clone(&state));
            let _ = OWN_STATE.try_with(|own| own.set(Arc::as_ptr(&state)));
            handle.state.set(Some(state));
            // Set last: an object is stamped with this id only once the
            // thread can be found in the registry.
            let _ = CURRENT_TID.try_with(|current| current.set(tid));
            event!(tracing::debug!(target: "brisk::refcount", tid, "thread registered"));
            tid
        })
        .unwrap_or(UNOWNED)
}

/// Merges this thread's queue if the pending flag is set, returning how many
/// objects were merged. One TLS load and one Relaxed load when nothing is
/// waiting.
#[inline]
pub(crate) fn poll_merge_queue() -> usize {
    let own = OWN_STATE.try_with(Cell::get).unwrap_or(core::ptr::null());
    // SAFETY: non-null only between registration and the start of the exit
    // path, while `HANDLE` holds the `Arc` it points into.
    if !own.is_null() && unsafe { (*own).queue.has_pending() } {
        merge_queue()
    } else {
        0
    }
}

/// Merges every object waiting in this thread's queue. Returns how many.
#[cold]
#[inline(never)] // runs destructors; keep it out of the callers' fast paths
pub(crate) fn merge_queue() -> usize {
    HANDLE
        .try_with(|handle| {
            let Some(state) = handle.state() else {
                return 0;
            };
            let mut batch = handle.spare.take();
            state.queue.take_into(&mut batch);
            let merged = batch.len();
            if merged > 0 {
                event!(tracing::trace!(target: "brisk::refcount", tid = state.tid, merged, "merge queue"));
                crate::stats::record_merged(merged);
            }
            // SAFETY: this is the owner thread, merging its own queue.
            unsafe { queue::merge_each(batch.drain(..)) };
            handle.spare.set(batch);
            merged
        })
        .unwrap_or(0)
}

/// Hands `entry` to the thread `owner`'s queue, or gives it back if that
/// thread has exited.
#[cold]
#[inline(never)] // the queue path: a lock, possibly a registry lookup
pub(crate) fn push_to_owner(owner: u32, entry: Queued) -> Result<(), Queued> {
    let mut entry = Some(entry);
    let cached = OWNER_CACHE
        .try_with(|cache| {
            let state = cache.take();
            let pushed = match (&state, entry.take()) {
                (Some(state), Some(e)) if state.tid == owner => Some(state.queue.push(e)),
                (_, e) => {
                    entry = e;
                    None
                }
            };
            cache.set(state);
            pushed
        })
        .ok()
        .flatten();
    if let Some(pushed) = cached {
        return pushed;
    }
    let Some(entry) = entry else {
        unreachable!("the entry is only consumed by a cache hit")
    };
    // A miss in the registry means the owner has exited.
    let Some(state) = lock(&registry().threads).get(&owner).cloned() else {
        return Err(entry);
    };
    let pushed = state.queue.push(entry);
    let _ = OWNER_CACHE.try_with(|cache| cache.set(Some(state)));
    pushed
}
