//! The record log's promise, each rule and each fault that once broke it, over the in-memory
//! store and the fault wrapper. Time is paused, so backoffs cost nothing.

use futures_util::future::join_all;

use super::retry::{backoff_cap, new_write_id};
use super::walk::{
    FIRST_PAGE_SIZE, LARGEST_PAGE_SIZE, listed_newest_first, next_page_size, sort_newest_first,
};
use super::*;
use crate::concourse::check::check;
use crate::concourse::version::GivenVersion;
use crate::concourse::{ReleaseResource, Resource};
use crate::record::StoredRecord;
use crate::record::fixtures;
use crate::store::faults::{Fault, FaultKind, FaultyStore};
use crate::store::memory::{MemoryStore, Quirks};
use crate::store::{Operation, StoreErrorKind, VersionPage, Versioning};

fn at() -> Location {
    fixtures::at("releases", "app")
}

/// The release resource over [`at`].
fn releases() -> Resource {
    Resource::Release(ReleaseResource {
        app: fixtures::app("app", "releases"),
        has_image: true,
        tickets: Default::default(),
    })
}

fn store(quirks: Quirks) -> MemoryStore {
    let store = MemoryStore::new(quirks);
    store.create_bucket("releases", Versioning::Enabled);
    store
}

fn faulty(quirks: Quirks, faults: Vec<Fault>) -> FaultyStore<MemoryStore> {
    FaultyStore::new(store(quirks), faults)
}

fn record(version: u64, commit: &str) -> Record {
    Record {
        version,
        commit: commit.into(),
        image: None,
        author: Some("dev@example.com".into()),
        changelog: String::new(),
        commits: vec![commit.into()],
        timestamp: "2026-11-21T10:00:00Z".into(),
        rollback: false,
        action_type: Some("automated".into()),
        ..Record::default()
    }
}

/// Writes release `version` of commit `c<version>` as another tool would.
fn seed<S: RecordStore>(store: &MemoryStore, _: &S, versions: impl IntoIterator<Item = u64>) {
    for version in versions {
        store.put_unconditionally(&at(), &record(version, &format!("c{version}")).to_json());
    }
}

/// Appends the next release of `commit`, as a release put does: latest + 1.
async fn release<S: RecordStore>(store: &S, commit: &str) -> Result<StoredRecord> {
    let at = at();
    let log = RecordLog::new(store, &at);
    let appended = log
        .append(async |head: &Head| -> Result<Decision<()>> {
            let next = head
                .latest
                .as_ref()
                .map_or(1, |latest| latest.record.version + 1);
            Ok(Decision::Write(record(next, commit)))
        })
        .await?;
    match appended {
        Appended::Written(stored) => Ok(stored),
        Appended::Kept(()) => unreachable!("always writes"),
    }
}

/// The release numbers stored at `at`, oldest first.
fn numbers(store: &MemoryStore) -> Vec<u64> {
    let mut numbers: Vec<u64> = store
        .versions(&at())
        .iter()
        .filter_map(|object| Record::parse(&object.body, None).ok())
        .map(|record| record.version)
        .collect();
    numbers.reverse();
    numbers
}

fn lose_answer(operation: Operation, nth: u32, kind: StoreErrorKind) -> Fault {
    Fault::on(operation, nth, FaultKind::LoseAnswer(kind))
}

fn reset() -> StoreErrorKind {
    StoreErrorKind::Transient("connection reset by peer".into())
}

#[tokio::test(start_paused = true)]
async fn a_release_costs_three_requests_the_first_included() {
    let store = faulty(Quirks::default(), vec![]);
    release(&store, "c1").await.unwrap();
    // An empty listing, GetBucketVersioning, PutObject.
    assert_eq!(store.total_calls(), 3);
    assert_eq!(store.calls(Operation::GetVersioning), 1);

    let store = faulty(Quirks::default(), vec![]);
    seed(store.inner(), &store, 1..=5);
    release(&store, "c6").await.unwrap();
    // A listing names the current version and its ETag, one read, one write.
    assert_eq!(
        (
            store.calls(Operation::ListVersions),
            store.calls(Operation::GetVersion),
            store.calls(Operation::Put)
        ),
        (1, 1, 1)
    );
    assert_eq!(numbers(store.inner()), [1, 2, 3, 4, 5, 6]);
}

#[tokio::test(start_paused = true)]
async fn verification_costs_one_listing_on_stores_other_than_aws() {
    let quirks = Quirks {
        verify_writes: true,
        ..Quirks::default()
    };
    let store = faulty(quirks, vec![]);
    seed(store.inner(), &store, 1..=2);
    release(&store, "c3").await.unwrap();
    assert_eq!(store.total_calls(), 4);
    assert_eq!(store.calls(Operation::ListVersions), 2);
}

#[tokio::test(start_paused = true)]
async fn a_lost_answer_after_the_write_landed_writes_once() {
    for lost in [
        reset(),
        StoreErrorKind::Unavailable("HTTP 503".into()),
        StoreErrorKind::Unavailable("timeout: no answer".into()),
    ] {
        let store = faulty(
            Quirks::default(),
            vec![lose_answer(Operation::Put, 1, lost.clone())],
        );
        seed(store.inner(), &store, 1..=2);
        let written = release(&store, "c3").await.unwrap();
        assert_eq!(written.record.version, 3, "{lost:?}");
        assert_eq!(numbers(store.inner()), [1, 2, 3], "{lost:?}");
        assert_eq!(store.calls(Operation::Put), 1, "{lost:?}");
    }
}

#[tokio::test(start_paused = true)]
async fn a_412_met_by_the_retry_of_a_write_that_landed_is_the_write_itself() {
    let store = faulty(
        Quirks::default(),
        vec![lose_answer(
            Operation::Put,
            1,
            StoreErrorKind::PreconditionFailed,
        )],
    );
    seed(store.inner(), &store, 1..=2);
    let written = release(&store, "c3").await.unwrap();
    assert_eq!(written.record.version, 3);
    assert_eq!(numbers(store.inner()), [1, 2, 3]);
}

#[tokio::test(start_paused = true)]
async fn a_write_that_did_not_land_is_tried_again() {
    let store = faulty(
        Quirks::default(),
        vec![Fault::on(Operation::Put, 1, FaultKind::FailBefore(reset()))],
    );
    seed(store.inner(), &store, 1..=2);
    release(&store, "c3").await.unwrap();
    assert_eq!(numbers(store.inner()), [1, 2, 3]);
    assert_eq!(store.calls(Operation::Put), 2);
}

#[tokio::test(start_paused = true)]
async fn racing_writers_losing_every_third_answer_store_one_record_each() {
    let store = faulty(
        Quirks::default(),
        vec![Fault::every(
            Operation::Put,
            3,
            FaultKind::LoseAnswer(reset()),
        )],
    );
    let commits: Vec<String> = (1..=16).map(|n| format!("commit-{n}")).collect();
    let results = join_all(commits.iter().map(|commit| release(&store, commit))).await;
    let mut written: Vec<u64> = results
        .into_iter()
        .map(|result| result.unwrap().record.version)
        .collect();
    written.sort_unstable();
    assert_eq!(written, (1..=16).collect::<Vec<_>>());
    assert_eq!(numbers(store.inner()), (1..=16).collect::<Vec<_>>());
    // Each commit is stored exactly once.
    let mut stored: Vec<String> = store
        .inner()
        .versions(&at())
        .iter()
        .map(|object| Record::parse(&object.body, None).unwrap().commit)
        .collect();
    stored.sort();
    let mut expected = commits.clone();
    expected.sort();
    assert_eq!(stored, expected);
    assert!(store.calls(Operation::Put) > 16, "the race was real");
}

#[tokio::test(start_paused = true)]
async fn a_store_that_refuses_a_current_if_match_fails_at_once_naming_it() {
    let quirks = Quirks {
        refuses_if_match: true,
        ..Quirks::default()
    };
    let store = faulty(quirks, vec![]);
    seed(store.inner(), &store, 1..=1);
    let error = release(&store, "c2").await.unwrap_err().to_string();
    assert_eq!(
        error,
        format!(
            "the in-memory store answered 412 Precondition Failed to PutObject with If-Match: {} although the key has not changed: it does not honour that precondition: catapult cannot keep s3://releases/app's history safe on it",
            store.inner().versions(&at())[0].etag.clone().unwrap()
        )
    );
    assert_eq!(store.calls(Operation::Put), 1);
    assert_eq!(numbers(store.inner()), [1]);
}

#[tokio::test(start_paused = true)]
async fn a_store_without_conditional_writes_is_named() {
    let quirks = Quirks {
        conditional_writes_not_implemented: true,
        ..Quirks::default()
    };
    let store = faulty(quirks, vec![]);
    let error = release(&store, "c1").await.unwrap_err().to_string();
    assert!(
        error.starts_with(
            "the in-memory store does not implement conditional writes (PutObject with If-None-Match: * answered 501 Not Implemented)"
        ),
        "{error}"
    );
    assert!(numbers(store.inner()).is_empty());
}

#[tokio::test(start_paused = true)]
async fn a_store_that_ignores_if_none_match_is_caught_by_the_writer_that_raced() {
    let quirks = Quirks {
        ignores_if_none_match: true,
        verify_writes: true,
        ..Quirks::default()
    };
    let store = faulty(quirks, vec![]);
    let results = join_all((1..=8).map(|n| {
        let commit = format!("first-{n}");
        let store = &store;
        async move { release(store, &commit).await }
    }))
    .await;
    let succeeded: Vec<_> = results.iter().filter(|result| result.is_ok()).collect();
    let duplicates: Vec<String> = results
        .iter()
        .filter_map(|result| result.as_ref().err())
        .map(ToString::to_string)
        .collect();
    // Every writer but the first found another record beneath its own, took its own back,
    // and said so: one record stays, and it is the oldest.
    assert_eq!(succeeded.len(), 1, "{duplicates:#?}");
    assert_eq!(duplicates.len(), 7);
    for error in &duplicates {
        assert!(
            error.starts_with(
                "another writer's record numbered 1 took the same place in s3://releases/app first"
            ),
            "{error}"
        );
        assert!(error.contains("did not honour If-None-Match: *"), "{error}");
        assert!(
            error.contains("was taken back, so nothing was written"),
            "{error}"
        );
    }
    assert_eq!(numbers(store.inner()), [1]);
    let kept = &store.inner().versions(&at())[0];
    let kept_id = &succeeded[0].as_ref().unwrap().version_id;
    assert_eq!(kept.version_id.as_ref(), Some(kept_id));
    // Each names the record that stays, not another that was taken back too.
    for error in &duplicates {
        assert!(
            error.contains(&format!("first (version {kept_id:?})")),
            "{error}"
        );
    }
}

#[tokio::test(start_paused = true)]
async fn a_write_kept_without_a_version_is_taken_back() {
    let store = faulty(Quirks::default(), vec![]);
    seed(store.inner(), &store, 1..=2);
    store
        .inner()
        .set_versioning("releases", Versioning::Suspended);
    let error = release(&store, "c3").await.unwrap_err().to_string();
    assert!(
        error.starts_with("bucket \"releases\" does not have versioning enabled (suspended)"),
        "{error}"
    );
    assert_eq!(numbers(store.inner()), [1, 2]);
}

#[tokio::test(start_paused = true)]
async fn nothing_is_written_to_a_bucket_without_versioning() {
    for state in [Versioning::Off, Versioning::Suspended] {
        let store = faulty(Quirks::default(), vec![]);
        store.inner().set_versioning("releases", state);
        let error = release(&store, "c1").await.unwrap_err().to_string();
        assert!(
            error.contains("does not have versioning enabled"),
            "{error}"
        );
        assert_eq!(store.calls(Operation::Put), 0);
    }
}

#[tokio::test(start_paused = true)]
async fn a_reset_in_the_middle_of_a_body_is_retried() {
    let store = faulty(
        Quirks::default(),
        vec![Fault::on(
            Operation::GetVersion,
            1,
            FaultKind::FailBefore(StoreErrorKind::Transient(
                "the body was cut short: connection reset".into(),
            )),
        )],
    );
    seed(store.inner(), &store, 1..=3);
    let versions = check(&store, &releases(), None).await.unwrap();
    assert_eq!(versions.len(), 1);
    assert_eq!(versions[0].version, "3");

    let store = faulty(
        Quirks::default(),
        vec![Fault::on(
            Operation::GetVersion,
            1,
            FaultKind::FailBefore(reset()),
        )],
    );
    seed(store.inner(), &store, 1..=3);
    release(&store, "c4").await.unwrap();
    assert_eq!(numbers(store.inner()), [1, 2, 3, 4]);
}

#[tokio::test(start_paused = true)]
async fn a_missing_bucket_is_an_error_everywhere() {
    let store = MemoryStore::default();
    let expected = "bucket \"releases\" does not exist (the in-memory store)";
    let error = check(&store, &releases(), None)
        .await
        .unwrap_err()
        .to_string();
    assert!(error.starts_with(expected), "{error}");
    let since = GivenVersion {
        version: "1".into(),
        version_id: Some("v1".into()),
        deploy: None,
    };
    let error = check(&store, &releases(), Some(&since))
        .await
        .unwrap_err()
        .to_string();
    assert!(error.starts_with(expected), "{error}");
    let error = RecordLog::new(&store, &at())
        .read_exact("v1")
        .await
        .unwrap_err()
        .to_string();
    assert!(error.starts_with(expected), "{error}");
    let error = release(&store, "c1").await.unwrap_err().to_string();
    assert!(error.starts_with(expected), "{error}");
}

fn since(version: &str, version_id: &str) -> GivenVersion {
    GivenVersion {
        version: version.into(),
        version_id: Some(version_id.into()),
        deploy: None,
    }
}

/// The version ids of the records seeded, oldest first.
fn ids(store: &MemoryStore) -> Vec<String> {
    let mut ids: Vec<String> = store
        .versions(&at())
        .into_iter()
        .map(|object| object.version_id.unwrap())
        .collect();
    ids.reverse();
    ids
}

#[tokio::test(start_paused = true)]
async fn a_truncated_listing_without_markers_goes_on_from_its_last_entry() {
    let quirks = Quirks {
        omits_next_markers: true,
        ..Quirks::default()
    };
    let store = store(quirks);
    seed(&store, &store, 1..=40);
    let ids = ids(&store);
    let versions = check(&store, &releases(), Some(&since("1", &ids[0])))
        .await
        .unwrap();
    let numbers: Vec<&str> = versions.iter().map(|v| v.version.as_str()).collect();
    let expected: Vec<String> = (1..=40).map(|n| n.to_string()).collect();
    assert_eq!(numbers, expected);
}

#[tokio::test(start_paused = true)]
async fn a_store_listing_oldest_first_loses_no_version_written_in_the_same_second() {
    let quirks = Quirks {
        lists_oldest_first: true,
        same_second: true,
        ..Quirks::default()
    };
    let store = store(quirks);
    seed(&store, &store, 1..=4);
    let ids = ids(&store);
    let versions = check(&store, &releases(), Some(&since("1", &ids[0])))
        .await
        .unwrap();
    let numbers: Vec<&str> = versions.iter().map(|v| v.version.as_str()).collect();
    assert_eq!(numbers, ["1", "2", "3", "4"]);
    // And the next release follows the newest.
    release(&store, "c5").await.unwrap();
    let versions = check(&store, &releases(), None).await.unwrap();
    assert_eq!(versions[0].version, "5");
}

#[tokio::test(start_paused = true)]
async fn an_invalid_newest_record_blocks_nothing() {
    let store = faulty(Quirks::default(), vec![]);
    seed(store.inner(), &store, 1..=2);
    store
        .inner()
        .put_unconditionally(&at(), b"{\"not\": \"a record\"}");
    let versions = check(&store, &releases(), None).await.unwrap();
    assert_eq!(versions[0].version, "2");
    let written = release(&store, "c3").await.unwrap();
    assert_eq!(written.record.version, 3);
    let stored = store.inner().versions(&at());
    assert_eq!(stored.len(), 4, "written over the invalid one");
    assert_eq!(Record::parse(&stored[0].body, None).unwrap().version, 3);
}

#[tokio::test(start_paused = true)]
async fn a_page_the_store_marks_truncated_without_entries_or_markers_fails_naming_it() {
    let page = VersionPage {
        is_truncated: true,
        ..VersionPage::default()
    };
    let store = MemoryStore::default();
    let at = at();
    let history = Walk::new(&store, &at);
    let error = history.continuation(&page, None).unwrap_err().to_string();
    assert!(
        error.starts_with("the in-memory store marked an empty page of versions truncated"),
        "{error}"
    );
}

#[tokio::test(start_paused = true)]
async fn find_stops_at_versions_older_than_asked() {
    let store = faulty(Quirks::default(), vec![]);
    seed(store.inner(), &store, 1..=50);
    let newest = store.inner().versions(&at())[2].last_modified;
    let at = at();
    let log = RecordLog::new(&store, &at);
    let found = log.find(newest, |_| Judgement::Continue).await.unwrap();
    assert_eq!(found, None);
    // The three newest were read, none older.
    assert_eq!(store.calls(Operation::GetVersion), 3);
}

#[test]
fn trusts_a_page_that_starts_with_the_current_version() {
    let listed = |version_id: &str, is_latest: bool, second: i64| ListedVersion {
        version_id: version_id.into(),
        is_latest,
        last_modified: Some(Timestamp::from_second(second).unwrap()),
        etag: None,
        size: None,
    };
    let page = |versions, delete_marker_is_latest| VersionPage {
        versions,
        delete_marker_is_latest,
        ..VersionPage::default()
    };
    assert!(listed_newest_first(&page(
        vec![listed("b", true, 2), listed("a", false, 1)],
        false
    )));
    assert!(!listed_newest_first(&page(
        vec![listed("a", false, 1), listed("b", true, 2)],
        false
    )));
    assert!(listed_newest_first(&page(
        vec![listed("b", false, 2)],
        true
    )));
    assert!(listed_newest_first(&VersionPage::default()));

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
fn pages_grow_to_the_largest_s3_allows_and_waits_to_a_second() {
    let mut size = FIRST_PAGE_SIZE;
    let mut sizes = vec![size];
    while size < LARGEST_PAGE_SIZE {
        size = next_page_size(size);
        sizes.push(size);
    }
    assert_eq!(sizes, [16, 64, 256, 1000]);
    let caps: Vec<u128> = (1..=8)
        .map(|attempt| backoff_cap(attempt).as_millis())
        .collect();
    assert_eq!(caps, [40, 80, 160, 320, 640, 1000, 1000, 1000]);
}

#[test]
fn write_ids_are_unique() {
    let ids: std::collections::HashSet<String> = (0..1000).map(|_| new_write_id()).collect();
    assert_eq!(ids.len(), 1000);
    assert!(ids.iter().all(|id| id.len() == 32));
}

mod reads;
mod stores;
mod writes;
