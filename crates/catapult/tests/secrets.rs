//! Credentials never reach any output, even with `debug: true` and on failure.

use catapult_test::resource as common;

use common::{Bucket, Build, StepOutput, Version, put, run, success, version};
use serde_json::json;

const ACCESS_KEY_ID: &str = "AKIACATAPULTDISTINCT7";
const SECRET_ACCESS_KEY: &str = "s3cr3t/CATAPULT+distinctive+secret+key";
const SESSION_TOKEN: &str = "T0KEN-catapult-distinctive-session-token";

fn assert_no_secret(output: &std::process::Output) {
    for stream in [&output.stdout, &output.stderr] {
        let text = String::from_utf8_lossy(stream);
        for secret in [ACCESS_KEY_ID, SECRET_ACCESS_KEY, SESSION_TOKEN] {
            assert!(!text.contains(secret), "{secret} leaked in:\n{text}");
        }
    }
}

#[test]
fn check_and_in_with_debug_show_no_credential() {
    let bucket = Bucket::versioned();
    let id = bucket.put_record("app", 1);
    let source = bucket.source(
        "app",
        json!({
            "debug": true,
            "access_key_id": ACCESS_KEY_ID,
            "secret_access_key": SECRET_ACCESS_KEY,
            "session_token": SESSION_TOKEN,
        }),
    );

    let checked = run("check", &json!({"source": source}), None);
    let versions: Vec<Version> = success(&checked);
    assert_eq!(versions, [version(1, &id)]);
    assert!(
        String::from_utf8_lossy(&checked.stderr).contains("ListObjectVersions"),
        "debug logs are on"
    );
    assert_no_secret(&checked);

    let destination = tempfile::tempdir().unwrap();
    let request = json!({"source": source, "version": version(1, &id).json()});
    let fetched = run("in", &request, Some(destination.path()));
    let _: StepOutput = success(&fetched);
    assert_no_secret(&fetched);
    for entry in std::fs::read_dir(destination.path()).unwrap() {
        let text = std::fs::read_to_string(entry.unwrap().path()).unwrap();
        assert!(!text.contains(SECRET_ACCESS_KEY) && !text.contains(ACCESS_KEY_ID));
    }

    // A failure (a version that is not there) says no more.
    let missing = json!({"source": source, "version": version(9, "no-such-version").json()});
    let failed = run("in", &missing, Some(destination.path()));
    assert_eq!(failed.status.code(), Some(1));
    assert_no_secret(&failed);
}

#[test]
fn out_with_debug_shows_no_credential() {
    let bucket = Bucket::versioned();
    let mut build = Build::new();
    build.commit("Start");
    let credentials = json!({
        "debug": true,
        "access_key_id": ACCESS_KEY_ID,
        "secret_access_key": SECRET_ACCESS_KEY,
        "session_token": SESSION_TOKEN,
    });
    let release = bucket.source("app", credentials.clone());
    let released = put(&release, json!({"repository": "repo"}), build.path());
    let _: StepOutput = success(&released);
    assert!(String::from_utf8_lossy(&released.stderr).contains("PutObject"));
    assert_no_secret(&released);

    let mut staging = release.clone();
    staging["environment"] = json!("staging");
    let deployed = put(&staging, json!({}), build.path());
    let _: StepOutput = success(&deployed);
    assert_no_secret(&deployed);

    let mut gated = staging.clone();
    gated["environment"] = json!("production");
    gated["require_deployed_to"] = json!(["qa"]);
    let refused = put(&gated, json!({}), build.path());
    assert_eq!(refused.status.code(), Some(1));
    assert_no_secret(&refused);
}
