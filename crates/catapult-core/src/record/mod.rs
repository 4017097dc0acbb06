//! The record and the domain's types: one release, or one deploy of a release, as the JSON body
//! of one S3 object version ([`Record`]); the names of applications and environments
//! ([`names`]); where each application's records live ([`layout`]); the build that wrote a
//! record ([`build`]). Reading a body is lenient about what the older tool left out and strict
//! about what a record cannot do without; writing always produces the full shape. Nothing here
//! talks to a store: this layer is plain data and pure functions.

use std::fmt;

use jiff::{RoundMode, Timestamp, TimestampRound, Unit};
use serde::{Deserialize, Serialize};

use crate::git::short_sha;

pub mod approval;
pub mod build;
#[cfg(test)]
pub(crate) mod fixtures;
pub mod freeze;
pub mod hold;

pub mod layout;
pub mod names;
pub mod text;

pub use build::BuildInfo;
pub use layout::{
    App, Environment, EnvironmentLayout, EnvironmentPlace, Layout, UndeclaredEnvironment,
};
pub use names::{AppName, EnvironmentName, checked_author, is_image_digest};

/// The most tickets a record keeps: a range that mentions more (a pattern that matches
/// everything, or the first release of a long history) keeps none, and its tickets are unknown.
pub const MAX_TICKETS: usize = 1000;

/// How a record without an author shows it.
pub const UNKNOWN_AUTHOR: &str = "unknown";

/// The changelog of a record that was written without one.
pub const CHANGELOG_UNAVAILABLE: &str = "<changelog unavailable>";

/// One release or deploy. `version_id` is not part of it: S3 assigns that on write.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Record {
    /// The release number, 1 for an application's first release.
    pub version: u64,
    /// The full sha of the released commit.
    pub commit: String,
    /// The image's OCI digest (`sha256:<64 hex>`), or `None` for an application without one.
    pub image: Option<String>,
    /// Who made the release: an email address, usually the commit's author. `None` where the
    /// older tool stored `null` (before 2020); shown as `unknown`.
    pub author: Option<String>,
    /// One line per commit since the previous release, newest first.
    pub changelog: String,
    /// The full shas the changelog covers, newest first.
    pub commits: Vec<String>,
    /// When each of `commits` was committed (its committer's time, RFC 3339), in the same
    /// order: what lead time for changes is measured from. `None` in records written before it
    /// was kept.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub commit_times: Option<Vec<String>>,
    /// The tickets (`ABC-123`) the commit messages of the changelog's range mention, sorted.
    /// `None` in records written before they were kept, and for a range that mentions more
    /// than [`MAX_TICKETS`].
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tickets: Option<Vec<String>>,
    /// When the record was written, RFC 3339 in UTC to the second.
    pub timestamp: String,
    /// Whether this record went back to an older commit (release) or release (deploy).
    pub rollback: bool,
    /// `automated` for records a pipeline wrote; absent from the older tool's records.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub action_type: Option<String>,
    /// The environment of a deploy record; `None` for a release.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub environment: Option<String>,
    /// The Concourse build that wrote the record; `None` outside Concourse.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub build: Option<BuildInfo>,
    /// Releases only: the highest release number ever issued on the key, this one included,
    /// carried forward so that a number is issued once even when a lower one was put on top.
    /// `None` in records written before it was kept.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub highest_version: Option<u64>,
    /// The id of the write that stored this record, random and unique to it: two writes never
    /// store the same body, so an ETag names one write. `None` in the older tool's records.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub write_id: Option<String>,
    /// Deploys only: who approved the release for an environment that requires an approval.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub approved_by: Option<String>,
    /// Deploys only: the freeze window this deploy overrode, described, when it did.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub overrode_freeze: Option<String>,
    /// Deploys only: the release the environment is held at since a rollback, carried forward
    /// by each deploy while the hold lasts.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub held_at: Option<u64>,
}

/// A body the record log keeps, one per object version: a release or deploy [`Record`], or one
/// of the records the promotion rules keep on keys of their own (an approval, a freeze, the
/// clearing of a hold). Each is written by the log's exactly-once conditional append.
pub trait Entry: Clone + fmt::Debug {
    /// Reads a stored body; `last_modified` (the S3 object's) stands in for a time it lacks.
    /// The error is the reason the body is not one.
    fn parse(body: &[u8], last_modified: Option<Timestamp>) -> Result<Self, String>;
    /// The body to store.
    fn to_json(&self) -> Vec<u8>;
    /// Stamps it with the id of the write that stores it, so that no two writes store the same
    /// bytes.
    fn set_write_id(&mut self, write_id: String);
    /// The release it is about, for messages.
    fn release_number(&self) -> u64;

    /// Whether a body read back can be trusted as catapult wrote it, given the write id its
    /// object's metadata holds: the error says why not. Records are trusted as they are (the
    /// older tool wrote them without metadata); an approval only as catapult's own write.
    fn check_written_by_catapult(&self, _metadata_write_id: Option<&str>) -> Result<(), String> {
        Ok(())
    }
}

/// An entry as read from the store, with what the store says of its version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stored<E = Record> {
    /// The S3 VersionId it is stored as.
    pub version_id: String,
    /// When the store wrote it.
    pub last_modified: Option<Timestamp>,
    /// The record (or other entry).
    pub record: E,
}

/// A release or deploy record as read from the store.
pub type StoredRecord = Stored<Record>;

impl Entry for Record {
    fn parse(body: &[u8], last_modified: Option<Timestamp>) -> Result<Self, String> {
        Record::parse(body, last_modified)
    }

    fn to_json(&self) -> Vec<u8> {
        Record::to_json(self)
    }

    fn set_write_id(&mut self, write_id: String) {
        self.write_id = Some(write_id);
    }

    fn release_number(&self) -> u64 {
        self.version
    }
}

/// The fields as stored, each optional so that a missing one can be named.
#[derive(Deserialize)]
struct StoredFields {
    version: Option<u64>,
    commit: Option<String>,
    image: Option<String>,
    #[serde(default, deserialize_with = "present")]
    author: Option<Option<String>>,
    changelog: Option<String>,
    commits: Option<Vec<String>>,
    commit_times: Option<Vec<String>>,
    tickets: Option<Vec<String>>,
    timestamp: Option<String>,
    rollback: Option<bool>,
    action_type: Option<String>,
    environment: Option<String>,
    build: Option<BuildInfo>,
    highest_version: Option<u64>,
    write_id: Option<String>,
    approved_by: Option<String>,
    overrode_freeze: Option<String>,
    held_at: Option<u64>,
}

/// A field that is present, even as `null`: `Some(None)` for `null`, `None` when absent.
fn present<'de, D, T>(deserializer: D) -> Result<Option<Option<T>>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: Deserialize<'de>,
{
    Option::<T>::deserialize(deserializer).map(Some)
}

impl Record {
    /// Reads a stored body. `last_modified` (the S3 object's) stands in for a missing timestamp.
    /// The error is the reason the body is not a record.
    pub fn parse(body: &[u8], last_modified: Option<Timestamp>) -> Result<Record, String> {
        let fields: StoredFields =
            serde_json::from_slice(body).map_err(|err| format!("not a JSON record: {err}"))?;
        let version = fields.version.ok_or("it has no \"version\"")?;
        if version == 0 {
            return Err("its \"version\" is 0; release numbers start at 1".into());
        }
        let commit = fields
            .commit
            .filter(|commit| !commit.is_empty())
            .ok_or("it has no \"commit\"")?;
        let author = fields
            .author
            .ok_or("it has no \"author\"")?
            .filter(|author| !author.is_empty());
        let timestamp = fields
            .timestamp
            .or_else(|| last_modified.map(format_timestamp))
            .unwrap_or_default();
        Ok(Record {
            version,
            commit,
            image: fields.image.filter(|image| !image.is_empty()),
            author,
            changelog: fields
                .changelog
                .unwrap_or_else(|| CHANGELOG_UNAVAILABLE.to_owned()),
            commits: fields.commits.unwrap_or_default(),
            commit_times: fields.commit_times,
            tickets: fields.tickets,
            timestamp,
            rollback: fields.rollback.unwrap_or(false),
            action_type: fields.action_type,
            environment: fields.environment,
            build: fields.build,
            highest_version: fields.highest_version,
            write_id: fields.write_id,
            approved_by: fields.approved_by,
            overrode_freeze: fields.overrode_freeze,
            held_at: fields.held_at,
        })
    }

    /// The body to store.
    pub fn to_json(&self) -> Vec<u8> {
        serde_json::to_vec_pretty(self).expect("a record always serializes")
    }

    /// Who made it, or `unknown` for the older tool's records without an author.
    pub fn author_or_unknown(&self) -> &str {
        self.author.as_deref().unwrap_or(UNKNOWN_AUTHOR)
    }

    /// The first 7 characters of the commit, as git shows it.
    pub fn short_commit(&self) -> &str {
        short_sha(&self.commit)
    }
}

/// A timestamp as records hold it: RFC 3339, UTC, whole seconds (cut, never rounded up: a
/// record must not say it was written after it was).
pub fn format_timestamp(timestamp: Timestamp) -> String {
    timestamp
        .round(
            TimestampRound::new()
                .smallest(Unit::Second)
                .mode(RoundMode::Trunc),
        )
        .unwrap_or(timestamp)
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    const FULL: &str = r#"{
        "version": 12,
        "commit": "42182bb85bebe8d7f1ee515c13517be0dee8ada3",
        "image": "sha256:6ac40dec2b3af61e868954d641491d95a3fb74ad239d7584025b930d1f9997bd",
        "author": "dev@example.com",
        "changelog": "42182bb  2026-11-20  Dev Name  Fix the thing",
        "commits": ["42182bb85bebe8d7f1ee515c13517be0dee8ada3"],
        "timestamp": "2026-11-21T10:00:00Z",
        "rollback": false,
        "action_type": "automated",
        "environment": "production"
    }"#;

    #[test]
    fn reads_a_full_record_and_writes_it_back_the_same() {
        let record = Record::parse(FULL.as_bytes(), None).unwrap();
        assert_eq!(record.version, 12);
        assert_eq!(record.environment.as_deref(), Some("production"));
        assert_eq!(record.short_commit(), "42182bb");
        let written: serde_json::Value = serde_json::from_slice(&record.to_json()).unwrap();
        let original: serde_json::Value = serde_json::from_str(FULL).unwrap();
        assert_eq!(written, original);
    }

    #[test]
    fn fills_in_what_the_older_tool_left_out() {
        let body = br#"{"version": 3, "commit": "abc1234", "author": "a@b", "image": null}"#;
        let modified: Timestamp = "2024-05-06T07:08:09.123Z".parse().unwrap();
        let record = Record::parse(body, Some(modified)).unwrap();
        assert_eq!(record.timestamp, "2024-05-06T07:08:09Z");
        assert_eq!(record.changelog, CHANGELOG_UNAVAILABLE);
        assert!(record.commits.is_empty());
        assert!(!record.rollback);
        assert_eq!(record.action_type, None);
        assert_eq!(record.image, None);
    }

    #[test]
    fn names_what_makes_a_body_invalid() {
        let reason = |body: &str| Record::parse(body.as_bytes(), None).unwrap_err();
        assert!(reason("not json").starts_with("not a JSON record"));
        assert_eq!(
            reason(r#"{"commit": "a", "author": "b"}"#),
            "it has no \"version\""
        );
        assert_eq!(
            reason(r#"{"version": 1, "author": "b"}"#),
            "it has no \"commit\""
        );
        assert_eq!(
            reason(r#"{"version": 1, "commit": "a"}"#),
            "it has no \"author\""
        );
        assert!(reason(r#"{"version": 0, "commit": "a", "author": "b"}"#).contains("start at 1"));
        assert!(
            reason(r#"{"version": "1", "commit": "a", "author": "b"}"#).contains("invalid type")
        );
    }
}
