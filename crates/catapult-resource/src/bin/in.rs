//! `/opt/resource/in`: fetches one version of the tracked records into the directory `$1`.

use std::process::ExitCode;

use catapult_core::{get::get, logging, protocol::InRequest, store::S3Store};

fn main() -> ExitCode {
    catapult_resource::execute(|stdin| async move {
        let destination = catapult_resource::directory_argument()?;
        let (config, version) = InRequest::parse(&stdin)?;
        logging::init(config.debug);
        let store = S3Store::connect(&config.connection).await;
        get(&store, &config, &version, &destination).await
    })
}
