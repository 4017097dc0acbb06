//! The Concourse front-end: the executable acting as `check`, `in` or `out` ([`Step`]), in
//! Concourse's calling convention. Answer `--help` and `--version` without reading stdin, refuse
//! to wait on a terminal, read the request from stdin, run one step of the core on a
//! single-threaded runtime within the step's deadline, print its JSON on stdout, and on failure
//! print `error: …` and its causes on stderr and exit 1. The one place that builds the S3 store
//! for a step is [`connect`].

use std::error::Error as _;
use std::future::Future;
use std::io::{IsTerminal, Read, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use catapult_core::concourse::ResourceConfig;
use catapult_core::concourse::request::MAX_REQUEST_BYTES;
use catapult_core::record::text::terminal_safe;
use catapult_core::store::s3::S3Store;
use catapult_core::{Error, Result};
use serde::Serialize;

pub mod logging;
mod steps;

/// The three steps of a Concourse resource.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    /// `check`: the versions Concourse has not seen yet.
    Check,
    /// `in`: one version, fetched into `$1`.
    In,
    /// `out`: a release cut, or a release deployed, from `$1`.
    Out,
}

impl Step {
    /// The step an executable started as `name` (`/opt/resource/check`'s file name) is.
    pub fn named(name: &str) -> Option<Step> {
        match name {
            "check" => Some(Step::Check),
            "in" => Some(Step::In),
            "out" => Some(Step::Out),
            _ => None,
        }
    }
}

/// Runs `step` as Concourse does, and returns the process's exit code.
pub fn main(step: Step) -> ExitCode {
    match step {
        Step::Check => steps::check_step(),
        Step::In => steps::in_step(),
        Step::Out => steps::out_step(),
    }
}

/// One step's name and what it does, for `--help`.
pub(crate) struct Binary {
    /// `check`, `in` or `out`.
    pub name: &'static str,
    /// Its arguments after the name, for the usage line: `""` or `DIRECTORY`.
    pub arguments: &'static str,
    /// What it does and what it reads and writes.
    pub about: &'static str,
}

/// The arguments Concourse passes: `$1`, the directory `in` fetches into and `out` reads from.
pub(crate) fn directory_argument() -> Result<PathBuf> {
    std::env::args_os()
        .nth(1)
        .map(PathBuf::from)
        .ok_or_else(|| Error::InvalidRequest("usage: pass the build directory as $1".into()))
}

/// Runs `step` over stdin as Concourse does and returns the process's exit code.
pub(crate) fn execute<F, T>(binary: &Binary, step: impl FnOnce(Vec<u8>) -> F) -> ExitCode
where
    F: Future<Output = Result<T>>,
    T: Serialize,
{
    let first = std::env::args().nth(1);
    match first.as_deref() {
        Some("--help" | "-h") => {
            let mut stdout = std::io::stdout().lock();
            let _ = writeln!(stdout, "{}", help(binary));
            return ExitCode::SUCCESS;
        }
        Some("--version" | "-V") => {
            let mut stdout = std::io::stdout().lock();
            let _ = writeln!(
                stdout,
                "{} (catapult) {}",
                binary.name,
                env!("CARGO_PKG_VERSION")
            );
            return ExitCode::SUCCESS;
        }
        _ => {}
    }
    if std::io::stdin().is_terminal() {
        let mut stderr = std::io::stderr().lock();
        let _ = writeln!(
            stderr,
            "error: {} reads a JSON request on stdin, as Concourse sends it, and nothing was piped in; see {} --help",
            binary.name, binary.name
        );
        return ExitCode::FAILURE;
    }
    match run(step) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            let mut stderr = std::io::stderr().lock();
            let _ = writeln!(stderr, "error: {}", one_line(&err.to_string()));
            let mut cause = err.source();
            while let Some(inner) = cause {
                let _ = writeln!(stderr, "  caused by: {}", one_line(&inner.to_string()));
                cause = inner.source();
            }
            ExitCode::FAILURE
        }
    }
}

/// A message as one line Concourse's log can show: newlines folded, control and format
/// characters escaped.
fn one_line(message: &str) -> String {
    terminal_safe(&message.replace(['\n', '\r'], " ")).into_owned()
}

fn help(binary: &Binary) -> String {
    let arguments = if binary.arguments.is_empty() {
        String::new()
    } else {
        format!(" {}", binary.arguments)
    };
    format!(
        "{name} (catapult {version}): {about}\n\n\
         Usage: {name}{arguments} < request.json\n\n\
         Concourse runs it as /opt/resource/{name}, with the request on stdin:\n  \
         {{\"source\": {{\"bucket\": \"releases\", \"name\": \"app\", …}}, …}}\n\
         and reads the answer on stdout as one JSON value. Logs and errors go to stderr.\n\n\
         Options:\n  -h, --help     print this help\n  -V, --version  print the version\n\n\
         The source fields, params and files: https://github.com/catapult-ci/catapult#readme",
        name = binary.name,
        version = env!("CARGO_PKG_VERSION"),
        about = binary.about,
    )
}

fn run<F, T>(step: impl FnOnce(Vec<u8>) -> F) -> Result<()>
where
    F: Future<Output = Result<T>>,
    T: Serialize,
{
    let mut stdin = Vec::new();
    std::io::stdin()
        .take(MAX_REQUEST_BYTES as u64 + 1)
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

/// Connects to the store `config` names and sets up logging: what every step does first.
pub(crate) async fn connect(config: &ResourceConfig) -> Result<S3Store> {
    logging::init(config.debug);
    S3Store::connect(&config.connection)
        .await
        .map_err(|err| Error::InvalidSource(err.to_string()))
}
