//! The operations both front-ends call, each a function over the store trait that takes typed
//! inputs and returns its outcome: cut a release ([`release`]), deploy one ([`deploy`]), read the
//! board ([`board`]), ask whether a record includes a commit ([`contains`]) and what a promotion
//! would ship ([`promotion`]), the rules a deploy meets ([`rules`]: the gate and its soak
//! time, approvals, freezes, holds), and the questions asked of a whole history: which releases
//! hold a ticket ([`tickets`]) and how delivery is doing ([`metrics`]), over histories read
//! through [`summary`]. What release and deploy share is [`outcome`]; the bound on
//! a whole step is [`deadline`]. Concourse's steps and the command line both stand above this.

pub mod board;
pub mod contains;
pub mod deadline;
pub mod deploy;
pub mod lineage;
pub mod metrics;
pub mod outcome;
pub mod promotion;
#[cfg(test)]
mod questions_tests;
pub mod release;
pub mod rules;
pub mod summary;
pub mod tickets;

pub use deadline::{STEP_DEADLINE, while_answering, within_deadline};
pub use outcome::{AUTOMATED, MANUAL, Mode, Outcome};
