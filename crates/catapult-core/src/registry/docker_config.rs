//! The credentials `docker login` left for a registry, found where Docker itself finds them, in
//! Docker's order: `config.json` (in `$DOCKER_CONFIG`, or `~/.docker`: the front-end says which
//! directory, since the core never reads the environment) names a credential helper for the
//! registry (`credHelpers`) or for every registry (`credsStore`), run as
//! `docker-credential-<helper> get` with the registry on its stdin; else `auths` holds them
//! (`auth`, base64 of `user:password`; or `username` and `password`; or an `identitytoken`).
//! Secrets are held as [`Secret`]s, whose `Debug` shows nothing, and no message quotes a
//! helper's output.

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde::Deserialize;

use super::error::RegistryError;
use super::reference::ImageReference;

pub use crate::secret::Secret;

/// How long a credential helper may take (ECR's asks AWS for a token).
const HELPER_TIMEOUT: Duration = Duration::from_secs(30);
/// The most of a helper's output read, and of `config.json`.
const MAX_OUTPUT_BYTES: u64 = 1 << 20;
/// The username a helper answers with when its secret is an identity token.
const IDENTITY_TOKEN_USER: &str = "<token>";

/// Credentials for a registry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RegistryCredentials {
    /// A user and a password (or a personal token used as one).
    Basic {
        /// The user.
        username: String,
        /// The password.
        password: Secret,
    },
    /// An OAuth2 refresh token (`identitytoken`), exchanged at the token endpoint.
    IdentityToken(Secret),
}

/// Credentials and where they came from, for messages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FoundCredentials {
    /// The credentials.
    pub credentials: RegistryCredentials,
    /// Where they came from: `auths in /home/x/.docker/config.json`, `docker-credential-ecr-login`.
    pub from: String,
}

/// Docker's client configuration directory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DockerConfig {
    file: PathBuf,
}

/// `config.json`, the parts of it that say where credentials are; the rest is ignored.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct ConfigFile {
    #[serde(default)]
    auths: BTreeMap<String, AuthEntry>,
    #[serde(default)]
    cred_helpers: BTreeMap<String, String>,
    creds_store: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
struct AuthEntry {
    auth: Option<String>,
    username: Option<String>,
    password: Option<String>,
    identitytoken: Option<String>,
}

/// A helper's answer.
#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct HelperAnswer {
    username: String,
    secret: String,
}

impl DockerConfig {
    /// The configuration in `directory` (`$DOCKER_CONFIG`, or `~/.docker`).
    pub fn in_directory(directory: impl Into<PathBuf>) -> Self {
        DockerConfig {
            file: directory.into().join("config.json"),
        }
    }

    /// Its `config.json`.
    pub fn file(&self) -> &Path {
        &self.file
    }

    /// The credentials for `reference`'s registry, if Docker has any; an error when
    /// `config.json` cannot be read, or a helper it names fails.
    pub async fn credentials_for(
        &self,
        reference: &ImageReference,
    ) -> Result<Option<FoundCredentials>, RegistryError> {
        let config = self.clone();
        let reference = reference.clone();
        // A helper is a process to wait for: off the async runtime's thread.
        tokio::task::spawn_blocking(move || config.credentials_now(&reference))
            .await
            .map_err(|err| RegistryError::Credentials {
                registry: String::new(),
                from: "Docker's configuration".into(),
                reason: err.to_string(),
            })?
    }

    fn credentials_now(
        &self,
        reference: &ImageReference,
    ) -> Result<Option<FoundCredentials>, RegistryError> {
        let Some(config) = self.read(reference)? else {
            return Ok(None);
        };
        let keys = reference.credential_keys();
        let server = keys[0];
        let helper = keys
            .iter()
            .find_map(|key| config.cred_helpers.get(*key))
            .filter(|helper| !helper.is_empty());
        if let Some(helper) = helper {
            return run_helper(helper, server, reference);
        }
        if let Some(store) = config
            .creds_store
            .as_deref()
            .filter(|store| !store.is_empty())
        {
            match run_helper(store, server, reference) {
                Ok(Some(found)) => return Ok(Some(found)),
                Ok(None) => {}
                // A store named by a configuration copied from a desktop, whose helper is not
                // here: what `auths` holds may still do.
                Err(RegistryError::HelperMissing { .. }) => {
                    tracing::debug!(
                        "docker-credential-{store} (credsStore) is not on PATH; looking in auths"
                    );
                }
                Err(err) => return Err(err),
            }
        }
        let entry = find_entry(&config.auths, &keys);
        let Some((key, entry)) = entry else {
            return Ok(None);
        };
        let from = format!("auths[{key:?}] in {}", self.file.display());
        let bad = |reason: &str| RegistryError::Credentials {
            registry: reference.registry().to_owned(),
            from: from.clone(),
            reason: reason.to_owned(),
        };
        let credentials =
            if let Some(token) = entry.identitytoken.as_deref().filter(|t| !t.is_empty()) {
                RegistryCredentials::IdentityToken(Secret::new(token))
            } else if let Some(auth) = entry.auth.as_deref().filter(|a| !a.is_empty()) {
                let (username, password) = decode_auth(auth)
                    .ok_or_else(|| bad("its auth is not base64 of user:password"))?;
                RegistryCredentials::Basic {
                    username,
                    password: Secret::new(password),
                }
            } else if let (Some(username), Some(password)) = (&entry.username, &entry.password) {
                RegistryCredentials::Basic {
                    username: username.clone(),
                    password: Secret::new(password.clone()),
                }
            } else {
                // `docker login` with a store leaves an empty entry behind.
                return Ok(None);
            };
        Ok(Some(FoundCredentials { credentials, from }))
    }

    /// `config.json`, or `None` when there is none.
    fn read(&self, reference: &ImageReference) -> Result<Option<ConfigFile>, RegistryError> {
        let unreadable = |reason: String| RegistryError::Credentials {
            registry: reference.registry().to_owned(),
            from: self.file.display().to_string(),
            reason,
        };
        let file = match std::fs::File::open(&self.file) {
            Ok(file) => file,
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(err) => return Err(unreadable(err.to_string())),
        };
        let mut bytes = Vec::new();
        file.take(MAX_OUTPUT_BYTES + 1)
            .read_to_end(&mut bytes)
            .map_err(|err| unreadable(err.to_string()))?;
        if bytes.len() as u64 > MAX_OUTPUT_BYTES {
            return Err(unreadable(format!(
                "it is larger than {MAX_OUTPUT_BYTES} bytes"
            )));
        }
        // serde_json's message names a line and a column, never the text there.
        serde_json::from_slice(&bytes)
            .map(Some)
            .map_err(|err| unreadable(format!("it is not Docker's JSON: {err}")))
    }
}

/// The `auths` entry for one of `keys`: under the key itself, or under a key written as a URL
/// (`https://host/v1/`), as `docker login` writes some.
fn find_entry<'a>(
    auths: &'a BTreeMap<String, AuthEntry>,
    keys: &[&str],
) -> Option<(&'a str, &'a AuthEntry)> {
    for key in keys {
        if let Some((found, entry)) = auths.get_key_value(*key) {
            return Some((found, entry));
        }
    }
    auths
        .iter()
        .find(|(written, _)| keys.contains(&host_of(written)))
        .map(|(written, entry)| (written.as_str(), entry))
}

/// The host of an `auths` key written as a URL: `https://host:5000/v1/` → `host:5000`.
fn host_of(key: &str) -> &str {
    let rest = key
        .strip_prefix("https://")
        .or_else(|| key.strip_prefix("http://"))
        .unwrap_or(key);
    rest.split('/').next().unwrap_or(rest)
}

/// `user:password` from base64, with or without its padding.
fn decode_auth(auth: &str) -> Option<(String, String)> {
    let auth = auth.trim();
    let padded = format!("{auth}{}", "=".repeat((4 - auth.len() % 4) % 4));
    let bytes = aws_smithy_types::base64::decode(auth)
        .or_else(|_| aws_smithy_types::base64::decode(&padded))
        .ok()?;
    let text = String::from_utf8(bytes).ok()?;
    let (username, password) = text.split_once(':')?;
    (!username.is_empty()).then(|| (username.to_owned(), password.to_owned()))
}

/// `docker-credential-<helper> get`, `server` on its stdin: its credentials, `None` when it has
/// none for the server, an error when it cannot be run or fails otherwise.
fn run_helper(
    helper: &str,
    server: &str,
    reference: &ImageReference,
) -> Result<Option<FoundCredentials>, RegistryError> {
    let program = format!("docker-credential-{helper}");
    let failed = |reason: String| RegistryError::Credentials {
        registry: reference.registry().to_owned(),
        from: program.clone(),
        reason,
    };
    if helper.contains(['/', '\\']) || helper.chars().any(char::is_control) {
        return Err(failed(format!("{helper:?} is not a helper's name")));
    }
    let mut child = match Command::new(&program)
        .arg("get")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
    {
        Ok(child) => child,
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => {
            return Err(RegistryError::HelperMissing {
                registry: reference.registry().to_owned(),
                program,
            });
        }
        Err(err) => return Err(failed(format!("cannot run it: {err}"))),
    };
    if let Some(mut stdin) = child.stdin.take() {
        // A helper that exits without reading is judged by its exit status below.
        let _ = stdin.write_all(server.as_bytes());
    }
    let read_all = |pipe: Option<Box<dyn Read + Send>>| {
        std::thread::spawn(move || {
            let mut bytes = Vec::new();
            if let Some(pipe) = pipe {
                let _ = pipe.take(MAX_OUTPUT_BYTES).read_to_end(&mut bytes);
            }
            bytes
        })
    };
    let stdout = read_all(
        child
            .stdout
            .take()
            .map(|pipe| Box::new(pipe) as Box<dyn Read + Send>),
    );
    let stderr = read_all(
        child
            .stderr
            .take()
            .map(|pipe| Box::new(pipe) as Box<dyn Read + Send>),
    );
    let started = Instant::now();
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break status,
            Ok(None) if started.elapsed() < HELPER_TIMEOUT => {
                std::thread::sleep(Duration::from_millis(20));
            }
            Ok(None) => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(failed(format!(
                    "it gave no answer within {} s",
                    HELPER_TIMEOUT.as_secs()
                )));
            }
            Err(err) => return Err(failed(format!("cannot wait for it: {err}"))),
        }
    };
    let stdout = stdout.join().unwrap_or_default();
    let stderr = stderr.join().unwrap_or_default();
    if !status.success() {
        // The helpers' protocol: "credentials not found in native keychain" on stdout.
        if String::from_utf8_lossy(&stdout).contains("credentials not found") {
            return Ok(None);
        }
        return Err(failed(format!(
            "it exited with {status}{}",
            last_line(&stderr)
                .map(|line| format!(": {line}"))
                .unwrap_or_default()
        )));
    }
    let answer: HelperAnswer = serde_json::from_slice(&stdout)
        .map_err(|_| failed("its answer is not the helpers' JSON (Username, Secret)".into()))?;
    let credentials = if answer.username == IDENTITY_TOKEN_USER {
        RegistryCredentials::IdentityToken(Secret::new(answer.secret))
    } else {
        RegistryCredentials::Basic {
            username: answer.username,
            password: Secret::new(answer.secret),
        }
    };
    Ok(Some(FoundCredentials {
        credentials,
        from: program,
    }))
}

/// The last line a helper wrote on stderr, without control characters and cut to a sane length.
fn last_line(stderr: &[u8]) -> Option<String> {
    let text = String::from_utf8_lossy(stderr);
    let line = text.lines().rev().find(|line| !line.trim().is_empty())?;
    let clean: String = line
        .trim()
        .chars()
        .filter(|c| !c.is_control())
        .take(200)
        .collect();
    Some(clean)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reference(text: &str) -> ImageReference {
        ImageReference::parse(text).unwrap()
    }

    fn config_with(json: &str) -> (tempfile::TempDir, DockerConfig) {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("config.json"), json).unwrap();
        let config = DockerConfig::in_directory(dir.path());
        (dir, config)
    }

    fn basic(username: &str, password: &str) -> RegistryCredentials {
        RegistryCredentials::Basic {
            username: username.into(),
            password: Secret::new(password),
        }
    }

    #[test]
    fn reads_auths_as_docker_login_writes_them() {
        // "alice:s3cret:with:colons" in base64.
        let (_dir, config) = config_with(
            r#"{"auths": {
                "127.0.0.1:5000": {"auth": "YWxpY2U6czNjcmV0OndpdGg6Y29sb25z"},
                "https://registry.example.com/v1/": {"username": "bob", "password": "pw"},
                "https://index.docker.io/v1/": {"auth": "Y2Fyb2w6aHVi"},
                "token.example.com": {"identitytoken": "refresh"},
                "empty.example.com": {}
            }, "HttpHeaders": {"User-Agent": "x"}}"#,
        );
        let found = config
            .credentials_now(&reference("127.0.0.1:5000/app:t"))
            .unwrap()
            .unwrap();
        assert_eq!(found.credentials, basic("alice", "s3cret:with:colons"));
        assert!(
            found.from.starts_with("auths[\"127.0.0.1:5000\"] in "),
            "{}",
            found.from
        );
        let found = config
            .credentials_now(&reference("registry.example.com/app:t"))
            .unwrap()
            .unwrap();
        assert_eq!(found.credentials, basic("bob", "pw"));
        let found = config
            .credentials_now(&reference("acme/app:t"))
            .unwrap()
            .unwrap();
        assert_eq!(found.credentials, basic("carol", "hub"));
        let found = config
            .credentials_now(&reference("token.example.com/app:t"))
            .unwrap()
            .unwrap();
        assert_eq!(
            found.credentials,
            RegistryCredentials::IdentityToken(Secret::new("refresh"))
        );
        assert_eq!(
            config
                .credentials_now(&reference("empty.example.com/app:t"))
                .unwrap(),
            None
        );
        assert_eq!(
            config
                .credentials_now(&reference("other.example.com/app:t"))
                .unwrap(),
            None
        );
    }

    #[test]
    fn no_file_means_no_credentials_and_a_bad_one_is_named() {
        let dir = tempfile::tempdir().unwrap();
        let config = DockerConfig::in_directory(dir.path().join("absent"));
        assert_eq!(
            config
                .credentials_now(&reference("r.example.com/a:t"))
                .unwrap(),
            None
        );
        let (_dir, config) = config_with("{\"auths\": {\"r.example.com\": {\"auth\": \"s3cret\"");
        let err = config
            .credentials_now(&reference("r.example.com/a:t"))
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("config.json") && err.contains("r.example.com"),
            "{err}"
        );
        assert!(!err.contains("s3cret"), "{err}");
        let (_dir, config) =
            config_with(r#"{"auths": {"r.example.com": {"auth": "bm9jb2xvbg=="}}}"#);
        let err = config
            .credentials_now(&reference("r.example.com/a:t"))
            .unwrap_err()
            .to_string();
        assert!(err.contains("not base64 of user:password"), "{err}");
    }

    #[test]
    fn decodes_auth_with_or_without_padding() {
        assert_eq!(decode_auth("dTpw"), Some(("u".into(), "p".into())));
        assert_eq!(decode_auth("dTpwdw=="), Some(("u".into(), "pw".into())));
        assert_eq!(decode_auth("dTpwdw"), Some(("u".into(), "pw".into())));
        assert_eq!(decode_auth("OnA="), None, "no user");
        assert_eq!(decode_auth("!!!"), None);
    }

    #[test]
    fn keys_written_as_urls_match_their_host() {
        assert_eq!(
            host_of("https://r.example.com:5000/v2/"),
            "r.example.com:5000"
        );
        assert_eq!(host_of("http://r.example.com"), "r.example.com");
        assert_eq!(host_of("r.example.com"), "r.example.com");
    }

    #[test]
    fn a_secret_never_shows_in_debug() {
        let found = FoundCredentials {
            credentials: basic("alice", "s3cret"),
            from: "test".into(),
        };
        assert!(!format!("{found:?}").contains("s3cret"));
    }
}
