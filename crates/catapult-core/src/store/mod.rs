//! The S3 seam: a small trait with one method per S3 operation the record log needs, the types
//! it speaks, and its typed errors, each mapped once from what a store answered. The record log
//! is generic over [`RecordStore`]; [`s3::S3Store`] is the one implementation over the AWS SDK
//! (the only module that touches `aws_*`), [`memory::MemoryStore`] models a versioned bucket in
//! memory for tests of logic, and [`faults::FaultyStore`] wraps any store to break it on purpose.

use std::fmt;

use jiff::Timestamp;

pub mod faults;
pub mod memory;
pub mod s3;

pub use crate::location::Location;

/// The S3 version id of objects written while versioning was off or suspended.
pub const NULL_VERSION_ID: &str = "null";

/// The largest record body read: a record is a few kilobytes (a release of 50,000 commits lists
/// about 2 MB of shas). Anything larger is refused before it is read.
pub const MAX_RECORD_BYTES: u64 = 4 * 1024 * 1024;

/// One object version of exactly the listed key (never a delete marker).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListedVersion {
    /// The S3 VersionId; `"null"` for an object written while versioning was off.
    pub version_id: String,
    /// Whether the store marks it as the key's current version.
    pub is_latest: bool,
    /// When it was written.
    pub last_modified: Option<Timestamp>,
    /// Its ETag, for a conditional write over it when it is the current version.
    pub etag: Option<String>,
}

/// One key of a bucket and its current version's ETag, as ListObjectsV2 tells them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListedKey {
    /// The object key.
    pub key: String,
    /// The ETag of its current version: it changes whenever a record is written there.
    pub etag: String,
}

/// One page of a key's versions, in the store's list order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct VersionPage {
    /// The versions of the key on this page; delete markers and other keys left out.
    pub versions: Vec<ListedVersion>,
    /// Whether this page holds the key's current entry and it is a delete marker.
    pub delete_marker_is_latest: bool,
    /// Whether the store says more entries follow.
    pub is_truncated: bool,
    /// The markers the store returned for the next page, as it returned them.
    pub next: Option<PageCursor>,
    /// The last entry of the page, of any kind and key: where a listing goes on when a store
    /// says it is truncated but returns no markers.
    pub last_entry: Option<PageCursor>,
}

/// Where a listing goes on: a key and a version id marker.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PageCursor {
    /// S3's KeyMarker.
    pub key_marker: String,
    /// S3's VersionIdMarker.
    pub version_id_marker: String,
}

/// An object version's body and what the store says of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredObject {
    /// Its S3 VersionId.
    pub version_id: String,
    /// Its ETag.
    pub etag: Option<String>,
    /// When it was written.
    pub last_modified: Option<Timestamp>,
    /// The write id it was stored with (user metadata `catapult-write-id`), if any.
    pub write_id: Option<String>,
    /// The body.
    pub body: Vec<u8>,
}

/// The precondition of a write, so that two writers can never both take the same place.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WriteCondition {
    /// The key must have no current version (`If-None-Match: *`).
    Absent,
    /// The key's current version must have this ETag (`If-Match`).
    Matches(String),
}

impl fmt::Display for WriteCondition {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            WriteCondition::Absent => f.write_str("If-None-Match: *"),
            WriteCondition::Matches(etag) => write!(f, "If-Match: {etag}"),
        }
    }
}

/// A bucket's versioning state, as GetBucketVersioning tells it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Versioning {
    /// Every write makes a new version.
    Enabled,
    /// Versioning was on and is suspended: writes replace the `null` version.
    Suspended,
    /// Versioning was never turned on.
    Off,
}

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
    /// A conditional write's precondition did not hold (HTTP 412, or 409 for a conflicting
    /// conditional write in flight). Nothing was written by this request, though an earlier
    /// attempt of it, retried by the SDK, may have been.
    PreconditionFailed,
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
}

/// A failed store request: what it was, on what, at which store, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoreError {
    /// The operation.
    pub operation: Operation,
    /// The bucket and key (an empty key for bucket operations).
    pub location: Location,
    /// The store, as people know it: its endpoint, or "AWS S3".
    pub store: String,
    /// What went wrong.
    pub kind: StoreErrorKind,
}

impl StoreError {
    /// Whether trying the same read again may succeed.
    pub fn is_transient(&self) -> bool {
        matches!(self.kind, StoreErrorKind::Transient(_))
    }
}

impl fmt::Display for StoreError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let StoreError {
            operation,
            location,
            store,
            kind,
        } = self;
        let op = operation.name();
        match kind {
            StoreErrorKind::NoSuchBucket => write!(
                f,
                "bucket {:?} does not exist ({store}); create it with versioning enabled, or fix the bucket's name",
                location.bucket
            ),
            StoreErrorKind::NoSuchVersion => {
                write!(f, "S3 {op} on {location} ({store}): no such version")
            }
            StoreErrorKind::PreconditionFailed => {
                write!(f, "S3 {op} on {location} ({store}): precondition failed")
            }
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
            StoreErrorKind::Transient(cause)
            | StoreErrorKind::Unavailable(cause)
            | StoreErrorKind::Failed(cause) => {
                write!(f, "S3 {op} on {location} ({store}) failed: {cause}")
            }
        }
    }
}

impl std::error::Error for StoreError {}

/// The S3 operations the record log uses. `async fn` without `Send` bounds: a step runs on one
/// thread.
#[allow(async_fn_in_trait)]
pub trait RecordStore {
    /// The store as people know it, for errors: its endpoint, or "AWS S3".
    fn name(&self) -> &str;

    /// Whether each write is verified by a listing afterwards: true for every store but AWS S3
    /// itself, whose preconditions are known to hold.
    fn verifies_writes(&self) -> bool;

    /// One page of at most `max_keys` entries of `at`'s versions (ListObjectVersions with the
    /// key as prefix), starting `after` a previous page.
    async fn list_versions(
        &self,
        at: &Location,
        max_keys: i32,
        after: Option<&PageCursor>,
    ) -> Result<VersionPage, StoreError>;

    /// Exactly one version (GetObject with VersionId). A body larger than
    /// [`MAX_RECORD_BYTES`] is [`StoreErrorKind::TooLarge`], refused without reading it whole.
    async fn get_version(
        &self,
        at: &Location,
        version_id: &str,
    ) -> Result<StoredObject, StoreError>;

    /// Writes a new version if `condition` holds (PutObject with If-None-Match or If-Match),
    /// stored with `write_id`. Returns the new version's id, or `None` when the store kept no
    /// version of it (versioning off or suspended: it answered without `x-amz-version-id`, or
    /// with `null`).
    async fn put(
        &self,
        at: &Location,
        body: Vec<u8>,
        condition: &WriteCondition,
        write_id: &str,
    ) -> Result<Option<String>, StoreError>;

    /// The bucket's versioning state (GetBucketVersioning).
    async fn versioning(&self, bucket: &str) -> Result<Versioning, StoreError>;

    /// Every key of `bucket` under `prefix` with its current ETag (ListObjectsV2, every page), in
    /// key order. Keys whose current entry is a delete marker are not listed.
    async fn list_keys(&self, bucket: &str, prefix: &str) -> Result<Vec<ListedKey>, StoreError>;

    /// The current version of `at` (GetObject without a VersionId), with its version id. A key
    /// without a current version is [`StoreErrorKind::NoSuchVersion`]; a body larger than
    /// [`MAX_RECORD_BYTES`] is [`StoreErrorKind::TooLarge`].
    async fn get_current(&self, at: &Location) -> Result<StoredObject, StoreError>;

    /// Deletes one version for good (DeleteObject with VersionId): only to take back a write
    /// that a bucket without versioning kept as its `null` version.
    async fn delete_version(&self, at: &Location, version_id: &str) -> Result<(), StoreError>;
}

/// Runs a whole step against `store` within [`s3::STEP_DEADLINE`]: a store that accepts
/// connections and never answers fails it in bounded time, with an error naming the store.
pub async fn within_deadline<T>(
    store: &str,
    step: impl std::future::Future<Output = crate::Result<T>>,
) -> crate::Result<T> {
    match tokio::time::timeout(s3::STEP_DEADLINE, step).await {
        Ok(result) => result,
        Err(_) => Err(crate::Error::Deadline {
            store: store.to_owned(),
            seconds: s3::STEP_DEADLINE.as_secs(),
        }),
    }
}
