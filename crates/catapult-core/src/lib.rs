//! catapult's core: releases and deploys of an application recorded as versions of one JSON
//! object in a versioned S3 bucket, the record log that keeps that history safe under faults,
//! and the operations over it (cut a release, deploy one, check, get, read a history, build the
//! board) as functions that take typed inputs and return their outputs. Concourse's binaries and the
//! `catapult` command line are two thin front-ends over it. Nothing here reads stdin or the
//! process environment, writes stdout, or exits the process.

pub mod board;
pub mod check;
pub mod compat;
pub mod deploy;
pub mod error;
pub mod get;
pub mod git;
pub mod history;
pub mod location;
pub mod log;
pub mod params;
pub mod protocol;
pub mod record;
pub mod release;
pub mod resource;
pub mod store;

pub use error::{Error, Result};
