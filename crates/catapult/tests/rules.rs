//! Guarded promotion end to end, against the local S3 server: each rule refuses through `out`
//! (as a pipeline meets it) with one line naming the rule and what would satisfy it, writing
//! nothing, and lets the deploy through once a person does what it asks with `catapult`:
//! approve, unfreeze (or override), clear a hold, wait out a soak time.

use catapult_test::cli::{self, Workspace};
use catapult_test::resource::{Bucket, Build, StepOutput, failure, put, success};
use serde_json::{Value, json};

/// Releases 1..=`count` of "app" cut through `out` by dev@example.com (their author).
fn released(bucket: &Bucket, count: usize) -> Build {
    let source = bucket.source("app", json!({}));
    let mut build = Build::new();
    for n in 1..=count {
        build.commit(&format!("Change {n}"));
        success::<StepOutput>(&put(
            &source,
            json!({"repository": "repo", "author": "dev@example.com"}),
            build.path(),
        ));
    }
    build
}

fn deploy_source(bucket: &Bucket, environment: &str, extra: Value) -> Value {
    let mut source = bucket.source("app", json!({"environment": environment}));
    for (field, value) in extra.as_object().unwrap() {
        source[field] = value.clone();
    }
    source
}

/// A person's workspace over `bucket`, with `deploy_tables` as its environments.
fn workspace(bucket: &Bucket, deploy_tables: &str) -> Workspace {
    Workspace::new(&format!(
        "[release]\ns3_bucket = \"{}\"\n\n{deploy_tables}",
        bucket.name
    ))
}

fn deploys(bucket: &Bucket, environment: &str) -> usize {
    bucket.version_count(&format!("deploys/{environment}/app"))
}

#[test]
fn an_approval_by_someone_other_than_the_author_lets_the_release_through() {
    let bucket = Bucket::versioned();
    let build = released(&bucket, 2);
    let production = deploy_source(&bucket, "production", json!({"require_approval": true}));
    let error = failure(&put(&production, json!({}), build.path()));
    assert!(
        error.contains("release 2 of app needs an approval to be deployed to \"production\" (require_approval), by someone other than its author dev@example.com: catapult approve app 2 production"),
        "{error}"
    );
    assert_eq!(deploys(&bucket, "production"), 0);

    let w = workspace(&bucket, "[deploy.production]\nrequire_approval = true\n");
    // The author's own approval is refused, and writes nothing.
    let error = cli::failure(&w.catapult(&[
        "approve",
        "app",
        "2",
        "production",
        "--approver",
        "dev@example.com",
    ]));
    assert!(
        error.contains("no one approves their own release"),
        "{error}"
    );
    assert_eq!(bucket.version_count("approvals/production/app"), 0);
    // A release that does not exist; an environment nobody declared.
    let error = cli::failure(&w.catapult(&["approve", "app", "9", "production"]));
    assert!(error.contains("there is no release 9"), "{error}");
    let error = cli::failure(&w.catapult(&["approve", "app", "2", "prod"]));
    assert!(
        error.contains("environment \"prod\" is not declared")
            && error.contains("Did you mean \"production\"?"),
        "{error}"
    );

    // Approved by someone else (git's user.email): kept with the AWS identity that wrote it.
    let approval: Value = cli::success(&w.catapult(&[
        "approve",
        "app",
        "2",
        "production",
        "--reason",
        "dashboards are green",
    ]));
    assert_eq!(approval["approver"], "person@example.com");
    assert_eq!(approval["version"], 2);
    assert_eq!(approval["reason"], "dashboards are green");
    assert!(
        approval["aws_identity"]
            .as_str()
            .is_some_and(|arn| arn.starts_with("arn:aws:")),
        "{approval}"
    );
    // The same approval again writes nothing.
    let again: Value = cli::success(&w.catapult(&["approve", "app", "2", "production"]));
    assert_eq!(again["version_id"], approval["version_id"]);
    assert_eq!(bucket.version_count("approvals/production/app"), 1);

    let output: StepOutput = success(&put(&production, json!({}), build.path()));
    assert_eq!(output.version.version, "2");
    let record = &bucket.history("deploys/production/app")[0].1;
    assert_eq!(record["approved_by"], "person@example.com");
}

#[test]
fn an_approval_put_by_hand_is_not_trusted() {
    let bucket = Bucket::versioned();
    let build = released(&bucket, 1);
    let release = &bucket.history("app")[0].1;
    // The body catapult would write, but put without catapult's conditional write.
    bucket.put(
        "approvals/production/app",
        json!({
            "version": 1, "commit": release["commit"], "environment": "production",
            "approver": "mallory@example.com", "timestamp": "2026-12-01T00:00:00Z",
            "write_id": "0123456789abcdef0123456789abcdef",
        })
        .to_string(),
    );
    let production = deploy_source(&bucket, "production", json!({"require_approval": true}));
    let error = failure(&put(&production, json!({}), build.path()));
    assert!(error.contains("needs an approval"), "{error}");
    assert_eq!(deploys(&bucket, "production"), 0);
}

#[test]
fn a_freeze_refuses_deploys_until_lifted_and_an_override_is_recorded() {
    let bucket = Bucket::versioned();
    let build = released(&bucket, 1);
    let production = deploy_source(&bucket, "production", json!({}));
    let w = workspace(&bucket, "[deploy.production]\n");
    for (args, expected) in [
        (
            vec![
                "freeze",
                "production",
                "--until",
                "yesterday",
                "--reason",
                "x",
            ],
            "is neither a time",
        ),
        (
            vec![
                "freeze",
                "production",
                "--until",
                "2020-01-01T00:00:00Z",
                "--reason",
                "x",
            ],
            "is not in the future",
        ),
        (
            vec!["freeze", "production", "--until", "2h", "--reason", " "],
            "say why",
        ),
        (vec!["unfreeze", "production"], "nothing to lift"),
    ] {
        let error = cli::failure(&w.catapult(&args));
        assert!(error.contains(expected), "{args:?}: {error}");
    }
    assert_eq!(bucket.version_count("freezes/production"), 0);

    let freeze: Value = cli::success(&w.catapult(&[
        "freeze",
        "production",
        "--until",
        "2h",
        "--reason",
        "incident 4211",
    ]));
    assert_eq!(freeze["action"], "freeze");
    assert_eq!(freeze["by"], "person@example.com");
    let error = failure(&put(&production, json!({}), build.path()));
    assert!(
        error.contains("\"production\" is frozen (freeze) by a freeze set by person@example.com (\"incident 4211\") until ")
            && error.contains("override it (params.override_freeze: true, or --override-freeze)"),
        "{error}"
    );
    assert_eq!(deploys(&bucket, "production"), 0);
    // The CLI's dry run says which rules pass and which refuse, and writes nothing.
    let dry = w.catapult(&["deploy", "app", "production", "--dry-run"]);
    let stderr = String::from_utf8_lossy(&dry.stderr);
    assert!(!dry.status.success());
    assert!(stderr.contains("rule freeze: refuses"), "{stderr}");
    assert_eq!(deploys(&bucket, "production"), 0);

    // An override goes through and says so in the record.
    let output: StepOutput = success(&put(
        &production,
        json!({"override_freeze": true}),
        build.path(),
    ));
    assert_eq!(output.version.version, "1");
    let record = &bucket.history("deploys/production/app")[0].1;
    assert!(
        record["overrode_freeze"]
            .as_str()
            .is_some_and(|freeze| freeze.contains("incident 4211")),
        "{record}"
    );

    // Lifted: deploys go ahead without overriding.
    cli::success::<Value>(&w.catapult(&["unfreeze", "production"]));
    let build = {
        let mut build = build;
        build.commit("Change 2");
        success::<StepOutput>(&put(
            &bucket.source("app", json!({})),
            json!({"repository": "repo"}),
            build.path(),
        ));
        build
    };
    let output: StepOutput = success(&put(&production, json!({}), build.path()));
    assert_eq!(output.version.version, "2");
}

#[test]
fn a_freeze_window_of_the_source_refuses_with_its_reason_and_end() {
    let bucket = Bucket::versioned();
    let build = released(&bucket, 1);
    let production = deploy_source(
        &bucket,
        "production",
        json!({"freeze": [{"from": "2020-01-01T00:00:00Z", "to": "2099-01-01T00:00:00Z", "reason": "change freeze"}]}),
    );
    let error = failure(&put(&production, json!({}), build.path()));
    assert!(
        error.contains("the freeze window")
            && error.contains("\"change freeze\"")
            && error.contains("until 2099-01-01T00:00:00Z"),
        "{error}"
    );
    for (freeze, expected) in [
        (
            json!([{"from": "2026-02-01T00:00:00Z", "to": "2026-01-01T00:00:00Z", "reason": "r"}]),
            "is not after from",
        ),
        (
            json!([{"days": ["sat"], "between": "18:00-08:00", "timezone": "Mars/Olympus", "reason": "r"}]),
            "Mars/Olympus",
        ),
        (
            json!([{"days": ["sat"], "between": "25:00-08:00", "reason": "r"}]),
            "25:00",
        ),
    ] {
        let source = deploy_source(&bucket, "production", json!({"freeze": freeze}));
        let error = failure(&put(&source, json!({}), build.path()));
        assert!(error.contains(expected), "{freeze}: {error}");
    }
    assert_eq!(deploys(&bucket, "production"), 0);
}

#[test]
fn a_rollback_holds_automated_deploys_until_a_person_clears_it() {
    let bucket = Bucket::versioned();
    let build = released(&bucket, 2);
    let production = deploy_source(&bucket, "production", json!({}));
    success::<StepOutput>(&put(&production, json!({}), build.path()));
    success::<StepOutput>(&put(
        &production,
        json!({"version": 1, "allow_rollback": true}),
        build.path(),
    ));
    let error = failure(&put(&production, json!({}), build.path()));
    assert!(
        error.contains("\"production\" is held at release 1 of app since a rollback (hold): an automated deploy of release 2 is refused")
            && error.contains("catapult release-hold app production --clear"),
        "{error}"
    );
    assert_eq!(deploys(&bucket, "production"), 2);

    let w = workspace(&bucket, "[deploy.production]\n");
    let held: Value = cli::success(&w.catapult(&["release-hold", "app", "production"]));
    assert_eq!(held["held_at"], 1);
    let error = cli::failure(&w.catapult(&["release-hold", "app", "staging", "--clear"]));
    assert!(
        error.contains("environment \"staging\" is not declared"),
        "{error}"
    );
    let cleared: Value = cli::success(&w.catapult(&[
        "release-hold",
        "app",
        "production",
        "--clear",
        "--reason",
        "fixed in 2",
    ]));
    assert_eq!(cleared["held_at"], 1);
    assert_eq!(cleared["by"], "person@example.com");
    let error = cli::failure(&w.catapult(&["release-hold", "app", "production", "--clear"]));
    assert!(error.contains("is not held: nothing to clear"), "{error}");

    let output: StepOutput = success(&put(&production, json!({}), build.path()));
    assert_eq!(output.version.version, "2");
    let held: Value = cli::success(&w.catapult(&["release-hold", "app", "production"]));
    assert_eq!(held["held_at"], Value::Null);
}

#[test]
fn a_release_must_soak_in_the_gate_environment() {
    let bucket = Bucket::versioned();
    let build = released(&bucket, 1);
    success::<StepOutput>(&put(
        &deploy_source(&bucket, "staging", json!({})),
        json!({}),
        build.path(),
    ));
    let production = deploy_source(
        &bucket,
        "production",
        json!({"require_deployed_to": [{"environment": "staging", "for": "1h"}]}),
    );
    let error = failure(&put(&production, json!({}), build.path()));
    assert!(
        error.contains("release 1 of app has run in \"staging\" for ")
            && error.contains("of the 1h required (require_deployed_to: staging for 1h)")
            && error.contains("left, deploy it then"),
        "{error}"
    );
    assert_eq!(deploys(&bucket, "production"), 0);
    let error = failure(&put(
        &deploy_source(
            &bucket,
            "production",
            json!({"require_deployed_to": [{"environment": "staging", "for": "soon"}]}),
        ),
        json!({}),
        build.path(),
    ));
    assert!(error.contains("is not a duration"), "{error}");
    // A soak of a second is over by now.
    std::thread::sleep(std::time::Duration::from_millis(1100));
    let quick = deploy_source(
        &bucket,
        "production",
        json!({"require_deployed_to": [{"environment": "staging", "for": "1s"}]}),
    );
    let output: StepOutput = success(&put(&quick, json!({}), build.path()));
    assert_eq!(output.version.version, "1");
}

/// What the older tool's reader (`fetch_release`) takes of a stored body: `version`, `commit`,
/// `image` and `author` required, `changelog`, `rollback`, `action_type` and `commits` when
/// present, each of its type; anything else ignored. A record this tool writes must give it
/// all of them, whatever new fields it adds.
fn assert_the_older_reader_reads(body: &Value) {
    let fields = body.as_object().expect("a record is a JSON object");
    assert!(fields["version"].is_u64(), "{body}");
    assert!(fields["commit"].is_string(), "{body}");
    assert!(
        fields["image"].is_string() || fields["image"].is_null(),
        "{body}"
    );
    assert!(
        fields["author"].is_string() || fields["author"].is_null(),
        "{body}"
    );
    assert!(fields["changelog"].is_string(), "{body}");
    assert!(fields["rollback"].is_boolean(), "{body}");
    assert!(
        matches!(fields["action_type"].as_str(), Some("manual" | "automated")),
        "{body}"
    );
    assert!(fields["commits"].is_array(), "{body}");
}

#[test]
fn records_with_the_new_fields_keep_every_field_the_older_tool_reads() {
    let bucket = Bucket::versioned();
    let build = released(&bucket, 2);
    let production = deploy_source(&bucket, "production", json!({"require_approval": true}));
    let w = workspace(&bucket, "[deploy.production]\nrequire_approval = true\n");
    cli::success::<Value>(&w.catapult(&["approve", "app", "2", "production"]));
    success::<StepOutput>(&put(&production, json!({}), build.path()));
    success::<StepOutput>(&put(
        &production,
        json!({"version": 1, "allow_rollback": true, "override_freeze": true}),
        build.path(),
    ));
    let releases = bucket.history("app");
    let deploys = bucket.history("deploys/production/app");
    assert!(releases[0].1["tickets"].is_array() && releases[0].1["commit_times"].is_array());
    assert_eq!(deploys[1].1["approved_by"], "person@example.com");
    assert_eq!(deploys[0].1["held_at"], 1);
    for (_, body) in releases.iter().chain(&deploys) {
        assert_the_older_reader_reads(body);
    }
}
