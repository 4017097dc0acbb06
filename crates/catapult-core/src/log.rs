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

use std::collections::VecDeque;
use std::time::Duration;

use futures_util::StreamExt;
use jiff::Timestamp;

use crate::error::{Duplicate, Error, Result};
use crate::location::Location;
use crate::record::{Record, StoredRecord};
use crate::store::{
    ListedVersion, NULL_VERSION_ID, PageCursor, RecordStore, StoreError, StoreErrorKind,
    StoredObject, VersionPage, Versioning, WriteCondition,
};

/// The first page is small, so that a walk that stops early reads little; pages then grow
/// toward S3's largest.
const FIRST_PAGE_SIZE: i32 = 16;
const LARGEST_PAGE_SIZE: i32 = 1000;
/// How many record bodies are fetched at once.
const CONCURRENT_READS: usize = 8;
/// How many times a read that met a transient fault is tried in all.
const READ_ATTEMPTS: u32 = 5;
/// How many times a write is tried while other writers keep winning, or answers get lost.
const MAX_WRITE_ATTEMPTS: u32 = 16;
/// The waits between attempts: random below a cap that doubles from the base to the largest.
const BACKOFF_BASE: Duration = Duration::from_millis(20);
const BACKOFF_LARGEST: Duration = Duration::from_secs(1);

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
    pub fn walk(&self) -> History<'a, S> {
        History::new(self.store, self.at)
    }

    /// Exactly one version, as a record; an error naming it when it does not exist or is not a
    /// record.
    pub async fn read_exact(&self, version_id: &str) -> Result<StoredRecord> {
        match self.get(version_id).await {
            Ok(object) => Record::read(&object, self.at),
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
            match Record::read(&object, self.at) {
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

    /// Appends the record `decide` makes of the head, on the condition that the head is still
    /// the head, exactly once (see the module's documentation). When another writer got there
    /// first, reads the head again and asks `decide` again, after a random wait, a bounded
    /// number of times.
    pub async fn append<T>(
        &self,
        mut decide: impl AsyncFnMut(&Head) -> Result<Decision<T>>,
    ) -> Result<Appended<T>> {
        let mut own_writes: Vec<String> = Vec::new();
        let mut why = String::new();
        for attempt in 1..=MAX_WRITE_ATTEMPTS {
            let head = self.head().await?;
            let record = match decide(&head).await? {
                Decision::Keep(kept) => return Ok(Appended::Kept(kept)),
                Decision::Write(record) => record,
            };
            let condition = head.condition().ok_or_else(|| Error::StoreBroken {
                store: self.store.name().to_owned(),
                location: self.at.clone(),
                broken: "listed the current version without an ETag, and returned none for it"
                    .into(),
            })?;
            let write_id = new_write_id();
            own_writes.push(write_id.clone());
            let written = self
                .store
                .put(self.at, record.to_json(), &condition, &write_id)
                .await;
            let failure = match written {
                Ok(Some(version_id)) => {
                    let stored = StoredRecord {
                        version_id,
                        last_modified: None,
                        record,
                    };
                    self.verify(&stored, &head, &condition).await?;
                    return Ok(Appended::Written(stored));
                }
                Ok(None) => return Err(self.take_back_unversioned_write().await),
                Err(failure) => failure,
            };
            let refused = match &failure.kind {
                StoreErrorKind::PreconditionFailed => true,
                StoreErrorKind::Transient(_) | StoreErrorKind::Unavailable(_) => {
                    tracing::warn!(
                        "the outcome of a write is unknown ({failure}); looking for it in the history"
                    );
                    false
                }
                StoreErrorKind::NotImplemented => {
                    return Err(Error::StoreBroken {
                        store: self.store.name().to_owned(),
                        location: self.at.clone(),
                        broken: format!(
                            "does not implement conditional writes (PutObject with {condition} answered 501 Not Implemented)"
                        ),
                    });
                }
                _ => return Err(failure.into()),
            };
            // A 412 may be the SDK's retry of a write that landed, and a lost answer may hide
            // one: either way, this append's own write ids say.
            let search = self
                .own_write_since(&head, &own_writes)
                .await
                .map_err(|err| self.outcome_unknown(&own_writes, err))?;
            if let Some(stored) = search.found {
                tracing::info!(
                    "this put's write had landed as version {:?} ({failure})",
                    stored.version_id
                );
                self.verify(&stored, &head, &condition).await?;
                return Ok(Appended::Written(stored));
            }
            if refused && search.unchanged {
                return Err(Error::StoreBroken {
                    store: self.store.name().to_owned(),
                    location: self.at.clone(),
                    broken: format!(
                        "answered 412 Precondition Failed to PutObject with {condition} although the key has not changed: it does not honour that precondition"
                    ),
                });
            }
            why = if refused {
                "another writer changed it first each time".into()
            } else {
                format!("the last answer was lost: {failure}")
            };
            if attempt < MAX_WRITE_ATTEMPTS {
                wait_before_retry(self.at, attempt).await;
            }
        }
        Err(Error::GaveUp {
            location: self.at.clone(),
            attempts: MAX_WRITE_ATTEMPTS,
            why,
        })
    }

    /// The error when the search for a write whose answer was lost failed too: the write may
    /// have landed, and the history says so by its write id.
    fn outcome_unknown(&self, write_ids: &[String], err: Error) -> Error {
        Error::OutcomeUnknown {
            location: self.at.clone(),
            write_id: write_ids.last().cloned().unwrap_or_default(),
            cause: err.to_string(),
        }
    }

    /// Looks for one of `write_ids` among the versions newer than `head`'s newest, newest first.
    async fn own_write_since(&self, head: &Head, write_ids: &[String]) -> Result<OwnWriteSearch> {
        let mut history = self.walk();
        let mut first = true;
        let mut unchanged = false;
        while let Some(entry) = history.next().await? {
            if Some(&entry.version_id) == head.newest.as_ref() {
                // Unchanged: the same newest version, current then and now, or under a delete
                // marker then and now.
                let current_now = entry.is_latest && !history.delete_marker_on_top();
                unchanged = first && head.current.is_some() == current_now;
                break;
            }
            first = false;
            let object = match self.get(&entry.version_id).await {
                Ok(object) => object,
                Err(err) if err.kind == StoreErrorKind::NoSuchVersion => continue,
                Err(err) => return Err(err.into()),
            };
            if object
                .write_id
                .as_ref()
                .is_some_and(|id| write_ids.contains(id))
            {
                let stored = Record::read(&object, self.at)?;
                return Ok(OwnWriteSearch {
                    found: Some(stored),
                    unchanged: false,
                });
            }
        }
        if head.newest.is_none() && first {
            // The key had no version and still has none.
            unchanged = true;
        }
        Ok(OwnWriteSearch {
            found: None,
            unchanged,
        })
    }

    /// On a store whose preconditions are not known to hold, checks that the version beneath
    /// `written` is the one its write was conditioned on: otherwise another writer's version
    /// slipped in between, and the two records take the same place.
    async fn verify(
        &self,
        written: &StoredRecord,
        head: &Head,
        condition: &WriteCondition,
    ) -> Result<()> {
        if !self.store.verifies_writes() {
            return Ok(());
        }
        let mut history = self.walk();
        let mut seen_ours = false;
        while let Some(entry) = history.next().await? {
            if seen_ours {
                if Some(&entry.version_id) == head.newest.as_ref() {
                    return Ok(());
                }
                return Err(Error::Duplicate(Box::new(Duplicate {
                    location: self.at.clone(),
                    number: written.record.version,
                    theirs: entry.version_id,
                    ours: written.version_id.clone(),
                    store: self.store.name().to_owned(),
                    condition: condition.to_string(),
                })));
            }
            seen_ours = entry.version_id == written.version_id;
        }
        if seen_ours && head.newest.is_none() {
            return Ok(());
        }
        Err(Error::StoreBroken {
            store: self.store.name().to_owned(),
            location: self.at.clone(),
            broken: if seen_ours {
                format!(
                    "lost version {:?}, which the write was conditioned on",
                    head.newest.as_deref().unwrap_or_default()
                )
            } else {
                format!(
                    "does not list version {:?}, which it has just written",
                    written.version_id
                )
            },
        })
    }

    /// A write was kept without a version: the bucket's versioning was suspended after the
    /// listing showed versions. Takes the write back (its `null` version) so that nothing is
    /// half-written, and names the bucket.
    async fn take_back_unversioned_write(&self) -> Error {
        let state = match self.store.versioning(&self.at.bucket).await {
            Ok(Versioning::Off) => "never enabled",
            _ => "suspended",
        };
        match self.store.delete_version(self.at, NULL_VERSION_ID).await {
            Ok(()) => tracing::warn!(
                "{} kept the record without a version; it was removed again",
                self.at
            ),
            Err(err) => tracing::error!(
                "{} kept the record without a version, and it could not be removed ({err}): delete its \"null\" version by hand",
                self.at
            ),
        }
        Error::BucketNotVersioned {
            bucket: self.at.bucket.clone(),
            state,
        }
    }

    /// One version's object, a transient fault retried.
    async fn get(&self, version_id: &str) -> Result<StoredObject, StoreError> {
        retry_transient(async || self.store.get_version(self.at, version_id).await).await
    }
}

/// What [`RecordLog::own_write_since`] found.
struct OwnWriteSearch {
    /// This append's own write, if it landed.
    found: Option<StoredRecord>,
    /// Whether the key's current version is still the one the write was conditioned on.
    unchanged: bool,
}

/// Whether `entry` was written before `since`.
fn is_before(entry: &ListedVersion, since: Option<Timestamp>) -> bool {
    match (entry.last_modified, since) {
        (Some(written), Some(since)) => written < since,
        _ => false,
    }
}

/// An error naming the bucket unless it keeps every write's version.
pub async fn ensure_versioned<S: RecordStore>(store: &S, bucket: &str) -> Result<()> {
    let state = retry_transient(async || store.versioning(bucket).await).await?;
    match state {
        Versioning::Enabled => Ok(()),
        Versioning::Suspended => Err(Error::BucketNotVersioned {
            bucket: bucket.to_owned(),
            state: "suspended",
        }),
        Versioning::Off => Err(Error::BucketNotVersioned {
            bucket: bucket.to_owned(),
            state: "never enabled",
        }),
    }
}

/// Runs a read, trying it again after a transient fault, a bounded number of times.
async fn retry_transient<T>(
    mut read: impl AsyncFnMut() -> Result<T, StoreError>,
) -> Result<T, StoreError> {
    let mut attempt = 1;
    loop {
        match read().await {
            Err(err) if err.is_transient() && attempt < READ_ATTEMPTS => {
                tracing::warn!("{err}; trying again (attempt {attempt} of {READ_ATTEMPTS})");
                tokio::time::sleep(random_below(backoff_cap(attempt))).await;
                attempt += 1;
            }
            result => return result,
        }
    }
}

/// A new random write id: 128 bits, in hex.
fn new_write_id() -> String {
    let mut bytes = [0u8; 16];
    if getrandom::fill(&mut bytes).is_err() {
        // No system randomness: the clock and the process id are unique enough per attempt.
        let nanos = Timestamp::now().as_nanosecond();
        bytes = (nanos ^ (i128::from(std::process::id()) << 96)).to_le_bytes();
    }
    bytes.iter().map(|byte| format!("{byte:02x}")).collect()
}

/// Waits a random while below a cap that doubles with each attempt, so that racing writers
/// spread out instead of colliding again.
async fn wait_before_retry(at: &Location, attempt: u32) {
    let wait = random_below(backoff_cap(attempt));
    tracing::info!(
        "writing to {at} again in {} ms (attempt {} of {MAX_WRITE_ATTEMPTS})",
        wait.as_millis(),
        attempt + 1
    );
    tokio::time::sleep(wait).await;
}

/// A random wait below `cap`, so that callers that met the same fault do not stay in step.
fn random_below(cap: Duration) -> Duration {
    let mut random = [0u8; 8];
    let _ = getrandom::fill(&mut random);
    let cap = u64::try_from(cap.as_millis()).unwrap_or(u64::MAX).max(1);
    Duration::from_millis(u64::from_le_bytes(random) % cap)
}

/// The longest wait after `attempt`: the base, doubled per attempt, up to the largest.
fn backoff_cap(attempt: u32) -> Duration {
    (BACKOFF_BASE * 2u32.pow(attempt.min(6))).min(BACKOFF_LARGEST)
}

/// A key's versions, newest first, fetched a page at a time as the walk goes on. When the
/// store does not list newest first (its first entry is not the current version), the whole
/// history is listed once and put in order instead.
pub struct History<'a, S> {
    store: &'a S,
    at: &'a Location,
    pending: VecDeque<ListedVersion>,
    next_page: Option<PageCursor>,
    page_size: i32,
    started: bool,
    delete_marker_on_top: bool,
    reordered: bool,
}

impl<'a, S: RecordStore> History<'a, S> {
    /// The history at `at`, not yet listed.
    pub fn new(store: &'a S, at: &'a Location) -> Self {
        History {
            store,
            at,
            pending: VecDeque::new(),
            next_page: None,
            page_size: FIRST_PAGE_SIZE,
            started: false,
            delete_marker_on_top: false,
            reordered: false,
        }
    }

    /// The next older version, `None` past the oldest.
    pub async fn next(&mut self) -> Result<Option<ListedVersion>> {
        loop {
            if let Some(entry) = self.pending.pop_front() {
                return Ok(Some(entry));
            }
            if self.started && self.next_page.is_none() {
                return Ok(None);
            }
            let after = self.next_page.take();
            let page = self.list(self.page_size, after.as_ref()).await?;
            self.page_size = next_page_size(self.page_size);
            if !self.started {
                self.started = true;
                self.delete_marker_on_top = page.delete_marker_is_latest;
                if !listed_newest_first(&page) {
                    tracing::warn!(
                        "{} does not list {}'s versions newest first; listing the whole history",
                        self.store.name(),
                        self.at
                    );
                    self.pending = self.whole_history_in_order(page, after).await?.into();
                    self.reordered = true;
                    continue;
                }
            }
            self.next_page = self.continuation(&page, after.as_ref())?;
            self.pending.extend(page.versions);
        }
    }

    /// Whether the key's current entry is a delete marker (known once the walk has started).
    pub fn delete_marker_on_top(&self) -> bool {
        self.delete_marker_on_top
    }

    /// Whether the store's order was not trusted and the history was put in order by time:
    /// versions written in the same instant may then be in any order among themselves.
    pub fn reordered(&self) -> bool {
        self.reordered
    }

    async fn list(
        &self,
        max_keys: i32,
        after: Option<&PageCursor>,
    ) -> Result<VersionPage, StoreError> {
        retry_transient(async || self.store.list_versions(self.at, max_keys, after).await).await
    }

    /// Where the listing goes on after `page`, or `None` when the key has no more versions.
    fn continuation(
        &self,
        page: &VersionPage,
        after: Option<&PageCursor>,
    ) -> Result<Option<PageCursor>> {
        if !page.is_truncated {
            return Ok(None);
        }
        let broken = |broken: &str| Error::StoreBroken {
            store: self.store.name().to_owned(),
            location: self.at.clone(),
            broken: broken.to_owned(),
        };
        let next = match (&page.next, &page.last_entry) {
            (Some(next), _) => next.clone(),
            (None, Some(last)) => {
                tracing::debug!(
                    "a truncated page of {} came without markers; going on from its last entry",
                    self.at
                );
                last.clone()
            }
            (None, None) => {
                return Err(broken(
                    "marked an empty page of versions truncated without saying where the next one starts",
                ));
            }
        };
        if after == Some(&next) {
            return Err(broken("listed the same page of versions twice"));
        }
        // Keys sort after their own prefix, so once the listing has moved past `at.key`, the
        // key has no more versions and the rest are other keys'.
        Ok((next.key_marker == self.at.key).then_some(next))
    }

    /// Every version of the key, newest first, for a store that does not list so: a store that
    /// lists oldest first (its last version is the current one) is read backwards, exactly;
    /// any other order is sorted by time, ties kept.
    async fn whole_history_in_order(
        &self,
        first: VersionPage,
        mut after: Option<PageCursor>,
    ) -> Result<Vec<ListedVersion>> {
        let mut next = self.continuation(&first, after.as_ref())?;
        let mut versions = first.versions;
        while let Some(cursor) = next {
            let page = self.list(LARGEST_PAGE_SIZE, Some(&cursor)).await?;
            after = Some(cursor);
            next = self.continuation(&page, after.as_ref())?;
            versions.extend(page.versions);
        }
        if versions.last().is_some_and(|last| last.is_latest) {
            versions.reverse();
        } else {
            sort_newest_first(&mut versions);
        }
        Ok(versions)
    }
}

/// Whether a first page can be trusted to run newest first: its first version is the current
/// one, or the current entry is a delete marker (then no version is marked current).
fn listed_newest_first(first_page: &VersionPage) -> bool {
    match first_page.versions.first() {
        None => true,
        Some(first) => first.is_latest || first_page.delete_marker_is_latest,
    }
}

/// Newest first by the time each was written; of versions written in the same instant, the
/// current one first, the others in the store's order.
fn sort_newest_first(versions: &mut [ListedVersion]) {
    versions.sort_by_key(|version| std::cmp::Reverse((version.last_modified, version.is_latest)));
}

fn next_page_size(size: i32) -> i32 {
    (size * 4).min(LARGEST_PAGE_SIZE)
}

#[cfg(test)]
mod tests;
