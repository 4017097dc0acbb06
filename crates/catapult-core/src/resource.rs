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

/// Where every application's records live, for a front-end that serves many applications (the
/// command line's configuration): the release bucket, and each environment's layout.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Layout {
    /// The bucket of release records; each application's key is its name.
    pub releases_bucket: String,
    /// The environments, in the order they are shown.
    pub environments: Vec<EnvironmentLayout>,
}

/// Where one environment's deploy records live, for every application.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EnvironmentLayout {
    /// The environment's name.
    pub name: String,
    /// Its bucket of deploy records; `None`: the release bucket.
    pub deploy_bucket: Option<String>,
    /// The key of an application's deploys, with [`NAME_PLACEHOLDER`] standing for its name;
    /// `None`: the default of [`App::deploys_to`].
    pub deploy_key: Option<String>,
    /// Environments a release must have reached before it is deployed here.
    pub require_deployed_to: Vec<String>,
}

/// What stands for an application's name in an [`EnvironmentLayout::deploy_key`].
pub const NAME_PLACEHOLDER: &str = "{name}";

/// The prefix of every deploy record's key at the default layout.
pub const DEFAULT_DEPLOY_PREFIX: &str = "deploys/";

impl Layout {
    /// The application `name`, its releases at key `name` in the release bucket.
    pub fn app(&self, name: &str) -> App {
        App {
            name: name.to_owned(),
            releases: Location::new(&self.releases_bucket, name),
        }
    }

    /// The environment called `name`, if the layout has it.
    pub fn environment_layout(&self, name: &str) -> Option<&EnvironmentLayout> {
        self.environments.iter().find(|env| env.name == name)
    }

    /// Where `app`'s deploys to `environment` live: as the layout says, or at the default layout
    /// for an environment it does not name.
    pub fn place(&self, app: &App, environment: &str) -> EnvironmentPlace {
        match self.environment_layout(environment) {
            Some(layout) => layout.place(app),
            None => app.deploys_to(environment, None, None),
        }
    }

    /// `environment` of `app`, with its promotion gate, each gate environment at its own place.
    pub fn environment(&self, app: &App, environment: &str) -> Environment {
        let gate = self
            .environment_layout(environment)
            .map(|layout| layout.require_deployed_to.as_slice())
            .unwrap_or_default();
        Environment {
            place: self.place(app, environment),
            require_deployed_to: gate.iter().map(|name| self.place(app, name)).collect(),
        }
    }

    /// Whether `key` of the release bucket holds deploy records rather than an application's
    /// releases: a key under the default layout's `deploys/`, or one an environment's
    /// `deploy_key` makes in the release bucket.
    pub fn is_deploy_key(&self, key: &str) -> bool {
        key.starts_with(DEFAULT_DEPLOY_PREFIX)
            || self.environments.iter().any(|env| {
                env.deploy_bucket
                    .as_deref()
                    .is_none_or(|bucket| bucket == self.releases_bucket)
                    && env
                        .deploy_key
                        .as_deref()
                        .is_some_and(|template| template_matches(template, key))
            })
    }

    /// The buckets that hold records: the release bucket first, then each environment's own.
    pub fn buckets(&self) -> Vec<&str> {
        let mut buckets = vec![self.releases_bucket.as_str()];
        for env in &self.environments {
            if let Some(bucket) = env.deploy_bucket.as_deref() {
                if !buckets.contains(&bucket) {
                    buckets.push(bucket);
                }
            }
        }
        buckets
    }
}

impl EnvironmentLayout {
    /// Where `app`'s deploys to this environment live.
    pub fn place(&self, app: &App) -> EnvironmentPlace {
        let key = self
            .deploy_key
            .as_ref()
            .map(|template| template.replace(NAME_PLACEHOLDER, &app.name));
        app.deploys_to(&self.name, self.deploy_bucket.as_deref(), key.as_deref())
    }
}

/// Whether `key` is what `template` makes of some non-empty name.
fn template_matches(template: &str, key: &str) -> bool {
    match template.split_once(NAME_PLACEHOLDER) {
        Some((before, after)) => {
            key.len() > before.len() + after.len()
                && key.starts_with(before)
                && key.ends_with(after)
        }
        None => key == template,
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

    fn layout() -> Layout {
        Layout {
            releases_bucket: "releases".into(),
            environments: vec![
                EnvironmentLayout {
                    name: "staging".into(),
                    deploy_bucket: None,
                    deploy_key: None,
                    require_deployed_to: vec![],
                },
                EnvironmentLayout {
                    name: "production".into(),
                    deploy_bucket: Some("prod".into()),
                    deploy_key: None,
                    require_deployed_to: vec!["staging".into()],
                },
                EnvironmentLayout {
                    name: "qa".into(),
                    deploy_bucket: None,
                    deploy_key: Some("qa-deploys/{name}.json".into()),
                    require_deployed_to: vec![],
                },
            ],
        }
    }

    #[test]
    fn a_layout_places_every_application_and_its_gate() {
        let layout = layout();
        let app = layout.app("api");
        assert_eq!(app.releases, Location::new("releases", "api"));
        let production = layout.environment(&app, "production");
        assert_eq!(production.deploys(), &Location::new("prod", "api"));
        assert_eq!(
            production.require_deployed_to[0].deploys,
            Location::new("releases", "deploys/staging/api")
        );
        assert_eq!(
            layout.place(&app, "qa").deploys,
            Location::new("releases", "qa-deploys/api.json")
        );
        assert_eq!(
            layout.place(&app, "dev").deploys,
            Location::new("releases", "deploys/dev/api")
        );
        assert_eq!(layout.buckets(), vec!["releases", "prod"]);
    }

    #[test]
    fn a_layout_tells_deploy_keys_from_applications() {
        let layout = layout();
        assert!(layout.is_deploy_key("deploys/staging/api"));
        assert!(layout.is_deploy_key("qa-deploys/api.json"));
        assert!(!layout.is_deploy_key("qa-deploys/.json"));
        assert!(!layout.is_deploy_key("api"));
        assert!(!layout.is_deploy_key("deploy"));
    }

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
