//! What catapult's writes do on the store under test (`CATAPULT_TEST_STORE`): on a store that
//! keeps S3's promises (moto, LocalStack), writers that truly race take distinct consecutive
//! numbers; on one that does not (Ceph RGW 16 ignores `If-None-Match: *` and answers 412 to a
//! current `If-Match` in versioned buckets), every write either succeeds honestly or fails
//! within 10 seconds naming the store and the precondition it did not honour, and no duplicate
//! stays: each writer that finds another's record beneath its own takes its own back. On every
//! store, an object written before versioning was enabled is never overwritten nor deleted.
//! `ci/conformance` runs these against each store that keeps versions.

use catapult_test::resource as common;

use std::time::{Duration, Instant};

use common::{Bucket, Build, StepOutput, Version, endpoint, put, store};
use serde_json::json;

/// Whether the store under test is known not to honour conditional writes.
fn breaks_preconditions() -> bool {
    store() == "ceph-rgw"
}

/// The stderr error line of a failed run, checking it ended as a refusal should.
fn refusal(output: &std::process::Output) -> String {
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(output.stdout.is_empty());
    stderr
        .lines()
        .find(|line| line.starts_with("error: "))
        .unwrap_or_else(|| panic!("no error line in:\n{stderr}"))
        .to_owned()
}

#[test]
fn releases_follow_each_other_or_the_store_is_named() {
    let bucket = Bucket::versioned();
    let source = bucket.source("app", json!({}));
    let mut build = Build::new();
    build.commit("First");
    let first: StepOutput =
        common::success(&put(&source, json!({"repository": "repo"}), build.path()));
    assert_eq!(first.version.version, "1");

    build.commit("Second");
    let started = Instant::now();
    let output = put(&source, json!({"repository": "repo"}), build.path());
    if breaks_preconditions() {
        let error = refusal(&output);
        assert!(
            error.starts_with(&format!("error: the S3 store at {} answered 412 Precondition Failed to PutObject with If-Match: ", endpoint())),
            "{error}"
        );
        assert!(
            error
                .contains("although the key has not changed: it does not honour that precondition"),
            "{error}"
        );
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "{:?}",
            started.elapsed()
        );
        assert_eq!(bucket.history("app").len(), 1, "nothing written");
    } else {
        let second: StepOutput = common::success(&output);
        assert_eq!(second.version.version, "2");
        assert_eq!(bucket.history("app").len(), 2);
    }
}

/// Writers on one new key, started together and released at once (see `race`), rounds of 2
/// and of 8: on an honest store every writer succeeds with a number of its own; on Ceph RGW,
/// which lets every first write land, exactly one succeeds, each other takes its own record
/// back and says so (or, having listed after the first record landed, meets RGW's refusal of
/// `If-Match`) within 10 seconds, and the key is left with one record, which `check` emits
/// once. Each round's figures go to stderr (`--nocapture` shows them).
#[test]
fn writers_that_truly_race_leave_no_duplicate() {
    let bucket = Bucket::versioned();
    let builds: Vec<Build> = (0..8)
        .map(|n| {
            let mut build = Build::new();
            build.commit(&format!("Racer {n}"));
            build
        })
        .collect();
    for (round, writers) in [2, 8, 2, 8, 8].into_iter().enumerate() {
        let key = format!("app-{round}");
        let source = bucket.source(&key, json!({}));
        let request = json!({"source": source, "params": {"repository": "repo"}});
        let requests: Vec<_> = builds[..writers]
            .iter()
            .map(|build| (request.clone(), build.path()))
            .collect();
        let racers = common::race(&requests);
        let round = format!("round {round}, {writers} writers on {key}");

        let mut succeeded: Vec<StepOutput> = Vec::new();
        let mut refusals = Vec::new();
        for racer in &racers {
            if racer.output.status.success() {
                succeeded.push(common::success(&racer.output));
            } else {
                refusals.push(refusal(&racer.output));
                assert!(
                    racer.finished_after < Duration::from_secs(10),
                    "{round}: refused after {:?}",
                    racer.finished_after
                );
            }
        }
        let history = bucket.history(&key);
        let taken_back = refusals
            .iter()
            .filter(|error| error.contains("was taken back, so nothing was written"))
            .count();
        let slowest = racers.iter().map(|racer| racer.finished_after).max();
        eprintln!(
            "{round}: {} succeeded, {taken_back} took their write back, {} refused otherwise; {} records left; the last exited {slowest:?} after the start",
            succeeded.len(),
            refusals.len() - taken_back,
            history.len(),
        );
        for error in refusals
            .iter()
            .filter(|error| !error.contains("was taken back"))
        {
            eprintln!("  {error}");
        }
        if breaks_preconditions() {
            assert_eq!(succeeded.len(), 1, "{round}: {refusals:#?}");
            let kept = &succeeded[0].version;
            assert_eq!(kept.version, "1", "{round}");
            for error in &refusals {
                assert!(
                    error.starts_with(&format!(
                        "error: another writer's record numbered 1 took the same place in s3://{}/{key} first (version {:?}), because the S3 store at {} did not honour If-None-Match: *: this write (version ",
                        bucket.name,
                        kept.version_id,
                        endpoint()
                    )) && error.ends_with(") was taken back, so nothing was written; try again")
                        // A writer that listed after the first record had landed: its If-Match
                        // meets RGW's refusal instead.
                        || error.contains(
                            "answered 412 Precondition Failed to PutObject with If-Match: "
                        ) && error.contains("it does not honour that precondition"),
                    "{round}: {error}"
                );
            }
            // Exactly one record is left, the one that succeeded, and it is what check sees.
            let ids: Vec<&str> = history.iter().map(|(id, _)| id.as_str()).collect();
            assert_eq!(ids, [kept.version_id.as_str()], "{round}: duplicates left");
            let checked: Vec<Version> = common::success(&common::check(&source, None));
            assert_eq!(checked, std::slice::from_ref(kept), "{round}");
        } else {
            assert!(refusals.is_empty(), "{round}: {refusals:#?}");
            let mut numbers: Vec<u64> = succeeded
                .iter()
                .map(|output| output.version.version.parse().unwrap())
                .collect();
            numbers.sort_unstable();
            assert_eq!(numbers, (1..=writers as u64).collect::<Vec<_>>(), "{round}");
            assert_eq!(history.len(), writers, "{round}");
        }
    }
}

/// An object written at the record key before versioning was enabled (version `null`), then
/// versioning enabled and suspended: a put is refused before it writes, naming the bucket's
/// suspended versioning, and the object is still there, byte for byte, with nothing deleted;
/// the same with a record written while versioning was on above it.
#[test]
fn an_object_written_before_versioning_is_neither_overwritten_nor_deleted() {
    const BEFORE: &[u8] = b"written here before versioning was enabled\n";
    let mut build = Build::new();
    build.commit("First");
    for record_above in [false, true] {
        let bucket = Bucket::unversioned();
        bucket.put("app", BEFORE);
        bucket.enable_versioning();
        if record_above {
            bucket.put_record("app", 1);
        }
        bucket.suspend_versioning();
        let before = bucket.contents();
        let suspended = format!(
            "error: bucket {:?} does not have versioning enabled (suspended): catapult keeps each release and deploy as an object version, so enable versioning on it",
            bucket.name
        );
        let releases = bucket.source("app", json!({}));
        let deploys = bucket.source("app", json!({"environment": "staging"}));
        for (source, params) in [
            (&releases, json!({"repository": "repo"})),
            (&releases, json!({"repository": "repo", "force": true})),
            // The deploy key is empty; the release key holds no record written with versioning
            // on (or one, under which the object written before it lies).
            (&deploys, json!({"version": "1"})),
            (&deploys, json!({})),
        ] {
            let error = refusal(&put(source, params.clone(), build.path()));
            assert_eq!(error, suspended, "record above: {record_above}, {params}");
            assert_eq!(
                bucket.contents(),
                before,
                "record above: {record_above}, {params}"
            );
        }
        // What was there before versioning is still there, byte for byte.
        let history = bucket.history("app");
        assert_eq!(history.len(), 1 + usize::from(record_above));
        assert_eq!(history.last().unwrap().0, "null");
        assert_eq!(bucket.body("app", "null"), BEFORE);
    }
}
