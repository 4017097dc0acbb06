//! What every integration test of catapult shares: the local S3 server the test scripts start
//! ([`server`]), a bucket of each test's own so that tests run in parallel against one server
//! ([`bucket`]), the one executable under each name it answers to ([`binary`]), the resource's
//! steps run as Concourse runs them ([`resource`]), `catapult` run as a person runs it ([`cli`]),
//! git repositories made commit by commit ([`git`]), the container registries and images pushed
//! into them ([`registry`]), and strict decoding of what each prints. A test that needs a server
//! fails, never skips, when it is not there.

#![allow(missing_docs)]

pub mod binary;
pub mod bucket;
pub mod cli;
pub mod git;
pub mod registry;
pub mod resource;
pub mod server;

pub use bucket::{Bucket, Contents, Object, record};
pub use server::{
    access_key_id, block_on, endpoint, keeps_versions, region, secret_access_key, store,
};
