//! `/opt/resource/check`: the versions of the tracked records Concourse has not seen yet.

use std::process::ExitCode;

use catapult_core::{check::check, logging, protocol::CheckRequest, store::S3Store};

fn main() -> ExitCode {
    catapult_resource::execute(|stdin| async move {
        let (config, since) = CheckRequest::parse(&stdin)?;
        logging::init(config.debug);
        let store = S3Store::connect(&config.connection).await;
        check(&store, config.tracked(), since.as_ref()).await
    })
}
