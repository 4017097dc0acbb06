//! A person's story with `catapult`, through every command, against the local S3 server: cut
//! releases, deploy them through a gate, roll back, ask what is where, and read the board. The
//! same story runs with production in a bucket of its own (the older tool's layout) and at the
//! default layout beside the releases.

use catapult_test::cli as common;

use common::{Bucket, DiffOut, LogOut, RecordOut, Row, Workspace, failure, success};

struct Story {
    workspace: Workspace,
    releases: Bucket,
    production: Option<Bucket>,
}

fn story(production_bucket: bool) -> Story {
    let releases = Bucket::named("rel");
    let production = production_bucket.then(|| Bucket::named("prod"));
    let production_table = match &production {
        Some(bucket) => format!(
            "[deploy.production]\ns3_bucket = \"{}\"\nrequire_deployed_to = [\"staging\"]\n",
            bucket.name
        ),
        None => "[deploy.production]\nrequire_deployed_to = [\"staging\"]\n".to_owned(),
    };
    let config = format!(
        "[release]\ns3_bucket = \"{}\"\n\n[deploy.staging]\n\n{production_table}",
        releases.name
    );
    Story {
        workspace: Workspace::new(&config),
        releases,
        production,
    }
}

fn the_whole_story(production_bucket: bool) {
    let Story {
        mut workspace,
        releases,
        production,
    } = story(production_bucket);
    let w = &mut workspace;
    let first = w.commit("First feature");

    // A dry run shows the record and writes nothing.
    let dry: RecordOut = success(&w.catapult(&["release", "api", "--dry-run"]));
    assert_eq!(dry.version, 1);
    assert_eq!(dry.version_id, None);
    assert_eq!(releases.version_count("api"), 0);

    // release, with the author from git's configuration and action_type manual.
    let one: RecordOut = success(&w.catapult(&["release", "api"]));
    assert_eq!((one.version, one.commit.as_str()), (1, first.as_str()));
    assert_eq!(one.author.as_deref(), Some("person@example.com"));
    assert_eq!(one.action_type.as_deref(), Some("manual"));
    assert_eq!(one.name, "api");
    assert!(one.version_id.is_some());
    assert_eq!(one.environment, None);

    // The same commit again writes nothing; --author names someone else.
    let again: RecordOut = success(&w.catapult(&["release", "api"]));
    assert_eq!(again.version_id, one.version_id);
    let second = w.commit("Second feature");
    let image = format!("sha256:{}", "ab".repeat(32));
    let two: RecordOut = success(&w.catapult(&[
        "release.new",
        "api",
        "--image",
        &image,
        "--author",
        "lead@example.com",
        "--yes",
    ]));
    assert_eq!(two.version, 2);
    assert_eq!(two.commit, second);
    assert_eq!(two.image.as_deref(), Some(image.as_str()));
    assert_eq!(two.author.as_deref(), Some("lead@example.com"));
    assert_eq!(two.commits, vec![second.clone()]);
    assert!(
        two.changelog.contains("Second feature"),
        "{}",
        two.changelog
    );
    let digest = w.dir.path().join("digest");
    std::fs::write(&digest, format!("{image}\n")).unwrap();
    let web: RecordOut =
        success(&w.catapult(&["release", "web", "--image-file", digest.to_str().unwrap()]));
    assert_eq!(web.version, 1);
    assert_eq!(web.image.as_deref(), Some(image.as_str()));

    // Errors: one line, exit 1.
    let error = failure(&w.catapult(&["release", "api", "--image", "latest"]));
    assert!(error.contains("--image"), "{error}");
    let error = failure(&w.catapult(&["release", "api", "--commit", &first]));
    assert!(error.contains("roll back"), "{error}");

    // deploy: the gate, then the promotion.
    let error = failure(&w.catapult(&["deploy", "api", "production"]));
    assert!(error.contains("staging"), "{error}");
    let staged: RecordOut = success(&w.catapult(&["deploy", "api", "staging", "--version", "1"]));
    assert_eq!(staged.environment.as_deref(), Some("staging"));
    assert_eq!(staged.version, 1);
    let staged: RecordOut = success(&w.catapult(&["deploy.start", "api", "staging"]));
    assert_eq!(staged.version, 2);
    let dry: RecordOut = success(&w.catapult(&["deploy", "api", "production", "--dry-run"]));
    assert_eq!((dry.version, dry.version_id), (2, None));
    let produced: RecordOut = success(&w.catapult(&["deploy", "api", "production"]));
    assert_eq!(produced.environment.as_deref(), Some("production"));
    assert_eq!(produced.action_type.as_deref(), Some("manual"));
    match &production {
        Some(bucket) => assert_eq!(bucket.version_count("api"), 1),
        None => assert_eq!(releases.version_count("deploys/production/api"), 1),
    }

    // A rollback needs --rollback.
    let error = failure(&w.catapult(&["deploy", "api", "staging", "--version", "1"]));
    assert!(error.contains("roll back"), "{error}");
    let back: RecordOut =
        success(&w.catapult(&["deploy", "api", "staging", "--version", "1", "--rollback"]));
    assert!(back.rollback);

    // current and show.
    let current: RecordOut = success(&w.catapult(&["current", "api"]));
    assert_eq!(current.version, 2);
    let current: RecordOut = success(&w.catapult(&["deploy.current", "api", "staging"]));
    assert_eq!((current.version, current.rollback), (1, true));
    let shown: RecordOut = success(&w.catapult(&["show", "api", "1"]));
    assert_eq!(shown.commit, first);
    let shown: RecordOut = success(&w.catapult(&["release.get", "api", "2", "production"]));
    assert_eq!(shown.environment.as_deref(), Some("production"));
    let error = failure(&w.catapult(&["show", "api", "9"]));
    assert!(error.contains("release 9"), "{error}");
    let error = failure(&w.catapult(&["current", "api", "qa"]));
    assert!(error.contains("never been deployed to qa"), "{error}");

    // history, with --last and --contains.
    let history: Vec<RecordOut> = success(&w.catapult(&["history", "api"]));
    let versions: Vec<u64> = history.iter().map(|record| record.version).collect();
    assert_eq!(versions, [2, 1]);
    let history: Vec<RecordOut> =
        success(&w.catapult(&["deploy.ls", "api", "staging", "--contains", &second]));
    let seen: Vec<(u64, Option<&str>)> = history
        .iter()
        .map(|record| (record.version, record.contains.as_deref()))
        .collect();
    assert_eq!(seen, [(1, Some("N")), (2, Some("Y")), (1, Some("N"))]);
    let last: Vec<RecordOut> = success(&w.catapult(&["release.ls", "api", "--last", "1"]));
    assert_eq!(last.len(), 1);

    // find and log.
    let found: RecordOut = success(&w.catapult(&["find", "api", &first]));
    assert_eq!(found.version, 1);
    let found: RecordOut = success(&w.catapult(&["release.find", "api", "HEAD"]));
    assert_eq!(found.version, 2);
    let third = w.commit("Not released yet");
    let error = failure(&w.catapult(&["find", "api", &third]));
    assert!(error.contains("no release of api"), "{error}");
    let log: LogOut = success(&w.catapult(&["log", "api", "v1..v2"]));
    assert_eq!(
        (log.from.as_str(), log.to.as_str()),
        (first.as_str(), second.as_str())
    );
    assert_eq!(log.commits, std::slice::from_ref(&second));
    assert!(
        log.changelog.contains("Second feature"),
        "{}",
        log.changelog
    );
    let log: LogOut = success(&w.catapult(&["release.log", "api", "v2..HEAD"]));
    assert_eq!(log.commits, std::slice::from_ref(&third));
    let error = failure(&w.catapult(&["log", "api", "v1"]));
    assert!(error.contains("FROM..TO"), "{error}");

    // diff: production runs 2, staging went back to 1.
    let diff: DiffOut = success(&w.catapult(&["diff", "api", "production", "staging"]));
    assert_eq!(diff.status, "ships");
    assert_eq!((diff.from.version, diff.to.version), (Some(2), Some(1)));
    assert_eq!(diff.releases.len(), 1);
    assert_eq!(diff.releases[0].version, 2);
    assert_eq!(diff.commits, std::slice::from_ref(&second));
    let diff: DiffOut = success(&w.catapult(&["diff", "api", "staging", "production"]));
    assert_eq!((diff.status.as_str(), diff.name.as_str()), ("ahead", "api"));
    // To an environment never deployed to, every release up to it ships.
    let diff: DiffOut = success(&w.catapult(&["diff", "api", "production", "qa"]));
    assert_eq!((diff.status.as_str(), diff.to.version), ("ships", None));
    let shipped: Vec<u64> = diff
        .releases
        .iter()
        .map(|release| release.version)
        .collect();
    assert_eq!(shipped, [2, 1]);
    let error = failure(&w.catapult(&["diff", "web", "production", "staging"]));
    assert!(error.contains("nothing to promote"), "{error}");

    // The board: rows per application and environment, with how far behind.
    let rows: Vec<Row> = success(&w.catapult(&["status"]));
    let summary: Vec<_> = rows
        .iter()
        .map(|row| {
            (
                row.name.as_str(),
                row.kind.as_str(),
                row.environment.as_deref(),
                row.version,
                row.behind,
            )
        })
        .collect();
    assert_eq!(
        summary,
        [
            ("api", "release", None, Some(2), Some(0)),
            ("api", "deploy", Some("staging"), Some(1), Some(1)),
            ("api", "deploy", Some("production"), Some(2), Some(0)),
            ("web", "release", None, Some(1), Some(0)),
            ("web", "deploy", Some("staging"), None, None),
            ("web", "deploy", Some("production"), None, None),
        ]
    );
    // Warm: the same answer from the cache.
    let warm: Vec<Row> = success(&w.catapult(&["projects.ls"]));
    assert_eq!(warm, rows);
    let only: Vec<Row> = success(&w.catapult(&[
        "status",
        "--env",
        "production",
        "--only",
        "^a",
        "--contains",
        &second,
    ]));
    let only: Vec<(&str, Option<&str>, Option<&str>)> = only
        .iter()
        .map(|row| {
            (
                row.kind.as_str(),
                row.environment.as_deref(),
                row.contains.as_deref(),
            )
        })
        .collect();
    assert_eq!(
        only,
        [
            ("release", None, Some("Y")),
            ("deploy", Some("production"), Some("Y"))
        ]
    );
    let releases_only: Vec<Row> = success(&w.catapult(&["status", "--releases-only"]));
    assert_eq!(releases_only.len(), 2);
    let error = failure(&w.catapult(&["status", "--only", "("]));
    assert!(error.contains("--only"), "{error}");
}

#[test]
fn every_command_with_production_in_a_bucket_of_its_own() {
    the_whole_story(true);
}

#[test]
fn every_command_at_the_default_layout() {
    the_whole_story(false);
}

#[test]
fn a_typo_in_the_configuration_is_an_error_naming_the_key() {
    let releases = Bucket::named("rel");
    let workspace = Workspace::new(&format!(
        "[release]\ns3_bucket = \"{}\"\n[deploy.staging]\ns3_buckte = \"x\"\n",
        releases.name
    ));
    let error = failure(&workspace.catapult(&["status"]));
    assert!(error.contains("s3_buckte"), "{error}");
}

#[test]
fn a_missing_bucket_is_named() {
    let workspace = Workspace::new("[release]\ns3_bucket = \"no-such-bucket-catapult\"\n");
    let error = failure(&workspace.catapult(&["status"]));
    assert!(
        error.contains("no-such-bucket-catapult") && error.contains("does not exist"),
        "{error}"
    );
}

#[test]
fn without_a_file_the_environment_names_the_bucket() {
    let releases = Bucket::named("rel");
    let mut workspace = Workspace::new("");
    std::fs::remove_file(workspace.repo().join(".catapult.toml")).unwrap();
    workspace.commit("One");
    let error = failure(&workspace.catapult(&["status"]));
    assert!(error.contains("CATAPULT_BUCKET_RELEASES"), "{error}");
    let output = workspace
        .command(&["release", "api"])
        .env("CATAPULT_BUCKET_RELEASES", &releases.name)
        .output()
        .unwrap();
    let record: RecordOut = success(&output);
    assert_eq!(record.version, 1);
    let with_bucket = |args: &[&str]| {
        workspace
            .command(args)
            .env("CATAPULT_BUCKET_RELEASES", &releases.name)
            .output()
            .unwrap()
    };
    let deployed: RecordOut = success(&with_bucket(&["deploy", "api", "qa"]));
    assert_eq!(deployed.environment.as_deref(), Some("qa"));
    // The board finds the environments deployed to at the default layout.
    let rows: Vec<Row> = success(&with_bucket(&["status"]));
    let environments: Vec<Option<&str>> =
        rows.iter().map(|row| row.environment.as_deref()).collect();
    assert_eq!(environments, [None, Some("qa")]);
}

#[test]
fn completions_and_help_for_every_command() {
    let workspace = Workspace::new("");
    for shell in ["bash", "zsh", "fish"] {
        let output = workspace.catapult(&["completions", shell]);
        assert!(output.status.success());
        let script = String::from_utf8(output.stdout).unwrap();
        assert!(script.contains("catapult"), "{shell}");
        assert!(script.contains("release"), "{shell}");
    }
    for command in [
        "release",
        "deploy",
        "current",
        "show",
        "history",
        "find",
        "log",
        "diff",
        "status",
        "completions",
    ] {
        let output = workspace.catapult(&[command, "--help"]);
        assert!(output.status.success(), "{command}");
        let help = String::from_utf8(output.stdout).unwrap();
        assert!(help.contains("Examples:"), "{command}: {help}");
    }
    let output = workspace.catapult(&["no-such-command"]);
    assert_eq!(output.status.code(), Some(1));
}

#[test]
fn an_mfa_session_is_asked_for_once_and_then_kept() {
    let releases = Bucket::named("rel");
    let mut workspace = Workspace::new(&format!("[release]\ns3_bucket = \"{}\"\n", releases.name));
    workspace.commit("One");
    let device = "arn:aws:iam::123456789012:mfa/person";
    // No session yet, and no terminal to ask for a code on: an error that says so.
    let output = workspace
        .command(&["status"])
        .env("CATAPULT_AWS_MFA_DEVICE", device)
        .output()
        .unwrap();
    let error = failure(&output);
    assert!(
        error.contains("MFA code") && error.contains("terminal"),
        "{error}"
    );
    // A session kept from an earlier run is used, with no credentials in the environment.
    let sessions = workspace.cache().join("catapult");
    std::fs::create_dir_all(&sessions).unwrap();
    let session = serde_json::json!({
        "device": device,
        "access_key_id": common::access_key_id(),
        "secret_access_key": common::secret_access_key(),
        "session_token": "session-token",
        "expires": "2099-01-01T00:00:00Z",
    });
    std::fs::write(sessions.join("session-default.json"), session.to_string()).unwrap();
    let output = workspace
        .command(&["release", "api"])
        .env_remove("AWS_ACCESS_KEY_ID")
        .env_remove("AWS_SECRET_ACCESS_KEY")
        .env("CATAPULT_AWS_MFA_DEVICE", device)
        .output()
        .unwrap();
    let record: RecordOut = success(&output);
    assert_eq!(record.version, 1);
    // The session's secret is never printed.
    for printed in [&output.stdout, &output.stderr] {
        assert!(!String::from_utf8_lossy(printed).contains("session-token"));
    }
}

#[test]
fn a_profile_gives_its_region_when_nothing_else_does() {
    let workspace = Workspace::new("[release]\ns3_bucket = \"releases\"\n");
    let aws = workspace.home().join(".aws");
    std::fs::create_dir_all(&aws).unwrap();
    std::fs::write(aws.join("config"), "[profile ops]\nregion = Ireland\n").unwrap();
    let output = workspace
        .command(&["status", "--profile", "ops"])
        .env_remove("AWS_REGION")
        .output()
        .unwrap();
    let error = failure(&output);
    assert!(error.contains("profile's region \"Ireland\""), "{error}");
    // A region in the environment wins over the profile's.
    let output = workspace
        .command(&["status", "--profile", "ops"])
        .output()
        .unwrap();
    let error = failure(&output);
    assert!(!error.contains("Ireland"), "{error}");
}

#[test]
fn on_a_terminal_release_and_deploy_show_the_record_and_ask_first() {
    let releases = Bucket::named("rel");
    let mut workspace = Workspace::new(&format!(
        "[release]\ns3_bucket = \"{}\"\n[deploy.staging]\n",
        releases.name
    ));
    workspace.commit("One");
    let refused = workspace.on_terminal(&["release", "api"], "n\n");
    let text = String::from_utf8_lossy(&refused.stdout);
    assert_eq!(refused.status.code(), Some(1), "{text}");
    assert!(text.contains("Write release 1 of api? [y/N]"), "{text}");
    assert!(
        text.contains("person@example.com"),
        "the record is shown: {text}"
    );
    assert!(
        text.contains("error: nothing written: not confirmed"),
        "{text}"
    );
    assert_eq!(releases.version_count("api"), 0);

    let accepted = workspace.on_terminal(&["release", "api"], "y\n");
    let text = String::from_utf8_lossy(&accepted.stdout);
    assert!(accepted.status.success(), "{text}");
    assert_eq!(releases.version_count("api"), 1);
    // A table on a terminal, not JSON.
    assert!(text.contains("version_id"), "{text}");
    assert!(!text.contains("\"version_id\""), "{text}");

    let deployed = workspace.on_terminal(&["deploy", "api", "staging"], "y\n");
    let text = String::from_utf8_lossy(&deployed.stdout);
    assert!(deployed.status.success(), "{text}");
    assert!(
        text.contains("Deploy release 1 of api to staging? [y/N]"),
        "{text}"
    );
    assert_eq!(releases.version_count("deploys/staging/api"), 1);

    // --yes does not ask.
    workspace.commit("Two");
    let yes = workspace.on_terminal(&["release", "api", "--yes"], "");
    let text = String::from_utf8_lossy(&yes.stdout);
    assert!(yes.status.success(), "{text}");
    assert!(!text.contains("[y/N]"), "{text}");
    assert_eq!(releases.version_count("api"), 2);
}

#[test]
fn a_cache_that_cannot_be_written_is_a_warning_not_an_error() {
    let releases = Bucket::named("rel");
    releases.put("api", r#"{"version": 1, "commit": "abc", "author": "a@b"}"#);
    let workspace = Workspace::new(&format!("[release]\ns3_bucket = \"{}\"\n", releases.name));
    let not_a_directory = workspace.dir.path().join("cache-file");
    std::fs::write(&not_a_directory, "").unwrap();
    let output = workspace
        .command(&["status"])
        .env("XDG_CACHE_HOME", &not_a_directory)
        .output()
        .unwrap();
    let rows: Vec<Row> = success(&output);
    assert_eq!(rows.len(), 1);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("WARN") && stderr.contains("cannot write the cache"),
        "{stderr}"
    );
}

#[test]
fn without_credentials_one_line_says_how_to_give_them() {
    let releases = Bucket::named("rel");
    let workspace = Workspace::new(&format!("[release]\ns3_bucket = \"{}\"\n", releases.name));
    // No keys, no profile, no instance metadata: the default chain finds nothing.
    let output = workspace
        .command(&["status"])
        .env_remove("AWS_ACCESS_KEY_ID")
        .env_remove("AWS_SECRET_ACCESS_KEY")
        .output()
        .unwrap();
    let error = failure(&output);
    assert!(
        error.starts_with("error: no AWS credentials found:"),
        "{error}"
    );
    for hint in [
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "--profile",
        "AWS_PROFILE",
        "SSO",
    ] {
        assert!(error.contains(hint), "{hint} in {error}");
    }
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(
        stderr.lines().count(),
        1,
        "nothing but the error line:\n{stderr}"
    );
    assert!(
        !stderr.contains("ProviderError") && !stderr.contains("dispatch failure"),
        "{stderr}"
    );

    // A profile the SDK cannot use (SSO): one line naming it, and what to do instead.
    let aws = workspace.home().join(".aws");
    std::fs::create_dir_all(&aws).unwrap();
    std::fs::write(
        aws.join("config"),
        "[profile corp]\nsso_session = corp\nsso_account_id = 123456789012\nsso_role_name = Dev\n\
         [sso-session corp]\nsso_start_url = https://corp.awsapps.com/start\nsso_region = eu-west-1\n",
    )
    .unwrap();
    let output = workspace
        .command(&["status", "--profile", "corp"])
        .env_remove("AWS_ACCESS_KEY_ID")
        .env_remove("AWS_SECRET_ACCESS_KEY")
        .output()
        .unwrap();
    let error = failure(&output);
    assert!(
        error.contains("profile \"corp\" uses AWS SSO")
            && error.contains("aws configure export-credentials --profile corp"),
        "{error}"
    );
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(
        stderr.lines().count(),
        1,
        "nothing but the error line:\n{stderr}"
    );
}

#[test]
fn a_deploy_to_an_environment_nobody_declared_is_refused() {
    let releases = Bucket::named("rel");
    let mut workspace = Workspace::new(&format!(
        "[release]\ns3_bucket = \"{}\"\n[deploy.staging]\n[deploy.production]\nrequire_deployed_to = [\"staging\"]\n",
        releases.name
    ));
    workspace.commit("One");
    let _: RecordOut = success(&workspace.catapult(&["release", "api"]));
    // A typo would have started a new environment, skipping production's gate.
    for args in [
        vec!["deploy", "api", "prod", "--yes"],
        vec!["deploy.start", "api", "prod", "--dry"],
    ] {
        let error = failure(&workspace.catapult(&args));
        assert!(
            error.contains("environment \"prod\" is not declared in ")
                && error.contains("(its environments: staging, production)")
                && error.contains("Did you mean \"production\"?")
                && error.contains("--new-environment"),
            "{error}"
        );
    }
    let error = failure(&workspace.catapult(&["deploy", "api", "qa"]));
    assert!(!error.contains("Did you mean"), "{error}");
    assert_eq!(releases.version_count("deploys/prod/api"), 0);
    assert_eq!(releases.version_count("deploys/qa/api"), 0);
    // On purpose, it is deployed there.
    let deployed: RecordOut =
        success(&workspace.catapult(&["deploy", "api", "qa", "--new-environment"]));
    assert_eq!(deployed.environment.as_deref(), Some("qa"));
    assert_eq!(releases.version_count("deploys/qa/api"), 1);
}
