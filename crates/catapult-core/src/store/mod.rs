//! The S3 seam, the lowest layer of the core: a small trait with one method per S3 operation
//! the record log needs, the types it speaks, and its typed errors ([`error`]), each mapped once
//! from what a store answered. The record log is generic over [`RecordStore`]; [`s3::S3Store`]
//! is the one implementation over the AWS SDK (the only module that touches `aws_*`, one file
//! per S3 operation), and the doubles, compiled into tests alone (or with the `doubles`
//! feature): [`memory::MemoryStore`] models a versioned bucket in memory for tests of logic, and
//! [`faults::FaultyStore`] wraps any store to break it on purpose. Nothing here knows the
//! core's own error: a store speaks only of stores.

use std::fmt;

use jiff::Timestamp;

pub mod error;
#[cfg(any(test, feature = "doubles"))]
pub mod faults;
pub mod location;
#[cfg(any(test, feature = "doubles"))]
pub mod memory;
pub mod s3;
pub mod tally;

pub use error::{Operation, StoreError, StoreErrorKind};
pub use location::{BucketName, Location, ObjectKey};

/// The S3 version id of objects written while versioning was off or suspended.
pub const NULL_VERSION_ID: &str = "null";

/// The largest record body read: a record is a few kilobytes (a release of 50,000 commits lists
/// about 2 MB of shas). Anything larger is refused before it is read.
pub const MAX_RECORD_BYTES: u64 = 4 * 1024 * 1024;

/// The ETag S3 gives an object stored whole: the MD5 of its body, in hex, quoted.
pub fn etag_of(body: &[u8]) -> String {
    use md5::{Digest, Md5};
    let digest = Md5::digest(body);
    let hex: String = digest.iter().map(|byte| format!("{byte:02x}")).collect();
    format!("\"{hex}\"")
}

/// Whether two ETags are the same, however a store quotes or cases them.
pub fn same_etag(one: &str, other: &str) -> bool {
    one.trim_matches('"')
        .eq_ignore_ascii_case(other.trim_matches('"'))
}

/// Whether `body` is what an object with `etag` holds: `Some(true)` or `Some(false)` when the
/// ETag is an MD5 (32 hex digits, quoted or not), `None` when it is something else (a multipart
/// upload's, or a store's own scheme) and cannot tell.
pub fn body_matches_etag(body: &[u8], etag: &str) -> Option<bool> {
    let bare = etag.trim_matches('"');
    let is_md5 = bare.len() == 32 && bare.bytes().all(|byte| byte.is_ascii_hexdigit());
    is_md5.then(|| etag_of(body).trim_matches('"').eq_ignore_ascii_case(bare))
}

/// One object version of exactly the listed key (never a delete marker).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListedVersion {
    /// The S3 VersionId; `"null"` for an object written while versioning was off.
    pub version_id: String,
    /// Whether the store marks it as the key's current version.
    pub is_latest: bool,
    /// When it was written.
    pub last_modified: Option<Timestamp>,
    /// Its ETag, for a conditional write over it when it is the current version, and to check a
    /// read of it against.
    pub etag: Option<String>,
    /// Its size in bytes, to check a read of it against.
    pub size: Option<u64>,
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
    /// Its S3 VersionId, as the store's answer gave it (`x-amz-version-id`); `None` when the
    /// answer held none (a store that ignores versions answers so).
    pub version_id: Option<String>,
    /// Its ETag.
    pub etag: Option<String>,
    /// When it was written.
    pub last_modified: Option<Timestamp>,
    /// The write id it was stored with (user metadata `catapult-write-id`), if any.
    pub write_id: Option<String>,
    /// Whether its ETag can be the MD5 of its body: not for an object encrypted with SSE-KMS or
    /// SSE-C, whose ETag is something else.
    pub etag_is_md5: bool,
    /// The body.
    pub body: Vec<u8>,
}

impl StoredObject {
    /// Whether the body is what its ETag says: `Some(false)` for a body damaged on the way,
    /// `None` when the ETag cannot tell.
    pub fn matches_etag(&self) -> Option<bool> {
        let etag = self.etag.as_deref().filter(|_| self.etag_is_md5)?;
        body_matches_etag(&self.body, etag)
    }
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

/// The S3 operations the record log uses. `async fn` without `Send` bounds: a step runs on one
/// thread.
#[allow(async_fn_in_trait)]
pub trait RecordStore {
    /// The store as people know it, for errors: its endpoint, or "AWS S3".
    fn name(&self) -> &str;

    /// Whether each write is verified by a listing afterwards: true for every store but AWS S3
    /// itself, whose preconditions are known to hold.
    fn verifies_writes(&self) -> bool;

    /// The store's own time, as of its latest answer (the `Date` it answered with), for rules
    /// that must not trust the local clock alone; `None` before any answer.
    fn clock(&self) -> Option<Timestamp>;

    /// Who the store's credentials are (STS GetCallerIdentity's ARN), where the store can say:
    /// an approval keeps it beside the approver's name. `None` when it cannot tell.
    async fn caller_identity(&self) -> Option<String> {
        None
    }

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
    /// stored with `write_id`. Returns the new version's id, or `None` when the answer gave no
    /// usable one (no `x-amz-version-id`, or `null`): then only the history can tell whether the
    /// store kept a version of it.
    async fn put(
        &self,
        at: &Location,
        body: Vec<u8>,
        condition: &WriteCondition,
        write_id: &str,
    ) -> Result<Option<String>, StoreError>;

    /// The bucket's versioning state (GetBucketVersioning).
    async fn versioning(&self, bucket: &BucketName) -> Result<Versioning, StoreError>;

    /// Every key of `bucket` under `prefix` with its current ETag (ListObjectsV2, every page), in
    /// key order. Keys whose current entry is a delete marker are not listed.
    async fn list_keys(
        &self,
        bucket: &BucketName,
        prefix: &str,
    ) -> Result<Vec<ListedKey>, StoreError>;

    /// The current version of `at` (GetObject without a VersionId), with its version id. A key
    /// without a current version is [`StoreErrorKind::NoSuchVersion`]; a body larger than
    /// [`MAX_RECORD_BYTES`] is [`StoreErrorKind::TooLarge`].
    async fn get_current(&self, at: &Location) -> Result<StoredObject, StoreError>;

    /// Deletes one version for good (DeleteObject with VersionId): only to take back a write
    /// that a bucket without versioning kept as its `null` version.
    async fn delete_version(&self, at: &Location, version_id: &str) -> Result<(), StoreError>;
}
