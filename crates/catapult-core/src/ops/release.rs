//! Cutting a release: the record of release latest+1 of a commit, with its changelog and the
//! rollback rule, appended to the release log exactly once. Concourse's `put` and the command
//! line's `catapult release` both build a [`ReleasePlan`] and call [`cut_release`].

use jiff::Timestamp;

use super::outcome::{Memo, Mode, Outcome, write_or_show};
use super::tickets::TicketPattern;
use crate::error::{Error, Result};
use crate::git::{Changelog, Checkout, Commit, Relation, short_sha};
use crate::log::{Decision, Head, Judgement, RecordLog};
use crate::record::{App, BuildInfo, MAX_TICKETS, Record, format_timestamp};
use crate::store::{MAX_RECORD_BYTES, RecordStore};

/// Everything a release is made of, read and checked before the store is touched.
#[derive(Debug)]
pub struct ReleasePlan {
    /// The git checkout.
    pub checkout: Checkout,
    /// The commit to release.
    pub commit: Commit,
    /// The image digest, or `None` for an application without an image.
    pub image: Option<String>,
    /// Who releases.
    pub author: String,
    /// Only commits touching these paths make the changelog; empty for all.
    pub changelog_paths: Vec<String>,
    /// Whether going back to an older commit is allowed.
    pub allow_rollback: bool,
    /// Whether to release the latest release's commit again.
    pub force: bool,
    /// `automated` or `manual`.
    pub action_type: &'static str,
    /// The Concourse build releasing, if any.
    pub build: Option<BuildInfo>,
    /// How tickets are found in the changelog's commit messages.
    pub tickets: TicketPattern,
}

/// A changelog and what the record keeps of its commits besides their shas.
struct Range {
    changelog: Changelog,
    /// Each commit's time, `None` when the range is unknown.
    commit_times: Option<Vec<String>>,
    /// The tickets its messages mention, `None` when the range is unknown.
    tickets: Option<Vec<String>>,
}

/// Cuts release latest+1 of `app` from `plan`: the same commit as the latest release writes
/// nothing (unless `force`); a commit that does not descend from the latest release's is a
/// rollback, refused unless allowed; the changelog is the commits since the latest release.
pub async fn cut_release<S: RecordStore>(
    store: &S,
    app: &App,
    plan: &ReleasePlan,
    mode: Mode,
) -> Result<Outcome> {
    let log = RecordLog::new(store, &app.releases);
    let mut changelogs = Memo::default();
    // The highest number issued, learned from the history for the head it was learned at.
    let mut learned: Option<(String, u64)> = None;
    let decide = async |head: &Head| -> Result<Decision<Outcome>> {
        let previous = head.latest.as_ref();
        if let Some(latest) = previous.filter(|latest| latest.record.commit == plan.commit.sha) {
            if !plan.force {
                tracing::info!(
                    "commit {} is already release {} of {}: nothing written (force releases it again)",
                    short_sha(&plan.commit.sha),
                    latest.record.version,
                    app.name
                );
                return Ok(Decision::Keep(Outcome::found(latest)));
            }
        }
        // One more than the highest number ever issued on the key, which the latest record
        // carries forward; a history written before the mark was kept is read once to learn it.
        let highest = match previous {
            None => 0,
            Some(previous) => match previous.record.highest_version {
                Some(mark) => mark.max(previous.record.version),
                None => match &learned {
                    Some((at, highest)) if *at == previous.version_id => *highest,
                    _ => {
                        let highest = log.highest_number().await?;
                        learned = Some((previous.version_id.clone(), highest));
                        highest
                    }
                },
            },
        };
        let version = highest.checked_add(1).ok_or_else(|| Error::InvalidRecord {
            location: app.releases.clone(),
            version_id: previous.map(|p| p.version_id.clone()).unwrap_or_default(),
            reason: format!(
                "its release number {highest} is the largest there can be: no release can follow it"
            ),
        })?;
        let rollback = match previous {
            None => false,
            Some(previous) => is_rollback(&log, app, plan, &previous.record).await?,
        };
        let previous_commit = previous.map(|previous| previous.record.commit.clone());
        let range = changelogs.get_or_try(previous_commit.clone(), || {
            range_of(plan, previous_commit.as_deref())
        })?;
        let changelog = &range.changelog;
        if let Some(reason) = &changelog.unavailable {
            tracing::warn!("the changelog is unavailable: {reason}");
        }
        let record = Record {
            version,
            commit: plan.commit.sha.clone(),
            image: plan.image.clone(),
            author: Some(plan.author.clone()),
            changelog: changelog.text.clone(),
            commits: changelog.commits.clone(),
            commit_times: range.commit_times.clone(),
            tickets: range.tickets.clone(),
            timestamp: format_timestamp(Timestamp::now()),
            rollback,
            action_type: Some(plan.action_type.to_owned()),
            environment: None,
            build: plan.build.clone(),
            highest_version: Some(version),
            ..Record::default()
        };
        Ok(Decision::Write(fitting(record, app)?))
    };
    // Boxed: the append's future nests the store's and the SDK's, deep enough that a front-end
    // built alone would need a raised recursion limit to lay it out.
    let outcome = Box::pin(write_or_show(&log, mode, decide)).await?;
    if outcome.written {
        tracing::info!(
            "released {} {} (commit {}{}) as version {:?} of {}",
            app.name,
            outcome.record.version,
            outcome.record.short_commit(),
            if outcome.record.rollback {
                ", a rollback"
            } else {
                ""
            },
            outcome.version_id.as_deref().unwrap_or_default(),
            app.releases
        );
    }
    Ok(outcome)
}

/// `record`, made to fit what a reader accepts ([`MAX_RECORD_BYTES`], with room for the write
/// id): a range too long for its commits' times and tickets keeps neither (lead time and the
/// ticket search then say they cannot tell); one too long for its commits alone is refused,
/// since a record no reader accepts would be a release nobody can see.
fn fitting(mut record: Record, app: &App) -> Result<Record> {
    let limit = usize::try_from(MAX_RECORD_BYTES).unwrap_or(usize::MAX) - 1024;
    if record.to_json().len() <= limit {
        return Ok(record);
    }
    tracing::warn!(
        "release {} of {} holds {} commits: too many to keep each one's time and the tickets they mention in one record; it keeps their shas alone",
        record.version,
        app.name,
        record.commits.len()
    );
    record.commit_times = None;
    record.tickets = None;
    if record.to_json().len() <= limit {
        return Ok(record);
    }
    Err(Error::Refused(format!(
        "release {} of {} would list {} commits, more than one record can hold ({} MiB): release a commit fewer commits after the latest release, or set changelog_paths to the application's own paths",
        record.version,
        app.name,
        record.commits.len(),
        MAX_RECORD_BYTES / (1024 * 1024)
    )))
}

/// The changelog from `previous` to the plan's commit, with its commits' times and the tickets
/// their messages mention; when the range is unknown, so are they.
fn range_of(plan: &ReleasePlan, previous: Option<&str>) -> Result<Range> {
    let changelog = plan
        .checkout
        .changelog(previous, &plan.commit, &plan.changelog_paths)?;
    if changelog.unavailable.is_some() {
        return Ok(Range {
            changelog,
            commit_times: None,
            tickets: None,
        });
    }
    let facts = plan.checkout.commit_facts(&changelog.commits)?;
    let found = plan
        .tickets
        .find(facts.iter().map(|fact| fact.message.as_str()));
    let tickets = if found.left_out > 0 {
        tracing::warn!(
            "the commits of this release mention {} tickets (with the pattern {:?}), more than a record keeps ({}): it keeps none, and the ticket search answers ? for this release (is the pattern too wide?)",
            found.tickets.len() + found.left_out,
            plan.tickets.as_str(),
            MAX_TICKETS
        );
        None
    } else {
        Some(found.tickets)
    };
    Ok(Range {
        commit_times: Some(
            facts
                .iter()
                .map(|fact| format_timestamp(fact.committed))
                .collect(),
        ),
        tickets,
        changelog,
    })
}

/// Whether releasing `plan.commit` after `previous` goes back: the checkout decides when it
/// holds both commits; when it lacks the previous one (a shallow clone), the release history
/// decides, failing closed: a commit an earlier release holds is a rollback, and only a commit
/// the history has never seen is released with a warning.
async fn is_rollback<S: RecordStore>(
    log: &RecordLog<'_, S>,
    app: &App,
    plan: &ReleasePlan,
    previous: &Record,
) -> Result<bool> {
    let refuse = |what: String| {
        Err(Error::RollbackRefused(format!(
            "commit {} {what}: releasing it would roll back",
            short_sha(&plan.commit.sha)
        )))
    };
    match plan.checkout.relation(&previous.commit, &plan.commit) {
        Relation::Same | Relation::Descendant => Ok(false),
        Relation::NotDescendant if plan.allow_rollback => Ok(true),
        Relation::NotDescendant => refuse(format!(
            "does not descend from {}, the commit of release {} of {}",
            short_sha(&previous.commit),
            previous.version,
            app.name
        )),
        Relation::PreviousMissing { reason } => {
            let sha = &plan.commit.sha;
            let earlier = log
                .find(None, |stored| {
                    let record = &stored.record;
                    if &record.commit == sha || record.commits.contains(sha) {
                        Judgement::Found
                    } else {
                        Judgement::Continue
                    }
                })
                .await?;
            match earlier {
                Some(earlier) if plan.allow_rollback => {
                    tracing::warn!(
                        "{reason}; release {} of {} already holds commit {}: recording a rollback",
                        earlier.record.version,
                        app.name,
                        short_sha(sha)
                    );
                    Ok(true)
                }
                Some(earlier) => refuse(format!(
                    "is already in release {} of {} (this checkout cannot tell more: {reason})",
                    earlier.record.version, app.name
                )),
                None => {
                    tracing::warn!(
                        "cannot tell from the checkout whether this release is a rollback ({reason}); no earlier release holds commit {}, so it is released",
                        short_sha(sha)
                    );
                    Ok(false)
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ops::outcome::AUTOMATED;
    use crate::store::faults::{Fault, FaultKind, FaultyStore};
    use crate::store::memory::{MemoryStore, Quirks};
    use crate::store::{Operation, StoreErrorKind, Versioning};

    /// A repository with one commit, and a plan releasing it.
    fn plan(force: bool) -> (tempfile::TempDir, ReleasePlan) {
        let dir = tempfile::tempdir().unwrap();
        let repo = git2::Repository::init(dir.path()).unwrap();
        let signature = git2::Signature::new(
            "Dev Name",
            "dev@example.com",
            &git2::Time::new(1_790_000_000, 0),
        )
        .unwrap();
        let tree = repo
            .find_tree(repo.index().unwrap().write_tree().unwrap())
            .unwrap();
        repo.commit(Some("HEAD"), &signature, &signature, "Start", &tree, &[])
            .unwrap();
        let checkout = Checkout::open(dir.path()).unwrap();
        let commit = checkout.head().unwrap();
        let plan = ReleasePlan {
            checkout,
            commit,
            image: None,
            author: "dev@example.com".into(),
            changelog_paths: Vec::new(),
            allow_rollback: false,
            force,
            action_type: AUTOMATED,
            build: None,
            tickets: TicketPattern::default(),
        };
        (dir, plan)
    }

    #[test]
    fn a_range_too_long_for_one_record_keeps_its_shas_alone_or_is_refused() {
        let app = crate::record::fixtures::app("app", "releases");
        let record = |commits: usize| Record {
            version: 1,
            commit: format!("{:040x}", 0),
            author: Some("a@b".into()),
            commits: (0..commits).map(|n| format!("{n:040x}")).collect(),
            commit_times: Some(vec!["2026-12-01T00:00:00Z".to_owned(); commits]),
            tickets: Some(vec![]),
            ..Record::default()
        };
        let small = fitting(record(10), &app).unwrap();
        assert!(small.commit_times.is_some() && small.tickets.is_some());
        // 60,000 shas fit alone (about 2.6 MB), not with their times (about 4 MB).
        let long = fitting(record(60_000), &app).unwrap();
        assert_eq!((long.commit_times, long.tickets), (None, None));
        assert_eq!(long.commits.len(), 60_000);
        let error = fitting(record(120_000), &app).unwrap_err().to_string();
        assert!(
            error.contains(
                "release 1 of app would list 120000 commits, more than one record can hold (4 MiB)"
            ),
            "{error}"
        );
    }

    #[tokio::test]
    async fn a_release_keeps_its_commits_times_and_the_tickets_their_messages_mention() {
        let app = crate::record::fixtures::app("app", "releases");
        let store = MemoryStore::new(Quirks::default());
        store.create_bucket("releases", Versioning::Enabled);
        let (dir, mut plan) = plan(false);
        let first = cut_release(&store, &app, &plan, Mode::Write).await.unwrap();
        // The first release's range is its whole history: one commit, no ticket.
        assert_eq!(first.record.tickets, Some(vec![]));
        assert_eq!(
            first.record.commit_times,
            Some(vec!["2026-09-21T14:13:20Z".to_owned()])
        );
        let repo = git2::Repository::open(dir.path()).unwrap();
        let mut parent = repo.head().unwrap().peel_to_commit().unwrap();
        for (at, message) in [
            (
                1_790_000_100,
                "OPS-7: the subject names one\n\nand the body sc-42",
            ),
            (1_790_000_200, "no ticket here, abc-1 is not one"),
        ] {
            let signature =
                git2::Signature::new("Dev", "dev@example.com", &git2::Time::new(at, 0)).unwrap();
            let tree = parent.tree().unwrap();
            let oid = repo
                .commit(
                    Some("HEAD"),
                    &signature,
                    &signature,
                    message,
                    &tree,
                    &[&parent],
                )
                .unwrap();
            parent = repo.find_commit(oid).unwrap();
        }
        plan.commit = plan.checkout.head().unwrap();
        let second = cut_release(&store, &app, &plan, Mode::Write).await.unwrap();
        assert_eq!(second.record.version, 2);
        assert_eq!(second.record.commits.len(), 2);
        assert_eq!(
            second.record.commit_times,
            Some(vec![
                "2026-09-21T14:16:40Z".to_owned(),
                "2026-09-21T14:15:00Z".to_owned()
            ])
        );
        assert_eq!(
            second.record.tickets,
            Some(vec!["OPS-7".to_owned(), "sc-42".to_owned()])
        );
        // What the store holds says the same.
        let stored: Vec<Record> = store
            .versions(&app.releases)
            .iter()
            .map(|object| Record::parse(&object.body, None).unwrap())
            .collect();
        let stored = stored.iter().find(|record| record.version == 2).unwrap();
        assert_eq!(stored.tickets, second.record.tickets);
        assert_eq!(stored.commit_times, second.record.commit_times);
    }

    #[tokio::test(start_paused = true)]
    async fn a_forced_release_whose_answer_was_lost_is_recorded_once() {
        let app = crate::record::fixtures::app("app", "releases");
        let memory = MemoryStore::new(Quirks::default());
        memory.create_bucket("releases", Versioning::Enabled);
        let store = FaultyStore::new(
            memory,
            vec![Fault::on(
                Operation::Put,
                2,
                FaultKind::LoseAnswer(StoreErrorKind::Transient("connection reset".into())),
            )],
        );
        let (_dir, plan) = plan(true);
        let first = cut_release(&store, &app, &plan, Mode::Write).await.unwrap();
        assert_eq!(first.record.version, 1);
        // The same commit again, forced: its answer is lost after it landed.
        let second = cut_release(&store, &app, &plan, Mode::Write).await.unwrap();
        assert_eq!(second.record.version, 2);
        assert!(second.written);
        assert_eq!(store.inner().versions(&app.releases).len(), 2);
        assert_eq!(store.calls(Operation::Put), 2);
    }

    #[tokio::test(start_paused = true)]
    async fn a_number_is_issued_once_even_when_a_lower_one_was_put_on_top() {
        let app = crate::record::fixtures::app("app", "releases");
        let memory = MemoryStore::new(Quirks::default());
        memory.create_bucket("releases", Versioning::Enabled);
        // Releases 5 and 7, then 3 on top, as the older tool's `--version` could write them.
        for version in [5, 7, 3] {
            let record = Record {
                version,
                commit: format!("{version:0>40}"),
                author: Some("a@b".into()),
                ..Record::default()
            };
            memory.put_unconditionally(&app.releases, &record.to_json());
        }
        let store = FaultyStore::new(memory, vec![]);
        let (_dir, plan) = plan(true);
        let next = cut_release(&store, &app, &plan, Mode::Write).await.unwrap();
        assert_eq!(next.record.version, 8);
        assert_eq!(next.record.highest_version, Some(8));
        let after = cut_release(&store, &app, &plan, Mode::Write).await.unwrap();
        assert_eq!(after.record.version, 9);
    }
}
