//! Mutators: safepoints, blocking, stop-the-world and freeze against
//! running and blocked mutators, and interpreter handles, under every
//! counting policy.
//!
//! Tests that could hang if the handshake were wrong wait with a deadline
//! and fail instead. Every test checks afterwards that its runtime freed
//! every object.

#[macro_use]
mod common;

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering::SeqCst};
use std::sync::{mpsc, Arc};
use std::time::{Duration, Instant};

use brisk_runtime::{channel, live_objects, Kind, ObjectError, Runtime, RuntimePolicy, SendMode};

/// How long a test waits for something that should happen promptly.
const DEADLINE: Duration = Duration::from_secs(20);

use common::run_leak_checked as run;

/// Spins until `flag` is set, failing after [`DEADLINE`]; `tick` runs on
/// every turn (a safepoint, say).
fn wait_for(flag: &AtomicBool, what: &str, mut tick: impl FnMut()) {
    let start = Instant::now();
    while !flag.load(SeqCst) {
        assert!(start.elapsed() < DEADLINE, "timed out waiting for {what}");
        tick();
        std::hint::spin_loop();
    }
}

all_policies! {
    /// A receive inside `blocking` (nested blocking) detaches once; stop-the-world still works after.
    nested_blocking_detaches_once,
    /// A panic inside `blocking` re-attaches the mutator, which stays usable.
    panic_inside_blocking_reattaches,
    /// Freeze waits for a running mutator to park, never for a blocked one, and stops its pushes.
    freeze_against_running_and_blocked_mutators,
    /// A stop from a non-mutator thread halts every running mutator until resumed.
    stop_the_world_from_outside_halts_mutators,
    /// Objects other threads release are freed through the owner's safepoints.
    objects_released_elsewhere_are_freed,
    /// Interpreter ids, names, policy names, and per-interpreter globals.
    interpreters_and_globals,
    /// A thread attached to one of a runtime's interpreters drops the last handle to the runtime; the teardown's collection does not wait for that thread to park.
    runtime_dropped_by_an_attached_mutator,
}

fn nested_blocking_detaches_once<P: RuntimePolicy + 'static>(runtime: Runtime<P>) {
    let a = runtime.new_interpreter("a");
    let b = runtime.new_interpreter("b");
    let (tx, rx) = channel::<P>();
    let frozen = Arc::new(AtomicBool::new(false));
    let done = Arc::clone(&frozen);
    let waiter = a.spawn(move |m| {
        let got = m.blocking(|| m.blocking(|| rx.recv(m).unwrap().as_int()));
        assert_eq!(got, Some(5));
        // Attached again, exactly once: the freeze below must wait for this
        // loop to park, and then complete.
        wait_for(&done, "the freeze", || m.safepoint());
    });
    b.spawn(move |m| {
        tx.send(m, m.int(5), SendMode::Share).unwrap();
        let list = m.list(vec![m.str("x")]);
        m.freeze(&list).unwrap();
        frozen.store(true, SeqCst);
    })
    .join()
    .unwrap();
    waiter.join().unwrap();
}

fn panic_inside_blocking_reattaches<P: RuntimePolicy + 'static>(runtime: Runtime<P>) {
    let a = runtime.new_interpreter("a");
    let a2 = a.clone();
    a.spawn(move |m| {
        let list = m.list(vec![m.int(1)]);
        // Quiet: the panic is expected (this binary's tests run one at a
        // time, so swapping the hook disturbs no other test).
        let hook = std::panic::take_hook();
        std::panic::set_hook(Box::new(|_| {}));
        let caught = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            m.blocking(|| panic!("boom inside blocking"))
        }));
        std::panic::set_hook(hook);
        assert!(caught.is_err());
        // Attached again: it can allocate, stop the world and freeze.
        list.push(m.str("after")).unwrap();
        m.freeze(&list).unwrap();
        // Another mutator of the interpreter can run (under `Gil` this
        // means the lock was taken back and is handed over properly).
        let len = m.blocking(|| {
            a2.spawn(|m2| m2.list(vec![m2.none(); 3]).len())
                .join()
                .unwrap()
        });
        assert_eq!(len, Some(3));
        assert_eq!(list.len(), Some(2));
    })
    .join()
    .unwrap();
}

fn freeze_against_running_and_blocked_mutators<P: RuntimePolicy + 'static>(runtime: Runtime<P>) {
    let a = runtime.new_interpreter("a");
    let b = runtime.new_interpreter("b");
    let (tx, rx) = channel::<P>();
    // A mutator of another interpreter, blocked in a receive all along.
    let blocked = b.spawn(move |m| rx.recv(m).unwrap().as_int());
    let a2 = a.clone();
    a.spawn(move |m| {
        let list = m.list(Vec::new());
        let started = Arc::new(AtomicBool::new(false));
        let pushed = Arc::new(AtomicUsize::new(0));
        // A running mutator pushing to the list until it is frozen.
        let pusher = {
            let (list, started, pushed) = (list.clone(), Arc::clone(&started), Arc::clone(&pushed));
            a2.spawn(move |m2| {
                started.store(true, SeqCst);
                let start = Instant::now();
                loop {
                    match list.push(m2.int(1_000_000)) {
                        Ok(()) => pushed.fetch_add(1, SeqCst),
                        Err(err) => {
                            assert_eq!(err, ObjectError::Frozen { kind: Kind::List });
                            break;
                        }
                    };
                    assert!(start.elapsed() < DEADLINE, "the list was never frozen");
                    m2.safepoint();
                }
            })
        };
        m.blocking(|| wait_for(&started, "the pusher", || {}));
        while pushed.load(SeqCst) < 100 {
            m.safepoint();
        }
        m.freeze(&list).unwrap();
        // The pusher was parked between pushes: every push it counted is
        // in the frozen list, and none came after.
        let len = list.len().unwrap();
        m.blocking(|| pusher.join().unwrap());
        assert_eq!(len, pushed.load(SeqCst));
        assert_eq!(list.len(), Some(len));
        tx.send(m, m.int(1), SendMode::Share).unwrap();
    })
    .join()
    .unwrap();
    assert_eq!(blocked.join().unwrap(), Some(1));
}

fn stop_the_world_from_outside_halts_mutators<P: RuntimePolicy + 'static>(runtime: Runtime<P>) {
    let a = runtime.new_interpreter("a");
    let steps = Arc::new(AtomicUsize::new(0));
    let stop = Arc::new(AtomicBool::new(false));
    let workers: Vec<_> = (0..2)
        .map(|_| {
            let (steps, stop) = (Arc::clone(&steps), Arc::clone(&stop));
            a.spawn(move |m| {
                let list = m.list(Vec::new());
                wait_for(&stop, "the end of the test", || {
                    list.push(m.int(7)).unwrap();
                    list.pop().unwrap();
                    steps.fetch_add(1, SeqCst);
                    m.safepoint();
                });
            })
        })
        .collect();
    while steps.load(SeqCst) < 1000 {
        std::thread::yield_now();
    }
    for _ in 0..3 {
        let stopped = runtime.stop_the_world();
        let at_stop = steps.load(SeqCst);
        std::thread::sleep(Duration::from_millis(20));
        assert_eq!(steps.load(SeqCst), at_stop, "a mutator ran while stopped");
        stopped.resume();
        let start = Instant::now();
        while steps.load(SeqCst) < at_stop + 100 {
            assert!(start.elapsed() < DEADLINE, "the world did not resume");
            std::thread::yield_now();
        }
    }
    stop.store(true, SeqCst);
    for worker in workers {
        worker.join().unwrap();
    }
}

fn objects_released_elsewhere_are_freed<P: RuntimePolicy + 'static>(runtime: Runtime<P>) {
    const OBJECTS: usize = 1000;
    let a = runtime.new_interpreter("a");
    let b = runtime.new_interpreter("b");
    let (tx, rx) = channel::<P>();
    let (released_tx, released_rx) = mpsc::channel::<()>();
    let receiver = b.spawn(move |m| {
        let objects: Vec<_> = (0..OBJECTS).map(|_| rx.recv(m).unwrap()).collect();
        drop(objects); // frozen objects owned by the sender
        m.full_safepoint();
        released_tx.send(()).unwrap();
    });
    a.spawn(move |m| {
        let before = live_objects();
        for i in 0..OBJECTS {
            let object = m.list(vec![m.str(&format!("{i}"))]);
            m.freeze(&object).unwrap();
            tx.send(m, object, SendMode::Share).unwrap();
        }
        m.blocking(|| released_rx.recv().unwrap());
        if P::NAME == "biased" {
            // The last references were dropped by a non-owner: the objects
            // wait in this thread's merge queue until its next safepoint.
            assert_eq!(live_objects(), before + 2 * OBJECTS);
            m.full_safepoint();
            assert_eq!(live_objects(), before);
        } else {
            let start = Instant::now();
            while live_objects() != before {
                assert!(start.elapsed() < DEADLINE, "objects were not freed");
                m.full_safepoint();
                m.blocking(|| std::thread::sleep(Duration::from_millis(1)));
            }
        }
    })
    .join()
    .unwrap();
    receiver.join().unwrap();
}

fn interpreters_and_globals<P: RuntimePolicy + 'static>(runtime: Runtime<P>) {
    assert_eq!(runtime.policy_name(), P::NAME);
    let a = runtime.new_interpreter("alpha");
    let b = runtime.new_interpreter("beta");
    assert_ne!(a.id(), b.id());
    assert_eq!(a.name(), "alpha");
    assert_eq!(a.clone().id(), a.id());
    let debug = format!("{a:?}");
    assert!(
        debug.contains("alpha") && debug.contains(P::NAME),
        "{debug}"
    );
    // One globals dictionary per interpreter, shared by its mutators.
    let a2 = a.clone();
    a.spawn(move |m| {
        let globals = m.interpreter().globals(m);
        globals.dict_set(m.str("x"), m.int(1)).unwrap();
        let address = brisk_runtime::Ref::as_ptr(&globals) as usize;
        let other = m.blocking(|| {
            a2.spawn(move |m2| {
                let globals = m2.interpreter().globals(m2);
                assert_eq!(
                    globals.dict_get(&m2.str("x")).unwrap().unwrap().as_int(),
                    Some(1)
                );
                brisk_runtime::Ref::as_ptr(&globals) as usize
            })
            .join()
            .unwrap()
        });
        assert_eq!(other, address);
    })
    .join()
    .unwrap();
    let b_len = b
        .spawn(|m| m.interpreter().globals(m).len())
        .join()
        .unwrap();
    assert_eq!(b_len, Some(0), "interpreters do not share globals");
}

fn runtime_dropped_by_an_attached_mutator<P: RuntimePolicy + 'static>(runtime: Runtime<P>) {
    let runtime = Arc::new(runtime);
    let child = runtime.new_interpreter("child");
    let last = Arc::clone(&runtime);
    let (go_tx, go_rx) = mpsc::channel::<()>();
    let (done_tx, done_rx) = mpsc::channel::<()>();
    let thread = child.spawn(move |m| {
        // A cycle, for the teardown's collection to find.
        let ring = m.list(vec![]);
        ring.push(ring.clone()).unwrap();
        drop(ring);
        // Wait until this thread holds the only handle, then drop it while
        // attached, as an interpreter thread that outlives its program does.
        m.blocking(|| go_rx.recv().unwrap());
        drop(last);
        done_tx.send(()).unwrap();
    });
    drop(runtime);
    go_tx.send(()).unwrap();
    done_rx
        .recv_timeout(DEADLINE)
        .expect("dropping the runtime on an attached thread deadlocked");
    thread.join().unwrap();
}
