//! Reading a record, and telling a bad read from a bad record. A body cut short, garbled, of
//! another size than its listing says, or a 404 for a version a listing has just named, is a
//! fault of the read, not of the record: it is read again, a bounded number of times, and then
//! the step fails naming the version. Only a body read whole, matching its listing, that still
//! is not a record, is an invalid record (skipped with a warning where a history is scanned). A
//! store must answer the version asked for: one that answers another, or none (Garage ignores
//! `versionId`), keeps no versions as catapult needs.

use super::retry::{READ_ATTEMPTS, wait_before_reading_again};
use super::{RecordLog, record_of};
use crate::error::{Error, Result};
use crate::record::{Entry, Stored};
use crate::store::{ListedVersion, RecordStore, StoreError, StoreErrorKind, StoredObject};

/// What a careful read of a listed version found. Made once per read and consumed at once, so
/// its size does not matter.
#[allow(clippy::large_enum_variant)]
#[derive(Debug)]
pub(super) enum Read<E> {
    /// The record it holds.
    Record(Stored<E>),
    /// Read whole and as listed, it is not a record (or is too large to be one): skip it.
    Invalid(Error),
    /// It is gone: a listing made after the reads no longer names it.
    Deleted,
}

/// Why one read of a version was not taken as it came.
enum Fault {
    /// The store answered with an error worth another read.
    Store(StoreError),
    /// The body was not what the listing said it is.
    Damaged(String),
}

impl<S: RecordStore, E: Entry> RecordLog<'_, S, E> {
    /// The version `entry` names, read until it comes back whole and as listed.
    pub(super) async fn read_listed(&self, entry: &ListedVersion) -> Result<Read<E>> {
        let mut why = String::new();
        let mut last_was_404 = false;
        for attempt in 1..=READ_ATTEMPTS {
            if attempt > 1 {
                wait_before_reading_again(self.at, &entry.version_id, &why, attempt).await;
            }
            let fault = match self.store.get_version(self.at, &entry.version_id).await {
                Ok(object) => {
                    self.check_version_answered(&entry.version_id, &object)?;
                    match self.judge_listed(entry, &object) {
                        Ok(read) => return Ok(read),
                        Err(fault) => fault,
                    }
                }
                Err(err) => match err.kind {
                    StoreErrorKind::TooLarge { size } => {
                        return Ok(Read::Invalid(Error::InvalidRecord {
                            location: self.at.clone(),
                            version_id: entry.version_id.clone(),
                            reason: format!("its body is {size} bytes"),
                        }));
                    }
                    StoreErrorKind::NoSuchVersion | StoreErrorKind::Transient(_) => {
                        Fault::Store(err)
                    }
                    _ => return Err(err.into()),
                },
            };
            last_was_404 =
                matches!(&fault, Fault::Store(err) if err.kind == StoreErrorKind::NoSuchVersion);
            why = match fault {
                Fault::Store(err) if last_was_404 => format!(
                    "{} answered 404 for it although its listing names it",
                    err.store
                ),
                Fault::Store(err) => err.to_string(),
                Fault::Damaged(why) => why,
            };
        }
        if last_was_404 && !self.still_listed(entry).await? {
            tracing::warn!(
                "skipping version {:?} of {}: deleted meanwhile",
                entry.version_id,
                self.at
            );
            return Ok(Read::Deleted);
        }
        Err(Error::Unreadable {
            location: self.at.clone(),
            version_id: entry.version_id.clone(),
            why: format!("{why} ({READ_ATTEMPTS} reads)"),
        })
    }

    /// What one read of `entry` gave: its record, an invalid record read whole and as listed, or
    /// a fault to read again for: a body of another size than listed, or one that does not
    /// match its ETag (where the ETag is its MD5: not under SSE-KMS or SSE-C).
    fn judge_listed(&self, entry: &ListedVersion, object: &StoredObject) -> Result<Read<E>, Fault> {
        let body = &object.body;
        if let Some(size) = entry.size.filter(|size| *size != body.len() as u64) {
            return Err(Fault::Damaged(format!(
                "its body came back {} bytes long, its listing says {size}",
                body.len()
            )));
        }
        if object.matches_etag() == Some(false) {
            return Err(Fault::Damaged(
                "its body does not match its ETag (cut short or garbled on the way?)".into(),
            ));
        }
        match record_of(object, self.at) {
            Ok(record) => Ok(Read::Record(record)),
            Err(invalid) => Ok(Read::Invalid(invalid)),
        }
    }

    /// Exactly one version, as a record, read until it comes back whole (its body matching its
    /// ETag), so that a damaged read is never taken for an invalid record. An error names the
    /// version when it does not exist, cannot be read whole, or is not a record.
    pub async fn read_exact(&self, version_id: &str) -> Result<Stored<E>> {
        let mut attempt = 1;
        loop {
            let object = match self.store.get_version(self.at, version_id).await {
                Ok(object) => object,
                Err(err) if err.kind == StoreErrorKind::NoSuchVersion => {
                    return Err(Error::VersionNotFound {
                        location: self.at.clone(),
                        version_id: version_id.to_owned(),
                    });
                }
                Err(err) if err.is_transient() && attempt < READ_ATTEMPTS => {
                    attempt += 1;
                    wait_before_reading_again(self.at, version_id, &err.to_string(), attempt).await;
                    continue;
                }
                Err(err) => return Err(err.into()),
            };
            self.check_version_answered(version_id, &object)?;
            if object.matches_etag() != Some(false) {
                return record_of(&object, self.at);
            }
            let why = "its body does not match its ETag (cut short or garbled on the way?)";
            if attempt >= READ_ATTEMPTS {
                return Err(Error::Unreadable {
                    location: self.at.clone(),
                    version_id: version_id.to_owned(),
                    why: format!("{why} ({READ_ATTEMPTS} reads)"),
                });
            }
            attempt += 1;
            wait_before_reading_again(self.at, version_id, why, attempt).await;
        }
    }

    /// An error unless the store answered a read of `asked` with that very version: a store
    /// that answers another version, or none at all, does not keep versions as catapult needs.
    fn check_version_answered(&self, asked: &str, object: &StoredObject) -> Result<()> {
        match object.version_id.as_deref() {
            Some(answered) if answered == asked => Ok(()),
            answered => Err(Error::NoVersioning {
                store: self.store.name().to_owned(),
                evidence: match answered {
                    Some(other) => format!(
                        "GetObject for version {asked:?} of {} answered with version {other:?}",
                        self.at
                    ),
                    None => format!(
                        "GetObject for version {asked:?} of {} answered with no version id: it ignores versionId",
                        self.at
                    ),
                },
            }),
        }
    }

    /// Whether a fresh listing still names `entry`, walking no further back than its time.
    async fn still_listed(&self, entry: &ListedVersion) -> Result<bool> {
        let mut walk = self.walk();
        while let Some(listed) = walk.next().await? {
            if listed.version_id == entry.version_id {
                return Ok(true);
            }
            if let (Some(listed_at), Some(entry_at)) = (listed.last_modified, entry.last_modified) {
                if listed_at < entry_at {
                    return Ok(false);
                }
            }
        }
        Ok(false)
    }
}
