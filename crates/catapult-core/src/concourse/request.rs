//! What each step reads on stdin and writes on stdout: the requests of `check`, `in` and `out`,
//! parsed strictly (an unknown field is an error that names its path, `source.buckit`), the
//! versions Concourse hands over (this resource's and the older one's), and the step's output.

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use super::resource::ResourceConfig;
use super::source::Source;
use super::version::{GivenVersion, Version};
use crate::error::{Error, Result};
use crate::store::location::{MAX_KEY_BYTES, check_text};

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
/// deploys one. See [`super::put`] for how they become a plan.
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
    /// Deploys: deploy during a freeze, and record that the deploy overrode it. Default: false.
    #[serde(default)]
    pub override_freeze: bool,
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
            check_text(field, value, MAX_KEY_BYTES).map_err(invalid)?;
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
