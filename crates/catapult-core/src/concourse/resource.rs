//! The two kinds of Concourse resource over an application: a release resource (its versions are
//! the releases) and a deploy resource (its versions are the deploys to one environment), and a
//! validated `source` as a whole: the resource, how to reach its store, and the log level.

use crate::ops::tickets::TicketPattern;
use crate::record::{App, Environment};
use crate::store::Location;
use crate::store::s3::Connection;

/// A release resource: its versions are the releases of an application.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReleaseResource {
    /// The application.
    pub app: App,
    /// Whether its releases carry an image digest (the older resource's `has_image`); an
    /// image given to a put of an application without one is an error.
    pub has_image: bool,
    /// How its releases find the tickets their commits mention.
    pub tickets: TicketPattern,
}

/// A deploy resource: its versions are the deploys of an application to one environment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeployResource {
    /// The application.
    pub app: App,
    /// The environment.
    pub environment: Environment,
}

/// The two kinds of Concourse resource.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Resource {
    /// Releases.
    Release(ReleaseResource),
    /// Deploys to one environment.
    Deploy(DeployResource),
}

impl Resource {
    /// The application.
    pub fn app(&self) -> &App {
        match self {
            Resource::Release(release) => &release.app,
            Resource::Deploy(deploy) => &deploy.app,
        }
    }

    /// Where this resource's own versions live: the deploy records of a deploy resource, the
    /// release records otherwise.
    pub fn tracked(&self) -> &Location {
        match self {
            Resource::Release(release) => &release.app.releases,
            Resource::Deploy(deploy) => deploy.environment.deploys(),
        }
    }

    /// The environment of a deploy resource.
    pub fn environment(&self) -> Option<&Environment> {
        match self {
            Resource::Release(_) => None,
            Resource::Deploy(deploy) => Some(&deploy.environment),
        }
    }
}

/// A validated `source`: the resource, how to reach its store, and whether to log in detail.
#[derive(Debug, Clone)]
pub struct ResourceConfig {
    /// The resource.
    pub resource: Resource,
    /// How to reach S3.
    pub connection: Connection,
    /// Whether debug logs are on.
    pub debug: bool,
}
