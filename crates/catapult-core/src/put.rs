//! `out`: cuts a release, or deploys one, as a new version of the record object. Every local
//! input (the checkout, the digest file, the release asked for) is read and checked before S3 is
//! touched, and the write itself is conditional: `If-None-Match: *` for a first record,
//! `If-Match` on the latest's ETag after it. When another writer wins, the step reads again and
//! recomputes, a bounded number of times, so two racing puts take two consecutive numbers and a
//! failed put leaves S3 as it was.

use std::hash::{BuildHasher, RandomState};
use std::path::{Path, PathBuf};
use std::time::Duration;

use jiff::Timestamp;
use serde::Deserialize;

use crate::check::ensure_versioned;
use crate::error::{Error, Result};
use crate::get::step_output;
use crate::git::{Checkout, Commit, Relation};
use crate::history::find_record;
use crate::protocol::{DeployTarget, OutParams, ResourceConfig, StepOutput};
use crate::record::{Record, format_timestamp};
use crate::store::{Location, NULL_VERSION_ID, PutOutcome, RecordStore, WriteCondition};

/// How many times a write is tried while other writers keep winning.
const MAX_WRITE_ATTEMPTS: u32 = 16;
/// The waits between attempts: random below a cap that doubles from the base to the largest.
const BACKOFF_BASE: Duration = Duration::from_millis(20);
const BACKOFF_LARGEST: Duration = Duration::from_secs(1);
/// What `action_type` says of records written by a pipeline.
const AUTOMATED: &str = "automated";

/// Runs `out` for the resource `config` describes, with `params` relative to `build_dir`.
pub async fn put<S: RecordStore>(
    store: &S,
    config: &ResourceConfig,
    params: &OutParams,
    build_dir: &Path,
) -> Result<StepOutput> {
    params.validate_for(config)?;
    match &config.deploys {
        None => release(store, config, ReleaseInputs::read(params, build_dir)?).await,
        Some(target) => {
            let inputs = DeployInputs::read(config, params, build_dir)?;
            deploy(store, config, target, inputs).await
        }
    }
}

/// What a release is made of, read from the build directory.
struct ReleaseInputs {
    checkout: Checkout,
    commit: Commit,
    image: Option<String>,
    author: String,
    changelog_paths: Vec<String>,
    allow_rollback: bool,
    force: bool,
}

impl ReleaseInputs {
    fn read(params: &OutParams, build_dir: &Path) -> Result<Self> {
        let repository = params.repository.as_deref().ok_or_else(|| {
            Error::InvalidParams(
                "params.repository is required: the git checkout to release".into(),
            )
        })?;
        let checkout = Checkout::open(&build_dir.join(repository))?;
        let commit = match &params.commit {
            None => checkout.head()?,
            Some(spec) => {
                let path = build_dir.join(spec);
                if path.is_file() {
                    checkout.resolve(read_trimmed(&path)?.as_str())?
                } else {
                    checkout.resolve(spec)?
                }
            }
        };
        let image = match &params.image {
            None => None,
            Some(file) => {
                let path = build_dir.join(file);
                let digest = read_trimmed(&path)?;
                if !is_image_digest(&digest) {
                    return Err(Error::InvalidParams(format!(
                        "params.image: {} holds {:?}, not an image digest (sha256: and 64 lowercase hex digits)",
                        path.display(),
                        shorten(&digest)
                    )));
                }
                Some(digest)
            }
        };
        let author = match &params.author {
            Some(author) if !author.trim().is_empty() => author.trim().to_owned(),
            Some(_) => return Err(Error::InvalidParams("params.author is empty".into())),
            None => commit.author_email.clone(),
        };
        Ok(ReleaseInputs {
            checkout,
            commit,
            image,
            author,
            changelog_paths: params.changelog_paths.clone(),
            allow_rollback: params.allow_rollback,
            force: params.force,
        })
    }
}

async fn release<S: RecordStore>(
    store: &S,
    config: &ResourceConfig,
    inputs: ReleaseInputs,
) -> Result<StepOutput> {
    let at = &config.releases;
    let commit = &inputs.commit;
    let mut changelogs = Memo::default();
    let written = write_next(store, at, async |latest: Option<&Latest>| {
        let previous = latest.map(|latest| &latest.record);
        if let Some(latest) = latest.filter(|latest| latest.record.commit == commit.sha) {
            if !inputs.force {
                tracing::info!(
                    "commit {} is already release {} of {}: nothing written (params.force: true releases it again)",
                    short(&commit.sha),
                    latest.record.version,
                    config.name
                );
                return Ok(Next::Keep(step_output(&latest.record, &latest.version_id)));
            }
        }
        let rollback = match previous {
            None => false,
            Some(previous) => match inputs.checkout.relation(&previous.commit, commit) {
                Relation::Same | Relation::Descendant => false,
                Relation::NotDescendant if inputs.allow_rollback => true,
                Relation::NotDescendant => {
                    return Err(Error::RollbackRefused(format!(
                        "commit {} does not descend from {}, the commit of release {} of {}: releasing it would roll back",
                        short(&commit.sha),
                        short(&previous.commit),
                        previous.version,
                        config.name
                    )));
                }
                Relation::PreviousMissing { reason } => {
                    tracing::warn!("cannot tell whether this release is a rollback: {reason}");
                    false
                }
            },
        };
        let previous_commit = previous.map(|previous| previous.commit.clone());
        let changelog = changelogs.get_or_try(previous_commit.clone(), || {
            inputs
                .checkout
                .changelog(previous_commit.as_deref(), commit, &inputs.changelog_paths)
        })?;
        if let Some(reason) = &changelog.unavailable {
            tracing::warn!("the changelog is unavailable: {reason}");
        }
        Ok(Next::Write(Record {
            version: previous.map_or(1, |previous| previous.version + 1),
            commit: commit.sha.clone(),
            image: inputs.image.clone(),
            author: inputs.author.clone(),
            changelog: changelog.text.clone(),
            commits: changelog.commits.clone(),
            timestamp: format_timestamp(Timestamp::now()),
            rollback,
            action_type: Some(AUTOMATED.to_owned()),
            environment: None,
        }))
    })
    .await?;
    Ok(match written {
        Written::Kept(output) => output,
        Written::New { record, version_id } => {
            tracing::info!(
                "released {} {} (commit {}{}) as version {version_id:?} of {at}",
                config.name,
                record.version,
                record.short_commit(),
                if record.rollback { ", a rollback" } else { "" }
            );
            step_output(&record, &version_id)
        }
    })
}

/// Which release a deploy is of.
#[derive(Debug, Clone, PartialEq, Eq)]
enum ReleaseChoice {
    /// Exactly this S3 version of the release records (from a `get` of the release resource).
    Pinned { version_id: String, from: PathBuf },
    /// Release number `version`; `commit`, when known, must match.
    Number {
        version: u64,
        commit: Option<String>,
    },
    /// The latest release.
    Latest,
}

/// What a deploy is made of, read from the build directory.
struct DeployInputs {
    choice: ReleaseChoice,
    checkout: Option<Checkout>,
    allow_rollback: bool,
}

/// The fields of a `get`'s `release.json` that pin a release.
#[derive(Deserialize)]
struct FetchedRelease {
    version: u64,
    version_id: String,
    commit: String,
    name: String,
    environment: Option<String>,
}

impl DeployInputs {
    fn read(config: &ResourceConfig, params: &OutParams, build_dir: &Path) -> Result<Self> {
        let choice = match (&params.release, &params.version) {
            (Some(directory), _) => fetched_release(config, &build_dir.join(directory))?,
            (None, Some(version)) => ReleaseChoice::Number {
                version: release_number(version, build_dir)?,
                commit: None,
            },
            (None, None) => ReleaseChoice::Latest,
        };
        let checkout = match &params.repository {
            Some(repository) => Some(Checkout::open(&build_dir.join(repository))?),
            None => None,
        };
        Ok(DeployInputs {
            choice,
            checkout,
            allow_rollback: params.allow_rollback,
        })
    }
}

/// The release a `get` fetched into `directory`: its `release.json` pins the S3 version. A `get`
/// of another deploy resource (promotion from staging) names the release by number and commit.
fn fetched_release(config: &ResourceConfig, directory: &Path) -> Result<ReleaseChoice> {
    let path = directory.join("release.json");
    let text = std::fs::read(&path).map_err(|err| {
        Error::InvalidParams(format!(
            "params.release: cannot read {} ({err}): name the directory of a get of the release resource",
            path.display()
        ))
    })?;
    let fetched: FetchedRelease = serde_json::from_slice(&text).map_err(|err| {
        Error::InvalidParams(format!(
            "params.release: {} is not the release.json of a get: {err}",
            path.display()
        ))
    })?;
    if fetched.name != config.name {
        return Err(Error::InvalidParams(format!(
            "params.release: {} is a release of {:?}, not of {:?}",
            path.display(),
            fetched.name,
            config.name
        )));
    }
    Ok(match fetched.environment {
        None => ReleaseChoice::Pinned {
            version_id: fetched.version_id,
            from: path,
        },
        Some(_) => ReleaseChoice::Number {
            version: fetched.version,
            commit: Some(fetched.commit),
        },
    })
}

/// `params.version`: a number, a string holding one, or a file holding one.
fn release_number(value: &serde_json::Value, build_dir: &Path) -> Result<u64> {
    let invalid = |what: String| {
        Error::InvalidParams(format!(
            "params.version: {what} is not a release number (1 or more)"
        ))
    };
    let number = match value {
        serde_json::Value::Number(number) => {
            number.as_u64().ok_or_else(|| invalid(number.to_string()))?
        }
        serde_json::Value::String(text) => match text.trim().parse::<u64>() {
            Ok(number) => number,
            Err(_) => {
                let path = build_dir.join(text);
                if !path.is_file() {
                    return Err(Error::InvalidParams(format!(
                        "params.version: {text:?} is neither a release number nor a file in the build directory"
                    )));
                }
                let held = read_trimmed(&path)?;
                held.parse().map_err(|_| {
                    invalid(format!(
                        "{}, which holds {:?},",
                        path.display(),
                        shorten(&held)
                    ))
                })?
            }
        },
        other => return Err(invalid(other.to_string())),
    };
    if number == 0 {
        return Err(invalid("0".into()));
    }
    Ok(number)
}

async fn deploy<S: RecordStore>(
    store: &S,
    config: &ResourceConfig,
    target: &DeployTarget,
    inputs: DeployInputs,
) -> Result<StepOutput> {
    let (_, release) = chosen_release(store, &config.releases, &inputs.choice).await?;

    let at = &target.location;
    let environment = &target.environment;
    let mut changelogs = Memo::default();
    let mut gate_passed = false;
    let written = write_next(store, at, async |current: Option<&Latest>| {
        let deployed_now = current.map(|current| &current.record);
        let rollback = deployed_now.is_some_and(|now| release.version < now.version);
        if let Some(now) = deployed_now.filter(|_| rollback && !inputs.allow_rollback) {
            return Err(Error::RollbackRefused(format!(
                "release {} of {} is older than release {}, deployed to {environment:?} now: deploying it would roll back",
                release.version, config.name, now.version
            )));
        }
        // An allowed rollback goes back to an older release: it promotes nothing, so the gate,
        // which guards promotions, does not apply. The gate's answer does not change between
        // attempts, so it is asked once.
        if !rollback && !gate_passed {
            pass_gate(store, config, &release).await?;
            gate_passed = true;
        }
        let changelog = match (&inputs.checkout, deployed_now) {
            (Some(checkout), Some(now)) => changelogs
                .get_or_try(Some(now.commit.clone()), || {
                    deploy_changelog(checkout, now, &release, rollback)
                })?
                .clone(),
            _ => release.changelog.clone(),
        };
        Ok(Next::Write(Record {
            version: release.version,
            commit: release.commit.clone(),
            image: release.image.clone(),
            author: release.author.clone(),
            changelog,
            commits: release.commits.clone(),
            timestamp: format_timestamp(Timestamp::now()),
            rollback,
            action_type: Some(AUTOMATED.to_owned()),
            environment: Some(environment.clone()),
        }))
    })
    .await?;
    let Written::New { record, version_id } = written else {
        unreachable!("a deploy always writes");
    };
    tracing::info!(
        "deployed release {} of {} (commit {}{}) to {environment:?} as version {version_id:?} of {at}",
        record.version,
        config.name,
        record.short_commit(),
        if record.rollback { ", a rollback" } else { "" }
    );
    Ok(step_output(&record, &version_id))
}

/// The promotion gate: the release must be in the deploy history of each environment that
/// `require_deployed_to` names.
async fn pass_gate<S: RecordStore>(
    store: &S,
    config: &ResourceConfig,
    release: &Record,
) -> Result<()> {
    for environment in &config.require_deployed_to {
        let deployed_there = find_record(
            store,
            &config.deploys_of(environment),
            |deployed| deployed.version == release.version && deployed.commit == release.commit,
            |_| false,
        )
        .await?;
        if deployed_there.is_none() {
            return Err(Error::GateNotPassed {
                name: config.name.clone(),
                version: release.version,
                environment: environment.clone(),
            });
        }
    }
    Ok(())
}

/// The changelog of a deploy: the commits from the one deployed now to the release's, or, for a
/// rollback, the commits it undoes under a line that says so. When the checkout cannot tell,
/// the release's own changelog, with a warning.
fn deploy_changelog(
    checkout: &Checkout,
    deployed_now: &Record,
    release: &Record,
    rollback: bool,
) -> Result<String> {
    let resolved = checkout
        .resolve(&release.commit)
        .and_then(|release_commit| {
            checkout
                .resolve(&deployed_now.commit)
                .map(|now| (release_commit, now))
        });
    let (release_commit, now_commit) = match resolved {
        Ok(commits) => commits,
        Err(err) => {
            tracing::warn!("using the release's own changelog: {err}");
            return Ok(release.changelog.clone());
        }
    };
    let changelog = if rollback {
        let undone = checkout.changelog(Some(&release_commit.sha), &now_commit, &[])?;
        let mut text = format!(
            "[rollback from release {}: these commits are undone]",
            deployed_now.version
        );
        if !undone.text.is_empty() {
            text.push('\n');
            text.push_str(&undone.text);
        }
        return Ok(text);
    } else {
        checkout.changelog(Some(&now_commit.sha), &release_commit, &[])?
    };
    if let Some(reason) = &changelog.unavailable {
        tracing::warn!("the changelog is unavailable: {reason}");
    }
    Ok(changelog.text)
}

/// The release a deploy is of, with its S3 version id, or an error naming what was asked for.
async fn chosen_release<S: RecordStore>(
    store: &S,
    releases: &Location,
    choice: &ReleaseChoice,
) -> Result<(String, Record)> {
    let not_found = |wanted: String| Error::ReleaseNotFound {
        location: releases.clone(),
        wanted,
    };
    match choice {
        ReleaseChoice::Pinned { version_id, from } => {
            let object = store
                .get_version(releases, version_id)
                .await?
                .ok_or_else(|| {
                    not_found(format!(
                        "release with version id {version_id:?} (from {})",
                        from.display()
                    ))
                })?;
            let record = Record::read(&object, releases)?;
            Ok((version_id.clone(), record))
        }
        ReleaseChoice::Number { version, commit } => {
            // Numbers only grow, so the walk stops at the first older release.
            let (version_id, record) = find_record(
                store,
                releases,
                |record| record.version == *version,
                |record| record.version < *version,
            )
            .await?
            .ok_or_else(|| not_found(format!("release {version}")))?;
            if let Some(commit) = commit.as_ref().filter(|commit| **commit != record.commit) {
                return Err(Error::InvalidParams(format!(
                    "params.release names release {version} at commit {}, but release {version} in {releases} is commit {}",
                    short(commit),
                    short(&record.commit)
                )));
            }
            Ok((version_id, record))
        }
        ReleaseChoice::Latest => {
            let latest = latest_record(store, releases)
                .await?
                .ok_or_else(|| not_found("release".into()))?;
            Ok((latest.version_id, latest.record))
        }
    }
}

/// What a step makes of the latest record: a new record to write after it, or nothing to write.
enum Next {
    Write(Record),
    Keep(StepOutput),
}

/// What [`write_next`] did.
enum Written {
    /// Nothing was written; this is what the step prints.
    Kept(StepOutput),
    /// `record` was written as S3 version `version_id`.
    New { record: Record, version_id: String },
}

/// Reads the latest record at `at`, lets `next` decide what follows it, and writes that on the
/// condition that the latest is still the latest. When another writer got there first, reads
/// again and asks again, after a random wait, a bounded number of times.
async fn write_next<S: RecordStore>(
    store: &S,
    at: &Location,
    mut next: impl AsyncFnMut(Option<&Latest>) -> Result<Next>,
) -> Result<Written> {
    for attempt in 1..=MAX_WRITE_ATTEMPTS {
        let latest = latest_record(store, at).await?;
        let record = match next(latest.as_ref()).await? {
            Next::Keep(output) => return Ok(Written::Kept(output)),
            Next::Write(record) => record,
        };
        let condition = latest.map_or(WriteCondition::Absent, |latest| latest.condition);
        if let PutOutcome::Written { version_id } =
            store.put(at, record.to_json(), &condition).await?
        {
            return Ok(Written::New { record, version_id });
        }
        wait_before_retry(at, attempt).await;
    }
    Err(Error::Contention {
        location: at.clone(),
        attempts: MAX_WRITE_ATTEMPTS,
    })
}

/// The latest record at a key, and the condition under which a write may follow it.
struct Latest {
    version_id: String,
    record: Record,
    condition: WriteCondition,
}

/// How many entries the listing that finds the current record asks for: the key's own entries
/// come first (a key sorts before every other key it prefixes), so the current one is on it.
const CURRENT_PAGE_SIZE: i32 = 4;

/// The current record at `at`, and the condition a write after it needs: a ListObjectVersions
/// page names the current version and its ETag, and one GetObject reads it, so that a release
/// costs at most three requests with its write, the very first included (an empty listing, then
/// GetBucketVersioning: with no record at all the bucket must keep versions, or nothing may be
/// written). Under a delete marker, or from a store that does not list newest first, the
/// history is walked instead.
async fn latest_record<S: RecordStore>(store: &S, at: &Location) -> Result<Option<Latest>> {
    let page = store.list_versions(at, CURRENT_PAGE_SIZE, None).await?;
    match page.versions.first() {
        Some(current) if current.is_latest && !page.delete_marker_is_latest => {
            if current.version_id == NULL_VERSION_ID {
                ensure_versioned(store, &at.bucket).await?;
            }
            if let (Some(etag), Some(object)) = (
                current.etag.clone(),
                store.get_version(at, &current.version_id).await?,
            ) {
                let record = Record::read(&object, at)?;
                return Ok(Some(Latest {
                    version_id: current.version_id.clone(),
                    record,
                    condition: WriteCondition::Matches(etag),
                }));
            }
            // Deleted since the listing, or listed without an ETag: the slow way below.
        }
        None if !page.delete_marker_is_latest && page.next.is_none() => {
            ensure_versioned(store, &at.bucket).await?;
            return Ok(None);
        }
        _ => {}
    }
    latest_record_the_slow_way(store, at).await
}

/// The current record as GetObject sees it, or, under a delete marker, the newest valid record
/// of the history (and a write must then find the key absent).
async fn latest_record_the_slow_way<S: RecordStore>(
    store: &S,
    at: &Location,
) -> Result<Option<Latest>> {
    if let Some(object) = store.get_latest(at).await? {
        let record = Record::read(&object, at)?;
        let etag = object.etag.ok_or_else(|| Error::S3 {
            operation: "GetObject",
            location: at.clone(),
            source: crate::error::S3Cause("the response has no ETag to write after".into()),
        })?;
        return Ok(Some(Latest {
            version_id: object.version_id,
            record,
            condition: WriteCondition::Matches(etag),
        }));
    }
    match find_record(store, at, |_| true, |_| false).await? {
        Some((version_id, record)) => Ok(Some(Latest {
            version_id,
            record,
            condition: WriteCondition::Absent,
        })),
        None => {
            ensure_versioned(store, &at.bucket).await?;
            Ok(None)
        }
    }
}

/// Waits a random while below a cap that doubles with each attempt, so that racing writers
/// spread out instead of colliding again.
async fn wait_before_retry(at: &Location, attempt: u32) {
    let cap = backoff_cap(attempt).as_millis() as u64;
    let wait = Duration::from_millis(RandomState::new().hash_one(attempt) % cap);
    tracing::info!(
        "another writer changed {at} first; reading it again in {} ms (attempt {attempt} of {MAX_WRITE_ATTEMPTS})",
        wait.as_millis()
    );
    tokio::time::sleep(wait).await;
}

/// The longest wait after `attempt`: the base, doubled per attempt, up to the largest.
fn backoff_cap(attempt: u32) -> Duration {
    (BACKOFF_BASE * 2u32.pow(attempt.min(6))).min(BACKOFF_LARGEST)
}

/// One value computed per key, kept across retries that see the same previous record.
struct Memo<K, V> {
    entry: Option<(K, V)>,
}

impl<K, V> Default for Memo<K, V> {
    fn default() -> Self {
        Memo { entry: None }
    }
}

impl<K: PartialEq, V> Memo<K, V> {
    fn get_or_try(&mut self, key: K, compute: impl FnOnce() -> Result<V>) -> Result<&V> {
        if self.entry.as_ref().is_none_or(|(held, _)| *held != key) {
            self.entry = Some((key, compute()?));
        }
        Ok(&self.entry.as_ref().expect("filled above").1)
    }
}

fn read_trimmed(path: &Path) -> Result<String> {
    std::fs::read_to_string(path)
        .map(|text| text.trim().to_owned())
        .map_err(|err| Error::io("read", path, err))
}

/// Whether `text` is an OCI digest of the kind images have: `sha256:` and 64 lowercase hex
/// digits.
pub fn is_image_digest(text: &str) -> bool {
    text.strip_prefix("sha256:").is_some_and(|hex| {
        hex.len() == 64
            && hex
                .bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    })
}

fn short(sha: &str) -> &str {
    sha.get(..7).unwrap_or(sha)
}

fn shorten(text: &str) -> String {
    const LONGEST: usize = 80;
    match text.char_indices().nth(LONGEST) {
        Some((end, _)) => format!("{}…", &text[..end]),
        None => text.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_only_sha256_digests() {
        let hex = "6ac40dec2b3af61e868954d641491d95a3fb74ad239d7584025b930d1f9997bd";
        assert!(is_image_digest(&format!("sha256:{hex}")));
        assert!(!is_image_digest(hex));
        assert!(!is_image_digest(&format!("sha256:{}", &hex[1..])));
        assert!(!is_image_digest(&format!("sha256:{}", hex.to_uppercase())));
        assert!(!is_image_digest(&format!("sha512:{hex}")));
        assert!(!is_image_digest(&format!("sha256:{hex}0")));
        assert!(!is_image_digest("registry.example.com/app:latest"));
    }

    #[test]
    fn reads_a_release_number_from_a_number_a_string_or_a_file() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("number"), "7\n").unwrap();
        std::fs::write(dir.path().join("junk"), "seven").unwrap();
        let number = |value: serde_json::Value| release_number(&value, dir.path());
        assert_eq!(number(serde_json::json!(3)).unwrap(), 3);
        assert_eq!(number(serde_json::json!("4")).unwrap(), 4);
        assert_eq!(number(serde_json::json!("number")).unwrap(), 7);
        for (value, expected) in [
            (
                serde_json::json!(0),
                "params.version: 0 is not a release number",
            ),
            (
                serde_json::json!(-2),
                "params.version: -2 is not a release number",
            ),
            (
                serde_json::json!("missing"),
                "params.version: \"missing\" is neither a release number nor a file",
            ),
            (
                serde_json::json!("junk"),
                "junk, which holds \"seven\", is not a release number",
            ),
            (
                serde_json::json!(true),
                "params.version: true is not a release number",
            ),
        ] {
            let message = number(value).unwrap_err().to_string();
            assert!(message.contains(expected), "{message:?} lacks {expected:?}");
        }
    }

    #[test]
    fn computes_once_per_key() {
        let mut memo = Memo::default();
        let mut calls = 0;
        for key in [1, 1, 2, 2, 1] {
            memo.get_or_try(key, || {
                calls += 1;
                Ok(key * 10)
            })
            .unwrap();
        }
        assert_eq!(calls, 3);
    }

    #[test]
    fn waits_double_up_to_a_second() {
        let caps: Vec<u128> = (1..=8)
            .map(|attempt| backoff_cap(attempt).as_millis())
            .collect();
        assert_eq!(caps, [40, 80, 160, 320, 640, 1000, 1000, 1000]);
    }
}
