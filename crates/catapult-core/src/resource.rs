//! What a front-end has parsed and validated before any step runs: an application and where its
//! releases live, an environment and where its deploys live (with the promotion gate), and the
//! two kinds of Concourse resource over them. Concourse's `source` and the command line's
//! configuration are both turned into these types, and the layout rules of the record keys are
//! kept here alone, so that the two front-ends can never disagree about where a record lives.

use crate::location::Location;
use crate::store::s3::Connection;

/// An application: its name and where its release records live.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct App {
    /// The application's name.
    pub name: String,
    /// The bucket and key of its release records.
    pub releases: Location,
}

/// An environment an application is deployed to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Environment {
    /// Where its deploy records live, and its name.
    pub place: EnvironmentPlace,
    /// Environments a release must have reached before it is deployed here (the promotion gate).
    pub require_deployed_to: Vec<EnvironmentPlace>,
}

/// An environment's name and the bucket and key of its deploy records.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EnvironmentPlace {
    /// The environment's name.
    pub name: String,
    /// Where its deploy records live.
    pub deploys: Location,
}

impl Environment {
    /// The environment's name.
    pub fn name(&self) -> &str {
        &self.place.name
    }

    /// Where its deploy records live.
    pub fn deploys(&self) -> &Location {
        &self.place.deploys
    }
}

/// The key of `name`'s deploys to `environment` in the release bucket (the default layout).
pub fn default_deploy_key(environment: &str, name: &str) -> String {
    format!("deploys/{environment}/{name}")
}

impl App {
    /// Where the deploys of this application to `environment` live: `deploy_key` (default:
    /// the application's name in a `deploy_bucket` of its own, the older tool's layout; else
    /// `deploys/<environment>/<name>` in the release bucket) in `deploy_bucket` (default: the
    /// release bucket).
    pub fn deploys_to(
        &self,
        environment: &str,
        deploy_bucket: Option<&str>,
        deploy_key: Option<&str>,
    ) -> EnvironmentPlace {
        let bucket = deploy_bucket.unwrap_or(&self.releases.bucket);
        let key = match deploy_key {
            Some(key) => key.to_owned(),
            None if bucket != self.releases.bucket => self.name.clone(),
            None => default_deploy_key(environment, &self.name),
        };
        EnvironmentPlace {
            name: environment.to_owned(),
            deploys: Location::new(bucket, key),
        }
    }
}

/// A release resource: its versions are the releases of an application.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReleaseResource {
    /// The application.
    pub app: App,
    /// Whether its releases carry an image digest (the older resource's `has_image`); an
    /// image given to a put of an application without one is an error.
    pub has_image: bool,
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

#[cfg(test)]
mod tests {
    use super::*;

    fn app() -> App {
        App {
            name: "app".into(),
            releases: Location::new("releases", "app"),
        }
    }

    #[test]
    fn deploys_live_beside_releases_or_in_a_bucket_of_their_own() {
        assert_eq!(
            app().deploys_to("staging", None, None).deploys,
            Location::new("releases", "deploys/staging/app")
        );
        assert_eq!(
            app().deploys_to("production", Some("prod"), None).deploys,
            Location::new("prod", "app")
        );
        assert_eq!(
            app().deploys_to("qa", Some("releases"), None).deploys,
            Location::new("releases", "deploys/qa/app")
        );
        assert_eq!(
            app().deploys_to("qa", None, Some("qa/app")).deploys,
            Location::new("releases", "qa/app")
        );
    }
}
