//! `out` on deploy resources, run as Concourse runs it against the local S3 server: which
//! release, rollbacks, the promotion gate. After each refused put, S3 is unchanged.

use catapult_test::resource as common;

use common::{Bucket, Build, StepOutput, failure, put, put_in_build, run, success};
use serde_json::{Value, json};

/// A bucket with releases 1..=`count` of "app" cut through `out`, and the build they came from.
fn released(count: usize) -> (Bucket, Build, Vec<String>) {
    let bucket = Bucket::versioned();
    let source = bucket.source("app", json!({}));
    let mut build = Build::new();
    let mut commits = Vec::new();
    for n in 1..=count {
        commits.push(build.commit(&format!("Change {n}")));
        success::<StepOutput>(&put(&source, json!({"repository": "repo"}), build.path()));
    }
    (bucket, build, commits)
}

fn deploy_source(bucket: &Bucket, environment: &str, extra: Value) -> Value {
    let mut source = bucket.source("app", json!({"environment": environment}));
    for (field, value) in extra.as_object().unwrap() {
        source[field] = value.clone();
    }
    source
}

fn deployed(bucket: &Bucket, environment: &str) -> Vec<Value> {
    bucket
        .history(&format!("deploys/{environment}/app"))
        .into_iter()
        .map(|(_, record)| record)
        .collect()
}

#[test]
fn deploys_the_latest_release_by_default() {
    let (bucket, build, commits) = released(2);
    let staging = deploy_source(&bucket, "staging", json!({}));
    let output: StepOutput = success(&put(&staging, json!({}), build.path()));
    assert_eq!(output.version.version, "2");
    assert_eq!(output.metadata("environment"), Some("staging"));
    let records = deployed(&bucket, "staging");
    assert_eq!(records.len(), 1);
    let release = &bucket.history("app")[0].1;
    for field in [
        "version",
        "commit",
        "image",
        "author",
        "commits",
        "changelog",
    ] {
        assert_eq!(records[0][field], release[field], "{field}");
    }
    assert_eq!(records[0]["environment"], "staging");
    assert_eq!(records[0]["commit"], json!(commits[1]));
    assert_eq!(records[0]["rollback"], false);
    assert_eq!(
        output.version.version_id,
        bucket.history("deploys/staging/app")[0].0
    );
}

#[test]
fn deploys_a_release_by_number_or_file_or_from_a_get() {
    let (bucket, build, commits) = released(3);
    let staging = deploy_source(&bucket, "staging", json!({}));

    success::<StepOutput>(&put(&staging, json!({"version": 1}), build.path()));
    assert_eq!(deployed(&bucket, "staging")[0]["commit"], json!(commits[0]));

    build.write("number", "2\n");
    success::<StepOutput>(&put(&staging, json!({"version": "number"}), build.path()));
    assert_eq!(deployed(&bucket, "staging")[0]["commit"], json!(commits[1]));

    // A get of the release resource pins the exact S3 version.
    let (release_id, _) = bucket.history("app")[0].clone();
    let fetched = build.path().join("release");
    let get = json!({
        "source": bucket.source("app", json!({})),
        "version": {"version": "3", "version_id": release_id},
    });
    success::<StepOutput>(&run("in", &get, Some(&fetched)));
    let output: StepOutput = success(&put(&staging, json!({"release": "release"}), build.path()));
    assert_eq!(output.version.version, "3");
    assert_eq!(deployed(&bucket, "staging")[0]["commit"], json!(commits[2]));

    // A get of another environment's deploy names the release by number, to promote it.
    let (deploy_id, _) = bucket.history("deploys/staging/app")[0].clone();
    let promoted = build.path().join("staging");
    let get = json!({"source": staging, "version": {"version": "3", "version_id": deploy_id}});
    success::<StepOutput>(&run("in", &get, Some(&promoted)));
    let production = deploy_source(&bucket, "production", json!({}));
    let output: StepOutput = success(&put(
        &production,
        json!({"release": "staging"}),
        build.path(),
    ));
    assert_eq!(output.version.version, "3");
    assert_eq!(
        deployed(&bucket, "production")[0]["commit"],
        json!(commits[2])
    );
}

#[test]
fn a_release_that_does_not_exist_is_an_error_and_writes_nothing() {
    let (bucket, build, _) = released(2);
    let staging = deploy_source(&bucket, "staging", json!({}));
    let error = failure(&put(&staging, json!({"version": 7}), build.path()));
    assert_eq!(
        error,
        format!("error: there is no release 7 in s3://{}/app", bucket.name)
    );
    assert!(deployed(&bucket, "staging").is_empty());

    let empty = Bucket::versioned();
    let error = failure(&put(
        &deploy_source(&empty, "staging", json!({})),
        json!({}),
        build.path(),
    ));
    assert_eq!(
        error,
        format!("error: there is no release in s3://{}/app", empty.name)
    );
}

#[test]
fn an_older_release_is_a_rollback_refused_unless_allowed_and_a_redeploy_is_allowed() {
    let (bucket, build, commits) = released(2);
    let production = deploy_source(&bucket, "production", json!({}));
    success::<StepOutput>(&put(&production, json!({}), build.path()));
    let before = bucket.history("deploys/production/app");

    let error = failure(&put(&production, json!({"version": 1}), build.path()));
    assert_eq!(
        error,
        "error: release 1 of app is older than release 2, deployed to \"production\" now: deploying it would roll back; allow a rollback to do it anyway (params.allow_rollback: true, or --rollback)"
    );
    assert_eq!(bucket.history("deploys/production/app"), before);

    let output: StepOutput = success(&put(
        &production,
        json!({"version": 1, "allow_rollback": true, "repository": "repo"}),
        build.path(),
    ));
    assert_eq!(output.version.version, "1");
    let records = deployed(&bucket, "production");
    assert_eq!(records[0]["rollback"], true);
    assert_eq!(records[0]["commit"], json!(commits[0]));
    let changelog = records[0]["changelog"].as_str().unwrap();
    assert!(
        changelog.starts_with("[rollback from release 2: these commits are undone]\n"),
        "{changelog}"
    );
    assert!(changelog.ends_with("Change 2"), "{changelog}");

    // Deploying the same release again, from another build, is a new deploy, not a rollback.
    success::<StepOutput>(&put_in_build(
        &production,
        json!({"version": 1}),
        build.path(),
        "43",
    ));
    let records = deployed(&bucket, "production");
    assert_eq!(records.len(), 3);
    assert_eq!(records[0]["rollback"], false);
    assert_eq!(records[0]["build"]["id"], "43");
}

#[test]
fn a_put_retried_in_the_same_build_writes_nothing_and_emits_its_deploy() {
    let (bucket, build, _) = released(2);
    let staging = deploy_source(&bucket, "staging", json!({}));
    let first: StepOutput = success(&put(&staging, json!({"version": 2}), build.path()));
    let records = deployed(&bucket, "staging");
    assert_eq!(records.len(), 1);
    assert_eq!(
        records[0]["build"],
        json!({
            "id": "42", "team": "main", "pipeline": "app", "job": "release", "name": "7",
            "url": "https://ci.example.com/teams/main/pipelines/app/jobs/release/builds/7"
        })
    );

    // Concourse's `attempts:` runs the put again in the same build.
    let retried: StepOutput = success(&put(&staging, json!({"version": 2}), build.path()));
    assert_eq!(retried, first);
    assert_eq!(deployed(&bucket, "staging").len(), 1);
}

#[test]
fn the_changelog_runs_from_the_deployed_commit_when_the_repository_is_given() {
    let (bucket, build, commits) = released(3);
    let staging = deploy_source(&bucket, "staging", json!({}));
    success::<StepOutput>(&put(&staging, json!({"version": 1}), build.path()));
    success::<StepOutput>(&put(
        &staging,
        json!({"version": 3, "repository": "repo"}),
        build.path(),
    ));
    let changelog = deployed(&bucket, "staging")[0]["changelog"]
        .as_str()
        .unwrap()
        .to_owned();
    let lines: Vec<&str> = changelog.lines().collect();
    assert_eq!(lines.len(), 2, "{changelog}");
    assert!(lines[0].starts_with(&commits[2][..7]) && lines[1].starts_with(&commits[1][..7]));
}

#[test]
fn the_gate_refuses_a_release_that_skipped_an_environment() {
    let (bucket, build, _) = released(2);
    let staging = deploy_source(&bucket, "staging", json!({}));
    let production = deploy_source(
        &bucket,
        "production",
        json!({"require_deployed_to": ["staging"]}),
    );
    success::<StepOutput>(&put(&staging, json!({"version": 1}), build.path()));

    let error = failure(&put(&production, json!({"version": 2}), build.path()));
    assert_eq!(
        error,
        "error: release 2 of app has not been deployed to \"staging\" (require_deployed_to): deploy it there first"
    );
    assert!(deployed(&bucket, "production").is_empty());

    let output: StepOutput = success(&put(&production, json!({"version": 1}), build.path()));
    assert_eq!(output.version.version, "1");
    assert_eq!(deployed(&bucket, "production").len(), 1);
}

#[test]
fn release_params_are_refused_on_a_deploy_resource() {
    let (bucket, build, _) = released(1);
    let staging = deploy_source(&bucket, "staging", json!({}));
    for (params, field) in [
        (json!({"image": "digest"}), "image"),
        (json!({"force": true}), "force"),
        (json!({"commit": "HEAD"}), "commit"),
    ] {
        let error = failure(&put(&staging, params, build.path()));
        assert_eq!(
            error,
            format!(
                "error: invalid params: params.{field} does not apply to deploy resources: a deploy copies its release"
            )
        );
    }
    let error = failure(&put(
        &staging,
        json!({"version": 1, "release": "r"}),
        build.path(),
    ));
    assert!(
        error.contains("params.release and params.version both name a release"),
        "{error}"
    );
    assert!(deployed(&bucket, "staging").is_empty());
}

#[test]
fn an_allowed_rollback_is_no_promotion_and_skips_the_gate() {
    let (bucket, build, commits) = released(3);
    let staging = deploy_source(&bucket, "staging", json!({}));
    success::<StepOutput>(&put(&staging, json!({"version": 2}), build.path()));
    let production = deploy_source(
        &bucket,
        "production",
        json!({"require_deployed_to": ["staging"]}),
    );
    success::<StepOutput>(&put(&production, json!({"version": 2}), build.path()));

    // Release 1 never reached staging: going back to it is refused as a rollback first...
    let error = failure(&put(&production, json!({"version": 1}), build.path()));
    assert!(error.contains("deploying it would roll back"), "{error}");
    // ...and allowed as one, gate or no gate.
    let back: StepOutput = success(&put(
        &production,
        json!({"version": 1, "allow_rollback": true}),
        build.path(),
    ));
    assert_eq!(back.version.version, "1");
    let records = deployed(&bucket, "production");
    assert_eq!(records[0]["commit"], json!(commits[0]));
    assert_eq!(records[0]["rollback"], true);

    // Going forward again is a promotion: release 3 has not been to staging.
    let error = failure(&put(
        &production,
        json!({"version": 3, "allow_rollback": true}),
        build.path(),
    ));
    assert!(
        error.contains("has not been deployed to \"staging\""),
        "{error}"
    );
    assert_eq!(deployed(&bucket, "production").len(), 2);
}
