//! A team on the older catapult switches its pipeline's resource type to this one, and nothing
//! else changes (PRODUCT section 14). Records are written here exactly as the older tool wrote
//! them (version, commit, changelog, image, author (possibly null), rollback, action_type,
//! commits (possibly null); no timestamp, no environment), at its layout: a bucket of releases
//! and one bucket per environment, every key the application's name. Then this resource runs
//! over them as a pipeline that has just switched would.

use catapult_test::resource as common;

use std::path::Path;
use std::process::Output;

use common::{Bucket, Build, StepOutput, Version, failure, put, run, success};
use serde_json::{Value, json};

const APP: &str = "app";
const DIGEST: &str = "sha256:6ac40dec2b3af61e868954d641491d95a3fb74ad239d7584025b930d1f9997bd";

/// A body as the older tool wrote it: every field it had, and no other.
fn old_record(version: u64, commit: &str, author: Value, image: Value, commits: Value) -> Value {
    json!({
        "version": version,
        "commit": commit,
        "changelog": format!("{}  2019-06-0{version}  Old Dev  Change {version}", &commit[..7]),
        "image": image,
        "author": author,
        "rollback": false,
        "action_type": "automated",
        "commits": commits,
    })
}

/// An ordinary body of the older tool: an author, an image, its commit in `commits`.
fn old(version: u64, commit: &str) -> Value {
    old_record(
        version,
        commit,
        json!("old@example.com"),
        json!(DIGEST),
        json!([commit]),
    )
}

/// The older tool's layout: releases of `app` at key `app` in one bucket, and each
/// environment's deploys at key `app` in a bucket of its own.
struct OldLayout {
    releases: Bucket,
    staging: Bucket,
    production: Bucket,
}

impl OldLayout {
    fn new() -> Self {
        OldLayout {
            releases: Bucket::versioned(),
            staging: Bucket::versioned(),
            production: Bucket::versioned(),
        }
    }

    /// The older release resource's `source`.
    fn release_source(&self) -> Value {
        self.releases.source(APP, json!({}))
    }

    /// The older deploy resource's `source` for staging: `is_deploy`, its default environment.
    fn staging_source(&self) -> Value {
        self.releases.source(
            APP,
            json!({"is_deploy": true, "deploy_bucket": self.staging.name}),
        )
    }

    /// A deploy resource for production, at its own bucket.
    fn production_source(&self, extra: Value) -> Value {
        let mut source = self.releases.source(
            APP,
            json!({"environment": "production", "deploy_bucket": self.production.name}),
        );
        for (field, value) in extra.as_object().unwrap() {
            source[field] = value.clone();
        }
        source
    }
}

/// A build whose repository holds `count` commits, and their shas.
fn build_with(count: usize) -> (Build, Vec<String>) {
    let mut build = Build::new();
    let commits = (1..=count)
        .map(|n| build.commit(&format!("Change {n}")))
        .collect();
    (build, commits)
}

fn read(directory: &Path, name: &str) -> String {
    std::fs::read_to_string(directory.join(name)).unwrap_or_else(|err| panic!("{name}: {err}"))
}

/// `check` with a version in whatever shape Concourse holds.
fn check_from(source: &Value, version: Value) -> Output {
    run(
        "check",
        &json!({"source": source, "version": version}),
        None,
    )
}

/// `in` of a version in whatever shape Concourse holds.
fn get_into(source: &Value, version: Value, destination: &Path) -> Output {
    run(
        "in",
        &json!({"source": source, "version": version, "params": {}}),
        Some(destination),
    )
}

fn ids(bucket: &Bucket) -> Vec<String> {
    let mut ids: Vec<String> = bucket.history(APP).into_iter().map(|(id, _)| id).collect();
    ids.reverse();
    ids
}

fn v(number: u64, version_id: &str) -> Version {
    common::version(number, version_id)
}

#[test]
fn check_goes_on_from_the_version_the_old_release_resource_emitted() {
    let layout = OldLayout::new();
    let (_, commits) = build_with(5);
    let ids: Vec<String> = (1..=5)
        .map(|n| {
            layout
                .releases
                .put(APP, old(n, &commits[n as usize - 1]).to_string())
        })
        .collect();

    // The older release resource's last version: a number, no version id.
    let versions: Vec<Version> = success(&check_from(
        &layout.release_source(),
        json!({"version": "3"}),
    ));
    assert_eq!(versions, [v(3, &ids[2]), v(4, &ids[3]), v(5, &ids[4])]);

    // Concourse saves those, and the next check goes on from the newest in the new shape.
    let versions: Vec<Version> = success(&check_from(
        &layout.release_source(),
        versions.last().unwrap().json(),
    ));
    assert_eq!(versions, [v(5, &ids[4])]);

    // A get of a version in the old shape is the newest record with that number.
    let destination = tempfile::tempdir().unwrap();
    let output: StepOutput = success(&get_into(
        &layout.release_source(),
        json!({"version": "4"}),
        destination.path(),
    ));
    assert_eq!(output.version, v(4, &ids[3]));
    assert_eq!(read(destination.path(), "commit"), commits[3]);
}

#[test]
fn check_goes_on_from_the_version_the_old_deploy_resource_emitted() {
    let layout = OldLayout::new();
    let (_, commits) = build_with(3);
    for n in 1..=3 {
        layout
            .releases
            .put(APP, old(n, &commits[n as usize - 1]).to_string());
    }
    // Staging ran release 1, 2, then 2 again.
    let deploys: Vec<(u64, String)> = [1, 2, 2]
        .into_iter()
        .map(|n| {
            let id = layout
                .staging
                .put(APP, old(n, &commits[n as usize - 1]).to_string());
            (n, id)
        })
        .collect();

    // The older deploy resource's last version: the release number and the deploy's id.
    let given = json!({"version": "2", "deploy": deploys[1].1});
    let versions: Vec<Version> = success(&check_from(&layout.staging_source(), given.clone()));
    assert_eq!(versions, [v(2, &deploys[1].1), v(2, &deploys[2].1)]);

    // A get of it fetches exactly that deploy.
    let destination = tempfile::tempdir().unwrap();
    let output: StepOutput = success(&get_into(
        &layout.staging_source(),
        given,
        destination.path(),
    ));
    assert_eq!(output.version, v(2, &deploys[1].1));
    assert_eq!(read(destination.path(), "version_id"), deploys[1].1);
}

#[test]
fn an_old_deploy_record_takes_the_resource_environment() {
    let layout = OldLayout::new();
    let (_, commits) = build_with(1);
    layout.releases.put(APP, old(1, &commits[0]).to_string());
    let deploy = layout.staging.put(APP, old(1, &commits[0]).to_string());

    let destination = tempfile::tempdir().unwrap();
    let dir = destination.path();
    let output: StepOutput = success(&get_into(
        &layout.staging_source(),
        json!({"version": "1", "deploy": deploy}),
        dir,
    ));
    assert_eq!(output.metadata("environment"), Some("staging"));
    assert_eq!(read(dir, "environment"), "staging");
    assert!(
        read(dir, "release.env").contains("\nRELEASE_ENVIRONMENT=staging\n"),
        "{}",
        read(dir, "release.env")
    );
    let release: Value = serde_json::from_str(&read(dir, "release.json")).unwrap();
    assert_eq!(release["environment"], "staging");
    assert_eq!(release["version_id"], json!(deploy));

    // The same with an environment named in `source`, and on a resource of its own bucket.
    let production = layout.production.put(APP, old(1, &commits[0]).to_string());
    let destination = tempfile::tempdir().unwrap();
    let output: StepOutput = success(&get_into(
        &layout.production_source(json!({})),
        json!({"version": "1", "deploy": production}),
        destination.path(),
    ));
    assert_eq!(output.metadata("environment"), Some("production"));
    assert_eq!(read(destination.path(), "environment"), "production");
}

#[test]
fn promotes_from_a_get_of_an_old_staging_deploy() {
    let layout = OldLayout::new();
    let (build, commits) = build_with(2);
    for n in 1..=2 {
        layout
            .releases
            .put(APP, old(n, &commits[n as usize - 1]).to_string());
    }
    let deploy = layout.staging.put(APP, old(1, &commits[0]).to_string());

    // The promotion job: get the staging deploy, put it to production.
    let fetched = build.path().join("staging");
    success::<StepOutput>(&get_into(
        &layout.staging_source(),
        json!({"version": "1", "deploy": deploy}),
        &fetched,
    ));
    let output: StepOutput = success(&put(
        &layout.production_source(json!({})),
        json!({"release": "staging"}),
        build.path(),
    ));
    assert_eq!(output.version.version, "1");
    assert_eq!(output.metadata("environment"), Some("production"));
    let history = layout.production.history(APP);
    assert_eq!(history.len(), 1);
    let (id, record) = &history[0];
    assert_eq!(&output.version.version_id, id);
    assert_eq!(record["version"], 1);
    assert_eq!(record["commit"], json!(commits[0]));
    assert_eq!(record["environment"], "production");
    assert_eq!(record["image"], DIGEST);
}

#[test]
fn promotes_what_staging_ran_when_its_number_was_given_again() {
    let layout = OldLayout::new();
    let (build, commits) = build_with(4);
    // Staging ran release 2; then the old CLI's `--version 2` gave its number to another commit.
    for (n, commit) in [(1, 0), (2, 1)] {
        layout
            .releases
            .put(APP, old(n, &commits[commit]).to_string());
    }
    let deploy = layout.staging.put(APP, old(2, &commits[1]).to_string());
    for (n, commit) in [(3, 2), (2, 3)] {
        layout
            .releases
            .put(APP, old(n, &commits[commit]).to_string());
    }

    let fetched = build.path().join("staging");
    success::<StepOutput>(&get_into(
        &layout.staging_source(),
        json!({"version": "2", "deploy": deploy}),
        &fetched,
    ));
    let production = layout.production_source(json!({
        "require_deployed_to": [{"environment": "staging", "deploy_bucket": layout.staging.name}],
    }));
    let output: StepOutput = success(&put(
        &production,
        json!({"release": "staging"}),
        build.path(),
    ));
    assert_eq!(output.version.version, "2");
    let record = &layout.production.history(APP)[0].1;
    assert_eq!(record["commit"], json!(commits[1]), "what staging ran");

    // The newest release numbered 2 never reached staging: the gate refuses it.
    let error = failure(&put(&production, json!({"version": 2}), build.path()));
    assert!(
        error.contains("has not been deployed to \"staging\""),
        "{error}"
    );

    // A staging deploy of a commit no release numbered 2 has names no release.
    let stray = layout.staging.put(APP, old(2, &commits[0]).to_string());
    let fetched = build.path().join("stray");
    success::<StepOutput>(&get_into(
        &layout.staging_source(),
        json!({"version": "2", "deploy": stray}),
        &fetched,
    ));
    let before = layout.production.history(APP);
    let error = failure(&put(&production, json!({"release": "stray"}), build.path()));
    assert_eq!(
        error,
        format!(
            "error: invalid params: the release named is release 2 at commit {}, but release 2 in s3://{}/app is commit {}",
            &commits[0][..7],
            layout.releases.name,
            &commits[3][..7]
        )
    );
    assert_eq!(layout.production.history(APP), before);
}

#[test]
fn a_null_author_is_checked_fetched_and_released_over() {
    let layout = OldLayout::new();
    let (mut build, commits) = build_with(2);
    let first = layout.releases.put(APP, old(1, &commits[0]).to_string());
    // Written before 2020: no author, no commits.
    let nameless = old_record(2, &commits[1], Value::Null, json!(DIGEST), Value::Null);
    let second = layout.releases.put(APP, nameless.to_string());

    let source = layout.release_source();
    let versions: Vec<Version> = success(&common::check(&source, None));
    assert_eq!(versions, [v(2, &second)]);
    let versions: Vec<Version> = success(&check_from(&source, json!({"version": "1"})));
    assert_eq!(versions, [v(1, &first), v(2, &second)]);

    let destination = tempfile::tempdir().unwrap();
    let dir = destination.path();
    let output: StepOutput = success(&get_into(&source, v(2, &second).json(), dir));
    assert_eq!(output.metadata("author"), Some("unknown"));
    assert_eq!(read(dir, "author"), "unknown");
    assert!(read(dir, "release.env").contains("\nRELEASE_AUTHOR=unknown\n"));
    let message: Value = serde_json::from_str(&read(dir, "message.json")).unwrap();
    assert_eq!(message[0]["author_name"], "unknown");

    // A release on top, while the nameless record is the newest.
    let third = build.commit("Change 3");
    let output: StepOutput = success(&put(&source, json!({"repository": "repo"}), build.path()));
    assert_eq!(output.version.version, "3");
    let (id, record) = layout.releases.history(APP)[0].clone();
    assert_eq!(output.version.version_id, id);
    assert_eq!(record["commit"], json!(third));
    assert_eq!(record["author"], "dev@example.com");
    assert_eq!(record["commits"], json!([third]));

    // A deploy of the nameless release, and a get of that deploy.
    let output: StepOutput = success(&put(
        &layout.staging_source(),
        json!({"version": 2}),
        build.path(),
    ));
    assert_eq!(output.version.version, "2");
    assert_eq!(output.metadata("author"), Some("unknown"));
    let versions: Vec<Version> = success(&common::check(&layout.staging_source(), None));
    assert_eq!(versions, std::slice::from_ref(&output.version));
    let destination = tempfile::tempdir().unwrap();
    success::<StepOutput>(&get_into(
        &layout.staging_source(),
        output.version.json(),
        destination.path(),
    ));
    assert_eq!(read(destination.path(), "author"), "unknown");
}

#[test]
fn a_history_whose_numbers_go_down_and_up_deploys_each_number() {
    let layout = OldLayout::new();
    let (build, commits) = build_with(4);
    // The old CLI's `--version 2` after release 3: history 1, 2, 3, 2.
    let ids: Vec<String> = [(1, 0), (2, 1), (3, 2), (2, 3)]
        .into_iter()
        .map(|(n, commit)| {
            layout
                .releases
                .put(APP, old(n, &commits[commit]).to_string())
        })
        .collect();
    let staging = layout.staging_source();

    let output: StepOutput = success(&put(&staging, json!({"version": 3}), build.path()));
    assert_eq!(output.version.version, "3");
    assert_eq!(
        layout.staging.history(APP)[0].1["commit"],
        json!(commits[2])
    );

    // "Release 2" is the newest record numbered 2: going back to it is a rollback.
    let error = failure(&put(&staging, json!({"version": 2}), build.path()));
    assert!(error.contains("deploying it would roll back"), "{error}");
    success::<StepOutput>(&put(
        &staging,
        json!({"version": 2, "allow_rollback": true}),
        build.path(),
    ));
    assert_eq!(
        layout.staging.history(APP)[0].1["commit"],
        json!(commits[3])
    );

    // check from the old shape of each number, and a get of one.
    let source = layout.release_source();
    let versions: Vec<Version> = success(&check_from(&source, json!({"version": "3"})));
    assert_eq!(versions, [v(3, &ids[2]), v(2, &ids[3])]);
    let versions: Vec<Version> = success(&check_from(&source, json!({"version": "2"})));
    assert_eq!(versions, [v(2, &ids[3])]);
    let destination = tempfile::tempdir().unwrap();
    let output: StepOutput = success(&get_into(
        &source,
        json!({"version": "3"}),
        destination.path(),
    ));
    assert_eq!(output.version, v(3, &ids[2]));
}

#[test]
fn the_old_resource_source_and_params_are_accepted() {
    let layout = OldLayout::new();
    let (mut build, commits) = build_with(1);
    layout.releases.put(APP, old(1, &commits[0]).to_string());

    // The older tool's credential names, `is_deploy: false` and `image_id`.
    let mut source = layout.release_source();
    let fields = source.as_object_mut().unwrap();
    let key = fields.remove("access_key_id").unwrap();
    let secret = fields.remove("secret_access_key").unwrap();
    fields.insert("aws_access_key_id".into(), key);
    fields.insert("aws_secret_access_key".into(), secret);
    fields.insert("is_deploy".into(), json!(false));
    fields.insert("has_image".into(), json!(true));
    let second = build.commit("Change 2");
    build.write("image/digest", &format!("{DIGEST}\n"));
    let output: StepOutput = success(&put(
        &source,
        json!({"repository": "repo", "image_id": "image/digest"}),
        build.path(),
    ));
    assert_eq!(output.version.version, "2");
    let record = &layout.releases.history(APP)[0].1;
    assert_eq!(record["commit"], json!(second));
    assert_eq!(record["image"], DIGEST);

    // `has_image: false`: releases without an image, and an image is an error.
    let imageless = layout.releases.source(APP, json!({"has_image": false}));
    build.commit("Change 3");
    let error = failure(&put(
        &imageless,
        json!({"repository": "repo", "image_id": "image/digest"}),
        build.path(),
    ));
    assert!(error.contains("source.has_image is false"), "{error}");
    let output: StepOutput = success(&put(
        &imageless,
        json!({"repository": "repo"}),
        build.path(),
    ));
    assert_eq!(output.version.version, "3");
    assert_eq!(layout.releases.history(APP)[0].1["image"], Value::Null);

    // `is_deploy: true` deploys to staging at its own bucket, `version` from a file; the same
    // `source` with `has_image` beside it (a YAML anchor shared with the release resource).
    build.write("number", "2\n");
    let mut staging = layout.staging_source();
    staging["has_image"] = json!(true);
    let output: StepOutput = success(&put(&staging, json!({"version": "number"}), build.path()));
    assert_eq!(output.version.version, "2");
    assert_eq!(output.metadata("environment"), Some("staging"));
    let deploys = layout.staging.history(APP);
    assert_eq!(deploys.len(), 1);
    assert_eq!(deploys[0].1["environment"], "staging");
    assert_eq!(deploys[0].1["commit"], json!(second));

    // An unknown field is still an error that names it.
    let mut typo = layout.staging_source();
    typo["is_deplyo"] = json!(true);
    let error = failure(&check_from(&typo, Value::Null));
    assert!(error.contains("unknown field `is_deplyo`"), "{error}");
}

#[test]
fn in_writes_the_files_the_old_resource_wrote() {
    let layout = OldLayout::new();
    let (_, commits) = build_with(2);
    let imageless = old_record(
        1,
        &commits[0],
        json!("old@example.com"),
        Value::Null,
        json!([commits[0]]),
    );
    let release = layout.releases.put(APP, imageless.to_string());
    let deploy = layout.staging.put(APP, old(2, &commits[1]).to_string());
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;

    // A release without an image: `image-id` holds `null`, `release.json` keeps JSON null.
    let destination = tempfile::tempdir().unwrap();
    let dir = destination.path();
    success::<StepOutput>(&get_into(
        &layout.release_source(),
        v(1, &release).json(),
        dir,
    ));
    assert_eq!(read(dir, "image-id"), "null");
    assert_eq!(read(dir, "version"), "1");
    assert_eq!(read(dir, "commit"), commits[0]);
    assert_eq!(read(dir, "author"), "old@example.com");
    assert!(!dir.join("environment").exists());
    let json: Value = serde_json::from_str(&read(dir, "release.json")).unwrap();
    assert_eq!(json["image"], Value::Null);
    assert_slack_message(
        &read(dir, "message.json"),
        &format!("{APP} 1"),
        &commits[0][..7],
        now,
    );

    // A deploy: `environment`, and its image.
    let destination = tempfile::tempdir().unwrap();
    let dir = destination.path();
    success::<StepOutput>(&get_into(
        &layout.staging_source(),
        json!({"version": "2", "deploy": deploy}),
        dir,
    ));
    assert_eq!(read(dir, "environment"), "staging");
    assert_eq!(read(dir, "image-id"), DIGEST);
    assert_eq!(read(dir, "version"), "2");
    let message = assert_slack_message(
        &read(dir, "message.json"),
        &format!("{APP} 2"),
        &commits[1][..7],
        now,
    );
    let fields = message["fields"].as_array().unwrap();
    assert!(
        fields
            .iter()
            .any(|field| field["title"] == "Environment" && field["value"] == "staging"),
        "{message}"
    );
}

/// Checks `message.json` has the older resource's shape: a list of one Slack attachment with
/// exactly its keys, written within a few minutes of `now`. Returns the attachment.
fn assert_slack_message(text: &str, title: &str, short_commit: &str, now: i64) -> Value {
    let message: Value = serde_json::from_str(text).unwrap();
    let attachments = message.as_array().expect("a list of attachments");
    assert_eq!(attachments.len(), 1, "{message}");
    let attachment = &attachments[0];
    let mut keys: Vec<&str> = attachment
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    keys.sort_unstable();
    assert_eq!(
        keys,
        [
            "author_name",
            "color",
            "fallback",
            "fields",
            "footer",
            "pretext",
            "title",
            "title_link",
            "ts"
        ],
        "{message}"
    );
    assert_eq!(attachment["title"], title);
    assert_eq!(attachment["author_name"], "old@example.com");
    for key in ["fallback", "color", "pretext", "footer"] {
        assert!(attachment[key].is_string(), "{key}: {message}");
    }
    let ts = attachment["ts"].as_i64().expect("ts is a number");
    assert!((ts - now).abs() < 600, "ts {ts} is not the record's time");
    let fields = attachment["fields"].as_array().unwrap();
    for field in fields {
        assert!(
            field["title"].is_string() && field["value"].is_string() && field["short"].is_boolean(),
            "{message}"
        );
    }
    assert!(
        fields
            .iter()
            .any(|field| field["title"] == "Commit" && field["value"] == short_commit),
        "{message}"
    );
    attachment.clone()
}

#[test]
fn the_gate_works_on_the_old_layout() {
    let layout = OldLayout::new();
    let (build, commits) = build_with(2);
    for n in 1..=2 {
        layout
            .releases
            .put(APP, old(n, &commits[n as usize - 1]).to_string());
    }
    // The older tool deployed release 1 to staging.
    layout.staging.put(APP, old(1, &commits[0]).to_string());

    let production = layout.production_source(json!({
        "require_deployed_to": [{"environment": "staging", "deploy_bucket": layout.staging.name}],
    }));
    let error = failure(&put(&production, json!({"version": 2}), build.path()));
    assert_eq!(
        error,
        "error: release 2 of app has not been deployed to \"staging\" (require_deployed_to): deploy it there first"
    );
    assert!(layout.production.history(APP).is_empty());

    let output: StepOutput = success(&put(&production, json!({"version": 1}), build.path()));
    assert_eq!(output.version.version, "1");

    // Release 2 reaches staging through this resource, and then passes the gate.
    success::<StepOutput>(&put(
        &layout.staging_source(),
        json!({"version": 2}),
        build.path(),
    ));
    let output: StepOutput = success(&put(&production, json!({"version": 2}), build.path()));
    assert_eq!(output.version.version, "2");
    assert_eq!(layout.production.history(APP).len(), 2);
}

#[test]
fn a_release_and_a_deploy_on_top_of_the_old_history() {
    let layout = OldLayout::new();
    let (mut build, commits) = build_with(2);
    for n in 1..=2 {
        layout
            .releases
            .put(APP, old(n, &commits[n as usize - 1]).to_string());
    }
    let old_deploy = layout.staging.put(APP, old(2, &commits[1]).to_string());
    let before: Vec<String> = ids(&layout.releases);

    let third = build.commit("Change 3");
    let released: StepOutput = success(&put(
        &layout.release_source(),
        json!({"repository": "repo"}),
        build.path(),
    ));
    assert_eq!(released.version.version, "3");
    let history = layout.releases.history(APP);
    assert_eq!(history.len(), 3);
    assert_eq!(ids(&layout.releases)[..2], before[..]);
    let record = &history[0].1;
    assert_eq!(record["commit"], json!(third));
    assert_eq!(record["commits"], json!([third]));
    let changelog = record["changelog"].as_str().unwrap();
    assert!(
        changelog.starts_with(&third[..7]) && changelog.ends_with("Change 3"),
        "{changelog}"
    );

    // The deploy resource's check, from the old version, sees the new deploy after it.
    let deployed: StepOutput = success(&put(
        &layout.staging_source(),
        json!({"repository": "repo"}),
        build.path(),
    ));
    assert_eq!(deployed.version.version, "3");
    let record = &layout.staging.history(APP)[0].1;
    assert_eq!(record["environment"], "staging");
    assert_eq!(record["rollback"], false);
    assert_eq!(record["commit"], json!(third));
    let versions: Vec<Version> = success(&check_from(
        &layout.staging_source(),
        json!({"version": "2", "deploy": old_deploy}),
    ));
    assert_eq!(versions, [v(2, &old_deploy), deployed.version]);
}
