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
use crate::store::{Location, RecordStore};

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
    let at = app.freezes(environment).map_err(Error::InvalidSource)?;
    frozen_at(store, &at, windows, now).await
}

/// What freezes the environment whose freeze key is `at` and whose windows are `windows`, at
/// `now`, if anything.
pub async fn frozen_at<S: RecordStore>(
    store: &S,
    at: &Location,
    windows: &[FreezeWindow],
    now: Timestamp,
) -> Result<Option<String>> {
    if let Some(window) = frozen_at_windows(windows, now) {
        return Ok(Some(window));
    }
    let latest = current(store, at).await?;
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

/// Which of `windows` covers `now`, described, if any.
pub fn frozen_at_windows(windows: &[FreezeWindow], now: Timestamp) -> Option<String> {
    windows.iter().find_map(|window| {
        window.covering(now).map(|ends| {
            format!(
                "the freeze window {} ({:?}) until {}",
                window.describe(),
                window.reason(),
                format_timestamp(ends)
            )
        })
    })
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

/// The newest freeze record at `at` (an environment's freeze key), if any.
pub async fn current<S: RecordStore>(
    store: &S,
    at: &Location,
) -> Result<Option<Stored<FreezeRecord>>> {
    RecordLog::<S, FreezeRecord>::of(store, at).current().await
}

/// Appends `freeze` (a freeze or its lifting) to `at`, its environment's freeze key
/// ([`crate::record::Layout::freezes`], [`App::freezes`]), exactly once.
pub async fn set<S: RecordStore>(
    store: &S,
    at: &Location,
    freeze: FreezeRecord,
) -> Result<Stored<FreezeRecord>> {
    let appended = Box::pin(
        RecordLog::<S, FreezeRecord>::of(store, at)
            .append(async |_| Ok(Decision::<Infallible, _>::Write(freeze.clone()))),
    )
    .await?;
    match appended {
        Appended::Written(written) => Ok(written),
        Appended::Kept(never) => match never {},
    }
}
