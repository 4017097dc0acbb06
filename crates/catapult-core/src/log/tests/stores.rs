//! Stores that break their promises: one that ignores `If-None-Match: *` under writers that
//! truly race, one without object versioning (Garage), one whose versioning was suspended over
//! an object written before it was enabled; and numbers issued once over a history where a
//! lower number was put on top.

use super::*;

#[tokio::test(start_paused = true)]
async fn a_duplicate_that_cannot_be_taken_back_names_the_version_to_delete() {
    let quirks = Quirks {
        ignores_if_none_match: true,
        verify_writes: true,
        ..Quirks::default()
    };
    let store = faulty(
        quirks,
        vec![Fault::every(
            Operation::DeleteVersion,
            1,
            FaultKind::FailBefore(StoreErrorKind::AccessDenied),
        )],
    );
    let results = join_all((1..=2).map(|n| {
        let commit = format!("first-{n}");
        let store = &store;
        async move { release(store, &commit).await }
    }))
    .await;
    let errors: Vec<String> = results
        .iter()
        .filter_map(|result| result.as_ref().err())
        .map(ToString::to_string)
        .collect();
    assert_eq!(errors.len(), 1, "{errors:#?}");
    let ours = ids(store.inner()).pop().unwrap();
    assert!(
        errors[0].contains(&format!(
            "delete version {ours:?} of s3://releases/app by hand"
        )),
        "{}",
        errors[0]
    );
    assert!(
        errors[0].contains("s3:DeleteObjectVersion"),
        "{}",
        errors[0]
    );
}

#[tokio::test(start_paused = true)]
async fn check_never_presents_a_second_copy_of_a_release_as_new() {
    let memory = store(Quirks::default());
    let first = memory.put_unconditionally(&at(), &record(1, "c1").to_json());
    let copy = Record {
        write_id: Some("0123".into()),
        ..record(1, "c1-racer")
    };
    memory.put_unconditionally(&at(), &copy.to_json());
    memory.put_unconditionally(
        &at(),
        &Record {
            write_id: Some("4567".into()),
            ..record(2, "c2")
        }
        .to_json(),
    );
    let versions = check(&memory, &releases(), Some(&since("1", &first)))
        .await
        .unwrap();
    let numbers: Vec<&str> = versions.iter().map(|v| v.version.as_str()).collect();
    assert_eq!(numbers, ["1", "2"]);
}

fn garage() -> FaultyStore<MemoryStore> {
    faulty(
        Quirks {
            no_versioning: true,
            verify_writes: true,
            ..Quirks::default()
        },
        vec![],
    )
}

const NO_VERSIONING: &str = "the in-memory store has no object versioning (ListObjectVersions: 501 Not Implemented); catapult needs a store that keeps every version";

#[tokio::test(start_paused = true)]
async fn a_store_without_object_versioning_is_named_before_anything_is_written() {
    let store = garage();
    store
        .inner()
        .put_unconditionally(&at(), &record(1, "c1").to_json());
    let error = release(&store, "c2").await.unwrap_err().to_string();
    assert_eq!(error, NO_VERSIONING);
    assert_eq!(store.calls(Operation::Put), 0);
    let error = check(&store, &releases(), None)
        .await
        .unwrap_err()
        .to_string();
    assert_eq!(error, NO_VERSIONING);
}

#[tokio::test(start_paused = true)]
async fn a_store_that_ignores_version_id_never_passes_another_version_for_the_one_asked() {
    let store = garage();
    store
        .inner()
        .put_unconditionally(&at(), &record(1, "c1").to_json());
    let at = at();
    let error = RecordLog::new(&store, &at)
        .read_exact("made-up")
        .await
        .unwrap_err()
        .to_string();
    assert_eq!(
        error,
        "the in-memory store has no object versioning (GetObject for version \"made-up\" of s3://releases/app answered with no version id: it ignores versionId); catapult needs a store that keeps every version"
    );
}

#[tokio::test(start_paused = true)]
async fn nothing_written_before_versioning_was_enabled_is_ever_deleted() {
    // An object written before versioning, then versioning enabled and suspended: the write is
    // refused before it is made, and the object stays.
    let memory = MemoryStore::default();
    memory.create_bucket("releases", Versioning::Off);
    memory.put_unconditionally(&at(), b"written before versioning");
    memory.set_versioning("releases", Versioning::Enabled);
    memory.set_versioning("releases", Versioning::Suspended);
    let store = FaultyStore::new(memory, vec![]);
    let error = release(&store, "c1").await.unwrap_err().to_string();
    assert!(
        error.contains("does not have versioning enabled (suspended)"),
        "{error}"
    );
    assert_eq!(store.calls(Operation::Put), 0);
    assert_eq!(store.calls(Operation::DeleteVersion), 0);
    let held = store.inner().versions(&at());
    assert_eq!(held.len(), 1);
    assert_eq!(held[0].body, b"written before versioning");

    // The same under versions written while versioning was on: the `null` one on the page
    // proves nothing, so the bucket is asked first.
    let memory = MemoryStore::default();
    memory.create_bucket("releases", Versioning::Off);
    memory.put_unconditionally(&at(), b"written before versioning");
    memory.set_versioning("releases", Versioning::Enabled);
    memory.put_unconditionally(&at(), &record(1, "c1").to_json());
    memory.set_versioning("releases", Versioning::Suspended);
    let store = FaultyStore::new(memory, vec![]);
    let error = release(&store, "c2").await.unwrap_err().to_string();
    assert!(
        error.contains("does not have versioning enabled (suspended)"),
        "{error}"
    );
    assert_eq!(store.calls(Operation::Put), 0);
    assert_eq!(store.inner().versions(&at()).len(), 2);
}

#[tokio::test(start_paused = true)]
async fn the_highest_number_is_read_once_from_a_history_that_does_not_carry_it() {
    let store = faulty(Quirks::default(), vec![]);
    for version in [5, 7, 3] {
        store
            .inner()
            .put_unconditionally(&at(), &record(version, &format!("c{version}")).to_json());
    }
    let at = at();
    let log = RecordLog::new(&store, &at);
    assert_eq!(log.highest_number().await.unwrap(), 7);
    assert_eq!(store.calls(Operation::GetVersion), 3);
    // A mark on the newest record stops the walk there.
    store.inner().put_unconditionally(
        &at,
        &Record {
            highest_version: Some(9),
            ..record(8, "c8")
        }
        .to_json(),
    );
    let reads = store.calls(Operation::GetVersion);
    assert_eq!(log.highest_number().await.unwrap(), 9);
    assert_eq!(store.calls(Operation::GetVersion), reads + 1);
}

#[tokio::test(start_paused = true)]
async fn a_search_that_meets_only_objects_written_without_versioning_names_the_bucket() {
    // A record put at the key while versioning was off (or suspended) is no record of the
    // history: a search that meets nothing else asks the bucket, so the reader is told why
    // instead of "no release".
    for state in [Versioning::Off, Versioning::Suspended] {
        let memory = MemoryStore::default();
        memory.create_bucket("releases", Versioning::Off);
        memory.put_unconditionally(&at(), &record(1, "c1").to_json());
        memory.set_versioning("releases", state);
        let store = FaultyStore::new(memory, vec![]);
        let at = at();
        let log = RecordLog::new(&store, &at);
        for error in [
            log.latest().await.unwrap_err(),
            log.records(None).await.unwrap_err(),
        ] {
            assert!(
                error
                    .to_string()
                    .starts_with("bucket \"releases\" does not have versioning enabled"),
                "{error}"
            );
        }
    }

    // Versioning enabled since, and no record written yet: nothing found, the bucket asked
    // once per search; an empty key costs no more than its listing.
    let memory = MemoryStore::default();
    memory.create_bucket("releases", Versioning::Off);
    memory.put_unconditionally(&at(), &record(1, "c1").to_json());
    memory.set_versioning("releases", Versioning::Enabled);
    let store = FaultyStore::new(memory, vec![]);
    let at = at();
    assert!(
        RecordLog::new(&store, &at)
            .records(None)
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(store.calls(Operation::GetVersioning), 1);
    let empty = fixtures::at("releases", "other-app");
    assert!(
        RecordLog::new(&store, &empty)
            .records(None)
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(store.calls(Operation::GetVersioning), 1);
}
