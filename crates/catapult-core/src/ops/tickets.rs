//! Tickets: which releases, and which environments, hold a commit that mentions a ticket
//! (`ABC-123`). A release records the tickets its changelog range mentions (its commits'
//! messages, subject and body, through a [`TicketPattern`]), so the answer comes from the
//! bucket alone; a record written before tickets were kept is asked of the checkout when one is
//! at hand, and is otherwise unknown (`?`), never a guess.
//!
//! A release holds a ticket when its own range mentions it, or when the release it builds on
//! ([`super::lineage`]) holds it.

use std::collections::BTreeSet;

use regex_lite::Regex;

use super::contains::Contains;
use super::lineage::{Lineage, Parent};
use super::summary::{BoardHistories, HistoryCache, HistoryKind, Summary};
use crate::error::Result;
use crate::git::{Checkout, Commit};
use crate::record::{AppName, EnvironmentName, Layout, MAX_TICKETS};
use crate::store::RecordStore;

/// The pattern tickets are found with: a regex whose first group (or whole match, without a
/// group) is the ticket.
#[derive(Debug, Clone)]
pub struct TicketPattern {
    regex: Regex,
}

/// The tickets found in some commit messages.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FoundTickets {
    /// The tickets, sorted, at most [`MAX_TICKETS`].
    pub tickets: Vec<String>,
    /// How many more there were than a record keeps.
    pub left_out: usize,
}

impl TicketPattern {
    /// The default: Jira-style keys (`ABC-123`), Shortcut's branch and commit tags (`sc-123`)
    /// and Clubhouse's older ones (`ch123`), the forms the older tool's Shortcut lookup knew.
    pub const DEFAULT: &'static str = r"\b([A-Z][A-Z0-9]+-[0-9]+|sc-[0-9]+|ch[0-9]+)\b";

    /// The pattern `pattern`, or a one-line reason it is not one.
    pub fn new(pattern: &str) -> Result<Self, String> {
        let regex = Regex::new(pattern).map_err(|err| {
            format!(
                "the ticket pattern {pattern:?} is not a valid regex: {}",
                one_line(&err.to_string())
            )
        })?;
        Ok(TicketPattern { regex })
    }

    /// The pattern as written.
    pub fn as_str(&self) -> &str {
        self.regex.as_str()
    }

    /// Whether `messages` mention `wanted` (compared without case), however many other
    /// tickets they mention.
    pub fn mentions<'a>(&self, messages: impl IntoIterator<Item = &'a str>, wanted: &str) -> bool {
        messages.into_iter().any(|message| {
            self.regex.captures_iter(message).any(|captures| {
                captures
                    .get(1)
                    .or_else(|| captures.get(0))
                    .is_some_and(|ticket| same_ticket(ticket.as_str().trim(), wanted))
            })
        })
    }

    /// The tickets `messages` mention, sorted and each once; empty matches are not tickets.
    pub fn find<'a>(&self, messages: impl IntoIterator<Item = &'a str>) -> FoundTickets {
        let mut tickets = BTreeSet::new();
        for message in messages {
            for captures in self.regex.captures_iter(message) {
                let ticket = captures.get(1).or_else(|| captures.get(0));
                if let Some(ticket) = ticket.filter(|ticket| !ticket.as_str().trim().is_empty()) {
                    tickets.insert(ticket.as_str().trim().to_owned());
                }
            }
        }
        let left_out = tickets.len().saturating_sub(MAX_TICKETS);
        FoundTickets {
            tickets: tickets.into_iter().take(MAX_TICKETS).collect(),
            left_out,
        }
    }
}

impl PartialEq for TicketPattern {
    fn eq(&self, other: &Self) -> bool {
        self.as_str() == other.as_str()
    }
}

impl Eq for TicketPattern {}

impl Default for TicketPattern {
    fn default() -> Self {
        TicketPattern::new(Self::DEFAULT).expect("the default ticket pattern is a valid regex")
    }
}

/// A regex error's text on one line.
fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Whether `ticket` names the same ticket as `wanted`: ticket keys are compared without regard
/// to ASCII case, as people type them.
pub fn same_ticket(ticket: &str, wanted: &str) -> bool {
    ticket.eq_ignore_ascii_case(wanted)
}

/// Where a ticket is, in one application's releases.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TicketReleases {
    /// Each release number, ascending, and whether it (its newest record) holds the ticket.
    pub releases: Vec<(u64, Contains)>,
    /// The release whose range first mentions it.
    pub first: Option<u64>,
    /// The latest release (the history's newest record) and whether it holds the ticket.
    pub latest: Option<(u64, Contains)>,
    /// Every record, oldest first: its number, its commit, and whether it holds the ticket.
    pub records: Vec<(u64, String, Contains)>,
}

impl TicketReleases {
    /// Whether release `version` holds the ticket; a number the history does not hold is
    /// unknown.
    pub fn holds(&self, version: u64) -> Contains {
        self.releases
            .binary_search_by_key(&version, |(number, _)| *number)
            .map_or(Contains::Unknown, |index| self.releases[index].1)
    }

    /// Whether the release a deploy of `version` at `commit` deployed holds the ticket: the
    /// newest record with both, else the number's.
    pub fn deployed_holds(&self, version: u64, commit: &str) -> Contains {
        self.records
            .iter()
            .rev()
            .find(|(number, sha, _)| *number == version && sha == commit)
            .map_or_else(|| self.holds(version), |(_, _, holds)| *holds)
    }

    /// The releases that hold the ticket, oldest first.
    pub fn holding(&self) -> impl Iterator<Item = u64> + '_ {
        self.releases
            .iter()
            .filter(|(_, holds)| *holds == Contains::Yes)
            .map(|(number, _)| *number)
    }

    /// Whether any release's answer is unknown.
    pub fn any_unknown(&self) -> bool {
        self.releases
            .iter()
            .any(|(_, holds)| *holds == Contains::Unknown)
    }
}

/// Where a ticket is in one application: its releases, and what each environment runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TicketInApp {
    /// The application.
    pub name: AppName,
    /// Its releases and whether each holds the ticket.
    pub releases: TicketReleases,
    /// Per environment of the board, the release it runs now and whether that holds the
    /// ticket; `None` for an environment never deployed to.
    pub environments: Vec<(EnvironmentName, Option<(u64, Contains)>)>,
}

impl TicketInApp {
    /// Whether anything of the application has anything to say about the ticket: a release
    /// that holds it, or one that might.
    pub fn is_relevant(&self) -> bool {
        self.releases.holding().next().is_some() || self.releases.any_unknown()
    }
}

/// A ticket asked for, and how to tell it in records that do not keep their tickets.
#[derive(Debug, Clone, Copy)]
pub struct TicketQuery<'a> {
    /// The ticket.
    pub wanted: &'a str,
    /// A checkout of the applications' repository, when at hand.
    pub checkout: Option<&'a Checkout>,
    /// How tickets are found in its commit messages.
    pub pattern: &'a TicketPattern,
}

/// Where the ticket of `query` is in each application of the board: each one's release
/// history read whole (once per key change), what each environment runs from the board.
pub async fn find_ticket<S: RecordStore, C: HistoryCache>(
    layout: &Layout,
    histories: &mut BoardHistories<'_, S, C>,
    query: TicketQuery<'_>,
) -> Result<Vec<TicketInApp>> {
    let board = histories.board();
    let mut found = Vec::with_capacity(board.projects.len());
    for project in &board.projects {
        let app = layout.app(&project.name);
        let history = histories.read(&app.releases, HistoryKind::Releases).await?;
        let releases = releases_holding(&history, query.wanted, query.checkout, query.pattern);
        let environments = project
            .deploys
            .iter()
            .map(|(environment, deployed)| {
                let runs = deployed.as_ref().map(|stored| {
                    let record = &stored.record;
                    (
                        record.version,
                        releases.deployed_holds(record.version, &record.commit),
                    )
                });
                (environment.clone(), runs)
            })
            .collect();
        found.push(TicketInApp {
            name: project.name.clone(),
            releases,
            environments,
        });
    }
    Ok(found)
}

/// Which of `releases` (one application's release history, newest first, as a history lists
/// it) hold `wanted`. `checkout`, when at hand, answers for records that do not keep their
/// tickets, through `pattern`.
pub fn releases_holding(
    releases: &[Summary],
    wanted: &str,
    checkout: Option<&Checkout>,
    pattern: &TicketPattern,
) -> TicketReleases {
    let lineage = Lineage::of(releases);
    let records = lineage.releases();
    // Per record in the history's order: what its own range says, and what it builds on.
    let mut own: Vec<Contains> = Vec::with_capacity(records.len());
    let mut inherited: Vec<Contains> = Vec::with_capacity(records.len());
    let mut first = None;
    for (index, release) in records.iter().enumerate() {
        let previous = index.checked_sub(1).map(|previous| records[previous]);
        let mentions = mentions(release, previous, wanted, checkout, pattern);
        if mentions == Contains::Yes && first.is_none() {
            first = Some(release.version);
        }
        let builds_on = match lineage.parent(index) {
            Parent::Nothing => Contains::No,
            Parent::Release(parent) => either(own[parent], inherited[parent]),
            Parent::Within { release, from } => either(
                part_mentions(
                    records[release],
                    from,
                    own[release],
                    wanted,
                    checkout,
                    pattern,
                ),
                inherited[release],
            ),
            Parent::Unknown => Contains::Unknown,
        };
        own.push(mentions);
        inherited.push(builds_on);
    }
    let answer = |index: usize| either(own[index], inherited[index]);
    let mut by_number: Vec<(u64, Contains)> = (0..records.len())
        .filter(|index| lineage.index_of(records[*index].version) == Some(*index))
        .map(|index| (records[index].version, answer(index)))
        .collect();
    by_number.sort_unstable_by_key(|(number, _)| *number);
    TicketReleases {
        releases: by_number,
        first,
        latest: records
            .len()
            .checked_sub(1)
            .map(|last| (records[last].version, answer(last))),
        records: records
            .iter()
            .enumerate()
            .map(|(index, release)| (release.version, release.commit.clone(), answer(index)))
            .collect(),
    }
}

/// Whether the part of `release`'s range from position `from` of its commits mentions `wanted`,
/// given what its whole range says (`whole`): a range that does not mention it has no part
/// that does; one that does, only the checkout can tell which part.
fn part_mentions(
    release: &Summary,
    from: usize,
    whole: Contains,
    wanted: &str,
    checkout: Option<&Checkout>,
    pattern: &TicketPattern,
) -> Contains {
    if whole == Contains::No {
        return Contains::No;
    }
    match (checkout, release.commits.get(from..)) {
        (Some(checkout), Some(commits)) => messages_mention(checkout, commits, wanted, pattern),
        _ => Contains::Unknown,
    }
}

/// Whether the messages of `commits` (of the checkout) mention `wanted`.
fn messages_mention(
    checkout: &Checkout,
    commits: &[String],
    wanted: &str,
    pattern: &TicketPattern,
) -> Contains {
    match checkout.commit_facts(commits) {
        Ok(facts) if pattern.mentions(facts.iter().map(|f| f.message.as_str()), wanted) => {
            Contains::Yes
        }
        Ok(_) => Contains::No,
        Err(_) => Contains::Unknown,
    }
}

/// Whether `release`'s own range (cut from `previous`'s commit) mentions `wanted`.
fn mentions(
    release: &Summary,
    previous: Option<&Summary>,
    wanted: &str,
    checkout: Option<&Checkout>,
    pattern: &TicketPattern,
) -> Contains {
    if let Some(tickets) = &release.tickets {
        return if tickets.iter().any(|ticket| same_ticket(ticket, wanted)) {
            Contains::Yes
        } else {
            Contains::No
        };
    }
    let Some(checkout) = checkout else {
        return Contains::Unknown;
    };
    // A record from before tickets were kept: its range's messages, from the checkout.
    let commits = if release.commits.is_empty() {
        let new = Commit {
            sha: release.commit.clone(),
            author_name: String::new(),
            author_email: String::new(),
        };
        match checkout.changelog(previous.map(|p| p.commit.as_str()), &new, &[]) {
            Ok(changelog) if changelog.unavailable.is_none() => changelog.commits,
            _ => return Contains::Unknown,
        }
    } else {
        release.commits.clone()
    };
    messages_mention(checkout, &commits, wanted, pattern)
}

/// Three-valued "or".
fn either(a: Contains, b: Contains) -> Contains {
    match (a, b) {
        (Contains::Yes, _) | (_, Contains::Yes) => Contains::Yes,
        (Contains::No, Contains::No) => Contains::No,
        _ => Contains::Unknown,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn release(version: u64, commit: &str, tickets: Option<&[&str]>, rollback: bool) -> Summary {
        Summary {
            version_id: format!("v{version}"),
            version,
            commit: commit.into(),
            time: Some(1_790_000_000),
            rollback,
            commits: Vec::new(),
            commit_times: None,
            tickets: tickets.map(|t| t.iter().map(|s| s.to_string()).collect()),
            changelog: String::new(),
        }
    }

    #[test]
    fn the_default_pattern_finds_jira_shortcut_and_clubhouse_tickets_in_subjects_and_bodies() {
        let pattern = TicketPattern::default();
        let found = pattern.find([
            "ABC-123: fix the login\n\nAlso touches OPS-7 and sc-42.",
            "Refs ch981; not-a-ticket abc-1, X-1 or A1-",
            "ABC-123 again",
        ]);
        assert_eq!(found.tickets, ["ABC-123", "OPS-7", "ch981", "sc-42"]);
        assert_eq!(found.left_out, 0);
    }

    #[test]
    fn a_pattern_that_matches_everything_is_capped_and_says_how_many_it_left_out() {
        let pattern = TicketPattern::new(r"\w+").unwrap();
        let words: Vec<String> = (0..MAX_TICKETS + 50)
            .map(|n| format!("word{n:04}"))
            .collect();
        let message = words.join(" ");
        let found = pattern.find([message.as_str()]);
        assert_eq!(found.tickets.len(), MAX_TICKETS);
        assert_eq!(found.left_out, 50);
        // A pattern that matches only the empty string finds nothing.
        assert!(
            TicketPattern::new("")
                .unwrap()
                .find(["anything"])
                .tickets
                .is_empty()
        );
    }

    #[test]
    fn a_pattern_that_is_not_a_regex_is_named_on_one_line() {
        let err = TicketPattern::new("([A-Z]+").unwrap_err();
        assert!(
            err.starts_with("the ticket pattern \"([A-Z]+\" is not a valid regex"),
            "{err}"
        );
        assert!(!err.contains('\n'));
    }

    #[test]
    fn a_ticket_is_held_from_the_release_that_mentions_it_until_a_rollback_drops_it() {
        // Releases newest first, as a history lists them.
        let history = [
            release(6, "f", Some(&["ABC-1"]), false), // brings it back
            release(5, "e", Some(&[]), false),        // built on the rollback: still without
            release(4, "b", Some(&[]), true),         // rolls back to release 2's commit
            release(3, "c", Some(&[]), false),
            release(2, "b", Some(&["abc-1"]), false), // first mentions it (any case)
            release(1, "a", Some(&[]), false),
        ];
        let found = releases_holding(&history, "ABC-1", None, &TicketPattern::default());
        let answers: Vec<_> = found
            .releases
            .iter()
            .map(|(n, c)| (*n, c.as_str()))
            .collect();
        assert_eq!(
            answers,
            [(1, "N"), (2, "Y"), (3, "Y"), (4, "Y"), (5, "Y"), (6, "Y")]
        );
        assert_eq!(found.first, Some(2));
        // Rolled back to release 1's commit instead: release 4 and 5 do not hold it.
        let mut history = history.to_vec();
        history[2].commit = "a".into();
        let found = releases_holding(&history, "ABC-1", None, &TicketPattern::default());
        let holding: Vec<_> = found.holding().collect();
        assert_eq!(holding, [2, 3, 6]);
        assert_eq!(found.holds(4), Contains::No);
        assert_eq!(found.holds(9), Contains::Unknown);
    }

    #[test]
    fn older_records_without_tickets_and_without_a_checkout_are_unknown() {
        let history = [
            release(3, "c", Some(&[]), false),
            release(2, "b", None, false),
            release(1, "a", Some(&[]), false),
        ];
        let found = releases_holding(&history, "ABC-1", None, &TicketPattern::default());
        assert_eq!(found.holds(1), Contains::No);
        assert_eq!(found.holds(2), Contains::Unknown);
        assert_eq!(found.holds(3), Contains::Unknown);
        assert!(found.any_unknown());
        // A rollback to a commit no release was cut from.
        let history = [
            release(2, "z", Some(&[]), true),
            release(1, "a", Some(&["ABC-1"]), false),
        ];
        let found = releases_holding(&history, "ABC-1", None, &TicketPattern::default());
        assert_eq!(found.holds(2), Contains::Unknown);
    }

    #[test]
    fn a_second_record_of_a_number_is_the_release_that_number_names() {
        let history = [
            release(3, "d", Some(&[]), false),
            release(2, "c", Some(&["ABC-2"]), false),
            release(2, "b", Some(&["ABC-1"]), false),
            release(1, "a", Some(&[]), false),
        ];
        let found = releases_holding(&history, "ABC-2", None, &TicketPattern::default());
        // Release 3 was cut from the second 2: it holds ABC-2.
        assert_eq!(found.releases.len(), 3);
        assert_eq!(found.holds(2), Contains::Yes);
        assert_eq!(found.holds(3), Contains::Yes);
        assert_eq!(found.latest, Some((3, Contains::Yes)));
        let found = releases_holding(&history, "ABC-1", None, &TicketPattern::default());
        assert_eq!(found.first, Some(2));
        assert_eq!(found.holds(3), Contains::Yes);
    }

    #[test]
    fn a_rollback_inside_a_range_that_mentions_the_ticket_cannot_tell_without_a_checkout() {
        let mut history = vec![
            release(3, "m", Some(&[]), true),
            release(2, "c", Some(&["ABC-1"]), false),
            release(1, "a", Some(&[]), false),
        ];
        history[1].commits = vec!["c".into(), "m".into(), "b".into()];
        let pattern = TicketPattern::default();
        let found = releases_holding(&history, "ABC-1", None, &pattern);
        assert_eq!(found.holds(3), Contains::Unknown);
        // A ticket release 2's range does not mention: release 3 does not hold it either.
        let found = releases_holding(&history, "ABC-9", None, &pattern);
        assert_eq!(found.holds(3), Contains::No);
    }

    #[test]
    fn a_mention_is_found_however_many_other_tickets_there_are() {
        let pattern = TicketPattern::default();
        let many: Vec<String> = (0..MAX_TICKETS + 10).map(|n| format!("OPS-{n}")).collect();
        let message = many.join(" ");
        assert_eq!(pattern.find([message.as_str()]).tickets.len(), MAX_TICKETS);
        assert!(pattern.mentions([message.as_str()], "ops-1005"));
        assert!(!pattern.mentions([message.as_str()], "OPS-2000"));
    }
}
