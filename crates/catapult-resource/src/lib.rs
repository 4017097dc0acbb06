//! What the three binaries share: Concourse's calling convention. Read the request from stdin,
//! run one step of the core on a single-threaded runtime, print its JSON on stdout, and on
//! failure print `error: …` and its causes on stderr and exit 1.

use std::error::Error as _;
use std::future::Future;
use std::io::{Read, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use catapult_core::{Error, Result};
use serde::Serialize;

/// The arguments Concourse passes: `$1`, the directory `in` fetches into and `out` reads from.
pub fn directory_argument() -> Result<PathBuf> {
    std::env::args_os()
        .nth(1)
        .map(PathBuf::from)
        .ok_or_else(|| Error::InvalidRequest("usage: pass the build directory as $1".into()))
}

/// Runs `step` over stdin as Concourse does and returns the process's exit code.
pub fn execute<F, T>(step: impl FnOnce(Vec<u8>) -> F) -> ExitCode
where
    F: Future<Output = Result<T>>,
    T: Serialize,
{
    match run(step) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            let mut stderr = std::io::stderr().lock();
            let _ = writeln!(stderr, "error: {err}");
            let mut cause = err.source();
            while let Some(inner) = cause {
                let _ = writeln!(stderr, "  caused by: {inner}");
                cause = inner.source();
            }
            ExitCode::FAILURE
        }
    }
}

fn run<F, T>(step: impl FnOnce(Vec<u8>) -> F) -> Result<()>
where
    F: Future<Output = Result<T>>,
    T: Serialize,
{
    let mut stdin = Vec::new();
    std::io::stdin()
        .read_to_end(&mut stdin)
        .map_err(|err| Error::io("read", "stdin", err))?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|err| Error::io("start", "the async runtime", err))?;
    let output = runtime.block_on(step(stdin))?;
    let mut stdout = std::io::stdout().lock();
    serde_json::to_writer(&mut stdout, &output)
        .map_err(|err| Error::io("write", "stdout", err.into()))?;
    writeln!(stdout).map_err(|err| Error::io("write", "stdout", err))
}
