//! Walking one key's history newest first, a page at a time, so that a walk's cost grows with
//! how far back it goes. A page marked truncated without markers goes on from its last entry; a
//! store that does not list newest first gets one full listing, put in order without dropping
//! ties (versions written in the same second). A store that cannot list versions at all (Garage
//! answers ListObjectVersions with 501) keeps none, and is named for it.

use std::collections::VecDeque;

use super::retry::retry_transient;
use crate::error::{Error, Result};
use crate::store::{
    ListedVersion, Location, NULL_VERSION_ID, PageCursor, RecordStore, StoreErrorKind, VersionPage,
};

/// The first page is small, so that a walk that stops early reads little; pages then grow
/// toward S3's largest.
pub(super) const FIRST_PAGE_SIZE: i32 = 16;
pub(super) const LARGEST_PAGE_SIZE: i32 = 1000;

/// A key's versions, newest first, fetched a page at a time as the walk goes on. When the
/// store does not list newest first (its first entry is not the current version), the whole
/// history is listed once and put in order instead.
pub struct Walk<'a, S> {
    store: &'a S,
    at: &'a Location,
    pending: VecDeque<ListedVersion>,
    next_page: Option<PageCursor>,
    page_size: i32,
    started: bool,
    delete_marker_on_top: bool,
    reordered: bool,
    null_version_listed: bool,
}

impl<'a, S: RecordStore> Walk<'a, S> {
    /// The history at `at`, not yet listed.
    pub fn new(store: &'a S, at: &'a Location) -> Self {
        Walk {
            store,
            at,
            pending: VecDeque::new(),
            next_page: None,
            page_size: FIRST_PAGE_SIZE,
            started: false,
            delete_marker_on_top: false,
            reordered: false,
            null_version_listed: false,
        }
    }

    /// The same walk in pages of the largest size from the first: for a reader that wants the
    /// whole history, not only its newest records.
    pub fn whole(mut self) -> Self {
        self.page_size = LARGEST_PAGE_SIZE;
        self
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
            self.null_version_listed |= page
                .versions
                .iter()
                .any(|version| version.version_id == NULL_VERSION_ID);
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

    /// Whether a page listed so far named a `null` version: an object written while versioning
    /// was off.
    pub fn null_version_listed(&self) -> bool {
        self.null_version_listed
    }

    /// Whether the store's order was not trusted and the history was put in order by time:
    /// versions written in the same instant may then be in any order among themselves.
    pub fn reordered(&self) -> bool {
        self.reordered
    }

    async fn list(&self, max_keys: i32, after: Option<&PageCursor>) -> Result<VersionPage> {
        let listed =
            retry_transient(async || self.store.list_versions(self.at, max_keys, after).await)
                .await;
        match listed {
            Err(err) if err.kind == StoreErrorKind::NotImplemented => Err(Error::NoVersioning {
                store: self.store.name().to_owned(),
                evidence: "ListObjectVersions: 501 Not Implemented".into(),
            }),
            other => Ok(other?),
        }
    }

    /// Where the listing goes on after `page`, or `None` when the key has no more versions.
    pub(super) fn continuation(
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
        Ok((next.key_marker == self.at.key.as_str()).then_some(next))
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
pub(super) fn listed_newest_first(first_page: &VersionPage) -> bool {
    match first_page.versions.first() {
        None => true,
        Some(first) => first.is_latest || first_page.delete_marker_is_latest,
    }
}

/// Newest first by the time each was written; of versions written in the same instant, the
/// current one first, the others in the store's order.
pub(super) fn sort_newest_first(versions: &mut [ListedVersion]) {
    versions.sort_by_key(|version| std::cmp::Reverse((version.last_modified, version.is_latest)));
}

pub(super) fn next_page_size(size: i32) -> i32 {
    (size * 4).min(LARGEST_PAGE_SIZE)
}
