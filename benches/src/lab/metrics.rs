//! Metric names: every key of results.json's `metrics`, defined once.
//!
//! # The problem
//!
//! An experiment records a figure under a name, and the headline, the
//! freshness check and the papers read it back under the same name. When
//! both sides spell the name out as a string, a typo on either side is not
//! an error: the headline shows `–` and nobody notices.
//!
//! # The mechanism
//!
//! A [`Metric`] can only be made in this module. Each experiment has a
//! submodule here with one function (or constant) per family of figures,
//! taking the parts that vary (a variant, a policy, a thread count) and,
//! where a family has several figures, a `…Figure` enum for the last part
//! of the name. [`Report::metric`](super::Report::metric) takes a
//! [`Metric`], and the headline looks figures up with the same functions,
//! so a misspelled family is a compile error. The names of variants that
//! both an experiment and the headline use (`Brc<Biased> owner`, …) are
//! constants here too.
//!
//! The strings are what results.json has always held: `/` separates the
//! parts, a variant's display name has its spaces replaced by `_`
//! ([`key`]), and a figure with a 95% interval has its
//! bounds under [`Metric::low`] and [`Metric::high`].

use std::borrow::Cow;
use std::fmt;

use serde::{Deserialize, Serialize};

use super::report::key;

/// The name of one figure in results.json.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Metric(Cow<'static, str>);

impl Metric {
    /// A name with no varying part.
    const fn fixed(name: &'static str) -> Metric {
        Metric(Cow::Borrowed(name))
    }

    /// A name made of parts.
    fn path(name: String) -> Metric {
        Metric(Cow::Owned(name))
    }

    /// The name as results.json writes it.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The low end of this figure's 95% interval.
    pub fn low(&self) -> Metric {
        Metric::path(format!("{self}/low"))
    }

    /// The high end of this figure's 95% interval.
    pub fn high(&self) -> Metric {
        Metric::path(format!("{self}/high"))
    }
}

impl fmt::Display for Metric {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Declares an enum of the last parts of a family of names, with
/// `as_str`.
macro_rules! figures {
    ($(#[$doc:meta])* pub enum $name:ident { $($(#[$vdoc:meta])* $variant:ident = $text:literal,)* }) => {
        $(#[$doc])*
        #[derive(Copy, Clone, Debug, PartialEq, Eq)]
        pub enum $name {
            $($(#[$vdoc])* $variant,)*
        }

        impl $name {
            /// The part of the name this figure adds.
            pub fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $text,)*
                }
            }
        }
    };
}

/// [`super::per_op`] and [`super::per_op_placement`]: clone+drop pairs.
pub mod per_op {
    use super::{key, Metric};

    /// The baseline row.
    pub const RC: &str = "Rc";
    /// `std::sync::Arc`.
    pub const ARC: &str = "Arc";
    /// `Brc<Biased>` on its owner thread.
    pub const BIASED_OWNER: &str = "Brc<Biased> owner";
    /// `Brc<Biased>` on another thread.
    pub const BIASED_NON_OWNER: &str = "Brc<Biased> non-owner";
    /// `Brc<Deferred>` on its owner thread.
    pub const DEFERRED_OWNER: &str = "Brc<Deferred> owner";
    /// `Brc<Deferred>` on another thread.
    pub const DEFERRED_NON_OWNER: &str = "Brc<Deferred> non-owner";
    /// `LocalBrc<Biased>`: the owner checked once for a scope.
    pub const LOCAL_BIASED: &str = "LocalBrc<Biased>";
    /// `LocalBrc<Deferred>`.
    pub const LOCAL_DEFERRED: &str = "LocalBrc<Deferred>";
    /// `hybrid_rc::Rc`.
    pub const HYBRID_RC: &str = "hybrid_rc::Rc";

    /// `variant`'s median time of one pair, ns.
    pub fn ns_per_pair(variant: &str) -> Metric {
        Metric::path(format!("{}/ns_per_pair", key(variant)))
    }

    /// `variant`'s time over `Rc`'s, paired by round (with an interval).
    pub fn ratio_to_rc(variant: &str) -> Metric {
        Metric::path(format!("{}/ratio_to_rc", key(variant)))
    }

    /// The BRC paper's Table 7 time of the path `row` stands for, ns
    /// (quoted, not measured).
    pub fn brc_paper_ns(row: &str) -> Metric {
        Metric::path(format!("brc_paper/{}/ns", key(row)))
    }

    /// `top`'s time over `bottom`'s, paired by round (with an interval):
    /// a ratio of Table 7's, measured here.
    pub fn brc_ratio(top: &str, bottom: &str) -> Metric {
        Metric::path(format!("brc_ratio/{}_over_{}", key(top), key(bottom)))
    }

    /// Peak epoch garbage during the deferred non-owner loop.
    pub const DEFERRED_NON_OWNER_PEAK_PENDING: Metric =
        Metric::fixed("deferred_non_owner/peak_pending_deferred_objects");
}

/// [`super::contention`]: one hot object, 1…N threads.
pub mod contention {
    use super::Metric;

    /// `policy`'s throughput at `threads` threads, million operations per
    /// second.
    pub fn mops(policy: &str, threads: usize) -> Metric {
        Metric::path(format!("{policy}/{threads}_threads/mops"))
    }

    /// `Brc<Deferred>`'s throughput over `Arc`'s at `threads` threads.
    pub fn deferred_over_arc(threads: usize) -> Metric {
        Metric::path(format!("deferred_over_arc/{threads}_threads"))
    }
}

/// [`super::producer_consumer`]: made on one thread, dropped on another.
pub mod producer_consumer {
    use super::{key, Metric};

    /// `std::sync::Arc`, the baseline.
    pub const ARC: &str = "Arc";
    /// `Brc<Biased>`.
    pub const BIASED: &str = "Brc<Biased>";
    /// `Brc<Deferred>`.
    pub const DEFERRED: &str = "Brc<Deferred>";

    /// `variant`'s median time per object, ns.
    pub fn ns_per_object(variant: &str) -> Metric {
        Metric::path(format!("{}/ns_per_object", key(variant)))
    }

    /// `variant`'s time over `Arc`'s, paired by round (with an interval).
    pub fn ratio_to_arc(variant: &str) -> Metric {
        Metric::path(format!("{}/ratio_to_arc", key(variant)))
    }

    /// Peak epoch garbage under `Brc<Deferred>`, objects.
    pub const DEFERRED_PEAK_PENDING_OBJECTS: Metric =
        Metric::fixed("deferred/peak_pending_deferred_objects");
    /// The same, bytes.
    pub const DEFERRED_PEAK_PENDING_BYTES: Metric =
        Metric::fixed("deferred/peak_pending_deferred_bytes");
}

/// [`super::reclamation_delay`]: `Deferred` with a straggler.
pub mod reclamation_delay {
    use super::Metric;

    figures! {
        /// A figure of one straggler interval `K`.
        pub enum Figure {
            /// Median delay from last drop to free, ns.
            DelayMedianNs = "delay_median_ns",
            /// Its 99th percentile.
            DelayP99Ns = "delay_p99_ns",
            /// The longest delay.
            DelayMaxNs = "delay_max_ns",
            /// The straggler's time between safepoints.
            StragglerIntervalNs = "straggler_interval_ns",
            /// The longest gap between two safepoints of any thread.
            LongestGapNs = "longest_gap_ns",
            /// The longest delay over the design's bound.
            MaxDelayToBound = "max_delay_to_bound",
            /// Peak epoch garbage, objects.
            PeakPendingDeferredObjects = "peak_pending_deferred_objects",
            /// Peak epoch garbage, bytes.
            PeakPendingDeferredBytes = "peak_pending_deferred_bytes",
            /// Objects not freed by the end.
            Unfreed = "unfreed",
        }
    }

    /// `figure` for straggler interval `k` (`none`: no straggler).
    pub fn k(k: &str, figure: Figure) -> Metric {
        Metric::path(format!("k_{k}/{}", figure.as_str()))
    }
}

/// [`super::where_ops_go`]: counters of real programs.
pub mod where_ops_go {
    use super::Metric;

    figures! {
        /// A counter figure of one program under one policy.
        pub enum Figure {
            /// Counting operations: owner + shared + buffered.
            Operations = "operations",
            /// Share of them on the owner path.
            OwnerShare = "owner_share",
            /// Share on the shared atomic path.
            SharedShare = "shared_share",
            /// Share recorded in a coalescing buffer.
            BufferedShare = "buffered_share",
            /// Share of buffered operations that needed no atomic.
            CoalescedShare = "coalesced_share",
            /// Objects queued to their owner.
            QueuedObjects = "queued_objects",
            /// Queued objects merged.
            MergedObjects = "merged_objects",
            /// Atomics a buffer flush applied.
            AppliedAtomics = "applied_atomics",
            /// Objects freed.
            Frees = "frees",
            /// Queued objects per free.
            QueuedPerFree = "queued_per_free",
        }
    }

    /// `figure` of `program` under `policy`.
    pub fn program(program: &str, policy: &str, figure: Figure) -> Metric {
        Metric::path(format!("{program}/{policy}/{}", figure.as_str()))
    }

    /// The lowest owner-path share of the single-interpreter programs under
    /// `biased`.
    pub const SINGLE_BIASED_OWNER_SHARE_MIN: Metric =
        Metric::fixed("single_interpreter/biased/owner_share_min");
}

/// [`super::whole_program`] (and [`super::paired`]): programs under each
/// policy.
pub mod whole_program {
    use super::Metric;

    figures! {
        /// A figure of one program under one policy.
        pub enum Figure {
            /// Median wall time, s.
            Seconds = "seconds",
            /// Median time over `gil`'s median.
            RatioToGil = "ratio_to_gil",
            /// Median of the ratios to `gil` paired by round (with an
            /// interval).
            PairedRatioToGil = "paired_ratio_to_gil",
            /// Largest peak RSS, MiB.
            MaxRssMib = "max_rss_mib",
        }
    }

    /// `figure` of `program` under `policy`.
    pub fn program(program: &str, policy: &str, figure: Figure) -> Metric {
        Metric::path(format!("{program}/{policy}/{}", figure.as_str()))
    }

    /// `program`'s widest run-to-run spread among the policies.
    pub fn spread(program: &str) -> Metric {
        Metric::path(format!("{program}/spread"))
    }

    /// The widest spread of any program.
    pub const WORST_SPREAD: Metric = Metric::fixed("worst_spread");

    /// `policy`'s geometric mean over the single-interpreter programs of
    /// its median time over `gil`'s.
    pub fn geomean_ratio_to_gil(policy: &str) -> Metric {
        Metric::path(format!("geomean_single/{policy}/ratio_to_gil"))
    }

    /// The median over rounds of each round's geometric mean, over the
    /// single-interpreter programs, of `policy`'s time over `gil`'s in
    /// that round (with an interval).
    pub fn geomean_paired_ratio_to_gil(policy: &str) -> Metric {
        Metric::path(format!("geomean_single/{policy}/paired_ratio_to_gil"))
    }

    /// `parallel-map`'s median time with one worker over two, under
    /// `policy`.
    pub fn parallel_map_speedup(policy: &str) -> Metric {
        Metric::path(format!("parallel-map/{policy}/speedup_2_over_1"))
    }

    /// The same, paired by round (with an interval).
    pub fn parallel_map_paired_speedup(policy: &str) -> Metric {
        Metric::path(format!("parallel-map/{policy}/paired_speedup_2_over_1"))
    }
}

/// [`super::vs_python`]: brisk against CPython.
pub mod vs_python {
    use super::Metric;

    figures! {
        /// A figure of one program under one variant.
        pub enum Figure {
            /// Median wall time, s.
            Seconds = "seconds",
            /// Median of the ratios to Python paired by round (with an
            /// interval).
            PairedRatioToPython = "paired_ratio_to_python",
        }
    }

    /// `figure` of `program` under `variant` (`python`, `gil`, `biased`).
    pub fn program(program: &str, variant: &str, figure: Figure) -> Metric {
        Metric::path(format!("{program}/{variant}/{}", figure.as_str()))
    }

    /// `variant`'s geometric mean over the programs of its median ratio
    /// to Python.
    pub fn geomean_ratio_to_python(variant: &str) -> Metric {
        Metric::path(format!("geomean/{variant}/ratio_to_python"))
    }

    /// The median over rounds of each round's geometric mean (with an
    /// interval).
    pub fn geomean_paired_ratio_to_python(variant: &str) -> Metric {
        Metric::path(format!("geomean/{variant}/paired_ratio_to_python"))
    }
}

/// [`super::placement`]: whole programs over code placements.
pub mod placement {
    use super::Metric;

    /// `policy`'s geometric-mean ratio to `gil` in placement `seed`.
    pub fn seed(seed: u64, policy: &str) -> Metric {
        Metric::path(format!("seed{seed}/{policy}/ratio_to_gil"))
    }

    /// The median of those over the placements (with an interval).
    pub fn over_placements(policy: &str) -> Metric {
        Metric::path(format!("over_placements/{policy}/ratio_to_gil"))
    }

    /// `program`'s median ratio to `gil` over the placements.
    pub fn program_over_placements(program: &str, policy: &str) -> Metric {
        Metric::path(format!("{program}/{policy}/ratio_to_gil_over_placements"))
    }

    /// The slowest placement's `gil` time over the fastest's.
    pub const GIL_TIME_MAX_OVER_MIN: Metric = Metric::fixed("gil_time_max_over_min");
}

/// [`super::instructions`]: instructions under callgrind.
pub mod instructions {
    use super::{key, Metric};

    /// Instructions per clone+drop pair of `variant`.
    pub fn pair_instructions(variant: &str) -> Metric {
        Metric::path(format!("pair/{}/instructions", key(variant)))
    }

    /// Those over `Rc`'s.
    pub fn pair_ratio_to_rc(variant: &str) -> Metric {
        Metric::path(format!("pair/{}/ratio_to_rc", key(variant)))
    }

    /// Instructions of the process's start-up under `policy`.
    pub fn start_up(policy: &str) -> Metric {
        Metric::path(format!("start_up/{policy}/instructions"))
    }

    /// Instructions of `program` under `policy`, start-up off.
    pub fn program(program: &str, policy: &str) -> Metric {
        Metric::path(format!("{program}/{policy}/instructions"))
    }

    /// Those over `gil`'s.
    pub fn program_over_gil(program: &str, policy: &str) -> Metric {
        Metric::path(format!("{program}/{policy}_over_gil"))
    }

    /// The geometric mean of those over the programs.
    pub fn geomean_over_gil(policy: &str) -> Metric {
        Metric::path(format!("geomean/{policy}_over_gil"))
    }
}

/// [`super::counting_density`]: counting operations per 1,000 instructions.
pub mod counting_density {
    use super::Metric;

    figures! {
        /// A figure of one example of brisk.
        pub enum Figure {
            /// Instructions under `gil`, start-up off.
            Instructions = "instructions",
            /// Counting operations under `gil`, immortal objects included.
            RequestedOps = "requested_ops",
            /// Those per 1,000 instructions.
            RequestedPerThousand = "requested_per_1000_instructions",
            /// Counting operations under `biased`, on mortal objects.
            MortalOps = "mortal_ops",
            /// Those per 1,000 instructions.
            MortalPerThousand = "mortal_per_1000_instructions",
            /// Requested operations per object freed.
            RequestedPerFree = "requested_per_free",
        }
    }

    /// `figure` of example `program`.
    pub fn program(program: &str, figure: Figure) -> Metric {
        Metric::path(format!("{program}/{}", figure.as_str()))
    }

    /// The geometric mean over the examples of the requested operations
    /// per 1,000 instructions: brisk's density, X.
    pub const GEOMEAN_REQUESTED_PER_THOUSAND: Metric =
        Metric::fixed("geomean/requested_per_1000_instructions");
    /// The same of the operations on mortal objects.
    pub const GEOMEAN_MORTAL_PER_THOUSAND: Metric =
        Metric::fixed("geomean/mortal_per_1000_instructions");

    /// CPython's increfs plus decrefs per bytecode (quoted).
    pub const CPYTHON_OPS_PER_BYTECODE: Metric = Metric::fixed("cpython/ops_per_bytecode");
    /// CPython's increfs plus decrefs over an object's lifetime (quoted).
    pub const CPYTHON_OPS_PER_OBJECT: Metric = Metric::fixed("cpython/ops_per_object");

    figures! {
        /// A figure of one CPython twin program.
        pub enum PythonFigure {
            /// Instructions, an empty program's off.
            Instructions = "instructions",
            /// Bytecodes executed, an empty program's off.
            Bytecodes = "bytecodes",
            /// The first over the second.
            InstructionsPerBytecode = "instructions_per_bytecode",
        }
    }

    /// `figure` of the CPython twin `program`.
    pub fn python(program: &str, figure: PythonFigure) -> Metric {
        Metric::path(format!("python/{program}/{}", figure.as_str()))
    }

    /// The median over the twins of CPython's instructions per bytecode, k.
    pub const PYTHON_INSTRUCTIONS_PER_BYTECODE: Metric =
        Metric::fixed("python/median/instructions_per_bytecode");
    /// CPython's counting operations per 1,000 instructions, Y (quoted per
    /// bytecode, over k).
    pub const CPYTHON_OPS_PER_THOUSAND: Metric = Metric::fixed("cpython/ops_per_1000_instructions");
    /// Y over X: what an overhead in brisk is multiplied by in CPython.
    pub const TRANSFER_FACTOR: Metric = Metric::fixed("transfer_factor");
    /// The instructions per bytecode at which Y would equal X.
    pub const BREAK_EVEN_INSTRUCTIONS_PER_BYTECODE: Metric =
        Metric::fixed("break_even_instructions_per_bytecode");
}

/// [`super::parallel_scaling`]: `parallel-map` at 1…N workers.
pub mod parallel_scaling {
    use super::Metric;

    figures! {
        /// A figure of one policy at one worker count.
        pub enum Figure {
            /// One worker's median time over this count's.
            Speedup = "speedup",
            /// The same, paired by round (with an interval).
            PairedSpeedup = "paired_speedup",
            /// One worker under `gil` over this count under the policy.
            SpeedupOverGil1 = "speedup_over_gil_1",
            /// Median wall time, s.
            Seconds = "seconds",
        }
    }

    /// `figure` of `policy` with `workers` workers.
    pub fn workers(policy: &str, workers: usize, figure: Figure) -> Metric {
        Metric::path(format!("{policy}/{workers}_workers/{}", figure.as_str()))
    }

    /// The widest spread among the policies at `workers` workers.
    pub fn spread(workers: usize) -> Metric {
        Metric::path(format!("spread/{workers}_workers"))
    }

    /// The widest spread at any count.
    pub const WORST_SPREAD: Metric = Metric::fixed("worst_spread");
}

/// [`super::parallel_processes`]: `parallel-map` with worker interpreters
/// or worker processes.
pub mod parallel_processes {
    use super::Metric;

    /// Where the workers run.
    #[derive(Copy, Clone, Debug, PartialEq, Eq)]
    pub enum Design {
        /// Interpreters in one process (`brisk run parallel-map.brisk`).
        Interpreters,
        /// Processes exchanging serialized data (`brisk-lab map-parent`).
        Processes,
    }

    impl Design {
        /// Both, in table order.
        pub const ALL: [Design; 2] = [Design::Interpreters, Design::Processes];

        /// The name in tables and metric names.
        pub fn name(self) -> &'static str {
            match self {
                Design::Interpreters => "interpreters",
                Design::Processes => "processes",
            }
        }
    }

    /// Median wall time of `map` with `workers` workers in `design`, s.
    pub fn seconds(map: &str, design: Design, workers: usize) -> Metric {
        Metric::path(format!("{map}/{}/{workers}_workers/seconds", design.name()))
    }

    /// The processes' time over the interpreters', paired by round (with
    /// an interval).
    pub fn processes_over_interpreters(map: &str, workers: usize) -> Metric {
        Metric::path(format!(
            "{map}/{workers}_workers/processes_over_interpreters"
        ))
    }

    /// `design`'s one-worker time over its `workers`-worker time, paired by
    /// round (with an interval).
    pub fn speedup(map: &str, design: Design, workers: usize) -> Metric {
        Metric::path(format!(
            "{map}/{}/{workers}_workers/paired_speedup",
            design.name()
        ))
    }
}

/// [`super::send_cost`]: one send by mode and graph size.
pub mod send_cost {
    use super::Metric;

    /// Median time of one send of `nodes` objects on `line` (a mode, with
    /// `<Deferred>` for that policy), ns (with an interval).
    pub fn ns_per_send(line: &str, nodes: usize) -> Metric {
        Metric::path(format!("{line}/{nodes}/ns_per_send"))
    }

    /// The same per object (with an interval).
    pub fn ns_per_node(line: &str, nodes: usize) -> Metric {
        Metric::path(format!("{line}/{nodes}/ns_per_node"))
    }

    figures! {
        /// A ratio of two modes' times.
        pub enum Ratio {
            /// `subprocess` over `share`.
            SubprocessOverShare = "subprocess_over_share",
            /// `subprocess` over `share+freeze`.
            SubprocessOverShareFreeze = "subprocess_over_share_freeze",
            /// `subprocess` over `move`.
            SubprocessOverMove = "subprocess_over_move",
            /// `subprocess` over `copy`.
            SubprocessOverCopy = "subprocess_over_copy",
            /// `copy` over `move`.
            CopyOverMove = "copy_over_move",
        }
    }

    /// `ratio` at `nodes` objects, paired by round (with an interval).
    pub fn ratio(ratio: Ratio, nodes: usize) -> Metric {
        Metric::path(format!("{}/{nodes}", ratio.as_str()))
    }

    /// The share of `share+freeze`'s time at `nodes` objects that `share`
    /// of a graph frozen already does not take: what the freeze adds.
    pub fn freeze_share_of_share_freeze(nodes: usize) -> Metric {
        Metric::path(format!("freeze_share_of_share+freeze/{nodes}"))
    }
}

/// [`super::memory`]: headers and resident memory.
pub mod memory {
    use super::Metric;

    /// Peak RSS of `kind`'s run, MiB.
    pub fn max_rss_mib(kind: &str) -> Metric {
        Metric::path(format!("{kind}/max_rss_mib"))
    }

    /// The same above the baseline's.
    pub fn rss_above_baseline_mib(kind: &str) -> Metric {
        Metric::path(format!("{kind}/rss_above_baseline_mib"))
    }

    /// Peak epoch garbage under `Brc<Deferred>`, objects.
    pub const DEFERRED_PEAK_PENDING_OBJECTS: Metric =
        Metric::fixed("Brc<Deferred>/peak_pending_deferred_objects");
    /// The same, bytes.
    pub const DEFERRED_PEAK_PENDING_BYTES: Metric =
        Metric::fixed("Brc<Deferred>/peak_pending_deferred_bytes");
    /// Bytes of brisk-refcount's header.
    pub const BRISK_RC_HEADER_BYTES: Metric = Metric::fixed("brisk_rc_header_bytes");
    /// Bytes of a brisk runtime object's header.
    pub const BRISK_OBJECT_HEADER_BYTES: Metric = Metric::fixed("brisk_object_header_bytes");
    /// Bytes of a free-threaded CPython object's header (quoted).
    pub const CPYTHON_FT_OBJECT_HEADER_BYTES: Metric =
        Metric::fixed("cpython_ft_object_header_bytes");
    /// Bytes of a default CPython object's header (quoted).
    pub const CPYTHON_DEFAULT_OBJECT_HEADER_BYTES: Metric =
        Metric::fixed("cpython_default_object_header_bytes");
    /// Bytes before the payload of a container brisk's cycle collector
    /// tracks: the collector link and the object header.
    pub const BRISK_CONTAINER_PREFIX_BYTES: Metric = Metric::fixed("brisk_container_prefix_bytes");
    /// Bytes before a free-threaded CPython container's payload (quoted).
    pub const CPYTHON_FT_CONTAINER_PREFIX_BYTES: Metric =
        Metric::fixed("cpython_ft_container_prefix_bytes");
    /// Bytes before a default CPython container's payload (quoted).
    pub const CPYTHON_DEFAULT_CONTAINER_PREFIX_BYTES: Metric =
        Metric::fixed("cpython_default_container_prefix_bytes");
}

/// [`super::cycle_pause`]: the cycle collector.
pub mod cycle_pause {
    use super::{key, Metric};
    use crate::workloads::cycles::Heap;

    /// The probes under `Biased`.
    pub const BIASED: &str = "Biased";
    /// The probes under `Deferred`.
    pub const DEFERRED: &str = "Deferred";
    /// brisk's lists under `Biased`, in dumpster's benchmark.
    pub const BRISK_BIASED: &str = "brisk<Biased>";

    figures! {
        /// A figure of one pause probe.
        pub enum PauseFigure {
            /// Median time the world was stopped, ns.
            Ns = "ns",
            /// That per scanned object.
            NsPerScannedObject = "ns_per_scanned_object",
            /// Median time of the whole `collect()` call, ns.
            CollectCallNs = "collect_call_ns",
            /// Objects scanned.
            Scanned = "scanned",
            /// Objects found unreachable.
            Unreachable = "unreachable",
        }
    }

    /// `figure` of the probe of `objects` lists of `heap` under `policy`.
    pub fn pause(policy: &str, heap: Heap, objects: usize, figure: PauseFigure) -> Metric {
        Metric::path(format!(
            "pause/{policy}/{}/{objects}/{}",
            heap.name(),
            figure.as_str()
        ))
    }

    figures! {
        /// A figure of one backend in dumpster's benchmark.
        pub enum DumpsterFigure {
            /// Objects left alive after the final collection.
            LeftAlive = "left_alive",
            /// Collections made.
            Collections = "collections",
            /// Median time of one run, ms.
            MsPerRun = "ms_per_run",
            /// That over `Arc`'s.
            RatioToArc = "ratio_to_arc",
            /// That over `dumpster::sync`'s.
            RatioToDumpsterSync = "ratio_to_dumpster_sync",
        }
    }

    /// `figure` of `backend` in dumpster's benchmark.
    pub fn dumpster(backend: &str, figure: DumpsterFigure) -> Metric {
        Metric::path(format!("dumpster/{}/{}", key(backend), figure.as_str()))
    }

    figures! {
        /// A figure of several interpreters making garbage cycles.
        pub enum ConcurrentFigure {
            /// Peak RSS, MiB.
            MaxRssMib = "max_rss_mib",
            /// That over `gil`'s with as many interpreters.
            RssToGil = "rss_to_gil",
            /// Collections made.
            Collections = "collections",
            /// Objects found unreachable.
            Unreachable = "unreachable",
            /// Mean pause, ns.
            MeanPauseNs = "mean_pause_ns",
            /// Longest pause, ns.
            MaxPauseNs = "max_pause_ns",
            /// Most tracked objects.
            MaxTracked = "max_tracked",
            /// Wall time, s.
            Seconds = "seconds",
        }
    }

    /// `figure` of `interpreters` interpreters under `policy`.
    pub fn concurrent(policy: &str, interpreters: usize, figure: ConcurrentFigure) -> Metric {
        Metric::path(format!(
            "concurrent/{policy}/{interpreters}/{}",
            figure.as_str()
        ))
    }

    /// 1 if `interpreters` interpreters under `policy` peaked within 2× of
    /// `gil`'s resident memory, else 0.
    pub fn within_2x_gil(policy: &str, interpreters: usize) -> Metric {
        Metric::path(format!(
            "concurrent/{policy}/rss_{interpreters}_within_2x_gil"
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::{cycle_pause, per_op, whole_program};
    use crate::workloads::cycles::Heap;

    #[test]
    fn names_keep_the_strings_results_json_holds() {
        assert_eq!(
            per_op::ratio_to_rc(per_op::BIASED_OWNER).as_str(),
            "Brc<Biased>_owner/ratio_to_rc"
        );
        assert_eq!(
            per_op::ratio_to_rc(per_op::BIASED_OWNER).low().as_str(),
            "Brc<Biased>_owner/ratio_to_rc/low"
        );
        assert_eq!(
            whole_program::geomean_paired_ratio_to_gil("biased").as_str(),
            "geomean_single/biased/paired_ratio_to_gil"
        );
        assert_eq!(
            cycle_pause::pause(
                cycle_pause::BIASED,
                Heap::Live,
                100_000,
                cycle_pause::PauseFigure::Ns
            )
            .as_str(),
            "pause/Biased/live/100000/ns"
        );
    }

    #[test]
    fn a_name_serializes_as_its_string() {
        let m = whole_program::WORST_SPREAD;
        assert_eq!(serde_json::to_string(&m).unwrap(), "\"worst_spread\"");
        let back: super::Metric = serde_json::from_str("\"worst_spread\"").unwrap();
        assert_eq!(back, m);
    }
}
