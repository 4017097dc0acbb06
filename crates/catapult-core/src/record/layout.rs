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

/// Where `environment`'s ad-hoc freezes live in the release bucket `bucket`: one key for every
/// application, since a freeze is of an environment.
fn freezes_in(bucket: &BucketName, environment: &EnvironmentName) -> Result<Location, String> {
    Ok(Location::new(
        bucket.clone(),
        ObjectKey::parse(
            "a key of the promotion rules",
            &super::freeze::freezes_key(environment),
        )?,
    ))
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
        freezes_in(&self.releases.bucket, environment)
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

/// A deploy asked for an environment the layout does not declare: a typo (`prod` for
/// `production`) that would otherwise start a new environment beside the real one, and skip its
/// gate. Its text names the declared environments and the closest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UndeclaredEnvironment {
    /// The environment asked for.
    pub name: EnvironmentName,
    /// The declared environments, in the layout's order.
    pub declared: Vec<EnvironmentName>,
    /// The declared environment closest to the name, if one is close enough to be meant.
    pub closest: Option<EnvironmentName>,
}

impl std::fmt::Display for UndeclaredEnvironment {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let declared: Vec<&str> = self.declared.iter().map(|env| env.as_str()).collect();
        write!(
            f,
            "environment {:?} is not declared (the environments are {})",
            self.name.as_str(),
            declared.join(", ")
        )?;
        if let Some(closest) = &self.closest {
            write!(f, "; did you mean {:?}?", closest.as_str())?;
        }
        Ok(())
    }
}

impl Layout {
    /// The declared environments in promotion order: each after the environments its
    /// `require_deployed_to` names (a topological order of the gates), the file's order
    /// otherwise and between environments the gates do not order. Environments in a cycle of
    /// gates (which no release can pass) come last, in the file's order.
    pub fn promotion_order(&self) -> Vec<&EnvironmentName> {
        let count = self.environments.len();
        let index_of = |name: &EnvironmentName| {
            self.environments
                .iter()
                .position(|environment| environment.name == *name)
        };
        // For each environment, the declared environments it waits for.
        let waits_for: Vec<Vec<usize>> = self
            .environments
            .iter()
            .map(|environment| {
                environment
                    .require_deployed_to
                    .iter()
                    .filter_map(|gate| index_of(&gate.environment))
                    .collect()
            })
            .collect();
        let mut placed = vec![false; count];
        let mut order = Vec::with_capacity(count);
        // Each step places the first environment (in the file's order) whose gates are placed.
        while let Some(next) = (0..count)
            .find(|&index| !placed[index] && waits_for[index].iter().all(|&gate| placed[gate]))
        {
            placed[next] = true;
            order.push(&self.environments[next].name);
        }
        order.extend(
            (0..count)
                .filter(|&index| !placed[index])
                .map(|index| &self.environments[index].name),
        );
        order
    }

    /// Where `environment`'s ad-hoc freezes live: `freezes/<env>` in the release bucket, as
    /// [`App::freezes`] says for each application.
    pub fn freezes(&self, environment: &EnvironmentName) -> Result<Location, String> {
        freezes_in(&self.releases_bucket, environment)
    }

    /// Whether a deploy to `environment` is to one the layout declares: always when it
    /// declares none (every environment then lives at the default layout).
    pub fn check_declared(
        &self,
        environment: &EnvironmentName,
    ) -> Result<(), UndeclaredEnvironment> {
        if self.environments.is_empty() || self.environment_layout(environment).is_some() {
            return Ok(());
        }
        let declared: Vec<EnvironmentName> = self
            .environments
            .iter()
            .map(|env| env.name.clone())
            .collect();
        Err(UndeclaredEnvironment {
            closest: closest(environment, &declared).cloned(),
            name: environment.clone(),
            declared,
        })
    }
}

/// The candidate `name` most likely means, if any, among those within half the longer name's
/// length of edits of it (letters compared without case) or that `name` abbreviates (`prod`,
/// `prd` of `production`; `stg` of `staging`): one that `name` begins first, then the fewest
/// edits away, then the first in order.
pub fn closest<'a>(name: &str, candidates: &'a [EnvironmentName]) -> Option<&'a EnvironmentName> {
    let name = name.to_lowercase();
    candidates
        .iter()
        .filter_map(|candidate| {
            let candidate_text = candidate.to_lowercase();
            let distance = edit_distance(&name, &candidate_text);
            let longer = name.chars().count().max(candidate_text.chars().count());
            let close = distance * 2 <= longer || is_abbreviation(&name, &candidate_text);
            let begins = candidate_text.starts_with(&name);
            close.then_some(((!begins, distance), candidate))
        })
        .min_by_key(|(rank, _)| *rank)
        .map(|(_, candidate)| candidate)
}

/// The Levenshtein distance of `a` and `b`: the fewest insertions, deletions and substitutions of
/// characters that make one the other.
pub fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut previous: Vec<usize> = (0..=b.len()).collect();
    for (i, a_char) in a.chars().enumerate() {
        let mut current = Vec::with_capacity(b.len() + 1);
        current.push(i + 1);
        for (j, b_char) in b.iter().enumerate() {
            let substitution = previous[j] + usize::from(a_char != *b_char);
            current.push(substitution.min(previous[j + 1] + 1).min(current[j] + 1));
        }
        previous = current;
    }
    previous[b.len()]
}

/// Whether `short` abbreviates `long`: shorter, the same first letter, and its letters found in
/// `long` in order.
fn is_abbreviation(short: &str, long: &str) -> bool {
    let mut long_chars = long.chars();
    short.chars().count() < long.chars().count()
        && short.chars().next().is_some()
        && short.chars().next() == long.chars().next()
        && short.chars().all(|c| long_chars.any(|l| l == c))
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

    fn gated(environments: &[(&str, &[&str])]) -> Layout {
        Layout {
            releases_bucket: bucket("releases"),
            environments: environments
                .iter()
                .map(|(name, gates)| EnvironmentLayout {
                    name: env(name),
                    deploy_bucket: None,
                    deploy_key: None,
                    require_deployed_to: gates
                        .iter()
                        .map(|gate| GateSpec {
                            environment: env(gate),
                            soak: None,
                        })
                        .collect(),
                    require_approval: false,
                    freeze: vec![],
                })
                .collect(),
        }
    }

    fn names(order: Vec<&EnvironmentName>) -> Vec<&str> {
        order.into_iter().map(|name| name.as_str()).collect()
    }

    #[test]
    fn environments_read_in_promotion_order() {
        // Written production first: the gate puts staging before it.
        let layout = gated(&[("production", &["staging"]), ("staging", &[])]);
        assert_eq!(names(layout.promotion_order()), ["staging", "production"]);
        // A chain, written backwards, and an environment no gate orders keeps its place.
        let layout = gated(&[
            ("production", &["staging"]),
            ("sandbox", &[]),
            ("staging", &["qa"]),
            ("qa", &[]),
        ]);
        assert_eq!(
            names(layout.promotion_order()),
            ["sandbox", "qa", "staging", "production"]
        );
        // Two gates; the file's order between environments the gates leave unordered.
        let layout = gated(&[
            ("production", &["staging-eu", "staging-us"]),
            ("staging-us", &[]),
            ("staging-eu", &[]),
        ]);
        assert_eq!(
            names(layout.promotion_order()),
            ["staging-us", "staging-eu", "production"]
        );
        // No gates: the file's order. A cycle: last, in the file's order.
        let layout = gated(&[("b", &[]), ("a", &[])]);
        assert_eq!(names(layout.promotion_order()), ["b", "a"]);
        let layout = gated(&[("x", &["y"]), ("dev", &[]), ("y", &["x"])]);
        assert_eq!(names(layout.promotion_order()), ["dev", "x", "y"]);
    }

    #[test]
    fn a_deploy_to_an_undeclared_environment_names_the_declared_and_the_closest() {
        let layout = layout();
        assert_eq!(layout.check_declared(&env("production")), Ok(()));
        let refused = layout.check_declared(&env("prod")).unwrap_err();
        assert_eq!(
            refused.declared,
            [env("staging"), env("production"), env("qa")]
        );
        assert_eq!(refused.closest, Some(env("production")));
        assert_eq!(
            refused.to_string(),
            "environment \"prod\" is not declared (the environments are staging, production, qa); did you mean \"production\"?"
        );
        let refused = layout.check_declared(&env("uat")).unwrap_err();
        assert_eq!(refused.closest, None);
        assert!(!refused.to_string().contains("did you mean"), "{refused}");
        // A layout that declares no environment takes any (each at the default layout).
        let open = Layout {
            releases_bucket: bucket("releases"),
            environments: vec![],
        };
        assert_eq!(open.check_declared(&env("anything")), Ok(()));
    }

    #[test]
    fn the_closest_environment_is_a_typo_or_an_abbreviation_away() {
        let declared = [env("staging"), env("production"), env("preprod")];
        for (typed, meant) in [
            ("prod", Some("production")),
            ("prd", Some("preprod")),
            ("prodution", Some("production")),
            ("Production", Some("production")),
            ("stagin", Some("staging")),
            ("stage", Some("staging")),
            ("stg", Some("staging")),
            ("pre", Some("preprod")),
            ("preprd", Some("preprod")),
            ("qa", None),
            ("dev", None),
            ("test", None),
        ] {
            assert_eq!(
                closest(typed, &declared).map(|env| env.as_str()),
                meant,
                "{typed}"
            );
        }
        let declared = [env("staging"), env("production")];
        assert_eq!(closest("prd", &declared), Some(&env("production")));
    }

    #[test]
    fn edit_distance_counts_insertions_deletions_and_substitutions() {
        assert_eq!(edit_distance("", ""), 0);
        assert_eq!(edit_distance("prod", "prod"), 0);
        assert_eq!(edit_distance("", "qa"), 2);
        assert_eq!(edit_distance("kitten", "sitting"), 3);
        assert_eq!(edit_distance("prod", "production"), 6);
        assert_eq!(edit_distance("é", "e"), 1);
    }

    #[test]
    fn a_default_deploy_key_too_long_for_s3_is_refused() {
        let long = env(&"e".repeat(1020));
        let error = app().deploys_to(&long, None, None).unwrap_err();
        assert!(error.contains("more than the 1024"), "{error}");
    }
}
