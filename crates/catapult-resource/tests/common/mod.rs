//! What the integration tests share: the local S3 server (its endpoint comes from
//! `CATAPULT_TEST_ENDPOINT`, which `ci/test` exports, and its keys and region from
//! `CATAPULT_TEST_ACCESS_KEY_ID`, `CATAPULT_TEST_SECRET_ACCESS_KEY` and `CATAPULT_TEST_REGION`,
//! moto's by default; a test that needs the server fails without it),
//! a bucket of its own for each test so that tests run in parallel, the binaries run as
//! Concourse runs them, and strict decoding of what they print.

#![allow(dead_code, missing_docs)]

use std::future::Future;
use std::path::Path;
use std::process::Output;
use std::sync::atomic::{AtomicU32, Ordering};

use assert_cmd::Command;
use aws_sdk_s3::Client;
use aws_sdk_s3::config::{BehaviorVersion, Credentials, Region};
use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::{BucketVersioningStatus, VersioningConfiguration};
use serde::Deserialize;
use serde_json::{Value, json};

/// The local server's access key id.
pub fn access_key_id() -> String {
    std::env::var("CATAPULT_TEST_ACCESS_KEY_ID").unwrap_or_else(|_| "testing".into())
}

/// The local server's secret access key.
pub fn secret_access_key() -> String {
    std::env::var("CATAPULT_TEST_SECRET_ACCESS_KEY").unwrap_or_else(|_| "testing".into())
}

/// The region to sign for.
pub fn region() -> String {
    std::env::var("CATAPULT_TEST_REGION").unwrap_or_else(|_| "us-east-1".into())
}

/// Which store the server is: `moto`, `localstack` or `ceph-rgw`.
pub fn store() -> String {
    std::env::var("CATAPULT_TEST_STORE").unwrap_or_else(|_| "moto".into())
}

/// The local S3 server's URL. Panics, so the test fails, when it is not running.
pub fn endpoint() -> String {
    std::env::var("CATAPULT_TEST_ENDPOINT").expect(
        "CATAPULT_TEST_ENDPOINT is not set: run the tests through ci/test, which starts the local S3 server",
    )
}

pub fn block_on<F: Future>(future: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(future)
}

fn client() -> Client {
    let config = aws_sdk_s3::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new(region()))
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

/// One test's bucket on the local server, and the test's view of it.
pub struct Bucket {
    pub name: String,
    client: Client,
}

impl Bucket {
    /// A new bucket with versioning on.
    pub fn versioned() -> Self {
        let bucket = Self::unversioned();
        bucket.enable_versioning();
        bucket
    }

    /// A new bucket with versioning never turned on.
    pub fn unversioned() -> Self {
        let name = unique_name("t");
        let client = client();
        block_on(client.create_bucket().bucket(&name).send()).expect("create bucket");
        Bucket { name, client }
    }

    pub fn enable_versioning(&self) {
        block_on(
            self.client
                .put_bucket_versioning()
                .bucket(&self.name)
                .versioning_configuration(
                    VersioningConfiguration::builder()
                        .status(BucketVersioningStatus::Enabled)
                        .build(),
                )
                .send(),
        )
        .expect("enable versioning");
    }

    /// Writes `body` at `key` and returns its version id.
    pub fn put(&self, key: &str, body: impl Into<Vec<u8>>) -> String {
        let output = block_on(
            self.client
                .put_object()
                .bucket(&self.name)
                .key(key)
                .body(ByteStream::from(body.into()))
                .send(),
        )
        .expect("put object");
        output.version_id().unwrap_or("null").to_owned()
    }

    /// Writes a valid record of release `version` at `key`, returning its version id.
    pub fn put_record(&self, key: &str, version: u64) -> String {
        self.put(key, record(version, None).to_string())
    }

    /// Puts a delete marker on `key`.
    pub fn delete(&self, key: &str) {
        block_on(
            self.client
                .delete_object()
                .bucket(&self.name)
                .key(key)
                .send(),
        )
        .expect("delete object");
    }

    /// Deletes one version for good.
    pub fn delete_version(&self, key: &str, version_id: &str) {
        block_on(
            self.client
                .delete_object()
                .bucket(&self.name)
                .key(key)
                .version_id(version_id)
                .send(),
        )
        .expect("delete version");
    }

    /// Every (version id, body) of `key`, newest first: what S3 holds, to compare before and
    /// after a step.
    pub fn history(&self, key: &str) -> Vec<(String, Value)> {
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
            .map(|version| {
                let id = version.version_id().unwrap().to_owned();
                let body = block_on(async {
                    let object = self
                        .client
                        .get_object()
                        .bucket(&self.name)
                        .key(key)
                        .version_id(&id)
                        .send()
                        .await
                        .expect("get version");
                    object.body.collect().await.expect("read body").into_bytes()
                });
                let value = serde_json::from_slice(&body).unwrap_or(Value::Null);
                (id, value)
            })
            .collect()
    }

    /// `source` for a resource over this bucket, with `extra` fields merged in.
    pub fn source(&self, name: &str, extra: Value) -> Value {
        let mut source = json!({
            "bucket": self.name,
            "name": name,
            "endpoint": endpoint(),
            "path_style": true,
            "region": region(),
            "access_key_id": access_key_id(),
            "secret_access_key": secret_access_key(),
        });
        for (field, value) in extra.as_object().expect("extra is an object") {
            source[field] = value.clone();
        }
        source
    }
}

/// A full record body of release `version`.
pub fn record(version: u64, environment: Option<&str>) -> Value {
    let commit = format!("{version:0>40}");
    let mut record = json!({
        "version": version,
        "commit": commit,
        "image": format!("sha256:{}", "ab".repeat(32)),
        "author": "dev@example.com",
        "changelog": format!("{}  2026-11-20  Dev Name  Change {version}", &commit[..7]),
        "commits": [commit],
        "timestamp": "2026-11-21T10:00:00Z",
        "rollback": false,
        "action_type": "automated",
    });
    if let Some(environment) = environment {
        record["environment"] = json!(environment);
    }
    record
}

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
    let mut command = Command::cargo_bin(binary).expect("the binary is built");
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

/// A build directory holding a git repository at `repo/`, made with the `git` command as a
/// pipeline's git resource would leave it.
pub struct Build {
    pub dir: tempfile::TempDir,
    commits: u32,
}

impl Build {
    pub fn new() -> Self {
        let build = Build {
            dir: tempfile::tempdir().unwrap(),
            commits: 0,
        };
        std::fs::create_dir(build.repo()).unwrap();
        build.git(&["init", "--quiet", "--initial-branch=main"]);
        build
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    pub fn repo(&self) -> std::path::PathBuf {
        self.dir.path().join("repo")
    }

    /// git in the repository, with a fixed identity and no user or system configuration.
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
            .env("HOME", self.dir.path());
        command
    }

    /// Runs git in the repository, returning its trimmed stdout.
    pub fn git(&self, args: &[&str]) -> String {
        run_git(self.git_command(args), args)
    }

    /// Commits a change to `file` with `subject`, on 2026-11-<day>, and returns its full sha.
    pub fn commit_file(&mut self, file: &str, subject: &str) -> String {
        self.commits += 1;
        let path = self.repo().join(file);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, format!("{subject}\n")).unwrap();
        self.git(&["add", "--all"]);
        let date = format!("2026-11-{:02}T12:00:00Z", 1 + self.commits % 28);
        let args = ["commit", "--quiet", "-m", subject];
        let mut command = self.git_command(&args);
        command
            .env("GIT_AUTHOR_DATE", &date)
            .env("GIT_COMMITTER_DATE", &date);
        run_git(command, &args);
        self.git(&["rev-parse", "HEAD"])
    }

    pub fn commit(&mut self, subject: &str) -> String {
        let file = format!("file-{}", self.commits);
        self.commit_file(&file, subject)
    }

    /// Writes `contents` to `name` in the build directory.
    pub fn write(&self, name: &str, contents: &str) {
        let path = self.dir.path().join(name);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, contents).unwrap();
    }
}

fn run_git(mut command: std::process::Command, args: &[&str]) -> String {
    let output = command.output().expect("git runs");
    assert!(
        output.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).unwrap().trim().to_owned()
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
    let mut command = Command::cargo_bin("out").expect("the binary is built");
    command
        .env_clear()
        .envs(BUILD_VARIABLES)
        .env("BUILD_ID", build_id)
        .arg(build)
        .write_stdin(json!({"source": source, "params": params}).to_string());
    command.output().expect("the binary runs")
}
