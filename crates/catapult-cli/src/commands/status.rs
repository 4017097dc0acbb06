//! `catapult status` (`projects.ls`): the board. Every application's latest release and, per
//! environment, the deploy it runs now, with what the rules say there (a hold, a freeze, a
//! release awaiting approval); as a table, JSON rows, or one HTML page, which also shows each
//! cell's delivery metrics and what promoting its upstream environment would ship.

use std::collections::HashMap;

use catapult_core::ops::board::{self, Project, Row, RowKind};
use catapult_core::ops::contains::{Contains, contains};
use catapult_core::ops::metrics::{Window, delivery_metrics};
use catapult_core::ops::promotion::board_shipments;
use catapult_core::ops::rules::standing::{Standing, standing};
use catapult_core::ops::rules::store_now;
use catapult_core::ops::summary::BoardHistories;
use catapult_core::ops::tickets::TicketReleases;
use catapult_core::record::{AppName, EnvironmentName, StoredRecord};
use catapult_core::store::RecordStore;
use jiff::{SignedDuration, Timestamp};
use serde::Serialize;
use serde_json::{Value, json};

use super::{Context, note};
use crate::args::StatusArgs;
use crate::cache::FileCache;
use crate::error::{Failure, Result};
use crate::html::{self, ContainsFn};
use crate::output::{Cell, Printer, Style, View, age, behind_style, contains_cell, rollback_cell};

/// `catapult status`.
pub async fn status<S: RecordStore>(context: &Context<S>, args: &StatusArgs) -> Result<()> {
    let layout = context.layout();
    let asked: Vec<EnvironmentName> = args
        .env
        .iter()
        .map(|environment| context.declared("--env", environment, "read", ""))
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
    let ticket = args
        .ticket
        .as_deref()
        .map(|ticket| context.ticket(ticket))
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
    let cost = board.cost;
    tracing::debug!(
        listings = cost.listings,
        cached = cost.cached,
        read = cost.read,
        elapsed_ms = started.elapsed().as_millis() as u64,
        "read the board"
    );
    let now = store_now(&context.store);
    let standing = context
        .deadline(
            "reading the freezes, holds and approvals",
            standing(&context.store, layout, &board, now),
        )
        .await?;
    let tickets: Option<HashMap<AppName, TicketReleases>> = match &ticket {
        None => None,
        Some(ticket) => {
            let (found, _) = context.find_ticket(ticket, &board, &mut cache).await?;
            Some(
                found
                    .into_iter()
                    .map(|app| (app.name, app.releases))
                    .collect(),
            )
        }
    };
    let contains = |name: &AppName, stored: &StoredRecord| match (&wanted, &tickets) {
        (Some((checkout, sha)), _) => contains(Some(checkout), &stored.record, sha),
        (None, Some(tickets)) => tickets.get(name).map_or(Contains::Unknown, |releases| {
            releases.deployed_holds(stored.record.version, &stored.record.commit)
        }),
        (None, None) => Contains::Unknown,
    };
    let asked_about = args
        .contains
        .as_deref()
        .or(ticket.as_deref())
        .map(|asked| (asked, &contains as ContainsFn<'_>));
    if let Some(path) = &args.html {
        let window = Window::last(SignedDuration::from_hours(BOARD_WINDOW_DAYS * 24), now);
        let figures = context
            .deadline(
                "reading the histories for the delivery metrics",
                delivery_metrics(
                    layout,
                    &mut BoardHistories::new(&context.store, &board, &mut cache),
                    window,
                ),
            )
            .await?;
        let shipments = context
            .deadline(
                "reading what each promotion would ship",
                board_shipments(
                    layout,
                    &mut BoardHistories::new(&context.store, &board, &mut cache),
                ),
            )
            .await?;
        cache.save();
        let page = html::Page {
            source: &format!("s3://{}", layout.releases_bucket),
            now,
            contains: asked_about,
            standing: &standing,
            metrics: &figures,
            window,
            shipments: &shipments,
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
    cache.save();
    context.printer.show(&StatusView {
        board: &board,
        contains: asked_about.map(|(_, contains)| contains),
        standing: &standing,
        bucket: layout.releases_bucket.as_str(),
    })
}

/// The window of the board page's delivery metrics.
const BOARD_WINDOW_DAYS: i64 = 30;

/// The board as rows: one per application's release and per environment.
struct StatusView<'a> {
    board: &'a board::Board,
    /// With `--contains` or `--ticket`: each record's answer.
    contains: Option<ContainsFn<'a>>,
    /// What the rules say of each cell.
    standing: &'a Standing,
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
        for (index, project) in board.projects.iter().enumerate() {
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
                let mut notes: Vec<String> = Vec::new();
                if let Some(latest) = project.latest.as_ref().filter(|_| !waiting.is_empty()) {
                    let names: Vec<&str> = waiting.iter().map(|name| name.as_str()).collect();
                    notes.push(format!(
                        "release {} waiting for {}",
                        latest.record.version,
                        names.join(", ")
                    ));
                }
                if let Some(column) = column {
                    notes.extend(standing_notes(self.standing, index, column));
                }
                let note = (!notes.is_empty()).then(|| notes.join("; "));
                noted.push((row, note));
            }
        }
        noted
    }
}

/// What the rules say of one cell, in short phrases: a hold, a pending approval, a freeze.
fn standing_notes(standing: &Standing, row: usize, column: usize) -> Vec<String> {
    let mut notes = Vec::new();
    if let Some(cell) = standing.cells.get(row).and_then(|cells| cells.get(column)) {
        if let Some(held_at) = cell.held_at {
            notes.push(format!("held at {held_at} after a rollback"));
        }
        if let Some(version) = cell.awaiting_approval {
            notes.push(format!("release {version} awaits approval"));
        }
    }
    if let Some(Some(frozen)) = standing.frozen.get(column) {
        notes.push(format!("frozen by {frozen}"));
    }
    notes
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
                        row.record.map_or(Value::Null, |stored| Value::from(contains(row.name, stored).as_str())),
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
                        cells.push(contains_cell(contains(row.name, stored)));
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
