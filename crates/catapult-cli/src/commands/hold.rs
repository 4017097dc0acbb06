//! `catapult release-hold`: show, or with `--clear` lift, the hold a rollback put on an
//! environment. After a rollback deploy, automated deploys of a newer release are refused
//! there until a person deploys by hand or clears the hold; the clearing is a record appended
//! to `holds/<env>/<name>`, naming the deploy whose hold it lifts.

use catapult_core::log::RecordLog;
use catapult_core::ops::rules::hold;
use catapult_core::store::RecordStore;
use serde::Serialize;

use super::{Context, note};
use crate::args::HoldArgs;
use crate::error::Result;
use crate::output::{Cell, EntryView, Printer, Style, View};

/// `catapult release-hold`.
pub async fn release_hold<S: RecordStore>(context: &Context<S>, args: &HoldArgs) -> Result<()> {
    let app = context.app(&args.name)?;
    let environment = context.declared_environment(&args.environment, "changed")?;
    let place = context
        .layout()
        .place(&app, &environment)
        .map_err(crate::error::Failure::new)?;
    let latest = context
        .deadline(
            &format!("reading the deploys in {}", place.deploys),
            RecordLog::new(&context.store, &place.deploys).latest(),
        )
        .await?;
    if !args.clear {
        let held = context
            .deadline(
                "reading the hold's clearings",
                hold::in_force(&context.store, &app, &environment, latest.as_ref()),
            )
            .await?;
        match &held {
            Some(held) => note(&format!(
                "{environment} is held at release {} of {} after a rollback: automated deploys of newer releases are refused until a person deploys by hand or runs catapult release-hold {} {environment} --clear",
                held.at, app.name, app.name
            )),
            None => note(&format!("{environment} is not held")),
        }
        return context.printer.show(&HoldView {
            name: app.name.as_str(),
            environment: environment.as_str(),
            held_at: held.as_ref().map(|held| held.at),
        });
    }
    let by = context.person("--by", args.by.as_deref())?;
    let reason = super::reason("--reason", args.reason.as_deref())?;
    let cleared = context
        .write_deadline(
            &format!("clearing the hold on {environment}"),
            hold::clear(
                &context.store,
                &app,
                &environment,
                latest.as_ref(),
                (&by, reason.as_deref()),
            ),
        )
        .await?;
    note(&format!(
        "cleared the hold on {environment} at release {} of {}: automated deploys go ahead again",
        cleared.record.held_at, app.name
    ));
    context.printer.show(&EntryView::of(&args.name, &cleared))
}

/// Whether an environment is held, and at which release.
#[derive(Serialize)]
struct HoldView<'a> {
    name: &'a str,
    environment: &'a str,
    held_at: Option<u64>,
}

impl View for HoldView<'_> {
    fn render(&self, printer: &Printer) -> Result<()> {
        printer.fields(&[
            ("name", Cell::plain(self.name)),
            ("environment", Cell::plain(self.environment)),
            (
                "held at",
                match self.held_at {
                    Some(version) => Cell::new(format!("release {version}"), Style::Magenta),
                    None => Cell::new("not held", Style::Green),
                },
            ),
        ])
    }
}
