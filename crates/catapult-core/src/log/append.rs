//! Appending to a log exactly once. Each attempt stamps the record with a write id of its own, so
//! the body it sends is unique to it and its ETag names it alone. The write is conditional on
//! the head; when its outcome is unknown (no answer, a 5xx, a 412 or 409 that an SDK retry of a
//! landed write may meet, an answer without a version id) the versions newer than the head are
//! searched for the body this attempt sent before anything is written again. After a write to
//! a store whose preconditions are not known to hold, one listing (retried like any read)
//! verifies that the version beneath the new one is the one the write followed; a write that
//! finds another writer's record there takes its own version back. A write that a bucket kept
//! without a version is taken back only when nothing written before versioning was on could be
//! what is deleted.

use super::retry::{new_write_id, retry_transient, wait_before_retry};
use super::{Appended, Decision, Head, MAX_WRITE_ATTEMPTS, RecordLog, record_of};
use crate::error::{Duplicate, Error, Result};
use crate::record::{Entry, Stored};
use crate::store::{
    ListedVersion, NULL_VERSION_ID, RecordStore, StoreError, StoreErrorKind, Versioning,
    WriteCondition, etag_of, same_etag,
};

/// One attempt's write: what it sent, and on what condition.
struct Attempt<'h, E> {
    head: &'h Head<E>,
    condition: WriteCondition,
    record: E,
    body: Vec<u8>,
    etag: String,
}

/// Where a search for an attempt's write found it, if anywhere. Made once per search and
/// consumed at once, so its size does not matter.
#[allow(clippy::large_enum_variant)]
enum Search<E> {
    /// It landed as this version.
    Found(Stored<E>),
    /// It did not land, and the key has not changed since the head was read.
    NotFoundUnchanged,
    /// It did not land, and the key has changed: another writer got there first.
    NotFoundChanged,
}

impl<'a, S: RecordStore, E: Entry> RecordLog<'a, S, E> {
    /// Appends the record `decide` makes of the head, on the condition that the head is still
    /// the head, exactly once (see the module's documentation). When another writer got there
    /// first, reads the head again and asks `decide` again, after a random wait, a bounded
    /// number of times.
    pub async fn append<T>(
        &self,
        mut decide: impl AsyncFnMut(&Head<E>) -> Result<Decision<T, E>>,
    ) -> Result<Appended<T, E>> {
        let mut why = String::new();
        let mut last_write_id = String::new();
        for attempt in 1..=MAX_WRITE_ATTEMPTS {
            let head = self.head().await?;
            let mut record = match decide(&head).await? {
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
            record.set_write_id(write_id.clone());
            last_write_id.clone_from(&write_id);
            let body = record.to_json();
            let sent = Attempt {
                head: &head,
                condition,
                etag: etag_of(&body),
                body,
                record,
            };
            let answer = self
                .store
                .put(self.at, sent.body.clone(), &sent.condition, &write_id)
                .await;
            let failure = match answer {
                Ok(Some(version_id)) if version_id != NULL_VERSION_ID => {
                    let stored = Stored {
                        version_id,
                        last_modified: None,
                        record: sent.record.clone(),
                    };
                    self.verify(&stored, &sent).await?;
                    return Ok(Appended::Written(stored));
                }
                Ok(_) => {
                    // Written, but the answer says no version id: only the history can tell
                    // whether the store kept a version of it.
                    tracing::warn!(
                        "{} answered PutObject on {} without a version id; looking for the write in the history",
                        self.store.name(),
                        self.at
                    );
                    match self.search(&sent).await {
                        Ok(Search::Found(stored)) => return self.landed(stored, &sent).await,
                        Ok(_) => {
                            return Err(Error::StoreBroken {
                                store: self.store.name().to_owned(),
                                location: self.at.clone(),
                                broken: "answered PutObject as written, with no version id, and does not list the write".into(),
                            });
                        }
                        Err(err) => return Err(self.outcome_unknown(&write_id, err)),
                    }
                }
                Err(failure) => failure,
            };
            let refused = match &failure.kind {
                StoreErrorKind::PreconditionFailed => true,
                StoreErrorKind::Conflict => false,
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
                            "does not implement conditional writes (PutObject with {} answered 501 Not Implemented)",
                            sent.condition
                        ),
                    });
                }
                _ => return Err(failure.into()),
            };
            // A 412 or 409 may be met by the SDK's retry of a write that landed, and a lost
            // answer may hide one: either way, what this attempt sent says.
            let search = self
                .search(&sent)
                .await
                .map_err(|err| self.outcome_unknown(&write_id, err))?;
            match search {
                Search::Found(stored) => {
                    tracing::info!(
                        "this put's write had landed as version {:?} ({failure})",
                        stored.version_id
                    );
                    return self.landed(stored, &sent).await;
                }
                Search::NotFoundUnchanged if refused => {
                    return Err(Error::StoreBroken {
                        store: self.store.name().to_owned(),
                        location: self.at.clone(),
                        broken: format!(
                            "answered 412 Precondition Failed to PutObject with {} although the key has not changed: it does not honour that precondition",
                            sent.condition
                        ),
                    });
                }
                Search::NotFoundUnchanged | Search::NotFoundChanged => {}
            }
            why = match failure.kind {
                StoreErrorKind::PreconditionFailed => {
                    "another writer changed it first each time".into()
                }
                StoreErrorKind::Conflict => {
                    "another writer's conditional write was in flight each time (409)".into()
                }
                _ => format!("the last answer was lost: {failure}"),
            };
            if attempt < MAX_WRITE_ATTEMPTS {
                wait_before_retry(self.at, attempt).await;
            }
        }
        Err(Error::GaveUp {
            location: self.at.clone(),
            attempts: MAX_WRITE_ATTEMPTS,
            why: format!("{why} (last write id {last_write_id})"),
        })
    }

    /// What to do with this attempt's write, found in the history as `stored`: verify it, or,
    /// found as a `null` version, take it back as a write the bucket kept without a version.
    async fn landed<T>(&self, stored: Stored<E>, sent: &Attempt<'_, E>) -> Result<Appended<T, E>> {
        if stored.version_id == NULL_VERSION_ID {
            return Err(self.take_back_unversioned_write(sent.head).await);
        }
        self.verify(&stored, sent).await?;
        Ok(Appended::Written(stored))
    }

    /// The error when the search for a write whose answer was lost failed too: the write may
    /// have landed, and the history says so by what it holds.
    fn outcome_unknown(&self, write_id: &str, err: Error) -> Error {
        Error::OutcomeUnknown {
            location: self.at.clone(),
            write_id: write_id.to_owned(),
            cause: err.to_string(),
        }
    }

    /// Looks for `sent` among the versions newer than its head's newest, newest first: a
    /// version whose ETag is the MD5 of the body sent, or (for a store whose ETags are not MD5s)
    /// whose body is exactly the body sent. Another writer's version, even one carrying a write
    /// id of ours in its metadata, is not ours.
    async fn search(&self, sent: &Attempt<'_, E>) -> Result<Search<E>> {
        let head = sent.head;
        let mut history = self.walk();
        let mut first = true;
        let mut newer: Vec<ListedVersion> = Vec::new();
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
            if entry
                .etag
                .as_deref()
                .is_some_and(|etag| same_etag(etag, &sent.etag))
            {
                return Ok(Search::Found(self.stored(&entry, sent)));
            }
            newer.push(entry);
        }
        if head.newest.is_none() && first {
            // The key had no version and still has none.
            unchanged = true;
        }
        for entry in &newer {
            let object = match self.get(&entry.version_id).await {
                Ok(object) => object,
                Err(Error::Store(err)) if err.kind == StoreErrorKind::NoSuchVersion => continue,
                Err(err) => return Err(err),
            };
            if object.body == sent.body {
                return Ok(Search::Found(
                    record_of(&object, self.at).unwrap_or_else(|_| self.stored(entry, sent)),
                ));
            }
        }
        Ok(if unchanged {
            Search::NotFoundUnchanged
        } else {
            Search::NotFoundChanged
        })
    }

    /// The record `sent` wrote, stored as the version `entry` lists.
    fn stored(&self, entry: &ListedVersion, sent: &Attempt<'_, E>) -> Stored<E> {
        Stored {
            version_id: entry.version_id.clone(),
            last_modified: entry.last_modified,
            record: sent.record.clone(),
        }
    }

    /// On a store whose preconditions are not known to hold, checks that the version beneath
    /// `written` is the one its write was conditioned on. Otherwise other writers' versions
    /// slipped in between, the store having ignored the precondition: this write takes its own
    /// version back, and says so, naming the oldest of those that slipped in (the one kept: its
    /// writer finds the version it followed beneath it). The listing is read like any other, a
    /// transient fault retried; when it still fails, the error says that the record was written.
    async fn verify(&self, written: &Stored<E>, sent: &Attempt<'_, E>) -> Result<()> {
        if !self.store.verifies_writes() {
            return Ok(());
        }
        let head = sent.head;
        let beneath = self
            .version_beneath(written, head.newest.as_deref())
            .await
            .map_err(|err| Error::WrittenUnverified {
                location: self.at.clone(),
                version_id: written.version_id.clone(),
                number: written.record.release_number(),
                cause: err.to_string(),
            })?;
        match beneath {
            Beneath::Version { beneath, .. } if Some(&beneath) == head.newest.as_ref() => Ok(()),
            Beneath::Nothing if head.newest.is_none() => Ok(()),
            Beneath::Version { oldest_between, .. } => Err(self
                .take_back_duplicate(written, oldest_between, sent)
                .await),
            Beneath::Nothing => Err(Error::StoreBroken {
                store: self.store.name().to_owned(),
                location: self.at.clone(),
                broken: format!(
                    "lost version {:?}, which the write was conditioned on",
                    head.newest.as_deref().unwrap_or_default()
                ),
            }),
            Beneath::NotListed => Err(Error::StoreBroken {
                store: self.store.name().to_owned(),
                location: self.at.clone(),
                broken: format!(
                    "does not list version {:?}, which it has just written",
                    written.version_id
                ),
            }),
        }
    }

    /// What the listing holds beneath `written`, down to `followed` (the version the write was
    /// conditioned on; `None` for a first record).
    async fn version_beneath(
        &self,
        written: &Stored<E>,
        followed: Option<&str>,
    ) -> Result<Beneath> {
        let mut history = self.walk();
        let mut beneath: Option<String> = None;
        let mut oldest_between: Option<String> = None;
        let mut met_followed = false;
        let mut seen_ours = false;
        while let Some(entry) = history.next().await? {
            if !seen_ours {
                seen_ours = entry.version_id == written.version_id;
                continue;
            }
            if beneath.is_none() {
                beneath = Some(entry.version_id.clone());
            }
            if Some(entry.version_id.as_str()) == followed {
                met_followed = true;
                break;
            }
            oldest_between = Some(entry.version_id);
        }
        Ok(match (seen_ours, beneath) {
            (false, _) => Beneath::NotListed,
            (true, None) => Beneath::Nothing,
            (true, Some(beneath)) => Beneath::Version {
                // Where the version followed is gone, the walk went past the race: name the
                // version beneath.
                oldest_between: oldest_between
                    .filter(|_| met_followed || followed.is_none())
                    .unwrap_or_else(|| beneath.clone()),
                beneath,
            },
        })
    }

    /// Takes `written` back: another writer's version `theirs`, the oldest of the records that
    /// raced, took the same place first because the store ignored the precondition. It is the
    /// one kept, and it is never this one.
    async fn take_back_duplicate(
        &self,
        written: &Stored<E>,
        theirs: String,
        sent: &Attempt<'_, E>,
    ) -> Error {
        let mut duplicate = Duplicate {
            location: self.at.clone(),
            number: written.record.release_number(),
            theirs,
            ours: written.version_id.clone(),
            store: self.store.name().to_owned(),
            condition: sent.condition.to_string(),
            cause: String::new(),
        };
        match self.delete(&written.version_id).await {
            Ok(()) => {
                tracing::warn!(
                    "{} did not honour {}: took this write (version {:?}) back",
                    duplicate.store,
                    duplicate.condition,
                    duplicate.ours
                );
                Error::TakenBack(Box::new(duplicate))
            }
            Err(err) => {
                duplicate.cause = err.to_string();
                Error::Duplicate(Box::new(duplicate))
            }
        }
    }

    /// A write was kept without a version: the bucket's versioning was off or suspended
    /// although the listing showed versions. Takes the write back (its `null` version) so that
    /// nothing is half-written, unless the listing showed a `null` version before the write:
    /// that one was there before catapult, and a `null` version is never deleted then.
    async fn take_back_unversioned_write(&self, head: &Head<E>) -> Error {
        let state = match self.store.versioning(&self.at.bucket).await {
            Ok(Versioning::Off) => "never enabled",
            _ => "suspended",
        };
        if head.null_version_listed {
            tracing::error!(
                "{} kept the record without a version, in place of the object written there before versioning was enabled (version \"null\"); nothing was deleted",
                self.at
            );
        } else {
            match self.delete(NULL_VERSION_ID).await {
                Ok(()) => tracing::warn!(
                    "{} kept the record without a version; it was removed again",
                    self.at
                ),
                Err(err) => tracing::error!(
                    "{} kept the record without a version, and it could not be removed ({err}): delete its \"null\" version by hand",
                    self.at
                ),
            }
        }
        Error::BucketNotVersioned {
            bucket: self.at.bucket.to_string(),
            state,
        }
    }

    /// Deletes one version for good, a transient fault retried.
    async fn delete(&self, version_id: &str) -> Result<(), StoreError> {
        retry_transient(async || self.store.delete_version(self.at, version_id).await).await
    }
}

/// What a listing holds beneath a version just written.
enum Beneath {
    /// This version; and the oldest of the versions between the one written and the one its
    /// write followed (the first to take the place), `beneath` itself when there is one.
    Version {
        beneath: String,
        oldest_between: String,
    },
    /// Nothing: it is the oldest.
    Nothing,
    /// The listing does not name the version written.
    NotListed,
}
