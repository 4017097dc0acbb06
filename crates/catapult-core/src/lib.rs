//! catapult's core: releases and deploys of an application recorded as versions of one JSON
//! object in a versioned S3 bucket, the record log that keeps that history safe under faults,
//! and the operations over it as functions that take typed inputs and return their outputs.
//! Concourse's steps and the `catapult` command line are two thin front-ends over it. Nothing
//! here reads stdin or the process environment, writes stdout, or exits the process.
//!
//! Its folders are its layers, each importing only from those below it:
//!
//! | layer | what it holds |
//! |---|---|
//! | [`concourse`] | the Concourse side: requests and `source` parsed strictly, the older tool's names, `put`'s params made into plans, `check` and `get` |
//! | [`ops`] | the operations both front-ends call: release, deploy, the board, the questions asked of a history |
//! | [`log`] | the record log: walking a key's history, reading records, appending exactly once |
//! | [`record`] | the record and the domain's types: names, where records live, the build that wrote one |
//! | [`store`], [`git`], [`registry`] | the adapters: the S3 seam (the trait, its errors, the AWS SDK client, the test doubles), the user's checkout, and a container registry's API (an image's digest by its tag) |
//!
//! [`error`] is the core's one error, which the layers from [`log`] up return; [`secret`] the
//! one type every adapter keeps a credential in.

pub mod concourse;
pub mod error;
pub mod git;
pub mod log;
pub mod ops;
pub mod record;
pub mod registry;
pub mod secret;
pub mod store;

pub use error::{Error, Result};
