//! Hostile input, each case once reproduced against the binaries: whatever arrives on stdin, in
//! `source`, in params, in a record body or from the store, every binary ends with the
//! protocol's JSON or an `error:` line and exit 1, never a panic or an abort, and writes nothing.

use catapult_test::resource as common;

use std::net::TcpListener;
use std::process::Output;
use std::time::{Duration, Instant};

use common::{
    Bucket, Build, StepOutput, check, endpoint, failure, put, record, run, success, version,
};
use serde_json::{Value, json};

/// The error line of a failed run, after asserting it did not panic or abort.
fn refused(output: &Output) -> String {
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        !stderr.contains("panicked") && !stderr.contains("RUST_BACKTRACE"),
        "a panic:\n{stderr}"
    );
    failure(output)
}

fn get(source: &Value, version: &Value, directory: &std::path::Path) -> Output {
    run(
        "in",
        &json!({"source": source, "version": version}),
        Some(directory),
    )
}

#[test]
fn names_keys_environments_and_version_ids_past_s3s_limits_are_refused() {
    let bucket = Bucket::versioned();
    let id = bucket.put_record("app", 1);
    let long = "x".repeat(64 * 1024);
    for (field, extra) in [
        ("name", json!({"name": long})),
        ("key", json!({"key": long})),
        ("environment", json!({"environment": long})),
    ] {
        let error = refused(&check(&bucket.source("app", extra), None));
        assert_eq!(
            error,
            format!(
                "error: invalid source: source.{field} is 65536 bytes long, more than the 1024 it may be"
            )
        );
    }
    let destination = tempfile::tempdir().unwrap();
    let error = refused(&get(
        &bucket.source("app", json!({})),
        &json!({"version": "1", "version_id": long}),
        destination.path(),
    ));
    assert_eq!(
        error,
        "error: invalid request: version.version_id is 65536 bytes long, more than the 1024 it may be"
    );

    // The same through a release.json a deploy is asked to deploy.
    let build = Build::new();
    let mut fetched = record(1, None);
    fetched["version_id"] = json!(long);
    fetched["name"] = json!("app");
    build.write("release/release.json", &fetched.to_string());
    let staging = bucket.source("app", json!({"environment": "staging"}));
    let error = refused(&put(&staging, json!({"release": "release"}), build.path()));
    assert!(
        error.starts_with("error: invalid params: params.release: ")
            && error.ends_with(
                "release.json's version_id is 65536 bytes long, more than the 1024 it may be"
            ),
        "{error}"
    );
    assert_eq!(bucket.history("app").len(), 1);
    assert_eq!(bucket.history("deploys/staging/app").len(), 0);
    let _ = id;
}

#[test]
fn a_pasted_credential_or_region_with_a_newline_is_refused() {
    let bucket = Bucket::versioned();
    for (extra, expected) in [
        (
            json!({"access_key_id": format!("{}\n", common::access_key_id())}),
            "error: invalid source: source.access_key_id ends in a newline or another control character (pasted with it?)",
        ),
        (
            json!({"region": "eu-west-1\n"}),
            "error: invalid source: source.region ends in a newline or another control character (pasted with it?)",
        ),
        (
            json!({"secret_access_key": "secret\n"}),
            "error: invalid source: source.secret_access_key holds a space, a newline or another control character (pasted with it?)",
        ),
        (
            json!({"session_token": "tok\ten"}),
            "error: invalid source: source.session_token holds a space, a newline or another control character (pasted with it?)",
        ),
    ] {
        let output = check(&bucket.source("app", extra), None);
        let error = refused(&output);
        assert_eq!(error, expected);
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(
            !stderr.contains("secret\n") && !stderr.contains("tok\ten"),
            "{stderr}"
        );
    }
}

#[test]
fn an_empty_or_blank_secret_or_session_token_is_refused() {
    let bucket = Bucket::versioned();
    for (field, value) in [
        ("secret_access_key", ""),
        ("secret_access_key", "   "),
        ("session_token", ""),
        ("session_token", " "),
    ] {
        let error = refused(&check(&bucket.source("app", json!({ field: value })), None));
        assert_eq!(
            error,
            format!("error: invalid source: source.{field} is empty or blank")
        );
    }
}

#[test]
fn a_secret_given_as_a_number_is_never_echoed() {
    let bucket = Bucket::versioned();
    for field in [
        "secret_access_key",
        "session_token",
        "aws_secret_access_key",
    ] {
        let output = check(
            &bucket.source("app", json!({ field: 918273645546372819u64 })),
            None,
        );
        let error = refused(&output);
        assert!(
            error.starts_with(&format!(
                "error: invalid request: source.{field}: a credential must be a string (quote it in the pipeline or vars file); its value is not shown"
            )),
            "{error}"
        );
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(!stderr.contains("918273645546372819"), "{stderr}");
    }
}

#[test]
fn a_latest_release_at_the_largest_number_is_refused_never_wrapped() {
    let bucket = Bucket::versioned();
    let largest = bucket.put("app", record(u64::MAX, None).to_string());
    let mut build = Build::new();
    build.commit("Start");
    let error = refused(&put(
        &bucket.source("app", json!({})),
        json!({"repository": "repo"}),
        build.path(),
    ));
    assert_eq!(
        error,
        format!(
            "error: version {largest:?} of s3://{}/app is not a valid record: its release number 18446744073709551615 is the largest there can be: no release can follow it",
            bucket.name
        )
    );
    assert_eq!(bucket.history("app").len(), 1);
}

#[test]
fn a_nul_or_a_control_character_in_the_author_is_refused_before_writing() {
    let bucket = Bucket::versioned();
    let mut build = Build::new();
    build.commit("Start");
    for author in ["dev\u{0}@example.com", "dev\u{1b}[31m@example.com"] {
        let error = refused(&put(
            &bucket.source("app", json!({})),
            json!({"repository": "repo", "author": author}),
            build.path(),
        ));
        assert_eq!(
            error,
            "error: invalid params: params.author holds a control character"
        );
    }
    assert!(bucket.history("app").is_empty());
}

#[test]
fn param_paths_stay_inside_the_build_directory_and_no_error_quotes_a_file() {
    let bucket = Bucket::versioned();
    let mut build = Build::new();
    build.commit("Start");
    build.write("secret-file", "TOP-SECRET-CONTENTS");
    let outside = tempfile::tempdir().unwrap();
    std::os::unix::fs::symlink(outside.path(), build.path().join("link")).unwrap();
    let source = bucket.source("app", json!({}));
    for (params, param, path) in [
        (
            json!({"repository": "repo", "commit": "/proc/self/environ"}),
            "commit",
            "/proc/self/environ",
        ),
        (
            json!({"repository": "repo", "image": "../../etc/passwd"}),
            "image",
            "../../etc/passwd",
        ),
        (json!({"repository": "/etc"}), "repository", "/etc"),
        (
            json!({"repository": "repo", "image": "link/digest"}),
            "image",
            "link/digest",
        ),
    ] {
        let output = put(&source, params.clone(), build.path());
        let error = refused(&output);
        assert_eq!(
            error,
            format!(
                "error: invalid params: params.{param}: {path:?} leaves the build directory: name a path inside it"
            ),
            "{params}"
        );
    }
    // A file inside that holds no digest: the error names it, and never quotes it.
    for (param, expected) in [
        ("image", "does not hold an image digest"),
        ("commit", "does not hold a commit of repo"),
    ] {
        let output = put(
            &source,
            json!({"repository": "repo", param: "secret-file"}),
            build.path(),
        );
        let error = refused(&output);
        assert!(error.contains(expected), "{error}");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(!stderr.contains("TOP-SECRET"), "{stderr}");
    }
    let staging = bucket.source("app", json!({"environment": "staging"}));
    let output = put(&staging, json!({"version": "secret-file"}), build.path());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(refused(&output).contains("secret-file"), "{stderr}");
    assert!(!stderr.contains("TOP-SECRET"), "{stderr}");
    assert!(bucket.history("app").is_empty());
}

#[test]
fn a_record_body_past_a_sane_size_is_refused_without_reading_it_whole() {
    let bucket = Bucket::versioned();
    let good = bucket.put_record("app", 1);
    let mut huge = record(2, None).to_string().into_bytes();
    huge.truncate(huge.len() - 1);
    huge.extend_from_slice(b", \"padding\": \"");
    huge.resize(100 * 1024 * 1024, b'x');
    huge.extend_from_slice(b"\"}");
    let huge_id = bucket.put("app", huge);

    let destination = tempfile::tempdir().unwrap();
    let error = refused(&get(
        &bucket.source("app", json!({})),
        &json!({"version": "2", "version_id": huge_id}),
        destination.path(),
    ));
    assert_eq!(
        error,
        format!(
            "error: S3 GetObject on s3://{}/app (the S3 store at {}): the body is 104857602 bytes, more than the 4194304 a record may be",
            bucket.name,
            endpoint()
        )
    );
    // check skips it, with a warning, and emits the newest valid record.
    let output = check(&bucket.source("app", json!({})), None);
    let versions: Vec<common::Version> = success(&output);
    assert_eq!(versions, [version(1, &good)]);
    let _: Option<StepOutput> = None;
}

/// A server that accepts connections and never answers, for as long as the test runs.
fn silent_server() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let address = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for stream in listener.incoming() {
            held.push(stream);
        }
    });
    format!("http://{address}")
}

#[test]
fn a_server_that_never_answers_ends_every_step_within_a_minute_naming_it() {
    let endpoint = silent_server();
    let source = json!({
        "bucket": "b", "name": "app", "endpoint": endpoint, "path_style": true,
        "access_key_id": "k", "secret_access_key": "s", "environment": "staging",
    });
    let mut build = Build::new();
    build.commit("Start");
    let started = Instant::now();
    let steps: Vec<std::thread::JoinHandle<Output>> = vec![
        {
            let source = source.clone();
            std::thread::spawn(move || check(&source, None))
        },
        {
            let source = source.clone();
            std::thread::spawn(move || {
                let destination = tempfile::tempdir().unwrap();
                get(
                    &source,
                    &json!({"version": "1", "version_id": "v"}),
                    destination.path(),
                )
            })
        },
        {
            let source = source.clone();
            let path = build.path().to_owned();
            std::thread::spawn(move || put(&source, json!({"version": 1}), &path))
        },
    ];
    for step in steps {
        let error = refused(&step.join().unwrap());
        assert!(error.contains(&endpoint), "{error}");
    }
    assert!(
        started.elapsed() < Duration::from_secs(60),
        "took {:?}",
        started.elapsed()
    );
}

#[test]
fn stdin_that_is_not_a_request_is_an_error_never_a_panic() {
    for stdin in [
        "".to_owned(),
        "null".to_owned(),
        "[]".to_owned(),
        "{\"source\": {}}".to_owned(),
        "\u{0}\u{1}\u{2}".to_owned(),
        "{".repeat(100_000),
        format!(
            "{{\"source\": {{\"bucket\": \"b\", \"name\": \"{}\"}}}}",
            "\\u0000"
        ),
    ] {
        for binary in ["check", "in", "out"] {
            let directory = tempfile::tempdir().unwrap();
            let mut command = catapult_test::binary::command(binary);
            command.env_clear().write_stdin(stdin.clone());
            if binary != "check" {
                command.arg(directory.path());
            }
            let output = command.output().unwrap();
            let error = refused(&output);
            assert!(error.starts_with("error: invalid "), "{binary}: {error}");
        }
    }
}
