//! `catapult show` (`release.get`): one release by number, or the newest deploy of it to an
//! environment.

use catapult_core::log::{Judgement, RecordLog};
use catapult_core::ops::deploy::{ReleaseChoice, chosen_release};
use catapult_core::store::RecordStore;

use super::Context;
use crate::error::{Failure, Result};
use crate::output::RecordView;

/// `catapult show`.
pub async fn show<S: RecordStore>(
    context: &Context<S>,
    name: &str,
    version: u64,
    environment: Option<&str>,
) -> Result<()> {
    let app = context.app(name)?;
    let found = match environment {
        None => {
            let choice = ReleaseChoice::Number {
                version,
                commit: None,
            };
            context
                .deadline(
                    &format!("looking for release {version} in {}", app.releases),
                    chosen_release(&context.store, &app, &choice),
                )
                .await?
        }
        Some(environment) => {
            let at = context.log_location(&app, Some(environment))?;
            context
                .deadline(
                    &format!("looking for a deploy of release {version} in {at}"),
                    RecordLog::new(&context.store, &at).find(None, |stored| {
                        if stored.record.version == version {
                            Judgement::Found
                        } else {
                            Judgement::Continue
                        }
                    }),
                )
                .await?
                .ok_or_else(|| {
                    Failure::new(format!(
                        "release {version} of {name} has never been deployed to {environment} ({at})"
                    ))
                })?
        }
    };
    context
        .printer
        .show(&RecordView::stored(name, &found, environment))
}
