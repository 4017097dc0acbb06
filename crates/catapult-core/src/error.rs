//! The one error type of the core: a variant for each thing a user can fix, each naming the
//! field, bucket, key, version, store or path at fault, so that a front-end can print it as the
//! one line Concourse (or a terminal) shows.

use std::path::PathBuf;

use crate::git::GitError;
use crate::registry::RegistryError;
use crate::store::tally::Progress;
use crate::store::{Location, StoreError};

/// Everything that can go wrong in a step. Messages are lowercase and name what is wrong; the
/// underlying cause, when there is one, is the error's `source`.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The JSON on stdin is not a request of this step: malformed, a missing or unknown field.
    #[error("invalid request: {0}")]
    InvalidRequest(String),

    /// A field of `source` (or of the command line's configuration) cannot work.
    #[error("invalid source: {0}")]
    InvalidSource(String),

    /// A field of `params` (or a flag) holds a value that cannot work.
    #[error("invalid params: {0}")]
    InvalidParams(String),

    /// The bucket keeps no object versions, so it cannot hold a history.
    #[error(
        "bucket {bucket:?} does not have versioning enabled ({state}): catapult keeps each release and deploy as an object version, so enable versioning on it"
    )]
    BucketNotVersioned {
        /// The bucket at fault.
        bucket: String,
        /// What its versioning is: "never enabled", "suspended".
        state: &'static str,
    },

    /// The S3 version asked for is not (or no longer) in the bucket.
    #[error("version {version_id:?} of {location} does not exist")]
    VersionNotFound {
        /// Where it was looked for.
        location: Location,
        /// The S3 VersionId asked for.
        version_id: String,
    },

    /// An object version's body is not a record.
    #[error("version {version_id:?} of {location} is not a valid record: {reason}")]
    InvalidRecord {
        /// Where the object lives.
        location: Location,
        /// Its S3 VersionId.
        version_id: String,
        /// What is wrong with its body.
        reason: String,
    },

    /// A store request failed: the message names the operation, the place and the store.
    #[error(transparent)]
    Store(Box<StoreError>),

    /// A store did not keep a promise that catapult's writes rely on: a precondition it refused
    /// or ignored, a listing it ended without saying where to go on.
    #[error("{store} {broken}: catapult cannot keep {location}'s history safe on it")]
    StoreBroken {
        /// The store, by its endpoint.
        store: String,
        /// The records concerned.
        location: Location,
        /// What it did, in a phrase.
        broken: String,
    },

    /// Two records took the same place because the store did not honour a precondition, and
    /// this write could not be taken back.
    #[error(
        "{} now holds two records numbered {}: version {:?} (another writer's, kept) and version {:?} (this write's), because {} did not honour {}; this write could not be taken back ({}): delete version {:?} of {} by hand (or grant s3:DeleteObjectVersion, which catapult then uses to take such a write back itself)",
        .0.location, .0.number, .0.theirs, .0.ours, .0.store, .0.condition, .0.cause, .0.ours, .0.location
    )]
    Duplicate(Box<Duplicate>),

    /// Another writer's record took the same place first because the store did not honour a
    /// precondition; this write was taken back, so nothing was written.
    #[error(
        "another writer's record numbered {} took the same place in {} first (version {:?}), because {} did not honour {}: this write (version {:?}) was taken back, so nothing was written; try again",
        .0.number, .0.location, .0.theirs, .0.store, .0.condition, .0.ours
    )]
    TakenBack(Box<Duplicate>),

    /// The store keeps no object versions at all, so it cannot hold a history.
    #[error(
        "{store} has no object versioning ({evidence}); catapult needs a store that keeps every version"
    )]
    NoVersioning {
        /// The store, by its endpoint.
        store: String,
        /// What showed it: "ListObjectVersions: 501 Not Implemented".
        evidence: String,
    },

    /// A version the listing named could not be read whole and as listed.
    #[error("version {version_id:?} of {location} could not be read whole: {why}")]
    Unreadable {
        /// Where it lives.
        location: Location,
        /// Its S3 VersionId.
        version_id: String,
        /// What each read met, in a phrase.
        why: String,
    },

    /// The record was written, but the listing that verifies the write failed.
    #[error(
        "the record was written: {location} holds it as version {version_id:?} (release {number}), but the listing that verifies it failed ({cause}); do not write it again: the same put, retried, finds it and writes nothing"
    )]
    WrittenUnverified {
        /// The records written to.
        location: Location,
        /// The version written.
        version_id: String,
        /// Its release number.
        number: u64,
        /// Why the verification failed.
        cause: String,
    },

    /// A git operation on the user's checkout failed: not a repository, an unknown commit, a
    /// broken history. The message names the path and the commit asked for.
    #[error(transparent)]
    Git(GitError),

    /// Looking a release's image up in its registry failed: a reference that is not one, a tag
    /// that does not exist, a registry that refuses or does not answer. The message names the
    /// image reference.
    #[error(transparent)]
    Registry(RegistryError),

    /// The release a deploy asks for is not in the release history.
    #[error("there is no {wanted} in {location}")]
    ReleaseNotFound {
        /// The release records searched.
        location: Location,
        /// The release asked for, as a phrase: "release 7", "release version id \"x\"".
        wanted: String,
    },

    /// The put would go back to an older commit or release, and a rollback was not allowed.
    #[error("{0}; allow a rollback to do it anyway (params.allow_rollback: true, or --rollback)")]
    RollbackRefused(String),

    /// A release has not reached an environment that `require_deployed_to` names.
    #[error(
        "release {version} of {name} has not been deployed to {environment:?} (require_deployed_to): deploy it there first"
    )]
    GateNotPassed {
        /// The application.
        name: String,
        /// The release number.
        version: u64,
        /// The environment it has not reached.
        environment: String,
    },

    /// A rule of the environment (a soak time, an approval, a freeze, a hold) refuses the
    /// deploy; the message names the rule and what would satisfy it.
    #[error("{0}")]
    Refused(String),

    /// Every conditional write lost to another writer, or never got an answer.
    #[error("gave up writing to {location} after {attempts} attempts: {why}")]
    GaveUp {
        /// The records written to.
        location: Location,
        /// How many writes were tried.
        attempts: u32,
        /// Why each failed, in a phrase.
        why: String,
    },

    /// A write's answer was lost, and so was the search for it: it may have landed.
    #[error(
        "the outcome of the write to {location} is unknown: its answer was lost, and so was the search for it ({cause}); it may have landed: look for write id {write_id} (x-amz-meta-catapult-write-id) among the newest versions before trying again"
    )]
    OutcomeUnknown {
        /// The records written to.
        location: Location,
        /// The last write id this put used.
        write_id: String,
        /// Why the search failed.
        cause: String,
    },

    /// The step ran out of time: the store did not answer.
    #[error("no answer from {store} within {seconds} s: gave up (is the endpoint right, and up?)")]
    Deadline {
        /// The store.
        store: String,
        /// The deadline.
        seconds: u64,
    },

    /// The step ran out of time while the store kept answering: a long walk on a slow store.
    #[error(
        "the step ran out of its {seconds} s deadline while {doing}: {store} kept answering ({} requests answered, {} versions listed, {} records read), but not fast enough to finish",
        .progress.answered, .progress.versions_listed, .progress.bodies_read
    )]
    DeadlineExceeded {
        /// What the step was doing, in a phrase: "looking for release 1 in s3://b/app".
        doing: String,
        /// The store.
        store: String,
        /// The deadline.
        seconds: u64,
        /// How far it got.
        progress: Progress,
    },

    /// A read that may go on while the store answers met a store that stopped answering.
    #[error(
        "no answer from {store} for {seconds} s while {doing}, after {} requests answered ({} versions listed, {} records read): gave up (is the endpoint still up?)",
        .progress.answered, .progress.versions_listed, .progress.bodies_read
    )]
    FellSilent {
        /// What the read was doing, in a phrase: "reading the histories".
        doing: String,
        /// The store.
        store: String,
        /// How long it was silent.
        seconds: u64,
        /// How far it got.
        progress: Progress,
    },

    /// A file or directory could not be read or written.
    #[error("cannot {action} {path}")]
    Io {
        /// What was being done: "read", "write", "create directory".
        action: &'static str,
        /// The path at fault.
        path: PathBuf,
        /// The operating system's reason.
        #[source]
        source: std::io::Error,
    },
}

/// Two records that took the same place in a history.
#[derive(Debug)]
pub struct Duplicate {
    /// The records concerned.
    pub location: Location,
    /// The number both hold.
    pub number: u64,
    /// The other writer's version id.
    pub theirs: String,
    /// This write's version id.
    pub ours: String,
    /// The store.
    pub store: String,
    /// The precondition it ignored.
    pub condition: String,
    /// Why this write could not be taken back, for [`Error::Duplicate`].
    pub cause: String,
}

/// The core's results.
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl From<StoreError> for Error {
    fn from(error: StoreError) -> Self {
        Error::Store(Box::new(error))
    }
}

impl From<RegistryError> for Error {
    fn from(error: RegistryError) -> Self {
        Error::Registry(error)
    }
}

impl From<GitError> for Error {
    fn from(error: GitError) -> Self {
        match error {
            // A `changelog_paths` entry is a param the user gave.
            GitError::InvalidPath(message) => Error::InvalidParams(message),
            other => Error::Git(other),
        }
    }
}

impl Error {
    /// An I/O failure on `path`.
    pub fn io(action: &'static str, path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Error::Io {
            action,
            path: path.into(),
            source,
        }
    }
}
