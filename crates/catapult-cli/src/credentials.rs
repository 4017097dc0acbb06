//! Credentials, as the older tool found them: the AWS default chain with a profile (`--profile`,
//! `AWS_PROFILE`, the older `CATAPULT_AWS_PROFILE`), and, with an MFA device
//! (`--mfa-device`, `CATAPULT_AWS_MFA_DEVICE`), a session opened once with a code typed on the
//! terminal and kept in the cache directory until it expires (readable by its owner alone).
//! Secrets are never printed.

use std::io::{BufRead, IsTerminal, Write};
use std::path::{Path, PathBuf};

use catapult_core::store::StoreErrorKind;
use catapult_core::store::s3::{Connection, Secret, StaticCredentials, mfa_session};
use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use crate::error::{Failure, Result};

/// How long an MFA session lasts: ten hours, as the older tool asked.
const SESSION_SECONDS: i32 = 36_000;
/// A session this close to its end is not used.
const SESSION_MARGIN_SECONDS: i64 = 300;

#[derive(Serialize, Deserialize)]
struct SavedSession {
    device: String,
    access_key_id: String,
    secret_access_key: String,
    session_token: String,
    expires: String,
}

/// The profile the flags and the environment name.
pub fn profile(flag: Option<&str>) -> Option<String> {
    flag.map(str::to_owned)
        .or_else(|| std::env::var("AWS_PROFILE").ok())
        .or_else(|| std::env::var("CATAPULT_AWS_PROFILE").ok())
        .filter(|profile| !profile.trim().is_empty())
}

/// Fills in `connection`'s credentials: an MFA session when a device is named, the default
/// chain (with its profile) otherwise.
pub async fn apply(
    connection: &mut Connection,
    profile: Option<String>,
    mfa_device: Option<String>,
    cache_dir: Option<&Path>,
) -> Result<()> {
    connection.profile = profile;
    let device = mfa_device
        .or_else(|| std::env::var("CATAPULT_AWS_MFA_DEVICE").ok())
        .filter(|device| !device.trim().is_empty());
    let Some(device) = device else {
        return Ok(());
    };
    let path = cache_dir.map(|dir| {
        dir.join(format!(
            "session-{}.json",
            connection
                .profile
                .as_deref()
                .unwrap_or("default")
                .replace(['/', '\\'], "_")
        ))
    });
    if let Some(saved) = path
        .as_deref()
        .and_then(|path| saved_session(path, &device))
    {
        connection.credentials = Some(saved);
        return Ok(());
    }
    let code = ask_code(&device)?;
    let session = mfa_session(connection, &device, &code, SESSION_SECONDS)
        .await
        .map_err(|err| Failure::new(err.to_string()))?;
    if let Some(path) = &path {
        save_session(path, &device, &session.credentials, session.expires);
    }
    connection.credentials = Some(session.credentials);
    Ok(())
}

/// `failure` said the way a person at a terminal can act on, when it is about credentials: none
/// found (and every way to give them), or a profile the SDK cannot use (SSO, which catapult is
/// built without). Any other failure is returned as is.
pub fn explain(failure: Failure, profile: Option<&str>) -> Failure {
    let Failure::Core(catapult_core::Error::Store(store_error)) = &failure else {
        return failure;
    };
    let StoreErrorKind::Credentials { found_none, reason } = &store_error.kind else {
        return failure;
    };
    let profile_named = profile.map(|profile| format!("profile {profile:?}"));
    let message = if reason.contains("feature(s) enabled: sso") {
        format!(
            "{} uses AWS SSO (IAM Identity Center), which catapult is built without: after `aws sso login`, give its credentials in the environment with `eval \"$(aws configure export-credentials{} --format env)\"`",
            profile_named.as_deref().unwrap_or("the default profile"),
            profile
                .map(|p| format!(" --profile {p}"))
                .unwrap_or_default()
        )
    } else if *found_none {
        let looked = match &profile_named {
            Some(profile) => format!(" for {profile} in ~/.aws/credentials or ~/.aws/config"),
            None => String::new(),
        };
        format!(
            "no AWS credentials found{looked}: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (and AWS_SESSION_TOKEN), or name a profile of ~/.aws with --profile or AWS_PROFILE (SSO is not built in: export an SSO profile's credentials with `aws configure export-credentials --format env`)"
        )
    } else {
        format!(
            "the AWS credentials{} could not be loaded: {reason}",
            profile_named
                .map(|profile| format!(" of {profile}"))
                .unwrap_or_default()
        )
    };
    Failure::new(message)
}

fn saved_session(path: &Path, device: &str) -> Option<StaticCredentials> {
    let bytes = std::fs::read(path).ok()?;
    let saved: SavedSession = serde_json::from_slice(&bytes).ok()?;
    let expires: Timestamp = saved.expires.parse().ok()?;
    if saved.device != device
        || expires.as_second() - Timestamp::now().as_second() < SESSION_MARGIN_SECONDS
    {
        return None;
    }
    Some(StaticCredentials {
        access_key_id: saved.access_key_id,
        secret_access_key: Secret::new(saved.secret_access_key),
        session_token: Some(Secret::new(saved.session_token)),
    })
}

fn save_session(path: &PathBuf, device: &str, credentials: &StaticCredentials, expires: Timestamp) {
    let saved = SavedSession {
        device: device.to_owned(),
        access_key_id: credentials.access_key_id.clone(),
        secret_access_key: credentials.secret_access_key.expose().to_owned(),
        session_token: credentials
            .session_token
            .as_ref()
            .map(|token| token.expose().to_owned())
            .unwrap_or_default(),
        expires: expires.to_string(),
    };
    let written = (|| -> std::io::Result<()> {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)?;
        }
        let bytes = serde_json::to_vec(&saved).map_err(std::io::Error::other)?;
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create(true).truncate(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            options.mode(0o600);
        }
        options.open(path)?.write_all(&bytes)
    })();
    if let Err(err) = written {
        tracing::warn!("cannot keep the MFA session in {}: {err}", path.display());
    }
}

fn ask_code(device: &str) -> Result<String> {
    if !std::io::stdin().is_terminal() {
        return Err(Failure::new(format!(
            "an MFA code for {device} is needed and stdin is not a terminal: run catapult once on a terminal to open a session"
        )));
    }
    let mut stderr = std::io::stderr().lock();
    let _ = write!(stderr, "MFA code for {device}: ");
    let _ = stderr.flush();
    let mut line = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut line)
        .map_err(|err| Failure::new(format!("cannot read the MFA code: {err}")))?;
    let code = line.trim().to_owned();
    if code.len() != 6 || !code.bytes().all(|b| b.is_ascii_digit()) {
        return Err(Failure::new("an MFA code is 6 digits"));
    }
    Ok(code)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_saved_session_is_used_until_it_nearly_expires() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("session-default.json");
        let credentials = StaticCredentials {
            access_key_id: "AKIA".into(),
            secret_access_key: Secret::new("secret"),
            session_token: Some(Secret::new("token")),
        };
        let later = Timestamp::now() + jiff::SignedDuration::from_hours(1);
        save_session(&path, "arn:mfa", &credentials, later);
        assert_eq!(saved_session(&path, "arn:mfa"), Some(credentials.clone()));
        assert_eq!(saved_session(&path, "arn:other"), None);
        let soon = Timestamp::now() + jiff::SignedDuration::from_secs(60);
        save_session(&path, "arn:mfa", &credentials, soon);
        assert_eq!(saved_session(&path, "arn:mfa"), None);
    }
}
