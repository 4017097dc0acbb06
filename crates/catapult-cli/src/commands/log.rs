//! `catapult log` (`release.log`): the commits between two releases (`v3..v7`) or git revisions
//! (`v7..HEAD`: what the next release would ship).

use catapult_core::git::Checkout;
use catapult_core::ops::deploy::{ReleaseChoice, chosen_release};
use catapult_core::record::App;
use catapult_core::store::RecordStore;
use serde::Serialize;

use super::{Context, note};
use crate::error::{Failure, Result};
use crate::output::{Printer, View, clean_lines};

/// `catapult log`.
pub async fn log<S: RecordStore>(context: &Context<S>, name: &str, range: &str) -> Result<()> {
    let app = context.app(name)?;
    let (from, to) = range.split_once("..").ok_or_else(|| {
        Failure::new(format!(
            "{range:?} is not a range: write FROM..TO, each a release (v3) or a git revision"
        ))
    })?;
    if from.is_empty() || to.is_empty() {
        return Err(Failure::new(format!("{range:?}: give both ends, FROM..TO")));
    }
    let checkout = context.checkout()?;
    let from_sha = endpoint_sha(context, &app, &checkout, from).await?;
    let to_sha = endpoint_sha(context, &app, &checkout, to).await?;
    let to_commit = checkout
        .resolve(&to_sha)
        .map_err(catapult_core::Error::from)?;
    let changelog = checkout
        .changelog(Some(&from_sha), &to_commit, &[])
        .map_err(catapult_core::Error::from)?;
    if let Some(reason) = &changelog.unavailable {
        return Err(Failure::new(format!(
            "cannot list the commits of {range}: {reason}"
        )));
    }
    context.printer.show(&LogView {
        name,
        from: from_sha,
        to: to_sha,
        commits: changelog.commits,
        changelog: changelog.text,
        range,
    })
}

/// The commits of a range: `{name, from, to, commits, changelog}`, or the changelog's lines.
#[derive(Serialize)]
struct LogView<'a> {
    name: &'a str,
    from: String,
    to: String,
    commits: Vec<String>,
    changelog: String,
    #[serde(skip)]
    range: &'a str,
}

impl View for LogView<'_> {
    fn render(&self, printer: &Printer) -> Result<()> {
        if self.changelog.is_empty() {
            note(&format!("no commits in {}", self.range));
            return Ok(());
        }
        printer.line(&clean_lines(&self.changelog))
    }
}

/// The commit a `log` range end names: `vN` is release N's, anything else a git revision.
async fn endpoint_sha<S: RecordStore>(
    context: &Context<S>,
    app: &App,
    checkout: &Checkout,
    end: &str,
) -> Result<String> {
    let number = end
        .strip_prefix('v')
        .and_then(|digits| digits.parse::<u64>().ok());
    match number {
        Some(version) => {
            let choice = ReleaseChoice::Number {
                version,
                commit: None,
            };
            Ok(context
                .deadline(
                    &format!("looking for release {version} in {}", app.releases),
                    chosen_release(&context.store, app, &choice),
                )
                .await?
                .record
                .commit)
        }
        None => Ok(checkout
            .resolve(end)
            .map_err(catapult_core::Error::from)?
            .sha),
    }
}
