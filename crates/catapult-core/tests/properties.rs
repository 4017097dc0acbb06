//! Properties over whatever may arrive from outside: any bytes or any JSON on stdin, any body a
//! store holds. Each parser ends with a value or an error, never a panic, and what it accepts
//! holds only usable values. CI runs a bounded number of cases (proptest's default 256).

use catapult_core::concourse::Resource;
use catapult_core::concourse::{CheckRequest, InRequest, OutRequest};
use catapult_core::record::Record;
use proptest::prelude::*;
use serde_json::{Value, json};

/// Any JSON value, a few levels deep, with strings that include control characters, quotes and
/// long runs.
fn any_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(|n| json!(n)),
        any::<u64>().prop_map(|n| json!(n)),
        any::<f64>().prop_map(|n| json!(n)),
        any_text().prop_map(Value::String),
    ];
    leaf.prop_recursive(3, 24, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::btree_map(any_text(), inner, 0..4)
                .prop_map(|map| Value::Object(map.into_iter().collect())),
        ]
    })
}

fn any_text() -> impl Strategy<Value = String> {
    prop_oneof![
        ".{0,12}",
        "[a-z0-9-]{1,12}",
        "[\\x00-\\x1f ]{0,4}[a-z]{0,4}",
        (1usize..3000).prop_map(|n| "k".repeat(n)),
    ]
}

/// A `source` with every field drawn from a few plausible and implausible values.
fn any_source() -> impl Strategy<Value = Value> {
    let field = |name: &'static str| {
        prop_oneof![
            Just(None),
            any_text().prop_map(move |text| Some((name, json!(text)))),
            any_json().prop_map(move |value| Some((name, value))),
        ]
    };
    (
        any_text(),
        any_text(),
        prop::collection::vec(
            prop_oneof![
                field("key"),
                field("environment"),
                field("deploy_bucket"),
                field("deploy_key"),
                field("region"),
                field("endpoint"),
                field("access_key_id"),
                field("secret_access_key"),
                field("session_token"),
                field("require_deployed_to"),
                field("is_deploy"),
                field("has_image"),
            ],
            0..6,
        ),
    )
        .prop_map(|(bucket, name, fields)| {
            let mut source = json!({"bucket": bucket, "name": name});
            for (field, value) in fields.into_iter().flatten() {
                source[field] = value;
            }
            source
        })
}

fn clean(text: &str, limit: usize) -> bool {
    !text.trim().is_empty() && text.len() <= limit && !text.chars().any(char::is_control)
}

proptest! {
    #[test]
    fn any_bytes_on_stdin_are_a_request_or_an_error(bytes in prop::collection::vec(any::<u8>(), 0..512)) {
        let _ = CheckRequest::parse(&bytes);
        let _ = InRequest::parse(&bytes);
        let _ = OutRequest::parse(&bytes);
    }

    #[test]
    fn any_json_on_stdin_is_a_request_or_an_error(value in any_json()) {
        let bytes = value.to_string().into_bytes();
        let _ = CheckRequest::parse(&bytes);
        let _ = InRequest::parse(&bytes);
        let _ = OutRequest::parse(&bytes);
    }

    #[test]
    fn an_accepted_source_holds_only_usable_names(source in any_source(), version in any_json()) {
        let request = json!({"source": source, "version": version});
        if let Ok((config, _)) = CheckRequest::parse(request.to_string().as_bytes()) {
            let app = config.resource.app();
            prop_assert!(clean(&app.name, 1024));
            prop_assert!(clean(&app.releases.bucket, 255));
            prop_assert!(clean(&app.releases.key, 1024));
            let tracked = config.resource.tracked();
            prop_assert!(clean(&tracked.key, 1024) && clean(&tracked.bucket, 255));
            if let Resource::Deploy(deploy) = &config.resource {
                prop_assert_ne!(deploy.environment.deploys(), &app.releases);
                prop_assert!(clean(deploy.environment.name(), 1024));
            }
            prop_assert!(clean(&config.connection.region, 64));
            if let Some(credentials) = &config.connection.credentials {
                prop_assert!(clean(&credentials.access_key_id, 256));
                prop_assert!(clean(credentials.secret_access_key.expose(), 8192));
            }
        }
    }

    #[test]
    fn any_body_is_a_record_or_a_reason(bytes in prop::collection::vec(any::<u8>(), 0..256), value in any_json()) {
        let _ = Record::parse(&bytes, None);
        let _ = Record::parse(value.to_string().as_bytes(), None);
        let mut fields = json!({"version": 1, "commit": "abc", "author": "a@b"});
        if let Value::Object(extra) = value {
            for (name, value) in extra {
                fields[name] = value;
            }
        }
        let _ = Record::parse(fields.to_string().as_bytes(), None);
    }

    #[test]
    fn a_record_reads_back_as_it_was_written(
        version in 1u64..,
        commit in "[0-9a-f]{40}",
        author in proptest::option::of(".{1,40}"),
        changelog in ".{0,200}",
        rollback in any::<bool>(),
        environment in proptest::option::of("[a-z]{1,10}"),
        highest_version in proptest::option::of(1u64..),
        write_id in proptest::option::of("[0-9a-f]{32}"),
    ) {
        let record = Record {
            version,
            commit: commit.clone(),
            image: None,
            author: author.filter(|author| !author.is_empty()),
            changelog,
            commits: vec![commit],
            timestamp: "2026-11-21T10:00:00Z".into(),
            rollback,
            action_type: Some("manual".into()),
            environment,
            build: None,
            highest_version,
            write_id,
            ..Record::default()
        };
        let read = Record::parse(&record.to_json(), None).map_err(TestCaseError::fail)?;
        prop_assert_eq!(read, record);
    }
}
