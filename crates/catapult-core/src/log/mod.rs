//! The record log: one key's history of records, and the only code that reads or extends it.
//! It keeps the promise the bucket makes to the people who trust it with production: no record
//! is ever missed, duplicated or lost, whatever the network or the store does.
//!
//! - **Walking** a history goes newest first, a page at a time, so its cost grows with how far
//!   back it goes. A page marked truncated without markers goes on from its last entry; a store
//!   that does not list newest first gets one full listing, put in order without dropping ties.
//! - **Reading** retries a transient fault (a reset in the middle of a body); a missing bucket
//!   is an error everywhere, never a skipped version; an invalid body is skipped with a warning
//!   wherever a history is scanned.
//! - **Appending** is conditional on the key's current version (`If-None-Match: *` on an empty
//!   key, `If-Match` after), and each attempt carries a random write id stored with the object.
//!   When the outcome of a write is unknown (its answer lost, or a 412 that may be the SDK's
//!   retry of a write that landed), the versions newer than the one it was conditioned on are
//!   read, and a version with one of this append's write ids is its own: it never writes twice.
//!   A 412 while the key has not changed is the store refusing the precondition, and fails at
//!   once; a 501 is named. On any store but AWS S3, one listing after each write verifies that
//!   the version beneath the new one is the one the write was conditioned on, so that a store
//!   that ignores preconditions is caught by the writer that raced, which fails naming both.
//! - **Versioning** is known before anything is written: from the listing where it shows real
//!   version ids, from GetBucketVersioning otherwise. A write that a store kept without a version
//!   (versioning suspended meanwhile) is taken back.

use futures_util::StreamExt;
use jiff::Timestamp;

use crate::error::{Error, Result};
use crate::record::{Record, StoredRecord};
use crate::store::{
    BucketName, ListedVersion, Location, NULL_VERSION_ID, RecordStore, StoreError, StoreErrorKind,
    StoredObject, Versioning, WriteCondition,
};

mod append;
mod retry;
mod walk;

use retry::retry_transient;
pub use walk::Walk;

/// How many record bodies are fetched at once.
const CONCURRENT_READS: usize = 8;
/// How many times a write is tried while other writers keep winning, or answers get lost.
const MAX_WRITE_ATTEMPTS: u32 = 16;

/// One key's history of records in a store.
#[derive(Debug)]
pub struct RecordLog<'a, S> {
    store: &'a S,
    at: &'a Location,
}

impl<S> Clone for RecordLog<'_, S> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<S> Copy for RecordLog<'_, S> {}

/// What the key holds now: the version a write must follow, and the newest valid record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Head {
    /// The key's current version, which a write is conditioned on; `None` when the key has no
    /// current version (no version at all, or a delete marker on top).
    pub current: Option<ListedVersion>,
    /// The newest version of the key, delete markers aside: what a write's version must sit on.
    pub newest: Option<String>,
    /// The newest valid record; older than `current` when the current body is not a record.
    pub latest: Option<StoredRecord>,
}

impl Head {
    /// The precondition of a write that follows this head.
    fn condition(&self) -> Option<WriteCondition> {
        match &self.current {
            None => Some(WriteCondition::Absent),
            Some(current) => current.etag.clone().map(WriteCondition::Matches),
        }
    }
}

/// What a step makes of the head of a log: a record to append, or nothing to write and this.
/// Made once per attempt and consumed at once, so its size does not matter.
#[allow(clippy::large_enum_variant)]
#[derive(Debug)]
pub enum Decision<T> {
    /// Append this record.
    Write(Record),
    /// Write nothing; the step's answer is this.
    Keep(T),
}

/// What [`RecordLog::append`] did. Returned once per append.
#[allow(clippy::large_enum_variant)]
#[derive(Debug)]
pub enum Appended<T> {
    /// Nothing was written.
    Kept(T),
    /// The record was written, once, as this version.
    Written(StoredRecord),
}

/// How a search of the history judges one record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Judgement {
    /// This is the one.
    Found,
    /// Look further back.
    Continue,
    /// No older record can be the one: stop.
    GiveUp,
}

impl<'a, S: RecordStore> RecordLog<'a, S> {
    /// The history at `at` in `store`.
    pub fn new(store: &'a S, at: &'a Location) -> Self {
        RecordLog { store, at }
    }

    /// Where the history lives.
    pub fn location(&self) -> &'a Location {
        self.at
    }

    /// The key's versions, newest first.
    pub fn walk(&self) -> Walk<'a, S> {
        Walk::new(self.store, self.at)
    }

    /// Exactly one version, as a record; an error naming it when it does not exist or is not a
    /// record.
    pub async fn read_exact(&self, version_id: &str) -> Result<StoredRecord> {
        match self.get(version_id).await {
            Ok(object) => record_of(&object, self.at),
            Err(err) if err.kind == StoreErrorKind::NoSuchVersion => Err(Error::VersionNotFound {
                location: self.at.clone(),
                version_id: version_id.to_owned(),
            }),
            Err(err) => Err(err.into()),
        }
    }

    /// The valid records among `entries`, in their order, read a few at a time. A version that
    /// is not a record, too large to be one, or deleted meanwhile, is left out with a warning; a
    /// missing bucket or a failing store is an error.
    pub async fn read_valid(&self, entries: &[ListedVersion]) -> Result<Vec<StoredRecord>> {
        let objects: Vec<_> = futures_util::stream::iter(entries)
            .map(|entry| self.get(&entry.version_id))
            .buffered(CONCURRENT_READS)
            .collect()
            .await;
        let mut records = Vec::with_capacity(entries.len());
        for (entry, object) in entries.iter().zip(objects) {
            let object = match object {
                Ok(object) => object,
                Err(err) => match err.kind {
                    StoreErrorKind::NoSuchVersion => {
                        tracing::warn!(
                            "skipping version {:?} of {}: deleted meanwhile",
                            entry.version_id,
                            self.at
                        );
                        continue;
                    }
                    StoreErrorKind::TooLarge { size } => {
                        tracing::warn!(
                            "skipping version {:?} of {}: not a valid record: its body is {size} bytes",
                            entry.version_id,
                            self.at
                        );
                        continue;
                    }
                    _ => return Err(err.into()),
                },
            };
            match record_of(&object, self.at) {
                Ok(record) => records.push(record),
                Err(err) => tracing::warn!("skipping {err}"),
            }
        }
        Ok(records)
    }

    /// The newest valid record that `judge` finds, walking newest first and reading a batch at
    /// a time; versions written before `since` are not looked at (a deploy of a release cannot
    /// be older than the release).
    pub async fn find(
        &self,
        since: Option<Timestamp>,
        mut judge: impl FnMut(&StoredRecord) -> Judgement,
    ) -> Result<Option<StoredRecord>> {
        let mut history = self.walk();
        let mut batch_size = 1;
        loop {
            let mut batch = Vec::with_capacity(batch_size);
            let mut ended = false;
            while batch.len() < batch_size {
                match history.next().await? {
                    Some(entry) if is_before(&entry, since) => {
                        ended = true;
                        break;
                    }
                    Some(entry) if entry.version_id == NULL_VERSION_ID => {}
                    Some(entry) => batch.push(entry),
                    None => {
                        ended = true;
                        break;
                    }
                }
            }
            for record in self.read_valid(&batch).await? {
                match judge(&record) {
                    Judgement::Found => return Ok(Some(record)),
                    Judgement::GiveUp => return Ok(None),
                    Judgement::Continue => {}
                }
            }
            if ended {
                return Ok(None);
            }
            // The newest record is usually the one wanted: read it alone, then in batches.
            batch_size = CONCURRENT_READS;
        }
    }

    /// Every valid record, newest first, at most `limit` of them.
    pub async fn records(&self, limit: Option<usize>) -> Result<Vec<StoredRecord>> {
        let mut records = Vec::new();
        self.find(None, |record| {
            records.push(record.clone());
            if limit.is_some_and(|limit| records.len() >= limit) {
                Judgement::GiveUp
            } else {
                Judgement::Continue
            }
        })
        .await?;
        Ok(records)
    }

    /// The key's head: its current version and newest valid record. It costs one listing and
    /// one read when the current record is valid (a listing names the current version and its
    /// ETag); with no version at all, or only versions written without versioning, the
    /// bucket's versioning is asked, and a bucket that would not keep a write's version is an
    /// error, before anything is written.
    pub async fn head(&self) -> Result<Head> {
        let mut history = self.walk();
        let mut head = Head {
            current: None,
            newest: None,
            latest: None,
        };
        let mut first = true;
        let mut batch_size = 1;
        'walk: loop {
            let mut batch = Vec::with_capacity(batch_size);
            let mut ended = false;
            while batch.len() < batch_size {
                let Some(entry) = history.next().await? else {
                    ended = true;
                    break;
                };
                if first {
                    first = false;
                    head.newest = Some(entry.version_id.clone());
                    if entry.is_latest && !history.delete_marker_on_top() {
                        head.current = Some(entry.clone());
                    }
                }
                if entry.version_id != NULL_VERSION_ID {
                    batch.push(entry);
                }
            }
            if let Some(record) = self.read_valid(&batch).await?.into_iter().next() {
                head.latest = Some(record);
                break 'walk;
            }
            if ended {
                break;
            }
            batch_size = CONCURRENT_READS;
        }
        let listing_shows_versioning = head
            .newest
            .as_deref()
            .is_some_and(|newest| newest != NULL_VERSION_ID);
        if !listing_shows_versioning {
            ensure_versioned(self.store, &self.at.bucket).await?;
        }
        // A current version listed without an ETag: ask for it.
        if let Some(current) = head
            .current
            .as_mut()
            .filter(|current| current.etag.is_none())
        {
            current.etag = self.get(&current.version_id).await?.etag;
        }
        Ok(head)
    }

    /// One version's object, a transient fault retried.
    async fn get(&self, version_id: &str) -> Result<StoredObject, StoreError> {
        retry_transient(async || self.store.get_version(self.at, version_id).await).await
    }
}

/// The record a stored object holds, or an error naming its version id and what is wrong.
pub fn record_of(object: &StoredObject, at: &Location) -> Result<StoredRecord> {
    let record = Record::parse(&object.body, object.last_modified).map_err(|reason| {
        Error::InvalidRecord {
            location: at.clone(),
            version_id: object.version_id.clone(),
            reason,
        }
    })?;
    Ok(StoredRecord {
        version_id: object.version_id.clone(),
        last_modified: object.last_modified,
        record,
    })
}

/// Whether `entry` was written before `since`.
fn is_before(entry: &ListedVersion, since: Option<Timestamp>) -> bool {
    match (entry.last_modified, since) {
        (Some(written), Some(since)) => written < since,
        _ => false,
    }
}

/// An error naming the bucket unless it keeps every write's version.
pub async fn ensure_versioned<S: RecordStore>(store: &S, bucket: &BucketName) -> Result<()> {
    let state = retry_transient(async || store.versioning(bucket).await).await?;
    match state {
        Versioning::Enabled => Ok(()),
        Versioning::Suspended => Err(Error::BucketNotVersioned {
            bucket: bucket.to_string(),
            state: "suspended",
        }),
        Versioning::Off => Err(Error::BucketNotVersioned {
            bucket: bucket.to_string(),
            state: "never enabled",
        }),
    }
}

#[cfg(test)]
mod tests;
