//! The older catapult, kept in one place: what each of its names and shapes means now, so that a
//! team switches a pipeline's resource type to this image and nothing else changes, and the
//! main types stay clean.
//!
//! | the older tool's | means here |
//! |---|---|
//! | `source.is_deploy: true` | a deploy resource; `environment` defaults to `staging` |
//! | `source.is_deploy: false` | a release resource (an `environment` beside it is an error) |
//! | `source.has_image: false` | releases carry no image (`image: null`); an image param is an error; accepted and without effect on a deploy resource (a deploy copies its release's image), whose `source` often shares a YAML anchor with the release resource's |
//! | `source.aws_access_key_id`, `aws_secret_access_key`, `aws_session_token` | `access_key_id`, … |
//! | `source.region_name`, `use_path_style`, `aws_role_arn` (s3-resource's) | `region`, `path_style`, `role_arn` |
//! | `params.image_id` | `params.image` |
//! | `params.version` (a file) | `params.version` |
//! | version `{"version": "3"}` | the newest record numbered 3 |
//! | version `{"version": "3", "deploy": "<id>"}` | the deploy record with S3 version id `<id>` |
//! | `"author": null`, `"commits": null`, no `timestamp`, `changelog` or `environment` | read as unknown, none, the S3 LastModified, `<changelog unavailable>`, the resource's environment |
//! | `in`'s `image-id` holding `null` for no image, `message.json` | written the same |
//!
//! The aliases of field names are serde aliases on [`super::source::Source`]; the rest is here.

use serde::Serialize;

use super::version::GivenVersion;
use crate::record::{EnvironmentName, Record};

/// The environment the older deploy resource used when `source` named none.
pub const OLD_DEFAULT_ENVIRONMENT: &str = "staging";

/// The environment a `source` deploys to, if it is a deploy resource: its `environment`, or the
/// older resource's `is_deploy: true` with its default environment.
pub fn environment(
    environment: Option<EnvironmentName>,
    is_deploy: Option<bool>,
) -> Result<Option<EnvironmentName>, String> {
    match (environment, is_deploy) {
        (Some(_), Some(false)) => Err(
            "source.is_deploy is false but source.environment is set: remove one of them".into(),
        ),
        (Some(environment), _) => Ok(Some(environment)),
        (None, Some(true)) => Ok(Some(EnvironmentName::parse(
            "the default environment",
            OLD_DEFAULT_ENVIRONMENT,
        )?)),
        (None, _) => Ok(None),
    }
}

/// Which record a version Concourse gave names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum VersionRef {
    /// Exactly this S3 version.
    Exact {
        /// The S3 VersionId.
        version_id: String,
    },
    /// The newest record with this release number (a version the older release resource
    /// emitted: it had no S3 version id).
    Number(u64),
}

/// What a version Concourse gave names: this resource's `version_id`, the older deploy
/// resource's `deploy`, or the older release resource's bare number.
pub fn resolve_version(given: &GivenVersion) -> Result<VersionRef, String> {
    match (&given.version_id, &given.deploy) {
        (Some(version_id), _) | (None, Some(version_id)) => Ok(VersionRef::Exact {
            version_id: version_id.clone(),
        }),
        (None, None) => match given.version.trim().parse::<u64>() {
            Ok(number) if number > 0 => Ok(VersionRef::Number(number)),
            _ => Err(format!(
                "version {{\"version\": {:?}}} names no release: it has no version_id, and its version is not a release number",
                given.version
            )),
        },
    }
}

/// The older resource's `message.json`: a Slack attachment list announcing the record, with the
/// older resource's keys and no other (the changelog is a field).
pub fn slack_message(name: &str, record: &Record) -> serde_json::Value {
    #[derive(Serialize)]
    struct Field {
        title: &'static str,
        value: String,
        short: bool,
    }
    let (pretext, color) = match (&record.environment, record.rollback) {
        (Some(environment), true) => (
            format!(
                "Rolled back {name} on {environment} to release {}",
                record.version
            ),
            "warning",
        ),
        (Some(environment), false) => (
            format!(
                "Deployed {name} release {} to {environment}",
                record.version
            ),
            "good",
        ),
        (None, _) => (format!("Released {name} {}", record.version), "#439FE0"),
    };
    let mut fields = vec![
        Field {
            title: "Version",
            value: record.version.to_string(),
            short: true,
        },
        Field {
            title: "Commit",
            value: record.short_commit().to_owned(),
            short: true,
        },
    ];
    if let Some(environment) = &record.environment {
        fields.push(Field {
            title: "Environment",
            value: environment.clone(),
            short: true,
        });
    }
    if let Some(image) = &record.image {
        fields.push(Field {
            title: "Image",
            value: image.clone(),
            short: false,
        });
    }
    if !record.changelog.is_empty() {
        fields.push(Field {
            title: "Changelog",
            value: record.changelog.clone(),
            short: false,
        });
    }
    let ts = jiff::Timestamp::strptime(
        "%Y-%m-%dT%H:%M:%S%:z",
        record.timestamp.replace('Z', "+00:00"),
    )
    .map(|time| time.as_second())
    .unwrap_or_default();
    serde_json::json!([{
        "fallback": pretext,
        "color": color,
        "pretext": pretext,
        "author_name": record.author_or_unknown(),
        "title": format!("{name} {}", record.version),
        "title_link": serde_json::Value::Null,
        "fields": fields,
        "footer": "catapult",
        "ts": ts,
    }])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn given(version: &str, version_id: Option<&str>, deploy: Option<&str>) -> GivenVersion {
        GivenVersion {
            version: version.into(),
            version_id: version_id.map(Into::into),
            deploy: deploy.map(Into::into),
        }
    }

    #[test]
    fn resolves_each_shape_of_version() {
        assert_eq!(
            resolve_version(&given("3", Some("abc"), None)),
            Ok(VersionRef::Exact {
                version_id: "abc".into()
            })
        );
        assert_eq!(
            resolve_version(&given("3", None, Some("dep"))),
            Ok(VersionRef::Exact {
                version_id: "dep".into()
            })
        );
        assert_eq!(
            resolve_version(&given("3", None, None)),
            Ok(VersionRef::Number(3))
        );
        assert!(resolve_version(&given("x", None, None)).is_err());
        assert!(resolve_version(&given("0", None, None)).is_err());
    }

    #[test]
    fn the_slack_message_has_the_older_resource_keys_and_no_other() {
        let record = Record::parse(
            br#"{"version": 3, "commit": "0123456789abcdef", "author": null, "changelog": "x"}"#,
            None,
        )
        .unwrap();
        let message = slack_message("app", &record);
        let mut keys: Vec<&str> = message[0]
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
            ]
        );
        assert_eq!(message[0]["author_name"], "unknown");
        assert_eq!(message[0]["fields"][2]["title"], "Changelog");
    }
}
