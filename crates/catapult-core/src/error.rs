//! The one error type of the core: a variant for each thing a user can fix, each naming the
//! field, bucket, key, version or path at fault, so that the binaries can print it as the one
//! line Concourse shows.

use std::path::PathBuf;

use crate::store::Location;

/// Everything that can go wrong in a step. Messages are lowercase and name what is wrong; the
/// underlying cause, when there is one, is the error's `source`.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The JSON on stdin is not a request of this step: malformed, a missing or unknown field.
    #[error("invalid request: {0}")]
    InvalidRequest(String),

    /// A field of `source` holds a value that cannot work (empty, contradictory).
    #[error("invalid source: {0}")]
    InvalidSource(String),

    /// A field of `params` holds a value that cannot work.
    #[error("invalid params: {0}")]
    InvalidParams(String),

    /// The bucket keeps no object versions, so it cannot hold a history.
    #[error(
        "bucket {bucket:?} does not have versioning enabled: catapult keeps each release and deploy as an object version, so enable versioning on it"
    )]
    BucketNotVersioned {
        /// The bucket at fault.
        bucket: String,
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

    /// An S3 request failed for a reason the caller cannot fix in its request.
    #[error("S3 {operation} on {location} failed")]
    S3 {
        /// The S3 operation, as AWS names it.
        operation: &'static str,
        /// The bucket and key it was about.
        location: Location,
        /// What S3 or the connection said.
        #[source]
        source: S3Cause,
    },

    /// A git operation on the user's checkout failed: not a repository, an unknown commit, a
    /// broken history. The message names the path and the commit asked for.
    #[error("{message}")]
    Git {
        /// What failed, naming the checkout's path and the ref or sha at fault.
        message: String,
        /// What libgit2 said, when it said anything.
        #[source]
        source: Option<git2::Error>,
    },

    /// The release a deploy asks for is not in the release history.
    #[error("there is no {wanted} in {location}")]
    ReleaseNotFound {
        /// The release records searched.
        location: Location,
        /// The release asked for, as a phrase: "release 7", "release version id \"x\"".
        wanted: String,
    },

    /// The put would go back to an older commit or release, and `allow_rollback` is not set.
    #[error("{0}; set params.allow_rollback: true to do it anyway")]
    RollbackRefused(String),

    /// A release has not reached an environment that `require_deployed_to` names.
    #[error(
        "release {version} of {name} has not been deployed to {environment:?} (source.require_deployed_to): deploy it there first"
    )]
    GateNotPassed {
        /// The application.
        name: String,
        /// The release number.
        version: u64,
        /// The environment it has not reached.
        environment: String,
    },

    /// Every conditional write lost to another writer.
    #[error(
        "gave up writing to {location}: another writer changed it first on each of {attempts} attempts"
    )]
    Contention {
        /// The records written to.
        location: Location,
        /// How many writes were tried.
        attempts: u32,
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

/// The text of an S3 or connection failure, with every cause the SDK knows.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct S3Cause(pub String);

/// The core's results.
pub type Result<T, E = Error> = std::result::Result<T, E>;

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
