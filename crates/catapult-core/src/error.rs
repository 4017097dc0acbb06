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
