//! `catapult` run as a person runs it: in a git repository with a `.catapult.toml`, with a home
//! and cache of its own, credentials and the store's endpoint in the environment, stdin not a
//! terminal (or a pseudo-terminal, for what asks); and its JSON, decoded strictly.

use std::path::PathBuf;
use std::process::Output;

use assert_cmd::Command;
use serde::Deserialize;
use serde::de::DeserializeOwned;

use crate::binary;
pub use crate::bucket::Bucket;
use crate::git::{git_command, run_git};
pub use crate::server::{access_key_id, endpoint, secret_access_key};

/// A person's git repository with a `.catapult.toml`, and a home and cache of its own.
pub struct Workspace {
    pub dir: tempfile::TempDir,
    commits: u32,
}

impl Workspace {
    /// A repository with `config` as its `.catapult.toml` and one commit.
    pub fn new(config: &str) -> Self {
        let workspace = Workspace {
            dir: tempfile::tempdir().unwrap(),
            commits: 0,
        };
        std::fs::create_dir_all(workspace.repo()).unwrap();
        std::fs::create_dir_all(workspace.home()).unwrap();
        workspace.git(&["init", "--quiet", "--initial-branch=main"]);
        workspace.git(&["config", "user.email", "person@example.com"]);
        std::fs::write(workspace.repo().join(".catapult.toml"), config).unwrap();
        workspace
    }

    pub fn repo(&self) -> PathBuf {
        self.dir.path().join("repo")
    }

    pub fn home(&self) -> PathBuf {
        self.dir.path().join("home")
    }

    pub fn cache(&self) -> PathBuf {
        self.dir.path().join("cache")
    }

    pub fn git(&self, args: &[&str]) -> String {
        run_git(git_command(&self.repo(), &self.home(), args), args)
    }

    /// Commits a new file with `subject`, and returns the commit's full sha.
    pub fn commit(&mut self, subject: &str) -> String {
        self.commits += 1;
        let file = format!("file-{}", self.commits);
        std::fs::write(self.repo().join(&file), format!("{subject}\n")).unwrap();
        self.git(&["add", "--all"]);
        self.git(&["commit", "--quiet", "-m", subject]);
        self.git(&["rev-parse", "HEAD"])
    }

    /// `catapult` with `args`, run in the repository as a person would, credentials and the
    /// store's endpoint in the environment, stdin not a terminal.
    pub fn catapult(&self, args: &[&str]) -> Output {
        self.command(args).output().expect("catapult runs")
    }

    pub fn command(&self, args: &[&str]) -> Command {
        let mut command = binary::command("catapult");
        command
            .args(args)
            .current_dir(self.repo())
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("HOME", self.home())
            .env("XDG_CACHE_HOME", self.cache())
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("AWS_ACCESS_KEY_ID", access_key_id())
            .env("AWS_SECRET_ACCESS_KEY", secret_access_key())
            .env("AWS_ENDPOINT_URL_S3", endpoint())
            .env("AWS_REGION", "us-east-1")
            .env("AWS_EC2_METADATA_DISABLED", "true")
            .write_stdin("");
        command
    }
}

impl Workspace {
    /// `catapult` with `args` on a terminal (util-linux `script` gives it a pseudo-terminal),
    /// `input` typed on it; stdout and stderr come back together.
    pub fn on_terminal(&self, args: &[&str], input: &str) -> Output {
        let mut line = binary::path("catapult").display().to_string();
        for arg in args {
            line.push(' ');
            line.push_str(&format!("'{}'", arg.replace('\'', "'\\''")));
        }
        let mut command = Command::new("script");
        command
            .args(["--quiet", "--return", "--command", &line, "/dev/null"])
            .current_dir(self.repo())
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("HOME", self.home())
            .env("XDG_CACHE_HOME", self.cache())
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("AWS_ACCESS_KEY_ID", access_key_id())
            .env("AWS_SECRET_ACCESS_KEY", secret_access_key())
            .env("AWS_ENDPOINT_URL_S3", endpoint())
            .env("AWS_REGION", "us-east-1")
            .env("AWS_EC2_METADATA_DISABLED", "true")
            .env("NO_COLOR", "1")
            .write_stdin(input.to_owned());
        command.output().expect("script runs")
    }
}

/// A record as `catapult` prints it: the stored fields, `name`, `version_id`, and for deploys
/// `environment`; `contains` with `history --contains`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RecordOut {
    pub version: u64,
    pub commit: String,
    pub image: Option<String>,
    pub author: Option<String>,
    pub changelog: String,
    pub commits: Vec<String>,
    pub commit_times: Option<Vec<String>>,
    pub tickets: Option<Vec<String>>,
    pub timestamp: String,
    pub rollback: bool,
    pub action_type: Option<String>,
    pub environment: Option<String>,
    pub build: Option<serde_json::Value>,
    pub highest_version: Option<u64>,
    pub write_id: Option<String>,
    pub approved_by: Option<String>,
    pub overrode_freeze: Option<String>,
    pub held_at: Option<u64>,
    pub name: String,
    pub version_id: Option<String>,
    pub contains: Option<String>,
}

/// One row of `catapult status`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Row {
    pub name: String,
    #[serde(rename = "type")]
    pub kind: String,
    pub environment: Option<String>,
    pub version: Option<u64>,
    pub behind: Option<u64>,
    pub commit: Option<String>,
    pub author: Option<String>,
    pub timestamp: Option<String>,
    pub action_type: Option<String>,
    pub rollback: Option<bool>,
    pub contains: Option<String>,
}

/// `catapult log`'s answer.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LogOut {
    pub name: String,
    pub from: String,
    pub to: String,
    pub commits: Vec<String>,
    pub changelog: String,
}

/// One side of `catapult diff`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DiffSide {
    pub environment: String,
    pub version: Option<u64>,
    pub commit: Option<String>,
}

/// `catapult diff`'s answer.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DiffOut {
    pub name: String,
    pub from: DiffSide,
    pub to: DiffSide,
    pub status: String,
    pub releases: Vec<RecordOut>,
    pub commits: Vec<String>,
}

/// Decodes a successful run's stdout strictly, failing with its stderr otherwise.
pub fn success<T: DeserializeOwned>(output: &Output) -> T {
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "exit {:?}, stderr:\n{stderr}",
        output.status.code()
    );
    let stdout = std::str::from_utf8(&output.stdout).expect("stdout is UTF-8");
    serde_json::from_str(stdout).unwrap_or_else(|err| panic!("stdout {stdout:?}: {err}"))
}

/// The error line of a failed run, after asserting exit 1, an empty stdout and one `error:`
/// line on stderr.
pub fn failure(output: &Output) -> String {
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    assert_eq!(output.status.code(), Some(1), "stderr:\n{stderr}");
    assert!(
        output.stdout.is_empty(),
        "stdout: {:?}",
        String::from_utf8_lossy(&output.stdout)
    );
    let errors: Vec<&str> = stderr
        .lines()
        .filter(|line| line.starts_with("error: "))
        .collect();
    assert_eq!(errors.len(), 1, "one error line in:\n{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    errors[0].to_owned()
}

/// The executable as the resource's `check`, `in` or `out`.
pub fn sibling_binary(name: &str) -> PathBuf {
    binary::path(name)
}
