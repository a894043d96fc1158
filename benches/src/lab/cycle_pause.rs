//! Experiment 8: cycle-collector pause versus heap size.
//!
//! `DESIGN.md` plans a stop-the-world cycle collector in `brisk-gc`
//! (`gc/src/cycle/`): trial deletion over the tracked containers of every
//! interpreter. Its pause as the heap grows is the figure this experiment
//! will report. The collector is a later issue and does not exist yet, so
//! the experiment is listed and skipped, with the reason in its table and in
//! results.json.

use super::{Ctx, Experiment, Outcome};

/// The experiment.
pub const EXPERIMENT: Experiment = Experiment {
    name: "cycle_pause",
    title: "Cycle collector: pause versus heap size",
    question: "How long does a cycle collection stop the world, as the heap grows?",
    run,
};

fn run(_ctx: &Ctx) -> Outcome {
    Outcome::Skipped(
        "the cycle collector does not exist yet (planned in `gc/src/cycle/`, a later \
         issue); `brisk-gc` has no collection entry point to time"
            .to_owned(),
    )
}
