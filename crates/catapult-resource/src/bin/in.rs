//! `/opt/resource/in`: fetches one version of the tracked records into the directory `$1`.

use std::process::ExitCode;

use catapult_core::get::get;
use catapult_core::protocol::InRequest;
use catapult_core::store::{RecordStore, within_deadline};
use catapult_resource::Binary;

const IN: Binary = Binary {
    name: "in",
    arguments: "DIRECTORY",
    about: "fetches one release or deploy record into DIRECTORY as files a build can read",
};

fn main() -> ExitCode {
    catapult_resource::execute(&IN, |stdin| async move {
        let destination = catapult_resource::directory_argument()?;
        let (config, version) = InRequest::parse(&stdin)?;
        let store = catapult_resource::connect(&config).await?;
        let step = get(&store, &config.resource, &version, &destination);
        within_deadline(store.name(), step).await
    })
}
