//! Passing a graph to another interpreter: brisk's three send modes
//! against the subprocess design.
//!
//! The 2017 python-dev thread on subinterpreters weighed sharing immutable
//! objects, moving ownership ("require that the root object has refcount 1,
//! and then do like a little mini-mark-and-sweep") and copying, against
//! "implement the subinterpreter API with subprocesses", where a value
//! crosses as a pickle on a pipe. [`Pair::run`] times one batch of sends
//! and their receives for each, for a graph of a given size. The criterion
//! bench `send` and brisk-lab's `send_cost` experiment both drive it.
//!
//! # The graph
//!
//! A graph of `nodes` heap objects is a list holding `nodes - 1` tuples
//! `(i % 128, i % 128 + 1)`, `i` in `1..nodes`; the one-node graph is an
//! empty list. The integers are small, so they are the runtime's immortal
//! singletons (as in CPython), not nodes: move and copy skip them and share
//! them, while the subprocess path writes each one out.
//!
//! # The modes
//!
//! * [`Mode::Share`]: the graph is frozen once; each send passes a new
//!   reference to its root ([`SendMode::Share`], O(1)).
//! * [`Mode::ShareFreeze`]: each send freezes a freshly built graph, then
//!   shares it: what sharing a graph that was not frozen yet costs.
//!   `freeze` stops the world (see `brisk_runtime::freeze`): it waits until
//!   every other mutator of the runtime is parked at a safepoint, here the
//!   receiver, which may be in the middle of receiving.
//! * [`Mode::Move`]: each send gives up a freshly built graph
//!   ([`SendMode::Move`]: the isolation walk on the sender, re-biasing on
//!   the receiver). The graphs are built before the timer starts, after
//!   the receiver has dropped the previous chunk, so that they are in the
//!   sender's cache as a graph just built is. (Built while the receiver
//!   freed the previous chunk, they were not: the allocator's chunk headers
//!   share cache lines with live neighbours, and every line the receiver's
//!   `free` wrote had to come back to the sender, which made the walk five
//!   times slower on the 2-core box.)
//! * [`Mode::Copy`]: each send deep-copies the same graph
//!   ([`SendMode::Copy`]).
//! * [`Mode::Subprocess`]: each send walks the graph straight into
//!   [`postcard`] (the [`wire`] format, as pickle walks it), writes the frame
//!   to the stdin of a child process (started once per [`Pair`], see
//!   [`ChildSpec`]), which decodes it into a [`Value`] tree, drops it and
//!   writes back one byte.
//! * [`Mode::SubprocessMirror`]: the same, but the sender first converts
//!   the graph into a [`Value`] tree and serializes that.
//!
//! [`Pair::freeze`] times `freeze` alone on fresh graphs, with nothing
//! sent: the receiver is parked meanwhile, so the world stops at once.
//!
//! # What is timed
//!
//! Two interpreters of one runtime, each on its own thread for the life of
//! the [`Pair`]: the sender sends a chunk of values back to back and the
//! receiver receives them (`Receiver::recv`, which blocks through
//! `Mutator::blocking`). The time runs from the first send until the
//! receiver has received the whole chunk, so it is one-way throughput with
//! both threads at work, plus one wake-up per chunk. The receiver keeps what
//! it got and drops it after the timer stops, so dropping the values is not
//! counted (for `move` and `copy` that is an owner-path free of every node).
//! Fresh graphs (`move`, `share+freeze`, `freeze`) are built before the
//! timer starts.
//! The subprocess modes are timed the same way: a chunk of frames written
//! back to back, until the last ack is read; the child's decode and drop
//! overlap the parent's next frames, as the receiver's work does in-process.

use std::hint::black_box;
use std::io::{Read, Write};
use std::path::PathBuf;
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};
use std::sync::mpsc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use brisk_runtime::{
    channel, Kind, Mutator, Object, Receiver, Ref, Runtime, RuntimePolicy, SendMode, Sender,
};
use serde::ser::{Error as _, SerializeSeq};
use serde::{Serialize, Serializer};

use crate::wire::{self, Value};

/// Graph sizes, in heap objects.
pub const SIZES: [usize; 5] = [1, 10, 100, 1_000, 10_000];

/// Most values in one chunk.
const CHUNK_MESSAGES: usize = 4096;

/// Most objects the receiver holds before dropping them (`move`, `copy`),
/// and the most a chunk of `move` graphs built ahead takes: a few MiB, so
/// that a graph is still in cache when it is sent, as one just built is.
const CHUNK_OBJECTS: usize = 1 << 16;

/// How a graph crosses (see the module docs).
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Mode {
    /// [`SendMode::Share`] of a frozen graph.
    Share,
    /// `freeze` of a fresh graph, then [`SendMode::Share`].
    ShareFreeze,
    /// [`SendMode::Move`] of a fresh graph.
    Move,
    /// [`SendMode::Copy`].
    Copy,
    /// Serialize while walking, pipe to a child process.
    Subprocess,
    /// Convert to a [`Value`] tree, serialize it, pipe to a child process.
    SubprocessMirror,
}

impl Mode {
    /// Every mode, in the order tables list them.
    pub const ALL: [Mode; 6] = [
        Mode::Share,
        Mode::ShareFreeze,
        Mode::Move,
        Mode::Copy,
        Mode::Subprocess,
        Mode::SubprocessMirror,
    ];

    /// The mode's name in tables and bench ids.
    pub fn name(self) -> &'static str {
        match self {
            Mode::Share => "share",
            Mode::ShareFreeze => "share+freeze",
            Mode::Move => "move",
            Mode::Copy => "copy",
            Mode::Subprocess => "subprocess",
            Mode::SubprocessMirror => "subprocess_mirror",
        }
    }

    fn send_mode(self) -> SendMode {
        match self {
            Mode::Share | Mode::ShareFreeze => SendMode::Share,
            Mode::Move => SendMode::Move,
            Mode::Copy => SendMode::Copy,
            Mode::Subprocess | Mode::SubprocessMirror => unreachable!("not an in-process mode"),
        }
    }

    /// Values per chunk: the receiver of a share holds only references.
    fn chunk(self, nodes: usize) -> usize {
        match self {
            Mode::Share | Mode::Subprocess | Mode::SubprocessMirror => CHUNK_MESSAGES,
            Mode::Move | Mode::Copy | Mode::ShareFreeze => fresh_chunk(nodes),
        }
    }

    /// Whether each send takes a graph built for it.
    fn fresh(self) -> bool {
        matches!(self, Mode::Move | Mode::ShareFreeze)
    }
}

/// Graphs of `nodes` objects built ahead in one chunk, or held by the
/// receiver at once: [`CHUNK_OBJECTS`] objects at most.
fn fresh_chunk(nodes: usize) -> usize {
    (CHUNK_OBJECTS / nodes).clamp(1, CHUNK_MESSAGES)
}

/// What the sending thread is asked to time.
#[derive(Copy, Clone, Debug)]
enum Job {
    /// Sends in this mode.
    Send(Mode),
    /// `freeze` of fresh graphs, nothing sent.
    Freeze,
}

/// The graph of `nodes` heap objects described in the module docs.
pub fn build<P: RuntimePolicy>(m: &Mutator<P>, nodes: usize) -> Ref<P> {
    let tuples = (1..nodes)
        .map(|i| {
            let a = (i % 128) as i64;
            m.tuple(vec![m.int(a), m.int(a + 1)])
        })
        .collect();
    m.list(tuples)
}

/// Serializes an object graph in the [`wire`] format without building a
/// [`Value`]: what pickle does, a walk that writes as it goes.
pub struct Wire<'a, P: RuntimePolicy>(pub &'a Object<P>);

/// The items of a tuple or list, as a sequence.
struct Items<'a, P: RuntimePolicy>(&'a Object<P>);

/// The entries of a dict, as a sequence of pairs.
struct Entries<'a, P: RuntimePolicy>(&'a Object<P>);

impl<P: RuntimePolicy> Serialize for Wire<'_, P> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let o = self.0;
        match o.kind() {
            Kind::None => s.serialize_unit_variant("Value", Value::NONE, "None"),
            Kind::Bool => {
                let b = o.as_bool().expect("a bool");
                s.serialize_newtype_variant("Value", Value::BOOL, "Bool", &b)
            }
            Kind::Int => {
                let i = o.as_int().expect("an int");
                s.serialize_newtype_variant("Value", Value::INT, "Int", &i)
            }
            Kind::Float => {
                let x = o.as_float().expect("a float");
                s.serialize_newtype_variant("Value", Value::FLOAT, "Float", &x)
            }
            Kind::Str => {
                let text = o.as_str().expect("a str");
                s.serialize_newtype_variant("Value", Value::STR, "Str", text)
            }
            Kind::Bytes => {
                let bytes = o.as_bytes().expect("bytes");
                s.serialize_newtype_variant("Value", Value::BYTES, "Bytes", bytes)
            }
            Kind::Tuple => s.serialize_newtype_variant("Value", Value::TUPLE, "Tuple", &Items(o)),
            Kind::List => s.serialize_newtype_variant("Value", Value::LIST, "List", &Items(o)),
            Kind::Dict => s.serialize_newtype_variant("Value", Value::DICT, "Dict", &Entries(o)),
            other => Err(S::Error::custom(format_args!(
                "cannot serialize a {}",
                other.name()
            ))),
        }
    }
}

impl<P: RuntimePolicy> Serialize for Items<'_, P> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut seq = s.serialize_seq(self.0.len())?;
        let mut result = Ok(());
        self.0.for_each_child(|child| {
            if result.is_ok() {
                result = seq.serialize_element(&Wire(child));
            }
        });
        result?;
        seq.end()
    }
}

impl<P: RuntimePolicy> Serialize for Entries<'_, P> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let entries = self.0.dict_items().map_err(S::Error::custom)?;
        let mut seq = s.serialize_seq(Some(entries.len()))?;
        for (key, value) in &entries {
            seq.serialize_element(&(Wire(key), Wire(value)))?;
        }
        seq.end()
    }
}

/// The graph as a [`Value`] tree.
pub fn to_value<P: RuntimePolicy>(o: &Object<P>) -> Value {
    match o.kind() {
        Kind::None => Value::None,
        Kind::Bool => Value::Bool(o.as_bool().expect("a bool")),
        Kind::Int => Value::Int(o.as_int().expect("an int")),
        Kind::Float => Value::Float(o.as_float().expect("a float")),
        Kind::Str => Value::Str(o.as_str().expect("a str").to_owned()),
        Kind::Bytes => Value::Bytes(o.as_bytes().expect("bytes").to_vec()),
        kind @ (Kind::Tuple | Kind::List) => {
            let mut items = Vec::with_capacity(o.len().unwrap_or(0));
            o.for_each_child(|child| items.push(to_value(child)));
            if kind == Kind::Tuple {
                Value::Tuple(items)
            } else {
                Value::List(items)
            }
        }
        Kind::Dict => Value::Dict(
            o.dict_items()
                .expect("a dict")
                .iter()
                .map(|(k, v)| (to_value(k), to_value(v)))
                .collect(),
        ),
        other => panic!("cannot serialize a {}", other.name()),
    }
}

/// A [`Value`] tree as brisk objects made by `m`: what the other side of
/// the pipe builds from a frame. Fails on a dict with a key brisk cannot
/// hash.
pub fn from_value<P: RuntimePolicy>(m: &Mutator<P>, value: &Value) -> Result<Ref<P>, String> {
    let items = |items: &[Value]| -> Result<Vec<Ref<P>>, String> {
        items.iter().map(|item| from_value(m, item)).collect()
    };
    Ok(match value {
        Value::None => m.none(),
        Value::Bool(b) => m.bool(*b),
        Value::Int(i) => m.int(*i),
        Value::Float(x) => m.float(*x),
        Value::Str(text) => m.str(text),
        Value::Bytes(bytes) => m.bytes(bytes),
        Value::Tuple(values) => m.tuple(items(values)?),
        Value::List(values) => m.list(items(values)?),
        Value::Dict(entries) => {
            let dict = m.dict();
            for (key, value) in entries {
                dict.dict_set(from_value(m, key)?, from_value(m, value)?)
                    .map_err(|e| e.to_string())?;
            }
            dict
        }
    })
}

/// How to start the child process of the subprocess modes: a program that
/// runs [`wire::serve_child`] on its standard input and output.
#[derive(Clone, Debug)]
pub struct ChildSpec {
    /// The executable.
    pub program: PathBuf,
    /// Its arguments.
    pub args: Vec<String>,
}

impl ChildSpec {
    /// `program` with no arguments (the `brisk-send-child` binary).
    pub fn new(program: impl Into<PathBuf>) -> Self {
        ChildSpec {
            program: program.into(),
            args: Vec::new(),
        }
    }
}

/// The child process and its pipes.
struct ChildProcess {
    child: Child,
    stdin: ChildStdin,
    stdout: ChildStdout,
}

impl ChildProcess {
    fn spawn(spec: &ChildSpec) -> Self {
        let mut child = Command::new(&spec.program)
            .args(&spec.args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap_or_else(|e| panic!("failed to start {}: {e}", spec.program.display()));
        let stdin = child.stdin.take().expect("piped stdin");
        let stdout = child.stdout.take().expect("piped stdout");
        ChildProcess {
            child,
            stdin,
            stdout,
        }
    }

    fn finish(self) {
        drop(self.stdin);
        let mut child = self.child;
        let status = child.wait().expect("the child process ran");
        assert!(status.success(), "the send child failed: {status}");
    }
}

/// One chunk for the receiver: how many values, and how many nodes each
/// has (to check them after the timer stops).
struct Expect {
    values: usize,
    nodes: usize,
}

/// The receiving interpreter's thread: receives each chunk, acks it, then
/// checks and drops what it got and acks again.
fn receive_loop<P: RuntimePolicy>(
    m: &Mutator<P>,
    rx: Receiver<P>,
    chunks: mpsc::Receiver<Expect>,
    acks: mpsc::Sender<()>,
) {
    let mut held: Vec<Ref<P>> = Vec::new();
    while let Ok(Expect { values, nodes }) = m.blocking(|| chunks.recv()) {
        for _ in 0..values {
            held.push(rx.recv(m).expect("the sender is alive"));
        }
        acks.send(()).expect("the sender is alive");
        for root in &held {
            assert_eq!(root.kind(), Kind::List);
            assert_eq!(root.len(), Some(nodes - 1));
        }
        held.clear();
        m.full_safepoint();
        acks.send(()).expect("the sender is alive");
    }
}

/// The sending interpreter's thread and what it keeps between runs.
struct SendLoop<P: RuntimePolicy> {
    tx: Sender<P>,
    chunks: mpsc::Sender<Expect>,
    acks: mpsc::Receiver<()>,
    /// Whether the receiver still owes the ack for dropping a chunk.
    dropping: bool,
    /// The graphs `share` (frozen) and `copy` and the subprocess modes
    /// (mutable) send again and again: their size and root.
    frozen: Option<(usize, Ref<P>)>,
    mutable: Option<(usize, Ref<P>)>,
    child_spec: ChildSpec,
    child: Option<ChildProcess>,
    /// The graph size whose serialization was last checked.
    checked: Option<usize>,
    frame: Vec<u8>,
    child_acks: Vec<u8>,
}

impl<P: RuntimePolicy> SendLoop<P> {
    fn serve(
        mut self,
        m: &Mutator<P>,
        runs: mpsc::Receiver<(Job, usize, u64)>,
        times: mpsc::Sender<Duration>,
    ) {
        while let Ok((job, nodes, iters)) = m.blocking(|| runs.recv()) {
            let iters = usize::try_from(iters).expect("iterations fit a usize");
            let time = match job {
                Job::Send(mode @ (Mode::Share | Mode::ShareFreeze | Mode::Move | Mode::Copy)) => {
                    self.run_in_process(m, mode, nodes, iters)
                }
                Job::Send(mode @ (Mode::Subprocess | Mode::SubprocessMirror)) => {
                    self.run_subprocess(m, mode, nodes, iters)
                }
                Job::Freeze => self.run_freeze(m, nodes, iters),
            };
            times.send(time).expect("the bench is waiting");
        }
        self.settle(m);
        if let Some(child) = self.child.take() {
            child.finish();
        }
    }

    /// The reused graph, built (and frozen) on first use of its size.
    fn graph(&mut self, m: &Mutator<P>, frozen: bool, nodes: usize) -> Ref<P> {
        let slot = if frozen {
            &mut self.frozen
        } else {
            &mut self.mutable
        };
        match slot {
            Some((n, root)) if *n == nodes => root.clone(),
            _ => {
                *slot = None;
                let root = build(m, nodes);
                if frozen {
                    m.freeze(&root).expect("tuples and lists freeze");
                }
                *slot = Some((nodes, root.clone()));
                root
            }
        }
    }

    /// Waits until the receiver has dropped the last chunk.
    fn settle(&mut self, m: &Mutator<P>) {
        if self.dropping {
            m.blocking(|| self.acks.recv())
                .expect("the receiver is alive");
            self.dropping = false;
        }
    }

    fn run_in_process(
        &mut self,
        m: &Mutator<P>,
        mode: Mode,
        nodes: usize,
        iters: usize,
    ) -> Duration {
        let send_mode = mode.send_mode();
        let root = match mode {
            Mode::Move | Mode::ShareFreeze => None,
            _ => Some(self.graph(m, mode == Mode::Share, nodes)),
        };
        let mut total = Duration::ZERO;
        let mut left = iters;
        while left > 0 {
            let values = left.min(mode.chunk(nodes));
            // The receiver drops the last chunk first: while it frees, the
            // allocator writes chunk headers that share cache lines with
            // the objects built meanwhile, and the walk would then time
            // those lines coming back from the receiver's core.
            self.settle(m);
            let fresh: Vec<Ref<P>> = if mode.fresh() {
                (0..values).map(|_| build(m, nodes)).collect()
            } else {
                Vec::new()
            };
            self.chunks
                .send(Expect { values, nodes })
                .expect("the receiver is alive");
            let start = Instant::now();
            match &root {
                None => {
                    for graph in fresh {
                        if mode == Mode::ShareFreeze {
                            m.freeze(&graph).expect("tuples and lists freeze");
                        }
                        self.tx.send(m, graph, send_mode).expect("sent");
                    }
                }
                Some(root) => {
                    for _ in 0..values {
                        self.tx.send(m, root.clone(), send_mode).expect("sent");
                    }
                }
            }
            m.blocking(|| self.acks.recv())
                .expect("the receiver is alive");
            total += start.elapsed();
            self.dropping = true;
            left -= values;
        }
        total
    }

    /// Times `freeze` of `iters` fresh graphs, built a chunk at a time
    /// before the timer starts and dropped after it stops. Nothing is sent,
    /// so the receiver stays parked and the world stops at once.
    fn run_freeze(&mut self, m: &Mutator<P>, nodes: usize, iters: usize) -> Duration {
        self.settle(m);
        let mut total = Duration::ZERO;
        let mut left = iters;
        while left > 0 {
            let count = left.min(fresh_chunk(nodes));
            let fresh: Vec<Ref<P>> = (0..count).map(|_| build(m, nodes)).collect();
            let start = Instant::now();
            for graph in &fresh {
                m.freeze(graph).expect("tuples and lists freeze");
            }
            total += start.elapsed();
            assert!(fresh.iter().all(|graph| graph.is_frozen()));
            drop(fresh);
            left -= count;
        }
        total
    }

    fn run_subprocess(
        &mut self,
        m: &Mutator<P>,
        mode: Mode,
        nodes: usize,
        iters: usize,
    ) -> Duration {
        let root = self.graph(m, false, nodes);
        if self.checked != Some(nodes) {
            // Once per size: the direct walk writes what the mirror does.
            let mirror = to_value(&root);
            assert_eq!(mirror.nodes(), 1 + 3 * (nodes - 1));
            let direct = postcard::to_allocvec(&Wire(&root)).expect("serializable");
            assert_eq!(
                direct,
                postcard::to_allocvec(&mirror).expect("serializable")
            );
            let decoded: Value = postcard::from_bytes(&direct).expect("decodable");
            assert_eq!(decoded, mirror);
            self.checked = Some(nodes);
        }
        if self.child.is_none() {
            self.child = Some(ChildProcess::spawn(&self.child_spec));
        }
        let child = self.child.as_mut().expect("started above");
        let mut total = Duration::ZERO;
        let mut left = iters;
        while left > 0 {
            let frames = left.min(mode.chunk(nodes));
            self.child_acks.resize(frames, 0);
            let start = Instant::now();
            for _ in 0..frames {
                self.frame.clear();
                match mode {
                    Mode::Subprocess => wire::write_frame(&mut self.frame, |w| {
                        postcard::to_io(&Wire(&root), w).map(drop)
                    }),
                    _ => {
                        let mirror = to_value(&root);
                        wire::write_frame(&mut self.frame, |w| {
                            postcard::to_io(&mirror, w).map(drop)
                        })
                    }
                }
                .expect("serializable");
                child.stdin.write_all(&self.frame).expect("the child reads");
            }
            child
                .stdout
                .read_exact(&mut self.child_acks)
                .expect("the child acks every frame");
            total += start.elapsed();
            assert!(self.child_acks.iter().all(|&a| a == wire::ACK));
            left -= frames;
        }
        black_box(&self.frame);
        total
    }
}

/// A runtime with a sending and a receiving interpreter, each on its own
/// thread until [`Pair::stop`].
pub struct Pair<P: RuntimePolicy> {
    runs: mpsc::Sender<(Job, usize, u64)>,
    times: mpsc::Receiver<Duration>,
    threads: [JoinHandle<()>; 2],
    runtime: Runtime<P>,
}

impl<P: RuntimePolicy> Pair<P> {
    /// Starts both interpreters; the subprocess modes start `child` on
    /// first use.
    pub fn spawn(child: ChildSpec) -> Self {
        let runtime = Runtime::<P>::new();
        let (tx, rx) = channel::<P>();
        let (chunks_tx, chunks_rx) = mpsc::channel();
        let (acks_tx, acks_rx) = mpsc::channel();
        let receiver = runtime
            .new_interpreter("receiver")
            .spawn(move |m| receive_loop(m, rx, chunks_rx, acks_tx));
        let (runs_tx, runs_rx) = mpsc::channel();
        let (times_tx, times_rx) = mpsc::channel();
        let sender = runtime.new_interpreter("sender").spawn(move |m| {
            let state = SendLoop {
                tx,
                chunks: chunks_tx,
                acks: acks_rx,
                dropping: false,
                frozen: None,
                mutable: None,
                child_spec: child,
                child: None,
                checked: None,
                frame: Vec::new(),
                child_acks: Vec::new(),
            };
            state.serve(m, runs_rx, times_tx);
        });
        Pair {
            runs: runs_tx,
            times: times_rx,
            threads: [sender, receiver],
            runtime,
        }
    }

    /// Sends `iters` graphs of `nodes` objects in `mode`; returns the time
    /// timed (see the module docs).
    pub fn run(&self, mode: Mode, nodes: usize, iters: u64) -> Duration {
        self.time(Job::Send(mode), nodes, iters)
    }

    /// Freezes `iters` fresh graphs of `nodes` objects on the sending
    /// interpreter, sending nothing; returns the time the freezes took.
    pub fn freeze(&self, nodes: usize, iters: u64) -> Duration {
        self.time(Job::Freeze, nodes, iters)
    }

    fn time(&self, job: Job, nodes: usize, iters: u64) -> Duration {
        self.runs
            .send((job, nodes, iters))
            .expect("the sender is alive");
        self.times.recv().expect("the sender answers")
    }

    /// Stops both interpreters and the child process.
    pub fn stop(self) {
        drop(self.runs);
        for thread in self.threads {
            thread.join().expect("an interpreter thread panicked");
        }
        drop(self.runtime);
    }
}
