//! The language's semantics, checked in-process: forms (the derived ones
//! too: named `let`, `do`, `letrec`, `case`, rest parameters, `apply`),
//! closures, tail calls, builtins (pairs, vectors, numbers, characters),
//! and the interpreter operations (spawn, join, channels with
//! share/move/copy, freeze). What needs the process itself (standard
//! input, files, the exit status) is in `tests/process.rs`.
//!
//! Tests that assert on the runtime's live-object counter hold `SERIAL`
//! (the counter is process-wide); every test here takes it, so none
//! allocates while another counts.

use std::io::Write;
use std::sync::{mpsc, Arc, Mutex};
use std::time::Duration;

mod common;

use brisk_interp::{run_with_policy, Limits, Policy, RunOptions, Source};
use common::settled_live_objects;

static SERIAL: Mutex<()> = Mutex::new(());

/// Runs `text` under `policy`; returns what it printed, or the first line
/// of its diagnostic.
fn run_under(policy: Policy, text: &str) -> Result<String, String> {
    let output = Arc::new(Mutex::new(Vec::<u8>::new()));
    let options = RunOptions {
        args: vec!["5".into(), "x".into()],
        output: output.clone(),
        limits: Limits::default(),
    };
    let result = run_with_policy(policy, &Source::new("test.brisk", text), options);
    let printed = String::from_utf8(output.lock().unwrap().clone()).unwrap();
    result.map(|()| printed).map_err(|d| d.headline())
}

fn run(text: &str) -> Result<String, String> {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    run_under(Policy::Biased, text)
}

/// Runs `program` under every policy: each prints `expected` and leaves the
/// live-object counter where it found it.
fn prints_under_every_policy_without_leaks(program: &str, expected: &str) {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    for policy in Policy::ALL {
        // What an earlier test left to be freed an epoch later is freed
        // first, so that it is not counted against this program.
        let before = settled_live_objects(0);
        assert_eq!(
            run_under(policy, program).as_deref(),
            Ok(expected),
            "{}",
            policy.name()
        );
        assert_eq!(
            settled_live_objects(before),
            before,
            "{} leaked",
            policy.name()
        );
    }
}

fn prints(text: &str, expected: &str) {
    assert_eq!(run(text).as_deref(), Ok(expected), "{text}");
}

fn fails(text: &str, expected: &str) {
    assert_eq!(run(text), Err(expected.to_owned()), "{text}");
}

#[test]
fn values_print_as_written() {
    prints(
        "(print 1 -2 1.5 1.0 1e300 \"s\" #t #f nil (list 1 \"a\") (tuple 1) (dict 'k 1))",
        "1 -2 1.5 1.0 1e300 s #t #f nil [1, \"a\"] (1,) {\"k\": 1}\n",
    );
    prints(
        "(print (repr \"a\\tb\") (type-of 1.0) (type-of nil) (type-of print))",
        "\"a\\tb\" float nil builtin\n",
    );
    prints("(print '(a (b 1)) ''x)", "(a (b 1)) (quote x)\n");
}

/// Float arithmetic reuses the object of a temporary operand; a float
/// that a variable, a list or a closure still holds is never changed.
#[test]
fn float_arithmetic_never_changes_a_float_something_holds() {
    prints_under_every_policy_without_leaks(
        "(define x 1.5)
         (define y (+ x 1.0))
         (define l (list (* 2.0 3.0)))
         (define z (+ (nth l 0) (* x 2.0)))
         (define (f v) (let ((w (* v 2.0))) (list v w (- w v) (+ (* w w) v))))
         (define g (let ((c (* 0.5 3.0))) (lambda () (+ c c))))
         (print x y l z (f (+ 0.5 0.5)) (g) (g))",
        "1.5 2.5 [6.0] 9.0 [1.0, 2.0, 1.0, 5.0] 3.0 3.0\n",
    );
}

#[test]
fn arithmetic_mixes_ints_and_floats_and_never_wraps() {
    prints("(print (+ 1 2 3) (- 10 1 2) (* 2 3 4) (- 5) (/ 7 2) (quotient -7 2) (remainder -7 2) (modulo -7 2))", "6 7 24 -5 3.5 -3 -1 1\n");
    prints(
        "(print (+ 1 0.5) (< 1 1.5) (= 1 1.0) (= (list 1 2) (list 1 2)) (eq? (list) (list)))",
        "1.5 #t #t #t #f\n",
    );
    fails(
        "(+ 9223372036854775807 1)",
        "test.brisk:1:1: error: integer overflow",
    );
    fails("(quotient 1 0)", "test.brisk:1:1: error: division by zero");
}

#[test]
fn closures_capture_variables_not_values() {
    prints(
        "(define (make-counter)
           (let ((n 0)) (lambda () (set! n (+ n 1)) n)))
         (define a (make-counter))
         (define b (make-counter))
         (a) (a) (b)
         (print (a) (b))",
        "3 2\n",
    );
    prints(
        "(define (adder n) (lambda (x) (+ x n)))
         (define add3 (adder 3))
         (print (add3 4) ((adder 10) 1))",
        "7 11\n",
    );
}

/// A captured variable that is assigned after the closure is made is
/// seen assigned by the closure (it lives in a cell); one that is never
/// assigned is copied into the closure; a function's own name reads the
/// function unless something rebinds the name.
#[test]
fn captures_see_later_assignments_and_own_names_their_function() {
    prints(
        "(define (f)
           (let ((x 1))
             (define g (lambda () x))
             (set! x 2)
             (g)))
         (define (h y) (lambda () (* y 10)))
         (print (f) ((h 4)))",
        "2 40\n",
    );
    // A named let's name, read directly, from a nested lambda, and passed
    // as a value.
    prints(
        "(print (let loop ((i 0) (acc (list)))
                  (if (= i 3)
                      acc
                      ((lambda () (loop (+ i 1) (append acc (list i))))))))
         (define (count-down n)
           (let loop ((n n))
             (if (= n 0) (function? loop) (loop (- n 1)))))
         (print (count-down 5))",
        "[0, 1, 2]\n#t\n",
    );
    // A `set!` of the name turns it back into a variable.
    prints(
        "(define (f)
           (define (g n) (if (= n 0) 'first (g (- n 1))))
           (define old g)
           (set! g (lambda (n) 'second))
           (old 2))
         (print (f))",
        "second\n",
    );
    // Internal defines that call each other keep working.
    prints(
        "(define (parity n)
           (define (even? n) (if (= n 0) #t (odd? (- n 1))))
           (define (odd? n) (if (= n 0) #f (even? (- n 1))))
           (even? n))
         (print (parity 10) (parity 7))",
        "#t #f\n",
    );
}

/// Each iteration of a `for` has its own binding of the loop variable, so
/// closures made in the body keep the value of their iteration; `set!` of
/// the variable in the body still steers the loop.
#[test]
fn closures_made_in_a_for_loop_keep_their_iteration() {
    prints(
        "(define fs (list))
         (for (i 0 3) (push! fs (lambda () i)))
         (print (map (lambda (f) (f)) fs))",
        "[0, 1, 2]\n",
    );
    prints(
        "(define fs (list))
         (for (i 0 10) (push! fs (lambda () i)) (set! i (+ i 4)))
         (print (map (lambda (f) (f)) fs))",
        "[4, 9]\n",
    );
    prints(
        "(define fs (list))
         (for (i 6 0 -2) (push! fs (lambda () (* i 10))))
         (print (map (lambda (f) (f)) fs))",
        "[60, 40, 20]\n",
    );
}

/// `equal?` compares data of any depth: two linked lists 100,000 cells
/// long, equal and differing only in the last cell.
#[test]
fn equal_compares_deeply_nested_data() {
    prints(
        "(define (chain n last)
           (let ((cell (list last)))
             (for (i 0 n) (set! cell (list i cell)))
             cell))
         (print (equal? (chain 100000 'end) (chain 100000 'end))
                (equal? (chain 100000 'end) (chain 100000 'other))
                (= (chain 100000 1) (chain 100000 1.0)))",
        "#t #f #t\n",
    );
}

#[test]
fn tail_calls_run_in_constant_stack() {
    prints(
        "(define (count n acc) (if (= n 0) acc (count (- n 1) (+ acc 1))))
         (print (count 200000 0))",
        "200000\n",
    );
    prints(
        "(define (even? n) (if (= n 0) #t (odd? (- n 1))))
         (define (odd? n) (if (= n 0) #f (even? (- n 1))))
         (print (even? 100001))",
        "#f\n",
    );
}

#[test]
fn deep_recursion_is_a_clean_error() {
    fails(
        "(define (down n) (+ 1 (down n)))\n(down 0)",
        "test.brisk:1:23: error: recursion limit exceeded (1000000 frames)",
    );
    prints(
        "(define (depth n) (if (= n 0) 0 (+ 1 (depth (- n 1)))))\n(print (depth 9000))",
        "9000\n",
    );
}

/// Recursion is bounded by memory, not by a small fixed count: 100,000
/// nested calls run by default.
#[test]
fn deep_recursion_runs_by_default() {
    prints(
        "(define (depth n) (if (= n 0) 0 (+ 1 (depth (- n 1)))))\n(print (depth 100000))",
        "100000\n",
    );
}

#[test]
fn let_forms_scope_and_shadow() {
    prints(
        "(define x 1) (let ((x 2) (y x)) (print x y)) (print x)",
        "2 1\n1\n",
    );
    prints("(let* ((x 2) (y (* x 10))) (print y))", "20\n");
    prints(
        "(define (f) (define a 1) (define (g) (+ a 1)) (g)) (print (f))",
        "2\n",
    );
    prints("(let ((+ -)) (print (+ 5 3)))", "2\n");
}

/// Reading an internal define before its definition names the variable,
/// instead of failing later on the `nil` it holds until then; functions
/// defined in the same body may still call each other.
#[test]
fn an_internal_define_used_before_its_definition_is_named() {
    fails(
        "(define (f) (print (helper 1)) (define (helper x) x)) (f)",
        "test.brisk:1:21: error: 'helper' is used before its definition",
    );
    fails(
        "(define (f) (define x (+ x 1)) x)",
        "test.brisk:1:26: error: 'x' is used before its definition",
    );
    fails(
        "(let ((a 1)) (print (b)) (define (b) a))",
        "test.brisk:1:22: error: 'b' is used before its definition",
    );
    prints(
        "(define (f) (define (even? n) (if (= n 0) #t (odd? (- n 1)))) (define (odd? n) (if (= n 0) #f (even? (- n 1)))) (even? 10)) (print (f))",
        "#t\n",
    );
}

#[test]
fn control_forms() {
    prints(
        "(define (sign n) (cond ((< n 0) 'negative) ((= n 0) 'zero) (else 'positive)))
         (print (sign -3) (sign 0) (sign 9) (cond (#f 1)) (cond ((+ 1 1))))",
        "negative zero positive nil 2\n",
    );
    prints(
        "(print (and) (and 1 2) (and 1 #f 3) (or) (or #f nil 7) (when #f 1) (unless #f 2))",
        "#t 2 #f #f 7 nil 2\n",
    );
    prints(
        "(define i 0) (define s 0) (while (< i 5) (set! s (+ s i)) (set! i (+ i 1))) (print s)",
        "10\n",
    );
    prints("(for (i 10 0 -3) (display i \"\")) (print)", "10 7 4 1 \n");
    prints("(define step 2) (for (i 0 5 step) (display i \"\")) (set! step -2) (for (i 5 0 step) (display i \"\")) (print)", "0 2 4 5 3 1 \n");
}

#[test]
fn strings_and_collections() {
    prints(
        "(print (string-length \"héllo\") (substring \"héllo\" 1 3) (string-append \"a\" \"b\") (string-split \"a,b\" \",\") (string-join (list 1 2) \"-\"))",
        "5 él ab [\"a\", \"b\"] 1-2\n",
    );
    prints(
        "(define l (list 3 1 2)) (push! l 0) (set-nth! l 0 9)
         (print l (length l) (first l) (last l) (rest l) (sort l) (reverse l) (pop! l) l)",
        "[9, 1, 2] 4 9 0 [1, 2, 0] [0, 1, 2, 9] [0, 2, 1, 9] 0 [9, 1, 2]\n",
    );
    prints(
        "(define d (dict 'a 1))
         (dict-set! d (tuple 1 2) 'pair)
         (print (dict-get d 'a) (dict-get d (tuple 1 2)) (dict-get d 'zz 0) (dict-has? d 'a) (dict-keys d) (dict-remove! d 'a) (length d))",
        "1 pair 0 #t [\"a\", (1, 2)] 1 1\n",
    );
    prints(
        "(print (map (lambda (x) (* x x)) (range 4)))",
        "[0, 1, 4, 9]\n",
    );
    prints("(define (odd? n) (= (remainder n 2) 1)) (print (filter odd? (range 6)) (reduce + 0 (range 5)) (range 1 10 4))", "[1, 3, 5] 10 [1, 5, 9]\n");
    prints("(print (argv) (int (nth (argv) 0)))", "[\"5\", \"x\"] 5\n");
}

/// `substring` far into long strings, ASCII and not, counts characters:
/// a million-character ASCII string, and the same after 131,072 `é`s (two
/// bytes each), with and without an end.
#[test]
fn substring_counts_characters_in_long_strings() {
    prints(
        "(define (double s k) (if (= k 0) s (double (string-append s s) (- k 1))))
         (define s (double \"0123456789\" 17))
         (define u (string-append (double \"é\" 17) s))
         (print (string-length s) (string-length u))
         (print (substring s 1000000 1000010) (substring s 1310717) (substring s 5 5))
         (print (substring u 131070 131075) (substring u 1131072 1131082) (substring u 1441789))
         (print (string-length (substring u 3)) (substring \"héllo wörld\" 4 9))",
        "1310720 1441792\n\
         0123456789 789 \n\
         éé012 0123456789 789\n\
         1441789 o wör\n",
    );
    fails(
        "(substring \"aé\" 1 3)",
        "test.brisk:1:1: error: substring: range 1..3 is out of bounds for a string of length 2",
    );
}

#[test]
fn runtime_errors_name_the_problem() {
    fails(
        "(print undefined-name)",
        "test.brisk:1:8: error: undefined variable 'undefined-name'",
    );
    fails(
        "(nth (list 1) 5)",
        "test.brisk:1:1: error: index 5 out of range for length 1",
    );
    fails(
        "(define (f x) x)\n(f)",
        "test.brisk:2:1: error: function 'f' expects 1 argument, got 0",
    );
    fails(
        "(dict-set! (dict) (list) 1)",
        "test.brisk:1:1: error: dict-set!: unhashable type: list",
    );
    fails("(error \"custom\" 42)", "test.brisk:1:1: error: custom 42");
    fails(
        "(assert (= 1 2) \"math\")",
        "test.brisk:1:1: error: assertion failed: math",
    );
}

#[test]
fn send_modes_follow_the_runtime() {
    prints(
        "(define ch (channel))
         (define l (list 1 2))
         (send ch l 'copy)
         (push! l 3)
         (define frozen (freeze (list 4)))
         (send ch frozen 'share)
         (send ch l 'move)
         (print (recv ch) (eq? (recv ch) frozen) (recv ch) l)",
        "[1, 2] #t [1, 2, 3] nil\n",
    );
    fails(
        "(define ch (channel))\n(define l (list 1))\n(send ch l 'share)",
        "test.brisk:3:1: error: send: cannot share a list that is not frozen (freeze it, or send it by move or copy)",
    );
    fails(
        "(define ch (channel))\n(define l (list 1))\n(define keep l)\n(send ch l 'move)",
        "test.brisk:4:1: error: send: cannot move a graph that is referenced from outside: 1 external reference(s)",
    );
    fails(
        "(define ch (channel))\n(send ch (tuple (channel) (lambda () 1)) 'copy)\n(define (c) (let ((n 1)) (lambda () n)))\n(send ch (c) 'copy)",
        "test.brisk:4:1: error: send: cannot copy an object of type function",
    );
}

#[test]
fn frozen_values_are_immutable() {
    fails(
        "(define l (freeze (list 1)))\n(set-nth! l 0 2)",
        "test.brisk:2:1: error: cannot mutate a frozen list",
    );
    fails(
        "(define (c) (let ((n 1)) (lambda () (set! n 2))))\n(define f (freeze (c)))\n(f)",
        "test.brisk:1:37: error: cannot change a variable captured by a frozen function",
    );
    prints(
        "(print (frozen? (freeze (dict 'a (list 1)))) (frozen? (list)) (frozen? 1))",
        "#t #f #t\n",
    );
}

#[test]
fn spawned_interpreters_start_from_a_copy_of_the_globals() {
    prints(
        "(define (square x) (* x x))
         (define shared (freeze (list 1 2 3)))
         (define counter 10)
         (define h (spawn-interpreter (lambda ()
                     (set! counter (+ counter 1))
                     (list (square 7) (nth shared 2) counter))))
         (print (join h) counter)",
        "[49, 3, 11] 10\n",
    );
    prints(
        "(define ch (channel))
         (define (worker k) (lambda () (send ch (* k 100) 'copy) k))
         (define hs (map (lambda (k) (spawn-interpreter (worker k))) (range 3)))
         (define got (list (recv ch) (recv ch) (recv ch)))
         (print (sort got) (map join hs))",
        "[0, 100, 200] [0, 1, 2]\n",
    );
    fails(
        "(define (c) (let ((n 1)) (lambda () n)))\n(define tick (c))\n(join (spawn-interpreter (lambda () (tick))))",
        "test.brisk:3:1: error: interpreter 2 failed: global 'tick' was not copied into this interpreter: cannot copy an object of type function (freeze it to share it instead)",
    );
    fails(
        "(join (spawn-interpreter (lambda () (channel))))\n(join (spawn-interpreter (lambda () (let ((n 0)) (lambda () n)))))",
        "test.brisk:2:1: error: interpreter 3 failed: interpreter 3 cannot return its result: cannot copy an object of type function (freeze it to share it instead)",
    );
    // Builtins are the same immortal objects in every interpreter, so they
    // cross in every mode, alone or inside a value, and stay callable.
    prints(
        "(define ch (channel))
         (send ch length 'share)
         (send ch (list length nth) 'move)
         (define h (spawn-interpreter (lambda ()
                     (let ((f (recv ch)) (fs (recv ch)))
                       (list (eq? f length) (f (list 1 2)) ((nth fs 1) (list 5 6) 1))))))
         (print (join h) (eq? (join (spawn-interpreter (lambda () print))) print))",
        "[#t, 2, 6] #t\n",
    );
    // A constant is one immortal object in every call and every
    // interpreter: it crosses without being copied, and a list built
    // around it still moves.
    prints(
        "(define (label) \"total\")
         (define ch (channel))
         (send ch (list (label) 2.5) 'move)
         (define h (spawn-interpreter (lambda ()
                     (let ((got (recv ch))) (list (eq? (nth got 0) (label)) (nth got 1))))))
         (print (eq? (label) (label)) (join h) (eq? (join (spawn-interpreter label)) (label)))",
        "#t [#t, 2.5] #t\n",
    );
    fails(
        "(spawn-interpreter (lambda (x) x))",
        "test.brisk:1:1: error: spawn-interpreter: the function must take no arguments, but 'lambda' takes 1",
    );
}

#[test]
fn every_policy_agrees_and_nothing_leaks() {
    let program = "
        (define ch (channel))
        (define data (freeze (list->tuple (range 50))))
        (define (work lo) (let ((s 0)) (for (i lo 50 2) (set! s (+ s (nth data i)))) s))
        (define hs (map (lambda (lo) (spawn-interpreter (lambda ()
                     (let ((batch (list lo (work lo))))
                       (send ch batch 'move)
                       lo))))
                   (range 2)))
        (define a (recv ch))
        (define b (recv ch))
        (print (sort (list (nth a 1) (nth b 1))) (map join hs))
        (define (fib n) (if (< n 2) n (+ (fib (- n 1)) (fib (- n 2)))))
        (print (fib 15) (map (lambda (x) (* x 1.5)) (list 1 2)))";
    prints_under_every_policy_without_leaks(program, "[600, 625] [0, 1]\n610 [1.5, 3.0]\n");
}

#[test]
fn cycles_are_collected_under_every_policy() {
    // Each iteration leaves two cycles behind: a list that holds itself,
    // and a recursive local function (closure → cell → closure). 30 000
    // containers pass the collector's default threshold, so automatic
    // collections run during the program and the teardown frees the rest.
    let program = "
        (define (make-garbage i)
          (let ((self (list i)))
            (push! self self)
            (define (count-down n) (if (< n 1) 0 (count-down (- n 1))))
            (count-down 3)))
        (for (i 0 15000 1) (make-garbage i))
        (print 'done)";
    prints_under_every_policy_without_leaks(program, "done\n");
}

#[test]
fn operands_read_in_place_see_the_value_a_push_would() {
    // Locals on either side, both sides, inside a fold, and a right operand
    // that assigns the left local after it was read.
    prints_under_every_policy_without_leaks(
        "(define (f a b xs)
           (let ((x 3.5))
             (print (- a b) (< a b) (* x x) (+ a b x) (nth xs 1) (= b 2))
             (print (+ a (begin (set! a 10) 1)) a)
             (set-nth! xs 0 (+ (nth xs 0) 10))
             (let ((old xs))
               (set-nth! xs 1 (begin (set! xs (list 0)) 50))
               (print old xs))))
         (f 7 2 (list 4 5 6))",
        "5 #f 12.25 12.5 5 #t\n8 10\n[14, 50, 6] [0]\n",
    );
}

/// An output whose first write waits until the test opens it, and which
/// reports when it is dropped (when the last interpreter holding it is
/// gone).
struct Gate {
    /// Taken by the first write, which waits for a message on it.
    closed: Option<mpsc::Receiver<()>>,
    /// Told when the gate is dropped.
    dropped: mpsc::Sender<()>,
}

impl Write for Gate {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        if let Some(closed) = self.closed.take() {
            let _ = closed.recv();
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Drop for Gate {
    fn drop(&mut self) {
        let _ = self.dropped.send(());
    }
}

/// A program that fails while an interpreter it spawned still runs leaves
/// that interpreter the last holder of the runtime, so the runtime's
/// teardown runs on the child's thread, still attached, when it ends: it
/// must not wait for the world to stop, itself included. The child is held
/// in `print` by an output the test opens only once the run has returned,
/// so it always ends last; the output is dropped once the child is gone.
/// (The deadline only turns a hang into a failure.)
#[test]
fn a_child_outliving_a_failed_program_tears_the_runtime_down() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let program = "(spawn-interpreter (lambda () (print \"child\")))\n(error \"main gave up\")\n";
    for policy in Policy::ALL {
        let (open, closed) = mpsc::channel();
        let (dropped_tx, dropped) = mpsc::channel();
        let options = RunOptions {
            args: Vec::new(),
            output: Arc::new(Mutex::new(Gate {
                closed: Some(closed),
                dropped: dropped_tx,
            })),
            limits: Limits::default(),
        };
        let result = run_with_policy(policy, &Source::new("test.brisk", program), options);
        assert_eq!(
            result.map_err(|d| d.headline()),
            Err("test.brisk:2:1: error: main gave up".to_owned()),
            "{}",
            policy.name()
        );
        open.send(()).unwrap();
        dropped
            .recv_timeout(Duration::from_secs(30))
            .unwrap_or_else(|_| panic!("{}: the child's teardown deadlocked", policy.name()));
    }
}

#[test]
fn lambdas_take_rest_arguments_as_a_list() {
    prints(
        "(define (f a . rest) (list a rest))
         (define (g . all) all)
         (print (f 1) (f 1 2 3) (g) ((lambda args (length args)) 1 2 3))",
        "[1, []] [1, [2, 3]] [] 3\n",
    );
    fails(
        "(define (f a b . rest) rest)\n(f 1)",
        "test.brisk:2:1: error: function 'f' expects at least 2 arguments, got 1",
    );
    fails(
        "(lambda (a . b c) a)",
        "test.brisk:1:12: error: '.' in a parameter list must come just before the last parameter",
    );
}

#[test]
fn apply_spreads_its_last_argument() {
    prints(
        "(define (f a . rest) (list a rest))
         (define (tail-apply xs) (apply + xs))
         (print (apply + 1 2 '(3 4)) (apply f '(1 2)) (apply max (list 1 5 2))
                (apply f 0 (cons 1 (cons 2 '()))) (apply list (tuple 1 2)) (tail-apply '(1 2)))",
        "10 [1, [2]] 5 [0, [1, 2]] [1, 2] 3\n",
    );
    fails(
        "(apply + 1 2)",
        "test.brisk:1:1: error: apply expects a list as its last argument, found int",
    );
    fails(
        "(define g apply)\n(g + '(1))",
        "test.brisk:2:1: error: apply: can only be called by its name, not through a variable",
    );
}

#[test]
fn named_let_do_letrec_and_case() {
    prints(
        "(print (let loop ((i 0) (acc '())) (if (= i 3) acc (loop (+ i 1) (cons i acc)))))
         (print (do ((i 0 (+ i 1)) (s 0 (+ s i))) ((= i 5) s)))
         (define v (make-vector 3 0))
         (print (do ((i 0 (+ i 1))) ((= i 3)) (vector-set! v i (* i i))) v)
         (print (letrec ((ev? (lambda (n) (if (= n 0) #t (od? (- n 1)))))
                         (od? (lambda (n) (if (= n 0) #f (ev? (- n 1))))))
                  (ev? 101)))
         (define (kind n) (case n ((2 3 5 7) 'prime) ((1 4 6 8 9) 'composite) (else 'big)))
         (print (kind 3) (kind 6) (kind 10) (case 'x ((a) 1)) (case \"b\" ((a b) 'ab)))",
        "(2 1 0)\n10\nnil [0, 1, 4]\n#f\nprime composite big nil ab\n",
    );
    // The inits of a named let are evaluated outside it; a loop of a
    // million iterations runs in constant stack.
    prints(
        "(define loop 5)
         (print (let loop ((i loop)) i) (let count ((i 0)) (if (< i 1000000) (count (+ i 1)) i)))",
        "5 1000000\n",
    );
    fails(
        "(do ((i 0)) i)",
        "test.brisk:1:1: error: do expects ((var init [step]) ...), (test result...) and a body",
    );
    fails(
        "(case 1 (1 2))",
        "test.brisk:1:10: error: case expects a list of data, found int",
    );
    fails(
        "(letrec (x) x)",
        "test.brisk:1:10: error: letrec binding expects (name value)",
    );
}

/// A named `let` that calls itself only in tail position runs as a loop,
/// with the meaning of the calls it replaces: each pass binds the
/// variables afresh (a closure keeps its pass's value, or its pass's cell
/// when the body assigns the variable), all at once, and the loop's value
/// is its body's wherever the loop stands.
#[test]
fn named_let_loops_keep_the_meaning_of_calls() {
    prints_under_every_policy_without_leaks(
        "(define fs (list))
         (let loop ((i 0))
           (when (< i 3)
             (push! fs (lambda () i))
             (loop (+ i 1))))
         (print (map (lambda (f) (f)) fs))
         (define gs (list))
         (let loop ((i 0))
           (when (< i 3)
             (push! gs (lambda () i))
             (set! i (+ i 10))
             (loop (- i 9))))
         (print (map (lambda (g) (g)) gs))
         (print (let loop ((a 1) (b 2) (n 0)) (if (< n 3) (loop b a (+ n 1)) (list a b))))
         (print (+ 1 (let loop ((i 0)) (if (< i 5) (loop (+ i 1)) i))))
         (print (let loop ((i 0))
                  (cond ((= i 4) 'done)
                        ((= (remainder i 2) 1) (loop (+ i 1)))
                        (else (and #t (loop (+ i 1)))))))
         (print (do ((i 0 (+ i 1))
                     (acc '() (cons (do ((j 0 (+ j 1)) (s 0 (+ s j))) ((= j i) s)) acc)))
                    ((= i 4) acc)))
         (let loop () (print 'once))
         (define (f)
           (define r (let loop ((i 0)) (if (< i 3) (loop (+ i 1)) (if #f (g) i))))
           (define (g) 1)
           r)
         (print (f))",
        "[0, 1, 2]\n[10, 11, 12]\n[2, 1]\n6\ndone\n(3 1 0 0)\nonce\n3\n",
    );
}

/// `'()` is `nil`, the empty list; pairs print as S-expressions, compare
/// item by item, and can be changed unless frozen.
#[test]
fn pairs_make_scheme_lists() {
    prints_under_every_policy_without_leaks(
        "(define p (cons 1 (cons 2 '())))
         (set-car! p 10)
         (set-cdr! (cdr p) (cons 3 nil))
         (print p (cons 1 2) (length p) (car p) (cdr p) (cadr p) (caddr p) (cddr p) (cdddr p))
         (print (null? '()) (null? (list)) (null? p) (pair? p) (pair? (list 1)) (type-of p))
         (print (equal? p (cons 10 (cons 2 (cons 3 nil)))) (= p (cons 10 nil)) (eq? '() nil))
         (print (car '(1 2)) (cdr '(1 2)) (caar (cons (cons 1 2) 3)) (cdar (cons (cons 1 2) 3)))",
        "(10 2 3) (1 . 2) 3 10 (2 3) 2 3 (3) nil\n\
         #t #t #f #t #f pair\n\
         #t #f #t\n\
         1 (2) 1 2\n",
    );
    prints(
        "(define ring (cons 1 nil)) (set-cdr! ring ring) (print ring)",
        "(1 ...)\n",
    );
    // Calls compile inline; the names are still builtins as values.
    prints(
        "(print (map car (list (cons 1 2) (cons 3 4))) (apply cons (list 1 2)) (map null? (list nil 1)))",
        "[1, 3] (1 . 2) [#t, #f]\n",
    );
    fails(
        "(car nil)",
        "test.brisk:1:1: error: car: expected a pair as argument 1, found nil",
    );
    fails(
        "(cadr '(1))",
        "test.brisk:1:1: error: cadr: expected a pair as argument 1, found nil",
    );
    fails(
        "(cons 1)",
        "test.brisk:1:1: error: cons expects 2 arguments, got 1",
    );
    fails(
        "(define p (freeze (cons 1 2)))\n(set-car! p 3)",
        "test.brisk:2:1: error: set-car!: cannot change a frozen pair",
    );
    fails(
        "(define r (cons 1 nil)) (set-cdr! r r)\n(length r)",
        "test.brisk:2:1: error: length: expected a string, list, tuple, dict or proper list of pairs as argument 1, found pair",
    );
    fails(
        "(length (cons 1 (cons 2 3)))",
        "test.brisk:1:1: error: length: expected a string, list, tuple, dict or proper list of pairs as argument 1, found pair",
    );
    prints("(print (length nil) (length '(1 2 3 4 5)))", "0 5\n");
}

/// `length` counts every proper chain and refuses every chain that loops,
/// wherever the loop starts and however long it is: the cycle check must
/// not miss a loop that a particular step pattern steps over.
#[test]
fn length_finds_every_loop_in_a_chain() {
    let error = "test.brisk:2:1: error: length: expected a string, list, tuple, dict or \
                 proper list of pairs as argument 1, found pair";
    for n in 1..=24 {
        let items: Vec<String> = (0..n).map(|i| i.to_string()).collect();
        let chain = format!(
            "(define (tail l k) (if (= k 0) l (tail (cdr l) (- k 1)))) (define c '({}))",
            items.join(" ")
        );
        prints(&format!("{chain} (print (length c))"), &format!("{n}\n"));
        // The last pair's cdr goes back to pair `k`: a loop of n - k pairs
        // after a tail of k.
        for k in 0..n {
            fails(
                &format!(
                    "{chain} (set-cdr! (tail c {}) (tail c {k}))\n(length c)",
                    n - 1
                ),
                error,
            );
        }
    }
}

#[test]
fn pairs_cross_interpreters_frozen_or_moved() {
    prints_under_every_policy_without_leaks(
        "(define ch (channel))
         (define p (cons 1 (cons (list 2) nil)))
         (define shared (freeze (cons 'a nil)))
         (send ch p 'move)
         (send ch shared 'share)
         (join (spawn-interpreter (lambda () (print (recv ch) (recv ch)))))
         (print p)",
        "(1 [2]) (a)\nnil\n",
    );
    fails(
        "(define ch (channel))\n(send ch (cons 1 2) 'copy)",
        "test.brisk:2:1: error: send: cannot copy an object of type pair",
    );
}

#[test]
fn association_lists_and_members() {
    prints(
        "(define alist (cons (cons 'a 1) (cons (cons 'b 2) nil)))
         (print (assq 'b alist) (assq 'c alist) (assoc (list 1) (list (list (list 1) 'x))) (assoc \"b\" (list (tuple \"a\" 1) (tuple \"b\" 2))))
         (print (member 2 (cons 1 (cons 2 (cons 3 nil)))) (member 2 (list 1 2 3)) (member 9 (list 1)) (member 1 '()))",
        "(b . 2) #f [[1], \"x\"] (\"b\", 2)\n(2 3) [2, 3] #f #f\n",
    );
    fails(
        "(assoc 1 (list 1))",
        "test.brisk:1:1: error: assoc: expected entries that are pairs or non-empty lists, found int",
    );
    fails(
        "(member 1 5)",
        "test.brisk:1:1: error: member: expected a proper list as argument 2, found int",
    );
}

/// Vectors are list values: `vector-ref` and friends insist on one.
#[test]
fn vectors_are_list_values() {
    prints(
        "(define v (make-vector 3))
         (vector-set! v 0 'a)
         (print v (vector-ref v 0) (vector-length v) (vector 1 2) (vector? v) (vector? (tuple))
                (vector->list (vector 1 2)) (list->vector (cons 1 (cons 2 nil))) (make-vector 2 'x))",
        "[\"a\", 0, 0] a 3 [1, 2] #t #f (1 2) [1, 2] [\"x\", \"x\"]\n",
    );
    fails(
        "(vector-ref (tuple 1) 0)",
        "test.brisk:1:1: error: vector-ref: expected a vector as argument 1, found tuple",
    );
    fails(
        "(vector-ref (vector 1) 1)",
        "test.brisk:1:1: error: vector-ref: index 1 out of range for length 1",
    );
    fails(
        "(make-vector -1)",
        "test.brisk:1:1: error: make-vector: length -1 is out of range (0 to 16777216)",
    );
    // Calls compile inline; as values the names are still the builtins,
    // with the same messages.
    prints(
        "(define v (vector 1 2)) (apply vector-set! (list v 1 9)) (print (apply vector-ref (list v 1)))",
        "9\n",
    );
    fails(
        "(vector-set! \"ab\" 0 1)",
        "test.brisk:1:1: error: vector-set!: expected a vector as argument 1, found string",
    );
    fails(
        "(apply vector-set! (list (vector 1) 3 0))",
        "test.brisk:1:1: error: vector-set!: index 3 out of range for length 1",
    );
}

#[test]
fn write_quotes_strings_and_display_does_not() {
    prints(
        "(write \"a\\n\" 1 (cons \"x\" nil) (list \"y\")) (display \"|\" \"a\\tb\") (print)",
        "\"a\\n\" 1 (\"x\") [\"y\"]| a\tb\n",
    );
}

/// `/` stays exact when both operands are ints and the division is exact;
/// otherwise it gives a float (there are no rationals).
#[test]
fn numbers_round_and_convert() {
    prints(
        "(print (/ 6 3) (/ 7 2) (/ -8 2) (/ 6.0 3) (/ 1 3) (quotient 7 2) (remainder -7 2) (modulo -7 2))",
        "2 3.5 -4 2.0 0.3333333333333333 3 -1 1\n",
    );
    prints(
        "(print (round 2.5) (round 3.5) (round -2.5) (round 7) (truncate -2.7) (floor -2.5) (ceiling 2.1))",
        "2.0 4.0 -2.0 7 -2.0 -3.0 3.0\n",
    );
    prints(
        "(print (exact 3.0) (exact 4) (inexact 1) (zero? 0) (zero? 0.0) (zero? 1))",
        "3 4 1.0 #t #t #f\n",
    );
    fails("(/ 1 0)", "test.brisk:1:1: error: division by zero");
    fails(
        "(/ -9223372036854775808 -1)",
        "test.brisk:1:1: error: integer overflow",
    );
    fails(
        "(exact 2.5)",
        "test.brisk:1:1: error: exact: 2.5 has no exact integer value (round, floor or truncate it first)",
    );
    fails(
        "(zero? \"0\")",
        "test.brisk:1:1: error: zero?: expected a number as argument 1, found string",
    );
}

/// Characters are one-character strings; symbols are strings.
#[test]
fn characters_and_symbols_are_strings() {
    prints(
        "(print (string-ref \"héllo\" 1) (char->integer \"A\") (integer->char 955)
                (symbol->string 'abc) (string->symbol \"x y\") (eq? (string->symbol \"a\") \"a\"))",
        "é 65 λ abc x y #t\n",
    );
    fails(
        "(string-ref \"ab\" 2)",
        "test.brisk:1:1: error: string-ref: index 2 out of range for a string of length 2",
    );
    fails(
        "(char->integer \"ab\")",
        "test.brisk:1:1: error: char->integer: expected a one-character string, found \"ab\"",
    );
    fails(
        "(integer->char 55296)",
        "test.brisk:1:1: error: integer->char: 55296 is not a Unicode scalar value",
    );
    fails(
        "(string-ref (list 1) 0)",
        "test.brisk:1:1: error: string-ref: expected a string as argument 1, found list",
    );
}

#[test]
fn sort_takes_an_optional_comparator() {
    prints(
        "(print (sort (list 3 1 2)) (sort (list 3 1 2) >) (sort (tuple \"b\" \"a\")) (sort (list) <))
         (print (sort (list (tuple 2 \"a\") (tuple 1 \"b\") (tuple 2 \"c\") (tuple 1 \"d\"))
                      (lambda (x y) (< (nth x 0) (nth y 0)))))",
        "[1, 2, 3] [3, 2, 1] [\"a\", \"b\"] []\n[(1, \"b\"), (1, \"d\"), (2, \"a\"), (2, \"c\")]\n",
    );
    prints(
        "(define h (spawn-interpreter (lambda () (sort (list 2 1) >))))
         (print (join h))",
        "[2, 1]\n",
    );
    fails(
        "(sort (list 1) < 2)",
        "<prelude>:32:10: error: sort: expects a list and at most one comparator, got 3 arguments",
    );
}

#[test]
fn the_clock_is_monotonic() {
    prints(
        "(define a (current-time))
         (define b (current-time))
         (print (float? a) (<= a b))",
        "#t #t\n",
    );
}

/// `call/ec` gives escape-only continuations: calling `k` returns from its
/// `call/ec` from any depth, until that `call/ec` has returned.
#[test]
fn call_ec_escapes_while_its_call_runs() {
    prints_under_every_policy_without_leaks(
        "(define (find-first keep? xs)
           (call/ec (lambda (return)
             (for-each (lambda (x) (when (keep? x) (return x))) xs)
             #f)))
         (define (deep n k) (if (= n 0) (k 'bottom) (+ 1 (deep (- n 1) k))))
         (print (call/ec (lambda (k) (+ 1 (k 42)))) (+ 1 (call/ec (lambda (k) 2)))
                (find-first (lambda (x) (> x 2)) (list 1 2 3 4))
                (find-first (lambda (x) (> x 9)) (list 1 2)))
         (print (call/ec (lambda (outer) (call/ec (lambda (inner) (outer 'out))) 'not-here))
                (call/ec (lambda (outer) (+ 10 (call/ec (lambda (inner) (inner 5))))))
                (call/ec (lambda (k) (deep 100000 k)))
                (call/ec (lambda (k) (apply k (list 7)))))",
        "42 3 3 #f\nout 15 bottom 7\n",
    );
    fails(
        "(define saved (call/ec (lambda (k) k)))\n(saved 1)",
        "test.brisk:2:1: error: the continuation's call/ec has already returned (call/ec gives escapes only)",
    );
    fails(
        "(call/ec (lambda (k) (k 1 2)))",
        "test.brisk:1:22: error: a continuation expects 1 argument, got 2",
    );
    fails(
        "(define c call/ec)\n(c list)",
        "test.brisk:2:1: error: call/ec: can only be called by its name, not through a variable",
    );
    prints(
        "(print (type-of (call/ec (lambda (k) k))) (function? (call/ec (lambda (k) k))))",
        "continuation #t\n",
    );
}

/// The list functions take chains of pairs as well as list values, and a
/// chain in gives a chain out; `newline` ends a line.
#[test]
fn list_functions_take_chains_of_pairs() {
    prints_under_every_policy_without_leaks(
        "(define xs (cons 1 (cons 2 (cons 3 '()))))
         (print (map (lambda (x) (* x 10)) xs) (filter (lambda (x) (= (remainder x 2) 1)) xs) (reduce + 0 xs))
         (for-each (lambda (x) (display x)) xs)
         (newline)
         (print (append xs (cons 4 '())) (append xs '()) (append '() xs) (append '() '()) (pair? (append xs xs)))
         (print (map (lambda (x) x) (list 1 2)) (append (list 1) (list 2)))",
        "(10 20 30) (1 3) 6\n\
         123\n\
         (1 2 3 4) (1 2 3) (1 2 3) nil #t\n\
         [1, 2] [1, 2]\n",
    );
}

/// `append` of chains copies every argument but the last and shares the
/// last as the tail, as Scheme's does, so appending onto a long list costs
/// the length of the short ones.
#[test]
fn append_shares_its_last_chain() {
    prints_under_every_policy_without_leaks(
        "(define ys (cons 2 (cons 3 '())))
         (define zs (append (cons 1 '()) ys))
         (print zs (eq? (cdr zs) ys) (eq? (append '() ys) ys))",
        "(1 2 3) #t #t\n",
    );
}
