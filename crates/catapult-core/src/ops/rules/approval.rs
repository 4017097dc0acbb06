//! Approvals: `require_approval: true` on an environment refuses a release that no one but its
//! author approved for it. `catapult approve` appends an approval to the environment's
//! approvals key with the record log's exactly-once conditional write; a deploy reads them back
//! newest first and names its approver in the record it writes. An approval by the release's
//! author does not count, and one catapult did not write (its write id and its object's
//! metadata differ: a body put by hand) is not trusted.

use jiff::Timestamp;

use super::Checks;
use crate::error::{Error, Result};
use crate::log::{Appended, Decision, Judgement, RecordLog};
use crate::record::approval::Approval;
use crate::record::{App, EnvironmentName, Stored, StoredRecord, format_timestamp};
use crate::store::RecordStore;

/// The rule's name, as verdicts and refusals say it.
pub const RULE: &str = "require_approval";

/// Checks that `release` was approved for `environment` by someone other than its author.
pub async fn check<S: RecordStore>(
    store: &S,
    app: &App,
    environment: &EnvironmentName,
    release: &StoredRecord,
    checks: &mut Checks,
) -> Result<()> {
    let at = app.approvals(environment).map_err(Error::InvalidSource)?;
    let record = &release.record;
    let author = record.author.as_deref();
    let mut own = false;
    let found = RecordLog::<S, Approval>::of(store, &at)
        .find(release.last_modified, |stored| {
            let approval = &stored.record;
            if !approval.approves(record.version, &record.commit, environment.as_str()) {
                return Judgement::Continue;
            }
            if author.is_some_and(|author| approval.is_by(author)) {
                own = true;
                return Judgement::Continue;
            }
            Judgement::Found
        })
        .await?;
    let verdict = match found {
        Some(stored) => {
            checks.approved_by = Some(stored.record.approver.clone());
            Ok(format!(
                "release {} was approved for {:?} by {}",
                record.version,
                environment.as_str(),
                stored.record.approver
            ))
        }
        None => Err(Error::Refused(format!(
            "release {} of {} needs an approval to be deployed to {:?} (require_approval), by someone other than its author {}{}: catapult approve {} {} {}",
            record.version,
            app.name,
            environment.as_str(),
            record.author_or_unknown(),
            if own {
                " (whose own approval does not count)"
            } else {
                ""
            },
            app.name,
            record.version,
            environment
        ))),
    };
    checks.add(RULE, verdict);
    Ok(())
}

/// What a person approves: a release, for an environment, with their name and reason.
#[derive(Debug, Clone)]
pub struct ApprovalPlan {
    /// The release approved, as found in the release history.
    pub release: StoredRecord,
    /// The environment.
    pub environment: EnvironmentName,
    /// Who approves: an email address.
    pub approver: String,
    /// Why, if they say.
    pub reason: Option<String>,
    /// The AWS identity whose credentials write it, where they could ask.
    pub aws_identity: Option<String>,
}

/// Appends `plan`'s approval to the environment's approvals key, exactly once; an approval by
/// the release's author is refused, and the same person's approval of the same release is
/// found rather than written twice.
pub async fn approve<S: RecordStore>(
    store: &S,
    app: &App,
    plan: &ApprovalPlan,
) -> Result<(Stored<Approval>, bool)> {
    let record = &plan.release.record;
    if record
        .author
        .as_deref()
        .is_some_and(|author| author.eq_ignore_ascii_case(&plan.approver))
    {
        return Err(Error::Refused(format!(
            "{} is the author of release {} of {}, and no one approves their own release (require_approval): another person must approve it",
            plan.approver, record.version, app.name
        )));
    }
    let at = app
        .approvals(&plan.environment)
        .map_err(Error::InvalidSource)?;
    let log = RecordLog::<S, Approval>::of(store, &at).knowing_versioned(&plan.release, &at.bucket);
    let appended = Box::pin(log.append(async |head| {
        if let Some(latest) = head.latest.as_ref().filter(|latest| {
            latest
                .record
                .approves(record.version, &record.commit, plan.environment.as_str())
                && latest.record.is_by(&plan.approver)
        }) {
            return Ok(Decision::Keep(latest.clone()));
        }
        Ok(Decision::Write(Approval {
            version: record.version,
            commit: record.commit.clone(),
            environment: plan.environment.to_string(),
            approver: plan.approver.clone(),
            reason: plan.reason.clone(),
            timestamp: format_timestamp(Timestamp::now()),
            aws_identity: plan.aws_identity.clone(),
            write_id: None,
        }))
    }))
    .await?;
    Ok(match appended {
        Appended::Kept(kept) => (kept, false),
        Appended::Written(written) => (written, true),
    })
}
