//! The container registry adapter, beside [`crate::store`] and [`crate::git`]: the digest of
//! the image a tag names, found as the older tool found it with `docker pull`, but through the
//! registry's own HTTP API (the OCI distribution spec) and never a docker daemon. A release cut
//! without an image names `<docker_repository>/<prefix><name>:ref-<commit sha>`, and this looks
//! it up.
//!
//! - [`reference`]: an image reference as a type that can only hold a valid one, and whether its
//!   registry is spoken to over plain HTTP (loopback, or an explicit `http://`);
//! - [`challenge`]: a 401's `WWW-Authenticate` header, Basic or Bearer;
//! - [`docker_config`]: the credentials Docker's `config.json` gives (auths, credential helpers);
//! - [`client`]: the manifest `HEAD` and the token dance, over the S3 client's HTTP stack;
//! - [`error`]: what a lookup can fail with, each naming the image reference.

pub mod challenge;
pub mod client;
pub mod docker_config;
pub mod error;
pub mod reference;

pub use client::{LOOKUP_DEADLINE, MANIFEST_TYPES, RegistryClient};
pub use docker_config::{DockerConfig, FoundCredentials, RegistryCredentials, Secret};
pub use error::RegistryError;
pub use reference::{ImageReference, Scheme};
