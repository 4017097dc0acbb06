//! Who and what the board shows: its applications (the release bucket's keys, less the
//! promotion rules' and the deploys'), its environments in promotion order (the declared ones
//! by their gates, the others by the stages their names say), and the environments a release
//! waits for at a gate.

use crate::record::layout::DEFAULT_DEPLOY_PREFIX;
use crate::record::{AppName, EnvironmentName, Layout};
use crate::store::ListedKey;

use super::Project;

/// The applications of the layout's release bucket: its keys, less the deploy records' keys
/// and folder placeholders, sorted.
pub fn projects_in(layout: &Layout, release_keys: &[ListedKey]) -> Vec<AppName> {
    let mut names: Vec<AppName> = release_keys
        .iter()
        .map(|listed| listed.key.as_str())
        .filter(|key| !key.is_empty() && !key.ends_with('/') && !layout.is_deploy_key(key))
        .filter_map(|key| AppName::parse("a key of the release bucket", key).ok())
        .collect();
    names.sort();
    names.dedup();
    names
}

/// The environments of the board when none is asked for: the layout's, in promotion order
/// ([`Layout::promotion_order`]), then any other that has deploys at the default layout in the
/// release bucket (`deploys/<env>/<name>`), in the order pipelines usually promote through
/// ([`usual_stage`]), by name within a stage.
pub fn environments_in(layout: &Layout, release_keys: &[ListedKey]) -> Vec<EnvironmentName> {
    let mut environments: Vec<EnvironmentName> =
        layout.promotion_order().into_iter().cloned().collect();
    let declared = environments.len();
    for listed in release_keys {
        let Some(rest) = listed.key.strip_prefix(DEFAULT_DEPLOY_PREFIX) else {
            continue;
        };
        if let Some((environment, name)) = rest.split_once('/') {
            if !environment.is_empty()
                && !name.is_empty()
                && !environments.iter().any(|known| known == environment)
            {
                if let Ok(environment) = EnvironmentName::parse("an environment", environment) {
                    environments.push(environment);
                }
            }
        }
    }
    environments[declared..]
        .sort_by(|a, b| (usual_stage(a), a.as_str()).cmp(&(usual_stage(b), b.as_str())));
    environments
}

/// Where an environment nobody declared usually stands in a promotion, from the words of its
/// name (`dev`, `test`, `qa`, `staging`, `production`, and their usual spellings; the first
/// word that is one of them counts: `production-eu` is a production): 0 for development to 4
/// for production, 5 for a name that says nothing of it.
pub fn usual_stage(environment: &str) -> u8 {
    const STAGES: [&[&str]; 5] = [
        &["dev", "develop", "development", "sandbox", "local"],
        &["test", "testing", "ci", "int", "integration"],
        &["qa", "uat", "acceptance"],
        &["stage", "staging", "stg", "preprod", "preproduction", "pre"],
        &["prod", "production", "prd", "live"],
    ];
    environment
        .to_ascii_lowercase()
        .split(['-', '_', '.', '/'])
        .find_map(|word| {
            STAGES
                .iter()
                .position(|stage| stage.contains(&word))
                .map(|stage| stage as u8)
        })
        .unwrap_or(STAGES.len() as u8)
}

/// The environments a release is waiting for before it can be deployed to `environment`: those
/// of `gate` (its `require_deployed_to`) that do not run the project's latest release (nor a
/// later one), when `environment` does not run it yet; empty when it is not held. As far as the
/// board can tell: it knows what each environment runs now (not whether an environment ran the
/// release before a rollback), and a gate environment it has not read is not counted.
pub fn waiting_for<'a>(
    project: &Project,
    environment: &EnvironmentName,
    gate: &'a [EnvironmentName],
) -> Vec<&'a EnvironmentName> {
    let Some(latest) = project.latest.as_ref().map(|stored| stored.record.version) else {
        return Vec::new();
    };
    let runs = |name: &EnvironmentName| {
        project
            .deploys
            .iter()
            .chain(&project.gate_deploys)
            .find(|(column, _)| column == name)
            .map(|(_, deployed)| deployed.as_ref().map(|stored| stored.record.version))
    };
    if runs(environment)
        .flatten()
        .is_some_and(|version| version >= latest)
    {
        return Vec::new();
    }
    gate.iter()
        .filter(|gate| match runs(gate) {
            // Not read: nothing to tell.
            None => false,
            Some(version) => version.is_none_or(|version| version < latest),
        })
        .collect()
}
