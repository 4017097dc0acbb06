//! The versions Concourse hands over and gets back: `{"version": "12", "version_id": "<S3
//! VersionId>"}`, and, from `check` and `in`'s point of view, the older resource's shapes that
//! Concourse still holds after a pipeline switches its resource type.

use serde::{Deserialize, Serialize};

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
/// (see [`super::compat::resolve_version`]).
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
