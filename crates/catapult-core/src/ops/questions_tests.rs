//! The questions asked of a whole history (tickets, delivery metrics) checked against a model
//! that knows the answers another way: a simulated linear repository whose commits carry
//! tickets, releases cut from it forward and back as the release operation cuts them, and
//! deploys forward, skipping releases, and back. A release holds a ticket when any commit at or
//! below its own mentions it; a deploy brings the commits at or below its release's that no
//! earlier deploy's release reached. The records go through the store, the board and the
//! history reads, as the command line reads them.

use jiff::Timestamp;
use proptest::prelude::*;

use super::board::{NoCache, read_board};
use super::contains::Contains;
use super::metrics::{Window, delivery_metrics};
use super::summary::{BoardHistories, MemoryHistoryCache};
use super::tickets::{TicketPattern, TicketQuery, find_ticket};
use crate::record::fixtures::{at, bucket, env};
use crate::record::{EnvironmentLayout, Layout};
use crate::store::Versioning;
use crate::store::memory::MemoryStore;

const START: i64 = 1_790_000_000;
const TICKETS: [&str; 3] = ["ABC-1", "ABC-2", "OPS-3"];

/// One simulated commit: its time and the ticket its message mentions, if any.
#[derive(Debug, Clone)]
struct SimCommit {
    time: i64,
    ticket: Option<&'static str>,
    in_body: bool,
}

impl SimCommit {
    fn sha(index: usize) -> String {
        format!("{index:040x}")
    }

    fn message(&self) -> String {
        match (self.ticket, self.in_body) {
            (Some(ticket), false) => format!("{ticket}: a change"),
            (Some(ticket), true) => format!("A change\n\nFixes {ticket}."),
            (None, _) => "A change without a ticket".into(),
        }
    }
}

/// One simulated release record: its number, the commit it was cut from, and whether it went
/// back.
#[derive(Debug, Clone)]
struct SimRelease {
    number: u64,
    commit: usize,
    rollback: bool,
    /// Its range's commits, newest first.
    range: Vec<usize>,
    time: i64,
}

/// One simulated deploy, of a release record (the newest of its number).
#[derive(Debug, Clone)]
struct SimDeploy {
    release: usize,
    rollback: bool,
    time: i64,
}

#[derive(Debug, Clone)]
struct History {
    commits: Vec<SimCommit>,
    releases: Vec<SimRelease>,
    deploys: Vec<SimDeploy>,
    /// Whether a rollback went back to a commit inside a range (no release was cut from it).
    inside_a_range: bool,
}

/// A history from a script of steps: 0 cuts a release forward, 1 rolls back to an earlier
/// release's commit, 2 deploys a release (a second deploy in the same second, half the time),
/// 3 rolls back to any earlier commit (inside a range, most of the time), 4 cuts a second
/// record of the last number forward (the older tool's race).
fn history(commits: Vec<(u8, bool)>, steps: Vec<(u8, u8)>) -> History {
    let commits: Vec<SimCommit> = commits
        .into_iter()
        .enumerate()
        .map(|(index, (ticket, in_body))| SimCommit {
            time: START + index as i64 * 3600,
            ticket: TICKETS.get(ticket as usize).copied(),
            in_body,
        })
        .collect();
    let mut releases: Vec<SimRelease> = Vec::new();
    let mut deploys: Vec<SimDeploy> = Vec::new();
    let mut inside_a_range = false;
    let mut now = START + commits.len() as i64 * 3600;
    for (kind, pick) in steps {
        let same_second = kind == 2 && pick % 2 == 0 && !deploys.is_empty();
        if !same_second {
            now += 1800 + i64::from(pick) * 60;
        }
        let last = releases.last().map(|release| release.commit);
        let next_number = releases.iter().map(|r| r.number).max().unwrap_or(0) + 1;
        match kind {
            0 | 4 => {
                let from = last.map_or(0, |last| last + 1);
                if from >= commits.len() {
                    continue;
                }
                let number = match (kind, releases.last()) {
                    (4, Some(previous)) => previous.number,
                    _ => next_number,
                };
                let commit = from + usize::from(pick) % (commits.len() - from).min(3);
                releases.push(SimRelease {
                    number,
                    commit,
                    rollback: false,
                    range: (from..=commit).rev().collect(),
                    time: now,
                });
            }
            1 | 3 => {
                let Some(last) = last else { continue };
                let earlier: Vec<usize> = if kind == 1 {
                    releases
                        .iter()
                        .map(|release| release.commit)
                        .filter(|commit| *commit < last)
                        .collect()
                } else {
                    (0..last).collect()
                };
                if earlier.is_empty() {
                    continue;
                }
                let commit = earlier[usize::from(pick) % earlier.len()];
                inside_a_range |= !releases.iter().any(|release| release.commit == commit);
                releases.push(SimRelease {
                    number: next_number,
                    commit,
                    rollback: true,
                    range: Vec::new(),
                    time: now,
                });
            }
            _ => {
                if releases.is_empty() {
                    continue;
                }
                // A number names its newest record.
                let number = releases[usize::from(pick) % releases.len()].number;
                let release = releases.iter().rposition(|r| r.number == number).unwrap();
                let current = deploys.last().map(|deploy| releases[deploy.release].number);
                deploys.push(SimDeploy {
                    release,
                    rollback: current.is_some_and(|current| number < current),
                    time: now,
                });
            }
        }
    }
    History {
        commits,
        releases,
        deploys,
        inside_a_range,
    }
}

impl History {
    /// Whether release `index` holds `ticket`: any commit at or below its commit mentions it.
    fn holds(&self, index: usize, ticket: &str) -> bool {
        self.commits[..=self.releases[index].commit]
            .iter()
            .any(|commit| commit.ticket == Some(ticket))
    }

    /// The release records, as the release operation writes them; the first `old` without the
    /// fields older records lack.
    fn release_bodies(&self, old: usize) -> Vec<Vec<u8>> {
        let pattern = TicketPattern::default();
        self.releases
            .iter()
            .enumerate()
            .map(|(index, release)| {
                let mut body = serde_json::json!({
                    "version": release.number,
                    "commit": SimCommit::sha(release.commit),
                    "author": "dev@example.com",
                    "commits": release.range.iter().map(|c| SimCommit::sha(*c)).collect::<Vec<_>>(),
                    "timestamp": Timestamp::from_second(release.time).unwrap().to_string(),
                    "rollback": release.rollback,
                });
                if index >= old {
                    let messages: Vec<String> = release
                        .range
                        .iter()
                        .map(|c| self.commits[*c].message())
                        .collect();
                    body["tickets"] = serde_json::json!(
                        pattern.find(messages.iter().map(String::as_str)).tickets
                    );
                    body["commit_times"] = serde_json::json!(
                        release
                            .range
                            .iter()
                            .map(|c| Timestamp::from_second(self.commits[*c].time)
                                .unwrap()
                                .to_string())
                            .collect::<Vec<_>>()
                    );
                }
                serde_json::to_vec(&body).unwrap()
            })
            .collect()
    }

    fn deploy_bodies(&self) -> Vec<Vec<u8>> {
        self.deploys
            .iter()
            .map(|deploy| {
                let release = &self.releases[deploy.release];
                serde_json::to_vec(&serde_json::json!({
                    "version": release.number,
                    "commit": SimCommit::sha(release.commit),
                    "author": "dev@example.com",
                    "timestamp": Timestamp::from_second(deploy.time).unwrap().to_string(),
                    "rollback": deploy.rollback,
                    "environment": "production",
                }))
                .unwrap()
            })
            .collect()
    }

    /// The lead times (seconds) of the deploys in `window`: each commit brought for the first
    /// time, as the model reaches it, by any deploy (one of a lower release than the one before
    /// it, a rollback, can still bring a commit that one never had).
    fn leads(&self, window: Window) -> Vec<i64> {
        let mut reached: Option<usize> = None;
        let mut leads = Vec::new();
        for deploy in &self.deploys {
            let commit = self.releases[deploy.release].commit;
            let from = reached.map_or(0, |reached| reached + 1);
            let in_window =
                window.since.as_second() <= deploy.time && deploy.time <= window.until.as_second();
            if in_window {
                for brought in from..=commit {
                    leads.push(deploy.time - self.commits[brought].time);
                }
            }
            reached = Some(reached.map_or(commit, |reached| reached.max(commit)));
        }
        leads
    }
}

fn median(mut values: Vec<i64>) -> Option<i64> {
    values.sort_unstable();
    let middle = values.len() / 2;
    match values.len() {
        0 => None,
        n if n % 2 == 0 => Some((values[middle - 1] + values[middle]) / 2),
        _ => Some(values[middle]),
    }
}

fn layout() -> Layout {
    Layout {
        releases_bucket: bucket("releases"),
        environments: vec![EnvironmentLayout {
            name: env("production"),
            deploy_bucket: None,
            deploy_key: None,
            require_deployed_to: vec![],
            require_approval: false,
            freeze: vec![],
        }],
    }
}

fn check(history: &History, old: usize, window_from: u8) -> Result<(), TestCaseError> {
    let store = MemoryStore::default();
    store.create_bucket("releases", Versioning::Enabled);
    for body in history.release_bodies(old) {
        store.put_unconditionally(&at("releases", "api"), &body);
    }
    for body in history.deploy_bodies() {
        store.put_unconditionally(&at("releases", "deploys/production/api"), &body);
    }
    let layout = layout();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let mut cache = MemoryHistoryCache::default();
    let board = runtime
        .block_on(read_board(
            &store,
            &layout,
            None,
            false,
            |_| true,
            &mut NoCache,
        ))
        .unwrap();
    if history.releases.is_empty() {
        prop_assert!(board.projects.is_empty());
        return Ok(());
    }

    // Tickets: every release, and what production runs.
    let pattern = TicketPattern::default();
    for ticket in TICKETS {
        let query = TicketQuery {
            wanted: ticket,
            checkout: None,
            pattern: &pattern,
        };
        let found = runtime
            .block_on(find_ticket(
                &layout,
                &mut BoardHistories::new(&store, &board, &mut cache),
                query,
            ))
            .unwrap();
        prop_assert_eq!(found.len(), 1);
        let found = &found[0];
        for (index, release) in history.releases.iter().enumerate() {
            // A number names its newest record.
            if history.releases[index + 1..]
                .iter()
                .any(|r| r.number == release.number)
            {
                continue;
            }
            let expected = history.holds(index, ticket);
            let answer = found.releases.holds(release.number);
            // Never a wrong answer; unknown only where the history cannot tell: older records,
            // or a rollback inside a range that mentions the ticket.
            if answer != Contains::Unknown {
                prop_assert_eq!(
                    answer == Contains::Yes,
                    expected,
                    "release {} {}",
                    release.number,
                    ticket
                );
            } else {
                prop_assert!(
                    old > 0 || history.inside_a_range,
                    "release {} {}: ?",
                    release.number,
                    ticket
                );
            }
        }
        let runs = found.environments[0].1;
        match history.deploys.last() {
            None => prop_assert_eq!(runs, None),
            Some(deploy) => {
                let (version, answer) = runs.unwrap();
                prop_assert_eq!(version, history.releases[deploy.release].number);
                let expected = history.holds(deploy.release, ticket);
                if answer != Contains::Unknown {
                    prop_assert_eq!(answer == Contains::Yes, expected, "what production runs");
                }
            }
        }
    }

    // Metrics over a window that starts at one of the deploys (or before them all).
    let until = Timestamp::from_second(
        history
            .deploys
            .iter()
            .chain(history.deploys.last())
            .map(|deploy| deploy.time)
            .max()
            .unwrap_or(START)
            + 60,
    )
    .unwrap();
    let since = history
        .deploys
        .get(usize::from(window_from) % (history.deploys.len() + 1))
        .map_or(START - 1, |deploy| deploy.time);
    let window = Window {
        since: Timestamp::from_second(since).unwrap(),
        until,
    };
    let all = runtime
        .block_on(delivery_metrics(
            &layout,
            &mut BoardHistories::new(&store, &board, &mut cache),
            window,
        ))
        .unwrap();
    prop_assert_eq!(all.len(), 1);
    let metrics = &all[0].metrics;
    let in_window: Vec<&SimDeploy> = history
        .deploys
        .iter()
        .filter(|deploy| since <= deploy.time && deploy.time <= until.as_second())
        .collect();
    prop_assert_eq!(metrics.deploys, in_window.len());
    let days = until.duration_since(window.since).as_secs_f64() / 86_400.0;
    prop_assert!(
        (metrics.deployment_frequency_per_day.unwrap() - in_window.len() as f64 / days).abs()
            < 1e-9
    );
    let mut changes = 0;
    let mut failures = 0;
    let mut recoveries = Vec::new();
    for (index, deploy) in history.deploys.iter().enumerate() {
        if since <= deploy.time && !deploy.rollback {
            changes += 1;
            if let Some(next) = history.deploys.get(index + 1).filter(|next| next.rollback) {
                failures += 1;
                recoveries.push(next.time - deploy.time);
            }
        }
    }
    prop_assert_eq!(
        metrics.change_failure_rate,
        (changes > 0).then(|| f64::from(failures) / f64::from(changes))
    );
    prop_assert_eq!(metrics.recovery_time_median_seconds, median(recoveries));
    let leads = median(history.leads(window));
    if old == 0 {
        prop_assert_eq!(metrics.lead_time_median_seconds, leads);
    } else if metrics.lead_time_median_seconds.is_some() {
        prop_assert_eq!(metrics.lead_time_median_seconds, leads);
    }
    prop_assert_eq!(metrics.skipped, 0);
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn tickets_and_metrics_answer_as_the_model_does(
        commits in prop::collection::vec((0u8..5, any::<bool>()), 1..30),
        steps in prop::collection::vec((0u8..5, any::<u8>()), 0..40),
        old in 0usize..3,
        window_from in any::<u8>(),
    ) {
        let history = history(commits, steps);
        let old = if old == 0 { 0 } else { old.min(history.releases.len()) };
        check(&history, old, window_from)?;
    }
}

#[test]
fn a_forward_release_after_a_rollback_brings_back_what_it_dropped() {
    // Commits 0..5, ticket ABC-1 at commit 3; releases at 1, 4, back to 1, then 4 again.
    let commits = vec![
        (9, false),
        (9, false),
        (9, false),
        (0, true),
        (9, false),
        (9, false),
    ];
    let steps = vec![(0, 1), (0, 2), (2, 1), (1, 0), (2, 2), (0, 2), (2, 3)];
    let history = history(commits, steps);
    let commits: Vec<usize> = history.releases.iter().map(|r| r.commit).collect();
    assert_eq!(commits, [1, 4, 1, 4]);
    assert!(!history.holds(2, "ABC-1") && history.holds(3, "ABC-1"));
    check(&history, 0, 0).unwrap();
}
