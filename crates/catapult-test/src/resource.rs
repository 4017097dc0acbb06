//! The resource's steps run as Concourse runs them: the request on stdin, the build directory as
//! `$1` for `in` and `out`, an empty environment for `check` and the build variables for the
//! others; and what they print, decoded strictly (stdout holds one JSON line and nothing else).

use std::path::Path;
use std::process::Output;

use serde::Deserialize;
use serde_json::{Value, json};

use crate::binary;
pub use crate::bucket::{Bucket, record};
pub use crate::git::Build;
pub use crate::server::{access_key_id, endpoint, region, secret_access_key, store};

/// A Concourse version, decoded strictly.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Version {
    pub version: String,
    pub version_id: String,
}

impl Version {
    pub fn json(&self) -> Value {
        json!({"version": self.version, "version_id": self.version_id})
    }
}

/// One metadata line, decoded strictly.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Metadata {
    pub name: String,
    pub value: String,
}

/// What `in` and `out` print, decoded strictly.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StepOutput {
    pub version: Version,
    pub metadata: Vec<Metadata>,
}

impl StepOutput {
    pub fn metadata(&self, name: &str) -> Option<&str> {
        self.metadata
            .iter()
            .find(|field| field.name == name)
            .map(|field| field.value.as_str())
    }
}

/// The environment Concourse gives `in` and `out`.
pub const BUILD_VARIABLES: [(&str, &str); 6] = [
    ("BUILD_ID", "42"),
    ("BUILD_NAME", "7"),
    ("BUILD_JOB_NAME", "release"),
    ("BUILD_PIPELINE_NAME", "app"),
    ("BUILD_TEAM_NAME", "main"),
    ("ATC_EXTERNAL_URL", "https://ci.example.com"),
];

/// Runs `binary` as Concourse does: `request` on stdin, `directory` as `$1` (for `in` and
/// `out`), an empty environment for `check` and the build variables for the others.
pub fn run(binary: &str, request: &Value, directory: Option<&Path>) -> Output {
    let mut command = binary::command(binary);
    command.env_clear().write_stdin(request.to_string());
    if let Some(directory) = directory {
        command.arg(directory).envs(BUILD_VARIABLES);
    }
    command.output().expect("the binary runs")
}

/// Decodes a successful run's stdout strictly, failing with its stderr otherwise.
pub fn success<T: for<'de> Deserialize<'de>>(output: &Output) -> T {
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "exit {:?}, stderr:\n{stderr}",
        output.status.code()
    );
    let stdout = std::str::from_utf8(&output.stdout).expect("stdout is UTF-8");
    let mut lines = stdout.lines();
    let json = lines.next().expect("stdout has the JSON");
    assert_eq!(
        lines.next(),
        None,
        "stdout holds only the JSON line: {stdout:?}"
    );
    serde_json::from_str(json).unwrap_or_else(|err| panic!("stdout {json:?}: {err}"))
}

/// The first line of a failed run's stderr, after asserting exit 1 and an empty stdout.
pub fn failure(output: &Output) -> String {
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    assert_eq!(output.status.code(), Some(1), "stderr:\n{stderr}");
    assert!(
        output.stdout.is_empty(),
        "stdout: {:?}",
        String::from_utf8_lossy(&output.stdout)
    );
    let first = stderr
        .lines()
        .find(|line| line.starts_with("error: "))
        .unwrap_or_else(|| panic!("no error line in:\n{stderr}"));
    first.to_owned()
}

pub fn check(source: &Value, version: Option<&Version>) -> Output {
    let request = match version {
        Some(version) => json!({"source": source, "version": version.json()}),
        None => json!({"source": source}),
    };
    run("check", &request, None)
}

pub fn version(number: u64, version_id: &str) -> Version {
    Version {
        version: number.to_string(),
        version_id: version_id.to_owned(),
    }
}

pub fn put(source: &Value, params: Value, build: &Path) -> Output {
    run(
        "out",
        &json!({"source": source, "params": params}),
        Some(build),
    )
}

/// `put`, as Concourse's build `build_id` runs it (the others run in build 42).
pub fn put_in_build(source: &Value, params: Value, build: &Path, build_id: &str) -> Output {
    let mut command = binary::command("out");
    command
        .env_clear()
        .envs(BUILD_VARIABLES)
        .env("BUILD_ID", build_id)
        .arg(build)
        .write_stdin(json!({"source": source, "params": params}).to_string());
    command.output().expect("the binary runs")
}

/// One `out` of a [`race`]: what it printed and how long after the starting gun it exited.
#[derive(Debug)]
pub struct Racer {
    pub output: Output,
    pub finished_after: std::time::Duration,
}

/// Runs `out` once per (request, build directory), all at once, as writers that truly race:
/// every process is started first and blocks reading its stdin (a step reads the request to
/// its end before anything else), each request is written without closing its stdin, and then
/// every stdin is closed in one go: the starting gun. The racers then meet at the store within
/// the time it takes to close a few pipes, not spread over the time it takes to start them.
pub fn race(requests: &[(Value, &Path)]) -> Vec<Racer> {
    use std::io::Write as _;
    use std::process::{Command, Stdio};

    let mut children: Vec<_> = requests
        .iter()
        .map(|(request, build)| {
            let mut child = Command::new(binary::path("out"))
                .arg(build)
                .env_clear()
                .envs(BUILD_VARIABLES)
                .stdin(Stdio::piped())
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .expect("out starts");
            let mut stdin = child.stdin.take().expect("a pipe to its stdin");
            stdin
                .write_all(request.to_string().as_bytes())
                .expect("the request written");
            (child, stdin)
        })
        .collect();
    let gun = std::time::Instant::now();
    let waiting: Vec<_> = children
        .drain(..)
        .map(|(child, stdin)| {
            drop(stdin);
            child
        })
        .collect();
    std::thread::scope(|scope| {
        let runs: Vec<_> = waiting
            .into_iter()
            .map(|child| {
                scope.spawn(move || {
                    let output = child.wait_with_output().expect("out runs");
                    Racer {
                        output,
                        finished_after: gun.elapsed(),
                    }
                })
            })
            .collect();
        runs.into_iter()
            .map(|run| run.join().expect("a racer's thread"))
            .collect()
    })
}
