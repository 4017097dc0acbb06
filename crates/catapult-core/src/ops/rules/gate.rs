//! The promotion gate, `require_deployed_to`: a release must have been deployed to each of the
//! gate's environments, read at its own layout, and, where a soak time is set (`for: "30m"`),
//! must have been the current deploy there at least that long, until now or until the deploy
//! that replaced it. Times are the store's: each deploy's LastModified, and its clock for now.
//! The walk stops at deploys older than the release itself, so its cost does not grow with an
//! environment's history.

use jiff::{SignedDuration, Timestamp, Unit};

use super::Checks;
use crate::error::{Error, Result};
use crate::log::{Judgement, RecordLog};
use crate::record::layout::GateRequirement;
use crate::record::{App, StoredRecord};
use crate::store::RecordStore;

/// The rule's name, as verdicts and refusals say it.
pub const RULE: &str = "require_deployed_to";

/// Checks `release` against each requirement of `gate`, at `now`.
pub async fn check<S: RecordStore>(
    store: &S,
    app: &App,
    gate: &[GateRequirement],
    release: &StoredRecord,
    now: Timestamp,
    checks: &mut Checks,
) -> Result<()> {
    for requirement in gate {
        let run = longest_run(store, requirement, release, now).await?;
        checks.add(RULE, judge(app, requirement, release, run));
    }
    Ok(())
}

/// How long `release` ran in an environment, at most: its longest stretch as the current
/// deploy there, and whether that stretch lasts until now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Run {
    /// How long.
    pub length: SignedDuration,
    /// Whether it is still running.
    pub current: bool,
}

/// `release`'s longest run in the environment of `requirement`, `None` when it was never
/// deployed there. With no soak time the first deploy found is enough.
async fn longest_run<S: RecordStore>(
    store: &S,
    requirement: &GateRequirement,
    release: &StoredRecord,
    now: Timestamp,
) -> Result<Option<Run>> {
    let mut longest: Option<Run> = None;
    // The time the deploy after the one looked at was made (now, for the newest), and the
    // start and end of the stretch of the release's deploys being read.
    let mut newer_at = now;
    let mut stretch: Option<(Timestamp, Timestamp, bool)> = None;
    RecordLog::new(store, &requirement.place.deploys)
        .find(release.last_modified, |deployed| {
            let at = deployed
                .last_modified
                .or_else(|| deployed.record.timestamp.parse().ok())
                .unwrap_or(newer_at);
            let is_release = deployed.record.version == release.record.version
                && deployed.record.commit == release.record.commit;
            let is_newest = newer_at == now && stretch.is_none() && longest.is_none();
            if is_release {
                let (end, current) = match stretch {
                    Some((_, end, current)) => (end, current),
                    None => (newer_at, is_newest),
                };
                stretch = Some((at, end, current));
                let run = Run {
                    length: end.duration_since(at),
                    current,
                };
                if longest.is_none_or(|longest| run.length > longest.length) {
                    longest = Some(run);
                }
            } else {
                stretch = None;
            }
            newer_at = at;
            match (requirement.soak, longest) {
                (None, Some(_)) => Judgement::Found,
                (Some(soak), Some(run)) if run.length >= soak => Judgement::Found,
                _ => Judgement::Continue,
            }
        })
        .await?;
    Ok(longest)
}

/// The verdict on a release that ran `run` in the environment of `requirement`.
fn judge(
    app: &App,
    requirement: &GateRequirement,
    release: &StoredRecord,
    run: Option<Run>,
) -> Result<String, Error> {
    let environment = requirement.place.name.as_str();
    let version = release.record.version;
    let Some(run) = run else {
        return Err(Error::GateNotPassed {
            name: app.name.to_string(),
            version,
            environment: environment.to_owned(),
        });
    };
    let Some(soak) = requirement.soak else {
        return Ok(format!(
            "release {version} has been deployed to {environment:?}"
        ));
    };
    if run.length >= soak {
        return Ok(format!(
            "release {version} ran in {environment:?} for {}, at least the {} required",
            friendly(run.length),
            friendly(soak)
        ));
    }
    let what = format!(
        "release {version} of {} has run in {environment:?} for {} of the {} required (require_deployed_to: {environment} for {})",
        app.name,
        friendly(run.length),
        friendly(soak),
        friendly(soak)
    );
    Err(Error::Refused(if run.current {
        format!(
            "{what}: {} left, deploy it then",
            friendly(soak - run.length)
        )
    } else {
        format!(
            "{what}, and another release replaced it there: deploy it to {environment:?} again and let it run {}",
            friendly(soak)
        )
    }))
}

/// A duration as people write it, to the second: `18m 30s`.
pub fn friendly(duration: SignedDuration) -> String {
    let rounded = duration.round(Unit::Second).unwrap_or(duration);
    format!("{rounded:#}")
}

/// [`friendly`], of a number of seconds.
pub fn friendly_seconds(seconds: i64) -> String {
    friendly(SignedDuration::from_secs(seconds))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::Record;
    use crate::record::fixtures::{app, env};
    use crate::store::Versioning;
    use crate::store::memory::MemoryStore;

    fn deploy(version: u64) -> Vec<u8> {
        Record {
            version,
            commit: format!("{version:0>40}"),
            author: Some("a@b".into()),
            ..Record::default()
        }
        .to_json()
    }

    #[tokio::test]
    async fn a_soak_time_counts_how_long_the_release_ran_until_now_or_until_replaced() {
        // The in-memory store's clock moves one second per write.
        let store = MemoryStore::default();
        store.create_bucket("releases", Versioning::Enabled);
        let app = app("api", "releases");
        let staging = app.deploys_to(&env("staging"), None, None).unwrap();
        store.put_unconditionally(&app.releases, &deploy(2));
        let release_at = store.versions(&app.releases)[0].last_modified;
        let release = StoredRecord {
            version_id: "r2".into(),
            last_modified: release_at,
            record: Record::parse(&deploy(2), None).unwrap(),
        };
        store.put_unconditionally(&staging.deploys, &deploy(1));
        store.put_unconditionally(&staging.deploys, &deploy(2));
        store.put_unconditionally(&staging.deploys, &deploy(2));
        let deployed_at = store.versions(&staging.deploys)[1].last_modified.unwrap();
        let requirement = |soak: i64| GateRequirement {
            place: staging.clone(),
            soak: Some(SignedDuration::from_secs(soak)),
        };
        // Two deploys of release 2 in a row are one stretch, running until now; a walk that
        // finds enough stops there.
        let now = deployed_at + SignedDuration::from_secs(100);
        let enough = longest_run(&store, &requirement(60), &release, now)
            .await
            .unwrap()
            .unwrap();
        assert!(enough.current && enough.length >= SignedDuration::from_secs(60));
        assert!(judge(&app, &requirement(60), &release, Some(enough)).is_ok());
        let run = longest_run(&store, &requirement(1800), &release, now)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(
            run,
            Run {
                length: SignedDuration::from_secs(100),
                current: true
            }
        );
        let refusal = judge(&app, &requirement(1800), &release, Some(run))
            .unwrap_err()
            .to_string();
        assert_eq!(
            refusal,
            "release 2 of api has run in \"staging\" for 1m 40s of the 30m required (require_deployed_to: staging for 30m): 28m 20s left, deploy it then"
        );
        // Replaced by release 3 ten seconds later: the stretch ends there.
        store.put_unconditionally(&staging.deploys, &deploy(3));
        let run = longest_run(&store, &requirement(1800), &release, now)
            .await
            .unwrap()
            .unwrap();
        assert!(!run.current);
        assert_eq!(run.length, SignedDuration::from_secs(2));
        let refusal = judge(&app, &requirement(1800), &release, Some(run))
            .unwrap_err()
            .to_string();
        assert!(refusal.ends_with("and another release replaced it there: deploy it to \"staging\" again and let it run 30m"), "{refusal}");
    }

    #[test]
    fn a_release_never_deployed_there_does_not_pass_the_gate() {
        let app = app("api", "releases");
        let requirement = GateRequirement {
            place: app.deploys_to(&env("staging"), None, None).unwrap(),
            soak: None,
        };
        let release = StoredRecord {
            version_id: "r".into(),
            last_modified: None,
            record: Record::parse(&deploy(3), None).unwrap(),
        };
        assert_eq!(
            judge(&app, &requirement, &release, None)
                .unwrap_err()
                .to_string(),
            "release 3 of api has not been deployed to \"staging\" (require_deployed_to): deploy it there first"
        );
    }
}
