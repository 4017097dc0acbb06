//! `catapult status` (`projects.ls`): the board. Every application's latest release and, per
//! environment, the deploy it runs now; as a table, JSON rows, or one HTML page.

use catapult_core::ops::board::{self, Project, Row, RowKind};
use catapult_core::ops::contains::{Contains, contains};
use catapult_core::record::{EnvironmentName, StoredRecord};
use catapult_core::store::RecordStore;
use jiff::Timestamp;
use serde::Serialize;
use serde_json::{Value, json};

use super::{Context, environment_name, note};
use crate::args::StatusArgs;
use crate::cache::FileCache;
use crate::error::{Failure, Result};
use crate::html;
use crate::output::{Cell, Printer, Style, View, age, behind_style, contains_cell, rollback_cell};

/// `catapult status`.
pub async fn status<S: RecordStore>(context: &Context<S>, args: &StatusArgs) -> Result<()> {
    let layout = context.layout();
    let asked: Vec<EnvironmentName> = args
        .env
        .iter()
        .map(|environment| environment_name("--env", environment))
        .collect::<Result<_>>()?;
    let only = args
        .only
        .as_deref()
        .map(|pattern| {
            regex_lite::Regex::new(pattern).map_err(|err| {
                Failure::new(format!(
                    "--only: {pattern:?} is not a regular expression: {err}"
                ))
            })
        })
        .transpose()?;
    let wanted = args
        .contains
        .as_deref()
        .map(|revision| context.resolve_revision(revision))
        .transpose()?;
    let mut cache = FileCache::open(context.cache_dir.as_deref(), &context.store_name);
    let keep = |name: &str| only.as_ref().is_none_or(|only| only.is_match(name));
    let started = std::time::Instant::now();
    let board = context
        .deadline(
            "reading the board",
            board::read_board(
                &context.store,
                layout,
                (!asked.is_empty()).then_some(asked.as_slice()),
                args.releases_only,
                keep,
                &mut cache,
            ),
        )
        .await?;
    cache.save();
    let cost = board.cost;
    tracing::debug!(
        listings = cost.listings,
        cached = cost.cached,
        read = cost.read,
        elapsed_ms = started.elapsed().as_millis() as u64,
        "read the board"
    );
    let contains = |stored: &StoredRecord| match &wanted {
        Some((checkout, sha)) => contains(Some(checkout), &stored.record, sha),
        None => Contains::Unknown,
    };
    if let Some(path) = &args.html {
        let page = html::Page {
            source: &format!("s3://{}", layout.releases_bucket),
            now: Timestamp::now(),
            contains: args
                .contains
                .as_deref()
                .map(|revision| (revision, &contains as html::ContainsFn<'_>)),
        };
        let text = html::render(&board, &page);
        std::fs::write(path, text)
            .map_err(|err| Failure::new(format!("cannot write {}: {err}", path.display())))?;
        let count = board.projects.len();
        note(&format!(
            "wrote the board of {count} application{} to {}",
            if count == 1 { "" } else { "s" },
            path.display()
        ));
        return Ok(());
    }
    context.printer.show(&StatusView {
        board: &board,
        contains: wanted
            .is_some()
            .then_some(&contains as &dyn Fn(&StoredRecord) -> Contains),
        bucket: layout.releases_bucket.as_str(),
    })
}

/// The board as rows: one per application's release and per environment.
struct StatusView<'a> {
    board: &'a board::Board,
    /// With `--contains`: each record's answer.
    contains: Option<&'a dyn Fn(&StoredRecord) -> Contains>,
    bucket: &'a str,
}

impl StatusView<'_> {
    fn rows(&self) -> impl Iterator<Item = Row<'_>> {
        self.board.projects.iter().flat_map(Project::rows)
    }

    /// Each row with what its environment waits for: a note for the table, `release 7 waiting
    /// for staging`, on a deploy row whose environment the latest release is held from.
    fn rows_with_notes(&self) -> Vec<(Row<'_>, Option<String>)> {
        let board = self.board;
        let mut noted = Vec::new();
        for project in &board.projects {
            for row in project.rows() {
                let column = row.environment.and_then(|environment| {
                    board
                        .environments
                        .iter()
                        .position(|column| column == environment)
                });
                let waiting = column
                    .map(|column| board.waiting_for(project, column))
                    .unwrap_or_default();
                let note = project
                    .latest
                    .as_ref()
                    .filter(|_| !waiting.is_empty())
                    .map(|latest| {
                        let names: Vec<&str> = waiting.iter().map(|name| name.as_str()).collect();
                        format!(
                            "release {} waiting for {}",
                            latest.record.version,
                            names.join(", ")
                        )
                    });
                noted.push((row, note));
            }
        }
        noted
    }
}

impl Serialize for StatusView<'_> {
    fn serialize<S: serde::Serializer>(
        &self,
        serializer: S,
    ) -> std::result::Result<S::Ok, S::Error> {
        let rows: Vec<Value> = self
            .rows()
            .map(|row| {
                let record = row.record.map(|stored| &stored.record);
                let mut value = json!({
                    "name": row.name.as_str(),
                    "type": match row.kind { RowKind::Release => "release", RowKind::Deploy => "deploy" },
                    "environment": row.environment.map(EnvironmentName::as_str),
                    "version": record.map(|record| record.version),
                    "behind": row.behind,
                    "commit": record.map(|record| record.commit.clone()),
                    "author": record.map(|record| record.author_or_unknown().to_owned()),
                    "timestamp": record.map(|record| record.timestamp.clone()),
                    "action_type": record.and_then(|record| record.action_type.clone()),
                    "rollback": record.map(|record| record.rollback),
                });
                if let (Some(contains), Value::Object(object)) = (self.contains, &mut value) {
                    object.insert(
                        "contains".into(),
                        row.record.map_or(Value::Null, |stored| Value::from(contains(stored).as_str())),
                    );
                }
                value
            })
            .collect();
        rows.serialize(serializer)
    }
}

impl View for StatusView<'_> {
    fn render(&self, printer: &Printer) -> Result<()> {
        let now = Timestamp::now();
        let mut header = vec![
            "NAME", "ENV", "VERSION", "BEHIND", "COMMIT", "AGE", "AUTHOR", "ROLLBACK", "ACTION",
        ];
        if self.contains.is_some() {
            header.push("CONTAINS");
        }
        let noted = self.rows_with_notes();
        // A held deploy's note has a column of its own; a never-deployed row says it after
        // "never deployed".
        let note_column = noted
            .iter()
            .any(|(row, note)| note.is_some() && row.record.is_some());
        if note_column {
            header.push("NOTE");
        }
        let mut rows = Vec::new();
        for (row, note) in noted {
            let (name_style, environment) = match row.kind {
                RowKind::Release => (Style::Cyan, Cell::new("(release)", Style::Cyan)),
                RowKind::Deploy => (
                    Style::Blue,
                    Cell::new(
                        row.environment
                            .map(EnvironmentName::as_str)
                            .unwrap_or_default(),
                        Style::Blue,
                    ),
                ),
            };
            let mut cells = vec![Cell::new(row.name.as_str(), name_style), environment];
            match row.record {
                Some(stored) => {
                    let record = &stored.record;
                    cells.extend([
                        Cell::new(record.version.to_string(), Style::Bold),
                        Cell::new(
                            row.behind
                                .map(|behind| behind.to_string())
                                .unwrap_or_default(),
                            behind_style(row.behind),
                        ),
                        Cell::plain(record.short_commit()),
                        Cell::plain(age(&record.timestamp, now)),
                        Cell::plain(record.author_or_unknown()),
                        rollback_cell(record.rollback),
                        Cell::plain(record.action_type.as_deref().unwrap_or("")),
                    ]);
                    if let Some(contains) = self.contains {
                        cells.push(contains_cell(contains(stored)));
                    }
                }
                None => {
                    let text = match note {
                        Some(note) => format!("never deployed ({note})"),
                        None => "never deployed".to_owned(),
                    };
                    cells.push(Cell::new(text, Style::Dim));
                    rows.push(cells);
                    continue;
                }
            }
            if note_column {
                cells.push(Cell::new(note.unwrap_or_default(), Style::Magenta));
            }
            rows.push(cells);
        }
        if rows.is_empty() {
            note(&format!("no applications in s3://{}", self.bucket));
            return Ok(());
        }
        printer.table(&header, &rows)
    }
}
