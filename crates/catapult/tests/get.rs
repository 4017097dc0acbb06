//! `in` run as Concourse runs it, against the local S3 server.

use catapult_test::resource as common;

use std::path::Path;

use common::{Bucket, StepOutput, Version, failure, record, run, success, version};
use serde_json::{Value, json};

fn get(source: &Value, version: &Version, destination: &Path) -> std::process::Output {
    let request = json!({"source": source, "version": version.json(), "params": {}});
    run("in", &request, Some(destination))
}

fn read(directory: &Path, name: &str) -> String {
    std::fs::read_to_string(directory.join(name)).unwrap_or_else(|err| panic!("{name}: {err}"))
}

#[test]
fn fetches_exactly_the_version_asked_for_with_every_file() {
    let bucket = Bucket::versioned();
    let first = bucket.put_record("app", 1);
    bucket.put_record("app", 2);
    let destination = tempfile::tempdir().unwrap();

    let output: StepOutput = success(&get(
        &bucket.source("app", json!({})),
        &version(1, &first),
        destination.path(),
    ));

    assert_eq!(output.version, version(1, &first));
    let expected = record(1, None);
    let commit = expected["commit"].as_str().unwrap();
    let dir = destination.path();
    assert_eq!(read(dir, "version"), "1");
    assert_eq!(read(dir, "version_id"), first);
    assert_eq!(read(dir, "commit"), commit);
    assert_eq!(read(dir, "image-id"), expected["image"].as_str().unwrap());
    assert_eq!(read(dir, "author"), "dev@example.com");
    assert_eq!(read(dir, "timestamp"), "2026-11-21T10:00:00Z");
    assert_eq!(
        read(dir, "changelog"),
        expected["changelog"].as_str().unwrap()
    );
    assert_eq!(read(dir, "git-tag"), "app-v1");
    assert!(!dir.join("environment").exists());

    let mut release: Value = serde_json::from_str(&read(dir, "release.json")).unwrap();
    assert_eq!(release["version_id"], json!(first));
    assert_eq!(release["name"], json!("app"));
    let fields = release.as_object_mut().unwrap();
    fields.remove("version_id");
    fields.remove("name");
    assert_eq!(release, expected);

    let labels: Value = serde_json::from_str(&read(dir, "docker_labels.json")).unwrap();
    assert_eq!(
        labels,
        json!({
            "org.opencontainers.image.version": "1",
            "org.opencontainers.image.revision": commit,
            "org.opencontainers.image.created": "2026-11-21T10:00:00Z",
        })
    );

    for (name, value) in [
        ("version", "1"),
        ("commit", commit),
        ("author", "dev@example.com"),
        ("image", expected["image"].as_str().unwrap()),
        ("timestamp", "2026-11-21T10:00:00Z"),
        ("changelog", expected["changelog"].as_str().unwrap()),
    ] {
        assert_eq!(output.metadata(name), Some(value), "metadata {name}");
    }
}

#[test]
fn release_env_is_safe_to_source_whatever_the_record_holds() {
    let bucket = Bucket::versioned();
    let mut hostile = record(7, None);
    hostile["author"] = json!("O'Brien $(touch pwned) `touch pwned`");
    hostile["changelog"] =
        json!("abc1234  2026-11-20  Eve  '; touch pwned; echo '\nline \"two\" $HOME \\");
    let id = bucket.put("app", hostile.to_string());
    let destination = tempfile::tempdir().unwrap();
    let _: StepOutput = success(&get(
        &bucket.source("app", json!({})),
        &version(7, &id),
        destination.path(),
    ));

    let script = "set -eu; . ./release.env; printf '%s\\0%s\\0%s\\0%s' \"$RELEASE_VERSION\" \"$RELEASE_AUTHOR\" \"$RELEASE_CHANGELOG\" \"$RELEASE_TAG\"";
    let shell = std::process::Command::new("sh")
        .arg("-c")
        .arg(script)
        .current_dir(destination.path())
        .output()
        .unwrap();
    assert!(
        shell.status.success(),
        "{}",
        String::from_utf8_lossy(&shell.stderr)
    );
    let values: Vec<String> = String::from_utf8(shell.stdout)
        .unwrap()
        .split('\0')
        .map(str::to_owned)
        .collect();
    assert_eq!(
        values,
        [
            "7",
            hostile["author"].as_str().unwrap(),
            hostile["changelog"].as_str().unwrap(),
            "app-v7"
        ]
    );
    assert!(!destination.path().join("pwned").exists());
}

#[test]
fn reads_what_the_older_tool_wrote() {
    let bucket = Bucket::versioned();
    let id = bucket.put(
        "app",
        json!({"version": 4, "commit": "0123456789abcdef0123456789abcdef01234567", "author": "old@example.com", "image": null}).to_string(),
    );
    let destination = tempfile::tempdir().unwrap();
    let output: StepOutput = success(&get(
        &bucket.source("app", json!({})),
        &version(4, &id),
        destination.path(),
    ));
    let dir = destination.path();
    assert_eq!(read(dir, "changelog"), "<changelog unavailable>");
    // The older resource's convention for a release without an image.
    assert_eq!(read(dir, "image-id"), "null");
    let timestamp = read(dir, "timestamp");
    assert!(
        timestamp.len() == 20 && timestamp.ends_with('Z'),
        "the S3 LastModified stands in: {timestamp:?}"
    );
    assert_eq!(output.metadata("timestamp"), Some(timestamp.as_str()));
    assert_eq!(output.metadata("image"), None);
}

#[test]
fn fetches_a_deploy_with_its_environment() {
    let bucket = Bucket::versioned();
    let id = bucket.put(
        "deploys/production/app",
        record(3, Some("production")).to_string(),
    );
    let destination = tempfile::tempdir().unwrap();
    let output: StepOutput = success(&get(
        &bucket.source("app", json!({"environment": "production"})),
        &version(3, &id),
        destination.path(),
    ));
    assert_eq!(read(destination.path(), "environment"), "production");
    assert_eq!(output.metadata("environment"), Some("production"));
    assert!(read(destination.path(), "release.env").contains("RELEASE_ENVIRONMENT=production\n"));
}

#[test]
fn a_version_that_is_gone_is_an_error_naming_it() {
    let bucket = Bucket::versioned();
    let id = bucket.put_record("app", 1);
    bucket.put_record("app", 2);
    bucket.delete_version("app", &id);
    let destination = tempfile::tempdir().unwrap();
    let error = failure(&get(
        &bucket.source("app", json!({})),
        &version(1, &id),
        destination.path(),
    ));
    assert_eq!(
        error,
        format!(
            "error: version {id:?} of s3://{}/app does not exist",
            bucket.name
        )
    );
}

#[test]
fn an_invalid_record_is_an_error_naming_its_version_id() {
    let bucket = Bucket::versioned();
    let id = bucket.put("app", json!({"version": 1, "author": "a"}).to_string());
    let destination = tempfile::tempdir().unwrap();
    let error = failure(&get(
        &bucket.source("app", json!({})),
        &version(1, &id),
        destination.path(),
    ));
    assert_eq!(
        error,
        format!(
            "error: version {id:?} of s3://{}/app is not a valid record: it has no \"commit\"",
            bucket.name
        )
    );
    assert_eq!(std::fs::read_dir(destination.path()).unwrap().count(), 0);
}

#[test]
fn an_unknown_param_is_an_error_naming_it() {
    let bucket = Bucket::versioned();
    let id = bucket.put_record("app", 1);
    let request = json!({
        "source": bucket.source("app", json!({})),
        "version": version(1, &id).json(),
        "params": {"skip_download": true},
    });
    let destination = tempfile::tempdir().unwrap();
    let error = failure(&run("in", &request, Some(destination.path())));
    assert!(
        error.starts_with(
            "error: invalid request: params.skip_download: unknown field `skip_download`"
        ),
        "{error}"
    );
}
