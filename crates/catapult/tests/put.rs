//! `out` run as Concourse runs it, against the local S3 server: a build directory holding a
//! real git repository, JSON on stdin, the build variables in the environment. After each
//! refused put, S3 holds exactly what it held before.

use catapult_test::resource as common;

use common::{Bucket, Build, StepOutput, failure, put, success};
use serde_json::{Value, json};

const DIGEST: &str = "sha256:6ac40dec2b3af61e868954d641491d95a3fb74ad239d7584025b930d1f9997bd";

/// The newest record at `key` and its version id.
fn latest(bucket: &Bucket, key: &str) -> (String, Value) {
    bucket.history(key).into_iter().next().expect("a record")
}

fn changelog_line(build: &Build, sha: &str) -> String {
    build.git(&[
        "log",
        "-1",
        "--format=%h  %ad  %an  %s",
        "--date=short",
        "--abbrev=7",
        sha,
    ])
}

#[test]
fn cuts_the_first_release_and_the_next_with_the_exact_changelog() {
    let bucket = Bucket::versioned();
    let source = bucket.source("app", json!({}));
    let mut build = Build::new();
    let first = build.commit("Start");
    let second = build.commit("Add a thing");

    let output: StepOutput = success(&put(&source, json!({"repository": "repo"}), build.path()));
    let (id1, record1) = latest(&bucket, "app");
    assert_eq!(output.version.version, "1");
    assert_eq!(output.version.version_id, id1);
    assert_eq!(record1["version"], 1);
    assert_eq!(record1["commit"], json!(second));
    assert_eq!(record1["image"], Value::Null);
    assert_eq!(record1["author"], "dev@example.com");
    assert_eq!(record1["commits"], json!([second, first]));
    assert_eq!(
        record1["changelog"],
        json!(format!(
            "{}\n{}",
            changelog_line(&build, &second),
            changelog_line(&build, &first)
        ))
    );
    assert_eq!(record1["rollback"], false);
    assert_eq!(record1["action_type"], "automated");
    assert!(record1.get("environment").is_none());
    assert_eq!(output.metadata("commit"), Some(second.as_str()));

    let third = build.commit("Fix the thing");
    let fourth = build.commit("Polish");
    std::fs::write(build.path().join("digest"), format!("{DIGEST}\n")).unwrap();
    let output: StepOutput = success(&put(
        &source,
        json!({"repository": "repo", "image": "digest", "author": "releaser@example.com"}),
        build.path(),
    ));
    let (id2, record2) = latest(&bucket, "app");
    assert_eq!(
        (output.version.version.as_str(), id2.as_str()),
        ("2", output.version.version_id.as_str())
    );
    assert_eq!(record2["version"], 2);
    assert_eq!(record2["image"], DIGEST);
    assert_eq!(record2["author"], "releaser@example.com");
    assert_eq!(record2["commits"], json!([fourth, third]));
    assert_eq!(
        record2["changelog"],
        json!(format!(
            "{}\n{}",
            changelog_line(&build, &fourth),
            changelog_line(&build, &third)
        ))
    );
}

#[test]
fn the_same_commit_writes_nothing_unless_forced() {
    let bucket = Bucket::versioned();
    let source = bucket.source("app", json!({}));
    let mut build = Build::new();
    build.commit("Start");
    let first: StepOutput = success(&put(&source, json!({"repository": "repo"}), build.path()));
    let before = bucket.history("app");

    let retried: StepOutput = success(&put(&source, json!({"repository": "repo"}), build.path()));
    assert_eq!(retried.version, first.version);
    assert_eq!(bucket.history("app"), before);

    let forced: StepOutput = success(&put(
        &source,
        json!({"repository": "repo", "force": true}),
        build.path(),
    ));
    assert_eq!(forced.version.version, "2");
    let (_, record) = latest(&bucket, "app");
    assert_eq!(record["commit"], before[0].1["commit"]);
    assert_eq!(record["changelog"], "");
    assert_eq!(record["commits"], json!([]));
}

#[test]
fn releases_a_commit_named_by_ref_sha_or_file() {
    let bucket = Bucket::versioned();
    let source = bucket.source("app", json!({}));
    let mut build = Build::new();
    let first = build.commit("One");
    build.git(&["tag", "v1"]);
    let second = build.commit("Two");
    let third = build.commit("Three");

    success::<StepOutput>(&put(
        &source,
        json!({"repository": "repo", "commit": "v1"}),
        build.path(),
    ));
    assert_eq!(latest(&bucket, "app").1["commit"], json!(first));
    success::<StepOutput>(&put(
        &source,
        json!({"repository": "repo", "commit": &second[..10]}),
        build.path(),
    ));
    assert_eq!(latest(&bucket, "app").1["commit"], json!(second));
    build.write("commit-file", &format!("{third}\n"));
    success::<StepOutput>(&put(
        &source,
        json!({"repository": "repo", "commit": "commit-file"}),
        build.path(),
    ));
    assert_eq!(latest(&bucket, "app").1["commit"], json!(third));
}

#[test]
fn refuses_bad_inputs_and_writes_nothing() {
    let bucket = Bucket::versioned();
    let source = bucket.source("app", json!({}));
    let mut build = Build::new();
    build.commit("Start");
    success::<StepOutput>(&put(&source, json!({"repository": "repo"}), build.path()));
    build.commit("Next");
    build.write("bad-digest", "sha256:1234");
    let before = bucket.history("app");

    let dir = build.path().display().to_string();
    for (params, expected) in [
        (json!({}), "error: invalid params: params.repository is required: the git checkout to release".to_owned()),
        (
            json!({"repository": "repo", "image": "bad-digest"}),
            format!("error: invalid params: params.image: {dir}/bad-digest does not hold an image digest (sha256: and 64 lowercase hex digits)"),
        ),
        (
            json!({"repository": "repo", "image": "no-such-file"}),
            format!("error: invalid params: params.image: cannot read {dir}/no-such-file"),
        ),
        (
            json!({"repository": "repo", "commit": "no-such-ref"}),
            "unknown commit \"no-such-ref\"".to_owned(),
        ),
        (
            json!({"repository": "nowhere"}),
            format!("{dir}/nowhere"),
        ),
        (
            json!({"repository": "repo", "version": 3}),
            "error: invalid params: params.version does not apply to release resources: source.environment is not set".to_owned(),
        ),
        (
            json!({"repository": "repo", "forse": true}),
            "error: invalid request: params.forse: unknown field `forse`".to_owned(),
        ),
    ] {
        let error = failure(&put(&source, params.clone(), build.path()));
        assert!(error.contains(&expected), "{params}: {error:?} lacks {expected:?}");
    }
    assert_eq!(bucket.history("app"), before);
}

#[test]
fn a_commit_that_does_not_descend_is_a_rollback_refused_unless_allowed() {
    let bucket = Bucket::versioned();
    let source = bucket.source("app", json!({}));
    let mut build = Build::new();
    let old = build.commit("Old");
    let new = build.commit("New");
    success::<StepOutput>(&put(&source, json!({"repository": "repo"}), build.path()));
    let before = bucket.history("app");

    let error = failure(&put(
        &source,
        json!({"repository": "repo", "commit": old}),
        build.path(),
    ));
    assert_eq!(
        error,
        format!(
            "error: commit {} does not descend from {}, the commit of release 1 of app: releasing it would roll back; allow a rollback to do it anyway (params.allow_rollback: true, or --rollback)",
            &old[..7],
            &new[..7]
        )
    );
    assert_eq!(bucket.history("app"), before);

    let output: StepOutput = success(&put(
        &source,
        json!({"repository": "repo", "commit": old, "allow_rollback": true}),
        build.path(),
    ));
    assert_eq!(output.version.version, "2");
    let (_, record) = latest(&bucket, "app");
    assert_eq!(record["rollback"], true);
    assert_eq!(record["commit"], json!(old));
    assert_eq!(output.metadata("rollback"), Some("true"));
}

#[test]
fn a_shallow_clone_still_releases_and_says_why_the_changelog_is_missing() {
    let bucket = Bucket::versioned();
    let source = bucket.source("app", json!({}));
    let mut build = Build::new();
    build.commit("One");
    let released = build.commit("Two");
    success::<StepOutput>(&put(&source, json!({"repository": "repo"}), build.path()));
    build.commit("Three");
    let head = build.commit("Four");

    let shallow = tempfile::tempdir().unwrap();
    let url = format!("file://{}", build.repo().display());
    let clone = std::process::Command::new("git")
        .args(["clone", "--quiet", "--depth", "1", &url, "repo"])
        .current_dir(shallow.path())
        .output()
        .unwrap();
    assert!(
        clone.status.success(),
        "{}",
        String::from_utf8_lossy(&clone.stderr)
    );

    let output = put(&source, json!({"repository": "repo"}), shallow.path());
    let written: StepOutput = success(&output);
    assert_eq!(written.version.version, "2");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains(&released[..7]) && stderr.contains("shallow"),
        "{stderr}"
    );
    let (_, record) = latest(&bucket, "app");
    assert_eq!(record["commit"], json!(head));
    let changelog = record["changelog"].as_str().unwrap();
    assert!(
        changelog.starts_with("<changelog unavailable: ") && changelog.contains(&released[..7]),
        "{changelog}"
    );
    assert_eq!(record["commits"], json!([]));
}

#[test]
fn a_long_changelog_is_cut_to_fifty_lines() {
    let bucket = Bucket::versioned();
    let source = bucket.source("app", json!({}));
    let mut build = Build::new();
    let shas: Vec<String> = (1..=60)
        .map(|n| build.commit(&format!("Change {n}")))
        .collect();
    success::<StepOutput>(&put(&source, json!({"repository": "repo"}), build.path()));
    let (_, record) = latest(&bucket, "app");
    let lines: Vec<&str> = record["changelog"].as_str().unwrap().lines().collect();
    assert_eq!(lines.len(), 50);
    assert!(lines[0].ends_with("Change 60"));
    assert!(lines[46].ends_with("Change 14"));
    assert_eq!(lines[47], "[11 commits omitted]");
    assert!(lines[48].ends_with("Change 2") && lines[49].ends_with("Change 1"));
    assert_eq!(record["commits"].as_array().unwrap().len(), 60);
    assert_eq!(record["commits"][0], json!(shas[59]));
}

#[test]
fn changelog_paths_keep_the_commits_that_touch_them() {
    let bucket = Bucket::versioned();
    let source = bucket.source("api", json!({}));
    let mut build = Build::new();
    let api = build.commit_file("services/api/main.rs", "Api change");
    build.commit_file("services/web/index.html", "Web change");
    success::<StepOutput>(&put(
        &source,
        json!({"repository": "repo", "changelog_paths": ["services/api"]}),
        build.path(),
    ));
    let (_, record) = latest(&bucket, "api");
    assert_eq!(record["commits"], json!([api]));
    assert!(
        record["changelog"]
            .as_str()
            .unwrap()
            .ends_with("Api change")
    );
}

#[test]
fn racing_puts_take_distinct_consecutive_numbers() {
    const RACERS: usize = 8;
    let bucket = Bucket::versioned();
    let source = bucket.source("app", json!({}));
    let mut build = Build::new();
    build.commit("Start");
    let request = json!({"source": source, "params": {"repository": "repo", "force": true}});

    // Started together, released at once (see `race`).
    let racers = common::race(&vec![(request, build.path()); RACERS]);
    let mut emitted: Vec<u64> = racers
        .iter()
        .map(|racer| {
            let output: StepOutput = success(&racer.output);
            output.version.version.parse().unwrap()
        })
        .collect();
    emitted.sort_unstable();
    assert_eq!(emitted, (1..=RACERS as u64).collect::<Vec<_>>());

    let mut stored: Vec<u64> = bucket
        .history("app")
        .iter()
        .map(|(_, record)| record["version"].as_u64().unwrap())
        .collect();
    stored.sort_unstable();
    assert_eq!(stored, (1..=RACERS as u64).collect::<Vec<_>>());
}

#[test]
fn an_unreachable_endpoint_fails_in_bounded_time() {
    let mut build = Build::new();
    build.commit("Start");
    let source = json!({
        "bucket": "b", "name": "app", "endpoint": "http://127.0.0.1:9", "path_style": true,
        "access_key_id": "k", "secret_access_key": "s",
    });
    let started = std::time::Instant::now();
    let error = failure(&put(&source, json!({"repository": "repo"}), build.path()));
    assert!(
        error.starts_with(
            "error: S3 ListObjectVersions on s3://b/app (the S3 store at http://127.0.0.1:9) failed: "
        ),
        "{error}"
    );
    // Not a timing assertion on the work: a guard against endless retries.
    assert!(started.elapsed() < std::time::Duration::from_secs(60));
}

#[test]
fn numbering_goes_on_under_a_delete_marker() {
    let bucket = Bucket::versioned();
    let source = bucket.source("app", json!({}));
    let mut build = Build::new();
    build.commit("One");
    success::<StepOutput>(&put(&source, json!({"repository": "repo"}), build.path()));
    build.commit("Two");
    success::<StepOutput>(&put(&source, json!({"repository": "repo"}), build.path()));
    bucket.delete("app");

    build.commit("Three");
    let output: StepOutput = success(&put(&source, json!({"repository": "repo"}), build.path()));
    assert_eq!(output.version.version, "3");
    let numbers: Vec<u64> = bucket
        .history("app")
        .iter()
        .map(|(_, record)| record["version"].as_u64().unwrap())
        .collect();
    assert_eq!(numbers, [3, 2, 1]);
}

#[test]
fn an_unversioned_bucket_is_refused_before_anything_is_written() {
    let bucket = Bucket::unversioned();
    let source = bucket.source("app", json!({}));
    let mut build = Build::new();
    build.commit("One");
    let error = failure(&put(&source, json!({"repository": "repo"}), build.path()));
    assert!(
        error.contains("does not have versioning enabled"),
        "{error}"
    );
    assert!(bucket.history("app").is_empty());
}

#[test]
fn a_shallow_clone_of_an_older_release_is_a_rollback_the_history_decides() {
    let bucket = Bucket::versioned();
    let source = bucket.source("app", json!({}));
    let mut build = Build::new();
    build.commit("One");
    let older = build.commit("Two");
    build.git(&["tag", "older"]);
    success::<StepOutput>(&put(&source, json!({"repository": "repo"}), build.path()));
    build.commit("Three");
    let newest = build.commit("Four");
    success::<StepOutput>(&put(&source, json!({"repository": "repo"}), build.path()));

    // A clone of the older release's commit alone: it cannot tell that the latest release's
    // commit descends from it, but the release history can.
    let shallow = tempfile::tempdir().unwrap();
    let url = format!("file://{}", build.repo().display());
    let clone = std::process::Command::new("git")
        .args([
            "clone", "--quiet", "--depth", "1", "--branch", "older", &url, "repo",
        ])
        .current_dir(shallow.path())
        .output()
        .unwrap();
    assert!(
        clone.status.success(),
        "{}",
        String::from_utf8_lossy(&clone.stderr)
    );
    let before = bucket.history("app");

    let error = failure(&put(&source, json!({"repository": "repo"}), shallow.path()));
    assert!(
        error.starts_with(&format!(
            "error: commit {} is already in release 1 of app (this checkout cannot tell more: the previous release's commit {} is not in this checkout (a shallow clone?)): releasing it would roll back",
            &older[..7],
            &newest[..7]
        )),
        "{error}"
    );
    assert_eq!(bucket.history("app"), before);

    let written: StepOutput = success(&put(
        &source,
        json!({"repository": "repo", "allow_rollback": true}),
        shallow.path(),
    ));
    assert_eq!(written.version.version, "3");
    let (_, record) = latest(&bucket, "app");
    assert_eq!(record["rollback"], true);
    assert_eq!(record["commit"], json!(older));
}
