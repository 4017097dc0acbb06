//! `check` run as Concourse runs it, against the local S3 server.

use catapult_test::resource as common;

use common::{Bucket, Version, check, failure, record, success, version};
use serde_json::json;

#[test]
fn first_check_of_an_empty_history_emits_nothing() {
    let bucket = Bucket::versioned();
    let versions: Vec<Version> = success(&check(&bucket.source("app", json!({})), None));
    assert_eq!(versions, []);
}

#[test]
fn first_check_emits_the_latest_only() {
    let bucket = Bucket::versioned();
    bucket.put_record("app", 1);
    bucket.put_record("app", 2);
    let latest = bucket.put_record("app", 3);
    let versions: Vec<Version> = success(&check(&bucket.source("app", json!({})), None));
    assert_eq!(versions, [version(3, &latest)]);
}

#[test]
fn a_null_version_is_a_first_check() {
    let bucket = Bucket::versioned();
    let latest = bucket.put_record("app", 1);
    let request = json!({"source": bucket.source("app", json!({})), "version": null});
    let versions: Vec<Version> = success(&common::run("check", &request, None));
    assert_eq!(versions, [version(1, &latest)]);
}

#[test]
fn emits_the_given_version_and_every_newer_one_oldest_first() {
    let bucket = Bucket::versioned();
    let ids: Vec<String> = (1..=6).map(|n| bucket.put_record("app", n)).collect();
    let source = bucket.source("app", json!({}));
    let versions: Vec<Version> = success(&check(&source, Some(&version(2, &ids[1]))));
    let expected: Vec<Version> = (2..=6).map(|n| version(n, &ids[n as usize - 1])).collect();
    assert_eq!(versions, expected);
}

#[test]
fn with_nothing_new_emits_the_given_version() {
    let bucket = Bucket::versioned();
    bucket.put_record("app", 1);
    let latest = bucket.put_record("app", 2);
    let given = version(2, &latest);
    let versions: Vec<Version> = success(&check(&bucket.source("app", json!({})), Some(&given)));
    assert_eq!(versions, [given]);
}

#[test]
fn follows_the_history_across_pages() {
    let bucket = Bucket::versioned();
    let ids: Vec<String> = (1..=90).map(|n| bucket.put_record("app", n)).collect();
    let source = bucket.source("app", json!({}));
    let versions: Vec<Version> = success(&check(&source, Some(&version(5, &ids[4]))));
    let numbers: Vec<u64> = versions
        .iter()
        .map(|v| v.version.parse().unwrap())
        .collect();
    assert_eq!(numbers, (5..=90).collect::<Vec<_>>());
    assert_eq!(versions.last().unwrap().version_id, ids[89]);
}

#[test]
fn a_given_version_that_is_gone_yields_the_latest() {
    let bucket = Bucket::versioned();
    let first = bucket.put_record("app", 1);
    let latest = bucket.put_record("app", 2);
    bucket.delete_version("app", &first);
    let versions: Vec<Version> = success(&check(
        &bucket.source("app", json!({})),
        Some(&version(1, &first)),
    ));
    assert_eq!(versions, [version(2, &latest)]);
}

#[test]
fn skips_delete_markers_sibling_keys_and_invalid_bodies() {
    let bucket = Bucket::versioned();
    let first = bucket.put_record("app", 1);
    bucket.put("app-other", record(40, None).to_string());
    bucket.put("app/nested", record(41, None).to_string());
    bucket.put("app", "not json");
    bucket.put("app", json!({"version": 9, "author": "x"}).to_string());
    let second = bucket.put_record("app", 2);
    bucket.delete("app");
    bucket.put("apq", record(42, None).to_string());

    let source = bucket.source("app", json!({}));
    let output = check(&source, Some(&version(1, &first)));
    let versions: Vec<Version> = success(&output);
    assert_eq!(versions, [version(1, &first), version(2, &second)]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("not a JSON record"), "{stderr}");
    assert!(
        stderr.contains("it has no \\\"commit\\\"") || stderr.contains("it has no \"commit\""),
        "{stderr}"
    );

    // Under a delete marker, the first check still finds the latest record.
    let versions: Vec<Version> = success(&check(&source, None));
    assert_eq!(versions, [version(2, &second)]);
}

#[test]
fn skips_objects_written_before_versioning_was_enabled() {
    let bucket = Bucket::unversioned();
    bucket.put_record("app", 1);
    bucket.enable_versioning();
    let versioned = bucket.put_record("app", 2);
    let source = bucket.source("app", json!({}));
    let versions: Vec<Version> = success(&check(&source, None));
    assert_eq!(versions, [version(2, &versioned)]);
}

#[test]
fn an_unversioned_bucket_is_an_error_naming_it() {
    let bucket = Bucket::unversioned();
    bucket.put_record("app", 1);
    let error = failure(&check(&bucket.source("app", json!({})), None));
    assert_eq!(
        error,
        format!(
            "error: bucket {:?} does not have versioning enabled (never enabled): catapult keeps each release and deploy as an object version, so enable versioning on it",
            bucket.name
        )
    );
}

#[test]
fn tracks_deploys_in_the_release_bucket() {
    let bucket = Bucket::versioned();
    bucket.put_record("app", 1);
    let deploy = bucket.put(
        "deploys/staging/app",
        record(1, Some("staging")).to_string(),
    );
    let source = bucket.source("app", json!({"environment": "staging"}));
    let versions: Vec<Version> = success(&check(&source, None));
    assert_eq!(versions, [version(1, &deploy)]);
}

#[test]
fn tracks_deploys_in_a_bucket_of_their_own() {
    let releases = Bucket::versioned();
    let deploys = Bucket::versioned();
    releases.put_record("app", 3);
    let deploy = deploys.put("app", record(3, Some("production")).to_string());
    let source = releases.source(
        "app",
        json!({"environment": "production", "deploy_bucket": deploys.name}),
    );
    let versions: Vec<Version> = success(&check(&source, None));
    assert_eq!(versions, [version(3, &deploy)]);
}

#[test]
fn malformed_json_is_an_error() {
    let output = catapult_test::binary::command("check")
        .env_clear()
        .write_stdin("{\"source\": ")
        .output()
        .unwrap();
    let error = failure(&output);
    assert!(error.starts_with("error: invalid request: "), "{error}");
    assert!(error.contains("EOF"), "{error}");
}

#[test]
fn an_unknown_source_field_is_an_error_naming_it() {
    let bucket = Bucket::versioned();
    let source = bucket.source("app", json!({"regoin": "eu-west-1"}));
    let error = failure(&check(&source, None));
    assert!(
        error.starts_with("error: invalid request: source.regoin: unknown field `regoin`"),
        "{error}"
    );
}

#[test]
fn a_missing_source_field_is_an_error_naming_it() {
    let request = json!({"source": {"name": "app"}});
    let error = failure(&common::run("check", &request, None));
    assert!(
        error.starts_with("error: invalid request: source: missing field `bucket`"),
        "{error}"
    );
}

#[test]
fn a_missing_bucket_is_an_error_naming_it() {
    let bucket = Bucket::versioned();
    let source = bucket.source("app", json!({"bucket": "no-such-bucket-here"}));
    let error = failure(&check(&source, None));
    assert_eq!(
        error,
        format!(
            "error: bucket \"no-such-bucket-here\" does not exist (the S3 store at {}); create it with versioning enabled, or fix the bucket's name",
            common::endpoint()
        )
    );
}
