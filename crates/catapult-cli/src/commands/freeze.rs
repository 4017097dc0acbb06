//! `catapult freeze` and `catapult unfreeze`: an ad-hoc freeze of an environment, for every
//! application deployed there, until a time or for a while, with a reason; and its lifting.
//! Both are records appended to `freezes/<env>` in the release bucket with the record log's
//! exactly-once write. While a freeze holds, deploys there are refused unless they override it
//! (and then say so in their record).

use catapult_core::ops::rules::{freeze, store_now};
use catapult_core::record::freeze::FreezeRecord;
use catapult_core::record::layout::parse_duration;
use catapult_core::record::{EnvironmentName, Stored};
use catapult_core::store::Location;
use catapult_core::store::RecordStore;
use jiff::Timestamp;

use super::{Context, note};
use crate::args::{FreezeArgs, UnfreezeArgs};
use crate::error::{Failure, Result};
use crate::output::EntryView;

/// `catapult freeze`.
pub async fn freeze<S: RecordStore>(context: &Context<S>, args: &FreezeArgs) -> Result<()> {
    let environment = context.declared_environment(&args.environment, "frozen")?;
    let by = context.person("--by", args.by.as_deref())?;
    let reason = super::reason("--reason", Some(&args.reason))?
        .ok_or_else(|| Failure::new("--reason: say why the environment is frozen"))?;
    // The store's time is learned first: a freeze "for 2h" counts from the store's now.
    let (at, current, now) = current_freeze(context, &environment).await?;
    let until = until(&args.until, now)?;
    if let Some(holding) = current
        .as_ref()
        .and_then(|stored| stored.record.holding_at(now))
        .filter(|holding| *holding >= until)
    {
        note(&format!(
            "{environment} is already frozen until {holding}: nothing written"
        ));
        let current = current.expect("holding a freeze");
        return context
            .printer
            .show(&EntryView::of(&args.environment, &current));
    }
    let record = FreezeRecord::freeze(environment.as_str(), until, &reason, &by, now);
    let stored = context
        .write_deadline(
            &format!("freezing {environment}"),
            freeze::set(&context.store, &at, record),
        )
        .await?;
    note(&format!(
        "froze {environment} until {} ({reason})",
        catapult_core::record::format_timestamp(until)
    ));
    context
        .printer
        .show(&EntryView::of(&args.environment, &stored))
}

/// `catapult unfreeze`.
pub async fn unfreeze<S: RecordStore>(context: &Context<S>, args: &UnfreezeArgs) -> Result<()> {
    let environment = context.declared_environment(&args.environment, "unfrozen")?;
    let by = context.person("--by", args.by.as_deref())?;
    let (at, current, now) = current_freeze(context, &environment).await?;
    if current
        .as_ref()
        .and_then(|stored| stored.record.holding_at(now))
        .is_none()
    {
        return Err(Failure::new(format!(
            "{environment} has no freeze set with catapult freeze in force: nothing to lift (a freeze window of the configuration ends on its own)"
        )));
    }
    let record = FreezeRecord::unfreeze(environment.as_str(), &by, now);
    let stored = context
        .write_deadline(
            &format!("unfreezing {environment}"),
            freeze::set(&context.store, &at, record),
        )
        .await?;
    note(&format!("lifted the freeze of {environment}"));
    context
        .printer
        .show(&EntryView::of(&args.environment, &stored))
}

/// Where `environment`'s freezes are, the newest of them, and the store's time after reading it.
async fn current_freeze<S: RecordStore>(
    context: &Context<S>,
    environment: &EnvironmentName,
) -> Result<(Location, Option<Stored<FreezeRecord>>, Timestamp)> {
    let at = context.freezes(environment)?;
    let current = context
        .deadline(
            &format!("reading the freezes of {environment}"),
            freeze::current(&context.store, &at),
        )
        .await?;
    Ok((at, current, store_now(&context.store)))
}

/// `--until`: a time (RFC 3339) or a duration from now (`2h`, `1d`); it must be in the future.
fn until(given: &str, now: Timestamp) -> Result<Timestamp> {
    let until = match given.parse::<Timestamp>() {
        Ok(time) => time,
        Err(_) => {
            let length = parse_duration("--until", given).map_err(|_| {
                Failure::new(format!(
                    "--until {given:?} is neither a time (2026-12-24T18:00:00Z) nor a duration (2h, 1d)"
                ))
            })?;
            now.checked_add(length)
                .map_err(|_| Failure::new(format!("--until {given:?} is too far away")))?
        }
    };
    if until <= now {
        return Err(Failure::new(format!(
            "--until {given:?} is not in the future (the store's time is {})",
            catapult_core::record::format_timestamp(now)
        )));
    }
    Ok(until)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn until_takes_a_time_or_a_duration_in_the_future() {
        let now: Timestamp = "2026-12-04T10:00:00Z".parse().unwrap();
        assert_eq!(
            until("2h", now).unwrap(),
            "2026-12-04T12:00:00Z".parse::<Timestamp>().unwrap()
        );
        assert_eq!(
            until("2026-12-24T18:00:00Z", now).unwrap(),
            "2026-12-24T18:00:00Z".parse::<Timestamp>().unwrap()
        );
        let past = until("2026-12-01T00:00:00Z", now).unwrap_err().to_string();
        assert!(past.contains("not in the future"), "{past}");
        let neither = until("tomorrow", now).unwrap_err().to_string();
        assert!(neither.contains("neither a time"), "{neither}");
    }
}
