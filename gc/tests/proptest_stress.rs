//! Randomized programs over the `Deferred` policy: proptest generates what
//! three threads do, step by step, and the test checks that every object is
//! dropped exactly once, never used after its drop, and freed once the
//! threads have exited and the domain has been collected.
//!
//! # The programs
//!
//! Each thread runs its own list of operations on a pool of
//! `Brc<Payload, Deferred>` handles: make an object (this thread owns it),
//! clone one, drop one (attached, or detached inside `blocking`), send one
//! to another thread over a channel, receive, make one object hold a clone
//! of another, take a held reference out, adopt a reference a destructor
//! left behind, read one, the mutator calls (safepoint, attach, nested too,
//! detach, collect), and respawn: the OS thread exits, attached or not, and
//! a fresh one carries on with the same pool, so the objects the old one
//! made lose their owner in the middle of the program. Objects therefore
//! change hands in every direction, are counted by attached and detached
//! non-owners, are queued to owners that may have exited, and are freed by
//! whichever thread applies their last deferred decrement.
//!
//! # Destructors that count
//!
//! A payload holds other objects, only older ones, so no cycle forms and
//! counting alone frees everything. Its destructor clones each object it
//! holds and reads the clone; then it drops both references, or leaves the
//! clone in the case's lost-and-found list and drops the original, or leaves
//! both there (a net -1, 0 or +1 counted on the destructor's thread).
//! Threads adopt references from the lost-and-found list; the test thread
//! empties it at the end. These destructors run inside safepoints,
//! collection steps, detaches and thread exits, on threads that own neither
//! the dying object nor what it holds: counting from there is what this
//! test exercises beyond `stress.rs`.
//!
//! # Determinism
//!
//! The threads take turns ([`Lockstep`]): in round `r`, thread 0 runs its
//! `r`-th operation, then thread 1, then thread 2, each waiting for its turn
//! on a mutex and condition variable (no sleeps). Round 0 attaches the
//! threads that start attached. A respawn keeps the turn: the test thread
//! joins the exiting OS thread, then starts the next one, which passes the
//! turn. At the end each thread in turn drops what it holds, drains its
//! inbox and exits, and the test thread joins it before the next one
//! starts. A program therefore runs in the same order every
//! time, so a failure shrinks to a short case that replays; proptest saves
//! its seed in
//! `proptest_stress.proptest-regressions` beside this file and replays it
//! first on every later run. Races between simultaneous operations are left
//! to `stress.rs` and the loom models.
//!
//! # Checks
//!
//! * A ledger entry per object, set by its destructor: a second drop panics.
//! * Every handle keeps its object's id beside the pointer. Every access
//!   (each operation on a handle, and each destructor on what it holds)
//!   first checks the ledger, outside the object, then a canary word in the
//!   payload: a use after drop panics, in release builds too. Dropping a
//!   handle whose object was already dropped panics too, before the freed
//!   header is touched.
//! * After every thread has exited, the test thread drops the lost-and-found
//!   references and runs [`brisk_gc::collect`] until every object made has
//!   been dropped and the domain holds no garbage; then nothing but the test
//!   may still hold the case's shared state.
//!
//! Sizes: up to 64 operations per thread and 512 cases, about eight seconds
//! in a debug build on two loaded cores. `PROPTEST_CASES` overrides the number of
//! cases; `PROPTEST_FORK=true` runs the cases in a child process, so that a
//! crash (a premature free the checks did not catch first) still shrinks.

use std::any::Any;
use std::mem::ManuallyDrop;
use std::panic::{self, AssertUnwindSafe};
use std::sync::atomic::{AtomicU8, AtomicUsize, Ordering::SeqCst};
use std::sync::mpsc::{self, Receiver, Sender};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::thread;

use brisk_gc::{Attached, Deferred};
use brisk_refcount::Brc;
use proptest::prelude::*;
use proptest::sample::Index;
use proptest::test_runner::FileFailurePersistence;

/// Threads per program.
const THREADS: usize = 3;
/// Most operations one thread runs.
const MAX_OPS: usize = 64;
/// Cases per run, unless `PROPTEST_CASES` says otherwise.
const CASES: u32 = 512;
/// Most `collect` calls the settling phase makes before it gives up.
const SETTLE_ROUNDS: usize = 1_000;

/// The canary of a live payload is `CANARY ^ id`.
const CANARY: u64 = 0x5AFE_C0DE_0BAD_F00D;
/// A dropped payload's canary.
const DEAD: u64 = 0xDEAD_DEAD_DEAD_DEAD;

/// Ledger states.
const ALIVE: u8 = 0;
const DROPPED: u8 = 1;

type Obj = Brc<Payload, Deferred>;

/// Locks `mutex`, ignoring poisoning (a failed case must still be able to
/// clean up).
fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

/// What one case's objects share.
struct Case {
    /// Per object id: `ALIVE`, then `DROPPED` once its destructor ran.
    ledger: Vec<AtomicU8>,
    /// Objects made so far (the next id).
    made: AtomicUsize,
    /// References that destructors left behind. Never held while a `Brc`
    /// is dropped, since that may run a destructor that pushes here.
    lost_and_found: Mutex<Vec<Handle>>,
}

impl Case {
    /// A case that makes at most `capacity` objects.
    fn new(capacity: usize) -> Arc<Case> {
        Arc::new(Case {
            ledger: (0..capacity).map(|_| AtomicU8::new(ALIVE)).collect(),
            made: AtomicUsize::new(0),
            lost_and_found: Mutex::new(Vec::new()),
        })
    }

    /// A fresh object, owned by the calling thread.
    fn make(self: &Arc<Self>) -> Handle {
        let id = self.made.fetch_add(1, SeqCst);
        assert!(id < self.ledger.len(), "more objects than `New` operations");
        let object = Brc::new_with_policy(Payload {
            canary: CANARY ^ id as u64,
            id,
            case: Arc::clone(self),
            held: Mutex::new(Vec::new()),
        });
        Handle {
            id,
            object: ManuallyDrop::new(object),
            case: Arc::clone(self),
        }
    }

    /// Ids of the objects made and not dropped.
    fn undropped(&self) -> Vec<usize> {
        let made = self.made.load(SeqCst);
        (0..made)
            .filter(|&id| self.ledger[id].load(SeqCst) != DROPPED)
            .collect()
    }
}

/// A counted reference, with its object's id kept beside it, outside the
/// object, so that a check reads the ledger before the object's memory.
struct Handle {
    id: usize,
    /// Dropped by `Handle`'s destructor, only after the ledger check.
    object: ManuallyDrop<Obj>,
    /// The ledger, for that check.
    case: Arc<Case>,
}

impl Handle {
    /// Panics unless the object is alive: its ledger entry first (live
    /// memory even after a premature free), then its canary.
    fn check(&self) {
        assert_eq!(
            self.case.ledger[self.id].load(SeqCst),
            ALIVE,
            "object {} used after drop",
            self.id
        );
        let canary = self.object.canary;
        assert_eq!(
            canary,
            CANARY ^ self.id as u64,
            "object {} corrupted (canary {canary:#x})",
            self.id
        );
    }

    /// A clone, made after a check.
    fn clone_checked(&self) -> Handle {
        self.check();
        Handle {
            id: self.id,
            object: ManuallyDrop::new(Obj::clone(&self.object)),
            case: Arc::clone(&self.case),
        }
    }
}

impl Drop for Handle {
    /// Drops the reference if its object is still alive. A reference to a
    /// dropped object is leaked instead of given up, so that the failure is
    /// this panic and not a crash in the freed header; while unwinding from
    /// another failure it is leaked quietly.
    fn drop(&mut self) {
        if self.case.ledger[self.id].load(SeqCst) != ALIVE {
            assert!(
                thread::panicking(),
                "object {} dropped after it was freed",
                self.id
            );
            return;
        }
        // SAFETY: `object` is not used again: this is `Handle`'s destructor.
        unsafe { ManuallyDrop::drop(&mut self.object) };
    }
}

/// The object's value: its identity, its canary, and the objects it holds.
struct Payload {
    /// `CANARY ^ id` while alive, `DEAD` once dropped.
    canary: u64,
    id: usize,
    case: Arc<Case>,
    /// References to older objects (lower ids).
    held: Mutex<Vec<Handle>>,
}

impl Drop for Payload {
    fn drop(&mut self) {
        // A second drop reads freed memory: the canary first, as the
        // fields after it may be garbage.
        assert_eq!(
            self.canary,
            CANARY ^ self.id as u64,
            "object dropped twice (canary {:#x})",
            self.canary
        );
        let before = self.case.ledger[self.id].swap(DROPPED, SeqCst);
        assert_eq!(before, ALIVE, "object {} dropped twice", self.id);
        self.canary = DEAD;
        // Count what this object holds, from whatever thread runs this:
        // per held reference a net -1, 0 or +1 on that thread.
        let held = std::mem::take(self.held.get_mut().unwrap_or_else(PoisonError::into_inner));
        let case = &self.case;
        for (k, object) in held.into_iter().enumerate() {
            let clone = object.clone_checked();
            clone.check();
            match (self.id + k) % 3 {
                0 => drop((clone, object)),
                1 => {
                    lock(&case.lost_and_found).push(clone);
                    drop(object);
                }
                _ => lock(&case.lost_and_found).extend([clone, object]),
            }
        }
    }
}

/// One operation of a thread's program. An [`Index`] picks a handle from
/// the thread's pool (the operation does nothing on an empty pool).
#[derive(Clone, Debug)]
enum Op {
    /// Make an object, owned by this thread.
    New,
    /// Clone a handle.
    Clone(Index),
    /// Drop a handle.
    Drop(Index),
    /// Drop a handle inside `brisk_gc::blocking` (detached).
    DropDetached(Index),
    /// Send a handle to thread `(me + 1 + k) % THREADS`.
    Send(Index, usize),
    /// Take everything from the inbox into the pool.
    Recv,
    /// The younger of the two objects holds a clone of the older one.
    Hold(Index, Index),
    /// Move the last reference an object holds into the pool.
    Take(Index),
    /// Move one lost-and-found reference into the pool.
    Adopt,
    /// Read an object.
    Touch(Index),
    /// `brisk_gc::safepoint()`.
    Safepoint,
    /// `brisk_gc::attach()`, nested if already attached.
    Attach,
    /// Drop the innermost attachment token, if any.
    Detach,
    /// `brisk_gc::collect(4)`.
    Collect,
    /// The OS thread exits (detached, or attached if `exit_attached`, for
    /// the exit path), and a fresh one continues the program with the same
    /// pool, attached as deeply as before. The objects this thread made
    /// lose their owner.
    Respawn { exit_attached: bool },
}

/// What one thread does.
#[derive(Clone, Debug)]
struct ThreadProgram {
    /// Attach in round 0.
    attached: bool,
    ops: Vec<Op>,
    /// Exit with the thread still attached: the exit path flushes and
    /// unpins, not a detach.
    exit_attached: bool,
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        4 => Just(Op::New),
        3 => any::<Index>().prop_map(Op::Clone),
        3 => any::<Index>().prop_map(Op::Drop),
        1 => any::<Index>().prop_map(Op::DropDetached),
        3 => (any::<Index>(), 0..THREADS - 1).prop_map(|(i, k)| Op::Send(i, k)),
        2 => Just(Op::Recv),
        2 => (any::<Index>(), any::<Index>()).prop_map(|(a, b)| Op::Hold(a, b)),
        1 => any::<Index>().prop_map(Op::Take),
        1 => Just(Op::Adopt),
        1 => any::<Index>().prop_map(Op::Touch),
        3 => Just(Op::Safepoint),
        2 => Just(Op::Attach),
        1 => Just(Op::Detach),
        1 => Just(Op::Collect),
        1 => any::<bool>().prop_map(|exit_attached| Op::Respawn { exit_attached }),
    ]
}

fn thread_program() -> impl Strategy<Value = ThreadProgram> {
    (
        any::<bool>(),
        prop::collection::vec(op(), 0..=MAX_OPS),
        any::<bool>(),
    )
        .prop_map(|(attached, ops, exit_attached)| ThreadProgram {
            attached,
            ops,
            exit_attached,
        })
}

/// A turn-passing barrier. Turn `n` belongs to thread `n % THREADS`; the
/// thread whose turn it is runs one step and passes (the next incarnation
/// passes a respawn's turn, the test thread a final turn). A thread that
/// panics abandons the schedule, which releases everyone.
struct Lockstep {
    /// (turns taken, abandoned)
    state: Mutex<(usize, bool)>,
    changed: Condvar,
}

impl Lockstep {
    fn new() -> Self {
        Lockstep {
            state: Mutex::new((0, false)),
            changed: Condvar::new(),
        }
    }

    /// Waits until `turn` comes. Returns false if the schedule was
    /// abandoned instead.
    fn wait(&self, turn: usize) -> bool {
        let mut state = lock(&self.state);
        while state.0 != turn && !state.1 {
            state = self
                .changed
                .wait(state)
                .unwrap_or_else(PoisonError::into_inner);
        }
        !state.1
    }

    /// Ends the current turn.
    fn pass(&self) {
        lock(&self.state).0 += 1;
        self.changed.notify_all();
    }

    /// Releases every waiting thread for good.
    fn abandon(&self) {
        lock(&self.state).1 = true;
        self.changed.notify_all();
    }
}

/// One thread's state while it runs its program; it moves to the next
/// incarnation of the thread at an [`Op::Respawn`]. The attachment tokens,
/// which belong to one OS thread, stay out of it.
struct Worker {
    me: usize,
    case: Arc<Case>,
    pool: Vec<Handle>,
    inbox: Receiver<Handle>,
    outboxes: Vec<Sender<Handle>>,
}

impl Worker {
    /// The pool position `index` picks, if the pool is not empty.
    fn pick(&self, index: &Index) -> Option<usize> {
        (!self.pool.is_empty()).then(|| index.index(self.pool.len()))
    }

    /// Removes the handle `index` picks from the pool.
    fn remove(&mut self, index: &Index) -> Option<Handle> {
        let position = self.pick(index)?;
        let object = self.pool.swap_remove(position);
        object.check();
        Some(object)
    }

    /// Runs one operation on the pool (the mutator operations are
    /// [`Incarnation::run`]'s).
    fn run(&mut self, op: &Op) {
        match op {
            Op::New => {
                let object = self.case.make();
                self.pool.push(object);
            }
            Op::Clone(i) => {
                if let Some(k) = self.pick(i) {
                    let clone = self.pool[k].clone_checked();
                    self.pool.push(clone);
                }
            }
            Op::Drop(i) => drop(self.remove(i)),
            Op::DropDetached(i) => {
                let object = self.remove(i);
                brisk_gc::blocking(move || drop(object));
            }
            Op::Send(i, k) => {
                if let Some(object) = self.remove(i) {
                    let to = (self.me + 1 + k) % THREADS;
                    self.outboxes[to]
                        .send(object)
                        .expect("inboxes live until every thread is done sending");
                }
            }
            Op::Recv => {
                for object in self.inbox.try_iter() {
                    object.check();
                    self.pool.push(object);
                }
            }
            Op::Hold(a, b) => {
                if let (Some(a), Some(b)) = (self.pick(a), self.pick(b)) {
                    let (a, b) = (&self.pool[a], &self.pool[b]);
                    let (holder, held) = if a.id > b.id { (a, b) } else { (b, a) };
                    holder.check();
                    if holder.id != held.id {
                        let clone = held.clone_checked();
                        lock(&holder.object.held).push(clone);
                    }
                }
            }
            Op::Take(i) => {
                if let Some(k) = self.pick(i) {
                    self.pool[k].check();
                    let taken = lock(&self.pool[k].object.held).pop();
                    if let Some(object) = taken {
                        object.check();
                        self.pool.push(object);
                    }
                }
            }
            Op::Adopt => {
                let adopted = lock(&self.case.lost_and_found).pop();
                if let Some(object) = adopted {
                    object.check();
                    self.pool.push(object);
                }
            }
            Op::Touch(i) => {
                if let Some(k) = self.pick(i) {
                    self.pool[k].check();
                }
            }
            Op::Safepoint => {
                brisk_gc::safepoint();
            }
            Op::Collect => {
                brisk_gc::collect(4);
            }
            Op::Attach | Op::Detach | Op::Respawn { .. } => {
                unreachable!("run by the incarnation")
            }
        }
    }

    /// The thread's last turn: drop the pool and drain the inbox (nobody
    /// sends any more).
    fn finish(&mut self) {
        drop(std::mem::take(&mut self.pool));
        for object in self.inbox.try_iter() {
            object.check();
            drop(object);
        }
    }
}

/// How one OS thread of a program thread ended.
enum Ended {
    /// It ran [`Op::Respawn`] in `round`: a fresh OS thread continues with
    /// `worker`, attached `depth` times.
    Respawn {
        worker: Worker,
        round: usize,
        depth: usize,
    },
    /// It finished the program, or the schedule was abandoned.
    Done,
}

/// One OS thread running (part of) a program thread's operations.
struct Incarnation<'a> {
    program: &'a ThreadProgram,
    /// Rounds in the program (the same for all threads).
    rounds: usize,
    steps: &'a Lockstep,
    worker: Worker,
    /// Attachment tokens, innermost last.
    attachments: Vec<Attached>,
}

impl Incarnation<'_> {
    /// The turn of this thread in `round` (round `rounds` is the final
    /// turn).
    fn turn(&self, round: usize) -> usize {
        round * THREADS + self.worker.me
    }

    /// Runs rounds from `first` on, then the final turn. `resumed` says
    /// that this incarnation continues a respawned one in the middle of the
    /// turn of round `first - 1`, attached `depth` times. Returns early if
    /// another thread panicked.
    fn run(mut self, first: usize, resumed: Option<usize>) -> Ended {
        if let Some(depth) = resumed {
            self.attachments = (0..depth).map(|_| brisk_gc::attach()).collect();
            self.steps.pass();
        }
        for round in first..self.rounds {
            if !self.steps.wait(self.turn(round)) {
                return Ended::Done;
            }
            if round == 0 {
                if self.program.attached {
                    self.attachments.push(brisk_gc::attach());
                }
            } else if let Some(op) = self.program.ops.get(round - 1) {
                match op {
                    Op::Attach => self.attachments.push(brisk_gc::attach()),
                    Op::Detach => drop(self.attachments.pop()),
                    Op::Respawn { exit_attached } => {
                        let depth = self.attachments.len();
                        self.leave(*exit_attached);
                        // The turn is passed by the next incarnation.
                        return Ended::Respawn {
                            worker: self.worker,
                            round,
                            depth,
                        };
                    }
                    op => self.worker.run(op),
                }
            }
            self.steps.pass();
        }
        // The test thread passes this turn once this thread has exited.
        if self.steps.wait(self.turn(self.rounds)) {
            self.worker.finish();
            self.leave(self.program.exit_attached);
        }
        Ended::Done
    }

    /// Detaches before the thread exits, or leaves that to the exit path
    /// (which flushes and unpins) if `exit_attached`.
    fn leave(&mut self, exit_attached: bool) {
        if exit_attached {
            self.attachments.drain(..).for_each(std::mem::forget);
        } else {
            self.attachments.clear();
        }
    }
}

/// Starts an OS thread for program thread `worker.me`, from round `first`
/// (see [`Incarnation::run`]). Just before it exits, it sends its number on
/// `exits`, so that the test thread joins it.
fn spawn_incarnation(
    program: &ThreadProgram,
    rounds: usize,
    steps: &Arc<Lockstep>,
    exits: &Sender<usize>,
    worker: Worker,
    first: usize,
    resumed: Option<usize>,
) -> thread::JoinHandle<Ended> {
    let (program, steps, exits) = (program.clone(), Arc::clone(steps), exits.clone());
    thread::spawn(move || {
        let me = worker.me;
        let run = panic::catch_unwind(AssertUnwindSafe(|| {
            Incarnation {
                program: &program,
                rounds,
                steps: &steps,
                worker,
                attachments: Vec::new(),
            }
            .run(first, resumed)
        }));
        if run.is_err() {
            steps.abandon();
        }
        exits
            .send(me)
            .expect("the test thread waits for every exit");
        run.unwrap_or_else(|payload| panic::resume_unwind(payload))
    })
}

/// Runs `program` (one entry per thread) and checks that every object it
/// made is dropped exactly once and freed.
fn run_program(program: &[ThreadProgram]) {
    let news = program
        .iter()
        .flat_map(|p| &p.ops)
        .filter(|op| matches!(op, Op::New))
        .count();
    let case = Case::new(news);
    let steps = Arc::new(Lockstep::new());
    let rounds = 1 + program.iter().map(|p| p.ops.len()).max().unwrap_or(0);
    let (exits, exited) = mpsc::channel::<usize>();
    let (outboxes, inboxes): (Vec<_>, Vec<_>) =
        (0..THREADS).map(|_| mpsc::channel::<Handle>()).unzip();
    let mut threads: Vec<Option<thread::JoinHandle<Ended>>> = inboxes
        .into_iter()
        .enumerate()
        .map(|(me, inbox)| {
            let worker = Worker {
                me,
                case: Arc::clone(&case),
                pool: Vec::new(),
                inbox,
                outboxes: outboxes.clone(),
            };
            let thread = spawn_incarnation(&program[me], rounds, &steps, &exits, worker, 0, None);
            Some(thread)
        })
        .collect();
    drop(outboxes);
    // Join each OS thread as it exits: start the next incarnation of a
    // respawned thread, or pass the final turn of a finished one to the next
    // thread.
    let mut running = THREADS;
    let mut failure: Option<Box<dyn Any + Send>> = None;
    while running > 0 {
        let me = exited.recv().expect("`exits` is held here");
        let thread = threads[me].take().expect("one exit per incarnation");
        match thread.join() {
            Ok(Ended::Respawn {
                worker,
                round,
                depth,
            }) => {
                let thread = spawn_incarnation(
                    &program[me],
                    rounds,
                    &steps,
                    &exits,
                    worker,
                    round + 1,
                    Some(depth),
                );
                threads[me] = Some(thread);
            }
            Ok(Ended::Done) => {
                running -= 1;
                steps.pass();
            }
            Err(payload) => {
                running -= 1;
                steps.abandon();
                failure.get_or_insert(payload);
            }
        }
    }
    if let Some(payload) = failure {
        panic::resume_unwind(payload);
    }
    settle(&case);
    assert_eq!(
        Arc::strong_count(&case),
        1,
        "a payload is still alive after every object was dropped"
    );
}

/// Drops what destructors left behind and collects, until every object
/// made has been dropped and the domain is empty.
fn settle(case: &Case) {
    for _ in 0..SETTLE_ROUNDS {
        let left_behind = std::mem::take(&mut *lock(&case.lost_and_found));
        let had_some = !left_behind.is_empty();
        drop(left_behind);
        let garbage = brisk_gc::collect(64);
        if !had_some && garbage.is_empty() && case.undropped().is_empty() {
            return;
        }
    }
    panic!(
        "objects never dropped: {:?}; garbage left: {:?}",
        case.undropped(),
        brisk_gc::garbage()
    );
}

fn config() -> ProptestConfig {
    let cases = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(CASES);
    ProptestConfig {
        cases,
        failure_persistence: Some(Box::new(FileFailurePersistence::WithSource(
            "proptest-regressions",
        ))),
        ..ProptestConfig::default()
    }
}

proptest! {
    #![proptest_config(config())]

    /// Three threads run a generated program each (see the module docs);
    /// every object is dropped exactly once, never used after its drop, and
    /// all are freed once the threads have exited and the domain is
    /// collected.
    #[test]
    fn random_programs_drop_every_object_exactly_once(
        program in prop::collection::vec(thread_program(), THREADS)
    ) {
        run_program(&program);
    }
}
