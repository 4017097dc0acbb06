//! `check`: the versions Concourse has not seen yet, oldest first. Its cost grows with the
//! number of new versions, never with the length of the history: S3 lists a key's versions
//! newest first, so the walk stops as soon as it meets the version Concourse already has. A
//! release that a store which ignored a precondition let a second writer write again under the
//! same number is a duplicate, never a new release: only the oldest copy is emitted.

use super::compat::{VersionRef, resolve_version};
use super::resource::Resource;
use super::version::{GivenVersion, Version};
use crate::error::{Error, Result};
use crate::log::{Judgement, RecordLog, ensure_versioned};
use crate::record::StoredRecord;
use crate::store::{ListedVersion, NULL_VERSION_ID, RecordStore};

/// The versions of the records `resource` tracks that are `since` or newer, oldest first; the
/// latest alone on the first check (`since` is `None`) or when `since` no longer exists; none
/// while there is no record. Invalid bodies are skipped with a warning. `since` may be a version
/// the older resource emitted (see [`super::compat`]).
pub async fn check<S: RecordStore>(
    store: &S,
    resource: &Resource,
    since: Option<&GivenVersion>,
) -> Result<Vec<Version>> {
    let at = resource.tracked();
    let releases = matches!(resource, Resource::Release(_));
    let log = RecordLog::new(store, at);
    let wanted = since
        .map(resolve_version)
        .transpose()
        .map_err(Error::InvalidRequest)?;
    let versions = match (since, wanted) {
        (None, _) | (_, None) => latest(&log).await?.into_iter().collect(),
        (Some(given), Some(VersionRef::Exact { version_id })) => {
            since_exact(&log, given, &version_id, releases).await?
        }
        (Some(_), Some(VersionRef::Number(number))) => since_number(&log, number).await?,
    };
    if versions.is_empty() {
        ensure_versioned(store, &at.bucket).await?;
    }
    Ok(versions)
}

/// The newest valid record's version, reading as the walk goes.
async fn latest<S: RecordStore>(log: &RecordLog<'_, S>) -> Result<Option<Version>> {
    let found = log.find(None, |_| Judgement::Found).await?;
    Ok(found.as_ref().map(version_of))
}

fn version_of(stored: &StoredRecord) -> Version {
    Version::new(stored.record.version, &stored.version_id)
}

/// `given` (S3 version `version_id`) and every newer version, oldest first.
async fn since_exact<S: RecordStore>(
    log: &RecordLog<'_, S>,
    given: &GivenVersion,
    version_id: &str,
    releases: bool,
) -> Result<Vec<Version>> {
    let mut history = log.walk();
    let mut newer: Vec<ListedVersion> = Vec::new();
    let mut found: Option<ListedVersion> = None;
    while let Some(entry) = history.next().await? {
        if entry.version_id == version_id {
            found = Some(entry);
            break;
        }
        if entry.version_id != NULL_VERSION_ID {
            newer.push(entry);
        }
    }
    let Some(found) = found else {
        tracing::info!(
            version = given.version,
            version_id,
            "the last version Concourse saw no longer exists; emitting the latest"
        );
        let latest = log.find(None, |_| Judgement::Found).await?;
        return Ok(latest.as_ref().map(version_of).into_iter().collect());
    };
    // A store whose order was not trusted was put in order by time: versions written in the
    // same instant as the given one may be newer than it, so they are kept too.
    if history.reordered() {
        while let Some(entry) = history.next().await? {
            if entry.last_modified != found.last_modified {
                break;
            }
            if entry.version_id != NULL_VERSION_ID {
                newer.push(entry);
            }
        }
    }
    newer.reverse();
    let mut versions = vec![Version {
        version: given.version.clone(),
        version_id: version_id.to_owned(),
    }];
    let mut records = log.read_valid(&newer).await?;
    if releases {
        let beneath = given.version.trim().parse::<u64>().ok();
        records = without_duplicates(records, beneath);
    }
    versions.extend(records.iter().map(version_of));
    Ok(versions)
}

/// `records` (oldest first, the first written over a release numbered `beneath`) without the
/// later copies of a release: a record catapult wrote (it carries a write id) with the number of
/// the release beneath it is a duplicate that a store which ignored a precondition let in, and
/// that its writer takes back.
fn without_duplicates(records: Vec<StoredRecord>, mut beneath: Option<u64>) -> Vec<StoredRecord> {
    let mut kept = Vec::with_capacity(records.len());
    for stored in records {
        let record = &stored.record;
        if record.write_id.is_some() && beneath == Some(record.version) {
            tracing::warn!(
                "skipping version {:?}: a second copy of release {} (a store that ignored a precondition let it in)",
                stored.version_id,
                record.version
            );
            continue;
        }
        beneath = Some(record.version);
        kept.push(stored);
    }
    kept
}

/// The newest record numbered `number` and every newer one, oldest first: a version the older
/// release resource emitted, which named releases by number alone.
async fn since_number<S: RecordStore>(log: &RecordLog<'_, S>, number: u64) -> Result<Vec<Version>> {
    let mut newer = Vec::new();
    let found = log
        .find(None, |stored| {
            if stored.record.version == number {
                Judgement::Found
            } else {
                newer.push(version_of(stored));
                Judgement::Continue
            }
        })
        .await?;
    match found {
        Some(found) => {
            newer.reverse();
            let mut versions = vec![version_of(&found)];
            versions.extend(newer);
            Ok(versions)
        }
        None => {
            tracing::info!(
                number,
                "no record is numbered as the version Concourse saw; emitting the latest"
            );
            Ok(newer.into_iter().take(1).collect())
        }
    }
}
