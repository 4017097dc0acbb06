//! The container registries the test scripts start (Debian's `docker-registry`, by
//! `ci/lib/registry.sh`): one open, at `CATAPULT_TEST_REGISTRY`, and one with htpasswd Basic
//! authentication, at `CATAPULT_TEST_REGISTRY_AUTH` with `CATAPULT_TEST_REGISTRY_USER` and
//! `CATAPULT_TEST_REGISTRY_PASSWORD`, which `ci/test` exports; and images pushed into them by
//! the registry's own API (`ci/lib/registry_push.py`). A test that needs a registry fails, never
//! skips, when it is not there.

use std::path::PathBuf;
use std::process::Command;

use serde::Deserialize;

/// The open registry's `host:port`.
pub fn open() -> String {
    variable("CATAPULT_TEST_REGISTRY")
}

/// The registry with Basic authentication: its `host:port`, user and password.
pub fn with_auth() -> (String, String, String) {
    (
        variable("CATAPULT_TEST_REGISTRY_AUTH"),
        variable("CATAPULT_TEST_REGISTRY_USER"),
        variable("CATAPULT_TEST_REGISTRY_PASSWORD"),
    )
}

fn variable(name: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| {
        panic!("{name} is not set: run the tests through ci/test, which starts the registries")
    })
}

/// What a push made.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Pushed {
    /// The digest of what the tag names: the manifest's, or the index's own.
    pub digest: String,
    /// `registry/repository:tag`.
    pub reference: String,
    /// The tag's manifest type.
    pub media_type: String,
    /// For an index, each platform's manifest digest.
    pub manifests: std::collections::BTreeMap<String, String>,
}

/// Pushes a small image (an index of two platforms with `index`) to `registry` as
/// `repository:tag`, with Basic credentials when given.
pub fn push(
    registry: &str,
    credentials: Option<(&str, &str)>,
    repository: &str,
    tag: &str,
    index: bool,
) -> Pushed {
    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../ci/lib/registry_push.py");
    let mut command = Command::new("python3");
    command.arg(&script).args([
        "--registry",
        registry,
        "--repository",
        repository,
        "--tag",
        tag,
    ]);
    if let Some((user, password)) = credentials {
        command.args(["--user", user, "--password", password]);
    }
    if index {
        command.arg("--index");
    }
    let output = command.output().expect("python3 runs registry_push.py");
    assert!(
        output.status.success(),
        "registry_push.py: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).expect("registry_push.py prints its JSON")
}

/// A repository path of its own for a test, so tests share the registries in parallel.
pub fn unique_repository(prefix: &str) -> String {
    crate::server::unique_name(prefix)
}
