//! The Concourse side, the top layer of the core: what each step reads on stdin and writes on
//! stdout ([`request`], [`version`]), `source` parsed strictly and validated once ([`source`]) into one of the
//! two kinds of resource ([`resource`]), the older tool's names and shapes kept in one place
//! ([`compat`]), `put`'s params made into a plan ([`put`]), and the `check` and `in` steps
//! ([`check`], [`get`]: `in` is a keyword).

pub mod check;
pub mod compat;
pub mod get;
pub mod put;
pub mod request;
pub mod resource;
pub mod source;
pub mod version;

pub use request::{
    CheckRequest, InParams, InRequest, MetadataField, OutParams, OutRequest, StepOutput,
    parse_request,
};
pub use resource::{DeployResource, ReleaseResource, Resource, ResourceConfig};
pub use source::Source;
pub use version::{GivenVersion, Version};

#[cfg(test)]
mod tests;
