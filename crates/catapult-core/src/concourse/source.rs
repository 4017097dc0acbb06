//! `source` as a pipeline writes it, parsed strictly (an unknown field is an error that names
//! it) and then validated once into a [`ResourceConfig`] that holds only usable values, with
//! every default resolved. Whatever arrives here may be hostile: over-long names, control
//! characters, secrets of the wrong type; each is refused with an error that names the field and
//! never echoes a secret.

use serde::de::{self, Visitor};
use serde::{Deserialize, Deserializer};

use super::compat;
use super::resource::{DeployResource, ReleaseResource, Resource, ResourceConfig};
use crate::error::{Error, Result};
use crate::ops::tickets::TicketPattern;
use crate::record::freeze::FreezeSpec;
use crate::record::layout::{GateRequirement, parse_duration};
use crate::record::{App, AppName, Environment, EnvironmentName};
use crate::store::location::check_text;
use crate::store::s3::{
    Connection, DEFAULT_REGION, Secret, StaticCredentials, check_endpoint, check_region,
};
use crate::store::{BucketName, Location, ObjectKey};

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
    /// deploys at the default layout in `bucket`) or `{environment, deploy_bucket, deploy_key,
    /// for}`, `for` a soak time (`30m`). Default: none.
    #[serde(default)]
    pub require_deployed_to: Vec<GateEntry>,
    /// Deploy resources: a release needs an approval (`catapult approve`), by someone other
    /// than its author, to be deployed. Default: false.
    #[serde(default)]
    pub require_approval: bool,
    /// Deploy resources: windows when deploys are frozen, fixed `{from, to, reason}` or weekly
    /// `{days, between, timezone, reason}`. Default: none.
    #[serde(default)]
    pub freeze: Vec<FreezeSpec>,
    /// Release resources: the regex that finds tickets in commit messages, its first group
    /// (or whole match) the ticket. Default: `ABC-123`, `sc-123` and `ch123`.
    pub ticket_pattern: Option<String>,
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
    /// How long a release must have run there (soak time): `30m`, `2h`, `1d`. Default: none.
    #[serde(rename = "for")]
    pub soak: Option<String>,
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

impl Source {
    /// Checks every field once and resolves the defaults.
    pub fn validate(self) -> Result<ResourceConfig> {
        let invalid = |message: String| Error::InvalidSource(message);
        let bucket = BucketName::parse("source.bucket", &self.bucket).map_err(invalid)?;
        let name = AppName::parse("source.name", &self.name).map_err(invalid)?;
        let key = optional(&self.key, |value| ObjectKey::parse("source.key", value))?;
        let environment = optional(&self.environment, |value| {
            EnvironmentName::parse("source.environment", value)
        })?;
        let deploy_bucket = optional(&self.deploy_bucket, |value| {
            BucketName::parse("source.deploy_bucket", value)
        })?;
        let deploy_key = optional(&self.deploy_key, |value| {
            ObjectKey::parse("source.deploy_key", value)
        })?;
        for (field, value, max) in [
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

        let releases_key = key.unwrap_or_else(|| ObjectKey::from_checked(name.as_str().to_owned()));
        let app = App::new(name, Location::new(bucket, releases_key));
        let environment = compat::environment(environment, self.is_deploy).map_err(invalid)?;
        let resource = match environment {
            Some(environment) => {
                let place = app
                    .deploys_to(&environment, deploy_bucket.as_ref(), deploy_key.as_ref())
                    .map_err(invalid)?;
                if place.deploys == app.releases {
                    return Err(invalid(format!(
                        "the deploy records of {:?} would share {} with the release records; set source.deploy_key to another key",
                        environment.as_str(),
                        place.deploys
                    )));
                }
                let require_deployed_to = self.gate(&app, &environment)?;
                let freeze = self
                    .freeze
                    .iter()
                    .enumerate()
                    .map(|(index, spec)| spec.window(&format!("source.freeze[{index}]")))
                    .collect::<Result<_, _>>()
                    .map_err(invalid)?;
                if self.ticket_pattern.is_some() {
                    return Err(invalid(
                        "source.ticket_pattern is set on a deploy resource: only a release resource finds tickets (set it where releases are cut)".into(),
                    ));
                }
                Resource::Deploy(DeployResource {
                    app,
                    environment: Environment {
                        place,
                        require_deployed_to,
                        require_approval: self.require_approval,
                        freeze,
                    },
                })
            }
            None => {
                for (field, set) in [
                    ("deploy_bucket", deploy_bucket.is_some()),
                    ("deploy_key", deploy_key.is_some()),
                    ("require_deployed_to", !self.require_deployed_to.is_empty()),
                    ("require_approval", self.require_approval),
                    ("freeze", !self.freeze.is_empty()),
                ] {
                    if set {
                        return Err(invalid(format!(
                            "source.{field} is set but source.environment is not: only a deploy resource uses it"
                        )));
                    }
                }
                let tickets = match &self.ticket_pattern {
                    Some(pattern) => TicketPattern::new(pattern)
                        .map_err(|reason| invalid(format!("source.ticket_pattern: {reason}")))?,
                    None => TicketPattern::default(),
                };
                Resource::Release(ReleaseResource {
                    app,
                    has_image: self.has_image.unwrap_or(true),
                    tickets,
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

    /// The promotion gate's environments, each at its own layout, with its soak time.
    fn gate(&self, app: &App, environment: &EnvironmentName) -> Result<Vec<GateRequirement>> {
        let invalid = |message: String| Error::InvalidSource(message);
        let mut gate = Vec::new();
        for (index, entry) in self.require_deployed_to.iter().enumerate() {
            let field = format!("source.require_deployed_to[{index}]");
            let soak = match entry {
                GateEntry::Place(GatePlace {
                    soak: Some(soak), ..
                }) => Some(parse_duration(&format!("{field}.for"), soak).map_err(invalid)?),
                _ => None,
            };
            let place = match entry {
                GateEntry::Name(name) => {
                    let name = EnvironmentName::parse(&field, name).map_err(invalid)?;
                    app.deploys_to(&name, None, None)
                }
                GateEntry::Place(place) => {
                    let name =
                        EnvironmentName::parse(&format!("{field}.environment"), &place.environment)
                            .map_err(invalid)?;
                    let bucket = optional(&place.deploy_bucket, |value| {
                        BucketName::parse(&format!("{field}.deploy_bucket"), value)
                    })?;
                    let key = optional(&place.deploy_key, |value| {
                        ObjectKey::parse(&format!("{field}.deploy_key"), value)
                    })?;
                    app.deploys_to(&name, bucket.as_ref(), key.as_ref())
                }
            }
            .map_err(invalid)?;
            if place.name == *environment {
                return Err(invalid(format!(
                    "{field} names {:?}, the environment this resource deploys to",
                    environment.as_str()
                )));
            }
            gate.push(GateRequirement { place, soak });
        }
        Ok(gate)
    }
}

/// An optional field, checked by `parse` when present.
fn optional<T>(
    value: &Option<String>,
    parse: impl FnOnce(&str) -> Result<T, String>,
) -> Result<Option<T>> {
    value
        .as_deref()
        .map(parse)
        .transpose()
        .map_err(Error::InvalidSource)
}
