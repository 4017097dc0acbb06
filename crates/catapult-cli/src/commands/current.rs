//! `catapult current` (`release.current`, `deploy.current`): the latest release, or the deploy
//! an environment runs now.

use catapult_core::log::RecordLog;
use catapult_core::store::RecordStore;

use super::Context;
use crate::error::{Failure, Result};
use crate::output::RecordView;

/// `catapult current`.
pub async fn current<S: RecordStore>(
    context: &Context<S>,
    name: &str,
    environment: Option<&str>,
) -> Result<()> {
    let app = context.app(name)?;
    let at = context.log_location(&app, environment)?;
    let latest = context
        .deadline(
            &format!("reading the latest record of {at}"),
            RecordLog::new(&context.store, &at).records(Some(1)),
        )
        .await?
        .into_iter()
        .next()
        .ok_or_else(|| {
            Failure::new(match environment {
                None => format!("{name} has no release yet ({at})"),
                Some(environment) => {
                    format!("{name} has never been deployed to {environment} ({at})")
                }
            })
        })?;
    context
        .printer
        .show(&RecordView::stored(name, &latest, environment))
}
