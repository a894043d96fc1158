//! Fuzzing the reader, the compiler and the VM: no input may panic.
//!
//! Three generators feed `run` with a step bound and spawning disabled (so
//! every program ends: loops and tail calls run out of steps, recursion
//! hits the recursion limit, and `recv` on an empty channel is an error):
//!
//! * arbitrary bytes and arbitrary text;
//! * structured S-expressions over the language's own vocabulary —
//!   keywords, builtins, a few variable names — so most inputs get past the
//!   reader and exercise lowering, compilation and the VM;
//! * the example programs cut at a random point, with random text spliced
//!   in (unclosed lists, half tokens, stray quotes).
//!
//! The crash-free corpus in `tests/corpus/` — inputs that once found or
//! could find a crash: deep nesting, long `cond`s and sums, cycles, integer
//! and float edges, bad special forms — is replayed under every policy.
//! A run may succeed or report a diagnostic; it must not panic.

use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use brisk_interp::{run_with_policy, Diagnostic, Limits, Policy, RunOptions, Source};
use proptest::prelude::*;

/// Steps (back-edges and calls) each fuzzed program may take.
const STEP_LIMIT: u64 = 200_000;

/// Call depth each fuzzed program may reach: below [`STEP_LIMIT`], so a
/// runaway recursion stops at the recursion limit.
const MAX_DEPTH: usize = 10_000;

fn run_bounded(text: &str, policy: Policy) -> Result<(), Diagnostic> {
    let output = Arc::new(Mutex::new(std::io::sink()));
    let options = RunOptions {
        args: vec!["7".into()],
        output,
        limits: Limits {
            steps: Some(STEP_LIMIT),
            allow_spawn: false,
            max_depth: MAX_DEPTH,
        },
    };
    run_with_policy(policy, &Source::new("fuzz.brisk", text), options)
}

/// A diagnostic must point into the source it came from.
fn check_outcome(text: &str, outcome: Result<(), Diagnostic>) {
    if let Err(diagnostic) = outcome {
        if diagnostic.line > 0 && diagnostic.file == "fuzz.brisk" {
            let lines = text.split('\n').count();
            assert!(
                diagnostic.line <= lines,
                "line {} of {lines}: {diagnostic}",
                diagnostic.line
            );
        }
        assert!(!diagnostic.message.is_empty());
    }
}

const VOCABULARY: &[&str] = &[
    "define",
    "set!",
    "lambda",
    "let",
    "let*",
    "if",
    "cond",
    "else",
    "when",
    "unless",
    "while",
    "for",
    "begin",
    "and",
    "or",
    "quote",
    "+",
    "-",
    "*",
    "/",
    "quotient",
    "remainder",
    "modulo",
    "<",
    "<=",
    ">",
    ">=",
    "=",
    "not",
    "nth",
    "set-nth!",
    "list",
    "tuple",
    "dict",
    "dict-get",
    "dict-set!",
    "push!",
    "pop!",
    "length",
    "range",
    "make-list",
    "map",
    "filter",
    "reduce",
    "for-each",
    "str",
    "print",
    "repr",
    "string-append",
    "substring",
    "sort",
    "append",
    "reverse",
    "first",
    "rest",
    "freeze",
    "frozen?",
    "channel",
    "send",
    "recv",
    "join",
    "spawn-interpreter",
    "error",
    "assert",
    "argv",
    "int",
    "float",
    "sqrt",
    "expt",
    "abs",
    "shift-left",
    "bit-xor",
    "equal?",
    "eq?",
    "type-of",
    "letrec",
    "case",
    "do",
    ".",
    "apply",
    "call/ec",
    "cons",
    "car",
    "cdr",
    "cadr",
    "set-car!",
    "set-cdr!",
    "null?",
    "member",
    "assoc",
    "assq",
    "vector",
    "make-vector",
    "vector-ref",
    "vector->list",
    "list->vector",
    "write",
    "round",
    "exact",
    "string-ref",
    "integer->char",
    "read-file",
    "'()",
    "k",
    // Not `exit` (it ends the test process) nor `read-line` (it waits for
    // the test's standard input).
    "nil",
    "#t",
    "#f",
    "x",
    "y",
    "f",
    "g",
    "xs",
    "'share",
    "'move",
    "'copy",
    "'sym",
];

fn atom() -> impl Strategy<Value = String> {
    prop_oneof![
        (-300i64..300).prop_map(|i| i.to_string()),
        prop_oneof![Just(i64::MAX), Just(i64::MIN + 1), Just(256), Just(257)]
            .prop_map(|i| i.to_string()),
        (-1000.0f64..1000.0).prop_map(|x| format!("{x:?}")),
        "\"[a-z \\\\n]{0,6}\"",
        proptest::sample::select(VOCABULARY).prop_map(str::to_owned),
    ]
}

fn sexp() -> impl Strategy<Value = String> {
    atom().prop_recursive(6, 96, 6, |inner| {
        prop_oneof![
            4 => proptest::collection::vec(inner.clone(), 0..6)
                .prop_map(|items| format!("({})", items.join(" "))),
            1 => inner.prop_map(|item| format!("'{item}")),
        ]
    })
}

fn program() -> impl Strategy<Value = String> {
    proptest::collection::vec(sexp(), 1..6).prop_map(|forms| forms.join("\n"))
}

fn policy() -> impl Strategy<Value = Policy> {
    proptest::sample::select(Policy::ALL.to_vec())
}

fn examples() -> Vec<String> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("examples");
    let mut texts: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .filter_map(|entry| {
            let path = entry.ok()?.path();
            (path.extension()? == "brisk").then(|| std::fs::read_to_string(path).ok())?
        })
        .collect();
    texts.sort();
    texts
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..256)) {
        let text = String::from_utf8_lossy(&bytes).into_owned();
        check_outcome(&text, run_bounded(&text, Policy::Biased));
    }

    #[test]
    fn arbitrary_text_never_panics(text in "\\PC{0,200}") {
        check_outcome(&text, run_bounded(&text, Policy::Biased));
    }

    #[test]
    fn structured_programs_never_panic(text in program(), policy in policy()) {
        check_outcome(&text, run_bounded(&text, policy));
    }

    #[test]
    fn damaged_examples_never_panic(
        which in 0usize..7,
        cut in 0.0f64..1.0,
        splice in "[()\\[\\]'\" a-z0-9#.;-]{0,8}",
    ) {
        let examples = examples();
        let text = &examples[which % examples.len()];
        let mut at = (text.len() as f64 * cut) as usize;
        while !text.is_char_boundary(at) {
            at -= 1;
        }
        let damaged = format!("{}{splice}{}", &text[..at], &text[at..at + (text.len() - at) / 2]);
        check_outcome(&damaged, run_bounded(&damaged, Policy::Biased));
    }
}

/// Every corpus program runs to a result or a diagnostic under every
/// policy.
#[test]
fn corpus_replays_without_panics() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests")
        .join("corpus");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .filter_map(|entry| Some(entry.ok()?.path()))
        .filter(|path| path.extension().is_some_and(|e| e == "brisk"))
        .collect();
    files.sort();
    assert!(files.len() >= 40, "the corpus has {} programs", files.len());
    for file in files {
        let text = std::fs::read_to_string(&file).unwrap();
        for policy in Policy::ALL {
            check_outcome(&text, run_bounded(&text, policy));
        }
    }
}

/// Spot checks that the corpus programs fail where they should, not by
/// accident.
#[test]
fn corpus_edge_cases_report_clean_errors() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests")
        .join("corpus");
    let message = |name: &str| {
        let text = std::fs::read_to_string(dir.join(format!("{name}.brisk"))).unwrap();
        run_bounded(&text, Policy::Biased).err().map(|d| d.message)
    };
    assert_eq!(message("long-cond"), None);
    assert_eq!(message("long-sum"), None);
    assert_eq!(message("nesting-at-the-limit"), None);
    assert_eq!(message("tail-calls"), None);
    // Cyclic lists compare: a pair met again is taken as equal.
    assert_eq!(message("self-referential-list"), None);
    assert_eq!(
        message("step-bound").as_deref(),
        Some("step limit exceeded")
    );
    assert_eq!(
        message("recursion-bound").as_deref(),
        Some("recursion limit exceeded (10000 frames)")
    );
    assert_eq!(
        message("integer-edges").as_deref(),
        Some("integer overflow")
    );
    assert_eq!(
        message("float-division-by-zero").as_deref(),
        Some("division by zero")
    );
    assert!(message("deep-tuple-key")
        .unwrap()
        .contains("nested more than"));
    assert!(message("wide-tuple-dag").unwrap().contains("larger than"));
    assert!(message("channel-single-interpreter")
        .unwrap()
        .contains("no other interpreter"));
    assert!(message("freeze-closure")
        .unwrap()
        .contains("frozen function"));
    assert!(message("huge-range").unwrap().contains("too long"));
}
