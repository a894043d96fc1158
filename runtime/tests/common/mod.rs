//! Helpers shared by the runtime's integration tests.

#![allow(dead_code)] // each test binary uses a subset

use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use brisk_runtime::{live_objects, Interpreter, Mutator, NativeObject, Object, Ref, RuntimePolicy};

/// Runs `f` on a new thread attached to `interpreter` and waits for it.
pub fn on<P, R, F>(interpreter: &Interpreter<P>, f: F) -> R
where
    P: RuntimePolicy,
    F: FnOnce(&Mutator<P>) -> R + Send + 'static,
    R: Send + 'static,
{
    interpreter
        .spawn(f)
        .join()
        .expect("interpreter thread panicked")
}

/// Serialises the tests of one binary: `live_objects()` and the drop
/// counters below are process-wide, so a test that asserts on them must not
/// run beside another test that allocates.
static LOCK: Mutex<()> = Mutex::new(());

/// Holds the binary's test lock (ignoring poisoning by a failed test).
pub fn serial() -> MutexGuard<'static, ()> {
    LOCK.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Drives the deferred work of the process (merge queues, epoch-deferred
/// decrements) until the live-object counter reaches `baseline`, or ten
/// seconds pass. Returns the last count seen.
pub fn settle(baseline: usize) -> usize {
    settle_within(baseline, Duration::from_secs(10))
}

/// [`settle`], giving up after `patience`.
pub fn settle_within(baseline: usize, patience: Duration) -> usize {
    let deadline = Instant::now() + patience;
    loop {
        brisk_refcount::safepoint();
        brisk_gc::collect(16);
        let live = live_objects();
        if live == baseline || Instant::now() > deadline {
            return live;
        }
        std::thread::sleep(Duration::from_millis(1));
    }
}

/// Runs `body` on a fresh runtime (which it drops), then checks that the
/// live-object counter is back where it was.
pub fn run_leak_checked<P: RuntimePolicy + 'static>(body: fn(brisk_runtime::Runtime<P>)) {
    let _serial = serial();
    let baseline = live_objects();
    body(brisk_runtime::Runtime::<P>::new());
    assert_eq!(
        settle(baseline),
        baseline,
        "objects leaked under {}",
        P::NAME
    );
}

/// `Tracked` values made (including copies).
pub static TRACKED_CREATED: AtomicUsize = AtomicUsize::new(0);
/// `Tracked` values dropped. A double free shows up as more drops than
/// creations (or as a crash).
pub static TRACKED_DROPPED: AtomicUsize = AtomicUsize::new(0);

/// `(created, dropped)` so far.
pub fn tracked_counts() -> (usize, usize) {
    (TRACKED_CREATED.load(SeqCst), TRACKED_DROPPED.load(SeqCst))
}

/// A native object without references whose drops are counted. It can be
/// made freezable and copyable or not.
#[derive(Debug)]
pub struct Tracked {
    /// A value to check after a trip.
    pub id: u64,
    /// What `NativeObject::freeze` answers.
    pub freezable: bool,
    /// Whether `NativeObject::copy` makes a copy.
    pub copyable: bool,
    /// Set when `freeze` was called (and answered yes).
    pub frozen: std::sync::atomic::AtomicBool,
}

impl Tracked {
    /// A freezable, copyable `Tracked`.
    pub fn new(id: u64) -> Self {
        Self::with(id, true, true)
    }

    /// A `Tracked` with the given abilities.
    pub fn with(id: u64, freezable: bool, copyable: bool) -> Self {
        TRACKED_CREATED.fetch_add(1, SeqCst);
        Tracked {
            id,
            freezable,
            copyable,
            frozen: std::sync::atomic::AtomicBool::new(false),
        }
    }

    /// The `Tracked` inside a native object, if it is one.
    pub fn of<P: RuntimePolicy>(object: &Object<P>) -> Option<&Tracked> {
        object.downcast_native::<Tracked>()
    }
}

impl Drop for Tracked {
    fn drop(&mut self) {
        TRACKED_DROPPED.fetch_add(1, SeqCst);
    }
}

impl<P: RuntimePolicy> NativeObject<P> for Tracked {
    fn type_name(&self) -> &'static str {
        "tracked"
    }

    fn trace(&self, _visit: &mut dyn FnMut(&Object<P>)) {}

    fn freeze(&self) -> bool {
        if self.freezable {
            self.frozen.store(true, SeqCst);
        }
        self.freezable
    }

    fn copy(&self) -> Option<Box<dyn NativeObject<P>>> {
        self.copyable
            .then(|| Box::new(Tracked::with(self.id, self.freezable, self.copyable)) as _)
    }
}

/// A native object that holds counted references to other objects (a class
/// instance, say) and reports them through `trace`. Freezable, not copyable.
pub struct Holder<P: RuntimePolicy> {
    /// The references it holds.
    pub children: Vec<Ref<P>>,
}

impl<P: RuntimePolicy + 'static> NativeObject<P> for Holder<P> {
    fn type_name(&self) -> &'static str {
        "holder"
    }

    fn trace(&self, visit: &mut dyn FnMut(&Object<P>)) {
        for child in &self.children {
            visit(child);
        }
    }

    fn freeze(&self) -> bool {
        true
    }
}

/// A readable rendering of a graph (cycles shown as `<cycle>`), for
/// "unchanged" checks.
pub fn render<P: RuntimePolicy>(object: &Object<P>) -> String {
    fn go<P: RuntimePolicy>(object: &Object<P>, path: &mut Vec<usize>, out: &mut String) {
        let address = object as *const Object<P> as usize;
        if path.contains(&address) {
            out.push_str("<cycle>");
            return;
        }
        path.push(address);
        match object.kind() {
            brisk_runtime::Kind::List | brisk_runtime::Kind::Tuple => {
                out.push_str(if object.kind() == brisk_runtime::Kind::List {
                    "["
                } else {
                    "("
                });
                for item in object.items().unwrap() {
                    go(&item, path, out);
                    out.push(',');
                }
                out.push_str(if object.kind() == brisk_runtime::Kind::List {
                    "]"
                } else {
                    ")"
                });
            }
            brisk_runtime::Kind::Dict => {
                out.push('{');
                for (k, v) in object.dict_items().unwrap() {
                    go(&k, path, out);
                    out.push(':');
                    go(&v, path, out);
                    out.push(',');
                }
                out.push('}');
            }
            brisk_runtime::Kind::Native => match Tracked::of(object) {
                Some(t) => out.push_str(&format!("tracked#{}", t.id)),
                None => {
                    out.push_str("native<");
                    object.for_each_child(|child| {
                        go(child, path, out);
                        out.push(',');
                    });
                    out.push('>');
                }
            },
            brisk_runtime::Kind::Slot => {
                out.push_str("slot<");
                if let Some(v) = object.slot_load().unwrap() {
                    go(&v, path, out);
                }
                out.push('>');
            }
            _ => out.push_str(&format!("{object:?}")),
        }
        path.pop();
    }
    let mut out = String::new();
    go(object, &mut Vec::new(), &mut out);
    out
}

/// Every object reachable from `root` (each once), counted.
pub fn reachable<P: RuntimePolicy>(root: &Ref<P>) -> Vec<Ref<P>> {
    let mut seen = std::collections::HashSet::new();
    let mut out = Vec::new();
    let mut stack = vec![root.clone()];
    while let Some(object) = stack.pop() {
        if !seen.insert(Ref::as_ptr(&object) as usize) {
            continue;
        }
        object.for_each_child(|child| stack.push(child.to_ref()));
        out.push(object);
    }
    out
}

/// `(address, count)` of every object reachable from `root`, not counting
/// the references this function takes itself. Call it on the thread that
/// owns the objects: under `Deferred`, another thread's touch would publish
/// them.
pub fn count_snapshot<P: RuntimePolicy>(root: &Ref<P>) -> Vec<(usize, usize)> {
    let objects = reachable(root);
    let mut counts: Vec<(usize, usize)> = objects
        .iter()
        .map(|o| {
            let count = Ref::strong_count(o);
            let own = usize::from(count != usize::MAX);
            (Ref::as_ptr(o) as usize, count - own)
        })
        .collect();
    counts.sort_unstable();
    counts
}

/// Generates one `#[test]` per listed body in a module named after the
/// policy.
macro_rules! policy_tests {
    ($policy:ident, $module:ident: $( $(#[doc = $doc:literal])+ $name:ident, )*) => {
        mod $module {
            $(
                $(#[doc = $doc])+
                #[test]
                fn $name() {
                    super::run::<brisk_runtime::$policy>(super::$name::<brisk_runtime::$policy>);
                }
            )*
        }
    };
}

/// Generates the tests under each of the four policies.
macro_rules! all_policies {
    ($($tests:tt)*) => {
        policy_tests!(Biased, biased: $($tests)*);
        policy_tests!(Deferred, deferred: $($tests)*);
        policy_tests!(Atomic, atomic: $($tests)*);
        policy_tests!(Gil, gil: $($tests)*);
    };
}

/// A native that holds nothing and is immutable: it can be made immortal.
pub struct Answer(pub u64);

impl<P: RuntimePolicy> NativeObject<P> for Answer {
    fn type_name(&self) -> &'static str {
        "answer"
    }

    fn trace(&self, _visit: &mut dyn FnMut(&Object<P>)) {}

    fn freeze(&self) -> bool {
        true
    }
}
