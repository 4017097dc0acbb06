//! `/opt/resource/out`: cuts a release, or deploys one, from the build directory `$1`.

use std::process::ExitCode;

use catapult_core::get::step_output;
use catapult_core::protocol::OutRequest;
use catapult_core::record::BuildInfo;
use catapult_core::store::{RecordStore, within_deadline};
use catapult_resource::Binary;

const OUT: Binary = Binary {
    name: "out",
    arguments: "DIRECTORY",
    about: "cuts a release, or deploys one, from the build's inputs in DIRECTORY",
};

fn main() -> ExitCode {
    catapult_resource::execute(&OUT, |stdin| async move {
        let build_dir = catapult_resource::directory_argument()?;
        let (config, params) = OutRequest::parse(&stdin)?;
        let build = BuildInfo::from_variables(|name| std::env::var(name).ok());
        let plan = params.plan(&config.resource, &build_dir, build)?;
        let store = catapult_resource::connect(&config).await?;
        let outcome = within_deadline(store.name(), plan.run(&store, &config.resource)).await?;
        let version_id = outcome.version_id.unwrap_or_default();
        Ok(step_output(&outcome.record, &version_id))
    })
}
