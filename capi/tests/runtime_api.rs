//! The runtime's C calls (runtimes, interpreters, threads, channels,
//! values), called from Rust as C would call them, under both policies C
//! can choose: what each does, and how each refuses what it cannot do.
//!
//! A main function here is a Rust closure, passed through `arg` to one
//! `extern "C"` trampoline. A panic inside it (a failed assertion) is
//! caught there, since it must not unwind into the runtime's thread, and
//! reported by `join`.
//!
//! The tests take one lock each: `values_left_at_return_are_released`
//! reads the process-wide live-object counter, which the others would
//! move.

use core::ffi::{c_char, c_void, CStr};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::{Mutex, MutexGuard, PoisonError};

use brisk_capi::*;

const POLICIES: [BriskPolicy; 2] = [BRISK_POLICY_BIASED, BRISK_POLICY_DEFERRED];

/// What a main function returns when its closure panicked.
const PANICKED: i32 = i32::MIN;

fn serial() -> MutexGuard<'static, ()> {
    static SERIAL: Mutex<()> = Mutex::new(());
    SERIAL.lock().unwrap_or_else(PoisonError::into_inner)
}

fn last_error() -> String {
    // SAFETY: `brisk_last_error` never returns null, and the string lives
    // until the next failing call on this thread.
    unsafe { CStr::from_ptr(brisk_last_error()) }
        .to_string_lossy()
        .into_owned()
}

#[track_caller]
fn ok(status: BriskStatus) {
    assert_eq!(status, BriskStatus::Ok, "{}", last_error());
}

/// Asserts `status`, and that the message names `function`.
#[track_caller]
fn fails(status: BriskStatus, expected: BriskStatus, function: &str) {
    assert_eq!(status, expected, "{}", last_error());
    let message = last_error();
    assert!(message.contains(function), "{message:?} names {function}");
}

/// A mutator pointer, to hand to a scoped thread.
#[derive(Copy, Clone)]
struct SendMutator(*mut BriskMutator);

// SAFETY: only used to show that another thread's calls are refused.
unsafe impl Send for SendMutator {}

type Body = Box<dyn FnOnce(*mut BriskMutator) -> i32 + Send>;

unsafe extern "C" fn trampoline(m: *mut BriskMutator, arg: *mut c_void) -> i32 {
    // SAFETY: `spawn` passes a leaked `Box<Body>`, taken back once here.
    let body = unsafe { Box::from_raw(arg.cast::<Body>()) };
    catch_unwind(AssertUnwindSafe(|| body(m))).unwrap_or(PANICKED)
}

fn spawn(
    interp: BriskInterp,
    body: impl FnOnce(*mut BriskMutator) -> i32 + Send + 'static,
) -> BriskThread {
    let body: Box<Body> = Box::new(Box::new(body));
    let arg = Box::into_raw(body).cast::<c_void>();
    let mut thread = BriskThread { id: 0 };
    // SAFETY: `trampoline` takes `arg` back, on the new thread.
    ok(unsafe { brisk_interp_spawn(interp, Some(trampoline), arg, &mut thread) });
    thread
}

fn join(thread: BriskThread) -> i32 {
    let mut result = 0;
    // SAFETY: `result` is writable.
    ok(unsafe { brisk_thread_join(thread, &mut result) });
    assert_ne!(result, PANICKED, "the main function panicked (see above)");
    result
}

fn run(interp: BriskInterp, body: impl FnOnce(*mut BriskMutator) -> i32 + Send + 'static) -> i32 {
    join(spawn(interp, body))
}

fn runtime(policy: BriskPolicy) -> BriskRuntime {
    let mut runtime = BriskRuntime { id: 0 };
    // SAFETY: `runtime` is writable.
    ok(unsafe { brisk_runtime_new(policy, &mut runtime) });
    runtime
}

fn interp(runtime: BriskRuntime, name: &CStr) -> BriskInterp {
    let mut interp = BriskInterp { id: 0 };
    // SAFETY: a NUL-terminated name; `interp` is writable.
    ok(unsafe { brisk_interp_new(runtime, name.as_ptr(), &mut interp) });
    interp
}

fn channel(runtime: BriskRuntime) -> (BriskSender, BriskReceiver) {
    let (mut tx, mut rx) = (BriskSender { id: 0 }, BriskReceiver { id: 0 });
    // SAFETY: both writable.
    ok(unsafe { brisk_channel_new(runtime, &mut tx, &mut rx) });
    (tx, rx)
}

// The value calls, for a main function's `m`, each asserting success.
// SAFETY (every call below): `m` is the running main function's mutator,
// and the out-parameters are locals.

/// A runtime with interpreters "a" and "b" and one channel.
fn world(policy: BriskPolicy) -> (BriskRuntime, [BriskInterp; 2], BriskSender, BriskReceiver) {
    let rt = runtime(policy);
    let interps = [interp(rt, c"a"), interp(rt, c"b")];
    let (tx, rx) = channel(rt);
    (rt, interps, tx, rx)
}

/// Frees what [`world`] made, checking every call.
fn free_world(rt: BriskRuntime, interps: [BriskInterp; 2], tx: BriskSender, rx: BriskReceiver) {
    ok(brisk_sender_free(tx));
    ok(brisk_receiver_free(rx));
    for interp in interps {
        ok(brisk_interp_free(interp));
    }
    ok(brisk_runtime_free(rt));
}

fn int(m: *mut BriskMutator, value: i64) -> BriskValue {
    let mut out = BriskValue { id: 0 };
    // SAFETY: see above.
    ok(unsafe { brisk_value_int(m, value, &mut out) });
    out
}

fn string(m: *mut BriskMutator, text: &str) -> BriskValue {
    let mut out = BriskValue { id: 0 };
    // SAFETY: see above; `text` is readable for its length.
    ok(unsafe { brisk_value_str(m, text.as_ptr().cast::<c_char>(), text.len(), &mut out) });
    out
}

fn list(m: *mut BriskMutator, items: &[BriskValue]) -> BriskValue {
    let mut out = BriskValue { id: 0 };
    // SAFETY: see above.
    ok(unsafe { brisk_value_list(m, &mut out) });
    for &item in items {
        // SAFETY: see above.
        ok(unsafe { brisk_value_list_push(m, out, item) });
    }
    out
}

fn tuple(m: *mut BriskMutator, items: &[BriskValue]) -> BriskValue {
    let mut out = BriskValue { id: 0 };
    // SAFETY: see above; `items` is readable for its length.
    ok(unsafe { brisk_value_tuple(m, items.as_ptr(), items.len(), &mut out) });
    out
}

fn as_int(m: *mut BriskMutator, value: BriskValue) -> i64 {
    let mut out = 0;
    // SAFETY: see above.
    ok(unsafe { brisk_value_as_int(m, value, &mut out) });
    out
}

fn as_str(m: *mut BriskMutator, value: BriskValue) -> String {
    let (mut data, mut len) = (core::ptr::null(), 0);
    // SAFETY: see above.
    ok(unsafe { brisk_value_as_str(m, value, &mut data, &mut len) });
    // SAFETY: the string's bytes, valid while `value` is live.
    let bytes = unsafe { core::slice::from_raw_parts(data.cast::<u8>(), len) };
    String::from_utf8(bytes.to_vec()).unwrap()
}

fn len(m: *mut BriskMutator, value: BriskValue) -> usize {
    let mut out = 0;
    // SAFETY: see above.
    ok(unsafe { brisk_value_len(m, value, &mut out) });
    out
}

fn get(m: *mut BriskMutator, value: BriskValue, index: usize) -> BriskValue {
    let mut out = BriskValue { id: 0 };
    // SAFETY: see above.
    ok(unsafe { brisk_value_get(m, value, index, &mut out) });
    out
}

fn clone(m: *mut BriskMutator, value: BriskValue) -> BriskValue {
    let mut out = BriskValue { id: 0 };
    // SAFETY: see above.
    ok(unsafe { brisk_value_clone(m, value, &mut out) });
    out
}

fn send(
    m: *mut BriskMutator,
    tx: BriskSender,
    value: BriskValue,
    mode: BriskSendMode,
) -> BriskStatus {
    // SAFETY: see above.
    unsafe { brisk_send(m, tx, value, mode) }
}

fn recv(m: *mut BriskMutator, rx: BriskReceiver) -> Result<BriskValue, BriskStatus> {
    let mut out = BriskValue { id: 0 };
    // SAFETY: see above.
    match unsafe { brisk_recv(m, rx, &mut out) } {
        BriskStatus::Ok => Ok(out),
        status => Err(status),
    }
}

#[test]
fn runtime_new_checks_its_arguments() {
    let _serial = serial();
    let mut runtime = BriskRuntime { id: 0 };
    // SAFETY: `runtime` is writable; the null is refused.
    unsafe {
        fails(
            brisk_runtime_new(7, &mut runtime),
            BriskStatus::InvalidArgument,
            "policy 7",
        );
        assert_eq!(runtime.id, 0, "not written on failure");
        fails(
            brisk_runtime_new(BRISK_POLICY_BIASED, core::ptr::null_mut()),
            BriskStatus::NullPointer,
            "brisk_runtime_new",
        );
    }
}

#[test]
fn freed_and_never_issued_handles_are_invalid() {
    let _serial = serial();
    for policy in POLICIES {
        let rt = runtime(policy);
        let a = interp(rt, c"a");
        let (tx, rx) = channel(rt);
        let thread = spawn(a, |_| 7);
        assert_eq!(join(thread), 7);
        let mut result = 0;
        // SAFETY: `result` is writable.
        fails(
            unsafe { brisk_thread_join(thread, &mut result) },
            BriskStatus::InvalidHandle,
            "thread",
        );

        ok(brisk_sender_free(tx));
        ok(brisk_receiver_free(rx));
        ok(brisk_interp_free(a));
        ok(brisk_runtime_free(rt));
        fails(
            brisk_sender_free(tx),
            BriskStatus::InvalidHandle,
            "channel sender",
        );
        fails(
            brisk_receiver_free(rx),
            BriskStatus::InvalidHandle,
            "channel receiver",
        );
        fails(
            brisk_interp_free(a),
            BriskStatus::InvalidHandle,
            "interpreter",
        );
        fails(
            brisk_runtime_free(rt),
            BriskStatus::InvalidHandle,
            "runtime",
        );
        fails(
            brisk_runtime_free(BriskRuntime { id: 0 }),
            BriskStatus::InvalidHandle,
            "runtime",
        );

        let mut interp = BriskInterp { id: 0 };
        let (mut tx, mut rx) = (BriskSender { id: 0 }, BriskReceiver { id: 0 });
        let mut thread = BriskThread { id: 0 };
        let mut unreachable = 0;
        // SAFETY: every out-parameter is writable; the name is a C string.
        unsafe {
            fails(
                brisk_interp_new(rt, c"b".as_ptr(), &mut interp),
                BriskStatus::InvalidHandle,
                "runtime",
            );
            fails(
                brisk_channel_new(rt, &mut tx, &mut rx),
                BriskStatus::InvalidHandle,
                "runtime",
            );
            fails(
                brisk_runtime_collect(rt, &mut unreachable),
                BriskStatus::InvalidHandle,
                "runtime",
            );
            fails(
                brisk_interp_spawn(a, Some(trampoline), core::ptr::null_mut(), &mut thread),
                BriskStatus::InvalidHandle,
                "interpreter",
            );
        }
        assert_eq!(
            (interp.id, tx.id, rx.id, thread.id),
            (0, 0, 0, 0),
            "not written on failure"
        );
    }
}

#[test]
fn interp_new_checks_its_name() {
    let _serial = serial();
    let rt = runtime(BRISK_POLICY_BIASED);
    let mut interp = BriskInterp { id: 0 };
    // SAFETY: the names are C strings or null; `interp` is writable.
    unsafe {
        fails(
            brisk_interp_new(rt, c"\xff".as_ptr(), &mut interp),
            BriskStatus::InvalidArgument,
            "UTF-8",
        );
        fails(
            brisk_interp_new(rt, core::ptr::null(), &mut interp),
            BriskStatus::NullPointer,
            "name",
        );
        fails(
            brisk_interp_new(rt, c"a".as_ptr(), core::ptr::null_mut()),
            BriskStatus::NullPointer,
            "out",
        );
    }
    ok(brisk_runtime_free(rt));
}

#[test]
fn spawn_and_join_check_their_arguments() {
    let _serial = serial();
    let rt = runtime(BRISK_POLICY_DEFERRED);
    let a = interp(rt, c"a");
    let mut thread = BriskThread { id: 0 };
    // SAFETY: the nulls are refused before anything runs.
    unsafe {
        fails(
            brisk_interp_spawn(a, None, core::ptr::null_mut(), &mut thread),
            BriskStatus::NullPointer,
            "main",
        );
        fails(
            brisk_interp_spawn(
                a,
                Some(trampoline),
                core::ptr::null_mut(),
                core::ptr::null_mut(),
            ),
            BriskStatus::NullPointer,
            "out",
        );
    }
    let thread = spawn(a, |_| 42);
    // SAFETY: the null is refused, and the thread stays joinable.
    fails(
        unsafe { brisk_thread_join(thread, core::ptr::null_mut()) },
        BriskStatus::NullPointer,
        "result",
    );
    assert_eq!(join(thread), 42);
    ok(brisk_interp_free(a));
    ok(brisk_runtime_free(rt));
}

/// Interpreter "a" builds a list of 100 `(i, "item")` tuples and moves it
/// to "b", which checks its shape and sums the integers.
#[test]
fn a_graph_moves_between_interpreters() {
    let _serial = serial();
    for policy in POLICIES {
        let (rt, [a, b], tx, rx) = world(policy);
        let producer = spawn(a, move |m| {
            let graph = list(m, &[]);
            for i in 0..100 {
                let (n, s) = (int(m, i), string(m, "item"));
                let pair = tuple(m, &[n, s]);
                // SAFETY: `m` is this main function's.
                ok(unsafe { brisk_value_list_push(m, graph, pair) });
                for value in [n, s, pair] {
                    // SAFETY: as above.
                    ok(unsafe { brisk_value_free(m, value) });
                }
            }
            ok(send(m, tx, graph, BRISK_SEND_MOVE));
            // SAFETY: as above; the handle was consumed by the send.
            fails(
                unsafe { brisk_value_free(m, graph) },
                BriskStatus::InvalidHandle,
                "value",
            );
            0
        });
        let consumer = spawn(b, move |m| {
            let graph = recv(m, rx).unwrap();
            assert_eq!(len(m, graph), 100);
            let mut sum = 0;
            for i in 0..100 {
                let pair = get(m, graph, i);
                assert_eq!(len(m, pair), 2);
                assert_eq!(as_str(m, get(m, pair, 1)), "item");
                sum += as_int(m, get(m, pair, 0));
            }
            i32::try_from(sum).unwrap()
        });
        assert_eq!(join(producer), 0);
        assert_eq!(join(consumer), 4950);
        free_world(rt, [a, b], tx, rx);
    }
}

#[test]
fn value_calls_refuse_wrong_types_ranges_and_pointers() {
    let _serial = serial();
    for policy in POLICIES {
        let rt = runtime(policy);
        let a = interp(rt, c"a");
        run(a, |m| {
            let n = int(m, 1_000_000);
            let items = list(m, &[n]);
            let mut out = BriskValue { id: 0 };
            let (mut i, mut size) = (0_i64, 0_usize);
            // SAFETY: `m` is this main function's; the out-parameters are
            // locals; the pointers with lengths are readable for them.
            unsafe {
                fails(
                    brisk_value_as_int(m, items, &mut i),
                    BriskStatus::WrongType,
                    "expected int, found list",
                );
                fails(
                    brisk_value_len(m, n, &mut size),
                    BriskStatus::WrongType,
                    "brisk_value_len",
                );
                fails(
                    brisk_value_get(m, items, 5, &mut out),
                    BriskStatus::IndexOutOfRange,
                    "index 5",
                );
                fails(
                    brisk_value_get(m, n, 0, &mut out),
                    BriskStatus::WrongType,
                    "brisk_value_get",
                );
                fails(
                    brisk_value_list_push(m, n, n),
                    BriskStatus::WrongType,
                    "brisk_value_list_push",
                );
                fails(
                    brisk_value_str(m, c"\xff".as_ptr(), 1, &mut out),
                    BriskStatus::InvalidArgument,
                    "UTF-8",
                );
                fails(
                    brisk_value_str(m, core::ptr::null(), 1, &mut out),
                    BriskStatus::NullPointer,
                    "utf8",
                );
                fails(
                    brisk_value_tuple(m, core::ptr::null(), 1, &mut out),
                    BriskStatus::NullPointer,
                    "items",
                );
                fails(
                    brisk_value_int(m, 1, core::ptr::null_mut()),
                    BriskStatus::NullPointer,
                    "out",
                );
                fails(
                    brisk_value_len(m, items, core::ptr::null_mut()),
                    BriskStatus::NullPointer,
                    "out",
                );
                assert_eq!(out.id, 0, "not written on failure");

                // Empty strings and tuples may come from null.
                ok(brisk_value_str(m, core::ptr::null(), 0, &mut out));
                assert_eq!(as_str(m, out), "");
                ok(brisk_value_tuple(m, core::ptr::null(), 0, &mut out));
                assert_eq!(len(m, out), 0);
            }
            assert_eq!(as_int(m, get(m, items, 0)), 1_000_000);

            // A clone is a second handle to the same list.
            let alias = clone(m, items);
            // SAFETY: as above.
            ok(unsafe { brisk_value_list_push(m, alias, n) });
            assert_eq!(len(m, items), 2);
            // SAFETY: as above.
            unsafe {
                ok(brisk_value_free(m, alias));
                fails(
                    brisk_value_len(m, alias, &mut size),
                    BriskStatus::InvalidHandle,
                    "brisk_value_len",
                );
                fails(
                    brisk_value_free(m, alias),
                    BriskStatus::InvalidHandle,
                    "brisk_value_free",
                );
                fails(
                    brisk_value_free(m, BriskValue { id: 0 }),
                    BriskStatus::InvalidHandle,
                    "0x0",
                );
                ok(brisk_mutator_safepoint(m));

                // A frozen list refuses pushes.
                ok(brisk_freeze(m, items));
                ok(brisk_freeze(m, items));
                fails(
                    brisk_value_list_push(m, items, n),
                    BriskStatus::WrongType,
                    "frozen",
                );
            }
            0
        });
        ok(brisk_interp_free(a));
        ok(brisk_runtime_free(rt));
    }

    // No mutator at all.
    let mut out = BriskValue { id: 0 };
    // SAFETY: a null `m` is refused.
    unsafe {
        fails(
            brisk_value_int(core::ptr::null_mut(), 1, &mut out),
            BriskStatus::NullPointer,
            "`m`",
        );
        fails(
            brisk_mutator_safepoint(core::ptr::null_mut()),
            BriskStatus::NullPointer,
            "`m`",
        );
        fails(
            brisk_send(
                core::ptr::null_mut(),
                BriskSender { id: 0 },
                out,
                BRISK_SEND_MOVE,
            ),
            BriskStatus::NullPointer,
            "brisk_send",
        );
    }
}

#[test]
fn a_refused_send_keeps_the_value() {
    let _serial = serial();
    for policy in POLICIES {
        let (rt, [a, b], tx, rx) = world(policy);
        run(a, move |m| {
            let n = int(m, 5);
            let items = list(m, &[n]);

            fails(
                send(m, tx, items, 7),
                BriskStatus::InvalidArgument,
                "send mode 7",
            );
            fails(
                send(m, tx, items, BRISK_SEND_SHARE),
                BriskStatus::SendRefused,
                "not frozen",
            );
            assert_eq!(len(m, items), 1, "still live after a refused share");

            // Not isolated while a second handle holds it.
            let alias = clone(m, items);
            fails(
                send(m, tx, items, BRISK_SEND_MOVE),
                BriskStatus::SendRefused,
                "referenced from outside",
            );
            // SAFETY: `m` is this main function's.
            ok(unsafe { brisk_value_free(m, alias) });

            // A copy leaves the original to the sender, and consumes the handle.
            let kept = clone(m, items);
            ok(send(m, tx, items, BRISK_SEND_COPY));
            assert_eq!(len(m, kept), 1);
            fails(
                send(m, tx, items, BRISK_SEND_COPY),
                BriskStatus::InvalidHandle,
                "brisk_send",
            );

            // Frozen, it shares.
            // SAFETY: as above.
            ok(unsafe { brisk_freeze(m, kept) });
            ok(send(m, tx, kept, BRISK_SEND_SHARE));
            0
        });
        let received = run(b, move |m| {
            let copied = recv(m, rx).unwrap();
            let shared = recv(m, rx).unwrap();
            assert_eq!(as_int(m, get(m, copied, 0)), 5);
            assert_eq!(as_int(m, get(m, shared, 0)), 5);
            2
        });
        assert_eq!(received, 2);
        free_world(rt, [a, b], tx, rx);
    }
}

#[test]
fn closed_channels_report_disconnected() {
    let _serial = serial();
    for policy in POLICIES {
        let rt = runtime(policy);
        let a = interp(rt, c"a");

        let (tx, rx) = channel(rt);
        ok(brisk_sender_free(tx));
        run(a, move |m| {
            assert_eq!(recv(m, rx), Err(BriskStatus::Disconnected));
            assert!(last_error().contains("brisk_recv"), "{}", last_error());
            0
        });
        ok(brisk_receiver_free(rx));

        let (tx, rx) = channel(rt);
        ok(brisk_receiver_free(rx));
        run(a, move |m| {
            let value = int(m, 1_000_000);
            fails(
                send(m, tx, value, BRISK_SEND_MOVE),
                BriskStatus::Disconnected,
                "closed",
            );
            assert_eq!(
                as_int(m, value),
                1_000_000,
                "still live after a refused send"
            );
            0
        });
        ok(brisk_sender_free(tx));
        ok(brisk_interp_free(a));
        ok(brisk_runtime_free(rt));
    }
}

#[test]
fn values_and_mutators_are_bound_to_their_thread() {
    let _serial = serial();
    for policy in POLICIES {
        let rt = runtime(policy);
        let (a, b) = (interp(rt, c"a"), interp(rt, c"b"));
        let (made_tx, made_rx) = std::sync::mpsc::channel();
        let (done_tx, done_rx) = std::sync::mpsc::channel::<()>();
        // "a" holds a value until "b" has tried to use it.
        let holder = spawn(a, move |m| {
            let value = int(m, 1_000_000);
            made_tx.send(value).unwrap();
            done_rx.recv().unwrap();
            assert_eq!(as_int(m, value), 1_000_000);

            // The mutator itself, used from another thread.
            let foreign = SendMutator(m);
            let status = std::thread::scope(|scope| {
                scope
                    .spawn(move || {
                        let foreign = foreign;
                        let mut out = BriskValue { id: 0 };
                        // SAFETY: `m` is live (its main function waits for
                        // this thread); the call refuses it.
                        let status = unsafe { brisk_value_int(foreign.0, 1, &mut out) };
                        (status, last_error())
                    })
                    .join()
                    .unwrap()
            });
            assert_eq!(status.0, BriskStatus::NotAttached, "{}", status.1);
            0
        });
        let value = made_rx.recv().unwrap();
        run(b, move |m| {
            let mut out = 0;
            // SAFETY: `m` is this main function's.
            let status = unsafe { brisk_value_as_int(m, value, &mut out) };
            fails(status, BriskStatus::InvalidHandle, "another thread");
            done_tx.send(()).unwrap();
            0
        });
        join(holder);
        ok(brisk_interp_free(a));
        ok(brisk_interp_free(b));
        ok(brisk_runtime_free(rt));
    }
}

#[test]
fn policies_do_not_mix() {
    let _serial = serial();
    let biased = runtime(BRISK_POLICY_BIASED);
    let deferred = runtime(BRISK_POLICY_DEFERRED);
    let a = interp(biased, c"a");
    let (tx, rx) = channel(deferred);
    run(a, move |m| {
        let value = int(m, 1_000_000);
        fails(
            send(m, tx, value, BRISK_SEND_MOVE),
            BriskStatus::InvalidHandle,
            "policies differ",
        );
        assert_eq!(
            as_int(m, value),
            1_000_000,
            "still live after a refused send"
        );
        assert_eq!(recv(m, rx), Err(BriskStatus::InvalidHandle));
        assert!(
            last_error().contains("deferred channel receiver"),
            "{}",
            last_error()
        );
        0
    });
    for status in [
        brisk_sender_free(tx),
        brisk_receiver_free(rx),
        brisk_interp_free(a),
        brisk_runtime_free(biased),
        brisk_runtime_free(deferred),
    ] {
        ok(status);
    }
}

#[test]
fn values_left_at_return_are_released() {
    let _serial = serial();
    for policy in POLICIES {
        let before = brisk_runtime::live_objects();
        let rt = runtime(policy);
        let a = interp(rt, c"a");
        run(a, |m| {
            let words: Vec<_> = (0..10).map(|i| string(m, &format!("word {i}"))).collect();
            let items = list(m, &words);
            tuple(m, &[items, int(m, 1_000_000)]);
            0
        });
        ok(brisk_interp_free(a));
        ok(brisk_runtime_free(rt));
        assert_eq!(brisk_runtime::live_objects(), before, "{policy}: leaked");
    }
}

#[test]
fn runtime_collect_frees_cycles() {
    let _serial = serial();
    for policy in POLICIES {
        let rt = runtime(policy);
        let a = interp(rt, c"a");
        run(a, |m| {
            let ring = list(m, &[]);
            // SAFETY: `m` is this main function's.
            ok(unsafe { brisk_value_list_push(m, ring, ring) });
            0
        });
        let mut unreachable = 0;
        // SAFETY: `unreachable` is writable; the null is refused.
        unsafe {
            ok(brisk_runtime_collect(rt, &mut unreachable));
            fails(
                brisk_runtime_collect(rt, core::ptr::null_mut()),
                BriskStatus::NullPointer,
                "unreachable",
            );
        }
        assert_eq!(unreachable, 1);
        ok(brisk_interp_free(a));
        ok(brisk_runtime_free(rt));
    }
}
