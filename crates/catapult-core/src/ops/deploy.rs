//! Deploying a release to an environment: the deploy record copies the release, adds the
//! environment and a new time, and is appended to the environment's log exactly once, with the
//! rollback rule and the promotion gate. Concourse's `put` and `catapult deploy` both build a
//! [`DeployPlan`] and call [`deploy`].

use jiff::Timestamp;

use super::outcome::{AUTOMATED, Memo, Mode, Outcome, write_or_show};
use super::rules::{Checks, approval, freeze, gate, hold, store_now};
use crate::error::{Error, Result};
use crate::git::{Checkout, short_sha};
use crate::log::{Decision, Head, Judgement, RecordLog};
use crate::record::{App, BuildInfo, Environment, Record, StoredRecord, format_timestamp};
use crate::store::RecordStore;

/// Which release a deploy is of.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReleaseChoice {
    /// Exactly this S3 version of the release records (from a `get` of the release resource).
    Pinned {
        /// The S3 version id.
        version_id: String,
        /// Where it was named, for errors: a file's path.
        from: String,
    },
    /// The newest release numbered `version`; `commit`, when known, must match (a promotion
    /// from another environment's deploy names its release so).
    Number {
        /// The release number.
        version: u64,
        /// The commit the release must have.
        commit: Option<String>,
    },
    /// The latest release.
    Latest,
}

/// Everything a deploy is made of, read and checked before the store is touched.
#[derive(Debug)]
pub struct DeployPlan {
    /// The release to deploy.
    pub release: ReleaseChoice,
    /// A checkout, for a changelog from the commit deployed now.
    pub checkout: Option<Checkout>,
    /// Whether deploying an older release than the one deployed now is allowed.
    pub allow_rollback: bool,
    /// `automated` or `manual`.
    pub action_type: &'static str,
    /// The Concourse build deploying, if any.
    pub build: Option<BuildInfo>,
    /// Whether to deploy during a freeze (recorded in the deploy).
    pub override_freeze: bool,
}

/// Deploys the release `plan` names to `environment`: a lower number than the one deployed now
/// is a rollback, refused unless allowed; the environment's rules ([`super::rules`]) are met
/// first (an allowed rollback promotes nothing, so the gate, its soak time and the approval do
/// not apply to it; a freeze and a hold do); a put retried in the same Concourse build writes
/// nothing. A dry run writes nothing and reports every rule's verdict.
pub async fn deploy<S: RecordStore>(
    store: &S,
    app: &App,
    environment: &Environment,
    plan: &DeployPlan,
    mode: Mode,
) -> Result<Outcome> {
    let release = chosen_release(store, app, &plan.release).await?;
    let log = RecordLog::new(store, environment.deploys())
        .knowing_versioned(&release, &app.releases.bucket);
    let name = environment.name();
    let automated = plan.action_type == AUTOMATED;
    let mut changelogs = Memo::default();
    // The rules asked once per deploy (their answers do not change between attempts), for the
    // rollback or promotion the head makes of it; the hold's, per head.
    let mut asked: Option<(bool, Checks)> = None;
    let mut held: Checks = Checks::default();
    let decide = async |head: &Head| -> Result<Decision<Outcome>> {
        let deployed_now = head.latest.as_ref().map(|latest| &latest.record);
        if let (Some(latest), Some(build)) = (&head.latest, &plan.build) {
            let record = &latest.record;
            if record.version == release.record.version
                && record.commit == release.record.commit
                && record.build.as_ref().is_some_and(|by| by.id == build.id)
            {
                tracing::info!(
                    "this build already deployed release {} of {} to {name:?}: nothing written",
                    record.version,
                    app.name
                );
                return Ok(Decision::Keep(Outcome::found(latest)));
            }
        }
        let rollback = deployed_now.is_some_and(|now| release.record.version < now.version);
        if let Some(now) = deployed_now.filter(|_| rollback && !plan.allow_rollback) {
            return Err(Error::RollbackRefused(format!(
                "release {} of {} is older than release {}, deployed to {name:?} now: deploying it would roll back",
                release.record.version, app.name, now.version
            )));
        }
        if asked
            .as_ref()
            .is_none_or(|(asked_for, _)| *asked_for != rollback)
        {
            let checks = ask_rules(store, app, environment, &release, plan, rollback).await?;
            asked = Some((rollback, checks));
        }
        let hold = hold::in_force(store, app, name, head.latest.as_ref()).await?;
        held = Checks::default();
        hold::check(
            app,
            name,
            hold.as_ref(),
            (release.record.version, automated),
            &mut held,
        );
        if mode == Mode::Write {
            let refusal = asked.as_mut().and_then(|(_, checks)| checks.refusal.take());
            if let Some(refusal) = refusal.or_else(|| held.refusal.take()) {
                return Err(refusal);
            }
        }
        let changelog = match (&plan.checkout, deployed_now) {
            (Some(checkout), Some(now)) => changelogs
                .get_or_try(Some(now.commit.clone()), || {
                    deploy_changelog(checkout, now, &release.record, rollback)
                })?
                .clone(),
            _ => release.record.changelog.clone(),
        };
        // A rollback holds the environment at the release it goes back to; a deploy by hand
        // lifts a hold; an automated deploy carries it forward.
        let held_at = if rollback {
            Some(release.record.version)
        } else if automated {
            hold.map(|hold| hold.at)
        } else {
            None
        };
        let checks = asked.as_ref().map(|(_, checks)| checks);
        let record = &release.record;
        Ok(Decision::Write(Record {
            version: record.version,
            commit: record.commit.clone(),
            image: record.image.clone(),
            author: record.author.clone(),
            changelog,
            commits: record.commits.clone(),
            commit_times: record.commit_times.clone(),
            tickets: record.tickets.clone(),
            timestamp: format_timestamp(Timestamp::now()),
            rollback,
            action_type: Some(plan.action_type.to_owned()),
            environment: Some(name.to_string()),
            build: plan.build.clone(),
            approved_by: checks.and_then(|checks| checks.approved_by.clone()),
            overrode_freeze: checks.and_then(|checks| checks.overrode_freeze.clone()),
            held_at,
            ..Record::default()
        }))
    };
    // Boxed: the append's future nests the store's and the SDK's, deep enough that a front-end
    // built alone would need a raised recursion limit to lay it out.
    let mut outcome = Box::pin(write_or_show(&log, mode, decide)).await?;
    if let Some((_, checks)) = asked {
        outcome.rules = checks.verdicts;
    }
    outcome.rules.extend(held.verdicts);
    if outcome.written {
        tracing::info!(
            "deployed release {} of {} (commit {}{}) to {name:?} as version {:?} of {}",
            outcome.record.version,
            app.name,
            outcome.record.short_commit(),
            if outcome.record.rollback {
                ", a rollback"
            } else {
                ""
            },
            outcome.version_id.as_deref().unwrap_or_default(),
            environment.deploys()
        );
    }
    Ok(outcome)
}

/// The rules asked once per deploy: the promotion gate and its soak time and the approval for
/// a promotion (not for an allowed rollback), and the freeze for any deploy.
async fn ask_rules<S: RecordStore>(
    store: &S,
    app: &App,
    environment: &Environment,
    release: &StoredRecord,
    plan: &DeployPlan,
    rollback: bool,
) -> Result<Checks> {
    let mut checks = Checks::default();
    let now = store_now(store);
    if !rollback {
        gate::check(
            store,
            app,
            &environment.require_deployed_to,
            release,
            now,
            &mut checks,
        )
        .await?;
        if environment.require_approval {
            approval::check(store, app, environment.name(), release, &mut checks).await?;
        }
    }
    freeze::check(
        store,
        app,
        environment.name(),
        &environment.freeze,
        (now, plan.override_freeze),
        &mut checks,
    )
    .await?;
    Ok(checks)
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

/// The release a deploy is of, or an error naming what was asked for.
pub async fn chosen_release<S: RecordStore>(
    store: &S,
    app: &App,
    choice: &ReleaseChoice,
) -> Result<StoredRecord> {
    let releases = RecordLog::new(store, &app.releases);
    let not_found = |wanted: String| Error::ReleaseNotFound {
        location: app.releases.clone(),
        wanted,
    };
    match choice {
        ReleaseChoice::Pinned { version_id, from } => match releases.read_exact(version_id).await {
            Err(Error::VersionNotFound { .. }) => Err(not_found(format!(
                "release with version id {version_id:?} (from {from})"
            ))),
            other => other,
        },
        ReleaseChoice::Number { version, commit } => {
            // Numbers may go down and up again in histories the older tool wrote (its
            // `--version`): the newest record with the number (and the commit, when one is
            // named) is the one, wherever it is.
            let mut other_commit = None;
            let found = releases
                .find(None, |stored| {
                    if stored.record.version != *version {
                        return Judgement::Continue;
                    }
                    if commit
                        .as_ref()
                        .is_none_or(|commit| *commit == stored.record.commit)
                    {
                        return Judgement::Found;
                    }
                    other_commit.get_or_insert_with(|| stored.record.commit.clone());
                    Judgement::Continue
                })
                .await?;
            match (found, commit, other_commit) {
                (Some(found), _, _) => Ok(found),
                (None, Some(commit), Some(other_commit)) => Err(Error::InvalidParams(format!(
                    "the release named is release {version} at commit {}, but release {version} in {} is commit {}",
                    short_sha(commit),
                    app.releases,
                    short_sha(&other_commit)
                ))),
                (None, _, _) => Err(not_found(format!("release {version}"))),
            }
        }
        ReleaseChoice::Latest => releases
            .latest()
            .await?
            .ok_or_else(|| not_found("release".into())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::fixtures::{self, env};
    use crate::store::faults::{Fault, FaultKind, FaultyStore};
    use crate::store::memory::{MemoryStore, Quirks};
    use crate::store::{Operation, StoreErrorKind, Versioning};

    fn app() -> App {
        fixtures::app("app", "releases")
    }

    fn staging() -> Environment {
        Environment {
            place: app().deploys_to(&env("staging"), None, None).unwrap(),
            require_deployed_to: Vec::new(),
            require_approval: false,
            freeze: Vec::new(),
        }
    }

    fn release(version: u64) -> Record {
        Record {
            version,
            commit: format!("{version:0>40}"),
            image: None,
            author: Some("dev@example.com".into()),
            changelog: String::new(),
            commits: Vec::new(),
            timestamp: "2026-11-21T10:00:00Z".into(),
            rollback: false,
            action_type: Some("automated".into()),
            ..Record::default()
        }
    }

    fn plan(build_id: &str) -> DeployPlan {
        DeployPlan {
            release: ReleaseChoice::Latest,
            checkout: None,
            allow_rollback: false,
            action_type: "automated",
            build: Some(BuildInfo {
                id: build_id.into(),
                team: None,
                pipeline: None,
                job: None,
                name: None,
                url: None,
                triggered_by: None,
            }),
            override_freeze: false,
        }
    }

    fn store(faults: Vec<Fault>) -> FaultyStore<MemoryStore> {
        let store = MemoryStore::new(Quirks::default());
        store.create_bucket("releases", Versioning::Enabled);
        store.put_unconditionally(&app().releases, &release(1).to_json());
        FaultyStore::new(store, faults)
    }

    fn deploys(store: &FaultyStore<MemoryStore>) -> usize {
        store.inner().versions(staging().deploys()).len()
    }

    #[tokio::test(start_paused = true)]
    async fn a_deploy_whose_answer_was_lost_after_it_landed_is_recorded_once() {
        for lost in [
            StoreErrorKind::Transient("connection reset by peer".into()),
            StoreErrorKind::Unavailable("HTTP 503".into()),
            StoreErrorKind::PreconditionFailed,
        ] {
            let store = store(vec![Fault::on(
                Operation::Put,
                1,
                FaultKind::LoseAnswer(lost.clone()),
            )]);
            let outcome = deploy(&store, &app(), &staging(), &plan("7"), Mode::Write)
                .await
                .unwrap();
            assert!(outcome.written, "{lost:?}");
            assert_eq!(deploys(&store), 1, "{lost:?}");
        }
    }

    #[tokio::test(start_paused = true)]
    async fn a_retry_in_the_same_build_writes_nothing_and_another_build_deploys_again() {
        let store = store(vec![]);
        let first = deploy(&store, &app(), &staging(), &plan("7"), Mode::Write)
            .await
            .unwrap();
        let retried = deploy(&store, &app(), &staging(), &plan("7"), Mode::Write)
            .await
            .unwrap();
        assert!(!retried.written);
        assert_eq!(retried.version_id, first.version_id);
        assert_eq!(deploys(&store), 1);
        let again = deploy(&store, &app(), &staging(), &plan("8"), Mode::Write)
            .await
            .unwrap();
        assert!(again.written);
        assert_eq!(deploys(&store), 2);
    }

    #[tokio::test(start_paused = true)]
    async fn a_dry_run_writes_nothing() {
        let store = store(vec![]);
        let outcome = deploy(&store, &app(), &staging(), &plan("7"), Mode::DryRun)
            .await
            .unwrap();
        assert_eq!(outcome.version_id, None);
        assert_eq!(outcome.record.environment.as_deref(), Some("staging"));
        assert_eq!(store.calls(Operation::Put), 0);
    }

    #[tokio::test(start_paused = true)]
    async fn a_damaged_read_of_the_current_deploy_never_lets_a_rollback_slip_through() {
        use crate::store::faults::Alteration;
        for damage in [
            FaultKind::Alter(Alteration::CutShort),
            FaultKind::Alter(Alteration::Garble),
            FaultKind::FailBefore(StoreErrorKind::NoSuchVersion),
        ] {
            let memory = MemoryStore::new(Quirks::default());
            memory.create_bucket("releases", Versioning::Enabled);
            memory.put_unconditionally(&app().releases, &release(1).to_json());
            memory.put_unconditionally(&app().releases, &release(2).to_json());
            memory.put_unconditionally(staging().deploys(), &release(1).to_json());
            memory.put_unconditionally(staging().deploys(), &release(2).to_json());
            // Release 1 over release 2, the current deploy's first read damaged: finding release
            // 1 by number reads release 2 and then release 1; the current deploy's is the third.
            let store = FaultyStore::new(
                memory,
                vec![Fault::on(Operation::GetVersion, 3, damage.clone())],
            );
            let plan = DeployPlan {
                release: ReleaseChoice::Number {
                    version: 1,
                    commit: None,
                },
                ..plan("9")
            };
            let error = deploy(&store, &app(), &staging(), &plan, Mode::Write)
                .await
                .unwrap_err()
                .to_string();
            assert!(
                error.starts_with(
                    "release 1 of app is older than release 2, deployed to \"staging\" now"
                ),
                "{damage:?}: {error}"
            );
            assert_eq!(deploys(&store), 2, "{damage:?}");
        }
    }

    #[tokio::test(start_paused = true)]
    async fn a_deploy_of_the_latest_release_costs_four_requests_and_the_freeze_check() {
        let store = store(vec![]);
        deploy(&store, &app(), &staging(), &plan("7"), Mode::Write)
            .await
            .unwrap();
        // The first deploy: the release's current version (which shows versioning on), an
        // empty deploy listing, the environment's freeze key, the write.
        assert_eq!(store.total_calls(), 4);
        let before = store.total_calls();
        deploy(&store, &app(), &staging(), &plan("8"), Mode::Write)
            .await
            .unwrap();
        // Then: the release, the deploy listing, the current deploy, the freeze key, the write.
        assert_eq!(store.total_calls() - before, 5);
        assert_eq!(store.calls(Operation::GetVersioning), 0);
        assert_eq!(store.calls(Operation::GetCurrent), 4);
    }
}
