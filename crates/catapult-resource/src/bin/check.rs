//! `/opt/resource/check`: the versions of the tracked records Concourse has not seen yet.

use std::process::ExitCode;

use catapult_core::check::check;
use catapult_core::protocol::CheckRequest;
use catapult_core::store::{RecordStore, within_deadline};
use catapult_resource::Binary;

const CHECK: Binary = Binary {
    name: "check",
    arguments: "",
    about: "prints the versions of a catapult resource that Concourse has not seen yet",
};

fn main() -> ExitCode {
    catapult_resource::execute(&CHECK, |stdin| async move {
        let (config, since) = CheckRequest::parse(&stdin)?;
        let store = catapult_resource::connect(&config).await?;
        let at = config.resource.tracked();
        within_deadline(store.name(), check(&store, at, since.as_ref())).await
    })
}
