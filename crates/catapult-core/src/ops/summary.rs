//! Histories read whole for the questions asked of them (which releases hold my ticket, how is
//! our delivery doing): each record kept as a small [`Summary`] of what those questions need,
//! and a [`HistoryCache`] that remembers a key's summaries under the ETag its current version
//! had. Asking again reads nothing when the key has not changed, and when it has, only the
//! versions written since (a version never changes). A cache hands histories out and takes
//! them back one key at a time, so that a reader holds one application's histories at once,
//! not a whole bucket's.

use std::collections::HashMap;

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use super::board::Board;
use crate::error::Result;
use crate::log::RecordLog;
use crate::record::StoredRecord;
use crate::store::{ListedVersion, Location, NULL_VERSION_ID, RecordStore};

/// What the questions asked of a history need of one record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Summary {
    /// Its S3 version id.
    #[serde(rename = "i")]
    pub version_id: String,
    /// The release number.
    #[serde(rename = "v")]
    pub version: u64,
    /// The release's commit.
    #[serde(rename = "c")]
    pub commit: String,
    /// The record's time (its own, or the store's when it says none), in seconds since the
    /// epoch; `None` when it cannot be read.
    #[serde(rename = "t")]
    pub time: Option<i64>,
    /// Whether it was a rollback.
    #[serde(rename = "r", default, skip_serializing_if = "std::ops::Not::not")]
    pub rollback: bool,
    /// The shas of a release's changelog, newest first (what lead time and tickets need).
    #[serde(rename = "s", default, skip_serializing_if = "Vec::is_empty")]
    pub commits: Vec<String>,
    /// When each commit of a release's changelog was committed, in seconds since the epoch;
    /// `None` when the record does not keep it, or keeps a time that cannot be read.
    #[serde(rename = "ct", default, skip_serializing_if = "Option::is_none")]
    pub commit_times: Option<Vec<i64>>,
    /// The tickets a release's range mentions, when the record keeps them.
    #[serde(rename = "k", default, skip_serializing_if = "Option::is_none")]
    pub tickets: Option<Vec<String>>,
    /// A release's changelog, one line per commit (what the board shows a promotion ships).
    #[serde(rename = "l", default, skip_serializing_if = "String::is_empty")]
    pub changelog: String,
}

/// Which history a summary comes from: a deploy's keeps only what metrics need of it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HistoryKind {
    /// An application's releases.
    Releases,
    /// An application's deploys to one environment.
    Deploys,
}

impl Summary {
    /// The summary of `stored`, a record of a history of `kind`.
    pub fn of(stored: &StoredRecord, kind: HistoryKind) -> Self {
        let record = &stored.record;
        let time = record
            .timestamp
            .parse::<Timestamp>()
            .ok()
            .map(|time| time.as_second());
        let (commits, commit_times, tickets, changelog) = match kind {
            HistoryKind::Deploys => (Vec::new(), None, None, String::new()),
            HistoryKind::Releases => (
                record.commits.clone(),
                record.commit_times.as_ref().and_then(|times| {
                    times
                        .iter()
                        .map(|time| time.parse::<Timestamp>().ok().map(|t| t.as_second()))
                        .collect()
                }),
                record.tickets.clone(),
                record.changelog.clone(),
            ),
        };
        Summary {
            version_id: stored.version_id.clone(),
            version: record.version,
            commit: record.commit.clone(),
            time,
            rollback: record.rollback,
            commits,
            commit_times,
            tickets,
            changelog,
        }
    }

    /// The record's time, when it can be read.
    pub fn timestamp(&self) -> Option<Timestamp> {
        self.time.and_then(|time| Timestamp::from_second(time).ok())
    }
}

/// A history as last read: the key's current ETag then, and its summaries, newest first.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CachedHistory {
    /// The ETag of the key's current version when it was read.
    pub etag: String,
    /// Its summaries, newest first.
    pub summaries: Vec<Summary>,
}

/// Histories already read, by key. An implementation that cannot read or write its storage
/// forgets quietly: a cache is never a reason to fail.
pub trait HistoryCache {
    /// The history of `at` as last read.
    fn history(&mut self, at: &Location) -> Option<CachedHistory>;
    /// Remembers the history of `at`.
    fn remember_history(&mut self, at: &Location, history: &CachedHistory);
}

/// A cache that remembers histories while it lives.
#[derive(Debug, Default, Clone)]
pub struct MemoryHistoryCache {
    /// By bucket and key, on one line each.
    histories: HashMap<String, CachedHistory>,
}

impl MemoryHistoryCache {
    fn key(at: &Location) -> String {
        format!("{}\n{}", at.bucket, at.key)
    }
}

impl HistoryCache for MemoryHistoryCache {
    fn history(&mut self, at: &Location) -> Option<CachedHistory> {
        self.histories.get(&Self::key(at)).cloned()
    }

    fn remember_history(&mut self, at: &Location, history: &CachedHistory) {
        self.histories.insert(Self::key(at), history.clone());
    }
}

/// What reading histories cost.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct HistoryCost {
    /// Histories the cache answered whole (their key unchanged since).
    pub cached_histories: usize,
    /// Histories whose versions were listed.
    pub walked_histories: usize,
    /// Records read from the store.
    pub read: usize,
    /// Records of walked histories the cache answered.
    pub cached: usize,
}

/// The whole history at `at`, newest first, of `kind`. `etag` is the key's current ETag as a
/// listing just told it (`None`: no key there, so no history): a key unchanged since the cache
/// read it is answered by the cache alone; otherwise its versions are listed, and only those
/// the cache does not hold are read. A version written without versioning (`null`) can be
/// replaced in place, so it is always read again.
pub async fn read_history<S: RecordStore>(
    store: &S,
    at: &Location,
    etag: Option<&str>,
    kind: HistoryKind,
    cache: &mut impl HistoryCache,
    cost: &mut HistoryCost,
) -> Result<Vec<Summary>> {
    let Some(etag) = etag else {
        return Ok(Vec::new());
    };
    let cached = match cache.history(at) {
        Some(cached) if cached.etag == etag => {
            cost.cached_histories += 1;
            return Ok(cached.summaries);
        }
        other => other,
    };
    cost.walked_histories += 1;
    let known: HashMap<String, Summary> = cached
        .map(|cached| {
            cached
                .summaries
                .into_iter()
                .filter(|summary| summary.version_id != NULL_VERSION_ID)
                .map(|summary| (summary.version_id.clone(), summary))
                .collect()
        })
        .unwrap_or_default();
    let mut listed: Vec<ListedVersion> = Vec::new();
    let mut walk = RecordLog::new(store, at).walk().whole();
    while let Some(entry) = walk.next().await? {
        listed.push(entry);
    }
    let unread: Vec<ListedVersion> = listed
        .iter()
        .filter(|entry| !known.contains_key(&entry.version_id))
        .cloned()
        .collect();
    cost.read += unread.len();
    cost.cached += listed.len() - unread.len();
    let read: HashMap<String, Summary> = RecordLog::new(store, at)
        .read_all_valid(&unread)
        .await?
        .iter()
        .map(|stored| (stored.version_id.clone(), Summary::of(stored, kind)))
        .collect();
    let summaries: Vec<Summary> = listed
        .iter()
        .filter_map(|entry| {
            known
                .get(&entry.version_id)
                .or_else(|| read.get(&entry.version_id))
                .cloned()
        })
        .collect();
    // Remembered under the ETag the listing told, which may be older than what was walked:
    // then the next read walks again, and reads only what is new.
    let history = CachedHistory {
        etag: etag.to_owned(),
        summaries,
    };
    cache.remember_history(at, &history);
    Ok(history.summaries)
}

/// The whole histories of a board's keys, each read through `cache` under the ETag the board's
/// listing told for it: what the questions of [`super::tickets`], [`super::metrics`] and
/// [`super::promotion`] read.
pub struct BoardHistories<'a, S, C> {
    store: &'a S,
    board: &'a Board,
    cache: &'a mut C,
    /// What the reads cost so far.
    pub cost: HistoryCost,
}

impl<'a, S: RecordStore, C: HistoryCache> BoardHistories<'a, S, C> {
    /// The histories of `board`'s keys in `store`, through `cache`.
    pub fn new(store: &'a S, board: &'a Board, cache: &'a mut C) -> Self {
        BoardHistories {
            store,
            board,
            cache,
            cost: HistoryCost::default(),
        }
    }

    /// The board.
    pub fn board(&self) -> &'a Board {
        self.board
    }

    /// The whole history at `at`, of `kind`, newest first.
    pub async fn read(&mut self, at: &Location, kind: HistoryKind) -> Result<Vec<Summary>> {
        let etag = self.board.etag(at);
        read_history(self.store, at, etag, kind, self.cache, &mut self.cost).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::fixtures::at;
    use crate::store::Versioning;
    use crate::store::memory::MemoryStore;
    use crate::store::tally::Tallied;

    fn put(store: &MemoryStore, at: &Location, version: u64, rollback: bool) -> String {
        let body = serde_json::json!({
            "version": version, "commit": format!("{version:040x}"), "author": "a@b",
            "timestamp": "2026-12-01T10:00:00Z", "rollback": rollback,
            "commit_times": ["2026-12-01T09:00:00Z"], "tickets": ["ABC-1"],
        });
        store.put_unconditionally(at, body.to_string().as_bytes());
        store.versions(at).first().unwrap().etag.clone().unwrap()
    }

    #[tokio::test]
    async fn an_unchanged_key_costs_nothing_and_a_changed_one_reads_only_what_is_new() {
        let memory = MemoryStore::default();
        memory.create_bucket("releases", Versioning::Enabled);
        let releases = at("releases", "api");
        let mut etag = String::new();
        for version in 1..=5 {
            etag = put(&memory, &releases, version, false);
        }
        let store = Tallied::new(memory);
        let memory = store.inner();
        let mut cache = MemoryHistoryCache::default();
        let mut cost = HistoryCost::default();
        let first = read_history(
            &store,
            &releases,
            Some(&etag),
            HistoryKind::Releases,
            &mut cache,
            &mut cost,
        )
        .await
        .unwrap();
        let versions: Vec<u64> = first.iter().map(|s| s.version).collect();
        assert_eq!(versions, [5, 4, 3, 2, 1]);
        assert_eq!(first[0].tickets.as_deref(), Some(&["ABC-1".to_owned()][..]));
        assert_eq!(first[0].commit_times.as_ref().unwrap().len(), 1);
        assert_eq!(cost.read, 5);
        let before = store.progress();

        // The same ETag: no request at all.
        let again = read_history(
            &store,
            &releases,
            Some(&etag),
            HistoryKind::Releases,
            &mut cache,
            &mut cost,
        )
        .await
        .unwrap();
        assert_eq!(again, first);
        assert_eq!(store.progress(), before);
        assert_eq!(cost.cached_histories, 1);

        // One more release: the listing, and one read.
        let etag = put(memory, &releases, 6, true);
        let mut cost = HistoryCost::default();
        let third = read_history(
            &store,
            &releases,
            Some(&etag),
            HistoryKind::Releases,
            &mut cache,
            &mut cost,
        )
        .await
        .unwrap();
        assert_eq!(third.len(), 6);
        assert!(third[0].rollback);
        assert_eq!((cost.read, cost.cached), (1, 5));

        // A deploy history keeps only what metrics need.
        let deploys = read_history(
            &store,
            &releases,
            Some("other"),
            HistoryKind::Deploys,
            &mut MemoryHistoryCache::default(),
            &mut cost,
        )
        .await
        .unwrap();
        assert_eq!(deploys[0].tickets, None);
        assert_eq!(deploys[0].commit_times, None);
    }

    #[tokio::test]
    async fn no_key_is_no_history() {
        let memory = MemoryStore::default();
        memory.create_bucket("releases", Versioning::Enabled);
        let mut cost = HistoryCost::default();
        let history = read_history(
            &memory,
            &at("releases", "api"),
            None,
            HistoryKind::Releases,
            &mut MemoryHistoryCache::default(),
            &mut cost,
        )
        .await
        .unwrap();
        assert!(history.is_empty());
        assert_eq!(cost, HistoryCost::default());
    }
}
