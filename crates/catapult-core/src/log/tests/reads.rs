//! A bad read is not a bad record: a body cut short, garbled, or a 404 for a version the listing
//! has just named is read again, never skipped as invalid, so no number is issued twice and no
//! rollback slips through; one that never comes back whole fails naming the version.

use super::*;
use crate::store::faults::Alteration;

/// The faults that damage one read of the newest record.
fn damaged_reads() -> Vec<FaultKind> {
    vec![
        FaultKind::Alter(Alteration::CutShort),
        FaultKind::Alter(Alteration::Garble),
        FaultKind::FailBefore(StoreErrorKind::NoSuchVersion),
    ]
}

#[tokio::test(start_paused = true)]
async fn one_damaged_read_of_the_newest_record_never_reuses_its_number() {
    for damage in damaged_reads() {
        let store = faulty(
            Quirks::default(),
            vec![Fault::on(Operation::GetVersion, 1, damage.clone())],
        );
        seed(store.inner(), &store, 1..=2);
        let written = release(&store, "c3").await.unwrap();
        assert_eq!(written.record.version, 3, "{damage:?}");
        assert_eq!(numbers(store.inner()), [1, 2, 3], "{damage:?}");
        assert_eq!(store.calls(Operation::GetVersion), 2, "{damage:?}");
    }
}

#[tokio::test(start_paused = true)]
async fn a_version_that_never_reads_whole_fails_naming_it_and_writes_nothing() {
    for damage in damaged_reads() {
        let store = faulty(
            Quirks::default(),
            vec![Fault::every(Operation::GetVersion, 1, damage.clone())],
        );
        seed(store.inner(), &store, 1..=2);
        let newest = ids(store.inner()).pop().unwrap();
        let error = release(&store, "c3").await.unwrap_err().to_string();
        assert!(
            error.starts_with(&format!(
                "version {newest:?} of s3://releases/app could not be read whole: "
            )),
            "{damage:?}: {error}"
        );
        assert!(error.ends_with("(5 reads)"), "{error}");
        assert_eq!(numbers(store.inner()), [1, 2], "{damage:?}");
        assert_eq!(store.calls(Operation::Put), 0, "{damage:?}");
    }
}

#[tokio::test(start_paused = true)]
async fn a_body_read_whole_that_is_not_a_record_is_skipped_as_invalid() {
    let store = faulty(Quirks::default(), vec![]);
    seed(store.inner(), &store, 1..=2);
    store.inner().put_unconditionally(&at(), b"");
    store
        .inner()
        .put_unconditionally(&at(), b"{\"not\": \"a record\"}");
    let written = release(&store, "c3").await.unwrap();
    assert_eq!(written.record.version, 3);
    // Each invalid body was read once (the newest alone, then a batch of the other three):
    // read whole and as listed, it is what it is.
    assert_eq!(store.calls(Operation::GetVersion), 4);
}

#[tokio::test(start_paused = true)]
async fn a_version_deleted_between_the_listing_and_the_read_is_skipped() {
    let memory = store(Quirks::default());
    seed(&memory, &memory, 1..=3);
    let newest = ids(&memory).pop().unwrap();
    let at = at();
    let log = RecordLog::new(&memory, &at);
    let mut walk = log.walk();
    let listed = walk.next().await.unwrap().unwrap();
    assert_eq!(listed.version_id, newest);
    memory.delete_version(&at, &newest).await.unwrap();
    let records = log.read_valid(&[listed]).await.unwrap();
    assert!(records.is_empty());
}

#[tokio::test(start_paused = true)]
async fn get_of_a_record_cut_short_in_transit_reads_it_again() {
    let store = faulty(
        Quirks::default(),
        vec![Fault::on(
            Operation::GetVersion,
            1,
            FaultKind::Alter(Alteration::CutShort),
        )],
    );
    seed(store.inner(), &store, 1..=2);
    let id = ids(store.inner()).pop().unwrap();
    let at = at();
    let read = RecordLog::new(&store, &at).read_exact(&id).await.unwrap();
    assert_eq!(read.record.version, 2);
    assert_eq!(store.calls(Operation::GetVersion), 2);
}

#[tokio::test(start_paused = true)]
async fn a_lookup_by_number_stops_at_the_newest_match() {
    let store = faulty(Quirks::default(), vec![]);
    seed(store.inner(), &store, 1..=200);
    let at = at();
    let found = RecordLog::new(&store, &at)
        .find(None, |stored| {
            if stored.record.version == 199 {
                Judgement::Found
            } else {
                Judgement::Continue
            }
        })
        .await
        .unwrap()
        .unwrap();
    assert_eq!(found.record.version, 199);
    // The newest alone, then one batch of eight: nine bodies of two hundred.
    assert_eq!(store.calls(Operation::GetVersion), 9);
    assert_eq!(store.calls(Operation::ListVersions), 1);
}
