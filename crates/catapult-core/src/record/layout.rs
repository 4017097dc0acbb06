//! Where records live: an application and the place of its releases, an environment and the
//! place of its deploys (with the promotion gate), and the layout of a whole bucket of
//! applications for a front-end that serves many (the command line). Concourse's `source` and
//! the command line's configuration are both turned into these types, and the layout rules of
//! the record keys are kept here alone, so that the two front-ends can never disagree about
//! where a record lives.

use jiff::SignedDuration;

use crate::store::{BucketName, Location, ObjectKey};

use super::freeze::FreezeWindow;
use super::names::{AppName, EnvironmentName};

/// An application: its name and where its release records live.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct App {
    /// The application's name.
    pub name: AppName,
    /// The bucket and key of its release records.
    pub releases: Location,
}

/// An environment an application is deployed to, and what it asks of a release first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Environment {
    /// Where its deploy records live, and its name.
    pub place: EnvironmentPlace,
    /// Environments a release must have reached before it is deployed here (the promotion
    /// gate), each perhaps for a while (soak time).
    pub require_deployed_to: Vec<GateRequirement>,
    /// Whether a release needs an approval, by someone other than its author, to be deployed
    /// here.
    pub require_approval: bool,
    /// When deploys here are frozen.
    pub freeze: Vec<FreezeWindow>,
}

/// One environment of the promotion gate: a release must have been deployed there, and, with a
/// soak time, must have run there at least that long.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GateRequirement {
    /// The environment, and where its deploys live.
    pub place: EnvironmentPlace,
    /// How long the release must have been the current deploy there (`for: "30m"`).
    pub soak: Option<SignedDuration>,
}

/// Reads a duration, `30m`, `2h`, `1h30m` or `30d` (days of 24 hours), such as a soak time or
/// a window of metrics; the error names `field`.
pub fn parse_duration(field: &str, text: &str) -> Result<SignedDuration, String> {
    let invalid = || format!("{field} {text:?} is not a duration (like 30m, 2h, 1h30m or 1d)");
    let text = text.trim();
    let duration = match text.strip_suffix('d').map(str::parse::<u32>) {
        Some(Ok(days)) => SignedDuration::from_hours(i64::from(days) * 24),
        _ => text.parse::<SignedDuration>().map_err(|_| invalid())?,
    };
    if duration.is_negative() || duration.is_zero() {
        return Err(invalid());
    }
    Ok(duration)
}

/// An environment's name and the bucket and key of its deploy records.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EnvironmentPlace {
    /// The environment's name.
    pub name: EnvironmentName,
    /// Where its deploy records live.
    pub deploys: Location,
}

impl Environment {
    /// The environment's name.
    pub fn name(&self) -> &EnvironmentName {
        &self.place.name
    }

    /// Where its deploy records live.
    pub fn deploys(&self) -> &Location {
        &self.place.deploys
    }
}

/// The key of `name`'s deploys to `environment` in the release bucket (the default layout).
pub fn default_deploy_key(environment: &str, name: &str) -> String {
    format!("{DEFAULT_DEPLOY_PREFIX}{environment}/{name}")
}

impl App {
    /// The application `name`, its release records at `releases`.
    pub fn new(name: AppName, releases: Location) -> Self {
        App { name, releases }
    }

    /// The application `name` with its release records at key `name` of `bucket`.
    pub fn in_bucket(name: AppName, bucket: BucketName) -> Self {
        let key = ObjectKey::from_checked(name.as_str().to_owned());
        App {
            releases: Location::new(bucket, key),
            name,
        }
    }

    /// Where this application's approvals for `environment` live: `approvals/<env>/<name>` in
    /// the release bucket.
    pub fn approvals(&self, environment: &EnvironmentName) -> Result<Location, String> {
        self.rule_key(super::approval::approvals_key(environment, &self.name))
    }

    /// Where this application's hold clearings for `environment` live: `holds/<env>/<name>`
    /// in the release bucket.
    pub fn holds(&self, environment: &EnvironmentName) -> Result<Location, String> {
        self.rule_key(super::hold::holds_key(environment, &self.name))
    }

    /// Where `environment`'s ad-hoc freezes live: `freezes/<env>` in the release bucket.
    pub fn freezes(&self, environment: &EnvironmentName) -> Result<Location, String> {
        self.rule_key(super::freeze::freezes_key(environment))
    }

    fn rule_key(&self, key: String) -> Result<Location, String> {
        Ok(Location::new(
            self.releases.bucket.clone(),
            ObjectKey::parse("a key of the promotion rules", &key)?,
        ))
    }

    /// Where the deploys of this application to `environment` live: `deploy_key` (default:
    /// the application's name in a `deploy_bucket` of its own, the older tool's layout; else
    /// `deploys/<environment>/<name>` in the release bucket) in `deploy_bucket` (default: the
    /// release bucket). The error says that the key these names make is too long for S3.
    pub fn deploys_to(
        &self,
        environment: &EnvironmentName,
        deploy_bucket: Option<&BucketName>,
        deploy_key: Option<&ObjectKey>,
    ) -> Result<EnvironmentPlace, String> {
        let bucket = deploy_bucket.unwrap_or(&self.releases.bucket);
        let key = match deploy_key {
            Some(key) => key.clone(),
            None if *bucket != self.releases.bucket => {
                ObjectKey::from_checked(self.name.as_str().to_owned())
            }
            None => ObjectKey::parse(
                &format!("the key of {environment:?}'s deploy records"),
                &default_deploy_key(environment, &self.name),
            )?,
        };
        Ok(EnvironmentPlace {
            name: environment.clone(),
            deploys: Location::new(bucket.clone(), key),
        })
    }
}

/// Where every application's records live, for a front-end that serves many applications (the
/// command line's configuration): the release bucket, and each environment's layout.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Layout {
    /// The bucket of release records; each application's key is its name.
    pub releases_bucket: BucketName,
    /// The environments, in the order they are shown.
    pub environments: Vec<EnvironmentLayout>,
}

/// Where one environment's deploy records live, for every application.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EnvironmentLayout {
    /// The environment's name.
    pub name: EnvironmentName,
    /// Its bucket of deploy records; `None`: the release bucket.
    pub deploy_bucket: Option<BucketName>,
    /// The key of an application's deploys, with [`NAME_PLACEHOLDER`] standing for its name;
    /// `None`: the default of [`App::deploys_to`].
    pub deploy_key: Option<String>,
    /// Environments a release must have reached before it is deployed here, each perhaps for
    /// a while.
    pub require_deployed_to: Vec<GateSpec>,
    /// Whether a release needs an approval to be deployed here.
    pub require_approval: bool,
    /// When deploys here are frozen.
    pub freeze: Vec<FreezeWindow>,
}

/// An environment of a layout's gate, by name, and its soak time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GateSpec {
    /// The environment.
    pub environment: EnvironmentName,
    /// How long a release must have run there.
    pub soak: Option<SignedDuration>,
}

/// What stands for an application's name in an [`EnvironmentLayout::deploy_key`].
pub const NAME_PLACEHOLDER: &str = "{name}";

/// The prefix of every deploy record's key at the default layout.
pub const DEFAULT_DEPLOY_PREFIX: &str = "deploys/";

/// The prefixes of the keys the promotion rules keep in the release bucket: approvals, hold
/// clearings, freezes. No application's releases live there.
pub const RULE_PREFIXES: [&str; 3] = [
    super::approval::APPROVALS_PREFIX,
    super::hold::HOLDS_PREFIX,
    super::freeze::FREEZES_PREFIX,
];

impl Layout {
    /// The application `name`, its releases at key `name` in the release bucket.
    pub fn app(&self, name: &AppName) -> App {
        App::in_bucket(name.clone(), self.releases_bucket.clone())
    }

    /// The environment called `name`, if the layout has it.
    pub fn environment_layout(&self, name: &str) -> Option<&EnvironmentLayout> {
        self.environments.iter().find(|env| env.name == name)
    }

    /// Where `app`'s deploys to `environment` live: as the layout says, or at the default layout
    /// for an environment it does not name.
    pub fn place(
        &self,
        app: &App,
        environment: &EnvironmentName,
    ) -> Result<EnvironmentPlace, String> {
        match self.environment_layout(environment) {
            Some(layout) => layout.place(app),
            None => app.deploys_to(environment, None, None),
        }
    }

    /// `environment` of `app`, with its rules, each gate environment at its own place.
    pub fn environment(
        &self,
        app: &App,
        environment: &EnvironmentName,
    ) -> Result<Environment, String> {
        let layout = self.environment_layout(environment);
        let gate = layout
            .map(|layout| layout.require_deployed_to.as_slice())
            .unwrap_or_default();
        Ok(Environment {
            place: self.place(app, environment)?,
            require_deployed_to: gate
                .iter()
                .map(|spec| {
                    Ok(GateRequirement {
                        place: self.place(app, &spec.environment)?,
                        soak: spec.soak,
                    })
                })
                .collect::<Result<_, String>>()?,
            require_approval: layout.is_some_and(|layout| layout.require_approval),
            freeze: layout
                .map(|layout| layout.freeze.clone())
                .unwrap_or_default(),
        })
    }

    /// Whether `key` of the release bucket holds deploy records (or the promotion rules'
    /// records) rather than an application's releases: a key under the default layout's
    /// `deploys/` or a rule's prefix, or one an environment's `deploy_key` makes in the release
    /// bucket.
    pub fn is_deploy_key(&self, key: &str) -> bool {
        key.starts_with(DEFAULT_DEPLOY_PREFIX)
            || RULE_PREFIXES.iter().any(|prefix| key.starts_with(prefix))
            || self.environments.iter().any(|env| {
                env.deploy_bucket
                    .as_ref()
                    .is_none_or(|bucket| *bucket == self.releases_bucket)
                    && env
                        .deploy_key
                        .as_deref()
                        .is_some_and(|template| template_matches(template, key))
            })
    }

    /// The buckets that hold records: the release bucket first, then each environment's own.
    pub fn buckets(&self) -> Vec<&BucketName> {
        let mut buckets = vec![&self.releases_bucket];
        for env in &self.environments {
            if let Some(bucket) = env.deploy_bucket.as_ref() {
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
    pub fn place(&self, app: &App) -> Result<EnvironmentPlace, String> {
        let key = self
            .deploy_key
            .as_ref()
            .map(|template| {
                ObjectKey::parse(
                    &format!(
                        "[deploy.{}] deploy_key for {:?}",
                        self.name,
                        app.name.as_str()
                    ),
                    &template.replace(NAME_PLACEHOLDER, &app.name),
                )
            })
            .transpose()?;
        app.deploys_to(&self.name, self.deploy_bucket.as_ref(), key.as_ref())
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::fixtures::{at, bucket, env, key};

    fn layout() -> Layout {
        Layout {
            releases_bucket: bucket("releases"),
            environments: vec![
                EnvironmentLayout {
                    name: env("staging"),
                    deploy_bucket: None,
                    deploy_key: None,
                    require_deployed_to: vec![],
                    require_approval: false,
                    freeze: vec![],
                },
                EnvironmentLayout {
                    name: env("production"),
                    deploy_bucket: Some(bucket("prod")),
                    deploy_key: None,
                    require_deployed_to: vec![GateSpec {
                        environment: env("staging"),
                        soak: None,
                    }],
                    require_approval: false,
                    freeze: vec![],
                },
                EnvironmentLayout {
                    name: env("qa"),
                    deploy_bucket: None,
                    deploy_key: Some("qa-deploys/{name}.json".into()),
                    require_deployed_to: vec![],
                    require_approval: false,
                    freeze: vec![],
                },
            ],
        }
    }

    fn api() -> AppName {
        crate::record::fixtures::name("api")
    }

    #[test]
    fn a_layout_places_every_application_and_its_gate() {
        let layout = layout();
        let app = layout.app(&api());
        assert_eq!(app.releases, at("releases", "api"));
        let production = layout.environment(&app, &env("production")).unwrap();
        assert_eq!(production.deploys(), &at("prod", "api"));
        assert_eq!(
            production.require_deployed_to[0].place.deploys,
            at("releases", "deploys/staging/api")
        );
        assert_eq!(
            layout.place(&app, &env("qa")).unwrap().deploys,
            at("releases", "qa-deploys/api.json")
        );
        assert_eq!(
            layout.place(&app, &env("dev")).unwrap().deploys,
            at("releases", "deploys/dev/api")
        );
        assert_eq!(layout.buckets(), vec![&bucket("releases"), &bucket("prod")]);
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
        crate::record::fixtures::app("app", "releases")
    }

    #[test]
    fn deploys_live_beside_releases_or_in_a_bucket_of_their_own() {
        assert_eq!(
            app()
                .deploys_to(&env("staging"), None, None)
                .unwrap()
                .deploys,
            at("releases", "deploys/staging/app")
        );
        assert_eq!(
            app()
                .deploys_to(&env("production"), Some(&bucket("prod")), None)
                .unwrap()
                .deploys,
            at("prod", "app")
        );
        assert_eq!(
            app()
                .deploys_to(&env("qa"), Some(&bucket("releases")), None)
                .unwrap()
                .deploys,
            at("releases", "deploys/qa/app")
        );
        assert_eq!(
            app()
                .deploys_to(&env("qa"), None, Some(&key("qa/app")))
                .unwrap()
                .deploys,
            at("releases", "qa/app")
        );
    }

    #[test]
    fn a_default_deploy_key_too_long_for_s3_is_refused() {
        let long = env(&"e".repeat(1020));
        let error = app().deploys_to(&long, None, None).unwrap_err();
        assert!(error.contains("more than the 1024"), "{error}");
    }
}
