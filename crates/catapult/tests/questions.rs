//! The questions the log answers, asked of `catapult` as a person asks them, against the local
//! S3 server, with answers the tests know another way: which releases and environments hold a
//! ticket (git itself says which commits each release holds), and the delivery metrics of
//! histories whose figures the tests work out by hand, records with and without the new fields.

use std::collections::BTreeMap;

use catapult_test::cli::{self, Bucket, RecordOut, Workspace};
use serde::Deserialize;
use serde_json::{Value, json};

/// `catapult tickets --json`, one application, decoded strictly.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct TicketOut {
    name: String,
    ticket: String,
    first_release: Option<u64>,
    releases: Vec<u64>,
    unknown_releases: Vec<u64>,
    latest: Option<Answer>,
    environments: Vec<EnvironmentAnswer>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Answer {
    version: u64,
    contains: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct EnvironmentAnswer {
    environment: String,
    version: Option<u64>,
    contains: Option<String>,
}

/// `catapult metrics --json`, one row, decoded strictly.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct MetricsOut {
    name: String,
    environment: String,
    deploys: usize,
    deployment_frequency_per_day: Option<f64>,
    lead_time_median_seconds: Option<i64>,
    change_failure_rate: Option<f64>,
    recovery_time_median_seconds: Option<i64>,
    since: String,
    until: String,
    skipped: usize,
}

fn workspace(bucket: &Bucket) -> Workspace {
    Workspace::new(&format!(
        "[release]\ns3_bucket = \"{}\"\n\n[deploy.staging]\n[deploy.production]\n",
        bucket.name
    ))
}

/// Commits a change whose message is `message` (subject, and a body after a blank line).
fn commit(w: &mut Workspace, message: &str) -> String {
    let subject = message.lines().next().unwrap().to_owned();
    let sha = w.commit(&subject);
    if message.contains('\n') {
        w.git(&["commit", "--quiet", "--amend", "-m", message]);
        return w.git(&["rev-parse", "HEAD"]);
    }
    sha
}

/// Whether `ancestor` is `commit` or one of its ancestors, as git says.
fn holds(w: &Workspace, commit: &str, ancestor: &str) -> bool {
    let output = std::process::Command::new("git")
        .args(["merge-base", "--is-ancestor", ancestor, commit])
        .current_dir(w.repo())
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("HOME", w.home())
        .output()
        .unwrap();
    output.status.success()
}

#[test]
fn tickets_are_found_in_subjects_and_bodies_and_answered_as_git_would() {
    let bucket = Bucket::named("tix");
    let mut w = workspace(&bucket);
    // Which commit mentions which ticket, as the test writes them.
    let mut mentions: BTreeMap<&str, Vec<String>> = BTreeMap::new();
    let mut releases: Vec<String> = Vec::new();
    let release = |w: &mut Workspace, releases: &mut Vec<String>, args: &[&str]| {
        let mut all = vec!["release", "api", "--no-image", "--yes"];
        all.extend_from_slice(args);
        let out: RecordOut = cli::success(&w.catapult(&all));
        releases.push(out.commit.clone());
        out
    };
    commit(&mut w, "Start");
    mentions
        .entry("OPS-1")
        .or_default()
        .push(commit(&mut w, "OPS-1: the login page"));
    let one = release(&mut w, &mut releases, &[]);
    assert_eq!(one.tickets.as_deref(), Some(&["OPS-1".to_owned()][..]));
    assert_eq!(one.commit_times.as_ref().map(Vec::len), Some(2));
    mentions.entry("OPS-2").or_default().push(commit(
        &mut w,
        "Fix the session timeout\n\nFixes OPS-2; see also sc-42.",
    ));
    mentions
        .entry("sc-42")
        .or_default()
        .push(w.git(&["rev-parse", "HEAD"]));
    release(&mut w, &mut releases, &[]);
    mentions
        .entry("OPS-3")
        .or_default()
        .push(commit(&mut w, "OPS-3: rate limit the password reset"));
    let three = release(&mut w, &mut releases, &[]);
    assert_eq!(three.tickets.as_deref(), Some(&["OPS-3".to_owned()][..]));
    // Staging gets 3; production skips 2 and goes from 1 to 3, then rolls back to 1.
    cli::success::<RecordOut>(&w.catapult(&["deploy", "api", "staging", "--yes"]));
    cli::success::<RecordOut>(&w.catapult(&[
        "deploy",
        "api",
        "production",
        "--version",
        "1",
        "--yes",
    ]));
    cli::success::<RecordOut>(&w.catapult(&["deploy", "api", "production", "--yes"]));
    cli::success::<RecordOut>(&w.catapult(&[
        "deploy",
        "api",
        "production",
        "--version",
        "1",
        "--rollback",
        "--yes",
    ]));
    // Release 4 goes back to release 1's commit; release 5 brings it all back and more.
    let first_commit = releases[0].clone();
    release(
        &mut w,
        &mut releases,
        &["--commit", &first_commit, "--rollback"],
    );
    w.git(&["checkout", "--quiet", "-B", "main", &releases[2]]);
    mentions
        .entry("OPS-4")
        .or_default()
        .push(commit(&mut w, "OPS-4: an audit log"));
    release(&mut w, &mut releases, &[]);

    let production_runs = 1;
    let staging_runs = 3;
    for (ticket, commits) in &mentions {
        let out: Vec<TicketOut> = cli::success(&w.catapult(&["tickets", ticket, "--json"]));
        assert_eq!(out.len(), 1, "{ticket}");
        let answer = &out[0];
        assert_eq!(
            (answer.name.as_str(), answer.ticket.as_str()),
            ("api", *ticket)
        );
        let expected: Vec<u64> = releases
            .iter()
            .enumerate()
            .filter(|(_, release)| commits.iter().any(|c| holds(&w, release, c)))
            .map(|(index, _)| index as u64 + 1)
            .collect();
        assert_eq!(answer.releases, expected, "{ticket}");
        assert!(answer.unknown_releases.is_empty());
        assert_eq!(answer.first_release, expected.first().copied(), "{ticket}");
        let latest = answer.latest.as_ref().unwrap();
        assert_eq!(latest.version, 5);
        assert_eq!(
            latest.contains,
            if expected.contains(&5) { "Y" } else { "N" }
        );
        for environment in &answer.environments {
            let runs = match environment.environment.as_str() {
                "staging" => staging_runs,
                "production" => production_runs,
                other => panic!("{other}"),
            };
            assert_eq!(environment.version, Some(runs));
            let yes = expected.contains(&runs);
            assert_eq!(
                environment.contains.as_deref(),
                Some(if yes { "Y" } else { "N" }),
                "{ticket} {}",
                environment.environment
            );
        }
    }
    // Any case, as people type them; a ticket nobody mentioned; a typo.
    let out: Vec<TicketOut> = cli::success(&w.catapult(&["tickets", "ops-2", "--json"]));
    assert_eq!(out[0].ticket, "OPS-2");
    let none: Vec<TicketOut> = cli::success(&w.catapult(&["tickets", "OPS-99", "--json"]));
    assert!(none.is_empty());
    let error = cli::failure(&w.catapult(&["tickets", "login page"]));
    assert!(
        error.contains("is not a ticket the ticket pattern"),
        "{error}"
    );
    // status --ticket marks the board.
    let rows: Vec<cli::Row> = cli::success(&w.catapult(&["status", "--ticket", "OPS-3", "--json"]));
    let marks: Vec<(Option<&str>, Option<&str>)> = rows
        .iter()
        .map(|row| (row.environment.as_deref(), row.contains.as_deref()))
        .collect();
    assert_eq!(
        marks,
        [
            (None, Some("Y")),
            (Some("staging"), Some("Y")),
            (Some("production"), Some("N"))
        ]
    );
}

#[test]
fn older_records_without_tickets_are_read_from_git_when_at_hand_and_are_otherwise_unknown() {
    let bucket = Bucket::named("old");
    let mut w = workspace(&bucket);
    let first = commit(&mut w, "OPS-7: from before tickets were kept");
    // The older tool's record: no tickets, no commit times, no commits list.
    bucket.put(
        "api",
        json!({"version": 1, "commit": first, "author": "dev@example.com", "changelog": "",
               "timestamp": "2026-11-01T10:00:00Z", "rollback": false})
        .to_string(),
    );
    commit(&mut w, "A newer change");
    cli::success::<RecordOut>(&w.catapult(&["release", "api", "--no-image", "--yes"]));
    let out: Vec<TicketOut> = cli::success(&w.catapult(&["tickets", "OPS-7", "--json"]));
    assert_eq!(out[0].releases, [1, 2]);
    assert!(out[0].unknown_releases.is_empty());
    // Outside the repository, the older record cannot tell.
    let elsewhere = tempfile::tempdir().unwrap();
    let mut command = w.command(&["tickets", "OPS-7", "--json"]);
    command
        .current_dir(elsewhere.path())
        .env("CATAPULT_BUCKET_RELEASES", &bucket.name);
    let out: Vec<TicketOut> = cli::success(&command.output().unwrap());
    assert_eq!(out[0].releases, Vec::<u64>::new());
    assert_eq!(out[0].unknown_releases, [1, 2]);
}

/// A release record with each commit's time, as this tool writes them.
fn release(version: u64, commits: &[(&str, &str)], timestamp: &str) -> Value {
    json!({
        "version": version,
        "commit": commits.first().map_or(format!("{version:040x}"), |(sha, _)| (*sha).to_owned()),
        "author": "dev@example.com",
        "changelog": "",
        "commits": commits.iter().map(|(sha, _)| *sha).collect::<Vec<_>>(),
        "commit_times": commits.iter().map(|(_, at)| *at).collect::<Vec<_>>(),
        "tickets": [],
        "timestamp": timestamp,
        "rollback": false,
    })
}

fn deploy(version: u64, timestamp: &str, rollback: bool) -> Value {
    json!({
        "version": version, "commit": format!("{version:040x}"), "author": "dev@example.com",
        "changelog": "", "timestamp": timestamp, "rollback": rollback, "environment": "production",
    })
}

fn sha(n: u32) -> String {
    format!("{n:040x}")
}

#[test]
fn the_four_keys_come_out_as_worked_out_by_hand() {
    let bucket = Bucket::named("dora");
    let w = workspace(&bucket);
    // Times within the last 30 days, relative to now, whole seconds.
    let now = jiff::Timestamp::now().as_second();
    let at = |hours_ago: i64| {
        jiff::Timestamp::from_second(now - hours_ago * 3600)
            .unwrap()
            .to_string()
    };
    let (c1, c2, c3, c4) = (sha(1), sha(2), sha(3), sha(4));
    for body in [
        release(1, &[(&c1, &at(100))], &at(99)),
        release(2, &[(&c3, &at(80)), (&c2, &at(90))], &at(79)),
        release(3, &[(&c4, &at(60))], &at(59)),
    ] {
        bucket.put("api", body.to_string());
    }
    // Production: 1 at -98h; 3 (skipping 2) at -50h; rolled back to 1 at -48h; 3 again at -40h.
    for body in [
        deploy(1, &at(98), false),
        deploy(3, &at(50), false),
        deploy(1, &at(48), true),
        deploy(3, &at(40), false),
    ] {
        bucket.put("deploys/production/api", body.to_string());
    }
    // Staging: one deploy, of release 1.
    bucket.put("deploys/staging/api", deploy(1, &at(97), false).to_string());

    let out: Vec<MetricsOut> = cli::success(&w.catapult(&["metrics", "--json"]));
    let production = out
        .iter()
        .find(|row| row.environment == "production")
        .unwrap();
    assert_eq!(production.name, "api");
    assert_eq!(production.deploys, 4);
    assert!((production.deployment_frequency_per_day.unwrap() - 4.0 / 30.0).abs() < 1e-9);
    // Leads: c1 brought at -98h (2h); c2, c3, c4 brought at -50h (40h, 30h, 10h): median of
    // 2h, 10h, 30h, 40h is 20h.
    assert_eq!(production.lead_time_median_seconds, Some(20 * 3600));
    // Three deploys are not rollbacks; the one at -50h was rolled back 2h later.
    assert!((production.change_failure_rate.unwrap() - 1.0 / 3.0).abs() < 1e-9);
    assert_eq!(production.recovery_time_median_seconds, Some(2 * 3600));
    assert_eq!(production.skipped, 0);
    let since = jiff::Timestamp::from_second(now - 30 * 86_400).unwrap();
    let parsed: jiff::Timestamp = production.since.parse().unwrap();
    assert!(
        (parsed.as_second() - since.as_second()).abs() < 120,
        "{}",
        production.since
    );
    assert!(production.until.parse::<jiff::Timestamp>().is_ok());

    // One deploy: figures that need more are null, not errors.
    let staging = out.iter().find(|row| row.environment == "staging").unwrap();
    assert_eq!(staging.deploys, 1);
    assert_eq!(staging.change_failure_rate, Some(0.0));
    assert_eq!(staging.recovery_time_median_seconds, None);
    assert_eq!(staging.lead_time_median_seconds, Some(3 * 3600));

    // A window of two days holds the last two deploys; what they bring was brought before.
    let out: Vec<MetricsOut> = cli::success(&w.catapult(&[
        "metrics",
        "api",
        "--env",
        "production",
        "--since",
        "49h",
        "--json",
    ]));
    assert_eq!(out.len(), 1);
    assert_eq!(out[0].deploys, 2);
    assert_eq!(out[0].lead_time_median_seconds, None);
    assert_eq!(out[0].change_failure_rate, Some(0.0));

    // A record from the future, and one whose time cannot be read: skipped, and counted.
    bucket.put(
        "deploys/production/api",
        deploy(3, "2099-01-01T00:00:00Z", false).to_string(),
    );
    bucket.put(
        "deploys/production/api",
        deploy(3, "last tuesday", false).to_string(),
    );
    let out: Vec<MetricsOut> =
        cli::success(&w.catapult(&["metrics", "--env", "production", "--json"]));
    assert_eq!(out[0].skipped, 2);
    assert_eq!(out[0].deploys, 4);

    // A release without commit times makes lead time unknown, never a guess.
    bucket.put("api", json!({"version": 4, "commit": sha(5), "author": "a", "commits": [sha(5)], "timestamp": at(30)}).to_string());
    bucket.put(
        "deploys/production/api",
        deploy(4, &at(29), false).to_string(),
    );
    let out: Vec<MetricsOut> =
        cli::success(&w.catapult(&["metrics", "--env", "production", "--json"]));
    assert_eq!(out[0].lead_time_median_seconds, None);

    for (args, expected) in [
        (
            vec!["metrics", "--since", "a while"],
            "--since \"a while\" is not a duration",
        ),
        (vec!["metrics", "--since", "0m"], "is not a duration"),
        (vec!["metrics", "nosuchapp"], "no application nosuchapp"),
    ] {
        let error = cli::failure(&w.catapult(&args));
        assert!(error.contains(expected), "{args:?}: {error}");
    }
}
