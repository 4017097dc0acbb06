//! The Concourse side: the JSON each step reads on stdin and writes on stdout, and `source`
//! parsed strictly (an unknown field is an error that names it) and then validated once into a
//! [`ResourceConfig`] that holds only usable values, with every default resolved.

use std::fmt;

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::store::Location;

/// A Concourse version: `{"version": "12", "version_id": "<S3 VersionId>"}`. The S3 version id
/// is the identity; `version` is the release number, for people reading the UI.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Version {
    /// The release number, as a string.
    pub version: String,
    /// The S3 VersionId of the record.
    pub version_id: String,
}

impl Version {
    /// The version of release `number` stored as S3 version `version_id`.
    pub fn new(number: u64, version_id: impl Into<String>) -> Self {
        Version {
            version: number.to_string(),
            version_id: version_id.into(),
        }
    }

    fn validate(&self, field: &str) -> Result<()> {
        if self.version.is_empty() || self.version_id.is_empty() {
            return Err(Error::InvalidRequest(format!(
                "{field}: \"version\" and \"version_id\" must not be empty"
            )));
        }
        Ok(())
    }
}

/// `source` as written in the pipeline. Every field is documented with its default; names of the
/// older tool and of concourse/s3-resource are accepted as aliases.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Source {
    /// Required: the bucket of release records.
    pub bucket: String,
    /// Required: the application's name.
    pub name: String,
    /// Object key of the release records. Default: `name`.
    pub key: Option<String>,
    /// When set, this resource tracks deploys of `name` to this environment.
    pub environment: Option<String>,
    /// Bucket of deploy records. Default: `bucket`.
    pub deploy_bucket: Option<String>,
    /// Key of deploy records. Default: `name` in a `deploy_bucket` of its own, else
    /// `deploys/<environment>/<name>`.
    pub deploy_key: Option<String>,
    /// Environments a release must have been deployed to before this one. Default: none.
    #[serde(default)]
    pub require_deployed_to: Vec<String>,
    /// AWS region. Default: `us-east-1`.
    #[serde(alias = "region_name")]
    pub region: Option<String>,
    /// An S3-compatible endpoint URL. Default: AWS.
    pub endpoint: Option<String>,
    /// Path-style addressing. Default: false.
    #[serde(default, alias = "use_path_style")]
    pub path_style: bool,
    /// Static access key id. Default: the AWS default credential chain.
    #[serde(alias = "aws_access_key_id")]
    pub access_key_id: Option<String>,
    /// Static secret access key, with `access_key_id`.
    #[serde(alias = "aws_secret_access_key")]
    pub secret_access_key: Option<Secret>,
    /// Session token of temporary static credentials.
    #[serde(alias = "aws_session_token")]
    pub session_token: Option<Secret>,
    /// A role to assume with the credentials above (or the default ones).
    #[serde(alias = "aws_role_arn")]
    pub role_arn: Option<String>,
    /// Debug logs on stderr. Default: false.
    #[serde(default)]
    pub debug: bool,
}

/// A credential. Its `Debug` never shows it, so no log can.
#[derive(Clone, Deserialize, PartialEq, Eq)]
#[serde(transparent)]
pub struct Secret(String);

impl Secret {
    /// The secret itself, for the one place that hands it to the SDK.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

/// A validated `source`: every default resolved, every value usable.
#[derive(Debug, Clone)]
pub struct ResourceConfig {
    /// The application's name.
    pub name: String,
    /// Where its release records live.
    pub releases: Location,
    /// Set for a deploy resource: the environment and where its deploy records live.
    pub deploys: Option<DeployTarget>,
    /// Environments a release must have reached before a deploy through this resource.
    pub require_deployed_to: Vec<String>,
    /// How to reach S3.
    pub connection: Connection,
    /// Whether debug logs are on.
    pub debug: bool,
}

/// The environment a deploy resource deploys to, and where its records live.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeployTarget {
    /// The environment's name.
    pub environment: String,
    /// The bucket and key of its deploy records.
    pub location: Location,
}

/// How to reach S3.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Connection {
    /// The region to sign for.
    pub region: String,
    /// A custom endpoint, or `None` for AWS.
    pub endpoint: Option<String>,
    /// Whether to address buckets in the path.
    pub path_style: bool,
    /// Static credentials, or `None` for the default chain.
    pub credentials: Option<StaticCredentials>,
    /// A role to assume.
    pub role_arn: Option<String>,
}

/// Credentials given in `source`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StaticCredentials {
    /// The access key id.
    pub access_key_id: String,
    /// The secret access key.
    pub secret_access_key: Secret,
    /// The session token of temporary credentials.
    pub session_token: Option<Secret>,
}

/// The region when `source` names none.
pub const DEFAULT_REGION: &str = "us-east-1";

impl Source {
    /// Checks every field once and resolves the defaults.
    pub fn validate(self) -> Result<ResourceConfig> {
        let invalid = |message: String| Err(Error::InvalidSource(message));
        for (field, value) in [
            ("bucket", Some(&self.bucket)),
            ("name", Some(&self.name)),
            ("key", self.key.as_ref()),
            ("environment", self.environment.as_ref()),
            ("deploy_bucket", self.deploy_bucket.as_ref()),
            ("deploy_key", self.deploy_key.as_ref()),
            ("region", self.region.as_ref()),
            ("endpoint", self.endpoint.as_ref()),
            ("access_key_id", self.access_key_id.as_ref()),
            ("role_arn", self.role_arn.as_ref()),
        ] {
            if value.is_some_and(|value| value.trim().is_empty()) {
                return invalid(format!("source.{field} must not be empty"));
            }
        }
        let releases = Location::new(&self.bucket, self.key.as_deref().unwrap_or(&self.name));

        let deploys = match &self.environment {
            Some(environment) => {
                let bucket = self.deploy_bucket.as_deref().unwrap_or(&self.bucket);
                let key = match &self.deploy_key {
                    Some(key) => key.clone(),
                    None if bucket != self.bucket => self.name.clone(),
                    None => default_deploy_key(environment, &self.name),
                };
                let location = Location::new(bucket, key);
                if location == releases {
                    return invalid(format!(
                        "the deploy records of {environment:?} would share {location} with the release records; set source.deploy_key to another key"
                    ));
                }
                Some(DeployTarget {
                    environment: environment.clone(),
                    location,
                })
            }
            None => {
                for (field, set) in [
                    ("deploy_bucket", self.deploy_bucket.is_some()),
                    ("deploy_key", self.deploy_key.is_some()),
                    ("require_deployed_to", !self.require_deployed_to.is_empty()),
                ] {
                    if set {
                        return invalid(format!(
                            "source.{field} is set but source.environment is not: only a deploy resource uses it"
                        ));
                    }
                }
                None
            }
        };

        if !self.require_deployed_to.is_empty() {
            if self.deploy_bucket.is_some() || self.deploy_key.is_some() {
                return invalid(
                    "source.require_deployed_to reads each environment's deploys at deploys/<environment>/<name> in source.bucket, so it cannot be combined with source.deploy_bucket or source.deploy_key".into(),
                );
            }
            for required in &self.require_deployed_to {
                if required.trim().is_empty() {
                    return invalid("source.require_deployed_to holds an empty environment".into());
                }
                if Some(required) == self.environment.as_ref() {
                    return invalid(format!(
                        "source.require_deployed_to names {required:?}, the environment this resource deploys to"
                    ));
                }
            }
        }

        if let Some(endpoint) = &self.endpoint {
            if !(endpoint.starts_with("http://") || endpoint.starts_with("https://")) {
                return invalid(format!(
                    "source.endpoint {endpoint:?} is not a URL: it must start with https:// or http://"
                ));
            }
        }

        let credentials = match (self.access_key_id, self.secret_access_key) {
            (Some(access_key_id), Some(secret_access_key)) => Some(StaticCredentials {
                access_key_id,
                secret_access_key,
                session_token: self.session_token,
            }),
            (None, None) if self.session_token.is_none() => None,
            (None, None) => {
                return invalid(
                    "source.session_token is set without source.access_key_id and source.secret_access_key".into(),
                );
            }
            (Some(_), None) => {
                return invalid(
                    "source.access_key_id is set without source.secret_access_key".into(),
                );
            }
            (None, Some(_)) => {
                return invalid(
                    "source.secret_access_key is set without source.access_key_id".into(),
                );
            }
        };

        Ok(ResourceConfig {
            name: self.name,
            releases,
            deploys,
            require_deployed_to: self.require_deployed_to,
            connection: Connection {
                region: self.region.unwrap_or_else(|| DEFAULT_REGION.to_owned()),
                endpoint: self.endpoint,
                path_style: self.path_style,
                credentials,
                role_arn: self.role_arn,
            },
            debug: self.debug,
        })
    }
}

/// The deploy key of `name` in `environment`, in the release bucket.
pub fn default_deploy_key(environment: &str, name: &str) -> String {
    format!("deploys/{environment}/{name}")
}

impl ResourceConfig {
    /// Where this resource's own versions live: the deploy records of a deploy resource, the
    /// release records otherwise.
    pub fn tracked(&self) -> &Location {
        match &self.deploys {
            Some(target) => &target.location,
            None => &self.releases,
        }
    }

    /// Where the deploy records of another `environment` live, for the promotion gate.
    pub fn deploys_of(&self, environment: &str) -> Location {
        Location::new(
            &self.releases.bucket,
            default_deploy_key(environment, &self.name),
        )
    }
}

/// `check`'s stdin.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CheckRequest {
    /// The resource's `source`.
    pub source: Source,
    /// The newest version Concourse knows; absent (or null) on the first check.
    #[serde(default)]
    pub version: Option<Version>,
}

/// `in`'s stdin.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InRequest {
    /// The resource's `source`.
    pub source: Source,
    /// The version to fetch.
    pub version: Version,
    /// `get` takes no params; any given is an error that names it.
    #[serde(default)]
    pub params: Option<InParams>,
}

/// The params of `get`: none yet, and an unknown one is an error.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InParams {}

/// `out`'s stdin.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OutRequest {
    /// The resource's `source`.
    pub source: Source,
    /// The put's params.
    #[serde(default)]
    pub params: OutParams,
}

/// The params of `put`. Paths are relative to the build directory `$1`. Which ones apply depends
/// on the resource: a release resource cuts a release, a deploy resource (`source.environment`)
/// deploys one.
#[derive(Debug, Default, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OutParams {
    /// Releases (required); deploys (optional, for the changelog): a git checkout.
    pub repository: Option<String>,
    /// Releases: the commit, as a ref or sha or a file holding one. Default: HEAD.
    pub commit: Option<String>,
    /// Releases: a file holding the image digest. Default: no image.
    pub image: Option<String>,
    /// Releases: who releases. Default: the commit's author email.
    pub author: Option<String>,
    /// Releases: only commits touching these paths make the changelog. Default: all.
    #[serde(default)]
    pub changelog_paths: Vec<String>,
    /// Both: allow going back to an older commit or release. Default: false.
    #[serde(default)]
    pub allow_rollback: bool,
    /// Releases: write a new release even when the commit is the latest release's. Default:
    /// false.
    #[serde(default)]
    pub force: bool,
    /// Deploys: a directory from a `get` of the release resource, naming the exact release.
    pub release: Option<String>,
    /// Deploys: a release number, or a file holding one. Default: the latest release.
    pub version: Option<serde_json::Value>,
}

/// One line of metadata in the Concourse UI.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MetadataField {
    /// The label.
    pub name: String,
    /// The value.
    pub value: String,
}

/// What `in` and `out` print: the version and its metadata (always present, maybe empty).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StepOutput {
    /// The version fetched or written.
    pub version: Version,
    /// What the UI shows beside it.
    pub metadata: Vec<MetadataField>,
}

/// Parses a step's stdin, naming the path of any field at fault (`source.buckit`).
pub fn parse_request<T: DeserializeOwned>(stdin: &[u8]) -> Result<T> {
    let mut deserializer = serde_json::Deserializer::from_slice(stdin);
    let request: T = serde_path_to_error::deserialize(&mut deserializer).map_err(|err| {
        let path = err.path().to_string();
        let inner = err.into_inner();
        if path == "." {
            Error::InvalidRequest(inner.to_string())
        } else {
            Error::InvalidRequest(format!("{path}: {inner}"))
        }
    })?;
    deserializer
        .end()
        .map_err(|err| Error::InvalidRequest(err.to_string()))?;
    Ok(request)
}

impl CheckRequest {
    /// Parses and validates `check`'s stdin.
    pub fn parse(stdin: &[u8]) -> Result<(ResourceConfig, Option<Version>)> {
        let request: CheckRequest = parse_request(stdin)?;
        if let Some(version) = &request.version {
            version.validate("version")?;
        }
        Ok((request.source.validate()?, request.version))
    }
}

impl InRequest {
    /// Parses and validates `in`'s stdin.
    pub fn parse(stdin: &[u8]) -> Result<(ResourceConfig, Version)> {
        let request: InRequest = parse_request(stdin)?;
        request.version.validate("version")?;
        Ok((request.source.validate()?, request.version))
    }
}

impl OutParams {
    /// Checks that the params fit the kind of resource: release params on a release resource,
    /// deploy params on a deploy resource, one way of naming a release.
    pub fn validate_for(&self, config: &ResourceConfig) -> Result<()> {
        let misplaced = |field: &str, kind: &str, why: &str| {
            Err(Error::InvalidParams(format!(
                "params.{field} is for {kind} resources, and source.environment {why}"
            )))
        };
        if config.deploys.is_none() {
            for (field, set) in [
                ("release", self.release.is_some()),
                ("version", self.version.is_some()),
            ] {
                if set {
                    return misplaced(field, "deploy", "is not set");
                }
            }
            return Ok(());
        }
        for (field, set) in [
            ("commit", self.commit.is_some()),
            ("image", self.image.is_some()),
            ("author", self.author.is_some()),
            ("changelog_paths", !self.changelog_paths.is_empty()),
            ("force", self.force),
        ] {
            if set {
                return misplaced(field, "release", "is set: a deploy copies its release");
            }
        }
        if self.release.is_some() && self.version.is_some() {
            return Err(Error::InvalidParams(
                "params.release and params.version both name a release: give one".into(),
            ));
        }
        Ok(())
    }
}

impl OutRequest {
    /// Parses and validates `out`'s stdin.
    pub fn parse(stdin: &[u8]) -> Result<(ResourceConfig, OutParams)> {
        let request: OutRequest = parse_request(stdin)?;
        Ok((request.source.validate()?, request.params))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn source(json: serde_json::Value) -> Result<ResourceConfig> {
        let request = serde_json::json!({ "source": json });
        CheckRequest::parse(request.to_string().as_bytes()).map(|(config, _)| config)
    }

    fn error(json: serde_json::Value) -> String {
        source(json).unwrap_err().to_string()
    }

    #[test]
    fn resolves_the_defaults_of_a_release_resource() {
        let config = source(serde_json::json!({"bucket": "b", "name": "app"})).unwrap();
        assert_eq!(config.releases, Location::new("b", "app"));
        assert_eq!(config.tracked(), &config.releases);
        assert_eq!(config.deploys, None);
        assert_eq!(config.connection.region, "us-east-1");
        assert_eq!(config.connection.credentials, None);
        assert!(!config.connection.path_style);
        assert!(!config.debug);
    }

    #[test]
    fn places_deploys_beside_releases_or_in_a_bucket_of_their_own() {
        let beside =
            source(serde_json::json!({"bucket": "b", "name": "app", "environment": "staging"}))
                .unwrap();
        assert_eq!(beside.tracked(), &Location::new("b", "deploys/staging/app"));

        let own_bucket = source(serde_json::json!({
            "bucket": "b", "name": "app", "environment": "production", "deploy_bucket": "prod"
        }))
        .unwrap();
        assert_eq!(own_bucket.tracked(), &Location::new("prod", "app"));

        let explicit = source(serde_json::json!({
            "bucket": "b", "name": "app", "key": "releases/app",
            "environment": "qa", "deploy_key": "qa/app"
        }))
        .unwrap();
        assert_eq!(explicit.releases, Location::new("b", "releases/app"));
        assert_eq!(explicit.tracked(), &Location::new("b", "qa/app"));
    }

    #[test]
    fn accepts_the_older_names() {
        let config = source(serde_json::json!({
            "bucket": "b", "name": "app",
            "aws_access_key_id": "AKID", "aws_secret_access_key": "SECRET",
            "aws_session_token": "TOKEN", "region_name": "eu-west-1",
            "use_path_style": true, "aws_role_arn": "arn:aws:iam::1:role/r"
        }))
        .unwrap();
        let credentials = config.connection.credentials.unwrap();
        assert_eq!(credentials.access_key_id, "AKID");
        assert_eq!(credentials.secret_access_key.expose(), "SECRET");
        assert_eq!(config.connection.region, "eu-west-1");
        assert!(config.connection.path_style);
        assert_eq!(
            config.connection.role_arn.as_deref(),
            Some("arn:aws:iam::1:role/r")
        );
    }

    #[test]
    fn names_an_unknown_field() {
        let message = error(serde_json::json!({"bucket": "b", "name": "app", "buckit": "x"}));
        assert!(
            message.starts_with("invalid request: source.buckit: unknown field `buckit`"),
            "{message}"
        );
    }

    #[test]
    fn names_a_missing_field() {
        let message = error(serde_json::json!({"name": "app"}));
        assert!(message.contains("missing field `bucket`"), "{message}");
    }

    #[test]
    fn refuses_contradictions() {
        for (json, expected) in [
            (
                serde_json::json!({"bucket": "", "name": "a"}),
                "source.bucket must not be empty",
            ),
            (
                serde_json::json!({"bucket": "b", "name": "a", "deploy_key": "x"}),
                "source.deploy_key is set but source.environment is not",
            ),
            (
                serde_json::json!({"bucket": "b", "name": "a", "environment": "e", "deploy_key": "a"}),
                "would share s3://b/a",
            ),
            (
                serde_json::json!({"bucket": "b", "name": "a", "environment": "e", "require_deployed_to": ["e"]}),
                "the environment this resource deploys to",
            ),
            (
                serde_json::json!({"bucket": "b", "name": "a", "access_key_id": "k"}),
                "without source.secret_access_key",
            ),
            (
                serde_json::json!({"bucket": "b", "name": "a", "endpoint": "localhost:9000"}),
                "is not a URL",
            ),
        ] {
            let message = error(json);
            assert!(message.contains(expected), "{message:?} lacks {expected:?}");
        }
    }

    #[test]
    fn never_shows_a_secret() {
        let config = source(serde_json::json!({
            "bucket": "b", "name": "a", "access_key_id": "k", "secret_access_key": "hunter2",
            "session_token": "tok3n"
        }))
        .unwrap();
        let shown = format!("{config:?}");
        assert!(
            !shown.contains("hunter2") && !shown.contains("tok3n"),
            "{shown}"
        );
    }

    #[test]
    fn takes_the_first_check_with_or_without_a_null_version() {
        for stdin in [
            r#"{"source": {"bucket": "b", "name": "a"}}"#,
            r#"{"source": {"bucket": "b", "name": "a"}, "version": null}"#,
        ] {
            let (_, version) = CheckRequest::parse(stdin.as_bytes()).unwrap();
            assert_eq!(version, None);
        }
        let stdin = r#"{"source": {"bucket": "b", "name": "a"}, "version": {"version": "", "version_id": "x"}}"#;
        assert!(CheckRequest::parse(stdin.as_bytes()).is_err());
    }

    #[test]
    fn refuses_params_for_get() {
        let stdin = r#"{"source": {"bucket": "b", "name": "a"}, "version": {"version": "1", "version_id": "x"}, "params": {"skip": true}}"#;
        let message = InRequest::parse(stdin.as_bytes()).unwrap_err().to_string();
        assert!(
            message.contains("params.skip: unknown field `skip`"),
            "{message}"
        );
    }

    #[test]
    fn out_params_must_fit_the_kind_of_resource() {
        let release = source(serde_json::json!({"bucket": "b", "name": "a"})).unwrap();
        let deploy =
            source(serde_json::json!({"bucket": "b", "name": "a", "environment": "e"})).unwrap();
        let params =
            |json: serde_json::Value| -> OutParams { serde_json::from_value(json).unwrap() };

        let release_params =
            params(serde_json::json!({"repository": "r", "image": "i", "force": true}));
        assert!(release_params.validate_for(&release).is_ok());
        let message = release_params
            .validate_for(&deploy)
            .unwrap_err()
            .to_string();
        assert!(
            message.contains("params.image is for release resources"),
            "{message}"
        );

        let deploy_params = params(serde_json::json!({"version": 3, "repository": "r"}));
        assert!(deploy_params.validate_for(&deploy).is_ok());
        let message = deploy_params
            .validate_for(&release)
            .unwrap_err()
            .to_string();
        assert!(
            message.contains("params.version is for deploy resources"),
            "{message}"
        );

        let both = params(serde_json::json!({"version": 3, "release": "r"}));
        assert!(both.validate_for(&deploy).is_err());
    }
}
