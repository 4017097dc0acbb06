//! `in` (a keyword, hence `get`): fetch exactly one S3 version of a record and lay it out as
//! files a build can read, under the names the older tool used so that existing pipelines keep
//! working, plus `release.env`, which any shell can `source` safely whatever the text holds.

use std::path::Path;

use super::compat::{self, VersionRef, resolve_version};
use super::request::{MetadataField, StepOutput};
use super::resource::Resource;
use super::version::{GivenVersion, Version};
use crate::error::{Error, Result};
use crate::log::{Judgement, RecordLog};
use crate::record::Record;
use crate::store::RecordStore;

/// How many lines of the changelog the Concourse UI shows.
const METADATA_CHANGELOG_LINES: usize = 10;

/// What `image-id` holds for a record without an image: the older resource's convention.
const NO_IMAGE: &str = "null";

/// Fetches the version `given` names of the records `resource` tracks into `destination`.
pub async fn get<S: RecordStore>(
    store: &S,
    resource: &Resource,
    given: &GivenVersion,
    destination: &Path,
) -> Result<StepOutput> {
    let at = resource.tracked();
    let log = RecordLog::new(store, at);
    let mut stored = match resolve_version(given).map_err(Error::InvalidRequest)? {
        VersionRef::Exact { version_id } => log.read_exact(&version_id).await?,
        VersionRef::Number(number) => log
            .find(None, |stored| {
                if stored.record.version == number {
                    Judgement::Found
                } else {
                    Judgement::Continue
                }
            })
            .await?
            .ok_or_else(|| Error::ReleaseNotFound {
                location: at.clone(),
                wanted: format!("record numbered {number}"),
            })?,
    };
    // The older tool's deploy records do not say their environment: it is the resource's.
    if let (None, Some(environment)) = (&stored.record.environment, resource.environment()) {
        stored.record.environment = Some(environment.name().to_string());
    }
    let name = &resource.app().name;
    let files = render_files(name, &stored.record, &stored.version_id).map_err(|reason| {
        Error::InvalidRecord {
            location: at.clone(),
            version_id: stored.version_id.clone(),
            reason,
        }
    })?;

    std::fs::create_dir_all(destination)
        .map_err(|err| Error::io("create directory", destination, err))?;
    for (file, contents) in &files {
        let path = destination.join(file);
        std::fs::write(&path, contents).map_err(|err| Error::io("write", path, err))?;
    }
    tracing::info!(
        "fetched {name} {} ({}) from {at}",
        stored.record.version,
        stored.record.short_commit()
    );
    Ok(step_output(&stored.record, &stored.version_id))
}

/// What `in` and `out` print for a record stored as `version_id`.
pub fn step_output(record: &Record, version_id: &str) -> StepOutput {
    StepOutput {
        version: Version::new(record.version, version_id),
        metadata: metadata(record),
    }
}

/// The lines the Concourse UI shows beside a version.
pub fn metadata(record: &Record) -> Vec<MetadataField> {
    let mut fields = vec![
        ("version", record.version.to_string()),
        ("commit", record.commit.clone()),
        ("author", record.author_or_unknown().to_owned()),
    ];
    if let Some(image) = &record.image {
        fields.push(("image", image.clone()));
    }
    fields.push(("timestamp", record.timestamp.clone()));
    if let Some(environment) = &record.environment {
        fields.push(("environment", environment.clone()));
    }
    if record.rollback {
        fields.push(("rollback", "true".to_owned()));
    }
    if !record.changelog.is_empty() {
        fields.push(("changelog", changelog_head(&record.changelog)));
    }
    fields
        .into_iter()
        .map(|(name, value)| MetadataField {
            name: name.to_owned(),
            value,
        })
        .collect()
}

fn changelog_head(changelog: &str) -> String {
    let lines: Vec<&str> = changelog.lines().collect();
    if lines.len() <= METADATA_CHANGELOG_LINES {
        return changelog.to_owned();
    }
    let mut head = lines[..METADATA_CHANGELOG_LINES].join("\n");
    head.push_str(&format!(
        "\n[{} more lines]",
        lines.len() - METADATA_CHANGELOG_LINES
    ));
    head
}

/// The git tag of release `version` of `name`.
pub fn git_tag(name: &str, version: u64) -> String {
    format!("{name}-v{version}")
}

/// Every file `in` writes, by name. Single-line files have no trailing newline. The error is why
/// the record cannot be written out (a NUL byte cannot be quoted for a shell).
pub fn render_files(
    name: &str,
    record: &Record,
    version_id: &str,
) -> Result<Vec<(&'static str, String)>, String> {
    let mut release = serde_json::to_value(record).expect("a record always serializes");
    let fields = release.as_object_mut().expect("a record is a JSON object");
    fields.insert("version_id".into(), version_id.into());
    fields.insert("name".into(), name.into());
    let mut release_json = serde_json::to_string_pretty(&release).expect("JSON serializes");
    release_json.push('\n');

    let labels = serde_json::json!({
        "org.opencontainers.image.version": record.version.to_string(),
        "org.opencontainers.image.revision": record.commit,
        "org.opencontainers.image.created": record.timestamp,
    });
    let mut labels_json = serde_json::to_string_pretty(&labels).expect("JSON serializes");
    labels_json.push('\n');

    let tag = git_tag(name, record.version);
    let image = record.image.clone().unwrap_or_default();
    let author = record.author_or_unknown().to_owned();
    let mut message_json = serde_json::to_string_pretty(&compat::slack_message(name, record))
        .expect("JSON serializes");
    message_json.push('\n');
    let mut env = vec![
        ("RELEASE_NAME", name.to_owned()),
        ("RELEASE_VERSION", record.version.to_string()),
        ("RELEASE_VERSION_ID", version_id.to_owned()),
        ("RELEASE_COMMIT", record.commit.clone()),
        ("RELEASE_COMMIT_SHORT", record.short_commit().to_owned()),
        ("RELEASE_IMAGE", image.clone()),
        ("RELEASE_TAG", tag.clone()),
        ("RELEASE_AUTHOR", author.clone()),
        ("RELEASE_TIMESTAMP", record.timestamp.clone()),
        ("RELEASE_ROLLBACK", record.rollback.to_string()),
        ("RELEASE_CHANGELOG", record.changelog.clone()),
    ];
    if let Some(environment) = &record.environment {
        env.push(("RELEASE_ENVIRONMENT", environment.clone()));
    }
    let release_env = shell_assignments(&env)?;

    let mut files = vec![
        ("release.json", release_json),
        ("version", record.version.to_string()),
        ("version_id", version_id.to_owned()),
        ("commit", record.commit.clone()),
        (
            "image-id",
            record.image.clone().unwrap_or_else(|| NO_IMAGE.to_owned()),
        ),
        ("author", author),
        ("timestamp", record.timestamp.clone()),
        ("changelog", record.changelog.clone()),
        ("git-tag", tag),
        ("docker_labels.json", labels_json),
        ("release.env", release_env),
        ("message.json", message_json),
    ];
    if let Some(environment) = &record.environment {
        files.push(("environment", environment.clone()));
    }
    Ok(files)
}

/// `NAME=value` lines, each value quoted so that sourcing the text assigns it verbatim.
fn shell_assignments(variables: &[(&str, String)]) -> Result<String, String> {
    let mut text = String::new();
    for (name, value) in variables {
        let quoted = shlex::try_quote(value)
            .map_err(|_| format!("{name} holds a NUL byte, which no shell variable can hold"))?;
        text.push_str(&format!("{name}={quoted}\n"));
    }
    Ok(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record() -> Record {
        Record {
            version: 12,
            commit: "42182bb85bebe8d7f1ee515c13517be0dee8ada3".into(),
            image: Some(format!("sha256:{}", "a".repeat(64))),
            author: Some("dev@example.com".into()),
            changelog: "42182bb  2026-11-20  Dev Name  Fix the thing".into(),
            commits: vec!["42182bb85bebe8d7f1ee515c13517be0dee8ada3".into()],
            timestamp: "2026-11-21T10:00:00Z".into(),
            rollback: false,
            action_type: Some("automated".into()),
            ..Record::default()
        }
    }

    fn file<'a>(files: &'a [(&'static str, String)], name: &str) -> &'a str {
        &files.iter().find(|(n, _)| *n == name).unwrap().1
    }

    #[test]
    fn writes_every_file_single_lines_without_newline() {
        let files = render_files("app", &record(), "v-id").unwrap();
        let names: Vec<_> = files.iter().map(|(name, _)| *name).collect();
        assert_eq!(
            names,
            [
                "release.json",
                "version",
                "version_id",
                "commit",
                "image-id",
                "author",
                "timestamp",
                "changelog",
                "git-tag",
                "docker_labels.json",
                "release.env",
                "message.json"
            ]
        );
        assert_eq!(file(&files, "version"), "12");
        assert_eq!(file(&files, "git-tag"), "app-v12");
        assert_eq!(
            file(&files, "image-id"),
            format!("sha256:{}", "a".repeat(64))
        );
        let release: serde_json::Value =
            serde_json::from_str(file(&files, "release.json")).unwrap();
        assert_eq!(release["version_id"], "v-id");
        assert_eq!(release["name"], "app");
        let labels: serde_json::Value =
            serde_json::from_str(file(&files, "docker_labels.json")).unwrap();
        assert_eq!(labels["org.opencontainers.image.version"], "12");
        assert_eq!(
            labels["org.opencontainers.image.created"],
            "2026-11-21T10:00:00Z"
        );
    }

    #[test]
    fn adds_the_environment_of_a_deploy() {
        let deploy = Record {
            environment: Some("staging".into()),
            image: None,
            ..record()
        };
        let files = render_files("app", &deploy, "v").unwrap();
        assert_eq!(file(&files, "environment"), "staging");
        assert_eq!(file(&files, "image-id"), "null");
        assert!(file(&files, "release.env").contains("RELEASE_ENVIRONMENT=staging\n"));
    }

    #[test]
    fn quotes_release_env_so_sourcing_assigns_verbatim() {
        let hostile = Record {
            author: Some("O'Brien $(touch /tmp/pwned) `id`".into()),
            changelog: "line one\nline 'two' \"three\" $HOME \\ ;".into(),
            ..record()
        };
        let files = render_files("app", &hostile, "v").unwrap();
        let env = file(&files, "release.env");
        let output = std::process::Command::new("sh")
            .arg("-c")
            .arg(format!(
                "{env}\nprintf '%s\\0%s' \"$RELEASE_AUTHOR\" \"$RELEASE_CHANGELOG\""
            ))
            .output()
            .unwrap();
        assert!(output.status.success());
        let expected = format!("{}\0{}", hostile.author_or_unknown(), hostile.changelog);
        assert_eq!(String::from_utf8(output.stdout).unwrap(), expected);
    }

    #[test]
    fn refuses_a_nul_byte_it_cannot_quote() {
        let nul = Record {
            author: Some("a\0b".into()),
            ..record()
        };
        assert!(
            render_files("app", &nul, "v")
                .unwrap_err()
                .contains("RELEASE_AUTHOR")
        );
    }

    #[test]
    fn metadata_holds_the_changelog_head() {
        let long = Record {
            changelog: (1..=15)
                .map(|n| format!("line {n}"))
                .collect::<Vec<_>>()
                .join("\n"),
            rollback: true,
            ..record()
        };
        let fields = metadata(&long);
        let names: Vec<_> = fields.iter().map(|f| f.name.as_str()).collect();
        assert_eq!(
            names,
            [
                "version",
                "commit",
                "author",
                "image",
                "timestamp",
                "rollback",
                "changelog"
            ]
        );
        let changelog = &fields.last().unwrap().value;
        assert!(changelog.starts_with("line 1\n"));
        assert!(
            changelog.ends_with("line 10\n[5 more lines]"),
            "{changelog}"
        );
    }
}
