//! The command line and the Concourse resource over the same buckets: releases and deploys the
//! resource's `out` wrote are read by `catapult`, and the ones `catapult` wrote are numbered
//! from, gated on and checked by the resource; and records the older tool wrote are read too.

use catapult_test::cli as common;

use std::process::Output;

use common::{Bucket, RecordOut, Row, Workspace, endpoint, sibling_binary, success};
use serde_json::{Value, json};

fn source(bucket: &Bucket, extra: Value) -> Value {
    let mut source = json!({
        "bucket": bucket.name,
        "name": "api",
        "endpoint": endpoint(),
        "path_style": true,
        "access_key_id": common::access_key_id(),
        "secret_access_key": common::secret_access_key(),
    });
    for (field, value) in extra.as_object().unwrap() {
        source[field] = value.clone();
    }
    source
}

/// Runs the resource's binary `name` as Concourse does, in the workspace (the repository is
/// `repo/` in it), as build 7 of a pipeline.
fn resource(workspace: &Workspace, name: &str, request: &Value) -> Output {
    let mut command = assert_cmd::Command::new(sibling_binary(name));
    command.env_clear().write_stdin(request.to_string());
    if name != "check" {
        command
            .arg(workspace.dir.path())
            .env("BUILD_ID", "7")
            .env("BUILD_PIPELINE_NAME", "api")
            .env("BUILD_JOB_NAME", "ship")
            .env("BUILD_NAME", "7")
            .env("BUILD_TEAM_NAME", "main");
    }
    command.output().unwrap()
}

#[test]
fn the_resource_and_the_command_line_read_each_others_records() {
    let releases = Bucket::named("rel");
    let mut workspace = Workspace::new(&format!(
        "[release]\ns3_bucket = \"{}\"\n[deploy.staging]\n[deploy.production]\nrequire_deployed_to = [\"staging\"]\n",
        releases.name
    ));
    let first = workspace.commit("First");

    // The resource releases 1; catapult reads it and releases 2 after it.
    let release_source = source(&releases, json!({}));
    let put = resource(
        &workspace,
        "out",
        &json!({"source": release_source, "params": {"repository": "repo"}}),
    );
    assert!(
        put.status.success(),
        "{}",
        String::from_utf8_lossy(&put.stderr)
    );
    let current: RecordOut = success(&workspace.catapult(&["current", "api"]));
    assert_eq!(current.version, 1);
    assert_eq!(current.commit, first);
    assert_eq!(current.action_type.as_deref(), Some("automated"));
    assert!(current.build.is_some());
    let second = workspace.commit("Second");
    let two: RecordOut = success(&workspace.catapult(&["release", "api"]));
    assert_eq!((two.version, two.commit.as_str()), (2, second.as_str()));

    // The resource sees catapult's release, and deploys it to staging.
    let check = resource(&workspace, "check", &json!({"source": release_source}));
    let versions: Vec<Value> = success(&check);
    assert_eq!(versions.len(), 1);
    assert_eq!(versions[0]["version"], "2");
    let staging = source(&releases, json!({"environment": "staging"}));
    let put = resource(
        &workspace,
        "out",
        &json!({"source": staging, "params": {"version": 2}}),
    );
    assert!(
        put.status.success(),
        "{}",
        String::from_utf8_lossy(&put.stderr)
    );

    // catapult sees that deploy, and its gate passes on it.
    let current: RecordOut = success(&workspace.catapult(&["current", "api", "staging"]));
    assert_eq!(
        (current.version, current.environment.as_deref()),
        (2, Some("staging"))
    );
    let produced: RecordOut = success(&workspace.catapult(&["deploy", "api", "production"]));
    assert_eq!(produced.version, 2);

    // The resource's production deploys see catapult's deploy.
    let production = source(&releases, json!({"environment": "production"}));
    let check = resource(&workspace, "check", &json!({"source": production}));
    let versions: Vec<Value> = success(&check);
    assert_eq!(versions.len(), 1);
    assert_eq!(versions[0]["version"], "2");

    // The older tool's records (no timestamp, no changelog, a null author) read as well.
    let old = format!(r#"{{"version": 3, "commit": "{second}", "author": null, "image": null}}"#);
    releases.put("legacy", &old);
    let rows: Vec<Row> = success(&workspace.catapult(&["status", "--releases-only"]));
    let legacy = rows.iter().find(|row| row.name == "legacy").unwrap();
    assert_eq!(legacy.version, Some(3));
    assert_eq!(legacy.author.as_deref(), Some("unknown"));
}
