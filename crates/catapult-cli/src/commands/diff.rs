//! `catapult diff`: what promoting one environment's release to another would ship, as the
//! core's promotion tells it.

use catapult_core::ops::promotion::{Promotion, PromotionStatus, promotion};
use catapult_core::record::StoredRecord;
use catapult_core::store::RecordStore;
use serde::Serialize;
use serde_json::json;

use super::Context;
use crate::error::{Failure, Result};
use crate::output::{Printer, RecordView, Style, View, clean};

/// `catapult diff`.
pub async fn diff<S: RecordStore>(
    context: &Context<S>,
    name: &str,
    from: &str,
    to: &str,
) -> Result<()> {
    let app = context.app(name)?;
    let from_at = context.log_location(&app, Some(from))?;
    let to_at = context.log_location(&app, Some(to))?;
    let promotion = context
        .deadline(
            &format!("reading what promoting {from} to {to} would ship"),
            promotion(&context.store, &app, &from_at, &to_at),
        )
        .await?
        .ok_or_else(|| {
            Failure::new(format!(
                "{name} has never been deployed to {from} ({from_at}): nothing to promote"
            ))
        })?;
    context.printer.show(&DiffView {
        name,
        from,
        to,
        promotion: &promotion,
    })
}

/// A promotion: `{name, from: {environment, version, commit}, to: {…}, status, releases,
/// commits}`, or a sentence and the releases it would ship.
struct DiffView<'a> {
    name: &'a str,
    from: &'a str,
    to: &'a str,
    promotion: &'a Promotion,
}

impl Serialize for DiffView<'_> {
    fn serialize<S: serde::Serializer>(
        &self,
        serializer: S,
    ) -> std::result::Result<S::Ok, S::Error> {
        let side = |environment: &str, stored: Option<&StoredRecord>| {
            json!({
                "environment": environment,
                "version": stored.map(|stored| stored.record.version),
                "commit": stored.map(|stored| stored.record.commit.clone()),
            })
        };
        let promotion = self.promotion;
        json!({
            "name": self.name,
            "from": side(self.from, Some(&promotion.from)),
            "to": side(self.to, promotion.to.as_ref()),
            "status": promotion.status.as_str(),
            "releases": promotion
                .releases
                .iter()
                .map(|stored| RecordView::stored(self.name, stored, None))
                .collect::<Vec<_>>(),
            "commits": promotion.commits().collect::<Vec<_>>(),
        })
        .serialize(serializer)
    }
}

impl View for DiffView<'_> {
    fn render(&self, printer: &Printer) -> Result<()> {
        let DiffView { name, from, to, .. } = *self;
        let promotion = self.promotion;
        let source_version = promotion.from.record.version;
        let target_version = promotion.to.as_ref().map(|stored| stored.record.version);
        match promotion.status {
            PromotionStatus::Same => printer.line(&format!(
                "{to} already runs release {source_version} of {name}, as {from} does: nothing to ship"
            )),
            PromotionStatus::Ahead => printer.line(&format!(
                "{to} is ahead: it runs release {} of {name}, {from} runs release {source_version}; promoting would roll back",
                target_version.unwrap_or_default()
            )),
            PromotionStatus::Ships => {
                let releases = &promotion.releases;
                printer.line(&format!(
                    "promoting {from}'s release {source_version} of {name} to {to} ({}) would ship {} release{}:",
                    match target_version {
                        Some(version) => format!("at release {version}"),
                        None => "never deployed".into(),
                    },
                    releases.len(),
                    if releases.len() == 1 { "" } else { "s" }
                ))?;
                for stored in releases {
                    let record = &stored.record;
                    printer.line(&format!(
                        "\n{} {}  {}  {}",
                        printer.paint(&format!("release {}", record.version), Style::Bold),
                        clean(record.short_commit()),
                        clean(record.author_or_unknown()),
                        clean(&record.timestamp)
                    ))?;
                    for line in record.changelog.lines() {
                        printer.line(&format!("  {}", clean(line)))?;
                    }
                }
                Ok(())
            }
        }
    }
}
