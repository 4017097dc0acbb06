//! A key's history: its versions newest first, walked a page at a time so that the cost of a
//! walk grows with how far it goes back, never with the length of the history, and the records
//! in them, read a few at a time. `check` walks it to the version Concourse has; `out` walks it
//! for the latest release, a release by number, or a release in another environment.

use std::collections::VecDeque;

use futures_util::{StreamExt, TryStreamExt};

use crate::error::Result;
use crate::record::Record;
use crate::store::{
    ListedVersion, Location, NULL_VERSION_ID, PageCursor, RecordStore, VersionPage,
};

/// The first page is small, so that a walk that stops early reads little; pages then grow
/// toward S3's largest.
const FIRST_PAGE_SIZE: i32 = 16;
const LARGEST_PAGE_SIZE: i32 = 1000;
/// How many record bodies are fetched at once.
const CONCURRENT_READS: usize = 8;

/// The records of `entries`, in their order, reading each body (a few at a time). A version
/// that is not a valid record, or was deleted meanwhile, is left out with a warning.
pub(crate) async fn read_records<S: RecordStore>(
    store: &S,
    at: &Location,
    entries: &[ListedVersion],
) -> Result<Vec<(String, Record)>> {
    let bodies: Vec<_> = futures_util::stream::iter(entries)
        .map(|entry| store.get_version(at, &entry.version_id))
        .buffered(CONCURRENT_READS)
        .try_collect()
        .await?;
    let mut records = Vec::with_capacity(entries.len());
    for (entry, object) in entries.iter().zip(bodies) {
        let Some(object) = object else {
            tracing::warn!(
                "skipping version {:?} of {at}: deleted meanwhile",
                entry.version_id
            );
            continue;
        };
        match Record::parse(&object.body, object.last_modified) {
            Ok(record) => records.push((entry.version_id.clone(), record)),
            Err(reason) => tracing::warn!(
                "skipping version {:?} of {at}: not a valid record: {reason}",
                entry.version_id
            ),
        }
    }
    Ok(records)
}

/// The newest valid record at `at` that `wanted` accepts, with its version id: the history is
/// walked newest first and read a batch at a time, until `wanted` accepts one or `give_up`
/// says no older one can match.
pub(crate) async fn find_record<S: RecordStore>(
    store: &S,
    at: &Location,
    wanted: impl Fn(&Record) -> bool,
    give_up: impl Fn(&Record) -> bool,
) -> Result<Option<(String, Record)>> {
    let mut history = History::new(store, at);
    let mut batch = Vec::with_capacity(CONCURRENT_READS);
    let mut batch_size = 1;
    loop {
        batch.clear();
        while batch.len() < batch_size {
            match history.next().await? {
                Some(entry) if entry.version_id == NULL_VERSION_ID => {}
                Some(entry) => batch.push(entry),
                None => break,
            }
        }
        if batch.is_empty() {
            return Ok(None);
        }
        for (version_id, record) in read_records(store, at, &batch).await? {
            if wanted(&record) {
                return Ok(Some((version_id, record)));
            }
            if give_up(&record) {
                return Ok(None);
            }
        }
        // The newest record is usually the one wanted: read it alone, then in batches.
        batch_size = CONCURRENT_READS;
    }
}

/// A key's versions, newest first, fetched a page at a time as the walk goes on. When the
/// store does not list newest first (its first entry is not the current version), the whole
/// history is listed once and sorted by time instead.
pub struct History<'a, S> {
    store: &'a S,
    at: &'a Location,
    pending: VecDeque<ListedVersion>,
    next_page: Option<PageCursor>,
    page_size: i32,
    started: bool,
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

/// Newest first by the time each was written; of versions written in the same instant, the
/// current one first, the others in the store's order.
fn sort_newest_first(versions: &mut [ListedVersion]) {
    versions.sort_by_key(|version| std::cmp::Reverse((version.last_modified, version.is_latest)));
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
            etag: None,
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
    fn puts_the_current_version_first_among_versions_of_the_same_instant() {
        let mut versions = vec![
            listed("older", false, 5),
            listed("current", true, 5),
            listed("oldest", false, 4),
        ];
        sort_newest_first(&mut versions);
        let order: Vec<_> = versions.iter().map(|v| v.version_id.as_str()).collect();
        assert_eq!(order, ["current", "older", "oldest"]);
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
