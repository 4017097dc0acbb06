//! `check`: the versions Concourse has not seen yet, oldest first. Its cost grows with the
//! number of new versions, never with the length of the history: S3 lists a key's versions
//! newest first, so the walk stops as soon as it meets the version Concourse already has.

use std::collections::VecDeque;

use futures_util::{StreamExt, TryStreamExt};

use crate::error::{Error, Result};
use crate::protocol::Version;
use crate::record::Record;
use crate::store::{
    ListedVersion, Location, NULL_VERSION_ID, PageCursor, RecordStore, VersionPage,
};

/// The first page is small, so that a check with nothing new reads little; pages then grow
/// toward S3's largest.
const FIRST_PAGE_SIZE: i32 = 16;
const LARGEST_PAGE_SIZE: i32 = 1000;
/// How many record bodies are fetched at once.
const CONCURRENT_READS: usize = 8;

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

/// An error naming the bucket when it keeps no versions. Asked only when a listing found no
/// usable version, so a check with nothing new stays one request.
async fn ensure_versioned<S: RecordStore>(store: &S, bucket: &str) -> Result<()> {
    if store.versioning_enabled(bucket).await? {
        Ok(())
    } else {
        Err(Error::BucketNotVersioned {
            bucket: bucket.to_owned(),
        })
    }
}

/// The Concourse versions of `entries`, in their order, reading each body (a few at a time);
/// a version that is not a valid record, or was deleted meanwhile, is skipped with a warning.
async fn read_versions<S: RecordStore>(
    store: &S,
    at: &Location,
    entries: &[ListedVersion],
) -> Result<Vec<Version>> {
    let bodies: Vec<_> = futures_util::stream::iter(entries)
        .map(|entry| store.get_version(at, &entry.version_id))
        .buffered(CONCURRENT_READS)
        .try_collect()
        .await?;
    let mut versions = Vec::with_capacity(entries.len());
    for (entry, object) in entries.iter().zip(bodies) {
        let Some(object) = object else {
            tracing::warn!(
                version_id = entry.version_id,
                "skipping a version deleted meanwhile"
            );
            continue;
        };
        match Record::parse(&object.body, object.last_modified) {
            Ok(record) => versions.push(Version::new(record.version, &entry.version_id)),
            Err(reason) => tracing::warn!(
                "skipping version {:?} of {at}: not a valid record: {reason}",
                entry.version_id
            ),
        }
    }
    Ok(versions)
}

/// A key's versions, newest first, fetched a page at a time as the walk goes on. When the
/// store does not list newest first (its first entry is not the current version), the whole
/// history is listed once and sorted by time instead.
pub(crate) struct History<'a, S> {
    store: &'a S,
    at: &'a Location,
    pending: VecDeque<ListedVersion>,
    next_page: Option<PageCursor>,
    page_size: i32,
    started: bool,
}

impl<'a, S: RecordStore> History<'a, S> {
    pub(crate) fn new(store: &'a S, at: &'a Location) -> Self {
        History {
            store,
            at,
            pending: VecDeque::new(),
            next_page: None,
            page_size: FIRST_PAGE_SIZE,
            started: false,
        }
    }

    /// The next older version, `None` past the oldest.
    pub(crate) async fn next(&mut self) -> Result<Option<ListedVersion>> {
        loop {
            if let Some(entry) = self.pending.pop_front() {
                return Ok(Some(entry));
            }
            if self.started && self.next_page.is_none() {
                return Ok(None);
            }
            let page = self
                .store
                .list_versions(self.at, self.page_size, self.next_page.as_ref())
                .await?;
            self.page_size = next_page_size(self.page_size);
            if !self.started && !listed_newest_first(&page) {
                tracing::warn!(
                    "{} does not list versions newest first; listing the whole history",
                    self.at
                );
                self.pending = self.whole_history_by_time(page).await?.into();
                self.next_page = None;
            } else {
                self.pending.extend(page.versions);
                self.next_page = page.next;
            }
            self.started = true;
        }
    }

    async fn whole_history_by_time(&self, first: VersionPage) -> Result<Vec<ListedVersion>> {
        let mut versions = first.versions;
        let mut next = first.next;
        while let Some(cursor) = next {
            let page = self
                .store
                .list_versions(self.at, LARGEST_PAGE_SIZE, Some(&cursor))
                .await?;
            versions.extend(page.versions);
            next = page.next;
        }
        sort_newest_first(&mut versions);
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

/// Newest first by the time each was written; versions written in the same instant keep the
/// store's order.
fn sort_newest_first(versions: &mut [ListedVersion]) {
    versions.sort_by_key(|version| std::cmp::Reverse(version.last_modified));
}

fn next_page_size(size: i32) -> i32 {
    (size * 4).min(LARGEST_PAGE_SIZE)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn listed(version_id: &str, is_latest: bool, second: i64) -> ListedVersion {
        ListedVersion {
            version_id: version_id.into(),
            is_latest,
            last_modified: Some(jiff::Timestamp::from_second(second).unwrap()),
        }
    }

    #[test]
    fn trusts_a_page_that_starts_with_the_current_version() {
        let page = VersionPage {
            versions: vec![listed("b", true, 2), listed("a", false, 1)],
            ..VersionPage::default()
        };
        assert!(listed_newest_first(&page));
    }

    #[test]
    fn distrusts_a_page_that_starts_with_an_old_version() {
        let page = VersionPage {
            versions: vec![listed("a", false, 1), listed("b", true, 2)],
            ..VersionPage::default()
        };
        assert!(!listed_newest_first(&page));
    }

    #[test]
    fn trusts_a_page_under_a_delete_marker_and_an_empty_one() {
        let under_marker = VersionPage {
            versions: vec![listed("b", false, 2)],
            delete_marker_is_latest: true,
            next: None,
        };
        assert!(listed_newest_first(&under_marker));
        assert!(listed_newest_first(&VersionPage::default()));
    }

    #[test]
    fn sorts_by_time_keeping_ties_in_list_order() {
        let mut versions = vec![
            listed("old", false, 1),
            listed("new", true, 3),
            listed("mid-1", false, 2),
            listed("mid-2", false, 2),
        ];
        sort_newest_first(&mut versions);
        let order: Vec<_> = versions.iter().map(|v| v.version_id.as_str()).collect();
        assert_eq!(order, ["new", "mid-1", "mid-2", "old"]);
    }

    #[test]
    fn pages_grow_to_the_largest_s3_allows() {
        let mut size = FIRST_PAGE_SIZE;
        let mut sizes = vec![size];
        while size < LARGEST_PAGE_SIZE {
            size = next_page_size(size);
            sizes.push(size);
        }
        assert_eq!(sizes, [16, 64, 256, 1000]);
    }
}
