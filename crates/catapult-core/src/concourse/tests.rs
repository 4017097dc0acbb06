//! `source` and the requests, parsed and validated as Concourse sends them.

use super::*;
use crate::Result;
use crate::store::Location;

fn at(bucket: &str, key: &str) -> Location {
    Location::parse(bucket, key).unwrap()
}

fn source(json: serde_json::Value) -> Result<ResourceConfig> {
    let request = serde_json::json!({ "source": json });
    CheckRequest::parse(request.to_string().as_bytes()).map(|(config, _)| config)
}

fn error(json: serde_json::Value) -> String {
    source(json).unwrap_err().to_string()
}

#[test]
fn resolves_the_defaults_of_a_release_resource() {
    let config = source(serde_json::json!({"bucket": "b", "name": "app"})).unwrap();
    assert_eq!(config.resource.app().releases, at("b", "app"));
    assert_eq!(config.resource.tracked(), &config.resource.app().releases);
    assert_eq!(config.resource.environment(), None);
    assert_eq!(config.connection.region, "us-east-1");
    assert_eq!(config.connection.credentials, None);
    assert!(!config.connection.path_style);
    assert!(!config.debug);
}

#[test]
fn places_deploys_beside_releases_or_in_a_bucket_of_their_own() {
    let beside =
        source(serde_json::json!({"bucket": "b", "name": "app", "environment": "staging"}))
            .unwrap();
    assert_eq!(beside.resource.tracked(), &at("b", "deploys/staging/app"));

    let own_bucket = source(serde_json::json!({
        "bucket": "b", "name": "app", "environment": "production", "deploy_bucket": "prod"
    }))
    .unwrap();
    assert_eq!(own_bucket.resource.tracked(), &at("prod", "app"));

    let explicit = source(serde_json::json!({
        "bucket": "b", "name": "app", "key": "releases/app",
        "environment": "qa", "deploy_key": "qa/app"
    }))
    .unwrap();
    assert_eq!(explicit.resource.app().releases, at("b", "releases/app"));
    assert_eq!(explicit.resource.tracked(), &at("b", "qa/app"));
}

#[test]
fn accepts_the_older_names() {
    let config = source(serde_json::json!({
        "bucket": "b", "name": "app",
        "aws_access_key_id": "AKID", "aws_secret_access_key": "SECRET",
        "aws_session_token": "TOKEN", "region_name": "eu-west-1",
        "use_path_style": true, "aws_role_arn": "arn:aws:iam::1:role/r"
    }))
    .unwrap();
    let credentials = config.connection.credentials.unwrap();
    assert_eq!(credentials.access_key_id, "AKID");
    assert_eq!(credentials.secret_access_key.expose(), "SECRET");
    assert_eq!(config.connection.region, "eu-west-1");
    assert!(config.connection.path_style);
    assert_eq!(
        config.connection.role_arn.as_deref(),
        Some("arn:aws:iam::1:role/r")
    );
}

#[test]
fn names_an_unknown_field() {
    let message = error(serde_json::json!({"bucket": "b", "name": "app", "buckit": "x"}));
    assert!(
        message.starts_with("invalid request: source.buckit: unknown field `buckit`"),
        "{message}"
    );
}

#[test]
fn names_a_missing_field() {
    let message = error(serde_json::json!({"name": "app"}));
    assert!(message.contains("missing field `bucket`"), "{message}");
}

#[test]
fn refuses_contradictions() {
    for (json, expected) in [
        (
            serde_json::json!({"bucket": "", "name": "a"}),
            "source.bucket must not be empty",
        ),
        (
            serde_json::json!({"bucket": "b", "name": "a", "deploy_key": "x"}),
            "source.deploy_key is set but source.environment is not",
        ),
        (
            serde_json::json!({"bucket": "b", "name": "a", "environment": "e", "deploy_key": "a"}),
            "would share s3://b/a",
        ),
        (
            serde_json::json!({"bucket": "b", "name": "a", "environment": "e", "require_deployed_to": ["e"]}),
            "the environment this resource deploys to",
        ),
        (
            serde_json::json!({"bucket": "b", "name": "a", "access_key_id": "k"}),
            "without source.secret_access_key",
        ),
        (
            serde_json::json!({"bucket": "b", "name": "a", "endpoint": "localhost:9000"}),
            "is not a URL",
        ),
    ] {
        let message = error(json);
        assert!(message.contains(expected), "{message:?} lacks {expected:?}");
    }
}

#[test]
fn never_shows_a_secret() {
    let config = source(serde_json::json!({
        "bucket": "b", "name": "a", "access_key_id": "k", "secret_access_key": "hunter2",
        "session_token": "tok3n"
    }))
    .unwrap();
    let shown = format!("{config:?}");
    assert!(
        !shown.contains("hunter2") && !shown.contains("tok3n"),
        "{shown}"
    );
}

#[test]
fn takes_the_first_check_with_or_without_a_null_version() {
    for stdin in [
        r#"{"source": {"bucket": "b", "name": "a"}}"#,
        r#"{"source": {"bucket": "b", "name": "a"}, "version": null}"#,
    ] {
        let (_, version) = CheckRequest::parse(stdin.as_bytes()).unwrap();
        assert_eq!(version, None);
    }
    let stdin = r#"{"source": {"bucket": "b", "name": "a"}, "version": {"version": "", "version_id": "x"}}"#;
    assert!(CheckRequest::parse(stdin.as_bytes()).is_err());
}

#[test]
fn refuses_params_for_get() {
    let stdin = r#"{"source": {"bucket": "b", "name": "a"}, "version": {"version": "1", "version_id": "x"}, "params": {"skip": true}}"#;
    let message = InRequest::parse(stdin.as_bytes()).unwrap_err().to_string();
    assert!(
        message.contains("params.skip: unknown field `skip`"),
        "{message}"
    );
}

#[test]
fn out_params_must_fit_the_kind_of_resource() {
    let release = source(serde_json::json!({"bucket": "b", "name": "a"})).unwrap();
    let deploy =
        source(serde_json::json!({"bucket": "b", "name": "a", "environment": "e"})).unwrap();
    let params = |json: serde_json::Value| -> OutParams { serde_json::from_value(json).unwrap() };

    let release_params =
        params(serde_json::json!({"repository": "r", "image": "i", "force": true}));
    assert!(release_params.check_applies_to(&release.resource).is_ok());
    let message = release_params
        .check_applies_to(&deploy.resource)
        .unwrap_err()
        .to_string();
    assert!(
        message.contains("params.image does not apply to deploy resources"),
        "{message}"
    );

    let deploy_params = params(serde_json::json!({"version": 3, "repository": "r"}));
    assert!(deploy_params.check_applies_to(&deploy.resource).is_ok());
    let message = deploy_params
        .check_applies_to(&release.resource)
        .unwrap_err()
        .to_string();
    assert!(
        message.contains("params.version does not apply to release resources"),
        "{message}"
    );

    let both = params(serde_json::json!({"version": 3, "release": "r"}));
    assert!(both.check_applies_to(&deploy.resource).is_err());
}
