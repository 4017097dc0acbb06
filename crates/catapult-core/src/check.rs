//! `check`: the versions Concourse has not seen yet, oldest first. Its cost grows with the
//! number of new versions, never with the length of the history: S3 lists a key's versions
//! newest first, so the walk stops as soon as it meets the version Concourse already has.

use crate::error::{Error, Result};
use crate::history::{History, read_records};
use crate::protocol::Version;
use crate::store::{ListedVersion, Location, NULL_VERSION_ID, RecordStore};

/// The versions of the records at `at` that are `since` or newer, oldest first; the latest
/// alone on the first check (`since` is `None`) or when `since` no longer exists; none while
/// there is no record. Invalid bodies are skipped with a warning.
pub async fn check<S: RecordStore>(
    store: &S,
    at: &Location,
    since: Option<&Version>,
) -> Result<Vec<Version>> {
    let mut history = History::new(store, at);
    let mut newer = Vec::new();
    while let Some(entry) = history.next().await? {
        if since.is_some_and(|since| since.version_id == entry.version_id) {
            let mut versions = vec![since.cloned().expect("matched above")];
            newer.reverse();
            versions.extend(read_versions(store, at, &newer).await?);
            return Ok(versions);
        }
        if entry.version_id == NULL_VERSION_ID {
            continue;
        }
        if since.is_none() {
            // The first check wants the latest valid record only: read as we walk.
            if let Some(version) = read_versions(store, at, &[entry]).await?.pop() {
                return Ok(vec![version]);
            }
        } else {
            newer.push(entry);
        }
    }
    if let Some(since) = since {
        tracing::info!(
            version = since.version,
            version_id = since.version_id,
            "the last version Concourse saw no longer exists; emitting the latest"
        );
        for entry in newer {
            if let Some(version) = read_versions(store, at, &[entry]).await?.pop() {
                return Ok(vec![version]);
            }
        }
    }
    ensure_versioned(store, &at.bucket).await?;
    Ok(Vec::new())
}

/// The Concourse versions of the valid records among `entries`, in their order.
async fn read_versions<S: RecordStore>(
    store: &S,
    at: &Location,
    entries: &[ListedVersion],
) -> Result<Vec<Version>> {
    let records = read_records(store, at, entries).await?;
    Ok(records
        .into_iter()
        .map(|(version_id, record)| Version::new(record.version, version_id))
        .collect())
}

/// An error naming the bucket when it keeps no versions. Asked only when a listing found no
/// usable version, so a check with nothing new stays one request.
pub(crate) async fn ensure_versioned<S: RecordStore>(store: &S, bucket: &str) -> Result<()> {
    if store.versioning_enabled(bucket).await? {
        Ok(())
    } else {
        Err(Error::BucketNotVersioned {
            bucket: bucket.to_owned(),
        })
    }
}
