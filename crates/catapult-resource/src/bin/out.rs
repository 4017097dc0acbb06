//! `/opt/resource/out`: cuts a release, or deploys one, from the build directory `$1`.

use std::process::ExitCode;

use catapult_core::{logging, protocol::OutRequest, put::put, store::S3Store};

fn main() -> ExitCode {
    catapult_resource::execute(|stdin| async move {
        let build_dir = catapult_resource::directory_argument()?;
        let (config, params) = OutRequest::parse(&stdin)?;
        logging::init(config.debug);
        let store = S3Store::connect(&config.connection).await;
        put(&store, &config, &params, &build_dir).await
    })
}
