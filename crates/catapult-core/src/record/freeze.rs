//! Freeze windows: times when deploys to an environment are refused, as a pipeline's `source`
//! or `.catapult.toml` declares them (a fixed window `{from, to}`, or a weekly one `{days,
//! between, timezone}`, each with a reason), and the ad-hoc freezes people set and lift with
//! `catapult freeze` and `unfreeze`, kept as records on a key of their own. Written windows are
//! checked once where they are read: `to` after `from`, a time zone that exists, times of day
//! that parse. Whether a window covers an instant is a pure function, so the rule that refuses a
//! deploy is tested without a clock.

use jiff::civil::{Time, Weekday};
use jiff::tz::TimeZone;
use jiff::{SignedDuration, Timestamp, ToSpan};
use serde::{Deserialize, Serialize};

use super::{Entry, format_timestamp};

/// A freeze window as written in `source.freeze` or `[deploy.<env>] freeze`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FreezeSpec {
    /// A fixed window's start, RFC 3339.
    pub from: Option<String>,
    /// A fixed window's end, RFC 3339.
    pub to: Option<String>,
    /// A weekly window's days: the days each window starts (`mon` … `sun`).
    pub days: Option<Vec<String>>,
    /// A weekly window's hours, `HH:MM-HH:MM`; an end at or before the start is the next day.
    pub between: Option<String>,
    /// A weekly window's time zone, as IANA names it (`Europe/London`). Default: UTC.
    pub timezone: Option<String>,
    /// Why deploys are frozen then.
    pub reason: String,
}

/// A freeze window, checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FreezeWindow {
    /// From one instant to another.
    Fixed {
        /// Its start.
        from: Timestamp,
        /// Its end.
        to: Timestamp,
        /// Why.
        reason: String,
    },
    /// Every week, from a time on each of `days` for `length`, in `timezone`.
    Weekly {
        /// The days each window starts.
        days: Vec<Weekday>,
        /// When it starts, on each of those days.
        start: Time,
        /// How long it lasts.
        length: SignedDuration,
        /// The time zone of the days and times.
        timezone: TimeZone,
        /// How it was written, for messages: `sat,sun 18:00-08:00 Europe/London`.
        written: String,
        /// Why.
        reason: String,
    },
}

impl FreezeSpec {
    /// The window this spec writes, checked; the error names `field` and what is wrong.
    pub fn window(&self, field: &str) -> Result<FreezeWindow, String> {
        let reason = self.reason.trim();
        if reason.is_empty() {
            return Err(format!("{field}.reason must say why deploys are frozen"));
        }
        match (&self.from, &self.to, &self.days, &self.between) {
            (Some(from), Some(to), None, None) if self.timezone.is_none() => {
                let instant = |name: &str, text: &str| {
                    text.parse::<Timestamp>().map_err(|err| {
                        format!("{field}.{name} {text:?} is not an RFC 3339 time ({err})")
                    })
                };
                let (from, to) = (instant("from", from)?, instant("to", to)?);
                if to <= from {
                    return Err(format!(
                        "{field}: to ({to}) is not after from ({from}): the window would be empty"
                    ));
                }
                Ok(FreezeWindow::Fixed {
                    from,
                    to,
                    reason: reason.to_owned(),
                })
            }
            (None, None, Some(days), Some(between)) => {
                let days = days
                    .iter()
                    .map(|day| weekday(day).ok_or_else(|| format!("{field}.days: {day:?} is not a day of the week (mon, tue, wed, thu, fri, sat, sun)")))
                    .collect::<Result<Vec<_>, _>>()?;
                if days.is_empty() {
                    return Err(format!("{field}.days names no day"));
                }
                let (start, end) = between
                    .split_once('-')
                    .ok_or_else(|| format!("{field}.between {between:?} is not HH:MM-HH:MM"))?;
                let time = |text: &str| {
                    text.trim()
                        .parse::<Time>()
                        .map_err(|_| format!("{field}.between {between:?} is not HH:MM-HH:MM"))
                };
                let (start, end) = (time(start)?, time(end)?);
                let mut length = start.until(end).map_err(|err| err.to_string())?;
                if end <= start {
                    length = length
                        .checked_add(24.hours())
                        .map_err(|err| err.to_string())?;
                }
                let length = SignedDuration::try_from(length).map_err(|err| err.to_string())?;
                let zone_name = self.timezone.as_deref().unwrap_or("UTC");
                let timezone = TimeZone::get(zone_name).map_err(|_| {
                    format!("{field}.timezone {zone_name:?} is not a time zone (an IANA name, like Europe/London)")
                })?;
                Ok(FreezeWindow::Weekly {
                    written: format!(
                        "{} {between} {zone_name}",
                        days.iter()
                            .map(|day| short_name(*day))
                            .collect::<Vec<_>>()
                            .join(",")
                    ),
                    days,
                    start,
                    length,
                    timezone,
                    reason: reason.to_owned(),
                })
            }
            _ => Err(format!(
                "{field} is either a fixed window {{from, to, reason}} or a weekly one {{days, between, timezone, reason}}"
            )),
        }
    }
}

impl FreezeWindow {
    /// The end of the window that covers `now`, if one does.
    pub fn covering(&self, now: Timestamp) -> Option<Timestamp> {
        match self {
            FreezeWindow::Fixed { from, to, .. } => (*from <= now && now < *to).then_some(*to),
            FreezeWindow::Weekly {
                days,
                start,
                length,
                timezone,
                ..
            } => {
                let today = now.to_zoned(timezone.clone()).date();
                // A window that started today, or on one of the days before and still runs.
                let lookback = length.as_hours() / 24 + 1;
                (0..=lookback).find_map(|back| {
                    let day = today.checked_sub(back.days()).ok()?;
                    if !days.contains(&day.weekday()) {
                        return None;
                    }
                    let began = day.to_datetime(*start).to_zoned(timezone.clone()).ok()?;
                    let ends = began.timestamp().checked_add(*length).ok()?;
                    (began.timestamp() <= now && now < ends).then_some(ends)
                })
            }
        }
    }

    /// Why deploys are frozen in it.
    pub fn reason(&self) -> &str {
        match self {
            FreezeWindow::Fixed { reason, .. } | FreezeWindow::Weekly { reason, .. } => reason,
        }
    }

    /// The window as people wrote it, for messages.
    pub fn describe(&self) -> String {
        match self {
            FreezeWindow::Fixed { from, to, .. } => format!("from {from} to {to}"),
            FreezeWindow::Weekly { written, .. } => format!("weekly, {written}"),
        }
    }
}

fn weekday(name: &str) -> Option<Weekday> {
    Some(match name.trim().to_ascii_lowercase().as_str() {
        "mon" | "monday" => Weekday::Monday,
        "tue" | "tuesday" => Weekday::Tuesday,
        "wed" | "wednesday" => Weekday::Wednesday,
        "thu" | "thursday" => Weekday::Thursday,
        "fri" | "friday" => Weekday::Friday,
        "sat" | "saturday" => Weekday::Saturday,
        "sun" | "sunday" => Weekday::Sunday,
        _ => return None,
    })
}

fn short_name(day: Weekday) -> &'static str {
    match day {
        Weekday::Monday => "mon",
        Weekday::Tuesday => "tue",
        Weekday::Wednesday => "wed",
        Weekday::Thursday => "thu",
        Weekday::Friday => "fri",
        Weekday::Saturday => "sat",
        Weekday::Sunday => "sun",
    }
}

/// The key of `environment`'s ad-hoc freezes, in the release bucket.
pub fn freezes_key(environment: &str) -> String {
    format!("{FREEZES_PREFIX}{environment}")
}

/// The prefix of every freezes key.
pub const FREEZES_PREFIX: &str = "freezes/";

/// An ad-hoc freeze set or lifted by a person (`catapult freeze ENV --until … --reason …`,
/// `catapult unfreeze ENV`), one version of the environment's freeze key. The newest says
/// whether the environment is frozen.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct FreezeRecord {
    /// `freeze` or `unfreeze`.
    pub action: String,
    /// The environment.
    pub environment: String,
    /// Until when a freeze holds, RFC 3339.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub until: Option<String>,
    /// Why.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// Who set or lifted it.
    pub by: String,
    /// When, RFC 3339.
    pub timestamp: String,
    /// The id of the write that stored it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub write_id: Option<String>,
}

/// `action` of a freeze.
pub const FREEZE: &str = "freeze";
/// `action` of its lifting.
pub const UNFREEZE: &str = "unfreeze";

impl FreezeRecord {
    /// A freeze of `environment` until `until`, set by `by` at `now`.
    pub fn freeze(
        environment: &str,
        until: Timestamp,
        reason: &str,
        by: &str,
        now: Timestamp,
    ) -> Self {
        FreezeRecord {
            action: FREEZE.into(),
            environment: environment.into(),
            until: Some(format_timestamp(until)),
            reason: Some(reason.into()),
            by: by.into(),
            timestamp: format_timestamp(now),
            write_id: None,
        }
    }

    /// The lifting of `environment`'s freeze by `by` at `now`.
    pub fn unfreeze(environment: &str, by: &str, now: Timestamp) -> Self {
        FreezeRecord {
            action: UNFREEZE.into(),
            environment: environment.into(),
            by: by.into(),
            timestamp: format_timestamp(now),
            ..FreezeRecord::default()
        }
    }

    /// The end of the freeze when it holds at `now`.
    pub fn holding_at(&self, now: Timestamp) -> Option<Timestamp> {
        if self.action != FREEZE {
            return None;
        }
        let until = self.until.as_deref()?.parse::<Timestamp>().ok()?;
        (now < until).then_some(until)
    }
}

impl Entry for FreezeRecord {
    fn parse(body: &[u8], _: Option<Timestamp>) -> Result<Self, String> {
        let record: FreezeRecord =
            serde_json::from_slice(body).map_err(|err| format!("not a freeze record: {err}"))?;
        if record.action != FREEZE && record.action != UNFREEZE {
            return Err(format!(
                "its action {:?} is neither freeze nor unfreeze",
                record.action
            ));
        }
        Ok(record)
    }

    fn to_json(&self) -> Vec<u8> {
        serde_json::to_vec_pretty(self).expect("a freeze record always serializes")
    }

    fn set_write_id(&mut self, write_id: String) {
        self.write_id = Some(write_id);
    }

    fn release_number(&self) -> u64 {
        0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(json: serde_json::Value) -> Result<FreezeWindow, String> {
        serde_json::from_value::<FreezeSpec>(json)
            .map_err(|err| err.to_string())?
            .window("freeze[0]")
    }

    fn at(text: &str) -> Timestamp {
        text.parse().unwrap()
    }

    #[test]
    fn a_fixed_window_covers_from_its_start_to_its_end() {
        let window = spec(serde_json::json!({
            "from": "2026-12-24T00:00:00Z", "to": "2026-12-27T00:00:00Z", "reason": "holidays"
        }))
        .unwrap();
        assert_eq!(window.covering(at("2026-12-23T23:59:59Z")), None);
        assert_eq!(
            window.covering(at("2026-12-24T00:00:00Z")),
            Some(at("2026-12-27T00:00:00Z"))
        );
        assert_eq!(window.covering(at("2026-12-27T00:00:00Z")), None);
        assert_eq!(window.reason(), "holidays");
    }

    #[test]
    fn a_weekly_window_across_midnight_covers_the_next_morning_in_its_time_zone() {
        let window = spec(serde_json::json!({
            "days": ["sat", "sun"], "between": "18:00-08:00", "timezone": "Europe/London",
            "reason": "weekend"
        }))
        .unwrap();
        // Saturday 2026-12-05, London is on UTC in winter.
        assert_eq!(window.covering(at("2026-12-05T17:59:00Z")), None);
        assert_eq!(
            window.covering(at("2026-12-05T18:00:00Z")),
            Some(at("2026-12-06T08:00:00Z"))
        );
        // Sunday morning: Saturday's window still runs.
        assert_eq!(
            window.covering(at("2026-12-06T07:00:00Z")),
            Some(at("2026-12-06T08:00:00Z"))
        );
        // Monday morning: Sunday's window.
        assert_eq!(
            window.covering(at("2026-12-07T07:59:00Z")),
            Some(at("2026-12-07T08:00:00Z"))
        );
        assert_eq!(window.covering(at("2026-12-07T08:00:00Z")), None);
        // Summer time: 18:00 in London is 17:00 UTC.
        assert!(window.covering(at("2026-07-04T17:30:00Z")).is_some());
        assert_eq!(
            window.describe(),
            "weekly, sat,sun 18:00-08:00 Europe/London"
        );
    }

    #[test]
    fn a_window_that_cannot_work_is_refused_naming_the_field() {
        for (json, expected) in [
            (
                serde_json::json!({"from": "2026-12-27T00:00:00Z", "to": "2026-12-24T00:00:00Z", "reason": "x"}),
                "freeze[0]: to (2026-12-24T00:00:00Z) is not after from",
            ),
            (
                serde_json::json!({"days": ["sat"], "between": "18:00-08:00", "timezone": "Mars/Olympus", "reason": "x"}),
                "freeze[0].timezone \"Mars/Olympus\" is not a time zone",
            ),
            (
                serde_json::json!({"days": ["caturday"], "between": "18:00-08:00", "reason": "x"}),
                "freeze[0].days: \"caturday\" is not a day of the week",
            ),
            (
                serde_json::json!({"days": ["sat"], "between": "6pm", "reason": "x"}),
                "freeze[0].between \"6pm\" is not HH:MM-HH:MM",
            ),
            (
                serde_json::json!({"from": "yesterday", "to": "2026-12-24T00:00:00Z", "reason": "x"}),
                "freeze[0].from \"yesterday\" is not an RFC 3339 time",
            ),
            (
                serde_json::json!({"from": "2026-12-24T00:00:00Z", "days": ["sat"], "reason": "x"}),
                "freeze[0] is either a fixed window",
            ),
            (
                serde_json::json!({"from": "2026-12-24T00:00:00Z", "to": "2026-12-25T00:00:00Z", "reason": " "}),
                "freeze[0].reason must say why",
            ),
        ] {
            let error = spec(json.clone()).unwrap_err();
            assert!(error.starts_with(expected), "{json}: {error}");
        }
    }

    #[test]
    fn an_ad_hoc_freeze_holds_until_its_end_and_an_unfreeze_lifts_it() {
        let now = at("2026-12-04T12:00:00Z");
        let freeze = FreezeRecord::freeze(
            "production",
            at("2026-12-04T18:00:00Z"),
            "incident",
            "a@b",
            now,
        );
        assert_eq!(freeze.holding_at(now), Some(at("2026-12-04T18:00:00Z")));
        assert_eq!(freeze.holding_at(at("2026-12-04T18:00:00Z")), None);
        let read = FreezeRecord::parse(&freeze.to_json(), None).unwrap();
        assert_eq!(read, freeze);
        assert_eq!(
            FreezeRecord::unfreeze("production", "a@b", now).holding_at(now),
            None
        );
        assert!(FreezeRecord::parse(br#"{"action": "thaw"}"#, None).is_err());
    }
}
