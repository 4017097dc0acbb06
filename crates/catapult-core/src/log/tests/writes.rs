//! Writes that happen once, under the faults that once broke them: a verification that fails
//! after the record landed, a 409 from a conditional write in flight, two writes that would have
//! stored the same bytes, an answer without a version id.

use super::*;
use crate::store::faults::Alteration;

fn verifying() -> Quirks {
    Quirks {
        verify_writes: true,
        ..Quirks::default()
    }
}

#[tokio::test(start_paused = true)]
async fn a_verification_that_fails_after_the_write_says_the_record_was_written() {
    // The second listing is the verification's; the first is the head's.
    for failure in [
        StoreErrorKind::Unavailable("HTTP 503".into()),
        StoreErrorKind::AccessDenied,
        StoreErrorKind::NoSuchBucket,
        StoreErrorKind::Failed("HTTP 404".into()),
    ] {
        let store = faulty(
            verifying(),
            vec![Fault::on(
                Operation::ListVersions,
                2,
                FaultKind::FailBefore(failure.clone()),
            )],
        );
        seed(store.inner(), &store, 1..=2);
        let error = release(&store, "c3").await.unwrap_err().to_string();
        let written = ids(store.inner()).pop().unwrap();
        assert!(
            error.starts_with(&format!(
                "the record was written: s3://releases/app holds it as version {written:?} (release 3), but the listing that verifies it failed"
            )),
            "{failure:?}: {error}"
        );
        assert!(error.contains("do not write it again"), "{error}");
        assert_eq!(numbers(store.inner()), [1, 2, 3], "{failure:?}");
    }
}

#[tokio::test(start_paused = true)]
async fn a_verification_that_meets_a_transient_fault_reads_again_and_passes() {
    let store = faulty(
        verifying(),
        vec![Fault::on(
            Operation::ListVersions,
            2,
            FaultKind::FailBefore(reset()),
        )],
    );
    seed(store.inner(), &store, 1..=2);
    let written = release(&store, "c3").await.unwrap();
    assert_eq!(written.record.version, 3);
    assert_eq!(store.calls(Operation::ListVersions), 3);
}

#[tokio::test(start_paused = true)]
async fn a_409_from_a_write_in_flight_is_tried_again_never_called_a_broken_store() {
    let store = faulty(
        Quirks::default(),
        vec![Fault::on(
            Operation::Put,
            1,
            FaultKind::FailBefore(StoreErrorKind::Conflict),
        )],
    );
    seed(store.inner(), &store, 1..=2);
    let written = release(&store, "c3").await.unwrap();
    assert_eq!(written.record.version, 3);
    assert_eq!(numbers(store.inner()), [1, 2, 3]);
    assert_eq!(store.calls(Operation::Put), 2);
}

#[tokio::test(start_paused = true)]
async fn racing_writers_answered_409_as_s3_does_store_one_record_each() {
    let store = faulty(
        verifying(),
        vec![Fault::every(
            Operation::Put,
            3,
            FaultKind::FailBefore(StoreErrorKind::Conflict),
        )],
    );
    let results = join_all((1..=48).map(|n| {
        let commit = format!("commit-{n}");
        let store = &store;
        async move { release(store, &commit).await }
    }))
    .await;
    let mut written: Vec<u64> = results
        .into_iter()
        .map(|result| result.unwrap().record.version)
        .collect();
    written.sort_unstable();
    assert_eq!(written, (1..=48).collect::<Vec<_>>());
    assert_eq!(numbers(store.inner()), (1..=48).collect::<Vec<_>>());
}

#[tokio::test(start_paused = true)]
async fn two_writes_of_the_same_record_never_store_the_same_bytes() {
    let quirks = Quirks {
        same_second: true,
        ..verifying()
    };
    let store = faulty(quirks, vec![]);
    let at = at();
    let log = RecordLog::new(&store, &at);
    for _ in 0..2 {
        log.append(async |_: &Head| -> Result<Decision<()>> {
            Ok(Decision::Write(record(1, "same")))
        })
        .await
        .unwrap();
    }
    let versions = store.inner().versions(&at);
    assert_eq!(versions.len(), 2);
    assert_ne!(versions[0].body, versions[1].body);
    assert_ne!(versions[0].etag, versions[1].etag);
    for version in &versions {
        let stored = Record::parse(&version.body, None).unwrap();
        assert_eq!(
            stored.write_id, version.write_id,
            "the body names its write"
        );
    }
}

#[tokio::test(start_paused = true)]
async fn racing_writers_of_the_same_record_in_the_same_second_never_meet_an_aba() {
    let quirks = Quirks {
        same_second: true,
        ..verifying()
    };
    let store = faulty(
        quirks,
        vec![Fault::every(
            Operation::Put,
            4,
            FaultKind::LoseAnswer(reset()),
        )],
    );
    let at = at();
    let results = join_all((0..12).map(|_| {
        let store = &store;
        let at = &at;
        async move {
            RecordLog::new(store, at)
                .append(async |_: &Head| -> Result<Decision<()>> {
                    Ok(Decision::Write(record(1, "same")))
                })
                .await
        }
    }))
    .await;
    for result in results {
        result.unwrap();
    }
    assert_eq!(store.inner().versions(&at).len(), 12);
}

#[tokio::test(start_paused = true)]
async fn a_write_answered_without_a_version_id_is_found_by_what_it_wrote() {
    let store = faulty(
        verifying(),
        vec![Fault::on(
            Operation::Put,
            1,
            FaultKind::Alter(Alteration::StripVersionId),
        )],
    );
    seed(store.inner(), &store, 1..=2);
    let written = release(&store, "c3").await.unwrap();
    assert_eq!(written.record.version, 3);
    assert_eq!(Some(written.version_id), ids(store.inner()).pop());
    assert_eq!(numbers(store.inner()), [1, 2, 3]);
    assert_eq!(store.calls(Operation::Put), 1);
}

#[tokio::test(start_paused = true)]
async fn a_write_answered_without_a_version_id_into_a_suspended_bucket_is_taken_back() {
    // Versioning is suspended between the head and the write, and the answer says nothing:
    // only the listing, which shows the write as a `null` version, proves versioning off.
    let store = faulty(
        Quirks::default(),
        vec![Fault::on(
            Operation::Put,
            1,
            FaultKind::Alter(Alteration::StripVersionId),
        )],
    );
    seed(store.inner(), &store, 1..=2);
    let at = at();
    let error = RecordLog::new(&store, &at)
        .append(async |_: &Head| -> Result<Decision<()>> {
            store
                .inner()
                .set_versioning("releases", Versioning::Suspended);
            Ok(Decision::Write(record(3, "c3")))
        })
        .await
        .unwrap_err()
        .to_string();
    assert!(
        error.starts_with("bucket \"releases\" does not have versioning enabled (suspended)"),
        "{error}"
    );
    assert_eq!(numbers(store.inner()), [1, 2]);
}
