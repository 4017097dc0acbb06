//! The record log: one key's history of records, and the only code that reads or extends it.
//! It keeps the promise the bucket makes to the people who trust it with production: no record
//! is ever missed, duplicated or lost, whatever the network or the store does.
//!
//! - **Walking** a history goes newest first, a page at a time, so its cost grows with how far
//!   back it goes ([`walk`]). A page marked truncated without markers goes on from its last
//!   entry; a store that does not list newest first gets one full listing, put in order without
//!   dropping ties. A store that cannot list versions at all is named for what it lacks.
//! - **Reading** tells a bad read from a bad record ([`read`]): a body cut short, garbled, not
//!   the size its listing says, or a 404 for a version just listed is read again, and the step
//!   fails naming the version if it never comes back whole; only a body read whole that is not
//!   a record is skipped as invalid. A store must answer the version asked for.
//! - **Appending** is conditional on the key's current version and exactly once ([`append`]):
//!   every record written carries its write's own random id, so no two writes store the same
//!   body and an ETag names one write; a write whose outcome is unknown is looked for by what it
//!   wrote before anything is written again; the verification after a write is a read like any
//!   other; on a store that ignored a precondition, a write that finds another writer's record
//!   beneath its own takes its own back.
//! - **Versioning** is known before anything is written: from the listing where it shows
//!   versions with real ids and no `null` one, from GetBucketVersioning otherwise.

use futures_util::StreamExt;
use jiff::Timestamp;

use crate::error::{Error, Result};
use crate::record::{Entry, Record, Stored};
use crate::store::{
    BucketName, ListedVersion, Location, NULL_VERSION_ID, RecordStore, StoreErrorKind,
    StoredObject, Versioning, WriteCondition,
};

mod append;
mod read;
mod retry;
mod walk;

use read::Read;
use retry::retry_transient;
pub use walk::Walk;

/// How many record bodies are fetched at once.
const CONCURRENT_READS: usize = 8;
/// How many record bodies are fetched at once when a whole history is read.
const CONCURRENT_WHOLE_READS: usize = 32;
/// How many times a write is tried while other writers keep winning, or answers get lost.
const MAX_WRITE_ATTEMPTS: u32 = 16;

/// One key's history of records in a store.
#[derive(Debug)]
pub struct RecordLog<'a, S, E = Record> {
    store: &'a S,
    at: &'a Location,
    entry: std::marker::PhantomData<fn() -> E>,
    /// Whether another read in the same bucket already showed a real version id, so that an
    /// empty key needs no GetBucketVersioning before its first write.
    versioning_shown: bool,
}

impl<S, E> Clone for RecordLog<'_, S, E> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<S, E> Copy for RecordLog<'_, S, E> {}

/// What the key holds now: the version a write must follow, and the newest valid record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Head<E = Record> {
    /// The key's current version, which a write is conditioned on; `None` when the key has no
    /// current version (no version at all, or a delete marker on top).
    pub current: Option<ListedVersion>,
    /// The newest version of the key, delete markers aside: what a write's version must sit on.
    pub newest: Option<String>,
    /// The newest valid record; older than `current` when the current body is not a record.
    pub latest: Option<Stored<E>>,
    /// Whether the first page of the listing named a `null` version: an object written while
    /// versioning was off, which a write in a suspended bucket would replace.
    pub null_version_listed: bool,
}

impl<E> Head<E> {
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
pub enum Decision<T, E = Record> {
    /// Append this record.
    Write(E),
    /// Write nothing; the step's answer is this.
    Keep(T),
}

/// What [`RecordLog::append`] did. Returned once per append.
#[allow(clippy::large_enum_variant)]
#[derive(Debug)]
pub enum Appended<T, E = Record> {
    /// Nothing was written.
    Kept(T),
    /// The record was written, once, as this version.
    Written(Stored<E>),
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
    /// The history of release or deploy records at `at` in `store`.
    pub fn new(store: &'a S, at: &'a Location) -> Self {
        RecordLog::of(store, at)
    }

    /// The highest release number ever issued on the key: the newest record's mark when it
    /// carries one, else the history read back to the first record that does (all of it, for a
    /// history written before the mark was kept), its numbers and marks compared.
    pub async fn highest_number(&self) -> Result<u64> {
        let mut highest = 0;
        self.find(None, |stored| {
            let record = &stored.record;
            highest = highest.max(record.version);
            match record.highest_version {
                Some(mark) => {
                    highest = highest.max(mark);
                    Judgement::GiveUp
                }
                None => Judgement::Continue,
            }
        })
        .await?;
        Ok(highest)
    }
}

impl<'a, S: RecordStore, E: Entry> RecordLog<'a, S, E> {
    /// The history of entries of type `E` at `at` in `store`.
    pub fn of(store: &'a S, at: &'a Location) -> Self {
        RecordLog {
            store,
            at,
            entry: std::marker::PhantomData,
            versioning_shown: false,
        }
    }

    /// This log, knowing that `record`, read from its bucket, showed a real version id: the
    /// bucket keeps versions, and an empty key needs no GetBucketVersioning before its first
    /// write.
    pub fn knowing_versioned<R>(mut self, record: &Stored<R>, bucket: &BucketName) -> Self {
        self.versioning_shown |= *bucket == self.at.bucket && record.version_id != NULL_VERSION_ID;
        self
    }

    /// Where the history lives.
    pub fn location(&self) -> &'a Location {
        self.at
    }

    /// The key's versions, newest first.
    pub fn walk(&self) -> Walk<'a, S> {
        Walk::new(self.store, self.at)
    }

    /// The valid records among `entries`, in their order, read a few at a time. A version that
    /// is not a record (read whole, as listed), too large to be one, or deleted meanwhile, is
    /// left out with a warning; one that cannot be read whole, a missing bucket or a failing
    /// store is an error.
    pub async fn read_valid(&self, entries: &[ListedVersion]) -> Result<Vec<Stored<E>>> {
        self.read_valid_at_once(entries, CONCURRENT_READS).await
    }

    /// [`Self::read_valid`] for the versions of a whole history, all wanted: more at a time.
    pub async fn read_all_valid(&self, entries: &[ListedVersion]) -> Result<Vec<Stored<E>>> {
        self.read_valid_at_once(entries, CONCURRENT_WHOLE_READS)
            .await
    }

    async fn read_valid_at_once(
        &self,
        entries: &[ListedVersion],
        at_once: usize,
    ) -> Result<Vec<Stored<E>>> {
        let reads: Vec<Result<Read<E>>> = futures_util::stream::iter(entries)
            .map(|entry| self.read_listed(entry))
            .buffered(at_once)
            .collect()
            .await;
        let mut records = Vec::with_capacity(entries.len());
        for read in reads {
            match read? {
                Read::Record(record) => records.push(record),
                Read::Invalid(err) => tracing::warn!("skipping {err}"),
                Read::Deleted => {}
            }
        }
        Ok(records)
    }

    /// The newest valid record that `judge` finds, walking newest first and reading a batch at
    /// a time; versions written before `since` are not looked at (a deploy of a release cannot
    /// be older than the release). A search that met nothing but objects written without
    /// versioning (`null` versions) asks the bucket before it answers that there is nothing: a
    /// bucket whose versioning is off or suspended is an error naming it, never an empty history.
    pub async fn find(
        &self,
        since: Option<Timestamp>,
        mut judge: impl FnMut(&Stored<E>) -> Judgement,
    ) -> Result<Option<Stored<E>>> {
        let mut history = self.walk();
        let mut batch_size = 1;
        let mut versioned_entry_seen = false;
        loop {
            let mut batch = Vec::with_capacity(batch_size);
            let mut ended = false;
            while batch.len() < batch_size {
                match history.next().await? {
                    Some(entry) if is_before(&entry, since) => {
                        versioned_entry_seen |= entry.version_id != NULL_VERSION_ID;
                        ended = true;
                        break;
                    }
                    Some(entry) if entry.version_id == NULL_VERSION_ID => {}
                    Some(entry) => {
                        versioned_entry_seen = true;
                        batch.push(entry);
                    }
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
                if history.null_version_listed() && !versioned_entry_seen && !self.versioning_shown
                {
                    ensure_versioned(self.store, &self.at.bucket).await?;
                }
                return Ok(None);
            }
            // The newest record is usually the one wanted: read it alone, then in batches.
            batch_size = CONCURRENT_READS;
        }
    }

    /// Every valid record, newest first, at most `limit` of them.
    pub async fn records(&self, limit: Option<usize>) -> Result<Vec<Stored<E>>> {
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

    /// The newest valid record, in one request when the key's current version is one (a
    /// GetObject of the current version, which says its version id); otherwise by walking the
    /// history.
    pub async fn latest(&self) -> Result<Option<Stored<E>>> {
        match self.store.get_current(self.at).await {
            Ok(object) => {
                let answered_version = object
                    .version_id
                    .as_deref()
                    .is_some_and(|id| id != NULL_VERSION_ID);
                if answered_version {
                    if let Ok(record) = record_of(&object, self.at) {
                        return Ok(Some(record));
                    }
                }
            }
            Err(err) if err.kind == StoreErrorKind::NoSuchVersion || err.is_transient() => {}
            Err(err) => return Err(err.into()),
        }
        self.find(None, |_| Judgement::Found).await
    }

    /// The key's current version as an entry, in one request; `None` when the key has no
    /// current version (no version, or a delete marker on top). A current version that is not a
    /// valid entry gives the newest valid one beneath it.
    pub async fn current(&self) -> Result<Option<Stored<E>>> {
        match self.store.get_current(self.at).await {
            Ok(object) => match record_of(&object, self.at) {
                Ok(record) if object.version_id.is_some() => Ok(Some(record)),
                _ => self.find(None, |_| Judgement::Found).await,
            },
            Err(err) if err.kind == StoreErrorKind::NoSuchVersion => Ok(None),
            Err(err) => Err(err.into()),
        }
    }

    /// The key's head: its current version and newest valid record. It costs one listing and
    /// one read when the current record is valid (a listing names the current version and its
    /// ETag); when the listing cannot prove versioning on (no version with a real id, or a
    /// `null` one among them), the bucket's versioning is asked, and a bucket that would not
    /// keep a write's version is an error, before anything is written.
    pub async fn head(&self) -> Result<Head<E>> {
        let mut history = self.walk();
        let mut head = Head {
            current: None,
            newest: None,
            latest: None,
            null_version_listed: false,
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
                if entry.version_id == NULL_VERSION_ID {
                    head.null_version_listed = true;
                } else {
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
        head.null_version_listed |= history.null_version_listed();
        let versioning_shown = match head.newest.as_deref() {
            _ if head.null_version_listed => false,
            Some(newest) => newest != NULL_VERSION_ID,
            None => self.versioning_shown,
        };
        if !versioning_shown {
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
    async fn get(&self, version_id: &str) -> Result<StoredObject> {
        Ok(retry_transient(async || self.store.get_version(self.at, version_id).await).await?)
    }
}

/// The entry a stored object holds, or an error naming its version id and what is wrong.
pub fn record_of<E: Entry>(object: &StoredObject, at: &Location) -> Result<Stored<E>> {
    let version_id = object.version_id.clone().unwrap_or_default();
    let record = E::parse(&object.body, object.last_modified)
        .and_then(|record| {
            record.check_written_by_catapult(object.write_id.as_deref())?;
            Ok(record)
        })
        .map_err(|reason| Error::InvalidRecord {
            location: at.clone(),
            version_id: version_id.clone(),
            reason,
        })?;
    Ok(Stored {
        version_id,
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

/// An error unless the bucket of `at` keeps every write's version, shown by one listing of `at`'s
/// versions when it names a real version id, asked of the bucket otherwise; a store that cannot
/// list versions at all is named for it. For readers that do not walk a history (the board).
pub async fn prove_versioned<S: RecordStore>(store: &S, at: &Location) -> Result<()> {
    let mut walk = Walk::new(store, at);
    match walk.next().await? {
        Some(entry) if entry.version_id != NULL_VERSION_ID && !walk.null_version_listed() => Ok(()),
        _ => ensure_versioned(store, &at.bucket).await,
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
