//! What catapult's writes do on the store under test (`CATAPULT_TEST_STORE`): on a store that
//! keeps S3's promises (moto, LocalStack), racing releases take distinct consecutive numbers; on
//! one that does not (Ceph RGW 16 ignores `If-None-Match: *` and answers 412 to a current
//! `If-Match` in versioned buckets), every write either succeeds honestly or fails within
//! 10 seconds naming the store and the precondition it did not honour, and no put reports
//! success over a duplicate number. `ci/conformance` runs these against each store.

use catapult_test::resource as common;

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use common::{Bucket, Build, StepOutput, endpoint, put, store};
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

#[test]
fn racing_first_releases_never_report_success_over_a_duplicate() {
    let bucket = Bucket::versioned();
    let source = bucket.source("app", json!({}));
    let builds: Vec<Build> = (0..8)
        .map(|n| {
            let mut build = Build::new();
            build.commit(&format!("Racer {n}"));
            build
        })
        .collect();
    let started = Instant::now();
    let outputs: Vec<std::process::Output> = std::thread::scope(|scope| {
        let runs: Vec<_> = builds
            .iter()
            .map(|build| {
                let source = &source;
                scope.spawn(move || put(source, json!({"repository": "repo"}), build.path()))
            })
            .collect();
        runs.into_iter().map(|run| run.join().unwrap()).collect()
    });
    let mut successes: BTreeMap<String, usize> = BTreeMap::new();
    let mut refusals = Vec::new();
    for output in &outputs {
        if output.status.success() {
            let written: StepOutput = common::success(output);
            *successes.entry(written.version.version).or_default() += 1;
        } else {
            refusals.push(refusal(output));
        }
    }
    // No number is reported twice as a success.
    assert!(
        successes.values().all(|count| *count == 1),
        "{successes:?}, {refusals:#?}"
    );
    if breaks_preconditions() {
        // Each refusal names the store and what it did not honour.
        for error in &refusals {
            assert!(error.contains(&endpoint()), "{error}");
            assert!(
                error.contains("did not honour If-None-Match: *")
                    || error.contains("does not honour that precondition"),
                "{error}"
            );
        }
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "{:?}",
            started.elapsed()
        );
    } else {
        assert!(refusals.is_empty(), "{refusals:#?}");
        let numbers: Vec<String> = successes.keys().cloned().collect();
        let mut expected: Vec<String> = (1..=8).map(|n| n.to_string()).collect();
        expected.sort();
        assert_eq!(numbers, expected);
    }
}
