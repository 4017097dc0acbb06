//! Freezes: a deploy to an environment is refused while one of its freeze windows covers now
//! (the store's now), or while an ad-hoc freeze set with `catapult freeze` holds; the refusal
//! names the window, its reason and when it ends. A deploy that overrides a freeze
//! (`override_freeze: true`, `--override-freeze`) goes ahead and records which it overrode.
//! `catapult freeze` and `unfreeze` append to the environment's freeze key with the record
//! log's exactly-once write.

use std::convert::Infallible;

use jiff::Timestamp;

use super::Checks;
use crate::error::{Error, Result};
use crate::log::{Appended, Decision, RecordLog};
use crate::record::freeze::{FreezeRecord, FreezeWindow};
use crate::record::{App, EnvironmentName, Stored, format_timestamp};
use crate::store::RecordStore;

/// The rule's name, as verdicts and refusals say it.
pub const RULE: &str = "freeze";

/// What freezes `environment` at `now`, if anything: a phrase naming the window or freeze, its
/// reason and its end.
pub async fn frozen<S: RecordStore>(
    store: &S,
    app: &App,
    environment: &EnvironmentName,
    windows: &[FreezeWindow],
    now: Timestamp,
) -> Result<Option<String>> {
    for window in windows {
        if let Some(ends) = window.covering(now) {
            return Ok(Some(format!(
                "the freeze window {} ({:?}) until {}",
                window.describe(),
                window.reason(),
                format_timestamp(ends)
            )));
        }
    }
    let at = app.freezes(environment).map_err(Error::InvalidSource)?;
    let latest = RecordLog::<S, FreezeRecord>::of(store, &at)
        .current()
        .await?;
    Ok(latest.and_then(|stored| {
        let freeze = &stored.record;
        freeze.holding_at(now).map(|until| {
            format!(
                "a freeze set by {} ({:?}) until {}",
                freeze.by,
                freeze.reason.as_deref().unwrap_or_default(),
                format_timestamp(until)
            )
        })
    }))
}

/// Checks that no freeze holds `environment` at `now`, or that this deploy overrides it.
pub async fn check<S: RecordStore>(
    store: &S,
    app: &App,
    environment: &EnvironmentName,
    windows: &[FreezeWindow],
    (now, override_freeze): (Timestamp, bool),
    checks: &mut Checks,
) -> Result<()> {
    let verdict = match frozen(store, app, environment, windows, now).await? {
        None => Ok(format!("{:?} is not frozen", environment.as_str())),
        Some(freeze) if override_freeze => {
            checks.overrode_freeze = Some(freeze.clone());
            Ok(format!("overriding {freeze}"))
        }
        Some(freeze) => Err(Error::Refused(format!(
            "{:?} is frozen (freeze) by {freeze}: deploy after it ends, or override it (params.override_freeze: true, or --override-freeze)",
            environment.as_str()
        ))),
    };
    checks.add(RULE, verdict);
    Ok(())
}

/// Appends `freeze` (a freeze or its lifting) to the freeze key of `app`'s release bucket for
/// its environment, exactly once.
pub async fn set<S: RecordStore>(
    store: &S,
    app: &App,
    environment: &EnvironmentName,
    freeze: FreezeRecord,
) -> Result<Stored<FreezeRecord>> {
    let at = app.freezes(environment).map_err(Error::InvalidSource)?;
    let appended = Box::pin(
        RecordLog::<S, FreezeRecord>::of(store, &at)
            .append(async |_| Ok(Decision::<Infallible, _>::Write(freeze.clone()))),
    )
    .await?;
    match appended {
        Appended::Written(written) => Ok(written),
        Appended::Kept(never) => match never {},
    }
}
