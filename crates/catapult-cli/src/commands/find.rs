//! `catapult find` (`release.find`): the first release that includes a commit.

use catapult_core::git::short_sha;
use catapult_core::ops::contains::first_release_containing;
use catapult_core::store::RecordStore;

use super::Context;
use crate::error::{Failure, Result};
use crate::output::RecordView;

/// `catapult find`.
pub async fn find<S: RecordStore>(context: &Context<S>, name: &str, revision: &str) -> Result<()> {
    let app = context.app(name)?;
    let (checkout, sha) = context.resolve_revision(revision)?;
    let found = context
        .deadline(
            &format!("looking for the first release of {name} that includes {revision}"),
            first_release_containing(&context.store, &app, Some(&checkout), &sha),
        )
        .await?
        .ok_or_else(|| {
            Failure::new(format!(
                "no release of {name} includes commit {} ({revision}) yet",
                short_sha(&sha)
            ))
        })?;
    context
        .printer
        .show(&RecordView::stored(name, &found, None))
}
