//! `parallel-map` with worker processes: the subprocess design of the 2017
//! thread, doing the same work per item as
//! `interp/examples/parallel-map.brisk` does with worker interpreters.
//!
//! # The design
//!
//! What `multiprocessing.Pool.map` does, with brisk for the workers: a
//! parent process ([`parent_main`], `brisk-lab map-parent`) starts N worker
//! processes, sends each its share of the items serialized, and assembles
//! their answers; each worker ([`worker_main`], `brisk-lab map-worker`) is
//! one brisk interpreter that decodes its task into brisk objects, maps it
//! in the language, and sends its answer back serialized. The parent prints
//! what `parallel-map.brisk` prints, so the two runs check each other.
//!
//! # The protocol
//!
//! One frame each way per worker, in the format of the send experiment's
//! subprocess baseline ([`wire`]: a length, then [`postcard`] of a
//! [`Value`], which mirrors what pickle describes):
//!
//! * parent → worker: the task, `(SPAN INDICES STARTS)` ([`Task`]);
//! * worker → parent: its answer, a list of `(index result)` tuples
//!   ([`answer_from_value`]), walked from the brisk list straight into
//!   postcard ([`Wire`]).
//!
//! The parent closes a worker's input after its task, and the worker exits
//! when its input ends. Each worker's exchange runs on a thread of its own
//! in the parent, so no worker waits for another's.
//!
//! # The same work per item
//!
//! The worker runs `process_map_worker.brisk` ([`WORKER_SOURCE`]), whose
//! `collatz-steps` and `work` are the example's, character for character
//! (a test checks). Item `i` starts at `1 + 7919 i` and worker `w` of N
//! takes items `w`, `w + N`, … as in the example; a worker maps an item
//! with `(push! out (tuple i (work start)))` as the example's worker does.
//!
//! # What differs from the interpreters
//!
//! * The parent is Rust: it builds the input and assembles the answers
//!   natively, where the example's main interpreter runs a loop in the
//!   language (one `set-nth!` per item). That favours the processes, a
//!   little.
//! * Each worker process is a brisk-lab executable, larger than `brisk`,
//!   and starts a runtime and an interpreter of its own and compiles the
//!   worker's source; a spawned interpreter starts a thread and copies its
//!   parent's globals.
//! * The input crosses to the processes serialized; to the interpreters it
//!   is shared, frozen, in O(1). The answers cross serialized, or moved.

use std::io::{self, Read, Write};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};

use brisk_interp::{Limits, Session, Source, Vm};
use brisk_runtime::{Atomic, Biased, Deferred, Gil, Object, Runtime, RuntimePolicy};

use crate::wire::{self, Value};
use crate::workloads::send::{from_value, to_value, Wire};

/// The worker's program.
pub const WORKER_SOURCE: &str = include_str!("process_map_worker.brisk");

/// Its name in diagnostics.
const WORKER_FILE: &str = "process_map_worker.brisk";

/// What the worker runs for each task, `task` being bound to it.
const STEP: &str = "(map-task task)";

/// How far apart the items' first numbers are, as in the example.
const STRIDE: i64 = 7919;

/// How many results the output shows, as in the example.
const SHOWN: usize = 5;

/// One worker's share of the map.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Task {
    /// How many numbers each item sums the Collatz steps of.
    pub span: i64,
    /// The items' indices.
    pub indices: Vec<i64>,
    /// Their first numbers, in the same order.
    pub starts: Vec<i64>,
}

impl Task {
    /// Worker `w`'s task when `workers` workers map `items` items of
    /// `span`: items `w`, `w + workers`, …, item `i` starting at
    /// `1 + 7919 i`.
    pub fn for_worker(w: usize, workers: usize, items: usize, span: i64) -> Task {
        let indices: Vec<i64> = (w..items)
            .step_by(workers.max(1))
            .map(|i| i as i64)
            .collect();
        let starts = indices.iter().map(|&i| 1 + STRIDE * i).collect();
        Task {
            span,
            indices,
            starts,
        }
    }

    /// The task as the worker receives it: `(SPAN INDICES STARTS)`.
    pub fn to_value(&self) -> Value {
        let ints = |xs: &[i64]| Value::List(xs.iter().map(|&x| Value::Int(x)).collect());
        Value::Tuple(vec![
            Value::Int(self.span),
            ints(&self.indices),
            ints(&self.starts),
        ])
    }

    /// A task from what [`Task::to_value`] makes.
    pub fn from_value(value: &Value) -> Result<Task, String> {
        let ints = |v: &Value| match v {
            Value::List(xs) => xs
                .iter()
                .map(|x| match x {
                    Value::Int(i) => Ok(*i),
                    other => Err(format!("a task holds integers, not {other:?}")),
                })
                .collect::<Result<Vec<i64>, String>>(),
            other => Err(format!("a task holds lists, not {other:?}")),
        };
        match value {
            Value::Tuple(parts) => match &parts[..] {
                [Value::Int(span), indices, starts] => Ok(Task {
                    span: *span,
                    indices: ints(indices)?,
                    starts: ints(starts)?,
                }),
                _ => Err(format!("not a task: {value:?}")),
            },
            _ => Err(format!("not a task: {value:?}")),
        }
    }
}

/// A worker's answer: `(index, result)` pairs.
pub type Answer = Vec<(i64, i64)>;

/// An answer as a worker sends it: a list of `(index result)` tuples.
pub fn answer_to_value(answer: &[(i64, i64)]) -> Value {
    Value::List(
        answer
            .iter()
            .map(|&(i, r)| Value::Tuple(vec![Value::Int(i), Value::Int(r)]))
            .collect(),
    )
}

/// The answer in what a worker sent.
pub fn answer_from_value(value: &Value) -> Result<Answer, String> {
    let Value::List(pairs) = value else {
        return Err(format!("an answer is a list, not {value:?}"));
    };
    pairs
        .iter()
        .map(|pair| match pair {
            Value::Tuple(two) => match &two[..] {
                [Value::Int(i), Value::Int(r)] => Ok((*i, *r)),
                _ => Err(format!("not an (index result) pair: {pair:?}")),
            },
            _ => Err(format!("not an (index result) pair: {pair:?}")),
        })
        .collect()
}

/// Runs [`WORKER_SOURCE`] in a fresh runtime of policy `P`, then, for
/// each task `next` gives until it gives `None`, binds `task` to it, runs
/// `(map-task task)` and hands the answer to `reply`.
pub fn run_worker<P: RuntimePolicy>(
    mut next: impl FnMut() -> Result<Option<Value>, String>,
    mut reply: impl FnMut(&Object<P>) -> Result<(), String>,
) -> Result<(), String> {
    let mut session = Session::new();
    let text = |d: brisk_interp::Diagnostic| d.to_string();
    let defs = session
        .compile(&Source::new(WORKER_FILE, WORKER_SOURCE))
        .map_err(text)?;
    let step = session
        .compile(&Source::new("<map-task>", STEP))
        .map_err(text)?;
    let task = session.symbols().intern("task");
    let runtime = Arc::new(Runtime::<P>::new());
    let interpreter = runtime.new_interpreter("worker");
    let result = {
        let m = interpreter.attach();
        let host = brisk_interp::host::Host::new(
            Arc::clone(&runtime),
            Arc::clone(session.symbols()),
            Arc::new(Mutex::new(io::sink())),
            Vec::new(),
            Limits {
                allow_spawn: false,
                ..Limits::default()
            },
        );
        let mut vm = Vm::new(&m, host);
        let mut serve = || -> Result<(), String> {
            vm.run_main(session.prelude()).map_err(text)?;
            vm.run_main(&defs).map_err(text)?;
            while let Some(value) = next()? {
                vm.define_global(task, from_value(&m, &value)?);
                let answer = vm.run_main(&step).map_err(text)?;
                reply(&answer)?;
            }
            Ok(())
        };
        serve()
    };
    drop(interpreter);
    drop(runtime);
    result
}

/// `brisk-lab map-worker --policy POLICY`: serves tasks from standard
/// input, answers on standard output, until its input ends.
pub fn worker_main(policy: &str) -> Result<(), String> {
    let (mut input, mut output) = (io::stdin().lock(), io::stdout().lock());
    match policy {
        "biased" => serve::<Biased>(&mut input, &mut output),
        "deferred" => serve::<Deferred>(&mut input, &mut output),
        "atomic" => serve::<Atomic>(&mut input, &mut output),
        "gil" => serve::<Gil>(&mut input, &mut output),
        other => Err(format!(
            "no policy {other:?} (biased, deferred, atomic or gil)"
        )),
    }
}

/// [`run_worker`] on frames of `input` and `output`.
fn serve<P: RuntimePolicy>(input: &mut impl Read, output: &mut impl Write) -> Result<(), String> {
    let mut frame = Vec::new();
    let mut out = Vec::new();
    run_worker::<P>(
        || {
            if !wire::read_frame(input, &mut frame).map_err(|e| e.to_string())? {
                return Ok(None);
            }
            postcard::from_bytes(&frame)
                .map(Some)
                .map_err(|e| format!("a task that does not decode: {e}"))
        },
        |answer| {
            out.clear();
            wire::write_frame(&mut out, |w| postcard::to_io(&Wire(answer), w).map(drop))
                .map_err(|e| format!("an answer that does not encode: {e}"))?;
            output.write_all(&out).map_err(|e| e.to_string())?;
            output.flush().map_err(|e| e.to_string())
        },
    )
}

/// A map: how many workers, items, and numbers per item.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct Map {
    /// Worker processes.
    pub workers: usize,
    /// Items.
    pub items: usize,
    /// Numbers per item.
    pub span: i64,
}

/// `brisk-lab map-parent`: maps `map` with worker processes running
/// `exe map-worker --policy POLICY`, and returns what
/// `parallel-map.brisk` prints for the same arguments.
pub fn parent_main(exe: &Path, map: Map, policy: &str) -> Result<String, String> {
    let mut children = Vec::with_capacity(map.workers);
    for _ in 0..map.workers {
        let child = Command::new(exe)
            .args(["map-worker", "--policy", policy])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .map_err(|e| format!("could not start {}: {e}", exe.display()))?;
        children.push(child);
    }
    let answers = std::thread::scope(|scope| {
        let exchanges: Vec<_> = children
            .into_iter()
            .enumerate()
            .map(|(w, child)| {
                let task = Task::for_worker(w, map.workers, map.items, map.span);
                scope.spawn(move || exchange(child, &task))
            })
            .collect();
        exchanges
            .into_iter()
            .map(|e| {
                e.join()
                    .unwrap_or_else(|_| Err("an exchange panicked".to_owned()))
            })
            .collect::<Result<Vec<Answer>, String>>()
    })?;
    render(map, &answers)
}

/// Sends `task` to the worker `child`, closes its input, and reads its
/// answer; fails if the worker fails.
fn exchange(mut child: Child, task: &Task) -> Result<Answer, String> {
    let mut frame = Vec::new();
    wire::write_frame(&mut frame, |w| {
        postcard::to_io(&task.to_value(), w).map(drop)
    })
    .map_err(|e| format!("a task that does not encode: {e}"))?;
    let mut input = child.stdin.take().expect("piped stdin");
    input
        .write_all(&frame)
        .map_err(|e| format!("a worker did not take its task: {e}"))?;
    drop(input);
    let mut output = child.stdout.take().expect("piped stdout");
    let answered = wire::read_frame(&mut output, &mut frame).map_err(|e| e.to_string())?;
    let status = child.wait().map_err(|e| e.to_string())?;
    if !status.success() || !answered {
        return Err(format!("a worker failed ({status}) before it answered"));
    }
    let value: Value =
        postcard::from_bytes(&frame).map_err(|e| format!("an answer that does not decode: {e}"))?;
    answer_from_value(&value)
}

/// What `parallel-map.brisk` prints for `map`, from the workers' answers.
pub fn render(map: Map, answers: &[Answer]) -> Result<String, String> {
    let mut results = vec![0i64; map.items];
    let mut mapped = 0;
    for &(i, r) in answers.iter().flatten() {
        let slot = usize::try_from(i)
            .ok()
            .and_then(|i| results.get_mut(i))
            .ok_or_else(|| format!("an answer for item {i}, of {}", map.items))?;
        *slot = r;
        mapped += 1;
    }
    let first: Vec<String> = results.iter().take(SHOWN).map(i64::to_string).collect();
    let checksum: i64 = results.iter().sum();
    Ok(format!(
        "{} workers mapped {mapped} items\nfirst results: [{}]\nchecksum: {checksum}\n",
        map.workers,
        first.join(", ")
    ))
}

/// The answer of a worker run in this process on `task`, under `Biased`
/// (for tests and the experiment's check of the work).
pub fn map_in_process(task: &Task) -> Result<Answer, String> {
    let mut tasks = vec![task.to_value()].into_iter();
    let mut answers = Vec::new();
    run_worker::<Biased>(
        || Ok(tasks.next()),
        |answer| {
            answers.push(answer_from_value(&to_value(answer))?);
            Ok(())
        },
    )?;
    answers
        .pop()
        .ok_or_else(|| "the worker gave no answer".to_owned())
}

#[cfg(test)]
mod tests {
    use super::{
        answer_from_value, answer_to_value, map_in_process, render, Map, Task, WORKER_SOURCE,
    };
    use crate::wire::{self, Value};

    fn example(name: &str) -> String {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../interp/examples/");
        std::fs::read_to_string(format!("{path}{name}")).expect("the example is there")
    }

    #[test]
    fn the_worker_runs_the_examples_own_work() {
        let start = WORKER_SOURCE
            .find(";; Total Collatz steps")
            .expect("the work's comment");
        let end = WORKER_SOURCE[start..]
            .find("    total))")
            .expect("the end of `work`")
            + start;
        let work = &WORKER_SOURCE[start..end + "    total))".len()];
        assert!(
            work.contains("(define (collatz-steps n)") && work.contains("(define (work start)")
        );
        assert!(
            example("parallel-map.brisk").contains(work),
            "the worker's `collatz-steps` and `work` differ from parallel-map.brisk's"
        );
    }

    #[test]
    fn workers_print_what_the_example_prints() {
        // parallel-map.brisk's defaults: 2 workers, 24 items of 40.
        let map = Map {
            workers: 2,
            items: 24,
            span: 40,
        };
        let answers: Vec<_> = (0..map.workers)
            .map(|w| map_in_process(&Task::for_worker(w, map.workers, map.items, map.span)))
            .collect::<Result<_, _>>()
            .unwrap();
        assert_eq!(render(map, &answers).unwrap(), example("parallel-map.out"));
    }

    #[test]
    fn a_task_and_an_answer_cross_the_wire_unchanged() {
        let task = Task::for_worker(1, 3, 10, 250);
        assert_eq!(task.indices, [1, 4, 7]);
        assert_eq!(task.starts, [1 + 7919, 1 + 4 * 7919, 1 + 7 * 7919]);
        let answer = vec![(1, 709), (4, -3), (7, i64::MAX)];
        let mut frames = Vec::new();
        for value in [task.to_value(), answer_to_value(&answer)] {
            wire::write_frame(&mut frames, |w| postcard::to_io(&value, w).map(drop)).unwrap();
        }
        let mut input = &frames[..];
        let mut frame = Vec::new();
        assert!(wire::read_frame(&mut input, &mut frame).unwrap());
        let value: Value = postcard::from_bytes(&frame).unwrap();
        assert_eq!(Task::from_value(&value).unwrap(), task);
        assert!(wire::read_frame(&mut input, &mut frame).unwrap());
        let value: Value = postcard::from_bytes(&frame).unwrap();
        assert_eq!(answer_from_value(&value).unwrap(), answer);
        assert!(
            !wire::read_frame(&mut input, &mut frame).unwrap(),
            "then the end"
        );
    }

    #[test]
    fn an_answer_is_checked() {
        let map = Map {
            workers: 1,
            items: 2,
            span: 1,
        };
        assert!(render(map, &[vec![(2, 1)]]).is_err(), "item 2 of 2");
        assert!(render(map, &[vec![(-1, 1)]]).is_err());
        assert!(answer_from_value(&Value::Int(3)).is_err());
        assert!(answer_from_value(&Value::List(vec![Value::Int(3)])).is_err());
        assert!(Task::from_value(&Value::Tuple(vec![Value::Int(1)])).is_err());
        let shown = render(map, &[vec![(0, 5), (1, 7)]]).unwrap();
        assert_eq!(
            shown,
            "1 workers mapped 2 items\nfirst results: [5, 7]\nchecksum: 12\n"
        );
    }
}
