//! The Concourse build that wrote a record, as Concourse describes it to `out` in its `BUILD_*`
//! variables: what makes a step retried in the same build (`attempts:`) the same put, where to
//! see the build (`BUILD_URL`, which Concourse 8 sets), and who pushed the button
//! (`BUILD_CREATED_BY`, set when the pipeline says `expose_build_created_by: true`).

use serde::{Deserialize, Serialize};

/// The Concourse build that wrote a record, from the `BUILD_*` and `ATC_EXTERNAL_URL` variables
/// Concourse gives `out`. A step retried in the same build (`attempts:`) has the same `id`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BuildInfo {
    /// `BUILD_ID`: the build's id, unique in its Concourse.
    pub id: String,
    /// `BUILD_TEAM_NAME`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub team: Option<String>,
    /// `BUILD_PIPELINE_NAME`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pipeline: Option<String>,
    /// `BUILD_JOB_NAME`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub job: Option<String>,
    /// `BUILD_NAME`: the build's number in its job.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// The build's page: `BUILD_URL`, or made from `ATC_EXTERNAL_URL` before Concourse 8.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// `BUILD_CREATED_BY`: who triggered the build by hand, when Concourse exposes it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub triggered_by: Option<String>,
}

impl BuildInfo {
    /// The build described by Concourse's variables, read through `variable`; `None` outside
    /// Concourse (no `BUILD_ID`).
    pub fn from_variables(variable: impl Fn(&str) -> Option<String>) -> Option<BuildInfo> {
        let value = |name: &str| variable(name).filter(|value| !value.trim().is_empty());
        let id = value("BUILD_ID")?;
        let team = value("BUILD_TEAM_NAME");
        let pipeline = value("BUILD_PIPELINE_NAME");
        let job = value("BUILD_JOB_NAME");
        let name = value("BUILD_NAME");
        let url = value("BUILD_URL").or_else(|| {
            value("ATC_EXTERNAL_URL").map(|atc| {
                let atc = atc.trim_end_matches('/');
                match (&team, &pipeline, &job, &name) {
                    (Some(team), Some(pipeline), Some(job), Some(name)) => {
                        format!("{atc}/teams/{team}/pipelines/{pipeline}/jobs/{job}/builds/{name}")
                    }
                    _ => format!("{atc}/builds/{id}"),
                }
            })
        });
        Some(BuildInfo {
            triggered_by: value("BUILD_CREATED_BY"),
            id,
            team,
            pipeline,
            job,
            name,
            url,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn build(variables: &[(&str, &str)]) -> Option<BuildInfo> {
        BuildInfo::from_variables(|name| {
            variables
                .iter()
                .find(|(key, _)| *key == name)
                .map(|(_, value)| (*value).to_owned())
        })
    }

    #[test]
    fn keeps_the_build_url_and_who_triggered_it() {
        let concourse_8 = build(&[
            ("BUILD_ID", "42"),
            ("BUILD_URL", "https://ci.example.com/builds/42"),
            ("ATC_EXTERNAL_URL", "https://old.example.com"),
            ("BUILD_CREATED_BY", "grace"),
        ])
        .unwrap();
        assert_eq!(
            concourse_8.url.as_deref(),
            Some("https://ci.example.com/builds/42")
        );
        assert_eq!(concourse_8.triggered_by.as_deref(), Some("grace"));
        let concourse_7 = build(&[
            ("BUILD_ID", "42"),
            ("BUILD_TEAM_NAME", "main"),
            ("BUILD_PIPELINE_NAME", "app"),
            ("BUILD_JOB_NAME", "ship"),
            ("BUILD_NAME", "7"),
            ("ATC_EXTERNAL_URL", "https://ci.example.com/"),
        ])
        .unwrap();
        assert_eq!(
            concourse_7.url.as_deref(),
            Some("https://ci.example.com/teams/main/pipelines/app/jobs/ship/builds/7")
        );
        assert_eq!(concourse_7.triggered_by, None);
        assert_eq!(build(&[("BUILD_NAME", "7")]), None);
    }
}
