//! The three steps, each one call of the core over the store `source` names: `check` lists the
//! versions Concourse has not seen, `in` fetches one into `$1`, `out` cuts a release or deploys
//! one from the build's inputs in `$1`.

use std::process::ExitCode;

use catapult_core::concourse::check::check;
use catapult_core::concourse::get::{get, step_output};
use catapult_core::concourse::{CheckRequest, InRequest, OutRequest};
use catapult_core::ops::within_deadline;
use catapult_core::record::BuildInfo;
use catapult_core::store::tally::Tallied;

use crate::{Binary, connect, directory_argument, execute};

const CHECK: Binary = Binary {
    name: "check",
    arguments: "",
    about: "prints the versions of a catapult resource that Concourse has not seen yet",
};

const IN: Binary = Binary {
    name: "in",
    arguments: "DIRECTORY",
    about: "fetches one release or deploy record into DIRECTORY as files a build can read",
};

const OUT: Binary = Binary {
    name: "out",
    arguments: "DIRECTORY",
    about: "cuts a release, or deploys one, from the build's inputs in DIRECTORY",
};

/// `/opt/resource/check`.
pub fn check_step() -> ExitCode {
    execute(&CHECK, |stdin| async move {
        let (config, since) = CheckRequest::parse(&stdin)?;
        let store = Tallied::new(connect(&config).await?);
        let doing = format!("checking {} for new versions", config.resource.tracked());
        within_deadline(
            &store,
            &doing,
            check(&store, &config.resource, since.as_ref()),
        )
        .await
    })
}

/// `/opt/resource/in`.
pub fn in_step() -> ExitCode {
    execute(&IN, |stdin| async move {
        let destination = directory_argument()?;
        let (config, version) = InRequest::parse(&stdin)?;
        let store = Tallied::new(connect(&config).await?);
        let doing = format!(
            "fetching version {:?} of {}",
            version.version,
            config.resource.tracked()
        );
        let step = get(&store, &config.resource, &version, &destination);
        within_deadline(&store, &doing, step).await
    })
}

/// `/opt/resource/out`.
pub fn out_step() -> ExitCode {
    execute(&OUT, |stdin| async move {
        let build_dir = directory_argument()?;
        let (config, params) = OutRequest::parse(&stdin)?;
        let build = BuildInfo::from_variables(|name| std::env::var(name).ok());
        let plan = params.plan(&config.resource, &build_dir, build)?;
        let store = Tallied::new(connect(&config).await?);
        let doing = match config.resource.environment() {
            Some(environment) => format!(
                "deploying {} to {:?} ({})",
                config.resource.app().name,
                environment.name().as_str(),
                environment.deploys()
            ),
            None => format!("cutting a release in {}", config.resource.tracked()),
        };
        let outcome = within_deadline(&store, &doing, plan.run(&store, &config.resource)).await?;
        let version_id = outcome.version_id.unwrap_or_default();
        Ok(step_output(&outcome.record, &version_id))
    })
}
