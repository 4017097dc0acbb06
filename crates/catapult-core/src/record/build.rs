//! The Concourse build that wrote a record, as Concourse describes it to `out` in its `BUILD_*`
//! variables: what makes a step retried in the same build (`attempts:`) the same put.

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
    /// The build's page, from `ATC_EXTERNAL_URL`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
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
        let url = value("ATC_EXTERNAL_URL").map(|atc| {
            let atc = atc.trim_end_matches('/');
            match (&team, &pipeline, &job, &name) {
                (Some(team), Some(pipeline), Some(job), Some(name)) => {
                    format!("{atc}/teams/{team}/pipelines/{pipeline}/jobs/{job}/builds/{name}")
                }
                _ => format!("{atc}/builds/{id}"),
            }
        });
        Some(BuildInfo {
            id,
            team,
            pipeline,
            job,
            name,
            url,
        })
    }
}
