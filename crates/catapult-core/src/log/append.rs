//! Appending to a log exactly once: the conditional write, what is done when its outcome is
//! unknown (find the write in the history before writing again), the verification that no
//! other writer's record slipped beneath it on a store whose preconditions are not known to
//! hold, and taking back a write that a store kept without a version.

use super::retry::{new_write_id, wait_before_retry};
use super::{Appended, Decision, Head, MAX_WRITE_ATTEMPTS, RecordLog, record_of};
use crate::error::{Duplicate, Error, Result};
use crate::record::StoredRecord;
use crate::store::{NULL_VERSION_ID, RecordStore, StoreErrorKind, Versioning, WriteCondition};

impl<'a, S: RecordStore> RecordLog<'a, S> {
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
                let stored = record_of(&object, self.at)?;
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
            bucket: self.at.bucket.to_string(),
            state,
        }
    }
}

/// What [`RecordLog::own_write_since`] found.
struct OwnWriteSearch {
    /// This append's own write, if it landed.
    found: Option<StoredRecord>,
    /// Whether the key's current version is still the one the write was conditioned on.
    unchanged: bool,
}
