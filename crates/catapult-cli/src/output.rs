//! The output layer: each command makes a [`View`] of its answer, and [`Printer::show`] prints
//! it as aligned, coloured tables for people on a terminal, or as JSON for scripts (stdout is not
//! a terminal, or `--json`), one stable shape per command: the view's `Serialize`. Colour
//! follows `--color`, and `NO_COLOR` turns it off unless `--color always` says otherwise.

use std::io::{IsTerminal, Write};

use catapult_core::ops::contains::Contains;
use catapult_core::record::text::terminal_safe;
use catapult_core::record::{Entry, Record, Stored, StoredRecord};
use jiff::Timestamp;
use serde::{Serialize, Serializer};
use serde_json::{Map, Value};

use crate::args::ColorChoice;
use crate::error::{Failure, Result};

/// A command's answer: its JSON is its `Serialize`, its table is [`View::render`].
pub trait View: Serialize {
    /// Prints the answer for a person.
    fn render(&self, printer: &Printer) -> Result<()>;
}

/// How output is written.
#[derive(Debug, Clone, Copy)]
pub struct Printer {
    /// JSON rather than tables.
    pub json: bool,
    /// Whether to colour.
    pub color: bool,
}

/// A colour or weight for a cell.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Style {
    /// As is.
    Plain,
    /// Bold.
    Bold,
    /// Dimmed.
    Dim,
    /// Green: up to date.
    Green,
    /// Yellow: a little behind.
    Yellow,
    /// Red: far behind, a rollback, a No.
    Red,
    /// Blue: a deploy.
    Blue,
    /// Cyan: a release.
    Cyan,
    /// Magenta: a release held at a gate.
    Magenta,
}

impl Style {
    fn code(self) -> &'static str {
        match self {
            Style::Plain => "",
            Style::Bold => "1",
            Style::Dim => "2",
            Style::Green => "32",
            Style::Yellow => "33",
            Style::Red => "31",
            Style::Blue => "34",
            Style::Cyan => "36",
            Style::Magenta => "35",
        }
    }
}

/// One cell of a table.
#[derive(Debug, Clone)]
pub struct Cell {
    text: String,
    style: Style,
}

impl Cell {
    /// Text in a style.
    pub fn new(text: impl Into<String>, style: Style) -> Self {
        Cell {
            text: text.into(),
            style,
        }
    }

    /// Plain text.
    pub fn plain(text: impl Into<String>) -> Self {
        Cell::new(text, Style::Plain)
    }
}

impl Printer {
    /// The printer the flags, `CATAPULT_FORMAT` and the terminal ask for.
    pub fn new(json_flag: bool, color: ColorChoice) -> Result<Self> {
        let terminal = std::io::stdout().is_terminal();
        let format = std::env::var("CATAPULT_FORMAT").ok();
        let no_color = std::env::var_os("NO_COLOR").is_some_and(|value| !value.is_empty());
        let json = match format.as_deref().map(format_is_json) {
            _ if json_flag => true,
            Some(Some(json)) => json,
            Some(None) => {
                return Err(Failure::new(format!(
                    "CATAPULT_FORMAT {:?} is not a format: json, or human, human_tabular or table for tables",
                    clean(format.as_deref().unwrap_or_default())
                )));
            }
            None => !terminal,
        };
        Ok(Printer {
            json,
            color: match color {
                ColorChoice::Always => true,
                ColorChoice::Never => false,
                ColorChoice::Auto => terminal && !no_color,
            },
        })
    }

    /// Prints `view` as the printer's format asks: JSON, or the view's table.
    pub fn show(&self, view: &impl View) -> Result<()> {
        if self.json {
            let value = serde_json::to_value(view)
                .map_err(|err| Failure::new(format!("cannot write JSON: {err}")))?;
            self.json(&value)
        } else {
            view.render(self)
        }
    }

    /// Prints `value` as JSON, pretty, on stdout.
    pub fn json(&self, value: &Value) -> Result<()> {
        let text = serde_json::to_string_pretty(value)
            .map_err(|err| Failure::new(format!("cannot write JSON: {err}")))?;
        self.line(&text)
    }

    /// Prints one line on stdout.
    pub fn line(&self, text: &str) -> Result<()> {
        let mut stdout = std::io::stdout().lock();
        writeln!(stdout, "{text}").map_err(|err| match err.kind() {
            std::io::ErrorKind::BrokenPipe => Failure::BrokenPipe,
            _ => Failure::new(format!("cannot write stdout: {err}")),
        })
    }

    /// `text` in `style`, if colouring.
    pub fn paint(&self, text: &str, style: Style) -> String {
        if self.color && style != Style::Plain {
            format!("\x1b[{}m{text}\x1b[0m", style.code())
        } else {
            text.to_owned()
        }
    }

    /// Prints an aligned table with a bold header.
    pub fn table(&self, header: &[&str], rows: &[Vec<Cell>]) -> Result<()> {
        let columns = header.len();
        let mut widths: Vec<usize> = header.iter().map(|title| title.chars().count()).collect();
        for row in rows {
            // A short row's last cell ("never deployed") runs on without widening its column.
            let counted = if row.len() < columns {
                row.len().saturating_sub(1)
            } else {
                columns
            };
            for (index, cell) in row.iter().enumerate().take(counted) {
                widths[index] = widths[index].max(clean(&cell.text).chars().count());
            }
        }
        let render = |cells: Vec<(String, Style)>| {
            let last = cells.len().saturating_sub(1);
            let mut line = String::new();
            for (index, (text, style)) in cells.into_iter().enumerate() {
                let pad = widths[index].saturating_sub(text.chars().count());
                if !text.is_empty() {
                    line.push_str(&self.paint(&text, style));
                }
                if index < last {
                    line.push_str(&" ".repeat(pad + 2));
                }
            }
            // An empty last cell leaves no spaces at the end of the line.
            line.truncate(line.trim_end_matches(' ').len());
            line
        };
        let mut out = vec![render(
            header
                .iter()
                .map(|title| ((*title).to_owned(), Style::Bold))
                .collect(),
        )];
        for row in rows {
            out.push(render(
                row.iter()
                    .map(|cell| (clean(&cell.text), cell.style))
                    .collect(),
            ));
        }
        self.line(&out.join("\n"))
    }

    /// Prints `pairs` as an aligned list of fields.
    pub fn fields(&self, pairs: &[(&str, Cell)]) -> Result<()> {
        let width = pairs.iter().map(|(key, _)| key.len()).max().unwrap_or(0);
        let lines: Vec<String> = pairs
            .iter()
            .map(|(key, cell)| {
                let mut value = cell.text.lines();
                let first = value.next().unwrap_or_default();
                let mut text = format!(
                    "{}  {}",
                    self.paint(&format!("{key:width$}"), Style::Bold),
                    self.paint(&clean(first), cell.style)
                );
                for more in value {
                    text.push('\n');
                    text.push_str(&" ".repeat(width + 2));
                    text.push_str(&clean(more));
                }
                text
            })
            .collect();
        self.line(&lines.join("\n"))
    }
}

/// Whether `CATAPULT_FORMAT` asks for JSON (`json`) or tables (the older tool's `human` and
/// `human_tabular`, and `table`), whatever stdout is; `None` for a value that is neither.
fn format_is_json(format: &str) -> Option<bool> {
    match format {
        "json" => Some(true),
        "human" | "human_tabular" | "table" => Some(false),
        _ => None,
    }
}

/// Text without control or format characters (escaped as `\u{…}`), so that a record cannot
/// drive the terminal or reorder what it shows.
pub fn clean(text: &str) -> String {
    terminal_safe(text).into_owned()
}

/// Each line of `text` without control or format characters.
pub fn clean_lines(text: &str) -> String {
    text.lines().map(clean).collect::<Vec<_>>().join("\n")
}

/// One record, as `release`, `deploy`, `current`, `show` and `find` print it.
#[derive(Debug, Clone)]
pub struct RecordView<'a> {
    /// The application.
    pub name: &'a str,
    /// The record.
    pub record: &'a Record,
    /// Its S3 version id; `None` for a record not written (a dry run).
    pub version_id: Option<&'a str>,
    /// The environment of a deploy, for the older tool's deploys that do not say it.
    pub environment: Option<&'a str>,
    /// With `--contains`: whether it includes the commit asked about.
    pub contains: Option<Contains>,
}

impl<'a> RecordView<'a> {
    /// A stored record of `name`, deployed to `environment` when it is a deploy.
    pub fn stored(name: &'a str, stored: &'a StoredRecord, environment: Option<&'a str>) -> Self {
        RecordView {
            name,
            record: &stored.record,
            version_id: Some(&stored.version_id),
            environment,
            contains: None,
        }
    }
}

impl Serialize for RecordView<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error> {
        let mut value = record_json(self.name, self.version_id, self.record, self.environment);
        if let (Some(answer), Value::Object(object)) = (self.contains, &mut value) {
            object.insert("contains".into(), Value::from(answer.as_str()));
        }
        value.serialize(serializer)
    }
}

impl View for RecordView<'_> {
    fn render(&self, printer: &Printer) -> Result<()> {
        let record = self.record;
        let now = Timestamp::now();
        let mut pairs = vec![("name", Cell::new(self.name, Style::Bold))];
        if let Some(environment) = record.environment.as_deref().or(self.environment) {
            pairs.push(("environment", Cell::new(environment, Style::Blue)));
        }
        pairs.extend([
            (
                "version",
                Cell::new(record.version.to_string(), Style::Bold),
            ),
            ("commit", Cell::plain(&record.commit)),
            (
                "image",
                Cell::plain(record.image.as_deref().unwrap_or("none")),
            ),
            ("author", Cell::plain(record.author_or_unknown())),
            (
                "timestamp",
                Cell::plain(format!(
                    "{} ({} ago)",
                    record.timestamp,
                    age(&record.timestamp, now)
                )),
            ),
            (
                "rollback",
                Cell::new(
                    if record.rollback { "yes" } else { "no" },
                    if record.rollback {
                        Style::Red
                    } else {
                        Style::Plain
                    },
                ),
            ),
            (
                "action_type",
                Cell::plain(record.action_type.as_deref().unwrap_or("")),
            ),
            (
                "version_id",
                Cell::new(self.version_id.unwrap_or("(not written)"), Style::Dim),
            ),
            ("changelog", Cell::plain(&record.changelog)),
        ]);
        if let Some(answer) = self.contains {
            pairs.push(("contains", contains_cell(answer)));
        }
        printer.fields(&pairs)
    }
}

/// `yes` in red for a rollback, `no` dimmed.
pub fn rollback_cell(rollback: bool) -> Cell {
    if rollback {
        Cell::new("yes", Style::Red)
    } else {
        Cell::new("no", Style::Dim)
    }
}

/// `Y`, `N` or `?`, coloured.
pub fn contains_cell(answer: Contains) -> Cell {
    Cell::new(answer.as_str(), contains_style(answer))
}

/// The colour of a `Y`, `N` or `?` answer.
pub fn contains_style(answer: Contains) -> Style {
    match answer {
        Contains::Yes => Style::Green,
        Contains::No => Style::Red,
        Contains::Unknown => Style::Yellow,
    }
}

/// An entry of the promotion rules (an approval, a freeze, a hold's clearing) as written: its
/// stored fields, with `name` and `version_id`.
pub struct EntryView {
    fields: Map<String, Value>,
}

impl EntryView {
    /// The view of `stored`, about `name` (an application, or an environment).
    pub fn of<E: Entry>(name: &str, stored: &Stored<E>) -> Self {
        let mut fields = match serde_json::from_slice(&stored.record.to_json()) {
            Ok(Value::Object(fields)) => fields,
            _ => Map::new(),
        };
        fields.insert("name".into(), Value::from(name));
        fields.insert("version_id".into(), Value::from(stored.version_id.as_str()));
        EntryView { fields }
    }
}

impl Serialize for EntryView {
    fn serialize<S: Serializer>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error> {
        self.fields.serialize(serializer)
    }
}

impl View for EntryView {
    fn render(&self, printer: &Printer) -> Result<()> {
        let pairs: Vec<(&str, Cell)> = self
            .fields
            .iter()
            .filter(|(_, value)| !value.is_null())
            .map(|(key, value)| {
                let text = match value {
                    Value::String(text) => text.clone(),
                    other => other.to_string(),
                };
                (key.as_str(), Cell::plain(text))
            })
            .collect();
        printer.fields(&pairs)
    }
}

/// A record as the command line's JSON shows it: its stored fields, plus `name`, `version_id`,
/// and, for a deploy, `environment` (filled in for the older tool's deploys, which lack it).
pub fn record_json(
    name: &str,
    version_id: Option<&str>,
    record: &Record,
    environment: Option<&str>,
) -> Value {
    let mut object = match serde_json::to_value(record) {
        Ok(Value::Object(object)) => object,
        _ => Map::new(),
    };
    object.insert("name".into(), Value::from(name));
    object.insert(
        "version_id".into(),
        version_id.map_or(Value::Null, Value::from),
    );
    if let Some(environment) = environment {
        object
            .entry("environment")
            .or_insert_with(|| Value::from(environment));
    }
    Value::Object(object)
}

/// How long ago `timestamp` was, in the largest unit that fits: `5 minutes`, `3 days`.
pub fn age(timestamp: &str, now: Timestamp) -> String {
    let Ok(then) = timestamp.parse::<Timestamp>() else {
        return "?".into();
    };
    let seconds = now.as_second().saturating_sub(then.as_second()).max(0);
    let (value, unit) = match seconds {
        0..60 => (seconds, "second"),
        60..3600 => (seconds / 60, "minute"),
        3600..86_400 => (seconds / 3600, "hour"),
        86_400..31_536_000 => (seconds / 86_400, "day"),
        _ => (seconds / 31_536_000, "year"),
    };
    format!("{value} {unit}{}", if value == 1 { "" } else { "s" })
}

/// The style of a deploy `behind` releases behind the latest.
pub fn behind_style(behind: Option<u64>) -> Style {
    match behind {
        Some(0) => Style::Green,
        Some(1..=2) => Style::Yellow,
        Some(_) => Style::Red,
        None => Style::Dim,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ages_read_in_the_largest_unit() {
        let now: Timestamp = "2026-11-21T12:00:00Z".parse().unwrap();
        assert_eq!(age("2026-11-21T11:59:59Z", now), "1 second");
        assert_eq!(age("2026-11-21T11:55:00Z", now), "5 minutes");
        assert_eq!(age("2026-11-18T12:00:00Z", now), "3 days");
        assert_eq!(age("2024-11-21T12:00:00Z", now), "2 years");
        assert_eq!(age("garbage", now), "?");
        assert_eq!(age("2026-11-22T12:00:00Z", now), "0 seconds");
    }

    #[test]
    fn catapult_format_takes_the_older_tools_values() {
        assert_eq!(format_is_json("json"), Some(true));
        for tables in ["human", "human_tabular", "table"] {
            assert_eq!(format_is_json(tables), Some(false), "{tables}");
        }
        assert_eq!(format_is_json("yaml"), None);
        assert_eq!(format_is_json("JSON"), None);
    }

    #[test]
    fn a_record_cannot_drive_the_terminal() {
        assert_eq!(clean("a\x1b[31mb"), "a\\u{1b}[31mb");
        assert_eq!(clean("a\u{202e}b"), "a\\u{202e}b");
    }
}
