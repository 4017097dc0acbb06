//! Buckets that keep no versions, refused by every step and command before anything is written.
//! On Garage (`CATAPULT_TEST_STORE=garage`), which has no object versioning at all, answers
//! ListObjectVersions with 501, ignores `versionId` on reads and conditions on writes, every
//! bucket is one: each step and command must name the store as having no object versioning, and
//! never take an object put there by hand for a record. On the stores that keep versions, a
//! bucket whose versioning was never enabled is refused the same way, naming the bucket. These
//! are the tests `ci/conformance` runs on Garage; they run on every other store too.

use catapult_test::{cli, resource};

use std::path::Path;

use catapult_test::{Bucket, Contents, endpoint, keeps_versions, record};
use serde_json::{Value, json};

/// The error line every refusal on this store's buckets gives: the store named for what it
/// lacks, or the bucket for its versioning.
fn refused(bucket: &Bucket) -> String {
    if keeps_versions() {
        format!(
            "error: bucket {:?} does not have versioning enabled (never enabled): catapult keeps each release and deploy as an object version, so enable versioning on it",
            bucket.name
        )
    } else {
        format!(
            "error: the S3 store at {} has no object versioning (ListObjectVersions: 501 Not Implemented); catapult needs a store that keeps every version",
            endpoint()
        )
    }
}

/// A bucket with a valid release record put by hand at `app`, and a deploy record at staging's
/// key, as another tool (or a person trying catapult out) would leave them; and what it holds.
fn bucket_with_records() -> (Bucket, Contents) {
    let bucket = Bucket::unversioned();
    bucket.put("app", record(1, None).to_string());
    bucket.put(
        "deploys/staging/app",
        record(1, Some("staging")).to_string(),
    );
    let contents = bucket.contents();
    assert_eq!(contents.objects.len(), 2);
    (bucket, contents)
}

/// `in` of `version` into `destination`, as Concourse runs it.
fn get(source: &Value, version: &resource::Version, destination: &Path) -> std::process::Output {
    let request = json!({"source": source, "version": version.json(), "params": {}});
    resource::run("in", &request, Some(destination))
}

#[test]
fn check_refuses_and_never_emits_an_object_put_by_hand() {
    let (bucket, before) = bucket_with_records();
    for environment in [None, Some("staging")] {
        let extra = match environment {
            Some(environment) => json!({"environment": environment}),
            None => json!({}),
        };
        let source = bucket.source("app", extra);
        let first = resource::failure(&resource::check(&source, None));
        assert_eq!(first, refused(&bucket), "{environment:?}");
        let since = resource::version(1, "made-up");
        let later = resource::failure(&resource::check(&source, Some(&since)));
        assert_eq!(later, refused(&bucket), "{environment:?}");
    }
    assert_eq!(bucket.contents(), before);
}

#[test]
fn in_never_returns_another_version_than_the_one_asked_for() {
    let (bucket, before) = bucket_with_records();
    let source = bucket.source("app", json!({}));
    let destination = tempfile::tempdir().unwrap();
    let error = resource::failure(&get(
        &source,
        &resource::version(1, "made-up"),
        destination.path(),
    ));
    if keeps_versions() {
        // No such version (moto), or an id of the wrong form (LocalStack, AWS): either way the
        // error names where it was asked for.
        assert!(
            error.contains(&format!("s3://{}/app", bucket.name)),
            "{error}"
        );
    } else {
        // Garage answers GetObject with the current object whatever the versionId.
        assert_eq!(
            error,
            format!(
                "error: the S3 store at {} has no object versioning (GetObject for version \"made-up\" of s3://{}/app answered with no version id: it ignores versionId); catapult needs a store that keeps every version",
                endpoint(),
                bucket.name
            )
        );
    }
    assert_eq!(std::fs::read_dir(destination.path()).unwrap().count(), 0);
    assert_eq!(bucket.contents(), before);
}

#[test]
fn out_refuses_releases_and_deploys_before_writing() {
    let (bucket, before) = bucket_with_records();
    let mut build = resource::Build::new();
    build.commit("First");
    let releases = bucket.source("app", json!({}));
    for params in [
        json!({"repository": "repo"}),
        json!({"repository": "repo", "force": true}),
    ] {
        let error = resource::failure(&resource::put(&releases, params, build.path()));
        assert_eq!(error, refused(&bucket));
        assert_eq!(bucket.contents(), before);
    }
    // A release no one has written yet: an empty key refuses as well.
    let empty = bucket.source("other-app", json!({}));
    let error = resource::failure(&resource::put(
        &empty,
        json!({"repository": "repo"}),
        build.path(),
    ));
    assert_eq!(error, refused(&bucket));

    let deploys = bucket.source("app", json!({"environment": "staging"}));
    for params in [json!({}), json!({"version": "1"})] {
        let error = resource::failure(&resource::put(&deploys, params, build.path()));
        assert_eq!(error, refused(&bucket));
        assert_eq!(bucket.contents(), before);
    }
}

#[test]
fn the_command_line_refuses_every_command_and_shows_nothing() {
    let (bucket, before) = bucket_with_records();
    let mut workspace = cli::Workspace::new(&format!(
        "[release]\ns3_bucket = \"{}\"\n\n[deploy.staging]\n",
        bucket.name
    ));
    workspace.commit("First");
    for args in [
        &["status"][..],
        &["status", "--json"],
        &["current", "app"],
        &["current", "app", "staging"],
        &["history", "app"],
        &["release", "app", "--yes"],
        &["release", "other-app", "--yes"],
        &["deploy", "app", "staging", "--yes"],
    ] {
        let error = cli::failure(&workspace.catapult(args));
        assert_eq!(error, refused(&bucket), "catapult {}", args.join(" "));
        assert_eq!(bucket.contents(), before, "catapult {}", args.join(" "));
    }
}
