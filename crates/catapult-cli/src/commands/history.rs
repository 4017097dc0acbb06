//! `catapult history` (`release.ls`, `deploy.ls`): every release, or every deploy to an
//! environment, newest first; with `--contains`, whether each includes a commit.

use catapult_core::log::RecordLog;
use catapult_core::ops::contains::{Contains, contains};
use catapult_core::record::StoredRecord;
use catapult_core::store::RecordStore;
use jiff::Timestamp;
use serde::{Serialize, Serializer};

use super::Context;
use crate::error::{Failure, Result};
use crate::output::{Cell, Printer, RecordView, Style, View, age, contains_cell, rollback_cell};

/// `catapult history`.
pub async fn history<S: RecordStore>(
    context: &Context<S>,
    name: &str,
    environment: Option<&str>,
    last: Option<usize>,
    contains_revision: Option<&str>,
) -> Result<()> {
    let app = context.app(name)?;
    let at = context.log_location(&app, environment)?;
    let wanted = contains_revision
        .map(|revision| context.resolve_revision(revision))
        .transpose()?;
    if last == Some(0) {
        return Err(Failure::new("--last: give 1 or more"));
    }
    let records = context
        .deadline(
            &format!("reading the history of {at}"),
            RecordLog::new(&context.store, &at).records(last),
        )
        .await?;
    let answers = records
        .iter()
        .map(|stored| {
            wanted
                .as_ref()
                .map(|(checkout, sha)| contains(Some(checkout), &stored.record, sha))
        })
        .collect();
    context.printer.show(&HistoryView {
        name,
        environment,
        records: &records,
        answers,
        asked: wanted.is_some(),
    })
}

/// A history: a JSON array of records, newest first, or a table of them.
struct HistoryView<'a> {
    name: &'a str,
    environment: Option<&'a str>,
    records: &'a [StoredRecord],
    answers: Vec<Option<Contains>>,
    asked: bool,
}

impl HistoryView<'_> {
    fn views(&self) -> impl Iterator<Item = RecordView<'_>> {
        self.records
            .iter()
            .zip(&self.answers)
            .map(|(stored, answer)| RecordView {
                contains: *answer,
                ..RecordView::stored(self.name, stored, self.environment)
            })
    }
}

impl Serialize for HistoryView<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error> {
        serializer.collect_seq(self.views())
    }
}

impl View for HistoryView<'_> {
    fn render(&self, printer: &Printer) -> Result<()> {
        let now = Timestamp::now();
        let mut header = vec![
            "VERSION", "COMMIT", "TIME", "AGE", "AUTHOR", "ROLLBACK", "ACTION",
        ];
        if self.asked {
            header.push("CONTAINS");
        }
        let rows: Vec<Vec<Cell>> = self
            .views()
            .map(|view| {
                let record = view.record;
                let mut row = vec![
                    Cell::new(record.version.to_string(), Style::Bold),
                    Cell::plain(record.short_commit()),
                    Cell::plain(&record.timestamp),
                    Cell::plain(age(&record.timestamp, now)),
                    Cell::plain(record.author_or_unknown()),
                    rollback_cell(record.rollback),
                    Cell::plain(record.action_type.as_deref().unwrap_or("")),
                ];
                if let Some(answer) = view.contains {
                    row.push(contains_cell(answer));
                }
                row
            })
            .collect();
        printer.table(&header, &rows)
    }
}
