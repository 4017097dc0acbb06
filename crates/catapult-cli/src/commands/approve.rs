//! `catapult approve`: approve a release for an environment whose configuration says
//! `require_approval: true`. The approval is appended to `approvals/<env>/<name>` with the
//! record log's exactly-once write, naming the approver (`--approver`, or git's `user.email`)
//! and the AWS identity whose credentials wrote it; IAM on that key is what decides who may
//! approve. No one approves their own release.

use catapult_core::ops::deploy::{ReleaseChoice, chosen_release};
use catapult_core::ops::rules::approval::{ApprovalPlan, approve as approve_release};
use catapult_core::store::RecordStore;

use super::{Context, note};
use crate::args::ApproveArgs;
use crate::error::Result;
use crate::output::EntryView;

/// `catapult approve`.
pub async fn approve<S: RecordStore>(context: &Context<S>, args: &ApproveArgs) -> Result<()> {
    let app = context.app(&args.name)?;
    let environment = context.declared_environment(&args.environment, "approved")?;
    let approver = context.person("--approver", args.approver.as_deref())?;
    let reason = super::reason("--reason", args.reason.as_deref())?;
    let choice = ReleaseChoice::Number {
        version: args.version,
        commit: None,
    };
    let release = context
        .deadline(
            &format!("looking for release {} in {}", args.version, app.releases),
            chosen_release(&context.store, &app, &choice),
        )
        .await?;
    let aws_identity = context.store.caller_identity().await;
    let plan = ApprovalPlan {
        release,
        environment: environment.clone(),
        approver,
        reason,
        aws_identity,
    };
    let (approval, written) = context
        .write_deadline(
            &format!("approving release {} of {}", args.version, app.name),
            approve_release(&context.store, &app, &plan),
        )
        .await?;
    note(&if written {
        format!(
            "approved release {} of {} for {} as {}",
            args.version, app.name, environment, plan.approver
        )
    } else {
        format!(
            "release {} of {} was already approved for {} by {}: nothing written",
            args.version, app.name, environment, plan.approver
        )
    });
    context.printer.show(&EntryView::of(&args.name, &approval))
}
