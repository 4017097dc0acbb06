//! A versioned bucket in memory, modelled closely enough on S3 to test the record log's logic
//! against: object versions and delete markers, listing by key then newest first with paging
//! markers, sizes, ETags that are the MD5 of the body as S3's are, `If-None-Match: *` and
//! `If-Match`, and versioning that is on, suspended or off. Knobs make it misbehave the way real
//! stores do (list oldest first, drop paging markers, ignore or refuse preconditions, stamp
//! every write with the same second, keep no versions at all as Garage does), so each rule of
//! the record log can be tested against the store that breaks it. Never used against a real
//! server.

use std::collections::{BTreeMap, HashMap};
use std::sync::Mutex;

use jiff::Timestamp;

use super::{
    BucketName, ListedKey, ListedVersion, Location, MAX_RECORD_BYTES, NULL_VERSION_ID, Operation,
    PageCursor, RecordStore, StoreError, StoreErrorKind, StoredObject, VersionPage, Versioning,
    WriteCondition, etag_of,
};

/// How the store misbehaves. The default is S3's behaviour.
#[derive(Debug, Clone, Default)]
pub struct Quirks {
    /// List each key's versions oldest first (S3 lists newest first).
    pub lists_oldest_first: bool,
    /// Mark pages truncated without NextKeyMarker and NextVersionIdMarker.
    pub omits_next_markers: bool,
    /// Write over an existing key despite `If-None-Match: *` (Ceph RGW 16 in versioned buckets).
    pub ignores_if_none_match: bool,
    /// Answer 412 to every `If-Match`, even the current ETag (Ceph RGW 16 in versioned buckets).
    pub refuses_if_match: bool,
    /// Answer 501 to any conditional write (Swift's s3api).
    pub conditional_writes_not_implemented: bool,
    /// Stamp every write with the same second, so that versions tie on LastModified.
    pub same_second: bool,
    /// Whether the record log should verify writes against this store (any store but AWS S3).
    pub verify_writes: bool,
    /// Keep no versions at all, as Garage 2 does: ListObjectVersions answers 501, GetObject
    /// ignores `versionId` and answers with the current object and no version id, PutObject
    /// ignores its preconditions and answers a version id nothing can read back, and
    /// GetBucketVersioning says versioning was never enabled.
    pub no_versioning: bool,
}

#[derive(Debug, Clone)]
enum Entry {
    Version(Stored),
    DeleteMarker { version_id: String },
}

/// One version as the store holds it.
#[derive(Debug, Clone)]
struct Stored {
    version_id: String,
    etag: String,
    last_modified: Timestamp,
    write_id: Option<String>,
    body: Vec<u8>,
}

impl Stored {
    /// The object as a GetObject answers it, with `version_id` in the answer (or none).
    fn answer(&self, version_id: Option<String>) -> StoredObject {
        StoredObject {
            version_id,
            etag: Some(self.etag.clone()),
            last_modified: Some(self.last_modified),
            write_id: self.write_id.clone(),
            etag_is_md5: true,
            body: self.body.clone(),
        }
    }
}

impl Entry {
    fn version_id(&self) -> &str {
        match self {
            Entry::Version(stored) => &stored.version_id,
            Entry::DeleteMarker { version_id, .. } => version_id,
        }
    }
}

#[derive(Debug)]
struct Bucket {
    versioning: Versioning,
    /// Each key's entries, oldest first.
    keys: BTreeMap<String, Vec<Entry>>,
}

#[derive(Debug, Default)]
struct State {
    buckets: HashMap<String, Bucket>,
    next_id: u64,
    clock: i64,
}

/// A versioned S3 in memory. See the module's documentation.
#[derive(Debug)]
pub struct MemoryStore {
    state: Mutex<State>,
    quirks: Quirks,
}

/// The time the first write is stamped with; each later write one second on, unless
/// [`Quirks::same_second`].
const EPOCH_SECOND: i64 = 1_790_000_000;

impl Default for MemoryStore {
    fn default() -> Self {
        MemoryStore::new(Quirks::default())
    }
}

impl MemoryStore {
    /// An empty store with these quirks.
    pub fn new(quirks: Quirks) -> Self {
        MemoryStore {
            state: Mutex::new(State {
                clock: EPOCH_SECOND,
                ..State::default()
            }),
            quirks,
        }
    }

    /// Creates `bucket` with versioning in state `versioning`.
    pub fn create_bucket(&self, bucket: &str, versioning: Versioning) {
        self.state().buckets.insert(
            bucket.to_owned(),
            Bucket {
                versioning,
                keys: BTreeMap::new(),
            },
        );
    }

    /// Turns versioning of an existing bucket to `versioning`.
    pub fn set_versioning(&self, bucket: &str, versioning: Versioning) {
        if let Some(found) = self.state().buckets.get_mut(bucket) {
            found.versioning = versioning;
        }
    }

    /// Writes `body` at `at` unconditionally, as another tool would, and returns its version id.
    pub fn put_unconditionally(&self, at: &Location, body: &[u8]) -> String {
        let mut state = self.state();
        write(&mut state, &self.quirks, at, body.to_vec(), None).unwrap_or_default()
    }

    /// Puts a delete marker on `at`.
    pub fn delete(&self, at: &Location) {
        let mut state = self.state();
        let version_id = new_version_id(&mut state);
        tick(&mut state, &self.quirks);
        if let Some(bucket) = state.buckets.get_mut(at.bucket.as_str()) {
            bucket
                .keys
                .entry(at.key.to_string())
                .or_default()
                .push(Entry::DeleteMarker { version_id });
        }
    }

    /// Every version of `at` (delete markers left out), newest first: what the store holds.
    pub fn versions(&self, at: &Location) -> Vec<StoredObject> {
        let state = self.state();
        let Some(entries) = state
            .buckets
            .get(at.bucket.as_str())
            .and_then(|bucket| bucket.keys.get(at.key.as_str()))
        else {
            return Vec::new();
        };
        entries
            .iter()
            .rev()
            .filter_map(|entry| match entry {
                Entry::Version(stored) => Some(stored.answer(Some(stored.version_id.clone()))),
                Entry::DeleteMarker { .. } => None,
            })
            .collect()
    }

    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn error(&self, operation: Operation, at: &Location, kind: StoreErrorKind) -> StoreError {
        StoreError::at(operation, at, self.name(), kind)
    }

    /// The version of `at` called `version_id` (the current one for `None`), or why not.
    fn find(
        &self,
        operation: Operation,
        at: &Location,
        version_id: Option<&str>,
    ) -> Result<StoredObject, StoreError> {
        let state = self.state();
        let bucket = state
            .buckets
            .get(at.bucket.as_str())
            .ok_or_else(|| self.error(operation, at, StoreErrorKind::NoSuchBucket))?;
        let entries = bucket.keys.get(at.key.as_str());
        let current = || match entries.and_then(|entries| entries.last()) {
            Some(Entry::Version(stored)) => Some(stored),
            _ => None,
        };
        let found = match version_id {
            // Garage answers every read with the current object, whatever was asked.
            _ if self.quirks.no_versioning => current(),
            None => current(),
            Some(version_id) => entries.and_then(|entries| {
                entries.iter().find_map(|entry| match entry {
                    Entry::Version(stored) if stored.version_id == version_id => Some(stored),
                    _ => None,
                })
            }),
        };
        let stored =
            found.ok_or_else(|| self.error(operation, at, StoreErrorKind::NoSuchVersion))?;
        if stored.body.len() as u64 > MAX_RECORD_BYTES {
            return Err(self.error(
                operation,
                at,
                StoreErrorKind::TooLarge {
                    size: stored.body.len() as u64,
                },
            ));
        }
        let answered = (!self.quirks.no_versioning).then(|| stored.version_id.clone());
        Ok(stored.answer(answered))
    }
}

fn new_version_id(state: &mut State) -> String {
    state.next_id += 1;
    format!("v{:06}", state.next_id)
}

fn tick(state: &mut State, quirks: &Quirks) -> Timestamp {
    if !quirks.same_second {
        state.clock += 1;
    }
    Timestamp::from_second(state.clock).expect("the clock stays in range")
}

/// Appends a version of `at`, or replaces its `null` version when versioning is not enabled
/// (every version, on a store without versioning). Returns the version id a PutObject answers:
/// the new version's, `None` for a `null` version.
fn write(
    state: &mut State,
    quirks: &Quirks,
    at: &Location,
    body: Vec<u8>,
    write_id: Option<&str>,
) -> Option<String> {
    let versioning = state.buckets.get(at.bucket.as_str())?.versioning;
    let answered_id = new_version_id(state);
    let version_id = match versioning {
        Versioning::Enabled if !quirks.no_versioning => answered_id.clone(),
        _ => NULL_VERSION_ID.to_owned(),
    };
    let last_modified = tick(state, quirks);
    let entries = state
        .buckets
        .get_mut(at.bucket.as_str())?
        .keys
        .entry(at.key.to_string())
        .or_default();
    if quirks.no_versioning {
        entries.clear();
    } else if version_id == NULL_VERSION_ID {
        entries.retain(|entry| entry.version_id() != NULL_VERSION_ID);
    }
    entries.push(Entry::Version(Stored {
        version_id: version_id.clone(),
        etag: etag_of(&body),
        last_modified,
        write_id: write_id.map(str::to_owned),
        body,
    }));
    if quirks.no_versioning {
        // Garage answers with a version id of its own, which nothing can read back.
        return Some(answered_id);
    }
    (version_id != NULL_VERSION_ID).then_some(version_id)
}

impl RecordStore for MemoryStore {
    fn name(&self) -> &str {
        "the in-memory store"
    }

    fn verifies_writes(&self) -> bool {
        self.quirks.verify_writes
    }

    fn clock(&self) -> Option<Timestamp> {
        Timestamp::from_second(self.state().clock).ok()
    }

    async fn list_versions(
        &self,
        at: &Location,
        max_keys: i32,
        after: Option<&PageCursor>,
    ) -> Result<VersionPage, StoreError> {
        let state = self.state();
        let bucket = state
            .buckets
            .get(at.bucket.as_str())
            .ok_or_else(|| self.error(Operation::ListVersions, at, StoreErrorKind::NoSuchBucket))?;
        if self.quirks.no_versioning {
            return Err(self.error(Operation::ListVersions, at, StoreErrorKind::NotImplemented));
        }
        // Every entry under the prefix, in list order: by key, then each key's versions newest
        // first (or oldest first, for a store that lists so).
        let mut listing: Vec<(&str, &Entry, bool)> = Vec::new();
        for (key, entries) in bucket.keys.range(at.key.to_string()..) {
            if !key.starts_with(at.key.as_str()) {
                break;
            }
            let latest = entries.last().map(Entry::version_id);
            let ordered: Box<dyn Iterator<Item = &Entry>> = if self.quirks.lists_oldest_first {
                Box::new(entries.iter())
            } else {
                Box::new(entries.iter().rev())
            };
            for entry in ordered {
                listing.push((key, entry, Some(entry.version_id()) == latest));
            }
        }
        let start = match after {
            None => 0,
            Some(cursor) => listing
                .iter()
                .position(|(key, entry, _)| {
                    *key == cursor.key_marker && entry.version_id() == cursor.version_id_marker
                })
                .map_or(listing.len(), |position| position + 1),
        };
        let page_size = usize::try_from(max_keys.max(1)).unwrap_or(1);
        let end = (start + page_size).min(listing.len());
        let page = &listing[start..end];
        let is_truncated = end < listing.len();
        let cursor_of = |(key, entry, _): &(&str, &Entry, bool)| PageCursor {
            key_marker: (*key).to_owned(),
            version_id_marker: entry.version_id().to_owned(),
        };
        let last_entry = page.last().map(cursor_of);
        let mut result = VersionPage {
            is_truncated,
            next: if is_truncated && !self.quirks.omits_next_markers {
                last_entry.clone()
            } else {
                None
            },
            last_entry,
            ..VersionPage::default()
        };
        for (key, entry, is_latest) in page {
            if *key != at.key.as_str() {
                continue;
            }
            match entry {
                Entry::Version(stored) => result.versions.push(ListedVersion {
                    version_id: stored.version_id.clone(),
                    is_latest: *is_latest,
                    last_modified: Some(stored.last_modified),
                    etag: Some(stored.etag.clone()),
                    size: Some(stored.body.len() as u64),
                }),
                Entry::DeleteMarker { .. } => {
                    result.delete_marker_is_latest |= *is_latest;
                }
            }
        }
        Ok(result)
    }

    async fn get_version(
        &self,
        at: &Location,
        version_id: &str,
    ) -> Result<StoredObject, StoreError> {
        self.find(Operation::GetVersion, at, Some(version_id))
    }

    async fn put(
        &self,
        at: &Location,
        body: Vec<u8>,
        condition: &WriteCondition,
        write_id: &str,
    ) -> Result<Option<String>, StoreError> {
        let mut state = self.state();
        let fail = |kind| Err(self.error(Operation::Put, at, kind));
        let Some(bucket) = state.buckets.get(at.bucket.as_str()) else {
            return fail(StoreErrorKind::NoSuchBucket);
        };
        if self.quirks.conditional_writes_not_implemented {
            return fail(StoreErrorKind::NotImplemented);
        }
        let current = bucket
            .keys
            .get(at.key.as_str())
            .and_then(|entries| entries.last())
            .and_then(|entry| match entry {
                Entry::Version(stored) => Some(stored),
                Entry::DeleteMarker { .. } => None,
            });
        let holds = self.quirks.no_versioning
            || match condition {
                WriteCondition::Absent => current.is_none() || self.quirks.ignores_if_none_match,
                WriteCondition::Matches(etag) => {
                    !self.quirks.refuses_if_match
                        && current.is_some_and(|current| current.etag == *etag)
                }
            };
        if !holds {
            return fail(StoreErrorKind::PreconditionFailed);
        }
        Ok(write(&mut state, &self.quirks, at, body, Some(write_id)))
    }

    async fn versioning(&self, bucket: &BucketName) -> Result<Versioning, StoreError> {
        self.state()
            .buckets
            .get(bucket.as_str())
            .map(|found| {
                if self.quirks.no_versioning {
                    Versioning::Off
                } else {
                    found.versioning
                }
            })
            .ok_or_else(|| {
                StoreError::on_bucket(
                    Operation::GetVersioning,
                    bucket,
                    "",
                    self.name(),
                    StoreErrorKind::NoSuchBucket,
                )
            })
    }

    async fn list_keys(
        &self,
        bucket: &BucketName,
        prefix: &str,
    ) -> Result<Vec<ListedKey>, StoreError> {
        let state = self.state();
        let found = state.buckets.get(bucket.as_str()).ok_or_else(|| {
            StoreError::on_bucket(
                Operation::ListKeys,
                bucket,
                prefix,
                self.name(),
                StoreErrorKind::NoSuchBucket,
            )
        })?;
        Ok(found
            .keys
            .range(prefix.to_owned()..)
            .take_while(|(key, _)| key.starts_with(prefix))
            .filter_map(|(key, entries)| match entries.last() {
                Some(Entry::Version(stored)) => Some(ListedKey {
                    key: key.clone(),
                    etag: stored.etag.clone(),
                }),
                _ => None,
            })
            .collect())
    }

    async fn get_current(&self, at: &Location) -> Result<StoredObject, StoreError> {
        self.find(Operation::GetCurrent, at, None)
    }

    async fn delete_version(&self, at: &Location, version_id: &str) -> Result<(), StoreError> {
        let mut state = self.state();
        let no_versioning = self.quirks.no_versioning;
        let bucket = state.buckets.get_mut(at.bucket.as_str()).ok_or_else(|| {
            self.error(Operation::DeleteVersion, at, StoreErrorKind::NoSuchBucket)
        })?;
        if let Some(entries) = bucket.keys.get_mut(at.key.as_str()) {
            if no_versioning {
                // Garage deletes the object, whichever version was named.
                entries.clear();
            } else {
                entries.retain(|entry| entry.version_id() != version_id);
            }
        }
        Ok(())
    }
}
