//! What the command line's integration tests share: the local S3 server (its endpoint comes
//! from `CATAPULT_TEST_ENDPOINT`, which `ci/test` exports; a test fails without it), buckets of
//! each test's own, a git repository with a `.catapult.toml` as a person has one, `catapult`
//! run as a person runs it (credentials from the environment), and strict decoding of its JSON.

#![allow(dead_code, missing_docs)]

use std::path::{Path, PathBuf};
use std::process::Output;
use std::sync::atomic::{AtomicU32, Ordering};

use assert_cmd::Command;
use aws_sdk_s3::Client;
use aws_sdk_s3::config::{BehaviorVersion, Credentials, Region};
use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::{BucketVersioningStatus, VersioningConfiguration};
use serde::Deserialize;
use serde::de::DeserializeOwned;

/// The local S3 server's URL. Panics, so the test fails, when it is not running.
pub fn endpoint() -> String {
    std::env::var("CATAPULT_TEST_ENDPOINT").expect(
        "CATAPULT_TEST_ENDPOINT is not set: run the tests through ci/test, which starts the local S3 server",
    )
}

pub fn access_key_id() -> String {
    std::env::var("CATAPULT_TEST_ACCESS_KEY_ID").unwrap_or_else(|_| "testing".into())
}

pub fn secret_access_key() -> String {
    std::env::var("CATAPULT_TEST_SECRET_ACCESS_KEY").unwrap_or_else(|_| "testing".into())
}

pub fn block_on<F: std::future::Future>(future: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(future)
}

fn client() -> Client {
    let config = aws_sdk_s3::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .endpoint_url(endpoint())
        .force_path_style(true)
        .credentials_provider(Credentials::new(
            access_key_id(),
            secret_access_key(),
            None,
            None,
            "tests",
        ))
        .http_client(aws_smithy_http_client::Builder::new().build_http())
        .build();
    Client::from_conf(config)
}

/// A name no other test (or earlier run against the same server) uses.
pub fn unique_name(prefix: &str) -> String {
    static COUNTER: AtomicU32 = AtomicU32::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .subsec_nanos();
    format!(
        "{prefix}-{}-{}-{nanos}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed)
    )
}

/// A versioned bucket of the test's own.
pub struct Bucket {
    pub name: String,
    client: Client,
}

impl Bucket {
    pub fn versioned(prefix: &str) -> Self {
        let name = unique_name(prefix);
        let client = client();
        block_on(client.create_bucket().bucket(&name).send()).expect("create bucket");
        block_on(
            client
                .put_bucket_versioning()
                .bucket(&name)
                .versioning_configuration(
                    VersioningConfiguration::builder()
                        .status(BucketVersioningStatus::Enabled)
                        .build(),
                )
                .send(),
        )
        .expect("enable versioning");
        Bucket { name, client }
    }

    /// Writes `body` at `key` as another tool would, and returns its version id.
    pub fn put(&self, key: &str, body: &str) -> String {
        let output = block_on(
            self.client
                .put_object()
                .bucket(&self.name)
                .key(key)
                .body(ByteStream::from(body.as_bytes().to_vec()))
                .send(),
        )
        .expect("put object");
        output.version_id().unwrap_or("null").to_owned()
    }

    /// How many versions `key` has.
    pub fn version_count(&self, key: &str) -> usize {
        let listing = block_on(
            self.client
                .list_object_versions()
                .bucket(&self.name)
                .prefix(key)
                .send(),
        )
        .expect("list versions");
        listing
            .versions()
            .iter()
            .filter(|version| version.key() == Some(key))
            .count()
    }
}

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

    fn git_command(&self, args: &[&str]) -> std::process::Command {
        let mut command = std::process::Command::new("git");
        command
            .args(args)
            .current_dir(self.repo())
            .env("GIT_AUTHOR_NAME", "Dev Name")
            .env("GIT_AUTHOR_EMAIL", "dev@example.com")
            .env("GIT_COMMITTER_NAME", "Dev Name")
            .env("GIT_COMMITTER_EMAIL", "dev@example.com")
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("HOME", self.home());
        command
    }

    pub fn git(&self, args: &[&str]) -> String {
        let output = self.git_command(args).output().expect("git runs");
        assert!(
            output.status.success(),
            "git {args:?}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        String::from_utf8(output.stdout).unwrap().trim().to_owned()
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
        let mut command = Command::new(env!("CARGO_BIN_EXE_catapult"));
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
        let mut line = String::from(env!("CARGO_BIN_EXE_catapult"));
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
    pub timestamp: String,
    pub rollback: bool,
    pub action_type: Option<String>,
    pub environment: Option<String>,
    pub build: Option<serde_json::Value>,
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

/// The path of a binary built beside `catapult` (the resource's `check`, `in`, `out`).
pub fn sibling_binary(name: &str) -> PathBuf {
    let path = Path::new(env!("CARGO_BIN_EXE_catapult")).with_file_name(name);
    assert!(
        path.exists(),
        "{} is not built: run the workspace's tests (cargo test --workspace), which build it",
        path.display()
    );
    path
}
