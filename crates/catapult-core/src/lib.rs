//! catapult's core: releases and deploys of an application recorded as versions of one JSON
//! object in a versioned S3 bucket, and the Concourse steps over them (`check`, `in`, `out`) as
//! functions that take their inputs and return their outputs. Nothing here reads stdin or the
//! process environment, writes stdout, or exits the process: the binaries do that.

pub mod check;
pub mod error;
pub mod get;
pub mod git;
pub mod history;
pub mod logging;
pub mod protocol;
pub mod put;
pub mod record;
pub mod store;

pub use error::{Error, Result};
