//! `/opt/resource/out`: cuts a release or deploys one. Not built yet.

use std::process::ExitCode;

fn main() -> ExitCode {
    catapult_resource::execute(|_stdin| async move {
        Err::<(), _>(catapult_core::Error::InvalidRequest(
            "out is not implemented yet".into(),
        ))
    })
}
