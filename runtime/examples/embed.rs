//! A complete object model on brisk's embedder API: boxed integers, cons
//! cells and an immortal empty list, counted with biased reference
//! counting, built on one thread and consumed on another through a channel.
//!
//! Run it with `cargo run -p brisk-runtime --example embed`; `cargo test`
//! runs it too. It uses `brisk_refcount::embed` and nothing else of brisk.

use std::ptr::NonNull;
use std::sync::atomic::{AtomicUsize, Ordering::Relaxed};
use std::sync::{mpsc, OnceLock};

use brisk_refcount::embed::{decref, incref, new_header, safepoint, RcHeader};

/// An object: the header first, so a header pointer is an object pointer.
#[repr(C)]
struct Obj {
    header: RcHeader,
    kind: Kind,
}

enum Kind {
    Nil,
    Int(i64),
    Cons(Ref, Ref),
}

/// One counted reference to an object.
struct Ref(NonNull<Obj>);

// SAFETY: the counting is thread-safe (biased: the owner counts locally,
// every other thread atomically), and objects are immutable once made.
unsafe impl Send for Ref {}

/// How many objects have been freed, to check that each is freed once.
static FREED: AtomicUsize = AtomicUsize::new(0);

/// The `Dealloc` of every object: frees it, dropping its fields' references.
///
/// # Safety
///
/// `header` heads a boxed `Obj` with no references left.
unsafe fn free_obj(header: NonNull<RcHeader>) {
    // SAFETY: made by `Box::leak` in `Ref::new`; the count reached zero.
    drop(unsafe { Box::from_raw(header.cast::<Obj>().as_ptr()) });
    FREED.fetch_add(1, Relaxed);
}

impl Ref {
    /// A new object, owned by the calling thread, with one reference.
    fn new(kind: Kind) -> Ref {
        let header = new_header();
        Ref(NonNull::from(Box::leak(Box::new(Obj { header, kind }))))
    }

    /// The empty list: one immortal object, shared by every thread without
    /// counting.
    fn nil() -> Ref {
        static NIL: OnceLock<usize> = OnceLock::new();
        let addr = *NIL.get_or_init(|| {
            let header = RcHeader::new_immortal();
            Box::leak(Box::new(Obj {
                header,
                kind: Kind::Nil,
            })) as *mut Obj as usize
        });
        // The address of a leaked, never-freed box is never null.
        Ref(NonNull::new(addr as *mut Obj).expect("leaked box"))
    }

    fn kind(&self) -> &Kind {
        // SAFETY: this reference keeps the object alive.
        unsafe { &self.0.as_ref().kind }
    }
}

impl Clone for Ref {
    fn clone(&self) -> Ref {
        // SAFETY: `self` is a counted reference to a live object.
        unsafe { incref(self.0.cast::<RcHeader>().as_ref()) };
        Ref(self.0)
    }
}

impl Drop for Ref {
    fn drop(&mut self) {
        // SAFETY: gives up this counted reference; `free_obj` frees `Obj`s.
        unsafe { decref(self.0.cast::<RcHeader>(), free_obj) };
    }
}

/// The list `(1 2 ... n)`.
fn list_to(n: i64) -> Ref {
    (1..=n).rev().fold(Ref::nil(), |tail, i| {
        Ref::new(Kind::Cons(Ref::new(Kind::Int(i)), tail))
    })
}

/// The sum of a list of integers, walked iteratively.
fn sum(list: &Ref) -> i64 {
    let mut total = 0;
    let mut cell = list.clone();
    while let Kind::Cons(car, cdr) = cell.kind() {
        if let Kind::Int(value) = car.kind() {
            total += value;
        }
        let next = cdr.clone();
        cell = next;
    }
    total
}

fn main() {
    const N: i64 = 1000;
    let (tx, rx) = mpsc::channel::<Ref>();
    let (done_tx, done_rx) = mpsc::channel::<i64>();
    // The consumer counts on another thread's objects: atomically, on the
    // shared half of each header.
    let consumer = std::thread::spawn(move || {
        let list = rx.recv().expect("the producer sends one list");
        let total = sum(&list);
        drop(list);
        done_tx.send(total).expect("the producer is waiting");
    });
    let list = list_to(N);
    tx.send(list.clone()).expect("the consumer is waiting");
    assert_eq!(sum(&list), N * (N + 1) / 2);
    drop(list);
    let total = done_rx.recv().expect("the consumer sends its sum");
    // Cells whose last reference the consumer dropped were queued to this
    // thread, their owner; the safepoint merges and frees them.
    safepoint();
    consumer.join().expect("consumer");
    assert_eq!(total, N * (N + 1) / 2);
    // Every cons cell and every integer, each exactly once.
    assert_eq!(FREED.load(Relaxed), 2 * N as usize);
    println!("sum of 1..={N} = {total}; {} objects freed", 2 * N);
}

#[test]
fn runs() {
    main();
}
