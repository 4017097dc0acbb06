//! Delivery metrics, DORA's four keys, for one application in one environment over a window,
//! computed from the bucket alone: the environment's deploy records and the application's
//! release records. The definitions (the README gives them with their sources):
//!
//! - **Deployment frequency**: deploys in the window, per day.
//! - **Lead time for changes**: the median, over the commits each deploy brought to the
//!   environment for the first time (those its release holds, as [`super::lineage`] tells it,
//!   that no earlier deploy there brought), of the deploy's time less the commit's time (its
//!   committer's). A release record that does not keep its commits' times
//!   makes the figure unknown, never a guess.
//! - **Change failure rate**: the share of the window's deploys (rollbacks aside) that the next
//!   deploy to the environment rolled back: a rollback counts as a failed deploy, the usual
//!   approximation.
//! - **Failed deployment recovery time**: the median time from a deploy later rolled back to
//!   that rollback.
//!
//! A figure without the data it needs is `None`. A record whose time cannot be read, or lies in
//! the future (past the window's end by more than [`CLOCK_SKEW`], which machines' clocks may
//! differ by), is left out of every figure and counted as skipped.

use std::collections::HashSet;

use jiff::{SignedDuration, Timestamp};

use super::lineage::Lineage;
use super::summary::{BoardHistories, HistoryCache, HistoryKind, Summary};
use crate::error::Result;
use crate::record::{AppName, EnvironmentName, Layout};
use crate::store::RecordStore;

/// How far past the window's end (the store's now) a record's time may be and still count, at
/// the end: the clocks of the machines that wrote the records may be that far ahead.
pub const CLOCK_SKEW: SignedDuration = SignedDuration::from_mins(5);

/// How many bars the trend of deploys over the window has.
pub const TREND_BARS: usize = 12;

/// A window of time: from `since` to `until`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window {
    /// Its start.
    pub since: Timestamp,
    /// Its end: now, as the store says it.
    pub until: Timestamp,
}

impl Window {
    /// The `length` until `until`.
    pub fn last(length: SignedDuration, until: Timestamp) -> Self {
        Window {
            since: until.checked_sub(length).unwrap_or(Timestamp::MIN),
            until,
        }
    }

    fn contains(&self, time: Timestamp) -> bool {
        self.since <= time && time <= self.until
    }
}

/// The four keys of one application in one environment, and how they were counted.
#[derive(Debug, Clone, PartialEq)]
pub struct Metrics {
    /// Deploys in the window.
    pub deploys: usize,
    /// Deploys per day.
    pub deployment_frequency_per_day: Option<f64>,
    /// The median lead time for changes, in seconds.
    pub lead_time_median_seconds: Option<i64>,
    /// The share of deploys rolled back, 0 to 1.
    pub change_failure_rate: Option<f64>,
    /// The median time to a rollback, in seconds.
    pub recovery_time_median_seconds: Option<i64>,
    /// Records left out: a time that cannot be read, or lies in the future.
    pub skipped: usize,
    /// Deploys in each of [`TREND_BARS`] equal stretches of the window, oldest first.
    pub trend: Vec<usize>,
}

/// The metrics of one application in one environment.
#[derive(Debug, Clone, PartialEq)]
pub struct AppMetrics {
    /// The application.
    pub name: AppName,
    /// The environment.
    pub environment: EnvironmentName,
    /// Its figures.
    pub metrics: Metrics,
}

/// The metrics of each application of the board in each of its environments over `window`.
pub async fn delivery_metrics<S: RecordStore, C: HistoryCache>(
    layout: &Layout,
    histories: &mut BoardHistories<'_, S, C>,
    window: Window,
) -> Result<Vec<AppMetrics>> {
    let board = histories.board();
    let mut all = Vec::new();
    for project in &board.projects {
        let app = layout.app(&project.name);
        let releases = histories.read(&app.releases, HistoryKind::Releases).await?;
        for environment in &board.environments {
            // A name too long to make a key of has no deploys.
            let deploys = match layout.place(&app, environment) {
                Ok(place) => histories.read(&place.deploys, HistoryKind::Deploys).await?,
                Err(_) => Vec::new(),
            };
            all.push(AppMetrics {
                name: project.name.clone(),
                environment: environment.clone(),
                metrics: compute(&releases, &deploys, window),
            });
        }
    }
    Ok(all)
}

/// A deploy with its time.
struct Timed<'a> {
    at: Timestamp,
    deploy: &'a Summary,
}

/// The metrics of `deploys` (one environment's) over `window`, given `releases` (the
/// application's), both newest first as a history lists them. The deploys are taken in the
/// history's order, which is the order they were written in; their times place them in the
/// window and measure durations, never order them (two deploys in one second would tie).
pub fn compute(releases: &[Summary], deploys: &[Summary], window: Window) -> Metrics {
    let mut skipped = 0;
    let mut timed: Vec<Timed<'_>> = Vec::with_capacity(deploys.len());
    let latest = window.until.checked_add(CLOCK_SKEW).unwrap_or(window.until);
    for deploy in deploys.iter().rev() {
        match deploy.timestamp() {
            Some(at) if at <= latest => timed.push(Timed {
                at: at.min(window.until),
                deploy,
            }),
            _ => skipped += 1,
        }
    }
    let lineage = Lineage::of(releases);

    let mut count = 0;
    let mut leads: Vec<i64> = Vec::new();
    let mut lead_unknown = false;
    let mut changes = 0;
    let mut failures = 0;
    let mut recoveries: Vec<i64> = Vec::new();
    let mut trend = vec![0; TREND_BARS];
    // Every commit brought before each deploy, and the releases whose whole content it holds.
    let mut brought: HashSet<&str> = HashSet::new();
    let mut walked: HashSet<usize> = HashSet::new();
    for (index, Timed { at, deploy }) in timed.iter().enumerate() {
        let in_window = window.contains(*at);
        // What this deploy brings for the first time: the commits of its release and of those
        // it builds on that no earlier deploy brought.
        let mut new_leads = Vec::new();
        let mut new_unknown = false;
        match lineage.index_of_deployed(deploy.version, &deploy.commit) {
            // A release the history does not hold: what it brings is unknown.
            None => new_unknown = true,
            Some(index) => {
                let (steps, whole) = lineage.walk_until(index, |release| walked.contains(&release));
                new_unknown |= !whole;
                for step in steps {
                    let release = lineage.releases()[step.release];
                    let commits = lineage.commits(step);
                    let times = release
                        .commit_times
                        .as_ref()
                        .filter(|times| times.len() == release.commits.len())
                        .and_then(|times| times.get(step.from..));
                    match times {
                        Some(times) => {
                            for (sha, committed) in commits.iter().zip(times) {
                                if brought.insert(sha) {
                                    // A commit timed after its deploy is a clock's error: 0.
                                    new_leads.push((at.as_second() - committed).max(0));
                                }
                            }
                        }
                        None => {
                            new_unknown = true;
                            brought.extend(commits.iter().map(String::as_str));
                        }
                    }
                    if step.from == 0 {
                        walked.insert(step.release);
                    }
                }
            }
        }
        if in_window {
            count += 1;
            trend[bar(window, *at)] += 1;
            if !deploy.rollback {
                changes += 1;
                if let Some(next) = timed.get(index + 1).filter(|next| next.deploy.rollback) {
                    failures += 1;
                    recoveries.push(next.at.duration_since(*at).as_secs().max(0));
                }
            }
            leads.extend(new_leads);
            lead_unknown |= new_unknown;
        }
    }
    let days = window.until.duration_since(window.since).as_secs_f64() / 86_400.0;
    Metrics {
        deploys: count,
        deployment_frequency_per_day: (days > 0.0).then(|| count as f64 / days),
        lead_time_median_seconds: if lead_unknown {
            None
        } else {
            median(&mut leads)
        },
        change_failure_rate: (changes > 0).then(|| failures as f64 / changes as f64),
        recovery_time_median_seconds: median(&mut recoveries),
        skipped,
        trend,
    }
}

/// Which bar of the trend `at` falls in.
fn bar(window: Window, at: Timestamp) -> usize {
    let length = window.until.duration_since(window.since).as_secs().max(1);
    let offset = at
        .duration_since(window.since)
        .as_secs()
        .clamp(0, length - 1);
    usize::try_from(offset * TREND_BARS as i64 / length).unwrap_or(TREND_BARS - 1)
}

/// The median of `values`, `None` for none.
fn median(values: &mut [i64]) -> Option<i64> {
    if values.is_empty() {
        return None;
    }
    values.sort_unstable();
    let middle = values.len() / 2;
    Some(if values.len() % 2 == 0 {
        (values[middle - 1] + values[middle]) / 2
    } else {
        values[middle]
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const DAY: i64 = 86_400;

    fn time(seconds: i64) -> i64 {
        1_790_000_000 + seconds
    }

    fn release(version: u64, committed: &[i64]) -> Summary {
        Summary {
            version_id: format!("r{version}"),
            version,
            commit: format!("{version:0>40}"),
            time: Some(time(0)),
            rollback: false,
            commits: committed.iter().map(|at| format!("c{at}")).collect(),
            commit_times: Some(committed.iter().map(|at| time(*at)).collect()),
            tickets: None,
            changelog: String::new(),
        }
    }

    fn deploy(version: u64, at: i64, rollback: bool) -> Summary {
        Summary {
            version_id: format!("d{version}-{at}"),
            version,
            time: Some(time(at)),
            rollback,
            ..release(version, &[])
        }
    }

    fn window(days: i64) -> Window {
        Window::last(
            SignedDuration::from_secs(days * DAY),
            Timestamp::from_second(1_790_000_000 + 30 * DAY).unwrap(),
        )
    }

    #[test]
    fn the_four_keys_of_a_history_with_a_skipped_release_and_a_rollback() {
        // Releases 1 to 4; release 2 is never deployed on its own (production skips it).
        let releases = vec![
            release(4, &[4 * DAY]),
            release(3, &[3 * DAY]),
            release(2, &[2 * DAY, 2 * DAY + 100]),
            release(1, &[DAY]),
        ];
        let deploys = vec![
            deploy(1, DAY + 3600, false),
            // Release 3 brings releases 2 and 3: three commits.
            deploy(3, 3 * DAY + 7200, false),
            // Release 4, rolled back an hour later to 3, then 4 again (nothing new).
            deploy(4, 4 * DAY + 600, false),
            deploy(3, 4 * DAY + 4200, true),
            deploy(4, 5 * DAY, false),
        ];
        // Newest first, as a history lists them.
        let deploys: Vec<Summary> = deploys.into_iter().rev().collect();
        let metrics = compute(&releases, &deploys, window(30));
        assert_eq!(metrics.deploys, 5);
        assert!((metrics.deployment_frequency_per_day.unwrap() - 5.0 / 30.0).abs() < 1e-9);
        // Leads: 3600 (release 1); DAY+7200, DAY+7100, 7200 (releases 2, 3); 600 (release 4).
        // Sorted: 600, 3600, 7200, DAY+7100, DAY+7200: the median is 7200.
        assert_eq!(metrics.lead_time_median_seconds, Some(7200));
        // Four deploys that are not rollbacks; one was rolled back.
        assert_eq!(metrics.change_failure_rate, Some(0.25));
        assert_eq!(metrics.recovery_time_median_seconds, Some(3600));
        assert_eq!(metrics.skipped, 0);
        assert_eq!(metrics.trend.iter().sum::<usize>(), 5);
    }

    #[test]
    fn a_figure_without_its_data_is_none_never_a_guess() {
        // One deploy, of a release that does not keep its commits' times.
        let mut old = release(1, &[DAY]);
        old.commit_times = None;
        let metrics = compute(&[old], &[deploy(1, 2 * DAY, false)], window(30));
        assert_eq!(metrics.deploys, 1);
        assert_eq!(metrics.lead_time_median_seconds, None);
        assert_eq!(metrics.change_failure_rate, Some(0.0));
        assert_eq!(metrics.recovery_time_median_seconds, None);
        // A deploy of a release the history does not hold.
        let metrics = compute(&[], &[deploy(7, 2 * DAY, false)], window(30));
        assert_eq!(metrics.lead_time_median_seconds, None);
        // No deploy at all.
        let metrics = compute(&[], &[], window(30));
        assert_eq!(metrics.deploys, 0);
        assert_eq!(metrics.deployment_frequency_per_day, Some(0.0));
        assert_eq!(metrics.change_failure_rate, None);
    }

    #[test]
    fn records_in_the_future_or_without_a_time_are_skipped_and_counted() {
        let mut garbled = deploy(1, DAY, false);
        garbled.time = None;
        let future = deploy(2, 40 * DAY, false);
        // A minute ahead of the store's clock: a machine's clock, not the future.
        let skewed = deploy(2, 30 * DAY + 60, false);
        let metrics = compute(
            &[release(1, &[0]), release(2, &[0])],
            &[garbled, future, deploy(2, 2 * DAY, false), skewed],
            window(30),
        );
        assert_eq!(metrics.skipped, 2);
        assert_eq!(metrics.deploys, 2);
    }

    #[test]
    fn a_rollback_inside_a_range_brings_that_part_of_it_alone() {
        // Release 2 holds c3 and c2; release 3 goes back to c2, inside that range.
        let mut back = release(3, &[]);
        back.rollback = true;
        back.commit = "c7200".into();
        let releases = vec![back, release(2, &[3 * 3600, 2 * 3600]), release(1, &[3600])];
        assert_eq!(releases[1].commits, ["c10800", "c7200"]);
        // The environment's first deploy is release 3: c2 and c1, never c3.
        let metrics = compute(&releases, &[deploy(3, 4 * 3600, false)], window(30));
        // Leads of c2 (2h) and c1 (3h): the median is 2.5h.
        assert_eq!(metrics.lead_time_median_seconds, Some(9000));
    }

    #[test]
    fn deploys_in_the_same_second_keep_the_order_they_were_written_in() {
        let releases = vec![release(2, &[0]), release(1, &[0])];
        // Release 2 at the same second as its rollback to 1: the history's order says which
        // came first; sorting by time would not.
        let deploys = vec![deploy(1, DAY, true), deploy(2, DAY, false)];
        let metrics = compute(&releases, &deploys, window(30));
        assert_eq!(metrics.change_failure_rate, Some(1.0));
        assert_eq!(metrics.recovery_time_median_seconds, Some(0));
    }

    #[test]
    fn deploys_before_the_window_count_for_what_is_new_but_not_as_deploys() {
        let releases = vec![release(2, &[20 * DAY]), release(1, &[0])];
        // Release 1 went out before a 7-day window; release 2 inside it brings one commit.
        let deploys = vec![deploy(2, 25 * DAY, false), deploy(1, DAY, false)];
        let metrics = compute(&releases, &deploys, window(7));
        assert_eq!(metrics.deploys, 1);
        assert_eq!(metrics.lead_time_median_seconds, Some(5 * DAY));
    }
}
