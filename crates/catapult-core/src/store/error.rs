//! What a store request can fail with, in the terms the record log acts on: the operation (as
//! AWS names it, with the IAM action that allows it), the place, the store, and a kind that says
//! what the store meant, mapped once by each implementation.

use std::fmt;

use super::{BucketName, Location, MAX_RECORD_BYTES};

/// An S3 operation, as AWS names it, for errors.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Operation {
    /// ListObjectVersions.
    ListVersions,
    /// GetObject with a VersionId.
    GetVersion,
    /// PutObject, conditional.
    Put,
    /// GetBucketVersioning.
    GetVersioning,
    /// DeleteObject with a VersionId.
    DeleteVersion,
    /// ListObjectsV2: the keys of a bucket under a prefix.
    ListKeys,
    /// GetObject without a VersionId: a key's current version.
    GetCurrent,
}

impl Operation {
    /// The operation's name in the S3 API.
    pub fn name(self) -> &'static str {
        match self {
            Operation::ListVersions => "ListObjectVersions",
            Operation::GetVersion => "GetObject",
            Operation::Put => "PutObject",
            Operation::GetVersioning => "GetBucketVersioning",
            Operation::DeleteVersion => "DeleteObject",
            Operation::ListKeys => "ListObjectsV2",
            Operation::GetCurrent => "GetObject",
        }
    }

    /// The IAM action that allows it.
    pub fn iam_action(self) -> &'static str {
        match self {
            Operation::ListVersions => "s3:ListBucketVersions",
            Operation::GetVersion => "s3:GetObjectVersion",
            Operation::Put => "s3:PutObject",
            Operation::GetVersioning => "s3:GetBucketVersioning",
            Operation::DeleteVersion => "s3:DeleteObjectVersion",
            Operation::ListKeys => "s3:ListBucket",
            Operation::GetCurrent => "s3:GetObject",
        }
    }
}

/// What went wrong with one store request, in the terms the record log acts on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StoreErrorKind {
    /// The bucket does not exist.
    NoSuchBucket,
    /// The version asked for does not exist (or the key has none).
    NoSuchVersion,
    /// A conditional write's precondition did not hold (HTTP 412). Nothing was written by this
    /// request, though an earlier attempt of it, retried by the SDK, may have been.
    PreconditionFailed,
    /// Another conditional write to the key was in flight (HTTP 409
    /// `ConditionalRequestConflict`): nothing was written; try again.
    Conflict,
    /// The store does not implement what was asked (HTTP 501).
    NotImplemented,
    /// The credentials may not do it.
    AccessDenied,
    /// The body is larger than a record may be.
    TooLarge {
        /// Its size in bytes.
        size: u64,
    },
    /// An answer cut short (a reset in the middle of a body), which the SDK does not retry: a
    /// read may be tried again; a write's outcome is unknown.
    Transient(String),
    /// No usable answer after the SDK's own retries: a connection refused or reset, a timeout,
    /// a 5xx. Not worth trying again at once; a write's outcome is unknown.
    Unavailable(String),
    /// The store answered with an error the caller cannot act on otherwise.
    Failed(String),
    /// No request was sent: the credentials to sign it could not be had. `found_none`: the
    /// default chain found none anywhere; otherwise the ones configured could not be loaded
    /// (`reason` says why, never with a secret).
    Credentials {
        /// Whether no credentials were found at all.
        found_none: bool,
        /// The credential provider's reason, in one line.
        reason: String,
    },
}

/// A failed store request: what it was, on what, at which store, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoreError {
    /// The operation.
    pub operation: Operation,
    /// The bucket.
    pub bucket: BucketName,
    /// The key, or a listing's prefix; empty for an operation on the bucket itself.
    pub key: String,
    /// The store, as people know it: its endpoint, or "AWS S3".
    pub store: String,
    /// What went wrong.
    pub kind: StoreErrorKind,
}

impl StoreError {
    /// A failed `operation` on the object at `at`.
    pub fn at(operation: Operation, at: &Location, store: &str, kind: StoreErrorKind) -> Self {
        StoreError {
            operation,
            bucket: at.bucket.clone(),
            key: at.key.to_string(),
            store: store.to_owned(),
            kind,
        }
    }

    /// A failed `operation` on `bucket` (a listing under `prefix`, or `""` for the bucket itself).
    pub fn on_bucket(
        operation: Operation,
        bucket: &BucketName,
        prefix: &str,
        store: &str,
        kind: StoreErrorKind,
    ) -> Self {
        StoreError {
            operation,
            bucket: bucket.clone(),
            key: prefix.to_owned(),
            store: store.to_owned(),
            kind,
        }
    }

    /// Whether trying the same read again may succeed.
    pub fn is_transient(&self) -> bool {
        matches!(self.kind, StoreErrorKind::Transient(_))
    }
}

impl fmt::Display for StoreError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let StoreError {
            operation,
            bucket,
            key,
            store,
            kind,
        } = self;
        let location = format!("s3://{bucket}/{key}");
        let op = operation.name();
        match kind {
            StoreErrorKind::NoSuchBucket => write!(
                f,
                "bucket {:?} does not exist ({store}); create it with versioning enabled, or fix the bucket's name",
                bucket.as_str()
            ),
            StoreErrorKind::NoSuchVersion => {
                write!(f, "S3 {op} on {location} ({store}): no such version")
            }
            StoreErrorKind::PreconditionFailed => {
                write!(f, "S3 {op} on {location} ({store}): precondition failed")
            }
            StoreErrorKind::Conflict => write!(
                f,
                "S3 {op} on {location} ({store}): another conditional write to the key was in flight (409 ConditionalRequestConflict)"
            ),
            StoreErrorKind::NotImplemented => write!(
                f,
                "{store} does not implement {op} as catapult uses it on {location} (HTTP 501 Not Implemented)"
            ),
            StoreErrorKind::AccessDenied => write!(
                f,
                "access denied: {} on {location} ({store}); grant it to these credentials",
                operation.iam_action()
            ),
            StoreErrorKind::TooLarge { size } => write!(
                f,
                "S3 {op} on {location} ({store}): the body is {size} bytes, more than the {MAX_RECORD_BYTES} a record may be"
            ),
            StoreErrorKind::Credentials {
                found_none: true,
                reason,
            } => write!(
                f,
                "S3 {op} on {location} ({store}): no AWS credentials were found ({reason})"
            ),
            StoreErrorKind::Credentials {
                found_none: false,
                reason,
            } => write!(
                f,
                "S3 {op} on {location} ({store}): the AWS credentials could not be loaded: {reason}"
            ),
            StoreErrorKind::Transient(cause)
            | StoreErrorKind::Unavailable(cause)
            | StoreErrorKind::Failed(cause) => {
                write!(f, "S3 {op} on {location} ({store}) failed: {cause}")
            }
        }
    }
}

impl std::error::Error for StoreError {}
