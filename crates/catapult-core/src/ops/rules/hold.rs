//! Rollbacks that stick: after a rollback deploy to an environment, the environment is held at
//! the release rolled back to, and an automated deploy of a newer release is refused, so that a
//! pipeline's auto-promotion does not deploy again what a person just rolled back. Deploy records
//! carry the hold forward (`held_at`) while it lasts; a person lifts it by deploying by hand, or
//! with `catapult release-hold NAME ENV --clear`, which writes a clearing naming the deploy whose
//! hold it lifts.

use std::convert::Infallible;

use jiff::Timestamp;

use super::Checks;
use crate::error::{Error, Result};
use crate::log::{Appended, Decision, RecordLog};
use crate::record::hold::HoldCleared;
use crate::record::{App, EnvironmentName, Stored, StoredRecord, format_timestamp};
use crate::store::RecordStore;

/// The rule's name, as verdicts and refusals say it.
pub const RULE: &str = "hold";

/// A hold in force on an environment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hold {
    /// The release the environment is held at.
    pub at: u64,
    /// The deploy record that carries it now.
    pub deploy_version_id: String,
}

/// The hold in force on `environment`, whose newest deploy is `latest`: the hold it carries,
/// unless a clearing names that very deploy.
pub async fn in_force<S: RecordStore>(
    store: &S,
    app: &App,
    environment: &EnvironmentName,
    latest: Option<&StoredRecord>,
) -> Result<Option<Hold>> {
    let Some((held_at, latest)) = latest.and_then(|latest| Some((latest.record.held_at?, latest)))
    else {
        return Ok(None);
    };
    let at = app.holds(environment).map_err(Error::InvalidSource)?;
    let cleared = RecordLog::<S, HoldCleared>::of(store, &at)
        .current()
        .await?
        .is_some_and(|clearing| clearing.record.deploy_version_id == latest.version_id);
    Ok((!cleared).then(|| Hold {
        at: held_at,
        deploy_version_id: latest.version_id.clone(),
    }))
}

/// Checks an automated deploy of release `version` against `hold`: a newer release is refused.
pub fn check(
    app: &App,
    environment: &EnvironmentName,
    hold: Option<&Hold>,
    (version, automated): (u64, bool),
    checks: &mut Checks,
) {
    let verdict = match hold {
        None => Ok(format!("{:?} is not held", environment.as_str())),
        Some(hold) if version <= hold.at => Ok(format!(
            "{:?} is held at release {}, and release {version} is not newer",
            environment.as_str(),
            hold.at
        )),
        Some(hold) if !automated => Ok(format!(
            "{:?} is held at release {}; a deploy by hand lifts the hold",
            environment.as_str(),
            hold.at
        )),
        Some(hold) => Err(Error::Refused(format!(
            "{:?} is held at release {} of {} since a rollback (hold): an automated deploy of release {version} is refused; deploy it by hand (catapult deploy {} {} --version {version}) or clear the hold (catapult release-hold {} {} --clear)",
            environment.as_str(),
            hold.at,
            app.name,
            app.name,
            environment,
            app.name,
            environment
        ))),
    };
    checks.add(RULE, verdict);
}

/// Lifts the hold in force on `environment`, as `by` says (a clearing naming the deploy that
/// carries it); an error when there is none.
pub async fn clear<S: RecordStore>(
    store: &S,
    app: &App,
    environment: &EnvironmentName,
    latest: Option<&StoredRecord>,
    (by, reason): (&str, Option<&str>),
) -> Result<Stored<HoldCleared>> {
    let Some(hold) = in_force(store, app, environment, latest).await? else {
        return Err(Error::Refused(format!(
            "{:?} is not held: nothing to clear",
            environment.as_str()
        )));
    };
    let at = app.holds(environment).map_err(Error::InvalidSource)?;
    let clearing = HoldCleared {
        environment: environment.to_string(),
        held_at: hold.at,
        deploy_version_id: hold.deploy_version_id,
        by: by.to_owned(),
        reason: reason.map(str::to_owned),
        timestamp: format_timestamp(Timestamp::now()),
        write_id: None,
    };
    let appended = Box::pin(
        RecordLog::<S, HoldCleared>::of(store, &at)
            .append(async |_| Ok(Decision::<Infallible, _>::Write(clearing.clone()))),
    )
    .await?;
    match appended {
        Appended::Written(written) => Ok(written),
        Appended::Kept(never) => match never {},
    }
}
