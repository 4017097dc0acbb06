//! The one executable: Concourse's `check`, `in` and `out`, or the `catapult` command line,
//! chosen by the name it is started as. The resource image links `/opt/resource/check`, `in` and
//! `out` to it; under any other name it is the command line.

use std::path::Path;
use std::process::ExitCode;

use catapult_resource::Step;

fn main() -> ExitCode {
    // One process, one checkout read once.
    catapult_core::git::set_up_for_one_pass();
    let started_as = std::env::args_os().next().unwrap_or_default();
    let name = Path::new(&started_as)
        .file_name()
        .and_then(|name| name.to_str())
        .unwrap_or_default();
    match Step::named(name) {
        Some(step) => catapult_resource::main(step),
        None => catapult_cli::main(),
    }
}
