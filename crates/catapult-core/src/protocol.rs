//! The Concourse side: the JSON each step reads on stdin and writes on stdout, and `source`
//! parsed strictly (an unknown field is an error that names it) and then validated once into a
//! [`ResourceConfig`] that holds only usable values, with every default resolved. Whatever
//! arrives here may be hostile: over-long names, control characters, secrets of the wrong type;
//! each is refused with an error that names the field and never echoes a secret.

use serde::de::{self, DeserializeOwned, Visitor};
use serde::{Deserialize, Deserializer, Serialize};

use crate::compat;
use crate::error::{Error, Result};
use crate::location::Location;
use crate::resource::{
    App, DeployResource, Environment, EnvironmentPlace, ReleaseResource, Resource, ResourceConfig,
};
use crate::store::s3::{Connection, Secret, StaticCredentials};

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
}

/// A version as Concourse hands it to `check` or `in`: this resource's own shape, or one the
/// older resource emitted, which Concourse still holds after the resource type is switched
/// (see [`compat::resolve_version`]).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GivenVersion {
    /// The release number.
    pub version: String,
    /// This resource's identity: the record's S3 VersionId.
    #[serde(default)]
    pub version_id: Option<String>,
    /// The older deploy resource's identity: the deploy record's S3 VersionId.
    #[serde(default)]
    pub deploy: Option<String>,
}

/// `source` as written in the pipeline. Every field is documented with its default; names of the
/// older tool and of concourse/s3-resource are accepted as aliases (see [`compat`]).
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
    /// Environments a release must have been deployed to before this one: names (their
    /// deploys at the default layout in `bucket`) or `{environment, deploy_bucket, deploy_key}`.
    /// Default: none.
    #[serde(default)]
    pub require_deployed_to: Vec<GateEntry>,
    /// PEM certificates to trust besides the system's. Default: none.
    #[serde(default)]
    pub ca_certs: Vec<String>,
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
    #[serde(default, alias = "aws_secret_access_key", deserialize_with = "secret")]
    pub secret_access_key: Option<Secret>,
    /// Session token of temporary static credentials.
    #[serde(default, alias = "aws_session_token", deserialize_with = "secret")]
    pub session_token: Option<Secret>,
    /// A role to assume with the credentials above (or the default ones).
    #[serde(alias = "aws_role_arn")]
    pub role_arn: Option<String>,
    /// Debug logs on stderr. Default: false.
    #[serde(default)]
    pub debug: bool,
    /// The older resource's switch for a deploy resource (see [`compat`]).
    pub is_deploy: Option<bool>,
    /// The older resource's switch for releases without an image (see [`compat`]).
    pub has_image: Option<bool>,
}

/// One entry of `require_deployed_to`: an environment's name, or where its deploys live.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(untagged)]
pub enum GateEntry {
    /// An environment at the default layout in the release bucket.
    Name(String),
    /// An environment at a layout of its own.
    Place(GatePlace),
}

/// An environment of the promotion gate whose deploys live elsewhere.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GatePlace {
    /// The environment's name.
    pub environment: String,
    /// Its deploy bucket. Default: `bucket`.
    pub deploy_bucket: Option<String>,
    /// Its deploy key. Default: as for the resource's own `deploy_key`.
    pub deploy_key: Option<String>,
}

/// A credential: a string, or an error that never shows what was given instead (an all-digit
/// secret in a YAML vars file arrives as a number).
fn secret<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<Secret>, D::Error> {
    struct SecretVisitor;
    impl<'de> Visitor<'de> for SecretVisitor {
        type Value = Option<Secret>;
        fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("a string")
        }
        fn visit_str<E: de::Error>(self, value: &str) -> Result<Self::Value, E> {
            Ok(Some(Secret::new(value)))
        }
        fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_bool<E: de::Error>(self, _: bool) -> Result<Self::Value, E> {
            Err(not_a_string())
        }
        fn visit_i64<E: de::Error>(self, _: i64) -> Result<Self::Value, E> {
            Err(not_a_string())
        }
        fn visit_u64<E: de::Error>(self, _: u64) -> Result<Self::Value, E> {
            Err(not_a_string())
        }
        fn visit_f64<E: de::Error>(self, _: f64) -> Result<Self::Value, E> {
            Err(not_a_string())
        }
        fn visit_seq<A: de::SeqAccess<'de>>(self, _: A) -> Result<Self::Value, A::Error> {
            Err(not_a_string())
        }
        fn visit_map<A: de::MapAccess<'de>>(self, _: A) -> Result<Self::Value, A::Error> {
            Err(not_a_string())
        }
    }
    fn not_a_string<E: de::Error>() -> E {
        E::custom(
            "a credential must be a string (quote it in the pipeline or vars file); its value is not shown",
        )
    }
    deserializer.deserialize_any(SecretVisitor)
}

/// The longest bucket name, object key or version id accepted: S3's own limit for keys.
const MAX_NAME_BYTES: usize = 1024;

/// Checks a name-like field: not blank, not too long, no control characters.
pub(crate) fn check_text(field: &str, value: &str, max_bytes: usize) -> Result<(), String> {
    if value.trim().is_empty() {
        return Err(format!("{field} must not be empty"));
    }
    if value.len() > max_bytes {
        return Err(format!(
            "{field} is {} bytes long, more than the {max_bytes} it may be",
            value.len()
        ));
    }
    if value.chars().any(char::is_control) {
        let what = if value.trim_end() != value {
            "ends in a newline or another control character (pasted with it?)"
        } else {
            "holds a control character"
        };
        return Err(format!("{field} {what}"));
    }
    Ok(())
}

/// Checks a credential without ever showing it.
fn check_secret(field: &str, value: &str) -> Result<(), String> {
    if value.trim().is_empty() {
        return Err(format!("{field} is empty or blank"));
    }
    if value.len() > 8192 {
        return Err(format!("{field} is longer than any credential"));
    }
    if value.chars().any(|c| c.is_control() || c == ' ') {
        return Err(format!(
            "{field} holds a space, a newline or another control character (pasted with it?)"
        ));
    }
    Ok(())
}

/// Checks a bucket's name as `source.bucket` is checked.
pub fn check_bucket(field: &str, bucket: &str) -> Result<(), String> {
    check_text(field, bucket, 255)
}

/// Checks an application's or environment's name, or an object key, as `source.name` is
/// checked: not blank, within S3's limit for keys, no control characters.
pub fn check_name(field: &str, name: &str) -> Result<(), String> {
    check_text(field, name, MAX_NAME_BYTES)
}

/// The region when `source` names none.
pub const DEFAULT_REGION: &str = "us-east-1";

/// Checks a region: S3 regions are lowercase letters, digits and dashes.
pub fn check_region(field: &str, region: &str) -> Result<(), String> {
    check_text(field, region, 64)?;
    if !region
        .bytes()
        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
    {
        return Err(format!(
            "{field} {region:?} is not a region (lowercase letters, digits and dashes, like eu-west-1)"
        ));
    }
    Ok(())
}

/// Checks an endpoint URL.
pub fn check_endpoint(field: &str, endpoint: &str) -> Result<(), String> {
    check_text(field, endpoint, 2048)?;
    if !(endpoint.starts_with("http://") || endpoint.starts_with("https://"))
        || endpoint.contains(char::is_whitespace)
    {
        return Err(format!(
            "{field} {endpoint:?} is not a URL: it must start with https:// or http://"
        ));
    }
    Ok(())
}

impl Source {
    /// Checks every field once and resolves the defaults.
    pub fn validate(self) -> Result<ResourceConfig> {
        let invalid = |message: String| Error::InvalidSource(message);
        for (field, value, max) in [
            ("bucket", Some(&self.bucket), 255),
            ("name", Some(&self.name), MAX_NAME_BYTES),
            ("key", self.key.as_ref(), MAX_NAME_BYTES),
            ("environment", self.environment.as_ref(), MAX_NAME_BYTES),
            ("deploy_bucket", self.deploy_bucket.as_ref(), 255),
            ("deploy_key", self.deploy_key.as_ref(), MAX_NAME_BYTES),
            ("access_key_id", self.access_key_id.as_ref(), 256),
            ("role_arn", self.role_arn.as_ref(), 2048),
        ] {
            if let Some(value) = value {
                check_text(&format!("source.{field}"), value, max).map_err(invalid)?;
            }
        }
        for (field, value) in [
            ("secret_access_key", self.secret_access_key.as_ref()),
            ("session_token", self.session_token.as_ref()),
        ] {
            if let Some(value) = value {
                check_secret(&format!("source.{field}"), value.expose()).map_err(invalid)?;
            }
        }
        if let Some(region) = &self.region {
            check_region("source.region", region).map_err(invalid)?;
        }
        if let Some(endpoint) = &self.endpoint {
            check_endpoint("source.endpoint", endpoint).map_err(invalid)?;
        }
        for (index, pem) in self.ca_certs.iter().enumerate() {
            if !pem.contains("-----BEGIN CERTIFICATE-----") {
                return Err(invalid(format!(
                    "source.ca_certs[{index}] is not a PEM certificate (-----BEGIN CERTIFICATE-----)"
                )));
            }
        }

        let app = App {
            releases: Location::new(&self.bucket, self.key.as_deref().unwrap_or(&self.name)),
            name: self.name.clone(),
        };
        let environment = compat::environment(&self).map_err(invalid)?;
        let resource = match environment {
            Some(environment) => {
                let place = app.deploys_to(
                    &environment,
                    self.deploy_bucket.as_deref(),
                    self.deploy_key.as_deref(),
                );
                if place.deploys == app.releases {
                    return Err(invalid(format!(
                        "the deploy records of {environment:?} would share {} with the release records; set source.deploy_key to another key",
                        place.deploys
                    )));
                }
                let require_deployed_to = self.gate(&app, &environment)?;
                Resource::Deploy(DeployResource {
                    app,
                    environment: Environment {
                        place,
                        require_deployed_to,
                    },
                })
            }
            None => {
                for (field, set) in [
                    ("deploy_bucket", self.deploy_bucket.is_some()),
                    ("deploy_key", self.deploy_key.is_some()),
                    ("require_deployed_to", !self.require_deployed_to.is_empty()),
                ] {
                    if set {
                        return Err(invalid(format!(
                            "source.{field} is set but source.environment is not: only a deploy resource uses it"
                        )));
                    }
                }
                Resource::Release(ReleaseResource {
                    app,
                    has_image: self.has_image.unwrap_or(true),
                })
            }
        };

        let credentials = match (self.access_key_id, self.secret_access_key) {
            (Some(access_key_id), Some(secret_access_key)) => Some(StaticCredentials {
                access_key_id,
                secret_access_key,
                session_token: self.session_token,
            }),
            (None, None) if self.session_token.is_none() => None,
            (None, None) => {
                return Err(invalid(
                    "source.session_token is set without source.access_key_id and source.secret_access_key".into(),
                ));
            }
            (Some(_), None) => {
                return Err(invalid(
                    "source.access_key_id is set without source.secret_access_key".into(),
                ));
            }
            (None, Some(_)) => {
                return Err(invalid(
                    "source.secret_access_key is set without source.access_key_id".into(),
                ));
            }
        };

        Ok(ResourceConfig {
            resource,
            connection: Connection {
                region: self.region.unwrap_or_else(|| DEFAULT_REGION.to_owned()),
                endpoint: self.endpoint,
                path_style: self.path_style,
                credentials,
                role_arn: self.role_arn,
                ca_certs: self.ca_certs,
                profile: None,
            },
            debug: self.debug,
        })
    }

    /// The promotion gate's environments, each at its own layout.
    fn gate(&self, app: &App, environment: &str) -> Result<Vec<EnvironmentPlace>> {
        let invalid = |message: String| Error::InvalidSource(message);
        let mut gate = Vec::new();
        for (index, entry) in self.require_deployed_to.iter().enumerate() {
            let field = format!("source.require_deployed_to[{index}]");
            let place = match entry {
                GateEntry::Name(name) => {
                    check_text(&field, name, MAX_NAME_BYTES).map_err(invalid)?;
                    app.deploys_to(name, None, None)
                }
                GateEntry::Place(place) => {
                    check_text(
                        &format!("{field}.environment"),
                        &place.environment,
                        MAX_NAME_BYTES,
                    )
                    .map_err(invalid)?;
                    for (name, value, max) in [
                        ("deploy_bucket", &place.deploy_bucket, 255),
                        ("deploy_key", &place.deploy_key, MAX_NAME_BYTES),
                    ] {
                        if let Some(value) = value {
                            check_text(&format!("{field}.{name}"), value, max).map_err(invalid)?;
                        }
                    }
                    app.deploys_to(
                        &place.environment,
                        place.deploy_bucket.as_deref(),
                        place.deploy_key.as_deref(),
                    )
                }
            };
            if place.name == environment {
                return Err(invalid(format!(
                    "{field} names {environment:?}, the environment this resource deploys to"
                )));
            }
            gate.push(place);
        }
        Ok(gate)
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
    pub version: Option<GivenVersion>,
}

/// `in`'s stdin.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InRequest {
    /// The resource's `source`.
    pub source: Source,
    /// The version to fetch.
    pub version: GivenVersion,
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
/// deploys one. See [`crate::params`] for how they become a plan.
#[derive(Debug, Default, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OutParams {
    /// Releases (required); deploys (optional, for the changelog): a git checkout.
    pub repository: Option<String>,
    /// Releases: the commit, as a ref or sha or a file holding one. Default: HEAD.
    pub commit: Option<String>,
    /// Releases: a file holding the image digest. Default: no image.
    pub image: Option<String>,
    /// Releases: the older resource's name for `image`.
    pub image_id: Option<String>,
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

/// The largest request accepted on stdin: a `source` with a few CA certificates is a few
/// kilobytes.
pub const MAX_REQUEST_BYTES: usize = 1024 * 1024;

/// Parses a step's stdin, naming the path of any field at fault (`source.buckit`).
pub fn parse_request<T: DeserializeOwned>(stdin: &[u8]) -> Result<T> {
    if stdin.len() > MAX_REQUEST_BYTES {
        return Err(Error::InvalidRequest(format!(
            "the request is {} bytes, more than the {MAX_REQUEST_BYTES} a request may be",
            stdin.len()
        )));
    }
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

/// A version Concourse gave, checked: its fields not blank, not too long, no control characters.
fn check_given_version(version: &GivenVersion) -> Result<()> {
    let invalid = |message: String| Error::InvalidRequest(message);
    check_text("version.version", &version.version, 64).map_err(invalid)?;
    for (field, value) in [
        ("version.version_id", &version.version_id),
        ("version.deploy", &version.deploy),
    ] {
        if let Some(value) = value {
            check_text(field, value, MAX_NAME_BYTES).map_err(invalid)?;
        }
    }
    Ok(())
}

impl CheckRequest {
    /// Parses and validates `check`'s stdin.
    pub fn parse(stdin: &[u8]) -> Result<(ResourceConfig, Option<GivenVersion>)> {
        let request: CheckRequest = parse_request(stdin)?;
        if let Some(version) = &request.version {
            check_given_version(version)?;
        }
        Ok((request.source.validate()?, request.version))
    }
}

impl InRequest {
    /// Parses and validates `in`'s stdin.
    pub fn parse(stdin: &[u8]) -> Result<(ResourceConfig, GivenVersion)> {
        let request: InRequest = parse_request(stdin)?;
        check_given_version(&request.version)?;
        Ok((request.source.validate()?, request.version))
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
mod tests;
